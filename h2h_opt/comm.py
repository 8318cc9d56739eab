"""SPEC §4, once: what a decision moves, how long it keeps each accelerator busy, what it
delays and what it costs in energy.

Every solver and the evaluator take these numbers from here; outside this module only
the exact backends look at the comm mode, where they create variables that exist in
one mode only.

* :func:`transfers` — which edges are local (E3/E4 locality rules) and the bytes each
  layer reads and writes over its host link; the p2p link delays (E7).
* :func:`durations` — busy times in seconds: E2-E4 (``host``) or E6 (``p2p``).
* :func:`energy` — E11 in joules.
* :class:`CommModel` — the same physics for code that builds a decision piece by
  piece: the all-paid busy time of SPEC §7.1, the busy time of a layer placed beside
  already-placed predecessors (list schedulers), mean costs (HEFT ranks), and the
  coefficient tables in integer ticks and joules (:class:`LayerTerms`) that the exact
  models turn into constraints and that give a mapping's tick busy times.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from .cost import MAX_SECONDS, CostTables, to_ticks
from .model import Instance, ModelError

__all__ = [
    "CommModel",
    "check_ranges",
    "Durations",
    "LayerTerms",
    "ReadTerm",
    "durations",
    "energy",
    "exact_support",
]


@dataclass(frozen=True, eq=False)
class Durations:
    """Busy-time components per layer (seconds) and per-edge transfer facts.

    ``busy = compute + weight_load + read + write`` (E2–E4, host) or
    ``compute + weight_load`` (E6, p2p); ``edge_delay`` is ``c_uv`` of E7 (0 in host);
    ``in_bytes``/``out_bytes`` cross the host link (E3/E4; 0 in p2p).
    """

    busy: np.ndarray
    compute: np.ndarray
    weight_load: np.ndarray
    read: np.ndarray
    write: np.ndarray
    in_bytes: np.ndarray
    out_bytes: np.ndarray
    edge_local: np.ndarray
    edge_delay: np.ndarray


@dataclass(frozen=True, eq=False)
class Transfers:
    """What a decision moves: ``edge_local`` (E), host-link bytes read and written per
    layer (V; E3, E4) and the link delay of every edge in seconds (E; E7)."""

    edge_local: np.ndarray
    in_bytes: np.ndarray
    out_bytes: np.ndarray
    edge_delay: np.ndarray


def link_delay(tables: CostTables, k: Any, a: Any, b: Any) -> Any:
    """E7's ``c_uv = λ[a][b] + d_uv / bw[a][b]`` of edge(s) ``k`` sent from accelerator(s)
    ``a`` to ``b`` (seconds; numpy broadcasting over the three; the caller decides that
    ``a ≠ b``): the one place the link delay is written."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return tables.link_latency[a, b] + tables.edge_bytes[k] / tables.link_bw[a, b]


def all_link_delays(tables: CostTables) -> np.ndarray:
    """(E, A, A) :func:`link_delay` of every edge and ordered pair, 0 on the diagonal."""
    e, m = len(tables.edge_src), tables.num_accs
    sec = link_delay(tables, np.arange(e)[:, None, None], np.arange(m)[None, :, None],
                     np.arange(m)[None, None, :])
    return np.where(np.eye(m, dtype=bool)[None, :, :], 0.0, sec)


def transfers(tables: CostTables, comm: str, locality: str, x: np.ndarray,
              prev: np.ndarray) -> Transfers:
    """The transfers of mapping ``x`` with per-accelerator predecessors ``prev``.

    host (SPEC §4.1)::

        in(v)  = I_v for a source, else Σ d_uv over non-local in-edges      (E3)
        out(v) = O_v if v is a sink or has a non-local out-edge, else 0      (E4)

    with ``local(u,v)`` per ``locality``: ``same_accelerator`` ⇔ ``x(u)=x(v)``;
    ``adjacent`` ⇔ additionally ``u`` runs right before ``v``; ``none`` never.

    p2p (SPEC §4.2): nothing crosses the host link but weights, and
    ``c_uv = 0 if x(u)=x(v) else λ[x(u)][x(v)] + d_uv/bw[x(u)][x(v)]``   (E7)
    """
    n = tables.num_layers
    src, dst, d = tables.edge_src, tables.edge_dst, tables.edge_bytes
    same = x[src] == x[dst]
    if comm == "host":
        if locality == "same_accelerator":
            local = same
        elif locality == "adjacent":
            local = same & (prev[dst] == src)
        elif locality == "none":
            local = np.zeros(len(src), dtype=bool)
        else:
            raise ModelError(f"unknown locality {locality!r}")
        remote = ~local
        has_pred = np.bincount(dst, minlength=n) > 0
        has_succ = np.bincount(src, minlength=n) > 0
        in_b = np.where(has_pred, np.bincount(dst, weights=d * remote, minlength=n),
                        tables.input_bytes)
        remote_out = np.bincount(src, weights=remote.astype(float), minlength=n) > 0
        out_b = np.where(~has_succ | remote_out, tables.output_bytes, 0.0)
        return Transfers(local, in_b, out_b, np.zeros(len(src)))
    if comm == "p2p":
        delay = np.where(same, 0.0, link_delay(tables, slice(None), x[src], x[dst]))
        zero = np.zeros(n)
        return Transfers(same, zero, zero, delay)
    raise ModelError(f"unknown comm {comm!r}")


def durations(tables: CostTables, comm: str, locality: str, x: np.ndarray, r: np.ndarray,
              prev: np.ndarray) -> Durations:
    """Busy times of every layer for mapping ``x``, residency ``r`` and orders ``prev``::

        L(v) = t[v,a] + (1-r(v))·W_v/B_a + in(v)/B_a + out(v)/B_a    (E2-E4; host)
        L(v) = t[v,a] + (1-r(v))·W_v/B_a                              (E6; p2p)

    with ``in``/``out``/``c_uv`` from :func:`transfers`.
    """
    tr = transfers(tables, comm, locality, x, prev)
    bw = tables.host_bw[x]
    compute = tables.t[np.arange(tables.num_layers), x]
    weight_load = np.where(r, 0.0, tables.weight_bytes) / bw
    read, write = tr.in_bytes / bw, tr.out_bytes / bw
    busy = compute + weight_load + read + write
    return Durations(busy, compute, weight_load, read, write, tr.in_bytes, tr.out_bytes,
                     tr.edge_local, tr.edge_delay)


def energy(tables: CostTables, comm: str, x: np.ndarray, r: np.ndarray,
           dur: Durations) -> float:
    """Energy E11: compute energy plus data movement::

        Σ_v e[v,x(v)] + Σ_v ε_x(v)·((1-r(v))·W_v + in(v) + out(v))
          + Σ_{(u,v) not local} ε[x(u)][x(v)]·d_uv          (link term; p2p only)

    Under host ``in``/``out`` are E3/E4's bytes and no link is used; under p2p nothing
    crosses the host link but weights, and every edge between two accelerators pays
    its link energy.
    """
    idx = np.arange(tables.num_layers)
    comp = float(np.sum(tables.e[idx, x]))
    moved = np.where(r, 0.0, tables.weight_bytes) + dur.in_bytes + dur.out_bytes
    total = comp + float(np.sum(tables.host_energy[x] * moved))
    if comm == "p2p":
        src, dst = tables.edge_src, tables.edge_dst
        cross = x[src] != x[dst]
        total += float(np.sum(tables.link_energy[x[src], x[dst]] * tables.edge_bytes * cross))
    return total


def check_ranges(inst: Instance, tables: CostTables) -> None:
    """Every busy time and delay a decision can produce stays a number the tool handles:
    the all-paid busy time of each runnable pair (E2-E4 / E6 with nothing resident) and
    each E7 delay at most :data:`h2h_opt.cost.MAX_SECONDS`.

    Raises
    ------
    ModelError
        Naming the layer (or edge) and accelerator(s) whose time is out of range.
    """
    comm = CommModel(inst, tables)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        full = np.where(comm.feasible, comm.full_busy(), 0.0)
    bad = np.argwhere(~(full <= MAX_SECONDS))
    if len(bad):
        v, a = (int(i) for i in bad[0])
        raise ModelError(f"layer {tables.layer_ids[v]!r} on {tables.acc_ids[a]!r}: compute and"
                         f" transfers take {float(full[v, a]):g} s, above {MAX_SECONDS:g} s"
                         " (a bandwidth too small?)")
    if inst.options.comm == "p2p" and len(tables.edge_src):
        sec = all_link_delays(tables)
        bad = np.argwhere(~(sec <= MAX_SECONDS))
        if len(bad):
            k, a, b = (int(i) for i in bad[0])
            u, v = int(tables.edge_src[k]), int(tables.edge_dst[k])
            raise ModelError(f"edge {tables.layer_ids[u]}->{tables.layer_ids[v]} from"
                             f" {tables.acc_ids[a]!r} to {tables.acc_ids[b]!r}: delay"
                             f" {float(sec[k, a, b]):g} s, above {MAX_SECONDS:g} s")


def exact_support(inst: Instance) -> str | None:
    """Why an exact model cannot take ``inst`` (None if it can): ``adjacent`` locality
    under ``host`` would need successor variables per accelerator (SPEC §7.4)."""
    if inst.options.comm == "host" and inst.options.locality == "adjacent":
        return ("the exact models support comm 'host' with locality 'same_accelerator'"
                " only ('adjacent' needs successor variables per accelerator); use a"
                " heuristic or set options.locality")
    return None


# --------------------------------------------------------------------------- term lists


@dataclass(frozen=True)
class ReadTerm:
    """Edge ``k`` from producer ``u`` read over the host link (E3): paid when ``u`` does
    not run on the consumer's accelerator."""

    edge: int
    producer: int
    time: float
    joules: float


@dataclass(frozen=True)
class LayerTerms:
    """Busy time (in ticks, every term rounded up, SPEC §6 -- or in seconds) and energy
    (joules) of layer ``v`` on accelerator ``a`` as terms a model multiplies by its own
    variables::

        L(v on a) = fixed − weight·r + Σ_reads time·[x(u) ≠ a]
                    + write·[some successor w ∉ a]
        E(v on a) = the same with joules

    ``fixed`` holds compute, the weight load, the source read and every transfer no
    choice can avoid (reads from producers that cannot run on ``a``; the write of a
    sink, or of a layer with a successor that cannot run on ``a``).  ``weight`` (E2's
    load) is saved by residency, possible iff ``can_reside`` (``0 < W_v ≤ Cap_a``).
    ``reads`` and ``write_succs`` are empty under p2p (E6).
    """

    fixed: float
    fixed_joules: float
    weight: float
    weight_joules: float
    can_reside: bool
    reads: tuple[ReadTerm, ...]
    write: float
    write_joules: float
    write_succs: tuple[int, ...]

    def busy(self, on_same: Sequence[bool], succs_all_same: bool, resident: bool) -> float:
        """The terms that hold (in the list's unit), given for each read whether its
        producer runs on the same accelerator, whether every successor does, and
        residency."""
        out = self.fixed - (self.weight if resident else 0)
        out += sum(t.time for t, same in zip(self.reads, on_same, strict=True) if not same)
        if self.write_succs and not succs_all_same:
            out += self.write
        return out


class CommModel:
    """The comm model of one instance for code that decides piece by piece.

    Seconds: :meth:`full_busy` (SPEC §7.1), :meth:`placement`, :meth:`mean_busy` and
    :meth:`mean_transfer` (HEFT, SPEC §7.3).  Ticks and joules: :attr:`terms`
    (:class:`LayerTerms` per runnable pair), :attr:`delay_ticks` (E7 per edge and
    accelerator pair) and :attr:`link_joules`, and :meth:`busy_ticks` of a mapping.
    """

    def __init__(self, inst: Instance, tables: CostTables, tick_s: float | None = None
                 ) -> None:
        self.inst, self.tables = inst, tables
        #: the tick of the term lists (default: the instance's ``options.tick_s``)
        self.tick_s = inst.options.tick_s if tick_s is None else tick_s
        self.host = inst.options.comm == "host"
        wl = inst.workload
        self.n, self.m = tables.num_layers, tables.num_accs
        self.in_edges = wl.in_edges
        self.succs = wl.succs
        self.src: list[int] = tables.edge_src.tolist()
        self.dst: list[int] = tables.edge_dst.tolist()
        self.feasible = np.isfinite(tables.t)

    # -- seconds -------------------------------------------------------------------------
    def full_busy(self) -> np.ndarray:
        """(V, A) busy time with every transfer paid and nothing resident (SPEC §7.1):
        host ``t + (W + in_full + O)/B`` with ``in_full = I_v`` for a source and
        ``Σ d_uv`` otherwise (E2-E4, nothing local); p2p ``t + W/B`` (E6, ``r = 0``;
        delays are not charged while mapping computation first)."""
        tab = self.tables
        if not self.host:
            return tab.t + (tab.weight_bytes[:, None] / tab.host_bw[None, :])
        n = self.n
        summed = np.bincount(tab.edge_dst, weights=tab.edge_bytes, minlength=n)
        has_pred = np.bincount(tab.edge_dst, minlength=n) > 0
        in_full = np.where(has_pred, summed, tab.input_bytes)
        moved = tab.weight_bytes + in_full + tab.output_bytes
        return tab.t + moved[:, None] / tab.host_bw[None, :]

    @cached_property
    def _lists(self) -> tuple[list[list[float]], list[float], list[float], list[float],
                              list[float], list[float]]:
        tab = self.tables
        return (tab.t.tolist(), (1.0 / tab.host_bw).tolist(), tab.weight_bytes.tolist(),
                tab.output_bytes.tolist(), tab.input_bytes.tolist(), tab.edge_bytes.tolist())

    def placement(self, v: int, a: int, x: Sequence[int]) -> tuple[float, list[float]]:
        """Busy time of ``v`` on ``a`` with its predecessors placed as in ``x``, and the
        delay after each in-edge's producer finishes (list order of ``in_edges[v]``).

        host: E2 with nothing resident, E3 reads from producers on other accelerators
        (``I_v`` for a source), and E4's write of ``O_v`` (successors are not placed yet,
        so the write is assumed); delays 0.  p2p: E6 with nothing resident; E7 delays.
        """
        t, inv_b, wload, out_b, in_b, ebytes = self._lists
        dur = t[v][a] + wload[v] * inv_b[a]
        edges = self.in_edges[v]
        if self.host:
            if not edges:
                dur += in_b[v] * inv_b[a]
            for k in edges:
                if x[self.src[k]] != a:
                    dur += ebytes[k] * inv_b[a]
            return dur + out_b[v] * inv_b[a], [0.0] * len(edges)
        delays = []
        for k in edges:
            b = x[self.src[k]]
            delays.append(0.0 if b == a else float(link_delay(self.tables, k, b, a)))
        return dur, delays

    def mean_busy(self) -> np.ndarray:
        """(V,) mean over the accelerators that run ``v`` of its busy time with nothing
        resident and nothing local among its own edges: ``t + W/B`` (+ ``I_v/B`` for a
        source and ``O_v/B`` for a sink under host; the transfers of inner edges are
        :meth:`mean_transfer`'s)."""
        tab = self.tables
        inv_b = 1.0 / tab.host_bw
        base = np.where(self.feasible, tab.t + tab.weight_bytes[:, None] * inv_b[None, :],
                        np.nan)
        if self.host:
            n = self.n
            has_pred = np.bincount(tab.edge_dst, minlength=n) > 0
            has_succ = np.bincount(tab.edge_src, minlength=n) > 0
            extra = np.where(has_pred, 0.0, tab.input_bytes) \
                + np.where(has_succ, 0.0, tab.output_bytes)
            base = base + extra[:, None] * inv_b[None, :]
        return np.nanmean(base, axis=1)

    def mean_transfer(self, k: int) -> float:
        """Mean cost of edge ``k`` over the distinct accelerator pairs its ends can run
        on: ``d·(1/B_a + 1/B_b)`` (host: a write and a read, E3/E4) or
        ``λ[a][b] + d/bw[a][b]`` (p2p, E7); 0 when no such pair exists."""
        tab = self.tables
        u, v = self.src[k], self.dst[k]
        pa, pb = np.flatnonzero(self.feasible[u]), np.flatnonzero(self.feasible[v])
        pairs = [(a, b) for a in pa for b in pb if a != b]
        if not pairs:
            return 0.0
        d = tab.edge_bytes[k]
        if self.host:
            inv_b = 1.0 / tab.host_bw
            vals = [d * (inv_b[a] + inv_b[b]) for a, b in pairs]
        else:
            vals = [float(link_delay(tab, k, a, b)) for a, b in pairs]
        return float(np.mean(vals))

    # -- ticks and joules ----------------------------------------------------------------
    def serial_seconds(self) -> float:
        """An upper bound on any sensible schedule's makespan: every layer at its longest
        all-paid busy time (E2-E4 / E6, nothing resident) one after another, plus the
        longest E7 delay of every edge."""
        full = np.where(self.feasible, self.full_busy(), 0.0)
        total = float(full.max(axis=1).sum())
        if not self.host and len(self.src):
            total += float(all_link_delays(self.tables).max(axis=(1, 2)).sum())
        return total

    @cached_property
    def delay_ticks(self) -> np.ndarray:
        """(E, A, A) E7 delays in ticks, rounded up; 0 on the diagonal and under host."""
        e = len(self.src)
        if self.host or not e:
            return np.zeros((e, self.m, self.m), dtype=np.int64)
        return to_ticks(all_link_delays(self.tables), self.tick_s)

    @cached_property
    def link_energy_jpb(self) -> np.ndarray:
        """(A, A) E11's link energy per byte: ``ε[a][b]`` under p2p, 0 under host (whose
        transfers cross the host links, E3/E4) and on the diagonal."""
        out = np.zeros((self.m, self.m))
        if not self.host:
            out = np.array(self.tables.link_energy, dtype=float)
            np.fill_diagonal(out, 0.0)
        return out

    def link_joules(self, k: int, a: int, b: int) -> float:
        """E11's link energy of edge ``k`` from ``a`` to ``b`` (0 under host)."""
        return float(self.link_energy_jpb[a, b] * self.tables.edge_bytes[k])

    @cached_property
    def compute_ticks(self) -> list[list[int]]:
        """(V, A) compute time in ticks, ``-1`` where ``a`` does not run ``v``."""
        return to_ticks(self.tables.t, self.tick_s).tolist()

    def _term_lists(self, conv: Callable[[np.ndarray], np.ndarray]
                    ) -> dict[tuple[int, int], LayerTerms]:
        """:class:`LayerTerms` of every runnable pair with times converted by ``conv``
        (to ticks, or kept in seconds): the one place that decides which transfers of
        E2-E4 a layer pays for sure and which hang on its neighbours' placement."""
        tab = self.tables
        bw = tab.host_bw[None, :]
        n = self.n
        has_pred = np.bincount(tab.edge_dst, minlength=n) > 0
        src_in = np.where(has_pred, 0.0, tab.input_bytes)
        comp = conv(np.where(self.feasible, tab.t, 0.0)).tolist()
        wl_t = conv(tab.weight_bytes[:, None] / bw).tolist()
        src_t = conv(src_in[:, None] / bw).tolist()
        read_t = conv(tab.edge_bytes[:, None] / bw).tolist()
        write_t = conv(tab.output_bytes[:, None] / bw).tolist()
        eps = tab.host_energy.tolist()
        wb, ob, eb = tab.weight_bytes.tolist(), tab.output_bytes.tolist(), tab.edge_bytes.tolist()
        src_b = src_in.tolist()
        feas = self.feasible.tolist()
        out: dict[tuple[int, int], LayerTerms] = {}
        for v in range(n):
            for a in range(self.m):
                if not feas[v][a]:
                    continue
                fixed_t = comp[v][a] + wl_t[v][a]
                fixed_j = float(tab.e[v, a]) + eps[a] * wb[v]
                reads: list[ReadTerm] = []
                write, write_joules = 0 * fixed_t, 0.0
                write_succs: tuple[int, ...] = ()
                if self.host:
                    fixed_t += src_t[v][a]
                    fixed_j += eps[a] * src_b[v]
                    for k in self.in_edges[v]:
                        u = self.src[k]
                        rt, rj = read_t[k][a], eps[a] * eb[k]
                        if not feas[u][a]:  # u cannot run on a: always remote
                            fixed_t, fixed_j = fixed_t + rt, fixed_j + rj
                        elif rt or rj:
                            reads.append(ReadTerm(k, u, rt, rj))
                    succs = self.succs[v]
                    if not succs or any(not feas[w][a] for w in succs):
                        fixed_t += write_t[v][a]
                        fixed_j += eps[a] * ob[v]
                    elif write_t[v][a] or ob[v]:
                        write, write_joules = write_t[v][a], eps[a] * ob[v]
                        write_succs = tuple(succs)
                out[v, a] = LayerTerms(
                    fixed=fixed_t, fixed_joules=fixed_j,
                    weight=wl_t[v][a], weight_joules=eps[a] * wb[v],
                    can_reside=0 < wb[v] <= tab.capacity[a],
                    reads=tuple(reads), write=write,
                    write_joules=write_joules, write_succs=write_succs)
        return out

    @cached_property
    def terms(self) -> dict[tuple[int, int], LayerTerms]:
        """:class:`LayerTerms` in ticks (every term rounded up, SPEC §6) and joules."""
        return self._term_lists(lambda sec: to_ticks(sec, self.tick_s))

    @cached_property
    def seconds_terms(self) -> dict[tuple[int, int], LayerTerms]:
        """:class:`LayerTerms` in seconds and joules (no rounding)."""
        return self._term_lists(lambda sec: np.asarray(sec, dtype=float))

    def least_busy(self) -> np.ndarray:
        """(V, A) least busy time [s] of ``v`` on ``a`` over every decision: the terms no
        choice can avoid, with residency wherever the weights fit (``inf`` where ``a``
        does not run ``v``)."""
        out = np.full((self.n, self.m), np.inf)
        for (v, a), lt in self.seconds_terms.items():
            out[v, a] = lt.fixed - (lt.weight if lt.can_reside else 0.0)
        return out

    def least_energy(self) -> np.ndarray:
        """(V, A) least energy [J] of ``v`` on ``a`` over every decision (E11 without the
        optional transfers and link terms; ``inf`` where ``a`` does not run ``v``)."""
        out = np.full((self.n, self.m), np.inf)
        for (v, a), lt in self.seconds_terms.items():
            out[v, a] = lt.fixed_joules - (lt.weight_joules if lt.can_reside else 0.0)
        return out

    def rounded_terms(self) -> int:
        """Most rounded terms a chain of the combined graph can hold (SPEC §6): every
        layer once, with compute, weight, source read, write and its reads (host) or
        compute, weight and one incoming delay (p2p); each adds < 1 tick."""
        if self.host:
            return sum(4 + len(edges) for edges in self.in_edges)
        return 3 * self.n

    def busy_ticks(self, x: Sequence[int], r: Sequence[bool],
                   layers: Iterable[int] | None = None) -> list[int]:
        """Tick busy time of every layer (or of ``layers``, in their order) for mapping
        ``x`` and residency ``r`` under ``same_accelerator`` locality: the terms of
        :attr:`terms` that hold."""
        terms = self.terms
        out = []
        for v in (range(self.n) if layers is None else layers):
            a = x[v]
            lt = terms[v, a]
            out.append(int(lt.busy([x[rt.producer] == a for rt in lt.reads],
                                   all(x[w] == a for w in lt.write_succs),
                                   bool(r[v]) and lt.can_reside)))
        return out

    def edge_delays_ticks(self, x: Sequence[int]) -> list[float]:
        """E7 delay of every edge in ticks for mapping ``x`` (0 under host)."""
        d = self.delay_ticks
        return [float(d[k, x[u], x[v]]) for k, (u, v) in enumerate(zip(self.src, self.dst,
                                                                        strict=True))]
