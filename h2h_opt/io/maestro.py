"""MAESTRO CSV output (``--print_res_csv_file``): runtime in cycles and energy in nJ per
layer, mapped to instance layers and accelerators by a layer map, into ``table`` cost
models."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from ..model import Instance
from .costs import replace_cost_tables
from .files import InputError, read_text

__all__ = ["read_maestro"]


def _maestro_rows(path: Path) -> list[dict[str, str]]:
    text = read_text(path)
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
        raise InputError(f"clock_mhz must be a positive number, got {clock_mhz!r}")
    mp = Path(layer_map)
    mrows = list(csv.DictReader(read_text(mp).splitlines()))
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
