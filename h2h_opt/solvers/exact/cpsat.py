"""Exact CP-SAT model of the mapping problem (SPEC §7.4), solved by OR-Tools.

Variables, per layer ``v`` and accelerator ``a`` that runs it (time in integer ticks,
SPEC §6, every duration rounded up):

* ``x[v,a]`` assignment, ``Σ_a x[v,a] = 1``;
* ``rx[v,a]`` weights of ``v`` resident on ``a`` (``rx ≤ x``), memory E9;
* host comm: ``y[k,a]`` edge ``k = (u,v)`` read remotely by ``v`` on ``a``
  (``x[v,a] ∧ ¬x[u,a]``), ``z[v,a]`` ``v`` on ``a`` writes its output (a sink, or a
  successor elsewhere);
* ``L_v`` busy time: E2-E4 (host) or E6 (p2p) as a linear expression of those
  booleans; ``s_v``, ``f_v = s_v + L_v``; one optional interval per ``(v,a)``
  sharing ``s_v, L_v, f_v`` with presence ``x[v,a]``; no overlap per accelerator
  (E8); precedence E5, or E7 as an unconditional row plus delay rows enforced by
  pairs of assignment literals; redundant cumulative over all layers (capacity =
  number of accelerators), per-accelerator load rows (makespan ≥ the exact load of
  each accelerator, for the LP relaxation) and symmetry breaking between identical
  accelerators.
* Objectives: makespan (E10), energy (E11, coefficients floored to integer units so
  the bound stays valid), or lex (makespan, then energy at that makespan).

Makespan is minimised in phases (see :class:`CpSatSolver`): when a first search does not
prove optimality, the load relaxation (``T ≥`` every accelerator's busy time, E8 with
E2-E4/E6 and E9, no start times) gives a lower bound and a mapping to schedule.

Only ``same_accelerator`` locality is modelled under ``host``; ``adjacent`` is refused.
The returned schedule keeps the solver's mapping, residency and orders and is
re-timed ASAP in seconds by the evaluator; tick rounding only ever lengthens the
solver's durations, so the seconds schedule is feasible and no longer.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from ortools.sat.python.cp_model import FEASIBLE, INFEASIBLE, MODEL_INVALID, OPTIMAL, UNKNOWN  # noqa: E402

from ...cost import CostTables, compile_tables
from ...model import Instance
from ...result import SolveResult
from ...schedule import Decision, Schedule
from ..base import Option, SolveParams, SolverError
from .native import sat_parameter
from .plumbing import (
    ExactSolver,
    LogSink,
    Progress,
    exact_result,
    rounding_info,
    time_left,
    time_limit,
)
from .ticks import TickModel

#: Energy is scaled so that the largest possible total is about this many units.
ENERGY_UNITS = 1e12


class _Model(TickModel):
    """Build, hint, solve and extract, kept apart (STYLE habit 4)."""

    def __init__(self, inst: Instance, tables: CostTables) -> None:
        from ortools.sat.python import cp_model

        super().__init__(inst, tables)
        self.cp = cp_model
        self.model = cp_model.CpModel()
        self.pairs: dict[tuple[int, int, int], Any] = {}
        self.energy_var: Any = None
        self.energy_scale = 1.0
        self.energy_terms: list[tuple[int, Any]] = []
        self.groups: list[list[int]] = []
        self.used: dict[tuple[int, int], Any] = {}
        self.load_cuts = True
        self.prec_cuts = False
        self.acc_sizes = False

    def build_assignment(self) -> None:
        """Assignment, residency and transfer literals, and every busy time as a linear
        expression of them (E2-E4, E6, E9) from the comm model's term lists: what both
        the full model and the load relaxation need."""
        md, tab, terms = self.model, self.tables, self.terms
        n, m, feas = self.n, self.m, self.feas
        # assignment and residency (E9)
        self.x = {(v, a): md.new_bool_var(f"x_{v}_{a}") for v in range(n) for a in feas[v]}
        self.rx: dict[tuple[int, int], Any] = {}
        for v in range(n):
            md.add_exactly_one(self.x[v, a] for a in feas[v])
            for a in feas[v]:
                if terms[v, a].can_reside:
                    rv = md.new_bool_var(f"r_{v}_{a}")
                    md.add_implication(rv, self.x[v, a])
                    self.rx[v, a] = rv
        for a in range(m):
            items = [(v, rv) for (v, b), rv in self.rx.items() if b == a]
            if items and math.isfinite(tab.capacity[a]):
                total = sum(math.ceil(tab.weight_bytes[v]) for v, _ in items)
                cap = math.floor(tab.capacity[a])
                if total > cap:
                    md.add(sum(math.ceil(tab.weight_bytes[v]) * rv for v, rv in items) <= cap)
        # busy time L_v: the terms of LayerTerms, each on a literal implying x[v,a]
        self.y: dict[tuple[int, int], Any] = {}
        self.z: dict[tuple[int, int], Any] = {}
        busy_terms: list[list[tuple[int, Any]]] = [[] for _ in range(n)]
        acc_of: dict[int, int] = {}
        self._acc_of_literal = acc_of
        for (v, a), lt in terms.items():
            xv = self.x[v, a]
            acc_of[id(xv)] = a
            busy_terms[v].append((int(lt.fixed), xv))
            if (v, a) in self.rx:
                acc_of[id(self.rx[v, a])] = a
                busy_terms[v].append((-int(lt.weight), self.rx[v, a]))
            for rt in lt.reads:  # E3: read when the producer runs elsewhere
                xu = self.x[rt.producer, a]
                yk = md.new_bool_var(f"y_{rt.edge}_{a}")
                md.add_implication(yk, xv)
                md.add_implication(yk, xu.Not())
                md.add_bool_or([xv.Not(), xu, yk])
                self.y[rt.edge, a] = yk
                acc_of[id(yk)] = a
                busy_terms[v].append((int(rt.time), yk))
            if lt.write_succs:  # E4: write when some successor runs elsewhere
                succ_on_a = [self.x[w, a] for w in lt.write_succs]
                zv = md.new_bool_var(f"z_{v}_{a}")
                md.add_implication(zv, xv)
                md.add_bool_or([s.Not() for s in succ_on_a] + [zv.Not()])
                for s_ in succ_on_a:
                    md.add_bool_or([xv.Not(), s_, zv])
                self.z[v, a] = zv
                acc_of[id(zv)] = a
                busy_terms[v].append((int(lt.write), zv))
        self.busy_terms = busy_terms

    def build(self, horizon: int, symmetry: bool = True, energy: bool = False) -> None:
        """The full model (``energy``: with E11's variable, for the energy and lex
        objectives)."""
        self.build_assignment()
        self.horizon_ticks = horizon
        md, tab = self.model, self.tables
        wl = self.inst.workload
        n, m, feas, terms = self.n, self.m, self.feas, self.busy_terms
        src = tab.edge_src.tolist()
        self.start = [md.new_int_var(0, horizon, f"s_{v}") for v in range(n)]
        self.end = [md.new_int_var(0, horizon, f"f_{v}") for v in range(n)]
        self.busy = []
        for v in range(n):
            lo = min(self.compute[v][a] for a in feas[v])
            hi = sum(c for c, _ in terms[v] if c > 0)
            lv = md.new_int_var(lo, max(lo, min(hi, horizon)), f"L_{v}")
            md.add(lv == sum(c * b for c, b in terms[v]))
            md.add(self.end[v] == self.start[v] + lv)
            self.busy.append(lv)
        # intervals and no overlap (E8); redundant cumulative
        self.intervals: dict[tuple[int, int], Any] = {}
        self.busy_on: dict[tuple[int, int], Any] = {}
        for (v, a), xv in self.x.items():
            size = self.busy[v]
            if self.acc_sizes:
                size = self._busy_on(v, a, horizon)
            self.intervals[v, a] = md.new_optional_interval_var(
                self.start[v], size, self.end[v], xv, f"i_{v}_{a}")
        for a in range(m):
            md.add_no_overlap([iv for (v, b), iv in self.intervals.items() if b == a])
        if m > 1:
            whole = [md.new_interval_var(self.start[v], self.busy[v], self.end[v], f"w_{v}")
                     for v in range(n)]
            md.add_cumulative(whole, [1] * n, m)
        # precedence E5, plus the E7 delay rows (the comm model's delays: none in host)
        dst = tab.edge_dst.tolist()
        delay = self.comm.delay_ticks
        for k, (u, v) in enumerate(zip(src, dst, strict=True)):
            md.add(self.start[v] >= self.end[u])
            for a in feas[u]:
                for b in feas[v]:
                    c = int(delay[k, a, b])
                    if c > 0:
                        md.add(self.start[v] >= self.end[u] + c).only_enforce_if(
                            [self.x[u, a], self.x[v, b]])
        self.groups = self._identical_groups() if symmetry else []
        self._symmetry()
        self.makespan = md.new_int_var(0, horizon, "makespan")
        sinks = [v for v in range(n) if not wl.succs[v]]
        md.add_max_equality(self.makespan, [self.end[v] for v in sinks])
        if self.load_cuts:
            self._load_cuts()
        if self.prec_cuts:
            self._prec_load_cuts()
        if energy:
            self._build_energy()

    def _busy_on(self, v: int, a: int, horizon: int) -> Any:
        """The busy time of ``v`` if it runs on ``a`` (E2-E4 / E6 on ``a`` only), as its
        own variable: its domain starts at what ``v`` costs on ``a`` at least, so the
        no-overlap of ``a`` reasons with accelerator-specific sizes."""
        md = self.model
        own = [(c, lit) for c, lit in self.busy_terms[v]
               if self._acc_of_literal[id(lit)] == a]
        xv = self.x[v, a]
        fixed = sum(c for c, lit in own if lit is xv)
        lo = fixed + sum(c for c, lit in own if lit is not xv and c < 0)
        hi = fixed + sum(c for c, lit in own if lit is not xv and c > 0)
        hi = max(lo, min(hi, horizon))
        size = md.new_int_var(max(0, lo), max(0, hi), f"L_{v}_{a}")
        md.add(size == fixed + sum(c * lit for c, lit in own if lit is not xv)
               ).only_enforce_if(xv)
        self.busy_on[v, a] = size
        return size

    def build_load_relaxation(self, horizon: int, floor: int = 0) -> None:
        """The load relaxation of E10: no start times, only ``T ≥ load_a`` for every
        accelerator (E8 implies each accelerator's busy times fit before the
        makespan).  Its optimum is a lower bound on the makespan.  With ``T ≥ floor``
        (a bound already known) the optimum is still one, and the solve ends as soon as
        a mapping's loads all fit under the floor (the relaxation has nothing to add)."""
        self.build_assignment()
        self._symmetry()
        self.makespan = self.model.new_int_var(min(floor, horizon), horizon, "makespan")
        self._load_cuts()

    def _terms_by_acc(self) -> list[list[list[tuple[int, Any]]]]:
        """``[v][a]``: the terms of ``L_v`` whose literal implies ``x[v,a]`` (their sum
        is ``v``'s busy time on ``a`` if it runs there, else 0)."""
        out: list[list[list[tuple[int, Any]]]] = [[[] for _ in range(self.m)]
                                                 for _ in range(self.n)]
        for v in range(self.n):
            for c, lit in self.busy_terms[v]:
                out[v][self._acc_of_literal[id(lit)]].append((c, lit))
        return out

    def _load_cuts(self) -> None:
        """Redundant linear rows for the LP: the makespan is at least each
        accelerator's load, ``Σ_v L_v·x[v,a]`` written with the same literals as the
        busy times (every term of ``L_v`` on ``a`` is implied by ``x[v,a]``)."""
        md = self.model
        by_acc = self._terms_by_acc()
        load = [[t for v in range(self.n) for t in by_acc[v][a]] for a in range(self.m)]
        for a in range(self.m):
            if load[a]:
                md.add(self.makespan >= sum(c * lit for c, lit in load[a]))

    def _prec_load_cuts(self) -> None:
        """Redundant rows tying the load of each accelerator to precedence (E5, E8):
        the ancestors of ``v`` that run on ``a`` all finish by ``s_v`` (so ``s_v`` is at
        least their load on ``a``), and its descendants on ``a`` all start after ``f_v``
        (so the makespan is at least ``f_v`` plus their load on ``a``)."""
        import networkx as nx

        md = self.model
        g = nx.DiGraph()
        g.add_nodes_from(range(self.n))
        src, dst = self.tables.edge_src.tolist(), self.tables.edge_dst.tolist()
        g.add_edges_from(zip(src, dst, strict=True))
        load = self._terms_by_acc()
        for v in range(self.n):
            anc, desc = nx.ancestors(g, v), nx.descendants(g, v)
            for a in range(self.m):
                before = [t for u in anc for t in load[u][a]]
                if before:
                    md.add(self.start[v] >= sum(c * lit for c, lit in before))
                after = [t for w in desc for t in load[w][a]]
                if after:
                    md.add(self.makespan >= self.end[v] + sum(c * lit for c, lit in after))

    def _identical_groups(self) -> list[list[int]]:
        """Accelerators with identical costs, memory and energy.  Under p2p, only when
        every link has the same delay and energy (then any relabelling is harmless)."""
        tab, delay, link = self.tables, self.comm.delay_ticks, self.comm.link_energy_jpb
        if self.m > 1:
            off = ~np.eye(self.m, dtype=bool)
            if len(delay) and (delay[:, off] != delay[:, off][:, :1]).any():
                return []
            if (link[off] != link[off][0]).any():
                return []
        key: dict[Any, list[int]] = {}
        for a in range(self.m):
            sig: Any = (tuple(self.terms.get((v, a)) for v in range(self.n)),
                        float(tab.capacity[a]), float(tab.host_energy[a]),
                        tuple(tab.e[:, a].tolist()))
            key.setdefault(sig, []).append(a)
        return [g for g in key.values() if len(g) > 1]

    def _symmetry(self) -> None:
        """Identical accelerators are interchangeable: accelerator ``g[j]`` may only
        be used by a layer if an earlier layer (workload order) uses ``g[j-1]``."""
        md = self.model
        for group in self.groups:
            for a in group:
                prev = None
                for v in range(self.n):
                    ub = md.new_bool_var(f"used_{v}_{a}")
                    xv = self.x[v, a]
                    md.add_implication(xv, ub)
                    if prev is None:
                        md.add_implication(ub, xv)
                    else:
                        md.add_implication(prev, ub)
                        md.add_bool_or([prev, xv, ub.Not()])
                    self.used[v, a] = ub
                    prev = ub
            for j in range(1, len(group)):
                a, b = group[j - 1], group[j]
                md.add(self.x[0, b] == 0)
                for v in range(1, self.n):
                    md.add_implication(self.x[v, b], self.used[v - 1, a])

    def energy_expr(self) -> tuple[Any, float]:
        """The energy variable (E11 in integer units) and its scale (units per joule);
        built by :meth:`build` with ``energy=True``."""
        if self.energy_var is None:
            raise RuntimeError("the model was built without its energy variable")
        return self.energy_var, self.energy_scale

    def _build_energy(self) -> None:
        """E11 in integer units (coefficients floored: the bound stays a lower bound)."""
        tab, terms = self.tables, self.terms
        coeffs: list[tuple[float, Any]] = []
        for (v, a), xv in self.x.items():
            coeffs.append((terms[v, a].fixed_joules, xv))
        for (v, a), rv in self.rx.items():
            coeffs.append((-terms[v, a].weight_joules, rv))
        for (v, a), lt in terms.items():
            coeffs.extend((rt.joules, self.y[rt.edge, a]) for rt in lt.reads)
            if lt.write_succs:
                coeffs.append((lt.write_joules, self.z[v, a]))
        if not self.pairs:  # E11's link term (p2p): one literal per edge and pair
            md = self.model
            src, dst = tab.edge_src.tolist(), tab.edge_dst.tolist()
            for k, (u, v) in enumerate(zip(src, dst, strict=True)):
                for a in self.feas[u]:
                    for b in self.feas[v]:
                        if self.comm.link_joules(k, a, b) > 0:
                            p = md.new_bool_var(f"p_{k}_{a}_{b}")
                            md.add_bool_or([self.x[u, a].Not(), self.x[v, b].Not(), p])
                            self.pairs[k, a, b] = p
        pair_terms = [(self.comm.link_joules(k, a, b), p) for (k, a, b), p in self.pairs.items()]
        coeffs += pair_terms
        top = sum(abs(c) for c, _ in coeffs) or 1.0
        scale = ENERGY_UNITS / top
        self.energy_terms = [(math.floor(c * scale), b) for c, b in coeffs
                             if math.floor(c * scale)]
        lo = sum(c for c, _ in self.energy_terms if c < 0)
        hi = sum(c for c, _ in self.energy_terms if c > 0)
        self.energy_var = self.model.new_int_var(lo, hi, "energy")
        self.energy_scale = scale
        self.model.add(self.energy_var == sum(c * b for c, b in self.energy_terms))

    # -- hint ----------------------------------------------------------------------------
    def _relabel(self, x: list[int], orders: list[list[int]]
                 ) -> tuple[list[int], list[list[int]]]:
        """Rename identical accelerators in first-use order (workload order) so that
        the hint satisfies the symmetry-breaking rows; durations are unchanged."""
        x, orders = x[:], [o[:] for o in orders]
        for group in self.groups:
            first = {a: next((v for v in range(self.n) if x[v] == a), self.n) for a in group}
            ranked = sorted(group, key=lambda a: (first[a], a))
            new_of = dict(zip(ranked, group, strict=True))
            x = [new_of.get(a, a) for a in x]
            old = {a: orders[a] for a in group}
            for a_old, a_new in new_of.items():
                orders[a_new] = old[a_old]
        return x, orders

    def hint(self, dec: Decision) -> int:
        """Clear old hints and hint every variable from a decision; returns its tick
        makespan.

        Start times are re-timed ASAP in ticks with the model's own durations, so a
        hint of a feasible schedule is complete and feasible for the model.
        """
        md, tab, wl = self.model, self.tables, self.inst.workload
        md.clear_hints()
        x, orders = self._relabel(dec.x.tolist(), dec.orders)
        r = [bool(dec.r[v]) and (v, x[v]) in self.rx for v in range(self.n)]
        busy, start, finish = self.tick_times(Decision(np.array(x), np.array(r, dtype=bool),
                                                       orders))
        src, dst = tab.edge_src.tolist(), tab.edge_dst.tolist()
        for (v, a), xv in self.x.items():
            md.add_hint(xv, x[v] == a)
        for (v, a), rv in self.rx.items():
            md.add_hint(rv, x[v] == a and r[v])
        for (k, a), yk in self.y.items():
            md.add_hint(yk, x[dst[k]] == a and x[src[k]] != a)
        for (v, a), zv in self.z.items():
            md.add_hint(zv, x[v] == a and any(x[w] != a for w in wl.succs[v]))
        for (k, a, b), pv in self.pairs.items():
            md.add_hint(pv, x[src[k]] == a and x[dst[k]] == b)
        for v in range(self.n):
            md.add_hint(self.start[v], int(start[v]))
            md.add_hint(self.end[v], int(finish[v]))
            md.add_hint(self.busy[v], busy[v])
        for (v, a), size in self.busy_on.items():
            md.add_hint(size, busy[v] if x[v] == a else size.proto.domain[0])
        for (v, a), ub in self.used.items():
            md.add_hint(ub, any(x[u] == a for u in range(v + 1)))
        makespan = int(max(finish)) if finish else 0
        md.add_hint(self.makespan, makespan)
        if self.energy_var is not None:
            md.add_hint(self.energy_var, self.energy_units(x, r))
        return makespan

    def energy_units(self, x: list[int], r: list[bool]) -> int:
        """The model's (floored) energy of a plan, for hinting the energy variable."""
        total = 0
        tab, wl = self.tables, self.inst.workload
        src, dst = tab.edge_src.tolist(), tab.edge_dst.tolist()
        lit_value: dict[int, bool] = {}
        for (v, a), xv in self.x.items():
            lit_value[id(xv)] = x[v] == a
        for (v, a), rv in self.rx.items():
            lit_value[id(rv)] = x[v] == a and r[v]
        for (k, a), yk in self.y.items():
            lit_value[id(yk)] = x[dst[k]] == a and x[src[k]] != a
        for (v, a), zv in self.z.items():
            lit_value[id(zv)] = x[v] == a and any(x[w] != a for w in wl.succs[v])
        for (k, a, b), pv in self.pairs.items():
            lit_value[id(pv)] = x[src[k]] == a and x[dst[k]] == b
        for c, lit in self.energy_terms:
            if lit_value.get(id(lit), False):
                total += c
        return total


def _progress_of(line: str) -> tuple[float | None, float | None]:
    """The incumbent (``best:``) and bound (``next:[lb,ub]``) of a CP-SAT log line."""
    best = bound = None
    if line.startswith("#"):
        for tok in line.split():
            if tok.startswith("best:"):
                with contextlib.suppress(ValueError):
                    best = float(tok[5:])
            elif tok.startswith("next:[") and "," in tok:
                with contextlib.suppress(ValueError):
                    bound = float(tok[6:].split(",")[0])
    return best, bound


class _Runner:
    """One ``CpSolver`` with the run's parameters, solving one model after another
    within given budgets; every log line goes to the log and the progress."""

    def __init__(self, solver: Any, progress: Progress, emit: Callable[[str], None]
                 ) -> None:
        self.solver, self.progress, self.emit = solver, progress, emit
        self.lines: list[str] = []
        self.phases: list[dict[str, Any]] = []
        solver.log_callback = self._on_log

    def _on_log(self, line: str) -> None:
        self.lines.append(line)
        self.progress.update(*_progress_of(line))
        self.emit(line)

    def solve(self, model: Any, budget: float, phase: str, *, incumbent: bool = True,
              bound: bool = True, subsolvers: list[str] | None = None) -> Any:
        """Solve ``model`` for at most ``budget`` seconds; ``incumbent``/``bound`` say
        whether its objective values count as the problem's (for progress);
        ``subsolvers`` replaces the portfolio (one worker each) for this solve only."""
        self.emit(f"# h2h_opt phase: {phase} ({budget:.2f} s)")
        self.progress.take_incumbent, self.progress.take_bound = incumbent, bound
        sp = self.solver.parameters
        sp.max_time_in_seconds = max(0.05, budget)
        saved = sp.num_workers, list(sp.subsolvers)
        if subsolvers is not None:
            sp.num_workers = len(subsolvers)
            sp.subsolvers.clear()
            sp.subsolvers.extend(subsolvers)
        try:
            status = self.solver.solve(model)
        finally:
            sp.num_workers = saved[0]
            sp.subsolvers.clear()
            sp.subsolvers.extend(saved[1])
            self.progress.take_incumbent = self.progress.take_bound = True
        found = status in (OPTIMAL, FEASIBLE)
        self.phases.append({
            "phase": phase, "status": self.solver.status_name(status),
            "time_s": round(self.solver.wall_time, 3),
            "objective": self.solver.objective_value if found else None,
            "bound": self.solver.best_objective_bound if found else None})
        return status


class CpSatSolver(ExactSolver):
    """OR-Tools CP-SAT backend.

    Options: ``warm_start`` (solver for the default hint, ``h2h``; ``none`` for no
    hint), ``symmetry`` (break symmetry of identical accelerators, default true),
    ``cpsat_parameters`` (a dict set on ``CpSolver.parameters`` as given; a list sets a
    repeated field such as ``subsolvers``), ``acc_sizes`` (give each optional interval
    its own size variable whose domain starts at the layer's least busy time on that
    accelerator; default false: measured no better on the 30-layer host set),
    ``prec_cuts`` (rows tying accelerator loads to ancestors and descendants; default
    false: measured no better), ``load_bound`` (latency and lex: when the first
    search does not prove optimality, bound the makespan by the load relaxation and
    search again with that bound; default true), ``first_share`` (share of the budget
    of the first search, default ``FIRST_SHARE``; 0 starts with the load relaxation).
    ``SolveParams.workers`` defaults to 8 on instances up to 200 layers (the LP
    workers of the larger portfolio close bounds) and to 2 above (on 2 cores, 2
    workers find solutions fastest); ``time_limit_s`` defaults to 60 s.

    Makespan (E10) is minimised in up to four phases sharing the time limit:

    1. ``search``: the full model, warm-started, for ``FIRST_SHARE`` of the budget;
    2. ``load_relaxation``: min ``T`` subject to ``T ≥`` the busy time of every
       accelerator (E2-E4/E6, E8, E9), with no start times.  On machines that stay
       busy (the typical host-comm optimum) its optimum is the makespan's, and the
       relaxation, a pure 0-1 problem, is proved far faster than the full model;
    3. ``relaxation_mapping``: the full model with the relaxation's mapping fixed,
       which often attains the relaxation's value and so closes the gap at once;
    4. ``search_with_load_bound``: the full model again, with ``makespan ≥`` the best
       bound so far and the best schedule as hint, for the time left.
    """

    name = "cpsat"
    #: share of the budget given to the first search before the load relaxation
    FIRST_SHARE = 0.1
    #: most of the remaining budget the load relaxation may use
    RELAX_SHARE = 0.75
    #: the load relaxation's portfolio: the LP-based workers that prove its bound
    #: (measured on the 30-layer host set, seeds 2/6/7/9/10/16: 4.8-15.7 s, against
    #: 10.6-22.5 s with the default 4-worker and 11.7-51.8 s with the 8-worker one)
    RELAX_SUBSOLVERS = ["max_lp", "reduced_costs", "pseudo_costs", "default_lp"]
    options = (
        Option("warm_start", str, "h2h", "solver whose schedule is the hint (the facade runs"
               " it)", choices=("none", "baseline", "h2h", "h2h_plus", "heft", "milp"),
               nullable=True),
        Option("symmetry", bool, True, "break symmetry between identical accelerators"
               " (first-use order)"),
        Option("cpsat_parameters", dict, {}, "set on CpSolver.parameters as given (a list"
               " sets a repeated field)", keys=sat_parameter, keys_help="SatParameters field"),
        Option("acc_sizes", bool, False, "give each optional interval its own size"
               " variable (measured no better)"),
        Option("prec_cuts", bool, False, "rows tying accelerator loads to"
               " ancestors and descendants (measured no better)"),
        Option("load_bound", bool, True, "latency/lex: when the first search does not"
               " prove optimality, bound the makespan by the load relaxation (E8, E9)"),
        Option("first_share", float, FIRST_SHARE, "share of the budget of the first search"
               " (0: load relaxation first)", low=0, high=1),
    )

    def available(self) -> str | None:
        try:
            import ortools.sat.python.cp_model  # noqa: F401
        except ImportError as exc:  # pragma: no cover - ortools is a base dependency
            return f"OR-Tools is not installed ({exc})"
        return None

    def solve(self, inst: Instance, params: SolveParams,
              initial: Schedule | None = None) -> SolveResult:
        t0 = time.perf_counter()
        tables = compile_tables(inst)
        mdl = _Model(inst, tables)
        mdl.acc_sizes = self.option(params, "acc_sizes")
        mdl.prec_cuts = self.option(params, "prec_cuts")
        plan = Decision.from_schedule(inst, initial) if initial is not None else None
        objective = inst.options.objective
        horizon = mdl.plan_horizon(plan)
        mdl.build(horizon, symmetry=self.option(params, "symmetry"), energy=objective != "latency")
        hint_makespan = mdl.hint(plan) if plan is not None else None
        workers = params.workers or (8 if mdl.n <= 200 else 2)
        deadline = t0 + time_limit(params)  # the model's build counts against the limit
        limit = time_left(deadline)
        solver = mdl.cp.CpSolver()
        sp = solver.parameters
        sp.num_workers = workers
        sp.random_seed = params.seed
        sp.relative_gap_limit = params.rel_gap
        sp.log_search_progress = True
        sp.log_to_stdout = False
        for key, value in dict(self.option(params, "cpsat_parameters")).items():
            if isinstance(value, list | tuple):  # repeated field, e.g. subsolvers
                field = getattr(sp, key)
                field.clear()
                field.extend(value)
            else:
                setattr(sp, key, value)  # e.g. {"linearization_level": 2}
        factor = mdl.tick
        if objective == "energy":
            factor = 1.0 / mdl.energy_expr()[1]
        sink = LogSink(params.log, params.progress)
        run = _Runner(solver, Progress(sink.progress, factor, t0), sink.emit)
        info: dict[str, Any] = {"workers": workers, **rounding_info(mdl),
                                "horizon_ticks": horizon, "identical_groups": mdl.groups}
        load_bound = self.option(params, "load_bound")
        vals = None
        bound: float | None = None
        proven = False
        with sink:
            if objective in ("latency", "lex"):
                budget = limit if objective == "latency" else limit / 2
                vals, best_ms, lb = self._minimise_makespan(
                    mdl, run, budget, load_bound, params.rel_gap,
                    self.option(params, "first_share"))
                proven = vals is not None and best_ms <= lb
                bound = lb if lb > 0 or vals is not None else None
                if vals is not None:
                    info["solver_makespan_s"] = best_ms * mdl.tick
                if objective == "lex" and proven:
                    mdl.model.add(mdl.makespan <= best_ms)
                    energy, scale = mdl.energy_expr()
                    mdl.model.minimize(energy)
                    mdl.hint(vals)
                    status = run.solve(mdl.model, time_left(deadline),
                                       "energy_at_best_makespan")
                    if status in (OPTIMAL, FEASIBLE):
                        info["energy_bound_j"] = solver.best_objective_bound / scale
                        vals = self._values(mdl, solver)
            else:
                energy, scale = mdl.energy_expr()
                mdl.model.minimize(energy)
                status = run.solve(mdl.model, limit, "search")
                if status in (OPTIMAL, FEASIBLE):
                    vals = self._values(mdl, solver)
                    bound = solver.best_objective_bound / scale
                    proven = status == OPTIMAL
        hint_line = next((ln for ln in run.lines if "solution hint" in ln), None)
        info["hint"] = None if hint_line is None else hint_line.strip()
        info["hint_complete_and_feasible"] = bool(hint_line and "complete and is feasible"
                                                  in hint_line)
        info["hint_makespan_ticks"] = hint_makespan
        info["phases"] = run.phases
        info["status_name"] = run.phases[-1]["status"] if run.phases else "UNKNOWN"
        info["wall_time_s"] = sum(p["time_s"] for p in run.phases)
        names = [p["status"] for p in run.phases]
        if "MODEL_INVALID" in names:
            info["validation"] = mdl.model.validate()
        # latency/lex: the makespan bound in ticks x tick (SPEC §6); energy: joules
        if bound is not None and objective != "energy":
            bound = bound * mdl.tick
        return exact_result(inst, self.name, None if vals is None else
                            mdl.schedule(vals, self.name), proven=proven,
                            rel_gap=params.rel_gap, bound=bound, t0=t0, info=info,
                            infeasible="INFEASIBLE" in names, error="MODEL_INVALID" in names)

    def _minimise_makespan(self, mdl: _Model, run: _Runner, budget: float,
                           load_bound: bool, rel_gap: float, first_share: float
                           ) -> tuple[Any, int, int]:
        """The phases of the class docstring.  Returns the best plan (or None), its
        makespan and the best lower bound, both in ticks."""
        t_start = time.perf_counter()
        solver = run.solver

        def left() -> float:
            return budget - (time.perf_counter() - t_start)

        def closed(best: int | None, lb: int) -> bool:
            return best is not None and (best <= lb or (best - lb) <= rel_gap * best)

        best_ms: int | None = None
        vals = None
        lb = 0

        def absorb(status: Any, bound: bool = True) -> None:
            """Keep a full-model solve's schedule if better; its bound too, unless the
            model was restricted (a fixed mapping)."""
            nonlocal best_ms, vals, lb
            if status not in (OPTIMAL, FEASIBLE):
                return
            ms = round(solver.objective_value)
            if best_ms is None or ms < best_ms:
                best_ms, vals = ms, self._values(mdl, solver)
            if bound:
                lb = max(lb, math.ceil(solver.best_objective_bound - 1e-6))
                if status == OPTIMAL and rel_gap == 0:
                    lb = max(lb, best_ms)

        mdl.model.minimize(mdl.makespan)
        status = UNKNOWN
        if first_share > 0 or not load_bound:
            status = run.solve(mdl.model, budget * first_share if load_bound else budget,
                               "search")
        absorb(status)
        if status in (OPTIMAL, INFEASIBLE, MODEL_INVALID) or not load_bound \
                or closed(best_ms, lb) or left() <= 0.05:
            return vals, best_ms or 0, lb
        lb_search = lb
        # load relaxation: a lower bound, and a mapping to try
        relax = _Model(mdl.inst, mdl.tables)
        relax.groups = mdl.groups
        relax.build_load_relaxation(best_ms if best_ms is not None else mdl.horizon_ticks,
                                    floor=lb)
        relax.model.minimize(relax.makespan)
        status = run.solve(relax.model, left() * self.RELAX_SHARE, "load_relaxation",
                           incumbent=False, subsolvers=self.RELAX_SUBSOLVERS)
        mapping = None
        if status in (OPTIMAL, FEASIBLE) and solver.best_objective_bound > lb:
            lb = math.ceil(solver.best_objective_bound - 1e-6)
            mapping = [0] * mdl.n
            for (v, a), xv in relax.x.items():
                if solver.boolean_value(xv):
                    mapping[v] = a
        run.progress.update(None, float(lb))
        if closed(best_ms, lb) or left() <= 0.05:
            return vals, best_ms or 0, lb
        if mapping is not None:  # the full model with the relaxation's mapping fixed
            mapping, _ = mdl._relabel(mapping, [[] for _ in range(mdl.m)])
            fixed = mdl.model.clone()
            fixed.clear_hints()
            for (v, a), xv in mdl.x.items():
                fixed.add(fixed.get_bool_var_from_proto_index(xv.index) == int(mapping[v] == a))
            absorb(run.solve(fixed, min(left() * 0.25, max(1.0, budget * 0.05)),
                             "relaxation_mapping", bound=False), bound=False)
            if closed(best_ms, lb) or left() <= 0.05:
                return vals, best_ms or 0, lb
        # the model keeps its first hint: measured on STG rand0117 / 8 procs, re-hinting
        # the best schedule (already optimal) kept the bound open (3/3 runs) where the
        # first hint let it close (3/3); the best schedule is kept here in any case
        if lb > lb_search:
            mdl.model.add(mdl.makespan >= lb)
        status = run.solve(mdl.model, left(), "search_with_load_bound")
        absorb(status)
        if status == INFEASIBLE and best_ms is not None:
            lb = best_ms  # nothing at or below the incumbent beats it: it is optimal
        return vals, best_ms or 0, lb

    @staticmethod
    def _values(mdl: _Model, solver: Any) -> Decision:
        x = [0] * mdl.n
        for (v, a), xv in mdl.x.items():
            if solver.boolean_value(xv):
                x[v] = a
        r = [bool((v, x[v]) in mdl.rx and solver.boolean_value(mdl.rx[v, x[v]]))
             for v in range(mdl.n)]
        start = [solver.value(s) for s in mdl.start]
        end = [solver.value(f) for f in mdl.end]
        orders: list[list[int]] = [[] for _ in range(mdl.m)]
        for v in sorted(range(mdl.n), key=lambda v: (start[v], end[v], v)):
            orders[x[v]].append(v)
        return Decision(np.array(x, dtype=np.int64), np.array(r, dtype=bool), orders)


class LnsSolver(ExactSolver):
    """Large-neighbourhood search on the CP-SAT model (anytime; issue 14, first version).

    Starts from a heuristic's schedule (the warm start, ``h2h_plus`` by default) and
    repeats: free a neighbourhood -- the layers whose current start lies nearest a
    random time of the schedule (a window in time) -- keep every other layer's
    accelerator, residency and relative order on its accelerator, re-optimise the freed
    part with CP-SAT on a short budget, hinted with the current schedule, and keep the
    result when the evaluator's objective strictly improves.  The neighbourhood grows
    after a sub-problem proved it could not improve and shrinks after one that ran out
    of budget.  With ``neighbourhoods`` (a work limit) binding before the time limit,
    and each sub-solve limited in CP-SAT's deterministic time on one worker, the result
    is the same run to run for a seed.  It reports no bound of its own (the facade
    attaches the cheap one).
    """

    name = "lns"
    kind = "anytime"  # improves a schedule, proves nothing (not 'exact')
    options = (
        Option("warm_start", str, "h2h_plus", "solver whose schedule starts the search",
               choices=("baseline", "h2h", "h2h_plus", "heft")),
        Option("neighbourhoods", int, 200, "most neighbourhoods to re-optimise (a work"
               " limit: with it binding first the run is reproducible)", low=1),
        Option("size", int, 24, "layers freed at first (adapted between 4 and 400)", low=1),
        Option("sub_time", float, 0.25, "CP-SAT deterministic time per neighbourhood"
               " (measured on arvr-hetero6-0.125GBps, 30 s: 0.25 gave 27 neighbourhoods and"
               " 0.01073 s, 1.0 gave 7 and 0.01620 s)", low=0.01),
    )

    def solve(self, inst: Instance, params: SolveParams,
              initial: Schedule | None = None) -> SolveResult:
        from ...timing import Timer

        t0 = time.perf_counter()
        deadline = t0 + time_limit(params)
        tables = compile_tables(inst)
        mdl = _Model(inst, tables)
        objective = inst.options.objective
        if initial is None:
            raise SolverError("lns needs a starting schedule (option warm_start)")
        current = Decision.from_schedule(inst, initial)
        mdl.build(mdl.plan_horizon(current), symmetry=False, energy=objective == "energy")
        target = mdl.energy_expr()[0] if objective == "energy" else mdl.makespan
        mdl.model.minimize(target)
        timer = Timer(inst, tables)

        def score(dec: Decision) -> float:
            tm = timer.time(dec)
            return tm.energy if objective == "energy" else tm.makespan

        best = score(current)
        rng = np.random.default_rng(params.seed)
        size = min(mdl.n, self.option(params, "size"))
        counts = {"neighbourhoods": 0, "improved": 0, "proved_no_better": 0}
        sink = LogSink(params.log, params.progress)
        progress = Progress(sink.progress, 1.0, t0)
        progress.update(best, None)
        solver = mdl.cp.CpSolver()
        sp = solver.parameters
        sp.num_workers = 1
        with sink:
            for it in range(self.option(params, "neighbourhoods")):
                left = deadline - time.perf_counter()
                if left <= 0.05:
                    break
                counts["neighbourhoods"] += 1
                freed = self._window(mdl, current, size, rng)
                sub = self._fixed_outside(mdl, current, freed)
                sp.random_seed = params.seed + it
                sp.max_deterministic_time = self.option(params, "sub_time")
                sp.max_time_in_seconds = left
                status = solver.solve(sub)
                if status in (OPTIMAL, FEASIBLE):
                    cand = self._values(mdl, solver)
                    value = score(cand)
                    if value < best * (1 - 1e-12):
                        current, best = cand, value
                        counts["improved"] += 1
                        progress.update(best, None)
                        continue
                if status == OPTIMAL:  # this window cannot improve: look wider
                    counts["proved_no_better"] += 1
                    size = min(mdl.n, 400, int(size * 1.5) + 1)
                else:
                    size = max(4, int(size * 0.8))
        info = {**rounding_info(mdl), **counts, "final_size": size}
        return exact_result(inst, self.name, mdl.schedule(current, self.name), proven=False,
                            rel_gap=params.rel_gap, bound=None, t0=t0, info=info)

    @staticmethod
    def _window(mdl: _Model, dec: Decision, size: int, rng: Any) -> set[int]:
        """The ``size`` layers whose start (ASAP, ticks) lies nearest a random time."""
        _, start, finish = mdl.tick_times(dec)
        centre = rng.uniform(0.0, max(finish) if finish else 0.0)
        nearest = np.argsort(np.abs(np.asarray(start) - centre), kind="stable")
        return {int(v) for v in nearest[:size]}

    @staticmethod
    def _fixed_outside(mdl: _Model, dec: Decision, freed: set[int]) -> Any:
        """The model with every layer outside ``freed`` kept where ``dec`` has it: its
        accelerator, its residency and its order among the kept layers of that
        accelerator; hinted with ``dec``."""
        mdl.hint(dec)
        sub = mdl.model.clone()
        var = sub.get_bool_var_from_proto_index
        for (v, a), xv in mdl.x.items():
            if v not in freed:
                sub.add(var(xv.index) == int(dec.x[v] == a))
        for (v, a), rv in mdl.rx.items():
            if v not in freed and dec.x[v] == a:
                sub.add(var(rv.index) == int(bool(dec.r[v])))
        start = [sub.get_int_var_from_proto_index(s.index) for s in mdl.start]
        end = [sub.get_int_var_from_proto_index(f.index) for f in mdl.end]
        for order in dec.orders:
            kept = [v for v in order if v not in freed]
            for u, w in zip(kept, kept[1:], strict=False):
                sub.add(start[w] >= end[u])
        return sub

    _values = staticmethod(CpSatSolver._values)
