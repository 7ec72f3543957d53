"""Find loop iterations and repeated structure in a trace, and fold them for display.

A trace has no loop markers: a Python loop simply records its body again and again. Lets the
displays recover them:

* ``find_loops(trace)`` — the trace as blocks: single nodes and ``Loop``s (runs of consecutive,
  identical iterations; identical = same source line, operation, constant pattern and shape for
  every node of the body), nested loops inside a body included. Identical code repeated twice
  on one line (``x[0] * x[1] + x[2] * x[3]``) looks like a two-iteration loop; that is why two
  repeats count only when the body spans several source lines, three or more always.
* ``LoopIndex(blocks).path(i)`` — which iteration of which loops node i belongs to.
* ``fold(trace, max_items, keep)`` — the plan of a folded display: runs of rows to show and
  ``Fold`` segments standing for the rows left out (middle iterations of a loop, or rows
  elided to stay within ``max_items``). Segments partition the nodes in index order, so the rows
  shown plus the rows folded always add up to the trace length.
"""
from __future__ import annotations

import bisect
import weakref
from dataclasses import dataclass, field

__all__ = ["Loop", "Fold", "find_loops", "LoopIndex", "fold", "signatures"]

#: candidate periods tried per position (distances to the next occurrences of its signature)
_CANDIDATES = 8
_BLOCKS = weakref.WeakKeyDictionary()      # Trace -> (number of nodes, blocks)


@dataclass
class Loop:
    """``count`` consecutive iterations of ``period`` nodes starting at node ``start``.

    Attributes:
        start: index of the first node of iteration 1.
        period: nodes per iteration.
        count: number of iterations.
        loc: source location of the body's first node.
        body: blocks of iteration 1 (node indices and nested ``Loop``s).
    """
    start: int
    period: int
    count: int
    loc: tuple | None = None
    body: list = field(default_factory=list, repr=False)

    @property
    def stop(self):
        return self.start + self.period * self.count

    def iteration(self, i):
        """1-based iteration number of node i (assumed inside the loop)."""
        return (i - self.start) // self.period + 1

    def iteration_range(self, k):
        """Node index range [lo, hi) of iteration k (1-based)."""
        lo = self.start + (k - 1) * self.period
        return lo, lo + self.period


@dataclass
class Fold:
    """Rows ``lo .. hi-1`` left out of a display.

    Attributes:
        lo, hi: node index range [lo, hi).
        kind: ``"loop"`` (middle iterations of a loop) or ``"elided"`` (rows cut to fit).
        loop: the ``Loop`` for kind "loop".
        first_iteration, last_iteration: the folded iterations (kind "loop").
    """
    lo: int
    hi: int
    kind: str
    loop: Loop | None = None
    first_iteration: int = 0
    last_iteration: int = 0

    @property
    def n_rows(self):
        return self.hi - self.lo


def signatures(trace):
    """One hashable signature per node: equal signatures mean "the same statement again".

    Inputs get unique signatures (they never fold). Returns a list of small ints.
    """
    ids = {}
    out = []
    for n in trace.nodes:
        if n.prim is None:
            key = ("input", n.index)
        else:
            loc = n.loc[:2] if n.loc else None
            key = (loc, n.prim.name, tuple(p < 0 for p in n.parents), n.shape)
        out.append(ids.setdefault(key, len(ids)))
    return out


def _spans_lines(trace, start, period):
    lines = {trace.nodes[j].loc[:2] if trace.nodes[j].loc else None
             for j in range(start, start + period)}
    return len(lines) > 1


def _find(sig, positions, lo, hi, trace, depth):
    blocks = []
    i = lo
    while i < hi:
        best = None
        occ = positions[sig[i]]
        k = bisect.bisect_right(occ, i)
        for j in occ[k:k + _CANDIDATES]:
            p = j - i
            if i + 2 * p > hi:
                break
            body = sig[i:i + p]
            count = 1
            while i + (count + 1) * p <= hi and sig[i + count * p:i + (count + 1) * p] == body:
                count += 1
            # Two repeats are a loop only if the body spans several source lines (the second
            # pass jumps back to an earlier line); on one line they are just repeated code
            # (x[0] * x[1] + x[2] * x[3]). Three or more repeats count either way.
            if count >= 3 or (count == 2 and _spans_lines(trace, i, p)):
                if best is None or count * p > best[0] * best[1]:
                    best = (count, p)
        if best is None:
            blocks.append(i)
            i += 1
            continue
        count, p = best
        node = trace.nodes[i]
        loop = Loop(i, p, count, node.loc)
        if p > 1 and depth < 8:
            loop.body = _find(sig, positions, i, i + p, trace, depth + 1)
        else:
            loop.body = list(range(i, i + p))
        blocks.append(loop)
        i += p * count
    return blocks


def find_loops(trace):
    """Split a trace into single nodes and loops of identical consecutive iterations.

    Returns:
        list of blocks in index order: ``int`` node indices and ``Loop`` objects (cached per
        trace: the table and the graph of one display share them; treat them as read-only).
    """
    n = len(trace.nodes)
    try:
        hit = _BLOCKS.get(trace)
    except TypeError:               # not weak-referenceable: no cache
        hit = None
    if hit is not None and hit[0] == n:
        return hit[1]
    sig = signatures(trace)
    positions = {}
    for i, s in enumerate(sig):
        positions.setdefault(s, []).append(i)
    blocks = _find(sig, positions, 0, n, trace, 0)
    try:
        _BLOCKS[trace] = (n, blocks)
    except TypeError:
        pass
    return blocks


class LoopIndex:
    """Answers "which loop iteration is node i in?" for blocks from ``find_loops``."""

    def __init__(self, blocks):
        self.blocks = blocks
        self._sub = {}

    def _index(self, blocks):
        key = id(blocks)
        if key not in self._sub:
            self._sub[key] = [b.start if isinstance(b, Loop) else b for b in blocks]
        return self._sub[key]

    def path(self, i):
        """The loops around node i, outermost first, as ``[(Loop, iteration), ...]``.

        Iteration k of a loop is a shifted copy of iteration 1, so nested loops are looked up in
        iteration 1 at the same offset.
        """
        out = []
        blocks = self.blocks
        while True:
            starts = self._index(blocks)
            pos = bisect.bisect_right(starts, i) - 1
            if pos < 0:
                return out
            b = blocks[pos]
            if not isinstance(b, Loop) or i >= b.stop:
                return out
            k = b.iteration(i)
            out.append((b, k))
            i -= (k - 1) * b.period
            blocks = b.body


def _shift(blocks, offset):
    """The blocks of iteration 1 moved to another iteration (``offset`` nodes later)."""
    if not offset:
        return blocks
    out = []
    for b in blocks:
        if isinstance(b, Loop):
            out.append(Loop(b.start + offset, b.period, b.count, b.loc, _shift(b.body, offset)))
        else:
            out.append(b + offset)
    return out


def _segments(blocks, keep, out, min_fold):
    """Flatten blocks into ("row", i) and Fold segments, folding middle loop iterations."""
    for b in blocks:
        if not isinstance(b, Loop):
            out.append(("row", b))
            continue
        if b.count < min_fold:
            shown = set(range(1, b.count + 1))
        else:
            shown = {1, b.count}
            shown.update(b.iteration(i) for i in keep if b.start <= i < b.stop)
        k = 1
        while k <= b.count:
            if k in shown:
                _segments(_shift(b.body, (k - 1) * b.period), keep, out, min_fold)
                k += 1
                continue
            first = k
            while k <= b.count and k not in shown:
                k += 1
            lo = b.iteration_range(first)[0]
            hi = b.iteration_range(k - 1)[1]
            out.append(("fold", Fold(lo, hi, "loop", b, first, k - 1)))
    return out


def fold(trace, max_items=200, keep=(), blocks=None, min_fold=3):
    """Plan a folded display of a trace.

    Middle iterations of every loop with at least ``min_fold`` iterations fold (the first and
    last iterations stay, and so does any iteration holding a node in ``keep``). If more than
    ``max_items`` rows remain, rows from the middle of the trace are elided as well, keeping the
    head, the tail and the ``keep`` rows.

    Args:
        trace: the ``Trace``.
        max_items: most rows to show (None: no limit, only loops fold).
        keep: node indices that must stay visible (outputs, the first inf/nan, the sweep's
            current row).
        blocks: precomputed ``find_loops(trace)``.
        min_fold: loops with fewer iterations are shown in full.

    Returns:
        list of segments in index order: ``("row", i)`` or ``("fold", Fold)``; every node is in
        exactly one segment.
    """
    if blocks is None:
        blocks = find_loops(trace)
    keep = set(keep)
    segs = _segments(blocks, keep, [], min_fold)
    rows = [s[1] for s in segs if s[0] == "row"]
    if max_items is None or len(rows) <= max_items:
        return segs
    # too many rows even with loops folded: keep head, tail and the rows asked for
    kept_keep = [i for i in rows if i in keep]
    room = max(max_items - len(kept_keep), 2)
    head = set(rows[:room // 2])
    tail = set(rows[len(rows) - (room - room // 2):])
    visible = head | tail | set(kept_keep)
    out = []
    run = []

    def flush():
        if len(run) == 1 and run[0][0] == "fold":
            out.append(run[0])          # a lone loop fold keeps its loop description
        elif run:
            lo = run[0][1] if run[0][0] == "row" else run[0][1].lo
            hi = run[-1][1] + 1 if run[-1][0] == "row" else run[-1][1].hi
            out.append(("fold", Fold(lo, hi, "elided")))
        run.clear()

    for s in segs:
        if s[0] == "row" and s[1] in visible:
            flush()
            out.append(s)
        else:
            run.append(s)
    flush()
    return out
