"""CP-SAT on the Standard Task Graph Set (50-task graphs, known optima): every graph at
the given processor counts, one run each with a time limit.  Every schedule is checked
by the evaluator; the best makespan is compared with the known optimum.

    python scripts/bench_stg.py [--stg ../shared/data/stg] [--procs 4 8] [--time-limit 10]
        [-o results/stg_cpsat]
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

from h2h_opt import SolveParams, evaluate, solve
from h2h_opt.experiments.plots import write_markdown
from h2h_opt.io import read_stg


def read_optima(path: Path) -> dict[tuple[str, int], tuple[float, float]]:
    """``(graph, procs) -> (lower, upper)``.  Most rows give the optimum; 51 rows give
    two numbers, a range in which the optimum lies (it was not known)."""
    out = {}
    with path.open() as fh:
        rows = csv.reader(fh)
        next(rows)
        for row in rows:
            lo = float(row[2])
            out[(row[0], int(row[1]))] = (lo, float(row[3]) if len(row) > 3 else lo)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stg", default="../shared/data/stg")
    ap.add_argument("--procs", type=int, nargs="+", default=[4, 8])
    ap.add_argument("--time-limit", type=float, default=10.0)
    ap.add_argument("--limit", type=int, default=None, help="first N graphs only")
    ap.add_argument("-o", "--output", default="results/stg_cpsat")
    args = ap.parse_args()
    root = Path(args.stg)
    optima = read_optima(root / "optima_50.csv")
    graphs = sorted((root / "50").glob("*.stg"))[: args.limit]
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    with (out / "runs.jsonl").open("w") as fh:
        for p in args.procs:
            for g in graphs:
                inst = read_stg(g, p)
                t0 = time.perf_counter()
                res = solve(inst, "cpsat", SolveParams(time_limit_s=args.time_limit))
                ev = evaluate(inst, res.schedule)
                assert ev.feasible, (g.name, p, ev.violations[:2])
                lo, hi = optima[(f"50/{g.name}", p)]
                row = {"graph": g.name, "procs": p, "known_lb": lo, "known_ub": hi,
                       "makespan": ev.latency,
                       "bound": res.bound, "status": res.status.value,
                       "time_s": time.perf_counter() - t0,
                       "hint_ok": res.info.get("hint_complete_and_feasible")}
                rows.append(row)
                fh.write(json.dumps(row) + "\n")
                fh.flush()
                print(json.dumps(row), flush=True)
    n = len(rows)
    proven = [r for r in rows if r["status"] == "optimal"]
    known = [r for r in rows if r["known_lb"] == r["known_ub"]]
    ranges = [r for r in rows if r["known_lb"] < r["known_ub"]]
    wrong = [r for r in proven if not r["known_lb"] - 1e-9 <= r["makespan"]
             <= r["known_ub"] + 1e-9]
    below = [r for r in rows if r["makespan"] < r["known_lb"] - 1e-9]
    at_opt = [r for r in known if abs(r["makespan"] - r["known_lb"]) <= 1e-9]
    closed = [r for r in ranges if r["status"] == "optimal"]
    lines = ["# CP-SAT on the Standard Task Graph Set (50 tasks)", "",
             f"{len(graphs)} graphs x procs {args.procs}, time limit {args.time_limit:g} s,"
             " default parameters (8 workers, warm start from h2h).", "",
             f"* runs: {n}",
             f"* proven optimal: {len(proven)} ({100 * len(proven) / n:.1f} %)",
             f"* runs whose optimum is known: {len(known)}; best makespan equals it:"
             f" {len(at_opt)}",
             f"* runs where the data gives only a range [lb, ub]: {len(ranges)}; proven"
             f" optimal here (range closed): {len(closed)}"
             + "".join(f"\n  * {r['graph']} / {r['procs']} procs: range"
                       f" [{r['known_lb']:g}, {r['known_ub']:g}], proven {r['makespan']:g}"
                       for r in closed),
             f"* proven optimal outside the known optimum or range: {len(wrong)}",
             f"* below the known optimum / lower bound: {len(below)}",
             f"* hint complete and feasible: {sum(bool(r['hint_ok']) for r in rows)}",
             f"* mean / max time: {sum(r['time_s'] for r in rows) / n:.2f} s /"
             f" {max(r['time_s'] for r in rows):.2f} s", ""]
    for p in args.procs:
        sub = [r for r in rows if r["procs"] == p]
        lines.append(f"* {p} procs: {sum(r['status'] == 'optimal' for r in sub)}/{len(sub)}"
                     " proven")
    unproven = [r for r in rows if r["status"] != "optimal"]
    if unproven:
        lines += ["", "Not proven within the limit:", "",
                  "| graph | procs | known | best | bound |", "|---|---|---|---|---|"]
        lines += [f"| {r['graph']} | {r['procs']} | {r['known_lb']:g}-{r['known_ub']:g} |"
                  f" {r['makespan']:g} | {r['bound']} |" for r in unproven]
    print(write_markdown(lines, out / "summary.md"))


if __name__ == "__main__":
    main()
