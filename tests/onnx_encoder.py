"""A transformer encoder layer written as PyTorch exports it: projections as MatMul with
weight initializers and bias Adds, heads split through ``Shape``/``Gather``/
``Unsqueeze``/``Concat``/``Reshape`` chains and ``Transpose``, scaled dot-product
attention with ``Softmax``, GELU as ``Div``/``Erf``/``Add``/``Mul``, and
``LayerNormalization`` after each residual ``Add``."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def encoder_macs(seq: int, d: int, ffn: int) -> int:
    """Multiply-accumulates of one encoder layer at batch 1: Q, K, V and output
    projections, the two attention products (over all heads) and the feed-forward."""
    return 4 * seq * d * d + 2 * seq * seq * d + 2 * seq * d * ffn


def write_encoder(path: Path, seq: int = 64, d: int = 128, heads: int = 4,
                  ffn: int = 512) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    dh = d // heads
    inits = []
    nodes = []

    def const(name: str, arr: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(arr, name))
        return name

    def node(op: str, ins: list[str], out: str, **attrs: object) -> str:
        nodes.append(helper.make_node(op, ins, [out], name=out, **attrs))
        return out

    def linear(x: str, name: str, n_in: int, n_out: int) -> str:
        w = const(f"{name}.weight", np.zeros((n_in, n_out), np.float32))
        b = const(f"{name}.bias", np.zeros(n_out, np.float32))
        return node("Add", [node("MatMul", [x, w], f"{name}_mm"), b], f"{name}_out")

    def heads_of(x: str, name: str) -> str:  # [1, S, d] -> [1, h, S, dh], shape by chain
        shape = node("Shape", [x], f"{name}_shape")
        batch = node("Gather", [shape, const(f"{name}_i0", np.array(0, np.int64))],
                     f"{name}_b")
        b1 = node("Unsqueeze", [batch, const(f"{name}_ax", np.array([0], np.int64))],
                  f"{name}_b1")
        rest = const(f"{name}_rest", np.array([seq, heads, dh], np.int64))
        target = node("Concat", [b1, rest], f"{name}_target", axis=0)
        return node("Transpose", [node("Reshape", [x, target], f"{name}_split")],
                    f"{name}_heads", perm=[0, 2, 1, 3])

    def layer_norm(x: str, name: str) -> str:
        return node("LayerNormalization", [x, const(f"{name}.g", np.ones(d, np.float32)),
                                           const(f"{name}.b", np.zeros(d, np.float32))],
                    name, axis=-1)

    q = heads_of(linear("x", "q", d, d), "qh")
    k = heads_of(linear("x", "k", d, d), "kh")
    v = heads_of(linear("x", "v", d, d), "vh")
    kt = node("Transpose", [k], "kt", perm=[0, 1, 3, 2])
    scores = node("Div", [node("MatMul", [q, kt], "qk"),
                          const("scale", np.array(np.sqrt(dh), np.float32))], "scaled")
    probs = node("Softmax", [scores], "softmax", axis=-1)
    ctx = node("Transpose", [node("MatMul", [probs, v], "pv")], "ctx_t", perm=[0, 2, 1, 3])
    merged = node("Reshape", [ctx, const("merge", np.array([1, seq, d], np.int64))], "merged")
    attn = linear(merged, "o", d, d)
    h1 = layer_norm(node("Add", ["x", attn], "res1"), "ln1")
    up = linear(h1, "ffn1", d, ffn)
    erf = node("Erf", [node("Div", [up, const("sqrt2", np.array(np.sqrt(2), np.float32))],
                            "gelu_div")], "gelu_erf")
    gate = node("Add", [erf, const("one", np.array(1, np.float32))], "gelu_add")
    gelu = node("Mul", [node("Mul", [up, gate], "gelu_mul"),
                        const("half", np.array(0.5, np.float32))], "gelu")
    down = linear(gelu, "ffn2", ffn, d)
    node("Identity", [layer_norm(node("Add", [h1, down], "res2"), "ln2")], "y")
    graph = helper.make_graph(
        nodes, "encoder", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, seq, d])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
