"""Direction of dependencies (STYLE): folders are layers and data flows one way.

The core (flat at the top) never imports a solver library or a layer above it;
solvers never import experiments or the CLI; backends never import each other;
heuristics and exact models are apart; the module graph has no cycle.  Imports are
read with ``ast`` (function-level ones included).
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

PKG = Path(__file__).resolve().parents[1] / "h2h_opt"
HEAVY = {"ortools", "pyomo", "highspy", "matplotlib", "dask", "onnx"}
CORE_ALLOWED = {
    "model": set(),
    "dataflow": set(),  # the formulas of the dataflow cost model: pure arithmetic
    "cost": {"model", "dataflow"},
    "schedule": {"model"},
    "comm": {"model", "cost"},
    "timing": {"model", "cost", "comm", "schedule"},
    "evaluate": {"model", "cost", "comm", "schedule"},
    "result": {"schedule", "dataflow"},  # dataflow: the cost model version it records
}
CORE = set(CORE_ALLOWED)
#: layer -> the layers it may import (besides itself and the core)
LAYERS = {
    "io": set(),
    "solvers": set(),
    "library": {"io"},
    "experiments": {"io", "solvers", "library"},
    "cli": {"io", "solvers", "library", "experiments"},
}


def module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PKG.rglob("*.py")}


def imports_of(path: Path) -> set[str]:
    """Fully qualified names of the h2h_opt modules (or packages) ``path`` imports, and
    the top-level names of outside packages."""
    mod = module_name(path)
    package = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
                names.add(target)
                names.update(f"{target}.{a.name}" for a in node.names)
            elif node.module:
                names.add(node.module)
                names.update(f"{node.module}.{a.name}" for a in node.names)
    known = modules()
    out = set()
    for name in names:
        if name.startswith("h2h_opt"):
            if name in known:
                out.add(name)
        else:
            out.add(name.split(".")[0])
    return out


def layer_of(mod: str) -> str:
    parts = mod.split(".")
    return "root" if len(parts) == 1 else parts[1]


def edges() -> list[tuple[str, str]]:
    return [(mod, dep) for mod, path in modules().items() for dep in imports_of(path)
            if dep.startswith("h2h_opt") and dep != mod]


def test_core_never_imports_heavy_libraries_or_upward():
    for mod, path in modules().items():
        name = layer_of(mod)
        if name not in CORE:
            continue
        for dep in imports_of(path):
            assert dep not in HEAVY, f"{mod} imports {dep}"
            if dep.startswith("h2h_opt"):
                assert layer_of(dep) in CORE_ALLOWED[name], f"{mod} imports {dep}"


def test_layers_import_only_downward():
    for mod, dep in edges():
        src, dst = layer_of(mod), layer_of(dep)
        if src in CORE or src == "root" or dst in CORE or src == dst:
            continue
        if src == "cli" and dep == "h2h_opt":  # __version__
            continue
        assert dst in LAYERS[src], f"{mod} ({src}) imports {dep} ({dst})"


def test_solver_backends_do_not_import_each_other():
    from h2h_opt.solvers import SOLVERS

    backends = {module for module, _ in SOLVERS.values()}
    for mod, dep in edges():
        if mod in backends and dep in backends:
            assert mod == dep, f"backend {mod} imports backend {dep}"
        if mod.startswith("h2h_opt.solvers.heuristics"):
            assert not dep.startswith("h2h_opt.solvers.exact"), f"{mod} imports {dep}"
        if mod.startswith("h2h_opt.solvers.exact"):
            assert not dep.startswith("h2h_opt.solvers.heuristics"), f"{mod} imports {dep}"


def test_module_graph_has_no_cycle():
    g = nx.DiGraph()
    for mod, dep in edges():
        # a package's __init__ re-exporting its modules is not a dependency of them
        if mod == "h2h_opt" or dep.startswith(mod + "."):
            continue
        g.add_edge(mod, dep)
    cycles = list(nx.simple_cycles(g))
    assert not cycles, f"import cycles: {cycles[:3]}"


def test_the_test_catches_an_upward_import():
    path = PKG / "io" / "_probe_layering.py"
    try:
        path.write_text("from ..solvers import solve\nfrom ..experiments import bench\n")
        deps = imports_of(path)
    finally:
        path.unlink()
    assert {"h2h_opt.solvers", "h2h_opt.experiments.bench"} <= deps


def test_heavy_libraries_not_imported_at_package_import():
    import subprocess
    import sys

    code = ("import sys, h2h_opt, h2h_opt.cli, h2h_opt.io, h2h_opt.evaluate;"
            "print(','.join(m for m in ('ortools','pyomo','highspy','matplotlib')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
