"""Every plot function draws on the ``Axes`` it is given (or a new figure) and returns
them (STYLE habit 13)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from h2h_opt.experiments.report import proven_plot, reduction_plot, size_scatter  # noqa: E402
from h2h_opt.experiments.summary import summarise  # noqa: E402


@pytest.fixture()
def summary():
    rows = []
    for i, n in enumerate((10, 20)):
        name = f"wl{i}-sys-1.25GBps"
        for solver, lat, status in (("baseline", 2.0, "feasible"), ("h2h", 1.5, "feasible"),
                                    ("cpsat", 1.0, "optimal")):
            rows.append({"instance": name, "solver": solver, "status": status, "layers": n,
                         "feasible": True, "latency_s": lat * n, "energy_j": lat,
                         "bound": lat * n if solver == "cpsat" else None, "time_s": 0.1 * n})
    return summarise(rows)


def test_plots_draw_on_the_given_axes_and_return_them(summary):
    fig, ax = plt.subplots()
    try:
        got = size_scatter(summary, lambda p: p.gap_to_bound, "gap [%]", ["baseline", "h2h"],
                           percent=True, ax=ax)
        assert got is ax and len(ax.collections) == 2
        ax.clear()
        assert proven_plot(summary, 60.0, ax=ax) is ax and len(ax.lines) == 1
    finally:
        plt.close(fig)
    fig, axes = plt.subplots(2, 1, sharex=True)
    try:
        got = reduction_plot(summary, ax=axes)
        assert got is axes and len(axes[0].patches) == 2 * 2  # 2 solvers x 2 workloads
    finally:
        plt.close(fig)


def test_plots_make_a_figure_without_axes(summary):
    ax = size_scatter(summary, lambda p: p.row["time_s"], "time [s]", summary.solvers,
                      loglog=True)
    assert ax.get_xscale() == "log"
    plt.close(ax.figure)
    axes = reduction_plot(summary)
    assert len(axes) == 2
    plt.close(axes[0].figure)


def test_gantt_draws_on_the_given_axes():
    from h2h_opt import solve
    from h2h_opt.experiments.plots import gantt
    from h2h_opt.library.generate import random_layered

    inst = random_layered(6, 2, seed=0)
    sched = solve(inst, "baseline").schedule
    fig, ax = plt.subplots()
    try:
        assert gantt(inst, sched, ax=ax) is ax and ax.patches
    finally:
        plt.close(fig)
