"""The computation-prioritised baseline (SPEC §7.1, H2H step 1) as a solver.

Options (``SolveParams.options``, declared in :attr:`BaselineSolver.options`): ``cap`` —
candidates per commit above which the exhaustive enumeration becomes greedy earliest
finish (default 20 000, never below 10 000).
"""

from __future__ import annotations

import time

from ...cost import compile_tables
from ...model import Instance
from ...result import SolveResult, SolveStatus, Termination
from ...schedule import Schedule
from ...timing import Timer
from ..base import BaseSolver, SolveParams
from .list_mapping import CAP_OPTION, comp_prioritised

__all__ = ["BaselineSolver"]


class BaselineSolver(BaseSolver):
    name = "baseline"
    options = (CAP_OPTION,)

    def solve(self, inst: Instance, params: SolveParams,
              initial: Schedule | None = None) -> SolveResult:
        t0 = time.perf_counter()
        tables = compile_tables(inst)
        plan, stats = comp_prioritised(inst, tables, cap=self.option(params, "cap"))
        sched, timing = Timer(inst, tables).schedule(plan, "none", solver=self.name)
        return SolveResult(
            inst.name, self.name, SolveStatus.FEASIBLE, Termination.COMPLETED, sched,
            objective=timing.makespan if inst.options.objective == "latency" else None,
            time_s=time.perf_counter() - t0,
            info={"commits": stats.commits, "capped_commits": stats.capped_commits,
                  "max_candidates": stats.max_candidates},
        )
