"""The CP-SAT model of the mapping problem (SPEC §7.4): variables, the full model, the
load relaxation, hints and read-back, shared by the ``cpsat`` backend and by ``lns``'s
windows (see :mod:`.cpsat` for the model's description)."""

from __future__ import annotations

import copy
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ...cost import CostTables
from ...model import Instance
from ...schedule import Decision
from .ticks import TickModel

__all__ = ["ENERGY_UNITS", "SatModel"]

#: Energy is scaled so that the largest possible total is about this many units.
ENERGY_UNITS = 1e12


class SatModel(TickModel):
    """Build, hint, solve and extract, kept apart (STYLE habit 4)."""

    def __init__(self, inst: Instance, tables: CostTables) -> None:
        from ortools.sat.python import cp_model

        super().__init__(inst, tables)
        self.cp = cp_model
        self._empty()
        self.load_cuts = True
        self.prec_cuts = False
        self.acc_sizes = False

    def _empty(self) -> None:
        self.model = self.cp.CpModel()
        self.pairs: dict[tuple[int, int, int], Any] = {}
        self.energy_var: Any = None
        self.energy_scale = 1.0
        self.energy_terms: list[tuple[int, Any]] = []
        self.groups: list[list[int]] = []
        self.used: dict[tuple[int, int], Any] = {}
        #: layers outside the model whose weights stay resident, per accelerator (E9)
        self.resident_layers: dict[int, list[int]] = {}

    def fresh(self) -> SatModel:
        """An empty model sharing this one's tick terms (what a large-neighbourhood
        window builds on, without recomputing the comm model)."""
        new = copy.copy(self)
        new._empty()
        return new

    def fit_memory(self, x: Sequence[int], r: list[bool]) -> list[bool]:
        """``r`` with E9 holding exactly: where the whole-byte relaxation let residents
        exceed an accelerator's capacity by a fraction of a byte per layer, the lightest
        of them give up residency until the rest fit (they only take longer)."""
        tab, r = self.tables, list(r)
        on, resident = np.asarray(x), np.asarray(r, dtype=bool)
        for a in range(self.m):
            mine = sorted((float(tab.weight_bytes[v]), v)
                          for v in np.flatnonzero(resident & (on == a)).tolist())
            total = sum(w for w, _ in mine)
            for w, v in mine:
                if total <= tab.capacity[a]:
                    break
                r[v], total = False, total - w
        return r

    def build_assignment(self, layers: Sequence[int] | None = None,
                         choices: Mapping[int, Sequence[int]] | None = None,
                         outside: Mapping[int, int] | None = None,
                         resident: Mapping[int, bool] | None = None) -> None:
        """Assignment, residency and transfer literals, and every busy time as a linear
        expression of them (E2-E4, E6, E9) from the comm model's term lists: what both
        the full model and the load relaxation need.

        A large-neighbourhood window (:mod:`.lns`) builds only ``layers``, each on the
        accelerators ``choices`` gives it (default: every one that runs it); a neighbour
        outside ``layers`` runs where ``outside`` says, a constant instead of a literal;
        a layer in ``resident`` has its residency fixed (no literal).
        """
        md, tab, terms = self.model, self.tables, self.terms
        n, m = self.n, self.m
        layers = range(n) if layers is None else layers
        feas = self.feas if choices is None else {v: choices.get(v, self.feas[v])
                                                    for v in layers}
        outside, resident = outside or {}, resident or {}

        def lit(u: int, a: int) -> Any:
            return self.x[u, a] if (u, a) in self.x else outside.get(u) == a

        # assignment and residency (E9)
        self.x = {(v, a): md.new_bool_var(f"x_{v}_{a}") for v in layers for a in feas[v]}
        self.rx: dict[tuple[int, int], Any] = {}
        for v in layers:
            md.add_exactly_one(self.x[v, a] for a in feas[v])
            for a in feas[v]:
                if terms[v, a].can_reside and v not in resident:
                    rv = md.new_bool_var(f"r_{v}_{a}")
                    md.add_implication(rv, self.x[v, a])
                    self.rx[v, a] = rv
        for a in range(m):
            items = [(v, rv) for (v, b), rv in self.rx.items() if b == a]
            if items and math.isfinite(tab.capacity[a]):
                kept = float(sum(tab.weight_bytes[u] for u in self.resident_layers.get(a, [])))
                # E9 in whole bytes as a relaxation (weights down, what is left up), so
                # bounds stay bounds; a solution over by fractions is repaired (fit_memory)
                cap = math.ceil(tab.capacity[a] - kept)
                units = [math.floor(tab.weight_bytes[v]) for v, _ in items]
                if sum(units) > cap:
                    md.add(sum(w * rv for w, (_, rv) in zip(units, items, strict=True)) <= cap)
        # busy time L_v: the terms of LayerTerms, each on a literal implying x[v,a]
        self.y: dict[tuple[int, int], Any] = {}
        self.z: dict[tuple[int, int], Any] = {}
        # per layer (a mapping: a window builds a few of 10 000 layers)
        busy_terms: defaultdict[int, list[tuple[int, Any]]] = defaultdict(list)
        joules: list[tuple[float, Any]] = []
        acc_of: dict[int, int] = {}
        self._acc_of_literal = acc_of

        def term(v: int, a: int, ticks: Any, joule: float, literal: Any) -> None:
            acc_of[id(literal)] = a
            busy_terms[v].append((int(ticks), literal))
            joules.append((joule, literal))

        for (v, a), xv in self.x.items():
            lt = terms[v, a]
            term(v, a, lt.fixed, lt.fixed_joules, xv)
            if (v, a) in self.rx:
                term(v, a, -lt.weight, -lt.weight_joules, self.rx[v, a])
            elif resident.get(v) and lt.can_reside:
                term(v, a, -lt.weight, -lt.weight_joules, xv)
            for rt in lt.reads:  # E3: read when the producer runs elsewhere
                xu = lit(rt.producer, a)
                if xu is True:
                    continue
                if xu is False:  # a producer kept elsewhere: v reads whenever it is on a
                    term(v, a, rt.time, rt.joules, xv)
                    continue
                yk = md.new_bool_var(f"y_{rt.edge}_{a}")
                md.add_implication(yk, xv)
                md.add_implication(yk, xu.Not())
                md.add_bool_or([xv.Not(), xu, yk])
                self.y[rt.edge, a] = yk
                term(v, a, rt.time, rt.joules, yk)
            if lt.write_succs:  # E4: write when some successor runs elsewhere
                succ_on_a = [lit(w, a) for w in lt.write_succs]
                if any(s_ is False for s_ in succ_on_a):
                    term(v, a, lt.write, lt.write_joules, xv)
                    continue
                succ_on_a = [s_ for s_ in succ_on_a if s_ is not True]
                if not succ_on_a:
                    continue
                zv = md.new_bool_var(f"z_{v}_{a}")
                md.add_implication(zv, xv)
                md.add_bool_or([s.Not() for s in succ_on_a] + [zv.Not()])
                for s_ in succ_on_a:
                    md.add_bool_or([xv.Not(), s_, zv])
                self.z[v, a] = zv
                term(v, a, lt.write, lt.write_joules, zv)
        self.busy_terms = busy_terms
        self.joule_terms = joules

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

    def build_load_relaxation(self, horizon: int, floor: int = 0,
                              precedence: bool = False) -> None:
        """The load relaxation of E10: no start times, only ``T ≥ load_a`` for every
        accelerator (E8 implies each accelerator's busy times fit before the
        makespan).  Its optimum is a lower bound on the makespan.  With ``T ≥ floor``
        (a bound already known) the optimum is still one, and the solve ends as soon as
        a mapping's loads all fit under the floor (the relaxation has nothing to add).

        ``precedence``: also a finish per layer, ``f_v ≥ f_u + L_v`` on every edge
        (E5), ``f_v ≥ L_v`` and ``T ≥ f_v`` -- every chain's length under the same
        mapping, without E8's disjunctions (still a relaxation: any schedule satisfies
        it).  Measured on ``arvr-hetero6-1.25GBps``: the bound in 2 deterministic
        seconds rises from 0.00345 s to 0.00626 s, above CP-SAT's 60 s bound."""
        self.build_assignment()
        self._symmetry()
        self.makespan = self.model.new_int_var(min(floor, horizon), horizon, "makespan")
        self._load_cuts()
        self.relax_finish: list[tuple[Any, Any]] = []
        if precedence:
            md, wl = self.model, self.inst.workload
            finish = self.relax_finish
            for v in range(self.n):
                hi = min(horizon, sum(c for c, _ in self.busy_terms[v] if c > 0))
                busy = md.new_int_var(0, max(hi, 0), f"L_{v}")
                md.add(busy == sum(c * b for c, b in self.busy_terms[v]))
                f = md.new_int_var(0, horizon, f"f_{v}")
                md.add(f >= busy)
                finish.append((f, busy))
            for v in range(self.n):
                for u in wl.preds[v]:
                    md.add(finish[v][0] >= finish[u][0] + finish[v][1])
                if not wl.succs[v]:
                    md.add(self.makespan >= finish[v][0])

    def _terms_by_acc(self) -> defaultdict[int, list[list[tuple[int, Any]]]]:
        """``[v][a]``: the terms of ``L_v`` whose literal implies ``x[v,a]`` (their sum
        is ``v``'s busy time on ``a`` if it runs there, else 0; no terms for a layer
        the model does not build)."""
        m = self.m
        out: defaultdict[int, list[list[tuple[int, Any]]]] = defaultdict(
            lambda: [[] for _ in range(m)])
        for v, terms in self.busy_terms.items():
            for c, lit in terms:
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
        md = self.model
        md.clear_hints()
        x, orders = self._relabel(dec.x.tolist(), dec.orders)
        r = [bool(dec.r[v]) and (v, x[v]) in self.rx for v in range(self.n)]
        busy, start, finish = self.tick_times(Decision(np.array(x), np.array(r, dtype=bool),
                                                       orders))
        self.hint_assignment(x, r)
        for v in range(self.n):
            md.add_hint(self.start[v], int(start[v]))
            md.add_hint(self.end[v], int(finish[v]))
            md.add_hint(self.busy[v], busy[v])
        for (v, a), size in self.busy_on.items():
            md.add_hint(size, busy[v] if x[v] == a else size.proto.domain[0])
        self._hint_used(x)
        makespan = int(max(finish)) if finish else 0
        md.add_hint(self.makespan, makespan)
        if self.energy_var is not None:
            md.add_hint(self.energy_var, self.energy_units(x, r))
        return makespan

    def hint_assignment(self, x: Sequence[int], r: Sequence[bool]) -> None:
        """Hint every literal of :meth:`build_assignment` (assignment, residency, reads
        and writes, accelerator pairs) from a plan's mapping ``x`` and residency ``r``:
        a hint CP-SAT need not complete (measured: with only the assignment hinted,
        the load relaxation of 1 000 layers x 8 accelerators found no solution in 10
        deterministic seconds)."""
        md, tab, wl = self.model, self.tables, self.inst.workload
        src, dst = tab.edge_src.tolist(), tab.edge_dst.tolist()
        for (v, a), xv in self.x.items():
            md.add_hint(xv, x[v] == a)
        for (v, a), rv in self.rx.items():
            md.add_hint(rv, x[v] == a and bool(r[v]))
        for (k, a), yk in self.y.items():
            md.add_hint(yk, x[dst[k]] == a and x[src[k]] != a)
        for (v, a), zv in self.z.items():
            md.add_hint(zv, x[v] == a and any(x[w] != a for w in wl.succs[v]))
        for (k, a, b), pv in self.pairs.items():
            md.add_hint(pv, x[src[k]] == a and x[dst[k]] == b)

    def _hint_used(self, x: Sequence[int]) -> None:
        """Hint the symmetry literals (:meth:`_symmetry`): ``used[v, a]`` iff a layer up
        to ``v`` runs on ``a``."""
        seen: set[int] = set()
        for v in range(self.n):
            seen.add(x[v])
            for a in (g for group in self.groups for g in group):
                if (v, a) in self.used:
                    self.model.add_hint(self.used[v, a], a in seen)

    def hint_relaxation(self, dec: Decision) -> None:
        """Hint the load relaxation (:meth:`build_load_relaxation`) completely from
        ``dec``'s mapping and residency: the literals, each layer's busy time and
        finish with data edges only, and the makespan as the largest load or finish."""
        md = self.model
        md.clear_hints()
        x, _ = self._relabel(dec.x.tolist(), [[] for _ in range(self.m)])
        r = [bool(dec.r[v]) and (v, x[v]) in self.rx for v in range(self.n)]
        self.hint_assignment(x, r)
        busy, _, finish = self.tick_times(Decision(np.array(x), np.array(r, dtype=bool),
                                                   [[] for _ in range(self.m)]))
        for v, (f, lv) in enumerate(self.relax_finish):
            md.add_hint(lv, int(busy[v]))
            md.add_hint(f, int(finish[v]))
        self._hint_used(x)
        if self.energy_var is not None:  # under an energy cap
            md.add_hint(self.energy_var, self.energy_units(x, r))
        loads = [0] * self.m
        for v in range(self.n):
            loads[x[v]] += int(busy[v])
        tops = loads + ([int(f) for f in finish] if self.relax_finish else [])
        md.add_hint(self.makespan, max(max(tops, default=0), self.makespan.proto.domain[0]))

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

    def values(self, solver: Any) -> Decision:
        """The decision of a solved full model: mapping, residency, orders by start."""
        mdl = self
        x = [0] * mdl.n
        for (v, a), xv in mdl.x.items():
            if solver.boolean_value(xv):
                x[v] = a
        r = self.fit_memory(x, [bool((v, x[v]) in mdl.rx and solver.boolean_value(
            mdl.rx[v, x[v]])) for v in range(mdl.n)])
        start = [solver.value(s) for s in mdl.start]
        end = [solver.value(f) for f in mdl.end]
        orders: list[list[int]] = [[] for _ in range(mdl.m)]
        for v in sorted(range(mdl.n), key=lambda v: (start[v], end[v], v)):
            orders[x[v]].append(v)
        return Decision(np.array(x, dtype=np.int64), np.array(r, dtype=bool), orders)
