"""Shared machinery of the heuristic backends (not a backend itself).

* :func:`comp_prioritised` — the computation-prioritised list mapping of SPEC §7.1;
* :func:`knapsack_residency` — weight residency by 0/1 knapsack (SPEC §7.2 step 2);
* :class:`H2HEngine` — steps 2-4 of SPEC §7.2 (weight locality, activation
  locality, locality-aware remapping) and the improved local search.

Every timing goes through :class:`h2h_opt.evaluate.Retimer` (full ASAP re-timing,
never a local patch) and :func:`h2h_opt.evaluate.durations` (E2-E7).
"""

from __future__ import annotations

import bisect
import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..cost import CostTables
from ..evaluate import Retimer, ScheduleCycleError, durations, energy_of, prev_from_orders
from ..model import Instance
from ..schedule import Schedule

__all__ = [
    "BASELINE_CAP",
    "H2HEngine",
    "Plan",
    "comp_prioritised",
    "knapsack_residency",
    "plan_to_schedule",
]

#: Candidates per commit above which §7.1 switches from exhaustive enumeration to
#: greedy earliest finish (SPEC: never below 10 000).
BASELINE_CAP = 20_000


@dataclass
class Plan:
    """Mapping ``x``, residency ``r`` and per-accelerator orders (layer indices)."""

    x: np.ndarray
    r: np.ndarray
    orders: list[list[int]]

    def copy(self) -> Plan:
        return Plan(self.x.copy(), self.r.copy(), [o[:] for o in self.orders])

    def prev(self) -> list[int]:
        return prev_from_orders(len(self.x), self.orders).tolist()


def plan_to_schedule(inst: Instance, plan: Plan, start: Sequence[float], locality: str | None,
                     **meta: Any) -> Schedule:
    wl, ids = inst.workload, inst.system.ids
    return Schedule(
        instance=inst.name,
        mapping={layer.id: ids[int(plan.x[v])] for v, layer in enumerate(wl.layers)},
        start={layer.id: float(start[v]) for v, layer in enumerate(wl.layers)},
        orders={ids[a]: tuple(wl.layers[v].id for v in order)
                for a, order in enumerate(plan.orders)},
        residency={wl.layers[v].id: True for v in np.flatnonzero(plan.r)},
        locality=locality,
        meta=meta,
    )


# --------------------------------------------------------------------------- SPEC §7.1


@dataclass
class BaselineStats:
    commits: int = 0
    capped_commits: int = 0
    max_candidates: int = 0


def comp_prioritised(inst: Instance, tables: CostTables, cap: int = BASELINE_CAP
                     ) -> tuple[Plan, BaselineStats]:
    """Computation-prioritised greedy list mapping (SPEC §7.1).

    Every layer is costed with all transfers paid: ``L_full(v, a)`` (under ``p2p``:
    E6 with ``r = 0``, link delays ignored while mapping).  Per pass of
    the loop, the ready layers (workload order) of each op class are committed to
    the candidate (subset × assignment, itertools order) whose simulated maximum
    accelerator availability is smallest — the *first* such candidate.

    When a commit would enumerate more than ``cap`` candidates, it is built greedily
    instead: as many layers as the exhaustive rule would commit, one at a time,
    each the (layer, accelerator) pair with the smallest resulting maximum
    availability, then the earliest finish (first in enumeration order on ties).
    """
    if cap < 10_000:
        raise ValueError("the enumeration cap must be at least 10 000 (SPEC §7.1)")
    wl, sysm = inst.workload, inst.system
    n, m = wl.num_layers, sysm.num_accs
    if inst.options.comm == "host":
        big_l = tables.full_latency()
    else:  # p2p: E6 with r = 0; delays are not charged (computation first)
        big_l = tables.t + (tables.weight_bytes[:, None] / tables.host_bw[None, :])
    lfull = big_l.tolist()
    op_of = [layer.op for layer in wl.layers]
    classes = list(dict.fromkeys(op_of))
    accs_of = {c: [a for a in range(m) if c in sysm.accelerators[a].ops] for c in classes}
    left = [len(p) for p in wl.preds]
    ready_set = {v for v in range(n) if left[v] == 0}
    avail = [0.0] * m
    finish = [0.0] * n
    x = [-1] * n
    orders: list[list[int]] = [[] for _ in range(m)]
    stats = BaselineStats()
    mapped = 0
    while mapped < n:
        ready = sorted(ready_set)
        committed: list[int] = []
        for cls in classes:
            group = [v for v in ready if op_of[v] == cls]
            if not group:
                continue
            accs = accs_of[cls]
            k = len(accs)
            rdy = [max((finish[u] for u in wl.preds[v]), default=0.0) for v in group]
            if k > len(group):
                count = k ** len(group)
            else:
                count = math.comb(len(group), k) * k ** k
            stats.commits += 1
            stats.max_candidates = max(stats.max_candidates, count)
            if count <= cap:
                choice = _enumerate(group, accs, rdy, avail, lfull, k)
            else:
                stats.capped_commits += 1
                choice = _greedy(group, accs, rdy, avail, big_l, min(k, len(group)))
            for i, a in choice:
                v = group[i]
                s = max(avail[a], rdy[i])
                avail[a] = finish[v] = s + lfull[v][a]
                x[v] = a
                orders[a].append(v)
                committed.append(v)
        for v in committed:
            ready_set.discard(v)
            mapped += 1
            for w in wl.succs[v]:
                left[w] -= 1
                if left[w] == 0:
                    ready_set.add(w)
    plan = Plan(np.array(x, dtype=np.int64), np.zeros(n, dtype=bool), orders)
    return plan, stats


def _enumerate(group: list[int], accs: list[int], rdy: list[float], avail: list[float],
               lfull: list[list[float]], k: int) -> list[tuple[int, int]]:
    best = math.inf
    choice: list[tuple[int, int]] = []
    if k > len(group):
        subsets: Any = [tuple(range(len(group)))]
        width = len(group)
    else:
        subsets = itertools.combinations(range(len(group)), k)
        width = k
    for subset in subsets:
        for alpha in itertools.product(accs, repeat=width):
            tmp = avail[:]
            for i, a in zip(subset, alpha, strict=True):
                s = tmp[a] if tmp[a] > rdy[i] else rdy[i]
                tmp[a] = s + lfull[group[i]][a]
            score = max(tmp)
            if score < best:
                best = score
                choice = list(zip(subset, alpha, strict=True))
    return choice


def _greedy(group: list[int], accs: list[int], rdy: list[float], avail: list[float],
            big_l: np.ndarray, count: int) -> list[tuple[int, int]]:
    tmp = np.array(avail, dtype=float)
    acc_idx = np.array(accs)
    ready = np.array(rdy)
    lsub = big_l[np.ix_(np.array(group), acc_idx)]  # (|R|, k)
    free = np.ones(len(group), dtype=bool)
    choice: list[tuple[int, int]] = []
    for _ in range(count):
        fin = np.maximum(tmp[acc_idx][None, :], ready[:, None]) + lsub
        score = np.maximum(tmp.max(), fin)
        score[~free] = np.inf
        fin_masked = np.where(free[:, None], fin, np.inf)
        flat = np.lexsort((fin_masked.ravel(), score.ravel()))[0]  # score, then finish
        i, j = divmod(int(flat), len(accs))
        choice.append((i, accs[j]))
        tmp[accs[j]] = fin[i, j]
        free[i] = False
    return choice


# --------------------------------------------------------------------------- SPEC §7.2 step 2


def knapsack_residency(inst: Instance, tables: CostTables, x: np.ndarray, *,
                       value: str = "reference", accs: Sequence[int] | None = None,
                       r: np.ndarray | None = None, weight: np.ndarray | None = None,
                       max_cells: int = 50_000_000) -> np.ndarray:
    """Weight residency per accelerator by 0/1 knapsack under ``Cap_a`` (E9).

    Sizes are in units of 1000 weight elements, ``⌈W_elems/1000⌉``, capacity
    ``⌈Cap/(b·1000)⌉`` (the reference units).  Values: ``reference`` — the size;
    ``seconds`` — the load time saved ``W_v/B_a``; ``critical`` — that times
    ``weight`` (a per-layer criticality factor).  If all weights fit, all are
    resident.  If the table would exceed ``max_cells`` the unit is coarsened
    (sizes still rounded up).  The rounding of the reference capacity may admit
    up to one unit too much: layers of least value are then dropped until the
    exact byte capacity holds.
    """
    n = tables.num_layers
    out = np.zeros(n, dtype=bool) if r is None else r.copy()
    b = inst.options.element_bytes
    for a in (range(tables.num_accs) if accs is None else accs):
        items = np.flatnonzero((x == a) & (tables.weight_bytes > 0))
        out[x == a] = False
        if len(items) == 0:
            continue
        wbytes = tables.weight_bytes[items]
        cap = tables.capacity[a]
        if wbytes.sum() <= cap:
            out[items] = True
            continue
        unit = 1000.0 * b
        cap_units = math.ceil(cap / unit)
        while len(items) * (cap_units + 1) > max_cells:
            unit *= 2
            cap_units = math.ceil(cap / unit)
        sizes = np.ceil(wbytes / unit - 1e-9).astype(np.int64)
        if value == "reference":
            vals = sizes.astype(float)
            take = _subset_sum(sizes, cap_units)
        else:
            vals = wbytes / tables.host_bw[a]
            if value == "critical" and weight is not None:
                vals = vals * weight[items]
            take = _knapsack(sizes, vals, cap_units)
        chosen = items[take]
        while tables.weight_bytes[chosen].sum() > cap and len(chosen):
            worst = int(np.argmin(vals[take]))
            take = np.delete(take, worst)
            chosen = items[take]
        out[chosen] = True
    return out


def _subset_sum(sizes: np.ndarray, cap: int) -> np.ndarray:
    """Knapsack with value = size: the largest reachable total <= cap.

    Reachable totals are a bit set (a Python int); row ``i`` is kept for the
    reconstruction, which prefers leaving later items out (ties keep earlier ones).
    """
    mask = (1 << (cap + 1)) - 1
    rows = [1]
    for sz in sizes.tolist():
        rows.append((rows[-1] | (rows[-1] << sz)) & mask)
    c = rows[-1].bit_length() - 1
    take = []
    for i in range(len(sizes), 0, -1):
        if not (rows[i - 1] >> c) & 1:
            take.append(i - 1)
            c -= int(sizes[i - 1])
    return np.array(sorted(take), dtype=np.int64)


def _knapsack(sizes: np.ndarray, values: np.ndarray, cap: int) -> np.ndarray:
    """Indices of an optimal 0/1 knapsack (ties keep the earlier, smaller choice)."""
    best = np.zeros(cap + 1)
    keep = np.zeros((len(sizes), cap + 1), dtype=bool)
    for i, (s, v) in enumerate(zip(sizes.tolist(), values.tolist(), strict=True)):
        if s > cap:
            continue
        if s == 0:
            keep[i, :] = True
            best += v
            continue
        cand = best[: cap + 1 - s] + v
        improve = cand > best[s:]
        keep[i, s:] = improve
        best[s:] = np.where(improve, cand, best[s:])
    take = []
    c = cap
    for i in range(len(sizes) - 1, -1, -1):
        if keep[i, c]:
            take.append(i)
            c -= int(sizes[i])
    return np.array(sorted(take), dtype=np.int64)


# --------------------------------------------------------------------------- SPEC §7.2 steps 2-4


@dataclass
class Timing:
    start: list[float]
    finish: list[float]
    makespan: float
    energy: float


@dataclass
class SearchStats:
    evaluations: int = 0
    accepted: int = 0
    budget_hit: bool = False
    time_hit: bool = False
    by_move: dict[str, int] = field(default_factory=dict)


class H2HEngine:
    """Steps 2-4 of SPEC §7.2 on a fixed instance.

    Parameters
    ----------
    value:
        Knapsack value of step 2: ``reference``, ``seconds`` or ``critical``.
    max_evals:
        Step 4 (and the improved search) stop after this many evaluated moves;
        each re-times the whole graph, O(V + E).  ``None`` = no limit.
    deadline:
        ``time.perf_counter()`` value after which step 4 stops.
    """

    def __init__(self, inst: Instance, tables: CostTables, *, value: str = "reference",
                 max_evals: int | None = None, deadline: float | None = None) -> None:
        self.inst, self.tables = inst, tables
        self.value = value
        self.comm = inst.options.comm
        self.locality = inst.options.locality
        self.retimer = Retimer(tables, inst.workload.in_edges)
        self.max_evals = max_evals
        self.deadline = deadline
        self.energy_ties = True
        self.stats = SearchStats()

    # -- timing ------------------------------------------------------------------------
    def timing(self, plan: Plan, locality: str, describe: bool = True) -> Timing:
        """ASAP times, makespan (E10) and energy (E11); raises ScheduleCycleError."""
        prev = plan.prev()
        dur = durations(self.tables, self.comm, locality, plan.x, plan.r, np.array(prev))
        start, finish = self.retimer.run(dur.busy.tolist(), dur.edge_delay.tolist(), prev,
                                         describe=describe)
        return Timing(start, finish, max(finish) if finish else 0.0,
                      energy_of(self.tables, self.comm, plan.x, plan.r, dur))

    def residency(self, plan: Plan, accs: Sequence[int] | None = None,
                  timing: Timing | None = None) -> np.ndarray:
        weight = None
        if self.value == "critical" and timing is not None:
            weight = self._criticality(plan, timing)
        return knapsack_residency(self.inst, self.tables, plan.x, value=self.value, accs=accs,
                                  r=plan.r, weight=weight)

    def _criticality(self, plan: Plan, timing: Timing) -> np.ndarray:
        """1 + (1 - slack/makespan): 2 on a critical path, towards 1 with slack."""
        n = self.tables.num_layers
        tail = [0.0] * n  # longest path from a layer's finish to the end
        prev = plan.prev()
        nxt = [-1] * n
        for v, p in enumerate(prev):
            if p >= 0:
                nxt[p] = v
        order = sorted(range(n), key=lambda v: -timing.start[v])
        for v in order:
            t = 0.0
            w = nxt[v]
            if w >= 0:
                t = timing.finish[w] - timing.start[w] + tail[w]
            for k in self.retimer.out_edges[v]:
                w = self.retimer.dst[k]
                t = max(t, timing.finish[w] - timing.start[w] + tail[w])
            tail[v] = t
        slack = np.array([timing.makespan - timing.finish[v] - tail[v] for v in range(n)])
        span = timing.makespan or 1.0
        return 1.0 + (1.0 - np.clip(slack / span, 0.0, 1.0))

    # -- step 4 ------------------------------------------------------------------------
    def _out_of_budget(self) -> bool:
        if self.max_evals is not None and self.stats.evaluations >= self.max_evals:
            self.stats.budget_hit = True
            return True
        if self.deadline is not None and time.perf_counter() > self.deadline:
            self.stats.time_hit = True
            return True
        return False

    def _try(self, plan: Plan, moved_from: dict[int, int]) -> Timing | None:
        """Redo steps 2-3 after moving layers and re-time; ``None`` on a cycle.

        ``moved_from`` maps each moved layer to its old accelerator (``plan.x`` is
        already the new mapping, ``plan.r`` still the old residency).
        """
        self.stats.evaluations += 1
        plan.r = self._residency_after_move(plan, moved_from)
        try:
            return self.timing(plan, self.locality, describe=False)
        except ScheduleCycleError:
            return None

    def _residency_after_move(self, plan: Plan, moved_from: dict[int, int]) -> np.ndarray:
        """Step 2 on the accelerators a move touched, skipping the knapsack where its
        optimum provably stands: an accelerator that lost only non-resident layers
        keeps its optimum, and if the layers it gained fit beside that resident set,
        the set plus them is optimal (a better one would have been better before).
        With ``critical`` values (which depend on timing) the knapsack is redone.
        """
        tab = self.tables
        r = plan.r.copy()
        touched = sorted(set(moved_from.values()) | {int(plan.x[v]) for v in moved_from})
        if self.value == "critical":
            r[list(moved_from)] = False
            return knapsack_residency(self.inst, tab, plan.x, value=self.value, accs=touched,
                                      r=r)
        lost_resident = {a for v, a in moved_from.items() if r[v]}
        r[list(moved_from)] = False
        redo = []
        for c in touched:
            gained = [v for v in moved_from if plan.x[v] == c]
            if c in lost_resident:
                redo.append(c)
            elif gained:
                held = float(tab.weight_bytes[(plan.x == c) & r].sum())
                if held + float(tab.weight_bytes[gained].sum()) <= tab.capacity[c]:
                    r[gained] = tab.weight_bytes[gained] > 0
                else:
                    redo.append(c)
        if redo:
            r = knapsack_residency(self.inst, tab, plan.x, value=self.value, accs=redo, r=r)
        return r

    def visit_order(self, timing: Timing) -> list[int]:
        """Layers from each model's first layer along data successors, models by
        their sinks' finish times, latest first (SPEC §7.2 step 4)."""
        wl = self.inst.workload
        model_of = [layer.model for layer in wl.layers]
        models = wl.models
        sink_finish = {}
        for mdl in models:
            sinks = [v for v in range(wl.num_layers) if model_of[v] == mdl
                     and not any(model_of[w] == mdl for w in wl.succs[v])]
            sink_finish[mdl] = max(timing.finish[v] for v in sinks)
        ordered = sorted(models, key=lambda mdl: -sink_finish[mdl])  # stable: ties keep order
        out: list[int] = []
        seen: set[int] = set()
        for mdl in ordered:
            queue = [v for v in range(wl.num_layers) if model_of[v] == mdl
                     and not any(model_of[u] == mdl for u in wl.preds[v])]
            while queue:
                v = queue.pop(0)
                if v in seen:
                    continue
                seen.add(v)
                out.append(v)
                queue.extend(w for w in wl.succs[v] if model_of[w] == mdl and w not in seen)
        return out

    def remap(self, plan: Plan, timing: Timing, passes: int = 2) -> tuple[Plan, Timing]:
        """Faithful step 4: first-improvement hill climbing on latency only."""
        wl, t = self.inst.workload, self.tables.t
        for _ in range(passes):
            for v in self.visit_order(timing):
                for nb, is_pred in [(u, True) for u in wl.preds[v]] + \
                                   [(w, False) for w in wl.succs[v]]:
                    if self._out_of_budget():
                        return plan, timing
                    a, b = int(plan.x[v]), int(plan.x[nb])
                    if a == b or not math.isfinite(t[v, b]):
                        continue
                    cand = plan.copy()
                    cand.orders[a].remove(v)
                    pos = cand.orders[b].index(nb)
                    cand.orders[b].insert(pos + 1 if is_pred else pos, v)
                    cand.x[v] = b
                    new = self._try(cand, {v: a})
                    if new is not None and new.makespan < timing.makespan * (1 - 1e-12):
                        plan, timing = cand, new
                        self.stats.accepted += 1
        return plan, timing

    # -- improved local search (h2h_plus) ------------------------------------------------
    def better(self, new: Timing, old: Timing) -> bool:
        """Strictly lower latency, or equal latency and strictly lower energy."""
        eps = 1e-12 * max(old.makespan, 1e-30)
        if new.makespan < old.makespan - eps:
            return True
        return self.energy_ties and new.makespan <= old.makespan + eps \
            and new.energy < old.energy * (1 - 1e-12)

    def improve(self, plan: Plan, timing: Timing, moves: Sequence[str],
                max_rounds: int = 50) -> tuple[Plan, Timing]:
        """Local search with the named neighbourhoods until no move improves.

        ``reinsert``: move a layer to a neighbour's accelerator at its best position
        between its data predecessors and successors there; ``segment``: move a
        layer together with the run of its chain successors that follow it on its
        accelerator; ``swap``: exchange a layer with a neighbour of the same op on
        another accelerator.  Acceptance: lower latency, ties broken by energy.
        """
        for _ in range(max_rounds):
            improved = False
            for v in self.visit_order(timing):
                for move in moves:
                    if self._out_of_budget():
                        return plan, timing
                    res = getattr(self, f"_move_{move}")(plan, timing, v)
                    if res is not None:
                        plan, timing = res
                        self.stats.accepted += 1
                        self.stats.by_move[move] = self.stats.by_move.get(move, 0) + 1
                        improved = True
            if not improved:
                break
        return plan, timing

    def _targets(self, plan: Plan, v: int) -> list[int]:
        wl, t = self.inst.workload, self.tables.t
        accs = []
        for nb in list(wl.preds[v]) + list(wl.succs[v]):
            b = int(plan.x[nb])
            if b != plan.x[v] and math.isfinite(t[v, b]) and b not in accs:
                accs.append(b)
        return accs

    def _positions(self, plan: Plan, timing: Timing, v: int, b: int) -> range:
        """Insertion positions in π_b that respect v's data predecessors/successors
        already on b (others may still cycle through third accelerators)."""
        wl = self.inst.workload
        order = plan.orders[b]
        pos = {u: i for i, u in enumerate(order)}
        lo = max((pos[u] + 1 for u in wl.preds[v] if u in pos), default=0)
        hi = min((pos[w] for w in wl.succs[v] if w in pos), default=len(order))
        if lo > hi:
            return range(0)
        # restrict to a window around v's current start to keep the scan short
        starts = [timing.start[u] for u in order]
        centre = bisect.bisect_left(starts, timing.start[v])
        return range(max(lo, centre - 3), min(hi, centre + 3) + 1)

    def _move_reinsert(self, plan: Plan, timing: Timing, v: int) -> tuple[Plan, Timing] | None:
        best: tuple[Plan, Timing] | None = None
        a = int(plan.x[v])
        for b in self._targets(plan, v):
            base = plan.copy()
            base.orders[a].remove(v)
            base.x[v] = b
            for p in self._positions(base, timing, v, b):
                cand = base.copy()
                cand.orders[b].insert(p, v)
                new = self._try(cand, {v: a})
                if new is not None and self.better(new, best[1] if best else timing):
                    best = (cand, new)
        return best

    def _move_segment(self, plan: Plan, timing: Timing, v: int) -> tuple[Plan, Timing] | None:
        wl = self.inst.workload
        a = int(plan.x[v])
        order = plan.orders[a]
        i = order.index(v)
        seg = [v]
        while i + len(seg) < len(order):
            w = order[i + len(seg)]
            if seg[-1] in wl.preds[w]:
                seg.append(w)
            else:
                break
        if len(seg) < 2:
            return None
        best: tuple[Plan, Timing] | None = None
        for nb in wl.preds[v]:
            b = int(plan.x[nb])
            if b == a or not all(math.isfinite(self.tables.t[w, b]) for w in seg):
                continue
            cand = plan.copy()
            for w in seg:
                cand.orders[a].remove(w)
                cand.x[w] = b
            pos = cand.orders[b].index(nb) + 1
            cand.orders[b][pos:pos] = seg
            new = self._try(cand, dict.fromkeys(seg, a))
            if new is not None and self.better(new, best[1] if best else timing):
                best = (cand, new)
        return best

    def _move_swap(self, plan: Plan, timing: Timing, v: int) -> tuple[Plan, Timing] | None:
        wl, t = self.inst.workload, self.tables.t
        a = int(plan.x[v])
        best: tuple[Plan, Timing] | None = None
        for w in list(wl.preds[v]) + list(wl.succs[v]):
            b = int(plan.x[w])
            if b == a or not (math.isfinite(t[v, b]) and math.isfinite(t[w, a])):
                continue
            cand = plan.copy()
            ia, ib = cand.orders[a].index(v), cand.orders[b].index(w)
            cand.orders[a][ia], cand.orders[b][ib] = w, v
            cand.x[v], cand.x[w] = b, a
            new = self._try(cand, {v: a, w: b})
            if new is not None and self.better(new, best[1] if best else timing):
                best = (cand, new)
        return best
