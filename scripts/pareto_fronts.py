"""Latency-energy fronts of one instance by several solvers, their hypervolumes against
one reference point, and each front's ratio to the first (exact) one.

    python scripts/pareto_fronts.py instances/examples/reference-2acc-1.25GBps-same_accelerator.json
        [--solvers cpsat,h2h_plus,lns] [--time-limit 600] [-o results/pareto_reference.md]
        [--plot results/pareto_reference.png]

The reference point is 1.1 x the largest latency and energy over all fronts.  A front
is weakly dominated by the first when each of its points is matched or beaten in both
figures by one of the first front's points.
"""

from __future__ import annotations

import argparse

from h2h_opt import read_instance
from h2h_opt.experiments.pareto import hypervolume, pareto_front
from h2h_opt.experiments.plots import front_plot, write_markdown


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("instance")
    ap.add_argument("--solvers", default="cpsat,h2h_plus,lns")
    ap.add_argument("--time-limit", type=float, default=600.0, help="per front, s")
    ap.add_argument("-o", "--output", default="results/pareto_reference.md")
    ap.add_argument("--plot", default=None)
    args = ap.parse_args(argv)
    inst = read_instance(args.instance)
    fronts = {s: pareto_front(inst, s, time_limit_s=args.time_limit)
              for s in args.solvers.split(",")}
    pts = {s: [(p.latency, p.energy) for p in f.points] for s, f in fronts.items()}
    every = [p for ps in pts.values() for p in ps]
    ref = (1.1 * max(p[0] for p in every), 1.1 * max(p[1] for p in every))
    first = next(iter(fronts))
    hv0 = hypervolume(pts[first], ref)
    lines = [f"# Latency-energy fronts: {inst.name}", "",
             f"Reference point ({ref[0]:.6g} s, {ref[1]:.6g} J); time limit"
             f" {args.time_limit:g} s per front.", "",
             "| solver | points | complete | steps | time [s] | hypervolume [s·J] |"
             f" ratio to {first} | weakly dominated by {first} |",
             "|---|---|---|---|---|---|---|---|"]
    for s, f in fronts.items():
        hv = hypervolume(pts[s], ref)
        dom = all(any(q[0] <= p[0] * (1 + 1e-9) and q[1] <= p[1] * (1 + 1e-9)
                      for q in pts[first]) for p in pts[s])
        lines.append(f"| {s} | {len(f.points)} | {'yes' if f.complete else 'no'} |"
                     f" {f.steps} | {f.time_s:.1f} | {hv:.6g} | {hv / hv0:.4f} |"
                     f" {'yes' if dom else 'no'} |")
    lines += ["", "| solver | latency [s] | energy [J] | status |", "|---|---|---|---|"]
    for s, f in fronts.items():
        for p in f.points:
            lines.append(f"| {s} | {p.latency:.6g} | {p.energy:.6g} | {p.status}"
                         + (", energy proven" if p.energy_proven else "") + " |")
    write_markdown(lines, args.output)
    if args.plot:
        front_plot(pts, inst.name, args.plot)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
