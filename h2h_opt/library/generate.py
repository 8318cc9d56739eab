"""Seeded instance generators.

:func:`random_layered` builds layered random DAGs — one per model, as in a
multi-model workload — on heterogeneous accelerators with ``table`` costs.  All
randomness comes from ``numpy.random.default_rng(seed)``: the same parameters and
seed give the same instance.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..model import Accelerator, Edge, Instance, Layer, Links, Options, System, Workload

__all__ = ["MAX_CCR", "MAX_HETEROGENEITY", "agreement_instance", "random_layered"]

#: Upper limits of ``ccr`` and ``heterogeneity``: beyond them bandwidths and speed
#: factors leave the floating-point range (a log-normal sigma of 4 already spreads
#: speeds by e^±12 at three sigmas).
MAX_CCR, MAX_HETEROGENEITY = 1e6, 4.0


def random_layered(
    num_layers: int = 50,
    num_accs: int = 4,
    *,
    num_models: int = 2,
    width: int | None = None,
    edge_density: float = 0.2,
    ccr: float = 1.0,
    heterogeneity: float = 0.5,
    ops: tuple[str, ...] = ("op0", "op1", "op2"),
    op_coverage: float = 0.75,
    capacity_fraction: float = 0.5,
    comm: str = "host",
    locality: str = "same_accelerator",
    objective: str = "latency",
    seed: int = 0,
) -> Instance:
    """A random layered multi-model DAG on heterogeneous accelerators.

    Parameters
    ----------
    num_layers, num_accs, num_models:
        Sizes; layers are split evenly over independent models (backbones).
    width:
        Mean layers per level (default ``√(layers per model)``).
    edge_density:
        Probability of each extra edge from the two previous levels (every
        non-first-level layer has at least one predecessor in the level above).
    ccr:
        Communication-to-computation ratio: mean edge transfer time over the host
        link (``d/B``) divided by mean compute time.  Sets the bandwidths; 0 gives
        unlimited bandwidth (no transfer time).  At most ``MAX_CCR``.
    heterogeneity:
        Spread of per-(op, accelerator) speed factors (log-normal sigma) and of
        bandwidths; 0 gives identical accelerators.  At most ``MAX_HETEROGENEITY``.
    op_coverage:
        Probability that an accelerator runs a given op (each op has at least one).
    capacity_fraction:
        Each accelerator's weight memory as a fraction of total weights / accs.
    """
    for key, val in (("num_layers", num_layers), ("num_accs", num_accs),
                     ("num_models", num_models), ("width", 1 if width is None else width)):
        if isinstance(val, bool) or not isinstance(val, int) or val < 1:
            raise ValueError(f"{key} must be a positive integer, got {val!r}")
    for key, x, lo, hi in (("edge_density", edge_density, 0.0, 1.0), ("ccr", ccr, 0.0, MAX_CCR),
                           ("heterogeneity", heterogeneity, 0.0, MAX_HETEROGENEITY),
                           ("op_coverage", op_coverage, 0.0, 1.0),
                           ("capacity_fraction", capacity_fraction, 0.0, math.inf)):
        if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x) \
                or not lo <= x <= hi:
            raise ValueError(f"{key} must be a finite number in [{lo:g}, {hi:g}], got {x!r}")
    rng = np.random.default_rng(seed)
    num_models = min(num_models, num_layers)
    sizes = [num_layers // num_models + (1 if i < num_layers % num_models else 0)
             for i in range(num_models)]
    layers: list[Layer] = []
    edges: list[Edge] = []
    base_t: list[float] = []
    op_idx: list[int] = []
    gid = 0
    for mi, size in enumerate(sizes):
        w = width or max(1, round(math.sqrt(size)))
        levels: list[list[int]] = []
        left = size
        while left > 0:
            k = min(left, max(1, int(rng.integers(1, 2 * w + 1))))
            levels.append(list(range(gid, gid + k)))
            gid += k
            left -= k
        for li, level in enumerate(levels):
            for v in level:
                o = int(rng.integers(len(ops)))
                op_idx.append(o)
                base_t.append(float(rng.uniform(1.0, 10.0)) * 1e-3)
                layers.append(Layer(
                    id=f"M{mi + 1}L{v + 1:05d}", op=ops[o], model=f"M{mi + 1}",
                    weight_bytes=float(rng.uniform(0.0, 2.0e6)),
                    output_bytes=float(rng.uniform(0.1e6, 1.0e6)),
                    input_bytes=float(rng.uniform(0.1e6, 1.0e6)) if li == 0 else None,
                ))
                if li == 0:
                    continue
                preds = {int(rng.choice(levels[li - 1]))}
                for back in (1, 2):
                    if li - back < 0:
                        continue
                    for u in levels[li - back]:
                        if rng.random() < edge_density / max(1, len(levels[li - back])) * 2:
                            preds.add(u)
                for u in sorted(preds):
                    edges.append(Edge(layers[u].id, layers[v].id))
    speed = np.exp(rng.normal(0.0, heterogeneity, size=(len(ops), num_accs)))
    runs = rng.random((len(ops), num_accs)) < op_coverage
    for o in range(len(ops)):
        if not runs[o].any():
            runs[o, int(rng.integers(num_accs))] = True
    for a in range(num_accs):  # every accelerator runs at least one op
        if not runs[:, a].any():
            runs[int(rng.integers(len(ops))), a] = True
    mean_t = float(np.mean(base_t))
    mean_d = float(np.mean([lay.output_bytes or 0.0 for lay in layers]))
    bw = mean_d / (ccr * mean_t) if ccr > 0 else math.inf
    accs = []
    total_w = sum(lay.weight_bytes or 0.0 for lay in layers)
    for a in range(num_accs):
        b_a = bw * float(np.exp(rng.normal(0.0, heterogeneity / 2))) if math.isfinite(bw) \
            else math.inf
        power = float(rng.uniform(1.0, 5.0))
        acc_ops = {ops[o] for o in range(len(ops)) if runs[o, a]}
        times: dict[str, Any] = {}
        for v, lay in enumerate(layers):
            if runs[op_idx[v], a]:
                jitter = float(rng.uniform(0.8, 1.2))
                times[lay.id] = base_t[v] * float(speed[op_idx[v], a]) * jitter
        accs.append(Accelerator(
            id=f"acc{a}", ops=frozenset(acc_ops),
            cost_model={"kind": "table", "time_s": times}, power_w=power,
            weight_capacity_bytes=capacity_fraction * total_w / num_accs,
            host_bandwidth_bps=b_a,
            link_energy_jpb=power / b_a if math.isfinite(b_a) else 0.0,
        ))
    links = None
    if comm == "p2p":
        links = Links.uniform(num_accs, bw, 1e-5, 1e-10)
    name = f"random-n{num_layers}-a{num_accs}-{comm}-s{seed}"
    return Instance(name, Workload(tuple(layers), tuple(edges)), System(tuple(accs), links),
                    Options(comm=comm, locality=locality, objective=objective))


def agreement_instance(i: int) -> Instance:
    """Instance ``i`` of the exact-model agreement set (MILP vs CP-SAT): 8-14 layers on
    3 accelerators; sizes cycle through 8..14, comm alternates host/p2p and the
    objective latency/energy in pairs, so all four combinations appear; seed ``i``."""
    return random_layered(8 + i % 7, 3, num_models=1 + i % 2,
                          comm="host" if i % 2 == 0 else "p2p",
                          objective="latency" if (i // 2) % 2 == 0 else "energy", seed=i)
