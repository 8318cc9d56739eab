"""Run every (instance, solver) pair of a set, resumably (``h2h bench``).

A run directory holds ``run.json`` (parameters, versions, git hash, machine) and
``results.jsonl``: one JSON line per finished pair, appended and flushed as the pair
completes.  Re-running the same command skips the pairs already there; a line cut short
by a kill is dropped and its pair run again, so nothing is lost or duplicated.  Each pair
runs in a process of its own (local executor) or as a task of a Dask cluster: a solver
that crashes, or a worker that is killed, costs only its own pair, recorded as an error.
Every schedule is re-checked by the evaluator inside the worker.

Safety of the run folder:

* one bench at a time: ``RUN/.lock`` is held (``flock``) for the whole run; a second
  bench on the same folder refuses (:class:`RunBusy`).  The kernel drops the lock when
  the process dies, also on SIGKILL.
* no mixed runs: the parameters that shape a row (``time_limit_s``, ``seed``) must equal
  those of the rows already there, and an instance file with rows must hold what it held
  when they were made (``run.json`` keeps each file's SHA-256), else the run refuses
  naming what differs (:class:`RunMismatch`).  With ``force=True`` (``--force``) the
  old ``results.jsonl``, ``run.json`` and ``schedules/`` are moved into
  ``RUN/superseded-<time>/`` and the run starts over.  A ``run.json`` without rows (a run
  killed before its first pair) is simply replaced.  Instances and solvers may be
  added: ``run.json`` lists the union of all sessions' instances and solvers, so it
  describes every row; ``sessions`` lists each invocation (start, git hash, versions)
  and every row names the session that made it.
* no orphans: only the parent writes ``results.jsonl``; each local worker ignores SIGINT
  (the parent stops it), and dies with its parent (``PR_SET_PDEATHSIG`` on Linux, else a
  thread watching ``os.getppid()``), so a killed bench leaves no worker running.
* the Dask scheduler is reached (``connect_timeout_s``, default 10 s) before anything is
  written; an unreachable one is one line (:class:`BenchError`) and leaves no files.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import multiprocessing as mp
import multiprocessing.connection
import os
import platform
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from ..io import atomic_write

__all__ = ["BenchError", "BenchSpec", "CorruptResults", "RunBusy", "RunMismatch",
           "check_bench_options", "load_results", "pair_key", "run_bench", "run_pair",
           "solver_share"]

RESULTS = "results.jsonl"
LOCK = ".lock"
#: the parameters that shape a row: a run folder holds rows of one value of each
ROW_PARAMS = ("time_limit_s", "seed", "mode", "points", "options")
#: what a row (or ``run.json``) without one of them was made with: runs from before
#: ``bench --pareto`` solved each pair once
ROW_DEFAULTS: dict[str, Any] = {"mode": "solve", "points": None, "options": {}}


class BenchError(Exception):
    """A bench that cannot start: its folder is in use, or its executor unreachable
    (one line; the CLI exits 1)."""


class RunBusy(BenchError):
    """Another bench holds the run folder's lock."""


class CorruptResults(BenchError, ValueError):
    """``results.jsonl`` has a bad line before its last (not what a kill leaves)."""


class RunMismatch(ValueError):
    """The run folder holds rows made with other parameters (a usage error: the CLI
    exits 2)."""


@dataclass(frozen=True)
class BenchSpec:
    instances: tuple[str, ...]          # instance files
    solvers: tuple[str, ...]
    time_limit_s: float = 60.0
    seed: int = 0
    jobs: int = 1
    executor: str = "local"
    address: str | None = None
    save_schedules: bool = True
    connect_timeout_s: float = 10.0     # to reach a Dask scheduler at ``address``
    pareto_points: int | None = None    # a latency-energy front per pair, this many points
    #: solver options (``bench --option``): each solver gets the ones it declares
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def mode(self) -> str:
        return "pareto" if self.pareto_points else "solve"


def pair_key(instance: str, solver: str) -> str:
    return f"{instance}::{solver}"


def _same_file_key(path: str) -> str:
    return os.path.normcase(os.path.realpath(path))


def dedupe(paths: Iterable[str]) -> list[str]:
    """``paths`` in their order, a file named twice (by any spelling) kept once."""
    seen: set[str] = set()
    out = []
    for p in paths:
        key = _same_file_key(p)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def expand_instances(items: Iterable[str]) -> list[str]:
    """Files as given; directories contribute their ``*.json`` instances (sorted, the
    manifest and schedules left out).  A file reached twice is kept once, first place."""
    out: list[str] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            out += [str(f) for f in sorted(p.glob("*.json"))
                    if f.name != "MANIFEST.json" and not f.name.endswith(".schedule.json")]
        else:
            out.append(str(p))
    return dedupe(out)


def solver_share(solver: str, options: dict[str, Any]) -> dict[str, Any]:
    """The bench options ``solver`` declares (what it is given of ``bench --option``)."""
    from ..solvers import solver_options

    declared = {o.name for o in solver_options(solver)}
    return {k: v for k, v in options.items() if k in declared}


def check_bench_options(solvers: Iterable[str], options: dict[str, Any]) -> None:
    """Every option is declared by at least one of ``solvers`` and allowed by each that
    declares it; else ``ValueError``, one line (a usage error)."""
    from ..solvers import OptionError, solver_options
    from ..solvers.base import check_options

    solvers = list(solvers)
    declared = {o.name for s in solvers for o in solver_options(s)}
    for key in options:
        if key not in declared:
            raise ValueError(f"--option {key}: none of the solvers ({', '.join(solvers)})"
                             " declares it (see h2h solve --solver S --list-options)")
    for s in solvers:
        try:
            check_options(s, solver_options(s), solver_share(s, options))
        except OptionError as exc:
            raise ValueError(str(exc)) from None


def run_pair(instance_path: str, solver: str, time_limit_s: float, seed: int,
             schedule_dir: str | None = None, pareto_points: int | None = None,
             options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Solve one pair and check it with the evaluator; any exception becomes an error
    row.  With ``pareto_points``, the pair's latency-energy front instead
    (:func:`~h2h_opt.experiments.pareto.pareto_front`, the time limit for the whole
    front).  ``options``: the bench's (the solver is given those it declares; the row
    records them all, as the run does).  Runs in a worker process."""
    t0 = time.perf_counter()
    row: dict[str, Any] = {"instance_file": instance_path, "solver": solver,
                           "time_limit_s": time_limit_s, "seed": seed}
    if pareto_points:
        row.update(mode="pareto", points=pareto_points)
    if options:
        row["options"] = dict(options)
    try:
        from ..io import read_instance, write_schedule
        from ..solvers import SolveParams, solve
        from .summary import result_row

        inst = read_instance(instance_path)
        row.update(instance=inst.name, objective=inst.options.objective,
                   layers=inst.num_layers, accelerators=inst.num_accs)
        if pareto_points:
            row.update(_front_row(inst, solver, time_limit_s, seed, schedule_dir,
                                  pareto_points))
            row["wall_s"] = time.perf_counter() - t0
            return row
        res = solve(inst, solver, SolveParams(time_limit_s=time_limit_s, seed=seed,
                                              options=solver_share(solver, options or {})))
        row.update(result_row(inst, res))
        if res.schedule is not None and schedule_dir:
            path = Path(schedule_dir) / f"{inst.name}.{solver}.schedule.json"
            write_schedule(res.schedule, path)
            row["schedule"] = str(path)
    except Exception as exc:  # noqa: BLE001 - a crashing solver costs only its pair
        row.update(status="error", error=f"{type(exc).__name__}: {exc}")
    row["wall_s"] = time.perf_counter() - t0
    return row


def _front_row(inst: Any, solver: str, time_limit_s: float, seed: int,
               schedule_dir: str | None, points: int) -> dict[str, Any]:
    """A pair's front as row fields; every point's schedule written to
    ``schedule_dir`` (``NAME.SOLVER.pointK.schedule.json``)."""
    from ..evaluate import evaluate
    from ..io import write_schedule
    from .pareto import pareto_front

    front = pareto_front(inst, solver, points=points, time_limit_s=time_limit_s, seed=seed)
    doc = front.to_dict()
    for k, (p, d) in enumerate(zip(front.points, doc["points"], strict=True), start=1):
        if p.schedule is None:
            continue
        ev = evaluate(inst, p.schedule)  # the point's figures are the evaluator's
        d["feasible"] = ev.feasible and math.isclose(ev.latency, p.latency, rel_tol=1e-9) \
            and math.isclose(ev.energy, p.energy, rel_tol=1e-9)
        if schedule_dir:
            path = Path(schedule_dir) / f"{inst.name}.{solver}.point{k}.schedule.json"
            write_schedule(p.schedule, path)
            d["schedule"] = str(path)
    return {"status": "feasible" if front.points else "none",
            "feasible": all(d.get("feasible", False) for d in doc["points"])
            if doc["points"] else None,
            "front": doc["points"], "complete": front.complete, "steps": front.steps,
            "stopped": front.stopped, "time_s": front.time_s}


def _parse_row(line: bytes) -> dict[str, Any] | None:
    try:
        row = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return row if isinstance(row, dict) else None


def load_results(run_dir: str | Path, repair: bool = False) -> list[dict[str, Any]]:
    """The finished rows of a run.  The last line, if cut short by a kill (or not a
    row), is dropped; with ``repair`` (the bench does it, holding the run's lock) the
    file is truncated to its last complete row.  A bad line before the last is
    :class:`CorruptResults`: rows are never dropped silently."""
    path = Path(run_dir) / RESULTS
    if not path.exists():
        return []
    raw = path.read_bytes()
    lines = raw.splitlines(keepends=True)
    rows, good = [], 0
    for n, line in enumerate(lines, 1):
        row = _parse_row(line) if line.endswith(b"\n") else None
        if row is None:
            if n < len(lines):
                raise CorruptResults(f"{path}:{n}: not a result row; fix or remove that"
                                     " line")
            break
        rows.append(row)
        good += len(line)
    if repair and good != len(raw):
        with path.open("r+b") as fh:
            fh.truncate(good)
    return rows


def _git_hash() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             cwd=Path(__file__).resolve().parent, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _run_info(spec: BenchSpec) -> dict[str, Any]:
    from ..result import versions

    return {"instances": list(spec.instances), "solvers": list(spec.solvers),
            "time_limit_s": spec.time_limit_s, "seed": spec.seed, "mode": spec.mode,
            "points": spec.pareto_points, "options": dict(spec.options), "jobs": spec.jobs,
            "executor": spec.executor, "address": spec.address, "versions": versions(),
            "git": _git_hash(), "machine": {"platform": platform.platform(),
                                            "cpus": os.cpu_count(),
                                            "python": sys.version.split()[0]}}


def _die_with_parent(parent: int) -> None:
    """Make this worker die with its parent: ``PR_SET_PDEATHSIG`` (SIGKILL) on Linux,
    else a thread that polls ``os.getppid()``."""
    armed = False
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(1, int(signal.SIGKILL), 0, 0, 0) == 0  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            armed = False
    if os.getppid() != parent:  # the parent died before the watch was set
        os._exit(1)
    if not armed:
        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(0.2)
            os._exit(1)

        threading.Thread(target=watch, daemon=True).start()


_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


@contextlib.contextmanager
def _stop_signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM while a worker is forked: their handler, run inside the
    fork hooks, would have its KeyboardInterrupt swallowed ("Exception ignored") and the
    bench would carry on.  Held, they arrive once the fork is done."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _child(conn: Any, parent: int, args: tuple) -> None:
    # Ctrl-C reaches the whole process group: the parent stops its workers itself
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):  # forked while they were held
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
    _die_with_parent(parent)
    conn.send(run_pair(*args))
    conn.close()


class _Progress:
    """One status line on stderr: pairs done, running, failed, and the time left."""

    def __init__(self, total: int, done: int, show: bool) -> None:
        self.total, self.done, self.failed, self.running = total, done, 0, 0
        self.show, self.t0, self.new = show, time.perf_counter(), 0

    def update(self, row: dict[str, Any] | None = None) -> None:
        if not self.show:
            return
        if not sys.stderr.isatty():  # a log, not a terminal: one line per finished pair
            if row is not None:
                print(f"[{self.done}/{self.total}] {row.get('instance', row['instance_file'])}"
                      f" {row['solver']}: {row.get('status')}"
                      f"{' ' + row['error'] if row.get('error') else ''}",
                      file=sys.stderr, flush=True)
            return
        el = time.perf_counter() - self.t0
        left = self.total - self.done
        eta = f"{el / self.new * left:6.0f} s" if self.new else "     ?"
        width = 30
        fill = int(width * self.done / max(1, self.total))
        print(f"\r[{'#' * fill}{'.' * (width - fill)}] {self.done}/{self.total} done,"
              f" {self.running} running, {self.failed} failed, {eta} left ",
              end="", file=sys.stderr, flush=True)

    def finish(self) -> None:
        if self.show and sys.stderr.isatty():
            print(file=sys.stderr, flush=True)


@contextlib.contextmanager
def _locked(run_dir: Path) -> Iterator[Path]:
    """Hold ``run_dir/.lock`` (``flock``, exclusive) for the block; :class:`RunBusy` if
    another process holds it.  Forked workers share the lock: it is free only once the
    bench and all its workers are gone."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield run_dir / LOCK
        return
    path = run_dir / LOCK
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise BenchError(f"{path}: cannot lock the run folder ({exc.strerror})"
                             ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # BlockingIOError: held
            holder = os.read(fd, 64).decode(errors="replace").strip()
            os.close(fd)
            raise RunBusy(f"{run_dir} is in use by another h2h bench"
                          f"{f' (pid {holder})' if holder else ''}; wait for it to finish"
                          " or choose another output folder") from None
        try:  # the file may have been removed (and replaced) before we locked it
            if os.path.samestat(os.fstat(fd), os.stat(path)):
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield path
    finally:
        os.close(fd)


def _digest(path: str) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def _param_diffs(spec: BenchSpec, info: dict[str, Any] | None, rows: list[dict[str, Any]],
                 digests: dict[str, str | None]) -> list[str]:
    """What differs between the folder (``run.json`` and its rows) and this run, one
    phrase each: a row-shaping parameter, or an instance file (``digests``: SHA-256 by
    resolved path) whose content changed since its rows were made."""
    want = {"time_limit_s": spec.time_limit_s, "seed": spec.seed, "mode": spec.mode,
            "points": spec.pareto_points, "options": dict(spec.options)}
    out = []
    for key in ROW_PARAMS:
        if key in ROW_DEFAULTS:  # absent: what runs made before it existed
            had = [info.get(key, ROW_DEFAULTS[key])] if info else []
            had += [r.get(key, ROW_DEFAULTS[key]) for r in rows]
        else:
            had = [info[key]] if info and key in info else []
            had += [r[key] for r in rows if key in r]
        other = sorted({repr(v) for v in had if v != want[key]})
        if other:
            out.append(f"{key} {'/'.join(other)} there, {want[key]!r} here")
    recorded = {_same_file_key(f): h for f, h in (info or {}).get("instance_sha256",
                                                                  {}).items()}
    with_rows = {_same_file_key(r["instance_file"]): r["instance_file"] for r in rows}
    out += [f"{with_rows[k]} changed since its rows were made"
            for k, h in digests.items() if k in with_rows and recorded.get(k, h) != h]
    return out


def _move_aside(run_dir: Path) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%S")
    dest = run_dir / f"superseded-{stamp}"
    n = 1
    while dest.exists():
        n += 1
        dest = run_dir / f"superseded-{stamp}-{n}"
    dest.mkdir()
    for name in ("run.json", RESULTS, "schedules"):
        if (run_dir / name).exists():
            shutil.move(str(run_dir / name), str(dest / name))
    return dest


@contextlib.contextmanager
def _dask_client(spec: BenchSpec) -> Iterator[Any]:
    """A client of the scheduler at ``spec.address`` (reached within
    ``spec.connect_timeout_s``, else :class:`BenchError`) or of a local cluster."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ValueError("the dask executor needs dask.distributed: pip install"
                         " 'h2h-opt[dask]'") from None
    cluster = None
    try:
        if spec.address:
            client = Client(spec.address, timeout=spec.connect_timeout_s)
        else:
            cluster = LocalCluster(n_workers=spec.jobs, threads_per_worker=1,
                                   processes=True, dashboard_address=None)
            client = Client(cluster)
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        where = (f"the Dask scheduler at {spec.address}" if spec.address
                 else "a local Dask cluster")
        raise BenchError(f"cannot reach {where}: {exc}") from None
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_bench(spec: BenchSpec, run_dir: str | Path, progress: bool = True,
              on_row: Callable[[dict[str, Any]], None] | None = None,
              force: bool = False) -> list[dict[str, Any]]:
    """Run (or resume) a bench; returns all rows of the run folder.

    Raises :class:`RunBusy` (another bench runs in ``run_dir``), :class:`RunMismatch`
    (its rows were made with another time limit or seed, or from an instance file that
    has changed since; ``force=True`` moves them into
    ``run_dir/superseded-<time>/`` and starts over), :class:`BenchError` (the Dask
    scheduler cannot be reached; nothing is written) and ``ValueError`` (a bad spec).
    With ``progress``, stderr gets a status line and, on a resumed run, how many pairs
    were found done.
    """
    if spec.jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {spec.jobs}")
    if spec.executor not in ("local", "dask"):
        raise ValueError(f"unknown executor {spec.executor!r} (local, dask)")
    instances = dedupe(spec.instances)
    run_dir = Path(run_dir)
    created = not run_dir.exists()
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BenchError(f"{run_dir}: cannot be a run folder ({exc.strerror})") from None
    try:
        with _locked(run_dir) as lock_path:
            try:
                return _run_locked(spec, instances, run_dir, progress, on_row, force)
            finally:
                if created and not (run_dir / "run.json").exists():
                    lock_path.unlink(missing_ok=True)  # stopped before writing: no trace
    finally:
        if created and not (run_dir / "run.json").exists():
            with contextlib.suppress(OSError):
                run_dir.rmdir()


def _run_locked(spec: BenchSpec, instances: list[str], run_dir: Path, progress: bool,
                on_row: Callable[[dict[str, Any]], None] | None,
                force: bool) -> list[dict[str, Any]]:
    def say(msg: str) -> None:
        if progress:
            print(msg, file=sys.stderr, flush=True)

    info_path = run_dir / "run.json"
    rows = load_results(run_dir, repair=True)
    for n, r in enumerate(rows, 1):
        if not (isinstance(r.get("instance_file"), str) and isinstance(r.get("solver"), str)):
            raise CorruptResults(f"{run_dir / RESULTS}:{n}: a row without instance_file"
                                 " and solver; fix or remove that line")
    diffs = []
    try:
        old = json.loads(info_path.read_text()) if info_path.exists() else None
        if old is not None and not isinstance(old, dict):
            raise ValueError("not a JSON object")
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        old = None
        diffs.append(f"{info_path.name} unreadable: {exc}")
    digests = {_same_file_key(i): _digest(i) for i in instances}
    diffs += _param_diffs(spec, old, rows, digests)
    if diffs and not rows:  # run.json alone, no row to contradict: start it afresh
        old, diffs = None, []
    if diffs and not force:
        raise RunMismatch(f"{run_dir} holds rows made with other parameters ("
                          + "; ".join(diffs) + "): use the same ones, another output"
                          " folder, or --force to move the old rows aside and start over")
    executor = (_dask_client(spec) if spec.executor == "dask"
                else contextlib.nullcontext())
    with executor as client:  # reach the executor before writing anything
        if diffs:
            dest = _move_aside(run_dir)
            say(f"parameters changed: {len(rows)} old rows moved to {dest}")
            old, rows = None, []
        done = {(_same_file_key(r["instance_file"]), r["solver"]) for r in rows}
        todo = [(i, s) for i in instances for s in spec.solvers
                if (_same_file_key(i), s) not in done]
        total = len(instances) * len(spec.solvers)
        if total > len(todo):
            say(f"resuming: {total - len(todo)} of {total} pairs already done")
        info = _run_info(spec)
        session = {k: info[k] for k in ("git", "versions", "jobs", "executor", "address")}
        session["started"] = time.strftime("%Y-%m-%dT%H:%M:%S")
        if old is not None:
            known = {_same_file_key(f) for f in old.get("instances", [])}
            info["instances"] = (list(old.get("instances", []))
                                 + [f for f in instances if _same_file_key(f) not in known])
            info["solvers"] = (list(old.get("solvers", []))
                               + [s for s in spec.solvers if s not in old.get("solvers", [])])
            info["started"] = old.get("started")
            info["resumed"] = old.get("resumed", 0) + 1
            first = {k: old.get(k) for k in (*session, "started")}  # a run.json from
            # before sessions were kept: its own parameters are the first session
            info["sessions"] = list(old.get("sessions", [first])) + [session]
        else:
            info["instances"] = list(instances)
            info["started"] = session["started"]
            info["sessions"] = [session]
        recorded = (old or {}).get("instance_sha256", {})
        info["instance_sha256"] = {f: digests.get(_same_file_key(f), recorded.get(f))
                                   for f in info["instances"]}
        session_no = len(info["sessions"]) - 1
        atomic_write(info_path, json.dumps(info, indent=2) + "\n")  # a kill leaves the old one
        sched_dir = str(run_dir / "schedules") if spec.save_schedules else None
        if sched_dir:
            Path(sched_dir).mkdir(exist_ok=True)
        bar = _Progress(len(rows) + len(todo), len(rows), progress)
        out = (run_dir / RESULTS).open("a", encoding="utf-8")

        def record(row: dict[str, Any]) -> None:
            row["session"] = session_no
            out.write(json.dumps(row) + "\n")
            out.flush()
            os.fsync(out.fileno())
            rows.append(row)
            bar.done += 1
            bar.new += 1
            bar.failed += row.get("status") == "error"
            if on_row:
                on_row(row)
            bar.update(row)

        args = [(i, s, spec.time_limit_s, spec.seed, sched_dir, spec.pareto_points,
                 dict(spec.options))
                for i, s in todo]
        try:
            bar.update()
            if client is not None:
                _run_dask(client, spec, args, record, bar)
            else:
                _run_local(spec, args, record, bar)
        finally:
            out.close()
            bar.finish()
    return rows


def _error_row(args: tuple, error: str) -> dict[str, Any]:
    """The row of a pair whose worker gave none (``args`` as :func:`run_pair` takes
    them)."""
    row = {"instance_file": args[0], "solver": args[1], "time_limit_s": args[2],
           "seed": args[3], "status": "error", "error": error}
    if len(args) > 5 and args[5]:
        row.update(mode="pareto", points=args[5])
    if len(args) > 6 and args[6]:
        row["options"] = dict(args[6])
    return row


def _run_local(spec: BenchSpec, args: list[tuple], record: Callable[[dict[str, Any]], None],
               bar: _Progress) -> None:
    """One process per pair, at most ``jobs`` at a time; a process that dies without a
    result (killed, crashed) or overruns its limit by far is recorded as an error."""
    ctx: Any = mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    pending = list(args)
    running: dict[Any, tuple[Any, tuple, float]] = {}
    grace = 60.0 + 2.0 * spec.time_limit_s
    me = os.getpid()
    try:
        while pending or running:
            while pending and len(running) < spec.jobs:
                a = pending.pop(0)
                parent, child = ctx.Pipe(duplex=False)
                proc = ctx.Process(target=_child, args=(child, me, a), daemon=True)
                with _stop_signals_held():
                    proc.start()
                child.close()
                running[parent] = (proc, a, time.perf_counter())
            bar.running = len(running)
            bar.update()
            ready = mp.connection.wait(list(running), timeout=0.5)
            for ready_conn in ready:
                conn = cast(multiprocessing.connection.Connection, ready_conn)  # our pipes
                proc, a, _ = running.pop(conn)
                try:
                    row: dict[str, Any] = conn.recv()
                except (EOFError, OSError):
                    proc.join(5)
                    row = _error_row(a, f"worker died (exit code {proc.exitcode})")
                proc.join(5)
                record(row)
            now = time.perf_counter()
            for conn, (proc, a, t0) in list(running.items()):
                if now - t0 > grace:
                    proc.kill()
                    proc.join(5)
                    running.pop(conn)
                    record(_error_row(a, f"no result after {grace:.0f} s; killed"))
    finally:  # interrupted: stop the children, keep what is written
        for proc, _, _ in running.values():
            proc.kill()
        for proc, _, _ in running.values():
            proc.join(5)


def _run_dask(client: Any, spec: BenchSpec, args: list[tuple],
              record: Callable[[dict[str, Any]], None], bar: _Progress) -> None:
    from dask.distributed import as_completed

    futures = {client.submit(run_pair, *a, pure=False, retries=0): a for a in args}
    bar.running = min(len(futures), spec.jobs)
    for fut in as_completed(futures):
        a = futures[fut]
        try:
            row = fut.result()
        except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker
            row = _error_row(a, f"{type(exc).__name__}: {exc}")
        record(row)
