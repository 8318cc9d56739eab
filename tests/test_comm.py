"""The comm model (SPEC §4) written once, read three ways: the seconds the evaluator and
the heuristics use, the tick/joule term lists the exact models turn into constraints,
and the piece-by-piece costs of the list schedulers.  These tests hold the three
against each other on random decisions, so the exact models and the evaluator cannot
drift apart."""

from __future__ import annotations

import math

import numpy as np
import pytest

from h2h_opt.comm import CommModel, durations, energy
from h2h_opt.cost import compile_tables
from h2h_opt.library.generate import random_layered


def random_decisions(inst, tables, rng, count):
    feas = np.isfinite(tables.t)
    for _ in range(count):
        x = np.array([rng.choice(np.flatnonzero(feas[v])) for v in range(tables.num_layers)])
        r = rng.random(tables.num_layers) < 0.5
        r &= (tables.weight_bytes > 0) & (tables.weight_bytes <= tables.capacity[x])
        yield x, r


def term_energy(comm, x, r):
    """E11 summed from the term lists: the terms that hold for ``x`` and ``r``."""
    total = 0.0
    for v in range(comm.n):
        a = int(x[v])
        lt = comm.terms[v, a]
        total += lt.fixed_joules - (lt.weight_joules if r[v] and lt.can_reside else 0.0)
        total += sum(rt.joules for rt in lt.reads if x[rt.producer] != a)
        if lt.write_succs and any(x[w] != a for w in lt.write_succs):
            total += lt.write_joules
    for k, (u, v) in enumerate(zip(comm.src, comm.dst, strict=True)):
        total += comm.link_joules(k, int(x[u]), int(x[v]))
    return total


@pytest.mark.parametrize("comm_mode", ["host", "p2p"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tick_terms_round_the_seconds_up_and_joules_match(comm_mode, seed):
    inst = random_layered(18, 3, comm=comm_mode, seed=seed, capacity_fraction=0.5)
    tab = compile_tables(inst)
    comm = CommModel(inst, tab)
    rng = np.random.default_rng(seed)
    tick = comm.tick_s
    per_layer = [4 + len(e) if comm_mode == "host" else 3 for e in inst.workload.in_edges]
    prev = np.full(tab.num_layers, -1)
    for x, r in random_decisions(inst, tab, rng, 20):
        dur = durations(tab, comm_mode, "same_accelerator", x, r, prev)
        ticks = comm.busy_ticks(x.tolist(), r.tolist())
        some = sorted(rng.choice(tab.num_layers, size=5, replace=False).tolist(), reverse=True)
        assert comm.busy_ticks(x.tolist(), r.tolist(), some) == [ticks[v] for v in some]
        for v in range(tab.num_layers):
            # E2-E4 / E6: every term rounded up (SPEC §6), so ticks cover the seconds
            # and exceed them by less than one tick per term
            assert ticks[v] * tick >= dur.busy[v] * (1 - 1e-12)
            assert ticks[v] * tick < dur.busy[v] + per_layer[v] * tick
        delays = comm.edge_delays_ticks(x.tolist())
        for k, d in enumerate(dur.edge_delay):  # E7
            assert delays[k] * tick >= d * (1 - 1e-12)
            assert delays[k] * tick < d + tick
        e11 = energy(tab, comm_mode, x, r, dur)
        assert term_energy(comm, x, r) == pytest.approx(e11, rel=1e-9)


def test_terms_of_a_hand_checked_layer():
    """Host, two accelerators: a layer's unavoidable terms are fixed, its optional read
    and write hang on the placement of its neighbours."""
    from helpers import chain_instance

    inst = chain_instance(3)
    tab = compile_tables(inst)
    comm = CommModel(inst, tab)
    x = [0, 1, 1]
    r = [False, False, False]
    busy = comm.busy_ticks(x, r)
    dur = durations(tab, "host", "same_accelerator", np.array(x), np.array(r),
                    np.full(3, -1))
    # ticks of 1 ns: the chain's numbers are whole nanoseconds, nothing to round
    assert [b * comm.tick_s for b in busy] == pytest.approx(dur.busy.tolist(), rel=1e-12)
    # the middle layer reads from L1 (elsewhere) and writes nothing (L3 is beside it)
    mid = comm.terms[1, 1]
    assert [rt.producer for rt in mid.reads] == [0]
    assert mid.write_succs == (2,)


@pytest.mark.parametrize("comm_mode", ["host", "p2p"])
def test_placement_and_full_busy_agree_with_the_seconds(comm_mode):
    """HEFT's placement cost and §7.1's all-paid busy time are the seconds physics for the
    situations they assume."""
    inst = random_layered(15, 3, comm=comm_mode, seed=4)
    tab = compile_tables(inst)
    comm = CommModel(inst, tab)
    rng = np.random.default_rng(4)
    none_r = np.zeros(tab.num_layers, dtype=bool)
    prev = np.full(tab.num_layers, -1)
    for x, _ in random_decisions(inst, tab, rng, 10):
        paid = durations(tab, comm_mode, "none" if comm_mode == "host" else "same_accelerator",
                         x, none_r, prev)
        full = comm.full_busy()
        local = durations(tab, comm_mode, "same_accelerator", x, none_r, prev)
        for v in range(tab.num_layers):
            assert full[v, x[v]] == pytest.approx(paid.busy[v], rel=1e-12)
            busy, delays = comm.placement(v, int(x[v]), x.tolist())
            succs_elsewhere = all(x[w] != x[v] for w in inst.workload.succs[v])
            if comm_mode == "p2p" or succs_elsewhere:  # placement assumes the write
                assert busy == pytest.approx(local.busy[v], rel=1e-12)
            else:
                assert busy >= local.busy[v]
            for k, d in zip(inst.workload.in_edges[v], delays, strict=True):
                assert d == pytest.approx(local.edge_delay[k], rel=1e-12, abs=0)


def test_host_ignores_links_and_p2p_pays_them():
    inst = random_layered(10, 2, comm="p2p", seed=3)
    tab = compile_tables(inst)
    p2p = CommModel(inst, tab)
    assert p2p.link_energy_jpb[0, 1] == tab.link_energy[0, 1]
    assert p2p.link_energy_jpb[0, 0] == 0.0
    host_inst = random_layered(10, 2, comm="host", seed=3)
    host = CommModel(host_inst, compile_tables(host_inst))
    assert not host.link_energy_jpb.any()
    assert not host.delay_ticks.any()
    assert all(math.isfinite(t.fixed_joules) for t in host.terms.values())
