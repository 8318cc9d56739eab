"""h2h bench / compare / report: resumable runs that survive SIGINT and SIGKILL with no
pair lost or duplicated, crash isolation, the Dask executor, and the report's files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from h2h_opt.experiments.bench import BenchSpec, load_results, run_bench
from h2h_opt.io import write_instance
from h2h_opt.library.generate import random_layered

SOLVERS = ("baseline", "h2h", "heft")


@pytest.fixture(scope="module")
def instance_set(tmp_path_factory):
    d = tmp_path_factory.mktemp("set")
    for i in range(6):
        write_instance(random_layered(14 + 4 * i, 3, comm="host" if i % 2 else "p2p",
                                      seed=i), d / f"i{i}.json")
    return d


def outcome(rows):
    """What must not depend on interruptions: per pair, status and evaluated figures."""
    keys = [(Path(r["instance_file"]).name, r["solver"]) for r in rows]
    assert len(keys) == len(set(keys)), "a pair was recorded twice"
    return {k: (r["status"], r.get("feasible"), r.get("latency_s"), r.get("energy_j"))
            for k, r in zip(keys, rows, strict=True)}


def bench_cmd(instance_set, run):
    code = ("import sys; from h2h_opt.cli import main; sys.exit(main(sys.argv[1:]))")
    return [sys.executable, "-c", code, "bench", str(instance_set), "--solvers",
            ",".join(SOLVERS), "--time-limit", "5", "-o", str(run)]


def lines(run):
    p = Path(run) / "results.jsonl"
    return p.read_text().count("\n") if p.exists() else 0


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_killed_run_resumes_to_the_uninterrupted_result(instance_set, tmp_path, sig):
    ref = run_bench(BenchSpec(tuple(str(p) for p in sorted(instance_set.glob("*.json"))),
                              SOLVERS, 5.0), tmp_path / "ref", progress=False)
    run = tmp_path / "run"
    proc = subprocess.Popen(bench_cmd(instance_set, run), stderr=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL)
    deadline = time.time() + 60
    while lines(run) < 3 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(sig)
    proc.wait(30)
    first = lines(run)
    # a loaded machine may let the bench finish between the poll and the signal (exit
    # code 0); a signal that reached it ends it with 130 (SIGINT) or -9 (SIGKILL)
    if proc.returncode != 0:
        assert proc.returncode in (130, -signal.SIGKILL), proc.returncode
        assert first < len(ref), "the run was not interrupted midway"
    # a kill in the middle of a write leaves a partial line: it must be dropped
    with (run / "results.jsonl").open("a") as fh:
        fh.write('{"instance_file": "cut sho')
    done = subprocess.run(bench_cmd(instance_set, run), capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()[-500:]
    rows = load_results(run)
    assert len(rows) == len(ref) == 6 * len(SOLVERS)
    assert outcome(rows) == outcome(ref)
    assert json.loads((run / "run.json").read_text())["resumed"] == 1


def test_rerun_of_a_finished_run_adds_nothing(instance_set, tmp_path):
    spec = BenchSpec(tuple(str(p) for p in sorted(instance_set.glob("*.json")))[:2],
                     ("baseline",), 5.0)
    run_bench(spec, tmp_path / "r", progress=False)
    again = run_bench(spec, tmp_path / "r", progress=False)
    assert len(again) == 2 and lines(tmp_path / "r") == 2


def test_a_crashing_worker_costs_only_its_pair(instance_set, tmp_path, monkeypatch):
    import h2h_opt.experiments.bench as bench

    real = bench.run_pair

    def flaky(path, solver, *args):
        if solver == "heft" and path.endswith("i1.json"):
            os._exit(3)  # the worker process dies without a word
        return real(path, solver, *args)

    monkeypatch.setattr(bench, "run_pair", flaky)
    files = tuple(str(p) for p in sorted(instance_set.glob("*.json")))[:3]
    rows = run_bench(BenchSpec(files, ("baseline", "heft"), 5.0), tmp_path / "c",
                     progress=False)
    errors = [r for r in rows if r["status"] == "error"]
    assert len(rows) == 6 and len(errors) == 1
    assert "worker died" in errors[0]["error"] and errors[0]["solver"] == "heft"
    assert all(r["feasible"] for r in rows if r["status"] != "error")


def test_unknown_instance_is_an_error_row(tmp_path):
    rows = run_bench(BenchSpec((str(tmp_path / "missing.json"),), ("h2h",), 5.0),
                     tmp_path / "m", progress=False)
    assert rows[0]["status"] == "error" and "missing.json" in rows[0]["error"]


@pytest.mark.slow
def test_dask_executor_matches_local(instance_set, tmp_path):
    pytest.importorskip("dask.distributed")
    files = tuple(str(p) for p in sorted(instance_set.glob("*.json")))[:3]
    local = run_bench(BenchSpec(files, ("baseline", "h2h"), 5.0), tmp_path / "l",
                      progress=False)
    dask = run_bench(BenchSpec(files, ("baseline", "h2h"), 5.0, jobs=2, executor="dask"),
                     tmp_path / "d", progress=False)
    assert outcome(sorted(dask, key=lambda r: (r["instance_file"], r["solver"]))) == \
        outcome(sorted(local, key=lambda r: (r["instance_file"], r["solver"])))


@pytest.mark.slow
def test_report_and_compare(instance_set, tmp_path, capsys):
    from h2h_opt.cli import main
    from h2h_opt.experiments.report import write_report

    files = tuple(str(p) for p in sorted(instance_set.glob("*.json")))[:2]
    run_bench(BenchSpec(files, ("baseline", "h2h", "cpsat"), 5.0), tmp_path / "r",
              progress=False)
    written = write_report(tmp_path / "r", tmp_path / "rep")
    names = {Path(f).name for f in written}
    assert {"report.md", "reduction.png", "gap_vs_size.png", "time_vs_size.png",
            "proven_vs_limit.png", "gantt.png"} <= names
    text = (tmp_path / "rep" / "report.md").read_text()
    assert "`h2h`: latency reduction over baseline" in text and "proven optimal" in text
    # the energy of the same schedules, per instance and solver
    energy = text.split("## Every instance (energy [J] of the same schedules)")[1]
    rows = [json.loads(line) for line in (tmp_path / "r" / "results.jsonl").read_text()
            .splitlines()]
    for r in rows:
        line = next(x for x in energy.splitlines() if x.startswith(f"| {r['instance']} |"))
        assert f"{r['energy_j']:.6g}" in line
    assert main(["compare", files[0], "--solvers", "baseline,h2h,cpsat", "--time-limit", "5",
                 "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["solver"] for r in doc["rows"]] == ["baseline", "h2h", "cpsat"]
    cp = doc["rows"][2]
    assert cp["status"] == "optimal" and cp["gap_to_best_bound"] == pytest.approx(0, abs=1e-6)
    # the best bound names whose it is and what proved it (cpsat's optimum is above
    # the heuristics' cheap bounds), as the bench rows do
    assert "cpsat" in doc["best_bound_solvers"] and doc["best_bound_source"]
    assert all(r.get("bound_source") for r in rows if r.get("bound") is not None)
    assert main(["compare", files[0], "--solvers", "h2h,cpsat", "--time-limit", "5"]) == 0
    assert "best bound " in capsys.readouterr().out.splitlines()[-1]
    assert main(["compare", files[0], "--solvers", "nope"]) == 2
