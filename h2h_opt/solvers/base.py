"""The solver contract: every backend implements :class:`Solver` and returns a
:class:`~h2h_opt.result.SolveResult`; the facade re-evaluates its schedule."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from ..model import Instance, ModelError
from ..result import SolveResult
from ..schedule import Schedule

__all__ = ["BaseSolver", "SolveParams", "Solver", "SolverError"]


class SolverError(ModelError):
    """Unknown or unusable solver, an instance it does not support, or a bad solver
    option (one line)."""


@dataclass(frozen=True)
class SolveParams:
    """Parameters common to all solvers.

    ``time_limit_s`` bounds wall-clock time (``None``: the solver's own default);
    ``seed`` makes randomised choices reproducible; ``workers`` and ``rel_gap``
    are for exact solvers; ``options`` holds solver-specific settings (documented
    by each backend).  ``progress`` is an optional callback ``f(dict)`` called
    as the solver improves (incumbent, bound, elapsed).
    """

    time_limit_s: float | None = None
    seed: int = 0
    workers: int | None = None
    rel_gap: float = 0.0
    log: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    progress: Any = None

    def flag(self, key: str, default: bool) -> bool:
        """A true/false solver option; anything else is an error naming the option."""
        value = self.options.get(key, default)
        if not isinstance(value, bool):
            raise SolverError(f"option {key!r} must be true or false, got {value!r}")
        return value

    def fraction(self, key: str, default: float) -> float:
        """A solver option in [0, 1]; anything else is an error naming the option."""
        value = self.options.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not 0 <= value <= 1:
            raise SolverError(f"option {key!r} must be a number in [0, 1], got {value!r}")
        return float(value)

    def to_dict(self) -> dict[str, Any]:
        return {"time_limit_s": self.time_limit_s, "seed": self.seed, "workers": self.workers,
                "rel_gap": self.rel_gap, "log": self.log, "options": dict(self.options)}


@runtime_checkable
class Solver(Protocol):
    name: str
    kind: str  # "heuristic" or "exact"

    def available(self) -> str | None:
        """``None`` if usable here, else the reason (e.g. a missing package)."""

    def supports(self, inst: Instance) -> str | None:
        """``None`` if the instance is supported, else a one-line reason."""

    def solve(self, inst: Instance, params: SolveParams,
              initial: Schedule | None = None) -> SolveResult:
        """Solve; ``initial`` is a warm start (a schedule of this instance)."""


class BaseSolver:
    """Defaults for backends that need no package and accept every instance."""

    name = "base"
    kind = "heuristic"

    def available(self) -> str | None:
        return None

    def supports(self, inst: Instance) -> str | None:
        return None
