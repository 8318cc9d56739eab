"""ONNX models: Conv (grouped = depthwise), Gemm/MatMul, LSTM, pooling and element-wise
nodes become layers with shapes from ONNX shape inference; activation and
normalisation nodes fold into their producer."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..model import (
    Edge,
    Instance,
    Layer,
    ModelError,
    Options,
    System,
    Workload,
)
from .files import InputError

__all__ = ["read_onnx"]


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


def _layer_shape(node: Any, helper: Any, shp: Any, inits: dict[str, Any],
                 data_in: list[str], p: Path) -> tuple[str, dict[str, Any]]:
    """The op kind and shape of the layer a supported node becomes (SPEC §1)."""
    op = node.op_type
    if op not in ("Conv", "Gemm", "MatMul", "LSTM") and op not in _POOL | _ELTWISE:
        raise InputError(f"{p}: node {node.name or op!r}: op {op!r} is not supported"
                         f" (Conv, Gemm, MatMul, LSTM, pooling, element-wise)")
    at = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    out = shp(node.output[0], node)
    shape: dict[str, Any]
    if op == "Conv":
        x, w = shp(node.input[0], node), shp(node.input[1], node)
        group = int(at.get("group", 1))
        kk = int(w[2]) if len(w) > 2 else 1
        stride = int(at.get("strides", [1])[0])
        pad = int(at.get("pads", [0])[0])
        r, c = (out[2], out[3]) if len(out) == 4 else (out[2], 1)
        if group > 1 and group == x[1] == w[0]:
            kind, shape = "dwconv", {"N": x[1], "R": r, "C": c, "K": kk, "S": stride,
                                     "P": pad}
        elif group == 1:
            kind, shape = "conv", {"M": w[0], "N": x[1], "R": r, "C": c, "K": kk,
                                   "S": stride, "P": pad}
        else:
            raise InputError(f"{p}: node {node.name or op!r}: grouped convolution with"
                             f" {group} groups, {x[1]} in and {w[0]} out channels is not"
                             " supported (only 1 group, or depthwise: groups = in = out)")
    elif op in ("Gemm", "MatMul"):
        a = shp(node.input[0], node)
        if op == "Gemm" and at.get("transA"):  # A is (K, M)
            a = a[::-1]
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
    return kind, shape


def _dims_text(dims: Any) -> str:
    return "[" + ", ".join(str(d.dim_value) if d.HasField("dim_value") else (d.dim_param or "?")
                           for d in dims) + "]"


def _fix_inputs(g: Any, p: Path, input_shapes: dict[str, tuple[int, ...]]) -> None:
    """Check that every model input has a fixed shape, after ``input_shapes`` (name ->
    dims) replaced the shapes it names; clears inferred shapes when it replaced any."""
    init_names = {t.name for t in g.initializer}
    inputs = [vi for vi in g.input if vi.name not in init_names
              and vi.type.HasField("tensor_type")]
    names = [vi.name for vi in inputs]
    for name, dims in input_shapes.items():
        if name not in names:
            raise InputError(f"{p}: --input-shape {name}: no model input of that name"
                             f" (inputs: {', '.join(names) or 'none'})")
        if not dims or any(isinstance(d, bool) or not isinstance(d, int) or d < 1
                           for d in dims):
            raise InputError(f"{p}: --input-shape {name}: dimensions must be positive"
                             f" integers, got {list(dims)}")
    for vi in inputs:
        tt = vi.type.tensor_type
        if vi.name in input_shapes:
            new = input_shapes[vi.name]
            if tt.HasField("shape"):
                if len(tt.shape.dim) != len(new):
                    raise InputError(f"{p}: --input-shape {vi.name}: {len(new)} dimensions,"
                                     f" the model's input has {len(tt.shape.dim)}"
                                     f" {_dims_text(tt.shape.dim)}")
                for j, (d, v) in enumerate(zip(tt.shape.dim, new, strict=True)):
                    if d.HasField("dim_value") and d.dim_value != v:
                        raise InputError(f"{p}: --input-shape {vi.name}: dimension {j} is"
                                         f" {d.dim_value} in the model, not {v}")
            tt.shape.ClearField("dim")
            for v in new:
                tt.shape.dim.add().dim_value = v
            continue
        if not tt.HasField("shape"):
            raise InputError(f"{p}: input {vi.name!r} has no shape: give it with"
                             f" --input-shape {vi.name}=D0,D1,...")
        zero = [j for j, d in enumerate(tt.shape.dim)
                if d.HasField("dim_value") and d.dim_value < 1]
        if zero:
            raise InputError(f"{p}: input {vi.name!r} has an empty dimension {zero[0]}"
                             f" (shape {_dims_text(tt.shape.dim)})")
        free = [j for j, d in enumerate(tt.shape.dim) if not d.HasField("dim_value")]
        if free:
            raise InputError(f"{p}: input {vi.name!r} has symbolic dimension(s)"
                             f" {', '.join(str(j) for j in free)} (shape"
                             f" {_dims_text(tt.shape.dim)}): fix them with --input-shape"
                             f" {vi.name}={_dims_text(tt.shape.dim)[1:-1].replace(' ', '')}"
                             " (numbers in place of the names)")
    if input_shapes:  # shapes inferred from the old input shapes are stale
        del g.value_info[:]
        for vi in g.output:
            if vi.type.HasField("tensor_type"):
                vi.type.tensor_type.ClearField("shape")


def read_onnx(path: str | Path, system: System, element_bytes: int = 1,
              input_shapes: dict[str, tuple[int, ...]] | None = None) -> Instance:
    """An ONNX model as a workload (one model), on ``system`` (e.g. a preset of
    :func:`h2h_opt.library.zoo.system_preset`).

    Every model input must have a fixed shape: a symbolic dimension (a dynamic batch,
    height, sequence length...) is an error naming the input, unless ``input_shapes``
    (``h2h import onnx --input-shape NAME=1,3,224,224``) gives that input's whole shape;
    a dimension the model fixes must agree.  Shapes are then inferred from the inputs;
    a layer whose tensors keep an unknown dimension is an error naming the node.
    """
    try:
        import onnx
        from onnx import numpy_helper, shape_inference
    except ImportError:  # pragma: no cover - optional extra
        raise InputError("the ONNX importer needs the 'onnx' package: pip install"
                         " 'h2h-opt[onnx]'") from None
    p = Path(path)
    try:
        model = onnx.load(str(p))
    except Exception as exc:  # noqa: BLE001 - onnx raises many kinds; report one line
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{p}: not a readable ONNX model ({msg})") from None
    _fix_inputs(model.graph, p, dict(input_shapes or {}))
    try:
        model = shape_inference.infer_shapes(model)
        inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    except Exception as exc:  # noqa: BLE001 - onnx raises many kinds; report one line
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{p}: not a readable ONNX model ({msg})") from None
    g = model.graph
    shapes: dict[str, list[int | None]] = {}
    for vi in list(g.input) + list(g.value_info) + list(g.output):
        tt = vi.type.tensor_type
        if not vi.type.HasField("tensor_type") or not tt.HasField("shape"):
            continue
        shapes[vi.name] = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0
                           else None for d in tt.shape.dim]
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
        dims = shapes[t]
        if any(d is None for d in dims):
            raise InputError(f"{p}: node {node.name or node.op_type!r}: tensor {t!r} has"
                             f" an unknown dimension after shape inference (shape"
                             f" [{', '.join('?' if d is None else str(d) for d in dims)}])")
        return [int(d) for d in dims if d is not None]

    for k, node in enumerate(g.node):
        op = node.op_type
        data_in = [t for t in node.input if t and t not in inits]
        srcs = set().union(*(producer.get(t, set()) for t in data_in)) if data_in else set()
        if op in _FOLD or op == "Constant":
            for t in node.output:
                producer[t] = srcs
            continue
        try:
            kind, shape = _layer_shape(node, onnx.helper, shp, inits, data_in, p)
        except (IndexError, KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, InputError):
                raise
            raise InputError(f"{p}: node {node.name or op!r} ({op}): unexpected attributes or"
                             f" tensor ranks ({type(exc).__name__}: {exc})") from None
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
    ordered = sorted(edges, key=lambda e: ([x.id for x in layers].index(e[1]), e[0]))
    return Instance(model_name, Workload(tuple(layers), tuple(Edge(u, v) for u, v in ordered)),
                    system, Options(comm="host", locality="same_accelerator",
                                    element_bytes=element_bytes))
