"""Large-neighbourhood search on CP-SAT windows (issue 14): an anytime solver for the
sizes the exact models cannot prove.

Each step frees a *neighbourhood* ``F`` of layers from the current decision and
re-optimises it with CP-SAT on a short deterministic budget, warm-started (hinted) from
the current schedule.  The sub-model is a *window*, small whatever the instance's size:

* the freed layers choose accelerator and residency (E9) and their place in every
  accelerator's order;
* their DAG neighbours ``N(F)`` keep accelerator and residency, but their busy time
  still depends on where the freed layers go (E3 reads, E4 writes), and their start may
  move between the kept layers before and after them on their accelerator (the
  relative order of kept layers never changes);
* every other layer stays where the current schedule (ASAP, in ticks) has it: a fixed
  interval on its accelerator that the window's layers may not overlap (E8), a fixed
  finish its successors in the window wait for, a fixed start that the window's layers
  must finish before (E5, E7).

Busy times are the comm model's term lists (:meth:`SatModel.build_assignment`, the
same literals as the full CP-SAT model), so the window has no physics of its own.  The
window minimises the sum of its layers' finishes (so freeing room early lets everything
after it start earlier when the whole decision is re-timed) plus, weighted by the
window's size, its latest finish.  A candidate is re-timed ASAP in seconds by the one
timing kernel and accepted when its objective improves, or when it is equal and the
sum of all finish times drops (a plateau move; see :data:`ACCEPT`).

Neighbourhood kinds (chosen at random, weighted by how often each improved): a window
in time, the critical path, one model's consecutive layers, two accelerators' layers,
a random set.  The size adapts: it grows after a window proved it could not improve,
and shrinks after one that ran out of budget.  With ``neighbourhoods`` (a work limit)
binding before the time limit, each sub-solve limited in CP-SAT's deterministic time on
one worker and seeded from the run's seed, the result is the same run to run.

Before the windows, an ``anneal`` share of the time may go to simulated annealing
(:func:`~h2h_opt.solvers.anneal.anneal`): single-layer moves of the mapping
and of a topological priority list, critical layers first, each timed by the same
kernel, thousands a second where a window takes tens of milliseconds.  It runs while the
MIP below has the other core, and the polish starts from its best.

While the windows run on one core, HiGHS's branch and bound on the cheap LP with a 0/1
mapping and residency (:class:`~h2h_opt.solvers.bounds.MappingBound`) runs on another,
and on through a share of the polish (``mip_polish``; while both run, the polish's
threads yield it a core, and once it ends the polish has both): its bound stops the
windows when the schedule meets it, floors the polish if it is known by then, and stops
the polish when the polish's incumbent meets it -- unless ``neighbourhoods`` is below
its default, when it is only reported at the end (its value depends on time; the
schedule then does not).  Solved to the end, the MIP is often within a fraction of a
per cent of the best schedule where 10 s of it are not (``driving-hetero4-0.125GBps``:
0.1948 s in 38 s against 0.1790 s, the schedule 0.1953 s).
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from ortools.sat.python.cp_model import FEASIBLE, OPTIMAL, CpSolverSolutionCallback

from ...cost import compile_tables
from ...model import Instance
from ...result import SolveResult
from ...schedule import Decision, Schedule
from ...timing import ScheduleCycleError, Timer, list_schedule
from ..anneal import anneal
from ..base import Option, SolveParams, SolverError
from ..bounds import TRANSFER_PAIRS, MappingBound, lower_bound
from .cpmodel import SatModel
from .native import sat_parameter, set_sat_parameters
from .plumbing import ExactSolver, LogSink, Progress, exact_result, rounding_info, time_limit

__all__ = ["KINDS", "LnsSolver", "Window"]

#: Neighbourhood kinds, in the order their weights are kept.
KINDS = ("time", "critical", "model", "accelerators", "random")

#: Acceptance rule: ``"plateau"`` also takes equal-objective candidates whose summed
#: finish times drop; ``"strict"`` only strict improvements (measured in the README).
ACCEPT = ("plateau", "strict")

#: Largest (layers x accelerators) the load relaxation is built for: at 10 000 x 8 its
#: model took 12 s of a 60 s run to build and proved nothing the LP had not.
RELAX_PAIRS = 20_000

#: Layers freed by one neighbourhood of the mapping phase (measured on random-n1000-a8,
#: 20 s: 20 layers at 0.02 deterministic s each reached a largest load of 2.70 s, 60 at
#: 0.1 s 2.99 s, 100 at 0.2 s 3.10 s).
MAP_SIZE = 20

#: Neighbourhoods of the mapping phase without an improvement after which its first
#: half (the summed load) gives way to the second (the largest), and the second to the
#: windows.
MAP_PATIENCE = 60

#: The default work limit: no limit in practice (a smaller ``neighbourhoods`` asks for a
#: reproducible run).
WORK_UNLIMITED = 100000

#: Nice value of the polish's CP-SAT threads while the MIP runs beside them: 8 workers
#: at nice 10 (weight 110 each) against the MIP's one at 0 (1 024) leave the MIP a core.
POLISH_NICE = 10

#: Relative tolerance under which two objective values count as equal.
EQUAL = 1e-12


def _assignment(base: SatModel, x: list[int], r: list[bool], freed: set[int]
                ) -> tuple[SatModel, list[int], set[int]]:
    """The assignment part of a neighbourhood's sub-model: the freed layers choose
    accelerator and residency; their DAG neighbours (returned with them, sorted) keep
    theirs, but their busy terms still see where the freed layers go; every other
    layer is a constant where ``x`` has it, its residency kept (E9).  Also the kept
    neighbours."""
    wl = base.inst.workload
    near = set(freed)
    for v in freed:
        near.update(wl.preds[v])
        near.update(wl.succs[v])
    layers = sorted(near)
    kept = {v for v in layers if v not in freed}
    mdl = base.fresh()
    outside = {u: x[u] for v in layers for u in (*wl.preds[v], *wl.succs[v])
               if u not in near}
    stay = np.asarray(r, dtype=bool).copy()  # layers outside F whose weights stay (E9)
    stay[list(freed)] = False
    on = np.asarray(x)
    for a in range(base.m):
        mdl.resident_layers[a] = np.flatnonzero(stay & (on == a)).tolist()
    mdl.build_assignment(layers, {v: [x[v]] for v in kept}, outside,
                         {v: bool(r[v]) for v in kept})
    return mdl, layers, kept


class LoadWindow:
    """A neighbourhood of the mapping phase: the assignment part of a window
    (:func:`_assignment`) and every accelerator's load -- the busy times of the layers
    outside it as a constant, the model's terms for the rest (the load relaxation's
    rows, :meth:`SatModel._load_cuts`).  No load may exceed ``top`` (the largest now);
    ``balance``: minimise the largest load weighted by the window's layers times the
    accelerators, plus the summed load; else the summed load alone (fewer reads, writes
    and weight loads: layers that exchange data gather on one accelerator)."""

    def __init__(self, base: SatModel, x: list[int], r: list[bool], busy: list[int],
                 loads: list[int], freed: set[int], top: int, balance: bool) -> None:
        self.x, self.r, self.freed = x, r, freed
        self.mdl, self.layers, _ = _assignment(base, x, r, freed)
        layers = self.layers
        md = self.mdl.model
        const = list(loads)  # every accelerator's load without the window's layers
        for v in layers:
            const[x[v]] -= int(busy[v])
        by_acc = self.mdl._terms_by_acc()
        largest = md.new_int_var(0, top, "largest_load")
        total = []
        for a in range(base.m):
            terms = [t for v in layers for t in by_acc[v][a]]
            md.add(largest >= const[a] + sum(c * lit for c, lit in terms))
            total += terms
        summed = sum(c * lit for c, lit in total)
        md.minimize(len(layers) * base.m * largest + summed if balance else summed)
        self.mdl.hint_assignment(x, r)
        md.add_hint(largest, top)

    def mapping(self, solver: Any) -> tuple[list[int], list[bool], list[int]]:
        """The mapping and residency with the sub-model's solution in it (E9 exact), and
        the layers whose busy time may have changed: the window's, and any whose
        residency the E9 repair took."""
        mdl, x, r = self.mdl, list(self.x), list(self.r)
        for (v, a), xv in mdl.x.items():
            if v in self.freed and solver.boolean_value(xv):
                x[v] = a
        for v in self.freed:
            rv = mdl.rx.get((v, x[v]))
            r[v] = bool(rv is not None and solver.boolean_value(rv))
        fitted = mdl.fit_memory(x, r)
        lost = np.flatnonzero(np.asarray(fitted) != np.asarray(r)).tolist()
        return x, fitted, sorted(set(self.layers).union(lost))


class Window:
    """The sub-model of one neighbourhood (module docstring) and how to read it back."""

    def __init__(self, base: SatModel, dec: Decision, times: tuple[list[int], list[float],
                                                                list[float]],
                 freed: set[int], objective: str, topo_pos: list[int],
                 energy_room: float | None = None) -> None:
        wl, tab = base.inst.workload, base.tables
        busy, start, finish = times
        x, r = dec.x.tolist(), dec.r.tolist()
        self.dec, self.freed = dec, freed
        self.topo_pos = topo_pos
        self.start0 = [int(s) for s in start]
        self.finish0 = [int(f) for f in finish]
        mdl, self.layers, kept = _assignment(base, x, r, freed)
        self.mdl = mdl
        inside = set(self.layers)
        md = mdl.model
        horizon = int(max(finish)) if finish else 0
        # times of the window's layers
        self.s: dict[int, Any] = {}
        self.e: dict[int, Any] = {}
        self.busy: dict[int, Any] = {}
        for v in self.layers:
            terms = mdl.busy_terms[v]
            hi = min(sum(c for c, _ in terms if c > 0), horizon)
            lv = md.new_int_var(0, max(hi, 0), f"L_{v}")
            md.add(lv == sum(c * b for c, b in terms))
            self.s[v] = md.new_int_var(0, horizon, f"s_{v}")
            self.e[v] = md.new_int_var(0, horizon, f"f_{v}")
            md.add(self.e[v] == self.s[v] + lv)
            self.busy[v] = lv
        # kept layers keep their order among the kept layers of their accelerator
        pos = {}
        chains = []
        for a, order in enumerate(dec.orders):
            chain = [v for v in order if v not in freed]
            chains.append(chain)
            for i, v in enumerate(chain):
                pos[v] = (a, i)
        for v in kept:
            a, i = pos[v]
            chain = chains[a]
            if i > 0:
                p = chain[i - 1]
                md.add(self.s[v] >= (self.e[p] if p in inside else self.finish0[p]))
            if i + 1 < len(chain) and chain[i + 1] not in inside:
                md.add(self.e[v] <= self.start0[chain[i + 1]])
        # E8: no overlap with each other or with the fixed layers that could be in the way
        head: dict[int, int] = {}  # earliest start of each window layer (loose)
        for v in sorted(self.layers, key=lambda v: self.topo_pos[v]):
            h = max((head[u] if u in inside else self.finish0[u] for u in wl.preds[v]),
                    default=0)
            if v in kept and pos[v][1] > 0:
                p = chains[pos[v][0]][pos[v][1] - 1]
                h = max(h, head.get(p, 0) if p in inside else self.finish0[p])
            head[v] = h
        tail: dict[int, int] = {}  # latest finish of each window layer (loose)
        for v in sorted(self.layers, key=lambda v: -self.topo_pos[v]):
            t = min((tail[w] if w in inside else self.start0[w] for w in wl.succs[v]),
                    default=horizon)
            if v in kept and pos[v][1] + 1 < len(chains[pos[v][0]]):
                q = chains[pos[v][0]][pos[v][1] + 1]
                t = min(t, tail.get(q, horizon) if q in inside else self.start0[q])
            tail[v] = t
        ivs: list[list[Any]] = [[] for _ in range(base.m)]
        for (v, a), xv in mdl.x.items():
            ivs[a].append(md.new_optional_interval_var(self.s[v], self.busy[v], self.e[v],
                                                       xv, f"i_{v}_{a}"))
        # the fixed layers a freed layer could meet: on an accelerator it may use, within
        # the time it may take (kept chains are sorted and do not overlap)
        fixed_on = [[u for u in chain if u not in inside and busy[u] > 0] for chain in chains]
        starts = [np.array([self.start0[u] for u in f], dtype=np.int64) for f in fixed_on]
        ends = [np.array([self.finish0[u] for u in f], dtype=np.int64) for f in fixed_on]
        meet: set[tuple[int, int]] = set()
        for (v, a) in mdl.x:
            if v in freed and len(fixed_on[a]):
                i = int(np.searchsorted(ends[a], head[v], side="right"))
                j = int(np.searchsorted(starts[a], tail[v], side="left"))
                meet.update((a, k) for k in range(i, j))
        for a, k in sorted(meet):
            u = fixed_on[a][k]
            ivs[a].append(md.new_fixed_size_interval_var(self.start0[u], int(busy[u]), f"k_{u}"))
        for a in range(base.m):
            if len(ivs[a]) > 1:
                md.add_no_overlap(ivs[a])
        # E5 and E7 on every edge touching the window
        delay = mdl.comm.delay_ticks
        src, dst = tab.edge_src.tolist(), tab.edge_dst.tolist()
        edges = sorted({k for v in self.layers for k in (*wl.in_edges[v], *wl.out_edges[v])})
        for k in edges:
            u, w = src[k], dst[k]
            fu = self.e[u] if u in inside else self.finish0[u]
            sw = self.s[w] if w in inside else self.start0[w]
            md.add(sw >= fu)
            if not len(delay):
                continue
            for a in (mdl.feas[u] if u in inside else [x[u]]):
                for b in (mdl.feas[w] if w in inside else [x[w]]):
                    c = int(delay[k, a, b])
                    lits = [mdl.x[q, acc] for q, acc in ((u, a), (w, b)) if (q, acc) in mdl.x]
                    if c > 0 and lits and all(q not in inside or (q, acc) in mdl.x
                                              for q, acc in ((u, a), (w, b))):
                        md.add(sw >= fu + c).only_enforce_if(lits)
        # objective (an energy cap with the current schedule above it: energy first)
        scale = 1e12 / (sum(abs(c) for c, _ in mdl.joule_terms) or 1.0)
        joules = [(int(round(c * scale)), b) for c, b in mdl.joule_terms]
        if objective == "energy" or (energy_room is not None and energy_room < 0):
            md.minimize(sum(c * b for c, b in joules))
        elif self.e:
            last = md.new_int_var(0, horizon, "window_end")
            md.add_max_equality(last, list(self.e.values()))
            md.minimize(len(self.layers) * last + sum(self.e.values()))
        self._hint(x, r, busy)
        if energy_room is not None and energy_room >= 0 and joules:
            # E11 within the cap: the window's energy terms (the rest of the schedule
            # keeps its energy) may grow by the room the cap leaves; the candidate's
            # evaluated energy is checked again when it is scored
            hinted = dict(zip(md.proto.solution_hint.vars, md.proto.solution_hint.values,
                              strict=True))
            now = sum(c * hinted[b.index] for c, b in joules)
            md.add(sum(c * b for c, b in joules) <= now + math.floor(energy_room * scale))

    def _hint(self, x: list[int], r: list[bool], busy: list[int]) -> None:
        md = self.mdl.model
        self.mdl.hint_assignment(x, r)
        for v in self.layers:
            md.add_hint(self.s[v], self.start0[v])
            md.add_hint(self.e[v], self.finish0[v])
            md.add_hint(self.busy[v], int(busy[v]))

    def decision(self, solver: Any) -> Decision:
        """The current decision with the window's solution in it: the freed layers'
        accelerators and residency, and every accelerator's order by start time (the
        window's new starts, the current ones elsewhere)."""
        mdl, dec = self.mdl, self.dec
        x, r = dec.x.copy(), dec.r.copy()
        for (v, a), xv in mdl.x.items():
            if v in self.freed and solver.boolean_value(xv):
                x[v] = a
        for v in self.freed:
            rv = mdl.rx.get((v, int(x[v])))
            r[v] = bool(rv is not None and solver.boolean_value(rv))
        start = list(self.start0)
        end = list(self.finish0)
        for v in self.layers:
            start[v], end[v] = solver.value(self.s[v]), solver.value(self.e[v])
        r = np.array(mdl.fit_memory(x.tolist(), r.tolist()), dtype=bool)
        orders: list[list[int]] = [[] for _ in range(mdl.m)]
        topo = self.topo_pos
        for v in sorted(range(mdl.n), key=lambda v: (start[v], end[v], topo[v])):
            orders[int(x[v])].append(v)
        return Decision(x, r, orders)


class LnsSolver(ExactSolver):
    """Large-neighbourhood search (module docstring).  Its bound is the best of its load
    relaxation (CP-SAT), the cheap LP (:func:`h2h_opt.solvers.bounds.lower_bound`), that
    LP with a 0/1 mapping (:class:`~h2h_opt.solvers.bounds.MappingBound`, beside the
    windows) and the polish's full model; it says optimal when its schedule meets that
    bound within the rounding."""

    name = "lns"
    kind = "anytime"  # improves a schedule, proves nothing (not 'exact')
    options = (
        Option("warm_start", str, "best", "solver whose schedule starts the search (best:"
               " the better of heft and h2h_plus; heft alone with the mapping phase)",
               choices=("best", "baseline", "h2h", "h2h_plus", "heft")),
        Option("neighbourhoods", int, WORK_UNLIMITED, "most neighbourhoods to re-optimise (a work"
               " limit: with it binding first the run is reproducible)", low=1),
        Option("size", int, 12, "layers freed at first (adapted between 4 and 400)", low=1),
        Option("sub_time", float, 0.02, "CP-SAT deterministic time per neighbourhood", low=0.001),
        Option("relax_time", float, 2.0, "CP-SAT deterministic time for the load relaxation"
               " (a bound, and a mapping to start from; 0: skip it)", low=0.0),
        Option("relax_precedence", bool, True, "the load relaxation also bounds every"
               " chain under its mapping (E5; results/lns_relaxation_precedence.md)"),
        Option("accept", str, "plateau", "acceptance rule: plateau (equal objective, less"
               " summed finish time) or strict", choices=ACCEPT),
        Option("relax_order", float, 3.0, "seconds (at most a fifth of what is left) to"
               " order the relaxation's mapping with the full model fixed to it (at most"
               " polish_layers layers; 0: ASAP heads only). Where the relaxation's bound is"
               " the optimum this proves it at once (small suite, random-n30-a3-p2p-s4 at"
               " 30 s: optimal in 4.2 s, else 0.36 % above it at the limit); on 21 paper"
               " instances 3 s measured neutral (results/paper_lns_v3)", low=0.0),
        Option("polish", float, 0.5, "share of the time limit for a last search of the"
               " full CP-SAT model hinted with the best schedule (latency objective, at most"
               " polish_layers layers; 0: none). 0.5 with anneal 0.4 against 0.8 without:"
               " see anneal; without the anneal 0.8 beat 0.5 (small suite's optimum on"
               " 20/21 instead of 17/21; results/small_lns_p08)", low=0.0, high=0.95),
        Option("polish_layers", int, 300, "largest instance the polish runs on", low=0),
        Option("polish_workers", int, 8, "CP-SAT workers of the polish (its portfolio;"
               " cpsat's default)", low=1),
        Option("polish_parameters", dict, {}, "set on the polish's CpSolver.parameters as"
               " given, after its workers and limits (a list sets a repeated field)",
               keys=sat_parameter, keys_help="SatParameters field"),
        Option("polish_dtime", float, 0.0, "CP-SAT deterministic time of the polish (with"
               " one polish worker: reproducible; 0: until the time limit)", low=0.0),
        Option("mip_bound", bool, True, "while the windows run, HiGHS's branch and bound"
               " on the cheap LP with a 0/1 mapping, on a thread of its own (a bound; up"
               " to 2 000 layers x accelerators, with 5 s or more for the windows; with"
               " neighbourhoods below its default, reported at the end only)"),
        Option("mip_polish", float, 1.0, "share of the polish the MIP of mip_bound runs"
               " on through, the polish stopping once its incumbent meets the MIP's bound"
               " (0: the MIP has the windows' time only; 1: until the time limit, the"
               " polish on one core). paper suite, 60 s: about 0 (v10), 0.5, 1 at most"
               " cpsat on 46, 40, 41/60, schedules within 0.14 % (geometric mean), mean ratio to"
               " the best bound of the run and cpsat's 1.0371, 1.0351, 1.0275"
               " (results/lns_paper_v12.md)",
               low=0.0, high=1.0),
        Option("anneal", float, 0.4, "share of the time left after the bounds for simulated"
               " annealing over the mapping and a priority list before the windows, taken"
               " from the windows' share (1 - polish; latency objective, at most"
               " polish_layers layers; 0: none). With polish 0.5 against 0 with 0.8: paper"
               " suite at 60 s mean ratio to the best bound 1.0210 against 1.0275, at most"
               " cpsat on 50/60 against 41/60 (results/lns_paper_v14.md); small suite at"
               " 30 s 1.0032 against 1.0049, the optimum on 20/22 both"
               " (results/lns_small_v7.md)", low=0.0, high=0.95),
        Option("anneal_moves", int, 0, "moves of the anneal (a work limit: the run is the"
               " same run to run; 0: until its share of the time, and none under a"
               " neighbourhoods work limit)", low=0),
        Option("kinds", list, KINDS, "neighbourhood kinds to draw from", choices=KINDS),
        Option("map_share", float, 0.8, "on instances above polish_layers layers, share of"
               " the time limit for the mapping phase before the windows: a search on the"
               " accelerators' loads alone, whose mapping is then list-scheduled (0: none)",
               low=0.0, high=0.95),
        Option("map_neighbourhoods", int, 100000, "most neighbourhoods of the mapping phase"
               " (a work limit, as neighbourhoods)", low=1),
        Option("energy_cap", float, 0.0, "only schedules of at most this energy, J (E11;"
               " 0: no cap): a start above it is replaced by a mapping within it (or the"
               " cap proven infeasible), then the windows keep it there", low=0),
    )

    def mapping_phase(self, inst: Instance, params: SolveParams) -> bool:
        """Whether the mapping phase runs: the latency objective without an energy cap,
        on an instance above ``polish_layers`` layers."""
        return self.option(params, "map_share") > 0 and inst.options.objective == "latency" \
            and self.option(params, "energy_cap") == 0 \
            and inst.num_layers > self.option(params, "polish_layers")

    def quick_starts(self, inst: Instance, params: SolveParams) -> tuple[str, ...]:
        """With the mapping phase, HEFT alone: ``h2h_plus``'s time (5 s at 1 000 layers,
        30 % of the limit at 10 000) goes further in the mapping phase (random layered,
        8 accelerators, 60 s: 0.722x ``h2h_plus`` against 0.752x from the better of the
        two at 1 000 layers, 0.774x against 0.822x at 3 000, 0.821x against 0.878x at
        10 000)."""
        if self.mapping_phase(inst, params):
            return ("heft",)
        return super().quick_starts(inst, params)

    def solve(self, inst: Instance, params: SolveParams,
              initial: Schedule | None = None) -> SolveResult:
        t0 = time.perf_counter()
        deadline = t0 + time_limit(params)
        if initial is None:
            raise SolverError("lns needs a starting schedule (option warm_start)")
        kinds = list(self.option(params, "kinds"))
        if not kinds:
            raise SolverError("lns: option 'kinds' names no neighbourhood kind")
        tables = compile_tables(inst)
        base = SatModel(inst, tables)
        objective = inst.options.objective
        timer = Timer(inst, tables)
        strict = self.option(params, "accept") == "strict"
        cap = self.option(params, "energy_cap")
        over = 1 if cap > 0 else 0  # under a cap the key starts with the energy above it

        def excess(energy: float) -> float:
            return max(0.0, energy - cap * (1 + 1e-9))

        def score(dec: Decision) -> tuple[tuple[float, ...], float]:
            tm = timer.time(dec, describe=False)
            key = {"energy": (tm.energy,), "lex": (tm.makespan, tm.energy)}.get(
                objective, (tm.makespan,))
            if over:
                key = (excess(tm.energy), *key)
            return key, float(np.sum(tm.finish))

        current = Decision.from_schedule(inst, initial)
        sink = LogSink(params.log, params.progress)
        with sink, contextlib.ExitStack() as stack:  # (the stack stops the MIP, if any)
            progress = Progress(sink.progress, 1.0, t0)
            solver = base.cp.CpSolver()
            sp = solver.parameters
            sp.num_workers = 1
            sp.random_seed = params.seed % (2**31)
            bound: float | None = None
            bound_source = "load relaxation (CP-SAT)"
            relax_s = 0.0
            relax_bound: float | None = None
            polish_opt: int | None = None
            share = self.option(params, "map_share")
            mapping_phase = self.mapping_phase(inst, params)
            if self.option(params, "relax_time") > 0 and objective != "energy" \
                    and 0 < base.n * base.m <= RELAX_PAIRS and not mapping_phase \
                    and deadline - time.perf_counter() > 5.0:
                t1 = time.perf_counter()
                sp.max_deterministic_time = self.option(params, "relax_time")
                sp.max_time_in_seconds = max(0.01, 0.25 * (deadline - t1))
                sp.linearization_level = 2  # the LP-heavy search proves its bound (measured)
                bound, mapped = self._relaxation(base, current, solver, cap,
                                                 self.option(params, "relax_precedence"))
                relax_bound = bound
                sp.linearization_level = 1
                relax_s = time.perf_counter() - t1
                if mapped is not None and objective == "latency" \
                        and 0 < base.n <= self.option(params, "polish_layers") \
                        and self.option(params, "relax_order") > 0:
                    # as cpsat does: the best order of the relaxation's mapping, from the
                    # full model with that mapping fixed (a short search)
                    until = time.perf_counter() + min(self.option(params, "relax_order"),
                                                      0.2 * (deadline - t1))
                    ordered = self._polish(base, mapped, None, solver, until, 2, 0.0,
                                           fix_mapping=True)[0]
                    if ordered is not None and _less(score(ordered)[0], score(mapped)[0]):
                        mapped = ordered
                    relax_s = time.perf_counter() - t1
                if mapped is not None and _less(score(mapped)[0], score(current)[0]):
                    current = mapped
            cheap_s, cheap = 0.0, None
            if objective != "energy" and not mapping_phase \
                    and 0 < base.n * base.m <= RELAX_PAIRS \
                    and deadline - time.perf_counter() > 5.0:
                # the cheap LP (bounds.lower_bound: with memory and transfers on
                # instances of this size) is often above the relaxation's CP-SAT bound
                # (on 19 of the 60 paper instances): it closes the search sooner and
                # floors the polish's makespan
                t1 = time.perf_counter()
                cheap = params.known_bound or lower_bound(
                    inst, tables, min(10.0, 0.1 * (deadline - t1)))
                cheap_s = time.perf_counter() - t1
                if bound is None or cheap.value > bound:
                    bound, bound_source = cheap.value, cheap.source
            map_s = 0.0
            map_stats: dict[str, Any] = {}
            if mapping_phase:  # (instead of the load relaxation, which at 1 000 layers
                # found no mapping in its 2 deterministic seconds)
                t1 = time.perf_counter()
                mapped, map_stats = self._map_search(
                    base, current, solver, t1 + share * (deadline - t1),
                    params.seed, self.option(params, "sub_time"),
                    self.option(params, "map_neighbourhoods"))
                map_stats["list_scheduled_s"] = score(mapped)[0][0]
                if _less(score(mapped)[0], score(current)[0]):
                    current = mapped
                    map_stats["taken"] = True
                map_s = time.perf_counter() - t1
            above = over and score(current)[0][0] > 0  # the start breaks the cap
            if (objective == "energy" or above) and 0 < base.n * base.m <= RELAX_PAIRS:
                # energy does not depend on time: the least-energy mapping, exactly (the
                # energy objective's answer; under a cap, a start within it, or the proof
                # that none is)
                t1 = time.perf_counter()
                sp.max_deterministic_time = max(1.0, self.option(params, "relax_time"))
                sp.max_time_in_seconds = max(0.01, 0.5 * (deadline - t1))
                least, mapped = self._least_energy(base, current, solver)
                relax_s += time.perf_counter() - t1
                if objective == "energy":
                    bound, bound_source = least, "least-energy mapping (CP-SAT)"
                if mapped is not None and _less(score(mapped)[0], score(current)[0]):
                    current = mapped
                if above and least is not None and least > cap * (1 + 1e-9):
                    info = {**rounding_info(base), "least_energy_j": least,
                            "energy_cap_infeasible": f"no schedule has energy at most the"
                            f" cap {cap:.9g} J: the least is {least:.9g} J (proven)"}
                    return exact_result(inst, self.name, None, proven=False,
                                        rel_gap=params.rel_gap, bound=None, t0=t0,
                                        info=info, infeasible=True)
            topo_pos = [0] * base.n
            for i, v in enumerate(inst.workload.topo):
                topo_pos[v] = i
            best, spread = score(current)
            rng = np.random.default_rng(params.seed)
            size = min(base.n, self.option(params, "size"))
            weights = {k: 1.0 for k in kinds}
            counts = {"neighbourhoods": 0, "improved": 0, "plateau_moves": 0,
                      "proved_no_better": 0}
            by_kind = {k: [0, 0] for k in kinds}  # tried, improved
            solve_s = 0.0
            progress.update(best[over], bound)
            slack = base.rounding_slack()

            def closed(value: float, lb: float | None) -> bool:
                """Nothing left to gain: the bound within the rounding or the gap asked."""
                return lb is not None and value - lb <= max(params.rel_gap * value, 2 * slack)

            small = 0 < base.n <= self.option(params, "polish_layers")
            polish = self.option(params, "polish") if objective == "latency" and small \
                and not over else 0.0
            windows_start = time.perf_counter()
            windows_end = deadline - polish * (deadline - windows_start)
            mip: MappingBound | None = None
            mip_lb: list[float | None] = []  # what it proved
            mip_lock = threading.Lock()  # (the polish's watcher takes it too)
            # under a work limit the MIP's bound (which depends on time) is reported at
            # the end only, so the windows and the polish do not depend on it
            steer = self.option(params, "neighbourhoods") >= WORK_UNLIMITED
            if self.option(params, "mip_bound") and objective != "energy" and not over \
                    and not mapping_phase and 0 < base.n * base.m <= TRANSFER_PAIRS \
                    and windows_end - windows_start >= 5.0 and not closed(best[over], bound):
                # beside the windows (one core each): the bound floors the polish;
                # without a polish it must stop before the deadline (a stop can lag);
                # through a share of the polish it ends on its own, at the latest just
                # before the deadline, rather than by a stop that may lag
                share = self.option(params, "mip_polish") if polish > 0 and steer else 0.0
                span = windows_end - windows_start
                mip = stack.enter_context(MappingBound(
                    inst, tables, min((deadline - windows_start) * 0.97,
                                      span + share * (deadline - windows_end))
                    if share > 0 else span * (1.0 if polish else 0.8), lp=cheap))

            anneal_s = 0.0
            anneal_stats: dict[str, Any] = {}
            anneal_share = self.option(params, "anneal")
            moves = self.option(params, "anneal_moves") or None
            if anneal_share > 0 and objective == "latency" and small and not over \
                    and (steer or moves is not None) and not closed(best[0], bound):
                t1 = time.perf_counter()
                until = min(windows_end, t1 + anneal_share * (deadline - windows_start))
                annealed, stats = anneal(
                    inst, tables, current, seed=params.seed, deadline=until, moves=moves,
                    improved=lambda value: progress.update(value, None))
                anneal_s = time.perf_counter() - t1
                anneal_stats = {"moves": stats.moves, "accepted": stats.accepted,
                                "improved": stats.improved, "from_s": stats.start_s,
                                "to_s": stats.best_s}
                if _less(score(annealed)[0], best):
                    current = annealed
                    best, spread = score(current)

            def take_mip(stop: bool, report: bool = True) -> None:
                """The MIP's bound if it has finished (``stop``: stopping it now;
                ``report``: on the progress, from the caller's thread only)."""
                nonlocal bound, bound_source, mip
                with mip_lock:
                    if mip is None or not (stop or not mip.running):
                        return
                    lb, mip = mip.result(), None
                    mip_lb.append(None if lb is None else lb.value)
                    if lb is not None and (bound is None or lb.value > bound):
                        bound, bound_source = lb.value, lb.source
                if report:
                    progress.update(best[over], bound)
            for it in range(self.option(params, "neighbourhoods")):
                if steer:
                    take_mip(False)
                left = windows_end - time.perf_counter()
                if left <= 0.05 or base.n == 0 or (best[0] == 0 or not over) and closed(
                        best[over], bound):
                    break
                counts["neighbourhoods"] += 1
                times = base.tick_times(current)
                kind = kinds[int(rng.choice(len(kinds), p=_normalised(weights, kinds)))]
                freed = self.neighbourhood(kind, base, current, times, size, rng)
                by_kind[kind][0] += 1
                room = None if not over else cap - timer.time(current, describe=False).energy
                window = Window(base, current, times, freed, objective, topo_pos, room)
                sp.random_seed = (params.seed + it) % (2**31)
                sp.max_deterministic_time = self.option(params, "sub_time")
                sp.max_time_in_seconds = max(left, 0.01)
                t1 = time.perf_counter()
                status = solver.solve(window.mdl.model)
                solve_s += time.perf_counter() - t1
                if status in (OPTIMAL, FEASIBLE):
                    cand = window.decision(solver)
                    try:
                        value, cand_spread = score(cand)
                    except ScheduleCycleError:  # ties of zero-length layers: skip it
                        value, cand_spread = best, spread
                    better = _less(value, best)
                    same = not better and not _less(best, value)
                    if better or (same and not strict and cand_spread < spread * (1 - EQUAL)):
                        current, best, spread = cand, value, cand_spread
                        if better:
                            counts["improved"] += 1
                            by_kind[kind][1] += 1
                            weights[kind] = min(weights[kind] + 1.0, 10.0)
                            progress.update(best[over], None)
                        else:
                            counts["plateau_moves"] += 1
                if status == OPTIMAL:  # this window cannot improve: look wider
                    counts["proved_no_better"] += 1
                    size = min(base.n, 400, int(size * 1.5) + 1)
                else:
                    size = max(4, int(size * 0.8))
            windows_s = time.perf_counter() - windows_start
            if steer:
                take_mip(False)  # if its time is up (else: after the polish, stopped)
            polish_s = 0.0
            if polish > 0 and deadline - time.perf_counter() > 0.1 \
                    and not closed(best[0], bound):
                t1 = time.perf_counter()
                found, polish_lb, polish_opt = self._polish(
                    base, current, bound, solver, deadline, self.option(params, "polish_workers"),
                    self.option(params, "polish_dtime"),
                    met=(lambda ticks: closed(ticks * base.tick, bound)) if steer else None,
                    poll=(lambda: take_mip(False, report=False)) if steer else None,
                    yield_cpu=mip is not None,
                    parameters=dict(self.option(params, "polish_parameters")))
                polish_s = time.perf_counter() - t1
                if steer:
                    take_mip(False)  # (what the watcher took, on the progress)
                if polish_lb is not None:  # the full model's bound holds for the true problem
                    true_lb = max(0.0, polish_lb * base.tick - base.rounding_slack())
                    if bound is None or true_lb > bound:
                        bound, bound_source = true_lb, "full CP-SAT model (polish)"
                if found is not None:
                    try:
                        value, cand_spread = score(found)
                    except ScheduleCycleError:
                        value = best
                    if _less(value, best):
                        current, best = found, value
                        counts["improved_by_polish"] = 1
                        progress.update(best[0], bound)
            take_mip(True)
        elapsed = time.perf_counter() - t0
        info = {**rounding_info(base), **counts, "final_size": size,
                "relaxation_s": round(relax_s, 3), "relaxation_bound_s": relax_bound,
                "cheap_bound_s": round(cheap_s, 3),
                **({"mip_bound_s": mip_lb[0]} if mip_lb else {}),
                "polish_s": round(polish_s, 3), "mapping_phase_s": round(map_s, 3),
                "anneal_s": round(anneal_s, 3),
                **({"anneal": anneal_stats} if anneal_stats else {}),
                **({"mapping_phase": map_stats} if map_stats else {}),
                "by_kind": {k: {"tried": t, "improved": i} for k, (t, i) in by_kind.items()},
                "cp_sat_share": round((solve_s + relax_s + polish_s + map_stats.get(
                    "solve_s", 0.0)) / elapsed, 3) if elapsed > 0
                else None,
                "windows_s": round(windows_s, 3),
                "s_per_neighbourhood": round(windows_s / counts["neighbourhoods"], 4)
                if counts["neighbourhoods"] else None}
        if bound is not None:
            info["bound_source"] = bound_source
        proven = False
        if polish_opt is not None and base.tick_times(current)[2] and \
                max(base.tick_times(current)[2]) <= polish_opt:
            # the full model proved no schedule shorter in ticks: as cpsat, the bound is
            # the rounded problem's (the facade checks it within bound_slack_s)
            proven, bound = True, polish_opt * base.tick
            info["bound_source"] = "full CP-SAT model (polish), proven optimal"
        if objective == "latency" and not proven and not over and bound is not None \
                and best[0] - bound <= max(params.rel_gap * best[0], slack):
            proven = True  # a bound met within the rounding or the gap asked (the facade
            # checks it): the search stopped because nothing was left to gain
        if objective == "energy" and bound is not None and not over \
                and best[0] - bound <= 1e-7 * abs(best[0]):
            proven = True  # the least-energy mapping's bound met (the facade checks it)
        if over and best[0] > 0:  # no schedule within the cap found
            info["energy_cap_missed_j"] = best[0]
            info["energy_cap_missed"] = (f"no schedule within the cap {cap:.9g} J found in"
                                         f" time: the best is {best[0]:.6g} J above it")
            return exact_result(inst, self.name, None, proven=False, rel_gap=params.rel_gap,
                                bound=bound, t0=t0, info=info)
        return exact_result(inst, self.name, base.schedule(current, self.name),
                            proven=proven, rel_gap=params.rel_gap, bound=bound, t0=t0,
                            info=info)

    @staticmethod
    def _polish(base: SatModel, dec: Decision, bound: float | None, solver: Any,
                deadline: float, workers: int, dtime: float, fix_mapping: bool = False,
                met: Callable[[int], bool] | None = None,
                poll: Callable[[], None] | None = None, yield_cpu: bool = False,
                parameters: dict[str, Any] | None = None
                ) -> tuple[Decision | None, int | None, int | None]:
        """The full model (:meth:`SatModel.build`) hinted with ``dec``, its makespan at
        least the relaxation's bound (``fix_mapping``: with ``dec``'s mapping fixed),
        searched until ``deadline``: its best decision, its proven bound in ticks, and
        the optimum in ticks if it proved one.  With ``met`` (a makespan in ticks ->
        whether it meets the best bound known now) the search stops once its incumbent
        does: checked at each incumbent and, after ``poll()`` (which may raise that
        bound: the MIP beside it finishing), every 50 ms.  ``yield_cpu`` (Linux): the
        search's threads run at nice :data:`POLISH_NICE`, so that a thread beside it at
        the caller's priority (the MIP) keeps a core.  ``parameters``: set on the solver's
        parameters for this search only (:func:`set_sat_parameters`)."""
        full = base.fresh()
        full.build(full.plan_horizon(dec))
        if fix_mapping:
            x = dec.x.tolist()
            for (v, a), xv in full.x.items():
                full.model.add(xv == int(x[v] == a))
        if bound is not None:
            full.model.add(full.makespan >= math.floor(bound / base.tick))
        full.model.minimize(full.makespan)
        full.hint(dec)
        sp = solver.parameters
        saved = {key: getattr(sp, key) for key in
                 ("num_workers", "max_deterministic_time", *(parameters or {}))}
        saved = {key: list(v) if not isinstance(v, int | float | str | bool) else v
                 for key, v in saved.items()}  # (repeated fields: copies)
        sp.num_workers = workers
        sp.max_deterministic_time = dtime or 1e12
        sp.max_time_in_seconds = max(0.05, deadline - time.perf_counter())
        set_sat_parameters(sp, parameters or {})
        best: list[int] = []  # the search's incumbents' makespans, ticks
        watching = threading.Event()

        def check() -> None:
            if met is not None and best and met(best[-1]):
                solver.stop_search()

        def watch() -> None:
            while not watching.wait(0.05):
                if poll is not None:
                    poll()
                check()

        callback = _Incumbents(full.makespan, best, check)
        watcher = threading.Thread(target=watch, name="lns-polish-watch", daemon=True)
        if met is not None:
            watcher.start()
        statuses: list[Any] = []
        niced = yield_cpu and sys.platform.startswith("linux")

        def search() -> None:
            if niced:  # (Linux: a thread's own nice value, inherited by CP-SAT's workers)
                with contextlib.suppress(OSError):
                    os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), POLISH_NICE)
            statuses.append(solver.solve(full.model, callback if met is not None else None))

        try:
            if niced:  # on a thread of its own, so that the caller's priority stays
                worker = threading.Thread(target=search, name="lns-polish", daemon=True)
                worker.start()
                try:
                    while worker.is_alive():
                        worker.join(0.1)
                except BaseException:  # (Ctrl-C: the search stops all the same)
                    solver.stop_search()
                    worker.join()
                    raise
            else:
                search()
            status = statuses[0]
        finally:
            set_sat_parameters(sp, saved)
            watching.set()
            if watcher.is_alive():
                watcher.join()
        if status not in (OPTIMAL, FEASIBLE):
            return None, None, None
        lb = math.ceil(solver.best_objective_bound - 1e-6)
        opt = round(solver.objective_value) if status == OPTIMAL else None
        return full.values(solver), lb, opt

    @staticmethod
    def _relaxation(base: SatModel, dec: Decision, solver: Any, cap: float = 0.0,
                    precedence: bool = True) -> tuple[float | None, Decision | None]:
        """The load relaxation (:meth:`SatModel.build_load_relaxation`; under an energy
        ``cap``, with E11 within it) on the solver's budget, hinted completely from
        ``dec`` (:meth:`SatModel.hint_relaxation`): its proven bound (seconds; the
        rounded problem's less the rounding slack, so a bound of the true problem) and
        its mapping, ordered by :func:`_mapping` (a start the windows then improve)."""
        relax = base.fresh()
        bare = Decision(dec.x, dec.r & False, dec.orders)
        relax.build_load_relaxation(int(max(base.tick_times(bare)[2])),
                                    precedence=precedence)
        if cap > 0:  # E11 <= cap, as cpsat: the floored energy cuts no schedule within it
            relax._build_energy()
            energy, scale = relax.energy_expr()
            relax.model.add(energy <= math.floor(cap * scale * (1 + 1e-12)))
        relax.model.minimize(relax.makespan)
        relax.hint_relaxation(dec)
        status = solver.solve(relax.model)
        if status not in (OPTIMAL, FEASIBLE):
            return None, None
        # the rounded problem's bound, less the most rounding can add: a bound of the
        # true problem (SPEC §6); none if E9 had to be rounded (a restriction)
        bound = max(0.0, math.ceil(solver.best_objective_bound - 1e-6) * base.tick
                    - base.rounding_slack())
        return bound, _mapping(base, relax, dec, solver)

    @staticmethod
    def _map_search(base: SatModel, dec: Decision, solver: Any, deadline: float, seed: int,
                    sub_time: float, limit: int) -> tuple[Decision, dict[str, Any]]:
        """The mapping phase: large-neighbourhood search on the load relaxation
        (:class:`LoadWindow`), then the best mapping list-scheduled.  Each step frees
        :data:`MAP_SIZE` layers -- a connected region around a layer of the most loaded
        accelerator, layers of that accelerator, or layers at random -- and keeps the
        result when (largest load, summed load) drops.  The first half of the time (or
        of ``limit``) lowers the summed load under the largest one, the second half
        balances; either ends early after :data:`MAP_PATIENCE` neighbourhoods without an
        improvement.  Reproducible for a ``seed`` when ``limit`` binds.
        Measured on ``random-n1000-a8`` (40 s): largest load 3.375 -> 2.565 s, list
        scheduled 2.624 s (``h2h_plus`` 3.417 s; minimising the largest load all the
        time: 2.701 s)."""
        x, r = dec.x.tolist(), dec.r.tolist()
        comm, wl = base.comm, base.inst.workload
        rng = np.random.default_rng(seed)
        busy = comm.busy_ticks(x, r)
        per = [0] * base.m
        for v in range(base.n):
            per[x[v]] += busy[v]
        key = first = (max(per), sum(per))
        where = np.asarray(x)
        t0 = time.perf_counter()
        sp = solver.parameters
        stats: dict[str, Any] = {"neighbourhoods": 0, "improved": 0, "solve_s": 0.0}
        balance, idle = False, 0  # idle: neighbourhoods since the last improvement
        for it in range(limit):
            now = time.perf_counter()
            if now >= deadline - 0.05:
                break
            if not balance and (now - t0 >= 0.5 * (deadline - t0) or it >= limit // 2
                                or idle >= MAP_PATIENCE):
                balance, idle = True, 0
                stats["balance_from_s"] = round(now - t0, 3)
            elif balance and idle >= MAP_PATIENCE:
                stats["stalled"] = True  # the rest of the time is the windows'
                break
            stats["neighbourhoods"] += 1
            on = np.flatnonzero(where == int(np.argmax(per)))
            kind = int(rng.integers(3)) if len(on) else 2
            size = min(MAP_SIZE, base.n)
            if kind == 0:  # a connected region around a layer of the most loaded
                seed = int(rng.choice(on))
                freed, frontier = {seed}, [seed]
                while frontier and len(freed) < size:
                    v = frontier.pop(0)
                    for u in (*wl.preds[v], *wl.succs[v]):
                        if u not in freed and len(freed) < size:
                            freed.add(u)
                            frontier.append(u)
            elif kind == 1:
                freed = {int(v) for v in rng.choice(on, size=min(size, len(on)),
                                                     replace=False)}
            else:
                freed = {int(v) for v in rng.choice(base.n, size=size, replace=False)}
            window = LoadWindow(base, x, r, busy, per, freed, key[0], balance)
            sp.random_seed = (seed + it) % (2**31)
            sp.max_deterministic_time = sub_time
            sp.max_time_in_seconds = max(0.01, deadline - now)
            t1 = time.perf_counter()
            status = solver.solve(window.mdl.model)
            stats["solve_s"] += time.perf_counter() - t1
            if status in (OPTIMAL, FEASIBLE):
                cx, cr, changed = window.mapping(solver)
                new_busy = comm.busy_ticks(cx, cr, changed)
                cper = list(per)
                for v, b in zip(changed, new_busy, strict=True):
                    cper[x[v]] -= busy[v]
                    cper[cx[v]] += b
                ckey = (max(cper), sum(cper))
                if ckey < key:
                    x, r, per, key = cx, cr, cper, ckey
                    for v, b in zip(changed, new_busy, strict=True):
                        busy[v] = b
                        where[v] = cx[v]
                    stats["improved"] += 1
                    idle = -1
            idle += 1
        stats["largest_load_s"] = [first[0] * base.tick, key[0] * base.tick]
        stats["summed_load_s"] = [first[1] * base.tick, key[1] * base.tick]
        stats["solve_s"] = round(stats["solve_s"], 3)
        if stats["neighbourhoods"]:
            stats["s_per_neighbourhood"] = round((time.perf_counter() - t0)
                                                 / stats["neighbourhoods"], 4)
        return list_schedule(base.inst, comm, x, r), stats

    @staticmethod
    def _least_energy(base: SatModel, dec: Decision, solver: Any
                      ) -> tuple[float | None, Decision | None]:
        """E11 minimised over mappings and residency alone (energy does not depend on
        time: the assignment model of :meth:`SatModel.build_assignment` with E11's
        variable), hinted with ``dec``: its proven bound (J; the coefficients are
        floored, so a bound of the true energy) and its mapping, ordered by
        :func:`_mapping`."""
        model = base.fresh()
        model.build_assignment()
        model._build_energy()
        energy, scale = model.energy_expr()
        model.model.minimize(energy)
        x, r = dec.x.tolist(), dec.r.tolist()
        model.hint_assignment(x, r)
        model.model.add_hint(model.energy_var, model.energy_units(x, r))
        status = solver.solve(model.model)
        if status not in (OPTIMAL, FEASIBLE):
            return None, None
        return solver.best_objective_bound / scale, _mapping(base, model, dec, solver)

    @staticmethod
    def neighbourhood(kind: str, base: SatModel, dec: Decision,
                      times: tuple[list[int], list[float], list[float]], size: int,
                      rng: Any) -> set[int]:
        """``size`` layers (at most) to free, by ``kind`` (:data:`KINDS`)."""
        _, start, finish = times
        n = base.n
        size = max(1, min(size, n))
        st = np.asarray(start, dtype=float)

        def nearest(centre: float, among: np.ndarray | None = None) -> set[int]:
            pool = np.arange(n) if among is None else among
            order = np.argsort(np.abs(st[pool] - centre), kind="stable")
            return {int(v) for v in pool[order[:size]]}

        span = max(finish) if finish else 0.0
        if kind == "critical":
            path = _critical_path(base, dec, times)
            if len(path) > size:
                i = int(rng.integers(0, len(path) - size + 1))
                return set(path[i:i + size])
            chosen = set(path)
            chosen |= set(list(nearest(float(st[path[int(rng.integers(len(path)))]])))
                          [:size - len(chosen)])
            return chosen
        if kind == "model":
            wl = base.inst.workload
            models = wl.models
            name = models[int(rng.integers(len(models)))]
            mine = [v for v in wl.topo if wl.layers[v].model == name]
            i = int(rng.integers(0, max(1, len(mine) - size + 1)))
            return set(mine[i:i + size])
        if kind == "accelerators":
            used = sorted({int(a) for a in dec.x.tolist()})
            pick = rng.choice(used, size=min(2, len(used)), replace=False)
            among = np.flatnonzero(np.isin(dec.x, pick))
            return nearest(float(rng.uniform(0.0, span)), among)
        if kind == "random":
            return {int(v) for v in rng.choice(n, size=size, replace=False)}
        return nearest(float(rng.uniform(0.0, span)))


class _Incumbents(CpSolverSolutionCallback):
    """Records each incumbent's makespan (ticks) and calls ``check`` after it."""

    def __init__(self, makespan: Any, best: list[int], check: Callable[[], None]) -> None:
        super().__init__()
        self._makespan, self._best, self._check = makespan, best, check

    def on_solution_callback(self) -> None:
        self._best.append(int(self.value(self._makespan)))
        self._check()


def _mapping(base: SatModel, model: SatModel, dec: Decision, solver: Any) -> Decision:
    """The mapping and residency of ``model``'s solution (E9 repaired by
    :meth:`SatModel.fit_memory`), each accelerator's layers ordered by
    :func:`list_schedule` or by the earliest start the data edges allow them, whichever
    ends sooner."""
    new_x = np.array(dec.x, copy=True)
    for (v, a), xv in model.x.items():
        if solver.boolean_value(xv):
            new_x[v] = a
    new_r = np.array(model.fit_memory(new_x.tolist(), [
        bool((v, int(new_x[v])) in model.rx and solver.boolean_value(model.rx[v, int(
            new_x[v])])) for v in range(base.n)]), dtype=bool)
    loose = Decision(new_x, new_r, [[] for _ in range(base.m)])
    _, start, _ = base.tick_times(loose)  # no accelerator order: data edges only
    topo = {v: i for i, v in enumerate(base.inst.workload.topo)}
    orders: list[list[int]] = [[] for _ in range(base.m)]
    for v in sorted(range(base.n), key=lambda v: (start[v], topo[v])):
        orders[int(new_x[v])].append(v)
    by_start = Decision(new_x, new_r, orders)
    listed = list_schedule(base.inst, base.comm, new_x.tolist(), new_r.tolist())
    return min((listed, by_start), key=lambda d: max(base.tick_times(d)[2], default=0))


def _critical_path(base: SatModel, dec: Decision,
                   times: tuple[list[int], list[float], list[float]]) -> list[int]:
    """The layers of a chain that sets the makespan, first to last: from the last layer
    to finish, back through whichever predecessor (DAG or accelerator order) it waited
    for."""
    busy, start, finish = times
    wl = base.inst.workload
    prev = dec.prev().tolist()
    v = int(np.argmax(finish))
    path = [v]
    while True:
        cands = [u for u in wl.preds[v]] + ([prev[v]] if prev[v] >= 0 else [])
        if not cands:
            break
        u = max(cands, key=lambda u: (finish[u], u))
        if finish[u] <= 0 and start[v] <= 0:
            break
        path.append(u)
        v = u
    return path[::-1]


def _less(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    """``a`` strictly better than ``b`` lexicographically, beyond relative noise."""
    for p, q in zip(a, b, strict=True):
        if p < q * (1 - EQUAL):
            return True
        if p > q * (1 + EQUAL):
            return False
    return False


def _normalised(weights: dict[str, float], kinds: list[str]) -> np.ndarray:
    w = np.array([weights[k] for k in kinds], dtype=float)
    return w / w.sum()
