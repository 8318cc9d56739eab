"""h2h_opt: map multi-model DNN workloads onto heterogeneous multi-accelerator systems.

Exact (CP-SAT, MILP) and heuristic (computation-prioritised, H2H, HEFT) mappers,
one independent evaluator, and optimality gaps.  See SPEC equations E1-E11.
"""

__version__ = "0.1.0"
