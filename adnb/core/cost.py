"""Cost accounting: elementary operations, flops, passes and bytes kept for the reverse sweep.

Counting is off unless a ``count_cost()`` block is active, so ``grad`` pays nothing for it. Inside
the block every primitive evaluated is attributed to the current *phase*: ``"primal"`` (evaluating
f), ``"tangent"`` (forward-mode rules), ``"adjoint"`` (reverse-mode rules). Sweeps count *passes*
the way the book does: a forward pass per input direction, a reverse pass per output seed, even
when several directions are carried in one vectorised sweep (``sweeps`` counts the latter).
"""
from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field

# Every open Cost counter of every thread: the hot path's one check is ``if ACTIVE`` (nothing to
# do while it is empty). What is counted goes to the counters of the thread that did the work,
# so a count_cost block sees only its own thread (another thread merely takes the slower,
# counting path of the sweeps while any block is open).
ACTIVE: list = []
_LOCAL = threading.local()


def counters():
    """The open ``Cost`` counters of this thread (innermost last)."""
    return _state()[0]


def _state():
    """This thread's open counters and phase stack (sweeps push "tangent" / "adjoint")."""
    st = getattr(_LOCAL, "state", None)
    if st is None:
        st = _LOCAL.state = ([], ["primal"])
    return st


@dataclass
class Cost:
    """Operation counts of everything evaluated inside a ``count_cost()`` block.

    Attributes:
        ops: elementary operations per phase (``primal``, ``tangent``, ``adjoint``).
        flops: floating-point operations per phase (elementwise: one per element; matmul 2mnk).
        forward_passes: tangent passes (one per input direction, §8.2.1).
        reverse_passes: adjoint passes (one per output seed, §8.2.2).
        sweeps: python-level sweeps actually run (a vectorised forward sweep counts once).
        tape_bytes: largest number of bytes the reverse sweep kept for one recorded trace.
        tape_nodes: nodes recorded on reverse-mode traces.
        recomputed_ops / recomputed_flops: primal operations run again by checkpointed
            functions during reverse sweeps (included in ``ops["primal"]`` too).
    """
    ops: dict = field(default_factory=lambda: {"primal": 0, "tangent": 0, "adjoint": 0})
    flops: dict = field(default_factory=lambda: {"primal": 0, "tangent": 0, "adjoint": 0})
    forward_passes: int = 0
    reverse_passes: int = 0
    sweeps: int = 0
    tape_bytes: int = 0
    tape_nodes: int = 0
    recomputed_ops: int = 0
    recomputed_flops: int = 0

    @property
    def total_ops(self):
        return sum(self.ops.values())

    def ratio(self, phase=None):
        """Ops of the derivative phases (or one phase) per primal op: the §8.2.2 '≤ 6×' figure."""
        primal = max(self.ops["primal"], 1)
        if phase is None:
            return (self.ops["tangent"] + self.ops["adjoint"]) / primal
        return self.ops[phase] / primal

    def __repr__(self):
        return (f"Cost(ops={self.ops}, flops={self.flops}, forward_passes={self.forward_passes}, "
                f"reverse_passes={self.reverse_passes}, sweeps={self.sweeps}, "
                f"tape_bytes={self.tape_bytes})")


@contextlib.contextmanager
def count_cost():
    """Count the cost of everything evaluated in the block.

    Example:
        >>> with adnb.count_cost() as cost:
        ...     adnb.jacfwd(f)(x)
        >>> cost.forward_passes, cost.ops
    """
    c = Cost()
    mine = _state()[0]
    mine.append(c)
    ACTIVE.append(c)
    try:
        yield c
    finally:
        ACTIVE.remove(c)
        mine.remove(c)


@contextlib.contextmanager
def phase(name):
    stack = _state()[1]
    stack.append(name)
    try:
        yield
    finally:
        stack.pop()


def _size(x):
    s = getattr(x, "size", None)
    return 1 if s is None else int(s)


def record(prim, args, ans, params):
    """Attribute one evaluated primitive to the active counters (called only when counting)."""
    if getattr(prim, "counted_inside", False):
        return          # a custom function or checkpoint: its inside was counted op by op
    mine, stack = _state()
    if not mine:
        return
    ph = stack[-1]
    fl = prim.flops(ans, *args, **params) if prim.flops is not None else _size(ans)
    for c in mine:
        c.ops[ph] += 1
        c.flops[ph] += fl


def add_passes(forward=0, reverse=0, sweeps=1):
    for c in _state()[0]:
        c.forward_passes += forward
        c.reverse_passes += reverse
        c.sweeps += sweeps


def note_tape(nbytes, nodes):
    for c in _state()[0]:
        c.tape_bytes = max(c.tape_bytes, nbytes)
        c.tape_nodes += nodes


# ---- counting the operations of derivative rules ----------------------------------------------
# Rules written with Python operators on floats (``1 - ans * ans``) do not call primitives, so
# they would go uncounted. While counting, the sweeps run the rules on CountTracers instead:
# a transformation that does nothing but route every operation through a primitive.

import numpy as np  # noqa: E402

from .tracer import LEVELS, Tracer, unwrap  # noqa: E402


class CountTracer(Tracer):
    __slots__ = ()

    def __init__(self, primal, trace):
        self.primal = primal
        self.trace = trace


class CountTrace:
    """The counting transformation (see above)."""

    def __init__(self):
        self.level = next(LEVELS)

    def wrap(self, x):
        """Wrap float values (and tracers); leave indices, shapes and other constants alone."""
        if isinstance(x, (float, np.floating, Tracer)) or \
                (isinstance(x, np.ndarray) and x.dtype.kind == "f"):
            return CountTracer(x, self)
        return x

    def process(self, prim, args, params):
        vals = [a.primal if type(a) is CountTracer and a.trace is self else a for a in args]
        ans = prim(*vals, **params)
        if not prim.differentiable:
            return ans
        return CountTracer(ans, self)

    def compare(self, ufunc, *args):
        return ufunc(*[unwrap(a) for a in args])

    def branch(self, value, tracer):
        return value


def unwrap_count(x):
    while type(x) is CountTracer:
        x = x.primal
    return x
