"""h2h_opt: map multi-model DNN workloads onto heterogeneous multi-accelerator systems.

Exact (CP-SAT, MILP) and heuristic (computation-prioritised, H2H, HEFT) mappers,
one independent evaluator, and optimality gaps.  See SPEC equations E1-E11.

The public API::

    from h2h_opt import read_instance, solve, SolveParams, evaluate
    inst = read_instance("instances/examples/reference-2acc-1.25GBps.json")
    res = solve(inst, "h2h", SolveParams(seed=0))
    print(res.status, res.latency, res.energy, evaluate(inst, res.schedule).feasible)

Data flows one way: file -> :class:`Instance` -> cost tables and the comm model ->
a solver's :class:`Decision` -> ASAP timing -> :class:`Schedule` -> the evaluator
-> :class:`SolveResult`.
"""

__version__ = "0.1.0"

from .evaluate import Evaluation, Violation, evaluate
from .io import (
    InputError,
    read_instance,
    read_result,
    read_schedule,
    write_instance,
    write_result,
    write_schedule,
)
from .model import Instance, ModelError
from .result import SolveResult, SolveStatus, Termination
from .schedule import Decision, Schedule
from .solvers import SOLVERS, OptionError, SolveParams, SolverError, solve, solver_options
from .solvers.bounds import LowerBound, MappingBound, lower_bound, relaxations
from .solvers.exact.ticks import tick_makespan
from .timing import ScheduleCycleError, asap

__all__ = [
    "SOLVERS",
    "Decision",
    "Evaluation",
    "InputError",
    "Instance",
    "LowerBound",
    "MappingBound",
    "ModelError",
    "OptionError",
    "Schedule",
    "ScheduleCycleError",
    "SolveParams",
    "SolveResult",
    "SolveStatus",
    "SolverError",
    "Termination",
    "Violation",
    "__version__",
    "asap",
    "evaluate",
    "lower_bound",
    "read_instance",
    "read_result",
    "read_schedule",
    "relaxations",
    "solve",
    "solver_options",
    "tick_makespan",
    "write_instance",
    "write_result",
    "write_schedule",
]
