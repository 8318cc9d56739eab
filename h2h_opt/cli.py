"""The ``h2h`` command line: thin wrappers around the library.

Exit codes: 0 ok; 1 infeasible schedule or invalid input; 2 usage error.
Errors are one line on stderr (``h2h: ...``), never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import __version__
from .evaluate import evaluate
from .io import (
    InputError,
    OutputError,
    check_output,
    dump_instance,
    import_cost_csv,
    instance_problems,
    instance_schema,
    read_instance,
    read_schedule,
    read_stg,
    write_instance,
    write_json,
    write_schedule,
)
from .model import LOCALITIES, Instance, ModelError

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad command-line usage (exit 2)."""


def _fmt_bytes(x: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(x) < 1000 or unit == "TB":
            return f"{x:.4g} {unit}"
        x /= 1000
    return f"{x:.4g} TB"


def _fmt_bw(x: float) -> str:
    return "unlimited" if not np.isfinite(x) else f"{x / 1e9:g} GB/s"


def _emit(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(data, indent=1, allow_nan=False, default=_json_default))
    else:
        print(text)


def _json_default(x: Any) -> Any:
    if isinstance(x, np.generic):
        return x.item()
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


# --------------------------------------------------------------------------- commands


def cmd_validate(args: argparse.Namespace) -> int:
    problems = instance_problems(args.instance)
    if problems:  # every problem on stdout, one line each; one summary line on stderr
        if getattr(args, "json", False):
            print(json.dumps({"valid": False, "file": str(args.instance),
                              "errors": problems}, indent=1))
        elif len(problems) > 1:
            print("\n".join(problems))
        more = f" (and {len(problems) - 1} more, listed above)" if len(problems) > 1 else ""
        raise InputError(problems[0] + more)
    inst = read_instance(args.instance)
    _emit(args, {"valid": True, "file": str(args.instance), "name": inst.name,
                 "layers": inst.num_layers, "accelerators": inst.num_accs},
          f"{args.instance}: valid ({inst.num_layers} layers, {inst.num_accs} accelerators)")
    return EXIT_OK


def _zoo_info(args: argparse.Namespace) -> int:
    from .library.info import bundled_info

    doc = bundled_info()
    lines = ["workloads (MMMT):"]
    for name, w in doc["workloads"].items():
        lines.append(f"  {name:<15} {w['layers']:>4} layers, models {', '.join(w['models'])}")
        lines.append(f"  {'':<15} {w['source']}")
    lines.append("systems (dataflow accelerators; plus fpga1, fpga2 = SPEC §8):")
    for name, members in doc["systems"].items():
        lines.append(f"  {name:<10} {', '.join(members)}")
    lines.append("accelerators:")
    for name, t in doc["accelerators"].items():
        lines.append(f"  {name:<14} {t['dataflow']:<18} {t['pes']:>5} PEs"
                     f" {t['clock_mhz']:>4} MHz  ops={','.join(t['ops'])}")
    lines.append("host bandwidths (GB/s): " + ", ".join(f"{b:g}" for b in doc["bandwidths_gbps"]))
    lines.append("suites (h2h generate SUITE [--param KEY=VALUE ...]):")
    lines += [f"  {name:<10} {text}" for name, text in doc["suites"].items()]
    _emit(args, doc, "\n".join(lines))
    return EXIT_OK


def cmd_info(args: argparse.Namespace) -> int:
    if args.instance is None:
        return _zoo_info(args)
    from .library.info import instance_info

    info = instance_info(read_instance(args.instance))
    lines = [
        f"instance     {info['name']}",
        f"layers       {info['layers']} in {len(info['models'])} model(s): "
        + ", ".join(f"{m} ({k})" for m, k in info["models"].items()),
    ]
    for m, mi in info["model_info"].items():
        trig = ""
        if mi["after"] is not None:
            p = mi["probability"]
            trig = f"  triggered by {mi['after']}" + ("" if p is None else f" (p={p:g})")
        lines.append(f"  {m:<24} {info['models'][m]:>4} layers"
                     + ("" if mi["fps"] is None else f"  {mi['fps']:g} fps") + trig)
    lines += [
        f"edges        {info['edges']}",
        "ops          " + ", ".join(f"{op} x{k}" for op, k in info["ops"].items()),
        f"options      comm={info['options']['comm']} locality={info['options']['locality']}"
        f" objective={info['options']['objective']} b={info['options']['element_bytes']}",
        f"compute      {info['total_macs']:.4g} MACs; {info['total_min_compute_s']:.6g} s"
        " summed at each layer's fastest accelerator",
        f"weights      {_fmt_bytes(info['total_weight_bytes'])}",
        f"activations  {_fmt_bytes(info['total_activation_bytes'])} (edges + sensor inputs)",
        f"accelerators {len(info['accelerators'])}:",
    ]
    for a in info["accelerators"]:
        cap = a["weight_capacity_bytes"]
        lines.append(
            f"  {a['id']:<14} {a['cost_model']:<13}"
            + (f" {a['dataflow']} {a['pes']} PEs" if "dataflow" in a else "")
            + f" ops={','.join(a['ops'])}"
            f"  P={a['power_w']:g} W  B={_fmt_bw(a['host_bandwidth_bps'] or np.inf)}"
            f"  Cap={'unlimited' if cap is None else _fmt_bytes(cap)}"
            f"  runs {a['runnable_layers']} layers"
        )
    _emit(args, info, "\n".join(lines))
    return EXIT_OK


def _with_locality(inst: Instance, locality: str | None) -> Instance:
    """``inst`` with its ``options.locality`` overridden (``--locality``)."""
    if locality is None or locality == inst.options.locality:
        return inst
    import dataclasses

    return dataclasses.replace(inst, options=dataclasses.replace(inst.options,
                                                                 locality=locality))


def cmd_evaluate(args: argparse.Namespace) -> int:
    if args.mip_bound and args.no_bound:
        raise UsageError("--mip-bound tightens the bound that --no-bound skips: pass one")
    sched = read_schedule(args.schedule)
    locality = args.locality or sched.meta.get("locality_override")
    if locality is not None and args.locality is None:
        print(f"h2h: note: evaluating with locality {locality!r}, the --locality the"
              " schedule was solved with", file=sys.stderr)
    inst = _with_locality(read_instance(args.instance), locality)
    ev = evaluate(inst, sched)
    other = (f"; the schedule is for instance {sched.instance!r}, not {inst.name!r}"
             if sched.instance != inst.name else "")
    if other and ev.feasible:
        print(f"h2h: warning: {other[2:]}", file=sys.stderr)
    def figure(x: float, unit: str) -> str:
        return "n/a" if math.isnan(x) else f"{x:.6g} {unit}"

    text = [f"feasible  {'yes' if ev.feasible else 'NO'}",
            f"latency   {figure(ev.latency, 's')}", f"energy    {figure(ev.energy, 'J')}",
            f"locality  {ev.locality or inst.options.locality}"]
    # a schedule that misses layers has no latency or energy: null, not NaN, in JSON
    summary = {k: None if isinstance(v, float) and math.isnan(v) else v
               for k, v in ev.summary().items()}
    summary["objective"] = inst.options.objective
    if ev.feasible and not args.no_bound:  # how far from optimal: the cheap bound
        from .cost import compile_tables
        from .solvers.bounds import lower_bound

        tables = compile_tables(inst)
        lb = lower_bound(inst, tables)
        energy = inst.options.objective == "energy"
        if args.mip_bound and not energy:  # the same LP with a 0/1 mapping: tighter
            from .solvers.bounds import MappingBound

            with MappingBound(inst, tables, args.mip_bound, lp=lb) as running:  # (Ctrl-C stops it)
                mip = running.result(wait=True)
            if mip is not None and mip.value > lb.value:
                lb = mip
        value, unit = (ev.energy, "J") if energy else (ev.latency, "s")
        gap = max(0.0, (value - lb.value) / value) if value > 0 else 0.0
        text.append(f"bound     {lb.value:.6g} {unit} (gap {100 * gap:.2f} %; {lb.source})")
        summary.update(bound=lb.value, bound_source=lb.source, gap=gap)
    violations = list(dict.fromkeys(f"[{v.kind}] {v.message}" for v in ev.violations))
    for line in violations[: args.max_violations]:
        text.append(f"  {line}")
    if len(violations) > args.max_violations:
        more = len(violations) - args.max_violations
        text.append(f"  ... and {more} more violation{'' if more == 1 else 's'}")
    summary["instance"] = inst.name
    _emit(args, summary, "\n".join(text))
    if ev.feasible:
        return EXIT_OK
    print(f"h2h: error: {args.schedule}: infeasible ({len(violations)} violation"
          f"{'' if len(violations) == 1 else 's'}{other})", file=sys.stderr)
    return EXIT_INVALID


def _parse_options(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--option expects KEY=VALUE, got {item!r}")
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    return out


def options_rows(solver: str) -> list[dict[str, str]]:
    """The declared options of ``solver``: name, type, allowed, default, help."""
    from .solvers import solver_options

    return [o.describe() for o in solver_options(solver)]


OPTION_COLUMNS = ("name", "type", "allowed", "default", "help")


def options_text(solver: str) -> str:
    """What ``h2h solve --solver SOLVER --list-options`` prints: one aligned row per
    option."""
    rows = options_rows(solver)
    if not rows:
        return f"solver {solver!r} takes no options"
    head = {c: c for c in OPTION_COLUMNS}
    width = {c: max(len(r[c]) for r in [head, *rows]) for c in OPTION_COLUMNS[:-1]}
    return "\n".join("  ".join(r[c].ljust(width[c]) for c in OPTION_COLUMNS[:-1]) + "  "
                     + r["help"] for r in [head, *rows])


def options_markdown(solver: str) -> str:
    """The declared options of ``solver`` as a markdown table (the README's solver
    options section; ``tests/solvers/test_options.py`` keeps the two equal)."""
    rows = options_rows(solver)
    lines = [f"`{solver}`" + ("" if rows else ": no options")]
    if rows:
        lines += ["", "| option | type | allowed | default | what it does |",
                  "|---|---|---|---|---|"]
        lines += [f"| `{r['name']}` | {r['type']} | {r['allowed']} | `{r['default']}` |"
                  f" {r['help']} |" for r in rows]
    return "\n".join(lines)


def options_reference() -> str:
    """Every registered solver's options as markdown tables: the README section between
    ``OPTIONS_BEGIN`` and ``OPTIONS_END`` (``python scripts/readme_options.py`` writes
    it, a test keeps it equal)."""
    from .solvers import solver_names

    return "\n\n".join(options_markdown(name) for name in solver_names())


OPTIONS_BEGIN = "<!-- solver-options:begin (generated: python scripts/readme_options.py) -->"
OPTIONS_END = "<!-- solver-options:end -->"


def cmd_solve(args: argparse.Namespace) -> int:
    from .io import write_result
    from .solvers import OptionError, SolveParams, solve

    if args.list_options:
        if args.instance is not None or args.option:
            raise UsageError("--list-options takes only --solver (and --json)")
        _emit(args, {"solver": args.solver, "options": options_rows(args.solver)},
              options_text(args.solver))
        return EXIT_OK
    if args.instance is None:
        raise UsageError("solve: the instance argument is required (except with"
                         " --list-options)")
    _check_solve_outputs(args)
    inst = _with_locality(read_instance(args.instance), args.locality)
    unit = "J" if inst.options.objective == "energy" else "s"

    def show(p: dict[str, Any]) -> None:
        inc, bnd = p.get("incumbent"), p.get("bound")
        gap = f"  gap {100 * (inc - bnd) / inc:5.1f} %" if inc and bnd is not None else ""
        def fmt(x: float | None) -> str:
            return "none yet" if x is None else f"{x:.6g} {unit}"

        print(f"  {p['elapsed_s']:7.1f} s  incumbent {fmt(inc)}  bound {fmt(bnd)}{gap}",
              file=sys.stderr, flush=True)

    params = SolveParams(time_limit_s=args.time_limit, seed=args.seed, workers=args.workers,
                         rel_gap=args.rel_gap, log=args.log,
                         options=_parse_options(args.option or []),
                         progress=None if args.quiet or args.json else show)
    try:
        res = solve(inst, args.solver, params)
    except OptionError as exc:  # a bad --option is a usage error (exit 2)
        raise UsageError(str(exc)) from None
    if args.locality is not None and res.schedule is not None:  # evaluate applies it again
        res.schedule = res.schedule.with_meta(locality_override=args.locality)
    wrote: list[str] = []

    def note(text: str) -> None:
        print(f"h2h: {text}", file=sys.stderr)

    skipped = [f"{flag} {path}" for flag, path in (("-o", args.output),
                                                    ("--gantt", args.gantt))
               if path and res.schedule is None]
    if skipped and res.has_solution:  # (no solution: said in the error line below)
        note(f"warning: no schedule to write; skipped {', '.join(skipped)}")
    # the drawing first (the likeliest to fail): a failure then leaves -o and --result
    # as they were; each file is written atomically
    if args.gantt and res.schedule is not None:
        from .experiments.plots import save_gantt

        save_gantt(inst, res.schedule, args.gantt,
                   title=f"{inst.name} / {res.solver}: latency {res.latency:.4g} s,"
                         f" energy {res.energy:.4g} J")
    if args.output and res.schedule is not None:
        write_schedule(res.schedule, args.output)
        wrote.append(f"schedule  {args.output}")
    if args.result:
        write_result(res, args.result)
        wrote.append(f"result    {args.result}")
    if args.gantt and res.schedule is not None:
        wrote.append(f"gantt     {args.gantt}")
    if args.log not in (None, "console", "-") and res.solver in ("cpsat", "milp"):
        wrote.append(f"log       {args.log} (appended)")
    from .io import dump_result

    text = [f"instance  {inst.name}", f"solver    {res.solver}",
            f"status    {res.status.value} ({res.termination.value})",
            f"latency   {res.latency:.6g} s", f"energy    {res.energy:.6g} J",
            f"time      {res.time_s:.3f} s"]
    if res.bound is not None:
        gap_text = "no schedule" if res.gap is None else f"gap {100 * res.gap:.2f} %"
        source = res.info.get("bound_source")
        text.append(f"bound     {res.bound:.6g} {unit} ({gap_text}"
                    f"{f'; {source}' if source else ''})")
    if res.steps:
        from .experiments.plots import steps_table

        text += ["", steps_table(res.steps)]
    for key in ("evaluations", "accepted_moves", "budget_hit"):
        if key in res.info:
            text.append(f"{key:<9} {res.info[key]}")
    text += [f"wrote {w}" for w in wrote]
    doc = dump_result(res)
    if not args.full_json:
        doc.pop("schedule", None)
    _emit(args, doc, "\n".join(text))
    if args.json:  # stdout is JSON: where the files went goes to stderr
        for w in wrote:
            note("wrote " + " ".join(w.split()))
    if res.has_solution:
        return EXIT_OK
    not_written = f"; not written: {', '.join(skipped)}" if skipped else ""
    why = res.info.get("energy_cap_infeasible") or res.info.get("energy_cap_missed")
    note(f"error: {res.solver} found no schedule (status {res.status.value},"
         f" {res.termination.value}{': ' + why if why else ''}){not_written}")
    return EXIT_INVALID


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def _check_solve_outputs(args: argparse.Namespace) -> None:
    """Refuse bad output paths before solving: each must be writable, none may be the
    input or another output, the Gantt chart's format must be one matplotlib draws."""
    outs = [(flag, path) for flag, path in (("-o", args.output), ("--result", args.result),
                                            ("--gantt", args.gantt)) if path]
    log = args.log if args.log not in (None, "console", "-") else None
    for flag, path in [*outs, *([("--log", log)] if log else [])]:
        if _same_file(path, args.instance):
            raise InputError(f"{path}: {flag} would overwrite the input instance; give"
                             " another file name")
        try:
            if flag == "--gantt":
                from .experiments.plots import check_figure_path

                check_figure_path(path)
            else:
                check_output(path)
        except OutputError as exc:
            raise OutputError(f"{flag} {exc}") from None
    for i, (flag, path) in enumerate(outs):
        for flag2, path2 in outs[i + 1:]:
            if _same_file(path, path2):
                raise UsageError(f"{flag} and {flag2} name the same file {path}")


def _write_imported(inst: Any, path: str, args: argparse.Namespace | None = None) -> None:
    """Write an imported instance: an existing directory, or one of the command's own
    input files (``args``), is a usage error; a failed write one line (exit 1), never a
    traceback."""
    from pathlib import Path

    if Path(path).is_dir():
        raise UsageError(f"-o {path}: is a directory (give a file name)")
    for key, value in (vars(args) if args is not None else {}).items():
        for item in value if isinstance(value, list) else [value]:
            if key != "output" and isinstance(item, str) and Path(item).is_file() \
                    and Path(item).resolve() == Path(path).resolve():
                raise UsageError(f"-o {path}: is an input of this command (it would be"
                                 " overwritten)")
    try:
        write_instance(inst, path)
    except OSError as exc:
        raise InputError(f"{path}: cannot write ({exc.strerror or exc})") from None


def _write_task_graph(args: argparse.Namespace, inst: Any, note: str) -> int:
    _write_imported(inst, args.output, args)
    _emit(args, {"output": str(args.output), "layers": inst.num_layers,
                 "accelerators": inst.num_accs},
          f"wrote {args.output}: {inst.num_layers} tasks, {len(inst.workload.edges)} edges,"
          f" {inst.num_accs} processors{note}")
    return EXIT_OK


def _check_procs(procs: int) -> None:
    from .io.task_graph import check_procs

    try:
        check_procs(procs)
    except InputError as exc:
        raise UsageError(str(exc)) from None


def cmd_import_stg(args: argparse.Namespace) -> int:
    _check_procs(args.procs)
    return _write_task_graph(args, read_stg(args.file, args.procs), "")


def cmd_import_gxl(args: argparse.Namespace) -> int:
    from .io import read_gxl

    _check_procs(args.procs)
    return _write_task_graph(args, read_gxl(args.file, args.procs),
                             " (p2p, uniform delays)")


def cmd_import_maestro(args: argparse.Namespace) -> int:
    from .io import read_maestro

    inst = read_maestro(read_instance(args.instance), args.csv, args.layer_map, args.clock_mhz)
    _write_imported(inst, args.output, args)
    _emit(args, {"output": str(args.output)}, f"wrote {args.output}")
    return EXIT_OK


def _input_shapes(items: list[str]) -> dict[str, tuple[int, ...]]:
    """``--input-shape NAME=1,3,224,224`` pairs (each input at most once)."""
    out: dict[str, tuple[int, ...]] = {}
    for item in items:
        name, sep, raw = item.rpartition("=")
        try:
            dims = tuple(int(x) for x in raw.split(","))
        except ValueError:
            dims = ()
        if not sep or not name or not dims or min(dims) < 1:
            raise UsageError(f"--input-shape expects NAME=D0,D1,... with positive integers,"
                             f" got {item!r}")
        if name in out:
            raise UsageError(f"--input-shape {name} given twice")
        out[name] = dims
    return out


def cmd_import_onnx(args: argparse.Namespace) -> int:
    from .io.onnx import read_onnx_models
    from .library.zoo import system_preset

    try:
        system = system_preset(args.system, args.bandwidth)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    folded: list[str] = []
    inst = read_onnx_models(args.model, system, element_bytes=args.element_bytes,
                            input_shapes=_input_shapes(args.input_shape or []),
                            fold_unknown=args.fold_unknown, folded=folded)
    _write_imported(inst, args.output, args)
    ops: dict[str, int] = {}
    for layer in inst.workload.layers:
        ops[layer.op] = ops.get(layer.op, 0) + 1
    models = len({layer.model for layer in inst.workload.layers})
    text = (f"wrote {args.output}: {inst.num_layers} layers in {models} model(s) ("
            + ", ".join(f"{op} x{k}" for op, k in ops.items()) + f") on {args.system}")
    if folded:
        text += f"\nfolded {len(folded)} node(s) of unknown ops: " + ", ".join(folded)
    _emit(args, {"output": str(args.output), "layers": inst.num_layers, "models": models,
                 "ops": ops, "folded_unknown": folded}, text)
    return EXIT_OK


def cmd_import_xrbench(args: argparse.Namespace) -> int:
    from .io.xrbench import read_xrbench

    inst = read_xrbench(args.scenario, args.hw, args.dataflows, clock_mhz=args.clock_mhz,
                        element_bytes=args.element_bytes)
    _write_imported(inst, args.output, args)
    wl = inst.workload
    models = {m: sum(1 for layer in wl.layers if layer.model == m) for m in wl.models}
    flows = [str(a.cost_model["dataflow"]) for a in inst.system.accelerators]
    _emit(args, {"output": str(args.output), "layers": inst.num_layers, "models": models,
                 "dataflows": flows},
          f"wrote {args.output}: {inst.num_layers} layers in {len(models)} network(s) on"
          f" {len(flows)} accelerator(s) ({', '.join(flows)})")
    return EXIT_OK


def cmd_import_costs(args: argparse.Namespace) -> int:
    inst = import_cost_csv(read_instance(args.instance), args.csv)
    _write_imported(inst, args.output, args)
    _emit(args, {"output": str(args.output)}, f"wrote {args.output}")
    return EXIT_OK


def _parse_params(items: list[str]) -> dict[str, Any]:
    """``--param KEY=VALUE`` pairs: VALUE is JSON (``2``, ``0.5``, ``[100,1000]``), else a
    string; a key given twice is refused."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--param expects KEY=VALUE, got {item!r}")
        if key in out:
            raise UsageError(f"--param {key} given twice")
        try:
            out[key] = json.loads(raw, parse_constant=str)  # NaN, Infinity: refused later
        except json.JSONDecodeError:
            out[key] = raw
    return out


def cmd_generate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .library.suites import SUITES, write_suite

    if args.suite not in SUITES:
        raise UsageError(f"unknown suite {args.suite!r} (available: {', '.join(SUITES)})")
    if Path(args.output).exists() and not Path(args.output).is_dir():
        raise UsageError(f"-o {args.output}: exists and is not a directory")

    def show(k: int, total: int, name: str) -> None:
        if not args.json:
            print(f"  [{k}/{total}] {name}", file=sys.stderr, flush=True)

    try:
        files = write_suite(args.suite, args.output, args.seed,
                            _parse_params(args.param or []), progress=show)
    except ModelError:  # an output that cannot be written, an invalid instance: exit 1
        raise
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    num_sched = sum(f.endswith(".schedule.json") for f in files)
    _emit(args, {"written": files}, f"wrote {len(files) - 1 - num_sched} instances"
          + (f", {num_sched} schedule(s)" if num_sched else "") + f" and {files[-1]}")
    return EXIT_OK


def _solver_list(text: str) -> tuple[str, ...]:
    from .solvers import SOLVERS

    names = tuple(x.strip() for x in text.split(",") if x.strip())
    bad = [n for n in names if n not in SOLVERS]
    if bad or not names:
        raise UsageError(f"--solvers: unknown solver(s) {', '.join(bad) or '(none given)'}"
                         f" (available: {', '.join(SOLVERS)})")
    return names


def cmd_bench(args: argparse.Namespace) -> int:
    from .experiments.bench import (
        BenchError,
        BenchSpec,
        check_bench_options,
        expand_instances,
        run_bench,
    )
    from .experiments.summary import solver_totals, summarise

    if args.points is not None and not args.pareto:
        raise UsageError("--points is the most points of a front: it needs --pareto")
    files = expand_instances(args.set)
    if not files:
        raise UsageError("no instance files in " + ", ".join(args.set))
    for f in files:  # fail early, one line, before any process starts
        read_instance(f)
    options = _parse_options(args.option or [])
    if options and args.pareto:
        raise UsageError("--option applies to solves, not to --pareto fronts")
    solvers = _solver_list(args.solvers)
    try:
        check_bench_options(solvers, options)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    spec = BenchSpec(tuple(files), solvers, args.time_limit, args.seed,
                     args.jobs, args.executor, args.address,
                     connect_timeout_s=args.connect_timeout,
                     pareto_points=(args.points or 100) if args.pareto else None,
                     options=options)
    stopped: list[int] = []

    def on_term(signum: int, frame: Any) -> None:  # SIGTERM: stop as Ctrl-C does
        stopped.append(signum)
        raise KeyboardInterrupt

    try:
        old_term: Any = signal.signal(signal.SIGTERM, on_term)
    except ValueError:  # not the main thread: SIGTERM keeps its handler
        old_term = None
    try:
        rows = run_bench(spec, args.output, progress=not args.json, force=args.force)
    except KeyboardInterrupt:
        print(f"h2h: interrupted; finished pairs are kept in {args.output}; run the same"
              " command again to resume", file=sys.stderr)
        return 128 + stopped[0] if stopped else 130
    except BenchError as exc:
        print(f"h2h: error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except OSError as exc:  # e.g. the disk is full: the rows written so far are kept
        print(f"h2h: error: {args.output}: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except ModelError:
        raise
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    finally:
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
    failed = sum(r.get("status") == "error" for r in rows)
    if args.pareto:
        return _pareto_totals(args, rows, failed)
    totals = solver_totals(summarise(rows))
    lines = [f"{len(rows)} pairs in {args.output}/results.jsonl ({failed} errors)",
             f"{'solver':<10} {'feasible':>9} {'proven':>7} {'best':>5} {'mean ratio':>11}"
             f" {'gap to bound':>13} {'gap to optimum':>15}"]
    for s, t in totals.items():
        def pct(x: float | None) -> str:
            return "-" if x is None else f"{100 * x:.1f} %"

        ratio = "-" if t["mean_ratio"] is None else f"{t['mean_ratio']:.3f}"
        lines.append(f"{s:<10} {t['feasible']:>4}/{t['instances']:<4} {t['proven']:>7}"
                     f" {t['best']:>5} {ratio:>11} {pct(t['mean_gap_to_bound']):>13}"
                     f" {pct(t['mean_gap_to_optimum']):>15}")
    _emit(args, {"output": str(args.output), "pairs": len(rows), "errors": failed,
                 "solvers": totals}, "\n".join(lines))
    return EXIT_OK


def _pareto_totals(args: argparse.Namespace, rows: list[dict[str, Any]], failed: int) -> int:
    from .experiments.pareto import front_summary, solver_front_totals

    totals = solver_front_totals(front_summary(rows))
    lines = [f"{len(rows)} fronts in {args.output}/results.jsonl ({failed} errors)",
             f"{'solver':<10} {'fronts':>7} {'complete':>9} {'points':>7}"
             f" {'hypervolume ratio':>18} {'dominated by exact':>19}"]
    for s, t in totals.items():
        ratio = "-" if t["mean_ratio"] is None else f"{t['mean_ratio']:.4f}"
        dom = "-" if t["compared"] == 0 else f"{t['dominated']}/{t['compared']}"
        lines.append(f"{s:<10} {t['fronts']:>7} {t['complete']:>9} {t['mean_points']:>7.1f}"
                     f" {ratio:>18} {dom:>19}")
    _emit(args, {"output": str(args.output), "pairs": len(rows), "errors": failed,
                 "solvers": totals}, "\n".join(lines))
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    from .experiments.summary import result_row, summarise
    from .solvers import SolveParams, solve

    inst = read_instance(args.instance)
    rows = [result_row(inst, solve(inst, name, SolveParams(time_limit_s=args.time_limit,
                                                             seed=args.seed)))
            for name in _solver_list(args.solvers)]
    entry = summarise(rows).instances[inst.name]
    lines = [f"{inst.name}: {inst.num_layers} layers, {inst.num_accs} accelerators,"
             f" objective {entry.objective}",
             f"{'solver':<10} {'status':<9} {'latency [s]':>12} {'energy [J]':>11}"
             f" {'time [s]':>9} {'gap to best bound':>18}"]
    doc_rows = []
    for pair in entry.pairs.values():
        r = pair.to_dict()
        r["gap_to_best_bound"] = pair.gap_to_bound
        doc_rows.append(r)
        lat = "-" if r["latency_s"] is None else format(r["latency_s"], ".6g")
        en = "-" if r["energy_j"] is None else format(r["energy_j"], ".6g")
        gp = "-" if pair.gap_to_bound is None else format(100 * pair.gap_to_bound, ".2f") + " %"
        lines.append(f"{pair.solver:<10} {r['status']:<9} {lat:>12} {en:>11}"
                     f" {r['time_s']:9.2f} {gp:>18}")
    if entry.bound is not None:
        source = f": {entry.bound_source}" if entry.bound_source else ""
        lines.append(f"best bound {entry.bound:.6g} {entry.unit}, from"
                     f" {', '.join(entry.bound_solvers)}{source}")
    _emit(args, {"instance": inst.name, "objective": entry.objective, "unit": entry.unit,
                 "best": entry.best, "best_bound": entry.bound,
                 "best_bound_solvers": entry.bound_solvers,
                 "best_bound_source": entry.bound_source, "optimum": entry.optimum,
                 "rows": doc_rows}, "\n".join(lines))
    return EXIT_OK


def _reference(text: str) -> tuple[float, float]:
    try:
        lat, en = (float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LATENCY_S,ENERGY_J, got {text!r}") from None
    if not (math.isfinite(lat) and math.isfinite(en) and lat > 0 and en > 0):
        raise argparse.ArgumentTypeError(f"expected two positive numbers, got {text!r}")
    return lat, en


def cmd_pareto(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .experiments.pareto import hypervolume, pareto_front, reference_point

    inst = read_instance(args.instance)
    if args.output is not None and Path(args.output).exists() and not Path(args.output).is_dir():
        raise UsageError(f"-o {args.output}: exists and is not a directory")
    if args.plot:  # refuse a figure that cannot be written before the work
        from .experiments.plots import check_figure_path

        check_figure_path(args.plot)

    def status(p: Any) -> str:
        text = p.status + (", energy proven" if p.energy_proven else "")
        if p.status != "optimal" and p.gap is not None:
            text += f", gap {100 * p.gap:.1f} %"
        return text

    def show(p: Any, step: int) -> None:
        if not args.json and not args.quiet:
            print(f"  step {step}: latency {p.latency:.6g} s  energy {p.energy:.6g} J"
                  f"  {status(p)}", file=sys.stderr, flush=True)

    front = pareto_front(inst, args.solver, points=args.points, time_limit_s=args.time_limit,
                         seed=args.seed, progress=show)
    pts = [(p.latency, p.energy) for p in front.points]
    ref = args.reference or (reference_point([pts]) if pts else None)
    doc = front.to_dict()
    doc["reference"] = None if ref is None else {"latency_s": ref[0], "energy_j": ref[1]}
    doc["hypervolume"] = None if ref is None else hypervolume(pts, ref)
    if args.output is not None:
        out = Path(args.output)
        out.mkdir(parents=True, exist_ok=True)
        for k, (p, d) in enumerate(zip(front.points, doc["points"], strict=True), start=1):
            if p.schedule is not None:
                path = out / f"{inst.name}.{args.solver}.point{k}.schedule.json"
                write_schedule(p.schedule, path)
                d["schedule"] = str(path)
        write_json(doc, out / f"{inst.name}.{args.solver}.front.json")
    if args.plot and pts:
        from .experiments.plots import front_plot

        front_plot({args.solver: pts}, inst.name, args.plot)
    elif args.plot:
        print(f"h2h: no point, so no figure: {args.plot} not written", file=sys.stderr)
    lines = [f"{inst.name}: {args.solver} front, {len(front.points)} point(s),"
             f" {'complete' if front.complete else 'not complete'} ({front.stopped},"
             f" {front.steps} step(s), {front.time_s:.1f} s)",
             f"{'latency [s]':>12} {'energy [J]':>12}  status"]
    for p in front.points:
        lines.append(f"{p.latency:12.6g} {p.energy:12.6g}  {status(p)}")
    if ref is None:
        lines.append(f"no point: {args.solver} found no schedule within the time limit")
    else:
        lines.append(f"hypervolume {doc['hypervolume']:.6g} s·J against ({ref[0]:.6g} s,"
                     f" {ref[1]:.6g} J)")
    _emit(args, doc, "\n".join(lines))
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from .experiments.report import write_report

    try:
        files = write_report(args.run, args.output, gantt=args.gantt)
    except ModelError:  # an unreadable instance, an output that cannot be written: exit 1
        raise
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    _emit(args, {"written": files}, "\n".join(f"wrote {f}" for f in files))
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    if args.output:
        write_json(instance_schema(), args.output)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        print(json.dumps(instance_schema(), indent=1))
    return EXIT_OK


def cmd_dump(args: argparse.Namespace) -> int:  # normalise an instance file
    check_output(args.output)
    inst = read_instance(args.instance)
    write_json(dump_instance(inst), args.output)  # atomic: normalising in place is safe
    print(f"wrote {args.output}", file=sys.stderr)
    return EXIT_OK


# --------------------------------------------------------------------------- parser


def _positive(kind: type) -> Any:
    """argparse type: a finite number > 0 of ``kind`` (argparse names the flag)."""
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not 0 < value < float("inf"):
            what = "integer" if kind is int else "number"
            raise argparse.ArgumentTypeError(f"expected a positive {what}, got {text!r}")
        return value
    return parse


_positive_int, _positive_float = _positive(int), _positive(float)

SEED_MAX = 2**31 - 1  # CP-SAT's random_seed (and HiGHS's) is a 32-bit int


def _int_in(lo: int, hi: int | None = None) -> Any:
    """argparse type: an integer in [lo, hi] (hi None: no upper end)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < lo or hi is not None and value > hi:
            span = f">= {lo}" if hi is None else f"in {lo}..{hi}"
            raise argparse.ArgumentTypeError(f"expected an integer {span}, got {text!r}")
        return value
    return parse


def _unit_float(text: str) -> float:
    """argparse type: a number in [0, 1]."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}")
    return value


_seed, _at_least_1, _non_negative = _int_in(0, SEED_MAX), _int_in(1), _int_in(0)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        """One line: the error and where to look (no usage block)."""
        message = " ".join(message.split())
        print(f"h2h: usage error: {message}; see '{self.prog} --help'", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="h2h", description="Map multi-model DNN workloads onto heterogeneous"
                " multi-accelerator systems, with optimality gaps.")
    p.add_argument("--version", action="version", version=f"h2h_opt {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def add(name: str, fn: Any, help_: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_, description=help_)
        sp.set_defaults(func=fn)
        sp.add_argument("--json", action="store_true", help="machine-readable output")
        return sp

    sp = add("validate", cmd_validate, "check an instance file")
    sp.add_argument("instance")
    sp = add("info", cmd_info, "sizes, ops, accelerators and totals of an instance; without"
             " one, the bundled workloads, systems and suites")
    sp.add_argument("instance", nargs="?")
    sp = add("solve", cmd_solve, "map an instance with one solver")
    sp.add_argument("instance", nargs="?", help="required unless --list-options")
    from .solvers import SOLVERS

    sp.add_argument("--solver", default="h2h", choices=list(SOLVERS),
                    help="default h2h")
    sp.add_argument("-o", "--output", help="write the schedule (JSON)")
    sp.add_argument("--result", help="write the full result (JSON)")
    sp.add_argument("--gantt", help="draw the schedule to this PNG")
    sp.add_argument("--time-limit", type=_positive_float, default=None, help="seconds")
    sp.add_argument("--seed", type=_seed, default=0, help=f"0..{SEED_MAX} (default 0)")
    sp.add_argument("--workers", type=_at_least_1, default=None,
                    help="exact solvers' threads (>= 1)")
    sp.add_argument("--rel-gap", type=_unit_float, default=0.0,
                    help="exact solvers stop at this relative gap, in [0, 1] (default 0:"
                    " optimal)")
    sp.add_argument("--locality", choices=list(LOCALITIES[1:]), default=None,
                    help="override the instance's options.locality")
    sp.add_argument("--log", default=None, help="solver log: a file, or 'console'")
    sp.add_argument("--quiet", action="store_true", help="no progress lines")
    sp.add_argument("--option", action="append", metavar="KEY=VALUE",
                    help="solver option, e.g. max_evals=5000 or value=critical (VALUE is"
                    " JSON, else a string; see --list-options)")
    sp.add_argument("--list-options", action="store_true",
                    help="print the solver's options (name, type, allowed, default, help)"
                    " and exit")
    sp.add_argument("--full-json", action="store_true", help="include the schedule in --json")
    sp = add("evaluate", cmd_evaluate, "evaluate a schedule with the independent evaluator")
    sp.add_argument("instance")
    sp.add_argument("schedule")
    sp.add_argument("--locality", choices=list(LOCALITIES[1:]), default=None,
                    help="override the instance's options.locality (default: the one the"
                         " schedule was solved with, if it says)")
    sp.add_argument("--max-violations", type=_non_negative, default=20,
                    help="violations to print in the text output (>= 0; --json lists"
                         " them all)")
    sp.add_argument("--no-bound", action="store_true",
                    help="skip the cheap lower bound of a feasible schedule and the gap"
                         " to it (an LP: under a second up to a few hundred layers)")
    sp.add_argument("--mip-bound", type=_positive_float, default=None, metavar="SECONDS",
                    help="latency and lex: also solve that LP with a 0/1 mapping, a MIP,"
                         " for up to this long (HiGHS, one thread): a tighter bound (paper"
                         " suite, 10 s: up to 4.6 %% higher)")

    imp = sub.add_parser("import", help="convert other formats into instances")
    isub = imp.add_subparsers(dest="format", required=True, parser_class=_Parser)
    sp = isub.add_parser("stg", help="Standard Task Graph Set file (P|prec|Cmax)")
    sp.set_defaults(func=cmd_import_stg)
    sp.add_argument("file")
    sp.add_argument("--procs", type=_positive_int, required=True,
                    help="number of identical processors")
    sp.add_argument("-o", "--output", required=True)
    sp.add_argument("--json", action="store_true")
    sp = isub.add_parser("gxl", help="GXL task graph (p2p with uniform delays)")
    sp.set_defaults(func=cmd_import_gxl)
    sp.add_argument("file")
    sp.add_argument("--procs", type=_positive_int, required=True,
                    help="number of identical processors")
    sp.add_argument("-o", "--output", required=True)
    sp.add_argument("--json", action="store_true")
    sp = isub.add_parser("maestro", help="MAESTRO per-layer result CSVs into table costs")
    sp.set_defaults(func=cmd_import_maestro)
    sp.add_argument("csv", nargs="+")
    sp.add_argument("--instance", required=True, help="instance whose cost models to replace")
    sp.add_argument("--layer-map", required=True,
                    help="CSV: maestro_layer,layer,accelerator[,network]")
    sp.add_argument("--clock-mhz", type=_positive_float, required=True,
                    help="to turn cycles into s")
    sp.add_argument("-o", "--output", required=True)
    sp.add_argument("--json", action="store_true")
    sp = isub.add_parser("onnx", help="ONNX models (each file a model) into one workload on"
                         " a system preset")
    sp.set_defaults(func=cmd_import_onnx)
    sp.add_argument("model", nargs="+", help="ONNX files, each one model of the workload")
    sp.add_argument("--fold-unknown", action="store_true",
                    help="fold ops that are neither layers nor known to fold into their"
                    " producer, and list them (default: an error naming the op and node)")
    sp.add_argument("--system", default="hetero4", help="system preset (h2h systems)")
    sp.add_argument("--bandwidth", type=_positive_float, default=1.25,
                    help="host link GB/s (finite, > 0)")
    sp.add_argument("--element-bytes", type=_positive_int, default=1)
    sp.add_argument("--input-shape", action="append", metavar="NAME=D0,D1,...",
                    help="the shape of a model input with symbolic dimensions, e.g."
                    " x=1,3,224,224 (once per such input)")
    sp.add_argument("-o", "--output", required=True)
    sp.add_argument("--json", action="store_true")
    sp = isub.add_parser("xrbench", help="an XRBench usage scenario on an XRBench system and"
                         " its dataflows (MAESTRO .m files)")
    sp.set_defaults(func=cmd_import_xrbench)
    sp.add_argument("scenario", help="usage scenario .m (Network blocks)")
    sp.add_argument("--hw", required=True, help="system .m (Accelerator blocks)")
    sp.add_argument("--dataflows", required=True,
                    help="dataflows .m (one Dataflow block per accelerator, in order)")
    sp.add_argument("--clock-mhz", type=_positive_float, default=1000.0,
                    help="accelerator clock: turns cycles and elements/cycle into s and"
                    " bytes/s (default 1000)")
    sp.add_argument("--element-bytes", type=_positive_int, default=1)
    sp.add_argument("-o", "--output", required=True)
    sp.add_argument("--json", action="store_true")
    sp = isub.add_parser("costs", help="cost-table CSV (layer,accelerator,time_s[,energy_j])")
    sp.set_defaults(func=cmd_import_costs)
    sp.add_argument("csv")
    sp.add_argument("--instance", required=True, help="instance whose cost models to replace")
    sp.add_argument("-o", "--output", required=True)
    sp.add_argument("--json", action="store_true")

    sp = add("generate", cmd_generate, "write a bundled instance set")
    sp.add_argument("suite", help="examples (the SPEC §8 reference instances), paper,"
                    " small, random, scale")
    sp.add_argument("-o", "--output", required=True, help="output directory")
    sp.add_argument("--seed", type=_seed, default=0)
    sp.add_argument("--param", action="append", metavar="KEY=VALUE",
                    help="suite parameter, VALUE in JSON (random: layers, accs, models,"
                    " width, edge_density, ccr, heterogeneity, comm, count; small: count;"
                    " scale: sizes=[100,1000] or layers=N, accs, models; examples and"
                    " paper: none)")
    sp = add("bench", cmd_bench, "run every (instance, solver) pair of a set, resumably")
    sp.add_argument("set", nargs="+", help="instance files or directories")
    sp.add_argument("--solvers", default="baseline,h2h,heft",
                    help="comma-separated (default baseline,h2h,heft)")
    sp.add_argument("--time-limit", type=_positive_float, default=60.0,
                    help="per exact solve (with --pareto: per front), s")
    sp.add_argument("--seed", type=_seed, default=0)
    sp.add_argument("--pareto", action="store_true", help="a latency-energy front per pair"
                    " (as h2h pareto) instead of one solve; h2h report then draws the"
                    " fronts of every instance")
    sp.add_argument("--points", type=_at_least_1, default=None, help="with --pareto: most"
                    " points per front (default 100)")
    sp.add_argument("--option", action="append", metavar="KEY=VALUE",
                    help="solver option, as h2h solve's, given to each solver of the bench"
                    " that declares it (a key none declares is refused); recorded in"
                    " run.json and every row, so a resume with other options is refused")
    sp.add_argument("--jobs", type=_at_least_1, default=1, help="pairs at a time (exact solvers"
                    " use several threads each: on 2 cores keep 1)")
    sp.add_argument("--executor", choices=["local", "dask"], default="local")
    sp.add_argument("--address", help="Dask scheduler, tcp://HOST:PORT (default: a local"
                    " cluster of --jobs workers)")
    sp.add_argument("--connect-timeout", type=_positive_float, default=10.0,
                    help="s to reach the Dask scheduler at --address (default 10)")
    sp.add_argument("-o", "--output", required=True, help="run directory (one bench at a"
                    " time; re-run the same command to resume)")
    sp.add_argument("--force", action="store_true", help="if the run directory holds rows"
                    " made with another --time-limit, --seed or --option, or from an instance file"
                    " changed since, move them into RUN/superseded-<time>/ and start over"
                    " (default: refuse)")
    sp = add("pareto", cmd_pareto, "latency-energy front of one instance (epsilon-constraint"
             " with cpsat/milp)")
    sp.add_argument("instance")
    sp.add_argument("--solver", default="cpsat", choices=list(SOLVERS),
                    help="default cpsat; cpsat and milp step an energy cap (complete,"
                    " proven fronts), lns steps one from both ends of the front (never"
                    " complete), the heuristics solve each objective once")
    sp.add_argument("--points", type=_at_least_1, default=100, help="most points (default 100)")
    sp.add_argument("--time-limit", type=_positive_float, default=600.0,
                    help="seconds for the whole front (default 600)")
    sp.add_argument("--seed", type=_seed, default=0, help=f"0..{SEED_MAX} (default 0)")
    sp.add_argument("--reference", type=_reference, default=None, metavar="LATENCY_S,ENERGY_J",
                    help="hypervolume reference point (default 1.1 x the front's largest"
                    " latency and energy)")
    sp.add_argument("--plot", help="draw the front to this PNG")
    sp.add_argument("-o", "--output", help="directory: the front (JSON) and each point's"
                    " schedule")
    sp.add_argument("--quiet", action="store_true", help="no progress lines")
    sp = add("compare", cmd_compare, "one instance, several solvers, one table")
    sp.add_argument("instance")
    sp.add_argument("--solvers", default="baseline,h2h,h2h_plus,heft,cpsat,milp")
    sp.add_argument("--time-limit", type=_positive_float, default=60.0)
    sp.add_argument("--seed", type=_seed, default=0)
    sp = add("report", cmd_report, "markdown tables and PNG plots of a bench run")
    sp.add_argument("run", help="run directory of h2h bench")
    sp.add_argument("-o", "--output", required=True)
    sp.add_argument("--gantt", help="INSTANCE::SOLVER whose schedule to draw (default: h2h"
                    " on the largest instance)")
    sp = add("schema", cmd_schema, "print (or write) the instance JSON Schema")
    sp.add_argument("-o", "--output")
    sp = add("normalise", cmd_dump, "rewrite an instance file in canonical form")
    sp.add_argument("instance")
    sp.add_argument("-o", "--output", required=True)
    return p


def _one_line(text: object, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _quiet_stdout() -> None:
    """The reader of stdout went away (``h2h info X | head``): send the rest of the
    output nowhere so that Python's exit flush does not complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)  # numpy's inf/nan arithmetic
            return _main(argv)
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_OK


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        rc = int(args.func(args))
        sys.stdout.flush()
        return rc
    except BrokenPipeError:
        raise
    except UsageError as exc:
        print(f"h2h: usage error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except (InputError, ModelError) as exc:
        print(f"h2h: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("h2h: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # a file the command could not read or write
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"h2h: error: {where}{exc.strerror or _one_line(exc)}", file=sys.stderr)
        return EXIT_INVALID
    except UnicodeDecodeError as exc:
        print(f"h2h: error: input is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at"
              f" offset {exc.start})", file=sys.stderr)
        return EXIT_INVALID
    except RecursionError:
        print("h2h: error: input nested too deeply", file=sys.stderr)
        return EXIT_INVALID
    except MemoryError:
        print("h2h: error: out of memory (input too large?)", file=sys.stderr)
        return EXIT_INVALID


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
