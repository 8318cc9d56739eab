"""Both exact models (CP-SAT and the MILP, SPEC §7.4) on hand-checkable instances: for
every objective (E10, E11, lex) and comm model (E2-E5 host, E6-E7 p2p) the optimum is
the brute-force optimum, the schedule passes the evaluator with the same objective, the
solver's own objective is the evaluator's within the tick rounding (SPEC §6), and no
heuristic beats it."""

from __future__ import annotations

import pytest
from helpers import brute_force, chain_instance, fork_instance

from h2h_opt.evaluate import evaluate
from h2h_opt.solvers import SolveParams, solve
from h2h_opt.solvers.exact.ticks import tick_makespan

CASES = [(builder, comm, obj) for builder in ("chain", "fork") for comm in ("host", "p2p")
         for obj in ("latency", "energy", "lex")]
START_FLAG = {"cpsat": "hint_complete_and_feasible", "milp": "mip_start_accepted"}


def build(builder, **options):
    return fork_instance(**options) if builder == "fork" else chain_instance(3, **options)


@pytest.mark.parametrize(("builder", "comm", "objective"), CASES)
def test_optimum_matches_brute_force(exact_solver, builder, comm, objective,
                                     heuristic_solvers):
    inst = build(builder, comm=comm, objective=objective)
    res = solve(inst, exact_solver, SolveParams(time_limit_s=20))
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
    assert res.info[START_FLAG[exact_solver]]
    for h in heuristic_solvers:  # no heuristic beats a proven optimum
        hr = solve(inst, h)
        h_first = hr.objective[0] if objective == "lex" else hr.objective
        assert h_first >= first * (1 - 1e-6)


def solver_makespan_s(solver, res):
    """The makespan the backend itself reached, in seconds (whole ticks x tick).

    CP-SAT records it (``solver_makespan_s``) next to its makespan phases' objective
    values in ticks.  The MILP records no objective value of its own, only its bound,
    rounded up to a whole tick; once optimality is proven with an absolute gap under one
    tick, that bound is its objective.
    """
    tick = res.info["tick_s"]
    if solver == "cpsat":
        own = res.info["solver_makespan_s"]
        search = [p for p in res.info["phases"] if p["phase"] != "energy_at_best_makespan"]
        assert search[-1]["objective"] * tick == pytest.approx(own, rel=1e-12)
        return own
    return res.bound


def solver_energy_j(solver, res, objective):
    """The energy the backend reached, in joules.  Neither backend records it as a
    value in joules: CP-SAT's phase objectives are in its scaled integer units (E11
    with floored coefficients), the MILP's not at all.  Both record the proven bound in
    joules (``bound`` for energy, ``energy_bound_j`` for lex); CP-SAT's last phase shows
    objective == bound, so there the bound is its objective."""
    if solver == "cpsat":
        last = res.info["phases"][-1]
        assert last["status"] == "OPTIMAL" and last["objective"] == last["bound"]
    return res.bound if objective == "energy" else res.info["energy_bound_j"]


@pytest.mark.parametrize("tick_s", [1e-9, 0.3])
@pytest.mark.parametrize(("builder", "comm", "objective"), CASES)
def test_solver_objective_is_the_evaluators(exact_solver, builder, comm, objective, tick_s):
    """STYLE habit 6.  Latency: the tick model rounds every duration and delay up, so
    its makespan T·tick is at least the evaluator's and exceeds it by at most
    ``bound_slack_s`` (a coarse 0.3 s tick makes that rounding visible).  Energy: E11
    has no ticks; CP-SAT floors its coefficients (its energy is never above the
    evaluator's, and 1e12 units keep it within 1e-9 relative), the MILP is exact."""
    inst = build(builder, comm=comm, objective=objective, tick_s=tick_s)
    res = solve(inst, exact_solver, SolveParams(time_limit_s=20))
    assert res.status.value == "optimal"
    ev = evaluate(inst, res.schedule)
    assert ev.feasible
    if objective in ("latency", "lex"):
        own = solver_makespan_s(exact_solver, res)
        tick, slack = res.info["tick_s"], res.info["bound_slack_s"]
        assert tick == tick_s
        assert own == pytest.approx(tick_makespan(inst, res.schedule) * tick, rel=1e-12)
        assert own - slack <= ev.latency <= own * (1 + 1e-12)
    if objective in ("energy", "lex"):
        own = solver_energy_j(exact_solver, res, objective)
        assert own <= ev.energy * (1 + 1e-12)
        assert ev.energy == pytest.approx(own, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("comm", ["host", "p2p"])
def test_a_proven_optimum_names_the_model_that_proved_it(exact_solver, comm):
    """The bound's source is the exact model's own search (cpsat without the cheap LP
    it may floor the makespan with): bench rows and reports show it."""
    from h2h_opt.solvers.exact.cpsat import FULL_MODEL

    inst = build("fork", comm=comm, objective="latency")
    options = {"cheap_bound": False} if exact_solver == "cpsat" else {}
    res = solve(inst, exact_solver, SolveParams(time_limit_s=20, options=options))
    assert res.status.value == "optimal"
    assert res.info["bound_source"] == {"cpsat": FULL_MODEL,
                                        "milp": "MILP (HiGHS branch and bound)"}[exact_solver]
