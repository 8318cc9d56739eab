"""The Standard Task Graph Set format (Tobita & Kasahara 2002) as an instance."""

from __future__ import annotations

from pathlib import Path

from ..model import Accelerator, Edge, Instance, Layer, ModelError, Options, System, Workload
from .files import InputError

__all__ = ["parse_stg", "read_stg"]


def parse_stg(text: str, procs: int, name: str = "stg") -> Instance:
    """Standard Task Graph Set format (Tobita & Kasahara 2002) as an instance.

    ``P|prec|Cmax``: ``procs`` identical processors, ``p2p`` with zero delays
    (no links), every task's cost its compute time in time units (``tick_s = 1``).
    The dummy entry and exit tasks (0 and n+1) are dropped; they cost 0.
    """
    if isinstance(procs, bool) or not isinstance(procs, int) or procs < 1:
        raise InputError(f"procs must be a positive integer, got {procs!r}")
    lines = [ln.split() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    if not lines:
        raise InputError("STG: empty file")
    try:
        n = int(lines[0][0])
    except ValueError:
        raise InputError(f"STG line 1: expected the task count, got {lines[0][0]!r}") from None
    if len(lines) < n + 3:
        raise InputError(f"STG: expected {n + 2} task lines, found {len(lines) - 1}")
    costs: dict[int, int] = {}
    edges: list[tuple[int, int]] = []
    for row_no, row in enumerate(lines[1: n + 3], start=2):
        try:
            tid, cost, npred, *preds = (int(x) for x in row)
        except ValueError:
            raise InputError(f"STG line {row_no}: non-integer field in {' '.join(row)!r}") from None
        if len(preds) != npred:
            raise InputError(f"STG line {row_no}: task {tid} declares {npred} predecessors,"
                             f" lists {len(preds)}")
        if cost < 0:
            raise InputError(f"STG line {row_no}: task {tid} has negative cost {cost}")
        costs[tid] = cost
        edges.extend((p, tid) for p in preds)
    real = [t for t in range(1, n + 1)]
    for t in real:
        if t not in costs:
            raise InputError(f"STG: task {t} is missing")
    layers = tuple(Layer(id=f"T{t}", op="task", model="stg") for t in real)
    ed = tuple(Edge(f"T{u}", f"T{v}") for u, v in edges if 1 <= u <= n and 1 <= v <= n)
    times = {f"T{t}": float(costs[t]) for t in real}
    accs = tuple(Accelerator(id=f"P{p + 1}", ops=frozenset({"task"}),
                             cost_model={"kind": "table", "time_s": times})
                 for p in range(procs))
    return Instance(name, Workload(layers, ed), System(accs, None),
                    Options(comm="p2p", tick_s=1.0))


def read_stg(path: str | Path, procs: int) -> Instance:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{p}: cannot read ({exc.strerror or exc})") from None
    try:
        return parse_stg(text, procs, name=f"{p.stem}-p{procs}")
    except ModelError as exc:
        raise InputError(f"{p}: {exc}") from None
