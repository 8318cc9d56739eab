"""The independent evaluator: the single arbiter of feasibility and objective.

``evaluate(instance, schedule)`` recomputes every busy time, transfer and delay from
the cost tables with the comm model (SPEC §4, E2–E9), checks every constraint against
the schedule's own start times and reports named violations, latency (E10) and energy
(E11).  It trusts nothing a solver says.

Imports only the core (never a solver library).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .comm import Durations, durations, energy
from .cost import CostTables, compile_tables
from .model import LOCALITIES, Instance
from .schedule import Schedule, orders_from_starts, prev_from_orders

__all__ = ["TOL_REL", "VIOLATION_KINDS", "Evaluation", "Violation", "evaluate"]

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


# --------------------------------------------------------------------------- public API


def _objective(inst: Instance, latency: float, energy_j: float) -> float | tuple[float, float]:
    if inst.options.objective == "energy":
        return energy_j
    if inst.options.objective == "lex":
        return (latency, energy_j)
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
            viol.append(Violation("start", f"layer {layer.id!r} starts at {float(start[v]):.9g} s",
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

    energy_j = energy(tables, inst.options.comm, x, r, dur)
    return Evaluation(
        feasible=not viol,
        violations=tuple(viol),
        latency=latency,
        energy=energy_j,
        objective=_objective(inst, latency, energy_j),
        start=start,
        finish=finish,
        durations=dur,
        locality=loc,
    )
