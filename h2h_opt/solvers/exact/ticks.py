"""Integer-tick view of an instance shared by the exact models (SPEC §6).

Every duration and delay of E2-E7 is rounded up to whole ticks, so a schedule feasible
in ticks is feasible in seconds.  :class:`TickModel` holds the tick tables and the
plan-level arithmetic both CP-SAT and the MILP need: busy times of a mapping, ASAP
re-timing in ticks (for complete warm starts), a horizon, heads and tails, and the
largest amount by which rounding can lengthen a schedule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...comm import exact_support
from ...cost import CostTables, to_ticks
from ...model import Instance
from ...schedule import Decision, Schedule, prev_from_orders
from ...timing import Retimer, asap


@dataclass
class TickData:
    """Integer durations (ticks) of every term of E2-E7, each rounded up."""

    tick: float
    t: list[list[int]]          # compute, -1 = infeasible
    wl: list[list[int]]         # weight load W_v / B_a
    src_read: list[list[int]]   # I_v / B_a for sources (0 otherwise)
    read: list[list[int]]       # per edge k: d_k / B_a on the consumer's accelerator
    write: list[list[int]]      # O_v / B_a
    delay: np.ndarray           # p2p: (E, A, A) ticks, 0 on the diagonal


def tick_data(inst: Instance, tables: CostTables) -> TickData:
    tick = inst.options.tick_s
    bw = tables.host_bw[None, :]
    n = tables.num_layers
    has_pred = np.bincount(tables.edge_dst, minlength=n) > 0
    src_in = np.where(has_pred, 0.0, tables.input_bytes)
    e = len(tables.edge_src)
    delay = np.zeros((e, tables.num_accs, tables.num_accs), dtype=np.int64)
    if inst.options.comm == "p2p" and e:
        with np.errstate(divide="ignore", invalid="ignore"):
            sec = tables.link_latency[None, :, :] + tables.edge_bytes[:, None, None] \
                / tables.link_bw[None, :, :]
        delay = to_ticks(sec, tick)
        for a in range(tables.num_accs):
            delay[:, a, a] = 0
    return TickData(
        tick=tick,
        t=to_ticks(tables.t, tick).tolist(),
        wl=to_ticks(tables.weight_bytes[:, None] / bw, tick).tolist(),
        src_read=to_ticks(src_in[:, None] / bw, tick).tolist(),
        read=to_ticks(tables.edge_bytes[:, None] / bw, tick).tolist(),
        write=to_ticks(tables.output_bytes[:, None] / bw, tick).tolist(),
        delay=delay,
    )


exact_supports = exact_support


def hint_plan(inst: Instance, s: Schedule) -> tuple[list[int], list[bool], list[list[int]]]:
    """A schedule as accelerator indices, residency flags and per-accelerator orders."""
    dec = Decision.from_schedule(inst, s)
    return dec.x.tolist(), dec.r.tolist(), dec.orders


class TickModel:
    """The tick tables of one instance and what both exact models compute from them."""

    def __init__(self, inst: Instance, tables: CostTables) -> None:
        self.inst, self.tables = inst, tables
        self.td = tick_data(inst, tables)
        self.n, self.m = tables.num_layers, tables.num_accs
        self.host = inst.options.comm == "host"
        self.feas = [[a for a in range(self.m) if self.td.t[v][a] >= 0]
                     for v in range(self.n)]

    # -- build ---------------------------------------------------------------------------
    def durations_of(self, x: list[int], r: list[bool]) -> list[int]:
        """Tick busy times for a given mapping (same terms as the model's L_v)."""
        td, wl = self.td, self.inst.workload
        out = []
        for v in range(self.n):
            a = x[v]
            d = td.t[v][a] + (0 if r[v] else td.wl[v][a])
            if self.host:
                d += td.src_read[v][a]
                d += sum(td.read[k][a] for k in wl.in_edges[v]
                         if x[int(self.tables.edge_src[k])] != a)
                if not wl.succs[v] or any(x[w] != a for w in wl.succs[v]):
                    d += td.write[v][a]
            out.append(d)
        return out

    def tick_times(self, x: list[int], r: list[bool], orders: list[list[int]]
                   ) -> tuple[list[int], list[float], list[float]]:
        """Busy times, ASAP starts and finishes in ticks, with the model's durations."""
        tab = self.tables
        busy = self.durations_of(x, r)
        src, dst = tab.edge_src.tolist(), tab.edge_dst.tolist()
        delay = [float(self.td.delay[k, x[u], x[v]]) if not self.host else 0.0
                 for k, (u, v) in enumerate(zip(src, dst, strict=True))]
        start, finish = Retimer(tab, self.inst.workload.in_edges).run(
            [float(b) for b in busy], delay, prev_from_orders(self.n, orders).tolist())
        return busy, start, finish

    def rounding_slack(self) -> float:
        """Most the rounded makespan of any schedule can exceed its true makespan:
        each rounded term adds < 1 tick, and a chain of the combined graph holds at
        most every layer once, each with compute, weight, source read, write and its
        reads (host) or compute, weight and one incoming delay (p2p)."""
        wl = self.inst.workload
        per_layer = [4 + len(wl.in_edges[v]) if self.host else 3 for v in range(self.n)]
        return float(sum(per_layer)) * self.td.tick

    def horizon(self, hint_makespan: int | None) -> int:
        td = self.td
        if hint_makespan is not None:
            return hint_makespan
        total = 0
        for v in range(self.n):
            best = 0
            for a in range(self.m):
                if td.t[v][a] < 0:
                    continue
                d = td.t[v][a] + td.wl[v][a]
                if self.host:
                    d += td.src_read[v][a] + td.write[v][a] + sum(
                        td.read[k][a] for k in self.inst.workload.in_edges[v])
                best = max(best, d)
            total += best
        if not self.host and len(td.delay):
            total += int(td.delay.max(axis=(1, 2)).sum())
        return max(total, 1)

    def schedule(self, x: list[int], r: list[bool], orders: list[list[int]],
                 solver: str) -> Schedule:
        """A solver's decisions as a schedule, re-timed ASAP in seconds by the evaluator's
        own ``asap`` (rounding to ticks only ever lengthened the solver's durations)."""
        wl, ids = self.inst.workload, self.inst.system.ids
        return asap(self.inst, {wl.layers[v].id: ids[x[v]] for v in range(self.n)},
                    {wl.layers[v].id: r[v] for v in range(self.n)},
                    {ids[a]: tuple(wl.layers[v].id for v in o) for a, o in enumerate(orders)},
                    tables=self.tables, meta={"solver": solver})

    def plan_horizon(self, plan: tuple[list[int], list[bool], list[list[int]]] | None
                     ) -> int:
        """The horizon for a solve warm-started from ``plan``: the plan's makespan with
        nothing resident (an upper bound on the optimal makespan) when the objective
        involves latency; a min-energy schedule may be longer, so then the serial one."""
        hint_ms = None
        if plan is not None and self.inst.options.objective != "energy":
            x, _, orders = plan
            hint_ms = int(max(self.tick_times(x, [False] * self.n, orders)[2]))
        return self.horizon(hint_ms)

    def busy_range_on(self, v: int, a: int) -> tuple[int, int]:
        """Least and most busy ticks of ``v`` if it runs on ``a`` (E2-E4 / E6): the
        least counts only the terms no choice can avoid (weights that cannot be
        resident, reads from producers that cannot run on ``a``, forced writes)."""
        td, tab, wl = self.td, self.tables, self.inst.workload
        base = td.t[v][a]
        fits = 0 < tab.weight_bytes[v] <= tab.capacity[a]
        lo = base + (0 if fits else td.wl[v][a])
        hi = base + td.wl[v][a]
        if self.host:
            lo += td.src_read[v][a]
            hi += td.src_read[v][a]
            for k in wl.in_edges[v]:
                hi += td.read[k][a]
                if td.t[int(tab.edge_src[k])][a] < 0:
                    lo += td.read[k][a]
            hi += td.write[v][a]
            if not wl.succs[v] or any(td.t[w][a] < 0 for w in wl.succs[v]):
                lo += td.write[v][a]
        return lo, hi

    def heads_tails(self) -> tuple[list[int], list[int], list[int]]:
        """Least busy time of every layer, its head (earliest start: longest chain of
        least busy times before it) and tail (least time from its end to the
        makespan), all in ticks; transfer delays of p2p are left out (they may be 0)."""
        wl = self.inst.workload
        least = [min(self.busy_range_on(v, a)[0] for a in self.feas[v])
                 for v in range(self.n)]
        head = [0] * self.n
        for v in wl.topo:
            for u in wl.preds[v]:
                head[v] = max(head[v], head[u] + least[u])
        tail = [0] * self.n
        for v in reversed(wl.topo):
            for w in wl.succs[v]:
                tail[v] = max(tail[v], least[w] + tail[w])
        return least, head, tail


def tick_makespan(inst: Instance, s: Schedule) -> int:
    """The makespan of a schedule's decisions re-timed ASAP in whole ticks (SPEC §6).

    Every busy time and delay of the schedule's mapping, residency and orders is rounded
    up to ticks of ``inst.options.tick_s`` as the exact models do; the result is the unit
    in which CP-SAT and the MILP state and prove their optima, so two schedules proven
    optimal by either have the same ``tick_makespan``.

    Parameters
    ----------
    inst
        The instance.
    s
        A schedule of ``inst`` (only its decisions are used; its times are not).

    Returns
    -------
    int
        The makespan in ticks (0 for an empty workload).
    """
    from ...cost import compile_tables

    model = TickModel(inst, compile_tables(inst))
    return int(max(model.tick_times(*hint_plan(inst, s))[2], default=0))
