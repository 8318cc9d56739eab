"""The cheap LP bound against the same LP with a 0/1 mapping (and residency), solved as
a MIP by HiGHS (``h2h_opt.solvers.bounds.MappingBound``), instance by instance; with
``--run``, each against the best latency any solver of the runs found and the best
bound any solver proved.

    python scripts/mip_bounds.py instances/paper --run results/paper_run_v2
        [--time 10] [--open 1.01] [--ablation] [-o results/mip_bounds.md]

``--open R`` keeps the instances whose best latency is more than R times the LP's bound;
``--ablation`` also solves the MIP with the resident shares fractional.  One MIP at a
time, one thread each.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from h2h_opt import MappingBound, lower_bound, read_instance
from h2h_opt.cost import compile_tables
from h2h_opt.experiments.bench import load_results
from h2h_opt.experiments.plots import write_markdown
from h2h_opt.experiments.summary import best_figures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sets", nargs="+", help="instance folders")
    ap.add_argument("--run", action="append", default=[], help="bench run folder(s)")
    ap.add_argument("--time", type=float, default=10.0, help="seconds per MIP")
    ap.add_argument("--open", type=float, default=0.0,
                    help="only instances whose best latency is above this times the LP")
    ap.add_argument("--ablation", action="store_true",
                    help="also the MIP with the resident shares fractional")
    ap.add_argument("-o", "--output", default="results/mip_bounds.md")
    args = ap.parse_args(argv)
    best_lat, best_lb = best_figures([r for run in args.run for r in load_results(run)])
    lines = ["# The cheap LP bound and its MIP", "",
             f"Sets {', '.join(args.sets)}; runs {', '.join(args.run) or '-'}; {args.time:g} s"
             " per MIP on one thread. `LP` is `lower_bound`; `MIP` the same LP with the"
             " mapping and the resident shares whole (`MappingBound`)"
             + ("; `MIP, x only` with the resident shares fractional" if args.ablation else "")
             + ". `best` is the best latency any solver of the runs found, `proven` the best"
             " bound any solver of the runs proved.", "",
             "| instance | layers | LP [s] | " + ("MIP, x only [s] | " if args.ablation else "")
             + "MIP [s] | span rows | solved | MIP / LP | best / MIP | MIP / proven |",
             "|---|---|---|---|---|---|---|---|---|" + ("---|" if args.ablation else "")]
    gains, ratios_lp, ratios_mip, over, above, solved, spans = [], [], [], 0, 0, 0, 0
    for folder in args.sets:
        for f in sorted(Path(folder).glob("*.json")):
            if f.name == "MANIFEST.json" or f.name.endswith(".schedule.json"):
                continue
            inst = read_instance(f)
            if inst.options.objective == "energy":
                continue
            tables = compile_tables(inst)
            cheap = lower_bound(inst, tables)
            lp = cheap.value
            z, proven = best_lat.get(inst.name), best_lb.get(inst.name)
            if args.open and not (z and z > args.open * lp):
                continue
            xonly = None
            if args.ablation:
                res = MappingBound(inst, tables, args.time, whole_residency=False).result(True)
                xonly = res.value if res else None
            running = MappingBound(inst, tables, args.time, lp=cheap)
            res = running.result(wait=True)
            mip = max(lp, res.value) if res else lp
            solved += running.solved
            spans += running.spans
            gains.append(mip / lp)
            if z:
                ratios_lp.append(z / max(lp, proven or 0.0))
                ratios_mip.append(z / max(mip, proven or 0.0))
            over += bool(proven and mip > proven * (1 + 1e-9))
            above += bool(z and mip > z * (1 + 1e-9))

            def fmt(x: float | None, d: int = 4) -> str:
                return "-" if x is None else f"{x:.{d}f}"

            lines.append(f"| {inst.name} | {inst.num_layers} | {lp:.6g} | "
                         + (f"{fmt(xonly, 6)} | " if args.ablation else "")
                         + f"{mip:.6g} | {'yes' if running.spans else 'no'} |"
                         f" {'yes' if running.solved else 'no'} | {mip / lp:.4f} |"
                         f" {fmt(z / mip if z else None)} |"
                         f" {fmt(mip / proven if proven else None)} |")
            print(lines[-1], flush=True)
    if not gains:
        raise SystemExit("no instance to bound")
    lines += ["", f"{len(gains)} instances: the MIP raises the bound on"
              f" {sum(g > 1 + 1e-6 for g in gains)} (mean x{statistics.mean(gains):.4f},"
              f" up to x{max(gains):.4f}); above the best proven bound on {over}; above the"
              f" best latency found on {above}; with the span rows on {spans}; solved to"
              f" optimality within the time on {solved}."]
    if ratios_lp:
        lines.append(f"Mean ratio of the best latency to the best of the runs' proven bound"
                     f" and the LP: {statistics.mean(ratios_lp):.4f}; with the MIP as well:"
                     f" {statistics.mean(ratios_mip):.4f} ({len(ratios_lp)} instances).")
    write_markdown(lines, args.output)
    print("\n".join(lines[-2:]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
