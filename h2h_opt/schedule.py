"""Schedules: mapping, residency, per-accelerator orders and start times (SPEC §3).

Plain picklable data keyed by layer and accelerator ids, so that a schedule can be
written to a file, read back, and evaluated against the instance it names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .model import LOCALITIES, Instance, ModelError

__all__ = ["Schedule", "orders_from_starts"]


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

    @property
    def finish_hint(self) -> float:
        """Largest start time (the evaluator computes real finish times)."""
        return max(self.start.values(), default=0.0)

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
