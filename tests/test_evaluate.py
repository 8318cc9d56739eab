"""The evaluator against hand-computed numbers (SPEC E2-E11) and one test per violation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import chain_instance, table_instance

from h2h_opt.evaluate import evaluate
from h2h_opt.library.zoo import reference_example
from h2h_opt.model import Links, ModelError
from h2h_opt.schedule import Schedule
from h2h_opt.timing import ScheduleCycleError, asap

# --------------------------------------------------------------------------- host model

# A -> B, A -> C.  a0: B=10 B/s, eps=0.1 J/B, P=1 W; a1: B=5, eps=0.2, P=2.
LAYERS = {
    "A": {"W": 20.0, "O": 10.0, "I": 30.0},
    "B": {"W": 10.0, "O": 5.0},
    "C": {"W": 0.0, "O": 4.0},
}
EDGES = [("A", "B", 10.0), ("A", "C", 8.0)]
ACCS = {"a0": {"B": 10.0, "eps": 0.1, "P": 1.0}, "a1": {"B": 5.0, "eps": 0.2, "P": 2.0}}
TIMES = {"a0": {"A": 1.0, "B": 3.0, "C": 2.0}, "a1": {"A": 2.0, "B": 1.0, "C": 2.0}}


def host_instance(**options):
    return table_instance(LAYERS, EDGES, ACCS, TIMES, **options)


def test_host_same_accelerator_e2_e5_e10_e11():
    inst = host_instance(comm="host", locality="same_accelerator")
    s = asap(inst, {"A": "a0", "B": "a0", "C": "a1"}, {"A": True},
             {"a0": ("A", "B"), "a1": ("C",)})
    ev = evaluate(inst, s)
    assert ev.feasible, ev.violations
    # L(A) = t 1 + weights 0 (resident, E2) + read I_A 30/10 (E3) + write O_A 10/10 (E4: C remote)
    # L(B) = 3 + 10/10 + 0 (A->B local) + 5/10 (sink) ; L(C) = 2 + 0 + 8/5 + 4/5
    np.testing.assert_allclose(ev.durations.busy, [5.0, 4.5, 4.4])
    np.testing.assert_allclose(ev.start, [0.0, 5.0, 5.0])  # E5: after f(A)
    assert ev.latency == pytest.approx(9.5)  # E10
    # E11: compute P*t = 1 + 3 + 4; transfers 0.1*(30+10) + 0.1*(10+5) + 0.2*(8+4)
    assert ev.energy == pytest.approx(8.0 + 4.0 + 1.5 + 2.4)


def test_host_all_local_drops_writes_and_reads():
    inst = host_instance(comm="host", locality="same_accelerator")
    s = asap(inst, {"A": "a0", "B": "a0", "C": "a0"}, {},
             {"a0": ("A", "C", "B")})
    ev = evaluate(inst, s)
    # A: 1 + 20/10 + 30/10 + 0 (both succs local) = 6; C: 2 + 0 + 0 + 4/10; B: 3 + 1 + 0 + 0.5
    np.testing.assert_allclose(ev.durations.busy, [6.0, 4.5, 2.4])
    assert ev.latency == pytest.approx(6.0 + 2.4 + 4.5)


def test_host_adjacent_locality_depends_on_order():
    inst = host_instance(comm="host", locality="adjacent")
    s = asap(inst, {"A": "a0", "B": "a0", "C": "a0"}, {}, {"a0": ("A", "C", "B")})
    ev = evaluate(inst, s)
    # A->C adjacent (local), A->B not (C in between): A writes O_A, B reads d_AB.
    # A: 1 + 2 + 3 + 1 = 7; C: 2 + 0 + 0 + 0.4 = 2.4; B: 3 + 1 + 10/10 + 0.5 = 5.5
    np.testing.assert_allclose(ev.durations.busy, [7.0, 5.5, 2.4])
    assert ev.latency == pytest.approx(7.0 + 2.4 + 5.5)
    np.testing.assert_allclose(ev.durations.in_bytes, [30.0, 10.0, 0.0])
    # the other order makes A->B local and A->C remote
    s2 = asap(inst, {"A": "a0", "B": "a0", "C": "a0"}, {}, {"a0": ("A", "B", "C")})
    ev2 = evaluate(inst, s2)
    np.testing.assert_allclose(ev2.durations.busy, [7.0, 4.5, 2.0 + 0.8 + 0.4])


def test_locality_none_pays_everything_and_is_allowed():
    inst = host_instance(comm="host", locality="adjacent")
    s = asap(inst, {"A": "a0", "B": "a0", "C": "a0"}, {}, {"a0": ("A", "B", "C")},
             locality="none")
    ev = evaluate(inst, s)
    assert ev.feasible and ev.locality == "none"
    # every layer pays L_full: A 1+2+3+1, B 3+1+1+0.5, C 2+0+0.8+0.4
    np.testing.assert_allclose(ev.durations.busy, [7.0, 5.5, 3.2])
    assert ev.latency == pytest.approx(15.7)


def test_energy_objective_and_lex():
    inst = host_instance(objective="energy")
    s = asap(inst, {"A": "a0", "B": "a0", "C": "a1"}, {"A": True},
             {"a0": ("A", "B"), "a1": ("C",)})
    ev = evaluate(inst, s)
    assert ev.objective == pytest.approx(15.9)
    inst_lex = host_instance(objective="lex")
    ev_lex = evaluate(inst_lex, s)
    assert ev_lex.objective == pytest.approx((9.5, 15.9))


def test_explicit_energy_table_replaces_power_times_time():
    energies = {"a0": {"A": 0.5, "B": 0.25, "C": 7.0}, "a1": {"A": 1.0, "B": 1.0, "C": 1.0}}
    inst = table_instance(LAYERS, EDGES, ACCS, TIMES, energies=energies)
    s = asap(inst, {"A": "a0", "B": "a0", "C": "a1"}, {"A": True},
             {"a0": ("A", "B"), "a1": ("C",)})
    assert evaluate(inst, s).energy == pytest.approx(0.5 + 0.25 + 1.0 + 4.0 + 1.5 + 2.4)


# --------------------------------------------------------------------------- p2p model


def p2p_instance(**options):
    links = Links(bandwidth_bps=((math.inf, 2.0), (4.0, math.inf)),
                  latency_s=((0.0, 0.5), (0.25, 0.0)),
                  energy_jpb=((0.0, 0.3), (0.7, 0.0)))
    return table_instance(LAYERS, EDGES, ACCS, TIMES, links=links, comm="p2p", **options)


def test_p2p_e6_e7_delays_and_energy():
    inst = p2p_instance()
    s = asap(inst, {"A": "a0", "B": "a0", "C": "a1"}, {"B": True},
             {"a0": ("A", "B"), "a1": ("C",)})
    ev = evaluate(inst, s)
    assert ev.feasible
    # E6: L = t + (1-r) W / B_a: A 1 + 2 = 3, B 3 + 0 = 3, C 2 + 0 = 2
    np.testing.assert_allclose(ev.durations.busy, [3.0, 3.0, 2.0])
    # E7: A->C crosses a0->a1: c = 0.5 + 8/2 = 4.5, so C starts at 3 + 4.5
    np.testing.assert_allclose(ev.start, [0.0, 3.0, 7.5])
    assert ev.latency == pytest.approx(9.5)
    # E11 p2p: compute 1+3+4, weights 0.1*20 (A) + 0 (B resident) + 0.2*0, link 0.3*8
    assert ev.energy == pytest.approx(8.0 + 2.0 + 2.4)


def test_p2p_without_links_has_zero_delays():
    inst = table_instance(LAYERS, EDGES, ACCS, TIMES, comm="p2p")
    s = asap(inst, {"A": "a0", "B": "a0", "C": "a1"}, {},
             {"a0": ("A", "B"), "a1": ("C",)})
    ev = evaluate(inst, s)
    np.testing.assert_allclose(ev.start, [0.0, 3.0, 3.0])


def test_p2p_precedence_with_delay_is_checked():
    inst = p2p_instance()
    s = Schedule("tiny", {"A": "a0", "B": "a0", "C": "a1"}, {"A": 0.0, "B": 3.0, "C": 5.0},
                 {"a0": ("A", "B"), "a1": ("C",)})
    ev = evaluate(inst, s)
    assert ev.kinds() == {"precedence"}
    assert ev.violations[0].layers == ("A", "C")
    assert "delay 4.5" in ev.violations[0].message


# --------------------------------------------------------------------------- violations


def good_schedule(inst):
    return asap(inst, {"A": "a0", "B": "a0", "C": "a1"}, {"A": True},
                {"a0": ("A", "B"), "a1": ("C",)})


def with_(s, **changes):
    fields = {"instance": s.instance, "mapping": s.mapping, "start": s.start, "orders": s.orders,
              "residency": s.residency, "locality": s.locality}
    fields.update(changes)
    return Schedule(**fields)


def test_violation_unknown_layer():
    inst = host_instance()
    s = good_schedule(inst)
    bad = with_(s, mapping={**s.mapping, "Z": "a0"}, start={**s.start, "Z": 0.0})
    ev = evaluate(inst, bad)
    assert not ev.feasible and ev.kinds() == {"unknown_layer"}
    assert ev.violations[0].layers == ("Z",)


def test_violation_missing_layer():
    inst = host_instance()
    s = good_schedule(inst)
    ev = evaluate(inst, with_(s, mapping={"A": "a0", "B": "a0"}))
    assert ev.kinds() == {"missing_layer"} and ev.violations[0].layers == ("C",)
    assert math.isnan(ev.latency)


def test_violation_unknown_accelerator():
    inst = host_instance()
    s = good_schedule(inst)
    ev = evaluate(inst, with_(s, mapping={**s.mapping, "C": "gpu9"}))
    assert ev.kinds() == {"unknown_accelerator"}
    assert ev.violations[0].accelerator == "gpu9" and ev.violations[0].layers == ("C",)


def test_violation_infeasible_pair():
    times = {"a0": {"A": 1.0, "B": 3.0, "C": 2.0}, "a1": {"A": 2.0, "C": 2.0}}
    layers = {**LAYERS, "B": {**LAYERS["B"], "op": "y"}}
    inst = table_instance(layers, EDGES, ACCS, times)
    s = good_schedule(inst)
    ev = evaluate(inst, with_(s, mapping={**s.mapping, "B": "a1"},
                              orders={"a0": ("A",), "a1": ("B", "C")}))
    assert ev.kinds() == {"infeasible_pair"}
    assert ev.violations[0].layers == ("B",) and ev.violations[0].accelerator == "a1"


def test_violation_order():
    inst = host_instance()
    s = good_schedule(inst)
    ev = evaluate(inst, with_(s, orders={"a0": ("A",), "a1": ("C", "B")}))
    assert "order" in ev.kinds()
    assert any(v.layers == ("B",) for v in ev.violations if v.kind == "order")


def test_violation_start():
    inst = host_instance()
    s = good_schedule(inst)
    ev = evaluate(inst, with_(s, start={**s.start, "A": -1.0, "B": 4.0}))
    assert "start" in ev.kinds()
    assert [v.layers for v in ev.violations if v.kind == "start"] == [("A",)]


def test_violation_overlap():
    inst = host_instance()
    s = good_schedule(inst)
    # B on a0 starts while A (busy 5 s) still runs
    ev = evaluate(inst, with_(s, start={**s.start, "B": 4.0}))
    assert "overlap" in ev.kinds()
    ov = [v for v in ev.violations if v.kind == "overlap"][0]
    assert ov.layers == ("A", "B") and ov.accelerator == "a0"


def test_violation_precedence():
    inst = host_instance()
    s = good_schedule(inst)
    ev = evaluate(inst, with_(s, start={**s.start, "C": 4.9}))
    assert ev.kinds() == {"precedence"}
    assert ev.violations[0].layers == ("A", "C")


def test_violation_memory_e9():
    accs = {"a0": {**ACCS["a0"], "cap": 25.0}, "a1": ACCS["a1"]}
    inst = table_instance(LAYERS, EDGES, accs, TIMES)
    s = asap(inst, {"A": "a0", "B": "a0", "C": "a1"}, {"A": True, "B": True},
             {"a0": ("A", "B"), "a1": ("C",)})
    ev = evaluate(inst, s)
    assert ev.kinds() == {"memory"}
    assert ev.violations[0].accelerator == "a0" and set(ev.violations[0].layers) == {"A", "B"}
    ok = asap(inst, {"A": "a0", "B": "a0", "C": "a1"}, {"A": True},
              {"a0": ("A", "B"), "a1": ("C",)})
    assert evaluate(inst, ok).feasible  # 20 <= 25


def test_violation_locality():
    inst = host_instance(locality="adjacent")
    s = good_schedule(inst)
    ev = evaluate(inst, with_(s, locality="same_accelerator"))
    assert "locality" in ev.kinds()


def test_asap_names_the_cycle():
    inst = host_instance()
    with pytest.raises(ScheduleCycleError, match=r"cycle .*A.*B"):
        asap(inst, {"A": "a0", "B": "a0", "C": "a1"}, {}, {"a0": ("B", "A"), "a1": ("C",)})


def test_asap_rejects_inconsistent_orders():
    inst = host_instance()
    with pytest.raises(ModelError, match="'B'"):
        asap(inst, {"A": "a0", "B": "a0", "C": "a1"}, {}, {"a0": ("A",), "a1": ("C", "B")})


# --------------------------------------------------------------------------- reference


def test_reference_serial_schedule_is_sum_of_full_latencies():
    """SPEC §8, 1 accelerator at 1.25 GB/s: back to back, everything paid."""
    inst = reference_example(1, 1.25)
    ids = [layer.id for layer in inst.workload.layers]
    s = asap(inst, dict.fromkeys(ids, "cnn_acc_1"), {}, {"cnn_acc_1": tuple(ids)},
             locality="none")
    ev = evaluate(inst, s)
    assert ev.feasible
    assert round(ev.latency, 4) == 0.7178
    assert round(ev.energy, 2) == 13.36
    from h2h_opt.comm import CommModel
    from h2h_opt.cost import compile_tables

    full = CommModel(inst, compile_tables(inst)).full_busy()
    assert ev.latency == pytest.approx(float(full[:, 0].sum()))
    # energy = P * sum L because eps = P / B (SPEC §5)
    assert ev.energy == pytest.approx(18.61 * ev.latency)


def test_asap_names_an_unknown_layer():
    inst = chain_instance(2)
    with pytest.raises(ModelError, match="unknown layer 'ZZZ'"):
        asap(inst, {"L1": "a0", "L2": "a0", "ZZZ": "a0"}, {}, {"a0": ("L1", "L2", "ZZZ")})
