"""One objective-aware summary of solver results: best found, best bound, optimum, gaps.

Rows are the dicts of a bench ``results.jsonl`` (:func:`result_row` builds one from a
:class:`~h2h_opt.result.SolveResult`); ``h2h bench``, ``h2h compare`` and
``h2h report`` all read their figures from :func:`summarise`.

Each instance is judged on its own objective (``Options.objective``), read from the
row's ``objective`` field (``latency`` when a row predates it):

* ``latency``: the value of a row is ``latency_s`` [s];
* ``energy``: the value is ``energy_j`` [J];
* ``lex``: latency first, then energy; the value is ``latency_s`` (a solver's bound is on
  the first criterion) and ties between rows are broken by ``energy_j``.

Per instance, over the rows whose schedule the evaluator found feasible:

* best found  :math:`z^+ = \\min_s z_s` (lex: the least ``(latency, energy)`` pair);
* best bound  :math:`L^* = \\max_s L_s`, over every proven lower bound a solver reported
  (rows that failed or returned an infeasible schedule are left out),
  with the solvers whose bound it is (``bound_solvers``, ties kept) and what proved it
  (``bound_source``: the first of their rows that records one);
* optimum     :math:`z^* = \\min \\{z_s : s \\text{ proved optimality}\\}`.

and per (instance, solver) with a feasible schedule of value :math:`z_s`:

* ``ratio``          :math:`z_s / z^+` (1 for the best solver);
* ``gap_to_bound``   :math:`\\max(0, (z_s - L^*) / z_s)`, the solver's own gap
  definition applied to the best bound any solver proved;
* ``gap_to_optimum`` :math:`\\max(0, (z_s - z^*) / z^*)`, how much longer (or costlier)
  than the proven optimum.

Both gaps are clipped at 0: a bound or optimum proved in whole ticks (SPEC §6) may exceed
the seconds value of a schedule by rounding.  ``latency_reduction`` and
``energy_reduction`` (:math:`1 - x_s / x_{ref}`) compare both figures with a reference
solver (``baseline``), whatever the objective.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..evaluate import Evaluation, evaluate
from ..model import Instance
from ..result import SolveResult

__all__ = ["OBJECTIVES", "InstanceSummary", "PairSummary", "Summary", "best_figures",
           "objective_value",
           "result_row", "solver_totals", "summarise"]

#: objective -> (row field of its first criterion, unit)
OBJECTIVES: dict[str, tuple[str, str]] = {
    "latency": ("latency_s", "s"),
    "energy": ("energy_j", "J"),
    "lex": ("latency_s", "s"),
}


def _objective_of(row: Mapping[str, Any]) -> str:
    obj = row.get("objective") or "latency"
    if obj not in OBJECTIVES:
        raise ValueError(f"row {row.get('instance')!r}/{row.get('solver')!r}: unknown"
                         f" objective {obj!r} (known: {', '.join(OBJECTIVES)})")
    return str(obj)


def objective_value(row: Mapping[str, Any], objective: str) -> float | None:
    """The first criterion of ``objective`` in ``row`` (None if the row has no feasible
    schedule)."""
    if not row.get("feasible"):
        return None
    value = row.get(OBJECTIVES[objective][0])
    return None if value is None else float(value)


def _rank(row: Mapping[str, Any], objective: str) -> tuple[float, ...]:
    first = objective_value(row, objective)
    assert first is not None
    return (first, float(row["energy_j"])) if objective == "lex" else (first,)


def result_row(inst: Instance, res: SolveResult,
               evaluation: Evaluation | None = None) -> dict[str, Any]:
    """A solve result as a summary row (the fields of a bench ``results.jsonl`` line):
    the instance and its objective, status, bound and time, and the evaluator's
    feasibility, latency and energy of the schedule (re-evaluated unless given), and
    the relaxation or model that proved the bound (``bound_source``, where the solver
    names one)."""
    row: dict[str, Any] = {"instance": inst.name, "objective": inst.options.objective,
                           "layers": inst.num_layers, "accelerators": inst.num_accs,
                           "solver": res.solver, "status": res.status.value,
                           "termination": res.termination.value, "bound": res.bound,
                           "gap": res.gap, "time_s": res.time_s}
    if res.schedule is not None:
        ev = evaluation if evaluation is not None else evaluate(inst, res.schedule)
        row.update(feasible=ev.feasible, latency_s=ev.latency, energy_j=ev.energy,
                   violations=len(ev.violations))
    if res.bound is not None and res.info.get("bound_source"):
        row["bound_source"] = str(res.info["bound_source"])
    return row


@dataclass
class PairSummary:
    """One (instance, solver): its row and the figures derived from it (None where the
    row has no feasible schedule or the instance has nothing to compare with)."""

    solver: str
    row: dict[str, Any]
    value: float | None = None
    ratio: float | None = None
    gap_to_bound: float | None = None
    gap_to_optimum: float | None = None
    latency_reduction: float | None = None
    energy_reduction: float | None = None

    @property
    def proven(self) -> bool:
        """The solver proved its schedule optimal."""
        return self.row.get("status") == "optimal" and self.value is not None

    def to_dict(self) -> dict[str, Any]:
        return {"solver": self.solver, "status": self.row.get("status"),
                "latency_s": self.row.get("latency_s"), "energy_j": self.row.get("energy_j"),
                "feasible": self.row.get("feasible"), "time_s": self.row.get("time_s"),
                "bound": self.row.get("bound"), "value": self.value, "ratio": self.ratio,
                "gap_to_bound": self.gap_to_bound, "gap_to_optimum": self.gap_to_optimum,
                "latency_reduction": self.latency_reduction,
                "energy_reduction": self.energy_reduction}


@dataclass
class InstanceSummary:
    """One instance: its objective, the best value found, bound and optimum, and its
    pairs by solver (in the order the rows came)."""

    name: str
    objective: str
    layers: int | None
    best: float | None = None
    best_solvers: list[str] = field(default_factory=list)
    bound: float | None = None
    bound_solvers: list[str] = field(default_factory=list)  # whose bound is the best
    bound_source: str | None = None  # what proved it (the first of those solvers' rows)
    optimum: float | None = None
    pairs: dict[str, PairSummary] = field(default_factory=dict)

    @property
    def unit(self) -> str:
        return OBJECTIVES[self.objective][1]

    @property
    def key(self) -> str:
        """The row field of the first criterion."""
        return OBJECTIVES[self.objective][0]

    def to_dict(self) -> dict[str, Any]:
        return {"instance": self.name, "objective": self.objective, "unit": self.unit,
                "layers": self.layers, "best": self.best, "best_solvers": self.best_solvers,
                "best_bound": self.bound, "best_bound_solvers": self.bound_solvers,
                "best_bound_source": self.bound_source, "optimum": self.optimum,
                "rows": [p.to_dict() for p in self.pairs.values()]}


@dataclass
class Summary:
    """Every instance of a set of rows, and the solvers seen (sorted)."""

    instances: dict[str, InstanceSummary]
    solvers: list[str]

    @property
    def objectives(self) -> list[str]:
        """The objectives of the instances, each once, in order of appearance."""
        return list(dict.fromkeys(e.objective for e in self.instances.values()))

    def pairs(self, solver: str) -> list[PairSummary]:
        """The pairs of one solver, one per instance that has it."""
        return [e.pairs[solver] for e in self.instances.values() if solver in e.pairs]


def _ratio(x: float, ref: float) -> float | None:
    return x / ref if ref > 0 else None


def summarise(rows: Iterable[Mapping[str, Any]], reference: str = "baseline") -> Summary:
    """Group rows by instance and derive the figures of the module docstring.

    Parameters
    ----------
    rows
        Bench rows (``instance`` or ``instance_file``, ``solver``, ``status``, ``bound``,
        ``feasible``, ``latency_s``, ``energy_j``, optionally ``objective`` and
        ``layers``); a later row of the same (instance, solver) replaces an earlier one.
        The rows are copied, not changed.
    reference
        Solver whose latency and energy the reductions are taken against.

    Raises
    ------
    ValueError
        Rows of one instance disagree on its objective, or name an unknown one.
    """
    grouped: dict[str, dict[str, dict[str, Any]]] = {}
    for r in rows:
        name = r.get("instance") or r["instance_file"]
        grouped.setdefault(name, {})[r["solver"]] = dict(r)
    solvers = sorted({s for by in grouped.values() for s in by})
    out: dict[str, InstanceSummary] = {}
    for name, by_solver in grouped.items():
        objectives = {_objective_of(r) for r in by_solver.values()
                      if r.get("status") != "error" or r.get("objective")}
        if len(objectives) > 1:
            raise ValueError(f"instance {name!r}: rows disagree on the objective"
                             f" ({', '.join(sorted(objectives))})")
        objective = objectives.pop() if objectives else "latency"
        layers = next((r["layers"] for r in by_solver.values() if r.get("layers")), None)
        entry = InstanceSummary(name, objective, layers)
        feasible = {s: r for s, r in by_solver.items()
                    if objective_value(r, objective) is not None}
        if feasible:
            best_rank = min(_rank(r, objective) for r in feasible.values())
            entry.best = best_rank[0]
            entry.best_solvers = [s for s, r in feasible.items()
                                  if _rank(r, objective) == best_rank]
        bounds = {s: float(r["bound"]) for s, r in by_solver.items()
                  if r.get("bound") is not None and r.get("status") != "error"
                  and r.get("feasible") is not False}
        entry.bound = max(bounds.values()) if bounds else None
        entry.bound_solvers = [s for s, b in bounds.items() if b == entry.bound]
        entry.bound_source = next((str(by_solver[s]["bound_source"])
                                   for s in entry.bound_solvers
                                   if by_solver[s].get("bound_source")), None)
        optima = [objective_value(r, objective) for r in feasible.values()
                  if r.get("status") == "optimal"]
        entry.optimum = min(v for v in optima if v is not None) if optima else None
        ref = feasible.get(reference)
        for s, r in by_solver.items():
            pair = PairSummary(s, r, objective_value(r, objective))
            z = pair.value
            if z is not None:
                if entry.best is not None:
                    pair.ratio = _ratio(z, entry.best)
                if entry.bound is not None and z > 0:
                    pair.gap_to_bound = max(0.0, (z - entry.bound) / z)
                if entry.optimum is not None and entry.optimum > 0:
                    pair.gap_to_optimum = max(0.0, (z - entry.optimum) / entry.optimum)
                if ref is not None:
                    lat = _ratio(float(r["latency_s"]), float(ref["latency_s"]))
                    en = _ratio(float(r["energy_j"]), float(ref["energy_j"]))
                    pair.latency_reduction = None if lat is None else 1 - lat
                    pair.energy_reduction = None if en is None else 1 - en
            entry.pairs[s] = pair
        out[name] = entry
    return Summary(out, solvers)



def solver_totals(summary: Summary) -> dict[str, dict[str, Any]]:
    """Per solver over the instances it ran on: how many, with a feasible schedule,
    proven optimal, best found (ties count for each), and the mean ``ratio``,
    ``gap_to_bound`` and ``gap_to_optimum`` (over the instances where each is defined,
    with their counts)."""
    out: dict[str, dict[str, Any]] = {}
    for s in summary.solvers:
        entries = [e for e in summary.instances.values() if s in e.pairs]
        pairs = [e.pairs[s] for e in entries]
        doc: dict[str, Any] = {"instances": len(pairs),
                               "feasible": sum(p.value is not None for p in pairs),
                               "proven": sum(p.proven for p in pairs),
                               "best": sum(s in e.best_solvers for e in entries)}
        for fld in ("ratio", "gap_to_bound", "gap_to_optimum"):
            vals = [getattr(p, fld) for p in pairs if getattr(p, fld) is not None]
            doc[f"mean_{fld}"] = sum(vals) / len(vals) if vals else None
            doc[f"num_{fld}"] = len(vals)
        out[s] = doc
    return out


def best_figures(rows: list[dict[str, Any]]) -> tuple[dict[str, float], dict[str, float]]:
    """Over bench ``rows`` (:func:`summarise`), per latency instance the best latency any
    solver found, and per instance the best bound any solver proved."""
    entries = summarise(rows).instances if rows else {}
    return ({n: e.best for n, e in entries.items()
             if e.best is not None and e.objective == "latency"},
            {n: e.bound for n, e in entries.items() if e.bound is not None})
