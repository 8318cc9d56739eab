"""The solver contract: every backend implements :class:`Solver`, declares its options
(:class:`Option`) and returns a :class:`~h2h_opt.result.SolveResult`; the facade checks
the options and re-evaluates the schedule."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from ..model import Instance, ModelError
from ..result import SolveResult
from ..schedule import Schedule

__all__ = ["BaseSolver", "Option", "OptionError", "SolveParams", "Solver", "SolverError",
           "check_options", "format_value", "option_value"]


class SolverError(ModelError):
    """Unknown or unusable solver, an instance it does not support, or a bad solver
    option (one line)."""


class OptionError(SolverError):
    """An option the solver does not declare, or a value its declaration does not allow
    (a usage error: the CLI exits 2)."""


#: the value types an option may have (what ``--option KEY=VALUE`` parses to, as JSON)
OPTION_TYPES = (bool, int, float, str, list, dict)


def format_value(value: Any) -> str:
    """A value as it is written after ``--option KEY=`` (JSON, bare strings unquoted)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return value
    if isinstance(value, tuple | list):
        return "[" + ", ".join(f'"{v}"' if isinstance(v, str) else format_value(v)
                               for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f'"{k}": {format_value(v)}' for k, v in value.items()) + "}"
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class Option:
    """One declared solver option: its name, type, allowed values, default and help.

    Parameters
    ----------
    name:
        The key in ``SolveParams.options`` (``--option NAME=VALUE``).
    type:
        One of ``bool``, ``int``, ``float``, ``str``, ``list``, ``dict``.  ``int``
        excludes ``bool``; ``float`` accepts integers and converts them; ``list``
        accepts a list or tuple; ``dict`` any mapping (passed on as given).
    default:
        The value used when the option is absent; it must pass its own check.
    help:
        One line: what the option does.
    choices:
        ``str``: the allowed values; ``list``: the allowed elements.
    low, high:
        Inclusive bounds of an ``int`` or ``float`` option (``None``: unbounded).
    nullable:
        ``None`` (JSON ``null``) is allowed too.
    keys, keys_help:
        ``dict``: whether a key is allowed (called when a value is checked, so a
        backend's package is imported only then), and what the allowed keys are.
    """

    name: str
    type: type
    default: Any
    help: str
    choices: tuple[str, ...] | None = None
    low: float | None = None
    high: float | None = None
    nullable: bool = False
    keys: Callable[[str, Any], str | None] | None = None
    keys_help: str = ""

    def __post_init__(self) -> None:
        if self.type not in OPTION_TYPES:
            raise TypeError(f"option {self.name!r}: type must be one of"
                            f" {[t.__name__ for t in OPTION_TYPES]}, got {self.type!r}")
        if self.choices is not None and self.type not in (str, list):
            raise TypeError(f"option {self.name!r}: choices need type str or list")
        if (self.low is not None or self.high is not None) and self.type not in (int, float):
            raise TypeError(f"option {self.name!r}: a range needs type int or float")
        if self.keys is not None and (self.type is not dict or not self.keys_help):
            raise TypeError(f"option {self.name!r}: keys need type dict and keys_help")

    def allowed(self) -> str:
        """What the option accepts, as a phrase: ``one of a, b``, ``an integer >= 0``..."""
        if self.type is bool:
            text = "true or false"
        elif self.type is str:
            text = "one of " + ", ".join(self.choices) if self.choices else "a string"
        elif self.type is list:
            text = "a list of " + ", ".join(self.choices) if self.choices else "a list"
        elif self.type is dict:
            what = f"{self.keys_help}: VALUE" if self.keys is not None else "KEY: VALUE"
            text = f"an object ({what}, passed on as given)"
        else:
            kind = "an integer" if self.type is int else "a number"
            lo, hi = (None if b is None else format_value(self.type(b))
                      for b in (self.low, self.high))
            if lo is not None and hi is not None:
                text = f"{kind} in [{lo}, {hi}]"
            elif lo is not None:
                text = f"{kind} >= {lo}"
            elif hi is not None:
                text = f"{kind} <= {hi}"
            else:
                text = kind
        return text + ", or null" if self.nullable else text

    def check(self, value: Any, solver: str) -> Any:
        """``value`` if the declaration allows it (integers as ``int``, numbers as
        ``float``), else :class:`OptionError` naming the solver, the option and what
        is allowed."""
        if value is None and self.nullable:
            return None
        ok = False
        if self.type is bool:
            ok = isinstance(value, bool)
        elif self.type is int:
            ok = isinstance(value, numbers.Integral) and not isinstance(value, bool) \
                and self._in_range(value)
            value = int(value) if ok else value
        elif self.type is float:
            ok = isinstance(value, numbers.Real) and not isinstance(value, bool) \
                and math.isfinite(value) and self._in_range(value)
            value = float(value) if ok else value
        elif self.type is str:
            ok = isinstance(value, str) and (self.choices is None or value in self.choices)
        elif self.type is list:
            ok = isinstance(value, list | tuple) and (self.choices is None or all(
                isinstance(v, str) and v in self.choices for v in value))
        elif self.type is dict:
            ok = isinstance(value, Mapping)
            allowed_key = self.keys
            if ok and allowed_key is not None:
                for key, item in value.items():
                    if not isinstance(key, str):
                        raise OptionError(f"solver {solver!r}: option {self.name!r}: keys are"
                                          f" {self.keys_help} names, got {key!r}")
                    reason = allowed_key(key, item)
                    if reason:
                        raise OptionError(f"solver {solver!r}: option {self.name!r}: {reason}")
        if not ok:
            raise OptionError(f"solver {solver!r}: option {self.name!r} must be"
                              f" {self.allowed()}, got {value!r}")
        return value

    def _in_range(self, value: Any) -> bool:
        return (self.low is None or value >= self.low) \
            and (self.high is None or value <= self.high)

    def describe(self) -> dict[str, str]:
        """Name, type, allowed values, default and help as text (``--list-options``)."""
        return {"name": self.name, "type": self.type.__name__, "allowed": self.allowed(),
                "default": format_value(self.default), "help": self.help}


def check_options(solver: str, declared: tuple[Option, ...],
                  options: Mapping[str, Any]) -> dict[str, Any]:
    """Every declared option's value (given or default), each checked.

    Raises
    ------
    OptionError
        A key that is not declared (naming the known ones) or a value that its
        declaration does not allow.
    """
    by_name = {o.name: o for o in declared}
    for key in options:
        if key not in by_name:
            known = ", ".join(sorted(by_name)) or "none"
            raise OptionError(f"solver {solver!r}: unknown option {key!r} (known: {known})")
    return {o.name: o.check(options.get(o.name, o.default), solver) for o in declared}


def option_value(solver: str, declared: tuple[Option, ...], options: Mapping[str, Any],
                 name: str) -> Any:
    """The checked value of one declared option; reading an undeclared one is a bug in
    the solver (``LookupError``), so every option a solver reads is declared."""
    for o in declared:
        if o.name == name:
            return o.check(options.get(name, o.default), solver)
    raise LookupError(f"solver {solver!r} reads option {name!r}, which it does not declare")


@dataclass(frozen=True)
class SolveParams:
    """Parameters common to all solvers.

    ``time_limit_s`` bounds wall-clock time (``None``: the solver's own default);
    ``seed`` makes randomised choices reproducible; ``workers`` and ``rel_gap``
    are for exact solvers; ``options`` holds solver-specific settings, each declared
    by the backend (:attr:`BaseSolver.options`, ``h2h solve --list-options``) and
    checked by the facade.  ``progress`` is an optional callback ``f(dict)`` called
    as the solver improves (incumbent, bound, elapsed).  ``known_bound`` is set by
    the facade only: the cheap bound (:func:`~h2h_opt.solvers.bounds.lower_bound`) a
    heuristic warm start already carries, which solvers take instead of solving the
    LP again; it is trusted as proven.
    """

    time_limit_s: float | None = None
    seed: int = 0
    workers: int | None = None
    rel_gap: float = 0.0
    log: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    progress: Any = None
    known_bound: Any = None  # a LowerBound already proven for the instance (not recorded)

    def to_dict(self) -> dict[str, Any]:
        return {"time_limit_s": self.time_limit_s, "seed": self.seed, "workers": self.workers,
                "rel_gap": self.rel_gap, "log": self.log, "options": dict(self.options)}


@runtime_checkable
class Solver(Protocol):
    name: str
    kind: str  # "heuristic", "exact" (proves optima) or "anytime" (improves, proves nothing)
    options: tuple[Option, ...]  # every option solve() reads

    def available(self) -> str | None:
        """``None`` if usable here, else the reason (e.g. a missing package)."""

    def supports(self, inst: Instance) -> str | None:
        """``None`` if the instance is supported, else a one-line reason."""

    def quick_starts(self, inst: Instance, params: SolveParams) -> tuple[str, ...]:
        """The heuristics ``warm_start=best`` runs for ``inst``."""

    def solve(self, inst: Instance, params: SolveParams,
              initial: Schedule | None = None) -> SolveResult:
        """Solve; ``initial`` is a warm start (a schedule of this instance)."""


class BaseSolver:
    """Defaults for backends that need no package, accept every instance and take no
    option.  A backend declares what it reads in ``options`` and reads it only through
    :meth:`option`."""

    name = "base"
    kind = "heuristic"
    options: tuple[Option, ...] = ()

    def available(self) -> str | None:
        return None

    def supports(self, inst: Instance) -> str | None:
        return None

    def option(self, params: SolveParams, name: str) -> Any:
        """The checked value of the declared option ``name`` (given, else its default)."""
        return option_value(self.name, self.options, params.options, name)

    def quick_starts(self, inst: Instance, params: SolveParams) -> tuple[str, ...]:
        """The quick heuristics ``warm_start=best`` runs for ``inst``, the fast one first,
        keeping the schedule that evaluates best: which wins depends on the instance
        (H2H's communication-aware steps where transfers dominate, HEFT's list
        scheduling where parallel models must be balanced over fast links)."""
        return ("heft", "h2h_plus")
