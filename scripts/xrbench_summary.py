"""Latency and energy per XRBench scenario and system from a bench run of the
``xrbench`` suite (``h2h bench instances/xrbench --solvers baseline,h2h,h2h_plus,heft,lns
--time-limit 30 --jobs 1 -o results/xrbench_run``).

For every (scenario, system): each solver's makespan (one inference of every network)
and energy, the cheap lower bound, and the shortest frame period among the scenario's
networks (1 / the highest FPS) next to the best makespan: a makespan above it means one
inference of every network does not fit into that network's frame.  XRBench's own score
(per-model deadlines over a stream of frames) is a different measure; see its paper.

    python scripts/xrbench_summary.py results/xrbench_run [-o results/xrbench.md]
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from h2h_opt import read_instance
from h2h_opt.experiments.plots import write_markdown


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir")
    ap.add_argument("-o", "--output", default="results/xrbench.md")
    args = ap.parse_args(argv)
    rows = [json.loads(line) for line in
            Path(args.run_dir, "results.jsonl").read_text().splitlines() if line.strip()]
    solvers = list(dict.fromkeys(r["solver"] for r in rows))
    by: dict[str, dict[str, dict]] = {}
    files: dict[str, str] = {}
    for r in rows:
        by.setdefault(r["instance"], {})[r["solver"]] = r
        files[r["instance"]] = r["instance_file"]
    lines = ["# XRBench scenarios on XRBench systems", "",
             f"Run `{args.run_dir}` ({len(by)} instances; solvers {', '.join(solvers)}); every"
             " schedule checked by the evaluator. Makespan of one inference of every network"
             " [ms] / energy [mJ]; `bound`: the cheap lower bound on the makespan; `period`:"
             " the shortest frame period of the scenario's networks (1 / highest FPS).", "",
             "| scenario | system | layers | " + " | ".join(solvers)
             + " | bound | best / bound | period | fits |",
             "|---|---|---|" + "---|" * (len(solvers) + 4)]
    ratios: dict[str, list[float]] = {s: [] for s in solvers}
    fits = 0
    for name in sorted(by, key=lambda n: (n.split("-")[0], n.split("-", 1)[1])):
        got = by[name]
        inst = read_instance(files[name])
        fps = [i.fps for i in inst.workload.model_info.values() if i.fps]
        period = 1.0 / max(fps) if fps else math.nan
        ok = {s: r for s, r in got.items() if r.get("feasible") and r.get("latency_s")}
        best = min(r["latency_s"] for r in ok.values())
        bounds = [r["bound"] for r in ok.values() if r.get("bound") is not None]
        bound = max(bounds) if bounds else math.nan
        for s, r in ok.items():
            ratios[s].append(r["latency_s"] / best)
        cells = [f"{1e3 * ok[s]['latency_s']:.2f} / {1e3 * ok[s]['energy_j']:.0f}"
                 if s in ok else got.get(s, {}).get("status", "") for s in solvers]
        fit = best <= period
        fits += fit
        scenario, system = name.split("-", 1)
        lines.append(f"| {scenario} | {system} | {inst.num_layers} | " + " | ".join(cells)
                     + f" | {1e3 * bound:.2f} | {best / bound:.3f} | {1e3 * period:.1f} |"
                     f" {'yes' if fit else 'no'} |")
    lines += ["", "Geometric mean of each solver's makespan over the best one's"
              " (per instance):", ""]
    for s in solvers:
        xs = ratios[s]
        if xs:
            gm = math.exp(sum(math.log(x) for x in xs) / len(xs))
            lines.append(f"* `{s}`: {gm:.3f} (worst {max(xs):.3f}; best on"
                         f" {sum(x <= 1 + 1e-9 for x in xs)}/{len(xs)})")
    lines += ["", f"One inference of every network fits the shortest frame period on"
              f" {fits}/{len(by)} instances."]
    write_markdown(lines, args.output)
    print(f"wrote {args.output}: {len(by)} instances")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
