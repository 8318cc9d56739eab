"""The independent evaluator: the single arbiter of feasibility and objective.

``evaluate(instance, schedule)`` recomputes every busy time, transfer and delay
from the cost tables (SPEC §4, E2–E9), checks every constraint and reports named
violations, latency (E10) and energy (E11).  ``asap(...)`` builds the earliest
schedule for given mapping, residency and orders (SPEC §7.2 "ASAP re-timing").

Imports only ``model``, ``cost`` and ``schedule`` (never a solver library).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np

from .cost import CostTables, compile_tables
from .model import LOCALITIES, Instance, ModelError
from .schedule import Schedule, orders_from_starts

__all__ = [
    "VIOLATION_KINDS",
    "Durations",
    "Evaluation",
    "Retimer",
    "ScheduleCycleError",
    "Violation",
    "asap",
    "asap_times",
    "decision_indices",
    "durations",
    "energy_of",
    "evaluate",
    "prev_from_orders",
]

VIOLATION_KINDS = (
    "unknown_layer",        # the schedule names a layer the workload does not have
    "missing_layer",        # a layer has no accelerator or no start time
    "unknown_accelerator",  # a layer is mapped to (or ordered on) an unknown accelerator
    "infeasible_pair",      # t[v, x(v)] = inf: the accelerator does not run op(v)
    "order",                # π_a does not hold exactly the layers mapped to a
    "start",                # negative or non-finite start time
    "overlap",              # E8: two layers of one accelerator overlap (or run out of π_a order)
    "precedence",           # E5 / E7: s(v) < f(u) (+ c_uv)
    "memory",               # E9: resident weights exceed Cap_a
    "locality",             # the schedule claims a locality stronger than the instance allows
)

#: Relative tolerance of time comparisons (times are float seconds).
TOL_REL = 1e-9


class ScheduleCycleError(ModelError):
    """The per-accelerator orders and the data edges form a cycle (a deadlock)."""


@dataclass(frozen=True)
class Violation:
    kind: str
    message: str
    layers: tuple[str, ...] = ()
    accelerator: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "message": self.message, "layers": list(self.layers),
                "accelerator": self.accelerator}


@dataclass(frozen=True, eq=False)
class Durations:
    """Busy-time components per layer (seconds) and per-edge transfer facts.

    ``busy = compute + weight_load + read + write`` (E2–E4, host) or
    ``compute + weight_load`` (E6, p2p); ``edge_delay`` is ``c_uv`` of E7 (0 in host).
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
class Evaluation:
    """What the evaluator says about a schedule.

    ``objective`` is the instance objective's value: latency (E10), energy (E11)
    or the pair ``(latency, energy)`` for ``lex``.  ``start``/``finish`` and
    ``durations`` are in workload order (``None`` when the schedule is too broken
    to time).
    """

    feasible: bool
    violations: tuple[Violation, ...]
    latency: float
    energy: float
    objective: float | tuple[float, float]
    start: np.ndarray | None = None
    finish: np.ndarray | None = None
    durations: Durations | None = None
    locality: str | None = None

    def kinds(self) -> set[str]:
        return {v.kind for v in self.violations}

    def summary(self) -> dict[str, object]:
        return {
            "feasible": self.feasible,
            "latency_s": self.latency,
            "energy_j": self.energy,
            "locality": self.locality,
            "violations": [v.to_dict() for v in self.violations],
        }


# --------------------------------------------------------------------------- core maths


def prev_from_orders(num_layers: int, orders: Sequence[Sequence[int]]) -> np.ndarray:
    """``prev[v]``: the layer right before ``v`` on its accelerator, ``-1`` if first."""
    prev = np.full(num_layers, -1, dtype=np.int64)
    for order in orders:
        for i in range(1, len(order)):
            prev[order[i]] = order[i - 1]
    return prev


def durations(tables: CostTables, comm: str, locality: str, x: np.ndarray, r: np.ndarray,
              prev: np.ndarray) -> Durations:
    """Busy times of every layer for mapping ``x``, residency ``r`` and orders ``prev``.

    host (SPEC §4.1)::

        L(v) = t[v,a] + (1-r(v))·W_v/B_a + in(v)/B_a + out(v)/B_a      (E2, E3, E4)
        in(v)  = I_v for a source, else Σ d_uv over non-local in-edges
        out(v) = O_v if v is a sink or has a non-local out-edge, else 0

    with ``local(u,v)`` per ``locality``: ``same_accelerator`` ⇔ ``x(u)=x(v)``;
    ``adjacent`` ⇔ additionally ``u`` runs right before ``v``; ``none`` never.

    p2p (SPEC §4.2)::

        L(v) = t[v,a] + (1-r(v))·W_v/B_a                                 (E6)
        c_uv = 0 if x(u)=x(v) else λ[x(u)][x(v)] + d_uv/bw[x(u)][x(v)]   (E7)
    """
    n = tables.num_layers
    idx = np.arange(n)
    src, dst, d = tables.edge_src, tables.edge_dst, tables.edge_bytes
    same = x[src] == x[dst]
    bw = tables.host_bw[x]
    compute = tables.t[idx, x]
    weight_load = np.where(r, 0.0, tables.weight_bytes) / bw
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
        read, write = in_b / bw, out_b / bw
        busy = compute + weight_load + read + write
        delay = np.zeros(len(src))
    elif comm == "p2p":
        local = same
        zero = np.zeros(n)
        in_b = out_b = read = write = zero
        busy = compute + weight_load
        xs, xd = x[src], x[dst]
        with np.errstate(divide="ignore", invalid="ignore"):
            delay = np.where(same, 0.0, tables.link_latency[xs, xd] + d / tables.link_bw[xs, xd])
    else:
        raise ModelError(f"unknown comm {comm!r}")
    return Durations(busy, compute, weight_load, read, write, in_b, out_b, local, delay)


def energy_of(tables: CostTables, comm: str, x: np.ndarray, r: np.ndarray,
              dur: Durations) -> float:
    """Energy E11: compute energy plus data movement.

    host: ``Σ_v e[v,x(v)] + Σ_v ε_x(v)·((1-r(v))·W_v + in(v) + out(v))``;
    p2p: ``Σ_v e[v,x(v)] + Σ_v ε_x(v)·(1-r(v))·W_v + Σ_{x(u)≠x(v)} ε[x(u)][x(v)]·d_uv``
    (under p2p nothing crosses the host link but weights).
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


class Retimer:
    """ASAP re-timing on the combined graph, with the static structure built once.

    Each layer starts at ``max(f(u) + c_uv over data preds, f(previous on its
    accelerator))`` (E5/E7, E8), timed from scratch in a topological order of
    the data edges plus the consecutive pairs of every ``π_a`` (SPEC §7.2).
    Heuristics call :meth:`run` many times; ``evaluate``/``asap`` use it too.
    """

    def __init__(self, tables: CostTables, in_edges: Sequence[Sequence[int]]) -> None:
        self.tables = tables
        self.n = tables.num_layers
        self.src: list[int] = tables.edge_src.tolist()
        self.dst: list[int] = tables.edge_dst.tolist()
        self.in_edges = [list(e) for e in in_edges]
        self.out_edges: list[list[int]] = [[] for _ in range(self.n)]
        for k, u in enumerate(self.src):
            self.out_edges[u].append(k)
        self.num_in = [len(e) for e in self.in_edges]

    def run(self, busy: Sequence[float], delay: Sequence[float], prev: Sequence[int],
            acc_of: Sequence[int] | None = None, *, describe: bool = True
            ) -> tuple[list[float], list[float]]:
        """Start and finish times (lists, workload order).

        Raises
        ------
        ScheduleCycleError
            When the orders and the data edges form a cycle; the message names it
            (``describe=False`` skips finding the cycle: searches only need to know).
        """
        n, src, dst, in_edges, out_edges = self.n, self.src, self.dst, self.in_edges, \
            self.out_edges
        nxt = [-1] * n
        indeg = self.num_in[:]
        for v in range(n):
            p = prev[v]
            if p >= 0:
                nxt[p] = v
                indeg[v] += 1
        start = [0.0] * n
        finish = [0.0] * n
        stack = [v for v in range(n) if indeg[v] == 0]
        done = 0
        while stack:
            v = stack.pop()
            done += 1
            p = prev[v]
            s = finish[p] if p >= 0 else 0.0
            for k in in_edges[v]:
                f = finish[src[k]] + delay[k]
                if f > s:
                    s = f
            start[v] = s
            finish[v] = s + busy[v]
            w = nxt[v]
            if w >= 0:
                indeg[w] -= 1
                if indeg[w] == 0:
                    stack.append(w)
            for k in out_edges[v]:
                w = dst[k]
                indeg[w] -= 1
                if indeg[w] == 0:
                    stack.append(w)
        if done < n:
            if not describe:
                raise ScheduleCycleError("orders deadlock")
            raise ScheduleCycleError(_describe_cycle(self.tables, list(prev), indeg, None,
                                                     None if acc_of is None
                                                     else np.asarray(acc_of)))
        return start, finish


def asap_times(tables: CostTables, preds_edges: Sequence[Sequence[int]], prev: np.ndarray,
               dur: Durations, layer_ids: Sequence[str] | None = None,
               acc_of: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Earliest start/finish arrays for given durations and orders (see :class:`Retimer`)."""
    start, finish = Retimer(tables, preds_edges).run(
        dur.busy.tolist(), dur.edge_delay.tolist(), prev.tolist(),
        None if acc_of is None else acc_of.tolist())
    return np.array(start), np.array(finish)


def _describe_cycle(tables: CostTables, prv: list[int], indeg: list[int],
                    layer_ids: Sequence[str] | None, acc_of: np.ndarray | None) -> str:
    names = list(layer_ids) if layer_ids is not None else list(tables.layer_ids)
    left = {v for v in range(len(indeg)) if indeg[v] > 0}
    g = nx.DiGraph()
    for u, v in zip(tables.edge_src.tolist(), tables.edge_dst.tolist(), strict=True):
        if u in left and v in left:
            g.add_edge(u, v, why="data")
    for v in left:
        if prv[v] in left:
            acc = tables.acc_ids[int(acc_of[v])] if acc_of is not None else "?"
            g.add_edge(prv[v], v, why=f"order on {acc}")
    cycle = nx.find_cycle(g)
    parts = [names[cycle[0][0]]]
    for u, v in cycle:
        parts.append(f"-> {names[v]} ({g.edges[u, v]['why']})")
    return "orders deadlock: cycle " + " ".join(parts)


# --------------------------------------------------------------------------- public API


def decision_indices(inst: Instance, mapping: Mapping[str, str],
                     residency: Mapping[str, bool], orders: Mapping[str, Sequence[str]]
                     ) -> tuple[np.ndarray, np.ndarray, list[list[int]]]:
    """Ids to positions: ``x`` (accelerator per layer), ``r`` and per-accelerator orders
    of layer positions, all in workload / system order."""
    wl, acc_index = inst.workload, inst.system.index
    x = np.array([acc_index[mapping[layer.id]] for layer in wl.layers], dtype=np.int64)
    r = np.array([bool(residency.get(layer.id, False)) for layer in wl.layers], dtype=bool)
    order_idx = [[wl.index[v] for v in orders.get(a, ())] for a in inst.system.ids]
    return x, r, order_idx


def asap(inst: Instance, mapping: Mapping[str, str], residency: Mapping[str, bool],
         orders: Mapping[str, Sequence[str]], *, locality: str | None = None,
         tables: CostTables | None = None, meta: Mapping[str, object] | None = None) -> Schedule:
    """The earliest schedule for a mapping, residency and per-accelerator orders.

    Parameters
    ----------
    locality:
        The locality the schedule uses (default: the instance's; ``"none"`` pays
        every transfer, as in SPEC §7.1).

    Raises
    ------
    ScheduleCycleError
        The orders deadlock against the data edges (the message names the cycle).
    ModelError
        Unknown ids, or orders that do not hold exactly the mapped layers.
    """
    tables = tables or compile_tables(inst)
    wl = inst.workload
    for lid in wl.index:
        if lid not in mapping:
            raise ModelError(f"asap: layer {lid!r} is not mapped")
    for lid, acc in mapping.items():
        if acc not in inst.system.index:
            raise ModelError(f"asap: layer {lid!r} mapped to unknown accelerator {acc!r}")
    seen: dict[str, str] = {}
    for a, order in orders.items():
        for lid in order:
            if mapping.get(lid) != a or lid in seen:
                raise ModelError(f"asap: layer {lid!r} is ordered on {a!r} but mapped to"
                                 f" {mapping.get(lid)!r} (or ordered twice)")
            seen[lid] = a
    if len(seen) != wl.num_layers:
        missing = next(lid for lid in wl.index if lid not in seen)
        raise ModelError(f"asap: layer {missing!r} is in no order")
    loc = locality or inst.options.locality
    x, r, order_idx = decision_indices(inst, mapping, residency, orders)
    prev = prev_from_orders(wl.num_layers, order_idx)
    dur = durations(tables, inst.options.comm, loc, x, r, prev)
    start, _ = asap_times(tables, wl.in_edges, prev, dur, acc_of=x)
    return Schedule(
        instance=inst.name,
        mapping=dict(mapping),
        start={layer.id: float(start[i]) for i, layer in enumerate(wl.layers)},
        orders={a: tuple(orders.get(a, ())) for a in inst.system.ids},
        residency={lid: bool(v) for lid, v in residency.items() if v},
        locality=locality,
        meta=dict(meta or {}),
    )


def _objective(inst: Instance, latency: float, energy: float) -> float | tuple[float, float]:
    if inst.options.objective == "energy":
        return energy
    if inst.options.objective == "lex":
        return (latency, energy)
    return latency


def evaluate(inst: Instance, schedule: Schedule, tables: CostTables | None = None) -> Evaluation:
    """Check a schedule against every constraint of SPEC §3–§5 and measure it.

    Violations (see :data:`VIOLATION_KINDS`) name the layers and accelerator
    involved.  Latency is E10 (``max_v f(v)`` with ``f = s + L``); energy is E11.
    Both are reported whatever the objective; they are ``nan`` when the schedule
    is too broken to time (unknown or missing layers, infeasible pairs).
    """
    tables = tables or compile_tables(inst)
    wl, sysm = inst.workload, inst.system
    viol: list[Violation] = []
    nan = math.nan

    def broken() -> Evaluation:
        return Evaluation(False, tuple(viol), nan, nan, _objective(inst, nan, nan))

    # -- ids, mapping, infeasible pairs ------------------------------------------------
    for lid in list(schedule.mapping) + list(schedule.start) + list(schedule.residency):
        if lid not in wl.index:
            viol.append(Violation("unknown_layer", f"layer {lid!r} is not in the workload",
                                  (lid,)))
    for layer in wl.layers:
        if layer.id not in schedule.mapping:
            viol.append(Violation("missing_layer", f"layer {layer.id!r} is not mapped",
                                  (layer.id,)))
        elif layer.id not in schedule.start:
            viol.append(Violation("missing_layer", f"layer {layer.id!r} has no start time",
                                  (layer.id,)))
    for lid, acc in schedule.mapping.items():
        if acc not in sysm.index:
            viol.append(Violation("unknown_accelerator",
                                  f"layer {lid!r} is mapped to unknown accelerator {acc!r}",
                                  (lid,), acc))
    if viol:
        return broken()
    x = np.array([sysm.index[schedule.mapping[layer.id]] for layer in wl.layers], dtype=np.int64)
    for v, layer in enumerate(wl.layers):
        if not np.isfinite(tables.t[v, x[v]]):
            acc = sysm.ids[x[v]]
            viol.append(Violation("infeasible_pair",
                                  f"layer {layer.id!r} (op {layer.op!r}) cannot run on {acc!r}",
                                  (layer.id,), acc))
    if viol:
        return broken()
    r = np.array([schedule.residency.get(layer.id, False) for layer in wl.layers], dtype=bool)
    start = np.array([schedule.start[layer.id] for layer in wl.layers], dtype=float)

    # -- orders π_a ---------------------------------------------------------------------
    orders_ok = True
    placed: dict[str, str] = {}
    for acc, given in schedule.orders.items():
        if acc not in sysm.index:
            viol.append(Violation("unknown_accelerator", f"order given for unknown accelerator"
                                  f" {acc!r}", tuple(given), acc))
            orders_ok = False
            continue
        for lid in given:
            if lid not in wl.index:
                viol.append(Violation("unknown_layer", f"order of {acc!r} names unknown layer"
                                      f" {lid!r}", (lid,), acc))
                orders_ok = False
            elif lid in placed:
                viol.append(Violation("order", f"layer {lid!r} appears twice in the orders"
                                      f" ({placed[lid]!r}, {acc!r})", (lid,), acc))
                orders_ok = False
            elif schedule.mapping[lid] != acc:
                viol.append(Violation("order", f"layer {lid!r} is ordered on {acc!r} but mapped"
                                      f" to {schedule.mapping[lid]!r}", (lid,), acc))
                orders_ok = False
            placed.setdefault(lid, acc)
    for layer in wl.layers:
        if layer.id not in placed:
            acc = schedule.mapping[layer.id]
            viol.append(Violation("order", f"layer {layer.id!r} is missing from the order of"
                                  f" {acc!r}", (layer.id,), acc))
            orders_ok = False
    orders = schedule.orders if orders_ok else orders_from_starts(inst, schedule.mapping,
                                                                  schedule.start)
    order_idx = [[wl.index[v] for v in orders.get(a, ())] for a in sysm.ids]
    prev = prev_from_orders(wl.num_layers, order_idx)

    # -- locality ------------------------------------------------------------------------
    loc = schedule.locality or inst.options.locality
    if LOCALITIES.index(loc) > LOCALITIES.index(inst.options.locality):
        viol.append(Violation("locality", f"schedule uses locality {loc!r}, stronger than the"
                              f" instance's {inst.options.locality!r}"))
        loc = inst.options.locality

    # -- times ----------------------------------------------------------------------------
    dur = durations(tables, inst.options.comm, loc, x, r, prev)
    finish = start + dur.busy
    latency = float(np.max(finish)) if len(finish) else 0.0
    tol = TOL_REL * max(1.0, abs(latency) if math.isfinite(latency) else 1.0)
    for v, layer in enumerate(wl.layers):
        if not math.isfinite(start[v]) or start[v] < -tol:
            viol.append(Violation("start", f"layer {layer.id!r} starts at {start[v]!r}",
                                  (layer.id,), sysm.ids[x[v]]))
    ids = tables.layer_ids
    for a, seq in enumerate(order_idx):
        for i in range(1, len(seq)):
            u, v = seq[i - 1], seq[i]
            if start[v] < finish[u] - tol:
                viol.append(Violation(
                    "overlap",
                    f"on {sysm.ids[a]!r}: {ids[v]!r} starts at {start[v]:.9g} s before"
                    f" {ids[u]!r} (previous in its order) ends at {finish[u]:.9g} s",
                    (ids[u], ids[v]), sysm.ids[a]))
    for k in range(len(tables.edge_src)):
        u, v = int(tables.edge_src[k]), int(tables.edge_dst[k])
        ready = finish[u] + dur.edge_delay[k]
        if start[v] < ready - tol:
            extra = f" + delay {dur.edge_delay[k]:.9g} s" if dur.edge_delay[k] > 0 else ""
            viol.append(Violation(
                "precedence",
                f"{ids[v]!r} starts at {start[v]:.9g} s before its predecessor {ids[u]!r}"
                f" ends at {finish[u]:.9g} s{extra}", (ids[u], ids[v])))

    # -- memory E9 -------------------------------------------------------------------------
    resident_w = np.bincount(x, weights=tables.weight_bytes * r, minlength=sysm.num_accs)
    for a in range(sysm.num_accs):
        cap = tables.capacity[a]
        if resident_w[a] > cap * (1 + 1e-12):
            members = tuple(ids[v] for v in range(wl.num_layers) if r[v] and x[v] == a)
            viol.append(Violation(
                "memory", f"on {sysm.ids[a]!r}: resident weights {resident_w[a]:.6g} B exceed"
                f" capacity {cap:.6g} B ({len(members)} resident layers)", members, sysm.ids[a]))

    energy = energy_of(tables, inst.options.comm, x, r, dur)
    return Evaluation(
        feasible=not viol,
        violations=tuple(viol),
        latency=latency,
        energy=energy,
        objective=_objective(inst, latency, energy),
        start=start,
        finish=finish,
        durations=dur,
        locality=loc,
    )
