"""lns's load relaxation with and without its precedence rows (option
``relax_precedence``): the bound each proves in the same deterministic time, against the
best bound a committed run proved.

    python scripts/relaxation_precedence.py instances/paper --run results/paper_run_v2
        [--relax-time 2] [-o results/lns_relaxation_precedence.md]

Each instance is solved by ``lns`` with one neighbourhood, no polish and the relaxation
limited in CP-SAT's deterministic time (``relax_time``), so the figures do not depend
on the machine's load; ``info.relaxation_bound_s`` is the relaxation's bound.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from h2h_opt import SolveParams, read_instance, solve
from h2h_opt.experiments.bench import load_results
from h2h_opt.experiments.plots import write_markdown
from h2h_opt.experiments.summary import best_figures


def relaxation_bound(inst, precedence: bool, relax_time: float) -> tuple[float | None, float]:
    res = solve(inst, "lns", SolveParams(time_limit_s=600, seed=0, options={
        "relax_time": relax_time, "relax_precedence": precedence, "neighbourhoods": 1,
        "polish": 0.0}))
    return res.info.get("relaxation_bound_s"), float(res.info.get("relaxation_s", 0.0))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("set")
    ap.add_argument("--run", required=True, help="bench run folder with the same instances")
    ap.add_argument("--relax-time", type=float, default=2.0)
    ap.add_argument("-o", "--output", default="results/lns_relaxation_precedence.md")
    args = ap.parse_args(argv)
    lat, best = best_figures(load_results(args.run))
    lines = ["# The load relaxation with and without precedence (lns's bound)", "",
             f"`{args.set}`; `lns` with `relax_time={args.relax_time:g}` (deterministic s,"
             " one worker), one neighbourhood, no polish; bounds in seconds as `lns` reports"
             " them (the rounded problem's less the rounding slack). `best proven`: the best"
             f" bound in `{args.run}`.", "",
             "| instance | without [s] | time [s] | with precedence [s] | time [s] |"
             " with / without | best proven [s] | with / best proven |",
             "|---|---|---|---|---|---|---|---|"]
    gains, old, new, above = [], [], [], 0
    for f in sorted(Path(args.set).glob("*.json")):
        if f.name == "MANIFEST.json" or f.name.endswith(".schedule.json"):
            continue
        inst = read_instance(f)
        (a, ta), (b, tb) = (relaxation_bound(inst, p, args.relax_time) for p in (False, True))
        if a is None or b is None or inst.name not in best:
            lines.append(f"| {inst.name} | {a} | {ta:.1f} | {b} | {tb:.1f} | - | - | - |")
            continue
        lb = best[inst.name]
        gains.append(b / a if a else 1.0)
        above += b > lb * (1 + 1e-9)
        old.append(lat[inst.name] / lb)
        new.append(lat[inst.name] / max(lb, b))
        lines.append(f"| {inst.name} | {a:.6g} | {ta:.1f} | {b:.6g} | {tb:.1f} |"
                     f" {b / a if a else 1.0:.3f} | {lb:.6g} | {b / lb:.4f} |")
        print(lines[-1], flush=True)
    if gains:
        lines += ["", f"With precedence the bound is x{statistics.mean(gains):.3f} on average"
                  f" (higher on {sum(g > 1.0001 for g in gains)}/{len(gains)}); above the best"
                  f" bound proven before on {above}/{len(gains)}; the mean ratio of the best"
                  f" latency to the best bound goes from {statistics.mean(old):.4f} to"
                  f" {statistics.mean(new):.4f}."]
    write_markdown(lines, args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
