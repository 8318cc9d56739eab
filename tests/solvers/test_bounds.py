"""Lower bounds for every result: valid (never above an optimum) and attached with their
source to every heuristic result."""

from __future__ import annotations

import json

import pytest
from helpers import ROOT, brute_force, chain_instance, fork_instance, table_instance

from h2h_opt import SolveParams, read_instance, solve
from h2h_opt.comm import CommModel
from h2h_opt.cost import compile_tables
from h2h_opt.solvers.bounds import (
    MappingBound,
    _span_sets,
    critical_path_bound,
    heads_tails,
    load_bound,
    load_path_bound,
    lower_bound,
)


@pytest.mark.parametrize("builder", [chain_instance, fork_instance])
@pytest.mark.parametrize("comm", ["host", "p2p"])
@pytest.mark.parametrize("objective", ["latency", "energy", "lex"])
def test_bound_never_above_the_brute_force_optimum(builder, comm, objective):
    inst = builder(comm=comm, objective=objective) if builder is fork_instance \
        else builder(3, comm=comm, objective=objective)
    best = brute_force(inst)
    first = best[0] if isinstance(best, tuple) else best
    lb = lower_bound(inst, compile_tables(inst))
    assert 0 <= lb.value <= first * (1 + 1e-9)


def _small_optima() -> dict[str, float]:
    """The ``small`` suite's proven optima (results/small_run), by instance file."""
    rows = [json.loads(line) for line in
            (ROOT / "results/small_run/results.jsonl").read_text().splitlines()]
    optima: dict[str, float] = {}
    for r in rows:
        if r["status"] == "optimal":
            optima[r["instance_file"]] = min(optima.get(r["instance_file"], 1e300),
                                             r["latency_s"])
    return optima


def test_bound_never_above_the_proven_optima_of_the_small_suite():
    optima = _small_optima()
    assert len(optima) >= 20
    for path, best in optima.items():
        inst = read_instance(ROOT / path)
        lb = lower_bound(inst, compile_tables(inst))
        assert lb.value <= best * (1 + 1e-9), (path, lb, best)
        assert lb.value > 0.3 * best  # not a vacuous bound


def test_hand_checked_bounds():
    """Four independent layers of 1 s on two identical accelerators: the load bound is
    2 s (half the work each), the critical path 1 s."""
    layers = {f"L{i}": {} for i in range(4)}
    times = {lid: 1.0 for lid in layers}
    inst = table_instance(layers, [], {"a0": {}, "a1": {}}, {"a0": times, "a1": times})
    comm = CommModel(inst, compile_tables(inst))
    assert critical_path_bound(comm) == pytest.approx(1.0)
    assert load_bound(comm) == pytest.approx(2.0, rel=1e-5)
    lb = lower_bound(inst, compile_tables(inst))
    assert lb.source.startswith("load") and lb.value == pytest.approx(2.0, rel=1e-5)
    # a chain of the same layers: the critical path (4 s) beats the load bound
    chain = table_instance(layers, [("L0", "L1", 0.0), ("L1", "L2", 0.0), ("L2", "L3", 0.0)],
                           {"a0": {}, "a1": {}}, {"a0": times, "a1": times})
    lb = lower_bound(chain, compile_tables(chain))
    assert lb.value == pytest.approx(4.0) and lb.source.startswith("critical path")


def test_least_busy_counts_unavoidable_transfers_only():
    """Host, chain on two accelerators: L1's read of the sensor input and L3's final
    write are unavoidable; the weights are saved where they fit."""
    inst = chain_instance(3)
    comm = CommModel(inst, compile_tables(inst))
    least = comm.least_busy()
    # L1 on a0: t 1 + I 8/2 (source read); W resident; O avoidable (L2 may join it)
    assert least[0, 0] == pytest.approx(1 + 8 / 2)
    # L3 on a1: t 0.5 + O 4/4 (a sink writes to the host); its read avoidable
    assert least[2, 1] == pytest.approx(0.5 + 4 / 4)


def test_every_heuristic_result_carries_a_bound_with_its_source(heuristic_solver):
    inst = read_instance(ROOT / "instances/small/random-n20-a4-host-s2.json")
    res = solve(inst, heuristic_solver, SolveParams(seed=0))
    assert res.bound is not None and 0 < res.bound <= res.latency
    assert res.info["bound_source"]
    assert 0 <= res.gap < 1


def test_a_result_keeps_its_warm_starts_bound_when_that_is_stronger():
    """lns without its relaxation and its MIP proves nothing itself: the warm start's cheap bound
    (h2h_plus's) comes with the result, with its source."""
    inst = read_instance(ROOT / "instances/small/random-n20-a4-host-s2.json")
    warm = solve(inst, "h2h_plus")
    res = solve(inst, "lns", SolveParams(seed=0, options={"neighbourhoods": 2, "relax_time": 0,
                                                          "polish": 0, "mip_bound": False}))
    assert res.bound == warm.bound and res.info["bound_source"] == warm.info["bound_source"]


@pytest.mark.slow
def test_lns_relaxation_bound_never_above_the_proven_optima_of_the_small_suite():
    import numpy as np
    from ortools.sat.python import cp_model

    from h2h_opt import Decision
    from h2h_opt.solvers.exact.cpmodel import SatModel
    from h2h_opt.solvers.exact.lns import LnsSolver

    rows = [json.loads(line) for line in
            (ROOT / "results/small_run/results.jsonl").read_text().splitlines()]
    optima = {r["instance_file"]: r["latency_s"] for r in rows if r["status"] == "optimal"}
    stronger = 0
    for path, best in sorted(optima.items()):
        inst = read_instance(ROOT / path)
        base = SatModel(inst, compile_tables(inst))
        dec = Decision.from_schedule(inst, solve(inst, "h2h_plus").schedule)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.max_deterministic_time = 2.0
        solver.parameters.linearization_level = 2
        bound, mapped = LnsSolver._relaxation(base, dec, solver)
        assert bound is not None and bound <= best * (1 + 1e-9), (path, bound, best)
        assert mapped is not None and np.all(mapped.x >= 0)
        stronger += bound > lower_bound(inst, compile_tables(inst)).value
    assert stronger >= 1  # it is worth running


def test_load_and_precedence_together_beat_each_alone():
    """A chain L0 -> L1 (1 s on fast, 1.5 s on slow) and two layers only fast runs (1 s
    each).  Critical path 2 s; load LP 2.4 s (fast 2 + y, slow 1.5 (2 - y)); together the
    chain's share on slow lengthens it: T >= max(2 + y, 3 - y/2) = 8/3 s at y = 2/3.  The
    optimum is 3 s (one chain layer on slow, or both)."""
    layers = {"L0": {}, "L1": {}, "A": {"op": "y"}, "B": {"op": "y"}}
    inst = table_instance(layers, [("L0", "L1", 0.0)], {"fast": {}, "slow": {}},
                          {"fast": {"L0": 1.0, "L1": 1.0, "A": 1.0, "B": 1.0},
                           "slow": {"L0": 1.5, "L1": 1.5}})
    comm = CommModel(inst, compile_tables(inst))
    assert critical_path_bound(comm) == pytest.approx(2.0)
    assert load_bound(comm) == pytest.approx(2.4, rel=1e-5)
    assert load_path_bound(comm) == pytest.approx(8 / 3, rel=1e-5)
    lb = lower_bound(inst, compile_tables(inst))
    assert lb.source == ("load, residency, transfer, precedence, head-tail and span"
                         " relaxation (LP, HiGHS)")
    assert lb.value <= brute_force(inst) * (1 + 1e-9) and brute_force(inst) == pytest.approx(3.0)


def test_head_tail_rows_beat_load_and_precedence_on_a_fork_join():
    """Four independent layers of 1 s feed a fusion layer of 1 s, on two identical
    accelerators.  Critical path 2 s, load 2.5 s, load and precedence still 2.5 s (the
    fractional starts let the fusion overlap the branches).  The four branch layers
    have a tail of 1 s, so they run inside [0, T - 1] and each accelerator carries two
    of them: T >= 1 + 2 = 3 s, which is the optimum."""
    layers = {f"B{i}": {} for i in range(4)} | {"F": {}}
    edges = [(f"B{i}", "F", 0.0) for i in range(4)]
    times = {lid: 1.0 for lid in layers}
    inst = table_instance(layers, edges, {"a0": {}, "a1": {}}, {"a0": times, "a1": times})
    comm = CommModel(inst, compile_tables(inst))
    head, tail = heads_tails(comm)
    assert head.tolist() == [0, 0, 0, 0, 1] and tail.tolist() == [1, 1, 1, 1, 0]
    assert critical_path_bound(comm) == pytest.approx(2.0)
    assert load_path_bound(comm, windows=False, spans=False) == pytest.approx(2.5, rel=1e-5)
    assert load_path_bound(comm) == pytest.approx(3.0, rel=1e-5)
    lb = lower_bound(inst, compile_tables(inst))
    assert lb.source.startswith("load, residency, transfer, precedence, head-tail")
    assert lb.value == pytest.approx(brute_force(inst), rel=1e-5)


@pytest.mark.parametrize("comm", ["host", "p2p"])
def test_head_tail_rows_stay_below_the_optimum_with_transfers(comm):
    """A fork-join with weights, activations, memory limits and (p2p) link delays: the
    rows raise the LP (host 3.08 -> 3.39 s, p2p 2.30 -> 2.50 s), the transfers and
    residency the mapping decides raise it further (host 4.26 s, p2p 2.73 s), and all
    stay below the brute-force optimum (6.625 s, 4.5 s)."""
    from h2h_opt.model import Links

    layers = {f"B{i}": {"W": 4.0, "O": 6.0, "I": 2.0} for i in range(4)} | {
        "F": {"W": 2.0, "O": 1.0}}
    edges = [(f"B{i}", "F", None) for i in range(4)]
    accs = {"a0": {"B": 4.0, "eps": 0.1, "P": 1.0, "cap": 10.0},
            "a1": {"B": 8.0, "eps": 0.2, "P": 2.0, "cap": 6.0}}
    times = {"a0": {"B0": 1.0, "B1": 1.5, "B2": 1.0, "B3": 2.0, "F": 1.0},
             "a1": {"B0": 2.0, "B1": 1.0, "B2": 1.5, "B3": 1.0, "F": 0.5}}
    links = Links(((float("inf"), 4.0), (2.0, float("inf"))), ((0.0, 0.5), (0.25, 0.0)),
                  ((0.0, 0.3), (0.7, 0.0))) if comm == "p2p" else None
    inst = table_instance(layers, edges, accs, times, links=links, comm=comm,
                          locality="same_accelerator")
    comm_model = CommModel(inst, compile_tables(inst))
    plain = load_path_bound(comm_model, windows=False, residency=False, transfers=False,
                            spans=False)
    rows = load_path_bound(comm_model, residency=False, transfers=False, spans=False)
    full = load_path_bound(comm_model)
    assert rows > plain * 1.05
    assert full > rows * 1.05
    assert full <= brute_force(inst) * (1 + 1e-9)
    assert lower_bound(inst, compile_tables(inst)).value == pytest.approx(full)


def _diamond(**options):
    """U -> A, U -> B, A -> J, B -> J (host): all on a0 takes 2 + 1 + 1 + 1 = 5 s (B's
    weights fit a0's memory, no transfer), the optimum; a layer moved to a1 runs longer
    there and makes transfers."""
    layers = {"U": {}, "A": {"O": 1.0}, "B": {"O": 2.0, "W": 2.0}, "J": {}}
    edges = [("U", "A", None), ("U", "B", None), ("A", "J", None), ("B", "J", None)]
    accs = {"a0": {"B": 1.0, "cap": 2.0}, "a1": {"B": 1.0}}
    times = {"a0": {"U": 2.0, "A": 1.0, "B": 1.0, "J": 1.0},
             "a1": {"U": 3.0, "A": 1.0, "B": 2.0, "J": 3.0}}
    return table_instance(layers, edges, accs, times, locality="same_accelerator", **options)


def test_span_sets_skip_chains():
    """On the diamond: U's descendants, J's ancestors and the branches between U and J
    (E5); the sets of one layer or of one chain (A's descendants {J}, ...) add nothing to
    the precedence rows and are left out; a chain has none at all."""
    comm = CommModel(_diamond(), compile_tables(_diamond()))
    u, a, b, j = 0, 1, 2, 3
    assert sorted(_span_sets(comm, 1), key=str) == sorted(
        [(u, None, [a, b, j]), (None, j, [u, a, b]), (u, j, [a, b])], key=str)
    chain = chain_instance(4)
    assert _span_sets(CommModel(chain, compile_tables(chain)), 1) == []


def test_span_rows_close_the_diamond():
    """The LP without span rows spreads the layers over both accelerators (32/7 s); the
    span rows charge the busy times the mapping decides between U's end and J's start
    on each accelerator, and reach the optimum, 5 s (brute force)."""
    inst = _diamond()
    comm = CommModel(inst, compile_tables(inst))
    assert load_path_bound(comm, spans=False) == pytest.approx(32 / 7, rel=1e-5)
    assert load_path_bound(comm) == pytest.approx(5.0, rel=1e-5)
    assert brute_force(inst) == pytest.approx(5.0)
    assert lower_bound(inst, compile_tables(inst)).source.endswith(
        "head-tail and span relaxation (LP, HiGHS)")


def test_the_mapping_mip_takes_the_span_rows_where_they_raise_the_lp():
    """MappingBound solves the LP with and without the span rows and keeps them only
    where they raise it by SPAN_MIP_GAIN: on the diamond (32/7 -> 5 s) they are in and
    the MIP proves the optimum, 5 s (brute force); on a chain (no span set) they are
    out; ``spans=False`` leaves them out whatever they gain."""
    inst = _diamond()
    tables = compile_tables(inst)
    auto = MappingBound(inst, tables, 10.0)
    lb = auto.result(wait=True)
    assert auto.spans and lb is not None and "span" in lb.source
    assert lb.value == pytest.approx(5.0, rel=1e-4)
    assert lb.value <= brute_force(inst) * (1 + 1e-9)
    off = MappingBound(inst, tables, 10.0, spans=False)
    lb = off.result(wait=True)
    assert not off.spans and lb is not None and "span" not in lb.source
    chain = chain_instance(3)
    plain = MappingBound(chain, compile_tables(chain), 10.0)
    assert plain.result(wait=True) is not None and not plain.spans
    known = MappingBound(inst, tables, 10.0, lp=lower_bound(inst, tables))  # (one LP less)
    assert known.result(wait=True) is not None and known.spans


def test_the_span_rows_must_raise_the_lp_by_the_gain(monkeypatch):
    """With the gain asked at 10 %, the diamond's 9.4 % (32/7 -> 5 s) is not enough."""
    from h2h_opt.solvers import bounds

    monkeypatch.setattr(bounds, "SPAN_MIP_GAIN", 0.1)
    inst = _diamond()
    mip = MappingBound(inst, compile_tables(inst), 10.0)
    assert mip.result(wait=True) is not None and not mip.spans


def test_a_mapping_mip_stopped_while_it_chooses_its_rows_starts_no_search(monkeypatch):
    """A stop while the thread solves the first LP that chooses the rows: the second LP
    and the MIP never start, the result is None (nothing proved), and no thread is
    left behind."""
    import threading

    from h2h_opt.solvers import bounds

    entered, release, calls = threading.Event(), threading.Event(), []
    real = bounds.load_path_bound

    def blocking(*a, **k):
        calls.append(1)
        entered.set()
        release.wait(10.0)
        return real(*a, **k)

    monkeypatch.setattr(bounds, "load_path_bound", blocking)
    inst = _diamond()
    mip = MappingBound(inst, compile_tables(inst), 60.0)
    assert entered.wait(10.0)
    threading.Timer(0.3, release.set).start()
    assert mip.result() is None and not mip.running
    assert len(calls) == 1 and not mip.spans
    assert not any(t.name == "mapping-bound" and t.is_alive() for t in threading.enumerate())


def test_span_rows_raise_a_residual_backbone():
    """driving on hetero2 at 1.25 GB/s (a backbone of residual blocks, paper suite): the
    span rows raise the cheap bound by more than 4 %, and it stays below the best
    latency any run found (results/paper_lns_v9, 0.340437 s)."""
    inst = read_instance(ROOT / "instances/paper/driving-hetero2-1.25GBps.json")
    comm = CommModel(inst, compile_tables(inst))
    without = load_path_bound(comm, spans=False)
    with_spans = load_path_bound(comm)
    assert with_spans > 1.04 * without
    assert with_spans <= 0.340437


def test_residency_that_does_not_fit_is_paid_for():
    """Two independent layers of 1 s, each with 4 bytes of weights, on one accelerator
    that holds 4 bytes at 1 byte/s: one of them loads its weights (E2, E9), so the
    optimum is 1 + 1 + 4 = 6 s.  Least busy times (each resident) give 2 s; the
    knapsack row on the resident shares gives 6 s."""
    layers = {"L0": {"W": 4.0}, "L1": {"W": 4.0}}
    inst = table_instance(layers, [], {"a0": {"B": 1.0, "cap": 4.0}},
                          {"a0": {"L0": 1.0, "L1": 1.0}})
    comm = CommModel(inst, compile_tables(inst))
    assert load_path_bound(comm, residency=False, transfers=False) == pytest.approx(2.0, rel=1e-5)
    assert load_path_bound(comm, transfers=False) == pytest.approx(6.0, rel=1e-5)
    assert brute_force(inst) == pytest.approx(6.0)


def test_transfers_a_mapping_decides_are_paid_for_under_host():
    """``L0 -> L1`` (1 byte) and ``M``, 1 s each at 1 byte/s; ``L0`` and ``M`` run only
    on ``a0``.  ``L1`` on ``a0`` makes ``a0`` busy 3 s; on ``a1`` ``L1`` reads (E3, a
    term no mapping avoids there) and ``L0`` writes (E4, which the mapping decides):
    the chain takes 4 s.  The optimum is 3 s.  With least busy times the LP puts half
    of ``L1`` on ``a1``: ``a0`` carries 2.5 s and the chain 1 + 1.5 s.  With the
    write share ``w >= x[L1,a1]`` on ``a0``, moving ``L1`` costs ``a0`` what it saves:
    3 s."""
    layers = {"L0": {"O": 1.0}, "L1": {"op": "y"}, "M": {"op": "m"}}
    inst = table_instance(layers, [("L0", "L1", 1.0)], {"a0": {"B": 1.0}, "a1": {"B": 1.0}},
                          {"a0": {"L0": 1.0, "L1": 1.0, "M": 1.0}, "a1": {"L1": 1.0}},
                          comm="host", locality="same_accelerator")
    comm = CommModel(inst, compile_tables(inst))
    assert load_path_bound(comm, residency=False, transfers=False) == pytest.approx(2.5, rel=1e-5)
    assert load_path_bound(comm) == pytest.approx(3.0, rel=1e-5)
    assert brute_force(inst) == pytest.approx(3.0)


def test_link_delays_a_mapping_decides_are_paid_for_under_p2p():
    """The same shape under p2p with a 1 s delay either way: ``L1`` on ``a1`` waits
    for the delay (E7), 1 + 1 + 1 = 3 s, as much as on ``a0``.  Without the delay the
    LP moves ``L1`` to ``a1`` for 2 s; with ``s_L1 >= f_L0 + 1·(1 - c)``,
    ``c <= x[L0,a], x[L1,a]`` (the share on a common accelerator) half of ``L1`` on
    ``a1`` costs the chain half the delay: 2.5 s (``a0`` carries 2.5 s)."""
    from h2h_opt.model import Links

    layers = {"L0": {"O": 1.0}, "L1": {"op": "y"}, "M": {"op": "m"}}
    links = Links(((float("inf"), 1.0), (1.0, float("inf"))), ((0.0, 0.0), (0.0, 0.0)),
                  ((0.0, 0.0), (0.0, 0.0)))
    inst = table_instance(layers, [("L0", "L1", 1.0)], {"a0": {}, "a1": {}},
                          {"a0": {"L0": 1.0, "L1": 1.0, "M": 1.0}, "a1": {"L1": 1.0}},
                          links=links, comm="p2p")
    comm = CommModel(inst, compile_tables(inst))
    assert load_path_bound(comm, residency=False, transfers=False) == pytest.approx(2.0, rel=1e-5)
    assert load_path_bound(comm) == pytest.approx(2.5, rel=1e-5)
    assert brute_force(inst) == pytest.approx(3.0)


def test_head_tail_rows_are_thinned_to_their_budget(monkeypatch):
    """A chain of 60 layers has 60 distinct heads and tails; with a budget of a few
    sets the rows are thinned evenly and the bound stays valid (the chain's length)."""
    import h2h_opt.solvers.bounds as bounds

    n = 60
    layers = {f"L{i}": {} for i in range(n)}
    edges = [(f"L{i}", f"L{i + 1}", 0.0) for i in range(n - 1)]
    times = {lid: 1.0 for lid in layers}
    inst = table_instance(layers, edges, {"a0": {}, "a1": {}}, {"a0": times, "a1": times})
    comm = CommModel(inst, compile_tables(inst))
    full = bounds._window_sets(comm, 1)
    monkeypatch.setattr(bounds, "WINDOW_NONZEROS", 10 * n)
    thin = bounds._window_sets(comm, 1)
    assert len(full) > 100 and 2 <= len(thin) < len(full)
    assert sum(len(s) for _, s in thin) <= 10 * n + n
    assert thin[0][0] == full[0][0] and thin[-1][0] == full[-1][0]
    import numpy as np

    for rq, layers in thin:  # each kept set is exactly its thresholds' layers
        assert any(rq == r and np.array_equal(layers, s) for r, s in full)


def test_the_memory_and_transfer_rows_are_left_out_above_their_sizes(monkeypatch):
    """``lower_bound`` takes the transfer rows up to ``TRANSFER_PAIRS`` runnable pairs
    and the memory rows up to ``RESIDENCY_PAIRS``; above them, the LP without (the
    residency example: 6 s with the memory rows, 2 s without)."""
    import h2h_opt.solvers.bounds as bounds

    layers = {"L0": {"W": 4.0}, "L1": {"W": 4.0}}
    inst = table_instance(layers, [], {"a0": {"B": 1.0, "cap": 4.0}},
                          {"a0": {"L0": 1.0, "L1": 1.0}})
    tables = compile_tables(inst)
    full = lower_bound(inst, tables)
    assert full.value == pytest.approx(6.0, rel=1e-5) and "transfer" in full.source
    monkeypatch.setattr(bounds, "TRANSFER_PAIRS", 1)
    memory = lower_bound(inst, tables)
    assert memory.value == pytest.approx(6.0, rel=1e-5)
    assert "residency" in memory.source and "transfer" not in memory.source
    monkeypatch.setattr(bounds, "RESIDENCY_PAIRS", 1)
    plain = lower_bound(inst, tables)
    assert plain.value == pytest.approx(2.0, rel=1e-5) and "residency" not in plain.source


def _three_on_two():
    """Three independent layers of 1 s on two identical accelerators: the LP splits
    them, 1.5 s each; any 0/1 mapping puts two on one accelerator, 2 s."""
    layers = {f"L{i}": {} for i in range(3)}
    times = {lid: 1.0 for lid in layers}
    return table_instance(layers, [], {"a0": {}, "a1": {}}, {"a0": times, "a1": times},
                          tick_s=1e-3)


def test_the_mapping_mip_is_above_the_lp_where_the_lp_splits_layers():
    inst = _three_on_two()
    tables = compile_tables(inst)
    assert lower_bound(inst, tables).value == pytest.approx(1.5, rel=1e-5)
    mip = MappingBound(inst, tables, 5.0).result(wait=True)
    assert mip is not None and mip.value == pytest.approx(2.0, rel=1e-5)
    assert mip.value <= 2.0 and "0/1 mapping" in mip.source


@pytest.mark.parametrize("builder", [chain_instance, fork_instance])
@pytest.mark.parametrize("comm", ["host", "p2p"])
def test_the_mapping_mip_never_above_the_brute_force_optimum(builder, comm):
    inst = builder(comm=comm) if builder is fork_instance else builder(3, comm=comm)
    mip = MappingBound(inst, compile_tables(inst), 5.0).result(wait=True)
    assert mip is not None and 0 < mip.value <= brute_force(inst) * (1 + 1e-9)


def test_the_mapping_mip_never_above_the_proven_optima_of_the_small_suite():
    optima = _small_optima()
    above_lp = 0
    for path, best in sorted(optima.items()):
        inst = read_instance(ROOT / path)
        tables = compile_tables(inst)
        mip = MappingBound(inst, tables, 2.0).result(wait=True)
        if mip is not None:  # (none if its root LP did not end in time)
            assert mip.value <= best * (1 + 1e-9), (path, mip, best)
            above_lp += mip.value > lower_bound(inst, tables).value * (1 + 1e-4)
    assert above_lp >= len(optima) // 3  # worth running


def test_a_warm_started_solve_solves_the_cheap_lp_once(monkeypatch):
    """The first warm start's cheap bound goes to the next warm start and to the solver:
    the facade hands it over (``SolveParams.known_bound``) instead of solving it again
    (lns starts from the better of heft and h2h_plus; cpsat floors its makespan with
    it)."""
    from h2h_opt.solvers import bounds

    calls = []
    real = bounds.load_path_bound
    monkeypatch.setattr(bounds, "load_path_bound",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    inst = read_instance(ROOT / "instances/small/random-n20-a4-host-s2.json")
    lns = solve(inst, "lns", SolveParams(time_limit_s=20, seed=0, options={
        "neighbourhoods": 2, "relax_time": 0, "polish": 0, "mip_bound": False}))
    assert len(calls) == 1 and lns.info["warm_start_from"] in ("heft", "h2h_plus")
    cpsat = solve(inst, "cpsat", SolveParams(time_limit_s=20, seed=0))
    assert len(calls) == 2
    assert cpsat.info["cheap_bound"]["value_s"] == lns.bound


def test_a_stopped_mapping_mip_returns_what_it_proved_so_far():
    """Stopped after 3 s of a minute, the MIP returns within seconds with its bound so
    far: about the LP's (its root) or more, below the best latency known (face_antispoof on
    hetero8 at 0.125 GB/s: 7.137 ms, results/lns_paper_v7.md); it is read once, and as
    a context manager it never outlives its block."""
    import threading
    import time

    inst = read_instance(ROOT / "instances/paper/face_antispoof-hetero8-0.125GBps.json")
    tables = compile_tables(inst)
    lp = lower_bound(inst, tables).value
    t0 = time.perf_counter()
    mip = MappingBound(inst, tables, 60.0, spans=False)  # (its root LP begins at once)
    time.sleep(3.0)
    assert mip.running
    lb = mip.result()
    assert time.perf_counter() - t0 < 20 and not mip.running
    # (its root: the LP's value, less a larger allowance for HiGHS's MIP tolerance)
    assert lb is not None and 0.999 * lp <= lb.value <= 0.00713706
    assert mip.result() is None
    with pytest.raises(KeyError), MappingBound(inst, tables, 60.0):
        raise KeyError("a search fails beside it")
    assert not any(t.name == "mapping-bound" and t.is_alive() for t in threading.enumerate())


def test_standard_output_goes_to_standard_error_while_the_mip_runs(capfd):
    """HiGHS 1.12 may print a debug line from its branch and bound to the C standard
    output; while the MIP runs, file descriptor 1 points at 2, so ``--json`` output
    stays JSON and the line is not lost.  Afterwards standard output is back."""
    import os

    inst = read_instance(ROOT / "instances/paper/face_antispoof-hetero8-0.125GBps.json")
    mip = MappingBound(inst, compile_tables(inst), 30.0)
    os.write(1, b"a stray line\n")
    mip.result()
    os.write(1, b"after\n")
    out, err = capfd.readouterr()
    assert "a stray line" in err and "a stray line" not in out
    assert "after" in out
