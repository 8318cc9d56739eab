"""The SPEC §8 reference example with two accelerators: latency and energy after each
H2H step, per bandwidth, and the reduction from baseline to final.  Every step's
schedule is checked by the evaluator.

    python scripts/reference_table.py [-o results/reference_h2h.md]
"""

from __future__ import annotations

import argparse
import time

from h2h_opt.cost import compile_tables
from h2h_opt.evaluate import evaluate
from h2h_opt.experiments.plots import write_markdown
from h2h_opt.library.zoo import reference_example
from h2h_opt.solvers import solve
from h2h_opt.solvers.heuristics.h2h import h2h_steps


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bandwidths", type=float, nargs="+", default=[0.125, 0.5, 1.25, 5.0])
    ap.add_argument("-o", "--output", default="results/reference_h2h.md")
    args = ap.parse_args()
    lines = ["# H2H on the SPEC §8 reference example (cnn_acc_1 + cnn_acc_2)", "",
             "Locality `adjacent`, comm `host`, b = 4; latency [s] / energy [J] after each"
             " step (evaluator figures; every schedule feasible).", ""]
    summary = ["", "| GB/s | baseline lat | h2h lat | lat reduction | baseline energy |"
               " h2h energy | energy reduction | h2h time [s] | h2h_plus lat | heft lat |",
               "|---|---|---|---|---|---|---|---|---|---|"]
    for bw in args.bandwidths:
        inst = reference_example(2, bw)
        t0 = time.perf_counter()
        steps, eng = h2h_steps(inst, compile_tables(inst), max_evals=1500)
        elapsed = time.perf_counter() - t0
        lines += [f"## {bw:g} GB/s", "", "| step | latency [s] | energy [J] |", "|---|---|---|"]
        figs = []
        for label, sched, _, _ in steps:
            ev = evaluate(inst, sched)
            assert ev.feasible, (bw, label)
            figs.append((ev.latency, ev.energy))
            lines.append(f"| {label} | {ev.latency:.5f} | {ev.energy:.4f} |")
        lines.append("")
        (l0, e0), (l4, e4) = figs[0], figs[-1]
        plus = solve(inst, "h2h_plus")
        heft = solve(inst, "heft")
        summary.append(f"| {bw:g} | {l0:.5f} | {l4:.5f} | {100 * (1 - l4 / l0):.1f} % |"
                       f" {e0:.4f} | {e4:.4f} | {100 * (1 - e4 / e0):.1f} % | {elapsed:.3f} |"
                       f" {plus.latency:.5f} | {heft.latency:.5f} |")
    lines += ["## Summary"] + summary
    print(write_markdown(lines, args.output))


if __name__ == "__main__":
    main()
