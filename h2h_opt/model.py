"""Problem data: workload DAG, accelerator system, options (SPEC §1, §3, §4).

Everything here is immutable and validated once, at construction.  Errors are
:class:`ModelError` with a one-line message that names the offending id.
Numbers derived from shapes (bytes, MACs, compute times) are *not* computed
here: :mod:`h2h_opt.cost` owns every derived number (STYLE habit 2).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

__all__ = [
    "COMM_MODES",
    "LOCALITIES",
    "OBJECTIVES",
    "SHAPE_FIELDS",
    "Accelerator",
    "Edge",
    "FrozenMap",
    "Instance",
    "Layer",
    "Links",
    "ModelError",
    "ModelInfo",
    "Options",
    "System",
    "Workload",
    "thaw",
]

#: Largest shape dimension (a 32-bit count): beyond it no cost model is meaningful.
MAX_DIM = 2**31 - 1
#: Largest byte count or MAC count of one layer or edge (an exabyte).
MAX_BYTES = 1e18
COMM_MODES = ("host", "p2p")
#: Locality rules in increasing strength: every edge local under "adjacent" is
#: local under "same_accelerator".  "none" (nothing local) is what the
#: computation-prioritised baseline pays (SPEC §7.1); only schedules use it.
LOCALITIES = ("none", "adjacent", "same_accelerator")
OBJECTIVES = ("latency", "energy", "lex")

#: Required (and optional) shape fields per known op (SPEC §1).  Other ops are
#: accepted with any numeric shape; their byte counts default to 0 unless the
#: layer gives them explicitly.
SHAPE_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "conv": (("M", "N", "R", "C", "K"), ("S", "P", "G", "KW")),
    "dwconv": (("N", "R", "C", "K"), ("S", "P")),
    "fc": (("M", "N"), ()),
    "matmul": (("m", "k", "n"), ("weights",)),
    "lstm": (("H", "D", "T"), ("gates",)),
    "pool": (("N", "R", "C", "K"), ("S", "P", "KW")),
    "eltwise": (("N", "R", "C"), ("inputs",)),
}


class ModelError(ValueError):
    """Invalid problem data; the message is one line naming the offending id."""


class FrozenMap(Mapping[str, Any]):
    """A small immutable, hashable and picklable mapping."""

    __slots__ = ("_d", "_h")

    def __init__(self, data: Mapping[str, Any] | Iterable[tuple[str, Any]] = ()) -> None:
        self._d: dict[str, Any] = dict(data)
        self._h: int | None = None

    def __getitem__(self, key: str) -> Any:
        return self._d[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __hash__(self) -> int:
        if self._h is None:
            self._h = hash(tuple(sorted((k, _hashable(v)) for k, v in self._d.items())))
        return self._h

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self._d == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"FrozenMap({self._d!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenMap, (self._d,))



def _hashable(v: Any) -> Any:
    if isinstance(v, dict):
        return tuple(sorted((k, _hashable(x)) for k, x in v.items()))
    if isinstance(v, list):
        return tuple(_hashable(x) for x in v)
    return v


def thaw(v: Any) -> Any:
    """Plain dicts and lists from frozen data (for JSON)."""
    if isinstance(v, Mapping):
        return {k: thaw(x) for k, x in v.items()}
    if isinstance(v, tuple | list):
        return [thaw(x) for x in v]
    return v


def _freeze(v: Any) -> Any:
    if isinstance(v, Mapping) and not isinstance(v, FrozenMap):
        return FrozenMap({k: _freeze(x) for k, x in v.items()})
    if isinstance(v, list):
        return tuple(_freeze(x) for x in v)
    return v


def _check_number(value: Any, what: str, *, positive: bool = False,
                  allow_inf: bool = False, maximum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ModelError(f"{what}: expected a number, got {value!r}")
    try:
        v = float(value)
    except OverflowError:  # an int beyond float range
        raise ModelError(f"{what}: must be at most {maximum or 1.8e308:g}, got {value}") from None
    if math.isnan(v) or (math.isinf(v) and not allow_inf):
        raise ModelError(f"{what}: must be finite, got {value!r}")
    if v < 0 or (positive and v == 0):
        raise ModelError(f"{what}: must be {'> 0' if positive else '>= 0'}, got {value!r}")
    if maximum is not None and v > maximum:
        raise ModelError(f"{what}: must be at most {maximum:g}, got {value!r}")
    return v


def _check_id(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ModelError(f"{what}: id must be a non-empty string, got {value!r}")
    return value


@dataclass(frozen=True)
class Layer:
    """One DNN layer (a task of the DAG).

    ``shape`` holds the op-specific dimensions of SPEC §1 (conv: ``M, N, R, C,
    K, S, P``, and ``G`` groups, each of ``N/G`` in and ``M/G`` out channels, and ``KW``
    the kernel's width when it is not square, ``K`` its height; fc: ``M,
    N``; lstm: ``H, D, T``, and ``gates``, 4 (LSTM) or 3 (GRU); matmul: ``m, k, n``).  The
    optional byte counts and ``macs`` override what :mod:`h2h_opt.cost` would
    derive from the shape.
    """

    id: str
    op: str
    model: str = "main"
    shape: Mapping[str, Any] = field(default_factory=FrozenMap)
    input_bytes: float | None = None
    weight_bytes: float | None = None
    output_bytes: float | None = None
    macs: float | None = None

    def __post_init__(self) -> None:
        _check_id(self.id, "layer")
        where = f"layer {self.id!r}"
        if not isinstance(self.op, str) or not self.op:
            raise ModelError(f"{where}: op must be a non-empty string, got {self.op!r}")
        if not isinstance(self.model, str) or not self.model:
            raise ModelError(f"{where}: model must be a non-empty string, got {self.model!r}")
        object.__setattr__(self, "shape", _freeze(dict(self.shape)))
        required, optional = SHAPE_FIELDS.get(self.op, ((), ()))
        for key in required:
            if key not in self.shape:
                raise ModelError(f"{where}: op {self.op!r} needs shape field {key!r}")
        for key, value in self.shape.items():
            if key in ("weights",):
                if not isinstance(value, bool):
                    raise ModelError(f"{where}: shape.{key} must be true/false, got {value!r}")
                continue
            positive = key in required and key != "P"
            _check_number(value, f"{where}: shape.{key}", positive=positive, maximum=MAX_DIM)
        if self.op in SHAPE_FIELDS:
            unknown = set(self.shape) - set(required) - set(optional)
            if unknown:
                raise ModelError(
                    f"{where}: unknown shape field {sorted(unknown)[0]!r} for op {self.op!r}"
                )
        if self.op == "conv" and "G" in self.shape:
            groups = self.shape["G"]
            if groups != int(groups) or groups < 1 or self.shape["M"] % groups \
                    or self.shape["N"] % groups:
                raise ModelError(f"{where}: shape.G = {groups!r} groups must be a whole"
                                 f" number >= 1 dividing M = {self.shape['M']!r} and"
                                 f" N = {self.shape['N']!r}")
        for name in ("input_bytes", "weight_bytes", "output_bytes", "macs"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _check_number(value, f"{where}: {name}",
                                                             maximum=MAX_BYTES))


@dataclass(frozen=True)
class Edge:
    """Data dependency ``src -> dst`` carrying ``bytes`` (default: ``O_src``)."""

    src: str
    dst: str
    bytes: float | None = None

    def __post_init__(self) -> None:
        _check_id(self.src, "edge src")
        _check_id(self.dst, "edge dst")
        if self.bytes is not None:
            object.__setattr__(
                self, "bytes", _check_number(self.bytes, f"edge {self.src}->{self.dst}: bytes",
                                             maximum=MAX_BYTES)
            )


@dataclass(frozen=True)
class ModelInfo:
    """What a workload records about one of its models beyond its layers: the frame
    rate it runs at (``fps``), and the model whose output triggers it (``after``), with
    the probability that it does (a cascade, as in XRBench's usage scenarios)."""

    fps: float | None = None
    after: str | None = None
    probability: float | None = None

    def check(self, name: str, models: set[str]) -> None:
        where = f"model {name!r}"
        if self.fps is not None:
            _check_number(self.fps, f"{where}: fps", positive=True, maximum=1e6)
        if self.after is not None:
            if self.after not in models:
                raise ModelError(f"{where}: after {self.after!r} is not a model of the"
                                 " workload")
            if self.after == name:
                raise ModelError(f"{where}: after itself")
        if self.probability is not None:
            p = _check_number(self.probability, f"{where}: probability", maximum=1.0)
            if self.after is None:
                raise ModelError(f"{where}: probability {p:g} without a triggering model"
                                 " (after)")


@dataclass(frozen=True)
class Workload:
    """A DAG of layers.  ``layers`` is in *workload order* (SPEC §7.1).

    Lookups built once: ``index`` (id -> position), ``preds``/``succs``
    (positions), ``in_edges``/``out_edges`` (edge positions) and ``topo``, a
    topological order that follows workload order where the DAG allows.  ``model_info``:
    optional :class:`ModelInfo` per model name (frame rates, triggers), kept for
    analyses; the mapping problem (E1-E11) does not read it.
    """

    layers: tuple[Layer, ...]
    edges: tuple[Edge, ...] = ()
    model_info: Mapping[str, ModelInfo] = field(default_factory=FrozenMap)
    index: FrozenMap = field(init=False, repr=False, compare=False)
    preds: tuple[tuple[int, ...], ...] = field(init=False, repr=False, compare=False)
    succs: tuple[tuple[int, ...], ...] = field(init=False, repr=False, compare=False)
    in_edges: tuple[tuple[int, ...], ...] = field(init=False, repr=False, compare=False)
    out_edges: tuple[tuple[int, ...], ...] = field(init=False, repr=False, compare=False)
    topo: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        layers = tuple(self.layers)
        edges = tuple(self.edges)
        object.__setattr__(self, "layers", layers)
        object.__setattr__(self, "edges", edges)
        if not layers:
            raise ModelError("workload: no layers")
        object.__setattr__(self, "model_info", FrozenMap(self.model_info))
        model_names = {layer.model for layer in layers if isinstance(layer, Layer)}
        for name, info in self.model_info.items():
            if name not in model_names:
                raise ModelError(f"model {name!r}: no layer of the workload belongs to it")
            if not isinstance(info, ModelInfo):
                raise ModelError(f"model {name!r}: not a ModelInfo")
            info.check(name, model_names)
        index: dict[str, int] = {}
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise ModelError(f"workload: layer #{i} is not a Layer")
            if layer.id in index:
                raise ModelError(f"layer {layer.id!r}: duplicate id")
            index[layer.id] = i
        n = len(layers)
        preds: list[list[int]] = [[] for _ in range(n)]
        succs: list[list[int]] = [[] for _ in range(n)]
        in_e: list[list[int]] = [[] for _ in range(n)]
        out_e: list[list[int]] = [[] for _ in range(n)]
        seen: set[tuple[str, str]] = set()
        graph = nx.DiGraph()
        graph.add_nodes_from(range(n))
        for k, e in enumerate(edges):
            for end in (e.src, e.dst):
                if end not in index:
                    raise ModelError(f"edge {e.src}->{e.dst}: unknown layer {end!r}")
            if (e.src, e.dst) in seen:
                raise ModelError(f"edge {e.src}->{e.dst}: duplicate edge")
            if e.src == e.dst:
                raise ModelError(f"edge {e.src}->{e.dst}: self-loop (cycle on layer {e.src!r})")
            seen.add((e.src, e.dst))
            u, v = index[e.src], index[e.dst]
            preds[v].append(u)
            succs[u].append(v)
            in_e[v].append(k)
            out_e[u].append(k)
            graph.add_edge(u, v)
        try:
            cycle = nx.find_cycle(graph)
        except nx.NetworkXNoCycle:
            cycle = None
        if cycle:
            names = [layers[u].id for u, _ in cycle] + [layers[cycle[0][0]].id]
            raise ModelError(f"workload: cycle {' -> '.join(names)}")
        topo = tuple(nx.lexicographical_topological_sort(graph))
        object.__setattr__(self, "index", FrozenMap(index))
        object.__setattr__(self, "preds", tuple(tuple(p) for p in preds))
        object.__setattr__(self, "succs", tuple(tuple(s) for s in succs))
        object.__setattr__(self, "in_edges", tuple(tuple(x) for x in in_e))
        object.__setattr__(self, "out_edges", tuple(tuple(x) for x in out_e))
        object.__setattr__(self, "topo", topo)

    @property
    def num_layers(self) -> int:
        return len(self.layers)

    @property
    def models(self) -> tuple[str, ...]:
        """Model (backbone) names in order of first appearance."""
        return tuple(dict.fromkeys(layer.model for layer in self.layers))

    def layer(self, layer_id: str) -> Layer:
        return self.layers[self.index[layer_id]]


@dataclass(frozen=True)
class Accelerator:
    """One accelerator (SPEC §1): ops it runs, compute model, power, memory, host link.

    ``cost_model`` is a mapping with a ``kind`` (``table``, ``zhang_fpga15``,
    ``dataflow``) and that model's parameters; :mod:`h2h_opt.cost` reads it.
    ``link_energy_jpb`` is ``ε_a`` of E11 (J per byte over the host link).
    """

    id: str
    ops: frozenset[str]
    cost_model: Mapping[str, Any]
    power_w: float = 0.0
    weight_capacity_bytes: float = math.inf
    host_bandwidth_bps: float = math.inf
    link_energy_jpb: float = 0.0

    def __post_init__(self) -> None:
        _check_id(self.id, "accelerator")
        where = f"accelerator {self.id!r}"
        ops = self.ops
        if isinstance(ops, str) or not all(isinstance(o, str) and o for o in ops):
            raise ModelError(f"{where}: ops must be a list of op names, got {ops!r}")
        object.__setattr__(self, "ops", frozenset(ops))
        if not self.ops:
            raise ModelError(f"{where}: runs no op")
        cm = self.cost_model
        if not isinstance(cm, Mapping) or not isinstance(cm.get("kind"), str):
            raise ModelError(f"{where}: cost_model must be an object with a 'kind'")
        object.__setattr__(self, "cost_model", _freeze(dict(cm)))
        object.__setattr__(self, "power_w", _check_number(self.power_w, f"{where}: power_w"))
        object.__setattr__(
            self,
            "weight_capacity_bytes",
            _check_number(self.weight_capacity_bytes, f"{where}: weight_capacity_bytes",
                          allow_inf=True),
        )
        object.__setattr__(
            self,
            "host_bandwidth_bps",
            _check_number(self.host_bandwidth_bps, f"{where}: host_bandwidth_bps",
                          positive=True, allow_inf=True),
        )
        object.__setattr__(
            self, "link_energy_jpb",
            _check_number(self.link_energy_jpb, f"{where}: link_energy_jpb"),
        )


Matrix = tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class Links:
    """Point-to-point links (SPEC §1, §4.2): ``bw[a][b]``, ``λ[a][b]``, ``ε[a][b]``.

    Matrices are indexed in system order; the diagonal is unused.  A bandwidth of
    ``inf`` means the transfer term vanishes.
    """

    bandwidth_bps: Matrix
    latency_s: Matrix
    energy_jpb: Matrix

    @staticmethod
    def uniform(num_accs: int, bandwidth_bps: float = math.inf, latency_s: float = 0.0,
                energy_jpb: float = 0.0) -> Links:
        def full(x: float) -> Matrix:
            return tuple(tuple(float(x) for _ in range(num_accs)) for _ in range(num_accs))

        return Links(full(bandwidth_bps), full(latency_s), full(energy_jpb))

    def check(self, acc_ids: tuple[str, ...]) -> None:
        n = len(acc_ids)
        for name, positive in (("bandwidth_bps", True), ("latency_s", False),
                               ("energy_jpb", False)):
            mat = getattr(self, name)
            if len(mat) != n or any(len(row) != n for row in mat):
                raise ModelError(f"system.links.{name}: must be a {n}x{n} matrix")
            for i, row in enumerate(mat):
                for j, value in enumerate(row):
                    if i != j:
                        _check_number(value, f"system.links.{name}[{acc_ids[i]}][{acc_ids[j]}]",
                                      positive=positive, allow_inf=(name == "bandwidth_bps"))


@dataclass(frozen=True)
class System:
    """Accelerators in *system order*, and optional point-to-point links."""

    accelerators: tuple[Accelerator, ...]
    links: Links | None = None
    index: FrozenMap = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        accs = tuple(self.accelerators)
        object.__setattr__(self, "accelerators", accs)
        if not accs:
            raise ModelError("system: no accelerators")
        index: dict[str, int] = {}
        for i, acc in enumerate(accs):
            if acc.id in index:
                raise ModelError(f"accelerator {acc.id!r}: duplicate id")
            index[acc.id] = i
        object.__setattr__(self, "index", FrozenMap(index))
        if self.links is not None:
            self.links.check(tuple(index))

    @property
    def num_accs(self) -> int:
        return len(self.accelerators)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(a.id for a in self.accelerators)


@dataclass(frozen=True)
class Options:
    """Instance options (SPEC §1, §4, §5, §6)."""

    comm: str = "host"
    locality: str = "same_accelerator"
    objective: str = "latency"
    element_bytes: int = 4
    tick_s: float = 1e-9

    def __post_init__(self) -> None:
        if self.comm not in COMM_MODES:
            raise ModelError(f"options.comm: must be one of {list(COMM_MODES)}, got {self.comm!r}")
        if self.locality not in LOCALITIES[1:]:
            raise ModelError(
                f"options.locality: must be one of {list(LOCALITIES[1:])}, got {self.locality!r}"
            )
        if self.objective not in OBJECTIVES:
            raise ModelError(
                f"options.objective: must be one of {list(OBJECTIVES)}, got {self.objective!r}"
            )
        if isinstance(self.element_bytes, bool) or not isinstance(self.element_bytes, int) \
                or self.element_bytes <= 0:
            raise ModelError(
                f"options.element_bytes: must be a positive integer, got {self.element_bytes!r}"
            )
        object.__setattr__(self, "tick_s",
                           _check_number(self.tick_s, "options.tick_s", positive=True))


@dataclass(frozen=True)
class Instance:
    """A workload, a system and options.  Validated: every layer runs somewhere."""

    name: str
    workload: Workload
    system: System
    options: Options = field(default_factory=Options)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ModelError(f"instance name must be a non-empty string, got {self.name!r}")
        all_ops: set[str] = set()
        for acc in self.system.accelerators:
            all_ops |= acc.ops
        for layer in self.workload.layers:
            if layer.op not in all_ops:
                raise ModelError(f"layer {layer.id!r}: no accelerator runs op {layer.op!r}")

    @property
    def num_layers(self) -> int:
        return self.workload.num_layers

    @property
    def num_accs(self) -> int:
        return self.system.num_accs
