"""Shared test set-up.

* ``helpers`` (tiny hand-checkable instances) is importable from every test folder:
  the test tree has no ``__init__.py``, so test module basenames are unique.
* Solvers come from the registry by kind (STYLE habit 11): a test that takes a
  ``heuristic_solver``, ``exact_solver`` or ``any_solver`` argument runs once per
  registered solver of that kind (``h2h_opt.solvers.solver_names``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from h2h_opt.solvers import solver_names  # noqa: E402

SOLVER_FIXTURES = {"heuristic_solver": "heuristic", "exact_solver": "exact", "any_solver": None}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for fixture, kind in SOLVER_FIXTURES.items():
        if fixture in metafunc.fixturenames:
            metafunc.parametrize(fixture, solver_names(kind))


@pytest.fixture(scope="session")
def heuristic_solvers() -> list[str]:
    """Every registered heuristic, for tests that compare them within one instance."""
    return solver_names("heuristic")


@pytest.fixture(scope="session")
def exact_solvers() -> list[str]:
    """Every registered exact solver, for agreement tests within one instance."""
    return solver_names("exact")
