"""Cost models (SPEC §2) and tick conversion (SPEC §6)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import chain_instance

from h2h_opt.comm import CommModel
from h2h_opt.cost import compile_tables, layer_numbers, to_ticks, zhang_fpga15_time
from h2h_opt.library.zoo import CNN_ACC_1, reference_example, zhang_accelerator
from h2h_opt.model import Accelerator, Instance, Layer, ModelError, Options, System, Workload


def test_e1_check_value():
    """SPEC §2.2: M=N=64, R=C=112, K=3 on cnn_acc_1 takes 0.021102 s."""
    p = {k: v for k, v in CNN_ACC_1.items() if k != "power_w"}
    t = zhang_fpga15_time(M=64, N=64, R=112, C=112, K=3, **p)
    assert f"{t:.5g}" == "0.021102"


def test_e1_by_hand_small_layer():
    # one tile in every dimension: t = (t_in + t_tile) + t_out
    t = zhang_fpga15_time(M=2, N=2, R=2, C=2, K=1, Tm=2, Tn=2, Tr=2, Tc=2, Tr_in=2, Tc_in=2,
                          Th_gops=1.0, f_mhz=1.0, port_bits=1.0, bits=1.0)
    tile = 2 * 2 * 2 * 2 * 2 * 1 / 1e9
    t_in = (2 * 2 + 2 * 2 * 2) / 1e6
    t_out = 2 * 2 * 2 / 1e6
    assert t == pytest.approx(t_in + tile + t_out)
    # ceil factors: R=3 needs two row tiles, N=3 two input-channel tiles
    t2 = zhang_fpga15_time(M=2, N=3, R=3, C=2, K=1, Tm=2, Tn=2, Tr=2, Tc=2, Tr_in=2, Tc_in=2,
                           Th_gops=1.0, f_mhz=1.0, port_bits=1.0, bits=1.0)
    assert t2 == pytest.approx(2 * (2 * (t_in + tile) + t_out))


def test_zhang_tables_use_power_for_energy():
    inst = reference_example(2, 1.25)
    tab = compile_tables(inst)
    assert tab.t.shape == (44, 2)
    np.testing.assert_allclose(tab.e[:, 0], 18.61 * tab.t[:, 0])
    np.testing.assert_allclose(tab.e[:, 1], 25.0 * tab.t[:, 1])
    assert not tab.t.flags.writeable  # read-only tables


def test_reference_byte_rule():
    """SPEC §8: a source reads N*2R*2C*b, an edge carries the consumer's whole input."""
    tab = compile_tables(reference_example(1, 1.25))
    assert tab.input_bytes[0] == 3 * 224 * 224 * 4
    assert tab.weight_bytes[0] == 9 * 3 * 64 * 4
    assert tab.output_bytes[0] == 64 * 112 * 112 * 4
    assert tab.edge_bytes[0] == 64 * 224 * 224 * 4  # M1L1 -> M1L2
    fused = compile_tables(reference_example(2, 1.25, fused=True))
    into = [k for k in range(len(fused.edge_dst))
            if fused.layer_ids[fused.edge_dst[k]] == "M1L13"]
    assert len(into) == 3
    assert all(fused.edge_bytes[k] == 128 * 28 * 28 * 4 for k in into)


@pytest.mark.parametrize(
    ("op", "shape", "macs", "w", "o", "i"),
    [
        ("conv", {"M": 8, "N": 4, "R": 5, "C": 5, "K": 3, "S": 1, "P": 1},
         8 * 4 * 25 * 9, 9 * 4 * 8, 8 * 25, 4 * 25),
        ("conv", {"M": 8, "N": 4, "R": 5, "C": 5, "K": 3, "S": 2, "P": 0},
         8 * 4 * 25 * 9, 9 * 4 * 8, 8 * 25, 4 * 11 * 11),
        ("dwconv", {"N": 6, "R": 4, "C": 4, "K": 3, "S": 1, "P": 1}, 6 * 16 * 9, 9 * 6, 6 * 16,
         6 * 16),
        ("fc", {"M": 10, "N": 20}, 200, 200, 10, 20),
        ("matmul", {"m": 2, "k": 3, "n": 4}, 24, 0, 8, 6 + 12),
        ("matmul", {"m": 2, "k": 3, "n": 4, "weights": True}, 24, 12, 8, 6),
        ("lstm", {"H": 4, "D": 2, "T": 3}, 3 * 4 * 4 * 6, 4 * 4 * 6, 12, 6),
        ("pool", {"N": 2, "R": 2, "C": 2, "K": 2, "S": 2}, 2 * 4 * 4, 0, 8, 2 * 16),
        ("eltwise", {"N": 2, "R": 3, "C": 3}, 18, 0, 18, 36),
    ],
)
def test_layer_numbers(op, shape, macs, w, o, i):
    b = 2
    n = layer_numbers(Layer("v", op, shape=shape), b)
    assert (n.macs, n.weight_bytes, n.output_bytes, n.input_bytes) == (macs, w * b, o * b, i * b)


def test_explicit_bytes_override_shape():
    layer = Layer("v", "fc", shape={"M": 10, "N": 20}, weight_bytes=7.0, output_bytes=0.0)
    n = layer_numbers(layer, 4)
    assert (n.weight_bytes, n.output_bytes, n.input_bytes) == (7.0, 0.0, 80.0)


def test_edge_bytes_default_to_producer_output():
    tab = compile_tables(chain_instance(3))
    np.testing.assert_array_equal(tab.edge_bytes, [4.0, 4.0])


def test_zhang_refuses_ops_it_cannot_cost():
    acc = Accelerator("a", frozenset({"lstm"}), {"kind": "zhang_fpga15", **{
        k: v for k, v in CNN_ACC_1.items() if k != "power_w"}})
    inst = Instance("x", Workload((Layer("l", "lstm", shape={"H": 2, "D": 2, "T": 1}),)),
                    System((acc,)))
    with pytest.raises(ModelError, match="cannot cost op 'lstm'"):
        compile_tables(inst)


def test_unknown_cost_model_kind():
    acc = Accelerator("a", frozenset({"x"}), {"kind": "magic"})
    inst = Instance("x", Workload((Layer("l", "x"),)), System((acc,)))
    with pytest.raises(ModelError, match="unknown cost_model kind 'magic'"):
        compile_tables(inst)


def test_to_ticks_rounds_up_but_not_float_noise():
    t = to_ticks(np.array([1.00001e-9, 3e-9, 0.3, 0.0, math.inf]), 1e-9)
    assert t.tolist() == [2, 3, 300_000_000, 0, -1]
    assert to_ticks(np.array([2.5, 3.0]), 1.0).tolist() == [3, 3]


def test_full_latency_matches_definition():
    inst = chain_instance(3)
    full = CommModel(inst, compile_tables(inst)).full_busy()
    # SPEC §7.1: L1 on a0: t 1 + (W 10 + I 8 + O 4)/2 ; L2 on a1: 0.5 + (20 + 4 + 4)/4
    assert full[0, 0] == pytest.approx(1 + 22 / 2)
    assert full[1, 1] == pytest.approx(0.5 + 28 / 4)


def test_zhang_accelerator_reference_energy_rule():
    acc = zhang_accelerator("x", CNN_ACC_1, 0.5)
    assert acc.host_bandwidth_bps == 0.5e9
    assert acc.link_energy_jpb == pytest.approx(18.61 / 0.5e9)
    assert Options().tick_s == 1e-9
