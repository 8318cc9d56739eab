"""What ``h2h info`` shows: the sizes and totals of an instance, and what is bundled
(workloads, systems, accelerator templates, bandwidths, suites)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from ..cost import compile_tables
from ..model import Instance

__all__ = ["bundled_info", "instance_info"]


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def instance_info(inst: Instance) -> dict[str, Any]:
    """Sizes and totals of an instance.

    ``total_min_compute_s`` is :math:`\\sum_v \\min_a t_{v,a}`, every layer at its
    fastest accelerator; ``total_activation_bytes`` sums the edges' bytes and the sensor
    inputs of the layers without a predecessor; unlimited bandwidths and capacities are
    ``None``; ``model_info``: each model's frame rate and trigger, where the instance
    records them.
    """
    tab = compile_tables(inst)
    wl = inst.workload
    has_pred = np.bincount(tab.edge_dst, minlength=wl.num_layers) > 0
    min_t = np.min(tab.t, axis=1)
    accs = []
    for a, acc in enumerate(inst.system.accelerators):
        accs.append({
            "id": acc.id, "ops": sorted(acc.ops), "cost_model": acc.cost_model["kind"],
            "power_w": acc.power_w, "host_bandwidth_bps": _finite(acc.host_bandwidth_bps),
            "weight_capacity_bytes": _finite(acc.weight_capacity_bytes),
            "runnable_layers": int(np.isfinite(tab.t[:, a]).sum()),
        })
        if acc.cost_model["kind"] == "dataflow":
            accs[-1]["dataflow"] = acc.cost_model.get("dataflow")
            accs[-1]["pes"] = acc.cost_model.get("pes")
    return {
        "name": inst.name,
        "layers": wl.num_layers,
        "edges": len(wl.edges),
        "models": {m: sum(1 for layer in wl.layers if layer.model == m) for m in wl.models},
        "ops": dict(Counter(layer.op for layer in wl.layers)),
        "model_info": {m: {"fps": i.fps, "after": i.after, "probability": i.probability}
                       for m, i in wl.model_info.items()},
        "accelerators": accs,
        "options": {"comm": inst.options.comm, "locality": inst.options.locality,
                    "objective": inst.options.objective,
                    "element_bytes": inst.options.element_bytes, "tick_s": inst.options.tick_s},
        "total_macs": float(tab.macs.sum()),
        "total_min_compute_s": float(min_t.sum()),
        "total_weight_bytes": float(tab.weight_bytes.sum()),
        "total_activation_bytes": float(tab.edge_bytes.sum()
                                        + tab.input_bytes[~has_pred].sum()),
    }


def bundled_info() -> dict[str, Any]:
    """The bundled MMMT workloads (layers, models, source), dataflow systems (their
    accelerators), accelerator templates, host bandwidths [GB/s] and suites
    (name -> description)."""
    from .suites import SUITES
    from .zoo import ACCELERATORS, BANDWIDTHS_GBPS, SYSTEMS, WORKLOADS, mmmt_workload

    workloads = {}
    for name, (_, source) in WORKLOADS.items():
        wl = mmmt_workload(name)
        workloads[name] = {"layers": len(wl.layers),
                           "models": sorted({layer.model for layer in wl.layers}),
                           "source": source}
    return {"workloads": workloads,
            "systems": {name: list(members) for name, members in SYSTEMS.items()},
            "accelerators": ACCELERATORS, "bandwidths_gbps": list(BANDWIDTHS_GBPS),
            "suites": {k: v.description for k, v in SUITES.items()}}
