"""Benchmark instance sets (``h2h generate SUITE --seed N -o DIR``).

* ``examples``: the SPEC §8 reference instances bundled in ``instances/examples``
  (``cnn_acc_1`` alone, with ``cnn_acc_2``, and the fused workload on both, at 1.25 GB/s;
  and the two-accelerator one with ``same_accelerator`` locality, which the exact
  solvers take), with the serial schedule of the one-accelerator instance;
* ``paper``: every MMMT workload of :data:`h2h_opt.zoo.WORKLOADS` on every dataflow
  system of :data:`h2h_opt.zoo.SYSTEMS` at every host bandwidth of
  :data:`h2h_opt.zoo.BANDWIDTHS_GBPS` (``host`` comm, ``same_accelerator`` locality,
  int8);
* ``small``: random layered instances of 10-40 layers on 2-4 accelerators, both comm
  models, for exact solving and optimality gaps;
* ``random``: random layered DAGs with size, width, communication-to-computation ratio
  and heterogeneity as parameters (``--param layers=200 --param ccr=2 ...``);
* ``scale``: 100 to 10 000 layers on 8 accelerators, generated on demand.

Every set is written with a ``MANIFEST.json``: generator, parameters, seed, package
version and the files (instances, then any schedules that come with them).  The same
seed gives the same files.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from ..model import Instance
from ..schedule import Schedule
from ..timing import asap
from .generate import random_layered

__all__ = ["SUITES", "Suite", "serial_schedule", "suite_instances", "write_suite"]


def _examples(seed: int, params: dict[str, Any]) -> Iterator[Instance]:
    from .zoo import reference_example

    yield reference_example(1, 1.25)
    yield reference_example(2, 1.25)
    yield reference_example(2, 1.25, fused=True)
    # same_accelerator locality: the one the exact solvers take (CP-SAT proves it optimal)
    yield reference_example(2, 1.25, locality="same_accelerator")


def serial_schedule(inst: Instance) -> Schedule:
    """Every layer on the first accelerator in workload order, back to back, every
    transfer paid (locality ``none``)."""
    ids = [layer.id for layer in inst.workload.layers]
    acc = inst.system.ids[0]
    return asap(inst, dict.fromkeys(ids, acc), {}, {acc: tuple(ids)}, locality="none",
                meta={"what": "workload order, back to back, every transfer paid"})


def _example_schedules(inst: Instance) -> dict[str, Schedule]:
    return {"serial": serial_schedule(inst)} if inst.num_accs == 1 else {}


def _paper(seed: int, params: dict[str, Any]) -> Iterator[Instance]:
    from .zoo import BANDWIDTHS_GBPS, SYSTEMS, WORKLOADS, mmmt_instance

    for workload in WORKLOADS:
        for system in SYSTEMS:
            for bw in BANDWIDTHS_GBPS:
                yield mmmt_instance(workload, system, bw)


def _small(seed: int, params: dict[str, Any]) -> Iterator[Instance]:
    count = int(params.get("count", 24))
    sizes = (10, 15, 20, 25, 30, 40)
    for i in range(count):
        yield random_layered(sizes[i % len(sizes)], 2 + i % 3, num_models=1 + i % 2,
                             comm="host" if (i // 3) % 2 == 0 else "p2p", seed=seed + i)


RANDOM_DEFAULTS = {"count": 10, "layers": 100, "accs": 4, "models": 2, "width": None,
                   "edge_density": 0.2, "ccr": 1.0, "heterogeneity": 0.5, "comm": "host"}


def _random(seed: int, params: dict[str, Any]) -> Iterator[Instance]:
    p = {**RANDOM_DEFAULTS, **params}
    unknown = set(params) - set(RANDOM_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown random-suite parameter(s) {', '.join(sorted(unknown))}"
                         f" (known: {', '.join(RANDOM_DEFAULTS)})")

    def num(key: str, kind: type) -> Any:
        try:
            return kind(p[key])
        except (TypeError, ValueError):
            raise ValueError(f"random-suite parameter {key}: expected {kind.__name__},"
                             f" got {p[key]!r}") from None

    width = None if p["width"] in (None, "None") else num("width", int)
    for i in range(num("count", int)):
        yield random_layered(num("layers", int), num("accs", int), num_models=num("models", int),
                             width=width, edge_density=num("edge_density", float),
                             ccr=num("ccr", float), heterogeneity=num("heterogeneity", float),
                             comm=str(p["comm"]), seed=seed + i)


def _scale(seed: int, params: dict[str, Any]) -> Iterator[Instance]:
    for n in (100, 300, 1000, 3000, 10000):
        yield random_layered(n, 8, num_models=4, seed=seed)


class Suite(NamedTuple):
    """A named instance set: its generator ``(seed, params) -> instances``, a one-line
    description, and optionally the schedules written next to an instance (as
    ``NAME.KEY.schedule.json``)."""

    generate: Callable[[int, dict[str, Any]], Iterator[Instance]]
    description: str
    schedules: Callable[[Instance], dict[str, Schedule]] | None = None


SUITES: dict[str, Suite] = {
    "examples": Suite(_examples, "the SPEC §8 reference instances (and a serial schedule)",
                      _example_schedules),
    "paper": Suite(_paper, "every MMMT workload x dataflow system x host bandwidth"),
    "small": Suite(_small, "random layered, 10-40 layers, 2-4 accelerators (exact solving)"),
    "random": Suite(_random, "random layered DAGs; --param layers/accs/models/width/"
                    "edge_density/ccr/heterogeneity/comm/count"),
    "scale": Suite(_scale, "random layered, 100 to 10 000 layers, 8 accelerators"),
}


def suite_instances(name: str, seed: int = 0, params: dict[str, Any] | None = None
                    ) -> list[Instance]:
    if name not in SUITES:
        raise ValueError(f"unknown suite {name!r} (available: {', '.join(SUITES)})")
    return list(SUITES[name].generate(seed, dict(params or {})))


def write_suite(name: str, out: str | Path, seed: int = 0,
                params: dict[str, Any] | None = None,
                progress: Callable[[int, int, str], None] | None = None) -> list[str]:
    """Write a suite's instances, the schedules that come with them, and its
    ``MANIFEST.json``; returns the paths (the manifest last)."""
    from ..io import atomic_write, write_instance, write_schedule
    from ..result import versions

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    insts = suite_instances(name, seed, params)
    suite = SUITES[name]
    files, schedules = [], []
    for k, inst in enumerate(insts, start=1):
        path = out / f"{inst.name}.json"
        write_instance(inst, path)
        files.append(path.name)
        for key, sched in (suite.schedules(inst) if suite.schedules else {}).items():
            spath = out / f"{inst.name}.{key}.schedule.json"
            write_schedule(sched, spath)
            schedules.append(spath.name)
        if progress:
            progress(k, len(insts), inst.name)
    files += schedules
    manifest = {"generator": f"h2h_opt.suites:{name}", "suite": name,
                "description": suite.description, "seed": seed, "parameters": params or {},
                "versions": versions(), "files": files}
    atomic_write(out / "MANIFEST.json", json.dumps(manifest, indent=2) + "\n")
    return [str(out / f) for f in files] + [str(out / "MANIFEST.json")]
