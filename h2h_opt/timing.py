"""The one timing kernel: ASAP re-timing on the combined graph (SPEC §7.2), used by every
solver and by the evaluator's ``asap``.

Each layer starts at ``max(f(u) + c_uv over data preds, f(previous on its accelerator))``
(E5/E7, E8), timed from scratch in a topological order of the data edges plus the
consecutive pairs of every ``π_a`` — never patched locally.  Busy times and delays come
from :mod:`h2h_opt.comm`, in seconds or (for the exact models) in ticks.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import networkx as nx
import numpy as np

from .comm import CommModel, Durations, durations, energy
from .cost import CostTables, compile_tables
from .model import Instance, ModelError, Workload
from .schedule import Decision, Schedule

__all__ = ["Retimer", "ScheduleCycleError", "Timeline", "Timer", "Timing", "asap", "chains",
           "list_schedule"]

Num = TypeVar("Num", int, float)


def chains(least: Sequence[Num], workload: Workload) -> tuple[list[Num], list[Num]]:
    """Per layer, the longest chain of ``least`` durations before it (its head: it
    starts no earlier) and after it (its tail: the makespan is at least its finish plus
    it); E5 without delays.  Seconds or ticks, as ``least`` is (ints stay ints)."""
    head = [0 * x for x in least]
    tail = list(head)
    for v in workload.topo:
        for u in workload.preds[v]:
            head[v] = max(head[v], head[u] + least[u])
    for v in reversed(workload.topo):
        for w in workload.succs[v]:
            tail[v] = max(tail[v], least[w] + tail[w])
    return head, tail


class ScheduleCycleError(ModelError):
    """The per-accelerator orders and the data edges form a cycle (a deadlock)."""


class Retimer:
    """ASAP re-timing on the combined graph, with the static structure built once.

    Each layer starts at ``max(f(u) + c_uv over data preds, f(previous on its
    accelerator))`` (E5/E7, E8), timed from scratch in a topological order of
    the data edges plus the consecutive pairs of every ``π_a`` (SPEC §7.2).
    Heuristics call :meth:`run` many times; ``evaluate``/``asap`` use it too.
    """

    def __init__(self, tables: CostTables, in_edges: Sequence[Sequence[int]]) -> None:
        self.tables = tables
        self.n = tables.num_layers
        self.src: list[int] = tables.edge_src.tolist()
        self.dst: list[int] = tables.edge_dst.tolist()
        self.in_edges = [list(e) for e in in_edges]
        self.out_edges: list[list[int]] = [[] for _ in range(self.n)]
        for k, u in enumerate(self.src):
            self.out_edges[u].append(k)
        self.num_in = [len(e) for e in self.in_edges]

    def run(self, busy: Sequence[float], delay: Sequence[float], prev: Sequence[int],
            acc_of: Sequence[int] | None = None, *, describe: bool = True
            ) -> tuple[list[float], list[float]]:
        """Start and finish times (lists, workload order).

        Raises
        ------
        ScheduleCycleError
            When the orders and the data edges form a cycle; the message names it
            (``describe=False`` skips finding the cycle: searches only need to know).
        """
        n, src, dst, in_edges, out_edges = self.n, self.src, self.dst, self.in_edges, \
            self.out_edges
        nxt = [-1] * n
        indeg = self.num_in[:]
        for v in range(n):
            p = prev[v]
            if p >= 0:
                nxt[p] = v
                indeg[v] += 1
        start = [0.0] * n
        finish = [0.0] * n
        stack = [v for v in range(n) if indeg[v] == 0]
        done = 0
        while stack:
            v = stack.pop()
            done += 1
            p = prev[v]
            s = finish[p] if p >= 0 else 0.0
            for k in in_edges[v]:
                f = finish[src[k]] + delay[k]
                if f > s:
                    s = f
            start[v] = s
            finish[v] = s + busy[v]
            w = nxt[v]
            if w >= 0:
                indeg[w] -= 1
                if indeg[w] == 0:
                    stack.append(w)
            for k in out_edges[v]:
                w = dst[k]
                indeg[w] -= 1
                if indeg[w] == 0:
                    stack.append(w)
        if done < n:
            if not describe:
                raise ScheduleCycleError("orders deadlock")
            raise ScheduleCycleError(_describe_cycle(self.tables, list(prev), indeg, None,
                                                     None if acc_of is None
                                                     else np.asarray(acc_of)))
        return start, finish


@dataclass
class Timing:
    """ASAP start and finish times (seconds, workload order), makespan (E10), energy
    (E11) and the busy-time components of one decision."""

    start: list[float]
    finish: list[float]
    makespan: float
    energy: float
    durations: Durations


class Timer:
    """Time decisions of one instance: comm model (E2-E7, E11) + :class:`Retimer`."""

    def __init__(self, inst: Instance, tables: CostTables) -> None:
        self.inst, self.tables = inst, tables
        self.comm = inst.options.comm
        self.retimer = Retimer(tables, inst.workload.in_edges)

    def time(self, dec: Decision, locality: str | None = None, *,
             describe: bool = True) -> Timing:
        """ASAP times of ``dec`` under ``locality`` (default: the instance's).

        Raises
        ------
        ScheduleCycleError
            The orders deadlock against the data edges.
        """
        prev = dec.prev()
        dur = durations(self.tables, self.comm, locality or self.inst.options.locality,
                        dec.x, dec.r, prev)
        start, finish = self.retimer.run(dur.busy.tolist(), dur.edge_delay.tolist(),
                                         prev.tolist(), dec.x.tolist(), describe=describe)
        return Timing(start, finish, max(finish) if finish else 0.0,
                      energy(self.tables, self.comm, dec.x, dec.r, dur), dur)

    def schedule(self, dec: Decision, locality: str | None = None, **meta: object
                 ) -> tuple[Schedule, Timing]:
        """``dec`` timed ASAP, as a schedule (``locality`` recorded as given)."""
        tm = self.time(dec, locality)
        return dec.to_schedule(self.inst, tm.start, locality, **meta), tm


def _describe_cycle(tables: CostTables, prv: list[int], indeg: list[int],
                    layer_ids: Sequence[str] | None, acc_of: np.ndarray | None) -> str:
    names = list(layer_ids) if layer_ids is not None else list(tables.layer_ids)
    left = {v for v in range(len(indeg)) if indeg[v] > 0}
    g = nx.DiGraph()
    for u, v in zip(tables.edge_src.tolist(), tables.edge_dst.tolist(), strict=True):
        if u in left and v in left:
            g.add_edge(u, v, why="data")
    for v in left:
        if prv[v] in left:
            acc = tables.acc_ids[int(acc_of[v])] if acc_of is not None else "?"
            g.add_edge(prv[v], v, why=f"order on {acc}")
    cycle = nx.find_cycle(g)
    parts = [names[cycle[0][0]]]
    for u, v in cycle:
        parts.append(f"-> {names[v]} ({g.edges[u, v]['why']})")
    return "orders deadlock: cycle " + " ".join(parts)


def asap(inst: Instance, mapping: Mapping[str, str], residency: Mapping[str, bool],
         orders: Mapping[str, Sequence[str]], *, locality: str | None = None,
         tables: CostTables | None = None, meta: Mapping[str, object] | None = None) -> Schedule:
    """The earliest schedule for a mapping, residency and per-accelerator orders.

    Parameters
    ----------
    locality:
        The locality the schedule uses (default: the instance's; ``"none"`` pays
        every transfer, as in SPEC §7.1).

    Raises
    ------
    ScheduleCycleError
        The orders deadlock against the data edges (the message names the cycle).
    ModelError
        Unknown ids, or orders that do not hold exactly the mapped layers.
    """
    tables = tables or compile_tables(inst)
    wl = inst.workload
    for lid in wl.index:
        if lid not in mapping:
            raise ModelError(f"asap: layer {lid!r} is not mapped")
    for lid, acc in mapping.items():
        if lid not in wl.index:
            raise ModelError(f"asap: unknown layer {lid!r} in the mapping")
        if acc not in inst.system.index:
            raise ModelError(f"asap: layer {lid!r} mapped to unknown accelerator {acc!r}")
    seen: dict[str, str] = {}
    for a, order in orders.items():
        for lid in order:
            if mapping.get(lid) != a or lid in seen:
                raise ModelError(f"asap: layer {lid!r} is ordered on {a!r} but mapped to"
                                 f" {mapping.get(lid)!r} (or ordered twice)")
            seen[lid] = a
    if len(seen) != wl.num_layers:
        missing = next(lid for lid in wl.index if lid not in seen)
        raise ModelError(f"asap: layer {missing!r} is in no order")
    dec = Decision.from_schedule(inst, Schedule(inst.name, mapping, {},
                                                {a: tuple(o) for a, o in orders.items()},
                                                residency))
    tm = Timer(inst, tables).time(dec, locality)
    start = tm.start
    return Schedule(
        instance=inst.name,
        mapping=dict(mapping),
        start={layer.id: float(start[i]) for i, layer in enumerate(wl.layers)},
        orders={a: tuple(orders.get(a, ())) for a in inst.system.ids},
        residency={lid: bool(v) for lid, v in residency.items() if v},
        locality=locality,
        meta=dict(meta or {}),
    )


class Timeline:
    """Each accelerator's busy intervals, sorted: the insertion policy of HEFT and of
    :func:`list_schedule`."""

    def __init__(self, m: int) -> None:
        self.starts: list[list[float]] = [[] for _ in range(m)]
        self.ends: list[list[float]] = [[] for _ in range(m)]
        self.slots: list[list[int]] = [[] for _ in range(m)]  # layer per interval

    def earliest(self, a: int, ready: float, dur: float) -> float:
        """Earliest start >= ready of an idle gap of length dur on ``a``."""
        starts, ends = self.starts[a], self.ends[a]
        i = bisect.bisect_right(ends, ready)  # intervals ending after `ready` start at i
        s = ready
        while i < len(starts):
            if s + dur <= starts[i]:
                return s
            s = max(s, ends[i])
            i += 1
        return s

    def place(self, a: int, v: int, s: float, f: float) -> None:
        """``v`` in ``[s, f]`` on ``a``, kept sorted by (start, end): among intervals
        starting at ``s`` too, a layer of no duration goes first (it fits before the
        one it shares its start with) and one with a duration after those of none
        (one placed earlier may be its predecessor)."""
        starts, ends = self.starts[a], self.ends[a]
        i = bisect.bisect_right(starts, s)
        while i and starts[i - 1] == s and ends[i - 1] > f:
            i -= 1
        self.starts[a].insert(i, s)
        self.ends[a].insert(i, f)
        self.slots[a].insert(i, v)


def list_schedule(inst: Instance, comm: CommModel, x: Sequence[int], r: Sequence[bool]
                  ) -> Decision:
    """Every accelerator's order for a fixed mapping ``x`` and residency ``r``: HEFT's
    list scheduling with the accelerator given -- layers in decreasing bottom level
    (their busy time under the mapping, E2-E4/E6, plus the longest chain of busy times
    and E7 delays after them), each in the earliest idle gap of its accelerator once
    its inputs are ready.  What the load relaxation's mapping needs to become a
    schedule (measured on ``random-n400-a8``: 0.996 s against 1.47 s with every layer
    ordered by its earliest start)."""
    wl = inst.workload
    busy = comm.busy_ticks(x, r)
    delay = comm.edge_delays_ticks(x)
    src, dst = comm.src, comm.dst
    level = [0.0] * comm.n
    for v in reversed(wl.topo):
        level[v] = busy[v] + max((delay[k] + level[dst[k]] for k in wl.out_edges[v]),
                                 default=0.0)
    topo_pos = {v: i for i, v in enumerate(wl.topo)}
    finish = [0.0] * comm.n
    line = Timeline(comm.m)
    for v in sorted(range(comm.n), key=lambda v: (-level[v], topo_pos[v])):
        ready = max((finish[src[k]] + delay[k] for k in wl.in_edges[v]), default=0.0)
        s = line.earliest(x[v], ready, busy[v])
        finish[v] = s + busy[v]
        line.place(x[v], v, s, finish[v])
    return Decision(np.asarray(x, dtype=np.int64), np.asarray(r, dtype=bool), line.slots)
