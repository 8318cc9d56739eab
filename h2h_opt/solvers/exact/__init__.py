"""Exact models (SPEC §7.4): the integer-tick view shared by both (§6), CP-SAT and the
MILP (Pyomo -> HiGHS).  Backends never import each other."""
