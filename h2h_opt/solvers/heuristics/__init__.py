"""Heuristic mappers: the computation-prioritised baseline (SPEC §7.1), H2H steps 2-4 and
its improved local search (§7.2), HEFT (§7.3)."""
