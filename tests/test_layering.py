"""Direction of dependencies (STYLE): the core never imports solver libraries,
backends never import each other."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "h2h_opt"
HEAVY = {"ortools", "pyomo", "highspy", "matplotlib", "dask", "onnx"}
CORE = {"model", "dataflow", "cost", "schedule", "evaluate", "result"}
ALLOWED_INTERNAL = {
    "model": set(),
    "dataflow": set(),  # the formulas of the dataflow cost model: pure arithmetic
    "cost": {"model", "dataflow"},
    "schedule": {"model"},
    "evaluate": {"model", "cost", "schedule"},
    "result": {"schedule"},
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve within the package
                base = "." * node.level + (node.module or "")
                names.add(base)
                names.update(base + "." + a.name if not node.module else base
                             for a in node.names)
            elif node.module:
                names.add(node.module)
    return names


def internal(name: str, path: Path) -> str | None:
    if name.startswith("h2h_opt."):
        return name.split(".")[1]
    if name.startswith("."):
        stripped = name.lstrip(".")
        depth = len(name) - len(stripped)
        if path.parent.name == "solvers" and depth == 1:
            return "solvers." + stripped.split(".")[0] if stripped else None
        return stripped.split(".")[0] if stripped else None
    return None


def test_core_modules_import_only_allowed():
    for mod, allowed in ALLOWED_INTERNAL.items():
        path = PKG / f"{mod}.py"
        for name in imports_of(path):
            top = name.split(".")[0]
            assert top not in HEAVY, f"{mod} imports {name}"
            dep = internal(name, path)
            if dep is not None:
                assert dep in allowed, f"{mod} imports {dep}"


def test_backends_do_not_import_each_other():
    solvers = PKG / "solvers"
    if not solvers.exists():
        return
    backends = {p.stem for p in solvers.glob("*.py")
                if not p.stem.startswith("_")} - {"base"}
    for p in solvers.glob("*.py"):
        if p.stem in ("__init__",):
            continue
        for name in imports_of(p):
            dep = internal(name, p)
            if dep and dep.startswith("solvers."):
                other = dep.split(".")[1]
                assert other not in backends or other == p.stem, f"{p.stem} imports {other}"


def test_heavy_libraries_not_imported_at_package_import():
    import subprocess
    import sys

    code = ("import sys, h2h_opt.cli, h2h_opt.io, h2h_opt.evaluate;"
            "print(','.join(m for m in ('ortools','pyomo','highspy','matplotlib')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
