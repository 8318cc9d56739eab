"""Solver registry and the one facade: ``solve(instance, solver, params, initial)``.

Backends are imported lazily (OR-Tools and Pyomo only when asked for).  Whatever
a backend returns, the facade re-evaluates its schedule with the independent
evaluator and reports the evaluator's latency, energy and objective.
"""

from __future__ import annotations

import importlib
import logging
import math
import time
from dataclasses import replace

from ..comm import check_ranges
from ..cost import compile_tables
from ..evaluate import evaluate
from ..model import Instance
from ..result import SolveResult, SolveStatus, Termination
from ..schedule import Schedule
from .base import Option, OptionError, SolveParams, Solver, SolverError, check_options
from .bounds import LowerBound, lower_bound

__all__ = ["SOLVERS", "Option", "OptionError", "SolveParams", "Solver", "SolverError",
           "get_solver", "solve", "solver_names", "solver_options"]

log = logging.getLogger(__name__)

#: Most of a time limit a warm start may take (its own limit; what it really takes,
#: cheap bound included, is taken off the solver's).
WARM_SHARE = 0.3

#: name -> (module, class); modules are imported on first use.
SOLVERS: dict[str, tuple[str, str]] = {
    "baseline": ("h2h_opt.solvers.heuristics.baseline", "BaselineSolver"),
    "h2h": ("h2h_opt.solvers.heuristics.h2h", "H2HSolver"),
    "h2h_plus": ("h2h_opt.solvers.heuristics.h2h", "H2HPlusSolver"),
    "heft": ("h2h_opt.solvers.heuristics.heft", "HeftSolver"),
    "cpsat": ("h2h_opt.solvers.exact.cpsat", "CpSatSolver"),
    "milp": ("h2h_opt.solvers.exact.milp", "MilpSolver"),
    "lns": ("h2h_opt.solvers.exact.lns", "LnsSolver"),
}


def solver_names(kind: str | None = None) -> list[str]:
    """Registered solvers, optionally only those of one ``kind`` ("heuristic", "exact"
    or "anytime"); imports each backend to read its kind."""
    if kind is None:
        return list(SOLVERS)
    return [name for name, (module, cls) in SOLVERS.items()
            if getattr(importlib.import_module(module), cls).kind == kind]


def _solver_class(name: str) -> type[Solver]:
    if name not in SOLVERS:
        raise SolverError(f"unknown solver {name!r} (available: {', '.join(SOLVERS)})")
    module, cls = SOLVERS[name]
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        raise SolverError(f"solver {name!r} needs a package that is not installed: {exc}") from None
    return getattr(mod, cls)


def solver_options(name: str) -> tuple[Option, ...]:
    """The options the named solver declares (what ``h2h solve --list-options`` prints);
    needs its module, not its package to be usable."""
    return tuple(_solver_class(name).options)


def get_solver(name: str) -> Solver:
    solver: Solver = _solver_class(name)()
    reason = solver.available()
    if reason:
        raise SolverError(f"solver {name!r} is not available: {reason}")
    return solver


def solve(inst: Instance, solver: str = "h2h", params: SolveParams | None = None,
          initial: Schedule | None = None) -> SolveResult:
    """Solve ``inst`` with the named solver; the result's figures are the evaluator's.

    Raises
    ------
    OptionError
        An option the solver does not declare, or a value it does not allow (checked
        before anything is solved).
    SolverError
        Unknown/unavailable solver, or an instance the solver does not support.
    """
    t_call = time.perf_counter()
    params = params or SolveParams()
    backend = get_solver(solver)
    opts = check_options(backend.name, backend.options, params.options)
    reason = backend.supports(inst)
    if reason:
        raise SolverError(f"solver {solver!r} does not support instance {inst.name!r}: {reason}")
    check_ranges(inst, compile_tables(inst))  # numbers every solver can take (cost.MAX_*)
    t0 = time.perf_counter()
    warm = opts.get("warm_start")  # declared by the backends that take a warm start
    warm_time = 0.0
    known: LowerBound | None = params.known_bound
    warm_from: str | None = None
    if initial is None and warm not in (None, "none"):
        # backends never import each other: the facade hands the warm start over; it
        # counts against the time limit
        share = None if params.time_limit_s is None else WARM_SHARE * params.time_limit_s
        best_ws: SolveResult | None = None
        quick = backend.quick_starts(inst, replace(params, options=opts))
        for name in (quick if warm == "best" else (warm,)):
            left = None if share is None else max(0.05, share - (time.perf_counter() - t0))
            ws = solve(inst, name, SolveParams(time_limit_s=left, seed=params.seed,
                                               known_bound=known))
            if known is None and ws.bound is not None and \
                    _solver_class(name).kind == "heuristic":  # the cheap LP's (finalise)
                known = LowerBound(ws.bound, str(ws.info.get("bound_source", name)))
            if ws.schedule is not None and ws.objective is not None and (
                    best_ws is None or _better(ws.objective, best_ws.objective)):
                best_ws = ws
        initial, warm_time = (best_ws.schedule if best_ws else None), time.perf_counter() - t0
        warm_from = best_ws.solver if best_ws is not None else None
    if params.time_limit_s is not None:  # tables, checks and warm start count against it
        params = replace(params, time_limit_s=max(
            0.05, params.time_limit_s - (time.perf_counter() - t_call)))
    params = replace(params, known_bound=known)  # the backend need not solve the LP again
    res = backend.solve(inst, params, initial)
    if warm_time:
        res.info["warm_start_time_s"] = warm_time
        res.info["warm_start_from"] = warm_from
    if not res.time_s:
        res.time_s = time.perf_counter() - t0
    # what produced the result: the common parameters and every option as used
    # (defaults included), over whatever the backend recorded
    res.params = {**res.params, **params.to_dict(), "options": opts}
    # the warm start's cheap bound holds for the instance: also when the solver ran out
    # of time with nothing (no second LP in keep_promises: 1.8 s at 3 000 layers)
    if known is not None and (res.schedule is not None
                              or res.termination == Termination.TIME_LIMIT) and (
            res.bound is None or known.value > res.bound):
        res.bound = known.value
        res.info["bound_source"] = known.source
    return keep_promises(inst, finalise(inst, res), initial, known)


def _first(objective: float | tuple[float, float]) -> float:
    return objective[0] if isinstance(objective, tuple) else objective


def _better(a: float | tuple[float, float], b: float | tuple[float, float] | None) -> bool:
    """``a`` strictly better than ``b`` beyond float noise (lex: latency, then energy)."""
    if b is None:
        return True
    if isinstance(a, tuple) and isinstance(b, tuple):
        if a[0] < b[0] * (1 - 1e-12):
            return True
        return a[0] <= b[0] * (1 + 1e-12) and a[1] < b[1] * (1 - 1e-12)
    return _first(a) < _first(b) * (1 - 1e-12)


def keep_promises(inst: Instance, res: SolveResult, initial: Schedule | None,
                  known: LowerBound | None = None) -> SolveResult:
    """What a result may claim, checked on the evaluator's figures.

    * Never a schedule worse than one the run already knew: when the warm start
      evaluates strictly better than the solver's schedule (or the solver returned
      none), the result holds the warm start — unless it is above the run's
      ``energy_cap`` option (an epsilon-constraint step).
    * A bound above the evaluated objective of a feasible schedule (beyond the stated
      rounding) is no bound: it is replaced by the cheap one (``info.bound_rejected``).
    * ``optimal`` only with a schedule whose evaluated objective is within the stated
      rounding of the bound (``info.bound_slack_s`` for latency; 1e-6 relative for
      energy); otherwise the status is ``feasible`` and ``info.optimality_rejected``
      says why.
    """
    if initial is not None:
        ev0 = evaluate(inst, initial, compile_tables(inst))
        cap = float(res.params.get("options", {}).get("energy_cap") or 0.0)
        within = cap <= 0 or ev0.energy <= cap * (1 + 1e-9)  # an epsilon-constraint's cap
        if ev0.feasible and within and (res.status == SolveStatus.NONE
                                        or _better(ev0.objective, res.objective)):
            res.info["schedule_from"] = "the warm start, better than the solver's schedule"
            res.schedule = initial.with_meta(solver=res.solver, from_warm_start=True)
            res.latency, res.energy, res.objective = ev0.latency, ev0.energy, ev0.objective
            if res.status == SolveStatus.NONE:
                res.status = SolveStatus.FEASIBLE
                if res.bound is None:  # the solver proved none: a cheap one
                    lb = known or lower_bound(inst, compile_tables(inst))
                    res.bound, res.info["bound_source"] = lb.value, lb.source
            if res.bound is not None and _first(ev0.objective) > 0:
                res.gap = max(0.0, (_first(ev0.objective) - res.bound) / _first(ev0.objective))
    first = _first(res.objective) if res.objective is not None else math.nan
    if inst.options.objective == "energy":
        slack = 1e-6 * abs(first)
    else:
        slack = float(res.info.get("bound_slack_s", 0.0)) + 1e-9 * max(1.0, abs(first))
    if res.bound is not None and first < res.bound - slack:  # a bound no schedule can beat
        res.info["bound_rejected"] = (
            f"the bound {res.bound:.9g} ({res.info.get('bound_source', res.solver)}) is above"
            f" the evaluated objective {first:.9g} of a feasible schedule")
        log.warning("%s: %s", res.solver, res.info["bound_rejected"])
        lb = lower_bound(inst, compile_tables(inst))
        res.bound, res.info["bound_source"] = lb.value, lb.source
        res.gap = max(0.0, (first - lb.value) / first) if first > 0 else None
        if res.status == SolveStatus.OPTIMAL:
            res.status = SolveStatus.FEASIBLE
    if res.status == SolveStatus.OPTIMAL and (res.bound is None or not first - res.bound <= slack):
        res.status = SolveStatus.FEASIBLE
        res.info["optimality_rejected"] = (
            f"the solver reported optimal, but the evaluated objective {first:.9g} is not"
            f" within the stated rounding ({slack:.3g}) of its bound {res.bound}")
        log.warning("%s: %s", res.solver, res.info["optimality_rejected"])
    return res


def finalise(inst: Instance, res: SolveResult) -> SolveResult:
    """Replace a result's figures by the evaluator's (STYLE habit 6)."""
    if res.schedule is None:
        res.status = SolveStatus.NONE
        return res
    ev = evaluate(inst, res.schedule, compile_tables(inst))
    if not ev.feasible:
        log.error("%s returned an infeasible schedule: %s", res.solver, ev.violations[:3])
        res.info["violations"] = [v.to_dict() for v in ev.violations[:20]]
        res.status = SolveStatus.NONE
        res.termination = Termination.ERROR
    reported = res.objective
    res.latency, res.energy, res.objective = ev.latency, ev.energy, ev.objective
    if isinstance(reported, float) and isinstance(ev.objective, float) \
            and not math.isclose(reported, ev.objective, rel_tol=1e-6, abs_tol=1e-12):
        res.info["solver_objective"] = reported
    first = ev.objective[0] if isinstance(ev.objective, tuple) else ev.objective
    if res.bound is None and res.status != SolveStatus.NONE:  # heuristics: a cheap bound
        lb = lower_bound(inst, compile_tables(inst))
        res.bound = lb.value
        res.info["bound_source"] = lb.source
    if res.bound is not None and first > 0:  # lex: the gap of the first criterion
        res.gap = max(0.0, (first - res.bound) / first)
    return res
