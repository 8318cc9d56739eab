"""MAESTRO CSV output (``--print_res_csv_file``): runtime in cycles and energy in nJ per
layer, mapped to instance layers and accelerators by a layer map, into ``table`` cost
models."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from ..model import Instance
from .costs import check_cost_row, replace_cost_tables
from .files import InputError, read_text

__all__ = ["read_maestro"]

_NEED = ("Neural Network Name", "Layer Number", "Runtime (Cycles)",
         "Activity count-based Energy (nJ)")


def _csv_rows(path: Path) -> list[tuple[int, list[str]]]:
    """The non-empty rows of a CSV file with their line numbers (one line per row)."""
    text = read_text(path)
    lines = text.splitlines()
    try:
        return [(no, [c.strip() for c in row])
                for no, row in enumerate(csv.reader(lines), start=1) if any(c.strip() for c in row)]
    except csv.Error as exc:
        raise InputError(f"{path}: malformed CSV ({exc})") from None


def _maestro_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    rows = _csv_rows(path)
    if len(rows) < 2:
        raise InputError(f"{path}: expected a MAESTRO CSV header and at least one row")
    head = rows[0][1]
    missing = [h for h in _NEED if h not in head]
    if missing:
        raise InputError(f"{path}: not a MAESTRO result CSV (missing column(s)"
                         f" {', '.join(repr(m) for m in missing)})")
    last = max(head.index(h) for h in _NEED)
    out = []
    for no, row in rows[1:]:
        if len(row) <= last:
            raise InputError(f"{path} line {no}: {len(row)} fields, the header has {len(head)}")
        out.append((no, dict(zip(head, row, strict=False))))
    return out


def _nonneg(path: Path, no: int, what: str, raw: str) -> float:
    try:
        val = float(raw)
    except ValueError:
        raise InputError(f"{path} line {no}: {what} {raw!r} is not a number") from None
    if not math.isfinite(val) or val < 0:
        raise InputError(f"{path} line {no}: {what} must be finite and >= 0, got {raw!r}")
    return val


def read_maestro(inst: Instance, csv_paths: list[str | Path], layer_map: str | Path,
                 clock_mhz: float) -> Instance:
    """Replace cost models by MAESTRO's numbers: ``t = cycles / f``, ``e`` = its energy.

    ``layer_map`` is a CSV with columns ``maestro_layer,layer,accelerator`` and an
    optional ``network`` (MAESTRO's "Neural Network Name"; empty = any): each MAESTRO
    row matching ``(network, maestro_layer)`` gives the cost of ``layer`` on
    ``accelerator``.  Every map row must be matched, by exactly one MAESTRO row; a
    (layer, accelerator) pair may appear once, and only if the accelerator runs the
    layer's op.  An accelerator that already has a ``table`` model keeps the entries
    the map does not replace; any other must get every layer it runs from the map.
    """
    if not (isinstance(clock_mhz, int | float) and math.isfinite(clock_mhz) and clock_mhz > 0):
        raise InputError(f"clock_mhz must be a positive number, got {clock_mhz!r}")
    mp = Path(layer_map)
    mrows = _csv_rows(mp)
    cols = {"maestro_layer", "layer", "accelerator"}
    if not mrows or not cols <= set(mrows[0][1]):
        raise InputError(f"{mp}: a layer map needs columns maestro_layer,layer,accelerator")
    mhead = mrows[0][1]
    if len(mrows) < 2:
        raise InputError(f"{mp}: the layer map has no rows")
    results: list[tuple[Path, int, dict[str, str]]] = []
    for p in map(Path, csv_paths):
        results += [(p, no, r) for no, r in _maestro_rows(p)]
    tables: dict[str, dict[str, dict[str, float]]] = {}
    seen: dict[tuple[str, str], int] = {}
    for line, row in mrows[1:]:
        if len(row) > len(mhead):
            raise InputError(f"{mp} line {line}: {len(row)} fields, the header has"
                             f" {len(mhead)}")
        m = dict(zip(mhead, row, strict=False))
        net, ml = m.get("network", ""), m.get("maestro_layer", "")
        lid, acc = m.get("layer", ""), m.get("accelerator", "")
        check_cost_row(inst, f"{mp} line {line}", lid, acc, seen, line)
        hits = [(p, no, r) for p, no, r in results if r["Layer Number"] == ml
                and (not net or r["Neural Network Name"] == net)]
        if len(hits) != 1:
            raise InputError(f"{mp} line {line}: {len(hits)} MAESTRO rows match"
                             f" {net + '/' if net else ''}{ml!r} (need exactly one)")
        p, no, r = hits[0]
        cycles = _nonneg(p, no, "Runtime (Cycles)", r["Runtime (Cycles)"])
        energy_nj = _nonneg(p, no, "energy", r["Activity count-based Energy (nJ)"])
        if acc not in tables:  # an existing table keeps the layers the map leaves out
            old = inst.system.accelerators[inst.system.index[acc]].cost_model
            keep = old.get("kind") == "table"
            tables[acc] = {k: dict(old.get(k, {})) if keep else {}
                           for k in ("time_s", "energy_j")}
        entry = tables[acc]
        entry["time_s"][lid] = cycles / (clock_mhz * 1e6)
        entry["energy_j"][lid] = energy_nj * 1e-9
    return replace_cost_tables(inst, tables, str(mp))
