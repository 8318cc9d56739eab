"""The ``dataflow`` cost model (SPEC §2.3): analytic per-layer cycles and energy of
five accelerator dataflows, in the style of MAESTRO (Kwon et al., MICRO 2019).

Every layer is first written in *conv form* — ``K`` output channels, ``C`` input
channels, an ``R×S`` kernel, ``Y'×X'`` outputs, stride — and each dataflow is a loop
nest over it: a fixed spatial tiling of the PE array (which dimensions run in parallel
decides utilisation: the *affinity* of a layer to a dataflow) and an order of the outer
loops (which data is stationary, and so what must come from off-chip again on every
outer iteration).  An outer iteration computes a tile in ``c_it`` cycles and needs
``d_it`` new elements from off-chip; with double buffering the fetch of one tile
overlaps the compute of the previous one, so

    cycles = N_it · max(c_it, d_it / BW)            BW = off-chip elements per cycle

(compute-bound or bandwidth-bound per tile: SPEC's "max(compute cycles with the
dataflow's spatial utilisation, off-chip traffic / bandwidth)").  ``c_it`` counts the
sequential MACs of one PE plus one cycle of pipeline fill.  Per dataflow, ``P`` PEs:

* ``weight_stationary`` (NVDLA-like, KC-P): clusters of ``g = min(64, P)`` PEs;
  ``P/g`` output channels across clusters, ``g`` input channels across the PEs of a
  cluster; each PE holds its ``R·S`` weights while the outputs stream past.
  ``N_it = ⌈K/(P/g)⌉·⌈C/g⌉·Y'·X'``, ``c_it = R·S + 1``, ``d_it = k_t·c_t·R·S + c_t·R·S``
  (the weight tile and the input window of one output position; ``k_t, c_t`` the
  tile sizes clipped to the layer).  Depthwise: channels across all ``P`` PEs,
  ``N_it = ⌈C/P⌉·Y'·X'``, ``d_it = c_t·R·S``.
* ``output_stationary`` (ShiDianNao-like, YX-P): ``P/8`` output rows across clusters
  of 8 PEs, 8 output columns per cluster; one (k, c) pair per iteration, each PE
  accumulating its output over ``R·S``.  ``N_it = K·C·⌈Y'/(P/8)⌉·⌈X'/8⌉`` (``K = 1`` for
  depthwise), ``c_it = R·S + 1``, ``d_it`` = the input tile ``((y_t−1)·s + R)·((x_t−1)·s + S)``
  + ``R·S`` weights + ``2·y_t·x_t`` partial sums (C is an outer loop, so partial sums go
  out and come back) — with a 1×1 kernel one product per output per iteration: the
  reduction over C stays in the accumulators and the outputs leave once per tile,
  ``y_t·x_t/C`` per iteration (``y_t·x_t`` for depthwise, pool and element-wise layers,
  where C is no reduction).
* ``row_stationary`` (Eyeriss-like): clusters of ``R`` PEs, one per output row, each PE
  pairing a filter row with an input row; ``y_t = min(Y', ⌊P/R⌋)`` rows at a time, 16
  output channels per iteration.  ``N_it = ⌈Y'/y_t⌉·X'·C·⌈K/16⌉``,
  ``c_it = k_t·S + 1``, ``d_it = k_t·R·S + ((y_t−1)·s + R)·S + 2·k_t·y_t`` (a cluster's
  ``R`` PEs hand the running partial sum on: read back and written); with ``R = 1``
  (1×1 kernels, fc, matmul) nothing is handed on and each partial sum is written once,
  ``k_t·y_t``.  Input extents count only the rows under a kernel: ``min((y_t−1)·s + R,
  y_t·R)`` (a 1×1 kernel at stride 2 reads every other row), likewise in OS.
* ``gemm`` (systolic GEMM engine, NMK): the layer as ``M×Kd`` times ``Kd×N`` (conv by
  im2col: ``M = Y'·X'``, ``Kd = C·R·S``, ``N = K``; fc/lstm at batch 1: ``M = 1``;
  depthwise ``M = C·Y'·X'``, ``Kd = R·S``, ``N = 1``); clusters of 64 PEs reduce over
  ``Kd``, each cluster takes 2 rows of ``M``, 8 columns of ``N`` per iteration.
  ``N_it = ⌈N/8⌉·⌈M/(2·P/64)⌉·⌈Kd/64⌉``, ``c_it = n_t·min(M, 2) + 1``,
  ``d_it = m_t·k_t + k_t·n_t``.
* ``lstm`` (LSTM/RNN engine): matrix-vector products on all ``P`` PEs, ``P`` MACs per
  cycle; the weights stay in the on-chip buffer across time steps when they fit
  (``buffer_bytes``), otherwise they stream from off-chip on every step.  Runs lstm,
  fc and matmul; convolutions are not supported (``ops`` should not list them).

Time ``t = cycles / f``.  Energy ``e = MACs·e_mac + buffer accesses·e_buf + off-chip
elements·e_dram`` with three buffer accesses per MAC (two operands and the partial sum)
and ``N_it·d_it`` off-chip elements.

Parameters (``cost_model`` keys): ``dataflow``, ``pes``, ``clock_mhz``,
``offchip_bw_gbps`` (GB/s), ``buffer_bytes``, ``e_mac_pj``, ``e_buf_pj``,
``e_dram_pj`` (per element).  Calibration against MAESTRO's own runs:
``scripts/calibrate_dataflow.py`` and ``results/dataflow_vs_maestro.md``.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["DATAFLOWS", "MODEL_VERSION", "ConvForm", "DataflowHW", "compare_with_maestro",
           "conv_form", "dataflow_cost"]

#: Recorded with every result (:func:`h2h_opt.result.versions`): 1 charged partial sums
#: twice on 1x1 kernels (row- and output-stationary) and counted a strided 1x1 kernel's
#: whole input extent; 2 derives both from the loop nest (calibration 48/51 -> 51/51).
MODEL_VERSION = 2

DATAFLOWS = ("weight_stationary", "output_stationary", "row_stationary", "gemm", "lstm")


@dataclass(frozen=True)
class ConvForm:
    """A layer as a loop nest: ``K`` out channels, ``C`` in channels, ``R×S`` kernel,
    ``Y×X`` outputs, ``stride``; ``steps`` repetitions (LSTM time steps); ``depthwise``
    (one filter per channel, ``K = 1``); ``gemm`` = (M, Kd, N) when the layer is a
    matrix product (fc, lstm, matmul), else None."""

    K: int
    C: int
    R: int
    S: int
    Y: int
    X: int
    stride: int = 1
    steps: int = 1
    depthwise: bool = False
    gemm: tuple[int, int, int] | None = None

    @property
    def macs(self) -> float:
        return float(self.steps * self.K * self.C * self.R * self.S * self.Y * self.X)


@dataclass(frozen=True)
class DataflowHW:
    dataflow: str
    pes: int
    bw_elems: float         # off-chip elements per cycle
    buffer_elems: float
    clock_hz: float = 1e9
    e_mac: float = 0.0      # joules
    e_buf: float = 0.0
    e_dram: float = 0.0


def conv_form(op: str, shape: dict, element_bytes: int = 1) -> ConvForm:
    """Conv form of a layer (SPEC §1 shapes: conv ``M×N @ R×C``, kernel ``K``, stride
    ``S``; fc ``M×N``; matmul ``m×k×n``; lstm ``H, D, T``; pool/eltwise ``N @ R×C``)."""
    def g(key: str, default: int | None = None) -> int:
        value = shape.get(key, default)
        if value is None:
            raise KeyError(key)
        return int(value)

    if op == "conv":
        # G groups: every output channel reduces over N/G inputs (G convs side by side)
        return ConvForm(g("M"), g("N") // g("G", 1), g("K"), g("KW", g("K")), g("R"),
                        g("C"), g("S", 1))
    if op in ("dwconv", "pool"):
        return ConvForm(1, g("N"), g("K"), g("KW", g("K")), g("R"), g("C"), g("S", 1),
                        depthwise=True)
    if op == "eltwise":
        return ConvForm(1, g("N"), 1, 1, g("R"), g("C"), 1, depthwise=True)
    if op == "fc":
        m, n = g("M"), g("N")
        return ConvForm(m, n, 1, 1, 1, 1, gemm=(1, n, m))
    if op == "matmul":
        m, k, n = g("m"), g("k"), g("n")
        return ConvForm(n, k, 1, 1, m, 1, gemm=(m, k, n))
    if op == "lstm":
        h, d, t, gates = g("H"), g("D"), g("T"), g("gates", 4)
        return ConvForm(gates * h, h + d, 1, 1, 1, 1, steps=t, gemm=(1, h + d, gates * h))
    raise ValueError(f"the dataflow cost model cannot cost op {op!r}")


def _ws(f: ConvForm, p: int) -> tuple[float, float, float]:
    if f.depthwise:
        ct = min(f.C, p)
        return math.ceil(f.C / p) * f.Y * f.X, f.R * f.S + 1, ct * f.R * f.S
    g = min(64, p)
    kc = max(1, p // g)
    kt, ct = min(f.K, kc), min(f.C, g)
    n_it = math.ceil(f.K / kc) * math.ceil(f.C / g) * f.Y * f.X
    return n_it, f.R * f.S + 1, kt * ct * f.R * f.S + ct * f.R * f.S


def _touched(outputs: int, kernel: int, stride: int) -> int:
    """Input rows (or columns) that ``outputs`` consecutive outputs read: the extent
    ``(outputs-1)·stride + kernel`` when windows overlap or touch, else only the
    ``outputs·kernel`` rows under the kernels (a 1x1 kernel at stride 2 skips every
    other row)."""
    return min((outputs - 1) * stride + kernel, outputs * kernel)


def _os(f: ConvForm, p: int) -> tuple[float, float, float]:
    rows = max(1, p // 8)
    yt, xt = min(f.Y, rows), min(f.X, 8)
    k = 1 if f.depthwise else f.K
    n_it = k * f.C * math.ceil(f.Y / rows) * math.ceil(f.X / 8)
    window = _touched(yt, f.R, f.stride) * _touched(xt, f.S, f.stride)
    # partial sums: C is an outer loop, so with an R×S window every tile's partial sums
    # go out and come back each iteration; with a 1x1 kernel an iteration adds one
    # product per output, the reduction over C stays in the PEs' accumulators and the
    # outputs leave once per tile (depthwise, pool, eltwise: C is no reduction, each
    # iteration's outputs are complete and leave once)
    psums = 2.0 if f.R * f.S > 1 else 1.0 if f.depthwise else 1.0 / f.C
    return n_it, f.R * f.S + 1, window + f.R * f.S + psums * yt * xt


def _rs(f: ConvForm, p: int) -> tuple[float, float, float]:
    yt = min(f.Y, max(1, p // f.R))
    kt = 1 if f.depthwise else min(f.K, 16)
    k_it = 1 if f.depthwise else math.ceil(f.K / 16)
    n_it = math.ceil(f.Y / yt) * f.X * f.C * k_it
    # partial sums: the R PEs of a cluster each reduce one kernel row and hand the
    # running sum on, so with R > 1 every partial sum is read back and written; with
    # R = 1 (1x1 kernels, fc, matmul) there is no hand-over and each is written once
    psums = 2 if f.R > 1 else 1
    d_it = kt * f.R * f.S + _touched(yt, f.R, f.stride) * f.S + psums * kt * yt
    return n_it, kt * f.S + 1, d_it


def _gemm(f: ConvForm, p: int) -> tuple[float, float, float]:
    if f.gemm is not None:
        m, kd, n = f.gemm
    elif f.depthwise:
        m, kd, n = f.C * f.Y * f.X, f.R * f.S, 1
    else:
        m, kd, n = f.Y * f.X, f.C * f.R * f.S, f.K
    clusters = max(1, p // 64)
    kt, nt, mt = min(kd, 64), min(n, 8), min(m, 2 * clusters)
    n_it = math.ceil(n / 8) * math.ceil(m / (2 * clusters)) * math.ceil(kd / 64)
    return n_it, nt * min(m, 2) + 1, mt * kt + kt * nt


def _lstm_engine(f: ConvForm, p: int, buffer_elems: float) -> tuple[float, float, float]:
    if f.gemm is None:
        raise ValueError("the lstm engine runs lstm, fc and matmul layers only")
    m, kd, n = f.gemm
    weights = kd * n
    per_step = math.ceil(m * kd * n / p)
    if weights <= buffer_elems:  # loaded once, resident across the steps
        # one iteration per step; the weights' one-time load is spread over the steps
        return f.steps, per_step + 1, (weights / f.steps) + m * kd
    return f.steps, per_step + 1, weights + m * kd


def cycles_and_traffic(f: ConvForm, hw: DataflowHW) -> tuple[float, float]:
    """(cycles, off-chip elements) of one layer in conv form on one dataflow."""
    df = hw.dataflow
    if df == "weight_stationary":
        n_it, c_it, d_it = _ws(f, hw.pes)
    elif df == "output_stationary":
        n_it, c_it, d_it = _os(f, hw.pes)
    elif df == "row_stationary":
        n_it, c_it, d_it = _rs(f, hw.pes)
    elif df == "gemm":
        n_it, c_it, d_it = _gemm(f, hw.pes)
    elif df == "lstm":
        n_it, c_it, d_it = _lstm_engine(f, hw.pes, hw.buffer_elems)
        return n_it * max(c_it, d_it / hw.bw_elems), n_it * d_it
    else:
        raise ValueError(f"unknown dataflow {df!r} (known: {', '.join(DATAFLOWS)})")
    return f.steps * n_it * max(c_it, d_it / hw.bw_elems), f.steps * n_it * d_it


def dataflow_cost(f: ConvForm, hw: DataflowHW) -> tuple[float, float, float]:
    """(seconds, joules, cycles) of one layer."""
    cycles, traffic = cycles_and_traffic(f, hw)
    energy = f.macs * (hw.e_mac + 3 * hw.e_buf) + traffic * hw.e_dram
    return cycles / hw.clock_hz, energy, cycles


# ----------------------------------------------------------- calibration (MAESTRO)

#: MAESTRO's mapping name -> ours
NAMES = {"kcp_ws": "weight_stationary", "yxp_os": "output_stationary",
         "rs": "row_stationary", "gemm_nmk": "gemm"}
#: MAESTRO's example accelerator (data/hw/accelerator_1.m)
HW: dict[str, Any] = {"pes": 256, "bw_elems": 50.0, "buffer_elems": 3000.0}


def maestro_form(row: dict) -> ConvForm:
    """A costs.csv row in our conv form (MAESTRO's Y, X include padding; we use the
    output size it reports)."""
    k, c, r, s = (int(row[x]) for x in ("K", "C", "R", "S"))
    y, x, st = int(row["y_out"]), int(row["x_out"]), int(row["stride"])
    if row["op"] == "dwconv":
        return ConvForm(1, c, r, s, y, x, st, depthwise=True)
    if row["op"] in ("fc", "lstm"):
        return ConvForm(k, c, 1, 1, 1, 1, gemm=(1, c, k))
    return ConvForm(k, c, r, s, y, x, st)


def compare_with_maestro(path: Path) -> tuple[list[dict], dict]:
    """Our cycles next to MAESTRO's for every row of its ``costs.csv``, and the two
    calibration figures: layers whose fastest dataflow agrees, and unflagged rows within
    2x of MAESTRO's cycles."""
    rows: list[dict[str, Any]] = []
    with path.open() as fh:
        for row in csv.DictReader(fh):
            hw = DataflowHW(NAMES[row["dataflow"]], **HW)
            ours, _ = cycles_and_traffic(maestro_form(row), hw)
            rows.append({"layer": row["layer"], "op": row["op"], "dataflow": hw.dataflow,
                         "maestro": float(row["cycles"]), "ours": ours,
                         "flag": row["flag"]})
    usable = [r for r in rows if not r["flag"]]
    within = sum(0.5 <= r["ours"] / r["maestro"] <= 2.0 for r in usable)
    layers = sorted({r["layer"] for r in rows}, key=[r["layer"] for r in rows].index)
    agree = []
    for name in layers:
        mine = [r for r in usable if r["layer"] == name]
        fast_m = min(mine, key=lambda r: r["maestro"])["dataflow"]
        fast_o = min(mine, key=lambda r: r["ours"])["dataflow"]
        agree.append((name, fast_m, fast_o))
    summary = {"rows": len(usable), "within_2x": within, "layers": len(layers),
               "fastest_agree": sum(m == o for _, m, o in agree), "fastest": agree}
    return rows, summary
