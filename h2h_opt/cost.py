"""Cost models and the compiled cost tables every solver shares (SPEC §1, §2, §6).

This module is the one place where numbers are derived: layer shapes become MACs
and byte counts, accelerator parameters become compute times ``t[v, a]`` and
energies ``e[v, a]``, and :func:`to_ticks` is the one conversion to the integer
time of the exact solvers.  Solvers and the evaluator read :class:`CostTables`
and never recompute a cost.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .model import MAX_BYTES, Accelerator, Instance, Layer, ModelError

__all__ = [
    "COST_MODELS",
    "MAX_JOULES",
    "MAX_SECONDS",
    "CostTables",
    "LayerNumbers",
    "compile_tables",
    "from_ticks",
    "layer_numbers",
    "to_ticks",
    "zhang_fpga15_time",
]


@dataclass(frozen=True)
class LayerNumbers:
    """Per-layer quantities of SPEC §1: ``macs(v)``, ``W_v``, ``O_v``, ``I_v`` (bytes).

    ``input_bytes`` is the data a layer reads when it is a *source* (no
    predecessor): the sensor data read from the host.
    """

    macs: float
    weight_bytes: float
    output_bytes: float
    input_bytes: float


def _in_extent(out: float, k: float, s: float, p: float) -> float:
    """Input rows (or cols) that produce ``out`` output rows: ``(out-1)·S + K - 2P``."""
    return max((out - 1) * s + k - 2 * p, 1.0)


def layer_numbers(layer: Layer, element_bytes: int) -> LayerNumbers:
    """MACs and byte counts of one layer (SPEC §1), explicit overrides taking precedence.

    * conv: MACs ``M·N·R·C·K²``, weights ``K²·N·M``, output ``M·R·C``, input
      ``N·H_in·W_in`` with ``H_in = (R-1)·S + K - 2P``; with ``G`` groups each output
      channel reads ``N/G`` of the inputs (MACs and weights divided by ``G``); a kernel
      ``K`` high and ``KW`` wide (when not square) in place of ``K²``;
    * dwconv: MACs ``N·R·C·K²``, weights ``K²·N``, output ``N·R·C``;
    * fc: MACs and weights ``M·N``, output ``M``, input ``N``;
    * matmul ``m×k×n``: MACs ``m·k·n``, output ``m·n``; weights ``k·n`` if
      ``shape.weights`` (a projection), else 0 and the input holds both operands;
    * lstm: weights ``4·H·(H+D)`` (``gates·H·(H+D)``: 3 for a GRU), MACs ``T`` times
      that, output ``T·H``, input ``T·D``;
    * pool: no weights, ``N·R·C·K²`` operations; eltwise: ``N·R·C`` per input.

    Element counts are multiplied by ``b = element_bytes``.
    """
    b = float(element_bytes)
    sh = layer.shape
    macs = weights = out = inp = 0.0
    op = layer.op
    if op in ("conv", "dwconv", "pool"):
        n, r, c, k = (float(sh[x]) for x in ("N", "R", "C", "K"))
        kw = float(sh.get("KW", k))  # a conv's or pool's kernel width, when not square
        s, p = float(sh.get("S", 1)), float(sh.get("P", 0))
        m = float(sh["M"]) if op == "conv" else n
        per_out = n / float(sh.get("G", 1)) if op == "conv" else 1.0  # inputs per output
        macs = m * r * c * k * kw * per_out
        weights = {"conv": k * kw * per_out * m, "dwconv": k * k * n, "pool": 0.0}[op]
        out = m * r * c
        inp = n * _in_extent(r, k, s, p) * _in_extent(c, kw, s, p)
    elif op == "fc":
        m, n = float(sh["M"]), float(sh["N"])
        macs = weights = m * n
        out, inp = m, n
    elif op == "matmul":
        m, k, n = float(sh["m"]), float(sh["k"]), float(sh["n"])
        macs = m * k * n
        out = m * n
        if sh.get("weights", False):
            weights, inp = k * n, m * k
        else:
            inp = m * k + k * n
    elif op == "lstm":
        h, d, t = float(sh["H"]), float(sh["D"]), float(sh["T"])
        weights = float(sh.get("gates", 4)) * h * (h + d)
        macs = t * weights
        out, inp = t * h, t * d
    elif op == "eltwise":
        n, r, c = float(sh["N"]), float(sh["R"]), float(sh["C"])
        macs = out = n * r * c
        inp = float(sh.get("inputs", 2)) * out
    numbers = LayerNumbers(macs, weights * b, out * b, inp * b)
    return LayerNumbers(
        macs=numbers.macs if layer.macs is None else layer.macs,
        weight_bytes=numbers.weight_bytes if layer.weight_bytes is None else layer.weight_bytes,
        output_bytes=numbers.output_bytes if layer.output_bytes is None else layer.output_bytes,
        input_bytes=numbers.input_bytes if layer.input_bytes is None else layer.input_bytes,
    )


# --------------------------------------------------------------------------- models

CostFn = Callable[[Layer, Accelerator, Instance], tuple[float, float]]


def _param(acc: Accelerator, key: str, default: Any = None, *, positive: bool = True) -> float:
    cm = acc.cost_model
    if key not in cm:
        if default is None:
            raise ModelError(f"accelerator {acc.id!r}: cost_model {cm['kind']} needs {key!r}")
        return float(default)
    value = cm[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or value < 0 or (positive and value == 0):
        raise ModelError(
            f"accelerator {acc.id!r}: cost_model.{key} must be a {'positive' if positive else ''}"
            f" finite number, got {value!r}"
        )
    return float(value)


def zhang_fpga15_time(
    *, M: float, N: float, R: float, C: float, K: float,
    Tm: float, Tn: float, Tr: float, Tc: float, Tr_in: float, Tc_in: float,
    Th_gops: float, f_mhz: float, port_bits: float, bits: float,
) -> float:
    """Compute time of one conv layer on the tiled FPGA accelerator (SPEC E1).

    ``t = ⌈R/Tr⌉·⌈C/Tc⌉·⌈M/Tm⌉·(⌈N/Tn⌉·(t_in_tile + t_tile) + t_out_tile)`` with
    ``t_tile = 2·Tr·Tc·Tm·Tn·K² / (Th·1e9)``,
    ``t_in_tile = (Tm·Tn·K² + Tn·Tr'·Tc')·bits / (BW_port·f·1e6)`` and
    ``t_out_tile = Tm·Tr·Tc·bits / (BW_port·f·1e6)``.
    """
    tile_ops = 2.0 * Tr * Tc * Tm * Tn * K * K
    t_tile = tile_ops / (Th_gops * 1e9)
    port = port_bits * f_mhz * 1e6
    t_in_tile = (Tm * Tn * K * K + Tn * Tr_in * Tc_in) * bits / port
    t_out_tile = Tm * Tr * Tc * bits / port
    return (
        math.ceil(R / Tr) * math.ceil(C / Tc) * math.ceil(M / Tm)
        * (math.ceil(N / Tn) * (t_in_tile + t_tile) + t_out_tile)
    )


def _zhang_cost(layer: Layer, acc: Accelerator, inst: Instance) -> tuple[float, float]:
    sh = layer.shape
    if layer.op == "conv":
        if sh.get("KW", sh["K"]) != sh["K"]:
            raise ModelError(f"accelerator {acc.id!r}: cost model zhang_fpga15 models square"
                             f" kernels; layer {layer.id!r} is {sh['K']}x{sh['KW']}")
        dims = {x: float(sh[x]) for x in ("M", "N", "R", "C", "K")}
        dims["N"] /= float(sh.get("G", 1))  # each output channel reads N/G inputs
    elif layer.op == "fc":  # an fc layer is a 1x1 conv on a 1x1 map
        dims = {"M": float(sh["M"]), "N": float(sh["N"]), "R": 1.0, "C": 1.0, "K": 1.0}
    else:
        raise ModelError(
            f"accelerator {acc.id!r}: cost model zhang_fpga15 cannot cost op {layer.op!r}"
            f" (layer {layer.id!r}); it models conv and fc"
        )
    p = {k: _param(acc, k) for k in ("Tm", "Tn", "Tr", "Tc", "Th_gops", "f_mhz", "port_bits")}
    p["Tr_in"] = _param(acc, "Tr_in", p["Tr"])
    p["Tc_in"] = _param(acc, "Tc_in", p["Tc"])
    p["bits"] = _param(acc, "bits", 8 * inst.options.element_bytes)
    t = zhang_fpga15_time(**dims, **p)
    return t, acc.power_w * t


def _table_cost(layer: Layer, acc: Accelerator, inst: Instance) -> tuple[float, float]:
    cm = acc.cost_model
    times = cm.get("time_s")
    if not isinstance(times, Mapping):
        raise ModelError(f"accelerator {acc.id!r}: table cost_model needs a 'time_s' object")
    if layer.id not in times:
        raise ModelError(
            f"accelerator {acc.id!r}: table cost_model has no time_s for layer {layer.id!r}"
            f" (op {layer.op!r} is in its ops)"
        )
    t = times[layer.id]
    if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t) or t < 0:
        raise ModelError(f"accelerator {acc.id!r}: time_s[{layer.id!r}] must be >= 0, got {t!r}")
    energies = cm.get("energy_j")
    if isinstance(energies, Mapping) and layer.id in energies:
        e = energies[layer.id]
        if isinstance(e, bool) or not isinstance(e, int | float) or not math.isfinite(e) or e < 0:
            raise ModelError(
                f"accelerator {acc.id!r}: energy_j[{layer.id!r}] must be >= 0, got {e!r}"
            )
        return float(t), float(e)
    return float(t), acc.power_w * float(t)


def _dataflow_cost(layer: Layer, acc: Accelerator, inst: Instance) -> tuple[float, float]:
    """SPEC §2.3, formulas in :mod:`h2h_opt.dataflow`."""
    from .dataflow import DATAFLOWS, DataflowHW, conv_form, dataflow_cost

    cm = acc.cost_model
    kind = cm.get("dataflow")
    if kind not in DATAFLOWS:
        raise ModelError(f"accelerator {acc.id!r}: cost_model.dataflow must be one of"
                         f" {', '.join(DATAFLOWS)}, got {kind!r}")
    b = inst.options.element_bytes
    clock = _param(acc, "clock_mhz") * 1e6
    hw = DataflowHW(
        dataflow=str(kind), pes=int(_param(acc, "pes")),
        bw_elems=_param(acc, "offchip_bw_gbps") * 1e9 / clock / b,
        buffer_elems=_param(acc, "buffer_bytes", 0.0, positive=False) / b, clock_hz=clock,
        e_mac=_param(acc, "e_mac_pj", 0.0, positive=False) * 1e-12,
        e_buf=_param(acc, "e_buf_pj", 0.0, positive=False) * 1e-12,
        e_dram=_param(acc, "e_dram_pj", 0.0, positive=False) * 1e-12)
    try:
        t, e, _ = dataflow_cost(conv_form(layer.op, dict(layer.shape)), hw)
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"accelerator {acc.id!r}: cost model dataflow ({kind}) cannot cost"
                         f" layer {layer.id!r} (op {layer.op!r}): {exc}") from None
    if "e_mac_pj" not in cm:  # no energy parameters: e = P·t as in the other models
        e = acc.power_w * t
    return t, e


#: Registered cost models by ``cost_model.kind`` (SPEC §2).
COST_MODELS: dict[str, CostFn] = {
    "table": _table_cost,
    "zhang_fpga15": _zhang_cost,
    "dataflow": _dataflow_cost,
}


def _check_table_ids(acc: Accelerator, inst: Instance) -> None:
    for key in ("time_s", "energy_j"):
        table = acc.cost_model.get(key)
        if table is None:
            continue
        if not isinstance(table, Mapping):
            raise ModelError(f"accelerator {acc.id!r}: cost_model.{key} must be an object")
        for lid in table:
            if lid not in inst.workload.index:
                raise ModelError(f"accelerator {acc.id!r}: cost_model.{key} names unknown layer"
                                 f" {lid!r}")


# --------------------------------------------------------------------------- tables

#: Largest compute time of one layer [s] (about 31 700 years) and energy [J]: beyond
#: them sums of costs lose meaning and the exact models' integer ticks overflow.
MAX_SECONDS = 1e12
MAX_JOULES = 1e15


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class CostTables:
    """The compiled instance: every number a solver or the evaluator needs.

    Shapes: ``V`` layers (workload order), ``A`` accelerators (system order),
    ``E`` edges (file order).  ``t[v, a] = inf`` marks an infeasible pair.

    Attributes
    ----------
    t, e : (V, A) compute time [s] and energy [J].
    macs, weight_bytes, output_bytes, input_bytes : (V,) ``macs``, ``W_v``, ``O_v``,
        ``I_v`` (``I_v`` counts only for sources).
    edge_src, edge_dst, edge_bytes : (E,) endpoints and ``d_uv``.
    host_bw, host_energy, power, capacity : (A,) ``B_a``, ``ε_a``, ``P_a``, ``Cap_a``.
    link_bw, link_latency, link_energy : (A, A) ``bw``, ``λ``, ``ε`` (inf / 0 / 0
        when the system has no links).
    """

    layer_ids: tuple[str, ...]
    acc_ids: tuple[str, ...]
    t: np.ndarray
    e: np.ndarray
    macs: np.ndarray
    weight_bytes: np.ndarray
    output_bytes: np.ndarray
    input_bytes: np.ndarray
    edge_src: np.ndarray
    edge_dst: np.ndarray
    edge_bytes: np.ndarray
    host_bw: np.ndarray
    host_energy: np.ndarray
    power: np.ndarray
    capacity: np.ndarray
    link_bw: np.ndarray
    link_latency: np.ndarray
    link_energy: np.ndarray

    @property
    def num_layers(self) -> int:
        return len(self.layer_ids)

    @property
    def num_accs(self) -> int:
        return len(self.acc_ids)


def compile_tables(inst: Instance) -> CostTables:
    """Compile an instance into :class:`CostTables` (SPEC §1, §2).

    Raises
    ------
    ModelError
        Unknown cost-model kind, missing or bad parameters, a table naming an
        unknown layer, or a cost model that cannot cost an op its accelerator
        claims to run.
    """
    wl, sysm = inst.workload, inst.system
    n, m = wl.num_layers, sysm.num_accs
    b = inst.options.element_bytes
    nums = [layer_numbers(layer, b) for layer in wl.layers]
    for layer, num in zip(wl.layers, nums, strict=True):
        for what in ("macs", "weight_bytes", "output_bytes", "input_bytes"):
            if not getattr(num, what) <= MAX_BYTES:
                raise ModelError(f"layer {layer.id!r}: {what} from its shape is"
                                 f" {float(getattr(num, what)):g}, above {MAX_BYTES:g}")
    t = np.full((n, m), np.inf)
    e = np.full((n, m), np.inf)
    for a, acc in enumerate(sysm.accelerators):
        kind = acc.cost_model["kind"]
        fn = COST_MODELS.get(kind)
        if fn is None:
            raise ModelError(
                f"accelerator {acc.id!r}: unknown cost_model kind {kind!r}"
                f" (known: {', '.join(sorted(COST_MODELS))})"
            )
        if kind == "table":
            _check_table_ids(acc, inst)
        for v, layer in enumerate(wl.layers):
            if layer.op in acc.ops:
                tv, ev = fn(layer, acc, inst)
                if not (math.isfinite(tv) and math.isfinite(ev)) or tv < 0 or ev < 0:
                    raise ModelError(
                        f"accelerator {acc.id!r}: cost of layer {layer.id!r} is not a finite"
                        f" non-negative number (t={float(tv)!r}, e={float(ev)!r})"
                    )
                if tv > MAX_SECONDS or ev > MAX_JOULES:
                    raise ModelError(
                        f"accelerator {acc.id!r}: cost of layer {layer.id!r} (t={float(tv):g} s,"
                        f" e={float(ev):g} J) exceeds what the tool handles ({MAX_SECONDS:g} s,"
                        f" {MAX_JOULES:g} J)")
                t[v, a], e[v, a] = tv, ev
    src = np.array([wl.index[ed.src] for ed in wl.edges], dtype=np.int64)
    dst = np.array([wl.index[ed.dst] for ed in wl.edges], dtype=np.int64)
    out_b = np.array([x.output_bytes for x in nums], dtype=float)
    ebytes = np.array(
        [out_b[src[k]] if ed.bytes is None else ed.bytes for k, ed in enumerate(wl.edges)],
        dtype=float,
    )
    accs = sysm.accelerators
    if sysm.links is None:
        lbw, llat, len_ = np.full((m, m), np.inf), np.zeros((m, m)), np.zeros((m, m))
    else:
        lbw = np.array(sysm.links.bandwidth_bps, dtype=float)
        llat = np.array(sysm.links.latency_s, dtype=float)
        len_ = np.array(sysm.links.energy_jpb, dtype=float)
    return CostTables(
        layer_ids=tuple(layer.id for layer in wl.layers),
        acc_ids=sysm.ids,
        t=_readonly(t),
        e=_readonly(e),
        macs=_readonly(np.array([x.macs for x in nums], dtype=float)),
        weight_bytes=_readonly(np.array([x.weight_bytes for x in nums], dtype=float)),
        output_bytes=_readonly(out_b),
        input_bytes=_readonly(np.array([x.input_bytes for x in nums], dtype=float)),
        edge_src=_readonly(src),
        edge_dst=_readonly(dst),
        edge_bytes=_readonly(ebytes),
        host_bw=_readonly(np.array([a.host_bandwidth_bps for a in accs], dtype=float)),
        host_energy=_readonly(np.array([a.link_energy_jpb for a in accs], dtype=float)),
        power=_readonly(np.array([a.power_w for a in accs], dtype=float)),
        capacity=_readonly(np.array([a.weight_capacity_bytes for a in accs], dtype=float)),
        link_bw=_readonly(lbw),
        link_latency=_readonly(llat),
        link_energy=_readonly(len_),
    )


# --------------------------------------------------------------------------- ticks

#: Slack (in ticks) forgiven before rounding up, so that a duration that is an exact
#: multiple of the tick up to float noise is not pushed one tick further.
_TICK_SLACK = 1e-9


def to_ticks(seconds: np.ndarray | float, tick_s: float) -> np.ndarray:
    """Convert durations to integer ticks, rounding UP (SPEC §6).

    Every duration and delay is rounded up, so an integer-feasible schedule is
    feasible in float seconds.  ``inf`` maps to ``-1`` (no such duration).
    """
    x = np.asarray(seconds, dtype=float)
    finite = np.isfinite(x)
    out = np.full(x.shape, -1, dtype=np.int64)
    ticks = np.ceil(x[finite] / tick_s - _TICK_SLACK)
    if ticks.size and ticks.max() >= 2.0**62:
        raise ModelError(f"a duration of {float(x[finite].max()):g} s is {float(ticks.max()):g}"
                         f" ticks of {tick_s:g} s, beyond 64-bit integers: use a coarser tick")
    out[finite] = ticks.astype(np.int64)
    out[finite & (out < 0)] = 0
    return out


def from_ticks(ticks: np.ndarray | int, tick_s: float) -> np.ndarray:
    """Integer ticks back to float seconds."""
    return np.asarray(ticks, dtype=float) * tick_s
