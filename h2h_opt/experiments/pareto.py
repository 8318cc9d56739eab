"""Latency-energy trade-offs (E10, E11): Pareto fronts of one instance.

* Exact solvers (those declaring an ``energy_cap`` option: ``cpsat``, ``milp``): the
  epsilon-constraint method.  Each step minimises latency subject to energy <= epsilon,
  then energy at that latency (the ``lex`` objective), so every point is non-dominated
  when both phases are proven; epsilon starts unbounded and steps down to just below the
  previous point's energy (1e-7 relative); the front is *complete* when a step is proven
  infeasible (no schedule has less energy) and every point is proven.  Each step is
  warm-started from the previous point and may take half the time left; the time limit
  bounds the whole front.
* Anytime solvers with an ``energy_cap`` option (``lns``): the same epsilon loop with
  the solver as the inner one, started from both ends: the latency point (``lex``), the
  least-energy point (``energy``), then caps stepped down from the latency point, each
  step started from the least-energy schedule (the only one known within its cap) and
  given a tenth of the time left (:data:`ANYTIME_SHARE`); the loop ends at the least
  energy.  Never marked complete (nothing is proven).
* Heuristics (no cap, no energy decision of their own): one solve per objective
  (latency, lex, energy), filtered to the non-dominated set; never marked complete.

Every point is the evaluator's figures of a schedule the caller can write out.
Quality: :func:`hypervolume` of a front against a stated reference point.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..model import Instance
from ..result import SolveResult, Termination
from ..schedule import Schedule

__all__ = ["Front", "Point", "dominates", "front_summary", "hypervolume", "non_dominated",
           "pareto_front", "reference_point", "solver_front_totals"]

#: How far below the previous point's energy the next cap lies: relative (well above the
#: MILP's feasibility tolerance, 1e-9 absolute), plus an absolute floor (J).
EPS_REL, EPS_ABS = 1e-7, 1e-12
#: The most of the remaining time one epsilon step may take (the rest is for the next).
STEP_SHARE = 0.5
#: The share of the remaining time one step of an anytime solver takes (it runs to its
#: limit: nothing ends it early), at least :data:`MIN_STEP_S`.
ANYTIME_SHARE, MIN_STEP_S = 0.1, 1.0


@dataclass
class Point:
    """One mapping of a front: evaluated latency [s] and energy [J]."""

    latency: float
    energy: float
    status: str                  # the solve's status (optimal: latency proven under the cap)
    energy_proven: bool | None   # exact steps: the energy at that latency proven minimal
    bound: float | None          # the solve's latency bound under its cap
    cap: float | None            # the step's energy cap (None: the first, uncapped step)
    schedule: Schedule | None = field(default=None, repr=False)

    @property
    def proven(self) -> bool:
        return self.status == "optimal" and bool(self.energy_proven)

    @property
    def gap(self) -> float | None:
        """``(latency - bound) / latency``: how far the latency may be from the least
        under the point's cap (None without a bound)."""
        if self.bound is None or not self.latency > 0:
            return None
        return max(0.0, (self.latency - self.bound) / self.latency)

    def to_dict(self) -> dict[str, Any]:
        return {"latency_s": self.latency, "energy_j": self.energy, "status": self.status,
                "energy_proven": self.energy_proven, "bound_s": self.bound, "gap": self.gap,
                "energy_cap_j": self.cap}


@dataclass
class Front:
    """The non-dominated points, by increasing latency, and whether the front is
    complete (the last epsilon step proven infeasible, every point proven)."""

    instance: str
    solver: str
    points: list[Point]
    complete: bool
    steps: int
    time_s: float
    stopped: str  # why the loop ended: infeasible, points, time_limit, no_schedule, objectives

    def to_dict(self) -> dict[str, Any]:
        return {"instance": self.instance, "solver": self.solver, "complete": self.complete,
                "steps": self.steps, "time_s": self.time_s, "stopped": self.stopped,
                "points": [p.to_dict() for p in self.points]}


def dominates(a: Point, b: Point) -> bool:
    """``a`` weakly better in both figures and strictly in one (relative 1e-9)."""
    le_l = a.latency <= b.latency * (1 + 1e-9)
    le_e = a.energy <= b.energy * (1 + 1e-9) + EPS_ABS
    lt = a.latency < b.latency * (1 - 1e-9) or a.energy < b.energy * (1 - 1e-9) - EPS_ABS
    return le_l and le_e and lt


def non_dominated(points: Sequence[Point]) -> list[Point]:
    """The points no other point dominates, one per (latency, energy), by latency."""
    out: list[Point] = []
    for p in sorted(points, key=lambda q: (q.latency, q.energy)):
        if any(dominates(q, p) for q in points):
            continue
        if out and math.isclose(out[-1].latency, p.latency, rel_tol=1e-9) and \
                math.isclose(out[-1].energy, p.energy, rel_tol=1e-9, abs_tol=EPS_ABS):
            continue
        out.append(p)
    return out


def hypervolume(points: Sequence[tuple[float, float]], ref: tuple[float, float]) -> float:
    """The area dominated by ``points`` (latency, energy) and bounded by ``ref`` (both
    minimised; points beyond the reference add nothing)."""
    pts = sorted((lat, en) for lat, en in points if lat < ref[0] and en < ref[1])
    # sweep by latency: each point that lowers the best energy so far adds the strip
    # between the two energies, from its latency to the reference
    area, best_e = 0.0, ref[1]
    for lat, en in pts:
        if en < best_e:
            area += (ref[0] - lat) * (best_e - en)
            best_e = en
    return area


def _with_objective(inst: Instance, objective: str) -> Instance:
    return dataclasses.replace(inst, options=dataclasses.replace(inst.options,
                                                                 objective=objective))


def pareto_front(inst: Instance, solver: str, *, points: int = 100,
                 time_limit_s: float | None = 600.0, seed: int = 0,
                 options: dict[str, Any] | None = None,
                 progress: Callable[[Point, int], None] | None = None) -> Front:
    """The (latency, energy) front of ``inst`` by ``solver`` (module notes): at most
    ``points`` points, all steps within ``time_limit_s`` (None: unlimited)."""
    from ..solvers import SolveParams, get_solver, solve

    t0 = time.perf_counter()
    backend = get_solver(solver)
    capped = any(o.name == "energy_cap" for o in backend.options)
    exact = capped and backend.kind == "exact"
    found: list[Point] = []

    def left() -> float | None:
        return None if time_limit_s is None else time_limit_s - (time.perf_counter() - t0)

    def point(res: SolveResult, cap: float | None) -> Point:
        return Point(res.latency, res.energy, res.status.value,
                     res.info.get("energy_proven") if exact else None, res.bound, cap,
                     res.schedule)

    if capped and not exact:
        return _anytime_front(inst, solver, points, left, seed, options, progress, t0)
    if not exact:  # one solve per objective, filtered
        steps = 0
        for objective in ("latency", "lex", "energy"):
            rest = left()
            if rest is not None and rest <= 0:
                break
            one = _with_objective(inst, objective)
            res = solve(one, solver, SolveParams(time_limit_s=rest, seed=seed,
                                                 options=dict(options or {})))
            steps += 1
            if res.schedule is not None:
                found.append(_point(res, objective, None))
                if progress:
                    progress(found[-1], steps)
        front = non_dominated(found)[:points]
        return Front(inst.name, solver, front, False, steps, time.perf_counter() - t0,
                     "objectives")
    lex = _with_objective(inst, "lex")
    cap: float | None = None
    prev: Schedule | None = None
    steps, stopped, complete = 0, "points", False
    while len(found) < points:
        rest = left()
        if rest is not None and rest <= 0.05:
            stopped = "time_limit"
            break
        opts = dict(options or {})
        if cap is not None:
            opts["energy_cap"] = cap
        budget = None if rest is None else max(min(rest, 1.0), STEP_SHARE * rest)
        res = solve(lex, solver, SolveParams(time_limit_s=budget, seed=seed, options=opts),
                    initial=prev)
        steps += 1
        if res.schedule is None and res.termination == Termination.INFEASIBLE:
            stopped, complete = "infeasible", True
            break
        if res.schedule is None:
            after = left()
            stopped = "no_schedule" if after is None or after > 0.05 else "time_limit"
            break
        p = point(res, cap)
        found.append(p)
        if progress:
            progress(p, steps)
        prev = res.schedule
        cap = p.energy * (1 - EPS_REL) - EPS_ABS
        if cap <= 0:
            stopped, complete = "infeasible", True  # no schedule has negative energy
            break
    front = non_dominated(found)
    complete = complete and all(p.proven for p in found)
    return Front(inst.name, solver, front, complete, steps, time.perf_counter() - t0,
                 stopped)


def _point(res: SolveResult, objective: str, cap: float | None) -> Point:
    """A point of a heuristic or anytime step: its status and bound are about latency,
    so an ``energy`` step's (joules; optimal: the least energy) say only whether its
    energy is proven."""
    if objective == "energy":
        return Point(res.latency, res.energy, "feasible", res.status.value == "optimal",
                     None, cap, res.schedule)
    return Point(res.latency, res.energy, res.status.value, None, res.bound, cap,
                 res.schedule)


def _anytime_front(inst: Instance, solver: str, points: int,
                   left: Callable[[], float | None], seed: int,
                   options: dict[str, Any] | None,
                   progress: Callable[[Point, int], None] | None, t0: float) -> Front:
    """The epsilon loop of an anytime solver (module notes)."""
    from ..solvers import SolveParams, solve

    found: list[Point] = []
    steps = 0

    def step(objective: str, cap: float | None, start: Schedule | None) -> Point | None:
        nonlocal steps
        rest = left()
        opts = dict(options or {})
        if cap is not None:
            opts["energy_cap"] = cap
        one = _with_objective(inst, objective)
        budget = None if rest is None else max(min(rest, MIN_STEP_S), ANYTIME_SHARE * rest)
        res = solve(one, solver, SolveParams(time_limit_s=budget, seed=seed, options=opts),
                    initial=start)
        steps += 1
        if res.schedule is None:
            return None
        p = _point(res, objective, cap)
        found.append(p)
        if progress:
            progress(p, steps)
        return p

    def out_of_time() -> bool:
        rest = left()
        return rest is not None and rest <= 0.05

    stopped = "least_energy"
    fastest = step("lex", None, None)
    least = None if fastest is None or out_of_time() else step("energy", None, None)
    if fastest is None or least is None:
        stopped = "no_schedule" if not out_of_time() else "time_limit"
    else:
        floor = least.energy
        cap = fastest.energy * (1 - EPS_REL) - EPS_ABS
        while cap >= floor * (1 - EPS_REL) and least.schedule is not None:
            if len(found) >= points:
                stopped = "points"
                break
            if out_of_time():
                stopped = "time_limit"
                break
            p = step("lex", max(cap, floor), least.schedule)
            if p is None:
                stopped = "no_schedule"
                break
            if p.energy <= floor * (1 + 1e-9):
                break  # the least energy reached, at the best latency found for it
            cap = p.energy * (1 - EPS_REL) - EPS_ABS
    front = non_dominated(found)[:points]
    return Front(inst.name, solver, front, False, steps, time.perf_counter() - t0, stopped)


def reference_point(fronts: Sequence[Sequence[tuple[float, float]]]) -> tuple[float, float]:
    """The hypervolume reference of fronts compared with each other: 1.1 x the largest
    latency and the largest energy of any of their points ((1, 1) if there are none)."""
    pts = [p for f in fronts for p in f]
    if not pts:
        return (1.0, 1.0)
    return (1.1 * max(p[0] for p in pts), 1.1 * max(p[1] for p in pts))


def _weakly_dominated(pts: Sequence[tuple[float, float]],
                      by: Sequence[tuple[float, float]]) -> bool:
    return all(any(q[0] <= p[0] * (1 + 1e-9) and q[1] <= p[1] * (1 + 1e-9) + EPS_ABS
                   for q in by) for p in pts)


def front_summary(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per instance, the fronts of a ``bench --pareto`` run compared: the reference point
    (:func:`reference_point` over all solvers' fronts), the hypervolume of the
    non-dominated union of every front (the best front known; the exact one when a
    complete exact front is among them), and per solver its points, completeness,
    hypervolume, ratio to the union's, and whether a complete front of another solver
    weakly dominates it."""
    by_inst: dict[str, dict[str, dict[str, Any]]] = {}
    for r in rows:
        if r.get("mode") != "pareto":
            continue
        name = str(r.get("instance", r["instance_file"]))
        pts = [(float(p["latency_s"]), float(p["energy_j"])) for p in r.get("front") or []]
        by_inst.setdefault(name, {})[r["solver"]] = {
            "points": sorted(pts), "complete": bool(r.get("complete")),
            "status": r.get("status"), "time_s": r.get("time_s"), "steps": r.get("steps"),
            "layers": r.get("layers"), "error": r.get("error")}
    out: dict[str, dict[str, Any]] = {}
    for name, fronts in by_inst.items():
        ref = reference_point([f["points"] for f in fronts.values()])
        union = [(p.latency, p.energy) for p in non_dominated(
            [Point(lat, en, "", None, None, None) for f in fronts.values()
             for lat, en in f["points"]])]
        best = hypervolume(union, ref)
        complete = [s for s, f in fronts.items() if f["complete"]]
        for s, f in fronts.items():
            f["hypervolume"] = hypervolume(f["points"], ref)
            f["ratio"] = f["hypervolume"] / best if best > 0 else None
            others = [o for o in complete if o != s]
            f["dominated_by_exact"] = (_weakly_dominated(f["points"], fronts[others[0]][
                "points"]) if others and f["points"] else None)
        layers = next((f["layers"] for f in fronts.values() if f["layers"]), None)
        out[name] = {"reference": ref, "union": union, "union_hypervolume": best,
                     "layers": layers, "solvers": fronts}
    return out


def solver_front_totals(summary: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per solver over the instances of :func:`front_summary`: fronts with a point,
    complete fronts, mean points, mean hypervolume ratio to the best front known, and on
    how many of the instances with another solver's complete front it is weakly
    dominated by that front."""
    acc: dict[str, dict[str, Any]] = {}
    for entry in summary.values():
        for s, f in entry["solvers"].items():
            t = acc.setdefault(s, {"fronts": 0, "complete": 0, "points": [], "ratios": [],
                                   "dominated": 0, "compared": 0})
            t["fronts"] += bool(f["points"])
            t["complete"] += f["complete"]
            t["points"].append(len(f["points"]))
            if f["ratio"] is not None:
                t["ratios"].append(f["ratio"])
            if f["dominated_by_exact"] is not None:
                t["compared"] += 1
                t["dominated"] += f["dominated_by_exact"]
    return {s: {"fronts": t["fronts"], "complete": t["complete"],
                "mean_points": sum(t["points"]) / len(t["points"]) if t["points"] else 0.0,
                "mean_ratio": sum(t["ratios"]) / len(t["ratios"]) if t["ratios"] else None,
                "dominated": t["dominated"], "compared": t["compared"]}
            for s, t in acc.items()}
