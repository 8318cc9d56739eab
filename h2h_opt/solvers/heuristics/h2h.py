"""H2H (SPEC §7.2): steps 2-4 on top of the computation-prioritised baseline.

* ``h2h`` — the published algorithm: reference knapsack values, activation
  locality, then two passes of first-improvement hill climbing on latency with
  the neighbour moves of step 4.
* ``h2h_plus`` — the same steps, then a local search with richer moves
  (re-insertion at the best position, chain-segment moves; swaps on request) that
  breaks latency ties by energy.  Each addition was kept only where it measured
  better (``scripts/ablation_h2h_plus.py``, ``results/h2h_plus_ablation.md``).

Options (``SolveParams.options``, declared in :func:`h2h_options`):
``value`` (``reference`` | ``seconds`` | ``critical``), ``passes`` (step 4
passes, 2), ``max_evals`` (moves evaluated in step 4 and after; default 1500
for ``h2h``, 5000 for ``h2h_plus``: the full algorithm on instances up to a few
hundred layers, a fixed amount of O(V+E) work on larger ones, so run time grows
near-linearly), ``moves`` (neighbourhoods of the improved search; default none for
``h2h``, ``reinsert`` and ``segment`` for ``h2h_plus``), ``energy_ties`` (improved
search: accept equal-latency moves that save energy, default true), ``cap``
(baseline cap).
A warm start (``initial``) replaces step 1: its mapping and orders are used.
"""

from __future__ import annotations

import bisect
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ...cost import CostTables, compile_tables
from ...model import Instance
from ...result import SolveResult, SolveStatus, Termination
from ...schedule import Decision, Schedule
from ...timing import ScheduleCycleError, Timer, Timing
from ..base import BaseSolver, Option, SolveParams
from .knapsack import knapsack_residency
from .list_mapping import BASELINE_CAP, CAP_OPTION, comp_prioritised

__all__ = ["H2HEngine", "H2HPlusSolver", "H2HSolver", "h2h_options", "h2h_steps"]



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
        self.locality = inst.options.locality
        self.timer = Timer(inst, tables)
        self.out_edges = inst.workload.out_edges
        self.edge_dst = tables.edge_dst.tolist()
        self.max_evals = max_evals
        self.deadline = deadline
        self.energy_ties = True
        self.stats = SearchStats()

    # -- timing ------------------------------------------------------------------------
    def timing(self, plan: Decision, locality: str, describe: bool = True) -> Timing:
        """ASAP times, makespan (E10) and energy (E11); raises ScheduleCycleError."""
        return self.timer.time(plan, locality, describe=describe)

    def residency(self, plan: Decision, accs: Sequence[int] | None = None,
                  timing: Timing | None = None) -> np.ndarray:
        weight = None
        if self.value == "critical" and timing is not None:
            weight = self.criticality(plan, timing)
        return knapsack_residency(self.inst, self.tables, plan.x, value=self.value, accs=accs,
                                  r=plan.r, weight=weight)

    def criticality(self, plan: Decision, timing: Timing) -> np.ndarray:
        """1 + (1 - slack/makespan): 2 on a critical path, towards 1 with slack."""
        n = self.tables.num_layers
        tail = [0.0] * n  # longest path from a layer's finish to the end
        prev = plan.prev().tolist()
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
            for k in self.out_edges[v]:
                w = self.edge_dst[k]
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

    def _try(self, plan: Decision, moved_from: dict[int, int]) -> Timing | None:
        """Redo steps 2-3 after moving layers and re-time; ``None`` on a cycle.

        ``moved_from`` maps each moved layer to its old accelerator (``plan.x`` is
        already the new mapping, ``plan.r`` still the old residency).
        """
        self.stats.evaluations += 1
        plan.r = self.residency_after_move(plan, moved_from)
        try:
            return self.timing(plan, self.locality, describe=False)
        except ScheduleCycleError:
            return None

    def residency_after_move(self, plan: Decision, moved_from: dict[int, int]) -> np.ndarray:
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

    def remap(self, plan: Decision, timing: Timing, passes: int = 2) -> tuple[Decision, Timing]:
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

    def improve(self, plan: Decision, timing: Timing, moves: Sequence[str],
                max_rounds: int = 50) -> tuple[Decision, Timing]:
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

    def _targets(self, plan: Decision, v: int) -> list[int]:
        wl, t = self.inst.workload, self.tables.t
        accs = []
        for nb in list(wl.preds[v]) + list(wl.succs[v]):
            b = int(plan.x[nb])
            if b != plan.x[v] and math.isfinite(t[v, b]) and b not in accs:
                accs.append(b)
        return accs

    def _positions(self, plan: Decision, timing: Timing, v: int, b: int) -> range:
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

    def _move_reinsert(self, plan: Decision, timing: Timing, v: int
                       ) -> tuple[Decision, Timing] | None:
        best: tuple[Decision, Timing] | None = None
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

    def _move_segment(self, plan: Decision, timing: Timing, v: int
                      ) -> tuple[Decision, Timing] | None:
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
        best: tuple[Decision, Timing] | None = None
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

    def _move_reorder(self, plan: Decision, timing: Timing, v: int
                      ) -> tuple[Decision, Timing] | None:
        """Move ``v`` within its own accelerator's order, to any position up to
        :data:`REORDER_REACH` away that keeps its data predecessors before it and its
        successors after it there (under ``adjacent`` locality, the order decides what
        stays local)."""
        wl = self.inst.workload
        a = int(plan.x[v])
        order = plan.orders[a]
        i = order.index(v)
        rest = order[:i] + order[i + 1:]
        pos = {u: k for k, u in enumerate(rest)}
        lo = max((pos[u] + 1 for u in wl.preds[v] if u in pos), default=0)
        hi = min((pos[w] for w in wl.succs[v] if w in pos), default=len(rest))
        return self._best_order(plan, timing, a, (
            rest[:p] + [v] + rest[p:]
            for p in range(max(lo, i - REORDER_REACH), min(hi, i + REORDER_REACH) + 1)
            if p != i))

    def _best_order(self, plan: Decision, timing: Timing, a: int,
                    orders: Iterable[list[int]]) -> tuple[Decision, Timing] | None:
        """The best of ``orders`` for accelerator ``a`` (mapping unchanged), if any beats
        ``timing``."""
        best: tuple[Decision, Timing] | None = None
        for order in orders:
            if order == plan.orders[a]:
                continue
            cand = plan.copy()
            cand.orders[a] = order
            new = self._try(cand, {})
            if new is not None and self.better(new, best[1] if best else timing):
                best = (cand, new)
        return best

    def _move_gather(self, plan: Decision, timing: Timing, v: int
                     ) -> tuple[Decision, Timing] | None:
        """Run the layers of ``v``'s model on ``v``'s accelerator one after another,
        from where the first of them stands or up to where the last does (only from
        that first layer, once per model and accelerator): under ``adjacent`` locality a
        model kept together keeps its activations local."""
        layers = self.inst.workload.layers
        a = int(plan.x[v])
        order = plan.orders[a]
        model = layers[v].model
        mine = [u for u in order if layers[u].model == model]
        if mine[0] != v or len(mine) == len(order) or len(mine) < 2:
            return None
        first, last = order.index(mine[0]), order.index(mine[-1])
        others = [u for u in order if layers[u].model != model]
        cut_first = sum(1 for u in order[:first] if layers[u].model != model)
        cut_last = sum(1 for u in order[:last] if layers[u].model != model)
        return self._best_order(plan, timing, a, (
            others[:cut] + mine + others[cut:] for cut in dict.fromkeys((cut_first, cut_last))))

    def _move_swap(self, plan: Decision, timing: Timing, v: int
                   ) -> tuple[Decision, Timing] | None:
        wl, t = self.inst.workload, self.tables.t
        a = int(plan.x[v])
        best: tuple[Decision, Timing] | None = None
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


#: the neighbourhoods of :meth:`H2HEngine.improve`
MOVES = ("reinsert", "segment", "swap", "reorder", "gather")
#: positions ``reorder`` tries on either side of a layer's place in its order
REORDER_REACH = 8
#: swap measured useless; reorder and gather took the geometric mean latency against h2h
#: from 0.9437 to 0.8964 (results/h2h_plus_ablation.md)
DEFAULT_MOVES = ("reinsert", "segment", "reorder", "gather")
#: the knapsack values of step 2 (:func:`~.knapsack.knapsack_residency`)
VALUES = ("reference", "seconds", "critical")


def h2h_steps(inst: Instance, tables: CostTables, *, value: str = "reference", passes: int = 2,
              max_evals: int | None = None, deadline: float | None = None,
              moves: tuple[str, ...] = (), cap: int = BASELINE_CAP,
              initial: Schedule | None = None, energy_ties: bool = True
              ) -> tuple[list[tuple[str, Schedule, Timing, float]], H2HEngine]:
    """Run steps 1-4 (and the improved search if ``moves``); every step's schedule.

    Returns ``[(label, schedule, timing, seconds spent), ...]`` and the engine
    (whose ``stats`` count evaluated and accepted moves).
    """
    eng = H2HEngine(inst, tables, value=value, max_evals=max_evals, deadline=deadline)
    eng.energy_ties = energy_ties
    out: list[tuple[str, Schedule, Timing, float]] = []
    t0 = time.perf_counter()

    def record(label: str, plan: Decision, timing: Timing, locality: str | None) -> None:
        nonlocal t0
        now = time.perf_counter()
        out.append((label, plan.to_schedule(inst, timing.start, locality, step=label),
                    timing, now - t0))
        t0 = now

    if initial is None:
        plan, _ = comp_prioritised(inst, tables, cap=cap)
    else:
        plan = Decision.from_schedule(inst, initial, residency=False)  # step 2 decides
    record("1 computation-prioritised", plan, eng.timing(plan, "none"), "none")
    plan.r = eng.residency(plan)  # step 2: weights, every edge still non-local
    t2 = eng.timing(plan, "none")
    if value == "critical":  # weight by criticality measured on the step-2 schedule
        plan.r = eng.residency(plan, timing=t2)
        t2 = eng.timing(plan, "none")
    record("2 weight locality", plan, t2, "none")
    t3 = eng.timing(plan, inst.options.locality)  # step 3: activations stay local
    record("3 activation locality", plan, t3, None)
    plan, t4 = eng.remap(plan, t3, passes=passes)  # step 4
    record("4 locality-aware remapping", plan, t4, None)
    if moves:
        plan, t5 = eng.improve(plan, t4, moves)
        record("5 improved local search", plan, t5, None)
    return out, eng


def h2h_options(*, value: str, moves: tuple[str, ...], max_evals: int | None
                ) -> tuple[Option, ...]:
    """The options of H2H (SPEC §7.2) with the given defaults; ``h2h`` and ``h2h_plus``
    differ only in those."""
    return (
        Option("value", str, value, "step 2: knapsack value of a layer's weights",
               choices=VALUES),
        Option("passes", int, 2, "step 4: passes of first-improvement hill climbing", low=0),
        Option("max_evals", int, max_evals, "moves evaluated in step 4 and after"
               " (null: no budget)", low=0, nullable=True),
        Option("moves", list, moves, "neighbourhoods of the improved search after step 4"
               " (empty: none)", choices=MOVES),
        Option("energy_ties", bool, True, "improved search: accept equal-latency moves"
               " that save energy"),
        CAP_OPTION,
    )


class H2HSolver(BaseSolver):
    name = "h2h"
    options = h2h_options(value="reference", moves=(), max_evals=1500)

    def solve(self, inst: Instance, params: SolveParams,
              initial: Schedule | None = None) -> SolveResult:
        start = time.perf_counter()
        tables = compile_tables(inst)
        value = self.option(params, "value")
        max_evals = self.option(params, "max_evals")
        deadline = None if params.time_limit_s is None else start + params.time_limit_s
        moves = tuple(self.option(params, "moves"))
        steps, eng = h2h_steps(
            inst, tables, value=value,
            passes=self.option(params, "passes"), max_evals=max_evals, deadline=deadline,
            moves=moves, cap=self.option(params, "cap"), initial=initial,
            energy_ties=self.option(params, "energy_ties"))
        label, sched, timing, _ = steps[-1]
        st = eng.stats
        term = Termination.TIME_LIMIT if st.time_hit else Termination.COMPLETED
        return SolveResult(
            inst.name, self.name, SolveStatus.FEASIBLE, term, sched.with_meta(solver=self.name),
            objective=timing.makespan if inst.options.objective == "latency" else None,
            time_s=time.perf_counter() - start,
            steps=[{"step": lab, "latency_s": tm.makespan, "energy_j": tm.energy,
                    "time_s": dt} for lab, _, tm, dt in steps],
            params={"options": {"value": value,
                                "max_evals": max_evals, "moves": list(moves)}},
            info={"evaluations": st.evaluations, "accepted_moves": st.accepted,
                  "accepted_by_move": dict(st.by_move), "budget_hit": st.budget_hit,
                  "time_limit_hit": st.time_hit},
        )


class H2HPlusSolver(H2HSolver):
    name = "h2h_plus"
    # value: "critical" measured worse, "seconds" ~ "reference"
    options = h2h_options(value="reference", moves=DEFAULT_MOVES, max_evals=5000)
