"""HEFT (Topcuoglu, Hariri, Wu, IEEE TPDS 2002), the classic list scheduler (SPEC §7.3).

Upward rank ``rank(v) = w̄(v) + max_{w ∈ succ(v)} (c̄(v,w) + rank(w))`` with ``w̄``
the mean cost over the accelerators that run ``v`` and ``c̄`` the mean transfer
cost over distinct accelerator pairs; layers are placed in decreasing rank on the
accelerator giving the earliest finish, using insertion into idle gaps.

* ``p2p``: ``w̄ = mean(t + W/B)``, ``c̄ = mean(λ + d/bw)``; ready time adds the E7
  delay from predecessors on other accelerators.
* ``host``: transfers sit inside the busy time (E2-E4).  Placing ``v`` on ``a``
  charges the weight load, the reads of data from predecessors on other
  accelerators (or ``I_v`` for a source) and the write of ``O_v`` (successors are
  not placed yet, so the write is assumed); ``c̄(u,v) = d_uv·mean(1/B_a + 1/B_b)``.

The final schedule keeps HEFT's mapping and per-accelerator order and is re-timed
ASAP under the instance's own locality rule, so what HEFT assumed about local
data is never trusted.  No weight is resident (textbook HEFT knows no residency).
"""

from __future__ import annotations

import bisect
import time

import numpy as np

from ..cost import CostTables, compile_tables
from ..model import Instance
from ..result import SolveResult, SolveStatus, Termination
from ..schedule import Schedule
from ._heuristic import H2HEngine, Plan, plan_to_schedule
from .base import BaseSolver, SolveParams


def upward_ranks(inst: Instance) -> np.ndarray:
    tables = compile_tables(inst)
    return _ranks(inst, tables)


def _ranks(inst: Instance, tables: CostTables) -> np.ndarray:
    wl = inst.workload
    n, m = tables.num_layers, tables.num_accs
    feas = np.isfinite(tables.t)
    inv_b = 1.0 / tables.host_bw
    base = np.where(feas, tables.t + tables.weight_bytes[:, None] * inv_b[None, :], np.nan)
    if inst.options.comm == "host":
        has_pred = np.bincount(tables.edge_dst, minlength=n) > 0
        has_succ = np.bincount(tables.edge_src, minlength=n) > 0
        extra = np.where(has_pred, 0.0, tables.input_bytes) + np.where(has_succ, 0.0,
                                                                       tables.output_bytes)
        base = base + extra[:, None] * inv_b[None, :]
    wbar = np.nanmean(base, axis=1)
    cbar = np.zeros(len(tables.edge_src))
    if m > 1:
        for k, (u, v) in enumerate(zip(tables.edge_src.tolist(), tables.edge_dst.tolist(),
                                       strict=True)):
            pa, pb = np.flatnonzero(feas[u]), np.flatnonzero(feas[v])
            pairs = [(a, b) for a in pa for b in pb if a != b]
            if not pairs:
                continue
            d = tables.edge_bytes[k]
            if inst.options.comm == "host":
                vals = [d * (inv_b[a] + inv_b[b]) for a, b in pairs]
            else:
                vals = [tables.link_latency[a, b] + d / tables.link_bw[a, b] for a, b in pairs]
            cbar[k] = float(np.mean(vals))
    rank = np.zeros(n)
    for v in reversed(wl.topo):
        best = 0.0
        for k in wl.out_edges[v]:
            best = max(best, cbar[k] + rank[tables.edge_dst[k]])
        rank[v] = wbar[v] + best
    return rank


class HeftSolver(BaseSolver):
    name = "heft"

    def solve(self, inst: Instance, params: SolveParams,
              initial: Schedule | None = None) -> SolveResult:
        t0 = time.perf_counter()
        tables = compile_tables(inst)
        wl = inst.workload
        n, m = tables.num_layers, tables.num_accs
        rank = _ranks(inst, tables)
        topo_pos = np.empty(n, dtype=np.int64)
        topo_pos[list(wl.topo)] = np.arange(n)
        order = sorted(range(n), key=lambda v: (-rank[v], topo_pos[v]))
        host = inst.options.comm == "host"
        t = tables.t.tolist()
        inv_b = (1.0 / tables.host_bw).tolist()
        wload = tables.weight_bytes.tolist()
        out_b = tables.output_bytes.tolist()
        in_b = tables.input_bytes.tolist()
        ebytes = tables.edge_bytes.tolist()
        src = tables.edge_src.tolist()
        lat, lbw = tables.link_latency, tables.link_bw
        x = [-1] * n
        finish = [0.0] * n
        starts: list[list[float]] = [[] for _ in range(m)]   # sorted interval starts per acc
        ends: list[list[float]] = [[] for _ in range(m)]
        slots: list[list[int]] = [[] for _ in range(m)]      # layer per interval
        for v in order:
            best = None
            for a in range(m):
                if t[v][a] == float("inf"):
                    continue
                ready = 0.0
                dur = t[v][a] + wload[v] * inv_b[a]
                if host:
                    if not wl.in_edges[v]:
                        dur += in_b[v] * inv_b[a]
                    for k in wl.in_edges[v]:
                        u = src[k]
                        ready = max(ready, finish[u])
                        if x[u] != a:
                            dur += ebytes[k] * inv_b[a]
                    dur += out_b[v] * inv_b[a]
                else:
                    for k in wl.in_edges[v]:
                        u = src[k]
                        c = 0.0 if x[u] == a else lat[x[u], a] + ebytes[k] / lbw[x[u], a]
                        ready = max(ready, finish[u] + c)
                s = _earliest_gap(starts[a], ends[a], ready, dur)
                if best is None or s + dur < best[0]:
                    best = (s + dur, a, s)
            assert best is not None  # every layer runs somewhere (validated)
            f, a, s = best
            x[v], finish[v] = a, f
            i = bisect.bisect_left(starts[a], s)
            starts[a].insert(i, s)
            ends[a].insert(i, f)
            slots[a].insert(i, v)
        plan = Plan(np.array(x, dtype=np.int64), np.zeros(n, dtype=bool), slots)
        timing = H2HEngine(inst, tables).timing(plan, inst.options.locality)
        sched = plan_to_schedule(inst, plan, timing.start, None, solver=self.name)
        return SolveResult(
            inst.name, self.name, SolveStatus.FEASIBLE, Termination.COMPLETED, sched,
            objective=timing.makespan if inst.options.objective == "latency" else None,
            time_s=time.perf_counter() - t0,
        )


def _earliest_gap(starts: list[float], ends: list[float], ready: float, dur: float) -> float:
    """Earliest start >= ready of an idle gap of length dur (insertion policy)."""
    i = bisect.bisect_right(ends, ready)  # intervals ending after `ready` start at index i
    s = ready
    while i < len(starts):
        if s + dur <= starts[i]:
            return s
        s = max(s, ends[i])
        i += 1
    return s
