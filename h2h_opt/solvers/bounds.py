"""Lower bounds at any size, for every result (heuristics included).

Two cheap relaxations of the makespan (E10), both over the *least* busy time of each
layer on each accelerator (:meth:`h2h_opt.comm.CommModel.least_busy`: compute plus
the transfers no decision can avoid, E2-E4 / E6):

* ``critical_path`` -- the longest chain of the DAG where every layer takes its least
  busy time over the accelerators that run it (E5; p2p delays may be 0 when the two
  ends share an accelerator, so none is counted);
* ``load`` -- the load relaxation as a linear program solved by HiGHS: a fractional
  assignment ``x[v,a] >= 0``, ``Σ_a x[v,a] = 1``, and ``T >= Σ_v least[v,a]·x[v,a]``
  for every accelerator (E8: an accelerator runs its layers one at a time), minimising
  ``T``.  Any schedule's mapping is a feasible assignment, so the LP's optimum is a
  lower bound;
* ``load_path`` -- both at once, as one LP: the same fractional assignment, a start
  ``s_v >= 0`` per layer, ``s_w >= s_u + Σ_a least[u,a]·x[u,a]`` on every edge (E5),
  ``T >= s_v + Σ_a least[v,a]·x[v,a]`` for every sink, and the load rows.  Any schedule
  (its mapping, its starts) is feasible, so its optimum is a bound, and it is at least
  the other two: moving work to a less loaded accelerator now lengthens the chains it
  lies on (on the ``paper`` suite it raises the cheap bound on 39 of 60 instances, by
  5.4 % on average and up to 24 %);
* ``windows`` -- the same LP with head-tail load rows: a layer cannot start before its
  head ``h(v)`` (the longest chain of least busy times into it) and the makespan is at
  least its finish plus its tail ``q(v)`` (the longest chain after it).  So for any
  ``r``, ``q`` the layers ``S = {v: h(v) >= r, q(v) >= q}`` run inside ``[r, T - q]``
  and, accelerator by accelerator (E8), ``T >= r + q + Σ_{v in S} least[v,a]·x[v,a]``
  (with ``r``, ``q`` raised to the least head and the least tail over ``S``).
  The rows are taken for every distinct head (``q = 0``), every distinct tail
  (``r = 0``) and a grid of both, thinned to :data:`WINDOW_NONZEROS` entries.  A
  fork-join workload whose branches end in a chain (three sensor branches, then the
  fusion layers) gains most: the branches' work cannot overlap the fusion chain.

Energy (E11) is bounded by every layer at its least energy (compute, and the
transfers no decision can avoid).  The bound of a result is the best of those that
apply to its objective, with its source.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..comm import CommModel
from ..cost import CostTables
from ..model import Instance
from ..timing import chains

__all__ = ["LowerBound", "critical_path_bound", "energy_bound", "heads_tails", "load_bound",
           "load_path_bound", "lower_bound", "relaxations"]

WINDOW_NONZEROS = 200_000  # most matrix entries the head-tail rows may add (about)
WINDOW_GRID = 16  # heads and tails (each) whose pairs get rows


@dataclass(frozen=True)
class LowerBound:
    """A proven lower bound on the instance objective's first criterion (seconds for
    latency and lex, joules for energy) and the relaxation that gave it."""

    value: float
    source: str


def heads_tails(comm: CommModel) -> tuple[np.ndarray, np.ndarray]:
    """Per layer, the longest chain of least busy times before it (its head: it starts
    no earlier) and after it (its tail: the makespan is at least its finish plus it),
    seconds (E5; p2p delays may be 0, so none is counted)."""
    head, tail = chains(comm.least_busy().min(axis=1).tolist(), comm.inst.workload)
    return np.array(head, dtype=float), np.array(tail, dtype=float)


def critical_path_bound(comm: CommModel) -> float:
    """Longest chain of least busy times (seconds)."""
    if not comm.n:
        return 0.0
    head, _ = heads_tails(comm)
    return float((head + comm.least_busy().min(axis=1)).max())


def _window_sets(comm: CommModel, per_set: int) -> list[tuple[float, np.ndarray]]:
    """The head-tail sets of the module notes: ``(least head + least tail, layers)``,
    thinned to about ``WINDOW_NONZEROS / per_set`` entries' worth (``per_set``: entries
    a layer adds)."""
    head, tail = heads_tails(comm)
    heads, tails = np.unique(head), np.unique(tail)
    grid_h = heads[np.linspace(0, len(heads) - 1, min(len(heads), WINDOW_GRID)).astype(int)]
    grid_t = tails[np.linspace(0, len(tails) - 1, min(len(tails), WINDOW_GRID)).astype(int)]
    pairs = {(float(r), 0.0) for r in heads} | {(0.0, float(q)) for q in tails}
    pairs |= {(float(r), float(q)) for r in grid_h for q in grid_t}
    pairs.discard((0.0, 0.0))  # the plain load rows
    ordered = sorted(pairs)
    # sizes before any set is built (a one-sided set's by bisection; at 10 000 layers
    # there are ~10 000 of them and only a handful survive the thinning)
    by_head, by_tail, n = np.sort(head), np.sort(tail), len(head)
    sizes = np.array([n - np.searchsorted(by_head, r) if q == 0 else
                      n - np.searchsorted(by_tail, q) if r == 0 else
                      np.count_nonzero((head >= r) & (tail >= q)) for r, q in ordered])
    chosen = [i for i in range(len(ordered)) if sizes[i]]
    budget = max(1, WINDOW_NONZEROS // max(1, per_set))
    total = int(sizes.sum())
    if total > budget:  # thin evenly, keeping the first and last
        keep = max(2, int(budget / (total / len(chosen))))
        chosen = [chosen[i] for i in
                  np.unique(np.linspace(0, len(chosen) - 1, keep).astype(int))]
    sets = []
    for i in chosen:
        r, q = ordered[i]
        layers = np.flatnonzero((head >= r) & (tail >= q))
        # every layer of the set starts at its head and leaves its tail: the least of
        # each over the set (at least r and q) is the row's constant
        sets.append((float(head[layers].min() + tail[layers].min()), layers))
    return sets


def load_bound(comm: CommModel, time_limit_s: float = 10.0) -> float | None:
    """The load relaxation's optimum (seconds), or ``None`` if HiGHS did not solve it
    to optimality within ``time_limit_s`` (only an optimal LP value is a bound)."""
    import highspy

    least = comm.least_busy()
    pairs = np.argwhere(np.isfinite(least))  # (v, a) rows, v-major
    n, m, k = comm.n, comm.m, len(pairs)
    if n == 0:
        return 0.0
    lp = highspy.HighsLp()
    lp.num_col_ = k + 1  # x[v,a] ..., T
    lp.num_row_ = n + m
    lp.col_cost_ = np.r_[np.zeros(k), 1.0]
    lp.col_lower_ = np.zeros(k + 1)
    lp.col_upper_ = np.r_[np.ones(k), highspy.kHighsInf]
    lp.row_lower_ = np.r_[np.ones(n), np.full(m, -highspy.kHighsInf)]
    lp.row_upper_ = np.r_[np.ones(n), np.zeros(m)]
    # column j = (v, a): 1 in assignment row v, least[v,a] in load row n + a
    coef = least[pairs[:, 0], pairs[:, 1]]
    index = np.empty(2 * k + m, dtype=np.int32)
    value = np.empty(2 * k + m)
    index[0:2 * k:2], index[1:2 * k:2] = pairs[:, 0], n + pairs[:, 1]
    value[0:2 * k:2], value[1:2 * k:2] = 1.0, coef
    index[2 * k:], value[2 * k:] = n + np.arange(m), -1.0  # T in every load row
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.r_[np.arange(0, 2 * k + 1, 2), 2 * k + m].astype(np.int32)
    lp.a_matrix_.index_ = index
    lp.a_matrix_.value_ = value
    return _solve_lp(lp, time_limit_s)


def _solve_lp(lp: Any, time_limit_s: float) -> float | None:
    """``lp``'s optimum by HiGHS, or None unless solved to optimality in time."""
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit_s))
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    value = h.getInfo().objective_function_value
    # HiGHS keeps one thread pool per process, sized by the first solve: release it so
    # the MILP can later run with the threads it asks for
    del h
    highspy.Highs.resetGlobalScheduler(True)
    if status != highspy.HighsModelStatus.kOptimal:
        return None
    # HiGHS's feasibility tolerance lets T undercut its rows by ~1e-7 relative
    return max(0.0, value * (1 - 1e-7))


def load_path_bound(comm: CommModel, time_limit_s: float = 10.0, windows: bool = True
                    ) -> float | None:
    """The combined LP of the module notes (seconds; ``windows``: with the head-tail
    rows), or ``None`` if HiGHS did not solve it to optimality within ``time_limit_s``."""
    import highspy

    least = comm.least_busy()
    wl = comm.inst.workload
    n, m = comm.n, comm.m
    if n == 0:
        return 0.0
    pairs = np.argwhere(np.isfinite(least))  # (v, a), v-major: column j = x[v,a]
    k = len(pairs)
    s_col, t_col = k, k + n  # s_v in columns k..k+n-1, T last
    busy_cols: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for j, (v, a) in enumerate(pairs.tolist()):
        busy_cols[v].append((j, float(least[v, a])))
    rows: list[list[tuple[int, float]]] = []
    lower: list[float] = []
    upper: list[float] = []
    inf = highspy.kHighsInf
    for v in range(n):  # assignment
        rows.append([(j, 1.0) for j, _ in busy_cols[v]])
        lower.append(1.0)
        upper.append(1.0)
    for a in range(m):  # load: T - Σ_v least[v,a] x[v,a] >= 0
        rows.append([(t_col, 1.0)] + [(j, -c) for v in range(n) for j, c in busy_cols[v]
                                       if int(pairs[j, 1]) == a])
        lower.append(0.0)
        upper.append(inf)
    if windows:  # T - Σ_{v in S} least[v,a] x[v,a] >= its constant, every set and accelerator
        by_acc: list[list[list[tuple[int, float]]]] = [[[] for _ in range(m)] for _ in range(n)]
        for v in range(n):
            for j, c in busy_cols[v]:
                by_acc[v][int(pairs[j, 1])].append((j, -c))
        for rq, layers in _window_sets(comm, max(1, k // n)):
            for a in range(m):
                rows.append([(t_col, 1.0)] + [e for v in layers.tolist() for e in by_acc[v][a]])
                lower.append(rq)
                upper.append(inf)
    src, dst = comm.tables.edge_src.tolist(), comm.tables.edge_dst.tolist()
    for u, w in zip(src, dst, strict=True):  # E5: s_w - s_u - busy_u >= 0
        rows.append([(s_col + w, 1.0), (s_col + u, -1.0)] + [(j, -c) for j, c in busy_cols[u]])
        lower.append(0.0)
        upper.append(inf)
    for v in range(n):  # E10: T - s_v - busy_v >= 0 for the sinks
        if not wl.succs[v]:
            rows.append([(t_col, 1.0), (s_col + v, -1.0)] + [(j, -c) for j, c in busy_cols[v]])
            lower.append(0.0)
            upper.append(inf)
    lp = highspy.HighsLp()
    lp.num_col_ = k + n + 1
    lp.num_row_ = len(rows)
    lp.col_cost_ = np.r_[np.zeros(k + n), 1.0]
    lp.col_lower_ = np.zeros(k + n + 1)
    lp.col_upper_ = np.r_[np.ones(k), np.full(n + 1, inf)]
    lp.row_lower_ = np.array(lower)
    lp.row_upper_ = np.array(upper)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.cumsum([0] + [len(r) for r in rows]).astype(np.int32)
    lp.a_matrix_.index_ = np.array([c for r in rows for c, _ in r], dtype=np.int32)
    lp.a_matrix_.value_ = np.array([x for r in rows for _, x in r], dtype=float)
    return _solve_lp(lp, time_limit_s)


def energy_bound(comm: CommModel) -> float:
    """Every layer at its least energy (joules)."""
    return float(comm.least_energy().min(axis=1).sum())


def lower_bound(inst: Instance, tables: CostTables, time_limit_s: float = 10.0
                ) -> LowerBound:
    """The best cheap lower bound on ``inst``'s objective (lex: on latency).  Each LP
    has ``time_limit_s``; if the one with the head-tail rows runs out, the one without
    them runs next (and the load LP if that fails too)."""
    comm = CommModel(inst, tables)
    if inst.options.objective == "energy":
        return LowerBound(energy_bound(comm), "least energy of every layer")
    cp = critical_path_bound(comm)
    both = load_path_bound(comm, time_limit_s)
    source = "load, precedence and head-tail relaxation (LP, HiGHS)"
    if both is None:  # the head-tail rows made it too big for the time: without them
        both = load_path_bound(comm, time_limit_s, windows=False)
        source = "load and precedence relaxation (LP, HiGHS)"
    if both is not None and both > cp * (1 + 1e-6):
        return LowerBound(both, source)
    load = load_bound(comm, time_limit_s) if both is None else None
    if load is not None and load > cp:
        return LowerBound(load, "load relaxation (LP, HiGHS)")
    return LowerBound(cp, "critical path of least busy times")


def relaxations(inst: Instance, time_limit_s: float = 10.0) -> dict[str, float | None]:
    """Every makespan relaxation of the module notes for ``inst`` (seconds; None where
    an LP was not solved to optimality in time): ``critical_path``, ``load``,
    ``load_path`` and ``windows`` (``load_path`` with the head-tail rows)."""
    from ..cost import compile_tables

    comm = CommModel(inst, compile_tables(inst))
    return {"critical_path": critical_path_bound(comm),
            "load": load_bound(comm, time_limit_s),
            "load_path": load_path_bound(comm, time_limit_s, windows=False),
            "windows": load_path_bound(comm, time_limit_s)}
