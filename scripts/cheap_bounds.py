"""The cheap lower bounds of every instance of a set (``h2h_opt.solvers.bounds``):
critical path, load LP, the load-and-precedence LP, the same with the head-tail rows,
with the weight memory, with the transfers a mapping decides and with the span rows,
with the time all seven take;
with ``--run``, each against the best latency any solver of that run found and the best
bound any solver proved.

    python scripts/cheap_bounds.py instances/paper --run results/paper_run_v2
        [-o results/cheap_bounds.md]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from h2h_opt import read_instance, relaxations
from h2h_opt.experiments.bench import load_results
from h2h_opt.experiments.plots import write_markdown
from h2h_opt.experiments.summary import best_figures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sets", nargs="+", help="instance folders")
    ap.add_argument("--run", action="append", default=[], help="bench run folder(s)")
    ap.add_argument("-o", "--output", default="results/cheap_bounds.md")
    args = ap.parse_args(argv)
    best_lat, best_lb = best_figures([r for run in args.run for r in load_results(run)])
    lines = ["# Cheap lower bounds", "",
             f"Sets {', '.join(args.sets)}; runs {', '.join(args.run) or '-'}. `old` is the"
             " best of the critical path, the load LP, the load-and-precedence LP and the"
             " same with the head-tail rows; `new` the best of those and the LPs with the"
             " weight memory and with the transfers as well (`lower_bound` takes the last"
             " up to 2 000 runnable layer-accelerator pairs). `best` is the best latency any"
             " solver of the runs found, `proven` the best bound any solver of the runs"
             " proved. `spans` is `new` with the span rows as well (what `lower_bound` now"
             " takes up to 10 000 pairs).", "",
             "| instance | layers | critical path [s] | load LP [s] | load+precedence LP [s] |"
             " with head-tail rows [s] | with memory [s] | with transfers [s] |"
             " with spans [s] | time, all seven [s] | new / old | spans / new | best / old |"
             " best / new | best / spans | spans / proven |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    gains, span_gains, gap_old, gap_new, gap_spans, over, above = [], [], [], [], [], 0, 0
    for folder in args.sets:
        for f in sorted(Path(folder).glob("*.json")):
            if f.name == "MANIFEST.json" or f.name.endswith(".schedule.json"):
                continue
            inst = read_instance(f)
            t0 = time.perf_counter()
            rel = relaxations(inst)
            dt = time.perf_counter() - t0
            cp, load, both = rel["critical_path"] or 0.0, rel["load"], rel["load_path"]
            old = max(cp, load or 0.0, both or 0.0, rel["windows"] or 0.0)
            new = max(old, rel["residency"] or 0.0, rel["transfers"] or 0.0)
            spans = max(new, rel["spans"] or 0.0)
            gains.append(new / old)
            span_gains.append(spans / new)
            z, lb = best_lat.get(inst.name), best_lb.get(inst.name)
            if z:
                gap_old.append(1 - old / z)
                gap_new.append(1 - new / z)
                gap_spans.append(1 - spans / z)
            over += bool(lb and spans > lb * (1 + 1e-9))
            above += bool(z and spans > z * (1 + 1e-9))

            def fmt(x: float | None, d: int = 4) -> str:
                return "-" if x is None else f"{x:.{d}f}"

            lines.append(f"| {inst.name} | {inst.num_layers} | {cp:.6g} | {fmt(load, 6)} |"
                         f" {fmt(both, 6)} | {fmt(rel['windows'], 6)} |"
                         f" {fmt(rel['residency'], 6)} | {fmt(rel['transfers'], 6)} |"
                         f" {fmt(rel['spans'], 6)} | {dt:.2f} | {new / old:.3f} |"
                         f" {spans / new:.3f} | {fmt(z / old if z else None, 3)} |"
                         f" {fmt(z / new if z else None, 3)} | {fmt(z / spans if z else None, 3)}"
                         f" | {fmt(spans / lb if lb else None, 3)} |")
    lines += ["", f"{len(gains)} instances: memory and transfers raise the cheap bound on"
              f" {sum(g > 1 + 1e-6 for g in gains)} (mean x{statistics.mean(gains):.3f},"
              f" up to x{max(gains):.3f}); the span rows raise it on"
              f" {sum(g > 1 + 1e-6 for g in span_gains)} (mean x{statistics.mean(span_gains):.3f},"
              f" up to x{max(span_gains):.3f}); with them it is above the best proven bound on"
              f" {over}, above the best latency found on {above}."]
    if gap_old:
        lines.append(f"Mean gap of the best latency to the cheap bound: old"
                     f" {100 * statistics.mean(gap_old):.1f} %, new"
                     f" {100 * statistics.mean(gap_new):.1f} %, with the span rows"
                     f" {100 * statistics.mean(gap_spans):.1f} % ({len(gap_old)} instances).")
    write_markdown(lines, args.output)
    print("\n".join(lines[-2:]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
