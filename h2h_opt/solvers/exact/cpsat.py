"""Exact CP-SAT model of the mapping problem (SPEC §7.4), solved by OR-Tools.

Variables, per layer ``v`` and accelerator ``a`` that runs it (time in integer ticks,
SPEC §6, every duration rounded up):

* ``x[v,a]`` assignment, ``Σ_a x[v,a] = 1``;
* ``rx[v,a]`` weights of ``v`` resident on ``a`` (``rx ≤ x``), memory E9;
* host comm: ``y[k,a]`` edge ``k = (u,v)`` read remotely by ``v`` on ``a``
  (``x[v,a] ∧ ¬x[u,a]``), ``z[v,a]`` ``v`` on ``a`` writes its output (a sink, or a
  successor elsewhere);
* ``L_v`` busy time: E2-E4 (host) or E6 (p2p) as a linear expression of those
  booleans; ``s_v``, ``f_v = s_v + L_v``; one optional interval per ``(v,a)``
  sharing ``s_v, L_v, f_v`` with presence ``x[v,a]``; no overlap per accelerator
  (E8); precedence E5, or E7 as an unconditional row plus delay rows enforced by
  pairs of assignment literals; redundant cumulative over all layers (capacity =
  number of accelerators), per-accelerator load rows (makespan ≥ the exact load of
  each accelerator, for the LP relaxation) and symmetry breaking between identical
  accelerators.
* Objectives: makespan (E10), energy (E11, coefficients floored to integer units so
  the bound stays valid), or lex (makespan, then energy at that makespan).

Makespan is minimised in phases (see :class:`CpSatSolver`): when a first search does not
prove optimality, the load relaxation (``T ≥`` every accelerator's busy time, E8 with
E2-E4/E6 and E9, no start times) gives a lower bound and a mapping to schedule.

Only ``same_accelerator`` locality is modelled under ``host``; ``adjacent`` is refused.
The returned schedule keeps the solver's mapping, residency and orders and is
re-timed ASAP in seconds by the evaluator; tick rounding only ever lengthens the
solver's durations, so the seconds schedule is feasible and no longer.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from typing import Any

from ortools.sat.python.cp_model import FEASIBLE, INFEASIBLE, MODEL_INVALID, OPTIMAL, UNKNOWN  # noqa: E402

from ...cost import compile_tables
from ...model import Instance
from ...result import SolveResult
from ...schedule import Decision, Schedule
from ..base import Option, SolveParams
from ..bounds import TRANSFER_PAIRS, lower_bound
from .cpmodel import SatModel
from .native import sat_parameter, set_sat_parameters
from .plumbing import (
    ExactSolver,
    LogSink,
    Progress,
    exact_result,
    rounding_info,
    time_left,
    time_limit,
)

FULL_MODEL = "full CP-SAT model"  # the source of a bound its search proved


def _progress_of(line: str) -> tuple[float | None, float | None]:
    """The incumbent (``best:``) and bound (``next:[lb,ub]``) of a CP-SAT log line."""
    best = bound = None
    if line.startswith("#"):
        for tok in line.split():
            if tok.startswith("best:"):
                with contextlib.suppress(ValueError):
                    best = float(tok[5:])
            elif tok.startswith("next:[") and "," in tok:
                with contextlib.suppress(ValueError):
                    bound = float(tok[6:].split(",")[0])
    return best, bound


class _Runner:
    """One ``CpSolver`` with the run's parameters, solving one model after another
    within given budgets; every log line goes to the log and the progress."""

    def __init__(self, solver: Any, progress: Progress, emit: Callable[[str], None]
                 ) -> None:
        self.solver, self.progress, self.emit = solver, progress, emit
        self.lines: list[str] = []
        self.phases: list[dict[str, Any]] = []
        solver.log_callback = self._on_log

    def _on_log(self, line: str) -> None:
        self.lines.append(line)
        self.progress.update(*_progress_of(line))
        self.emit(line)

    def solve(self, model: Any, budget: float, phase: str, *, incumbent: bool = True,
              bound: bool = True, subsolvers: list[str] | None = None) -> Any:
        """Solve ``model`` for at most ``budget`` seconds; ``incumbent``/``bound`` say
        whether its objective values count as the problem's (for progress);
        ``subsolvers`` replaces the portfolio (one worker each) for this solve only."""
        self.emit(f"# h2h_opt phase: {phase} ({budget:.2f} s)")
        self.progress.take_incumbent, self.progress.take_bound = incumbent, bound
        sp = self.solver.parameters
        sp.max_time_in_seconds = max(0.05, budget)
        saved = sp.num_workers, list(sp.subsolvers)
        if subsolvers is not None:
            sp.num_workers = len(subsolvers)
            sp.subsolvers.clear()
            sp.subsolvers.extend(subsolvers)
        try:
            status = self.solver.solve(model)
        finally:
            sp.num_workers = saved[0]
            sp.subsolvers.clear()
            sp.subsolvers.extend(saved[1])
            self.progress.take_incumbent = self.progress.take_bound = True
        found = status in (OPTIMAL, FEASIBLE)
        self.phases.append({
            "phase": phase, "status": self.solver.status_name(status),
            "time_s": round(self.solver.wall_time, 3),
            "objective": self.solver.objective_value if found else None,
            "bound": self.solver.best_objective_bound if found else None})
        return status


class CpSatSolver(ExactSolver):
    """OR-Tools CP-SAT backend.

    Options: ``warm_start`` (solver for the default hint, ``h2h``; ``none`` for no
    hint), ``symmetry`` (break symmetry of identical accelerators, default true),
    ``cpsat_parameters`` (a dict set on ``CpSolver.parameters`` as given; a list sets a
    repeated field such as ``subsolvers``), ``acc_sizes`` (give each optional interval
    its own size variable whose domain starts at the layer's least busy time on that
    accelerator; default false: measured no better on the 30-layer host set),
    ``prec_cuts`` (rows tying accelerator loads to ancestors and descendants; default
    false: measured no better), ``load_bound`` (latency and lex: when the first
    search does not prove optimality, bound the makespan by the load relaxation and
    search again with that bound; default true), ``first_share`` (share of the budget
    of the first search, default ``FIRST_SHARE``; 0 starts with the load relaxation).
    ``SolveParams.workers`` defaults to 8 on instances up to 200 layers (the LP
    workers of the larger portfolio close bounds) and to 2 above (on 2 cores, 2
    workers find solutions fastest); ``time_limit_s`` defaults to 60 s.

    Makespan (E10) is minimised in up to four phases sharing the time limit:

    1. ``search``: the full model, warm-started, for ``FIRST_SHARE`` of the budget;
    2. ``load_relaxation``: min ``T`` subject to ``T ≥`` the busy time of every
       accelerator (E2-E4/E6, E8, E9), with no start times.  On machines that stay
       busy (the typical host-comm optimum) its optimum is the makespan's, and the
       relaxation, a pure 0-1 problem, is proved far faster than the full model;
    3. ``relaxation_mapping``: the full model with the relaxation's mapping fixed,
       which often attains the relaxation's value and so closes the gap at once;
    4. ``search_with_load_bound``: the full model again, with ``makespan ≥`` the best
       bound so far and the best schedule as hint, for the time left.
    """

    name = "cpsat"
    #: share of the budget given to the first search before the load relaxation
    FIRST_SHARE = 0.1
    #: most of the remaining budget the load relaxation may use
    RELAX_SHARE = 0.75
    #: the load relaxation's portfolio: the LP-based workers that prove its bound
    #: (measured on the 30-layer host set, seeds 2/6/7/9/10/16: 4.8-15.7 s, against
    #: 10.6-22.5 s with the default 4-worker and 11.7-51.8 s with the 8-worker one)
    RELAX_SUBSOLVERS = ["max_lp", "reduced_costs", "pseudo_costs", "default_lp"]
    options = (
        Option("warm_start", str, "h2h", "solver whose schedule is the hint (the facade runs"
               " it)", choices=("none", "baseline", "h2h", "h2h_plus", "heft", "milp"),
               nullable=True),
        Option("symmetry", bool, True, "break symmetry between identical accelerators"
               " (first-use order)"),
        Option("cpsat_parameters", dict, {}, "set on CpSolver.parameters as given (a list"
               " sets a repeated field)", keys=sat_parameter, keys_help="SatParameters field"),
        Option("acc_sizes", bool, False, "give each optional interval its own size"
               " variable (measured no better)"),
        Option("prec_cuts", bool, False, "rows tying accelerator loads to"
               " ancestors and descendants (measured no better)"),
        Option("load_bound", bool, True, "latency/lex: when the first search does not"
               " prove optimality, bound the makespan by the load relaxation (E8, E9)"),
        Option("first_share", float, FIRST_SHARE, "share of the budget of the first search"
               " (0: load relaxation first)", low=0, high=1),
        Option("cheap_bound", bool, True, "latency/lex, up to 2 000 layer-accelerator"
               " pairs and with more than 5 s of the limit left: the makespan is at least"
               " the cheap LP bound (load, residency, transfer, precedence and head-tail"
               " rows) from the start"),
        Option("energy_cap", float, 0.0, "only schedules of at most this energy, J (E11;"
               " 0: no cap): the epsilon of an epsilon-constraint front", low=0),
    )

    def available(self) -> str | None:
        try:
            import ortools.sat.python.cp_model  # noqa: F401
        except ImportError as exc:  # pragma: no cover - ortools is a base dependency
            return f"OR-Tools is not installed ({exc})"
        return None

    def solve(self, inst: Instance, params: SolveParams,
              initial: Schedule | None = None) -> SolveResult:
        t0 = time.perf_counter()
        tables = compile_tables(inst)
        mdl = SatModel(inst, tables)
        mdl.acc_sizes = self.option(params, "acc_sizes")
        mdl.prec_cuts = self.option(params, "prec_cuts")
        plan = Decision.from_schedule(inst, initial) if initial is not None else None
        objective = inst.options.objective
        cap = self.option(params, "energy_cap")
        # under an energy cap the optimum may be slower than the warm start: no plan horizon
        horizon = mdl.plan_horizon(plan if cap <= 0 else None)
        mdl.build(horizon, symmetry=self.option(params, "symmetry"),
                  energy=objective != "latency" or cap > 0)
        if cap > 0:
            # E11 <= cap.  The model's energy floors every term, so it never exceeds the
            # true energy: no schedule within the cap is cut, and "infeasible" is a proof
            energy, scale = mdl.energy_expr()
            mdl.model.add(energy <= math.floor(cap * scale * (1 + 1e-12)))
        hint_makespan = mdl.hint(plan) if plan is not None else None
        workers = params.workers or (8 if mdl.n <= 200 else 2)
        deadline = t0 + time_limit(params)  # the model's build counts against the limit
        floor, cheap = 0, None
        if objective in ("latency", "lex") and self.option(params, "cheap_bound") \
                and 0 < mdl.n * mdl.m <= TRANSFER_PAIRS and time_left(deadline) > 5.0:
            # every duration is rounded up, so a schedule's makespan in ticks is at least
            # its makespan in seconds over the tick: at least the bound over the tick
            t1 = time.perf_counter()
            cheap = params.known_bound or lower_bound(
                inst, tables, min(10.0, 0.1 * time_left(deadline)))
            floor = math.floor(cheap.value / mdl.tick)
            cheap_s = time.perf_counter() - t1
        limit = time_left(deadline)
        solver = mdl.cp.CpSolver()
        sp = solver.parameters
        sp.num_workers = workers
        sp.random_seed = params.seed
        sp.relative_gap_limit = params.rel_gap
        sp.log_search_progress = True
        sp.log_to_stdout = False
        set_sat_parameters(sp, dict(self.option(params, "cpsat_parameters")))
        factor = mdl.tick
        if objective == "energy":
            factor = 1.0 / mdl.energy_expr()[1]
        sink = LogSink(params.log, params.progress)
        run = _Runner(solver, Progress(sink.progress, factor, t0), sink.emit)
        info: dict[str, Any] = {"workers": workers, **rounding_info(mdl),
                                "horizon_ticks": horizon, "identical_groups": mdl.groups}
        if cheap is not None:
            info["cheap_bound"] = {"value_s": cheap.value, "source": cheap.source,
                                   "time_s": round(cheap_s, 3)}
        load_bound = self.option(params, "load_bound")
        vals = None
        bound: float | None = None
        proven = False
        with sink:
            if objective in ("latency", "lex"):
                budget = limit if objective == "latency" else limit / 2
                vals, best_ms, lb, lb_from = self._minimise_makespan(
                    mdl, run, budget, load_bound, params.rel_gap,
                    self.option(params, "first_share"), floor)
                proven = vals is not None and best_ms <= lb
                bound = lb if lb > 0 or vals is not None else None
                if bound is not None:
                    info["bound_source"] = lb_from if lb_from != "floor" else \
                        cheap.source if cheap is not None else "none proven (0)"
                if vals is not None:
                    info["solver_makespan_s"] = best_ms * mdl.tick
                if objective == "lex" and proven:
                    mdl.model.add(mdl.makespan <= best_ms)
                    energy, scale = mdl.energy_expr()
                    mdl.model.minimize(energy)
                    mdl.hint(vals)
                    status = run.solve(mdl.model, time_left(deadline),
                                       "energy_at_best_makespan")
                    if status in (OPTIMAL, FEASIBLE):
                        info["energy_bound_j"] = solver.best_objective_bound / scale
                        vals = mdl.values(solver)
                    info["energy_proven"] = status == OPTIMAL
            else:
                energy, scale = mdl.energy_expr()
                mdl.model.minimize(energy)
                status = run.solve(mdl.model, limit, "search")
                if status in (OPTIMAL, FEASIBLE):
                    vals = mdl.values(solver)
                    bound = solver.best_objective_bound / scale
                    proven = status == OPTIMAL
                    info["bound_source"] = FULL_MODEL
        hint_line = next((ln for ln in run.lines if "solution hint" in ln), None)
        info["hint"] = None if hint_line is None else hint_line.strip()
        info["hint_complete_and_feasible"] = bool(hint_line and "complete and is feasible"
                                                  in hint_line)
        info["hint_makespan_ticks"] = hint_makespan
        info["phases"] = run.phases
        info["status_name"] = run.phases[-1]["status"] if run.phases else "UNKNOWN"
        info["wall_time_s"] = sum(p["time_s"] for p in run.phases)
        names = [p["status"] for p in run.phases]
        if "MODEL_INVALID" in names:
            info["validation"] = mdl.model.validate()
        # latency/lex: the makespan bound in ticks x tick (SPEC §6); energy: joules
        if bound is not None and objective != "energy":
            bound = bound * mdl.tick
        return exact_result(inst, self.name, None if vals is None else
                            mdl.schedule(vals, self.name), proven=proven,
                            rel_gap=params.rel_gap, bound=bound, t0=t0, info=info,
                            infeasible="INFEASIBLE" in names, error="MODEL_INVALID" in names)

    def _minimise_makespan(self, mdl: SatModel, run: _Runner, budget: float,
                           load_bound: bool, rel_gap: float, first_share: float,
                           floor: int = 0) -> tuple[Any, int, int, str]:
        """The phases of the class docstring, the makespan at least ``floor`` (ticks, a
        proven bound).  Returns the best plan (or None), its makespan and the best lower
        bound, both in ticks, and what proved that bound (``floor``: the floor)."""
        t_start = time.perf_counter()
        solver = run.solver

        def left() -> float:
            return budget - (time.perf_counter() - t_start)

        def closed(best: int | None, lb: int) -> bool:
            return best is not None and (best <= lb or (best - lb) <= rel_gap * best)

        best_ms: int | None = None
        vals = None
        lb = floor
        lb_from = "floor"
        if floor > 0:
            mdl.model.add(mdl.makespan >= floor)

        def absorb(status: Any, bound: bool = True) -> None:
            """Keep a full-model solve's schedule if better; its bound too, unless the
            model was restricted (a fixed mapping)."""
            nonlocal best_ms, vals, lb, lb_from
            if status not in (OPTIMAL, FEASIBLE):
                return
            ms = round(solver.objective_value)
            if best_ms is None or ms < best_ms:
                best_ms, vals = ms, mdl.values(solver)
            if bound:
                proved = math.ceil(solver.best_objective_bound - 1e-6)
                if status == OPTIMAL and rel_gap == 0:
                    proved = max(proved, best_ms)
                if proved > lb:
                    lb, lb_from = proved, FULL_MODEL

        mdl.model.minimize(mdl.makespan)
        status = UNKNOWN
        if first_share > 0 or not load_bound:
            status = run.solve(mdl.model, budget * first_share if load_bound else budget,
                               "search")
        absorb(status)
        if status in (OPTIMAL, INFEASIBLE, MODEL_INVALID) or not load_bound \
                or closed(best_ms, lb) or left() <= 0.05:
            return vals, best_ms or 0, lb, lb_from
        lb_search = lb
        # load relaxation: a lower bound, and a mapping to try
        relax = SatModel(mdl.inst, mdl.tables)
        relax.groups = mdl.groups
        relax.build_load_relaxation(best_ms if best_ms is not None else mdl.horizon_ticks,
                                    floor=lb)
        relax.model.minimize(relax.makespan)
        status = run.solve(relax.model, left() * self.RELAX_SHARE, "load_relaxation",
                           incumbent=False, subsolvers=self.RELAX_SUBSOLVERS)
        mapping = None
        if status in (OPTIMAL, FEASIBLE) and solver.best_objective_bound > lb:
            lb = math.ceil(solver.best_objective_bound - 1e-6)
            lb_from = "load relaxation (CP-SAT)"
            mapping = [0] * mdl.n
            for (v, a), xv in relax.x.items():
                if solver.boolean_value(xv):
                    mapping[v] = a
        run.progress.update(None, float(lb))
        if closed(best_ms, lb) or left() <= 0.05:
            return vals, best_ms or 0, lb, lb_from
        if mapping is not None:  # the full model with the relaxation's mapping fixed
            mapping, _ = mdl._relabel(mapping, [[] for _ in range(mdl.m)])
            fixed = mdl.model.clone()
            fixed.clear_hints()
            for (v, a), xv in mdl.x.items():
                fixed.add(fixed.get_bool_var_from_proto_index(xv.index) == int(mapping[v] == a))
            absorb(run.solve(fixed, min(left() * 0.25, max(1.0, budget * 0.05)),
                             "relaxation_mapping", bound=False), bound=False)
            if closed(best_ms, lb) or left() <= 0.05:
                return vals, best_ms or 0, lb, lb_from
        # the model keeps its first hint: measured on STG rand0117 / 8 procs, re-hinting
        # the best schedule (already optimal) kept the bound open (3/3 runs) where the
        # first hint let it close (3/3); the best schedule is kept here in any case
        if lb > lb_search:
            mdl.model.add(mdl.makespan >= lb)
        status = run.solve(mdl.model, left(), "search_with_load_bound")
        absorb(status)
        if status == INFEASIBLE and best_ms is not None:
            # nothing at or below the incumbent beats it: it is optimal
            lb, lb_from = best_ms, FULL_MODEL if best_ms != lb else lb_from
        return vals, best_ms or 0, lb, lb_from

