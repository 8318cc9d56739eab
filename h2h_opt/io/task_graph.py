"""Task graphs on identical processors (``P|prec,c_ij|Cmax``), shared by the STG and GXL
importers."""

from __future__ import annotations

import math

from ..model import Accelerator, Edge, Instance, Layer, Links, Options, System, Workload
from .files import InputError

__all__ = ["MAX_PROCS", "MAX_TASK_COST", "check_procs", "task_graph_instance"]

#: The largest task cost or edge delay a task-graph file (STG, GXL) may give, in its time
#: units (``tick_s = 1``).  Benchmark sets use costs below 1000; 10^9 per task keeps any
#: sum over a graph of up to a million tasks far inside the exact solvers' 64-bit ticks.
MAX_TASK_COST = 10**9
#: The most identical processors a task graph may be given (one cost table each).
MAX_PROCS = 1024


def check_procs(procs: int) -> None:
    """``procs`` must be an integer in ``1..MAX_PROCS`` (``--procs`` on the command line)."""
    if isinstance(procs, bool) or not isinstance(procs, int) or not 1 <= procs <= MAX_PROCS:
        raise InputError(f"--procs must be an integer in 1..{MAX_PROCS}, got {procs!r}")


def task_graph_instance(name: str, costs: dict[str, float],
                        edges: list[tuple[str, str, float]], procs: int) -> Instance:
    """A task graph on ``procs`` identical processors (``P|prec,c_ij|Cmax``): ``p2p``,
    every link of bandwidth 1 and latency 0 so an edge's data *is* its delay (E7);
    ``tick_s = 1`` (the graph's time unit)."""
    check_procs(procs)
    layers = tuple(Layer(id=t, op="task", model="graph") for t in costs)
    ed = tuple(Edge(u, v, float(d)) for u, v, d in edges)
    accs = tuple(Accelerator(id=f"P{p + 1}", ops=frozenset({"task"}),
                             cost_model={"kind": "table", "time_s": dict(costs)})
                 for p in range(procs))
    inf = math.inf
    bw = tuple(tuple(inf if a == b else 1.0 for b in range(procs)) for a in range(procs))
    zero = tuple(tuple(0.0 for _ in range(procs)) for _ in range(procs))
    return Instance(name, Workload(layers, ed), System(accs, Links(bw, zero, zero)),
                    Options(comm="p2p", tick_s=1.0))
