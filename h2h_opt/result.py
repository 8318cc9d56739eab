"""One result schema for every solver (STYLE habit 5).

``SolveStatus`` says what we *have* (a proven optimum, a feasible incumbent, or
nothing); ``Termination`` says why the solver *stopped*.  A time limit is a
result, not an exception.  Latency and energy are always the evaluator's.
"""

from __future__ import annotations

import contextlib
import math
import platform
import sys
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .schedule import Schedule

__all__ = ["SolveResult", "SolveStatus", "Termination", "versions"]


class SolveStatus(StrEnum):
    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    NONE = "none"


class Termination(StrEnum):
    COMPLETED = "completed"      # a heuristic ran to its end
    OPTIMAL = "optimal"          # an exact solver proved optimality (within its gap)
    TIME_LIMIT = "time_limit"
    INFEASIBLE = "infeasible"    # proven: no feasible schedule
    INTERRUPTED = "interrupted"
    ERROR = "error"


@dataclass
class SolveResult:
    """What any solver returns.

    ``latency``/``energy``/``objective`` come from :func:`h2h_opt.evaluate.evaluate`
    on ``schedule``; ``bound`` is a proven lower bound on the objective (lex: on
    latency) -- the exact solver's own, or for heuristics a cheap relaxation named in
    ``info["bound_source"]`` (:mod:`h2h_opt.solvers.bounds`); ``gap = (objective -
    bound) / objective``.  ``steps`` holds
    intermediate schedules' figures (e.g. after each H2H step); ``info`` holds
    solver-specific facts (hint accepted, tick rounding, ...).
    """

    instance: str
    solver: str
    status: SolveStatus
    termination: Termination
    schedule: Schedule | None = None
    latency: float = math.nan
    energy: float = math.nan
    objective: float | tuple[float, float] | None = None
    bound: float | None = None
    gap: float | None = None
    time_s: float = 0.0
    steps: list[dict[str, Any]] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=lambda: versions())

    @property
    def has_solution(self) -> bool:
        return self.schedule is not None and self.status != SolveStatus.NONE


def versions() -> dict[str, str]:
    """Versions of Python, this package, the solver libraries that are importable, and
    the ``dataflow`` cost model (:data:`h2h_opt.dataflow.MODEL_VERSION`)."""
    from importlib import metadata

    from .dataflow import MODEL_VERSION

    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for dist in ("h2h-opt", "numpy", "networkx", "ortools", "pyomo", "highspy"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[dist] = metadata.version(dist)
    out["dataflow-model"] = str(MODEL_VERSION)  # the cost model's own version
    return out
