"""The Standard Task Graph Set format (Tobita & Kasahara 2002) as an instance."""

from __future__ import annotations

from pathlib import Path

from ..model import Accelerator, Edge, Instance, Layer, ModelError, Options, System, Workload
from .files import InputError, read_text
from .task_graph import MAX_TASK_COST, check_procs

__all__ = ["STG_MAX_COST", "parse_stg", "read_stg"]

#: The largest task cost accepted (:data:`h2h_opt.io.task_graph.MAX_TASK_COST`, 10^9).
STG_MAX_COST = MAX_TASK_COST


def _ints(row: list[str], line: int) -> list[int]:
    out = []
    for x in row:
        try:
            out.append(int(x))
        except ValueError:
            raise InputError(f"STG line {line}: {x!r} is not an integer") from None
    return out


def parse_stg(text: str, procs: int, name: str = "stg") -> Instance:
    """Standard Task Graph Set format (Tobita & Kasahara 2002) as an instance.

    ``P|prec|Cmax``: ``procs`` identical processors, ``p2p`` with zero delays
    (no links), every task's cost its compute time in time units (``tick_s = 1``).
    The dummy entry and exit tasks (0 and n+1) are dropped; they must cost 0.

    The file is checked strictly, each error one line naming the file line: the task
    count, then ``n + 2`` task lines ``id cost npred pred...`` with integer fields, ids
    0..n+1 each once, costs in ``0..STG_MAX_COST``, predecessors ids in ``0..n``
    (other than the task itself), listed once, and no cycle.  Lines starting with ``#``
    are comments; anything after the task lines must be a comment.
    """
    check_procs(procs)
    lines = [(no, ln.split()) for no, ln in enumerate(text.splitlines(), start=1)
             if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise InputError("STG: empty file")
    head_no, head = lines[0]
    if len(head) != 1:
        raise InputError(f"STG line {head_no}: expected the task count alone, got"
                         f" {' '.join(head)!r}")
    n = _ints(head, head_no)[0]
    if n < 1:
        raise InputError(f"STG line {head_no}: the task count must be >= 1, got {n}")
    body = lines[1:]
    if len(body) < n + 2:
        raise InputError(f"STG: expected {n + 2} task lines (0..{n + 1}), found {len(body)}")
    if len(body) > n + 2:
        raise InputError(f"STG line {body[n + 2][0]}: more task lines than the {n + 2}"
                         f" announced (0..{n + 1})")
    costs: dict[int, int] = {}
    where: dict[int, int] = {}
    edges: list[tuple[int, int]] = []
    for line, row in body:
        fields = _ints(row, line)
        if len(fields) < 3:
            raise InputError(f"STG line {line}: expected 'id cost npred pred...', got"
                             f" {' '.join(row)!r}")
        tid, cost, npred, *preds = fields
        if not 0 <= tid <= n + 1:
            raise InputError(f"STG line {line}: task id {tid} out of range 0..{n + 1}")
        if tid in costs:
            raise InputError(f"STG line {line}: task {tid} already defined on line"
                             f" {where[tid]}")
        if not 0 <= cost <= STG_MAX_COST:
            raise InputError(f"STG line {line}: task {tid} cost {cost} out of range"
                             f" 0..{STG_MAX_COST}")
        if tid in (0, n + 1) and cost != 0:
            raise InputError(f"STG line {line}: dummy task {tid} must cost 0, got {cost}")
        if len(preds) != npred:
            raise InputError(f"STG line {line}: task {tid} declares {npred} predecessors,"
                             f" lists {len(preds)}")
        if tid == 0 and preds:
            raise InputError(f"STG line {line}: the entry task 0 cannot have predecessors")
        seen: set[int] = set()
        for u in preds:
            if not 0 <= u <= n:
                raise InputError(f"STG line {line}: task {tid}: predecessor {u} out of range"
                                 f" 0..{n}")
            if u == tid:
                raise InputError(f"STG line {line}: task {tid} is its own predecessor")
            if u in seen:
                raise InputError(f"STG line {line}: task {tid}: predecessor {u} listed twice")
            seen.add(u)
        costs[tid], where[tid] = cost, line
        edges.extend((u, tid) for u in preds)
    real = range(1, n + 1)
    ed = [(u, v) for u, v in edges if u != 0 and v != n + 1]
    _check_acyclic(n, ed, where)
    layers = tuple(Layer(id=f"T{t}", op="task", model="stg") for t in real)
    times = {f"T{t}": float(costs[t]) for t in real}
    accs = tuple(Accelerator(id=f"P{p + 1}", ops=frozenset({"task"}),
                             cost_model={"kind": "table", "time_s": times})
                 for p in range(procs))
    return Instance(name, Workload(layers, tuple(Edge(f"T{u}", f"T{v}") for u, v in ed)),
                    System(accs, None), Options(comm="p2p", tick_s=1.0))


def _check_acyclic(n: int, edges: list[tuple[int, int]], where: dict[int, int]) -> None:
    """Kahn's algorithm over tasks 1..n; a cycle is reported by one of its tasks."""
    succ: dict[int, list[int]] = {}
    indeg = dict.fromkeys(range(1, n + 1), 0)
    for u, v in edges:
        succ.setdefault(u, []).append(v)
        indeg[v] += 1
    ready = [t for t, d in indeg.items() if d == 0]
    done = 0
    while ready:
        u = ready.pop()
        done += 1
        for v in succ.get(u, ()):
            indeg[v] -= 1
            if indeg[v] == 0:
                ready.append(v)
    if done < n:
        stuck = {t for t, d in indeg.items() if d > 0}
        pred: dict[int, int] = {}
        for u, v in edges:
            if u in stuck and v in stuck:
                pred.setdefault(v, u)
        path, t = [], min(stuck)
        while t not in path:  # walk back through stuck predecessors until one repeats
            path.append(t)
            t = pred[t]
        cycle = path[path.index(t):][::-1]
        names = " -> ".join(str(x) for x in [*cycle, cycle[0]])
        raise InputError(f"STG line {where[cycle[0]]}: cycle of predecessors {names}")


def read_stg(path: str | Path, procs: int) -> Instance:
    p = Path(path)
    text = read_text(p)  # its errors name the file already
    try:
        return parse_stg(text, procs, name=f"{p.stem}-p{procs}")
    except ModelError as exc:
        raise InputError(f"{p}: {exc}") from None
