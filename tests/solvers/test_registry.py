"""The solver registry and the facade's contract for every registered solver
(STYLE habits 3, 5, 6): kinds partition the registry, and whatever a backend returns,
the result's figures are the evaluator's."""

from __future__ import annotations

import math

import pytest
from helpers import fork_instance

from h2h_opt.evaluate import evaluate
from h2h_opt.solvers import SOLVERS, SolveParams, get_solver, solve, solver_names


def test_kinds_partition_the_registry():
    heuristic, exact = solver_names("heuristic"), solver_names("exact")
    anytime = solver_names("anytime")
    assert heuristic and exact and anytime
    assert not set(heuristic) & set(exact) and not set(anytime) & (set(heuristic) | set(exact))
    assert sorted(heuristic + exact + anytime) == sorted(SOLVERS) == sorted(solver_names())
    for name in SOLVERS:
        assert get_solver(name).name == name


@pytest.mark.parametrize("comm", ["host", "p2p"])
def test_result_figures_are_the_evaluators(any_solver, comm):
    """fork_instance: weights of 20, 10, 6 and 2 bytes against capacities of 22 and 10,
    so residency, mapping and order all matter; every solver must return a schedule the
    evaluator accepts, with the evaluator's latency, energy and objective, and an exact
    solver proves its optimum on these four layers."""
    inst = fork_instance(comm=comm)
    res = solve(inst, any_solver, SolveParams(time_limit_s=10, seed=0))
    assert res.solver == any_solver and res.has_solution
    ev = evaluate(inst, res.schedule)
    assert ev.feasible, ev.violations[:2]
    assert (res.latency, res.energy, res.objective) == (ev.latency, ev.energy, ev.objective)
    assert math.isfinite(res.energy) and res.latency > 0
    if get_solver(any_solver).kind == "exact":
        assert res.status.value == "optimal" and res.bound <= res.objective * (1 + 1e-9)
