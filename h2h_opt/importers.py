"""Importers for formats the field already uses: GXL task graphs, MAESTRO's per-layer
CSV output, and ONNX models.  Every malformed input is an :class:`InputError` of one
line naming the file and what is wrong.

* GXL (the XML graph format of the Auckland optimal-task-scheduling graphs, Sinnen et
  al.): node weight = compute time on identical processors, edge weight = the
  communication delay paid when the two ends run on different processors, i.e. ``p2p``
  with uniform delays (SPEC §4.2: ``bw = 1``, ``λ = 0``, ``d_uv`` = the delay).
* MAESTRO CSV (``--print_res_csv_file``): runtime in cycles and energy in nJ per layer,
  mapped to instance layers and accelerators by a layer map, into ``table`` cost models.
* ONNX: Conv (grouped = depthwise), Gemm/MatMul, LSTM, pooling and element-wise nodes
  become layers with shapes from ONNX shape inference; activation and normalisation
  nodes fold into their producer.
"""

from __future__ import annotations

import csv
import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from .io import InputError, replace_cost_tables
from .model import (
    Accelerator,
    Edge,
    Instance,
    Layer,
    Links,
    ModelError,
    Options,
    System,
    Workload,
)

__all__ = ["parse_gxl", "read_gxl", "read_maestro", "read_onnx", "task_graph_instance"]


def task_graph_instance(name: str, costs: dict[str, float],
                        edges: list[tuple[str, str, float]], procs: int) -> Instance:
    """A task graph on ``procs`` identical processors (``P|prec,c_ij|Cmax``): ``p2p``,
    every link of bandwidth 1 and latency 0 so an edge's data *is* its delay (E7);
    ``tick_s = 1`` (the graph's time unit)."""
    if isinstance(procs, bool) or not isinstance(procs, int) or procs < 1:
        raise InputError(f"--procs: must be a positive integer, got {procs!r}")
    layers = tuple(Layer(id=t, op="task", model="graph") for t in costs)
    ed = tuple(Edge(u, v, float(d)) for u, v, d in edges)
    accs = tuple(Accelerator(id=f"P{p + 1}", ops=frozenset({"task"}),
                             cost_model={"kind": "table", "time_s": dict(costs)})
                 for p in range(procs))
    inf = math.inf
    bw = tuple(tuple(inf if a == b else 1.0 for b in range(procs)) for a in range(procs))
    zero = tuple(tuple(0.0 for _ in range(procs)) for _ in range(procs))
    return Instance(name, Workload(layers, ed), System(accs, Links(bw, zero, zero)),
                    Options(comm="p2p", tick_s=1.0))


# --------------------------------------------------------------------------- GXL

def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _attrs(elem: ET.Element) -> dict[str, str]:
    out = {}
    for attr in elem:
        if _local(attr.tag) != "attr" or "name" not in attr.attrib:
            continue
        values = [v.text or "" for v in attr]
        out[attr.attrib["name"].strip().lower()] = values[0].strip() if values else ""
    return out


def _weight(attrs: dict[str, str], what: str) -> float:
    for key in ("weight", "computation", "communication", "cost"):
        if key in attrs:
            try:
                val = float(attrs[key])
            except ValueError:
                raise InputError(f"{what}: weight {attrs[key]!r} is not a number") from None
            if not math.isfinite(val) or val < 0:
                raise InputError(f"{what}: weight must be finite and >= 0, got {attrs[key]!r}")
            return val
    raise InputError(f"{what}: no Weight attribute")


def parse_gxl(text: str, procs: int, name: str = "gxl") -> Instance:
    """A GXL task graph as an instance (see the module docstring)."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise InputError(f"GXL: not well-formed XML ({exc})") from None
    graph = next((g for g in root.iter() if _local(g.tag) == "graph"), None)
    if graph is None:
        raise InputError("GXL: no <graph> element")
    costs: dict[str, float] = {}
    for node in graph:
        if _local(node.tag) != "node":
            continue
        nid = node.attrib.get("id")
        if not nid:
            raise InputError("GXL: a <node> without an id")
        if nid in costs:
            raise InputError(f"GXL: node {nid!r} appears twice")
        costs[nid] = _weight(_attrs(node), f"GXL node {nid!r}")
    if not costs:
        raise InputError("GXL: the graph has no nodes")
    edges = []
    for edge in graph:
        if _local(edge.tag) != "edge":
            continue
        u, v = edge.attrib.get("from"), edge.attrib.get("to")
        if u not in costs or v not in costs:
            raise InputError(f"GXL edge {u!r}->{v!r}: unknown node")
        edges.append((u, v, _weight(_attrs(edge), f"GXL edge {u!r}->{v!r}")))
    try:
        return task_graph_instance(name, costs, edges, procs)
    except ModelError as exc:
        raise InputError(f"GXL: {exc}") from None


def _read_text(path: str | Path) -> str:
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{p}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise InputError(f"{p}: not a UTF-8 text file") from None


def read_gxl(path: str | Path, procs: int) -> Instance:
    p = Path(path)
    text = _read_text(p)  # its errors name the file already
    try:
        return parse_gxl(text, procs, name=f"{p.stem}-p{procs}")
    except InputError as exc:
        raise InputError(f"{p}: {exc}") from None


# --------------------------------------------------------------------------- MAESTRO

def _maestro_rows(path: Path) -> list[dict[str, str]]:
    text = _read_text(path)
    rows = list(csv.reader(text.splitlines()))
    if len(rows) < 2:
        raise InputError(f"{path}: expected a MAESTRO CSV header and at least one row")
    head = [h.strip() for h in rows[0]]
    need = ("Neural Network Name", "Layer Number", "Runtime (Cycles)",
            "Activity count-based Energy (nJ)")
    missing = [h for h in need if h not in head]
    if missing:
        raise InputError(f"{path}: not a MAESTRO result CSV (missing column(s)"
                         f" {', '.join(repr(m) for m in missing)})")
    return [dict(zip(head, (c.strip() for c in row), strict=False)) for row in rows[1:] if row]


def read_maestro(inst: Instance, csv_paths: list[str | Path], layer_map: str | Path,
                 clock_mhz: float) -> Instance:
    """Replace cost models by MAESTRO's numbers: ``t = cycles / f``, ``e`` = its energy.

    ``layer_map`` is a CSV with columns ``maestro_layer,layer,accelerator`` and an
    optional ``network`` (MAESTRO's "Neural Network Name"; empty = any): each MAESTRO
    row matching ``(network, maestro_layer)`` gives the cost of ``layer`` on
    ``accelerator``.  Every map row must be matched.  An accelerator that already has a
    ``table`` model keeps the entries the map does not replace; any other must get every
    layer it runs from the map.
    """
    if not (isinstance(clock_mhz, int | float) and math.isfinite(clock_mhz) and clock_mhz > 0):
        raise InputError(f"--clock-mhz: must be a positive number, got {clock_mhz!r}")
    mp = Path(layer_map)
    mrows = list(csv.DictReader(_read_text(mp).splitlines()))
    if not mrows or not {"maestro_layer", "layer", "accelerator"} <= set(mrows[0]):
        raise InputError(f"{mp}: a layer map needs columns maestro_layer,layer,accelerator")
    results: list[tuple[Path, dict[str, str]]] = []
    for p in map(Path, csv_paths):
        results += [(p, r) for r in _maestro_rows(p)]
    tables: dict[str, dict[str, dict[str, float]]] = {}
    for line, m in enumerate(mrows, start=2):
        net, ml = (m.get("network") or "").strip(), m["maestro_layer"].strip()
        lid, acc = m["layer"].strip(), m["accelerator"].strip()
        if lid not in inst.workload.index:
            raise InputError(f"{mp} line {line}: unknown layer {lid!r}")
        if acc not in inst.system.index:
            raise InputError(f"{mp} line {line}: unknown accelerator {acc!r}")
        hits = [(p, r) for p, r in results if r["Layer Number"] == ml
                and (not net or r["Neural Network Name"] == net)]
        if len(hits) != 1:
            raise InputError(f"{mp} line {line}: {len(hits)} MAESTRO rows match"
                             f" {net + '/' if net else ''}{ml!r} (need exactly one)")
        p, r = hits[0]
        try:
            cycles = float(r["Runtime (Cycles)"])
            energy_nj = float(r["Activity count-based Energy (nJ)"])
        except ValueError:
            raise InputError(f"{p}: layer {ml!r}: non-numeric runtime or energy") from None
        if acc not in tables:  # an existing table keeps the layers the map leaves out
            old = inst.system.accelerators[inst.system.index[acc]].cost_model
            keep = old.get("kind") == "table"
            tables[acc] = {k: dict(old.get(k, {})) if keep else {}
                           for k in ("time_s", "energy_j")}
        entry = tables[acc]
        entry["time_s"][lid] = cycles / (clock_mhz * 1e6)
        entry["energy_j"][lid] = energy_nj * 1e-9
    return replace_cost_tables(inst, tables, str(mp))


# --------------------------------------------------------------------------- ONNX

#: Nodes that fold into their producer (applied element-wise on its output, or a
#: normalisation folded into the weights at inference).
_FOLD = {"Relu", "LeakyRelu", "Sigmoid", "Tanh", "Clip", "HardSwish", "HardSigmoid",
         "BatchNormalization", "Dropout", "Identity", "Softplus", "Elu", "Gelu", "Erf",
         "Cast", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Transpose"}
_ELTWISE = {"Add", "Mul", "Sub", "Div", "Sum", "Max", "Min", "Concat", "Softmax",
            "LayerNormalization", "Pow", "Sqrt"}
_POOL = {"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool"}


def _channels_rows_cols(dims: list[int]) -> tuple[int, int, int]:
    """``N, R, C`` of an element-wise output: NCHW drops the batch, rank 3 is taken as
    is, rank 2 as one channel, rank 1 as channels."""
    if len(dims) >= 4:
        return dims[1], dims[2], dims[3]
    if len(dims) == 3:
        return dims[0], dims[1], dims[2]
    if len(dims) == 2:
        return 1, dims[0], dims[1]
    return (dims[0] if dims else 1), 1, 1


def read_onnx(path: str | Path, system: System | None = None, bandwidth_gbps: float = 1.25,
              element_bytes: int = 1) -> Instance:
    """An ONNX model as a workload (one model), on ``system`` (default: the ``hetero4``
    dataflow preset)."""
    try:
        import onnx
        from onnx import numpy_helper, shape_inference
    except ImportError:  # pragma: no cover - optional extra
        raise InputError("the ONNX importer needs the 'onnx' package: pip install"
                         " 'h2h-opt[onnx]'") from None
    p = Path(path)
    try:
        model = onnx.load(str(p))
        model = shape_inference.infer_shapes(model)
    except Exception as exc:  # noqa: BLE001 - onnx raises many kinds; report one line
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{p}: not a readable ONNX model ({msg})") from None
    g = model.graph
    shapes: dict[str, list[int]] = {}
    for vi in list(g.input) + list(g.value_info) + list(g.output):
        dims = vi.type.tensor_type.shape.dim
        shapes[vi.name] = [d.dim_value if d.dim_value > 0 else 1 for d in dims]
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    for name, arr in inits.items():
        shapes[name] = list(arr.shape)
    producer: dict[str, set[str]] = {}  # tensor -> layer ids it carries data from
    layers: list[Layer] = []
    edges: set[tuple[str, str]] = set()
    model_name = p.stem
    used: set[str] = set()

    def shp(t: str, node: Any) -> list[int]:
        if t not in shapes:
            raise InputError(f"{p}: node {node.name or node.op_type!r}: no shape for"
                             f" tensor {t!r} (shape inference failed)")
        return shapes[t]

    for k, node in enumerate(g.node):
        op = node.op_type
        data_in = [t for t in node.input if t and t not in inits]
        srcs = set().union(*(producer.get(t, set()) for t in data_in)) if data_in else set()
        if op in _FOLD or op == "Constant":
            for t in node.output:
                producer[t] = srcs
            continue
        at = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        out = shp(node.output[0], node)
        shape: dict[str, Any]
        if op == "Conv":
            x, w = shp(node.input[0], node), shp(node.input[1], node)
            group = int(at.get("group", 1))
            kk = int(w[2]) if len(w) > 2 else 1
            stride = int(at.get("strides", [1])[0])
            pad = int(at.get("pads", [0])[0])
            r, c = (out[2], out[3]) if len(out) == 4 else (out[2], 1)
            if group > 1 and group == x[1]:
                kind, shape = "dwconv", {"N": x[1], "R": r, "C": c, "K": kk, "S": stride,
                                         "P": pad}
            elif group == 1:
                kind, shape = "conv", {"M": w[0], "N": x[1], "R": r, "C": c, "K": kk,
                                       "S": stride, "P": pad}
            else:
                raise InputError(f"{p}: node {node.name or op!r}: grouped convolution with"
                                 f" {group} groups is not supported (only 1 or depthwise)")
        elif op in ("Gemm", "MatMul"):
            a = shp(node.input[0], node)
            b_name = node.input[1]
            kdim = a[-1]
            n_out = out[-1]
            rows = int(math.prod(a[:-1])) if len(a) > 1 else 1
            if b_name in inits and rows == 1:
                kind, shape = "fc", {"M": n_out, "N": kdim}
            else:
                kind, shape = "matmul", {"m": rows, "k": kdim, "n": n_out,
                                         "weights": b_name in inits}
        elif op == "LSTM":
            x = shp(node.input[0], node)  # [T, batch, D]
            kind, shape = "lstm", {"H": int(at["hidden_size"]), "D": x[2], "T": x[0]}
        elif op in _POOL:
            x = shp(node.input[0], node)
            if op.startswith("Global"):
                kk, stride = x[2], 1
            else:
                kk = int(at.get("kernel_shape", [1])[0])
                stride = int(at.get("strides", [1])[0])
            kind, shape = "pool", {"N": x[1], "R": out[2], "C": out[3] if len(out) > 3 else 1,
                                   "K": kk, "S": stride, "P": 0}
        elif op in _ELTWISE:
            n_ch, r, c = _channels_rows_cols(out)
            kind, shape = "eltwise", {"N": n_ch, "R": r, "C": c,
                                      "inputs": max(1, len(data_in))}
        else:
            raise InputError(f"{p}: node {node.name or op!r}: op {op!r} is not supported"
                             f" (Conv, Gemm, MatMul, LSTM, pooling, element-wise)")
        lid = node.name or f"{op.lower()}{k}"
        while lid in used:
            lid += "_"
        used.add(lid)
        try:
            layers.append(Layer(id=lid, op=kind, model=model_name,
                                shape={key: (int(v) if isinstance(v, int | float)
                                             and not isinstance(v, bool) else v)
                                       for key, v in shape.items()}))
        except ModelError as exc:
            raise InputError(f"{p}: node {lid!r}: {exc}") from None
        edges.update((u, lid) for u in srcs)
        for t in node.output:
            producer[t] = {lid}
    if not layers:
        raise InputError(f"{p}: no supported layers")
    if system is None:
        from .zoo import system_preset

        system = system_preset("hetero4", bandwidth_gbps)
    ordered = sorted(edges, key=lambda e: ([x.id for x in layers].index(e[1]), e[0]))
    return Instance(model_name, Workload(tuple(layers), tuple(Edge(u, v) for u, v in ordered)),
                    system, Options(comm="host", locality="same_accelerator",
                                    element_bytes=element_bytes))
