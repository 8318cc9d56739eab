"""Re-run the solvers on committed benchmark runs and compare with what they recorded.

A refactor changes no behaviour: this script is the check.  For every row of a
committed ``results.jsonl`` it (1) re-evaluates the committed schedule and (2) for the
chosen solvers re-solves the instance, and compares latency and energy with the
committed figures at a relative tolerance.  For exact solvers only rows that were
proven optimal are re-solved, and the optimum (latency) is compared.

    python scripts/check_committed.py results/paper_run --solvers baseline,h2h,h2h_plus,heft
    python scripts/check_committed.py results/small_run --solvers cpsat,milp
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from h2h_opt import SolveParams, evaluate, read_instance, read_schedule, solve


def close(a: float, b: float, rel: float) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=0.0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir")
    ap.add_argument("--solvers", default="", help="comma-separated solvers to re-solve")
    ap.add_argument("--rel", type=float, default=1e-9, help="relative tolerance")
    ap.add_argument("--time-limit", type=float, default=60.0)
    args = ap.parse_args(argv)
    solvers = [s for s in args.solvers.split(",") if s]
    rows = [json.loads(line) for line in
            Path(args.run_dir, "results.jsonl").read_text().splitlines() if line.strip()]
    bad = checked_eval = checked_solve = 0
    cache: dict[str, object] = {}
    for row in rows:
        path = row["instance_file"]
        inst = cache.setdefault(path, read_instance(path))
        if row.get("schedule") and Path(row["schedule"]).exists():
            ev = evaluate(inst, read_schedule(row["schedule"]))  # type: ignore[arg-type]
            checked_eval += 1
            if not (ev.feasible and close(ev.latency, row["latency_s"], args.rel)
                    and close(ev.energy, row["energy_j"], args.rel)):
                bad += 1
                print(f"EVAL {row['instance']} {row['solver']}: {ev.latency!r} {ev.energy!r}"
                      f" vs {row['latency_s']!r} {row['energy_j']!r}")
        if row["solver"] not in solvers:
            continue
        exact = row["solver"] in ("cpsat", "milp")
        if exact and row["status"] != "optimal":
            continue
        res = solve(inst, row["solver"],  # type: ignore[arg-type]
                    SolveParams(time_limit_s=args.time_limit, seed=row.get("seed", 0)))
        checked_solve += 1
        if exact:
            ok = str(res.status) == "optimal" and close(res.latency, row["latency_s"], 1e-6) \
                if inst.options.objective != "energy" else \
                str(res.status) == "optimal" and close(res.energy, row["energy_j"], 1e-6)
        else:
            ok = close(res.latency, row["latency_s"], args.rel) \
                and close(res.energy, row["energy_j"], args.rel)
        print(f"{'ok  ' if ok else 'DIFF'} {row['instance']} {row['solver']}: {res.status}"
              f" {res.latency!r} {res.energy!r} (committed {row['latency_s']!r}"
              f" {row['energy_j']!r}) {res.time_s:.1f}s", flush=True)
        bad += not ok
    print(f"schedules re-evaluated {checked_eval}, re-solved {checked_solve}, differences {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
