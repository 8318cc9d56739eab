"""Run every (instance, solver) pair of a set, resumably (``h2h bench``).

A run directory holds ``run.json`` (parameters, versions, git hash, machine) and
``results.jsonl``: one JSON line per finished pair, appended and flushed as the pair
completes.  Re-running the same command skips the pairs already there; a line cut short
by a kill is dropped and its pair run again, so nothing is lost or duplicated.  Each pair
runs in a process of its own (local executor) or as a task of a Dask cluster: a solver
that crashes, or a worker that is killed, costs only its own pair, recorded as an error.
Every schedule is re-checked by the evaluator inside the worker.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import multiprocessing.connection
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

__all__ = ["BenchSpec", "load_results", "pair_key", "run_bench", "run_pair"]

RESULTS = "results.jsonl"


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


def pair_key(instance: str, solver: str) -> str:
    return f"{instance}::{solver}"


def expand_instances(items: Iterable[str]) -> list[str]:
    """Files as given; directories contribute their ``*.json`` instances (sorted, the
    manifest and schedules left out)."""
    out: list[str] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            out += [str(f) for f in sorted(p.glob("*.json"))
                    if f.name != "MANIFEST.json" and not f.name.endswith(".schedule.json")]
        else:
            out.append(str(p))
    return out


def run_pair(instance_path: str, solver: str, time_limit_s: float, seed: int,
             schedule_dir: str | None = None) -> dict[str, Any]:
    """Solve one pair and check it with the evaluator; any exception becomes an error
    row.  Runs in a worker process."""
    t0 = time.perf_counter()
    row: dict[str, Any] = {"instance_file": instance_path, "solver": solver,
                           "time_limit_s": time_limit_s, "seed": seed}
    try:
        from ..io import read_instance, write_schedule
        from ..solvers import SolveParams, solve
        from .summary import result_row

        inst = read_instance(instance_path)
        row.update(instance=inst.name, objective=inst.options.objective,
                   layers=inst.num_layers, accelerators=inst.num_accs)
        res = solve(inst, solver, SolveParams(time_limit_s=time_limit_s, seed=seed))
        row.update(result_row(inst, res))
        if res.schedule is not None and schedule_dir:
            path = Path(schedule_dir) / f"{inst.name}.{solver}.schedule.json"
            write_schedule(res.schedule, path)
            row["schedule"] = str(path)
    except Exception as exc:  # noqa: BLE001 - a crashing solver costs only its pair
        row.update(status="error", error=f"{type(exc).__name__}: {exc}")
    row["wall_s"] = time.perf_counter() - t0
    return row


def load_results(run_dir: str | Path) -> list[dict[str, Any]]:
    """The finished rows of a run; a trailing line cut short by a kill is dropped (and
    the file truncated to its last complete line)."""
    path = Path(run_dir) / RESULTS
    if not path.exists():
        return []
    raw = path.read_bytes()
    rows, good = [], 0
    for line in raw.splitlines(keepends=True):
        if not line.endswith(b"\n"):
            break
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            break
        good += len(line)
    if good != len(raw):
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
            "time_limit_s": spec.time_limit_s, "seed": spec.seed, "jobs": spec.jobs,
            "executor": spec.executor, "address": spec.address, "versions": versions(),
            "git": _git_hash(), "machine": {"platform": platform.platform(),
                                            "cpus": os.cpu_count(),
                                            "python": sys.version.split()[0]}}


def _child(conn: Any, args: tuple) -> None:
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


def run_bench(spec: BenchSpec, run_dir: str | Path, progress: bool = True,
              on_row: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Run (or resume) a bench; returns all rows of the run."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    info_path = run_dir / "run.json"
    info = _run_info(spec)
    if info_path.exists():
        old = json.loads(info_path.read_text())
        info["started"] = old.get("started")
        info["resumed"] = old.get("resumed", 0) + 1
    else:
        info["started"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    info_path.write_text(json.dumps(info, indent=2) + "\n")
    rows = load_results(run_dir)
    done = {pair_key(r["instance_file"], r["solver"]) for r in rows}
    todo = [(i, s) for i in spec.instances for s in spec.solvers
            if pair_key(i, s) not in done]
    sched_dir = str(run_dir / "schedules") if spec.save_schedules else None
    if sched_dir:
        Path(sched_dir).mkdir(exist_ok=True)
    bar = _Progress(len(done) + len(todo), len(done), progress)
    out = (run_dir / RESULTS).open("a", encoding="utf-8")

    def record(row: dict[str, Any]) -> None:
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

    args = [(i, s, spec.time_limit_s, spec.seed, sched_dir) for i, s in todo]
    try:
        bar.update()
        if spec.executor == "dask":
            _run_dask(spec, args, record, bar)
        elif spec.executor == "local":
            _run_local(spec, args, record, bar)
        else:
            raise ValueError(f"unknown executor {spec.executor!r} (local, dask)")
    finally:
        out.close()
        bar.finish()
    return rows


def _run_local(spec: BenchSpec, args: list[tuple], record: Callable[[dict[str, Any]], None],
               bar: _Progress) -> None:
    """One process per pair, at most ``jobs`` at a time; a process that dies without a
    result (killed, crashed) or overruns its limit by far is recorded as an error."""
    ctx: Any = mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    pending = list(args)
    running: dict[Any, tuple[Any, tuple, float]] = {}
    grace = 60.0 + 2.0 * spec.time_limit_s
    try:
        while pending or running:
            while pending and len(running) < max(1, spec.jobs):
                a = pending.pop(0)
                parent, child = ctx.Pipe(duplex=False)
                proc = ctx.Process(target=_child, args=(child, a), daemon=True)
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
                    row = {"instance_file": a[0], "solver": a[1], "time_limit_s": a[2],
                           "seed": a[3], "status": "error",
                           "error": f"worker died (exit code {proc.exitcode})"}
                proc.join(5)
                record(row)
            now = time.perf_counter()
            for conn, (proc, a, t0) in list(running.items()):
                if now - t0 > grace:
                    proc.kill()
                    proc.join(5)
                    running.pop(conn)
                    record({"instance_file": a[0], "solver": a[1], "time_limit_s": a[2],
                            "seed": a[3], "status": "error",
                            "error": f"no result after {grace:.0f} s; killed"})
    finally:  # interrupted: stop the children, keep what is written
        for proc, _, _ in running.values():
            proc.kill()
            proc.join(5)


def _run_dask(spec: BenchSpec, args: list[tuple], record: Callable[[dict[str, Any]], None],
              bar: _Progress) -> None:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ValueError("the dask executor needs dask.distributed: pip install"
                         " 'h2h-opt[dask]'") from None
    cluster = None
    if spec.address:
        client = Client(spec.address)
    else:
        cluster = LocalCluster(n_workers=max(1, spec.jobs), threads_per_worker=1,
                               processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        futures = {client.submit(run_pair, *a, pure=False, retries=0): a for a in args}
        bar.running = min(len(futures), max(1, spec.jobs))
        for fut in as_completed(futures):
            a = futures[fut]
            try:
                row = fut.result()
            except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker
                row = {"instance_file": a[0], "solver": a[1], "time_limit_s": a[2],
                       "seed": a[3], "status": "error",
                       "error": f"{type(exc).__name__}: {exc}"}
            record(row)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
