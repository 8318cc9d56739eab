"""Cost tables from a CSV file (measured or exported numbers per layer and accelerator)."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

from ..cost import compile_tables
from ..model import Accelerator, Instance, ModelError, System
from .files import InputError, read_text

__all__ = ["check_cost_row", "import_cost_csv", "replace_cost_tables"]


def check_cost_row(inst: Instance, where: str, lid: str, acc: str,
                   seen: dict[tuple[str, str], int], line: int) -> None:
    """A row giving the cost of layer ``lid`` on accelerator ``acc`` (a cost CSV or a
    MAESTRO layer map): both known, the pair given once, the op run by ``acc``.

    Raises
    ------
    InputError
        One line starting with ``where`` (file and line).
    """
    if lid not in inst.workload.index:
        raise InputError(f"{where}: unknown layer {lid!r}")
    if acc not in inst.system.index:
        raise InputError(f"{where}: unknown accelerator {acc!r}")
    if (lid, acc) in seen:
        raise InputError(f"{where}: layer {lid!r} on {acc!r} already given on line"
                         f" {seen[lid, acc]}")
    seen[lid, acc] = line
    op = inst.workload.layers[inst.workload.index[lid]].op
    if op not in inst.system.accelerators[inst.system.index[acc]].ops:
        raise InputError(f"{where}: accelerator {acc!r} does not run op {op!r} of layer"
                         f" {lid!r}")


def import_cost_csv(inst: Instance, path: str | Path) -> Instance:
    """Replace cost models by ``table`` models read from a CSV file.

    Columns: ``layer,accelerator,time_s`` and optionally ``energy_j`` (default
    ``P_a·t``).  Accelerators named in the file get a table model with its rows;
    others keep theirs.  Unknown ids, a second row for the same (layer, accelerator)
    and a row for a layer whose op the accelerator does not run are errors naming the
    line.
    """
    p = Path(path)
    text = read_text(p)  # its errors name the file already
    tables: dict[str, dict[str, dict[str, float]]] = {}
    seen: dict[tuple[str, str], int] = {}
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        cols = {c.strip() for c in reader.fieldnames or () if c}
        missing = {"layer", "accelerator", "time_s"} - cols
        if missing:
            raise InputError(f"{p}: missing column(s) {', '.join(sorted(missing))}")
        reader.fieldnames = [(c or "").strip() for c in reader.fieldnames or ()]
        for row in reader:
            row_no = reader.line_num
            lid, acc = (row.get("layer") or "").strip(), (row.get("accelerator") or "").strip()
            check_cost_row(inst, f"{p} line {row_no}", lid, acc, seen, row_no)
            entry = tables.setdefault(acc, {"time_s": {}, "energy_j": {}})
            for key in ("time_s", "energy_j"):
                raw = (row.get(key) or "").strip()
                if not raw:
                    if key == "time_s":
                        raise InputError(f"{p} line {row_no}: empty time_s")
                    continue
                try:
                    val = float(raw)
                except ValueError:
                    raise InputError(f"{p} line {row_no}: {key} {raw!r} is not a number") from None
                if not math.isfinite(val) or val < 0:
                    raise InputError(f"{p} line {row_no}: {key} must be finite and >= 0,"
                                     f" got {raw!r}")
                entry[key][lid] = val
    except csv.Error as exc:
        raise InputError(f"{p} line {reader.line_num + 1}: malformed CSV ({exc})") from None
    return replace_cost_tables(inst, tables, str(p))


def replace_cost_tables(inst: Instance, tables: dict[str, dict[str, dict[str, float]]],
                        where: str) -> Instance:
    """``inst`` with the accelerators named in ``tables`` given ``table`` cost models
    (``{acc: {"time_s": {layer: s}, "energy_j": {layer: J}}}``); the result is
    compiled once so that a missing cost is reported against ``where``."""
    accs = []
    for a in inst.system.accelerators:
        if a.id in tables:
            cm: dict[str, Any] = {"kind": "table", "time_s": tables[a.id]["time_s"]}
            if tables[a.id]["energy_j"]:
                cm["energy_j"] = tables[a.id]["energy_j"]
            a = Accelerator(a.id, a.ops, cm, a.power_w, a.weight_capacity_bytes,
                            a.host_bandwidth_bps, a.link_energy_jpb)
        accs.append(a)
    out = Instance(inst.name, inst.workload, System(tuple(accs), inst.system.links), inst.options)
    try:
        compile_tables(out)
    except ModelError as exc:
        raise InputError(f"{where}: {exc}") from None
    return out
