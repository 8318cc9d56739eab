"""Simulated annealing over the mapping and a priority list (the ``anneal`` phase of
``lns``, issue 14).

A decision is held as its mapping ``x``, its residency ``r`` and one *priority list*:
a topological order of the layers from which every accelerator's order ``π_a`` is
read off (its layers in list order).  Any list that is a topological order gives
orders that cannot deadlock against the data edges (E5), and every semi-active
schedule of a mapping has such a list, so nothing is lost.  A move either

* sends one layer to another accelerator that runs it (residency redone by step 2's
  knapsack on the two accelerators it touches, E9), or
* moves one layer to another place in the list, between its last producer and its
  first consumer (so that the list stays a topological order).

The layer is drawn from the schedule's critical layers (zero slack, E10) with
probability ``critical`` and from all layers otherwise.  Each candidate is timed ASAP
by the one timing kernel (:class:`~h2h_opt.timing.Timer`: E2-E7 and E10; no physics
of its own) and accepted by the Metropolis rule on its makespan, at a temperature that
falls geometrically from ``t_start`` to ``t_end`` times the start's makespan over the
run (its wall time, or with ``moves`` its number of moves: then the run is the same
run to run).  The best decision seen is returned.

On the hardest ``paper`` instances a critical share of 0.8 found better schedules in
20 s of one core than a share of 0 or 0.5, and a start temperature of 10 % of the
makespan better than 0.3 % to 3 % (one run each: arvr-hetero8-12.5GBps 0.00682-0.00685
s, face_antispoof-hetero4-1.25GBps 0.00662-0.00680 s).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..cost import CostTables
from ..model import Instance
from ..schedule import Decision
from ..timing import ScheduleCycleError, Timing
from .heuristics.h2h import H2HEngine

__all__ = ["AnnealStats", "anneal"]


@dataclass
class AnnealStats:
    """What one run did: moves tried and accepted, candidates that deadlocked (none while
    the list stays topological), improvements of the best, seconds, start and best
    makespans."""

    moves: int = 0
    accepted: int = 0
    deadlocked: int = 0
    improved: int = 0
    seconds: float = 0.0
    start_s: float = 0.0
    best_s: float = 0.0


def _priority(dec: Decision, timing: Timing, topo: tuple[int, ...]) -> list[int]:
    """A topological order that reads off ``dec``'s orders: by ASAP start, then finish,
    then workload topological position (zero-length layers tie with what follows)."""
    pos = {v: i for i, v in enumerate(topo)}
    return sorted(range(len(dec.x)), key=lambda v: (timing.start[v], timing.finish[v], pos[v]))


def anneal(inst: Instance, tables: CostTables, start: Decision, *, seed: int = 0,
           deadline: float | None = None, moves: int | None = None, t_start: float = 0.1,
           t_end: float = 0.0002, critical: float = 0.8,
           improved: Callable[[float], None] | None = None
           ) -> tuple[Decision, AnnealStats]:
    """Anneal from ``start`` (module notes) until ``deadline`` (``time.perf_counter()``)
    or, with ``moves``, for that many moves (then ``deadline`` only cuts it short).
    ``improved(makespan)`` is called at each new best.  Returns the best decision (its
    orders read off its list) and the run's figures."""
    if deadline is None and moves is None:
        raise ValueError("anneal needs a deadline or a number of moves")
    engine = H2HEngine(inst, tables)
    locality = inst.options.locality
    wl = inst.workload
    n, m = len(start.x), tables.num_accs
    preds = [list(wl.preds[v]) for v in range(n)]
    succs = [list(wl.succs[v]) for v in range(n)]
    runs_on = [[a for a in range(m) if np.isfinite(tables.t[v, a])] for v in range(n)]

    def orders(x: np.ndarray, pri: list[int]) -> list[list[int]]:
        out: list[list[int]] = [[] for _ in range(m)]
        for v in pri:
            out[int(x[v])].append(v)
        return out

    def timed(x: np.ndarray, r: np.ndarray, pri: list[int]) -> Timing | None:
        try:
            return engine.timing(Decision(x, r, orders(x, pri)), locality, describe=False)
        except ScheduleCycleError:  # (a topological list cannot deadlock: a guard)
            return None

    def critical_layers(x: np.ndarray, r: np.ndarray, pri: list[int], tm: Timing
                        ) -> list[int]:
        weight = engine.criticality(Decision(x, r, orders(x, pri)), tm)
        return [v for v in range(n) if weight[v] > 2.0 - 1e-9]

    stats = AnnealStats()
    t0 = time.perf_counter()
    tm = engine.timing(start, locality, describe=False)
    x, r = start.x.copy(), start.r.copy()
    pri = _priority(start, tm, wl.topo)
    tm = timed(x, r, pri) or tm
    cur = tm.makespan
    stats.start_s = stats.best_s = cur
    best = (x.copy(), r.copy(), pri[:])
    hot, cold = t_start * cur, max(t_end * cur, 1e-300)
    crit = critical_layers(x, r, pri, tm)
    rng = random.Random(seed)
    while n:
        if moves is not None and stats.moves >= moves:
            break
        now = time.perf_counter()
        if deadline is not None and now >= deadline:
            break
        frac = stats.moves / moves if moves is not None else \
            (now - t0) / max(1e-9, deadline - t0)  # type: ignore[operator]
        temp = hot * (cold / hot) ** min(1.0, frac) if hot > 0 else 0.0
        stats.moves += 1
        v = rng.choice(crit) if crit and rng.random() < critical else rng.randrange(n)
        if len(runs_on[v]) > 1 and rng.random() < 0.5:
            old = int(x[v])
            nx = x.copy()
            nx[v] = rng.choice([a for a in runs_on[v] if a != old])
            nr = engine.residency_after_move(Decision(nx, r, orders(nx, pri)), {v: old})
            npri = pri
        else:
            here = pri.index(v)
            npri = pri[:here] + pri[here + 1:]
            place = {u: i for i, u in enumerate(npri)}
            lo = max((place[u] for u in preds[v]), default=-1) + 1
            hi = min((place[w] for w in succs[v]), default=len(npri))
            npri.insert(rng.randint(lo, hi), v)
            nx, nr = x, r
        ntm = timed(nx, nr, npri)
        if ntm is None:
            stats.deadlocked += 1
            continue
        new = ntm.makespan
        if new <= cur or (temp > 0 and rng.random() < math.exp(-(new - cur) / temp)):
            stats.accepted += 1
            changed = new != cur
            x, r, pri, cur = nx, nr, npri, new
            if changed:
                crit = critical_layers(x, r, pri, ntm)
            if cur < stats.best_s * (1 - 1e-12):
                stats.best_s, stats.improved = cur, stats.improved + 1
                best = (x.copy(), r.copy(), pri[:])
                if improved is not None:
                    improved(cur)
    stats.seconds = time.perf_counter() - t0
    bx, br, bpri = best
    return Decision(bx, br, orders(bx, bpri)), stats
