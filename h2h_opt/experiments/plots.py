"""Plots and tables.  matplotlib is imported lazily, only when a plot is drawn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..cost import compile_tables
from ..evaluate import evaluate
from ..model import Instance
from ..schedule import Schedule

__all__ = ["check_figure_path", "front_plot", "gantt", "save_figure", "save_gantt", "steps_table",
           "write_markdown"]


def _figure_format(path: str | Path) -> str:
    return Path(path).suffix[1:].lower() or "png"


def check_figure_path(path: str | Path) -> Path:
    """Refuse, before any work, a figure path matplotlib cannot write (its extension
    names no supported format; none means PNG) or that cannot be written at all."""
    from matplotlib.backend_bases import FigureCanvasBase

    from ..io import OutputError, check_output

    if not Path(path).suffix:
        raise OutputError(f"{path}: no extension to name the figure's format (e.g. .png)")
    fmt = _figure_format(path)
    supported = FigureCanvasBase.get_supported_filetypes()
    if fmt not in supported:
        raise OutputError(f"{path}: cannot draw a figure in format {fmt!r} (supported:"
                          f" {', '.join(sorted(supported))})")
    return check_output(path)


def save_figure(fig: Any, path: str | Path, dpi: int = 130) -> None:
    """Save ``fig`` atomically (a temporary file renamed into place) and close it."""
    import matplotlib.pyplot as plt

    from ..io import atomic_path

    check_figure_path(path)
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=dpi, format=_figure_format(path))
    finally:
        plt.close(fig)


def gantt(inst: Instance, schedule: Schedule, ax: Any = None, title: str | None = None) -> Any:
    """Gantt chart: one row per accelerator; compute coloured by model (backbone),
    data movement (weight load, input read, output write) hatched grey.

    Returns the matplotlib ``Axes``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    ev = evaluate(inst, schedule, compile_tables(inst))
    if ev.start is None or ev.durations is None:
        raise ValueError("schedule cannot be timed: " + "; ".join(
            v.message for v in ev.violations[:3]))
    if ax is None:
        width = min(24.0, 8.0 + 0.08 * inst.num_layers)
        _, ax = plt.subplots(figsize=(width, 1.2 + 0.7 * inst.num_accs))
    models = inst.workload.models
    cmap = plt.get_cmap("tab10" if len(models) <= 10 else "tab20")
    colour = {m: cmap(i % cmap.N) for i, m in enumerate(models)}
    d = ev.durations
    acc_row = {a: i for i, a in enumerate(inst.system.ids)}
    span = ev.latency or 1.0
    for v, layer in enumerate(inst.workload.layers):
        y = acc_row[schedule.mapping[layer.id]]
        t = float(ev.start[v])
        pieces = [("load", float(d.weight_load[v] + d.read[v])),
                  ("compute", float(d.compute[v])), ("write", float(d.write[v]))]
        for kind, length in pieces:
            if length <= 0:
                continue
            if kind == "compute":
                ax.barh(y, length, left=t, height=0.6, color=colour[layer.model],
                        edgecolor="black", linewidth=0.3)
                if length / span > 0.03:
                    ax.text(t + length / 2, y, layer.id, ha="center", va="center", fontsize=6)
            else:
                ax.barh(y, length, left=t, height=0.6, color="0.85", hatch="///",
                        edgecolor="0.5", linewidth=0.3)
            t += length
    ax.set_yticks(range(inst.num_accs), list(inst.system.ids))
    ax.invert_yaxis()
    ax.set_xlabel("time [s]")
    ax.set_title(title or f"{inst.name}: latency {ev.latency:.4g} s, energy {ev.energy:.4g} J")
    handles = [Patch(color=colour[m], label=m) for m in models[:20]]
    handles.append(Patch(facecolor="0.85", hatch="///", edgecolor="0.5",
                         label="data movement"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7)
    return ax


def save_gantt(inst: Instance, schedule: Schedule, path: str | Path,
               title: str | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    check_figure_path(path)
    ax = gantt(inst, schedule, title=title)
    try:
        ax.figure.tight_layout()
    except Exception:
        plt.close(ax.figure)
        raise
    save_figure(ax.figure, path, dpi=130)


def front_plot(fronts: dict[str, list[tuple[float, float]]], title: str,
               path: str | Path) -> None:
    """Latency-energy fronts of several solvers on one figure (staircases of their
    non-dominated points), saved to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    check_figure_path(path)
    fig, ax = plt.subplots(figsize=(6, 4))
    markers = "os^Dv<>"
    for k, (name, pts) in enumerate(fronts.items()):
        pts = sorted(pts)
        if not pts:
            continue
        (line,) = ax.step([p[0] for p in pts], [p[1] for p in pts], where="post", alpha=0.6)
        # hollow markers, smaller for each later front: points shared by fronts stay visible
        ax.plot([p[0] for p in pts], [p[1] for p in pts], markers[k % len(markers)],
                color=line.get_color(), mfc="none", ms=max(3.0, 9.0 - 1.5 * k),
                label=f"{name} ({len(pts)})")
    ax.set_xlabel("latency [s]")
    ax.set_ylabel("energy [J]")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)


def steps_table(steps: list[dict[str, Any]]) -> str:
    """Markdown-ish table of latency/energy after each step, with reductions vs step 1."""
    if not steps:
        return ""
    l0, e0 = steps[0]["latency_s"], steps[0]["energy_j"]
    lines = [f"{'step':<30} {'latency [s]':>12} {'energy [J]':>11} {'lat -%':>7} {'en -%':>7}"]
    for st in steps:
        dl = 100 * (1 - st["latency_s"] / l0) if l0 else 0.0
        de = 100 * (1 - st["energy_j"] / e0) if e0 else 0.0
        lines.append(f"{st['step']:<30} {st['latency_s']:>12.6g} {st['energy_j']:>11.6g}"
                     f" {dl:>7.1f} {de:>7.1f}")
    return "\n".join(lines)


def write_markdown(lines: list[str], path: str | Path) -> str:
    """Write a markdown report ending with the versions that produced it; return it."""
    from ..io import atomic_write
    from ..result import versions

    text = "\n".join([*lines, "", "Versions: " + ", ".join(
        f"{k} {v}" for k, v in versions().items())]) + "\n"
    atomic_write(path, text)
    return text
