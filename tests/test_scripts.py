"""The scripts under ``scripts/`` are thin drivers over the public API: they import the
package's facade (``h2h_opt``: solve, evaluate, asap, read_instance, SolveParams,
tick_makespan, ...) and its io, library and experiments layers, never a solver backend's
module (``h2h_opt.solvers.*``) nor a private name, and every import resolves."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

SCRIPTS = sorted((Path(__file__).resolve().parents[1] / "scripts").glob("*.py"))


def h2h_imports(path: Path) -> list[tuple[str, str]]:
    """(module, name) of every ``h2h_opt`` import of a script (name "" for ``import m``)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("h2h_opt"):
            out += [(node.module or "", a.name) for a in node.names]
        elif isinstance(node, ast.Import):
            out += [(a.name, "") for a in node.names if a.name.startswith("h2h_opt")]
    return out


def test_there_are_scripts():
    assert len(SCRIPTS) >= 5


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_script_uses_the_public_api_only(path):
    for module, name in h2h_imports(path):
        parts = [*module.split("."), name] if name else module.split(".")
        assert not any(p.startswith("_") for p in parts), f"{path.name}: {module}.{name}"
        assert not module.startswith("h2h_opt.solvers"), (
            f"{path.name}: imports {module}.{name}; use the facade in h2h_opt")


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_script_imports_resolve(path):
    spec = importlib.util.spec_from_file_location(f"script_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # the scripts' work is behind `if __name__ == ...`
    assert callable(getattr(module, "main", None)), f"{path.name}: no main()"


def test_the_check_catches_a_backend_import(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("from h2h_opt.solvers.exact.ticks import TickModel\n"
                     "from h2h_opt.solvers.exact.cpmodel import SatModel\n")
    with pytest.raises(AssertionError):
        test_script_uses_the_public_api_only(probe)
