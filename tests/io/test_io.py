"""File formats: round trips, the published schema, importers (STG, cost CSV)."""

from __future__ import annotations

import csv
import json

import jsonschema
import pytest
from helpers import DATA, ROOT, chain_instance

from h2h_opt.cost import compile_tables
from h2h_opt.evaluate import evaluate
from h2h_opt.io import (
    InputError,
    dump_instance,
    dump_result,
    dump_schedule,
    import_cost_csv,
    instance_schema,
    parse_instance,
    parse_result,
    parse_schedule,
    read_instance,
    read_stg,
)
from h2h_opt.library.zoo import reference_example
from h2h_opt.model import Links
from h2h_opt.result import SolveResult, SolveStatus, Termination
from h2h_opt.timing import asap

STG = DATA / "stg"
BUNDLED = sorted((ROOT / "instances").rglob("*.json"))
BUNDLED_INSTANCES = [p for p in BUNDLED if p.name != "schema.json" and "MANIFEST" not in p.name
                     and json.loads(p.read_text()).get("kind", "instance") == "instance"]


def test_the_one_schema_is_valid_and_printed_by_the_cli(tmp_path):
    from h2h_opt.cli import main

    jsonschema.Draft202012Validator.check_schema(instance_schema())
    assert main(["schema", "-o", str(tmp_path / "s.json")]) == 0
    assert json.loads((tmp_path / "s.json").read_text()) == instance_schema()


@pytest.mark.parametrize("path", BUNDLED_INSTANCES, ids=lambda p: p.name)
def test_bundled_instances_match_schema(path):
    doc = json.loads(path.read_text())
    jsonschema.Draft202012Validator(instance_schema()).validate(doc)
    read_instance(path)


def test_bundled_examples_are_what_the_zoo_builds():
    for inst in (reference_example(1, 1.25), reference_example(2, 1.25),
                 reference_example(2, 1.25, fused=True)):
        path = ROOT / "instances" / "examples" / f"{inst.name}.json"
        assert json.loads(path.read_text()) == dump_instance(inst)


@pytest.mark.parametrize("inst", [
    reference_example(2, 0.5, fused=True),
    chain_instance(4, comm="p2p", objective="lex"),
], ids=["reference", "chain"])
def test_instance_round_trip(inst):
    doc = dump_instance(inst)
    again = parse_instance(json.loads(json.dumps(doc)))
    assert again == inst
    assert dump_instance(again) == doc


def test_instance_round_trip_with_links():
    inst = chain_instance(3, comm="p2p")
    links = Links.uniform(2, 3.0, 0.1, 0.2)
    from h2h_opt.model import Instance, System

    inst = Instance(inst.name, inst.workload, System(inst.system.accelerators, links),
                    inst.options)
    again = parse_instance(json.loads(json.dumps(dump_instance(inst))))
    assert again.system.links == links


def test_schedule_round_trip_and_evaluation_unchanged():
    inst = reference_example(2, 1.25)
    ids = [layer.id for layer in inst.workload.layers]
    mapping = {v: ("cnn_acc_1" if v.startswith("M1") else "cnn_acc_2") for v in ids}
    orders = {a: tuple(v for v in ids if mapping[v] == a) for a in inst.system.ids}
    s = asap(inst, mapping, {"M1L3": True}, orders, meta={"solver": "hand"})
    again = parse_schedule(json.loads(json.dumps(dump_schedule(s))))
    assert again == s
    assert evaluate(inst, again).latency == evaluate(inst, s).latency


def test_schedule_without_orders_derives_them_from_start_times():
    inst = chain_instance(3)
    s = asap(inst, {"L1": "a0", "L2": "a0", "L3": "a1"}, {}, {"a0": ("L1", "L2"), "a1": ("L3",)})
    doc = dump_schedule(s)
    del doc["orders"]
    again = parse_schedule(doc)
    assert again.orders["a0"] == ("L1", "L2")
    assert evaluate(inst, again).feasible


def test_result_round_trip():
    inst = chain_instance(2)
    s = asap(inst, {"L1": "a0", "L2": "a0"}, {}, {"a0": ("L1", "L2")})
    res = SolveResult(inst.name, "hand", SolveStatus.FEASIBLE, Termination.COMPLETED, s,
                      latency=1.5, energy=2.0, objective=1.5, bound=None, time_s=0.1,
                      steps=[{"step": 1, "latency_s": 2.0}], params={"seed": 3})
    doc = json.loads(json.dumps(dump_result(res)))
    back = parse_result(doc)
    assert back.schedule == s and back.latency == 1.5 and back.steps == res.steps
    assert back.status is SolveStatus.FEASIBLE and back.versions == res.versions


def test_stg_import_matches_file():
    inst = read_stg(STG / "rand0000.stg", procs=4)
    assert inst.num_layers == 50 and inst.num_accs == 4
    assert inst.options.comm == "p2p" and inst.options.tick_s == 1.0
    tab = compile_tables(inst)
    assert tab.t[0].tolist() == [9.0] * 4  # task 1 costs 9
    # task 10 has predecessors 2, 6, 8 (dummy entry edges are dropped)
    assert sorted(inst.workload.layers[p].id for p in inst.workload.preds[9]) == ["T2", "T6", "T8"]
    assert not inst.workload.preds[0]


def test_stg_serial_schedule_is_total_work():
    inst = read_stg(STG / "rand0000.stg", procs=1)
    ids = [inst.workload.layers[v].id for v in inst.workload.topo]
    s = asap(inst, dict.fromkeys(ids, "P1"), {}, {"P1": tuple(ids)})
    tab = compile_tables(inst)
    assert evaluate(inst, s).latency == float(tab.t[:, 0].sum())


def test_cost_csv_import(tmp_path):
    inst = chain_instance(2)
    f = tmp_path / "c.csv"
    with f.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["layer", "accelerator", "time_s", "energy_j"])
        w.writerow(["L1", "a1", "0.25", "9"])
        w.writerow(["L2", "a1", "0.75", ""])
    out = import_cost_csv(inst, f)
    tab = compile_tables(out)
    assert tab.t[:, 1].tolist() == [0.25, 0.75]
    assert tab.e[:, 1].tolist() == [9.0, 3.0 * 0.75]  # empty energy -> P*t
    assert tab.t[:, 0].tolist() == [1.0, 1.0]  # a0 untouched


@pytest.mark.parametrize(("row", "fragment"), [
    (["Lx", "a1", "1"], "unknown layer 'Lx'"),
    (["L1", "zz", "1"], "unknown accelerator 'zz'"),
    (["L1", "a1", "fast"], "time_s 'fast' is not a number"),
    (["L1", "a1", "-1"], "must be finite and >= 0"),
])
def test_cost_csv_errors(tmp_path, row, fragment):
    f = tmp_path / "c.csv"
    f.write_text("layer,accelerator,time_s\n" + ",".join(row) + "\n")
    with pytest.raises(InputError, match=fragment):
        import_cost_csv(chain_instance(2), f)


def test_cost_csv_missing_rows_named(tmp_path):
    f = tmp_path / "c.csv"
    f.write_text("layer,accelerator,time_s\nL1,a1,1\n")
    with pytest.raises(InputError, match="no time_s for layer 'L2'"):
        import_cost_csv(chain_instance(2), f)


def test_validate_lists_every_element_problem(tmp_path):
    """Past the schema, every layer, edge and accelerator failing the model's checks is
    one problem with its JSON path (not only the first)."""
    from h2h_opt.io.files import instance_problems

    doc = json.loads((DATA / "good_small.json").read_text())
    doc["workload"]["layers"][0]["shape"] = {"M": 4, "N": 3, "R": 8, "C": 8}
    doc["workload"]["layers"][1]["shape"] = {"M": 10, "N": 256, "Q": 1}
    path = tmp_path / "two.json"
    path.write_text(json.dumps(doc))
    problems = instance_problems(path)
    assert len(problems) == 2
    assert "$.workload.layers[0]: layer 'A': op 'conv' needs shape field 'K'" in problems[0]
    assert "$.workload.layers[1]: layer 'B': unknown shape field 'Q'" in problems[1]
