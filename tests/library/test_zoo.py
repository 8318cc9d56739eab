"""Backbones, MMMT workloads, system presets and the generator suites."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from h2h_opt.cost import compile_tables
from h2h_opt.evaluate import evaluate
from h2h_opt.io import dump_instance, parse_instance
from h2h_opt.library.backbones import BACKBONES, Net
from h2h_opt.library.suites import suite_instances, write_suite
from h2h_opt.library.zoo import SYSTEMS, WORKLOADS, mmmt_instance, mmmt_workload, system_preset
from h2h_opt.solvers import solve


def backbone(name):
    net = Net()
    BACKBONES[name](net, name, "")
    return Counter(layer.op for layer in net.layers), net


@pytest.mark.parametrize(("name", "convs", "fcs"), [
    ("vgg16", 13, 3),           # configuration D
    ("resnet18", 20, 1),        # conv1 + 16 in blocks + 3 projection shortcuts
    ("resnet50", 53, 1),        # conv1 + 48 in bottlenecks + 4 projection shortcuts
    ("mobilenet_v2", 35, 1),    # conv1 + 16 expansions + 17 projections + last 1x1
])
def test_backbone_layer_counts(name, convs, fcs):
    ops, _ = backbone(name)
    assert ops["conv"] == convs and ops["fc"] == fcs


def test_backbone_shapes_follow_the_papers():
    _, net = backbone("resnet50")
    shapes = {layer.id: layer.shape for layer in net.layers}
    assert shapes["conv1"] == {"M": 64, "N": 3, "R": 112, "C": 112, "K": 7, "S": 2, "P": 3}
    assert shapes["l4b3c"]["M"] == 2048 and shapes["l4b3c"]["R"] == 7
    _, net = backbone("mobilenet_v2")
    ops = Counter(layer.op for layer in net.layers)
    assert ops["dwconv"] == 17
    _, net = backbone("transformer_block")
    q = next(layer for layer in net.layers if layer.id == "q")
    assert dict(q.shape) == {"m": 128, "k": 768, "n": 768, "weights": True}


@pytest.mark.parametrize("name", list(WORKLOADS))
def test_mmmt_workloads_are_multi_model_dags(name):
    wl = mmmt_workload(name)
    assert len({layer.model for layer in wl.layers}) >= 3
    assert len(wl.layers) >= 30 and len(wl.topo) == len(wl.layers)
    inst = mmmt_instance(name, "hetero4", 1.25)
    assert np.isfinite(compile_tables(inst).t).any(axis=1).all()
    assert parse_instance(dump_instance(inst)).name == inst.name  # schema round trip


@pytest.mark.parametrize("system", list(SYSTEMS))
def test_system_presets_sizes(system):
    assert len(system_preset(system).accelerators) == int(system.removeprefix("hetero"))
    bws = {a.host_bandwidth_bps for a in system_preset(system, 0.125).accelerators}
    assert bws == {0.125e9}


def test_paper_suite_covers_every_workload_system_and_bandwidth():
    insts = suite_instances("paper")
    assert len(insts) == len(WORKLOADS) * len(SYSTEMS) * 3 == 60
    assert len({i.name for i in insts}) == 60


def test_baseline_and_h2h_run_on_a_paper_instance():
    inst = mmmt_instance("av_speech", "hetero4", 0.125)
    base, h2h = solve(inst, "baseline"), solve(inst, "h2h")
    assert evaluate(inst, base.schedule).feasible and evaluate(inst, h2h.schedule).feasible
    assert h2h.latency <= base.latency


def test_write_suite_is_reproducible_with_a_manifest(tmp_path):
    a = write_suite("small", tmp_path / "a", seed=3, params={"count": 4})
    b = write_suite("small", tmp_path / "b", seed=3, params={"count": 4})
    assert len(a) == 5
    manifest = json.loads((tmp_path / "a" / "MANIFEST.json").read_text())
    assert manifest["seed"] == 3 and manifest["suite"] == "small"
    assert manifest["parameters"] == {"count": 4} and "h2h-opt" in manifest["versions"]
    for fa, fb in zip(a[:-1], b[:-1], strict=True):
        assert Path(fa).read_text() == Path(fb).read_text()
    sizes = {len(parse_instance(json.loads(Path(f).read_text())).workload.layers)
             for f in a[:-1]}
    assert sizes <= set(range(10, 41))


def test_random_suite_parameters_and_errors():
    insts = suite_instances("random", 1, {"layers": 30, "accs": 3, "count": 2, "ccr": 4})
    assert [len(i.workload.layers) for i in insts] == [30, 30]
    assert {i.num_accs for i in insts} == {3}
    with pytest.raises(ValueError, match="bogus"):
        suite_instances("random", 0, {"bogus": 1})
    with pytest.raises(ValueError, match="parameter layers: expected int, got 'abc'"):
        suite_instances("random", 0, {"layers": "abc"})


def test_cli_generate_and_info(tmp_path, capsys):
    from h2h_opt.cli import main

    assert main(["generate", "random", "--param", "layers=12", "--param", "count=2",
                 "-o", str(tmp_path / "r"), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["written"]) == 3
    assert main(["generate", "nosuch", "-o", str(tmp_path / "x")]) == 2
    capsys.readouterr()
    assert main(["info", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc["workloads"]) == set(WORKLOADS) and set(doc["systems"]) == set(SYSTEMS)
