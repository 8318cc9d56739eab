"""Experiments on top of the solvers: resumable benchmarks (local or Dask), one
objective-aware summary, markdown reports and plots."""
