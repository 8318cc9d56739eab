"""One solver of a bench run against the best bound and against another solver
(issue 14's acceptance figures).

    python scripts/lns_acceptance.py RUN_DIR [--also OTHER_RUN ...] [--solver lns]
        [--against cpsat] [-o results/lns_paper.md]

Reads ``RUN_DIR/results.jsonl`` and prints, over the instances both solvers have:
the mean and worst ratio of each solver's objective to the best lower bound any solver
of the run proved; on how many instances ``--solver`` is at most ``--against``; and on
how many it reaches a proven optimum (within 1e-6 relative).  ``--also`` adds the rows
of other runs of the same instances (e.g. lns at 30 s beside a 60 s run's optima).  With
``-o`` it also writes a markdown table per instance.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from h2h_opt.experiments.plots import write_markdown
from h2h_opt.experiments.summary import summarise

REL = 1e-6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("--also", type=Path, nargs="*", default=[])
    ap.add_argument("--solver", default="lns")
    ap.add_argument("--against", default="cpsat")
    ap.add_argument("-o", "--output", default=None)
    args = ap.parse_args()
    rows = [json.loads(line) for run in (args.run_dir, *args.also) for line in
            (run / "results.jsonl").read_text().splitlines() if line.strip()]
    summary = summarise(rows)
    me, other = args.solver, args.against
    table = [f"| instance | {me} | {other} | best bound | {me} / bound | {other} / bound |",
             "|---|---|---|---|---|---|"]
    ratios: dict[str, list[float]] = {me: [], other: []}
    at_most = reached = proven = both = 0
    for name, entry in sorted(summary.instances.items()):
        a, b = entry.pairs.get(me), entry.pairs.get(other)
        if a is None or b is None or a.value is None or b.value is None or not entry.bound:
            continue
        both += 1
        ra, rb = a.value / entry.bound, b.value / entry.bound
        ratios[me].append(ra)
        ratios[other].append(rb)
        at_most += a.value <= b.value * (1 + REL)
        if entry.optimum is not None:
            proven += 1
            reached += a.value <= entry.optimum * (1 + REL)
        table.append(f"| {name} | {a.value:.6g} | {b.value:.6g} | {entry.bound:.6g} |"
                     f" {ra:.4f} | {rb:.4f} |")
    if not both:
        raise SystemExit(f"no instance has both {me} and {other} with a bound")
    lines = [f"# {me} against the best bound and {other}: {args.run_dir}", "",
             f"* instances with both: {both}"]
    for s in (me, other):
        lines.append(f"* {s}: mean ratio to the best bound {statistics.mean(ratios[s]):.4f},"
                     f" worst {max(ratios[s]):.4f}")
    lines.append(f"* {me} at most {other} (1e-6 relative): {at_most}/{both}")
    lines.append(f"* {me} reaches the proven optimum: {reached}/{proven}")
    print("\n".join(lines))
    if args.output:
        print(write_markdown([*lines, "", *table], args.output))


if __name__ == "__main__":
    main()
