"""Both exact models (CP-SAT and the MILP, SPEC §7.4) on hand-checkable instances: for
every objective (E10, E11, lex) and comm model (E2-E5 host, E6-E7 p2p) the optimum is
the brute-force optimum, the schedule passes the evaluator with the same objective, and
no heuristic beats it."""

from __future__ import annotations

import pytest
from helpers import brute_force, chain_instance, fork_instance

from h2h_opt.evaluate import evaluate
from h2h_opt.solvers import SolveParams, solve

HEURISTICS = ["baseline", "h2h", "h2h_plus", "heft"]
CASES = [(solver, builder, comm, obj) for solver in ("cpsat", "milp")
         for builder in ("chain", "fork") for comm in ("host", "p2p")
         for obj in ("latency", "energy", "lex")]
START_FLAG = {"cpsat": "hint_complete_and_feasible", "milp": "mip_start_accepted"}


@pytest.mark.parametrize(("solver", "builder", "comm", "objective"), CASES)
def test_optimum_matches_brute_force(solver, builder, comm, objective):
    inst = fork_instance(comm=comm, objective=objective) if builder == "fork" else \
        chain_instance(3, comm=comm, objective=objective)
    res = solve(inst, solver, SolveParams(time_limit_s=20))
    assert res.status.value == "optimal"
    expected = brute_force(inst)
    if objective == "lex":
        assert res.objective[0] == pytest.approx(expected[0], rel=1e-6)
        assert res.objective[1] == pytest.approx(expected[1], rel=1e-6)
    else:
        assert res.objective == pytest.approx(expected, rel=1e-6)
    ev = evaluate(inst, res.schedule)
    assert ev.feasible and ev.objective == res.objective
    first = res.objective[0] if objective == "lex" else res.objective
    assert res.bound <= first * (1 + 1e-6)
    assert res.info[START_FLAG[solver]]
    for h in HEURISTICS:  # no heuristic beats a proven optimum
        hr = solve(inst, h)
        h_first = hr.objective[0] if objective == "lex" else hr.objective
        assert h_first >= first * (1 - 1e-6)
