"""GXL task graphs (the XML graph format of the Auckland optimal-task-scheduling graphs,
Sinnen et al.): node weight = compute time on identical processors, edge weight = the
communication delay paid when the two ends run on different processors, i.e. ``p2p``
with uniform delays (SPEC §4.2: ``bw = 1``, ``λ = 0``, ``d_uv`` = the delay)."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

from ..model import Instance, ModelError
from .files import InputError, read_text
from .task_graph import MAX_TASK_COST, task_graph_instance

__all__ = ["parse_gxl", "read_gxl"]


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
            if not math.isfinite(val) or not 0 <= val <= MAX_TASK_COST:
                raise InputError(f"{what}: weight must be in 0..{MAX_TASK_COST:.0e}, got"
                                 f" {attrs[key]!r}")
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
        if u is None or v is None:
            raise InputError(f"GXL: an <edge> without {'from' if u is None else 'to'}"
                             f" (attributes {dict(edge.attrib)})")
        if u not in costs or v not in costs:
            raise InputError(f"GXL edge {u!r}->{v!r}: unknown node"
                             f" {u if u not in costs else v!r}")
        edges.append((u, v, _weight(_attrs(edge), f"GXL edge {u!r}->{v!r}")))
    try:
        return task_graph_instance(name, costs, edges, procs)
    except ModelError as exc:
        raise InputError(f"GXL: {exc}") from None




def read_gxl(path: str | Path, procs: int) -> Instance:
    p = Path(path)
    text = read_text(p)  # its errors name the file already
    try:
        return parse_gxl(text, procs, name=f"{p.stem}-p{procs}")
    except InputError as exc:
        raise InputError(f"{p}: {exc}") from None
