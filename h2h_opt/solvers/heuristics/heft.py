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

import time

import numpy as np

from ...comm import CommModel
from ...cost import compile_tables
from ...model import Instance
from ...result import SolveResult, SolveStatus, Termination
from ...schedule import Decision, Schedule
from ...timing import Timeline, Timer
from ..base import BaseSolver, SolveParams


def upward_ranks(inst: Instance, comm: CommModel) -> np.ndarray:
    """``rank(v) = w̄(v) + max_{(v,w)} (c̄(v,w) + rank(w))`` with the comm model's mean
    busy time and mean transfer cost (SPEC §7.3)."""
    wl = inst.workload
    wbar = comm.mean_busy()
    cbar = [comm.mean_transfer(k) for k in range(len(wl.edges))]
    dst = comm.dst
    rank = np.zeros(comm.n)
    for v in reversed(wl.topo):
        best = 0.0
        for k in wl.out_edges[v]:
            best = max(best, cbar[k] + rank[dst[k]])
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
        comm = CommModel(inst, tables)
        rank = upward_ranks(inst, comm)
        topo_pos = np.empty(n, dtype=np.int64)
        topo_pos[list(wl.topo)] = np.arange(n)
        order = sorted(range(n), key=lambda v: (-rank[v], topo_pos[v]))
        feasible = comm.feasible.tolist()
        src = comm.src
        x = [-1] * n
        finish = [0.0] * n
        busy = Timeline(m)
        for v in order:
            best = None
            for a in range(m):
                if not feasible[v][a]:
                    continue
                dur, delays = comm.placement(v, a, x)
                ready = 0.0
                for k, c in zip(wl.in_edges[v], delays, strict=True):
                    ready = max(ready, finish[src[k]] + c)
                s = busy.earliest(a, ready, dur)
                if best is None or s + dur < best[0]:
                    best = (s + dur, a, s)
            assert best is not None  # every layer runs somewhere (validated)
            f, a, s = best
            x[v], finish[v] = a, f
            busy.place(a, v, s, f)
        plan = Decision(np.array(x, dtype=np.int64), np.zeros(n, dtype=bool), busy.slots)
        sched, timing = Timer(inst, tables).schedule(plan, None, solver=self.name)
        return SolveResult(
            inst.name, self.name, SolveStatus.FEASIBLE, Termination.COMPLETED, sched,
            objective=timing.makespan if inst.options.objective == "latency" else None,
            time_s=time.perf_counter() - t0,
        )
