"""h2h bench keeps its run folder whole: one bench at a time (the lock), no rows of
mixed parameters or of a changed instance file (refusal, ``--force``), no worker
outliving a killed bench and no Ctrl-C lost, an unreachable Dask scheduler is one line
and no files, an instance named twice runs once, a resumed run says what it found done,
``--jobs`` is checked, a bad row is refused and never dropped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from h2h_opt.cli import main
from h2h_opt.experiments.bench import (
    BenchSpec,
    CorruptResults,
    RunBusy,
    RunMismatch,
    _locked,
    expand_instances,
    load_results,
    run_bench,
    run_pair,
)
from h2h_opt.io import write_instance
from h2h_opt.library.generate import random_layered


@pytest.fixture(scope="module")
def insts(tmp_path_factory):
    d = tmp_path_factory.mktemp("safety")
    for i in range(2):
        write_instance(random_layered(10, 3, seed=i), d / f"i{i}.json")
    return d


def files(insts):
    return [str(p) for p in sorted(insts.glob("*.json"))]


# a bench whose every pair first sleeps SLEEP seconds inside its worker, then solves and
# writes its schedule (what an orphan would write after its parent died)
SLOW_BENCH = """
import sys, time
import h2h_opt.experiments.bench as bench
real = bench.run_pair
def slow(*args):
    time.sleep(float(sys.argv[1]))
    return real(*args)
bench.run_pair = slow
from h2h_opt.cli import main
sys.exit(main(sys.argv[2:]))
"""


def slow_bench(insts, run, sleep, *extra, **kw):
    return subprocess.Popen([sys.executable, "-c", SLOW_BENCH, str(sleep), "bench",
                             *files(insts), "--solvers", "baseline", "-o", str(run), *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)


def proc_stat(pid):
    """(state, ppid, session) of a process, None if gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1]), int(fields[3])


def live(select):
    """Pids of the processes (zombies left out) whose (ppid, session) ``select`` accepts."""
    out = []
    for d in os.listdir("/proc"):
        st = proc_stat(d) if d.isdigit() else None
        if st and st[0] != "Z" and select(st[1], st[2]):
            out.append(int(d))
    return out


def wait_for(cond, timeout=30.0):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False


def one_line(err):
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


# ------------------------------------------------------------------------------ the lock


def test_a_held_lock_refuses_a_second_bench(insts, tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    with _locked(run):
        with pytest.raises(RunBusy, match="in use"):
            run_bench(BenchSpec(tuple(files(insts)), ("baseline",), 5.0), run,
                      progress=False)
        assert main(["bench", *files(insts), "--solvers", "baseline", "-o", str(run)]) == 1
        assert f"(pid {os.getpid()})" in one_line(capsys.readouterr().err)
    assert not (run / "results.jsonl").exists() and not (run / "run.json").exists()
    assert len(run_bench(BenchSpec(tuple(files(insts)), ("baseline",), 5.0), run,
                         progress=False)) == 2  # released


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
def test_a_running_bench_locks_its_folder_until_it_dies(insts, tmp_path, capsys):
    run = tmp_path / "run"
    first = slow_bench(insts, run, 30)
    try:
        assert wait_for(lambda: (run / "run.json").exists())
        argv = ["bench", *files(insts), "--solvers", "baseline", "-o", str(run)]
        assert main(argv) == 1
        assert "in use by another h2h bench" in one_line(capsys.readouterr().err)
        assert main([*argv, "--seed", "7", "--force"]) == 1  # the lock comes first
        capsys.readouterr()
        assert first.poll() is None
    finally:
        first.kill()  # SIGKILL: the kernel drops the lock (its workers die too)
        first.wait(10)
    assert wait_for(lambda: main(argv) == 0, timeout=10)
    assert len(load_results(run)) == 2


# ----------------------------------------------------------------------- no mixed runs


def test_other_parameters_are_refused_unless_forced(insts, tmp_path, capsys):
    run = tmp_path / "run"
    base = ["bench", *files(insts), "--solvers", "baseline", "-o", str(run)]
    assert main([*base, "--time-limit", "5"]) == 0
    capsys.readouterr()
    info = (run / "run.json").read_text()
    size = (run / "results.jsonl").stat().st_size
    assert main([*base, "--time-limit", "5", "--seed", "3"]) == 2
    err = one_line(capsys.readouterr().err)
    assert "seed 0 there, 3 here" in err and "time_limit_s" not in err and "--force" in err
    assert main([*base, "--time-limit", "9"]) == 2
    assert "time_limit_s 5.0 there, 9.0 here" in one_line(capsys.readouterr().err)
    assert (run / "run.json").read_text() == info
    assert (run / "results.jsonl").stat().st_size == size
    # the rows speak too, run.json or not
    (run / "run.json").unlink()
    with pytest.raises(RunMismatch, match="seed 0 there, 3 here"):
        run_bench(BenchSpec(tuple(files(insts)), ("baseline",), 5.0, seed=3), run,
                  progress=False)
    # --force: the old rows go aside, the run starts over with the new parameters
    assert main([*base, "--time-limit", "5", "--seed", "3", "--force"]) == 0
    assert "2 old rows moved to" in capsys.readouterr().err
    [old] = run.glob("superseded-*")
    assert len(load_results(old)) == 2 and {r["seed"] for r in load_results(old)} == {0}
    rows = load_results(run)
    info = json.loads((run / "run.json").read_text())
    assert len(rows) == 2 and {r["seed"] for r in rows} == {3} and info["seed"] == 3
    assert "resumed" not in info and len(info["sessions"]) == 1


def test_run_json_describes_every_row(insts, tmp_path):
    """Pairs may be added; run.json then lists the union, and each row names its
    session."""
    a, b = files(insts)
    run = tmp_path / "run"
    run_bench(BenchSpec((a,), ("baseline",), 5.0), run, progress=False)
    run_bench(BenchSpec((b,), ("heft",), 5.0), run, progress=False)
    info = json.loads((run / "run.json").read_text())
    rows = load_results(run)
    assert info["instances"] == [a, b] and info["solvers"] == ["baseline", "heft"]
    assert info["resumed"] == 1 and len(info["sessions"]) == 2
    assert [r["session"] for r in rows] == [0, 1]
    assert all((r["time_limit_s"], r["seed"]) == (info["time_limit_s"], info["seed"])
               for r in rows)


# ----------------------------------------------------------------------- orphan-free kill


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
@pytest.mark.parametrize("sig,group", [(signal.SIGKILL, False), (signal.SIGTERM, False),
                                       (signal.SIGINT, False), (signal.SIGINT, True)],
                         ids=["SIGKILL", "SIGTERM", "SIGINT", "Ctrl-C"])
def test_a_killed_bench_leaves_no_worker_and_writes_nothing_after(insts, tmp_path, sig,
                                                                  group):
    """The signal goes to the bench alone, or (Ctrl-C) to its whole process group."""
    run = tmp_path / "run"
    sleep = 6.0  # an orphan would outlive the 5 s allowed
    proc = slow_bench(insts, run, sleep, "--jobs", "2", start_new_session=True)
    sid = proc.pid
    try:
        assert wait_for(lambda: len(live(lambda ppid, _: ppid == proc.pid)) == 2), \
            "no worker started"
        if group:
            os.killpg(sid, sig)
        else:
            proc.send_signal(sig)
        t_kill = time.time()
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == {signal.SIGKILL: -9, signal.SIGTERM: 143,
                               signal.SIGINT: 130}[sig], proc.stderr.read()
    assert wait_for(lambda: not live(lambda _, s: s == sid), timeout=5), \
        f"still running in the bench's session: {live(lambda _, s: s == sid)}"
    assert time.time() - t_kill < 5
    if sig != signal.SIGKILL:
        err = proc.stderr.read().decode()
        assert "Traceback" not in err and "interrupted" in err, err

    def written():
        res = run / "results.jsonl"
        return (res.stat().st_size if res.exists() else 0,
                sorted(p.name for p in (run / "schedules").iterdir()))

    before = written()
    time.sleep(0.5)
    assert written() == before == (0, [])


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
def test_a_killed_dask_bench_leaves_no_worker(insts, tmp_path):
    """The local Dask cluster's workers (spawned, so SLOW_BENCH's pickled ``slow`` runs
    in them) go with a SIGKILLed bench too."""
    pytest.importorskip("dask.distributed")
    run = tmp_path / "run"
    proc = slow_bench(insts, run, 6.0, "--executor", "dask", "--jobs", "2",
                      start_new_session=True)
    sid = proc.pid
    try:
        assert wait_for(lambda: (run / "run.json").exists(), timeout=60)
        time.sleep(1.0)  # the pairs start
        assert len(live(lambda _, s: s == sid)) > 2
        proc.kill()
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert wait_for(lambda: not live(lambda _, s: s == sid), timeout=5), \
        f"still running in the bench's session: {live(lambda _, s: s == sid)}"
    assert (run / "results.jsonl").read_text() == ""
    assert not list((run / "schedules").iterdir())


# ---------------------------------------------------------------- unreachable scheduler


@pytest.mark.slow
def test_an_unreachable_dask_scheduler_is_one_line_and_no_files(insts, tmp_path, capsys):
    pytest.importorskip("dask.distributed")
    argv = ["bench", *files(insts), "--solvers", "baseline", "--executor", "dask",
            "--address", "tcp://127.0.0.1:1", "--connect-timeout", "1"]
    t0 = time.time()
    assert main([*argv, "-o", str(tmp_path / "new")]) == 1
    assert time.time() - t0 < 10
    err = one_line(capsys.readouterr().err)
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:1" in err
    assert not (tmp_path / "new").exists()
    # a folder with a finished run: left as it was
    run = tmp_path / "run"
    run_bench(BenchSpec(tuple(files(insts)), ("baseline",), 60.0), run, progress=False)
    info = (run / "run.json").read_text()
    assert main([*argv, "-o", str(run)]) == 1
    one_line(capsys.readouterr().err)
    assert (run / "run.json").read_text() == info and len(load_results(run)) == 2


# ----------------------------------------------------------- dedupe, resume line, --jobs


def test_an_instance_named_twice_runs_once(insts, tmp_path, capsys, monkeypatch):
    a, b = files(insts)
    monkeypatch.chdir(insts)
    again = [a, str(insts), "i0.json", str(insts / ".." / insts.name / "i1.json"), b]
    assert expand_instances(again) == [a, b]
    run = tmp_path / "run"
    rows = run_bench(BenchSpec((a, "i0.json", a), ("baseline", "h2h"), 5.0), run,
                     progress=False)
    assert [(r["instance_file"], r["solver"]) for r in rows] == [(a, "baseline"), (a, "h2h")]
    # another spelling of a done pair is done
    assert len(run_bench(BenchSpec(("i0.json",), ("h2h",), 5.0), run, progress=False)) == 2
    assert main(["bench", *again, "--solvers", "baseline", "-o", str(tmp_path / "c")]) == 0
    assert len(load_results(tmp_path / "c")) == 2


def test_a_resumed_run_says_what_it_found_done(insts, tmp_path, capsys):
    run = str(tmp_path / "run")
    a, b = files(insts)
    assert main(["bench", a, "--solvers", "baseline,h2h", "-o", run]) == 0
    assert "resuming" not in capsys.readouterr().err
    assert main(["bench", a, b, "--solvers", "baseline,h2h", "-o", run]) == 0
    err = capsys.readouterr().err
    assert err.count("resuming") == 1 and "resuming: 2 of 4 pairs already done\n" in err


def test_jobs_below_one_is_refused(insts, tmp_path, capsys):
    assert main(["bench", *files(insts), "--jobs", "0", "-o", str(tmp_path / "r")]) == 2
    assert "argument --jobs: expected an integer >= 1, got '0'" in one_line(
        capsys.readouterr().err)
    assert not (tmp_path / "r").exists()
    with pytest.raises(ValueError, match="jobs"):
        run_bench(BenchSpec(tuple(files(insts)), ("baseline",), jobs=0), tmp_path / "r")
    assert not (tmp_path / "r").exists()


def test_an_instance_changed_since_its_rows_is_refused(insts, tmp_path, capsys):
    src = files(insts)[0]
    inst = tmp_path / "inst.json"
    inst.write_bytes(Path(src).read_bytes())
    run = tmp_path / "run"
    argv = ["bench", str(inst), "--solvers", "baseline", "-o", str(run)]
    assert main(argv) == 0
    capsys.readouterr()
    assert main(argv) == 0  # unchanged: resumes
    capsys.readouterr()
    write_instance(random_layered(12, 3, seed=5), inst)
    assert main(argv) == 2
    assert f"{inst} changed since its rows were made" in one_line(capsys.readouterr().err)
    assert main([*argv, "--force"]) == 0
    [row] = load_results(run)
    assert row["layers"] == 12


def test_run_json_without_rows_is_replaced(insts, tmp_path):
    """A run killed before its first pair left run.json only: nothing to mix with."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"time_limit_s": 9.0, "seed": 4}))
    rows = run_bench(BenchSpec(tuple(files(insts)), ("baseline",), 5.0), run,
                     progress=False)
    info = json.loads((run / "run.json").read_text())
    assert len(rows) == 2 and (info["time_limit_s"], info["seed"]) == (5.0, 0)
    assert not list(run.glob("superseded-*"))


# ------------------------------------------------------------ what the folder holds


def test_a_reader_never_cuts_the_file_and_a_bad_middle_line_is_refused(insts, tmp_path,
                                                                      capsys):
    run = tmp_path / "run"
    argv = ["bench", *files(insts), "--solvers", "baseline,h2h", "-o", str(run)]
    run_bench(BenchSpec(tuple(files(insts))[:1], ("baseline", "h2h"), 60.0), run,
              progress=False)
    res = run / "results.jsonl"
    whole = res.read_bytes()
    res.write_bytes(whole + b'{"instance_file": "half a li')  # a bench writing, or killed
    assert len(load_results(run)) == 2  # a reader (h2h report) drops it, in memory only
    assert res.read_bytes().endswith(b"half a li")
    first, second = whole.splitlines(keepends=True)
    res.write_bytes(first + b"garbage\n" + second)
    with pytest.raises(CorruptResults, match=r"results.jsonl:2: not a result row"):
        load_results(run)
    assert main(argv) == 1
    assert "results.jsonl:2" in one_line(capsys.readouterr().err)
    assert res.read_bytes() == first + b"garbage\n" + second  # nothing dropped
    res.write_bytes(first + b'{"solver": "h2h"}\n' + second)
    assert main(argv) == 1
    assert "results.jsonl:2: a row without" in one_line(capsys.readouterr().err)


def test_an_unreadable_run_json_is_a_mismatch(insts, tmp_path, capsys):
    run = tmp_path / "run"
    argv = ["bench", *files(insts), "--solvers", "baseline", "-o", str(run)]
    assert main(argv) == 0
    (run / "run.json").write_text('{"seed": 0, "time_li')  # cut short
    capsys.readouterr()
    assert main(argv) == 2
    assert "run.json unreadable" in one_line(capsys.readouterr().err)
    assert main([*argv, "--force"]) == 0
    assert json.loads((run / "run.json").read_text())["seed"] == 0


def test_an_output_that_cannot_be_a_folder_is_one_line(insts, tmp_path, capsys):
    (tmp_path / "file").write_text("")
    argv = ["bench", *files(insts), "--solvers", "baseline", "-o"]
    assert main([*argv, str(tmp_path / "file")]) == 1
    assert "cannot be a run folder" in one_line(capsys.readouterr().err)
    assert main([*argv, str(tmp_path / "file" / "run")]) == 1
    one_line(capsys.readouterr().err)


# a bench that is sent SIGINT from inside the fork hooks of its first worker
SIGINT_IN_FORK = """
import os, signal, sys
fired = []
def hook():
    if not fired:
        fired.append(1)
        os.kill(os.getpid(), signal.SIGINT)
os.register_at_fork(after_in_parent=hook)
from h2h_opt.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="POSIX signal masks")
def test_ctrl_c_while_a_worker_is_forked_is_not_lost(insts, tmp_path):
    run = tmp_path / "run"
    done = subprocess.run([sys.executable, "-c", SIGINT_IN_FORK, "bench", *files(insts),
                           "--solvers", "baseline,h2h,heft", "-o", str(run)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 130, done.stderr
    assert "Exception ignored" not in done.stderr and "interrupted" in done.stderr
    assert len(load_results(run)) < 6


def test_a_run_from_before_sessions_keeps_its_first_session(insts, tmp_path):
    """A run.json without ``sessions`` (older runs): resuming it records the original
    parameters as session 0 before the new one, so its git hash is not lost."""
    a, b = files(insts)
    run = tmp_path / "run"
    run_bench(BenchSpec((a,), ("baseline",), 5.0), run, progress=False)
    info = json.loads((run / "run.json").read_text())
    del info["sessions"]
    info["git"] = "0" * 40
    (run / "run.json").write_text(json.dumps(info))
    run_bench(BenchSpec((b,), ("baseline",), 5.0), run, progress=False)
    info = json.loads((run / "run.json").read_text())
    assert [s["git"] for s in info["sessions"]][0] == "0" * 40
    assert len(info["sessions"]) == 2


def test_bench_options_reach_the_solvers_that_declare_them(insts, monkeypatch):
    """bench --option: each solver is given the options it declares, none other; the
    row records the bench's options (what a resume compares)."""
    import h2h_opt.solvers as solvers

    seen: dict[str, dict] = {}
    real = solvers.solve

    def spy(inst, solver, params=None, initial=None):
        seen[solver] = dict(params.options)
        return real(inst, solver, params, initial)

    monkeypatch.setattr(solvers, "solve", spy)
    opts = {"passes": 0, "cap": 10_000}  # h2h declares both, baseline the cap, heft none
    for solver in ("h2h", "baseline", "heft"):
        row = run_pair(files(insts)[0], solver, 5.0, 0, options=opts)
        assert row["status"] != "error" and row["options"] == opts, row
    assert seen == {"h2h": opts, "baseline": {"cap": 10_000}, "heft": {}}
    assert "options" not in run_pair(files(insts)[0], "heft", 5.0, 0)  # none: as before


def test_bench_options_are_checked_recorded_and_kept_on_resume(insts, tmp_path, capsys):
    run = tmp_path / "run"
    base = ["bench", *files(insts), "--solvers", "baseline,h2h", "--time-limit", "5",
            "-o", str(run)]
    assert main([*base, "--option", "nope=1"]) == 2  # no solver of the bench declares it
    err = one_line(capsys.readouterr().err)
    assert "--option nope: none of the solvers (baseline, h2h) declares it" in err
    assert main([*base, "--option", "passes=-1"]) == 2  # a value h2h does not allow
    assert "option 'passes'" in one_line(capsys.readouterr().err)
    assert not run.exists()
    assert main([*base, "--option", "passes=0"]) == 0
    capsys.readouterr()
    info = json.loads((run / "run.json").read_text())
    rows = load_results(run)
    assert info["options"] == {"passes": 0} and len(rows) == 4
    assert all(r["options"] == {"passes": 0} for r in rows)
    assert main(base) == 2  # the rows were made with it: resuming without it is refused
    assert "options {'passes': 0} there, {} here" in one_line(capsys.readouterr().err)
    assert main([*base, "--option", "passes=0"]) == 0  # the same: nothing to add
    assert len(load_results(run)) == 4
