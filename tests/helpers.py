"""Tiny hand-checkable instances shared by the tests."""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

from h2h_opt.cost import compile_tables
from h2h_opt.evaluate import evaluate
from h2h_opt.model import Accelerator, Edge, Instance, Layer, Links, Options, System, Workload
from h2h_opt.timing import asap

#: the repository root and the tests' data folder (``tests/data``), from any test folder
ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"


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


def brute_force(inst):
    """Best objective over every mapping, feasible residency and DAG-consistent order."""
    wl, accs = inst.workload, inst.system.ids
    ids = [layer.id for layer in wl.layers]
    tab = compile_tables(inst)
    topo_orders = [
        p for p in itertools.permutations(range(len(ids)))
        if all(p.index(u) < p.index(v) for v in range(len(ids)) for u in wl.preds[v])
    ]
    best = None
    for xs in itertools.product(range(len(accs)), repeat=len(ids)):
        if any(tab.t[v, a] == float("inf") for v, a in enumerate(xs)):
            continue
        for rs in itertools.product([False, True], repeat=len(ids)):
            used = [sum(tab.weight_bytes[v] for v in range(len(ids)) if rs[v] and xs[v] == a)
                    for a in range(len(accs))]
            if any(used[a] > tab.capacity[a] for a in range(len(accs))):
                continue
            for p in topo_orders:
                orders = {accs[a]: tuple(ids[v] for v in p if xs[v] == a)
                          for a in range(len(accs))}
                s = asap(inst, {ids[v]: accs[xs[v]] for v in range(len(ids))},
                         {ids[v]: rs[v] for v in range(len(ids))}, orders, tables=tab)
                obj = evaluate(inst, s, tab).objective
                if best is None or obj < best:
                    best = obj
    return best


def fork_instance(**options):
    layers = {"A": {"W": 20.0, "O": 10.0, "I": 30.0}, "B": {"W": 10.0, "O": 5.0},
              "C": {"W": 6.0, "O": 4.0}, "D": {"W": 2.0, "O": 1.0}}
    edges = [("A", "B", 10.0), ("A", "C", 8.0), ("B", "D", 5.0), ("C", "D", 4.0)]
    accs = {"a0": {"B": 10.0, "eps": 0.1, "P": 1.0, "cap": 22.0},
            "a1": {"B": 5.0, "eps": 0.2, "P": 2.0, "cap": 10.0}}
    times = {"a0": {"A": 1.0, "B": 3.0, "C": 2.0, "D": 1.0},
             "a1": {"A": 2.0, "B": 1.0, "C": 2.0, "D": 0.5}}
    links = None
    if options.get("comm") == "p2p":
        links = Links(((float("inf"), 4.0), (2.0, float("inf"))), ((0.0, 0.5), (0.25, 0.0)),
                      ((0.0, 0.3), (0.7, 0.0)))
    return table_instance(layers, edges, accs, times, links=links, **options)


def delay_instance(times: dict[str, dict[str, float]], edges: list[tuple[str, str, float]],
                   **options: Any) -> Instance:
    """p2p instance whose edge weights are the delays in seconds (``bw = 1``, ``λ = 0``,
    SPEC E7); no weights, no energy.  Each layer has its own op, so ``times`` alone
    says which accelerators run it (acc -> {layer: seconds})."""
    lids = list(dict.fromkeys(lid for row in times.values() for lid in row))
    layers = {lid: {"op": lid.lower()} for lid in lids}
    accs: dict[str, dict[str, Any]] = {aid: {} for aid in times}
    links = Links.uniform(len(accs), bandwidth_bps=1.0)
    return table_instance(layers, edges, accs, times, links=links, comm="p2p", **options)


def same_json_file(a: Path, b: Path, rel: float = 1e-12) -> bool:
    """Whether two JSON files hold the same data in the same order, floats equal within
    ``rel``: numpy's vectorised ``exp`` and ``power`` may round the last bit differently on
    another processor (SIMD kernels chosen at run time), so a regenerated instance set
    matches a committed one to the bit only on a machine like the one that wrote it."""
    import json

    def same(x: Any, y: Any) -> bool:
        if isinstance(x, float) or isinstance(y, float):
            return isinstance(x, float) and isinstance(y, float) \
                and math.isclose(x, y, rel_tol=rel, abs_tol=0.0)
        if isinstance(x, dict):  # (the keys in the same order: the writer's format)
            return isinstance(y, dict) and list(x) == list(y) \
                and all(same(x[k], y[k]) for k in x)
        if isinstance(x, list):
            return isinstance(y, list) and len(x) == len(y) \
                and all(same(p, q) for p, q in zip(x, y, strict=True))
        return type(x) is type(y) and x == y

    return same(json.loads(a.read_text()), json.loads(b.read_text()))
