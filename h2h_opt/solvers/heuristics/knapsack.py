"""Weight residency by 0/1 knapsack per accelerator (SPEC §7.2 step 2, E9)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ...cost import CostTables
from ...model import Instance

__all__ = ["knapsack_residency"]


def knapsack_residency(inst: Instance, tables: CostTables, x: np.ndarray, *,
                       value: str = "reference", accs: Sequence[int] | None = None,
                       r: np.ndarray | None = None, weight: np.ndarray | None = None,
                       max_cells: int = 50_000_000) -> np.ndarray:
    """Weight residency per accelerator by 0/1 knapsack under ``Cap_a`` (E9).

    Sizes are in units of 1000 weight elements, ``⌈W_elems/1000⌉``, capacity
    ``⌈Cap/(b·1000)⌉`` (the reference units).  Values: ``reference`` — the size;
    ``seconds`` — the load time saved ``W_v/B_a``; ``critical`` — that times
    ``weight`` (a per-layer criticality factor).  If all weights fit, all are
    resident.  If the table would exceed ``max_cells`` the unit is coarsened
    (sizes still rounded up).  The rounding of the reference capacity may admit
    up to one unit too much: layers of least value are then dropped until the
    exact byte capacity holds.
    """
    n = tables.num_layers
    out = np.zeros(n, dtype=bool) if r is None else r.copy()
    b = inst.options.element_bytes
    for a in (range(tables.num_accs) if accs is None else accs):
        items = np.flatnonzero((x == a) & (tables.weight_bytes > 0))
        out[x == a] = False
        if len(items) == 0:
            continue
        wbytes = tables.weight_bytes[items]
        cap = tables.capacity[a]
        if wbytes.sum() <= cap:
            out[items] = True
            continue
        unit = 1000.0 * b
        cap_units = math.ceil(cap / unit)
        while len(items) * (cap_units + 1) > max_cells:
            unit *= 2
            cap_units = math.ceil(cap / unit)
        sizes = np.ceil(wbytes / unit - 1e-9).astype(np.int64)
        if value == "reference":
            vals = sizes.astype(float)
            take = _subset_sum(sizes, cap_units)
        else:
            vals = wbytes / tables.host_bw[a]
            if value == "critical" and weight is not None:
                vals = vals * weight[items]
            take = _knapsack(sizes, vals, cap_units)
        chosen = items[take]
        while tables.weight_bytes[chosen].sum() > cap and len(chosen):
            worst = int(np.argmin(vals[take]))
            take = np.delete(take, worst)
            chosen = items[take]
        out[chosen] = True
    return out


def _subset_sum(sizes: np.ndarray, cap: int) -> np.ndarray:
    """Knapsack with value = size: the largest reachable total <= cap.

    Reachable totals are a bit set (a Python int); row ``i`` is kept for the
    reconstruction, which prefers leaving later items out (ties keep earlier ones).
    """
    mask = (1 << (cap + 1)) - 1
    rows = [1]
    for sz in sizes.tolist():
        rows.append((rows[-1] | (rows[-1] << sz)) & mask)
    c = rows[-1].bit_length() - 1
    take = []
    for i in range(len(sizes), 0, -1):
        if not (rows[i - 1] >> c) & 1:
            take.append(i - 1)
            c -= int(sizes[i - 1])
    return np.array(sorted(take), dtype=np.int64)


def _knapsack(sizes: np.ndarray, values: np.ndarray, cap: int) -> np.ndarray:
    """Indices of an optimal 0/1 knapsack (ties keep the earlier, smaller choice)."""
    best = np.zeros(cap + 1)
    keep = np.zeros((len(sizes), cap + 1), dtype=bool)
    for i, (s, v) in enumerate(zip(sizes.tolist(), values.tolist(), strict=True)):
        if s > cap:
            continue
        if s == 0:
            keep[i, :] = True
            best += v
            continue
        cand = best[: cap + 1 - s] + v
        improve = cand > best[s:]
        keep[i, s:] = improve
        best[s:] = np.where(improve, cand, best[s:])
    take = []
    c = cap
    for i in range(len(sizes) - 1, -1, -1):
        if keep[i, c]:
            take.append(i)
            c -= int(sizes[i])
    return np.array(sorted(take), dtype=np.int64)
