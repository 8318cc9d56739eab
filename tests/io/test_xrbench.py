"""XRBench (MLSys 2023) usage scenarios, systems and dataflows as instances: layer
counts, conv-form shapes, dependencies, frame rates and triggers, dataflow presets,
malformed files as one line with file and line, and the ``xrbench`` suite."""

from __future__ import annotations

import re

import pytest

from h2h_opt.cli import main
from h2h_opt.cost import compile_tables
from h2h_opt.io import InputError, read_instance, write_instance
from h2h_opt.io.xrbench import parse_dataflows, parse_hw, read_xrbench
from h2h_opt.library.suites import XRBENCH_DIR, suite_instances
from h2h_opt.model import ModelError, ModelInfo, Workload

SCEN = XRBENCH_DIR / "usage_scenarios"
HW = XRBENCH_DIR / "hw_configs"
FLOWS = XRBENCH_DIR / "dataflows"
SCENARIOS = sorted(p.stem for p in SCEN.glob("*.m"))


def test_six_scenarios():
    assert len(SCENARIOS) == 6


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_scenario_imports_with_its_layer_blocks(scenario):
    text = (SCEN / f"{scenario}.m").read_text()
    inst = read_xrbench(SCEN / f"{scenario}.m", HW / "Quad_4K.m", FLOWS / "WS_OS_WS_OS.m")
    assert inst.num_layers == len(re.findall(r"^\s*Layer\s", text, re.M))
    networks = re.findall(r"^\s*Network\s+(\w+)", text, re.M)
    assert list(inst.workload.models) == networks
    fps = [float(x) for x in re.findall(r"FPS:\s*([\d.]+)", text)]
    assert [inst.workload.model_info[n].fps for n in networks] == fps
    wl = inst.workload
    # within a network a chain in file order; across networks only the dependencies
    cross = [(wl.layer(e.src).model, wl.layer(e.dst).model) for e in wl.edges
             if wl.layer(e.src).model != wl.layer(e.dst).model]
    deps = [(i.after, n) for n, i in wl.model_info.items() if i.after is not None]
    assert cross == deps and len(wl.edges) == inst.num_layers - len(networks) + len(deps)
    compile_tables(inst)  # every layer costs on every dataflow


def test_dependency_edge_and_trigger():
    inst = read_xrbench(SCEN / "AR_Assistant.m", HW / "Dual_4K.m", FLOWS / "WS_OS.m")
    info = inst.workload.model_info["ASR_EM_24L"]
    assert (info.fps, info.after, info.probability) == (3.0, "KD_res8_narrow", 0.5)
    wl = inst.workload
    first_asr = next(layer.id for layer in wl.layers if layer.model == "ASR_EM_24L")
    last_kd = [layer.id for layer in wl.layers if layer.model == "KD_res8_narrow"][-1]
    assert [wl.layers[u].id for u in wl.preds[wl.index[first_asr]]] == [last_kd]


def test_conv_form_shapes():
    inst = read_xrbench(SCEN / "AR_Assistant.m", HW / "Dual_4K.m", FLOWS / "WS_OS.m")
    # Y: 24, X: 13 inputs, 3x3 kernel, stride 1: 22 x 11 outputs
    conv2 = inst.workload.layer("KD_res8_narrow.conv2")
    assert dict(conv2.shape) == {"M": 19, "N": 19, "R": 22, "C": 11, "K": 3, "S": 1}
    # fc as a 1x1 conv over 128 rows
    fc1 = inst.workload.layer("ASR_EM_24L.fc1")
    assert dict(fc1.shape) == {"M": 512, "N": 512, "R": 128, "C": 1, "K": 1, "S": 1}


def test_kernels_larger_than_their_input_and_not_square():
    # a 3x3 kernel on a 2x2 map is a padded convolution: 2x2 outputs
    inst = read_xrbench(SCEN / "AR_Assistant.m", HW / "Dual_4K.m", FLOWS / "WS_OS.m")
    padded = [layer for layer in inst.workload.layers if layer.shape.get("P")]
    assert padded and all(layer.shape["R"] <= layer.shape["K"] for layer in padded)
    vr = read_xrbench(SCEN / "social_interactionB.m", HW / "Dual_4K.m", FLOWS / "WS_OS.m")
    tall = [layer for layer in vr.workload.layers if "KW" in layer.shape]
    assert tall and all((layer.shape["K"], layer.shape["KW"], layer.shape["C"]) == (25, 1, 1)
                        for layer in tall)
    from h2h_opt.cost import layer_numbers

    t = tall[0]
    assert layer_numbers(t, 1).macs == t.shape["M"] * t.shape["N"] * t.shape["R"] * 25


def test_dsconv_is_a_depthwise_layer(tmp_path):
    path = tmp_path / "s.m"
    path.write_text("Network A {\nFPS: 30\nLayer l {\nType: DSCONV\nStride: { X: 2, Y: 2 }\n"
                    "Dimensions: { N: 1, K: 1, C: 8, Y: 9, X: 9, R: 3, S: 3 }\n}\n}\n")
    inst = read_xrbench(path, HW / "Dual_4K.m", FLOWS / "WS_OS.m")
    layer = inst.workload.layers[0]
    assert (layer.op, dict(layer.shape)) == ("dwconv", {"N": 8, "R": 4, "C": 4, "K": 3, "S": 2})


def test_dataflow_files_and_systems():
    assert parse_dataflows(FLOWS / "WS_OS_WS_OS.m") == ["weight_stationary",
                                                        "output_stationary"] * 2
    assert parse_dataflows(FLOWS / "RS_RS.m") == ["row_stationary"] * 2
    accs = parse_hw(HW / "Dual_4K_BigLittle.m")
    assert [a[1]["num_pes"] for a in accs] == [3072, 1024]
    inst = read_xrbench(SCEN / "VR_gaming.m", HW / "Quad_8K.m", FLOWS / "RS_RS_RS_RS.m",
                        clock_mhz=500)
    acc = inst.system.accelerators[0]
    # 128 elements/cycle x 1 B x 500 MHz
    assert acc.host_bandwidth_bps == 64e9 and acc.cost_model["offchip_bw_gbps"] == 64.0
    assert acc.weight_capacity_bytes == acc.cost_model["buffer_bytes"] > 0


def test_model_info_round_trip_and_checks(tmp_path):
    inst = read_xrbench(SCEN / "VR_gaming.m", HW / "Dual_4K.m", FLOWS / "WS_OS.m")
    write_instance(inst, tmp_path / "i.json")
    back = read_instance(tmp_path / "i.json")
    assert back.workload.model_info == inst.workload.model_info
    layers = inst.workload.layers[:2]
    with pytest.raises(ModelError, match="model 'nope': no layer"):
        Workload(layers, (), {"nope": ModelInfo(fps=1.0)})
    m = layers[0].model
    with pytest.raises(ModelError, match=f"model '{m}': after 'x' is not a model"):
        Workload(layers, (), {m: ModelInfo(after="x")})
    with pytest.raises(ModelError, match="fps: must be > 0"):
        Workload(layers, (), {m: ModelInfo(fps=0.0)})


BAD = {
    "unclosed": ("Network A {\nFPS: 3\nLayer l {\nType: CONV\n", ":4: unexpected end of file"),
    "unknown_field": ("Network A {\nFPS: 3\nSpeed: 4\n}\n", ":3: network 'A': unknown field"
                      " 'Speed'"),
    "bad_number": ("Network A {\nLayer l {\nType: CONV\nDimensions: { N: 1, K: x, C: 1, Y: 4,"
                   " X: 4, R: 1, S: 1 }\n}\n}\n", ":4: layer 'l' K: expected a number, got"
                   " 'x'"),
    "missing_dim": ("Network A {\nLayer l {\nType: CONV\nDimensions: { N: 1, K: 2, C: 1, Y: 4,"
                    " X: 4, R: 1 }\n}\n}\n", ":4: layer 'l': missing dimension 'S'"),
    "unknown_upstream": ("Network A {\nDependency: { B }\nLayer l {\nType: CONV\nDimensions:"
                         " { N: 1, K: 2, C: 1, Y: 4, X: 4, R: 1, S: 1 }\n}\n}\n",
                         ":1: network 'A' depends on 'B', which the file does not define"),
    "other_type": ("Network A {\nLayer l {\nType: POOL\n}\n}\n", ":3: layer 'l': type"
                   " 'POOL' is not supported"),
    "dsconv_k": ("Network A {\nLayer l {\nType: DSCONV\nDimensions: { N: 1, K: 2, C: 8, Y: 4,"
                 " X: 4, R: 3, S: 3 }\n}\n}\n", ":2: layer 'l': DSCONV needs K = 1"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_malformed_scenario_is_one_line_with_file_and_line(tmp_path, case, capsys):
    text, fragment = BAD[case]
    path = tmp_path / "s.m"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        read_xrbench(path, HW / "Dual_4K.m", FLOWS / "WS_OS.m")
    assert str(err.value).startswith(str(path)) and fragment in str(err.value)
    out = tmp_path / "o.json"
    assert main(["import", "xrbench", str(path), "--hw", str(HW / "Dual_4K.m"),
                 "--dataflows", str(FLOWS / "WS_OS.m"), "-o", str(out)]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and not out.exists()


def test_dataflows_must_match_the_accelerators():
    with pytest.raises(InputError, match=r"WS_OS.m: 2 Dataflow block\(s\) for the 4"):
        read_xrbench(SCEN / "VR_gaming.m", HW / "Quad_4K.m", FLOWS / "WS_OS.m")


def test_malformed_hw_and_dataflow_files(tmp_path):
    hw = tmp_path / "hw.m"
    hw.write_text("Accelerator A {\n  num_pes: 64\n  offchip_bw: 0\n"
                  "  global_shared_memory: 1024\n}\n")
    with pytest.raises(InputError, match=r"hw.m:5: accelerator 'A': offchip_bw must be > 0"):
        parse_hw(hw)
    df = tmp_path / "df.m"
    df.write_text("Dataflow {\n  TemporalMap(1,1) K;\n  Spread(1,1) C;\n}\n")
    with pytest.raises(InputError, match=r"df.m:3: unknown directive 'Spread'"):
        parse_dataflows(df)


def test_cli_import_and_info_show_networks(tmp_path, capsys):
    out = tmp_path / "vr.json"
    assert main(["import", "xrbench", str(SCEN / "VR_gaming.m"), "--hw", str(HW / "Dual_8K.m"),
                 "--dataflows", str(FLOWS / "WS_OS.m"), "-o", str(out)]) == 0
    assert "329 layers in 3 network(s)" in capsys.readouterr().out
    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert re.search(r"GE_FBNet_C\s+\d+ layers\s+60 fps\s+triggered by ES_RITNet \(p=1\)", text)
    assert "weight_stationary 4096 PEs" in text


def test_suite_defaults_and_parameters():
    insts = suite_instances("xrbench")
    assert len(insts) == 6 * 8  # six scenarios on the six dual and two quad systems
    assert {i.num_accs for i in insts} == {2, 4}
    allflows = suite_instances("xrbench", params={"scenarios": ["social_interactionB"],
                                                  "systems": ["Single_4K", "Quad_4K"],
                                                  "dataflows": "all"})
    assert sorted(i.name for i in allflows) == sorted(
        f"social_interactionB-{s}" for s in ("Single_4K-OS", "Single_4K-RS", "Single_4K-WS",
                                             "Quad_4K-OS_OS_OS_OS", "Quad_4K-RS_RS_RS_RS",
                                             "Quad_4K-WS_OS_WS_OS", "Quad_4K-WS_WS_WS_WS"))
    with pytest.raises(ValueError, match="systems: unknown 'Octa'"):
        suite_instances("xrbench", params={"systems": ["Octa"]})


@pytest.mark.parametrize("solver", ["h2h_plus", "lns"])
def test_a_scenario_solves(solver):
    from h2h_opt.solvers import SolveParams, solve

    inst = read_xrbench(SCEN / "social_interactionB.m", HW / "Dual_4K.m", FLOWS / "WS_OS.m")
    res = solve(inst, solver, SolveParams(time_limit_s=3.0, seed=0))
    assert res.schedule is not None and res.latency > 0 and res.energy > 0
    # a bound of the tick-rounded problem may exceed the true latency by the rounding
    # the result states (SPEC §6)
    slack = res.info.get("bound_slack_s", 0.0) + 1e-9
    assert res.bound is not None and res.bound <= res.latency + slack


def test_committed_suite_regenerates_identically(tmp_path):
    from pathlib import Path

    from h2h_opt.library.suites import write_suite

    committed = Path(__file__).resolve().parents[2] / "instances" / "xrbench"
    paths = write_suite("xrbench", tmp_path)
    names = sorted(Path(p).name for p in paths if not p.endswith("MANIFEST.json"))
    assert names == sorted(p.name for p in committed.glob("*.json") if p.name != "MANIFEST.json")
    for name in names:
        assert (tmp_path / name).read_bytes() == (committed / name).read_bytes(), name
