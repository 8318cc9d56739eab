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


def read_onnx(path: str | Path, system: System, element_bytes: int = 1) -> Instance:
    """An ONNX model as a workload (one model), on ``system`` (e.g. a preset of
    :func:`h2h_opt.library.zoo.system_preset`)."""
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
    ordered = sorted(edges, key=lambda e: ([x.id for x in layers].index(e[1]), e[0]))
    return Instance(model_name, Workload(tuple(layers), tuple(Edge(u, v) for u, v in ordered)),
                    system, Options(comm="host", locality="same_accelerator",
                                    element_bytes=element_bytes))
