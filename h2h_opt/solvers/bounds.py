"""Lower bounds at any size, for every result (heuristics included).

Cheap relaxations of the makespan (E10), the first four over the *least* busy time of
each layer on each accelerator (:meth:`h2h_opt.comm.CommModel.least_busy`: compute plus
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
  fusion layers) gains most: the branches' work cannot overlap the fusion chain;
* ``spans`` -- the same LP with span rows: every layer that descends from ``u`` and
  leads to ``w`` starts after ``u`` ends and ends before ``w`` starts (E5), so on each
  accelerator (E8) ``s_w >= s_u + busy_u + Σ_{v between} busy[v,a]``; with no ``w``
  (the descendants of ``u``) the makespan takes the place of ``s_w``, and with no
  ``u`` (the ancestors of ``w``) time 0 that of ``s_u + busy_u``.  Unlike the
  head-tail rows they use the starts and busy times the mapping decides.  A set that
  is a chain adds nothing to the precedence rows and is skipped; the rest are thinned
  to :data:`SPAN_NONZEROS` entries.  A backbone with residual blocks gains most (its
  branches share accelerators): the MIP below proves 0.495 s instead of 0.427 s on
  driving on hetero2 at 0.125 GB/s, whose best schedule takes 0.497 s;
* ``residency`` and ``transfers`` -- the same LP with the busy time a mapping decides
  instead of the least one (:func:`_busy_columns`): the weights that do not fit an
  accelerator's memory are loaded (E2, E9: a knapsack row over the resident shares),
  and a layer whose producer or successor runs elsewhere reads or writes over the host
  link (E3, E4: ``z >= x[v,a] - x[u,a]``), or (p2p) waits for the least link delay
  unless both ends share an accelerator (E7).  Every 0/1 mapping with its residency
  is feasible at its own busy times, so the optimum stays a bound.  The least busy
  time lets the LP move a layer away from its producer for free; on the ``paper``
  suite the two raise the cheap bound by up to 33 % (driving on hetero2 at 0.125
  GB/s, where the weights are 4.8 times the largest memory).

Energy (E11) is bounded by every layer at its least energy (compute, and the
transfers no decision can avoid).  The bound of a result is the best of those that
apply to its objective, with its source.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..comm import CommModel
from ..cost import CostTables
from ..model import Instance
from ..timing import chains

__all__ = ["LowerBound", "MappingBound", "critical_path_bound", "energy_bound", "heads_tails",
           "load_bound", "load_path_bound", "lower_bound", "relaxations"]

log = logging.getLogger(__name__)

WINDOW_NONZEROS = 200_000  # most matrix entries the head-tail rows may add (about)
WINDOW_GRID = 16  # heads and tails (each) whose pairs get rows
SPAN_NONZEROS = 200_000  # most matrix entries the span rows may add (about)
SPAN_JOINS = 2  # joins (the first by index) each fork gets rows up to
SPAN_CHAIN_TEST = 256  # largest set between a fork and a join taken (and tested)
# MappingBound takes the span rows only where they raise the LP by this much: they
# make each node of HiGHS's branch and bound dearer, and on the paper suite (10 s per
# MIP, results/mip_bounds.md) they cost the MIP up to 6 % of its bound wherever they
# raise the LP by less than 1 % (arvr, face_antispoof) and gain up to 15 % where
# they raise it by more (driving: 1.3-12.7 % on the LP)
SPAN_MIP_GAIN = 0.01
# Most runnable (layer, accelerator) pairs for the weight-memory rows and for the
# transfer rows in lower_bound: both take 0.1-0.8 s on the paper suite (<= 784 pairs);
# on random_layered(n, 8): residency 0.6 s at 250 layers, 1.0-1.7 s at 1 000, 8.7 s at
# 3 000; transfers 0.7 s at 125 layers, 4.3 s at 250, 7 s at 500, 20 s at 1 000.
RESIDENCY_PAIRS = 10_000
TRANSFER_PAIRS = 2_000


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


def _span_sets(comm: CommModel, per_set: int
               ) -> list[tuple[int | None, int | None, list[int]]]:
    """The span sets of the module notes, ``(u, w, layers between)`` (``u`` None: the
    ancestors of ``w``; ``w`` None: the descendants of ``u``): every layer's
    descendants and ancestors, and the layers between each layer with several
    successors and the first :data:`SPAN_JOINS` layers with several predecessors it
    leads to (by index; up to :data:`SPAN_CHAIN_TEST` layers between); only the sets
    that are not a chain, thinned to about ``SPAN_NONZEROS / per_set`` entries' worth
    (``per_set``: entries a layer adds).  Sets are bit masks over the layers (Python
    integers: 12 MB at 10 000 layers)."""
    wl = comm.inst.workload
    n = comm.n
    anc, desc = [0] * n, [0] * n
    for v in wl.topo:
        for u in wl.preds[v]:
            anc[v] |= anc[u] | (1 << u)
    for v in reversed(wl.topo):
        for w in comm.succs[v]:
            desc[v] |= desc[w] | (1 << w)
    # the most layers on one chain before and after each layer (itself included): a set
    # with as many layers as its longest chain is that chain
    up, down = [1] * n, [1] * n
    for v in wl.topo:
        for u in wl.preds[v]:
            up[v] = max(up[v], up[u] + 1)
    for v in reversed(wl.topo):
        for w in comm.succs[v]:
            down[v] = max(down[v], down[w] + 1)
    spans: list[tuple[int | None, int | None, int]] = []
    for v in range(n):
        if desc[v].bit_count() > down[v] - 1:
            spans.append((v, None, desc[v]))
        if anc[v].bit_count() > up[v] - 1:
            spans.append((None, v, anc[v]))
    joins = sum(1 << w for w in range(n) if len(wl.preds[w]) > 1)
    for u in (u for u in range(n) if len(comm.succs[u]) > 1):
        ahead = desc[u] & joins  # its first SPAN_JOINS joins (by index: a residual
        for _ in range(SPAN_JOINS):  # block's own join, and the next)
            if not ahead:
                break
            low = ahead & -ahead
            ahead ^= low
            between = desc[u] & anc[low.bit_length() - 1]
            if 1 < between.bit_count() <= SPAN_CHAIN_TEST and not _is_chain(between, anc):
                spans.append((u, low.bit_length() - 1, between))
    budget = max(1, SPAN_NONZEROS // max(1, per_set))
    total = sum(mask.bit_count() for _, _, mask in spans)
    if total > budget:  # thin evenly, as the head-tail sets
        keep = max(1, int(budget / (total / len(spans))))
        spans = [spans[i] for i in np.unique(np.linspace(0, len(spans) - 1, keep).astype(int))]
    return [(u, w, _members(mask)) for u, w, mask in spans]


def _members(mask: int) -> list[int]:
    """The layers of a bit mask, in index order."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


def _is_chain(mask: int, anc: list[int]) -> bool:
    """Whether the layers of ``mask`` lie on one chain: each (by ancestor count) is an
    ancestor of the next."""
    layers = sorted(_members(mask), key=lambda v: anc[v].bit_count())
    return all(anc[b] >> a & 1 for a, b in zip(layers, layers[1:], strict=False))


def load_bound(comm: CommModel, time_limit_s: float = 10.0) -> float | None:
    """The load relaxation's optimum (seconds), or ``None`` if HiGHS did not solve it
    to optimality within ``time_limit_s`` (only an optimal LP value is a bound)."""
    import highspy

    least = comm.least_busy()
    pairs = np.argwhere(np.isfinite(least))  # (v, a) rows, v-major
    n, m, k = comm.n, comm.m, len(pairs)
    if n == 0:
        return 0.0
    unit = float(least.min(axis=1).sum()) / m or 1.0  # at most the optimum: T >= 1
    lp = highspy.HighsLp()
    lp.num_col_ = k + 1  # x[v,a] ..., T
    lp.num_row_ = n + m
    lp.col_cost_ = np.r_[np.zeros(k), 1.0]
    lp.col_lower_ = np.zeros(k + 1)
    lp.col_upper_ = np.r_[np.ones(k), highspy.kHighsInf]
    lp.row_lower_ = np.r_[np.ones(n), np.full(m, -highspy.kHighsInf)]
    lp.row_upper_ = np.r_[np.ones(n), np.zeros(m)]
    # column j = (v, a): 1 in assignment row v, least[v,a] in load row n + a
    coef = least[pairs[:, 0], pairs[:, 1]] / unit
    index = np.empty(2 * k + m, dtype=np.int32)
    value = np.empty(2 * k + m)
    index[0:2 * k:2], index[1:2 * k:2] = pairs[:, 0], n + pairs[:, 1]
    value[0:2 * k:2], value[1:2 * k:2] = 1.0, coef
    index[2 * k:], value[2 * k:] = n + np.arange(m), -1.0  # T in every load row
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.r_[np.arange(0, 2 * k + 1, 2), 2 * k + m].astype(np.int32)
    lp.a_matrix_.index_ = index
    lp.a_matrix_.value_ = value
    return _solve_lp(lp, time_limit_s, unit=unit, rows=n + 1)


def _solve_lp(lp: Any, time_limit_s: float, solver: str = "choose", unit: float = 1.0,
              rows: int = 1) -> float | None:
    """``lp``'s optimum by HiGHS (``solver``: its option of that name) in seconds, or
    None unless solved to optimality in time.

    ``lp`` counts time in ``unit`` seconds (the critical path: ``T >= 1``).  HiGHS
    lets every row be violated by up to 1e-7 in those units, and ``rows`` such
    violations can add up along a chain or a load (two per layer: its busy-time
    definition and its precedence row): the value is lowered by that much, and by
    1e-7 relative."""
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("solver", solver)
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
    return max(0.0, (value * (1 - 1e-7) - 1e-7 * rows) * unit)


class _Lp:
    """A linear program built column by column and row by row (HiGHS, row-wise)."""

    def __init__(self) -> None:
        import highspy

        self.inf = highspy.kHighsInf
        self.lo: list[float] = []
        self.hi: list[float] = []
        self.rows: list[dict[int, float]] = []
        self.row_lo: list[float] = []
        self.row_hi: list[float] = []
        self.whole: list[int] = []  # columns 0 or 1 in any schedule besides the mapping

    def col(self, hi: float | None = None) -> int:
        """A new column in ``[0, hi]`` (no upper bound by default)."""
        self.lo.append(0.0)
        self.hi.append(self.inf if hi is None else hi)
        return len(self.lo) - 1

    def row(self, terms: list[tuple[int, float]], lo: float, hi: float | None = None
            ) -> None:
        """``lo <= Σ coef·col <= hi`` (no upper side by default)."""
        merged: dict[int, float] = {}
        for c, coef in terms:
            merged[c] = merged.get(c, 0.0) + coef
        self.rows.append(merged)
        self.row_lo.append(lo)
        self.row_hi.append(self.inf if hi is None else hi)

    def highs_lp(self, col: int, integer: list[int] | None = None) -> Any:
        """The program as a HiGHS LP minimising column ``col`` (``integer``: columns
        that must take whole values, a MIP)."""
        import highspy

        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = len(self.lo), len(self.rows)
        cost = np.zeros(len(self.lo))
        cost[col] = 1.0
        lp.col_cost_ = cost
        lp.col_lower_, lp.col_upper_ = np.array(self.lo), np.array(self.hi)
        lp.row_lower_, lp.row_upper_ = np.array(self.row_lo), np.array(self.row_hi)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = np.cumsum([0] + [len(r) for r in self.rows]).astype(np.int32)
        lp.a_matrix_.index_ = np.fromiter((c for r in self.rows for c in r), dtype=np.int32)
        lp.a_matrix_.value_ = np.fromiter((x for r in self.rows for x in r.values()),
                                          dtype=float)
        if integer:
            kinds = [highspy.HighsVarType.kContinuous] * len(self.lo)
            for c in integer:
                kinds[c] = highspy.HighsVarType.kInteger
            lp.integrality_ = kinds
        return lp

    def minimise(self, col: int, time_limit_s: float, solver: str = "choose",
                 unit: float = 1.0, rows: int = 1) -> float | None:
        """The least value of column ``col`` (:func:`_solve_lp`)."""
        return _solve_lp(self.highs_lp(col), time_limit_s, solver, unit, rows)


def _busy_columns(comm: CommModel, lp: _Lp, x: dict[tuple[int, int], int],
                  residency: bool, transfers: bool, unit: float
                  ) -> dict[tuple[int, int], int]:
    """A column ``B[v,a]`` per runnable pair, the busy time ``v`` brings to ``a`` (in
    ``unit`` seconds): the
    terms of :class:`h2h_opt.comm.LayerTerms`, linearised exactly for a 0/1 mapping,
    ``fixed·x - weight·y + Σ_reads time·z + write·w``.

    ``residency``: ``y <= x`` is the resident share (E2) and ``Σ_v W_v·y[v,a] <= Cap_a``
    (E9) wherever the weights that could reside on ``a`` exceed it; otherwise (or
    without ``residency``) ``y = x`` wherever ``v`` fits.  ``transfers`` (host):
    ``z >= x[v,a] - x[u,a]`` is the share read from a producer ``u`` elsewhere (E3) and
    ``w >= x[v,a] - x[s,a]`` for every successor ``s`` the share written to the host
    (E4); without them ``z = w = 0``.  With neither, ``B[v,a] = least[v,a]·x[v,a]``."""
    terms = comm.seconds_terms
    wb, cap = comm.tables.weight_bytes, comm.tables.capacity
    tight = [residency and sum(float(wb[v]) for (v, b), lt in terms.items()
                               if b == a and lt.can_reside) > cap[a] for a in range(comm.m)]
    busy: dict[tuple[int, int], int] = {}
    memory: list[list[tuple[int, float]]] = [[] for _ in range(comm.m)]
    for (v, a), xc in x.items():
        b = busy[v, a] = lp.col()
        lt = terms[v, a]
        row = [(b, 1.0), (xc, -lt.fixed / unit)]
        if lt.can_reside and not tight[a]:
            row.append((xc, lt.weight / unit))
        elif lt.can_reside:
            y = lp.col(1.0)
            lp.whole.append(y)  # r(v) is 0 or 1 (E9)
            lp.row([(xc, 1.0), (y, -1.0)], 0.0)
            row.append((y, lt.weight / unit))
            memory[a].append((y, float(wb[v] / cap[a])))
        for rt in lt.reads if transfers else ():
            z = lp.col(1.0)
            lp.row([(z, 1.0), (xc, -1.0), (x[rt.producer, a], 1.0)], 0.0)
            row.append((z, -rt.time / unit))
        if transfers and lt.write_succs and lt.write:
            w = lp.col(1.0)
            for succ in lt.write_succs:
                lp.row([(w, 1.0), (xc, -1.0), (x[succ, a], 1.0)], 0.0)
            row.append((w, -lt.write / unit))
        lp.row(row, 0.0, 0.0)
    for a in range(comm.m):
        if memory[a]:
            lp.row(memory[a], -lp.inf, 1.0)
    return busy


def load_path_bound(comm: CommModel, time_limit_s: float = 10.0, windows: bool = True,
                    residency: bool = True, transfers: bool = True, spans: bool = True
                    ) -> float | None:
    """The combined LP of the module notes (seconds; ``windows``: with the head-tail
    rows; ``residency``: with the weight memory; ``transfers``: with the transfers a
    mapping decides; ``spans``: with the span rows), or ``None`` if HiGHS did not solve
    it to optimality within ``time_limit_s``."""
    if comm.n == 0:
        return 0.0
    lp, t, unit, _ = _load_path_lp(comm, windows, residency, transfers, spans)
    # a chain holds two rows per layer (its busy total and its precedence row); the
    # transfer rows make the simplex method slow from ~2 000 pairs (250 layers x 8:
    # 8.5 s against 4.3 s by the interior-point method, measured)
    return lp.minimise(t, time_limit_s, "ipm" if transfers else "choose", unit,
                       2 * comm.n + 2)


def _load_path_lp(comm: CommModel, windows: bool, residency: bool, transfers: bool,
                  spans: bool) -> tuple[_Lp, int, float, list[int]]:
    """:func:`load_path_bound`'s program: it, its makespan column, its time unit
    (seconds) and its mapping columns ``x[v,a]``."""
    n, m = comm.n, comm.m
    unit = critical_path_bound(comm) or 1.0  # at most the optimum: T >= 1
    lp = _Lp()
    x = {va: lp.col(1.0) for va in sorted(comm.seconds_terms)}
    busy = _busy_columns(comm, lp, x, residency, transfers, unit)
    on: list[list[tuple[int, int]]] = [[] for _ in range(n)]  # (a, B[v,a]) per layer
    for (v, a), b in busy.items():
        on[v].append((a, b))
    total = [lp.col() for _ in range(n)]  # busy time of v wherever it runs
    start = [lp.col() for _ in range(n)]
    t = lp.col()
    for v in range(n):  # assignment, and the busy total
        lp.row([(x[v, a], 1.0) for a, _ in on[v]], 1.0, 1.0)
        lp.row([(total[v], 1.0)] + [(b, -1.0) for _, b in on[v]], 0.0, 0.0)
    per_acc: list[list[tuple[int, float]]] = [[] for _ in range(m)]
    for v in range(n):
        for a, b in on[v]:
            per_acc[a].append((b, -1.0))
    for a in range(m):  # load (E8): T >= Σ_v B[v,a]
        lp.row([(t, 1.0)] + per_acc[a], 0.0)
    if windows:  # T - Σ_{v in S} B[v,a] >= its constant, every set and accelerator
        for rq, layers in _window_sets(comm, max(1, len(x) // n)):
            by_acc: list[list[tuple[int, float]]] = [[] for _ in range(m)]
            for v in layers.tolist():
                for a, b in on[v]:
                    by_acc[a].append((b, -1.0))
            for a in range(m):
                if by_acc[a]:
                    lp.row([(t, 1.0)] + by_acc[a], rq / unit)
    delays = _least_delays(comm, x) if transfers and not comm.host else {}
    for k, (u, w) in enumerate(zip(comm.src, comm.dst, strict=True)):  # E5 / E7
        row = [(start[w], 1.0), (start[u], -1.0), (total[u], -1.0)]
        d, shared = delays.get(k, (0.0, []))
        if d > 0:  # s_w >= s_u + busy_u + d·(1 - Σ_a c[a]), c[a] <= x[u,a], x[w,a]
            for a in shared:
                c = lp.col(1.0)
                lp.row([(x[u, a], 1.0), (c, -1.0)], 0.0)
                lp.row([(x[w, a], 1.0), (c, -1.0)], 0.0)
                row.append((c, d / unit))
        lp.row(row, d / unit)
    for v in range(n):  # E10: T >= s_v + busy_v for the sinks
        if not comm.succs[v]:
            lp.row([(t, 1.0), (start[v], -1.0), (total[v], -1.0)], 0.0)
    if spans:  # s_w (or T) - s_u - busy_u - Σ_{v between} B[v,a] >= 0 (E5, E8)
        for first, last, between in _span_sets(comm, max(1, len(x) // n)):
            ends = [(t if last is None else start[last], 1.0)]
            if first is not None:
                ends += [(start[first], -1.0), (total[first], -1.0)]
            by_acc = [[] for _ in range(m)]
            for v in between:
                for a, b in on[v]:
                    by_acc[a].append((b, -1.0))
            for a in range(m):
                if len(by_acc[a]) > 1:  # one layer: the precedence rows hold it
                    lp.row(ends + by_acc[a], 0.0)
    return lp, t, unit, list(x.values())


def _least_delays(comm: CommModel, x: dict[tuple[int, int], int]
                  ) -> dict[int, tuple[float, list[int]]]:
    """p2p: per edge, the least E7 delay over the accelerator pairs its ends can run on
    apart, and the accelerators both can run on (where no delay is paid)."""
    from ..comm import all_link_delays

    delay = all_link_delays(comm.tables)
    feas = comm.feasible
    out: dict[int, tuple[float, list[int]]] = {}
    for k, (u, w) in enumerate(zip(comm.src, comm.dst, strict=True)):
        pa, pb = np.flatnonzero(feas[u]), np.flatnonzero(feas[w])
        apart = [float(delay[k, a, b]) for a in pa for b in pb if a != b]
        apart = [d for d in apart if np.isfinite(d)]
        if apart and min(apart) > 0:
            out[k] = (min(apart), [int(a) for a in pa if feas[w, a] and (w, int(a)) in x])
    return out


def energy_bound(comm: CommModel) -> float:
    """Every layer at its least energy (joules)."""
    return float(comm.least_energy().min(axis=1).sum())


def lower_bound(inst: Instance, tables: CostTables, time_limit_s: float = 10.0
                ) -> LowerBound:
    """The best cheap lower bound on ``inst``'s objective (lex: on latency).  Each LP
    has ``time_limit_s``: the one with the head-tail rows -- with the weight memory up
    to :data:`RESIDENCY_PAIRS` runnable (layer, accelerator) pairs and with the
    transfers up to :data:`TRANSFER_PAIRS`, the span rows with the memory -- and, if it
    runs out, the plain load and precedence LP (and the load LP if that fails too)."""
    comm = CommModel(inst, tables)
    if inst.options.objective == "energy":
        return LowerBound(energy_bound(comm), "least energy of every layer")
    cp = critical_path_bound(comm)
    pairs = int(np.isfinite(comm.least_busy()).sum())
    residency, transfers = pairs <= RESIDENCY_PAIRS, pairs <= TRANSFER_PAIRS
    spans = residency  # above: 1.8 s more at 10 000 layers x 8, for no gain (measured)
    both = load_path_bound(comm, time_limit_s, residency=residency, transfers=transfers,
                           spans=spans)
    source = _lp_name(True, residency, transfers, spans)
    if both is None:  # too big for the time: the plain load and precedence LP
        both = load_path_bound(comm, time_limit_s, windows=False, residency=False,
                               transfers=False, spans=False)
        source = _lp_name(False, False, False, False)
    if both is not None and both > cp * (1 + 1e-6):
        return LowerBound(both, source)
    load = load_bound(comm, time_limit_s) if both is None else None
    if load is not None and load > cp:
        return LowerBound(load, "load relaxation (LP, HiGHS)")
    return LowerBound(cp, "critical path of least busy times")


class MappingBound:
    """:func:`lower_bound`'s LP with a 0/1 mapping and residency (every ``x[v,a]`` and
    every resident share whole; E1, E9): HiGHS's branch and bound on one thread,
    started on a thread of its own so that a search runs beside it (HiGHS releases the
    interpreter lock while it solves, taking it back only at its interrupt checks).

    Every schedule's mapping and residency are 0/1, and the busy-time and delay rows
    are exact for such a mapping, so the MIP's optimum is a bound, and so is the dual
    bound its branch and bound has proven whenever it stops (once its root LP is
    solved, the LP's value or more, less the tolerance below).  On the ``paper`` suite
    10 s of it raise the LP's bound on 45 of the 46 instances whose best latency is
    more than 1 % above it (x1.023 on average; ``results/mip_bounds.md``).  The value
    is lowered by 1e-6 per row of a chain and 1e-6 relative (HiGHS's MIP feasibility
    tolerance).  ``whole_residency=False`` keeps the resident shares fractional (an
    ablation).  The span rows are in as ``spans`` says, or (``spans=None``) where they
    raise the LP by :data:`SPAN_MIP_GAIN`: the thread solves both LPs first (0.3-0.9 s
    each on the ``paper`` suite; one, if ``lp`` is :func:`lower_bound`'s value with
    the span rows), so that the caller's search is not held up.  ``time_limit_s``
    counts from the call, the choice and the build included (:attr:`spans` and
    :attr:`source` are final once :meth:`result` has returned).

    No other HiGHS solve may run meanwhile (:func:`_solve_lp` resets HiGHS's thread
    pool).  HiGHS 1.12's branch and bound may print a debug line to the C standard
    output (when it repairs an incumbent), so while it runs the process's standard
    output goes to standard error: ``--json`` output stays JSON, and nothing is lost.
    A stop takes effect at HiGHS's next check: seconds inside a long root LP.  Use it
    as a context manager (or call :meth:`result`) so that it never outlives its
    caller.  The result is read once."""

    def __init__(self, inst: Instance, tables: CostTables, time_limit_s: float,
                 whole_residency: bool = True, spans: bool | None = None,
                 lp: LowerBound | None = None) -> None:
        import threading
        import time

        until = time.perf_counter() + float(time_limit_s)
        comm = CommModel(inst, tables)
        pairs = int(np.isfinite(comm.least_busy()).sum())
        residency, transfers = pairs <= RESIDENCY_PAIRS, pairs <= TRANSFER_PAIRS
        if not residency or comm.n == 0:
            spans = False
        self._names = (residency, transfers, residency and whole_residency)
        self.spans = bool(spans)  # (decided on the thread when None: read after result())
        self.source = self._source()
        self.solved = False  # whether HiGHS solved the MIP to optimality (set by result())
        self._rows = 2 * comm.n + 2
        self._unit = 1.0
        self._highs: Any = None
        self._thread: Any = None
        self._lock = threading.Lock()
        self._stopped = self._read = False
        if comm.n == 0:
            return
        self._stdout = _StdoutToStderr()
        self._thread = threading.Thread(
            target=self._run, name="mapping-bound", daemon=True,
            args=(comm, spans, whole_residency, until,
                  lp.value if lp is not None  # (lower_bound's LP with the span rows)
                  and lp.source == _lp_name(True, True, transfers, True) else None))
        self._thread.start()

    def _source(self) -> str:
        residency, transfers, whole = self._names
        return _lp_name(True, residency, transfers, self.spans).replace(
            "relaxation (LP, HiGHS)", "relaxation with a 0/1 mapping"
            + " and residency" * whole + " (MIP, HiGHS)")

    def _run(self, comm: CommModel, spans: bool | None, whole_residency: bool,
             until: float, with_spans: float | None) -> None:
        """The thread: the rows chosen (``spans`` None: the LPs solved on this thread,
        so that the caller's search is not held up; ``with_spans``: the LP's value with
        the span rows, if the caller has it), the MIP built and searched until ``until``
        (:func:`time.perf_counter`), unless :meth:`result` stopped it first."""
        import time

        import highspy

        try:
            residency, transfers, _ = self._names
            if spans is None:  # where they raise the LP by SPAN_MIP_GAIN
                spans = _spans_pay(comm, transfers, until, lambda: self._stopped,
                                   with_spans)
            self.spans = spans
            self.source = self._source()
            if self._stopped:
                return
            lp, t, self._unit, x = _load_path_lp(comm, True, residency, transfers, spans)
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
            h.setOptionValue("time_limit", max(0.01, until - time.perf_counter()))
            h.setOptionValue("threads", 1)
            h.HandleUserInterrupt = True  # cancelSolve() stops it
            h.passModel(lp.highs_lp(t, x + lp.whole * whole_residency))
            with self._lock:
                if self._stopped:
                    return
                self._highs = h
            h.run()
        except Exception:  # pragma: no cover - a bug; the caller gets no bound, not a crash
            log.exception("the mapping MIP failed")

    def _stop(self) -> None:
        """Stop the thread and wait for it: a choice of rows ends after the LP it is
        solving, HiGHS's search at its next check."""
        with self._lock:
            self._stopped = True
        while self._thread.is_alive():
            with self._lock:
                if self._highs is not None:
                    self._highs.cancelSolve()
            self._thread.join(0.05)

    def __enter__(self) -> MappingBound:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._read:  # stop it and free HiGHS, whatever happened
            self.result()

    @property
    def running(self) -> bool:
        """Whether the thread is still choosing its rows or searching."""
        return self._thread is not None and self._thread.is_alive()

    def result(self, wait: bool = False) -> LowerBound | None:
        """The bound proven so far (seconds), stopping the search unless ``wait``
        (then: when its time limit ends it); None if it proved none."""
        import highspy

        if self._thread is None:
            return LowerBound(0.0, self.source)
        if self._read:
            return None
        try:
            if wait:
                self._thread.join()
            else:
                self._stop()
        except BaseException:  # (Ctrl-C while it waits: it is stopped all the same)
            self._stop()
            raise
        finally:
            self._read = True
            self._stdout.restore()
        h, self._highs = self._highs, None
        if h is None:  # stopped before its search began
            return None
        status = h.getModelStatus()
        dual = float(h.getInfo().mip_dual_bound)
        del h
        # (HiGHS's pool of workers is the thread's own and ended with it; the caller's
        # is reset as _solve_lp does, so that a later MILP sizes it afresh)
        highspy.Highs.resetGlobalScheduler(True)
        done = (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kTimeLimit,
                highspy.HighsModelStatus.kInterrupt)
        self.solved = status == highspy.HighsModelStatus.kOptimal
        if status == highspy.HighsModelStatus.kInfeasible:  # every schedule is feasible
            log.warning("the mapping MIP (%s) is infeasible: a bug in its rows", self.source)
        if status not in done or not np.isfinite(dual) or dual <= 0:
            return None
        return LowerBound(max(0.0, (dual * (1 - 1e-6) - 1e-6 * self._rows) * self._unit),
                          self.source)


def _spans_pay(comm: CommModel, transfers: bool, until: float,
               stopped: Callable[[], bool] = lambda: False,
               with_spans: float | None = None) -> bool:
    """Whether the span rows raise :func:`load_path_bound` (with the weight memory) by
    :data:`SPAN_MIP_GAIN` (``with_spans``: that LP's value, known).  Each LP has a fifth
    of the time left before ``until``; False if one is not solved in it, or if
    ``stopped()`` says so before one starts."""
    import time

    values = []
    for spans in (False, True):
        if spans and with_spans is not None:
            values.append(with_spans)
            continue
        left = until - time.perf_counter()
        if stopped() or left <= 0:
            return False
        value = load_path_bound(comm, max(0.01, 0.2 * left), True, True, transfers, spans)
        if value is None:
            return False
        values.append(value)
    return values[1] > values[0] * (1 + SPAN_MIP_GAIN)


class _StdoutToStderr:
    """File descriptor 1 pointed at 2 until :meth:`restore` (C-level output included;
    nothing if the process has no such descriptors)."""

    def __init__(self) -> None:
        import os
        import sys

        self._saved: int | None = None
        try:
            sys.stdout.flush()
            self._saved = os.dup(1)
            os.dup2(2, 1)
        except (OSError, ValueError, AttributeError):
            self._saved = None

    def restore(self) -> None:
        import ctypes
        import os
        import sys

        if self._saved is None:
            return
        with contextlib.suppress(OSError, ValueError, AttributeError):
            sys.stdout.flush()
            ctypes.CDLL(None).fflush(None)  # C's buffered output, to where it was meant
        os.dup2(self._saved, 1)
        os.close(self._saved)
        self._saved = None


def _lp_name(windows: bool, residency: bool, transfers: bool, spans: bool) -> str:
    """The source of :func:`load_path_bound`'s value with those rows."""
    parts = ["load"] + ["residency"] * residency + ["transfer"] * transfers \
        + ["precedence"] + ["head-tail"] * windows + ["span"] * spans
    return f"{', '.join(parts[:-1])} and {parts[-1]} relaxation (LP, HiGHS)"


def relaxations(inst: Instance, time_limit_s: float = 10.0) -> dict[str, float | None]:
    """Every makespan relaxation of the module notes for ``inst`` (seconds; None where
    an LP was not solved to optimality in time): ``critical_path``, ``load``,
    ``load_path``, ``windows`` (``load_path`` with the head-tail rows), ``residency``
    (``windows`` with the weight memory), ``transfers`` (``residency`` with the
    transfers a mapping decides) and ``spans`` (``transfers`` with the span rows),
    whatever the instance's size."""
    from ..cost import compile_tables

    comm = CommModel(inst, compile_tables(inst))
    out: dict[str, float | None] = {"critical_path": critical_path_bound(comm),
                                    "load": load_bound(comm, time_limit_s)}
    for key, windows, spans, residency, transfers in (
            ("load_path", False, False, False, False), ("windows", True, False, False, False),
            ("residency", True, False, True, False), ("transfers", True, False, True, True),
            ("spans", True, True, True, True)):
        out[key] = load_path_bound(comm, time_limit_s, windows, residency, transfers, spans)
    return out
