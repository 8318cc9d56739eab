"""Reports of a bench run (``h2h report RUN -o DIR``): markdown tables and PNG plots.

* ``reduction.png`` — latency and energy reduction of every solver over ``baseline``,
  per workload and bandwidth (instances named ``WORKLOAD-SYSTEM-BWGBps``, averaged over
  systems; other instances individually): the H2H paper's main figure;
* ``gap_vs_size.png`` — each heuristic's gap to the best bound any exact solver proved
  for the instance, against instance size;
* ``time_vs_size.png`` — solver time against instance size, log-log;
* ``proven_vs_limit.png`` — share of instances an exact solver proved optimal within a
  time limit, against that limit (read off the solve times of one run);
* ``gantt.png`` — the schedule of one (instance, solver) pair.
"""

from __future__ import annotations

import json
import re
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from .bench import load_results
from .plots import write_markdown

__all__ = ["summarise", "write_report"]

EXACT = ("cpsat", "milp")
_PAPER_NAME = re.compile(r"^(?P<w>.+)-(?P<s>[^-]+)-(?P<bw>[0-9.]+)GBps$")


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per instance: rows by solver, the best proven bound, and derived figures."""
    by_inst: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for r in rows:
        by_inst[r.get("instance", r["instance_file"])][r["solver"]] = r
    out: dict[str, Any] = {"instances": {}, "solvers": sorted({r["solver"] for r in rows})}
    for name, solvers in by_inst.items():
        bounds = [r["bound"] for s, r in solvers.items()
                  if s in EXACT and r.get("bound") is not None and r.get("feasible")]
        optimal = [r["latency_s"] for s, r in solvers.items()
                   if s in EXACT and r.get("status") == "optimal"]
        best_bound = max(bounds) if bounds else None
        layers = next((r.get("layers") for r in solvers.values() if r.get("layers")), None)
        entry: dict[str, Any] = {"layers": layers, "best_bound": best_bound,
                                 "optimum": min(optimal) if optimal else None,
                                 "solvers": solvers}
        base = solvers.get("baseline")
        for r in solvers.values():
            if r.get("feasible") and base and base.get("feasible"):
                r["latency_reduction"] = 1 - r["latency_s"] / base["latency_s"]
                r["energy_reduction"] = 1 - r["energy_j"] / base["energy_j"]
            if r.get("feasible") and best_bound:
                r["gap_to_bound"] = max(0.0, (r["latency_s"] - best_bound) / r["latency_s"])
            if r.get("feasible") and entry["optimum"]:
                r["gap_to_optimum"] = max(0.0, (r["latency_s"] - entry["optimum"])
                                          / entry["optimum"])  # tick rounding: tiny < 0
        out["instances"][name] = entry
    return out


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _group_key(name: str) -> tuple[str, str]:
    m = _PAPER_NAME.match(name)
    return (m.group("w"), f"{float(m.group('bw')):g} GB/s") if m else (name, "")


def _reduction_plot(summary: dict[str, Any], path: Path) -> bool:
    plt = _plt()
    solvers = [s for s in summary["solvers"] if s != "baseline"]
    groups: dict[tuple[str, str], dict[str, list[tuple[float, float]]]] = defaultdict(
        lambda: defaultdict(list))
    for name, entry in summary["instances"].items():
        for s in solvers:
            r = entry["solvers"].get(s)
            if r and "latency_reduction" in r:
                groups[_group_key(name)][s].append((r["latency_reduction"],
                                                    r["energy_reduction"]))
    if not groups:
        return False
    keys = sorted(groups)
    fig, axes = plt.subplots(2, 1, figsize=(min(16, max(6, 0.2 * len(keys) * len(solvers))), 7),
                             sharex=True)
    width = 0.8 / max(1, len(solvers))
    for ax, idx, label in ((axes[0], 0, "latency"), (axes[1], 1, "energy")):
        for j, s in enumerate(solvers):
            vals = [100 * statistics.mean(v[idx] for v in groups[k][s]) if groups[k][s]
                    else 0.0 for k in keys]
            ax.bar([i + j * width for i in range(len(keys))], vals, width, label=s)
        ax.set_ylabel(f"{label} reduction over baseline [%]")
        ax.axhline(0, color="black", lw=0.5)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(ncol=len(solvers), fontsize=8)
    axes[1].set_xticks([i + 0.4 - width / 2 for i in range(len(keys))])
    axes[1].set_xticklabels([f"{w}\n{bw}" for w, bw in keys], rotation=60, fontsize=7,
                            ha="right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _scatter(summary: dict[str, Any], path: Path, field: str, ylabel: str, loglog: bool,
             solvers: list[str]) -> bool:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    drawn = False
    for s in solvers:
        pts = [(e["layers"], e["solvers"][s][field]) for e in summary["instances"].values()
               if s in e["solvers"] and e["solvers"][s].get(field) is not None and e["layers"]]
        if not pts:
            continue
        drawn = True
        xs, ys = zip(*pts, strict=True)
        ys = [100 * y for y in ys] if field.startswith("gap") else list(ys)
        ax.scatter(xs, ys, label=s, s=14, alpha=0.75)
    if not drawn:
        plt.close(fig)
        return False
    if loglog:
        ax.set_xscale("log")
        ax.set_yscale("log")
    return _finish(plt, fig, ax, path, "layers", ylabel)


def _finish(plt: Any, fig: Any, ax: Any, path: Path, xlabel: str, ylabel: str) -> bool:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _proven_plot(summary: dict[str, Any], rows: list[dict[str, Any]], path: Path) -> bool:
    plt = _plt()
    exact = [s for s in summary["solvers"] if s in EXACT]
    if not exact:
        return False
    limit = max((r.get("time_limit_s") or 0.0) for r in rows) or 60.0
    grid = [limit * 10 ** (k / 10) for k in range(-30, 1)]
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for s in exact:
        runs = [e["solvers"][s] for e in summary["instances"].values() if s in e["solvers"]]
        if not runs:
            continue
        share = [100 * sum(r.get("status") == "optimal" and (r.get("time_s") or 0) <= t
                           for r in runs) / len(runs) for t in grid]
        ax.step(grid, share, where="post", label=f"{s} ({len(runs)} instances)")
    ax.set_xscale("log")
    ax.set_ylim(0, 100)
    return _finish(plt, fig, ax, path, "time limit [s]", "proven optimal [%]")


def write_report(run_dir: str | Path, out_dir: str | Path, gantt: str | None = None
                 ) -> list[str]:
    """Write ``report.md`` and the plots; returns the files written."""
    run_dir, out_dir = Path(run_dir), Path(out_dir)
    rows = load_results(run_dir)
    if not rows:
        raise ValueError(f"{run_dir}: no results (run h2h bench first)")
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = summarise(rows)
    info_path = run_dir / "run.json"
    info = json.loads(info_path.read_text()) if info_path.exists() else {}
    written: list[str] = []
    heuristics = [s for s in summary["solvers"] if s not in EXACT]
    plots = [("reduction.png", lambda p: _reduction_plot(summary, p)),
             ("gap_vs_size.png", lambda p: _scatter(
                 summary, p, "gap_to_bound", "gap to best proven bound [%]", False,
                 heuristics)),
             ("time_vs_size.png", lambda p: _scatter(
                 summary, p, "time_s", "solver time [s]", True, summary["solvers"])),
             ("proven_vs_limit.png", lambda p: _proven_plot(summary, rows, p))]
    for fname, fn in plots:
        if fn(out_dir / fname):
            written.append(str(out_dir / fname))
    # the Gantt chart of one pair
    pick = None
    if gantt:
        inst_name, _, solver = gantt.partition("::")
        pick = summary["instances"].get(inst_name, {}).get("solvers", {}).get(solver)
        if pick is None:
            raise ValueError(f"no pair {gantt!r} in {run_dir} to draw a Gantt chart of")
    else:
        cands = [e["solvers"]["h2h"] for e in summary["instances"].values()
                 if "h2h" in e["solvers"] and e["solvers"]["h2h"].get("schedule")]
        pick = max(cands, key=lambda r: r.get("layers") or 0, default=None)
    if pick is not None and pick.get("schedule") and Path(pick["schedule"]).exists():
        from ..io import read_instance, read_schedule
        from .plots import save_gantt

        inst = read_instance(pick["instance_file"])
        save_gantt(inst, read_schedule(pick["schedule"]), out_dir / "gantt.png",
                   title=f"{inst.name} — {pick['solver']}")
        written.append(str(out_dir / "gantt.png"))
    written.insert(0, str(out_dir / "report.md"))
    write_markdown(_markdown(summary, rows, info, written), out_dir / "report.md")
    return written


def _mean(xs: list[float]) -> str:
    return f"{100 * statistics.mean(xs):.1f} %" if xs else "-"


def _markdown(summary: dict[str, Any], rows: list[dict[str, Any]], info: dict[str, Any],
              written: list[str]) -> list[str]:
    inst = summary["instances"]
    lines = ["# Bench report", "",
             f"{len(inst)} instances, solvers {', '.join(summary['solvers'])};"
             f" time limit {info.get('time_limit_s', '?')} s, seed {info.get('seed', '?')},"
             f" git {str(info.get('git'))[:10]}; {sum(r.get('status') == 'error' for r in rows)}"
             " errors; every schedule checked by the evaluator"
             f" ({sum(r.get('feasible') is False for r in rows)} infeasible).", "",
             "## Headline", ""]
    for s in summary["solvers"]:
        rs = [e["solvers"][s] for e in inst.values() if s in e["solvers"]]
        red_l = [r["latency_reduction"] for r in rs if "latency_reduction" in r]
        red_e = [r["energy_reduction"] for r in rs if "energy_reduction" in r]
        gap = [r["gap_to_optimum"] for r in rs if "gap_to_optimum" in r]
        proven = sum(r.get("status") == "optimal" for r in rs)
        text = f"* `{s}`: latency reduction over baseline {_mean(red_l)}, energy {_mean(red_e)}"
        text += f"; mean gap to the proven optimum {_mean(gap)} ({len(gap)} instances)"
        if s in EXACT:
            text += f"; proven optimal {proven}/{len(rs)}"
        lines.append(text)
    lines += ["", "## Every instance (latency [s]; gap to the best proven bound)", "",
              "| instance | layers | " + " | ".join(summary["solvers"]) + " | best bound |",
              "|---|---|" + "---|" * (len(summary["solvers"]) + 1)]
    for name, e in inst.items():
        cells = []
        for s in summary["solvers"]:
            r = e["solvers"].get(s)
            if r is None:
                cells.append("")
            elif r.get("status") == "error":
                cells.append("error")
            elif r.get("latency_s") is None:
                cells.append(r.get("status", ""))
            else:
                gap = r.get("gap_to_bound")
                mark = "*" if r.get("status") == "optimal" and s in EXACT else ""
                cells.append(f"{r['latency_s']:.6g}{mark}" + (f" ({100 * gap:.1f} %)"
                                                               if gap is not None else ""))
        bb = "-" if e["best_bound"] is None else f"{e['best_bound']:.6g}"
        lines.append(f"| {name} | {e['layers']} | " + " | ".join(cells) + f" | {bb} |")
    lines += ["", "`*` proven optimal.", ""]
    lines += [f"![{Path(f).stem}]({Path(f).name})" for f in written if f.endswith(".png")]
    return lines
