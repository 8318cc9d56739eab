"""Do the MILP's per-accelerator load rows help?  Random host instances of 20 layers on
3 accelerators (10 seeds), with and without them: time to proof, or gap at the limit.
Every schedule is checked by the evaluator.

    python scripts/ablation_milp_cuts.py [--time-limit 60] [-o results/milp_cuts.md]
"""

from __future__ import annotations

import argparse
import statistics

from h2h_opt import SolveParams, evaluate, solve
from h2h_opt.experiments.plots import write_markdown
from h2h_opt.library.generate import random_layered


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("-o", "--output", default="results/milp_cuts.md")
    args = ap.parse_args()
    lines = ["# MILP: per-accelerator load rows on and off", "",
             f"Random host instances, 20 layers, 3 accelerators; {args.time_limit:g} s.", "",
             "| seed | with rows [s] | status | without [s] | status |", "|---|---|---|---|---|"]
    times: dict[bool, list[float]] = {True: [], False: []}
    for s in range(args.seeds):
        inst = random_layered(20, 3, comm="host", seed=s)
        cells = []
        for cuts in (True, False):
            res = solve(inst, "milp", SolveParams(time_limit_s=args.time_limit,
                                                  options={"load_cuts": cuts}))
            assert evaluate(inst, res.schedule).feasible
            times[cuts].append(res.time_s)
            cells += [f"{res.time_s:.1f}", res.status.value]
        lines.append(f"| {s} | " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)
    lines += ["", f"Median: with {statistics.median(times[True]):.1f} s, without"
              f" {statistics.median(times[False]):.1f} s; total {sum(times[True]):.0f} s vs"
              f" {sum(times[False]):.0f} s."]
    write_markdown(lines, args.output)


if __name__ == "__main__":
    main()
