"""The one objective-aware summary: hand-made rows whose best value, bound, optimum and
gaps are worked out below, for latency, energy and lex objectives."""

from __future__ import annotations

import json

import pytest

from h2h_opt.experiments.summary import result_row, solver_totals, summarise


def row(instance, solver, objective="latency", status="feasible", lat=None, en=None,
        bound=None, feasible=True, **extra):
    r = {"instance": instance, "objective": objective, "solver": solver, "status": status,
         "bound": bound, "layers": 10, "time_s": 1.0, **extra}
    if lat is not None:
        r.update(feasible=feasible, latency_s=lat, energy_j=en)
    return r


ROWS = [
    # latency, proven optimum 1.0 (cpsat); milp's weaker bound 0.8; heft's schedule is
    # infeasible (its 0.5 counts for nothing); one pair crashed
    row("lat", "baseline", lat=2.0, en=10.0),
    row("lat", "h2h", lat=1.25, en=8.0),
    row("lat", "cpsat", status="optimal", lat=1.0, en=9.0, bound=1.0),
    row("lat", "milp", lat=1.1, en=7.0, bound=0.8),
    row("lat", "heft", lat=0.5, en=1.0, feasible=False),
    {"instance": "lat", "instance_file": "lat.json", "solver": "lns", "status": "error",
     "error": "RuntimeError: boom"},
    # energy, a bound only (time limit): the gaps are in joules
    row("en", "baseline", objective="energy", lat=1.0, en=4.0),
    row("en", "h2h", objective="energy", lat=2.0, en=2.5),
    row("en", "cpsat", objective="energy", lat=3.0, en=2.0, bound=1.6),
    # nothing feasible: proven infeasible, no schedule
    row("none", "cpsat", status="none", termination="infeasible"),
    row("none", "baseline", lat=1.0, en=1.0, feasible=False),
]


@pytest.fixture()
def summary():
    return summarise(ROWS)


def test_latency_instance(summary):
    e = summary.instances["lat"]
    assert (e.objective, e.unit, e.key) == ("latency", "s", "latency_s")
    assert e.best == 1.0 and e.best_solvers == ["cpsat"]
    assert e.bound == 1.0 and e.optimum == 1.0
    p = e.pairs
    assert p["baseline"].ratio == 2.0
    assert p["baseline"].gap_to_bound == pytest.approx(0.5)      # (2 - 1) / 2
    assert p["baseline"].gap_to_optimum == pytest.approx(1.0)    # (2 - 1) / 1
    assert p["h2h"].ratio == pytest.approx(1.25)
    assert p["h2h"].gap_to_bound == pytest.approx(0.2)
    assert p["h2h"].gap_to_optimum == pytest.approx(0.25)
    assert p["h2h"].latency_reduction == pytest.approx(0.375)    # 1 - 1.25 / 2
    assert p["h2h"].energy_reduction == pytest.approx(0.2)       # 1 - 8 / 10
    assert p["milp"].gap_to_bound == pytest.approx(0.1 / 1.1)
    assert p["cpsat"].gap_to_bound == 0.0 and p["cpsat"].proven
    for solver in ("heft", "lns"):  # infeasible and crashed: no figures
        q = p[solver]
        assert q.value is None and q.ratio is None and q.gap_to_bound is None
        assert q.gap_to_optimum is None and q.latency_reduction is None


def test_energy_instance_uses_joules(summary):
    e = summary.instances["en"]
    assert (e.objective, e.unit) == ("energy", "J")
    assert e.best == 2.0 and e.best_solvers == ["cpsat"]
    assert e.bound == 1.6 and e.optimum is None
    h = e.pairs["h2h"]
    assert h.value == 2.5 and h.ratio == pytest.approx(1.25)
    assert h.gap_to_bound == pytest.approx(0.36)                 # (2.5 - 1.6) / 2.5
    assert h.gap_to_optimum is None                             # nothing proven
    assert h.latency_reduction == pytest.approx(-1.0)            # latency doubled
    assert h.energy_reduction == pytest.approx(0.375)
    assert e.pairs["baseline"].gap_to_bound == pytest.approx(0.6)


def test_instance_without_a_feasible_schedule(summary):
    e = summary.instances["none"]
    assert e.best is None and e.bound is None and e.optimum is None
    assert e.best_solvers == []
    assert all(p.value is None and p.gap_to_bound is None for p in e.pairs.values())


def test_lex_breaks_latency_ties_by_energy_and_bounds_latency():
    rows = [row("x", "a", objective="lex", lat=1.0, en=3.0),
            row("x", "b", objective="lex", lat=1.0, en=2.0),
            row("x", "c", objective="lex", status="optimal", lat=1.0, en=2.0, bound=0.9),
            row("x", "d", objective="lex", lat=1.5, en=0.1)]
    e = summarise(rows).instances["x"]
    assert (e.objective, e.unit, e.best) == ("lex", "s", 1.0)
    assert e.best_solvers == ["b", "c"]
    assert e.pairs["d"].ratio == pytest.approx(1.5)
    assert e.pairs["a"].gap_to_bound == pytest.approx(0.1)
    assert e.pairs["d"].gap_to_optimum == pytest.approx(0.5)


def test_bound_above_a_value_by_tick_rounding_is_gap_zero():
    rows = [row("t", "cpsat", status="optimal", lat=1.0, en=1.0, bound=1.0 + 1e-9),
            row("t", "h2h", lat=1.0 - 1e-9, en=1.0)]
    e = summarise(rows).instances["t"]
    assert e.pairs["h2h"].gap_to_bound == 0.0 and e.pairs["h2h"].gap_to_optimum == 0.0


def test_rows_without_objective_are_latency_and_are_not_changed():
    rows = [{k: v for k, v in r.items() if k != "objective"} for r in ROWS[:4]]
    before = json.dumps(rows, sort_keys=True)
    e = summarise(rows).instances["lat"]
    assert e.objective == "latency" and e.pairs["h2h"].gap_to_bound == pytest.approx(0.2)
    assert json.dumps(rows, sort_keys=True) == before


def test_disagreeing_or_unknown_objectives_are_refused():
    with pytest.raises(ValueError, match="disagree"):
        summarise([row("x", "a", lat=1.0, en=1.0),
                   row("x", "b", objective="energy", lat=1.0, en=1.0)])
    with pytest.raises(ValueError, match="unknown objective"):
        summarise([row("x", "a", objective="carbon", lat=1.0, en=1.0)])


def test_solver_totals(summary):
    t = solver_totals(summary)
    assert summary.solvers == ["baseline", "cpsat", "h2h", "heft", "lns", "milp"]
    assert t["cpsat"]["instances"] == 3 and t["cpsat"]["feasible"] == 2
    assert t["cpsat"]["proven"] == 1 and t["cpsat"]["best"] == 2
    assert t["h2h"]["mean_gap_to_bound"] == pytest.approx((0.2 + 0.36) / 2)
    assert t["h2h"]["num_gap_to_optimum"] == 1
    assert t["heft"]["feasible"] == 0 and t["heft"]["mean_ratio"] is None


def test_result_row_is_the_evaluators(tiny_energy_instance):
    from h2h_opt import evaluate, solve

    inst = tiny_energy_instance
    res = solve(inst, "baseline")
    r = result_row(inst, res)
    ev = evaluate(inst, res.schedule)
    assert r["objective"] == "energy" and r["feasible"] is True
    assert (r["latency_s"], r["energy_j"]) == (ev.latency, ev.energy)
    e = summarise([r]).instances[inst.name]
    assert e.best == ev.energy and e.pairs["baseline"].ratio == 1.0


@pytest.fixture()
def tiny_energy_instance():
    import dataclasses

    from h2h_opt.library.generate import random_layered

    inst = random_layered(6, 2, seed=1)
    return dataclasses.replace(inst, options=dataclasses.replace(inst.options,
                                                                 objective="energy"))


def test_report_of_an_energy_run_shows_joules(tmp_path):
    from h2h_opt.experiments.report import write_report

    run = tmp_path / "run"
    run.mkdir()
    (run / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS[6:9]))
    write_report(run, tmp_path / "rep")
    text = (tmp_path / "rep" / "report.md").read_text()
    assert "## Every instance (energy [J]; gap to the best proven bound)" in text
    assert "of the same schedules" not in text  # energy is the objective already
    assert "| en | 10 | 4 (60.0 %) | 2 (20.0 %) | 2.5 (36.0 %) | 1.6 (cpsat) |" in text


def test_the_best_bound_keeps_its_solvers_and_source():
    rows = [row("b", "milp", lat=1.2, en=1.0, bound=0.9, bound_source="MIP"),
            row("b", "lns", lat=1.1, en=1.0, bound=0.9, bound_source="load LP"),
            row("b", "cpsat", lat=1.0, en=1.0, bound=0.8, bound_source="CP-SAT"),
            row("b", "h2h", lat=1.5, en=1.0)]
    e = summarise(rows).instances["b"]
    # a tie: both solvers, the source of the first row among them; cpsat's lower bound
    # and h2h (none) are not named
    assert e.bound == 0.9 and e.bound_solvers == ["milp", "lns"]
    assert e.bound_source == "MIP"
    assert e.to_dict()["best_bound_source"] == "MIP"
    e = summarise(rows[1:]).instances["b"]
    assert e.bound_solvers == ["lns"] and e.bound_source == "load LP"
    e = summarise([row("c", "milp", lat=1.0, en=1.0, bound=0.5)]).instances["c"]
    assert e.bound_solvers == ["milp"] and e.bound_source is None  # (older rows)


def test_result_row_records_the_bounds_source():
    from h2h_opt import solve
    from h2h_opt.library.generate import random_layered

    inst = random_layered(6, 2, seed=1)
    res = solve(inst, "h2h_plus")
    assert res.bound is not None and res.info["bound_source"]
    r = result_row(inst, res)
    assert r["bound_source"] == res.info["bound_source"]


def test_report_names_where_the_best_bounds_come_from(tmp_path):
    from h2h_opt.experiments.report import write_report

    rows = [row("p", "milp", lat=1.2, en=1.0, bound=0.9, bound_source="MIP"),
            row("p", "h2h", lat=1.5, en=1.0, bound=0.7, bound_source="load LP"),
            row("q", "milp", lat=1.2, en=1.0, bound=0.6, bound_source="MIP"),
            row("r", "h2h", lat=1.5, en=1.0, bound=0.7, bound_source="load LP"),
            row("s", "h2h", lat=1.5, en=1.0)]
    run = tmp_path / "run"
    run.mkdir()
    (run / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    write_report(run, tmp_path / "rep")
    text = (tmp_path / "rep" / "report.md").read_text()
    assert "| p | 10 | 1.5 (40.0 %) | 1.2 (25.0 %) | 0.9 (milp) |" in text
    section = text.split("## Where the best bounds come from")[1].split("##")[0]
    assert "| MIP | milp | 2 |" in section and "| load LP | h2h | 1 |" in section
    assert section.index("| MIP |") < section.index("| load LP |")  # most first
