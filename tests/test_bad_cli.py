"""Bad command lines, one row each: the exit code and one stderr line, never a traceback.

The rows come from ``scripts/bad_input_sweep.py`` (which runs them all as subprocesses);
here they run in-process, in a folder holding the files they name.  Inputs that would
hang or eat memory if the guard broke (a FIFO, ``/dev/zero``) and the closed stdout run
as subprocesses with a timeout.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from h2h_opt.cli import main

ROOT = Path(__file__).resolve().parents[1]
GOOD = ROOT / "tests" / "data" / "good_small.json"
REF1 = ROOT / "instances" / "examples" / "reference-1acc-1.25GBps.json"
REF1_SCHED = ROOT / "instances" / "examples" / "reference-1acc-1.25GBps.serial.schedule.json"


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A folder with good and bad files, made the working directory."""
    shutil.copy(GOOD, tmp_path / "good.json")
    shutil.copy(REF1, tmp_path / "ref1.json")
    shutil.copy(REF1_SCHED, tmp_path / "ref1.schedule.json")
    (tmp_path / "adir").mkdir()
    (tmp_path / "empty.json").write_text("")
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (tmp_path / "deepobj.json").write_text('{"a":' * 100_000 + "1" + "}" * 100_000)
    (tmp_path / "binary.json").write_bytes(bytes(range(256)) * 64)
    (tmp_path / "list.json").write_text("[1, 2, 3]")
    (tmp_path / "huge_int.json").write_text('{"format_version": ' + "1" * 5000 + "}")
    many = json.loads(GOOD.read_text())
    many["workload"]["layers"][0]["op"] = 7
    many["workload"]["layers"][1]["shape"] = "x"
    many["system"]["accelerators"][0]["power_w"] = "hot"
    (tmp_path / "many_errors.json").write_text(json.dumps(many))
    sched = json.loads(REF1_SCHED.read_text())
    (tmp_path / "sched_meta_list.json").write_text(json.dumps(dict(sched, meta=[1, 2])))
    (tmp_path / "sched_neg_start.json").write_text(json.dumps(
        dict(sched, layers=[dict(r, start_s=-1.0) for r in sched["layers"]])))
    (tmp_path / "sched_orders_dup.json").write_text(json.dumps(
        dict(sched, orders={a: o + o[:1] * 2 for a, o in sched["orders"].items()})))
    (tmp_path / "run").mkdir()  # a bench run (one finished pair is enough for -o checks)
    (tmp_path / "run" / "results.jsonl").write_text(json.dumps(
        {"instance": "bad", "solver": "baseline", "status": "feasible"}) + "\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


S = ("solve", "good.json", "--solver", "baseline")  # a quick solve
R = ("solve", "ref1.json", "--solver", "baseline")
UNWRITABLE = "/proc/h2h-test/out"  # no one can create files there, not even root

# (argv, exit code, fragment of the one stderr line)
ROWS: list[tuple[tuple[str, ...], int, str]] = [
    # usage: one line with a hint, no usage block
    ((), 2, "required: command"),
    (("frobnicate",), 2, "invalid choice: 'frobnicate'"),
    (("info", "--frob"), 2, "unrecognized arguments: --frob"),
    (("validate",), 2, "see 'h2h validate --help'"),
    (("evaluate", "good.json"), 2, "required: schedule"),
    (("solve", "good.json", "--solver", "nope"), 2, "argument --solver: invalid choice"),
    (("solve",), 2, "the instance argument is required"),
    (("import",), 2, "required: format"),
    (("import", "stg", "x.stg", "--procs", "0", "-o", "o.json"), 2, "positive integer"),
    (("generate", "examples"), 2, "required: -o/--output"),
    (("compare", "good.json", "--solvers", "nope"), 2, "unknown solver(s) nope"),
    (("solve", "--list-options", "--option", "x=1"), 2, "--list-options takes only"),
    # numbers
    ((*S, "--time-limit", "-1"), 2, "--time-limit: expected a positive number"),
    ((*S, "--time-limit", "0"), 2, "--time-limit: expected a positive number"),
    ((*S, "--time-limit", "nan"), 2, "--time-limit: expected a positive number"),
    ((*S, "--time-limit", "inf"), 2, "--time-limit: expected a positive number"),
    ((*S, "--time-limit", "abc"), 2, "--time-limit: expected a positive number"),
    ((*S, "--workers", "0"), 2, "--workers: expected an integer >= 1"),
    ((*S, "--workers", "-3"), 2, "--workers: expected an integer >= 1"),
    ((*S, "--rel-gap", "-0.1"), 2, "--rel-gap: expected a number in [0, 1]"),
    ((*S, "--rel-gap", "1.5"), 2, "--rel-gap: expected a number in [0, 1]"),
    ((*S, "--rel-gap", "nan"), 2, "--rel-gap: expected a number in [0, 1]"),
    ((*S, "--seed", "-1"), 2, "--seed: expected an integer in 0..2147483647"),
    ((*S, "--seed", str(2**31)), 2, "--seed: expected an integer in 0..2147483647"),
    ((*S, "--seed", "1.5"), 2, "--seed: expected an integer"),
    (("solve", "good.json", "--solver", "cpsat", "--seed", str(2**31)), 2, "--seed"),
    (("evaluate", "ref1.json", "ref1.schedule.json", "--max-violations", "-1"), 2,
     "--max-violations: expected an integer >= 0"),
    (("compare", "good.json", "--solvers", "h2h", "--time-limit", "nan"), 2,
     "--time-limit"),
    (("compare", "good.json", "--solvers", "h2h", "--seed", "-5"), 2, "--seed"),
    ((*S, "--locality", "sideways"), 2, "--locality: invalid choice"),
    # solver options
    ((*S, "--option", "frob"), 2, "--option expects KEY=VALUE"),
    ((*S, "--option", "frob=1"), 2, "unknown option 'frob'"),
    # instance files
    (("validate", "missing.json"), 1, "missing.json: cannot read (no such file)"),
    (("validate", "adir"), 1, "adir: is a directory"),
    (("validate", "empty.json"), 1, "invalid JSON at line 1"),
    (("validate", "deep.json"), 1, "deep.json: invalid JSON: nested too deeply"),
    (("validate", "deepobj.json"), 1, "nested too deeply"),
    (("validate", "binary.json"), 1, "binary.json: not a UTF-8 text file (byte 0x80"),
    (("validate", "list.json"), 1, "an instance must be a JSON object"),
    (("validate", "huge_int.json"), 1, "huge_int.json: invalid JSON: Exceeds the limit"),
    (("validate", "/dev/null"), 1, "/dev/null: not a regular file"),
    (("validate", "many_errors.json"), 1, "(and 2 more, listed above)"),
    (("solve", "ref1.schedule.json"), 1, "this is a schedule file, not an instance"),
    (("validate", "ref1.schedule.json"), 1, "$.kind: this is a schedule file"),
    (("info", "deep.json"), 1, "nested too deeply"),
    (("solve", "deep.json"), 1, "nested too deeply"),
    (("compare", "deep.json", "--solvers", "h2h"), 1, "nested too deeply"),
    (("normalise", "binary.json", "-o", "o.json"), 1, "not a UTF-8 text file"),
    (("evaluate", "adir", "ref1.schedule.json"), 1, "adir: is a directory"),
    (("evaluate", "ref1.json", "deep.json"), 1, "nested too deeply"),
    # schedules
    (("evaluate", "ref1.json", "sched_meta_list.json"), 1, "$.meta: must be an object"),
    (("evaluate", "ref1.json", "sched_neg_start.json"), 1, "sched_neg_start.json: infeasible ("),
    (("evaluate", "ref1.json", "good.json"), 1, "missing field 'instance'"),
    (("evaluate", "good.json", "ref1.schedule.json"), 1,
     "the schedule is for instance 'reference-1acc-1.25GBps', not 'bad'"),
    # outputs
    ((*R, "-o", "adir"), 1, "-o adir: is a directory"),
    ((*R, "-o", "good.json/x.json"), 1, "good.json is a file, not a folder"),
    ((*R, "-o", UNWRITABLE + ".json"), 1, "cannot write in /proc"),
    ((*R, "--result", "adir"), 1, "--result adir: is a directory"),
    ((*R, "--result", "good.json/x.json"), 1, "is a file, not a folder"),
    ((*R, "--gantt", "adir"), 1, "no extension"),
    ((*R, "--gantt", "good.json/x.png"), 1, "is a file, not a folder"),
    ((*R, "--gantt", "g.xyz"), 1, "cannot draw a figure in format 'xyz'"),
    ((*R, "--gantt", "gantt"), 1, "no extension"),
    ((*R, "--log", "adir"), 1, "--log adir: is a directory"),
    ((*R, "--log", UNWRITABLE + ".log"), 1, "cannot write in /proc"),
    ((*R, "-o", "ref1.json"), 1, "-o would overwrite the input instance"),
    ((*R, "--result", "./ref1.json"), 1, "--result would overwrite the input instance"),
    ((*R, "-o", "x.json", "--result", "x.json"), 2, "name the same file"),
    (("schema", "-o", "adir"), 1, "adir: is a directory"),
    (("schema", "-o", "good.json/x.json"), 1, "is a file, not a folder"),
    (("schema", "-o", UNWRITABLE + ".json"), 1, "cannot write in /proc"),
    (("normalise", "good.json", "-o", "adir"), 1, "adir: is a directory"),
    (("normalise", "good.json", "-o", UNWRITABLE + ".json"), 1, "cannot write in /proc"),
    (("report", "adir", "-o", "rep"), 2, "no results"),
    (("report", "run", "-o", "good.json"), 1, "good.json: is a file; give a folder"),
    (("report", "run", "-o", "good.json/rep"), 1, "good.json"),
]


@pytest.mark.parametrize(("argv", "code", "fragment"), ROWS,
                         ids=[" ".join(r[0]) or "(nothing)" for r in ROWS])
def test_bad_command_line_is_one_line(workdir, capsys, argv, code, fragment):
    rc = main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip("\n").split("\n")
    assert len(lines) == 1 and lines[0].startswith("h2h: "), err
    assert fragment in lines[0]
    assert rc == code, err


def test_rows_are_many():
    assert len(ROWS) >= 50


def test_validate_lists_every_problem(workdir, capsys):
    rc = main(["validate", "many_errors.json"])
    out, err = capsys.readouterr()
    assert rc == 1 and len(err.strip().splitlines()) == 1
    problems = out.strip().splitlines()
    assert len(problems) == 3
    assert all(p.startswith("many_errors.json: $.") for p in problems)
    assert any("power_w" in p for p in problems) and any("op" in p for p in problems)
    rc = main(["validate", "--json", "many_errors.json"])
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert rc == 1 and doc["valid"] is False and len(doc["errors"]) == 3


def test_violations_are_plain_and_printed_once(workdir, capsys):
    rc = main(["evaluate", "ref1.json", "sched_neg_start.json", "--max-violations", "100"])
    out = capsys.readouterr().out
    assert rc == 1 and "np.float64" not in out and "starts at -1 s" in out
    rc = main(["evaluate", "ref1.json", "sched_orders_dup.json", "--max-violations", "100"])
    out = capsys.readouterr().out
    lines = [ln for ln in out.splitlines() if ln.startswith("  [")]
    assert rc == 1 and lines and len(lines) == len(set(lines))


# --------------------------------------------------------------------------- atomic writes


def test_failing_writer_leaves_the_previous_output_intact(workdir, capsys, monkeypatch):
    old = '{"old": true}\n'
    (workdir / "s.json").write_text(old)

    def half_then_fail(self, data, *args, **kwargs):  # disk full midway
        with open(self, "w") as fh:
            fh.write(data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", half_then_fail)
    rc = main([*R, "-o", "s.json", "--quiet"])
    err = capsys.readouterr().err
    monkeypatch.undo()
    assert rc == 1 and "No space left on device" in err and len(err.strip().splitlines()) == 1
    assert (workdir / "s.json").read_text() == old
    assert sorted(p.name for p in workdir.iterdir() if p.name.startswith(".")) == []


def test_failing_gantt_leaves_the_previous_schedule_intact(workdir, capsys, monkeypatch):
    old = '{"old": true}\n'
    (workdir / "s.json").write_text(old)
    import h2h_opt.experiments.plots as plots

    def broken_gantt(*args, **kwargs):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(plots, "gantt", broken_gantt)
    rc = main([*R, "-o", "s.json", "--gantt", "g.png", "--quiet"])
    err = capsys.readouterr().err
    assert rc == 1 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert (workdir / "s.json").read_text() == old
    assert not (workdir / "g.png").exists()


def test_bad_gantt_is_refused_before_solving(workdir, capsys, monkeypatch):
    import h2h_opt.solvers as solvers

    def no_solve(*args, **kwargs):
        raise AssertionError("solved before checking the outputs")

    monkeypatch.setattr(solvers, "solve", no_solve)
    for bad in ("g.xyz", "adir", "good.json/g.png"):
        rc = main([*R, "--gantt", bad])
        err = capsys.readouterr().err
        assert rc == 1 and err.startswith("h2h: error: --gantt ") and "solved" not in err


def test_write_through_a_symlink(workdir, capsys):
    (workdir / "real.json").write_text("old")
    (workdir / "link.json").symlink_to("real.json")
    assert main(["schema", "-o", "link.json"]) == 0
    assert (workdir / "link.json").is_symlink()
    assert json.loads((workdir / "real.json").read_text())["$schema"]


def test_skipped_outputs_are_said(workdir, capsys, monkeypatch):
    import dataclasses

    import h2h_opt.solvers as solvers
    from h2h_opt.result import SolveStatus, Termination

    real = solvers.solve

    def finds_nothing(*args, **kwargs):  # what a time limit before any solution gives
        return dataclasses.replace(real(*args, **kwargs), schedule=None,
                                   status=SolveStatus.NONE, termination=Termination.TIME_LIMIT)

    monkeypatch.setattr(solvers, "solve", finds_nothing)
    (workdir / "s.json").write_text("old")
    rc = main([*R, "-o", "s.json", "--gantt", "g.png", "--result", "r.json", "--quiet"])
    err = capsys.readouterr().err
    assert rc == 1 and len(err.strip().splitlines()) == 1, err
    assert "found no schedule" in err and "not written: -o s.json, --gantt g.png" in err
    assert (workdir / "s.json").read_text() == "old" and not (workdir / "g.png").exists()
    assert json.loads((workdir / "r.json").read_text())["status"] == "none"


def test_solve_says_where_outputs_went(workdir, capsys):
    rc = main([*R, "-o", "s.json", "--result", "r.json", "--gantt", "g.png", "--quiet"])
    out = capsys.readouterr().out
    assert rc == 0
    for name in ("s.json", "r.json", "g.png"):
        assert (workdir / name).is_file() and f" {name}" in out
    assert [p.name for p in workdir.iterdir() if p.name.startswith(".")] == []


def test_locality_override(workdir, capsys):
    # the exact models refuse 'adjacent' under host comm; the override lets them run
    rc = main(["solve", "ref1.json", "--solver", "cpsat", "--quiet"])
    assert rc == 1 and "does not support" in capsys.readouterr().err
    rc = main(["solve", "ref1.json", "--solver", "cpsat", "--locality", "same_accelerator",
               "--time-limit", "20", "--json"])
    assert rc == 0 and json.loads(capsys.readouterr().out)["status"] == "optimal"


# --------------------------------------------------------------------------- subprocesses


def _limit_memory() -> None:  # runs in the child: a broken guard fails, not swaps
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def _h2h(args: list[str], cwd: Path, **kw) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "h2h_opt.cli", *args], cwd=cwd, env=env,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            preexec_fn=_limit_memory, **kw)


@pytest.mark.parametrize("which", ["fifo", "/dev/zero"])
def test_special_files_are_refused_without_reading(tmp_path, which):
    path = which
    if which == "fifo":
        os.mkfifo(tmp_path / "fifo.json")
        path = "fifo.json"
    proc = _h2h(["validate", path], tmp_path, stdout=subprocess.DEVNULL)
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    text = err.decode()
    assert proc.returncode == 1 and "not a regular file" in text
    assert len(text.strip().splitlines()) == 1


@pytest.mark.parametrize("argv", [["info", str(REF1)], ["info"], ["schema"]])
def test_closed_stdout_exits_quietly(tmp_path, argv):
    proc = _h2h(argv, tmp_path, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    proc.stdout.close()  # the reader goes away before anything is written
    _, err = proc.communicate(timeout=60)
    assert err.decode() == "" and proc.returncode == 0


@pytest.mark.slow
def test_sweep_script_is_clean_on_a_sample(tmp_path):
    # the whole sweep (~200 cases, minutes): python scripts/bad_input_sweep.py
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "bad_input_sweep.py"),
                           "-k", "a directory", "-j", "2"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "crash 0, accepted 0, hang 0, messy 0" in proc.stdout
