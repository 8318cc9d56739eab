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
  models, for exact solving and optimality gaps (``--param count=24``);
* ``random``: random layered DAGs with size, width, communication-to-computation ratio
  and heterogeneity as parameters (``--param layers=200 --param ccr=2 ...``);
* ``scale``: 100 to 10 000 layers on 8 accelerators, generated on demand; the sizes are
  parameters (``--param sizes=[100,1000]`` or ``--param layers=1000``; also ``accs``,
  ``models``);
* ``pareto``: latency-energy fronts: random layered instances of 10-30 layers on 2-3
  accelerators of independent speed and power (``--param count=12``), and two DNN
  workloads of 23 and 26 layers on the four-dataflow system with per-access energies;
* ``xrbench``: XRBench's usage scenarios on its systems (bundled in
  ``library/data/xrbench``; :mod:`h2h_opt.io.xrbench`): by default the six scenarios on
  the six dual and two quad systems, each with its heterogeneous dataflow file (``WS_OS``,
  ``WS_OS_WS_OS``); ``--param dataflows=all`` takes every matching file,
  ``scenarios``/``systems`` choose by name.

Parameters are checked before anything is written, with their ``--param`` names:
integers integral and within ``1..MAX_LAYERS`` (layers, width), ``MAX_ACCS``,
``MAX_COUNT``; ``0 <= edge_density <= 1``; ``0 < ccr <= 1e6``; ``0 <= heterogeneity <=
4``, all finite; unknown names refused with the known ones; ``examples`` and ``paper`` take none.

Every set is written with a ``MANIFEST.json``: generator, parameters, seed, package
version and the files (instances, then any schedules that come with them).  The same
seed gives the same files.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from ..model import Instance, Options, Workload
from ..schedule import Schedule
from ..timing import asap
from .generate import MAX_CCR, MAX_HETEROGENEITY, random_layered

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


#: The largest sizes a generated instance may have (the ``table`` costs hold
#: ``layers × accs`` numbers) and the most instances one suite may write.
MAX_LAYERS, MAX_ACCS, MAX_COUNT = 100_000, 256, 10_000


def _int(suite: str, key: str, value: Any, lo: int, hi: int) -> int:
    """``value`` as an integer in ``lo..hi`` (an integral float such as ``1e3`` counts)."""
    ok = not isinstance(value, bool) and (
        isinstance(value, int) or isinstance(value, float) and value.is_integer())
    if not ok:
        raise ValueError(f"{suite} suite parameter {key}: expected int, got {value!r}")
    if not lo <= value <= hi:
        raise ValueError(f"{suite} suite parameter {key}: must be in {lo}..{hi}, got {value!r}")
    return int(value)


def _float(suite: str, key: str, value: Any, lo: float, hi: float = math.inf, *,
           open_lo: bool = False) -> float:
    """``value`` as a finite float in ``[lo, hi]`` (``(lo, hi]`` with ``open_lo``)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{suite} suite parameter {key}: expected float, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < lo or open_lo and value == lo or value > hi:
        rng = (f"{'> ' if open_lo else '>= '}{lo:g}" if hi == math.inf else
               f"in {'(' if open_lo else '['}{lo:g}, {hi:g}]")
        raise ValueError(f"{suite} suite parameter {key}: must be finite and {rng},"
                         f" got {value!r}")
    return value


def _known(suite: str, params: dict[str, Any], known: tuple[str, ...]) -> None:
    unknown = sorted(set(params) - set(known))
    if unknown:
        if not known:
            raise ValueError(f"{suite} suite takes no --param (got {', '.join(unknown)})")
        raise ValueError(f"{suite} suite: unknown parameter(s) {', '.join(unknown)}"
                         f" (known: {', '.join(known)})")


def _small(seed: int, params: dict[str, Any]) -> Iterator[Instance]:
    _known("small", params, ("count",))
    count = _int("small", "count", params.get("count", 24), 1, MAX_COUNT)
    sizes = (10, 15, 20, 25, 30, 40)
    for i in range(count):
        yield random_layered(sizes[i % len(sizes)], 2 + i % 3, num_models=1 + i % 2,
                             comm="host" if (i // 3) % 2 == 0 else "p2p", seed=seed + i)


RANDOM_DEFAULTS = {"count": 10, "layers": 100, "accs": 4, "models": 2, "width": None,
                   "edge_density": 0.2, "ccr": 1.0, "heterogeneity": 0.5, "comm": "host"}


def _random(seed: int, params: dict[str, Any]) -> Iterator[Instance]:
    _known("random", params, tuple(RANDOM_DEFAULTS))
    p = {**RANDOM_DEFAULTS, **params}
    layers = _int("random", "layers", p["layers"], 1, MAX_LAYERS)
    kw: dict[str, Any] = {
        "num_models": _int("random", "models", p["models"], 1, layers),
        "width": None if p["width"] in (None, "None") else _int("random", "width", p["width"],
                                                               1, MAX_LAYERS),
        "edge_density": _float("random", "edge_density", p["edge_density"], 0.0, 1.0),
        "ccr": _float("random", "ccr", p["ccr"], 0.0, MAX_CCR, open_lo=True),
        "heterogeneity": _float("random", "heterogeneity", p["heterogeneity"], 0.0,
                                MAX_HETEROGENEITY),
    }
    if p["comm"] not in ("host", "p2p"):
        raise ValueError(f"random suite parameter comm: must be host or p2p, got {p['comm']!r}")
    accs = _int("random", "accs", p["accs"], 1, MAX_ACCS)
    for i in range(_int("random", "count", p["count"], 1, MAX_COUNT)):
        yield random_layered(layers, accs, comm=str(p["comm"]), seed=seed + i, **kw)


SCALE_SIZES = (100, 300, 1000, 3000, 10000)


def _scale(seed: int, params: dict[str, Any]) -> Iterator[Instance]:
    _known("scale", params, ("sizes", "layers", "accs", "models"))
    if "sizes" in params and "layers" in params:
        raise ValueError("scale suite: give sizes or layers, not both")
    if "layers" in params:
        sizes = [_int("scale", "layers", params["layers"], 1, MAX_LAYERS)]
    else:
        raw = params.get("sizes", list(SCALE_SIZES))
        if not isinstance(raw, list) or not raw:
            raise ValueError(f"scale suite parameter sizes: expected a non-empty list of"
                             f" layer counts such as [100,1000], got {raw!r}")
        sizes = [_int("scale", f"sizes[{k}]", x, 1, MAX_LAYERS) for k, x in enumerate(raw)]
        if len(set(sizes)) != len(sizes):
            raise ValueError(f"scale suite parameter sizes: repeated size in {raw!r} (the"
                             f" instances would overwrite each other)")
    accs = _int("scale", "accs", params.get("accs", 8), 1, MAX_ACCS)
    models = _int("scale", "models", params.get("models", min(4, *sizes)), 1, min(sizes))
    for n in sizes:
        yield random_layered(n, accs, num_models=models, seed=seed)


def _pareto_dnn(name: str) -> Workload:
    """The two DNN workloads of the ``pareto`` suite (real layer shapes, 23 and 26
    layers): ``gesture_text``, a hand-gesture ResNet-18 up to its second stage on a
    112x112 depth crop beside a transformer encoder block (64 tokens, width 256, 4
    heads); ``two_resnets``, ResNet-18 up to stage 2 on a 64x64 RGB crop beside one up to
    stage 1 on a 112x112 depth crop."""
    from .backbones import Net, resnet18, transformer_block

    net = Net()
    if name == "gesture_text":
        resnet18(net, "gesture", "hand_", in_ch=1, size=112, stages=2)
        transformer_block(net, "text", "tx_", tokens=64, d=256, heads=4, ffn=1024)
    else:
        resnet18(net, "rgb", "rgb_", in_ch=3, size=64, stages=2)
        resnet18(net, "depth", "depth_", in_ch=1, size=112, stages=1)
    return Workload(tuple(net.layers), tuple(net.edges))


def _pareto(seed: int, params: dict[str, Any]) -> Iterator[Instance]:
    """Latency-energy trade-offs for exact fronts: ``count`` random layered instances
    of 10-30 layers on 2-3 accelerators whose speeds and powers are drawn independently
    (a fast accelerator may be the power-hungry one), host comm, ``same_accelerator``;
    then two DNN workloads (:func:`_pareto_dnn`) on the four-dataflow system at 0.125
    and 1.25 GB/s with the dataflow model's per-access energies (``energy="access"``)."""
    _known("pareto", params, ("count",))
    count = _int("pareto", "count", params.get("count", 12), 1, MAX_COUNT)
    sizes = (10, 14, 18, 22, 26, 30)
    for i in range(count):
        inst = random_layered(sizes[i % len(sizes)], 2 + i % 2, num_models=1 + i % 2,
                              heterogeneity=1.0, seed=seed + i, locality="same_accelerator")
        yield inst
    from .zoo import system_preset

    for name in ("gesture_text", "two_resnets"):
        for bw in (0.125, 1.25):
            yield Instance(f"{name}-hetero4-{bw:g}GBps-access", _pareto_dnn(name),
                           system_preset("hetero4", bw, energy="access"),
                           Options(comm="host", locality="same_accelerator",
                                   element_bytes=1))


#: Where the bundled XRBench files are (see its ``SOURCE.md``).
XRBENCH_DIR = Path(__file__).parent / "data" / "xrbench"
#: The dataflow file a system of 1, 2 or 4 accelerators takes by default: the
#: heterogeneous one where there is one.
XRBENCH_DATAFLOWS = {1: "WS", 2: "WS_OS", 4: "WS_OS_WS_OS"}


def _xr_names(kind: str, key: str, params: dict[str, Any], default: list[str]) -> list[str]:
    known = sorted(p.stem for p in (XRBENCH_DIR / kind).glob("*.m"))
    raw = params.get(key, default)
    if not isinstance(raw, list) or not raw or not all(isinstance(x, str) for x in raw):
        raise ValueError(f"xrbench suite parameter {key}: expected a non-empty list of"
                         f" names, got {raw!r}")
    for x in raw:
        if x not in known:
            raise ValueError(f"xrbench suite parameter {key}: unknown {x!r} (known:"
                             f" {', '.join(known)})")
    return list(dict.fromkeys(raw))


def _xrbench(seed: int, params: dict[str, Any]) -> Iterator[Instance]:
    from ..io.xrbench import parse_hw, read_xrbench

    _known("xrbench", params, ("scenarios", "systems", "dataflows"))
    scenarios = _xr_names("usage_scenarios", "scenarios", params, sorted(
        p.stem for p in (XRBENCH_DIR / "usage_scenarios").glob("*.m")))
    systems = _xr_names("hw_configs", "systems", params, sorted(
        p.stem for p in (XRBENCH_DIR / "hw_configs").glob("*.m")
        if p.stem.startswith(("Dual", "Quad"))))
    which = params.get("dataflows", "hetero")
    if which not in ("hetero", "all"):
        raise ValueError(f"xrbench suite parameter dataflows: expected 'hetero' (one file"
                         f" per system, {XRBENCH_DATAFLOWS}) or 'all' (every file with as"
                         f" many blocks as the system has accelerators), got {which!r}")
    flows = sorted(p.stem for p in (XRBENCH_DIR / "dataflows").glob("*.m"))
    for system in systems:
        hw = XRBENCH_DIR / "hw_configs" / f"{system}.m"
        n = len(parse_hw(hw))
        chosen = [XRBENCH_DATAFLOWS[n]] if which == "hetero" else [
            f for f in flows if len(f.split("_")) == n]
        for flow in chosen:
            for scenario in scenarios:
                yield read_xrbench(XRBENCH_DIR / "usage_scenarios" / f"{scenario}.m", hw,
                                   XRBENCH_DIR / "dataflows" / f"{flow}.m")


def _examples_checked(seed: int, params: dict[str, Any]) -> Iterator[Instance]:
    _known("examples", params, ())
    yield from _examples(seed, params)


def _paper_checked(seed: int, params: dict[str, Any]) -> Iterator[Instance]:
    _known("paper", params, ())
    yield from _paper(seed, params)


class Suite(NamedTuple):
    """A named instance set: its generator ``(seed, params) -> instances``, a one-line
    description, and optionally the schedules written next to an instance (as
    ``NAME.KEY.schedule.json``)."""

    generate: Callable[[int, dict[str, Any]], Iterator[Instance]]
    description: str
    schedules: Callable[[Instance], dict[str, Schedule]] | None = None


SUITES: dict[str, Suite] = {
    "examples": Suite(_examples_checked, "the SPEC §8 reference instances (and a serial schedule)",
                      _example_schedules),
    "paper": Suite(_paper_checked, "every MMMT workload x dataflow system x host bandwidth"),
    "small": Suite(_small, "random layered, 10-40 layers, 2-4 accelerators (exact solving);"
                   " --param count"),
    "random": Suite(_random, "random layered DAGs; --param layers/accs/models/width/"
                    "edge_density/ccr/heterogeneity/comm/count"),
    "pareto": Suite(_pareto, "latency-energy fronts: random layered, 10-30 layers, 2-3"
                    " accelerators of independent speed and power (--param count), and two"
                    " DNN workloads on hetero4 with per-access energies"),
    "xrbench": Suite(_xrbench, "XRBench's six XR usage scenarios (109-934 layers) on its"
                     " dual and quad systems with heterogeneous dataflows; --param"
                     " scenarios=[...] systems=[...] dataflows=hetero|all"),
    "scale": Suite(_scale, "random layered on 8 accelerators, 4 models; --param"
                   " sizes=[100,300,1000,3000,10000] (default) or layers=N, accs, models"),
}


def suite_instances(name: str, seed: int = 0, params: dict[str, Any] | None = None
                    ) -> list[Instance]:
    if name not in SUITES:
        raise ValueError(f"unknown suite {name!r} (available: {', '.join(SUITES)})")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return list(SUITES[name].generate(seed, dict(params or {})))


def write_suite(name: str, out: str | Path, seed: int = 0,
                params: dict[str, Any] | None = None,
                progress: Callable[[int, int, str], None] | None = None) -> list[str]:
    """Write a suite's instances, the schedules that come with them, and its
    ``MANIFEST.json``; returns the paths (the manifest last)."""
    from ..io import write_instance, write_json, write_schedule
    from ..result import versions

    out = Path(out)
    insts = suite_instances(name, seed, params)  # every check before anything is written
    out.mkdir(parents=True, exist_ok=True)
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
    # the versions that made the files, but not the machine's platform: regenerating a
    # committed set elsewhere leaves it byte-identical when the versions agree
    # (nor the cost model's: instance files hold no costs)
    made_with = {k: v for k, v in versions().items() if k not in ("platform", "dataflow-model")}
    manifest = {"generator": f"{__name__}:{name}", "suite": name,
                "description": suite.description, "seed": seed, "parameters": params or {},
                "versions": made_with, "files": files}
    write_json(manifest, out / "MANIFEST.json")  # one JSON indentation for every file
    return [str(out / f) for f in files] + [str(out / "MANIFEST.json")]
