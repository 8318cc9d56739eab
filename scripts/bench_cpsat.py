"""CP-SAT optimality gaps: the SPEC §8 reference example with two accelerators and
``same_accelerator`` locality at four bandwidths, and random ``host`` instances of 30
layers on 4 heterogeneous accelerators.  Heuristic gaps are measured against the proven
optimum (or, where not proven, against the best bound: then an upper estimate).

    python scripts/bench_cpsat.py [--time-limit 60] [--seeds 20] [-o results/cpsat_gaps.md]
"""

from __future__ import annotations

import argparse
import json
import statistics

from h2h_opt import SolveParams, evaluate, solve
from h2h_opt.experiments.plots import write_markdown
from h2h_opt.library.generate import random_layered
from h2h_opt.library.zoo import reference_example


def run(inst, limit: float) -> dict:
    exact = solve(inst, "cpsat", SolveParams(time_limit_s=limit))
    assert evaluate(inst, exact.schedule).feasible
    row = {"instance": inst.name, "status": exact.status.value, "cpsat": exact.latency,
           "slack": exact.info["bound_slack_s"],
           "bound": exact.bound, "gap": exact.gap, "time_s": exact.time_s,
           "hint_ok": exact.info.get("hint_complete_and_feasible"),
           "phases": [(p["phase"], p["status"], p["time_s"]) for p in exact.info["phases"]]}
    for h in ("baseline", "h2h", "h2h_plus", "heft"):
        res = solve(inst, h)
        assert evaluate(inst, res.schedule).feasible
        # the bound is the tick-rounded problem's: compare with the rounding slack
        floor = (exact.bound or 0.0) - exact.info["bound_slack_s"]
        assert res.latency >= floor * (1 - 1e-12), (h, res.latency, exact.bound)
        row[h] = res.latency
        row[f"{h}_gap"] = (res.latency - exact.latency) / exact.latency
    print(json.dumps(row), flush=True)
    return row


SHORT = {"search": "search", "load_relaxation": "relax", "relaxation_mapping": "mapping",
         "search_with_load_bound": "search+lb", "energy_at_best_makespan": "energy"}


def _phases(row: dict) -> str:
    parts = [f"{SHORT.get(name, name)} {secs:.1f}" for name, _, secs in row["phases"]]
    if row["status"] == "optimal" and parts:
        parts[-1] += "*"
    return ", ".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("-o", "--output", default="results/cpsat_gaps.md")
    args = ap.parse_args()
    ref = [run(reference_example(2, bw, locality="same_accelerator"), args.time_limit)
           for bw in (0.125, 0.5, 1.25, 5.0)]
    rnd = [run(random_layered(30, 4, num_models=2, comm="host", seed=s), args.time_limit)
           for s in range(args.seeds)]
    lines = ["# CP-SAT optimality gaps", "",
             f"Time limit {args.time_limit:g} s per run, default parameters (8 workers,"
             " warm start from h2h).  `gap` = (incumbent - bound) / incumbent; heuristic"
             " gaps are relative to the CP-SAT incumbent (the optimum where proven)."
             "  `phases`: the solves the makespan minimisation ran (first search, load"
             " relaxation, its mapping scheduled, search again with the load bound) and"
             " the seconds each took; `*`: optimality proven when it ended.", "",
             "## Reference example, 2 accelerators, same_accelerator locality", "",
             "| instance | status | optimum / incumbent [s] | bound [s] | gap | time [s] |"
             " baseline [s] | h2h [s] | h2h gap | h2h_plus gap | heft gap |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in ref:
        lines.append(f"| {r['instance']} | {r['status']} | {r['cpsat']:.6f} | {r['bound']:.6f}"
                     f" | {100 * r['gap']:.2f} % | {r['time_s']:.1f} | {r['baseline']:.5f} |"
                     f" {r['h2h']:.5f} | {100 * r['h2h_gap']:.1f} % |"
                     f" {100 * r['h2h_plus_gap']:.1f} % | {100 * r['heft_gap']:.1f} % |")
    proven = [r for r in rnd if r["status"] == "optimal"]
    lines += ["", f"## Random host instances: 30 layers, 4 heterogeneous accelerators,"
              f" {len(rnd)} seeds", "",
              f"* proven optimal within {args.time_limit:g} s: {len(proven)}/{len(rnd)}"
              f" ({100 * len(proven) / len(rnd):.0f} %)",
              f"* mean time: {statistics.mean(r['time_s'] for r in rnd):.1f} s"]
    for h in ("baseline", "h2h", "h2h_plus", "heft"):
        if proven:
            lines.append(f"* mean gap of `{h}` to the proven optimum: "
                         f"{100 * statistics.mean(r[f'{h}_gap'] for r in proven):.1f} %"
                         f" (max {100 * max(r[f'{h}_gap'] for r in proven):.1f} %)")
    lines += ["", "| seed | status | optimum / incumbent [s] | gap | time [s] | baseline gap |"
              " h2h gap | h2h_plus gap | heft gap | phases |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for s, r in enumerate(rnd):
        lines.append(f"| {s} | {r['status']} | {r['cpsat']:.5f} | {100 * r['gap']:.2f} % |"
                     f" {r['time_s']:.1f} | {100 * r['baseline_gap']:.1f} % |"
                     f" {100 * r['h2h_gap']:.1f} % | {100 * r['h2h_plus_gap']:.1f} % |"
                     f" {100 * r['heft_gap']:.1f} % | {_phases(r)} |")
    print(write_markdown(lines, args.output))


if __name__ == "__main__":
    main()
