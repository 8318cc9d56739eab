"""The computation-prioritised list mapping of SPEC §7.1 (H2H step 1): shared by the
``baseline`` backend and as the first step of ``h2h``."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...comm import CommModel
from ...cost import CostTables
from ...model import Instance
from ...schedule import Decision
from ..base import Option

__all__ = ["BASELINE_CAP", "CAP_OPTION", "BaselineStats", "comp_prioritised"]

#: Candidates per commit above which §7.1 switches from exhaustive enumeration to
#: greedy earliest finish (SPEC: never below 10 000).
BASELINE_CAP = 20_000
#: the cap as a solver option, declared by ``baseline`` and ``h2h``
CAP_OPTION = Option("cap", int, BASELINE_CAP, "step 1: candidates per commit above which the"
                    " enumeration commits greedily by earliest finish (SPEC §7.1)",
                    low=10_000)



@dataclass
class BaselineStats:
    commits: int = 0
    capped_commits: int = 0
    max_candidates: int = 0


def comp_prioritised(inst: Instance, tables: CostTables, cap: int = BASELINE_CAP
                     ) -> tuple[Decision, BaselineStats]:
    """Computation-prioritised greedy list mapping (SPEC §7.1).

    Every layer is costed with all transfers paid: ``L_full(v, a)`` (under ``p2p``:
    E6 with ``r = 0``, link delays ignored while mapping).  Per pass of
    the loop, the ready layers (workload order) of each op class are committed to
    the candidate (subset × assignment, itertools order) whose simulated maximum
    accelerator availability is smallest — the *first* such candidate.

    When a commit would enumerate more than ``cap`` candidates, it is built greedily
    instead: as many layers as the exhaustive rule would commit, one at a time,
    each the (layer, accelerator) pair with the smallest resulting maximum
    availability, then the earliest finish (first in enumeration order on ties).
    """
    if cap < 10_000:
        raise ValueError("the enumeration cap must be at least 10 000 (SPEC §7.1)")
    wl, sysm = inst.workload, inst.system
    n, m = wl.num_layers, sysm.num_accs
    big_l = CommModel(inst, tables).full_busy()
    lfull = big_l.tolist()
    op_of = [layer.op for layer in wl.layers]
    classes = list(dict.fromkeys(op_of))
    accs_of = {c: [a for a in range(m) if c in sysm.accelerators[a].ops] for c in classes}
    left = [len(p) for p in wl.preds]
    ready_set = {v for v in range(n) if left[v] == 0}
    avail = [0.0] * m
    finish = [0.0] * n
    x = [-1] * n
    orders: list[list[int]] = [[] for _ in range(m)]
    stats = BaselineStats()
    mapped = 0
    while mapped < n:
        ready = sorted(ready_set)
        committed: list[int] = []
        for cls in classes:
            group = [v for v in ready if op_of[v] == cls]
            if not group:
                continue
            accs = accs_of[cls]
            k = len(accs)
            rdy = [max((finish[u] for u in wl.preds[v]), default=0.0) for v in group]
            if k > len(group):
                count = k ** len(group)
            else:
                count = math.comb(len(group), k) * k ** k
            stats.commits += 1
            stats.max_candidates = max(stats.max_candidates, count)
            if count <= cap:
                choice = _enumerate(group, accs, rdy, avail, lfull, k)
            else:
                stats.capped_commits += 1
                choice = _greedy(group, accs, rdy, avail, big_l, min(k, len(group)))
            for i, a in choice:
                v = group[i]
                s = max(avail[a], rdy[i])
                avail[a] = finish[v] = s + lfull[v][a]
                x[v] = a
                orders[a].append(v)
                committed.append(v)
        for v in committed:
            ready_set.discard(v)
            mapped += 1
            for w in wl.succs[v]:
                left[w] -= 1
                if left[w] == 0:
                    ready_set.add(w)
    plan = Decision(np.array(x, dtype=np.int64), np.zeros(n, dtype=bool), orders)
    return plan, stats


def _enumerate(group: list[int], accs: list[int], rdy: list[float], avail: list[float],
               lfull: list[list[float]], k: int) -> list[tuple[int, int]]:
    best = math.inf
    choice: list[tuple[int, int]] = []
    if k > len(group):
        subsets: Any = [tuple(range(len(group)))]
        width = len(group)
    else:
        subsets = itertools.combinations(range(len(group)), k)
        width = k
    for subset in subsets:
        for alpha in itertools.product(accs, repeat=width):
            tmp = avail[:]
            for i, a in zip(subset, alpha, strict=True):
                s = tmp[a] if tmp[a] > rdy[i] else rdy[i]
                tmp[a] = s + lfull[group[i]][a]
            score = max(tmp)
            if score < best:
                best = score
                choice = list(zip(subset, alpha, strict=True))
    return choice


def _greedy(group: list[int], accs: list[int], rdy: list[float], avail: list[float],
            big_l: np.ndarray, count: int) -> list[tuple[int, int]]:
    tmp = np.array(avail, dtype=float)
    acc_idx = np.array(accs)
    ready = np.array(rdy)
    lsub = big_l[np.ix_(np.array(group), acc_idx)]  # (|R|, k)
    free = np.ones(len(group), dtype=bool)
    choice: list[tuple[int, int]] = []
    for _ in range(count):
        fin = np.maximum(tmp[acc_idx][None, :], ready[:, None]) + lsub
        score = np.maximum(tmp.max(), fin)
        score[~free] = np.inf
        fin_masked = np.where(free[:, None], fin, np.inf)
        flat = np.lexsort((fin_masked.ravel(), score.ravel()))[0]  # score, then finish
        i, j = divmod(int(flat), len(accs))
        choice.append((i, accs[j]))
        tmp[accs[j]] = fin[i, j]
        free[i] = False
    return choice
