"""Versioned JSON for instances, schedules and results.

Layered as in VRPLIB: ``parse_*``/``dump_*`` work on dicts, ``read_*``/``write_*``
on files.  Every file carries ``format_version``.  Instance files are first
checked against the one published JSON Schema (``h2h_opt/io/instance.schema.json``;
``h2h schema`` prints it) so that structural errors name their
JSON path; the model's own validation then names the offending id.
"""

from __future__ import annotations

import json
import math
import os
import stat
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from ..model import (
    Accelerator,
    Edge,
    Instance,
    Layer,
    Links,
    ModelError,
    ModelInfo,
    Options,
    System,
    Workload,
    thaw,
)
from ..result import SolveResult, SolveStatus, Termination
from ..schedule import Schedule

__all__ = [
    "FORMAT_VERSION",
    "InputError",
    "OutputError",
    "atomic_path",
    "atomic_write",
    "check_output",
    "dump_instance",
    "dump_result",
    "dump_schedule",
    "instance_problems",
    "instance_schema",
    "load_json",
    "parse_instance",
    "parse_result",
    "parse_schedule",
    "read_instance",
    "read_result",
    "read_schedule",
    "read_text",
    "write_instance",
    "write_json",
    "write_result",
    "write_schedule",
]

FORMAT_VERSION = 1
_MAX_SHOWN = 80


class InputError(ModelError):
    """Bad input file: one line naming the file and the offending id or JSON path."""


class OutputError(InputError):
    """An output that cannot be written (a directory, under a file, no permission)."""


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _reject_constant(name: str) -> float:
    raise ValueError(f"non-finite number {name} is not allowed")


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _check_readable(p: Path) -> None:
    """Refuse, without opening it, anything but a regular file (directories, FIFOs,
    devices such as ``/dev/zero``)."""
    try:
        mode = p.stat().st_mode
    except FileNotFoundError:
        raise InputError(f"{p}: cannot read (no such file)") from None
    except OSError as exc:
        raise InputError(f"{p}: cannot read ({_reason(exc)})") from None
    if stat.S_ISDIR(mode):
        raise InputError(f"{p}: is a directory, not a file")
    if not stat.S_ISREG(mode):
        raise InputError(f"{p}: not a regular file (a FIFO, socket or device); give a file")


def read_text(path: str | Path) -> str:
    """The UTF-8 text of a regular file; every failure is one :class:`InputError` line."""
    p = Path(path)
    _check_readable(p)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"{p}: cannot read ({_reason(exc)})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{p}: not a UTF-8 text file (byte 0x{data[exc.start]:02x} at"
                         f" offset {exc.start})") from None


def load_json(path: str | Path) -> Any:
    """Read a JSON file; NaN/Infinity are rejected.  Raises :class:`InputError`."""
    p = Path(path)
    text = read_text(p)
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise InputError(f"{p}: invalid JSON at line {exc.lineno} column {exc.colno}:"
                         f" {exc.msg}") from None
    except RecursionError:
        raise InputError(f"{p}: invalid JSON: nested too deeply") from None
    except ValueError as exc:
        reason = str(exc) if len(str(exc)) <= _MAX_SHOWN else str(exc)[: _MAX_SHOWN - 3] + "..."
        raise InputError(f"{p}: invalid JSON: {reason}") from None


# --------------------------------------------------------------------------- outputs


def check_output(path: str | Path) -> Path:
    """Refuse, before any work is done, an output path that cannot be written: a
    directory, a path under a file, a folder without write permission.  Missing parent
    folders are fine (they are created on writing).  Returns the path."""
    p = Path(path)
    if p.is_dir():
        raise OutputError(f"{p}: is a directory; give a file name")
    if p.exists() and not p.is_file():
        raise OutputError(f"{p}: not a regular file; give a file name")
    parent = p.parent
    while not parent.exists():
        if parent.parent == parent:
            break
        parent = parent.parent
    if parent.exists() and not parent.is_dir():
        raise OutputError(f"{p}: cannot write: {parent} is a file, not a folder")
    try:  # the one sure test (permissions, read-only or special file systems): try
        tempfile.TemporaryDirectory(prefix=".h2h-probe-", dir=parent).cleanup()
    except OSError as exc:
        raise OutputError(f"{p}: cannot write in {parent} ({_reason(exc)})") from None
    return p


def _make_parent(p: Path) -> None:
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{p}: cannot write: cannot create folder {p.parent}"
                          f" ({_reason(exc)})") from None


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path in the folder of ``path`` (same suffix), renamed onto ``path``
    when the block ends without an exception and removed otherwise: a failure never
    leaves a half-written or clobbered output."""
    p = check_output(path)
    if p.is_symlink():  # write through the link, keep the link
        p = p.resolve()
    _make_parent(p)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp" + p.suffix,
                                        dir=p.parent)
    except OSError as exc:
        raise OutputError(f"{p}: cannot write ({_reason(exc)})") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        try:
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, p)
        except OSError as exc:
            raise OutputError(f"{p}: cannot write ({_reason(exc)})") from None
    finally:
        tmp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | Path, data: str | bytes | Callable[[Path], None]) -> None:
    """Write ``data`` (text as UTF-8, bytes, or a function writing to the path it is
    given) to a temporary file next to ``path`` and rename it into place."""
    with atomic_path(path) as tmp:
        try:
            if callable(data):
                data(tmp)
            elif isinstance(data, bytes):
                tmp.write_bytes(data)
            else:
                tmp.write_text(data, encoding="utf-8")
        except OSError as exc:
            raise OutputError(f"{path}: cannot write ({_reason(exc)})") from None


def write_json(data: Any, path: str | Path) -> None:
    atomic_write(path, json.dumps(data, indent=1, allow_nan=False) + "\n")


# --------------------------------------------------------------------------- schema


@lru_cache(maxsize=1)
def instance_schema() -> dict[str, Any]:
    """The JSON Schema of instance files (draft 2020-12)."""
    text = resources.files("h2h_opt").joinpath("io/instance.schema.json").read_text("utf-8")
    return dict(json.loads(text))


@lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema

    cls = jsonschema.validators.validator_for(instance_schema())
    return cls(instance_schema())


def _describe(error: Any) -> str:
    """One line for a jsonschema error, descending oneOf/anyOf to the most specific
    reason."""
    import jsonschema

    while error.context:
        deeper = jsonschema.exceptions.best_match(error.context)
        if deeper is None:
            break
        error = deeper
    where = error.json_path
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return (f"{where}: unknown field {extra[0]!r}" if extra else
                f"{where}: {error.message}")
    if error.validator == "required":
        return f"{where}: {error.message}"
    return (f"{where}: {_short(error.instance)} violates {error.validator}"
            f" {_short(error.validator_value)}")


def _schema_check(doc: Any) -> None:
    import jsonschema

    error = jsonschema.exceptions.best_match(_validator().iter_errors(doc))
    if error is not None:
        raise InputError(_describe(error))


def instance_problems(path: str | Path) -> list[str]:
    """Every problem of an instance file, one line each (empty: the file is valid).

    All structural problems (JSON Schema) are listed; when the structure is sound,
    every layer, edge and accelerator that fails the model's own checks; when those
    pass, the first problem of the whole (duplicate ids, cycles, costs, ranges).
    """
    try:
        doc = load_json(path)
    except InputError as exc:
        return [str(exc)]
    if isinstance(doc, Mapping) and doc.get("format_version") == FORMAT_VERSION \
            and doc.get("kind") not in ("schedule", "result"):
        errors = list(_validator().iter_errors(doc))
        messages = list(dict.fromkeys(_describe(e) for e in errors))
        if messages:
            return [f"{path}: {m}" for m in messages]
        elements = _element_problems(doc)
        if elements:
            return [f"{path}: {m}" for m in elements]
    try:
        read_instance(path)
    except InputError as exc:
        return [str(exc)]
    return []


# --------------------------------------------------------------------------- instances


def _num_or_inf(value: Any) -> float:
    return math.inf if value is None else float(value)


def _matrix(value: Any, n: int, default: float, name: str) -> tuple[tuple[float, ...], ...]:
    if value is None:
        value = default
    if isinstance(value, int | float):
        return tuple(tuple(float(value) for _ in range(n)) for _ in range(n))
    if len(value) != n or any(len(row) != n for row in value):
        raise InputError(f"$.system.links.{name}: must be a {n}x{n} matrix (one row and column"
                         f" per accelerator)")
    return tuple(tuple(_num_or_inf(x) if name == "bandwidth_bps" else float(x or 0.0)
                       for x in row) for row in value)


def _layer(ld: Mapping[str, Any]) -> Layer:
    return Layer(id=ld["id"], op=ld["op"], model=ld.get("model", "main"),
                 shape=ld.get("shape", {}), input_bytes=ld.get("input_bytes"),
                 weight_bytes=ld.get("weight_bytes"), output_bytes=ld.get("output_bytes"),
                 macs=ld.get("macs"))


def _edge(e: Mapping[str, Any]) -> Edge:
    return Edge(e["src"], e["dst"], e.get("bytes"))


def _accelerator(a: Mapping[str, Any]) -> Accelerator:
    return Accelerator(
        id=a["id"], ops=frozenset(a["ops"]), cost_model=a["cost_model"],
        power_w=a.get("power_w", 0.0),
        weight_capacity_bytes=_num_or_inf(a.get("weight_capacity_bytes")),
        host_bandwidth_bps=_num_or_inf(a.get("host_bandwidth_bps")),
        link_energy_jpb=a.get("link_energy_jpb", 0.0),
    )


def _element_problems(doc: Mapping[str, Any]) -> list[str]:
    """The model's checks of every layer, edge and accelerator on its own, each failure
    with its JSON path (a structurally valid document)."""
    out = []
    for where, items, build in (("$.workload.layers", doc["workload"]["layers"], _layer),
                                ("$.workload.edges", doc["workload"].get("edges", []), _edge),
                                ("$.system.accelerators", doc["system"]["accelerators"],
                                 _accelerator)):
        for i, item in enumerate(items):
            try:
                build(item)
            except ModelError as exc:
                out.append(f"{where}[{i}]: {exc}")
    return out


def parse_instance(doc: Any) -> Instance:
    """Build a validated :class:`Instance` from a parsed JSON document.

    Raises
    ------
    InputError / ModelError
        One line naming the JSON path (structure) or the offending id (semantics).
    """
    if not isinstance(doc, Mapping):
        raise InputError("$: an instance must be a JSON object")
    if doc.get("kind") in ("schedule", "result"):
        raise InputError(f"$.kind: this is a {doc['kind']} file, not an instance")
    if doc.get("format_version") != FORMAT_VERSION:
        raise InputError(f"$.format_version: expected {FORMAT_VERSION}, got"
                         f" {_short(doc.get('format_version'))}")
    _schema_check(doc)
    w, s = doc["workload"], doc["system"]
    layers = tuple(_layer(ld) for ld in w["layers"])
    edges = tuple(_edge(e) for e in w.get("edges", []))
    models = {name: ModelInfo(fps=m.get("fps"), after=m.get("trigger", {}).get("after"),
                              probability=m.get("trigger", {}).get("probability"))
              for name, m in w.get("models", {}).items()}
    accs = tuple(_accelerator(a) for a in s["accelerators"])
    links = None
    if s.get("links") is not None:
        lk, n = s["links"], len(accs)
        links = Links(
            bandwidth_bps=_matrix(lk.get("bandwidth_bps"), n, math.inf, "bandwidth_bps"),
            latency_s=_matrix(lk.get("latency_s"), n, 0.0, "latency_s"),
            energy_jpb=_matrix(lk.get("energy_jpb"), n, 0.0, "energy_jpb"),
        )
    opts = doc.get("options", {})
    options = Options(**{k: opts[k] for k in ("comm", "locality", "objective", "element_bytes",
                                               "tick_s") if k in opts})
    inst = Instance(doc["name"], Workload(layers, edges, models), System(accs, links),
                    options)
    from ..comm import check_ranges
    from ..cost import compile_tables  # cost-model parameters are validated by compiling

    check_ranges(inst, compile_tables(inst))
    return inst


def _finite_or_none(x: float) -> float | None:
    return None if math.isinf(x) else x


def _model_info(m: ModelInfo) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if m.fps is not None:
        out["fps"] = m.fps
    if m.after is not None:
        out["trigger"] = {"after": m.after}
        if m.probability is not None:
            out["trigger"]["probability"] = m.probability
    return out


def dump_instance(inst: Instance) -> dict[str, Any]:
    """The JSON document of an instance (``parse_instance`` inverts it)."""
    layers = []
    for layer in inst.workload.layers:
        d: dict[str, Any] = {"id": layer.id, "model": layer.model, "op": layer.op}
        if layer.shape:
            d["shape"] = thaw(layer.shape)
        for key in ("input_bytes", "weight_bytes", "output_bytes", "macs"):
            if getattr(layer, key) is not None:
                d[key] = getattr(layer, key)
        layers.append(d)
    edges = []
    for e in inst.workload.edges:
        ed: dict[str, Any] = {"src": e.src, "dst": e.dst}
        if e.bytes is not None:
            ed["bytes"] = e.bytes
        edges.append(ed)
    workload: dict[str, Any] = {"layers": layers, "edges": edges}
    if inst.workload.model_info:
        workload["models"] = {name: _model_info(m)
                              for name, m in inst.workload.model_info.items()}
    accs = []
    for a in inst.system.accelerators:
        accs.append({
            "id": a.id, "ops": sorted(a.ops), "power_w": a.power_w,
            "weight_capacity_bytes": _finite_or_none(a.weight_capacity_bytes),
            "host_bandwidth_bps": _finite_or_none(a.host_bandwidth_bps),
            "link_energy_jpb": a.link_energy_jpb,
            "cost_model": thaw(a.cost_model),
        })
    links = None
    if inst.system.links is not None:
        lk = inst.system.links
        links = {
            "bandwidth_bps": [[_finite_or_none(x) for x in row] for row in lk.bandwidth_bps],
            "latency_s": [list(row) for row in lk.latency_s],
            "energy_jpb": [list(row) for row in lk.energy_jpb],
        }
    o = inst.options
    return {
        "format_version": FORMAT_VERSION,
        "kind": "instance",
        "name": inst.name,
        "workload": workload,
        "system": {"accelerators": accs, "links": links},
        "options": {"comm": o.comm, "locality": o.locality, "objective": o.objective,
                    "element_bytes": o.element_bytes, "tick_s": o.tick_s},
    }


def read_instance(path: str | Path) -> Instance:
    """Read and validate an instance file; errors are prefixed with the file name."""
    doc = load_json(path)
    try:
        return parse_instance(doc)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None
    except ModelError as exc:
        raise InputError(f"{path}: {exc}") from None


def write_instance(inst: Instance, path: str | Path) -> None:
    write_json(dump_instance(inst), path)


# --------------------------------------------------------------------------- schedules


def dump_schedule(s: Schedule) -> dict[str, Any]:
    layers = [
        {"id": lid, "accelerator": acc, "resident": bool(s.residency.get(lid, False)),
         "start_s": s.start.get(lid)}
        for lid, acc in s.mapping.items()
    ]
    return {
        "format_version": FORMAT_VERSION,
        "kind": "schedule",
        "instance": s.instance,
        "locality": s.locality,
        "layers": layers,
        "orders": {a: list(o) for a, o in s.orders.items()},
        "meta": _jsonable(s.meta),
    }


def _need(doc: Mapping[str, Any], key: str, where: str, kind: type | tuple[type, ...]) -> Any:
    if key not in doc:
        raise InputError(f"{where}: missing field {key!r}")
    value = doc[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise InputError(f"{where}.{key}: wrong type {_short(value)}")
    return value


def parse_schedule(doc: Any) -> Schedule:
    """Build a :class:`Schedule` from its JSON document (orders optional: derived
    from start times, ties in file order)."""
    if not isinstance(doc, Mapping):
        raise InputError("$: a schedule must be a JSON object")
    if doc.get("format_version") != FORMAT_VERSION:
        raise InputError(f"$.format_version: expected {FORMAT_VERSION}, got"
                         f" {_short(doc.get('format_version'))}")
    inst_name = _need(doc, "instance", "$", str)
    rows = _need(doc, "layers", "$", list)
    mapping: dict[str, str] = {}
    start: dict[str, float] = {}
    resident: dict[str, bool] = {}
    for i, row in enumerate(rows):
        where = f"$.layers[{i}]"
        if not isinstance(row, Mapping):
            raise InputError(f"{where}: must be an object")
        lid = _need(row, "id", where, str)
        if lid in mapping:
            raise InputError(f"{where}.id: duplicate layer {lid!r}")
        mapping[lid] = _need(row, "accelerator", where, str)
        st = _need(row, "start_s", where, (int, float))
        if not math.isfinite(st):
            raise InputError(f"{where}.start_s: must be finite")
        start[lid] = float(st)
        res = row.get("resident", False)
        if not isinstance(res, bool):
            raise InputError(f"{where}.resident: must be true/false, got {_short(res)}")
        resident[lid] = res
    orders_doc = doc.get("orders")
    if orders_doc is None:
        orders: dict[str, list[str]] = {}
        for lid in sorted(mapping, key=lambda v: (start[v], list(mapping).index(v))):
            orders.setdefault(mapping[lid], []).append(lid)
    else:
        if not isinstance(orders_doc, Mapping):
            raise InputError("$.orders: must be an object of accelerator -> [layer ids]")
        orders = {}
        for acc, order in orders_doc.items():
            if not isinstance(order, list) or not all(isinstance(x, str) for x in order):
                raise InputError(f"$.orders.{acc}: must be a list of layer ids")
            orders[acc] = order
    loc = doc.get("locality")
    meta = doc.get("meta") or {}
    if not isinstance(meta, Mapping):
        raise InputError(f"$.meta: must be an object, got {_short(meta)}")
    try:
        return Schedule(inst_name, mapping, start, {a: tuple(o) for a, o in orders.items()},
                        resident, loc, meta)
    except ModelError as exc:
        raise InputError(str(exc)) from None


def read_schedule(path: str | Path) -> Schedule:
    doc = load_json(path)
    try:
        return parse_schedule(doc)
    except ModelError as exc:
        raise InputError(f"{path}: {exc}") from None


def write_schedule(s: Schedule, path: str | Path) -> None:
    write_json(dump_schedule(s), path)


# --------------------------------------------------------------------------- results


def _jsonable(x: Any) -> Any:
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if hasattr(x, "item") and callable(x.item):  # numpy scalar
        return _jsonable(x.item())
    if hasattr(x, "value") and isinstance(getattr(x, "value", None), str):  # Enum
        return x.value
    return x


def dump_result(res: SolveResult) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "kind": "result",
        "instance": res.instance,
        "solver": res.solver,
        "status": res.status.value,
        "termination": res.termination.value,
        "latency_s": _jsonable(res.latency),
        "energy_j": _jsonable(res.energy),
        "objective": _jsonable(res.objective),
        "bound": _jsonable(res.bound),
        "gap": _jsonable(res.gap),
        "time_s": res.time_s,
        "steps": _jsonable(res.steps),
        "params": _jsonable(res.params),
        "info": _jsonable(res.info),
        "versions": res.versions,
        "schedule": dump_schedule(res.schedule) if res.schedule is not None else None,
    }


def parse_result(doc: Any) -> SolveResult:
    if not isinstance(doc, Mapping) or doc.get("format_version") != FORMAT_VERSION \
            or doc.get("kind") != "result":
        raise InputError("$: not a result document (format_version 1, kind 'result')")
    try:
        status = SolveStatus(doc["status"])
        term = Termination(doc["termination"])
    except (KeyError, ValueError) as exc:
        raise InputError(f"$: bad status/termination ({exc})") from None

    def num(key: str) -> float:
        v = doc.get(key)
        return math.nan if v is None else float(v)

    obj = doc.get("objective")
    return SolveResult(
        instance=doc["instance"], solver=doc["solver"], status=status, termination=term,
        schedule=parse_schedule(doc["schedule"]) if doc.get("schedule") else None,
        latency=num("latency_s"), energy=num("energy_j"),
        objective=tuple(obj) if isinstance(obj, list) else obj,
        bound=doc.get("bound"), gap=doc.get("gap"), time_s=float(doc.get("time_s", 0.0)),
        steps=list(doc.get("steps", [])), params=dict(doc.get("params", {})),
        info=dict(doc.get("info", {})), versions=dict(doc.get("versions", {})),
    )


def read_result(path: str | Path) -> SolveResult:
    doc = load_json(path)
    try:
        return parse_result(doc)
    except ModelError as exc:
        raise InputError(f"{path}: {exc}") from None


def write_result(res: SolveResult, path: str | Path) -> None:
    write_json(dump_result(res), path)
