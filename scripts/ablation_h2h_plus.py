"""Which additions of h2h_plus help?  Each variant starts from the faithful step 4
result and is compared with it on the same instances (evaluator figures).

    python scripts/ablation_h2h_plus.py [-o results/h2h_plus_ablation.md]
"""

from __future__ import annotations

import argparse
import statistics
import time

from h2h_opt import SolveParams, evaluate, solve
from h2h_opt.experiments.plots import write_markdown
from h2h_opt.library.generate import random_layered
from h2h_opt.library.zoo import reference_example

VARIANTS = {
    "h2h (faithful)": ("h2h", {}),
    "reinsert": ("h2h_plus", {"moves": ["reinsert"], "energy_ties": False, "value": "reference"}),
    "segment": ("h2h_plus", {"moves": ["segment"], "energy_ties": False, "value": "reference"}),
    "swap": ("h2h_plus", {"moves": ["swap"], "energy_ties": False, "value": "reference"}),
    "reinsert + segment + swap": ("h2h_plus", {"moves": ["reinsert", "segment", "swap"],
                                               "energy_ties": False, "value": "reference"}),
    "reinsert + energy ties": ("h2h_plus", {"moves": ["reinsert"], "value": "reference"}),
    "reinsert + segment + energy ties": ("h2h_plus", {"moves": ["reinsert", "segment"],
                                                      "value": "reference"}),
    "reinsert + segment + swap + energy ties": ("h2h_plus", {
        "moves": ["reinsert", "segment", "swap"], "value": "reference"}),
    "reinsert + segment + reorder + energy ties": ("h2h_plus", {
        "moves": ["reinsert", "segment", "reorder"], "value": "reference"}),
    "reorder + energy ties": ("h2h_plus", {"moves": ["reorder"], "value": "reference"}),
    "reinsert + segment + reorder + gather + energy ties": ("h2h_plus", {
        "moves": ["reinsert", "segment", "reorder", "gather"], "value": "reference"}),
    "reinsert + segment + swap + ties + critical knapsack": ("h2h_plus", {
        "moves": ["reinsert", "segment", "swap"],
                                                    "value": "critical"}),
}


def instances():
    for bw in (0.125, 0.5, 1.25, 5.0):
        yield reference_example(2, bw)
        yield reference_example(2, bw, fused=True)
        yield reference_example(1, bw)  # one accelerator: only the order can change
    for seed in range(12):
        for comm in ("host", "p2p"):
            yield random_layered(40 + 5 * seed, 4, num_models=3, comm=comm, seed=100 + seed,
                                 ccr=(0.5, 2.0, 5.0)[seed % 3], capacity_fraction=0.3)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-o", "--output", default="results/h2h_plus_ablation.md")
    args = ap.parse_args()
    insts = list(instances())
    table: dict[str, dict[str, list[float]]] = {}
    for name, (solver, opts) in VARIANTS.items():
        rows: dict[str, list[float]] = {"lat": [], "en": [], "t": [], "better": [], "worse": []}
        for i, inst in enumerate(insts):
            t0 = time.perf_counter()
            res = solve(inst, solver, SolveParams(options={**opts, "max_evals": 20000}))
            dt = time.perf_counter() - t0
            ev = evaluate(inst, res.schedule)
            assert ev.feasible
            rows["lat"].append(ev.latency)
            rows["en"].append(ev.energy)
            rows["t"].append(dt)
            if name != "h2h (faithful)":
                base = table["h2h (faithful)"]
                rows["better"].append(ev.latency < base["lat"][i] * (1 - 1e-9))
                rows["worse"].append(ev.latency > base["lat"][i] * (1 + 1e-9))
        table[name] = rows
        print(name, flush=True)
    base = table["h2h (faithful)"]
    lines = ["# h2h_plus ablation", "",
             f"{len(insts)} instances: the SPEC §8 reference (2 accelerators, 4 bandwidths,"
             " plain and fused; 1 accelerator, 4 bandwidths) and 24 random layered instances"
             " (40-95 layers, 4 accelerators, host and p2p, tight weight memory).  Ratios are"
             " geometric means against the faithful `h2h` on the same instance (< 1 is better).",
             "",
             "| variant | latency ratio | energy ratio | lower latency on | mean time [s] |",
             "|---|---|---|---|---|"]
    for name, rows in table.items():
        lr = statistics.geometric_mean([a / b for a, b in zip(rows["lat"], base["lat"],
                                                               strict=True)])
        er = statistics.geometric_mean([a / b for a, b in zip(rows["en"], base["en"],
                                                               strict=True)])
        won = sum(rows["better"]) if rows["better"] else 0
        lines.append(f"| {name} | {lr:.4f} | {er:.4f} | {won}/{len(insts)} |"
                     f" {statistics.mean(rows['t']):.3f} |")
    print(write_markdown(lines, args.output))


if __name__ == "__main__":
    main()
