"""Scaling benchmark of the heuristics (issue: baseline, h2h, heft on 1 000 and 10 000
layers, 8 accelerators).  Every schedule is checked by the evaluator; times are wall
clock of one run on this machine; the 10k/1k ratio is what to compare.

    python scripts/bench_heuristics.py [--sizes 1000 10000] [--seed 1] \
        [-o results/heuristics_scaling.md]
"""

from __future__ import annotations

import argparse
import json
import time

from h2h_opt import evaluate, solve
from h2h_opt.experiments.plots import write_markdown
from h2h_opt.library.generate import random_layered


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--accs", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--solvers", default="baseline,h2h,heft")
    ap.add_argument("-o", "--output", default="results/heuristics_scaling.md")
    args = ap.parse_args()
    solvers = args.solvers.split(",")
    rows = []
    for comm in ("host", "p2p"):
        for n in args.sizes:
            t0 = time.perf_counter()
            inst = random_layered(n, args.accs, num_models=4, comm=comm, seed=args.seed)
            gen = time.perf_counter() - t0
            for s in solvers:
                res = solve(inst, s)
                ev = evaluate(inst, res.schedule)
                assert ev.feasible, (s, n, ev.violations[:3])
                assert abs(ev.latency - res.latency) <= 1e-9 * ev.latency
                rows.append({"comm": comm, "layers": n, "edges": len(inst.workload.edges),
                             "solver": s, "time_s": res.time_s, "latency_s": ev.latency,
                             "energy_j": ev.energy, "evaluations": res.info.get("evaluations"),
                             "budget_hit": res.info.get("budget_hit"), "gen_s": gen})
                print(json.dumps(rows[-1]), flush=True)
    lines = ["# Heuristic scaling", "",
             f"Random layered instances (`random_layered(n, {args.accs}, num_models=4,"
             f" seed={args.seed})`), one run each, every schedule feasible per the evaluator.",
             "", "| comm | layers | edges | solver | time [s] | latency [s] | energy [J] |"
             " step-4 evals |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['comm']} | {r['layers']} | {r['edges']} | {r['solver']} |"
                     f" {r['time_s']:.3f} | {r['latency_s']:.4g} | {r['energy_j']:.4g} |"
                     f" {r['evaluations'] if r['evaluations'] is not None else ''} |")
    if len(args.sizes) >= 2:
        lo, hi = min(args.sizes), max(args.sizes)
        lines += ["", f"Time ratio {hi} / {lo} layers:", ""]
        for comm in ("host", "p2p"):
            for s in solvers:
                t = {r["layers"]: r["time_s"] for r in rows if r["solver"] == s
                     and r["comm"] == comm}
                lines.append(f"* {comm} {s}: {t[hi] / t[lo]:.1f}")
    print(write_markdown(lines, args.output))


if __name__ == "__main__":
    main()
