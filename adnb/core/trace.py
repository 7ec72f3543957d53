"""The evaluation trace (Wengert list) and the recording transformation that builds it.

``Trace`` records one ``Node`` per elementary operation, numbered as in Bishop & Bishop §8.2:
inputs v1..vD first, then one variable per operation in execution order. Each node knows its
primitive, its parents pa(i) (``parents``; -1 marks a constant, which is kept as a literal), its
value, and the arguments its adjoint rule needs. ``children(i)`` gives ch(i).

Three recording modes share this class:

* lean (``grad``, ``vjp``, ``jacrev``): a node keeps only what its primitive's adjoint rule needs
  (``Primitive.keep``), so reverse mode stores about one activation per layer;
* explore (``adnb.trace``): every value, the source line that created it, the name the user's code
  gave it, and the branches taken, for the displays;
* keep_values (``hvp``, core/second_order.py): every value, for the tangent rules, nothing else.
"""
from __future__ import annotations

import os
import sys
from types import MappingProxyType

import numpy as np

from . import cost as _cost
from .registry import UFUNCS
from .standin import fill
from .tracer import (_NO_PARAMS, _PLAIN, LEVELS, Tracer, install_float_fast_paths,
                     outer_process, shape_of, stub_of, unwrap)

# frames in these directories are machinery, not the user's code (for source locations)
_CORE_DIR = os.path.dirname(os.path.abspath(__file__))
_NUMPY_DIR = os.path.dirname(np.__file__)


class Node:
    """One row of the Wengert list: v_index = prim(args).

    Attributes:
        index: 0-based position; the book's v_i is ``index + 1``.
        prim: the Primitive, or None for an input.
        parents: per argument, the index of the parent node, or -1 for a constant.
        args: argument values the adjoint rule needs (``ShapeStub`` for those it does not).
        ans: the value, if kept (always in explore and keep_values modes).
        params: keyword parameters of the primitive (axis, shape, index...).
        shape: shape of the value.
        loc: (filename, line, function) of the user code that created it (explore mode).
        name: the user's variable name for it, if any (explore mode).
    """
    __slots__ = ("index", "prim", "parents", "args", "ans", "params", "shape", "loc", "name")

    def __init__(self, index, prim, parents, args, ans, params, shape, loc=None, name=None):
        # (positional, no keyword-only logic: this runs once per recorded operation)
        self.index = index
        self.prim = prim
        self.parents = parents
        self.args = args
        self.ans = ans
        self.params = params
        self.shape = shape
        self.loc = loc
        self.name = name

    @property
    def label(self):
        """The book's name for this variable: v1, v2, ..."""
        return f"v{self.index + 1}"

    @property
    def is_input(self):
        return self.prim is None

    def formula(self, names=None):
        """This operation written with its parents' labels, e.g. ``v1 v2`` or ``sin(v2)``."""
        return format_formula(self, names)

    def __repr__(self):
        return f"{self.label} = {self.formula()}"


class TapeTracer(Tracer):
    """A value recorded on a ``Trace``: its primal and the index of the node that produced it."""
    __slots__ = ("index",)

    def __init__(self, primal, trace, index):
        self.primal = primal
        self.trace = trace
        self.index = index

    @property
    def node(self):
        return self.trace.nodes[self.index]


class BranchEvent:
    """A comparison or truth test on traced values: records the control-flow path taken."""
    __slots__ = ("position", "kind", "value", "loc")

    def __init__(self, position, kind, value, loc):
        self.position, self.kind, self.value, self.loc = position, kind, value, loc

    def __repr__(self):
        return f"BranchEvent(after v{self.position}, {self.kind} -> {self.value}, line {self.loc[1] if self.loc else '?'})"


def is_machinery(filename):
    """True for adnb's core and numpy's own files: frames there are not the user's code."""
    return filename.startswith(_CORE_DIR) or filename.startswith(_NUMPY_DIR)


def _user_frame(depth=2):
    """The innermost frame outside adnb's core and numpy: where the user's code made the call."""
    f = sys._getframe(depth)
    while f is not None:
        if not is_machinery(f.f_code.co_filename):
            return f
        f = f.f_back
    return None


class Trace:
    """A recorded evaluation trace (Wengert list) and the transformation that records it.

    Attributes:
        nodes: the ``Node`` rows, inputs first.
        inputs: indices of the input nodes.
        outputs: indices of the output nodes (set when recording ends), -1 for an output that
            does not depend on the inputs.
        explore: whether every value, source line and name was recorded.
        events: control-flow events (explore mode).
    """

    # What only explore mode and ``finish`` fill in: read-only empty defaults on the class, so
    # that the lean traces of grad/vjp/jacrev (one per call) cost less to make.
    locs = MappingProxyType({})         # explore mode: node index -> (file, line, function)
    names = MappingProxyType({})        # explore mode: node index -> the user's variable name
    events = ()                         # explore mode: BranchEvent list
    outputs = output_values = output_names = ()
    function_name = None
    _nodes_cache = None

    def __init__(self, explore=False, keep_values=False):
        self.level = next(LEVELS)
        # One row per node: (prim, parents, args, ans, params, shape). Tuples are the cheapest
        # record to make on the hot path; ``nodes`` presents them as Node objects.
        self.rows = []
        # Local partials ∂v_i/∂v_j of node i, when computed while recording (plain floats, lean
        # mode, ``Primitive.scalar_partials``); None otherwise. Parallel to ``rows``.
        self.local = []
        self.inputs = []
        self.explore = explore
        # lean: rows keep only what the adjoint rules need. Otherwise every value (keep_values:
        # for the tangent rules of second_order.py, without explore's source lines).
        # (An instance attribute: the float fast paths read it on every operation.)
        self.lean = not (explore or keep_values)
        if explore:
            self.locs, self.names, self.events = {}, {}, []

    # ---- recording ------------------------------------------------------------------------
    @property
    def nodes(self):
        """The rows as ``Node`` objects (built on demand, cached)."""
        key = (len(self.rows), len(self.names))
        if self._nodes_cache is None or self._nodes_cache[0] != key:
            self._nodes_cache = (key, [self.node(i) for i in range(len(self.rows))])
        return self._nodes_cache[1]

    def node(self, i):
        prim, parents, args, ans, params, shape = self.rows[i]
        return Node(i, prim, parents, args, ans, params, shape, self.locs.get(i),
                    self.names.get(i))

    def new_input(self, value, name=None):
        i = len(self.rows)
        self.rows.append((None, (), (), value, None, shape_of(value)))
        self.local.append(None)
        if name is not None:
            self.names[i] = name
        self.inputs.append(i)
        return TapeTracer(value, self, i)

    def process(self, prim, args, params):
        # The hot path of every traced operation, kept lean (benchmarks/ holds the budget).
        # Unpack this trace's tracers into (value, parent index); anything else is a constant.
        n = len(args)
        if n == 1:              # unary and binary operations unrolled: the commonest cases
            x = args[0]
            if type(x) is TapeTracer and x.trace is self:
                vx, parents = x.primal, (x.index,)
            else:
                vx, parents = x, (-1,)
            vals = (vx,)
            plain = type(vx) in _PLAIN or not isinstance(vx, Tracer)
            if not plain:               # the outer transformation sees the operation too
                ans = vx.trace.process(prim, vals, params)
            elif type(vx) is float and prim.scalar_impl is not None:
                ans = prim.scalar_impl(vx)
            else:
                ans = prim.impl(vx, **params) if params else prim.impl(vx)
        elif n == 2:
            x, y = args
            if type(x) is TapeTracer and x.trace is self:
                vx, px = x.primal, x.index
            else:
                vx, px = x, -1
            if type(y) is TapeTracer and y.trace is self:
                vy, py = y.primal, y.index
            else:
                vy, py = y, -1
            vals, parents = (vx, vy), (px, py)
            plain = (type(vx) in _PLAIN or not isinstance(vx, Tracer)) \
                and (type(vy) in _PLAIN or not isinstance(vy, Tracer))
            if not plain:
                ans = outer_process(prim, vals, params)
            else:
                ans = prim.impl(vx, vy, **params) if params else prim.impl(vx, vy)
        else:
            vals = []
            parents = []
            plain = True        # no tracer of an outer transformation among the values
            for a in args:
                if type(a) is TapeTracer and a.trace is self:
                    v = a.primal
                    parents.append(a.index)
                else:
                    v = a
                    parents.append(-1)
                vals.append(v)
                if plain and type(v) is not float and isinstance(v, Tracer):
                    plain = False
            ans = outer_process(prim, vals, params) if not plain else prim.impl(*vals, **params)
        if plain and _cost.ACTIVE:
            _cost.record(prim, vals, ans, params)
        if not prim.differentiable:
            return ans
        if not self.lean:
            return self._record_all(prim, vals, parents, ans, params)
        rows = self.rows
        local = None
        if type(ans) is float:
            shape = ()                  # scalar arguments cost nothing to keep: keep them all
            if plain and prim.scalar_partials is not None:
                try:                    # every local partial now: the sweep only multiplies
                    local = prim.scalar_partials(ans, *vals)
                except (ZeroDivisionError, ValueError, OverflowError):
                    pass                # the sweep's rules handle (and report) this point
        else:
            shape = ans.shape if type(ans) is np.ndarray else shape_of(ans)
            if not prim.keep_args:      # only the shapes of the arguments (shared stubs)
                if n == 1:
                    vals = (stub_of(vx),) if parents[0] >= 0 else vals
                elif n == 2:
                    vals = (stub_of(vx) if px >= 0 else vx, stub_of(vy) if py >= 0 else vy)
                else:
                    vals = [v if p < 0 else stub_of(v) for v, p in zip(vals, parents)]
        rows.append((prim, parents, vals, ans if prim.keep_ans else None, params, shape))
        self.local.append(local)
        return TapeTracer(ans, self, len(rows) - 1)

    def _record_all(self, prim, vals, parents, ans, params):
        frame = _user_frame(3) if self.explore else None
        loc = None
        if frame is not None:
            loc = (frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name)
            self._name_locals(frame)
        i = len(self.rows)
        self.rows.append((prim, parents, vals, ans, params, shape_of(ans)))
        self.local.append(None)
        if loc is not None:
            self.locs[i] = loc
        return TapeTracer(ans, self, i)

    def _name_locals(self, frame):
        """Give unnamed nodes the names the user's code bound them to (``a1 = w1 * x + b1``)."""
        names = self.names
        for k, v in frame.f_locals.items():
            if type(v) is TapeTracer and v.trace is self and v.index not in names \
                    and not k.startswith("_"):
                names[v.index] = k

    def compare(self, ufunc, *args):
        result = ufunc(*[unwrap(a) for a in args])
        if self.explore:
            self._event("compare:" + ufunc.__name__, result)
        return result

    def branch(self, value, tracer):
        if self.explore:
            self._event("bool", value)
        return value

    def _event(self, kind, value):
        frame = _user_frame(3)
        loc = (frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name) if frame else None
        if frame is not None:
            self._name_locals(frame)
        v = value if isinstance(value, (bool, np.bool_)) else np.asarray(value)
        self.events.append(BranchEvent(len(self.rows), kind, v, loc))

    def finish(self, outputs, names=None):
        """Mark the output values (tracers of this trace, or constants) after recording."""
        self.outputs, self.output_values = [], []
        for out in outputs:
            if isinstance(out, TapeTracer) and out.trace is self:
                self.outputs.append(out.index)
                self.output_values.append(out.primal)
            else:
                self.outputs.append(-1)
                self.output_values.append(unwrap(out))
        self.output_names = list(names) if names else [None] * len(outputs)
        for i, name in zip(self.outputs, self.output_names):
            if i >= 0 and name and i not in self.names:     # an output named by the caller
                self.names[i] = name
        return self

    # ---- the graph --------------------------------------------------------------------------
    def parents(self, i):
        """pa(i): indices of the nodes with an edge into node i (each once)."""
        return sorted({p for p in self.nodes[i].parents if p >= 0})

    def children(self, i):
        """ch(i): indices of the nodes node i feeds into (each once)."""
        return [j for j, r in enumerate(self.rows) if i in r[1]]

    def values(self):
        """Primal value of every node (explore mode)."""
        return [r[3] for r in self.rows]

    def kept_bytes(self):
        """Bytes of arrays the reverse sweep keeps alive (each array counted once)."""
        seen = set()
        total = 0
        for prim, parents, args, ans, params, shape in self.rows:
            if prim is None:
                continue
            for v in list(args) + [ans]:
                if isinstance(v, np.ndarray) and id(v) not in seen:
                    seen.add(id(v))
                    total += v.nbytes
        return total

    @property
    def n_ops(self):
        return len(self.rows) - len(self.inputs)

    def __len__(self):
        return len(self.rows)

    def __str__(self):
        lines = []
        for n in self.nodes:
            name = f"  # {n.name}" if n.name else ""
            if n.prim is None:
                lines.append(f"{n.label} = input{name}")
            else:
                lines.append(f"{n.label} = {n.formula()}{name}")
        outs = ", ".join(f"v{o + 1}" if o >= 0 else "const" for o in self.outputs)
        if outs:
            lines.append(f"outputs: {outs}")
        return "\n".join(lines)

    def __repr__(self):
        return f"<adnb Trace: {len(self.inputs)} inputs, {self.n_ops} operations, {len(self.outputs)} outputs>"

    # ---- sweeps (see forward.py, reverse.py) ---------------------------------------------------
    def forward(self, seeds=None):
        """Tangent sweep: v̇_i for every node, one sweep per seed (default: each input in turn)."""
        from .forward import forward_sweep
        return forward_sweep(self, seeds)

    def reverse(self, seeds=None):
        """Adjoint sweep: v̄_i for every node, one sweep per output seed (default: each output)."""
        from .reverse import reverse_sweep
        return reverse_sweep(self, seeds)

    def to_latex(self, mode=None, **kwargs):
        """The book's table as LaTeX: ``adnb.display.latex.trace_latex(self, mode, **kwargs)``."""
        from ..display.latex import trace_latex
        return trace_latex(self, mode, **kwargs)

    def _repr_html_(self):
        from ..display.html import trace_table
        return trace_table(self)


def format_const(c):
    """A constant as it reads in a formula: 2.0, [1, 2], array(5, 5), 1:, ::-1."""
    if isinstance(c, (float, int, np.floating, np.integer)):
        return repr(float(c)) if isinstance(c, (float, np.floating)) else str(c)
    if isinstance(c, np.ndarray):
        return f"array{c.shape}" if c.size > 4 else np.array2string(c, precision=4, separator=", ")
    if isinstance(c, slice):
        parts = ["" if v is None else str(v) for v in (c.start, c.stop, c.step)]
        return ":".join(parts[:2]) + (":" + parts[2] if c.step is not None else "")
    if c is None:
        return "None"
    if c is Ellipsis:
        return "..."
    if isinstance(c, tuple):     # an index tuple: x[1:, 0]
        return ", ".join(format_const(i) for i in c) if c else "()"
    return repr(c)


def format_formula(node, names=None):
    """Write a node as a formula of its parents: ``v1 v2``, ``sin(v2)``, ``sum(v3, axis=0)``."""
    if node.prim is None:
        return "input"
    parts = []
    for p, a in zip(node.parents, node.args):
        if p >= 0:
            parts.append((names[p] if names else f"v{p + 1}", 5))
        else:
            parts.append(const_part(a))
    params = node.params or {}

    def fallback(texts):
        extra = ", ".join(f"{k}={v!r}" for k, v in params.items())
        return f"{node.prim.name}({', '.join(texts)}{', ' + extra if extra else ''})"
    return fill(node.prim.formula, parts, params, "book", fallback)[0]


def const_part(c):
    """A constant operand of a formula: its text and precedence (a negative number binds like a
    product, so it is bracketed as a factor: v3 × (−1.0))."""
    text = format_const(c)
    if text.startswith("-") and np.ndim(c) == 0:
        return "−" + text[1:], 2
    return text, 5


# ---- the float fast path of recording ----------------------------------------------------------
# Scalar code (the book's examples, loops over floats) is mostly +, −, ×, / between a Python float
# and a traced float. For those, TapeTracer's operators write the row themselves: the same row
# ``Trace.process`` writes (tests/test_fast_paths.py checks both agree), without its general checks and
# one call level. Anything else (arrays, explore mode, count_cost, nested transformations) takes
# the general path.

def _float_operator(prim, name, reflected):
    impl, partials, keep_ans = prim.impl, prim.scalar_partials, prim.keep_ans

    def operator(self, other):
        x = self.primal
        trace = self.trace
        t = type(other)
        if type(x) is float and trace.lean and not _cost.ACTIVE:
            if t is float or t is int:
                if reflected:
                    parents, vals = (-1, self.index), (other, x)
                else:
                    parents, vals = (self.index, -1), (x, other)
            elif t is TapeTracer and other.trace is trace and type(other.primal) is float:
                parents, vals = (self.index, other.index), (x, other.primal)
            else:
                parents = None
            if parents is not None:
                ans = impl(*vals)
                if type(ans) is float:
                    try:
                        local = partials(ans, *vals)
                    except (ZeroDivisionError, ValueError, OverflowError):
                        local = None    # the sweep's rules handle (and report) this point
                    rows = trace.rows
                    rows.append((prim, parents, vals, ans if keep_ans else None, _NO_PARAMS, ()))
                    trace.local.append(local)
                    return TapeTracer(ans, trace, len(rows) - 1)
        # the general path: a constant or a tracer of this trace on the other side need no bind
        if t in _PLAIN or (t is TapeTracer and other.trace is trace):
            return trace.process(prim, (other, self) if reflected else (self, other), _NO_PARAMS)
        return prim(other, self) if reflected else prim(self, other)
    operator.__name__ = name
    return operator


def _float_ufunc(self, ufunc, method, *inputs, **kwargs):
    """np.sin(x), np.exp(x)... of a traced float on a lean trace: the same row as ``process``.
    (Other unary calls go straight to ``process``, as in ``Tracer.__array_ufunc__``.)"""
    if len(inputs) == 1 and method == "__call__" and not kwargs:
        prim = UFUNCS.get(ufunc)
        if prim is not None:
            x = self.primal
            trace = self.trace
            if type(x) is float and prim.scalar_partials is not None and trace.lean \
                    and not _cost.ACTIVE and prim.scalar_impl is not None:
                ans = prim.scalar_impl(x)
                if type(ans) is float:
                    try:
                        local = prim.scalar_partials(ans, x)
                    except (ZeroDivisionError, ValueError, OverflowError):
                        local = None
                    rows = trace.rows
                    rows.append((prim, (self.index,), (x,), ans if prim.keep_ans else None,
                                 _NO_PARAMS, ()))
                    trace.local.append(local)
                    return TapeTracer(ans, trace, len(rows) - 1)
            return trace.process(prim, inputs, _NO_PARAMS)
    return Tracer.__array_ufunc__(self, ufunc, method, *inputs, **kwargs)


install_float_fast_paths(TapeTracer, _float_operator, _float_ufunc)
