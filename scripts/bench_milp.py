"""MILP (Pyomo -> HiGHS) next to CP-SAT (issue 5): random ``host`` instances of 20 layers
on 3 accelerators (10 seeds), the SPEC §8 reference example with two accelerators and
``same_accelerator`` locality at 1.25 GB/s, and where Pyomo's model building goes on
larger instances.  Every schedule is checked by the evaluator.

    python scripts/bench_milp.py [--time-limit 60] [--seeds 10] [-o results/milp_vs_cpsat.md]
"""

from __future__ import annotations

import argparse
import json
import statistics

from h2h_opt import SolveParams, evaluate, solve, tick_makespan
from h2h_opt.experiments.plots import write_markdown
from h2h_opt.library.generate import random_layered
from h2h_opt.library.zoo import reference_example


def run(inst, name: str, limit: float) -> dict:
    res = solve(inst, name, SolveParams(time_limit_s=limit))
    ev = evaluate(inst, res.schedule)
    assert ev.feasible, (name, ev.violations[:3])
    row = {"instance": inst.name, "solver": name, "status": res.status.value,
           "incumbent": ev.latency, "ticks": tick_makespan(inst, res.schedule),
           "bound": res.bound, "gap": res.gap, "time_s": res.time_s}
    for key in ("build_s", "translate_s", "highs_s", "mip_start_accepted",
                "hint_complete_and_feasible"):
        if key in res.info:
            row[key] = res.info[key]
    print(json.dumps(row), flush=True)
    return row


def fmt_gap(gap: float | None) -> str:
    return "-" if gap is None else f"{100 * gap:.2f} %"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--sizes", default="25,50,100", help="layers for the build-overhead rows")
    ap.add_argument("-o", "--output", default="results/milp_vs_cpsat.md")
    args = ap.parse_args()
    lim = args.time_limit
    lines = ["# MILP (Pyomo/HiGHS) next to CP-SAT", "",
             f"Time limit {lim:g} s per run; default parameters (MILP: HiGHS, 2 threads, "
             "mip_rel_gap 0; CP-SAT: 8 workers); both warm-started from `h2h`.", ""]
    # random host instances, 20 layers, 3 accelerators
    pairs = []
    for s in range(args.seeds):
        inst = random_layered(20, 3, comm="host", seed=s)
        pairs.append((run(inst, "milp", lim), run(inst, "cpsat", lim)))
    proven = sum(m["status"] == "optimal" for m, _ in pairs)
    proven_cp = sum(c["status"] == "optimal" for _, c in pairs)
    both = [(m, c) for m, c in pairs if m["status"] == c["status"] == "optimal"]
    lines += ["## Random host instances: 20 layers, 3 accelerators",
              "",
              f"* MILP proven optimal within {lim:g} s: {proven}/{len(pairs)}"
              f" ({100 * proven / len(pairs):.0f} %); CP-SAT: {proven_cp}/{len(pairs)}",
              f"* where both proved it, the same optimum to the tick: "
              f"{sum(m['ticks'] == c['ticks'] for m, c in both)}/{len(both)}",
              f"* median time, MILP {statistics.median(m['time_s'] for m, _ in pairs):.1f} s,"
              f" CP-SAT {statistics.median(c['time_s'] for _, c in pairs):.1f} s", "",
              "| seed | MILP | MILP gap | MILP [s] | CP-SAT | CP-SAT gap | CP-SAT [s] |"
              " optimum / best [ticks] |",
              "|---|---|---|---|---|---|---|---|"]
    for s, (m, c) in enumerate(pairs):
        ticks = str(c["ticks"]) if m["ticks"] == c["ticks"] else f"{m['ticks']} / {c['ticks']}"
        lines.append(f"| {s} | {m['status']} | {fmt_gap(m['gap'])} | {m['time_s']:.1f} |"
                     f" {c['status']} | {fmt_gap(c['gap'])} | {c['time_s']:.1f} | {ticks} |")
    # reference example
    ref = reference_example(2, 1.25, locality="same_accelerator")
    lines += ["", "## Reference example, 2 accelerators, same_accelerator, 1.25 GB/s", "",
              "| solver | status | incumbent [s] | bound [s] | gap | time [s] |",
              "|---|---|---|---|---|---|"]
    for name in ("milp", "cpsat"):
        r = run(ref, name, lim)
        bound = "-" if r["bound"] is None else f"{r['bound']:.6f}"
        lines.append(f"| {name} | {r['status']} | {r['incumbent']:.6f} | {bound} |"
                     f" {fmt_gap(r['gap'])} | {r['time_s']:.1f} |")
    # where the time goes on larger instances
    lines += ["", "## Pyomo model building on larger instances (host, 4 accelerators, 10 s)",
              "", "| layers | Pyomo build [s] | APPSI translation [s] | HiGHS [s] | total [s] |",
              "|---|---|---|---|---|"]
    for n in (int(x) for x in args.sizes.split(",")):
        r = run(random_layered(n, 4, comm="host", seed=1), "milp", 10.0)
        lines.append(f"| {n} | {r['build_s']:.2f} | {r['translate_s']:.2f} |"
                     f" {r['highs_s']:.2f} | {r['time_s']:.2f} |")
    write_markdown(lines, args.output)


if __name__ == "__main__":
    main()
