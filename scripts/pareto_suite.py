"""Exact latency-energy fronts on every instance of a set (the ``pareto`` suite), by one
or more solvers, one front at a time: points, completeness, time, and — with two exact
solvers — whether their fronts agree (to the tick and 1e-9 J).

    python scripts/pareto_suite.py instances/pareto [--solvers cpsat,milp]
        [--time-limit 600] [--points 200] [-o results/pareto_suite.md]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from h2h_opt import read_instance
from h2h_opt.experiments.pareto import pareto_front
from h2h_opt.experiments.plots import write_markdown


def same(a: list[tuple[float, float]], b: list[tuple[float, float]], tick: float) -> bool:
    return len(a) == len(b) and all(
        abs(x[0] - y[0]) <= tick and math.isclose(x[1], y[1], rel_tol=0, abs_tol=1e-9)
        for x, y in zip(a, b, strict=True))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("set")
    ap.add_argument("--solvers", default="cpsat")
    ap.add_argument("--time-limit", type=float, default=600.0, help="per front, s")
    ap.add_argument("--points", type=int, default=200, help="most points per front")
    ap.add_argument("-o", "--output", default="results/pareto_suite.md")
    args = ap.parse_args(argv)
    solvers = args.solvers.split(",")
    files = sorted(p for p in Path(args.set).glob("*.json") if p.name != "MANIFEST.json")
    lines = [f"# Exact fronts on `{args.set}`", "",
             f"{len(files)} instances; solvers {', '.join(solvers)}; {args.time_limit:g} s and"
             f" at most {args.points} points per front, one front at a time.", "",
             "| instance | layers | accs | " + " | ".join(
                 f"{s} points / complete / time [s]" for s in solvers)
             + (" | same front |" if len(solvers) == 2 else " |"),
             "|---|---|---|" + "---|" * (len(solvers) + (len(solvers) == 2))]
    complete = dict.fromkeys(solvers, 0)
    agree = 0
    for f in files:
        inst = read_instance(f)
        fronts = {s: pareto_front(inst, s, points=args.points, time_limit_s=args.time_limit)
                  for s in solvers}
        cells = []
        for s, fr in fronts.items():
            complete[s] += fr.complete
            cells.append(f"{len(fr.points)} / {'yes' if fr.complete else 'no'} /"
                         f" {fr.time_s:.1f}")
        row = f"| {inst.name} | {inst.num_layers} | {inst.num_accs} | " + " | ".join(cells)
        if len(solvers) == 2:
            a, b = ([(p.latency, p.energy) for p in fronts[s].points] for s in solvers)
            ok = same(a, b, inst.options.tick_s)
            agree += ok
            row += f" | {'yes' if ok else 'no'}"
        lines.append(row + " |")
        print(row, flush=True)
    lines += ["", "Complete fronts: " + ", ".join(f"{s} {complete[s]}/{len(files)}"
                                                  for s in solvers)
              + (f"; the same front from both on {agree}/{len(files)}." if len(solvers) == 2
                 else ".")]
    write_markdown(lines, args.output)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
