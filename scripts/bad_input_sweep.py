"""Run ``h2h`` on a table of bad invocations and classify what each one does.

Every case runs as a subprocess (``sys.executable -m h2h_opt.cli ...``) in a fresh
temporary directory holding a few good and bad files, with a timeout and a memory
limit.  A case is

* clean    - exit != 0, stderr exactly one non-empty line, no "Traceback";
* crash    - a traceback on stderr, or killed by a signal;
* accepted - exit 0 (the bad input went through);
* hang     - the timeout struck;
* messy    - failed without a traceback but not in one line (counted apart).

Usage: ``python scripts/bad_input_sweep.py [-k SUBSTRING] [--timeout S] [-v]``.
Exit 0 when every case is clean.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOOD = ROOT / "tests" / "data" / "good_small.json"
REF1 = ROOT / "instances" / "examples" / "reference-1acc-1.25GBps.json"
REF1_SCHED = ROOT / "instances" / "examples" / "reference-1acc-1.25GBps.serial.schedule.json"
STG = ROOT / "tests" / "data" / "stg" / "rand0000.stg"
GXL = ROOT / "tests" / "data" / "gxl" / "fork5.gxl"
UNWRITABLE = "/proc/h2h-sweep/out.json"  # no one can create files there, not even root


def _setup(d: Path) -> None:
    """The files the cases refer to, by name, in the working directory ``d``."""
    shutil.copy(GOOD, d / "good.json")
    shutil.copy(REF1, d / "ref1.json")
    shutil.copy(REF1_SCHED, d / "ref1.schedule.json")
    shutil.copy(STG, d / "g.stg")
    shutil.copy(GXL, d / "g.gxl")
    (d / "adir").mkdir()
    (d / "adir" / "x.json").write_text("{}")
    (d / "empty.json").write_text("")
    (d / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (d / "deepobj.json").write_text('{"a":' * 100_000 + "1" + "}" * 100_000)
    (d / "binary.json").write_bytes(bytes(range(256)) * 64)
    (d / "latin1.json").write_bytes(b'{"name": "caf\xe9"}')
    (d / "nul.json").write_bytes(b"\x00" * 100)
    (d / "huge_int.json").write_text(json.dumps({"format_version": 1, "name": "x" * 10}
                                                 ).replace("1", "1" * 5000, 1))
    (d / "list.json").write_text("[1, 2, 3]")
    (d / "null.json").write_text("null")
    (d / "bom.json").write_bytes(b"\xef\xbb\xbf" + GOOD.read_bytes())
    os.mkfifo(d / "fifo.json")
    good = json.loads(GOOD.read_text())
    v2 = dict(good, format_version=2)
    (d / "v2.json").write_text(json.dumps(v2))
    many = json.loads(GOOD.read_text())
    many["workload"]["layers"][0]["op"] = 7
    many["workload"]["layers"][1]["shape"] = "x"
    many["system"]["accelerators"][0]["power_w"] = "hot"
    (d / "many_errors.json").write_text(json.dumps(many))
    # schedules
    sched = json.loads(REF1_SCHED.read_text())
    (d / "sched_wrong_acc.json").write_text(json.dumps(
        dict(sched, layers=[dict(r, accelerator="nope") for r in sched["layers"]], orders=None)))
    (d / "sched_neg_start.json").write_text(json.dumps(
        dict(sched, layers=[dict(r, start_s=-1.0) for r in sched["layers"]])))
    (d / "sched_missing_layers.json").write_text(json.dumps(dict(sched, layers=[])))
    (d / "sched_unknown_layer.json").write_text(json.dumps(
        dict(sched, layers=[*sched["layers"], dict(sched["layers"][0], id="ZZZ")])))
    (d / "sched_bad_orders.json").write_text(json.dumps(dict(sched, orders=[1, 2])))
    (d / "sched_orders_dup.json").write_text(json.dumps(
        dict(sched, orders={a: o + o[:1] for a, o in sched["orders"].items()})))
    (d / "sched_start_str.json").write_text(json.dumps(
        dict(sched, layers=[dict(r, start_s="0") for r in sched["layers"]])))
    (d / "sched_resident_str.json").write_text(json.dumps(
        dict(sched, layers=[dict(r, resident="yes") for r in sched["layers"]])))
    (d / "sched_overlap.json").write_text(json.dumps(
        dict(sched, layers=[dict(r, start_s=0.0) for r in sched["layers"]])))
    (d / "sched_huge_start.json").write_text(json.dumps(
        dict(sched, layers=[dict(r, start_s=1e308) for r in sched["layers"]])))
    (d / "sched_bad_locality.json").write_text(json.dumps(dict(sched, locality="sideways")))
    (d / "sched_meta_list.json").write_text(json.dumps(dict(sched, meta=[1, 2])))
    # importer inputs
    (d / "bad.stg").write_text("2\n0 0 0\n1 3 1 0\n2 x 1 1\n3 0 1 2\n")
    (d / "bad.gxl").write_text("<gxl><graph><node id='a'></graph>")
    (d / "bad.csv").write_text("layer,accelerator,time_s\nA,nope,oops\n")
    (d / "bad.onnx").write_bytes(b"not an onnx model")
    # a report run directory that is no run
    (d / "norun").mkdir()
    (d / "badrun").mkdir()
    (d / "badrun" / "results.jsonl").write_text("{not json\n")
    (d / "costs.csv").write_text("layer,accelerator,time_s\nA,acc0,0.001\nB,acc0,0.002\n")
    if _RUN is not None:
        shutil.copytree(_RUN, d / "run")


_RUN: Path | None = None  # a finished bench run, made once (report's cases need one)


def _make_run(cache: Path) -> Path:
    shutil.copy(GOOD, cache / "good.json")
    subprocess.run([sys.executable, "-m", "h2h_opt.cli", "bench", "good.json", "--solvers",
                    "baseline", "-o", "run", "--json"], cwd=cache, capture_output=True,
                   env=dict(os.environ, PYTHONPATH=str(ROOT)), check=True, timeout=120)
    return cache / "run"


# (name, argv): argv names files made by _setup; argv "|" first: stdout closed early
Case = tuple[str, list[str]]


def _cases() -> list[Case]:
    c: list[Case] = []

    def add(name: str, *argv: str) -> None:
        c.append((name, list(argv)))

    # ---- usage (argparse)
    add("no command")
    add("unknown command", "frobnicate")
    add("unknown flag", "info", "--frob")
    add("validate no arg", "validate")
    add("validate two args", "validate", "a.json", "b.json")
    add("evaluate one arg", "evaluate", "good.json")
    add("solve unknown solver", "solve", "good.json", "--solver", "nope")
    add("solve no instance", "solve")
    add("import no format", "import")
    add("import unknown format", "import", "xml", "a")
    add("import stg no procs", "import", "stg", "g.stg", "-o", "o.json")
    add("import stg procs 0", "import", "stg", "g.stg", "--procs", "0", "-o", "o.json")
    add("import stg procs abc", "import", "stg", "g.stg", "--procs", "abc", "-o", "o.json")
    add("generate no output", "generate", "examples")
    add("generate unknown suite", "generate", "nope", "-o", "out")
    add("bench no output", "bench", "good.json")
    add("report no output", "report", "norun")
    add("normalise no output", "normalise", "good.json")
    add("compare unknown solver", "compare", "good.json", "--solvers", "nope")
    add("compare empty solvers", "compare", "good.json", "--solvers", ",")
    add("bench unknown solver", "bench", "good.json", "--solvers", "zz", "-o", "run")
    # ---- numbers
    for flag, bad in [("--time-limit", "-1"), ("--time-limit", "0"), ("--time-limit", "nan"),
                      ("--time-limit", "inf"), ("--time-limit", "abc"), ("--workers", "0"),
                      ("--workers", "-3"), ("--rel-gap", "-0.1"), ("--rel-gap", "1.5"),
                      ("--rel-gap", "nan"), ("--seed", "-1"), ("--seed", str(2**31)),
                      ("--seed", str(2**70)), ("--seed", "1.5")]:
        add(f"solve {flag} {bad}", "solve", "good.json", "--solver", "h2h", f"{flag}={bad}")
    add("solve cpsat --seed 2**31", "solve", "good.json", "--solver", "cpsat",
        f"--seed={2**31}", "--time-limit", "5")
    add("solve cpsat --workers 0", "solve", "good.json", "--solver", "cpsat", "--workers", "0")
    add("evaluate --max-violations -1", "evaluate", "ref1.json", "ref1.schedule.json",
        "--max-violations", "-1")
    add("compare --time-limit -1", "compare", "good.json", "--solvers", "h2h",
        "--time-limit", "-1")
    add("compare --time-limit nan", "compare", "good.json", "--solvers", "h2h",
        "--time-limit", "nan")
    add("compare --seed -5", "compare", "good.json", "--solvers", "h2h", "--seed", "-5")
    add("bench --time-limit 0", "bench", "good.json", "--time-limit", "0", "-o", "run")
    add("bench --jobs 0", "bench", "good.json", "--jobs", "0", "-o", "run")
    add("bench --seed -1", "bench", "good.json", "--seed", "-1", "-o", "run")
    add("generate --seed -1", "generate", "examples", "--seed", "-1", "-o", "out")
    add("import onnx --bandwidth -1", "import", "onnx", "bad.onnx", "--bandwidth", "-1",
        "-o", "o.json")
    add("import onnx --element-bytes 0", "import", "onnx", "bad.onnx", "--element-bytes", "0",
        "-o", "o.json")
    add("import maestro --clock-mhz 0", "import", "maestro", "bad.csv", "--instance",
        "good.json", "--layer-map", "bad.csv", "--clock-mhz", "0", "-o", "o.json")
    # ---- solver options
    add("solve --option no =", "solve", "good.json", "--option", "frob")
    add("solve --option unknown", "solve", "good.json", "--option", "frob=1")
    add("solve --option bad type", "solve", "good.json", "--solver", "h2h_plus",
        "--option", "max_evals=abc")
    add("solve --option negative", "solve", "good.json", "--solver", "h2h_plus",
        "--option", "max_evals=-5")
    add("solve --option empty key", "solve", "good.json", "--option", "=3")
    add("solve cpsat --option unknown", "solve", "good.json", "--solver", "cpsat",
        "--option", "nonsense=1")
    add("solve --list-options --option", "solve", "--list-options", "--solver", "h2h",
        "--option", "x=1")
    # ---- instance files, through each reading command
    bad_files = ["missing.json", "adir", "empty.json", "deep.json", "deepobj.json",
                 "binary.json", "latin1.json", "nul.json", "list.json", "null.json",
                 "v2.json", "/dev/zero", "fifo.json", "/dev/null", "many_errors.json",
                 "g.stg"]
    for f in bad_files:
        add(f"validate {f}", "validate", f)
    for f in ["adir", "deep.json", "binary.json", "/dev/zero", "fifo.json", "empty.json",
              "missing.json"]:
        add(f"info {f}", "info", f)
        add(f"solve {f}", "solve", f, "--solver", "baseline")
        add(f"evaluate {f} (instance)", "evaluate", f, "ref1.schedule.json")
        add(f"evaluate {f} (schedule)", "evaluate", "ref1.json", f)
        add(f"normalise {f}", "normalise", f, "-o", "o.json")
    add("compare deep.json", "compare", "deep.json", "--solvers", "h2h")
    add("compare /dev/zero", "compare", "/dev/zero", "--solvers", "h2h")
    add("bench deep.json", "bench", "deep.json", "-o", "run")
    add("bench fifo", "bench", "fifo.json", "-o", "run")
    add("validate --json many_errors", "validate", "--json", "many_errors.json")
    add("validate --json binary", "validate", "--json", "binary.json")
    add("validate huge int", "validate", "huge_int.json")
    # ---- schedules
    for f in ["sched_wrong_acc.json", "sched_neg_start.json", "sched_missing_layers.json",
              "sched_unknown_layer.json", "sched_bad_orders.json", "sched_orders_dup.json",
              "sched_start_str.json", "sched_resident_str.json", "sched_overlap.json",
              "sched_bad_locality.json", "sched_meta_list.json",
              "good.json", "list.json", "deep.json"]:
        add(f"evaluate {f}", "evaluate", "ref1.json", f)
    add("evaluate schedule of other instance", "evaluate", "good.json", "ref1.schedule.json")
    # ---- outputs
    for flag in ["-o", "--result", "--gantt", "--log"]:
        out_ext = ".png" if flag == "--gantt" else ".json"
        add(f"solve {flag} a directory", "solve", "ref1.json", "--solver", "baseline",
            flag, "adir")
        add(f"solve {flag} under a file", "solve", "ref1.json", "--solver", "baseline",
            flag, "good.json/x" + out_ext)
        add(f"solve {flag} unwritable", "solve", "ref1.json", "--solver", "baseline",
            flag, UNWRITABLE.replace(".json", out_ext))
    add("solve --log dir (cpsat)", "solve", "good.json", "--solver", "cpsat", "--log", "adir",
        "--time-limit", "5")
    add("solve --locality bad", "solve", "good.json", "--locality", "sideways")
    add("solve cpsat adjacent instance", "solve", "ref1.json", "--solver", "cpsat")
    add("solve --gantt .xyz", "solve", "ref1.json", "--solver", "baseline", "--gantt", "g.xyz")
    add("solve --gantt no extension", "solve", "ref1.json", "--solver", "baseline",
        "--gantt", "gantt")
    add("solve -o its own input", "solve", "ref1.json", "--solver", "baseline", "-o",
        "ref1.json")
    add("solve --result its own input", "solve", "ref1.json", "--solver", "baseline",
        "--result", "ref1.json")
    add("solve -o ./its own input", "solve", "ref1.json", "--solver", "baseline", "-o",
        "./ref1.json")
    add("solve -o and --result the same", "solve", "ref1.json", "--solver", "baseline", "-o",
        "x.json", "--result", "x.json")
    add("solve a schedule file", "solve", "ref1.schedule.json")
    add("validate a schedule file", "validate", "ref1.schedule.json")
    add("info a schedule file", "info", "ref1.schedule.json")
    add("solve --locality none", "solve", "good.json", "--locality", "none")
    add("solve --list-options with instance", "solve", "good.json", "--list-options")
    add("schema -o a directory", "schema", "-o", "adir")
    add("schema -o under a file", "schema", "-o", "good.json/x.json")
    add("schema -o unwritable", "schema", "-o", UNWRITABLE)
    add("normalise -o a directory", "normalise", "good.json", "-o", "adir")
    add("normalise -o under a file", "normalise", "good.json", "-o", "good.json/x.json")
    add("normalise -o unwritable", "normalise", "good.json", "-o", UNWRITABLE)
    add("report -o a file", "report", "run", "-o", "good.json")
    add("report -o under a file", "report", "run", "-o", "good.json/r")
    add("report -o unwritable", "report", "run", "-o", "/proc/h2h-sweep/r")
    add("report --gantt unknown pair", "report", "run", "-o", "rep", "--gantt", "x::y")
    add("report no run", "report", "norun", "-o", "rep")
    add("report missing run", "report", "missing", "-o", "rep")
    add("report bad run", "report", "badrun", "-o", "rep")
    add("import stg -o a directory", "import", "stg", "g.stg", "--procs", "2", "-o", "adir")
    add("import stg -o under a file", "import", "stg", "g.stg", "--procs", "2", "-o",
        "good.json/x.json")
    add("import stg -o unwritable", "import", "stg", "g.stg", "--procs", "2", "-o",
        UNWRITABLE)
    add("import gxl -o a directory", "import", "gxl", "g.gxl", "--procs", "2", "-o", "adir")
    add("import costs -o a directory", "import", "costs", "costs.csv", "--instance",
        "good.json", "-o", "adir")
    add("generate -o a file", "generate", "examples", "-o", "good.json")
    add("generate -o under a file", "generate", "examples", "-o", "good.json/x")
    add("bench -o a file", "bench", "good.json", "-o", "good.json")
    # ---- importers' inputs
    add("import stg bad", "import", "stg", "bad.stg", "--procs", "2", "-o", "o.json")
    add("import stg binary", "import", "stg", "binary.json", "--procs", "2", "-o", "o.json")
    add("import stg dir", "import", "stg", "adir", "--procs", "2", "-o", "o.json")
    add("import stg /dev/zero", "import", "stg", "/dev/zero", "--procs", "2", "-o", "o.json")
    add("import stg fifo", "import", "stg", "fifo.json", "--procs", "2", "-o", "o.json")
    add("import gxl bad", "import", "gxl", "bad.gxl", "--procs", "2", "-o", "o.json")
    add("import gxl binary", "import", "gxl", "binary.json", "--procs", "2", "-o", "o.json")
    add("import gxl dir", "import", "gxl", "adir", "--procs", "2", "-o", "o.json")
    add("import costs bad", "import", "costs", "bad.csv", "--instance", "good.json",
        "-o", "o.json")
    add("import costs dir", "import", "costs", "adir", "--instance", "good.json",
        "-o", "o.json")
    add("import costs binary", "import", "costs", "binary.json", "--instance", "good.json",
        "-o", "o.json")
    add("import onnx bad", "import", "onnx", "bad.onnx", "-o", "o.json")
    add("import onnx unknown system", "import", "onnx", "bad.onnx", "--system", "zz",
        "-o", "o.json")
    add("import maestro bad", "import", "maestro", "bad.csv", "--instance", "good.json",
        "--layer-map", "bad.csv", "--clock-mhz", "800", "-o", "o.json")
    add("generate bad param", "generate", "random", "--param", "layers=-3", "-o", "out")
    add("generate unknown param", "generate", "random", "--param", "zz=1", "-o", "out")
    # ---- closed stdout
    add("|head info", "|", "info", "ref1.json")
    add("|head info zoo", "|", "info")
    add("|head schema", "|", "schema")
    add("|head solve", "|", "solve", "ref1.json", "--solver", "baseline")
    add("|head validate --json", "|", "validate", "--json", "good.json")
    return c


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))


def run_case(argv: list[str], cwd: Path, timeout: float) -> tuple[str, int | None, str]:
    """Run one case; return (class, exit code, stderr)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    base = [sys.executable, "-m", "h2h_opt.cli"]
    if argv[:1] == ["|"]:  # stdout closed after five bytes
        cmd: list[str] | str = " ".join(map(_quote, base + argv[1:])) + " | head -c 5 >/dev/null"
        shell = True
    else:
        cmd, shell = base + argv, False
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=env, shell=shell, capture_output=True,
                              timeout=timeout, preexec_fn=_limit_memory, stdin=subprocess.DEVNULL,
                              executable="/bin/bash" if shell else None)
    except subprocess.TimeoutExpired as exc:
        err = exc.stderr.decode("utf-8", "replace") if exc.stderr else ""
        return "hang", None, err
    err = proc.stderr.decode("utf-8", "replace")
    rc = proc.returncode
    if "Traceback" in err or rc < 0 or rc > 128 and rc != 130:
        return "crash", rc, err
    if argv[:1] == ["|"]:  # a good command whose reader went away: exit quietly
        return ("clean" if not err.strip() else "messy"), rc, err
    if rc == 0:
        return "accepted", rc, err
    lines = err.strip("\n").split("\n")
    if len(lines) == 1 and lines[0].strip():
        return "clean", rc, err
    return "messy", rc, err


def _quote(s: str) -> str:
    import shlex

    return shlex.quote(s)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-k", default="", help="only cases whose name contains this")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("-v", "--verbose", action="store_true", help="print stderr of bad cases")
    ap.add_argument("--json", help="also write the rows to this JSON file")
    ap.add_argument("-j", "--jobs", type=int, default=2, help="cases at a time")
    a = ap.parse_args(argv)
    cases = [case for case in _cases() if a.k in case[0]]
    counts: Counter[str] = Counter()
    rows = []

    def one(case: Case) -> tuple[str, int | None, str]:
        with tempfile.TemporaryDirectory(prefix="h2h-sweep-") as tmp:
            d = Path(tmp)
            _setup(d)
            return run_case(case[1], d, a.timeout)

    global _RUN
    cache = Path(tempfile.mkdtemp(prefix="h2h-sweep-run-"))
    _RUN = _make_run(cache)
    with ThreadPoolExecutor(max(1, a.jobs)) as pool:
        outcomes = list(pool.map(one, cases))
    for (name, _), (kind, rc, err) in zip(cases, outcomes, strict=True):
        counts[kind] += 1
        first = next((ln for ln in err.splitlines()[::-1] if ln.strip()), "")
        rows.append({"case": name, "class": kind, "exit": rc, "stderr_lines":
                     len(err.strip().splitlines()), "last_line": first[:200]})
        print(f"{kind:<8} {rc!s:>4} {len(err.strip().splitlines()):>4}  {name:<42}"
              f" {first[:110]}", flush=True)
        if a.verbose and kind != "clean":
            print("    " + err.strip().replace("\n", "\n    ")[:3000])
    shutil.rmtree(cache, ignore_errors=True)
    print()
    print(f"{len(cases)} cases: " + ", ".join(f"{k} {counts[k]}" for k in
                                              ("clean", "crash", "accepted", "hang", "messy")))
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1) + "\n")
    return 0 if counts["clean"] == len(cases) else 1


if __name__ == "__main__":
    sys.exit(main())
