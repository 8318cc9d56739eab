"""One solver in two bench runs of the same instances: what a change did to it.

    python scripts/compare_runs.py NEW_RUN OLD_RUN [--solver lns] [-o results/X.md]

For every instance both runs solved with ``--solver``: its objective before (OLD_RUN)
and after (NEW_RUN), their ratio, and the ratio of the new objective to the best any
*other* solver of either run reached (below 1: still the best).  Prints how many
improved, worsened (beyond 1e-9 relative) or stayed, and the geometric mean of the
ratios; with ``-o`` also the table.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from h2h_opt.experiments.plots import write_markdown

REL = 1e-9


def objectives(run: Path) -> dict[str, dict[str, float]]:
    """instance -> solver -> objective (latency for lex) of a run's feasible rows."""
    out: dict[str, dict[str, float]] = {}
    for line in (run / "results.jsonl").read_text().splitlines():
        if not line.strip():
            continue
        r = json.loads(line)
        value = r.get("energy_j") if r.get("objective") == "energy" else r.get("latency_s")
        if r.get("feasible") and value is not None:
            out.setdefault(r.get("instance") or r["instance_file"], {})[r["solver"]] = value
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("new_run", type=Path)
    ap.add_argument("old_run", type=Path)
    ap.add_argument("--solver", default="lns")
    ap.add_argument("-o", "--output", default=None)
    args = ap.parse_args()
    new, old = objectives(args.new_run), objectives(args.old_run)
    me = args.solver
    table = [f"| instance | {me} before | {me} after | after / before |"
             " after / best other |", "|---|---|---|---|---|"]
    ratios: list[float] = []
    counts = {"better": 0, "worse": 0, "same": 0}
    best_everywhere = 0
    for name in sorted(set(new) & set(old)):
        a, b = new[name].get(me), old[name].get(me)
        if a is None or b is None:
            continue
        others = [v for run in (new, old) for s, v in run[name].items() if s != me]
        ratios.append(a / b)
        counts["better" if a < b * (1 - REL) else "worse" if a > b * (1 + REL) else
               "same"] += 1
        vs = a / min(others) if others else math.nan
        best_everywhere += bool(others) and a <= min(others) * (1 + REL)
        table.append(f"| {name} | {b:.6g} | {a:.6g} | {a / b:.4f} | {vs:.4f} |")
    if not ratios:
        raise SystemExit(f"no instance has {me} in both runs")
    lines = [f"# {me}: {args.new_run} against {args.old_run}", "",
             f"* instances: {len(ratios)}; better {counts['better']}, worse"
             f" {counts['worse']}, same {counts['same']} (1e-9 relative)",
             f"* geometric mean after / before: "
             f"{math.exp(sum(map(math.log, ratios)) / len(ratios)):.4f}; best"
             f" {min(ratios):.4f}, worst {max(ratios):.4f}",
             f"* {me} after at most every other solver of either run: "
             f"{best_everywhere}/{len(ratios)}"]
    print("\n".join(lines))
    if args.output:
        print(write_markdown([*lines, "", *table], args.output))


if __name__ == "__main__":
    main()
