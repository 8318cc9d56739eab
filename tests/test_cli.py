"""The CLI, tested in-process (exit codes: 0 ok, 1 infeasible/invalid, 2 usage)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from h2h_opt.cli import main
from h2h_opt.io import dump_schedule, read_instance, read_schedule
from h2h_opt.schedule import Schedule

ROOT = Path(__file__).resolve().parents[1]
EX = ROOT / "instances" / "examples"
REF1 = EX / "reference-1acc-1.25GBps.json"
SERIAL = EX / "reference-1acc-1.25GBps.serial.schedule.json"


def run(capsys, *argv):
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_validate_and_info(capsys):
    rc, out, _ = run(capsys, "validate", str(REF1))
    assert rc == 0 and "valid (44 layers, 1 accelerators)" in out
    rc, out, _ = run(capsys, "info", str(EX / "reference-2acc-1.25GBps.json"), "--json")
    info = json.loads(out)
    assert rc == 0
    assert info["layers"] == 44 and info["edges"] == 41
    assert info["models"] == {"M1": 20, "M2": 12, "M3": 12}
    assert info["ops"] == {"conv": 44}
    assert [a["id"] for a in info["accelerators"]] == ["cnn_acc_1", "cnn_acc_2"]
    assert info["total_weight_bytes"] == pytest.approx(52_962_048.0, rel=1e-3)
    rc, out, _ = run(capsys, "info", str(REF1))
    assert rc == 0 and "cnn_acc_1" in out and "weights" in out


def test_evaluate_bundled_serial_schedule(capsys):
    rc, out, _ = run(capsys, "evaluate", str(REF1), str(SERIAL), "--json")
    data = json.loads(out)
    assert rc == 0 and data["feasible"]
    assert round(data["latency_s"], 4) == 0.7178 and round(data["energy_j"], 2) == 13.36
    rc, out, _ = run(capsys, "evaluate", str(REF1), str(SERIAL))
    assert "feasible  yes" in out


def test_evaluate_says_how_far_a_schedule_is_from_the_cheap_bound(capsys):
    """A schedule from anywhere gets the cheap bound and its gap to it (the serial
    schedule of the reference example: every layer on one accelerator, far from it);
    ``--no-bound`` skips the LP."""
    from h2h_opt import lower_bound, read_instance
    from h2h_opt.cost import compile_tables

    inst = read_instance(REF1)
    lb = lower_bound(inst, compile_tables(inst))
    rc, out, _ = run(capsys, "evaluate", str(REF1), str(SERIAL), "--json")
    data = json.loads(out)
    assert rc == 0 and data["bound"] == pytest.approx(lb.value)
    assert data["bound_source"] == lb.source
    assert data["gap"] == pytest.approx(1 - lb.value / data["latency_s"])
    assert 0.05 < data["gap"] < 1
    rc, out, _ = run(capsys, "evaluate", str(REF1), str(SERIAL))
    assert f"gap {100 * data['gap']:.2f} %" in out
    rc, out, _ = run(capsys, "evaluate", str(REF1), str(SERIAL), "--json", "--no-bound")
    assert "bound" not in json.loads(out)


def test_evaluate_mip_bound_is_at_least_the_lp_and_below_the_optimum(capsys, tmp_path):
    """``--mip-bound`` solves the LP with a 0/1 mapping: on three independent layers of
    1 s over two accelerators the LP proves 1.5 s, the MIP 2 s, the optimum."""
    from helpers import table_instance

    from h2h_opt import solve
    from h2h_opt.io import dump_instance

    layers = {f"L{i}": {} for i in range(3)}
    times = {lid: 1.0 for lid in layers}
    inst = table_instance(layers, [], {"a0": {}, "a1": {}}, {"a0": times, "a1": times})
    f, g = tmp_path / "three.json", tmp_path / "sched.json"
    f.write_text(json.dumps(dump_instance(inst)))
    g.write_text(json.dumps(dump_schedule(solve(inst, "h2h_plus").schedule)))
    rc, out, _ = run(capsys, "evaluate", str(f), str(g), "--json")
    assert rc == 0 and json.loads(out)["bound"] == pytest.approx(1.5, rel=1e-5)
    rc, out, _ = run(capsys, "evaluate", str(f), str(g), "--json", "--mip-bound", "5")
    data = json.loads(out)
    assert data["latency_s"] == pytest.approx(2.0)
    assert data["bound"] == pytest.approx(2.0, rel=1e-5) and data["bound"] <= 2.0
    assert "0/1 mapping" in data["bound_source"]
    rc, _, err = run(capsys, "evaluate", str(f), str(g), "--mip-bound", "5", "--no-bound")
    assert rc == 2 and "--no-bound" in err and "Traceback" not in err


def test_evaluate_a_schedule_missing_a_layer_is_json_without_nan(capsys, tmp_path):
    """A schedule without one of the layers has no latency: ``null`` in JSON (no
    traceback on NaN), ``n/a`` in the text, exit 1."""
    s = read_schedule(SERIAL)
    gone = next(iter(s.mapping))
    keep = {k: v for k, v in s.mapping.items() if k != gone}
    start = {k: v for k, v in s.start.items() if k != gone}
    orders = {a: [v for v in order if v != gone] for a, order in s.orders.items()}
    f = tmp_path / "short.json"
    f.write_text(json.dumps(dump_schedule(Schedule(s.instance, keep, start, orders,
                                                   s.residency, s.locality))))
    rc, out, _ = run(capsys, "evaluate", str(REF1), str(f), "--json")
    data = json.loads(out)
    assert rc == 1 and not data["feasible"] and data["latency_s"] is None
    assert "bound" not in data
    rc, out, _ = run(capsys, "evaluate", str(REF1), str(f))
    assert rc == 1 and "latency   n/a" in out and "locality  None" not in out


def test_evaluate_infeasible_exits_1(capsys, tmp_path):
    s = read_schedule(SERIAL)
    start = dict(s.start)
    start["M1L2"] = 0.0  # overlaps M1L1 and precedes its predecessor
    bad = Schedule(s.instance, s.mapping, start, s.orders, s.residency, s.locality)
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(dump_schedule(bad)))
    rc, out, _ = run(capsys, "evaluate", str(REF1), str(f))
    assert rc == 1
    assert "[overlap]" in out and "[precedence]" in out and "'M1L2'" in out


def test_import_stg(capsys, tmp_path):
    out_file = tmp_path / "g.json"
    rc, out, _ = run(capsys, "import", "stg", str(ROOT / "tests/data/stg/rand0001.stg"),
                     "--procs", "8", "-o", str(out_file))
    assert rc == 0 and "50 tasks" in out
    inst = read_instance(out_file)
    assert inst.num_accs == 8 and inst.options.comm == "p2p"


def test_import_costs(capsys, tmp_path):
    good = ROOT / "tests" / "data" / "good_small.json"
    csv_file = tmp_path / "c.csv"
    csv_file.write_text("layer,accelerator,time_s\nA,acc1,0.5\n")
    out_file = tmp_path / "o.json"
    rc, _, err = run(capsys, "import", "costs", str(csv_file), "--instance", str(good),
                     "-o", str(out_file))
    assert rc == 0, err
    assert read_instance(out_file).system.accelerators[1].cost_model["kind"] == "table"


def test_generate_examples_reproduces_bundled_files(capsys, tmp_path):
    rc, _, _ = run(capsys, "generate", "examples", "-o", str(tmp_path))
    assert rc == 0
    files = sorted(f for f in EX.glob("*.json") if f.name != "MANIFEST.json")
    for f in files:
        assert (tmp_path / f.name).read_text() == f.read_text(), f.name
    manifest = json.loads((tmp_path / "MANIFEST.json").read_text())
    assert manifest["suite"] == "examples" and sorted(manifest["files"]) == [f.name for f in files]


def test_schema_command(capsys):
    rc, out, _ = run(capsys, "schema")
    assert rc == 0 and json.loads(out)["title"] == "h2h_opt instance"


def test_usage_errors(capsys):
    assert run(capsys, "generate", "nonsense", "-o", "x")[0] == 2
    assert run(capsys)[0] == 2
    assert run(capsys, "--version")[0] == 0


def test_solve_h2h_writes_schedule_result_and_gantt(capsys, tmp_path):
    inst_file = EX / "reference-2acc-1.25GBps.json"
    sched, result, png = tmp_path / "s.json", tmp_path / "r.json", tmp_path / "g.png"
    rc, out, err = run(capsys, "solve", str(inst_file), "--solver", "h2h", "-o", str(sched),
                       "--result", str(result), "--gantt", str(png), "--json")
    assert rc == 0, err
    doc = json.loads(out)
    assert [s["step"][0] for s in doc["steps"]] == ["1", "2", "3", "4"]
    assert doc["latency_s"] < doc["steps"][0]["latency_s"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rc, out, _ = run(capsys, "evaluate", str(inst_file), str(sched), "--json")
    assert rc == 0 and json.loads(out)["latency_s"] == pytest.approx(doc["latency_s"])
    assert json.loads(result.read_text())["solver"] == "h2h"


def test_solve_other_solvers_text_output(capsys, heuristic_solver):
    solver = heuristic_solver
    opts = ["--option", "max_evals=50"] if solver.startswith("h2h") else []  # h2h's option
    rc, out, _ = run(capsys, "solve", str(REF1), "--solver", solver, *opts)
    assert rc == 0 and f"solver    {solver}" in out and "latency" in out


def test_solve_bad_option_is_usage_error(capsys):
    rc, _, err = run(capsys, "solve", str(REF1), "--option", "novalue")
    assert rc == 2 and "KEY=VALUE" in err


def test_a_schedule_solved_with_locality_evaluates_with_it(tmp_path, capsys):
    """solve --locality writes a schedule that evaluate judges under the same rule (it
    says so), not under the file's."""
    out = tmp_path / "s.json"
    ref2 = REF1.parent / "reference-2acc-1.25GBps.json"
    assert main(["solve", str(ref2), "--solver", "h2h", "--locality", "same_accelerator",
                 "-o", str(out), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(ref2), str(out)]) == 0
    captured = capsys.readouterr()
    assert "feasible  yes" in captured.out and "locality 'same_accelerator'" in captured.err
    # the file's own rule can be asked for explicitly
    assert main(["evaluate", str(ref2), str(out), "--locality", "adjacent"]) in (0, 1)


def test_results_record_every_option_as_used(tmp_path):
    result = tmp_path / "r.json"
    assert main(["solve", str(REF1), "--solver", "h2h", "--option", "passes=0",
                 "--result", str(result), "--quiet"]) == 0
    options = json.loads(result.read_text())["params"]["options"]
    assert options["passes"] == 0 and options["cap"] == 20000 and options["energy_ties"]
