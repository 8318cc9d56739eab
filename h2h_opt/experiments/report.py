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

A run of ``bench --pareto`` gets a report of its fronts instead: per solver the complete
fronts, mean points and hypervolume ratio to the best front known (the non-dominated
union of all fronts of the instance), and per instance one figure with every solver's
front (``front-INSTANCE.png``).
"""

from __future__ import annotations

import json
import re
import statistics
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .bench import load_results
from .plots import write_markdown
from .summary import PairSummary, Summary, summarise

__all__ = ["proven_plot", "reduction_plot", "size_scatter", "write_report"]

EXACT = ("cpsat", "milp")
_PAPER_NAME = re.compile(r"^(?P<w>.+)-(?P<s>[^-]+)-(?P<bw>[0-9.]+)GBps$")


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _group_key(name: str) -> tuple[str, str]:
    m = _PAPER_NAME.match(name)
    return (m.group("w"), f"{float(m.group('bw')):g} GB/s") if m else (name, "")


def _not_baseline(summary: Summary) -> list[str]:
    return [s for s in summary.solvers if s != "baseline"]


def _reduction_groups(summary: Summary, solvers: list[str]
                      ) -> dict[tuple[str, str], dict[str, list[tuple[float, float]]]]:
    """(workload, bandwidth) -> solver -> its (latency, energy) reductions there."""
    groups: dict[tuple[str, str], dict[str, list[tuple[float, float]]]] = defaultdict(
        lambda: defaultdict(list))
    for name, entry in summary.instances.items():
        for s in solvers:
            p = entry.pairs.get(s)
            if p and p.latency_reduction is not None and p.energy_reduction is not None:
                groups[_group_key(name)][s].append((p.latency_reduction, p.energy_reduction))
    return groups


def reduction_plot(summary: Summary, ax: Any = None) -> Any:
    """Bars of the mean latency (top) and energy (bottom) reduction of every solver over
    ``baseline``, per (workload, bandwidth) group.

    Parameters
    ----------
    ax
        Two matplotlib ``Axes`` (top, bottom) sharing x; a new figure if None.

    Returns
    -------
    The two ``Axes``.
    """
    solvers = _not_baseline(summary)
    groups = _reduction_groups(summary, solvers)
    keys = sorted(groups)
    if ax is None:
        _, ax = _plt().subplots(
            2, 1, figsize=(min(16, max(6, 0.2 * len(keys) * len(solvers))), 7), sharex=True)
    width = 0.8 / max(1, len(solvers))
    for a, idx, label in ((ax[0], 0, "latency"), (ax[1], 1, "energy")):
        for j, s in enumerate(solvers):
            vals = [100 * statistics.mean(v[idx] for v in groups[k][s]) if groups[k][s]
                    else 0.0 for k in keys]
            a.bar([i + j * width for i in range(len(keys))], vals, width, label=s)
        a.set_ylabel(f"{label} reduction over baseline [%]")
        a.axhline(0, color="black", lw=0.5)
        a.grid(axis="y", alpha=0.3)
    ax[0].legend(ncol=len(solvers), fontsize=8)
    ax[1].set_xticks([i + 0.4 - width / 2 for i in range(len(keys))])
    ax[1].set_xticklabels([f"{w}\n{bw}" for w, bw in keys], rotation=60, fontsize=7,
                          ha="right")
    return ax


def _points(summary: Summary, field: Callable[[PairSummary], float | None],
            solvers: list[str]) -> dict[str, list[tuple[int, float]]]:
    """solver -> (layers, figure) of every instance where the figure is defined."""
    out: dict[str, list[tuple[int, float]]] = {}
    for s in solvers:
        pts = [(e.layers, y) for e in summary.instances.values() if s in e.pairs and e.layers
               for y in (field(e.pairs[s]),) if y is not None]
        if pts:
            out[s] = pts
    return out


def size_scatter(summary: Summary, field: Callable[[PairSummary], float | None],
                 ylabel: str, solvers: list[str], *, loglog: bool = False,
                 percent: bool = False, ax: Any = None) -> Any:
    """One point per (instance, solver): ``field`` of the pair (x100 if ``percent``)
    against the instance's number of layers.  Returns the ``Axes``."""
    if ax is None:
        _, ax = _plt().subplots(figsize=(6.5, 4.2))
    for s, pts in _points(summary, field, solvers).items():
        xs, ys = zip(*pts, strict=True)
        ax.scatter(xs, [100 * y for y in ys] if percent else list(ys), label=s, s=14,
                   alpha=0.75)
    if loglog:
        ax.set_xscale("log")
        ax.set_yscale("log")
    _style(ax, "layers", ylabel)
    return ax


def proven_plot(summary: Summary, limit: float, ax: Any = None) -> Any:
    """Share of its instances each exact solver proved optimal within a time limit,
    against that limit (from ``limit`` / 1000 to ``limit``), read off the solve times of
    one run.  Returns the ``Axes``."""
    grid = [limit * 10 ** (k / 10) for k in range(-30, 1)]
    if ax is None:
        _, ax = _plt().subplots(figsize=(6.5, 4.2))
    for s in (s for s in summary.solvers if s in EXACT):
        runs = [p.row for p in summary.pairs(s)]
        if not runs:
            continue
        share = [100 * sum(r.get("status") == "optimal" and (r.get("time_s") or 0) <= t
                           for r in runs) / len(runs) for t in grid]
        ax.step(grid, share, where="post", label=f"{s} ({len(runs)} instances)")
    ax.set_xscale("log")
    ax.set_ylim(0, 100)
    _style(ax, "time limit [s]", "proven optimal [%]")
    return ax


def _style(ax: Any, xlabel: str, ylabel: str) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)


def _save(ax: Any, path: Path) -> bool:
    fig = (ax[0] if isinstance(ax, (list, tuple)) or hasattr(ax, "shape") else ax).figure
    fig.tight_layout()
    from .plots import save_figure

    save_figure(fig, path, dpi=110)
    return True


def _write_plots(summary: Summary, rows: list[dict[str, Any]], out_dir: Path) -> list[str]:
    """The report's PNGs (each only if it has something to show); returns their paths."""
    heuristics = [s for s in summary.solvers if s not in EXACT]
    gap = (lambda q: q.gap_to_bound, "gap to best proven bound [%]", heuristics)
    time_s = (lambda q: q.row.get("time_s"), "solver time [s]", summary.solvers)
    limit = max((r.get("time_limit_s") or 0.0) for r in rows) or 60.0
    plots = [
        ("reduction.png", bool(_reduction_groups(summary, _not_baseline(summary))),
         lambda: reduction_plot(summary)),
        ("gap_vs_size.png", bool(_points(summary, gap[0], gap[2])),
         lambda: size_scatter(summary, *gap, percent=True)),
        ("time_vs_size.png", bool(_points(summary, time_s[0], time_s[2])),
         lambda: size_scatter(summary, *time_s, loglog=True)),
        ("proven_vs_limit.png", any(s in EXACT for s in summary.solvers),
         lambda: proven_plot(summary, limit)),
    ]
    written = []
    for fname, has_data, draw in plots:
        if has_data and _save(draw(), out_dir / fname):
            written.append(str(out_dir / fname))
    return written


def _with_objectives(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of runs that predate the ``objective`` field get it from their instance file
    (when it is still there; :func:`summarise` assumes latency otherwise)."""
    from ..io import read_instance

    cache: dict[str, str] = {}
    out = []
    for r in rows:
        path = r.get("instance_file")
        if "objective" not in r and path and Path(path).exists():
            if path not in cache:
                cache[path] = read_instance(path).options.objective
            r = {**r, "objective": cache[path]}
        out.append(r)
    return out


def write_report(run_dir: str | Path, out_dir: str | Path, gantt: str | None = None
                 ) -> list[str]:
    """Write ``report.md`` and the plots; returns the files written."""
    run_dir, out_dir = Path(run_dir), Path(out_dir)
    rows = load_results(run_dir)
    if not rows:
        raise ValueError(f"{run_dir}: no results (run h2h bench first)")
    from ..io import OutputError

    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"{out_dir}: is a file; give a folder for the report")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot create the report folder"
                          f" ({exc.strerror or exc})") from None
    info_path = run_dir / "run.json"
    info = json.loads(info_path.read_text()) if info_path.exists() else {}
    if any(r.get("mode") == "pareto" for r in rows):
        return _front_report(rows, info, out_dir)
    summary = summarise(_with_objectives(rows))
    written = _write_plots(summary, rows, out_dir)
    # the Gantt chart of one pair
    pick = None
    if gantt:
        inst_name, _, solver = gantt.partition("::")
        entry = summary.instances.get(inst_name)
        pair = entry.pairs.get(solver) if entry else None
        if pair is None:
            raise ValueError(f"no pair {gantt!r} in {run_dir} to draw a Gantt chart of")
        pick = pair.row
    else:
        cands = [p.row for p in summary.pairs("h2h") if p.row.get("schedule")]
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


_LABELS = {"latency": "latency [s]", "energy": "energy [J]",
           "lex": "latency [s], then energy (lex)"}


def _markdown(summary: Summary, rows: list[dict[str, Any]], info: dict[str, Any],
              written: list[str]) -> list[str]:
    inst = summary.instances
    solvers = summary.solvers
    objectives = summary.objectives
    mixed = len(objectives) > 1
    lines = ["# Bench report", "",
             f"{len(inst)} instances, solvers {', '.join(solvers)};"
             f" time limit {info.get('time_limit_s', '?')} s, seed {info.get('seed', '?')},"
             f" git {str(info.get('git'))[:10]}; {sum(r.get('status') == 'error' for r in rows)}"
             " errors; every schedule checked by the evaluator"
             f" ({sum(r.get('feasible') is False for r in rows)} infeasible).", "",
             "## Headline", ""]
    for s in solvers:
        ps = summary.pairs(s)
        red_l = [p.latency_reduction for p in ps if p.latency_reduction is not None]
        red_e = [p.energy_reduction for p in ps if p.energy_reduction is not None]
        gap = [p.gap_to_optimum for p in ps if p.gap_to_optimum is not None]
        proven = sum(p.row.get("status") == "optimal" for p in ps)
        text = f"* `{s}`: latency reduction over baseline {_mean(red_l)}, energy {_mean(red_e)}"
        text += f"; mean gap to the proven optimum {_mean(gap)} ({len(gap)} instances)"
        if s in EXACT:
            text += f"; proven optimal {proven}/{len(ps)}"
        lines.append(text)
    what = ("each instance's objective: latency [s] or energy [J]" if mixed
            else _LABELS[objectives[0]] if objectives else _LABELS["latency"])
    lines += ["", f"## Every instance ({what}; gap to the best proven bound)", "",
              "| instance | layers | " + ("objective | " if mixed else "")
              + " | ".join(solvers) + " | best bound |",
              "|---|---|" + ("---|" if mixed else "") + "---|" * (len(solvers) + 1)]
    for name, e in inst.items():
        cells = []
        for s in solvers:
            p = e.pairs.get(s)
            if p is None:
                cells.append("")
            elif p.row.get("status") == "error":
                cells.append("error")
            elif p.row.get(e.key) is None:
                cells.append(p.row.get("status", ""))
            else:
                g = p.gap_to_bound
                mark = "*" if p.row.get("status") == "optimal" and s in EXACT else ""
                cells.append(f"{p.row[e.key]:.6g}{mark}" + (f" ({100 * g:.1f} %)"
                                                             if g is not None else ""))
        bb = "-" if e.bound is None else f"{e.bound:.6g} ({', '.join(e.bound_solvers)})"
        obj = f"{e.objective} [{e.unit}] | " if mixed else ""
        lines.append(f"| {name} | {e.layers} | {obj}" + " | ".join(cells) + f" | {bb} |")
    lines += ["", "`*` proven optimal; the best bound with the solvers that proved it.", ""]
    lines += _bound_sources(summary)
    if objectives and objectives != ["energy"]:  # the other figure of the same schedules
        lines += ["## Every instance (energy [J] of the same schedules)", "",
                  "| instance | layers | " + " | ".join(solvers) + " |",
                  "|---|---|" + "---|" * len(solvers)]
        for name, e in inst.items():
            cells = [f"{p.row['energy_j']:.6g}" if p is not None
                     and p.row.get("energy_j") is not None else ""
                     for p in (e.pairs.get(s) for s in solvers)]
            lines.append(f"| {name} | {e.layers} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += [f"![{Path(f).stem}]({Path(f).name})" for f in written if f.endswith(".png")]
    return lines


def _bound_sources(summary: Summary) -> list[str]:
    """The section on where each instance's best bound comes from: per relaxation or
    model (as its solver names it) and solver, on how many instances it is the best;
    nothing if no row has a bound."""
    tally: dict[tuple[str, str], int] = defaultdict(int)
    for e in summary.instances.values():
        if e.bound is not None:
            tally[e.bound_source or "(not recorded)", ", ".join(e.bound_solvers)] += 1
    if not tally:
        return []
    lines = ["## Where the best bounds come from", "",
             "| bound | solvers | instances |", "|---|---|---|"]
    for (source, solvers), count in sorted(tally.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"| {source} | {solvers} | {count} |")
    return lines + [""]


def _front_report(rows: list[dict[str, Any]], info: dict[str, Any], out_dir: Path
                  ) -> list[str]:
    """The report of a ``bench --pareto`` run (module notes)."""
    from .pareto import front_summary, solver_front_totals
    from .plots import front_plot

    summary = front_summary(rows)
    totals = solver_front_totals(summary)
    solvers = list(totals)
    written = [str(out_dir / "report.md")]
    figures = []
    for name, entry in summary.items():
        fronts = {s: f["points"] for s, f in entry["solvers"].items() if f["points"]}
        if fronts:
            path = out_dir / f"front-{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.png"
            front_plot(fronts, name, path)
            figures.append(str(path))
    lines = ["# Front report", "",
             f"{len(summary)} instances, solvers {', '.join(solvers)}; at most"
             f" {info.get('points', '?')} points and {info.get('time_limit_s', '?')} s per"
             f" front, seed {info.get('seed', '?')}, git {str(info.get('git'))[:10]};"
             f" {sum(r.get('status') == 'error' for r in rows)} errors; every point's"
             f" schedule checked by the evaluator"
             f" ({sum(r.get('feasible') is False for r in rows)} fronts with a point that"
             " is not).", "",
             "Hypervolume against 1.1 × the largest latency and energy of any front of the"
             " instance; the ratio is to the hypervolume of the non-dominated union of all"
             " fronts of the instance (the exact front, where one is complete).", "",
             "## Headline", ""]
    for s, t in totals.items():
        ratio = "-" if t["mean_ratio"] is None else f"{t['mean_ratio']:.4f}"
        text = (f"* `{s}`: {t['fronts']} fronts, {t['complete']} complete, mean"
                f" {t['mean_points']:.1f} points, mean hypervolume ratio {ratio}")
        if t["compared"]:
            text += (f"; weakly dominated by another solver's complete front on"
                     f" {t['dominated']}/{t['compared']}")
        lines.append(text)
    lines += ["", "## Every instance (points / complete / hypervolume ratio)", "",
              "| instance | layers | " + " | ".join(solvers) + " | union points |",
              "|---|---|" + "---|" * (len(solvers) + 1)]
    for name, entry in summary.items():
        cells = []
        for s in solvers:
            f = entry["solvers"].get(s)
            if f is None:
                cells.append("")
            elif f["error"]:
                cells.append("error")
            else:
                ratio = "-" if f["ratio"] is None else f"{f['ratio']:.4f}"
                cells.append(f"{len(f['points'])} / {'yes' if f['complete'] else 'no'} /"
                             f" {ratio}")
        lines.append(f"| {name} | {entry['layers'] or ''} | " + " | ".join(cells)
                     + f" | {len(entry['union'])} |")
    lines.append("")
    lines += [f"![{Path(f).stem}]({Path(f).name})" for f in figures]
    write_markdown(lines, out_dir / "report.md")
    return written + figures
