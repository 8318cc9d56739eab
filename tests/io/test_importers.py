"""Importers: GXL task graphs, MAESTRO result CSVs, ONNX models (shapes exact), and one
clear line for each malformed file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import DATA

from h2h_opt.cost import compile_tables
from h2h_opt.io import (
    InputError,
    dump_instance,
    parse_gxl,
    parse_instance,
    read_gxl,
    read_maestro,
    write_instance,
)
from h2h_opt.io.onnx import read_onnx
from h2h_opt.library.zoo import system_preset
from h2h_opt.model import Accelerator, Instance, Layer, Options, System, Workload
from h2h_opt.solvers import solve

GXL = DATA / "gxl" / "fork5.gxl"
RAW = DATA / "maestro" / "raw"


# ------------------------------------------------------------------------------ GXL
def test_gxl_graph_as_p2p_with_uniform_delays():
    inst = read_gxl(GXL, 2)
    assert [layer.id for layer in inst.workload.layers] == ["a", "b", "c", "d", "e"]
    assert len(inst.workload.edges) == 5 and inst.options.comm == "p2p"
    tab = compile_tables(inst)
    assert tab.t[:, 0].tolist() == [2, 3, 3, 1, 2]
    assert dict(zip(zip(tab.edge_src.tolist(), tab.edge_dst.tolist(), strict=True),
                    tab.edge_bytes.tolist(), strict=True))[(0, 1)] == 4
    # hand-checked optimum on 2 processors: a,b,d,e on one, c on the other -> 10
    assert solve(inst, "cpsat").latency == 10.0
    assert solve(read_gxl(GXL, 1), "cpsat").latency == 11.0  # serial sum


def test_gxl_round_trip(tmp_path):
    inst = read_gxl(GXL, 3)
    write_instance(inst, tmp_path / "g.json")
    back = parse_instance(json.loads((tmp_path / "g.json").read_text()))
    assert dump_instance(back) == dump_instance(inst)


@pytest.mark.parametrize(("text", "fragment"), [
    ("<gxl><graph>", "not well-formed"),
    ("<gxl/>", "no <graph>"),
    ("<gxl><graph><node id='a'/></graph></gxl>", "node 'a': no Weight"),
    ("<gxl><graph><node id='a'><attr name='Weight'><int>x</int></attr></node></graph></gxl>",
     "is not a number"),
    ("<gxl><graph><node id='a'><attr name='Weight'><int>1</int></attr></node>"
     "<edge from='a' to='z'><attr name='Weight'><int>1</int></attr></edge></graph></gxl>",
     "unknown node"),
])
def test_malformed_gxl_is_one_clear_line(text, fragment):
    with pytest.raises(InputError, match=fragment) as err:
        parse_gxl(text, 2)
    assert "\n" not in str(err.value)


def test_missing_gxl_names_the_file_once(tmp_path):
    with pytest.raises(InputError) as err:
        read_gxl(tmp_path / "none.gxl", 2)
    assert str(err.value).count("none.gxl") == 1 and "cannot read" in str(err.value)


def test_cli_reports_bad_gxl_without_traceback(tmp_path, capsys):
    from h2h_opt.cli import main

    bad = tmp_path / "bad.gxl"
    bad.write_text("<gxl><graph><node id='a'/></graph></gxl>")
    assert main(["import", "gxl", str(bad), "--procs", "2", "-o", str(tmp_path / "o.json")]) == 1
    err = capsys.readouterr().err
    assert "bad.gxl" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


# ------------------------------------------------------------------------------ MAESTRO
def maestro_target() -> Instance:
    layers = (Layer(id="conv", op="conv", model="m",
                    shape={"M": 64, "N": 64, "R": 56, "C": 56, "K": 3, "S": 1, "P": 1}),
              Layer(id="fc", op="fc", model="m", shape={"M": 4096, "N": 4096}))
    accs = tuple(Accelerator(id=a, ops=frozenset({"conv", "fc"}),
                             cost_model={"kind": "table", "time_s": {"conv": 1.0, "fc": 1.0}},
                             power_w=1.0) for a in ("ws", "gemm"))
    return Instance("m", Workload(layers, ()), System(accs), Options())


def test_maestro_csv_gives_exact_costs(tmp_path):
    lmap = tmp_path / "map.csv"
    lmap.write_text("maestro_layer,layer,accelerator\n"
                    "resnet18_conv3x3_64_56,conv,ws\nfc_4096_4096,fc,gemm\n")
    inst = read_maestro(maestro_target(), [RAW / "resnet18_conv3x3_64_56__kcp_ws.csv",
                                           RAW / "fc_4096_4096__gemm_nmk.csv"], lmap, 200.0)
    tab = compile_tables(inst)
    assert tab.t[0, 0] == pytest.approx(2860032 / 200e6)  # MAESTRO cycles / clock
    assert tab.e[0, 0] == pytest.approx(44767.4e-9)
    assert tab.t[1, 1] == pytest.approx(360448 / 200e6)
    assert tab.e[1, 1] == pytest.approx(153599e-9)
    assert tab.t[1, 0] == 1.0  # not in the map: the old table stays


@pytest.mark.parametrize(("map_text", "fragment"), [
    ("maestro_layer,layer,accelerator\nnope,conv,ws\n", "0 MAESTRO rows match"),
    ("maestro_layer,layer,accelerator\nfc_4096_4096,zz,ws\n", "unknown layer 'zz'"),
    ("maestro_layer,layer,accelerator\nfc_4096_4096,fc,zz\n", "unknown accelerator 'zz'"),
    ("a,b\n1,2\n", "needs columns"),
])
def test_maestro_map_errors(tmp_path, map_text, fragment):
    lmap = tmp_path / "map.csv"
    lmap.write_text(map_text)
    with pytest.raises(InputError, match=fragment):
        read_maestro(maestro_target(), [RAW / "fc_4096_4096__gemm_nmk.csv"], lmap, 200.0)


def test_maestro_rejects_other_csvs(tmp_path):
    other = tmp_path / "x.csv"
    other.write_text("a,b\n1,2\n")
    lmap = tmp_path / "map.csv"
    lmap.write_text("maestro_layer,layer,accelerator\nx,fc,ws\n")
    with pytest.raises(InputError, match="not a MAESTRO result CSV"):
        read_maestro(maestro_target(), [other], lmap, 200.0)


# ------------------------------------------------------------------------------ ONNX
onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


def _init(name, *shape):
    import numpy as np

    return numpy_helper.from_array(np.zeros(shape, dtype=np.float32), name)


def cnn_model(path: Path) -> None:
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], name="conv1", kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "wd"], ["c2"], name="dw", kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1], group=16),
        helper.make_node("BatchNormalization", ["c2", "s", "b", "m", "v"], ["n2"], name="bn"),
        helper.make_node("Add", ["n2", "r1"], ["a2"], name="res"),
        helper.make_node("MaxPool", ["a2"], ["p2"], name="pool", kernel_shape=[2, 2],
                         strides=[2, 2]),
        helper.make_node("GlobalAveragePool", ["p2"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "wf", "bf"], ["y"], name="fc", transB=1),
    ]
    graph = helper.make_graph(
        nodes, "cnn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
        [_init("w1", 16, 3, 3, 3), _init("wd", 16, 1, 3, 3), _init("s", 16), _init("b", 16),
         _init("m", 16), _init("v", 16), _init("wf", 10, 16), _init("bf", 10)])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def test_onnx_cnn_layers_and_shapes(tmp_path):
    cnn_model(tmp_path / "cnn.onnx")
    inst = read_onnx(tmp_path / "cnn.onnx", system_preset("hetero4", 1.25))
    got = [(layer.id, layer.op, dict(layer.shape)) for layer in inst.workload.layers]
    assert got == [
        ("conv1", "conv", {"M": 16, "N": 3, "R": 16, "C": 16, "K": 3, "S": 2, "P": 1}),
        ("dw", "dwconv", {"N": 16, "R": 16, "C": 16, "K": 3, "S": 1, "P": 1}),
        ("res", "eltwise", {"N": 16, "R": 16, "C": 16, "inputs": 2}),
        ("pool", "pool", {"N": 16, "R": 8, "C": 8, "K": 2, "S": 2, "P": 0}),
        ("gap", "pool", {"N": 16, "R": 1, "C": 1, "K": 8, "S": 1, "P": 0}),
        ("fc", "fc", {"M": 10, "N": 16}),
    ]
    edges = {(e.src, e.dst) for e in inst.workload.edges}
    assert edges == {("conv1", "dw"), ("conv1", "res"), ("dw", "res"), ("res", "pool"),
                     ("pool", "gap"), ("gap", "fc")}  # relu/bn/flatten folded
    assert solve(inst, "h2h").latency > 0


def test_onnx_lstm_and_matmul(tmp_path):
    nodes = [
        helper.make_node("LSTM", ["x", "W", "R"], ["Y", "Yh"], name="lstm", hidden_size=32),
        helper.make_node("Squeeze", ["Y", "ax"], ["ys"], name="sq"),
        helper.make_node("MatMul", ["ys", "wo"], ["out"], name="proj"),
    ]
    graph = helper.make_graph(
        nodes, "rnn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [20, 1, 8])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, None)],
        [_init("W", 1, 128, 8), _init("R", 1, 128, 32), _init("wo", 32, 5),
         numpy_helper.from_array(__import__("numpy").array([1], dtype="int64"), "ax")])
    path = tmp_path / "rnn.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    inst = read_onnx(path, system_preset("hetero4", 1.25))
    got = [(layer.id, layer.op, dict(layer.shape)) for layer in inst.workload.layers]
    assert got == [("lstm", "lstm", {"H": 32, "D": 8, "T": 20}),
                   ("proj", "matmul", {"m": 20, "k": 32, "n": 5, "weights": True})]


def test_malformed_onnx_is_one_clear_line(tmp_path, capsys):
    from h2h_opt.cli import main

    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x00\x01 not a protobuf at all \xff")
    with pytest.raises(InputError, match="not a readable ONNX model") as err:
        read_onnx(bad, system_preset("hetero4", 1.25))
    assert "\n" not in str(err.value)
    assert main(["import", "onnx", str(bad), "-o", str(tmp_path / "o.json")]) == 1
    err_text = capsys.readouterr().err
    assert "Traceback" not in err_text and len(err_text.strip().splitlines()) == 1
