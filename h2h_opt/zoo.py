"""Named workloads and systems, built by code so that sizes are parameters.

For now: the reference example of SPEC §8 (three CNN backbones on one or two
tiled FPGA accelerators of the ``zhang_fpga15`` model, as in the H2H paper's
public reference code) and its presets.
"""

from __future__ import annotations

from .model import Accelerator, Edge, Instance, Layer, Options, System, Workload

__all__ = [
    "CNN_ACC_1",
    "CNN_ACC_2",
    "REFERENCE_BANDWIDTHS_GBPS",
    "reference_example",
    "reference_workload",
    "zhang_accelerator",
]

#: Bandwidth sweep of SPEC §8, decimal GB/s.
REFERENCE_BANDWIDTHS_GBPS = (0.125, 0.5, 1.25, 5.0, 12.5)

#: SPEC §2.2 / §8 constants of the two reference accelerators.
CNN_ACC_1 = {"Tm": 64, "Tn": 7, "Tr": 13, "Tc": 13, "Tr_in": 13, "Tc_in": 13,
             "Th_gops": 61.62, "f_mhz": 100, "port_bits": 512, "bits": 32, "power_w": 18.61}
CNN_ACC_2 = {"Tm": 32, "Tn": 16, "Tr": 14, "Tc": 14, "Tr_in": 14, "Tc_in": 14,
             "Th_gops": 100.0, "f_mhz": 100, "port_bits": 512, "bits": 32, "power_w": 25.0}

_M1 = ([(64, 3, 112)] + [(64, 64, 112)] * 3 + [(64, 64, 56)] * 4 + [(128, 64, 28)]
       + [(128, 128, 28)] * 3 + [(256, 384, 14)] + [(256, 256, 14)] * 3 + [(512, 256, 7)]
       + [(512, 512, 7)] * 3)
_M2 = ([(64, 3, 112)] + [(64, 64, 112)] * 3 + [(64, 64, 56)] * 4 + [(128, 64, 28)]
       + [(128, 128, 28)] * 3)


def reference_workload(*, fused: bool = False, element_bytes: int = 4) -> Workload:
    """The three-backbone workload of SPEC §8 (44 conv layers, ``K=3, S=1, P=1``).

    Byte counts follow the reference rule: a source reads ``N·2R·2C·b`` bytes and an
    edge carries the consumer's whole input ``N_v·2R_v·2C_v·b``.  ``fused`` adds
    M2L12→M1L13 and M3L12→M1L13; then each edge into M1L13 carries its
    producer's 128 channels, ``128·2R·2C·b``.
    """
    b = element_bytes
    layers: list[Layer] = []
    edges: list[Edge] = []
    for model, shapes in (("M1", _M1), ("M2", _M2), ("M3", _M2)):
        for i, (m, n, r) in enumerate(shapes, start=1):
            lid = f"{model}L{i}"
            inp = n * 2 * r * 2 * r * b
            layers.append(Layer(
                id=lid, op="conv", model=model,
                shape={"M": m, "N": n, "R": r, "C": r, "K": 3, "S": 1, "P": 1},
                input_bytes=float(inp) if i == 1 else None,
            ))
            if i > 1:
                edge_bytes = inp
                if fused and lid == "M1L13":
                    edge_bytes = 128 * 2 * r * 2 * r * b
                edges.append(Edge(f"{model}L{i - 1}", lid, float(edge_bytes)))
    if fused:
        for model in ("M2", "M3"):
            edges.append(Edge(f"{model}L12", "M1L13", float(128 * 28 * 28 * b)))
    return Workload(tuple(layers), tuple(edges))


def zhang_accelerator(acc_id: str, preset: dict[str, float], bandwidth_gbps: float,
                      capacity_bytes: float = 0.5e9) -> Accelerator:
    """A ``zhang_fpga15`` accelerator with the reference energy rule ``ε_a = P_a / B_a``."""
    bw = bandwidth_gbps * 1e9
    params = {k: v for k, v in preset.items() if k != "power_w"}
    return Accelerator(
        id=acc_id, ops=frozenset({"conv", "fc"}), cost_model={"kind": "zhang_fpga15", **params},
        power_w=preset["power_w"], weight_capacity_bytes=capacity_bytes,
        host_bandwidth_bps=bw, link_energy_jpb=preset["power_w"] / bw,
    )


def reference_example(num_accs: int = 2, bandwidth_gbps: float = 1.25, *, fused: bool = False,
                      locality: str = "adjacent", objective: str = "latency") -> Instance:
    """The SPEC §8 reference instance: ``cnn_acc_1`` alone or with ``cnn_acc_2``."""
    if num_accs not in (1, 2):
        raise ValueError("the reference example has 1 or 2 accelerators")
    accs = [zhang_accelerator("cnn_acc_1", CNN_ACC_1, bandwidth_gbps)]
    if num_accs == 2:
        accs.append(zhang_accelerator("cnn_acc_2", CNN_ACC_2, bandwidth_gbps))
    name = f"reference{'-fused' if fused else ''}-{num_accs}acc-{bandwidth_gbps:g}GBps"
    if locality != "adjacent":
        name += f"-{locality}"
    return Instance(
        name, reference_workload(fused=fused), System(tuple(accs)),
        Options(comm="host", locality=locality, objective=objective, element_bytes=4),
    )
