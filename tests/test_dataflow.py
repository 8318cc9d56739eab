"""The dataflow cost model (SPEC §2.3): calibration against MAESTRO's own runs, and
affinity — the cheapest dataflow of named layers of real networks, on equal hardware."""

from __future__ import annotations

from pathlib import Path

import pytest

from h2h_opt.cost import compile_tables
from h2h_opt.dataflow import (
    DATAFLOWS,
    DataflowHW,
    compare_with_maestro,
    conv_form,
    cycles_and_traffic,
)
from h2h_opt.library.backbones import BACKBONES, Net
from h2h_opt.library.zoo import mmmt_instance

MAESTRO = Path(__file__).parent / "data" / "maestro" / "costs.csv"


def test_calibration_against_maestro():
    rows, s = compare_with_maestro(MAESTRO)
    assert s["layers"] == 13 and s["rows"] == 51  # one flagged row left out
    assert s["fastest_agree"] == 13
    assert s["within_2x"] >= 50
    # the 1x1 rows that charged their partial sums twice are within 10 % of MAESTRO
    for r in rows:
        if r["layer"] == "mbv2_pw1x1_32_16_112" and r["dataflow"] in (
                "row_stationary", "output_stationary"):
            assert 0.9 <= r["ours"] / r["maestro"] <= 1.1


def test_partial_sums_from_the_loop_nest():
    """RS: a cluster's R PEs hand the partial sum on (read back and written); with R = 1
    each is written once.  OS: with an R×S window the partial sums go out and come back
    every (k, c) iteration; with a 1x1 kernel they stay and leave once per tile."""
    hw = {"pes": 256, "bw_elems": 1e-3, "buffer_elems": 3000.0}  # bandwidth-bound
    one = DataflowHW("row_stationary", **hw)
    _, t1 = cycles_and_traffic(conv_form("conv", {"M": 16, "N": 32, "R": 112, "C": 112,
                                                  "K": 1}), one)
    # per iteration: 16 weights + 112 input rows + 16 x 112 partial sums, written once
    assert t1 == 112 * 32 * (16 + 112 + 16 * 112)
    _, t3 = cycles_and_traffic(conv_form("conv", {"M": 16, "N": 32, "R": 84, "C": 112,
                                                  "K": 3}), one)
    # 84 output rows in one tile (up to 256 // 3 fit), 86 input rows
    assert t3 == 112 * 32 * (16 * 9 + 86 * 3 + 2 * 16 * 84)
    os_ = DataflowHW("output_stationary", **hw)
    _, o1 = cycles_and_traffic(conv_form("conv", {"M": 16, "N": 32, "R": 32, "C": 8,
                                                  "K": 1}), os_)
    assert o1 == pytest.approx(16 * 32 * (32 * 8 + 1 + 32 * 8 / 32))
    _, o3 = cycles_and_traffic(conv_form("conv", {"M": 16, "N": 32, "R": 32, "C": 8,
                                                  "K": 3, "P": 1}), os_)
    assert o3 == 16 * 32 * (34 * 10 + 9 + 2 * 32 * 8)


def test_a_strided_1x1_kernel_reads_only_the_rows_under_it():
    hw = DataflowHW("output_stationary", pes=256, bw_elems=1e-3, buffer_elems=3000.0)
    _, t = cycles_and_traffic(conv_form("conv", {"M": 1, "N": 1, "R": 28, "C": 8, "K": 1,
                                                 "S": 2}), hw)
    assert t == pytest.approx(28 * 8 + 1 + 28 * 8)  # not the 55 x 15 strided extent


def test_worked_example_of_the_maestro_readme():
    # KC-P on the 56x56 3x3 layer: 16 K-folds x 3136 positions x 57.6 cycles of off-chip
    rows, _ = compare_with_maestro(MAESTRO)
    row = next(r for r in rows if r["layer"] == "resnet18_conv3x3_64_56"
               and r["dataflow"] == "weight_stationary")
    assert row["ours"] == pytest.approx(16 * 3136 * 2880 / 50)


def layer_shapes():
    """Every layer of the six backbones by id (prefix = backbone name)."""
    net = Net()
    for name, build in BACKBONES.items():
        build(net, name, f"{name}/")
    return {layer.id: layer for layer in net.layers}


LAYERS = layer_shapes()
EQUAL_HW = {"pes": 256, "bw_elems": 50.0, "buffer_elems": 3000.0}


def cycles(layer_id: str) -> dict[str, float]:
    layer = LAYERS[layer_id]
    form = conv_form(layer.op, dict(layer.shape))
    out = {}
    for df in DATAFLOWS:
        if df == "lstm" and form.gemm is None:
            continue
        out[df] = cycles_and_traffic(form, DataflowHW(df, **EQUAL_HW))[0]
    return out


# (layer, op class, dataflows allowed to be cheapest, dataflows that must be >= 5x slower)
AFFINITY = [
    ("vgg16/conv1_1", "early high-res conv", {"output_stationary", "row_stationary"},
     {"weight_stationary"}),
    ("resnet18/conv1", "early high-res conv", {"output_stationary", "row_stationary"},
     {"weight_stationary"}),
    ("mobilenet_v2/conv1", "early high-res conv", {"output_stationary", "row_stationary"},
     {"weight_stationary"}),
    ("mobilenet_v2/ir1dw", "depthwise conv", {"output_stationary"}, set()),
    ("mobilenet_v2/ir3dw", "depthwise conv", {"output_stationary", "row_stationary"}, set()),
    ("vgg16/fc7", "fully connected", {"gemm", "weight_stationary", "lstm"},
     {"output_stationary", "row_stationary"}),
    ("resnet50/fc", "fully connected", {"gemm", "weight_stationary", "lstm"},
     {"output_stationary", "row_stationary"}),
    ("lstm_speech/lstm2", "lstm", {"gemm", "weight_stationary", "lstm"},
     {"output_stationary", "row_stationary"}),
    ("transformer_block/ffn1", "matmul", {"gemm", "lstm"}, {"output_stationary"}),
    ("resnet50/l3b2b", "mid-network 3x3 conv", {"gemm"}, set()),
]


@pytest.mark.parametrize(("layer", "kind", "cheapest", "slow"), AFFINITY)
def test_affinity(layer, kind, cheapest, slow):
    c = cycles(layer)
    best = min(c, key=c.get)
    assert best in cheapest, (kind, c)
    for df in slow:
        assert c[df] >= 5 * c[best], (kind, df, c)


def test_depthwise_is_poor_on_weight_stationary():
    for layer in ("mobilenet_v2/ir1dw", "mobilenet_v2/ir3dw", "mobilenet_v2/ir6dw"):
        c = cycles(layer)
        assert c["weight_stationary"] >= 1.2 * min(c["output_stationary"],
                                                   c["row_stationary"]), c


def test_lstm_engine_keeps_weights_that_fit():
    layer = LAYERS["lstm_speech/lstm1"]  # 4*512*(512+40) weights, 100 steps
    form = conv_form(layer.op, dict(layer.shape))
    small = cycles_and_traffic(form, DataflowHW("lstm", 256, 50.0, 1e3))
    big = cycles_and_traffic(form, DataflowHW("lstm", 256, 50.0, 2e6))
    assert big[1] < small[1] / 50  # weights loaded once instead of every step
    assert big[0] < small[0]


def test_dataflow_accelerators_in_a_system_cost_every_layer():
    inst = mmmt_instance("arvr", "hetero6")
    tab = compile_tables(inst)
    assert (tab.t.min(axis=1) > 0).all()
    lstm_acc = inst.system.ids.index("lstm_engine4")
    conv_rows = [v for v, layer in enumerate(inst.workload.layers) if layer.op == "conv"]
    assert all(tab.t[v, lstm_acc] == float("inf") for v in conv_rows)  # ops it lacks
