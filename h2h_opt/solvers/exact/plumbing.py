"""What both exact backends need around their models: the default time limit, the log
sink (a file, or the console even while a solver library redirects the process's
output), progress reports that keep the best incumbent and bound, the rounding facts of
SPEC §6, and the mapping from "what we have" to the result's status (STYLE habit 5).
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from collections.abc import Callable
from typing import IO, Any

from ...model import Instance
from ...result import SolveResult, SolveStatus, Termination
from ...schedule import Schedule
from ..base import BaseSolver, SolveParams
from .ticks import TickModel, exact_support

__all__ = ["DEFAULT_TIME_LIMIT_S", "ExactSolver", "LogSink", "Progress", "exact_result",
           "rounding_info", "time_left", "time_limit"]

#: Time limit of an exact solve when the caller gives none.
DEFAULT_TIME_LIMIT_S = 60.0


class ExactSolver(BaseSolver):
    """What the exact backends share as solvers: their kind and the instances they take
    (``adjacent`` locality under host is refused, SPEC §7.4)."""

    kind = "exact"

    def supports(self, inst: Instance) -> str | None:
        return exact_support(inst)


def time_limit(params: SolveParams) -> float:
    return DEFAULT_TIME_LIMIT_S if params.time_limit_s is None else float(params.time_limit_s)


def time_left(deadline: float) -> float:
    """Seconds until ``deadline`` (a ``time.perf_counter()`` value), at least 0.05 so
    that a solver asked to stop at once still returns what it has."""
    return max(0.05, deadline - time.perf_counter())


class LogSink:
    """Where a solve's log lines and progress reports go, for the time of the solve.

    ``log`` is a file path (appended to), ``"console"``/``"-"`` (standard error) or
    ``None`` (nowhere).  Console lines and progress reports are written to a duplicate
    of the real standard error taken on entry, so they still reach the user while a
    solver library redirects the process's output (Pyomo's APPSI does during a solve).
    """

    def __init__(self, log: str | None, progress: Callable[[dict[str, Any]], None] | None
                 ) -> None:
        self.log, self.user_progress = log, progress
        self._err: IO[str] = sys.stderr
        self._file: IO[str] | None = None

    def __enter__(self) -> LogSink:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            self._err = os.fdopen(os.dup(sys.stderr.fileno()), "w", buffering=1)
        if self.log and self.log not in ("console", "-"):
            from pathlib import Path

            Path(self.log).parent.mkdir(parents=True, exist_ok=True)  # as for -o
            self._file = open(self.log, "a", encoding="utf-8")  # noqa: SIM115
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()
        if self._err is not sys.stderr:
            self._err.close()

    def emit(self, line: str) -> None:
        if self._file is not None:
            self._file.write(line + "\n")
        elif self.log in ("console", "-"):
            print(line, file=self._err)

    def progress(self, report: dict[str, Any]) -> None:
        if self.user_progress is not None:
            with contextlib.redirect_stderr(self._err), contextlib.redirect_stdout(self._err):
                self.user_progress(report)


class Progress:
    """Progress reports in seconds (latency, lex) or joules (energy): ``factor`` converts
    model units.  Over several solves it keeps the best incumbent and the best bound; a
    solve whose objective is not a solution of the problem (a relaxation) or whose bound
    is not a bound of it (a restricted model) feeds only the other half
    (``take_incumbent`` / ``take_bound``).  Reports only when either improves."""

    def __init__(self, callback: Callable[[dict[str, Any]], None] | None, factor: float,
                 t0: float) -> None:
        self.callback, self.factor, self.t0 = callback, factor, t0
        self.incumbent: float | None = None
        self.bound: float | None = None
        self.take_incumbent = self.take_bound = True

    def update(self, best: float | None, bound: float | None) -> None:
        best = best if self.take_incumbent else None
        bound = bound if self.take_bound else None
        changed = False
        if best is not None and math.isfinite(best) and (
                self.incumbent is None or best < self.incumbent):
            self.incumbent, changed = best, True
        if bound is not None and math.isfinite(bound) and (
                self.bound is None or bound > self.bound):
            self.bound, changed = bound, True
        if changed and self.callback:
            def conv(x: float | None) -> float | None:
                return None if x is None else x * self.factor

            self.callback({"elapsed_s": time.perf_counter() - self.t0,
                           "incumbent": conv(self.incumbent), "bound": conv(self.bound)})


def rounding_info(model: TickModel) -> dict[str, Any]:
    """The tick and the rounding note every exact result carries (SPEC §6); a tick
    coarser than the instance's is said so."""
    extra = {"tick_coarsened_from_s": model.inst.options.tick_s} if model.coarsened else {}
    return {"tick_s": model.tick, **extra,
            "rounding": "every duration and delay rounded up to whole ticks; the bound is"
                        " the rounded problem's, which may exceed the true optimum by at"
                        " most bound_slack_s",
            "bound_slack_s": model.rounding_slack()}


def exact_result(inst: Instance, solver: str, schedule: Schedule | None, *, proven: bool,
                 rel_gap: float, bound: float | None, t0: float, info: dict[str, Any],
                 infeasible: bool = False, error: bool = False) -> SolveResult:
    """One result from what an exact solve has: a schedule (or none), whether its
    objective was proven to meet the bound, and the bound.  ``optimal`` only with a
    schedule proven at a zero relative gap; no schedule is ``none`` with the reason the
    solve stopped (proven infeasible, an invalid model, or the time limit), with the
    bound proven so far (the facade then returns the warm start with it)."""
    elapsed = time.perf_counter() - t0
    if schedule is None:
        term = Termination.ERROR if error else \
            Termination.INFEASIBLE if infeasible else Termination.TIME_LIMIT
        return SolveResult(inst.name, solver, SolveStatus.NONE, term, time_s=elapsed,
                           bound=None if infeasible or error else bound, info=info)
    status = SolveStatus.OPTIMAL if proven and rel_gap == 0 else SolveStatus.FEASIBLE
    term = Termination.OPTIMAL if proven else Termination.TIME_LIMIT
    return SolveResult(inst.name, solver, status, term, schedule, bound=bound, time_s=elapsed,
                       info=info)
