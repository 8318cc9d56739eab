"""ONNX models as exported: compute nodes become layers with shapes from ONNX shape
inference, constants (whatever produces them) are weights, shape-only and per-element
nodes fold into their producer; several files compose into one multi-model workload."""

from __future__ import annotations

import math
from collections.abc import Sequence
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

__all__ = ["read_onnx", "read_onnx_models"]


#: Nodes that become layers whatever else they read (their weights may come from an
#: initializer, a ``Constant``, a ``ConstantOfShape`` or a chain of shape ops).
_COMPUTE = {"Conv", "Gemm", "MatMul", "LSTM", "GRU"}
_POOL = {"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LpPool"}
#: Element-wise nodes: a layer when they combine data tensors of different producers (a
#: residual add, a concatenation of branches), else a cheap per-element op that folds.
_COMBINE = {"Add", "Sub", "Mul", "Div", "Sum", "Max", "Min", "Mean", "Pow", "Concat",
            "Where"}
#: Reductions and normalisations that cannot fold into weights: one-input layers.
_REDUCE = {"Softmax", "LogSoftmax", "LayerNormalization", "LRN", "ReduceMean",
           "ReduceSum", "ReduceMax", "InstanceNormalization", "GroupNormalization"}
#: Shape-only, data-movement-free and cheap per-element ops: they fold into their
#: producer (the consumers read what the producer wrote).  ``BatchNormalization`` folds
#: into the weights at inference.
_FOLD = {"Relu", "LeakyRelu", "PRelu", "Sigmoid", "Tanh", "Clip", "HardSwish",
         "HardSigmoid", "Softplus", "Elu", "Selu", "Gelu", "Erf", "Exp", "Log", "Neg",
         "Abs", "Sqrt", "Reciprocal", "Mish", "BatchNormalization", "Dropout", "Identity",
         "Cast", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Transpose", "Split",
         "Slice", "Gather", "Expand", "Tile", "Pad", "Resize", "Upsample",
         "DepthToSpace", "SpaceToDepth"}
#: Ops whose outputs describe a tensor's shape, not its values (constants once shapes
#: are inferred).
_SHAPE_OF = {"Shape", "Size"}


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


def _layer_shape(node: Any, at: dict[str, Any], shp: Any, const: set[str],
                 data_in: list[str]) -> tuple[str, dict[str, Any]]:
    """The op kind and shape of the layer a node becomes (SPEC §1)."""
    op = node.op_type
    out = shp(node.output[0], node)
    shape: dict[str, Any]
    if op == "Conv":
        x, w = shp(node.input[0], node), shp(node.input[1], node)
        if len(w) > 4:
            raise InputError(f"node {node.name or op!r}: a {len(w) - 2}-D convolution is not"
                             " supported (1-D and 2-D)")
        group = int(at.get("group", 1))
        kh = int(w[2]) if len(w) > 2 else 1
        kw = int(w[3]) if len(w) > 3 else 1  # a 1-D kernel runs along the rows
        stride = int(at.get("strides", [1])[0])
        pad = int(at.get("pads", [0])[0])
        r, c = (out[2], out[3]) if len(out) == 4 else (out[2], 1)
        in_rc = x[2:]
        if group == 1 and kh == kw == 1 and r == c == 1 and all(d == 1 for d in in_rc):
            # a 1x1 convolution on a 1x1 map is a fully connected layer
            return "fc", {"M": w[0], "N": x[1]}
        if group > 1 and group == x[1] == w[0] and kh == kw:
            return "dwconv", {"N": x[1], "R": r, "C": c, "K": kh, "S": stride, "P": pad}
        shape = {"M": w[0], "N": x[1], "R": r, "C": c, "K": kh, "S": stride, "P": pad}
        if kw != kh:
            shape["KW"] = kw
        if group > 1:
            shape["G"] = group
        return "conv", shape
    if op in ("Gemm", "MatMul"):
        a = shp(node.input[0], node)
        if op == "Gemm" and at.get("transA"):  # A is (K, M)
            a = a[::-1]
        b = shp(node.input[1], node)
        if op == "Gemm" and at.get("transB"):
            b = b[::-1]
        kdim = a[-1]
        n_out = b[-1] if len(b) > 1 else 1  # a matrix times a vector: one column
        rows = int(math.prod(a[:-1])) if len(a) > 1 else 1
        # a batched B repeats the product for each leading index A does not have
        rows *= int(math.prod(b[:-2])) // max(1, int(math.prod(a[:-2]))) if len(b) > 2 \
            and len(b) > len(a) else 1
        weights = node.input[1] in const
        if weights and rows == 1:
            return "fc", {"M": n_out, "N": kdim}
        return "matmul", {"m": rows, "k": kdim, "n": n_out, "weights": weights}
    if op in ("LSTM", "GRU"):
        x = shp(node.input[0], node)  # [T, batch, D], or [batch, T, D] with layout 1
        steps = x[1] if int(at.get("layout", 0)) == 1 else x[0]
        shape = {"H": int(at["hidden_size"]), "D": x[2], "T": steps}
        directions = 2 if at.get("direction", b"forward") in (b"bidirectional",
                                                              "bidirectional") else 1
        gates = (4 if op == "LSTM" else 3) * directions  # both directions' gates
        if gates != 4:
            shape["gates"] = gates
        return "lstm", shape
    if op in _POOL:
        x = shp(node.input[0], node)
        if op.startswith("Global"):
            kernel, stride = x[2:] or [1], 1
        else:
            kernel = list(at.get("kernel_shape", [1]))
            stride = int(at.get("strides", [1])[0])
        kh, kw = int(kernel[0]), int(kernel[1]) if len(kernel) > 1 else 1
        pad = int(at.get("pads", [0])[0])
        shape = {"N": x[1], "R": out[2], "C": out[3] if len(out) > 3 else 1, "K": kh,
                 "S": stride, "P": pad}
        if kw != kh:
            shape["KW"] = kw
        return "pool", shape
    n_ch, r, c = _channels_rows_cols(out)
    return "eltwise", {"N": n_ch, "R": r, "C": c, "inputs": max(1, len(data_in))}


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
              input_shapes: dict[str, tuple[int, ...]] | None = None,
              fold_unknown: bool = False) -> Instance:
    """An ONNX model as a workload (one model), on ``system`` (e.g. a preset of
    :func:`h2h_opt.library.zoo.system_preset`); see :func:`read_onnx_models`."""
    return read_onnx_models([path], system, element_bytes, input_shapes, fold_unknown)


def read_onnx_models(paths: Sequence[str | Path], system: System, element_bytes: int = 1,
                     input_shapes: dict[str, tuple[int, ...]] | None = None,
                     fold_unknown: bool = False, folded: list[str] | None = None
                     ) -> Instance:
    """ONNX models as one multi-model workload, each file a model named after its stem
    (``-2``, ``-3``... when two stems agree; layer ids prefixed by the model name when
    there are several files).

    Every compute node becomes a layer (Conv, grouped or depthwise; Gemm/MatMul; LSTM,
    GRU; pooling; an element-wise node that combines the data of different producers,
    such as a residual add or a concatenation of branches; reductions and normalisations that
    cannot fold into weights, such as Softmax, LayerNormalization, LRN).  A tensor that
    depends on no model input (an initializer, ``Constant``, ``ConstantOfShape``, a
    chain of ``Shape``/``Gather``/``Concat``...) is a constant: a weight when a layer
    reads it, its size from its inferred shape.  Shape-only and cheap per-element
    nodes fold into their producer.  Any other op is an error naming it and the node,
    or with ``fold_unknown`` folds too and is listed in ``folded`` ("op (node)").

    Every model input must have a fixed shape: a symbolic dimension (a dynamic batch,
    height, sequence length...) is an error naming the input, unless ``input_shapes``
    (``h2h import onnx --input-shape NAME=1,3,224,224``) gives that input's whole shape;
    a dimension the model fixes must agree.  Shapes are then inferred from the inputs;
    a layer whose tensors keep an unknown dimension is an error naming the node.
    """
    try:
        import onnx  # noqa: F401 - checked here for the message
    except ImportError:  # pragma: no cover - optional extra
        raise InputError("the ONNX importer needs the 'onnx' package: pip install"
                         " 'h2h-opt[onnx]'") from None
    if not paths:
        raise InputError("no ONNX model given")
    shapes_left = dict(input_shapes or {})
    models = [_load(Path(p)) for p in paths]
    for name in shapes_left:
        if not any(name in _input_names(m.graph) for m in models):
            where = str(paths[0]) if len(paths) == 1 else "the models"
            inputs = sorted({i for m in models for i in _input_names(m.graph)})
            raise InputError(f"{where}: --input-shape {name}: no model input of that name"
                             f" (inputs: {', '.join(inputs) or 'none'})")
    layers: list[Layer] = []
    edges: list[Edge] = []
    names: set[str] = set()
    used: set[str] = set()  # layer ids of every file (``a.b`` + ``x`` vs ``a`` + ``b.x``)
    for p, model in zip(paths, models, strict=True):
        name = stem = Path(p).stem
        k = 1
        while name in names:
            k += 1
            name = f"{stem}-{k}"
        names.add(name)
        mine = {n: d for n, d in shapes_left.items() if n in _input_names(model.graph)}
        got, got_edges = _graph_layers(Path(p), model, name, mine, fold_unknown,
                                       folded if folded is not None else [],
                                       prefix=f"{name}." if len(paths) > 1 else "",
                                       used=used)
        layers += got
        edges += got_edges
    inst_name = names.pop() if len(paths) == 1 else "+".join(
        Path(p).stem for p in paths)
    return Instance(inst_name, Workload(tuple(layers), tuple(edges)), system,
                    Options(comm="host", locality="same_accelerator",
                            element_bytes=element_bytes))


def _input_names(g: Any) -> set[str]:
    inits = {t.name for t in g.initializer}
    return {vi.name for vi in g.input if vi.name not in inits}


def _load(p: Path) -> Any:
    import onnx

    try:
        return onnx.load(str(p))
    except Exception as exc:  # noqa: BLE001 - onnx raises many kinds; report one line
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{p}: not a readable ONNX model ({msg})") from None


def _graph_layers(p: Path, model: Any, model_name: str,
                  input_shapes: dict[str, tuple[int, ...]], fold_unknown: bool,
                  folded: list[str], prefix: str, used: set[str]
                  ) -> tuple[list[Layer], list[Edge]]:
    """The layers and edges of one ONNX graph (see :func:`read_onnx_models`)."""
    from onnx import helper, numpy_helper, shape_inference

    _fix_inputs(model.graph, p, input_shapes)
    try:
        model = shape_inference.infer_shapes(model, data_prop=True)
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
    const: set[str] = set(inits)  # tensors that depend on no model input
    producer: dict[str, set[str]] = {}  # tensor -> layer ids it carries data from
    layers: list[Layer] = []
    edges: dict[tuple[str, str], None] = {}  # ordered set

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
        data_in = [t for t in node.input if t and t not in const]
        if not data_in or op in _SHAPE_OF or op in ("Constant", "ConstantOfShape"):
            const.update(node.output)  # computed from constants and shapes only
            continue
        srcs = set().union(*(producer.get(t, set()) for t in data_in))
        # an element-wise node combines data when its inputs come from different
        # producers (x * erf(x) of a GELU is per-element on one producer's output)
        combines = op in _COMBINE and len(data_in) >= 2 and len(
            {frozenset(producer.get(t, set())) for t in data_in}) >= 2
        layer_op = op in _COMPUTE or op in _POOL or op in _REDUCE or combines
        if not layer_op:
            if op not in _FOLD and op not in _COMBINE:
                if not fold_unknown:
                    raise InputError(
                        f"{p}: node {node.name or f'#{k}'!r}: op {op!r} is neither a layer nor"
                        " an op that folds into its producer (--fold-unknown folds it and"
                        " lists it)")
                folded.append(f"{op} ({node.name or f'node {k}'})")
            for t in node.output:
                producer[t] = srcs
            continue
        at = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        try:
            kind, shape = _layer_shape(node, at, shp, const, data_in)
        except (IndexError, KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, InputError):
                raise exc if str(exc).startswith(str(p)) else InputError(f"{p}: {exc}") \
                    from None
            raise InputError(f"{p}: node {node.name or op!r} ({op}): unexpected attributes or"
                             f" tensor ranks ({type(exc).__name__}: {exc})") from None
        lid = prefix + (node.name or f"{op.lower()}{k}")
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
        for u in sorted(srcs):
            edges[u, lid] = None
        for t in node.output:
            producer[t] = {lid}
    if not layers:
        raise InputError(f"{p}: no supported layers")
    return layers, [Edge(u, v) for u, v in edges]
