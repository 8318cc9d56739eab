"""Names of the exact solvers' own parameters, so that a misspelt key of the
``cpsat_parameters`` or ``highs_options`` option is an error before solving rather than
silently ignored (HiGHS ignores unknown options; CP-SAT fails mid-solve)."""

from __future__ import annotations

from functools import cache

__all__ = ["highs_option", "sat_parameter"]


@cache
def _sat_fields() -> frozenset[str]:
    from ortools.sat import sat_parameters_pb2

    return frozenset(sat_parameters_pb2.SatParameters.DESCRIPTOR.fields_by_name)


def sat_parameter(name: str) -> bool:
    """Whether ``name`` is a field of CP-SAT's ``SatParameters``."""
    return name in _sat_fields()


@cache
def highs_option(name: str) -> bool:
    """Whether ``name`` is a HiGHS option (asked of a silent ``highspy.Highs``)."""
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    return h.getOptionType(name)[0] == highspy.HighsStatus.kOk
