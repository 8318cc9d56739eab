"""The ``dataflow`` cost model (SPEC §2.3) against MAESTRO's own runs
(``../shared/data/maestro/costs.csv``: 13 layers x 4 dataflows, 256 PEs, 50 elements per
cycle off-chip, 1-byte elements).  Writes the side-by-side table and two figures: on how
many layers the fastest dataflow agrees, and the share of unflagged rows whose cycles are
within 2x of MAESTRO's.

    python scripts/calibrate_dataflow.py [--data ../shared/data/maestro/costs.csv]
                                         [-o results/dataflow_vs_maestro.md]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from h2h_opt.dataflow import compare_with_maestro
from h2h_opt.experiments.plots import write_markdown


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/data/maestro/costs.csv")
    ap.add_argument("-o", "--output", default="results/dataflow_vs_maestro.md")
    args = ap.parse_args()
    rows, s = compare_with_maestro(Path(args.data))
    lines = ["# Dataflow cost model vs MAESTRO", "",
             "MAESTRO (github maestro-project/maestro, commit 4eb08d1) runs from"
             " `../shared/data/maestro/costs.csv`; ours from `h2h_opt/dataflow.py` with the"
             " same hardware: 256 PEs, 50 elements/cycle off-chip, 3000-element buffer.", "",
             f"* fastest dataflow agrees on **{s['fastest_agree']}/{s['layers']}** layers",
             f"* cycles within 2x on **{s['within_2x']}/{s['rows']}** unflagged rows"
             f" ({100 * s['within_2x'] / s['rows']:.0f} %)", "",
             "| layer | op | dataflow | MAESTRO cycles | ours | ratio | flag |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['layer']} | {r['op']} | {r['dataflow']} | {r['maestro']:.0f} |"
                     f" {r['ours']:.0f} | {r['ours'] / r['maestro']:.2f} | {r['flag']} |")
    lines += ["", "| layer | fastest (MAESTRO) | fastest (ours) |", "|---|---|---|"]
    lines += [f"| {n} | {m} | {o} |" for n, m, o in s["fastest"]]
    write_markdown(lines, args.output)
    print(f"fastest agrees {s['fastest_agree']}/{s['layers']}; within 2x"
          f" {s['within_2x']}/{s['rows']}")


if __name__ == "__main__":
    main()
