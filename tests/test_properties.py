"""Property tests: any mapping + order that respects the DAG gives an ASAP schedule
the evaluator accepts, never shorter than simple lower bounds."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import table_instance
from hypothesis import given, settings
from hypothesis import strategies as st

from h2h_opt.cost import compile_tables
from h2h_opt.evaluate import evaluate
from h2h_opt.model import Links
from h2h_opt.timing import asap


@st.composite
def instances_and_decisions(draw):
    n = draw(st.integers(2, 8))
    m = draw(st.integers(1, 3))
    comm = draw(st.sampled_from(["host", "p2p"]))
    locality = draw(st.sampled_from(["same_accelerator", "adjacent"]))
    layers = {f"v{i}": {"W": draw(st.integers(0, 50)), "O": draw(st.integers(0, 20)),
                        "I": draw(st.integers(0, 20))} for i in range(n)}
    edges = [(f"v{i}", f"v{j}", float(draw(st.integers(0, 30))))
             for j in range(n) for i in range(j) if draw(st.booleans())]
    accs = {f"a{k}": {"B": float(draw(st.integers(1, 10))), "eps": 0.01, "P": 1.0,
                      "cap": float(draw(st.integers(0, 100)))} for k in range(m)}
    times = {a: {v: float(draw(st.integers(1, 9))) for v in layers} for a in accs}
    links = None
    if comm == "p2p":
        links = Links.uniform(m, float(draw(st.integers(1, 5))), 0.5, 0.1)
    inst = table_instance(layers, edges, accs, times, links=links, comm=comm, locality=locality)
    mapping = {v: f"a{draw(st.integers(0, m - 1))}" for v in layers}
    # orders: a random topological order restricted per accelerator
    prio = {v: draw(st.floats(0, 1)) for v in layers}
    topo = sorted(layers, key=lambda v: int(v[1:]))  # ids are topologically numbered
    topo = sorted(topo, key=lambda v: (max([0] + [1 for u, w, _ in edges if w == v]), 0))
    order_all = _random_topo(layers, edges, prio)
    orders = {a: tuple(v for v in order_all if mapping[v] == a) for a in accs}
    tab = compile_tables(inst)
    resident = {}
    used = dict.fromkeys(accs, 0.0)
    for i, v in enumerate(layers):
        a = mapping[v]
        if draw(st.booleans()) and used[a] + tab.weight_bytes[i] <= accs[a]["cap"]:
            resident[v] = True
            used[a] += tab.weight_bytes[i]
    return inst, mapping, resident, orders


def _random_topo(layers, edges, prio):
    indeg = {v: 0 for v in layers}
    for _, w, _ in edges:
        indeg[w] += 1
    ready = [v for v in layers if indeg[v] == 0]
    out = []
    while ready:
        ready.sort(key=lambda v: prio[v])
        v = ready.pop(0)
        out.append(v)
        for u, w, _ in edges:
            if u == v:
                indeg[w] -= 1
                if indeg[w] == 0:
                    ready.append(w)
    return out


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(instances_and_decisions())
def test_asap_is_feasible_and_respects_lower_bounds(data):
    inst, mapping, resident, orders = data
    s = asap(inst, mapping, resident, orders)
    ev = evaluate(inst, s)
    assert ev.feasible, ev.violations
    tab = compile_tables(inst)
    # no schedule beats the critical path of pure compute times or the average load
    min_t = tab.t.min(axis=1)
    assert ev.latency >= min_t.sum() / inst.num_accs - 1e-9
    longest = np.zeros(inst.num_layers)
    for v in inst.workload.topo:
        longest[v] = min_t[v] + max((longest[u] for u in inst.workload.preds[v]), default=0.0)
    assert ev.latency >= longest.max() - 1e-9
    # shifting one layer earlier than ASAP must break something (ASAP is tight)
    v = max(range(inst.num_layers), key=lambda i: ev.start[i])
    lid = inst.workload.layers[v].id
    if ev.start[v] > 1e-6:
        early = dict(s.start)
        early[lid] = ev.start[v] - 1e-3 * max(1.0, ev.start[v])
        from h2h_opt.schedule import Schedule

        bad = Schedule(s.instance, s.mapping, early, s.orders, s.residency, s.locality)
        assert not evaluate(inst, bad).feasible
    assert math.isfinite(ev.energy) and ev.energy >= 0
