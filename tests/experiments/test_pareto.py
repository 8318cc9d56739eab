"""Latency-energy fronts (``h2h pareto``): the epsilon-constraint loop of the exact
solvers, its completeness flag and termination, non-domination, the evaluator on every
point, hypervolume, and a hand-checkable instance whose front is known."""

from __future__ import annotations

import json

import pytest
from helpers import ROOT, same_json_file, table_instance

from h2h_opt import SolveParams, evaluate, read_instance, solve
from h2h_opt.cli import main
from h2h_opt.experiments.pareto import Point, dominates, hypervolume, non_dominated, pareto_front


def three_way():
    """One layer, three accelerators: fast and hungry, middle, slow and frugal.  The
    front is exactly (1 s, 4 J), (2 s, 2 J), (3 s, 1 J)."""
    return table_instance({"A": {}}, [], {"fast": {}, "mid": {}, "slow": {}},
                          {"fast": {"A": 1.0}, "mid": {"A": 2.0}, "slow": {"A": 3.0}},
                          energies={"fast": {"A": 4.0}, "mid": {"A": 2.0}, "slow": {"A": 1.0}},
                          locality="same_accelerator")


def two_chains():
    """Two independent layers on a fast (1 s, 3 J) and a slow (2 s, 1 J) accelerator:
    both fast take 2 s (one after the other) for 6 J; one each 2 s for 4 J; both slow 4 s
    for 2 J.  Front: (2 s, 4 J), (4 s, 2 J)."""
    return table_instance({"A": {}, "B": {}}, [], {"fast": {}, "slow": {}},
                          {"fast": {"A": 1.0, "B": 1.0}, "slow": {"A": 2.0, "B": 2.0}},
                          energies={"fast": {"A": 3.0, "B": 3.0},
                                    "slow": {"A": 1.0, "B": 1.0}},
                          locality="same_accelerator")


@pytest.mark.parametrize("solver", ["cpsat", "milp"])
@pytest.mark.parametrize("make, front", [
    (three_way, [(1.0, 4.0), (2.0, 2.0), (3.0, 1.0)]),
    (two_chains, [(2.0, 4.0), (4.0, 2.0)]),
])
def test_exact_front_of_a_hand_checkable_instance(solver, make, front):
    inst = make()
    f = pareto_front(inst, solver, time_limit_s=120)
    got = [x for p in f.points for x in (p.latency, p.energy)]
    assert got == pytest.approx([x for pair in front for x in pair])
    assert f.complete and f.stopped == "infeasible" and f.steps == len(front) + 1
    assert all(p.proven for p in f.points)
    for p in f.points:  # every point is an evaluated schedule
        ev = evaluate(inst, p.schedule)
        assert ev.feasible and (ev.latency, ev.energy) == pytest.approx((p.latency, p.energy))
    assert not any(dominates(a, b) for a in f.points for b in f.points)


def test_the_loop_stops_at_the_points_asked_and_is_then_not_complete():
    f = pareto_front(three_way(), "cpsat", points=2, time_limit_s=120)
    assert len(f.points) == 2 and not f.complete and f.stopped == "points"


def test_a_step_never_returns_a_warm_start_above_its_cap():
    """The facade keeps a better warm start in place of the solver's schedule, but not
    one above the epsilon-constraint's energy cap."""
    inst = three_way()
    import dataclasses

    lex = dataclasses.replace(inst, options=dataclasses.replace(inst.options, objective="lex"))
    fastest = solve(lex, "cpsat", SolveParams(time_limit_s=30))
    assert fastest.energy == pytest.approx(4.0)
    capped = solve(lex, "cpsat", SolveParams(time_limit_s=30, options={"energy_cap": 3.0}),
                   initial=fastest.schedule)
    assert (capped.latency, capped.energy) == pytest.approx((2.0, 2.0))
    none = solve(lex, "cpsat", SolveParams(time_limit_s=30, options={"energy_cap": 0.5}),
                 initial=fastest.schedule)
    assert none.schedule is None and none.termination.value == "infeasible"


def test_heuristic_fronts_are_filtered_and_never_complete():
    f = pareto_front(two_chains(), "h2h_plus", time_limit_s=60)
    assert not f.complete and f.stopped == "objectives" and f.points
    exact = pareto_front(two_chains(), "cpsat", time_limit_s=60)
    for p in f.points:  # weakly dominated by the exact front
        assert any(q.latency <= p.latency * (1 + 1e-9) and q.energy <= p.energy * (1 + 1e-9)
                   for q in exact.points)


def test_non_dominated_and_hypervolume():
    pts = [Point(1, 3, "feasible", None, None, None), Point(2, 1, "feasible", None, None, None),
           Point(2, 2, "feasible", None, None, None), Point(1, 3, "feasible", None, None, None)]
    assert [(p.latency, p.energy) for p in non_dominated(pts)] == [(1, 3), (2, 1)]
    # the union of [1,4]x[3,4] and [2,4]x[1,4]: 3 + 6 - 2
    assert hypervolume([(1, 3), (2, 1)], (4, 4)) == pytest.approx(7.0)
    assert hypervolume([(5, 1)], (4, 4)) == 0.0  # beyond the reference: nothing


def test_cli_writes_the_front_its_schedules_and_the_plot(tmp_path, capsys):
    from h2h_opt.io import write_instance

    inst = three_way()
    write_instance(inst, tmp_path / "i.json")
    out = tmp_path / "front"
    assert main(["pareto", str(tmp_path / "i.json"), "--solver", "cpsat", "--json", "--quiet",
                 "-o", str(out), "--plot", str(tmp_path / "f.png"),
                 "--reference", "4,5"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["complete"] and len(doc["points"]) == 3
    assert doc["hypervolume"] == pytest.approx(3 * 1 + 2 * 2 + 1 * 1)
    assert (tmp_path / "f.png").stat().st_size > 0
    for p in doc["points"]:
        assert main(["evaluate", str(tmp_path / "i.json"), p["schedule"]]) == 0
    capsys.readouterr()
    assert main(["pareto", str(tmp_path / "i.json"), "--reference", "0,1"]) == 2
    assert "expected two positive numbers" in capsys.readouterr().err



def test_pareto_suite_has_conflicting_energy_and_regenerates(tmp_path):
    """12 random instances of 10-30 layers on 2-3 accelerators whose powers differ, and
    4 DNN ones on four dataflows with per-access energies; the committed set
    regenerates (floats within a few ulps: numpy's SIMD kernels differ by processor)."""
    from h2h_opt.library.suites import suite_instances, write_suite

    insts = suite_instances("pareto")
    assert len(insts) == 16
    assert all(10 <= i.num_layers <= 30 for i in insts)
    rand, dnn = insts[:12], insts[12:]
    assert all(i.num_accs in (2, 3) for i in rand)
    assert all(len({a.power_w for a in i.system.accelerators}) == i.num_accs for i in rand)
    assert all(i.num_accs == 4 and all(a.cost_model.get("e_dram_pj") for a in
                                       i.system.accelerators) for i in dnn)
    paths = write_suite("pareto", tmp_path)
    committed = ROOT / "instances" / "pareto"
    for p in paths:
        if not p.endswith("MANIFEST.json"):
            name = p.rsplit("/", 1)[1]
            assert same_json_file(committed / name, tmp_path / name), name


def test_anytime_front_steps_caps_between_its_two_ends():
    """lns: the latency point, the least-energy point, capped steps in between; every
    point within its cap, evaluated, and weakly dominated by the exact front."""
    inst = read_instance(ROOT / "instances/pareto/random-n14-a3-host-s7.json")
    exact = pareto_front(inst, "cpsat", time_limit_s=120)
    f = pareto_front(inst, "lns", time_limit_s=40, options={"neighbourhoods": 40})
    assert not f.complete and f.stopped in ("least_energy", "points", "time_limit")
    assert f.steps > 2 and len(f.points) >= 2
    assert min(p.energy for p in f.points) == pytest.approx(
        min(p.energy for p in exact.points), rel=1e-9)  # the least energy is exact
    for p in f.points:
        ev = evaluate(inst, p.schedule)
        assert ev.feasible and (ev.latency, ev.energy) == pytest.approx((p.latency, p.energy))
        assert p.cap is None or p.energy <= p.cap * (1 + 1e-9)
        assert any(q.latency <= p.latency * (1 + 1e-9) and q.energy <= p.energy * (1 + 1e-9)
                   for q in exact.points)
    assert not any(dominates(a, b) for a in f.points for b in f.points)


def test_bench_pareto_runs_fronts_resumably_and_report_draws_them(tmp_path, capsys):
    """bench --pareto: one front per pair, every point's schedule written and evaluated;
    a solve-mode bench on the same folder refuses; the report compares the fronts by
    hypervolume and draws one figure per instance."""
    from h2h_opt.experiments.bench import load_results
    from h2h_opt.io import write_instance

    write_instance(three_way(), tmp_path / "three.json")
    run = tmp_path / "run"
    cmd = ["bench", str(tmp_path / "three.json"), "--pareto", "--solvers", "cpsat,h2h_plus",
           "--time-limit", "60", "-o", str(run), "--json"]
    assert main(cmd) == 0
    totals = json.loads(capsys.readouterr().out)["solvers"]
    assert totals["cpsat"]["complete"] == 1 and totals["cpsat"]["mean_points"] == 3
    assert totals["h2h_plus"]["dominated"] == totals["h2h_plus"]["compared"] == 1
    rows = {r["solver"]: r for r in load_results(run)}
    assert rows["cpsat"]["complete"] and rows["cpsat"]["mode"] == "pareto"
    assert [x for p in rows["cpsat"]["front"] for x in (p["latency_s"], p["energy_j"])] \
        == pytest.approx([1.0, 4.0, 2.0, 2.0, 3.0, 1.0])
    for p in rows["cpsat"]["front"]:
        assert p["feasible"]
        assert main(["evaluate", str(tmp_path / "three.json"), p["schedule"]]) == 0
    capsys.readouterr()
    assert main(cmd) == 0  # resumed: nothing left to do
    assert len(load_results(run)) == 2
    capsys.readouterr()
    assert main(["bench", str(tmp_path / "three.json"), "--solvers", "h2h", "--time-limit",
                 "60", "-o", str(run)]) == 2  # a one-solve bench into a front run
    assert "mode" in capsys.readouterr().err
    assert main(["report", str(run), "-o", str(tmp_path / "rep")]) == 0
    text = (tmp_path / "rep" / "report.md").read_text()
    assert (tmp_path / "rep" / "front-tiny.png").stat().st_size > 0
    # reference (3.3 s, 4.4 J): the exact front's hypervolume 0.92 + 2.6 + 0.3, and
    # h2h_plus's one point (1 s, 4 J) 0.92 of it
    h2h = rows["h2h_plus"]["front"]
    assert [x for p in h2h for x in (p["latency_s"], p["energy_j"])] == pytest.approx([1, 4])
    assert f"1 / no / {0.92 / 3.82:.4f}" in text and "3 / yes / 1.0000" in text


def test_a_point_states_its_gap_to_its_bound():
    p = Point(2.0, 1.0, "feasible", None, 1.5, None)
    assert p.gap == pytest.approx(0.25) and p.to_dict()["gap"] == pytest.approx(0.25)
    assert Point(2.0, 1.0, "feasible", None, None, None).gap is None


def test_an_energy_steps_point_claims_nothing_about_latency():
    """An anytime or heuristic front's least-energy step: its bound is in joules and its
    'optimal' is about energy, so the point keeps neither as a latency claim."""
    import dataclasses

    from h2h_opt.experiments.pareto import _point

    inst = three_way()
    energy = dataclasses.replace(inst, options=dataclasses.replace(inst.options,
                                                                   objective="energy"))
    res = solve(energy, "lns", SolveParams(time_limit_s=10))
    assert res.status.value == "optimal" and res.bound == pytest.approx(1.0)
    p = _point(res, "energy", None)
    assert (p.status, p.bound, p.energy_proven, p.proven) == ("feasible", None, True, False)
    assert _point(res, "lex", 2.0).bound == res.bound


def test_lns_under_a_cap_it_cannot_meet_says_so(capsys):
    """A cap below the least energy is proven infeasible (one line says why); a cap
    the start breaks but the relaxation can meet gives a schedule within it."""
    path = str(ROOT / "instances/pareto/random-n14-a3-host-s7.json")
    assert main(["solve", path, "--solver", "lns", "--time-limit", "10", "--option",
                 "energy_cap=0.7"]) == 1
    err = capsys.readouterr().err
    assert "infeasible: no schedule has energy at most the cap 0.7 J" in err
    inst = read_instance(path)
    res = solve(inst, "lns", SolveParams(time_limit_s=10, options={"energy_cap": 0.85}))
    assert res.schedule is not None and evaluate(inst, res.schedule).energy <= 0.85


def test_bench_points_needs_pareto(tmp_path, capsys):
    assert main(["bench", str(ROOT / "instances/pareto/random-n10-a2-host-s0.json"),
                 "--points", "5", "-o", str(tmp_path / "r")]) == 2
    assert "--points" in capsys.readouterr().err and not (tmp_path / "r").exists()
