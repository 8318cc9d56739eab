"""lns and cpsat at scale (issue 14): random layered instances of 1 000 - 10 000 layers on
8 accelerators (``h2h generate scale``), one solve at a time, each in its own process so
that its wall time and peak memory are its own.

    python scripts/bench_lns_scale.py [-o results/lns_scale.md] [--lns-sizes 1000,3000,10000]
        [--cpsat-sizes 400,1000,3000] [--time-limit 60] [--cpsat-time-limit 30]

For each size: ``h2h_plus`` (default options), then ``lns`` with the time limit: latency,
the bound the result carries and its source, the ratio to it, the mapping phase's and the
windows' neighbourhoods and seconds per neighbourhood, CP-SAT's share of the time, wall
time and peak resident memory.  Then
``cpsat`` with its own time limit: whether a schedule and a bound came back, and the wall
time against the limit.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from h2h_opt.experiments.plots import write_markdown


def run(cmd: list[str]) -> tuple[dict, float, float]:
    """Run an ``h2h`` command printing JSON; its result, wall seconds and peak RSS (MB)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "h2h_opt.cli", *cmd],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        return {"status": f"exit {proc.returncode}"}, wall, usage.ru_maxrss / 1024
    return json.loads(out), wall, usage.ru_maxrss / 1024


def generate(sizes: set[int], folder: Path) -> dict[int, Path]:
    subprocess.run([sys.executable, "-m", "h2h_opt.cli", "generate", "scale", "-o",
                    str(folder), "--param", f"sizes={sorted(sizes)}", "--param", "accs=8"],
                   check=True, stdout=subprocess.DEVNULL)
    return {n: folder / f"random-n{n}-a8-host-s0.json" for n in sizes}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-o", "--output", default="results/lns_scale.md")
    ap.add_argument("--lns-sizes", default="1000,3000,10000")
    ap.add_argument("--cpsat-sizes", default="400,1000,3000")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--cpsat-time-limit", type=float, default=30.0)
    args = ap.parse_args()
    lns_sizes = [int(x) for x in args.lns_sizes.split(",") if x]
    cpsat_sizes = [int(x) for x in args.cpsat_sizes.split(",") if x]
    with tempfile.TemporaryDirectory() as tmp:
        files = generate(set(lns_sizes) | set(cpsat_sizes), Path(tmp))
        lines = ["# lns and cpsat at scale", "",
                 "Random layered instances (`h2h generate scale --param accs=8`, seed 0,"
                 " host comm), one solve at a time in its own process.  `vs h2h_plus`:"
                 " lns latency / h2h_plus latency; `/ bound`: latency over the bound the"
                 " result carries.", "",
                 f"## lns, {args.time_limit:g} s", "",
                 "`mapping phase`: its neighbourhoods, seconds per neighbourhood and the"
                 " largest accelerator load it started and ended with (seconds of busy"
                 " time); `windows`: the same for the schedule's windows after it.", "",
                 "| layers | h2h_plus [s] | h2h_plus time [s] | lns [s] | vs h2h_plus |"
                 " bound [s] | bound source | lns / bound | mapping phase | windows |"
                 " CP-SAT share | wall [s] | peak memory [MB] |",
                 "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for n in lns_sizes:
            plus, plus_wall, _ = run(["solve", str(files[n]), "--solver", "h2h_plus",
                                      "--json"])
            res, wall, rss = run(["solve", str(files[n]), "--solver", "lns", "--time-limit",
                                  str(args.time_limit), "--seed", "0", "--json"])
            info = res.get("info", {})
            lat, base, bound = res.get("latency_s"), plus.get("latency_s"), res.get("bound")
            phase = info.get("mapping_phase")
            mapping = "-" if not phase else (
                f"{phase['neighbourhoods']} x {phase.get('s_per_neighbourhood')} s,"
                f" {phase['largest_load_s'][0]:.3f} -> {phase['largest_load_s'][1]:.3f}")
            lines.append(
                f"| {n} | {base:.4f} | {plus_wall:.1f} | {lat:.4f} | {lat / base:.3f} |"
                f" {bound:.4f} | {info.get('bound_source', '-')} | {lat / bound:.2f} |"
                f" {mapping} | {info.get('neighbourhoods')} x"
                f" {info.get('s_per_neighbourhood')} s | {info.get('cp_sat_share')} |"
                f" {wall:.1f} | {rss:.0f} |")
            print(lines[-1], flush=True)
        lines += ["", f"## cpsat, {args.cpsat_time_limit:g} s", "",
                  "| layers | status | latency [s] | bound [s] | gap | wall [s] |"
                  " wall / limit | peak memory [MB] |", "|---|---|---|---|---|---|---|---|"]
        for n in cpsat_sizes:
            res, wall, rss = run(["solve", str(files[n]), "--solver", "cpsat", "--time-limit",
                                  str(args.cpsat_time_limit), "--seed", "0", "--json"])
            lat, bound, gap = res.get("latency_s"), res.get("bound"), res.get("gap")
            lines.append(
                f"| {n} | {res.get('status')} | {'-' if lat is None else f'{lat:.4f}'} |"
                f" {'-' if bound is None else f'{bound:.4f}'} |"
                f" {'-' if gap is None else f'{100 * gap:.1f} %'} | {wall:.1f} |"
                f" {wall / args.cpsat_time_limit:.3f} | {rss:.0f} |")
            print(lines[-1], flush=True)
    print(write_markdown(lines, args.output))


if __name__ == "__main__":
    main()
