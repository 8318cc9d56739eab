"""Integer-tick view of an instance shared by the exact models (SPEC §6).

Every duration and delay of E2-E7 is rounded up to whole ticks, so a schedule feasible
in ticks is feasible in seconds.  The terms themselves come from the comm model
(:class:`h2h_opt.comm.CommModel`, :class:`h2h_opt.comm.LayerTerms`); :class:`TickModel`
adds what both CP-SAT and the MILP compute from them: ASAP re-timing of a decision in
ticks (for complete warm starts), a horizon, heads and tails, and the largest amount by
which rounding can lengthen a schedule.
"""

from __future__ import annotations

import math

from ...comm import CommModel, exact_support
from ...cost import CostTables, compile_tables
from ...model import Instance
from ...schedule import Decision, Schedule
from ...timing import Retimer, Timer, chains

__all__ = ["TickModel", "exact_support", "tick_makespan"]


#: Most ticks a serial schedule may span: loads summed over 10 000 layers then stay far
#: inside 64-bit integers (CP-SAT) and the MILP's scaled times inside its tolerances.
MAX_HORIZON_TICKS = 10**12


def choose_tick(inst: Instance, tables: CostTables) -> float:
    """The instance's tick (SPEC §6), coarsened by powers of ten when a serial schedule
    would span more than :data:`MAX_HORIZON_TICKS` of it (durations near 1e10 s at 1 ns
    would overflow 64-bit integers)."""
    base = inst.options.tick_s
    span = CommModel(inst, tables).serial_seconds() / base
    if span <= MAX_HORIZON_TICKS:
        return base
    return base * 10 ** math.ceil(math.log10(span / MAX_HORIZON_TICKS))


class TickModel:
    """The tick terms of one instance and what both exact models compute from them.
    ``tick`` may be coarser than ``options.tick_s`` (:func:`choose_tick`); ``coarsened``
    says so."""

    def __init__(self, inst: Instance, tables: CostTables) -> None:
        self.inst, self.tables = inst, tables
        self.tick = choose_tick(inst, tables)
        self.coarsened = self.tick != inst.options.tick_s
        self.comm = CommModel(inst, tables, self.tick)
        self.terms = self.comm.terms
        self.n, self.m = tables.num_layers, tables.num_accs
        self.compute = self.comm.compute_ticks
        self.feas = [[a for a in range(self.m) if self.compute[v][a] >= 0]
                     for v in range(self.n)]

    def tick_times(self, dec: Decision) -> tuple[list[int], list[float], list[float]]:
        """Busy times, ASAP starts and finishes in ticks, with the model's durations."""
        x = dec.x.tolist()
        busy = self.comm.busy_ticks(x, dec.r.tolist())
        start, finish = Retimer(self.tables, self.inst.workload.in_edges).run(
            [float(b) for b in busy], self.comm.edge_delays_ticks(x), dec.prev().tolist())
        return busy, start, finish

    def rounding_slack(self) -> float:
        """Most the rounded makespan of any schedule can exceed its true makespan."""
        return float(self.comm.rounded_terms()) * self.tick

    def horizon(self, hint_makespan: int | None) -> int:
        """``hint_makespan`` if given, else every layer at its longest busy time one
        after another, plus the longest delay of every edge."""
        if hint_makespan is not None:
            return hint_makespan
        total = sum(max(self.busy_range_on(v, a)[1] for a in self.feas[v])
                    for v in range(self.n))
        delay = self.comm.delay_ticks
        if len(delay):
            total += int(delay.max(axis=(1, 2)).sum())
        return max(total, 1)

    def schedule(self, dec: Decision, solver: str) -> Schedule:
        """A solver's decision as a schedule, re-timed ASAP in seconds by the one timing
        kernel (rounding to ticks only ever lengthened the solver's durations)."""
        return Timer(self.inst, self.tables).schedule(dec, None, solver=solver)[0]

    def plan_horizon(self, plan: Decision | None) -> int:
        """The horizon for a solve warm-started from ``plan``: the plan's makespan with
        nothing resident (an upper bound on the optimal makespan) when the objective
        involves latency; a min-energy schedule may be longer, so then the serial one."""
        hint_ms = None
        if plan is not None and self.inst.options.objective != "energy":
            bare = Decision(plan.x, plan.r & False, plan.orders)
            hint_ms = int(max(self.tick_times(bare)[2]))
        return self.horizon(hint_ms)

    def busy_range_on(self, v: int, a: int) -> tuple[int, int]:
        """Least and most busy ticks of ``v`` if it runs on ``a`` (E2-E4 / E6): the
        least counts only the terms no choice can avoid (weights that cannot be
        resident, reads from producers that cannot run on ``a``, forced writes)."""
        lt = self.terms[v, a]
        lo = lt.fixed - (lt.weight if lt.can_reside else 0)
        hi = lt.fixed + sum(rt.time for rt in lt.reads) + lt.write
        return int(lo), int(hi)

    def heads_tails(self) -> tuple[list[int], list[int], list[int]]:
        """Least busy time of every layer, its head (earliest start: longest chain of
        least busy times before it) and tail (least time from its end to the
        makespan), all in ticks; transfer delays of p2p are left out (they may be 0)."""
        least = [min(self.busy_range_on(v, a)[0] for a in self.feas[v])
                 for v in range(self.n)]
        head, tail = chains(least, self.inst.workload)
        return least, head, tail


def tick_makespan(inst: Instance, s: Schedule) -> int:
    """The makespan of a schedule's decisions re-timed ASAP in whole ticks (SPEC §6).

    Every busy time and delay of the schedule's mapping, residency and orders is rounded
    up to ticks of ``inst.options.tick_s`` as the exact models do; the result is the unit
    in which CP-SAT and the MILP state and prove their optima, so two schedules proven
    optimal by either have the same ``tick_makespan``.

    Parameters
    ----------
    inst
        The instance.
    s
        A schedule of ``inst`` (only its decisions are used; its times are not).

    Returns
    -------
    int
        The makespan in ticks (0 for an empty workload).
    """
    model = TickModel(inst, compile_tables(inst))
    return int(max(model.tick_times(Decision.from_schedule(inst, s))[2], default=0))
