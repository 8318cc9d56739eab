"""H2H over the computation-prioritised baseline on the ``paper`` suite (every MMMT
workload x dataflow system x host bandwidth): latency and energy reduction per workload
and bandwidth.  Every schedule is checked by the evaluator.

    python scripts/paper_suite.py [-o results/paper_h2h.md]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict

from h2h_opt import evaluate, solve
from h2h_opt.experiments.plots import write_markdown
from h2h_opt.library.suites import suite_instances
from h2h_opt.library.zoo import BANDWIDTHS_GBPS, SYSTEMS, WORKLOADS


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-o", "--output", default="results/paper_h2h.md")
    args = ap.parse_args()
    rows = []
    for inst in suite_instances("paper"):
        row = {"instance": inst.name}
        for name in ("baseline", "h2h"):
            t0 = time.perf_counter()
            res = solve(inst, name)
            ev = evaluate(inst, res.schedule)
            assert ev.feasible, (inst.name, name, ev.violations[:2])
            row[name] = (ev.latency, ev.energy, time.perf_counter() - t0)
        workload, system, bw = inst.name.rsplit("-", 2)
        row.update(workload=workload, system=system, bw=float(bw.removesuffix("GBps")))
        row["lat_red"] = 1 - row["h2h"][0] / row["baseline"][0]
        row["en_red"] = 1 - row["h2h"][1] / row["baseline"][1]
        rows.append(row)
        print(json.dumps({k: row[k] for k in ("instance", "lat_red", "en_red")}), flush=True)
    lines = ["# H2H vs computation-prioritised baseline on the `paper` suite", "",
             f"{len(rows)} instances: {len(WORKLOADS)} MMMT workloads x {len(SYSTEMS)}"
             f" dataflow systems x {len(BANDWIDTHS_GBPS)} host bandwidths; host comm,"
             " same_accelerator locality, int8. Reduction = 1 - h2h / baseline.", "",
             f"* latency reduction: mean {100 * statistics.mean(r['lat_red'] for r in rows):.1f}"
             f" %, range {100 * min(r['lat_red'] for r in rows):.1f} to"
             f" {100 * max(r['lat_red'] for r in rows):.1f} %",
             f"* energy reduction: mean {100 * statistics.mean(r['en_red'] for r in rows):.1f}"
             f" %, range {100 * min(r['en_red'] for r in rows):.1f} to"
             f" {100 * max(r['en_red'] for r in rows):.1f} %", "",
             "## Mean over the four systems, per workload and bandwidth", "",
             "| workload | GB/s | latency reduction | energy reduction |", "|---|---|---|---|"]
    groups: dict[tuple[str, float], list[dict]] = defaultdict(list)
    for r in rows:
        groups[r["workload"], r["bw"]].append(r)
    for (w, bw), rs in groups.items():
        lines.append(f"| {w} | {bw:g} | {100 * statistics.mean(r['lat_red'] for r in rs):.1f} %"
                     f" | {100 * statistics.mean(r['en_red'] for r in rs):.1f} % |")
    lines += ["", "## Every instance", "",
              "| instance | baseline [ms] | h2h [ms] | latency red. | baseline [mJ] |"
              " h2h [mJ] | energy red. | h2h time [s] |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        b, h = r["baseline"], r["h2h"]
        lines.append(f"| {r['instance']} | {1e3 * b[0]:.3f} | {1e3 * h[0]:.3f} |"
                     f" {100 * r['lat_red']:.1f} % | {1e3 * b[1]:.3f} | {1e3 * h[1]:.3f} |"
                     f" {100 * r['en_red']:.1f} % | {h[2]:.2f} |")
    write_markdown(lines, args.output)


if __name__ == "__main__":
    main()
