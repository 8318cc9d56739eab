"""Decisions (SPEC §3) in the two shapes the code uses.

* :class:`Schedule` — what files hold: ids and seconds, picklable, written to a file,
  read back and evaluated against the instance it names.
* :class:`Decision` — what solvers hold: mapping ``x`` (accelerator index per layer,
  workload order), residency ``r`` and the per-accelerator orders ``π_a`` as layer
  indices.  :meth:`Decision.from_schedule` and :meth:`Decision.to_schedule` are the
  two converters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .model import LOCALITIES, Instance, ModelError

__all__ = ["Decision", "Schedule", "orders_from_starts", "prev_from_orders"]


@dataclass(frozen=True)
class Schedule:
    """A complete decision (SPEC §3): ``x(v)``, ``r(v)``, ``π_a`` and ``s(v)``.

    Parameters
    ----------
    instance:
        Name of the instance this schedule belongs to.
    mapping:
        ``layer id -> accelerator id`` (``x``).
    residency:
        ``layer id -> bool`` (``r``); layers absent are not resident (only resident
        layers are kept, so equal decisions compare equal).
    start:
        ``layer id -> start time [s]`` (``s``).
    orders:
        ``accelerator id -> layer ids in execution order`` (``π_a``).
    locality:
        Optional locality the schedule *uses*, no stronger than the instance's:
        ``"none"`` pays every transfer through the host, as the
        computation-prioritised baseline does (SPEC §7.1).  ``None`` means the
        instance's rule.
    meta:
        Free-form provenance (solver, step, parameters).
    """

    instance: str
    mapping: Mapping[str, str]
    start: Mapping[str, float]
    orders: Mapping[str, tuple[str, ...]]
    residency: Mapping[str, bool] = field(default_factory=dict)
    locality: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "mapping", dict(self.mapping))
        object.__setattr__(self, "start", {k: float(v) for k, v in self.start.items()})
        object.__setattr__(self, "orders", {a: tuple(o) for a, o in self.orders.items()})
        object.__setattr__(self, "residency", {k: True for k, v in self.residency.items() if v})
        object.__setattr__(self, "meta", dict(self.meta))
        if self.locality is not None and self.locality not in LOCALITIES:
            raise ModelError(
                f"schedule.locality: must be one of {list(LOCALITIES)}, got {self.locality!r}"
            )

    def with_meta(self, **meta: Any) -> Schedule:
        return Schedule(self.instance, self.mapping, self.start, self.orders, self.residency,
                        self.locality, {**self.meta, **meta})


def orders_from_starts(inst: Instance, mapping: Mapping[str, str],
                       start: Mapping[str, float]) -> dict[str, tuple[str, ...]]:
    """Per-accelerator orders sorted by start time, ties in workload order."""
    pos = inst.workload.index
    orders: dict[str, list[str]] = {a: [] for a in inst.system.ids}
    for lid, acc in mapping.items():
        orders.setdefault(acc, []).append(lid)
    return {
        a: tuple(sorted(ids, key=lambda v: (start.get(v, 0.0), pos.get(v, -1))))
        for a, ids in orders.items()
    }


def prev_from_orders(num_layers: int, orders: Sequence[Sequence[int]]) -> np.ndarray:
    """``prev[v]``: the layer right before ``v`` on its accelerator, ``-1`` if first."""
    prev = np.full(num_layers, -1, dtype=np.int64)
    for order in orders:
        for i in range(1, len(order)):
            prev[order[i]] = order[i - 1]
    return prev


@dataclass
class Decision:
    """Mapping ``x`` (V,), residency ``r`` (V,) and orders ``π_a`` (A lists of layer
    indices), all in workload / system order: the one shape every solver works on."""

    x: np.ndarray
    r: np.ndarray
    orders: list[list[int]]

    def copy(self) -> Decision:
        return Decision(self.x.copy(), self.r.copy(), [o[:] for o in self.orders])

    def prev(self) -> np.ndarray:
        return prev_from_orders(len(self.x), self.orders)

    @classmethod
    def from_schedule(cls, inst: Instance, s: Schedule, *, residency: bool = True
                      ) -> Decision:
        """Ids to indices (``residency=False`` drops the schedule's residency).

        Raises
        ------
        KeyError
            A layer or accelerator id the instance does not have (callers that take
            untrusted schedules evaluate them first).
        """
        wl, acc_index = inst.workload, inst.system.index
        x = np.array([acc_index[s.mapping[layer.id]] for layer in wl.layers], dtype=np.int64)
        r = np.array([residency and bool(s.residency.get(layer.id, False))
                      for layer in wl.layers], dtype=bool)
        orders = [[wl.index[v] for v in s.orders.get(a, ())] for a in inst.system.ids]
        return cls(x, r, orders)

    def to_schedule(self, inst: Instance, start: Sequence[float], locality: str | None = None,
                    **meta: Any) -> Schedule:
        """Indices to ids, with start times ``start`` (seconds, workload order)."""
        wl, ids = inst.workload, inst.system.ids
        return Schedule(
            instance=inst.name,
            mapping={layer.id: ids[int(self.x[v])] for v, layer in enumerate(wl.layers)},
            start={layer.id: float(start[v]) for v, layer in enumerate(wl.layers)},
            orders={ids[a]: tuple(wl.layers[v].id for v in order)
                    for a, order in enumerate(self.orders)},
            residency={wl.layers[v].id: True for v in np.flatnonzero(self.r)},
            locality=locality,
            meta=meta,
        )
