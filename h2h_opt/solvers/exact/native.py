"""The exact solvers' own parameters, so that a misspelt key or a value of the wrong kind
in the ``cpsat_parameters`` or ``highs_options`` option is an error before solving rather
than silently ignored (HiGHS ignores unknown options and bad values) or a traceback
mid-solve (CP-SAT)."""

from __future__ import annotations

from functools import cache

__all__ = ["highs_option", "sat_parameter", "set_sat_parameters"]


@cache
def _sat_fields() -> frozenset[str]:
    from ortools.sat import sat_parameters_pb2

    return frozenset(sat_parameters_pb2.SatParameters.DESCRIPTOR.fields_by_name)


def sat_parameter(name: str, value: object) -> str | None:
    """Why ``name: value`` cannot be set on CP-SAT's ``SatParameters`` (None if it can)."""
    from ortools.sat import sat_parameters_pb2

    if name not in _sat_fields():
        return f"{name!r} is not a SatParameters field"
    params = sat_parameters_pb2.SatParameters()
    try:
        if isinstance(value, list | tuple):
            getattr(params, name).extend(value)
        else:
            setattr(params, name, value)
    except (TypeError, ValueError, AttributeError) as exc:
        return f"{value!r} is not a value of SatParameters.{name} ({exc})"
    return None


def set_sat_parameters(sp: object, values: dict[str, object]) -> None:
    """Set ``values`` (checked by :func:`sat_parameter`) on the ``SatParameters`` ``sp``;
    a list replaces a repeated field such as ``subsolvers``."""
    for key, value in values.items():
        if isinstance(value, list | tuple):
            field = getattr(sp, key)
            field.clear()
            field.extend(value)
        else:
            setattr(sp, key, value)  # e.g. {"linearization_level": 2}


def highs_option(name: str, value: object) -> str | None:
    """Why ``name: value`` is not a HiGHS option setting (None if it is)."""
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    if h.getOptionType(name)[0] != highspy.HighsStatus.kOk:
        return f"{name!r} is not a HiGHS option"
    try:
        status = h.setOptionValue(name, value)
    except (TypeError, ValueError, RuntimeError) as exc:
        return f"{value!r} is not a value of HiGHS option {name!r} ({exc})"
    if status != highspy.HighsStatus.kOk:
        return f"{value!r} is not a value of HiGHS option {name!r}"
    return None
