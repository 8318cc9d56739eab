"""One solver of a bench run against the best bound and against another solver
(issue 14's acceptance figures).

    python scripts/lns_acceptance.py RUN_DIR [--also OTHER_RUN ...] [--bounds RUN ...]
        [--solver lns] [--against cpsat] [-o results/lns_paper.md]

Reads ``RUN_DIR/results.jsonl`` and prints, over the instances both solvers have:
the mean and worst ratio of each solver's objective to the best lower bound any solver
of the run proved; on how many instances ``--solver`` is at most ``--against``; and on
how many it reaches a proven optimum (within 1e-6 relative).  ``--also`` adds the rows
of other runs of the same instances (e.g. lns at 30 s beside a 60 s run's optima; a
later run's row of a solver replaces an earlier one's; their versions are not checked).
``--bounds`` reads other runs for their bounds and proven optima only (every
solver's), so that one run's schedules are measured against the best bound any
committed run proved; each must have been run with the same versions of the cost
models as ``RUN_DIR`` (its ``run.json``), else the bounds are of other instances.
With ``-o`` it also writes a markdown table per instance.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from h2h_opt.experiments.bench import CorruptResults, load_results
from h2h_opt.experiments.plots import write_markdown
from h2h_opt.experiments.summary import summarise

REL = 1e-6
#: Versions of a run that change what its instances are (the cost models'): bounds of
#: runs that differ in one are of other instances.
MODEL_VERSIONS = ("dataflow-model",)


def read_rows(run: Path) -> list[dict]:
    """The bench's rows of ``run`` (one line naming the folder if it has none)."""
    try:
        rows = load_results(run)
    except CorruptResults as exc:
        raise SystemExit(str(exc)) from None
    if not rows:
        raise SystemExit(f"{run}: no bench rows (no {run / 'results.jsonl'}, or empty)")
    return rows


def model_versions(run: Path) -> dict[str, str | None]:
    """The cost-model versions every session of ``run`` ran with (run.json)."""
    try:
        meta = json.loads((run / "run.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise SystemExit(f"{run / 'run.json'}: cannot be read ({exc})") from None
    seen = [s.get("versions", {}) for s in meta.get("sessions", [])] or [
        meta.get("versions", {})]
    out: dict[str, str | None] = {}
    for key in MODEL_VERSIONS:
        values = {v.get(key) for v in seen}
        if len(values) > 1:
            raise SystemExit(f"{run}: its sessions ran with {key} {sorted(map(str, values))}")
        out[key] = values.pop()
        if out[key] is None:
            raise SystemExit(f"{run}: run.json records no {key} version, so its bounds"
                             " cannot be pooled")
    return out


def proofs(runs: list[Path], like: Path) -> tuple[dict[str, float], dict[str, float]]:
    """Per instance, the best bound and the least proven optimum of ``runs`` (every
    solver's rows), each run checked to share ``like``'s cost-model versions."""
    bounds: dict[str, float] = {}
    optima: dict[str, float] = {}
    if not runs:
        return bounds, optima
    want = model_versions(like)
    for run in runs:
        have = model_versions(run)
        if have != want:
            raise SystemExit(f"{run}: cost models {have}, not {like}'s {want}: its bounds"
                             " are of other instances")
        summary = summarise(read_rows(run))
        for name, entry in summary.instances.items():
            if entry.bound:
                bounds[name] = max(bounds.get(name, 0.0), entry.bound)
            if entry.optimum is not None:
                optima[name] = min(optima.get(name, entry.optimum), entry.optimum)
    return bounds, optima


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("--also", type=Path, nargs="*", default=[])
    ap.add_argument("--bounds", type=Path, nargs="*", default=[])
    ap.add_argument("--solver", default="lns")
    ap.add_argument("--against", default="cpsat")
    ap.add_argument("-o", "--output", default=None)
    args = ap.parse_args()
    rows = [row for run in (args.run_dir, *args.also) for row in read_rows(run)]
    summary = summarise(rows)
    more_bounds, more_optima = proofs(args.bounds, args.run_dir)
    me, other = args.solver, args.against
    table = [f"| instance | {me} | {other} | best bound | {me} / bound | {other} / bound |",
             "|---|---|---|---|---|---|"]
    ratios: dict[str, list[float]] = {me: [], other: []}
    at_most = reached = proven = both = 0
    for name, entry in sorted(summary.instances.items()):
        a, b = entry.pairs.get(me), entry.pairs.get(other)
        bound = max(entry.bound or 0.0, more_bounds.get(name, 0.0))
        known = [v for v in (entry.optimum, more_optima.get(name)) if v is not None]
        if a is None or b is None or a.value is None or b.value is None or not bound:
            continue
        both += 1
        ra, rb = a.value / bound, b.value / bound
        ratios[me].append(ra)
        ratios[other].append(rb)
        at_most += a.value <= b.value * (1 + REL)
        if known:
            proven += 1
            reached += a.value <= min(known) * (1 + REL)
        table.append(f"| {name} | {a.value:.6g} | {b.value:.6g} | {bound:.6g} |"
                     f" {ra:.4f} | {rb:.4f} |")
    if not both:
        raise SystemExit(f"no instance has both {me} and {other} with a bound")
    lines = [f"# {me} against the best bound and {other}: {args.run_dir}", ""]
    if args.bounds:
        lines += [f"Bounds and optima also from: {', '.join(map(str, args.bounds))}", ""]
    lines.append(f"* instances with both: {both}")
    for s in (me, other):
        lines.append(f"* {s}: mean ratio to the best bound {statistics.mean(ratios[s]):.4f},"
                     f" worst {max(ratios[s]):.4f}")
    lines.append(f"* {me} at most {other} (1e-6 relative): {at_most}/{both}")
    lines.append(f"* {me} reaches the proven optimum: {reached}/{proven}")
    print("\n".join(lines))
    if args.output:
        print(write_markdown([*lines, "", *table], args.output))


if __name__ == "__main__":
    main()
