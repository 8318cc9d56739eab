"""Tiny hand-checkable instances shared by the tests."""

from __future__ import annotations

import math
from typing import Any

from h2h_opt.model import Accelerator, Edge, Instance, Layer, Links, Options, System, Workload


def table_instance(
    layers: dict[str, dict[str, Any]],
    edges: list[tuple[str, str, float | None]],
    accs: dict[str, dict[str, Any]],
    times: dict[str, dict[str, float]],
    *,
    energies: dict[str, dict[str, float]] | None = None,
    links: Links | None = None,
    name: str = "tiny",
    **options: Any,
) -> Instance:
    """Build a table-cost instance.

    ``layers``: id -> {"W": weight bytes, "O": output bytes, "I": input bytes, "op": ...};
    ``accs``: id -> {"B": host bandwidth, "eps": J/byte, "P": W, "cap": bytes};
    ``times``: acc -> {layer: seconds} (a layer absent there cannot run on that acc).
    """
    layer_objs = tuple(
        Layer(id=lid, op=d.get("op", "x"), model=d.get("model", "m"),
              weight_bytes=d.get("W", 0.0), output_bytes=d.get("O", 0.0),
              input_bytes=d.get("I", 0.0))
        for lid, d in layers.items()
    )
    edge_objs = tuple(Edge(u, v, b) for u, v, b in edges)
    acc_objs = []
    for aid, d in accs.items():
        cm: dict[str, Any] = {"kind": "table", "time_s": times[aid]}
        if energies and aid in energies:
            cm["energy_j"] = energies[aid]
        ops = {layers[lid].get("op", "x") for lid in times[aid]} or {"none"}
        acc_objs.append(Accelerator(
            id=aid, ops=frozenset(ops), cost_model=cm, power_w=d.get("P", 0.0),
            weight_capacity_bytes=d.get("cap", math.inf),
            host_bandwidth_bps=d.get("B", math.inf), link_energy_jpb=d.get("eps", 0.0)))
    return Instance(name, Workload(layer_objs, edge_objs), System(tuple(acc_objs), links),
                    Options(**options))


def chain_instance(n: int = 3, **options: Any) -> Instance:
    """n-layer chain on two accelerators with simple numbers."""
    layers = {f"L{i}": {"W": 10.0 * i, "O": 4.0, "I": 8.0 if i == 1 else 0.0}
              for i in range(1, n + 1)}
    edges = [(f"L{i}", f"L{i + 1}", None) for i in range(1, n)]
    accs = {"a0": {"B": 2.0, "eps": 0.5, "P": 1.0}, "a1": {"B": 4.0, "eps": 0.25, "P": 3.0}}
    times = {"a0": {lid: 1.0 for lid in layers}, "a1": {lid: 0.5 for lid in layers}}
    return table_instance(layers, edges, accs, times, **options)
