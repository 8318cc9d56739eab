"""H2H (SPEC §7.2): steps 2-4 on top of the computation-prioritised baseline.

* ``h2h`` — the published algorithm: reference knapsack values, activation
  locality, then two passes of first-improvement hill climbing on latency with
  the neighbour moves of step 4.
* ``h2h_plus`` — the same steps, then a local search with richer moves
  (re-insertion at the best position, chain-segment moves; swaps on request) that
  breaks latency ties by energy.  Each addition was kept only where it measured
  better (``scripts/ablation_h2h_plus.py``, ``results/h2h_plus_ablation.md``).

Options (``SolveParams.options``):
``value`` (``reference`` | ``seconds`` | ``critical``), ``passes`` (step 4
passes, 2), ``max_evals`` (moves evaluated in step 4 and after; default 1500
for ``h2h``, 5000 for ``h2h_plus``: the full algorithm on instances up to a few
hundred layers, a fixed amount of O(V+E) work on larger ones, so run time grows
near-linearly), ``moves`` (h2h_plus neighbourhoods), ``energy_ties`` (h2h_plus:
accept equal-latency moves that save energy, default true), ``cap`` (baseline cap).
A warm start (``initial``) replaces step 1: its mapping and orders are used.
"""

from __future__ import annotations

import time
from typing import Any

from ..cost import CostTables, compile_tables
from ..evaluate import decision_indices
from ..model import Instance
from ..result import SolveResult, SolveStatus, Termination
from ..schedule import Schedule
from ._heuristic import (
    BASELINE_CAP,
    H2HEngine,
    Plan,
    Timing,
    comp_prioritised,
    plan_to_schedule,
)
from .base import BaseSolver, SolveParams

DEFAULT_MOVES = ("reinsert", "segment")  # swap measured useless: see results/h2h_plus_ablation.md


def _plan_from_schedule(inst: Instance, s: Schedule) -> Plan:
    """A warm start's mapping and orders; residency is step 2's to decide."""
    x, r, orders = decision_indices(inst, s.mapping, {}, s.orders)
    return Plan(x, r, orders)


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

    def record(label: str, plan: Plan, timing: Timing, locality: str | None) -> None:
        nonlocal t0
        now = time.perf_counter()
        out.append((label, plan_to_schedule(inst, plan, timing.start, locality, step=label),
                    timing, now - t0))
        t0 = now

    if initial is None:
        plan, _ = comp_prioritised(inst, tables, cap=cap)
    else:
        plan = _plan_from_schedule(inst, initial)
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


class H2HSolver(BaseSolver):
    name = "h2h"
    default_value = "reference"
    default_moves: tuple[str, ...] = ()
    default_max_evals: int | None = 1500

    def solve(self, inst: Instance, params: SolveParams,
              initial: Schedule | None = None) -> SolveResult:
        start = time.perf_counter()
        tables = compile_tables(inst)
        opts: dict[str, Any] = dict(params.options)
        max_evals = opts.get("max_evals", self.default_max_evals)
        deadline = None if params.time_limit_s is None else start + params.time_limit_s
        moves = tuple(opts.get("moves", self.default_moves))
        steps, eng = h2h_steps(
            inst, tables, value=opts.get("value", self.default_value),
            passes=int(opts.get("passes", 2)), max_evals=max_evals, deadline=deadline,
            moves=moves,
            cap=int(opts.get("cap", BASELINE_CAP)), initial=initial,
            energy_ties=bool(opts.get("energy_ties", True)))
        label, sched, timing, _ = steps[-1]
        st = eng.stats
        term = Termination.TIME_LIMIT if st.time_hit else Termination.COMPLETED
        return SolveResult(
            inst.name, self.name, SolveStatus.FEASIBLE, term, sched.with_meta(solver=self.name),
            objective=timing.makespan if inst.options.objective == "latency" else None,
            time_s=time.perf_counter() - start,
            steps=[{"step": lab, "latency_s": tm.makespan, "energy_j": tm.energy,
                    "time_s": dt} for lab, _, tm, dt in steps],
            params={"options": {"value": opts.get("value", self.default_value),
                                "max_evals": max_evals, "moves": list(moves)}},
            info={"evaluations": st.evaluations, "accepted_moves": st.accepted,
                  "accepted_by_move": dict(st.by_move), "budget_hit": st.budget_hit,
                  "time_limit_hit": st.time_hit},
        )


class H2HPlusSolver(H2HSolver):
    name = "h2h_plus"
    default_value = "reference"  # "critical" measured worse, "seconds" ~ "reference"
    default_moves = DEFAULT_MOVES
    default_max_evals = 5000
