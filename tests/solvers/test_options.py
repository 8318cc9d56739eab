"""Declared solver options: every option a solver reads is declared, the facade rejects
unknown options and bad values before solving (one line naming the option), the CLI
lists them and exits 2 on a bad one, and the README's options section is theirs."""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path

import pytest

from h2h_opt.cli import OPTIONS_BEGIN, OPTIONS_END, main, options_reference
from h2h_opt.library.generate import random_layered
from h2h_opt.solvers import (
    SOLVERS,
    Option,
    OptionError,
    SolveParams,
    SolverError,
    solve,
    solver_names,
    solver_options,
)
from h2h_opt.solvers.base import BaseSolver

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "h2h_opt"
REF1 = ROOT / "instances" / "examples" / "reference-1acc-1.25GBps.json"
HEURISTICS = solver_names("heuristic")


@pytest.fixture(scope="module")
def inst():
    return random_layered(8, 2, seed=1)


@pytest.fixture
def no_solving(monkeypatch):
    """Make every backend's ``solve`` fail: an option error must come before it."""
    import importlib

    def boom(*args, **kwargs):
        raise AssertionError("a backend was run before its options were checked")

    for module, cls in SOLVERS.values():
        monkeypatch.setattr(getattr(importlib.import_module(module), cls), "solve", boom)


def bad_values(o: Option) -> list:
    """Values the declaration ``o`` must refuse."""
    wrong_type = {bool: ["maybe", 1], int: ["3", True, 2.5], float: ["abc", True, math.nan],
                  str: [3, True], list: ["reinsert", 3], dict: [[1, 2], "x"]}[o.type]
    out = list(wrong_type)
    if o.choices:
        out.append("bogus" if o.type is str else ["bogus"])
    if o.low is not None:
        out.append(o.type(o.low) - 1)
    if o.high is not None:
        out.append(o.type(o.high) + 0.5 if o.type is float else o.type(o.high) + 1)
    if o.keys is not None:
        out.append({"no_such_key": 1})
    if not o.nullable:
        out.append(None)
    return out


BAD = [pytest.param(name, o, bad, id=f"{name}-{o.name}-{bad!r}")
       for name in solver_names() for o in solver_options(name) for bad in bad_values(o)]


# --------------------------------------------------------------------------- the facade


@pytest.mark.parametrize("solver", solver_names())
def test_unknown_option_is_rejected_before_solving(inst, no_solving, solver):
    known = ", ".join(sorted(o.name for o in solver_options(solver))) or "none"
    with pytest.raises(OptionError) as err:
        solve(inst, solver, SolveParams(options={"max_eval": 3}))
    assert str(err.value) == f"solver {solver!r}: unknown option 'max_eval' (known: {known})"
    assert isinstance(err.value, SolverError) and "\n" not in str(err.value)


@pytest.mark.parametrize(("solver", "option", "bad"), BAD)
def test_bad_value_is_rejected_before_solving(inst, no_solving, solver, option, bad):
    with pytest.raises(OptionError) as err:
        solve(inst, solver, SolveParams(options={option.name: bad}))
    if bad == {"no_such_key": 1}:  # a native parameter's name: the solver's own word
        assert str(err.value) == (f"solver {solver!r}: option {option.name!r}:"
                                  f" 'no_such_key' is not a {option.keys_help}")
    else:
        assert str(err.value) == (f"solver {solver!r}: option {option.name!r} must be"
                                  f" {option.allowed()}, got {bad!r}")


def test_every_solver_kind_has_a_bad_value_case():
    kinds = {name: solver_options(name) for name in solver_names()}
    for kind in ("heuristic", "exact"):
        assert any(kinds[name] for name in solver_names(kind)), kind
    assert {case.values[0] for case in BAD} == {n for n, opts in kinds.items() if opts}


def test_messages_name_the_option_and_what_is_allowed(inst, no_solving):
    with pytest.raises(OptionError, match=r"^solver 'h2h': option 'value' must be one of"
                       r" reference, seconds, critical, got 'bogus'$"):
        solve(inst, "h2h", SolveParams(options={"value": "bogus"}))
    with pytest.raises(OptionError, match=r"option 'cap' must be an integer >= 10000, got 5000"):
        solve(inst, "baseline", SolveParams(options={"cap": 5000}))
    with pytest.raises(OptionError, match=r"option 'first_share' must be a number in \[0, 1\]"):
        solve(inst, "cpsat", SolveParams(options={"first_share": 1.5}))
    with pytest.raises(OptionError, match=r"option 'moves' must be a list of reinsert,"
                       r" segment, swap, reorder, gather, got \['jump'\]"):
        solve(inst, "h2h_plus", SolveParams(options={"moves": ["jump"]}))


@pytest.mark.parametrize("solver", solver_names())
def test_declarations_are_well_formed(solver):
    opts = solver_options(solver)
    names = [o.name for o in opts]
    assert len(names) == len(set(names)), f"{solver} declares an option twice"
    for o in opts:
        assert o.check(o.default, solver) == o.default, (solver, o.name)  # default allowed
        assert o.help and "\n" not in o.help, (solver, o.name)
        desc = o.describe()
        assert list(desc) == ["name", "type", "allowed", "default", "help"]


@pytest.mark.parametrize("solver", solver_names("exact"))
def test_warm_start_choices_are_other_solvers(solver):
    (ws,) = [o for o in solver_options(solver) if o.name == "warm_start"]
    assert ws.default in solver_names() and ws.default != solver
    assert set(ws.choices) - {"none"} <= set(solver_names()) - {solver}


@pytest.mark.parametrize("solver", HEURISTICS)
def test_defaults_given_explicitly_change_nothing(inst, solver):
    ref = solve(inst, solver)
    res = solve(inst, solver, SolveParams(options={o.name: o.default
                                                   for o in solver_options(solver)}))
    assert (res.latency, res.energy) == (ref.latency, ref.energy)
    for field in ("mapping", "start", "orders", "residency"):
        assert getattr(res.schedule, field) == getattr(ref.schedule, field), field


@pytest.mark.parametrize(("solver", "option", "params"), [
    ("cpsat", "cpsat_parameters", {"linearization_level": 2, "subsolvers": ["max_lp"]}),
    ("lns", "polish_parameters", {"linearization_level": 2, "num_full_subsolvers": 2}),
    ("milp", "highs_options", {"mip_rel_gap": 0.5, "mip_heuristic_effort": 0.1}),
])
def test_native_parameter_names_are_checked(solver, option, params):
    (o,) = [o for o in solver_options(solver) if o.name == option]
    assert o.check(params, solver) == params
    with pytest.raises(OptionError, match=f"option '{option}': 'linearisation_level' is not"):
        o.check({**params, "linearisation_level": 2}, solver)
    # values too: a word where a number belongs is refused before solving
    key = next(iter(params))
    with pytest.raises(OptionError, match=f"option '{option}': 'abc' is not a value"):
        o.check({key: "abc"}, solver)


def test_valid_non_default_values_are_accepted(inst):
    res = solve(inst, "h2h", SolveParams(options={"value": "critical", "passes": 0,
                                                  "max_evals": None, "cap": 10_000}))
    assert res.has_solution
    res = solve(inst, "h2h_plus", SolveParams(options={"moves": ("swap",), "energy_ties": False,
                                                       "max_evals": 0}))
    assert res.has_solution and res.info["evaluations"] == 0


# --------------------------------------------------------------------------- the solvers


def test_reading_an_undeclared_option_is_a_bug():
    solver = BaseSolver()
    with pytest.raises(LookupError, match="reads option 'nope', which it does not declare"):
        solver.option(SolveParams(options={"nope": 1}), "nope")


def _option_reads(cls_node: ast.ClassDef) -> set[str]:
    """Keys of ``self.option(params, "KEY")`` calls in a class body."""
    keys = set()
    for node in ast.walk(cls_node):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr == "option" and isinstance(node.func.value, ast.Name) \
                and node.func.value.id == "self":
            assert len(node.args) == 2 and isinstance(node.args[1], ast.Constant), \
                f"{cls_node.name}: option names are literals ({ast.unparse(node)})"
            keys.add(node.args[1].value)
    return keys


def _classes() -> dict[str, ast.ClassDef]:
    out = {}
    for path in (PKG / "solvers").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                out[node.name] = node
    return out


@pytest.mark.parametrize("solver", solver_names())
def test_every_option_read_is_declared_and_every_declared_one_is_read(solver):
    import importlib

    module, cls_name = SOLVERS[solver]
    cls = getattr(importlib.import_module(module), cls_name)
    classes = _classes()
    read = set().union(*(_option_reads(classes[c.__name__]) for c in cls.__mro__
                         if c.__name__ in classes))
    declared = {o.name for o in cls.options}
    assert read <= declared, f"{solver} reads undeclared options {sorted(read - declared)}"
    facade = {"warm_start"}  # read by the facade (solvers/__init__.py), which runs it
    assert declared - facade <= read, \
        f"{solver} declares options it never reads: {sorted(declared - facade - read)}"


def test_solvers_read_options_only_through_their_declarations():
    """No ``params.options`` (or ``.options.get``) outside the facade and the contract:
    the keys a backend reads are the ones ``self.option`` checks."""
    offenders = []
    for path in (PKG / "solvers").rglob("*.py"):
        if path.name in ("base.py", "__init__.py") and path.parent.name == "solvers":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "options" \
                    and isinstance(node.value, ast.Name) and node.value.id == "params":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            if isinstance(node, ast.Attribute) and node.attr in ("flag", "fraction") \
                    and isinstance(node.value, ast.Name) and node.value.id == "params":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, f"options read around the declarations: {offenders}"


def test_the_facade_reads_only_warm_start():
    tree = ast.parse((PKG / "solvers" / "__init__.py").read_text(encoding="utf-8"))
    keys = {node.args[0].value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get" and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "opts"}
    assert keys == {"warm_start"}
    for solver in solver_names():
        if "warm_start" in {o.name for o in solver_options(solver)}:
            assert solver in solver_names("exact") + solver_names("anytime")


# --------------------------------------------------------------------------- CLI, README


def run(capsys, *argv):
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.mark.parametrize("solver", solver_names())
def test_list_options_needs_no_instance(capsys, solver):
    rc, out, err = run(capsys, "solve", "--solver", solver, "--list-options")
    assert rc == 0 and not err
    opts = solver_options(solver)
    lines = out.strip().splitlines()
    if not opts:
        assert lines == [f"solver {solver!r} takes no options"]
        return
    assert lines[0].split() == ["name", "type", "allowed", "default", "help"]
    assert len(lines) == 1 + len(opts)
    for line, o in zip(lines[1:], opts, strict=True):
        d = o.describe()
        assert line.startswith(o.name + " ") and line.endswith(d["help"])
        assert f"  {d['allowed']}  " in line and f"  {d['default']}  " in line
    rc, out, _ = run(capsys, "solve", "--solver", solver, "--list-options", "--json")
    assert rc == 0 and json.loads(out) == {"solver": solver,
                                           "options": [o.describe() for o in opts]}


def test_solve_without_instance_is_still_a_usage_error(capsys):
    rc, out, err = run(capsys, "solve", "--solver", "h2h")
    assert rc == 2 and not out
    assert err.strip() == "h2h: usage error: solve: the instance argument is required" \
                          " (except with --list-options)"


@pytest.mark.parametrize(("option", "solver", "message"), [
    ("max_eval=3", "h2h", "solver 'h2h': unknown option 'max_eval' (known: cap, energy_ties,"
                          " max_evals, moves, passes, value)"),
    ("foo=1", "h2h", "solver 'h2h': unknown option 'foo' (known: cap, energy_ties,"
                     " max_evals, moves, passes, value)"),
    ("value=bogus", "h2h", "solver 'h2h': option 'value' must be one of reference, seconds,"
                           " critical, got 'bogus'"),
    ("foo=1", "heft", "solver 'heft': unknown option 'foo' (known: none)"),
    ("load_cuts=maybe", "milp", "solver 'milp': option 'load_cuts' must be true or false,"
                                " got 'maybe'"),
])
def test_cli_bad_option_exits_2_with_one_line(capsys, option, solver, message):
    rc, out, err = run(capsys, "solve", str(REF1), "--solver", solver, "--option", option)
    assert rc == 2 and not out
    assert err == f"h2h: usage error: {message}\n"


def test_readme_options_section_is_the_declarations():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.count(OPTIONS_BEGIN) == 1 and text.count(OPTIONS_END) == 1
    section = text.split(OPTIONS_BEGIN)[1].split(OPTIONS_END)[0].strip()
    assert section == options_reference(), \
        "README solver options differ from the declarations: run python scripts/readme_options.py"
    for name in solver_names():
        assert f"`{name}`" in section
        for o in solver_options(name):
            assert f"| `{o.name}` |" in section
