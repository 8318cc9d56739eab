"""XRBench (Kwon et al., MLSys 2023; MIT licence) usage scenarios, systems and dataflows,
written in MAESTRO's description language, as instances.

* A scenario file holds ``Network NAME { FPS: f [Probability: p] [Dependency: { UP }]
  Layer L { Type: CONV Dimensions: { N, K, C, Y, X, R, S } [Stride: { X, Y }] } ... }``:
  each network becomes a model whose layers follow one another in file order; a
  ``Dependency`` becomes an edge from the upstream network's last layer to this one's
  first layer; frame rate and trigger probability are kept as the workload's
  :class:`~h2h_opt.model.ModelInfo`.
* Every layer is in MAESTRO's conv form (fully connected and matmul layers as 1x1
  convolutions; ``DSCONV`` with ``K = 1`` is a depthwise layer, but XRBench's files write
  their depthwise layers as dense ``CONV`` with ``K = C``, imported as given): ``K`` out
  channels, ``C`` in channels, ``Y x X`` *input* rows and
  columns, ``R x S`` kernel, stride 1 unless given.  Output rows are ``(Y - R) / stride +
  1``; a kernel larger than its input (feature heads on 2x2 to 5x5 maps) is taken as a
  padded convolution whose output keeps the input size.
* A system file holds ``Accelerator NAME { num_pes, offchip_bw, global_shared_memory,
  ... }`` blocks, a dataflow file one ``Dataflow { ... }`` block per accelerator, in the
  same order.  A block is row-stationary if it maps the kernel rows ``R`` spatially,
  weight-stationary if it maps both channel dimensions ``K`` and ``C`` spatially, else
  output-stationary (XRBench's NVDLA-like WS, hand-optimised OS and Eyeriss-like RS).
  Each accelerator becomes a ``dataflow`` cost model with its PEs at ``clock_mhz``; the
  off-chip bandwidth (elements per cycle) times the clock and the element size is both
  its off-chip bandwidth and its host link; the global shared memory is its buffer and
  its weight capacity.  Energy comes from the dataflow model's per-access energies (the
  ``access`` energy model of the bundled systems).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..model import (
    Accelerator,
    Edge,
    Instance,
    Layer,
    ModelError,
    ModelInfo,
    Options,
    System,
    Workload,
)
from .files import InputError, read_text

__all__ = ["XrNetwork", "parse_dataflows", "parse_hw", "parse_scenario", "read_xrbench"]

#: Energies of the dataflow model per MAC, buffer access and off-chip element [pJ] (the
#: ``access`` energy model of :mod:`h2h_opt.library.zoo`) and of the host link [J/B].
_ENERGY = {"e_mac_pj": 1.0, "e_buf_pj": 2.0, "e_dram_pj": 200.0}
_LINK_J_PER_BYTE = 1e-10
_OPS = ("conv", "dwconv", "fc", "matmul", "lstm", "pool", "eltwise")

_TOKEN = re.compile(r"\s*(?:(//[^\n]*)|([A-Za-z_][A-Za-z0-9_']*)|(-?\d+(?:\.\d+)?)|(.))")


@dataclass
class _Tokens:
    """Tokens of a MAESTRO description with their line numbers (comments dropped)."""

    path: Path
    items: list[tuple[str, int]]
    pos: int = 0

    @classmethod
    def read(cls, path: Path) -> _Tokens:
        text = read_text(path)
        items: list[tuple[str, int]] = []
        for lineno, line in enumerate(text.splitlines(), start=1):
            for m in _TOKEN.finditer(line):
                tok = m.group(2) or m.group(3) or m.group(4)
                if tok and not tok.isspace():
                    items.append((tok, lineno))
        return cls(path, items)

    def error(self, msg: str) -> InputError:
        line = self.items[min(self.pos, len(self.items) - 1)][1] if self.items else 1
        return InputError(f"{self.path}:{line}: {msg}")

    def peek(self) -> str | None:
        return self.items[self.pos][0] if self.pos < len(self.items) else None

    def next(self, what: str) -> str:
        if self.pos >= len(self.items):
            self.pos = len(self.items)
            raise self.error(f"unexpected end of file, expected {what}")
        tok = self.items[self.pos][0]
        self.pos += 1
        return tok

    def expect(self, tok: str) -> None:
        got = self.next(repr(tok))
        if got != tok:
            self.pos -= 1
            raise self.error(f"expected {tok!r}, got {got!r}")

    def name(self, what: str) -> str:
        tok = self.next(what)
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_']*", tok):
            self.pos -= 1
            raise self.error(f"expected {what}, got {tok!r}")
        return tok

    def number(self, what: str) -> float:
        tok = self.next(what)
        try:
            return float(tok)
        except ValueError:
            self.pos -= 1
            raise self.error(f"{what}: expected a number, got {tok!r}") from None

    def integer(self, what: str) -> int:
        value = self.number(what)
        if value != int(value) or value < 1:
            self.pos -= 1
            raise self.error(f"{what}: expected a positive integer, got {value:g}")
        return int(value)


@dataclass
class XrNetwork:
    """One network of a scenario: frame rate, trigger, layers in conv form."""

    name: str
    line: int
    fps: float | None = None
    probability: float | None = None
    after: str | None = None
    layers: list[tuple[str, dict[str, int], int]] = field(default_factory=list)  # name, dims, line


_DIMS = ("N", "K", "C", "Y", "X", "R", "S")


def _dims_block(t: _Tokens, keys: tuple[str, ...], what: str, required: bool = True
                ) -> dict[str, int]:
    t.expect("{")
    out: dict[str, int] = {}
    while t.peek() != "}":
        key = t.name(f"a {what} dimension")
        if key not in keys:
            t.pos -= 1
            raise t.error(f"{what}: unknown dimension {key!r} (known: {', '.join(keys)})")
        if key in out:
            t.pos -= 1
            raise t.error(f"{what}: dimension {key!r} given twice")
        t.expect(":")
        out[key] = t.integer(f"{what} {key}")
        if t.peek() == ",":
            t.next(",")
    t.expect("}")
    missing = [k for k in keys if k not in out] if required else []
    if missing:
        t.pos -= 1
        raise t.error(f"{what}: missing dimension {missing[0]!r}")
    return out


def parse_scenario(path: str | Path) -> list[XrNetwork]:
    """The networks of an XRBench usage-scenario file, in file order."""
    t = _Tokens.read(Path(path))
    nets: list[XrNetwork] = []
    while t.peek() is not None:
        t.expect("Network")
        net = XrNetwork(t.name("a network name"), t.items[t.pos - 1][1])
        if any(n.name == net.name for n in nets):
            t.pos -= 1
            raise t.error(f"network {net.name!r} appears twice")
        t.expect("{")
        while t.peek() != "}":
            key = t.name("FPS, Probability, Dependency or Layer")
            if key == "FPS":
                t.expect(":")
                net.fps = t.number("FPS")
                if net.fps <= 0:
                    t.pos -= 1
                    raise t.error(f"FPS: must be > 0, got {net.fps:g}")
            elif key == "Probability":
                t.expect(":")
                net.probability = t.number("Probability")
                if not 0 <= net.probability <= 1:
                    t.pos -= 1
                    raise t.error(f"Probability: must be in [0, 1], got {net.probability:g}")
            elif key == "Dependency":
                t.expect(":")
                t.expect("{")
                ups = []
                while t.peek() != "}":
                    ups.append(t.name("an upstream network name"))
                    if t.peek() == ",":
                        t.next(",")
                t.expect("}")
                if len(ups) != 1:
                    t.pos -= 1
                    raise t.error(f"network {net.name!r}: Dependency names {len(ups)}"
                                  " networks; one is supported")
                net.after = ups[0]
            elif key == "Layer":
                lname = t.name("a layer name")
                line = t.items[t.pos - 1][1]
                t.expect("{")
                dims: dict[str, int] = {"dw": 0}
                while t.peek() != "}":
                    field_ = t.name("Type, Dimensions or Stride")
                    t.expect(":")
                    if field_ == "Type":
                        kind = t.name("a layer type")
                        if kind not in ("CONV", "DSCONV"):
                            t.pos -= 1
                            raise t.error(f"layer {lname!r}: type {kind!r} is not supported"
                                          " (CONV, DSCONV)")
                        dims["dw"] = int(kind == "DSCONV")
                    elif field_ == "Dimensions":
                        dims.update(_dims_block(t, _DIMS, f"layer {lname!r}"))
                    elif field_ == "Stride":
                        stride = _dims_block(t, ("X", "Y"), f"layer {lname!r} stride",
                                             required=False)
                        dims["stride_y"] = stride.get("Y", 1)
                        dims["stride_x"] = stride.get("X", 1)
                    else:
                        t.pos -= 2
                        raise t.error(f"layer {lname!r}: unknown field {field_!r}")
                t.expect("}")
                if "K" not in dims:
                    t.pos -= 1
                    raise t.error(f"layer {lname!r}: no Dimensions")
                if any(name == lname for name, _, _ in net.layers):
                    raise InputError(f"{t.path}:{line}: layer {lname!r} appears twice in"
                                     f" network {net.name!r}")
                net.layers.append((lname, dims, line))
            else:
                t.pos -= 1
                raise t.error(f"network {net.name!r}: unknown field {key!r}")
        t.expect("}")
        if not net.layers:
            raise InputError(f"{t.path}:{net.line}: network {net.name!r} has no layers")
        nets.append(net)
    if not nets:
        raise InputError(f"{t.path}:1: no Network")
    names = {n.name for n in nets}
    for n in nets:
        if n.after is not None and n.after not in names:
            raise InputError(f"{t.path}:{n.line}: network {n.name!r} depends on"
                             f" {n.after!r}, which the file does not define")
        if n.probability is not None and n.after is None:
            raise InputError(f"{t.path}:{n.line}: network {n.name!r} has a Probability but"
                             " no Dependency")
    after = {n.name: n.after for n in nets}
    for n in nets:  # a cascade must end: no network triggers itself, however far back
        seen, up = {n.name}, n.after
        while up is not None:
            if up in seen:
                raise InputError(f"{t.path}:{n.line}: network {n.name!r}: its Dependency"
                                 f" chain comes back to {up!r} (a cycle)")
            seen.add(up)
            up = after[up]
    return nets


def parse_hw(path: str | Path) -> list[tuple[str, dict[str, float]]]:
    """The accelerators of an XRBench system file: (name, numeric parameters)."""
    t = _Tokens.read(Path(path))
    accs: list[tuple[str, dict[str, float]]] = []
    while t.peek() is not None:
        t.expect("Accelerator")
        name = t.name("an accelerator name")
        if any(a[0] == name for a in accs):
            t.pos -= 1
            raise t.error(f"accelerator {name!r} appears twice")
        t.expect("{")
        params: dict[str, float] = {}
        while t.peek() != "}":
            key = t.name("a parameter name")
            t.expect(":")
            tok = t.peek()
            if tok in ("True", "False"):
                t.next("a value")
                params[key] = float(tok == "True")
            else:
                params[key] = t.number(key)
        t.expect("}")
        for key in ("num_pes", "offchip_bw", "global_shared_memory"):
            if key not in params:
                t.pos -= 1
                raise t.error(f"accelerator {name!r}: no {key}")
            if params[key] <= 0:
                t.pos -= 1
                raise t.error(f"accelerator {name!r}: {key} must be > 0, got {params[key]:g}")
        if params["num_pes"] != int(params["num_pes"]):
            t.pos -= 1
            raise t.error(f"accelerator {name!r}: num_pes must be a whole number, got"
                          f" {params['num_pes']:g}")
        accs.append((name, params))
    if not accs:
        raise InputError(f"{t.path}:1: no Accelerator")
    return accs


def _classify(maps: list[tuple[str, str]]) -> str:
    spatial = {dim.rstrip("'") for kind, dim in maps if kind == "SpatialMap"}
    if "R" in spatial:
        return "row_stationary"
    if {"K", "C"} <= spatial:
        return "weight_stationary"
    return "output_stationary"


def parse_dataflows(path: str | Path) -> list[str]:
    """The dataflow of each ``Dataflow`` block of a file, in order, as a preset of the
    ``dataflow`` cost model (see the module notes)."""
    t = _Tokens.read(Path(path))
    out: list[str] = []
    while t.peek() is not None:
        t.expect("Dataflow")
        t.expect("{")
        maps: list[tuple[str, str]] = []
        while t.peek() != "}":
            kind = t.name("TemporalMap, SpatialMap or Cluster")
            if kind not in ("TemporalMap", "SpatialMap", "Cluster"):
                t.pos -= 1
                raise t.error(f"unknown directive {kind!r} (TemporalMap, SpatialMap,"
                              " Cluster)")
            t.expect("(")
            while t.peek() != ")":
                t.next("')'")
            t.expect(")")
            if kind != "Cluster":
                maps.append((kind, t.name("a dimension")))
            t.expect(";")
        t.expect("}")
        out.append(_classify(maps))
    if not out:
        raise InputError(f"{t.path}:1: no Dataflow")
    return out


def _out_extent(size: int, kernel: int, stride: int) -> int:
    """MAESTRO's output extent of an input ``size`` (padding included in it); a kernel
    larger than its input is a padded convolution keeping the input size."""
    if kernel > size:
        return -(-size // stride)
    return (size - kernel) // stride + 1


def _layers(nets: list[XrNetwork], path: Path) -> Iterator[Layer]:
    for net in nets:
        for lname, d, line in net.layers:
            if d["N"] != 1:
                raise InputError(f"{path}:{line}: layer {lname!r}: batch N = {d['N']};"
                                 " only N = 1 is supported")
            sy, sx = d.get("stride_y", 1), d.get("stride_x", 1)
            if sy != sx:
                raise InputError(f"{path}:{line}: layer {lname!r}: strides {sy} and {sx}"
                                 " differ; one stride is supported")
            shape: dict[str, float] = {
                "M": d["K"], "N": d["C"], "R": _out_extent(d["Y"], d["R"], sy),
                "C": _out_extent(d["X"], d["S"], sx), "K": d["R"], "S": sy}
            if d["dw"]:  # MAESTRO's depthwise form: K = 1, one filter per channel
                if d["K"] != 1 or d["R"] != d["S"]:
                    raise InputError(f"{path}:{line}: layer {lname!r}: DSCONV needs K = 1"
                                     f" and a square kernel, got K = {d['K']},"
                                     f" {d['R']}x{d['S']}")
                del shape["M"]
            elif d["S"] != d["R"]:
                shape["KW"] = d["S"]
            # the padding that makes the input the file gives (rows, or columns when only
            # they are padded): none unless the kernel is larger than its input
            pad = max(0, (shape["R"] - 1) * sy + d["R"] - d["Y"],
                      (shape["C"] - 1) * sx + d["S"] - d["X"])
            if pad:
                shape["P"] = pad / 2
            try:
                yield Layer(id=f"{net.name}.{lname}", op="dwconv" if d["dw"] else "conv",
                            model=net.name, shape=shape)
            except ModelError as exc:
                raise InputError(f"{path}:{line}: {exc}") from None


def read_xrbench(scenario: str | Path, hw: str | Path, dataflows: str | Path, *,
                 clock_mhz: float = 1000.0, element_bytes: int = 1,
                 name: str | None = None) -> Instance:
    """An XRBench usage scenario on a system (``hw``) with one dataflow per accelerator
    (``dataflows``, the same count), as an instance (see the module notes)."""
    sp, hp, dp = Path(scenario), Path(hw), Path(dataflows)
    nets = parse_scenario(sp)
    accs = parse_hw(hp)
    flows = parse_dataflows(dp)
    if len(flows) != len(accs):
        raise InputError(f"{dp}: {len(flows)} Dataflow block(s) for the {len(accs)}"
                         f" accelerator(s) of {hp}")
    layers = list(_layers(nets, sp))
    edges = [Edge(f"{net.name}.{a[0]}", f"{net.name}.{b[0]}")
             for net in nets for a, b in zip(net.layers, net.layers[1:], strict=False)]
    last = {net.name: f"{net.name}.{net.layers[-1][0]}" for net in nets}
    edges += [Edge(last[net.after], f"{net.name}.{net.layers[0][0]}")
              for net in nets if net.after is not None]
    info = {net.name: ModelInfo(fps=net.fps, after=net.after, probability=net.probability)
            for net in nets}
    accelerators = []
    for (acc_name, p), flow in zip(accs, flows, strict=True):
        bw_bytes = p["offchip_bw"] * element_bytes * clock_mhz * 1e6  # bytes/s
        cm = {"kind": "dataflow", "dataflow": flow, "pes": int(p["num_pes"]),
              "clock_mhz": clock_mhz, "offchip_bw_gbps": bw_bytes / 1e9,
              "buffer_bytes": p["global_shared_memory"], **_ENERGY}
        accelerators.append(Accelerator(
            id=acc_name, ops=frozenset(_OPS), cost_model=cm, power_w=0.0,
            weight_capacity_bytes=p["global_shared_memory"], host_bandwidth_bps=bw_bytes,
            link_energy_jpb=_LINK_J_PER_BYTE))
    try:
        workload = Workload(tuple(layers), tuple(edges), info)
        return Instance(name or f"{sp.stem}-{hp.stem}-{dp.stem}", workload,
                        System(tuple(accelerators)),
                        Options(comm="host", locality="same_accelerator",
                                element_bytes=element_bytes))
    except ModelError as exc:
        raise InputError(f"{sp}: {exc}") from None
