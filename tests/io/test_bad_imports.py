"""Bad inputs to ``h2h import`` and ``h2h generate``: one table, one row per case.

Each row: the files to create (name -> text, bytes, or a function writing the file),
the command line (``{d}`` is the temporary folder), the exit code (1 invalid input,
2 usage) and a fragment of the one stderr line.  Every row must print exactly one
line, no traceback, and write no output.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from helpers import DATA

from h2h_opt.cli import main

GOOD = DATA / "good_small.json"
RAW = DATA / "maestro" / "raw"
FC_CSV = RAW / "fc_4096_4096__gemm_nmk.csv"


class Row(NamedTuple):
    files: dict[str, Any]
    argv: str
    code: int
    fragment: str


def onnx_model(x_dims: list[Any], *, op: str = "Conv", group: int = 1, reshape: bool = False,
               extra_inputs: tuple[tuple[str, Any, list[Any]], ...] = ()
               ) -> Callable[[Path], None]:
    """A writer of a small ONNX model: input ``x`` of ``x_dims`` (names are symbolic),
    one ``op`` node (a Conv 3->4 channels, 3x3, by default), then a Relu."""
    def write(path: Path) -> None:
        import numpy as np
        import onnx
        from onnx import TensorProto, helper, numpy_helper

        inits = [numpy_helper.from_array(np.zeros((4, 3 // group, 3, 3), np.float32), "w")]
        src = "x"
        nodes = []
        if reshape:  # a shape only known at run time
            nodes.append(helper.make_node("Reshape", ["x", "s"], ["xr"], name="reshape"))
            src = "xr"
        if op == "Conv":
            nodes.append(helper.make_node("Conv", [src, "w"], ["c"], name="conv",
                                          kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=group))
        elif op == "LSTM":
            nodes = [helper.make_node("LSTM", ["x", "W", "R"], ["c"], name="lstm")]
            inits = [numpy_helper.from_array(np.zeros((1, 16, 8), np.float32), "W"),
                     numpy_helper.from_array(np.zeros((1, 16, 4), np.float32), "R")]
        elif op == "GlobalAveragePool":
            nodes = [helper.make_node(op, ["x"], ["c"], name="gap")]
        else:
            nodes.append(helper.make_node(op, [src], ["c"], name="odd"))
        nodes.append(helper.make_node("Relu", ["c"], ["y"], name="relu"))
        inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_dims)]
        inputs += [helper.make_tensor_value_info(n, t, d) for n, t, d in extra_inputs]
        graph = helper.make_graph(nodes, "g", inputs,
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                                  inits)
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return write


def gxl(nodes: dict[str, str], edges: list[tuple[str | None, str | None, str]]) -> str:
    """A GXL graph: node id -> Weight text, edges (from, to, Weight text)."""
    def w(x: str) -> str:
        return f"<attr name='Weight'><int>{x}</int></attr>"
    ns = "".join(f"<node id='{k}'>{w(x)}</node>" for k, x in nodes.items())
    es = "".join("<edge" + (f" from='{u}'" if u else "") + (f" to='{v}'" if v else "")
                 + f">{w(x)}</edge>" for u, v, x in edges)
    return f"<gxl><graph>{ns}{es}</graph></gxl>"


def stg(*task_lines: str, n: int = 2) -> str:
    return "\n".join([str(n), *task_lines]) + "\n"


STG_OK = ("0 0 0", "1 3 1 0", "2 4 1 1", "3 0 1 2")
IMPORT_STG = "import stg {d}/g.stg --procs 2 -o {d}/out.json"
XR = Path(__file__).resolve().parents[2] / "h2h_opt" / "library" / "data" / "xrbench"
IMPORT_XR = (f"import xrbench {{d}}/s.m --hw {XR}/hw_configs/Dual_4K.m --dataflows"
             f" {XR}/dataflows/WS_OS.m -o {{d}}/out.json")
XR_OK = ("Network A {\nFPS: 30\nLayer l {\nType: CONV\nDimensions: { N: 1, K: 2, C: 1, Y: 4,"
         " X: 4, R: 1, S: 1 }\n}\n}\n")
GEN_BARE = "generate random -o {d}/set"
GEN_RANDOM = "generate random -o {d}/set --param layers=6 --param count=1"
IMPORT_ONNX = "import onnx {d}/m.onnx -o {d}/out.json"
CONV = onnx_model([1, 3, 8, 8])
CONV_NHW = onnx_model(["N", 3, "H", "W"])
IMPORT_GXL = "import gxl {d}/g.gxl --procs 2 -o {d}/out.json"
AB = {"a": "2", "b": "3"}
IMPORT_COSTS = f"import costs {{d}}/c.csv --instance {GOOD} -o {{d}}/out.json"
IMPORT_MAESTRO = (f"import maestro {FC_CSV} --instance {GOOD} --layer-map {{d}}/map.csv"
                  " --clock-mhz 200 -o {d}/out.json")
IMPORT_MAESTRO_R = (f"import maestro {{d}}/r.csv --instance {GOOD} --layer-map {{d}}/map.csv"
                    " --clock-mhz 200 -o {d}/out.json")

ROWS: dict[str, Row] = {
    # ---------------------------------------------------------------- STG
    "stg_pred_out_of_range": Row({"g.stg": stg("0 0 0", "1 3 1 0", "2 4 1 7", "3 0 1 2")},
                                 IMPORT_STG, 1, "line 4: task 2: predecessor 7 out of range"),
    "stg_negative_pred": Row({"g.stg": stg("0 0 0", "1 3 1 0", "2 4 1 -1", "3 0 1 2")},
                             IMPORT_STG, 1, "line 4: task 2: predecessor -1 out of range"),
    "stg_absurd_cost": Row({"g.stg": stg("0 0 0", "1 100000000000000000000000 1 0",
                                         "2 4 1 1", "3 0 1 2")},
                           IMPORT_STG, 1, "line 3: task 1 cost 100000000000000000000000 out"),
    "stg_float_cost": Row({"g.stg": stg("0 0 0", "1 1e23 1 0", "2 4 1 1", "3 0 1 2")},
                          IMPORT_STG, 1, "line 3: '1e23' is not an integer"),
    "stg_negative_cost": Row({"g.stg": stg("0 0 0", "1 -3 1 0", "2 4 1 1", "3 0 1 2")},
                             IMPORT_STG, 1, "line 3: task 1 cost -3 out of range"),
    "stg_duplicate_task": Row({"g.stg": stg("0 0 0", "1 3 1 0", "1 4 1 0", "3 0 1 1")},
                              IMPORT_STG, 1, "line 4: task 1 already defined on line 3"),
    "stg_task_id_out_of_range": Row({"g.stg": stg("0 0 0", "1 3 1 0", "9 4 1 1", "3 0 1 2")},
                                    IMPORT_STG, 1, "line 4: task id 9 out of range 0..3"),
    "stg_cycle": Row({"g.stg": stg("0 0 0", "1 3 1 2", "2 4 1 1", "3 0 2 1 2")},
                     IMPORT_STG, 1, "cycle of predecessors 2 -> 1 -> 2"),
    "stg_self_pred": Row({"g.stg": stg("0 0 0", "1 3 1 1", "2 4 1 1", "3 0 1 2")},
                         IMPORT_STG, 1, "line 3: task 1 is its own predecessor"),
    "stg_pred_twice": Row({"g.stg": stg("0 0 0", "1 3 1 0", "2 4 2 1 1", "3 0 1 2")},
                          IMPORT_STG, 1, "line 4: task 2: predecessor 1 listed twice"),
    "stg_pred_count": Row({"g.stg": stg("0 0 0", "1 3 2 0", "2 4 1 1", "3 0 1 2")},
                          IMPORT_STG, 1, "line 3: task 1 declares 2 predecessors, lists 1"),
    "stg_short_line": Row({"g.stg": stg("0 0 0", "1 3", "2 4 1 1", "3 0 1 2")},
                          IMPORT_STG, 1, "line 3: expected 'id cost npred pred...'"),
    "stg_dummy_cost": Row({"g.stg": stg("0 5 0", "1 3 1 0", "2 4 1 1", "3 0 1 2")},
                          IMPORT_STG, 1, "line 2: dummy task 0 must cost 0"),
    "stg_missing_lines": Row({"g.stg": stg("0 0 0", "1 3 1 0", "2 4 1 1")},
                             IMPORT_STG, 1, "expected 4 task lines (0..3), found 3"),
    "stg_extra_lines": Row({"g.stg": stg(*STG_OK, "4 1 1 3")},
                           IMPORT_STG, 1, "line 6: more task lines than the 4 announced"),
    "stg_zero_tasks": Row({"g.stg": "0\n0 0 0\n1 0 1 0\n"},
                          IMPORT_STG, 1, "line 1: the task count must be >= 1"),
    "stg_comment_line_numbers": Row({"g.stg": "# head\n2\n\n0 0 0\n1 x 1 0\n2 4 1 1\n3 0 1 2\n"},
                                    IMPORT_STG, 1, "line 5: 'x' is not an integer"),
    "stg_binary": Row({"g.stg": b"\xff\xfe\x00"}, IMPORT_STG, 1, "not a UTF-8 text file"),
    "stg_procs_zero": Row({"g.stg": stg(*STG_OK)},
                          "import stg {d}/g.stg --procs 0 -o {d}/out.json", 2,
                          "--procs: expected a positive integer"),
    # ---------------------------------------------------------------- cost CSV
    "costs_duplicate_row": Row({"c.csv": "layer,accelerator,time_s\nA,acc0,1\nB,acc0,2\n"
                                         "A,acc0,3\n"},
                               IMPORT_COSTS, 1, "c.csv line 4: layer 'A' on 'acc0' already"
                                                " given on line 2"),
    "costs_op_not_run": Row({"c.csv": "layer,accelerator,time_s\nB,acc1,1\n"},
                            IMPORT_COSTS, 1, "line 2: accelerator 'acc1' does not run op 'fc'"),
    "costs_unknown_layer": Row({"c.csv": "layer,accelerator,time_s\nZ,acc0,1\n"},
                               IMPORT_COSTS, 1, "c.csv line 2: unknown layer 'Z'"),
    "costs_unknown_acc": Row({"c.csv": "layer,accelerator,time_s\nA,accZ,1\n"},
                             IMPORT_COSTS, 1, "c.csv line 2: unknown accelerator 'accZ'"),
    "costs_nan": Row({"c.csv": "layer,accelerator,time_s\nA,acc0,nan\n"},
                     IMPORT_COSTS, 1, "line 2: time_s must be finite and >= 0"),
    "costs_negative_energy": Row({"c.csv": "layer,accelerator,time_s,energy_j\nA,acc0,1,-2\n"},
                                 IMPORT_COSTS, 1, "line 2: energy_j must be finite and >= 0"),
    "costs_text_time": Row({"c.csv": "layer,accelerator,time_s\nA,acc0,fast\n"},
                           IMPORT_COSTS, 1, "line 2: time_s 'fast' is not a number"),
    "costs_missing_column": Row({"c.csv": "layer,acc,time_s\nA,acc0,1\n"},
                                IMPORT_COSTS, 1, "missing column(s) accelerator"),
    "costs_short_row": Row({"c.csv": "layer,accelerator,time_s\nA\n"},
                           IMPORT_COSTS, 1, "c.csv line 2: unknown accelerator ''"),
    "costs_huge_field": Row({"c.csv": "layer,accelerator,time_s\nA,acc0," + "1" * 200_000},
                            IMPORT_COSTS, 1, "c.csv line 2: malformed CSV (field larger"),
    "costs_not_utf8": Row({"c.csv": b"layer,accelerator,time_s\n\xff,acc0,1\n"},
                          IMPORT_COSTS, 1, "c.csv: not a UTF-8 text file"),
    "costs_missing_layer_cost": Row({"c.csv": "layer,accelerator,time_s\nA,acc0,1\n"},
                                    IMPORT_COSTS, 1, "c.csv: accelerator 'acc0': table"
                                                     " cost_model has no time_s for layer 'B'"),
    # ---------------------------------------------------------------- MAESTRO
    "maestro_duplicate_map_row": Row(
        {"map.csv": "maestro_layer,layer,accelerator\nfc_4096_4096,B,acc0\n"
                    "fc_4096_4096,B,acc0\n"},
        IMPORT_MAESTRO, 1, "map.csv line 3: layer 'B' on 'acc0' already given on line 2"),
    "maestro_op_not_run": Row({"map.csv": "maestro_layer,layer,accelerator\nfc_4096_4096,B,acc1\n"},
                              IMPORT_MAESTRO, 1, "line 2: accelerator 'acc1' does not run op 'fc'"),
    "maestro_short_map_row": Row({"map.csv": "maestro_layer,layer,accelerator\nfc_4096_4096\n"},
                                 IMPORT_MAESTRO, 1, "map.csv line 2: unknown layer ''"),
    "maestro_long_map_row": Row({"map.csv": "maestro_layer,layer,accelerator\nx,B,acc0,9\n"},
                                IMPORT_MAESTRO, 1, "map.csv line 2: 4 fields, the header has 3"),
    "maestro_empty_map": Row({"map.csv": "maestro_layer,layer,accelerator\n"},
                             IMPORT_MAESTRO, 1, "map.csv: the layer map has no rows"),
    "maestro_no_match": Row({"map.csv": "maestro_layer,layer,accelerator\nnope,B,acc0\n"},
                            IMPORT_MAESTRO, 1, "line 2: 0 MAESTRO rows match 'nope'"),
    "maestro_short_result_row": Row(
        {"map.csv": "maestro_layer,layer,accelerator\nfc,B,acc0\n",
         "r.csv": "Neural Network Name, Layer Number, NumPEs, Runtime (Cycles),"
                  " Activity count-based Energy (nJ)\nnet,fc,256\n"},
        IMPORT_MAESTRO_R, 1, "r.csv line 2: 3 fields, the header has 5"),
    "maestro_negative_cycles": Row(
        {"map.csv": "maestro_layer,layer,accelerator\nfc,B,acc0\n",
         "r.csv": "Neural Network Name, Layer Number, NumPEs, Runtime (Cycles),"
                  " Activity count-based Energy (nJ)\nnet,fc,256,-5,1\n"},
        IMPORT_MAESTRO_R, 1, "r.csv line 2: Runtime (Cycles) must be finite and >= 0"),
    "maestro_nan_energy": Row(
        {"map.csv": "maestro_layer,layer,accelerator\nfc,B,acc0\n",
         "r.csv": "Neural Network Name, Layer Number, NumPEs, Runtime (Cycles),"
                  " Activity count-based Energy (nJ)\nnet,fc,256,5,nan\n"},
        IMPORT_MAESTRO_R, 1, "r.csv line 2: energy must be finite and >= 0"),
    "maestro_huge_field": Row({"map.csv": "maestro_layer,layer,accelerator\n" + "x" * 200_000},
                              IMPORT_MAESTRO, 1, "map.csv: malformed CSV (field larger"),
    "maestro_clock_zero": Row({"map.csv": "maestro_layer,layer,accelerator\nfc_4096_4096,B,acc0\n"},
                              IMPORT_MAESTRO.replace("200", "0"), 2,
                              "--clock-mhz: expected a positive number"),
    # ---------------------------------------------------------------- generate
    "gen_ccr_zero": Row({}, GEN_RANDOM + " --param ccr=0", 2,
                        "random suite parameter ccr: must be finite and in (0, 1e+06], got 0.0"),
    "gen_ccr_negative": Row({}, GEN_RANDOM + " --param ccr=-1", 2, "parameter ccr: must be"),
    "gen_ccr_infinite": Row({}, GEN_RANDOM + " --param ccr=1e999", 2,
                            "parameter ccr: must be finite and in (0, 1e+06], got inf"),
    "gen_ccr_nan": Row({}, GEN_RANDOM + " --param ccr=NaN", 2,
                       "parameter ccr: expected float, got 'NaN'"),
    "gen_edge_density_above_1": Row({}, GEN_RANDOM + " --param edge_density=1.5", 2,
                                    "parameter edge_density: must be finite and in [0, 1]"),
    "gen_edge_density_negative": Row({}, GEN_RANDOM + " --param edge_density=-0.1", 2,
                                     "parameter edge_density: must be finite and in [0, 1]"),
    "gen_count_zero": Row({}, GEN_BARE + " --param count=0", 2,
                          "random suite parameter count: must be in 1..10000, got 0"),
    "gen_layers_fraction": Row({}, GEN_BARE + " --param layers=2.5", 2,
                               "random suite parameter layers: expected int, got 2.5"),
    "gen_layers_text": Row({}, GEN_BARE + " --param layers=abc", 2,
                           "random suite parameter layers: expected int, got 'abc'"),
    "gen_layers_bool": Row({}, GEN_BARE + " --param layers=true", 2,
                           "random suite parameter layers: expected int, got True"),
    "gen_layers_huge": Row({}, GEN_BARE + " --param layers=1e9", 2,
                           "parameter layers: must be in 1..100000"),
    "gen_heterogeneity_negative": Row({}, GEN_RANDOM + " --param heterogeneity=-1", 2,
                                      "parameter heterogeneity: must be finite and in [0, 4]"),
    "gen_heterogeneity_huge": Row({}, GEN_RANDOM + " --param heterogeneity=1e3", 2,
                                  "parameter heterogeneity: must be finite and in [0, 4], got"
                                  " 1000.0"),
    "gen_ccr_huge": Row({}, GEN_RANDOM + " --param ccr=1e300", 2,
                        "parameter ccr: must be finite and in (0, 1e+06], got 1e+300"),
    "gen_width_zero": Row({}, GEN_RANDOM + " --param width=0", 2,
                          "random suite parameter width: must be in 1..100000, got 0"),
    "gen_models_above_layers": Row({}, GEN_BARE + " --param layers=3 --param models=5", 2,
                                   "parameter models: must be in 1..3, got 5"),
    "gen_comm_unknown": Row({}, GEN_RANDOM + " --param comm=wifi", 2,
                            "parameter comm: must be host or p2p, got 'wifi'"),
    "gen_unknown_param": Row({}, GEN_RANDOM + " --param num_layers=5", 2,
                             "unknown parameter(s) num_layers (known: count, layers, accs"),
    "gen_param_not_key_value": Row({}, GEN_RANDOM + " --param layers", 2,
                                   "--param expects KEY=VALUE, got 'layers'"),
    "gen_param_twice": Row({}, GEN_RANDOM + " --param layers=5 --param layers=6", 2,
                           "--param layers given twice"),
    "gen_paper_param": Row({}, "generate paper -o {d}/set --param layers=5", 2,
                           "paper suite takes no --param (got layers)"),
    "gen_examples_param": Row({}, "generate examples -o {d}/set --param count=1", 2,
                              "examples suite takes no --param (got count)"),
    "gen_small_unknown": Row({}, "generate small -o {d}/set --param layers=5", 2,
                             "small suite: unknown parameter(s) layers (known: count)"),
    "gen_scale_sizes_not_list": Row({}, "generate scale -o {d}/set --param sizes=100", 2,
                                    "scale suite parameter sizes: expected a non-empty list"),
    "gen_scale_sizes_bad_item": Row({}, "generate scale -o {d}/set --param sizes=[10,0.5]", 2,
                                    "scale suite parameter sizes[1]: expected int, got 0.5"),
    "gen_scale_sizes_repeated": Row({}, "generate scale -o {d}/set --param sizes=[10,10]", 2,
                                    "parameter sizes: repeated size"),
    "gen_scale_both": Row({}, "generate scale -o {d}/set --param sizes=[10] --param layers=5",
                          2, "scale suite: give sizes or layers, not both"),
    "gen_negative_seed": Row({}, GEN_RANDOM + " --seed -1", 2,
                             "--seed: expected an integer in 0..2147483647"),
    "gen_output_is_a_file": Row({"set": "x"}, GEN_RANDOM, 2,
                                "exists and is not a directory"),
    # ---------------------------------------------------------------- ONNX
    "onnx_symbolic_spatial": Row({"m.onnx": onnx_model([1, 3, "H", "W"])}, IMPORT_ONNX, 1,
                                 "input 'x' has symbolic dimension(s) 2, 3 (shape [1, 3, H,"
                                 " W]): fix them with --input-shape x=1,3,H,W"),
    "onnx_symbolic_batch": Row({"m.onnx": onnx_model(["batch", 3, 8, 8])}, IMPORT_ONNX, 1,
                               "input 'x' has symbolic dimension(s) 0"),
    "onnx_unknown_dim": Row({"m.onnx": onnx_model([1, 3, None, 8])}, IMPORT_ONNX, 1,
                            "input 'x' has symbolic dimension(s) 2"),
    "onnx_empty_dimension": Row({"m.onnx": onnx_model([1, 0, 8, 8])}, IMPORT_ONNX, 1,
                                "input 'x' has an empty dimension 1 (shape [1, 0, 8, 8])"),
    "onnx_pool_on_rank_2": Row({"m.onnx": onnx_model([1, 3], op="GlobalAveragePool")},
                               IMPORT_ONNX, 1, "node 'gap' (GlobalAveragePool): unexpected"
                                               " attributes or tensor ranks"),
    "onnx_override_unknown_input": Row({"m.onnx": CONV_NHW},
                                       IMPORT_ONNX + " --input-shape y=1,3,8,8", 1,
                                       "--input-shape y: no model input of that name"
                                       " (inputs: x)"),
    "onnx_override_rank": Row({"m.onnx": CONV_NHW}, IMPORT_ONNX + " --input-shape x=1,3,8", 1,
                              "--input-shape x: 3 dimensions, the model's input has 4"),
    "onnx_override_conflict": Row({"m.onnx": CONV_NHW},
                                  IMPORT_ONNX + " --input-shape x=1,4,8,8", 1,
                                  "--input-shape x: dimension 1 is 3 in the model, not 4"),
    "onnx_override_syntax": Row({"m.onnx": CONV_NHW}, IMPORT_ONNX + " --input-shape x=1,a", 2,
                                "--input-shape expects NAME=D0,D1,... with positive integers"),
    "onnx_override_zero": Row({"m.onnx": CONV_NHW}, IMPORT_ONNX + " --input-shape x=1,3,0,8",
                              2, "--input-shape expects NAME=D0,D1,..."),
    "onnx_override_twice": Row({"m.onnx": CONV_NHW}, IMPORT_ONNX
                               + " --input-shape x=1,3,8,8 --input-shape x=1,3,9,9", 2,
                               "--input-shape x given twice"),
    "onnx_unknown_after_inference": Row(
        {"m.onnx": onnx_model([1, 3, 8, 8], reshape=True,
                              extra_inputs=(("s", 7, [4]),))},  # 7 = INT64
        IMPORT_ONNX, 1, "node 'conv': tensor 'c' has an unknown dimension after shape"),
    "onnx_bandwidth_zero": Row({"m.onnx": CONV}, IMPORT_ONNX + " --bandwidth 0", 2,
                               "--bandwidth: expected a positive number, got '0'"),
    "onnx_bandwidth_negative": Row({"m.onnx": CONV}, IMPORT_ONNX + " --bandwidth=-1", 2,
                                   "--bandwidth: expected a positive number, got '-1'"),
    "onnx_bandwidth_nan": Row({"m.onnx": CONV}, IMPORT_ONNX + " --bandwidth nan", 2,
                              "--bandwidth: expected a positive number, got 'nan'"),
    "onnx_bandwidth_inf": Row({"m.onnx": CONV}, IMPORT_ONNX + " --bandwidth inf", 2,
                              "--bandwidth: expected a positive number, got 'inf'"),
    "onnx_element_bytes_zero": Row({"m.onnx": CONV}, IMPORT_ONNX + " --element-bytes 0", 2,
                                   "--element-bytes: expected a positive integer"),
    "onnx_unknown_system": Row({"m.onnx": CONV}, IMPORT_ONNX + " --system nope", 2,
                               "unknown system 'nope'"),
    "onnx_unsupported_op": Row({"m.onnx": onnx_model([1, 3, 8, 8], op="Hardmax")},
                               IMPORT_ONNX, 1, "node 'odd': op 'Hardmax' is neither a layer"
                                               " nor an op that folds into its producer"),
    "onnx_groups_not_dividing": Row({"m.onnx": onnx_model([1, 3, 8, 8], group=3)}, IMPORT_ONNX,
                                    1, "node 'conv': layer 'conv': shape.G = 3 groups must be"
                                       " a whole number >= 1 dividing M = 4"),
    "onnx_lstm_without_hidden_size": Row({"m.onnx": onnx_model([5, 1, 8], op="LSTM")},
                                         IMPORT_ONNX, 1, "node 'lstm'"),
    "onnx_not_a_model": Row({"m.onnx": b"\x00\x01 not a protobuf \xff"}, IMPORT_ONNX, 1,
                            "not a readable ONNX model"),
    "onnx_missing_file": Row({}, IMPORT_ONNX, 1, "m.onnx: not a readable ONNX model"),
    # ---------------------------------------------------------------- GXL
    "gxl_absurd_node_weight": Row({"g.gxl": gxl({"a": "1e23"}, [])}, IMPORT_GXL, 1,
                                  "GXL node 'a': weight must be in 0..1e+09, got '1e23'"),
    "gxl_absurd_edge_weight": Row({"g.gxl": gxl(AB, [("a", "b", "1e23")])}, IMPORT_GXL, 1,
                                  "GXL edge 'a'->'b': weight must be in 0..1e+09"),
    "gxl_negative_weight": Row({"g.gxl": gxl({"a": "-1"}, [])}, IMPORT_GXL, 1,
                               "GXL node 'a': weight must be in 0..1e+09, got '-1'"),
    "gxl_infinite_weight": Row({"g.gxl": gxl({"a": "inf"}, [])}, IMPORT_GXL, 1,
                               "GXL node 'a': weight must be in 0..1e+09, got 'inf'"),
    "gxl_edge_without_to": Row({"g.gxl": gxl(AB, [("a", None, "1")])}, IMPORT_GXL, 1,
                               "GXL: an <edge> without to"),
    "gxl_edge_unknown_node": Row({"g.gxl": gxl(AB, [("a", "z", "1")])}, IMPORT_GXL, 1,
                                 "GXL edge 'a'->'z': unknown node 'z'"),
    "gxl_duplicate_node": Row({"g.gxl": gxl(AB, []).replace("<node id='b'", "<node id='a'")},
                              IMPORT_GXL, 1, "GXL: node 'a' appears twice"),
    "gxl_duplicate_edge": Row({"g.gxl": gxl(AB, [("a", "b", "1"), ("a", "b", "2")])},
                              IMPORT_GXL, 1, "edge a->b: duplicate edge"),
    "gxl_cycle": Row({"g.gxl": gxl(AB, [("a", "b", "1"), ("b", "a", "1")])}, IMPORT_GXL, 1,
                     "cycle"),
    "gxl_self_loop": Row({"g.gxl": gxl(AB, [("a", "a", "1")])}, IMPORT_GXL, 1, "self-loop"),
    "gxl_no_nodes": Row({"g.gxl": "<gxl><graph/></gxl>"}, IMPORT_GXL, 1,
                        "GXL: the graph has no nodes"),
    "gxl_not_xml": Row({"g.gxl": "<gxl><graph>"}, IMPORT_GXL, 1, "not well-formed XML"),
    "gxl_not_utf8": Row({"g.gxl": b"<gxl>\xff</gxl>"}, IMPORT_GXL, 1, "not a UTF-8 text file"),
    "gxl_procs_negative": Row({"g.gxl": gxl(AB, [])},
                              "import gxl {d}/g.gxl --procs=-2 -o {d}/out.json", 2,
                              "--procs: expected a positive integer"),
    # ---------------------------------------------------------------- XRBench
    "xrbench_unclosed_network": Row({"s.m": "Network A {\nFPS: 3\n"}, IMPORT_XR, 1,
                                    "s.m:2: unexpected end of file, expected FPS,"
                                    " Probability, Dependency or Layer"),
    "xrbench_dataflow_count": Row({"s.m": XR_OK}, IMPORT_XR.replace("WS_OS.m", "OS.m"), 1,
                                  "OS.m: 1 Dataflow block(s) for the 2 accelerator(s)"),
    "xrbench_missing_hw_file": Row({"s.m": XR_OK}, IMPORT_XR.replace("Dual_4K.m", "Nope.m"),
                                   1, "Nope.m"),
    "xrbench_no_hw_flag": Row({"s.m": XR_OK}, "import xrbench {d}/s.m -o {d}/out.json", 2,
                              "the following arguments are required: --hw, --dataflows"),
    "xrbench_not_utf8": Row({"s.m": b"Network \xff {"}, IMPORT_XR, 1, "not a UTF-8 text file"),
    "xrbench_fps_zero": Row({"s.m": XR_OK.replace("FPS: 30", "FPS: 0")}, IMPORT_XR, 1,
                            "s.m:2: FPS: must be > 0, got 0"),
    "xrbench_duplicate_dimension": Row({"s.m": XR_OK.replace("R: 1,", "R: 1, R: 2,")},
                                       IMPORT_XR, 1, "s.m:5: layer 'l': dimension 'R' given"
                                                     " twice"),
    "xrbench_cycle": Row({"s.m": XR_OK.replace("FPS: 30", "FPS: 30\nDependency: { B }")
                          + XR_OK.replace("A {", "B {").replace("FPS: 30",
                                                                 "FPS: 30\nDependency: { A }")},
                         IMPORT_XR, 1, "s.m:1: network 'A': its Dependency chain comes back"),
    "xrbench_fractional_pes": Row(
        {"s.m": XR_OK, "hw.m": "Accelerator A {\n num_pes: 64.5\n offchip_bw: 8\n"
                               " global_shared_memory: 1024\n}\n"},
        IMPORT_XR.replace(f"{XR}/hw_configs/Dual_4K.m", "{d}/hw.m").replace(
            "WS_OS.m", "WS.m"), 1, "hw.m:5: accelerator 'A': num_pes must be a whole number"),
    "xrbench_duplicate_accelerator": Row(
        {"s.m": XR_OK, "hw.m": 2 * "Accelerator A {\n num_pes: 64\n offchip_bw: 8\n"
                                   " global_shared_memory: 1024\n}\n"},
        IMPORT_XR.replace(f"{XR}/hw_configs/Dual_4K.m", "{d}/hw.m"), 1,
        "hw.m:6: accelerator 'A' appears twice"),
    "xrbench_output_is_its_input": Row({"s.m": XR_OK}, IMPORT_XR.replace("{d}/out.json",
                                                                         "{d}/s.m"), 2,
                                       "s.m: is an input of this command"),
    "onnx_output_is_its_input": Row({"m.onnx": CONV}, "import onnx {d}/m.onnx -o {d}/m.onnx",
                                    2, "m.onnx: is an input of this command"),
    # ---------------------------------------------------------------- outputs, sizes
    "stg_procs_huge": Row({"g.stg": stg(*STG_OK)},
                          "import stg {d}/g.stg --procs 1000000000 -o {d}/out.json", 2,
                          "--procs must be an integer in 1..1024, got 1000000000"),
    "gxl_procs_huge": Row({"g.gxl": gxl(AB, [])},
                          "import gxl {d}/g.gxl --procs 5000 -o {d}/out.json", 2,
                          "--procs must be an integer in 1..1024, got 5000"),
    "stg_output_is_a_directory": Row({"g.stg": stg(*STG_OK), "o/keep": "x"},
                                     "import stg {d}/g.stg --procs 2 -o {d}/o", 2,
                                     "o: is a directory (give a file name)"),
    "costs_output_is_a_directory": Row({"c.csv": "layer,accelerator,time_s\nA,acc0,1\n"
                                                 "B,acc0,1\n", "o/keep": "x"},
                                       f"import costs {{d}}/c.csv --instance {GOOD} -o {{d}}/o",
                                       2, "o: is a directory"),
}


def _make(d: Path, files: dict[str, Any]) -> None:
    for name, content in files.items():
        path = d / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if callable(content):
            content(path)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, Path):
            shutil.copy(content, path)
        else:
            path.write_text(content)


@pytest.mark.parametrize("case", sorted(ROWS))
def test_bad_input_is_one_line(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
                               ) -> None:
    row = ROWS[case]
    _make(tmp_path, row.files)
    before = set(tmp_path.rglob("*"))
    rc = main(row.argv.format(d=tmp_path).split())
    err = capsys.readouterr().err
    assert "Traceback" not in err
    # argparse's own errors (exit 2) come after its usage block, which is not counted
    lines = [ln for ln in err.splitlines()
             if ln.strip() and not ln.startswith(("usage:", " "))]
    assert len(lines) == 1, err
    assert row.fragment in lines[0], lines[0]
    assert rc == row.code, err
    assert set(tmp_path.rglob("*")) == before  # nothing written


def test_the_table_is_large_enough() -> None:
    assert len(ROWS) >= 30



def test_input_shape_override_fixes_symbolic_dimensions(tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    from h2h_opt.io import read_instance

    CONV_NHW(tmp_path / "m.onnx")
    out = tmp_path / "out.json"
    assert main(["import", "onnx", str(tmp_path / "m.onnx"), "-o", str(out),
                 "--input-shape", "x=1,3,16,12"]) == 0
    (conv,) = read_instance(out).workload.layers
    assert dict(conv.shape) == {"M": 4, "N": 3, "R": 16, "C": 12, "K": 3, "S": 1, "P": 1}


def test_scale_sizes_are_parameters(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                    ) -> None:
    import json

    assert main(["generate", "scale", "-o", str(tmp_path / "a"), "--param", "sizes=[12,20]",
                 "--param", "accs=2", "--json"]) == 0
    written = json.loads(capsys.readouterr().out)["written"]
    assert [Path(f).name for f in written] == ["random-n12-a2-host-s0.json",
                                               "random-n20-a2-host-s0.json", "MANIFEST.json"]
    assert main(["generate", "scale", "-o", str(tmp_path / "b"), "--param", "layers=9",
                 "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["written"]) == 2


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"num_layers": 2.5}, "num_layers must be a positive integer"),
    ({"width": 0}, "width must be a positive integer"),
    ({"edge_density": 2.0}, "edge_density must be a finite number in [0, 1]"),
    ({"ccr": float("nan")}, "ccr must be a finite number"),
    ({"heterogeneity": -1.0}, "heterogeneity must be a finite number"),
])
def test_random_layered_checks_its_arguments(kwargs: dict[str, Any], fragment: str) -> None:
    from h2h_opt.library.generate import random_layered

    with pytest.raises(ValueError, match=fragment.replace("[", r"\[")):
        random_layered(**kwargs)
