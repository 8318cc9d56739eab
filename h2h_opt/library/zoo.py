"""Named workloads and systems, built by code so that sizes are parameters.

* the reference example of SPEC §8 (three CNN backbones on one or two tiled FPGA
  accelerators of the ``zhang_fpga15`` model, as in the H2H paper's public reference
  code) and its presets;
* multi-modality multi-task (MMMT) workloads composed from the backbones of
  :mod:`h2h_opt.backbones` (``WORKLOADS``, each with a line on where it comes from);
* heterogeneous systems of ``dataflow`` accelerators with 2, 4, 6 and 8 members
  (``SYSTEMS``) at the host-link bandwidth presets ``BANDWIDTHS_GBPS``.
"""

from __future__ import annotations

from collections.abc import Callable

from ..model import Accelerator, Edge, Instance, Layer, Options, System, Workload
from .backbones import Net, lstm_speech, mobilenet_v2, resnet18, resnet50

__all__ = [
    "ACCELERATORS",
    "BANDWIDTHS_GBPS",
    "SYSTEMS",
    "WORKLOADS",
    "mmmt_instance",
    "system_preset",
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


# ----------------------------------------------------------------- MMMT workloads

def _face_antispoof(net: Net) -> None:
    # three ResNet-18 streams up to layer3, concatenated, shared layer4 and a live/spoof
    # head; 112x112 crops (CASIA-SURF multi-modal baseline, Zhang et al., CVPR 2019)
    ends = [resnet18(net, m, f"{m}_", in_ch=ch, size=112, stages=3)
            for m, ch in (("rgb", 3), ("depth", 1), ("ir", 1))]
    fuse = net.conv("fuse", "fusion", ends, 256, 3 * 256, 7, 1, 1, 0)
    a = net.conv("fuse_l4a", "fusion", fuse, 512, 256, 4, 3, 2)
    b = net.conv("fuse_l4b", "fusion", a, 512, 512, 4)
    pool = net.pool("fuse_pool", "fusion", b, 512, 1, 4, 1)
    net.fc("spoof_head", "fusion", pool, 2, 512)


def _vloc_odometry(net: Net) -> None:
    # global localisation (one RGB frame) and visual odometry (two stacked frames)
    # streams of ResNet-18 up to layer3, a shared layer4 and one regression head per
    # task (VLocNet, Valada et al., ICRA 2018, shares stages the same way)
    loc = resnet18(net, "loc", "loc_", in_ch=3, size=224, stages=3)
    odo = resnet18(net, "odo", "odo_", in_ch=6, size=224, stages=3)
    fuse = net.conv("shared_fuse", "shared", [loc, odo], 256, 512, 14, 1, 1, 0)
    a = net.conv("shared_l4a", "shared", fuse, 512, 256, 7, 3, 2)
    b = net.conv("shared_l4b", "shared", a, 512, 512, 7)
    pool = net.pool("shared_pool", "shared", b, 512, 1, 7, 1)
    net.fc("pose_head", "loc", pool, 7, 512)
    net.fc("odometry_head", "odo", pool, 7, 512)


def _av_speech(net: Net) -> None:
    # lip-reading ResNet-18 on 88x88 grey mouth crops and an LSTM audio stream, fused
    # by an LSTM back-end (end-to-end AVSR, Petridis et al., ICASSP 2018)
    video = resnet18(net, "video", "v_", in_ch=1, size=88, classifier=False)
    vpool = net.pool("v_pool", "video", video, 512, 1, 3, 1)
    audio_a = net.lstm("a_lstm1", "audio", None, 512, 40, 100)
    audio = net.lstm("a_lstm2", "audio", audio_a, 512, 512, 100)
    fused = net.lstm("av_lstm", "fusion", [vpool, audio], 512, 1024, 100)
    net.matmul("av_out", "fusion", fused, 100, 512, 500, True)


def _arvr(net: Net) -> None:
    # AR/VR headset: scene understanding on the camera (MobileNetV2), hand-gesture
    # recognition on a 112x112 depth crop (ResNet-18), and voice commands (LSTM): three
    # independent tasks, as in the H2H paper's motivation (MMMT on AR/VR devices)
    mobilenet_v2(net, "scene", "scene_", in_ch=3, size=224)
    g = resnet18(net, "gesture", "hand_", in_ch=1, size=112, classifier=False)
    gp = net.pool("hand_pool", "gesture", g, 512, 1, 4, 1)
    net.fc("hand_head", "gesture", gp, 27, 512)
    lstm_speech(net, "speech", "kw_", outputs=12)


def _driving(net: Net) -> None:
    # shared ResNet-50 backbone on a 384x384 camera frame, with detection,
    # segmentation and depth heads (MultiNet, Teichmann et al., IV 2018, shares its
    # encoder the same way)
    trunk = resnet50(net, "backbone", "bb_", in_ch=3, size=384, classifier=False)
    r = 12
    d1 = net.conv("det_conv", "detection", trunk, 256, 2048, r, 3)
    net.conv("det_out", "detection", d1, 9 * 15, 256, r, 1, 1, 0)
    s1 = net.conv("seg_conv", "segmentation", trunk, 256, 2048, r, 3)
    s2 = net.conv("seg_up1", "segmentation", s1, 128, 256, 2 * r, 3)
    s3 = net.conv("seg_up2", "segmentation", s2, 64, 128, 4 * r, 3)
    net.conv("seg_out", "segmentation", s3, 19, 64, 4 * r, 1, 1, 0)
    z1 = net.conv("depth_conv", "depth", trunk, 256, 2048, r, 3)
    z2 = net.conv("depth_up1", "depth", z1, 128, 256, 2 * r, 3)
    net.conv("depth_out", "depth", z2, 1, 128, 2 * r, 1, 1, 0)


#: name -> (builder, where the shapes come from)
WORKLOADS: dict[str, tuple[Callable[[Net], None], str]] = {
    "face_antispoof": (_face_antispoof, "RGB/depth/IR face anti-spoofing: three ResNet-18"
                       " streams fused (CASIA-SURF baseline, CVPR 2019)"),
    "vloc_odometry": (_vloc_odometry, "visual localisation + odometry: two ResNet-18"
                      " streams with a shared stage (VLocNet, ICRA 2018)"),
    "av_speech": (_av_speech, "audio-visual speech recognition: ResNet-18 lips + LSTM"
                  " audio, LSTM fusion (Petridis et al., ICASSP 2018)"),
    "arvr": (_arvr, "AR/VR: MobileNetV2 scene + ResNet-18 hand gesture + LSTM voice"
             " commands (H2H paper's motivating MMMT use)"),
    "driving": (_driving, "driving perception: shared ResNet-50 with detection,"
                " segmentation and depth heads (MultiNet, IV 2018)"),
}


def mmmt_workload(name: str) -> Workload:
    """One of :data:`WORKLOADS` as a workload."""
    if name not in WORKLOADS:
        raise ValueError(f"unknown workload {name!r} (available: {', '.join(WORKLOADS)})")
    net = Net()
    WORKLOADS[name][0](net)
    return Workload(tuple(net.layers), tuple(net.edges))


# ----------------------------------------------------------------- dataflow systems

#: Host-link bandwidth presets, decimal GB/s.
BANDWIDTHS_GBPS = (0.125, 1.25, 12.5)

_ALL_OPS = ("conv", "dwconv", "fc", "matmul", "lstm", "pool", "eltwise")
#: Energy per MAC, per buffer access and per off-chip element [pJ], in the ratios of
#: Eyeriss (Chen et al., ISCA 2016: MAC 1x, register/array ~2x, DRAM 200x) at 1 pJ/MAC.
_ENERGY = {"e_mac_pj": 1.0, "e_buf_pj": 2.0, "e_dram_pj": 200.0}

#: Accelerator templates: dataflow, PEs, clock, off-chip GB/s, buffer, ops, power,
#: weight memory.
ACCELERATORS: dict[str, dict] = {
    "nvdla_ws": {"dataflow": "weight_stationary", "pes": 1024, "clock_mhz": 800,
                 "offchip_bw_gbps": 25.6, "buffer_bytes": 512e3, "ops": _ALL_OPS,
                 "power_w": 1.5, "cap": 8e6},
    "shidiannao_os": {"dataflow": "output_stationary", "pes": 256, "clock_mhz": 800,
                      "offchip_bw_gbps": 25.6, "buffer_bytes": 512e3, "ops": _ALL_OPS,
                      "power_w": 1.2, "cap": 8e6},
    "eyeriss_rs": {"dataflow": "row_stationary", "pes": 168, "clock_mhz": 800,
                   "offchip_bw_gbps": 25.6, "buffer_bytes": 108e3, "ops": _ALL_OPS,
                   "power_w": 0.9, "cap": 4e6},
    "systolic_gemm": {"dataflow": "gemm", "pes": 256, "clock_mhz": 700,
                      "offchip_bw_gbps": 25.6, "buffer_bytes": 1e6, "ops": _ALL_OPS,
                      "power_w": 4.0, "cap": 16e6},
    "lstm_engine": {"dataflow": "lstm", "pes": 256, "clock_mhz": 800,
                    "offchip_bw_gbps": 25.6, "buffer_bytes": 4e6,
                    "ops": ("lstm", "fc", "matmul"), "power_w": 1.0, "cap": 8e6},
}

#: System name -> accelerator templates (ids get an index suffix).
SYSTEMS: dict[str, tuple[str, ...]] = {
    "hetero2": ("nvdla_ws", "shidiannao_os"),
    "hetero4": ("nvdla_ws", "shidiannao_os", "eyeriss_rs", "systolic_gemm"),
    "hetero6": ("nvdla_ws", "shidiannao_os", "eyeriss_rs", "systolic_gemm", "lstm_engine",
                "nvdla_ws"),
    "hetero8": ("nvdla_ws", "shidiannao_os", "eyeriss_rs", "systolic_gemm", "lstm_engine",
                "nvdla_ws", "shidiannao_os", "eyeriss_rs"),
}


ENERGY_MODELS = ("paper", "access")


def dataflow_accelerator(acc_id: str, template: str, bandwidth_gbps: float,
                         energy: str = "paper") -> Accelerator:
    """An accelerator of :data:`ACCELERATORS` on a host link of ``bandwidth_gbps``.

    ``energy="paper"``: the H2H paper's accounting, ``e = P·t`` and ``ε = P/B`` (energy
    is power times busy time, transfers included: SPEC §5); ``"access"``: the dataflow
    model's per-MAC, per-buffer-access and per-off-chip-element energies, and 100
    pJ/byte on the host link."""
    if energy not in ENERGY_MODELS:
        raise ValueError(f"unknown energy model {energy!r} (known: {', '.join(ENERGY_MODELS)})")
    t = ACCELERATORS[template]
    cm = {"kind": "dataflow", **{k: t[k] for k in ("dataflow", "pes", "clock_mhz",
                                                   "offchip_bw_gbps", "buffer_bytes")}}
    bw = bandwidth_gbps * 1e9
    link = t["power_w"] / bw
    if energy == "access":
        cm.update(_ENERGY)
        link = 1e-10
    return Accelerator(id=acc_id, ops=frozenset(t["ops"]), cost_model=cm,
                       power_w=t["power_w"], weight_capacity_bytes=t["cap"],
                       host_bandwidth_bps=bw, link_energy_jpb=link)


def system_preset(name: str, bandwidth_gbps: float = 1.25, energy: str = "paper") -> System:
    """A system of :data:`SYSTEMS`, or ``fpga1``/``fpga2`` (the SPEC §8 reference)."""
    if name in ("fpga1", "fpga2"):
        accs = [zhang_accelerator("cnn_acc_1", CNN_ACC_1, bandwidth_gbps)]
        if name == "fpga2":
            accs.append(zhang_accelerator("cnn_acc_2", CNN_ACC_2, bandwidth_gbps))
        return System(tuple(accs))
    if name not in SYSTEMS:
        raise ValueError(f"unknown system {name!r} (available: fpga1, fpga2,"
                         f" {', '.join(SYSTEMS)})")
    return System(tuple(dataflow_accelerator(f"{t}{i}", t, bandwidth_gbps, energy)
                        for i, t in enumerate(SYSTEMS[name])))


def mmmt_instance(workload: str, system: str, bandwidth_gbps: float = 1.25, *,
                  locality: str = "same_accelerator", objective: str = "latency",
                  element_bytes: int = 1, energy: str = "paper") -> Instance:
    """An MMMT workload on a system preset (int8 by default, as on edge accelerators)."""
    name = f"{workload}-{system}-{bandwidth_gbps:g}GBps"
    if energy != "paper":
        name += f"-{energy}"
    return Instance(name, mmmt_workload(workload), system_preset(system, bandwidth_gbps,
                                                                  energy),
                    Options(comm="host", locality=locality, objective=objective,
                            element_bytes=element_bytes))
