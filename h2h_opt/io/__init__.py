"""Files in and out: versioned JSON (instances, schedules, results) with one published
schema, and importers of the formats the field uses (STG, GXL, MAESTRO, ONNX, cost CSV).

Every malformed input is an :class:`InputError` of one line naming the file and the
place (JSON path, line, id).  The ONNX importer needs the optional ``onnx`` package and
is imported on use (``from h2h_opt.io.onnx import read_onnx``).
"""

from .costs import import_cost_csv, replace_cost_tables
from .files import (
    FORMAT_VERSION,
    InputError,
    OutputError,
    atomic_path,
    atomic_write,
    check_output,
    dump_instance,
    dump_result,
    dump_schedule,
    instance_problems,
    instance_schema,
    load_json,
    parse_instance,
    parse_result,
    parse_schedule,
    read_instance,
    read_result,
    read_schedule,
    read_text,
    write_instance,
    write_json,
    write_result,
    write_schedule,
)
from .gxl import parse_gxl, read_gxl
from .maestro import read_maestro
from .stg import parse_stg, read_stg
from .task_graph import task_graph_instance

__all__ = [
    "FORMAT_VERSION",
    "InputError",
    "OutputError",
    "atomic_path",
    "atomic_write",
    "check_output",
    "dump_instance",
    "dump_result",
    "dump_schedule",
    "import_cost_csv",
    "instance_problems",
    "instance_schema",
    "load_json",
    "parse_gxl",
    "parse_instance",
    "parse_result",
    "parse_schedule",
    "parse_stg",
    "read_gxl",
    "read_instance",
    "read_maestro",
    "read_result",
    "read_schedule",
    "read_stg",
    "read_text",
    "replace_cost_tables",
    "task_graph_instance",
    "write_instance",
    "write_json",
    "write_result",
    "write_schedule",
]
