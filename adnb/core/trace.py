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

from types import MappingProxyType

import numpy as np

from .frames import is_machinery, user_frame  # noqa: F401  (is_machinery: re-exported)
from .standin import fill
from .registry import compute
from .tracer import LEVELS, Tracer, not_real_float, shape_of, stub_of, unwrap



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


_user_frame = user_frame


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
    active = True     # False once the transformation has finished (leaked tracers)

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
        """Record one operation: unbox this trace's tracers, compute, write the row, box the
        value. (The reference path; ``fast.py`` installs an unrolled copy over it.)"""
        vals, parents = [], []
        for a in args:                  # a tracer of this trace is a parent; anything else a constant
            if type(a) is TapeTracer and a.trace is self:
                vals.append(a.primal)
                parents.append(a.index)
            else:
                vals.append(a)
                parents.append(-1)
        ans = compute(prim, vals, params)
        if not prim.differentiable:
            return ans
        return self.record(prim, tuple(parents), tuple(vals), ans, params)

    def record(self, prim, parents, vals, ans, params, local=None):
        """Write the Wengert row v_i = prim(vals) -- the one place rows are written -- and return
        the tracer of v_i. A lean trace keeps only what the adjoint rule reads (``prim.keep``);
        ``local`` holds the local partials when the float fast path computed them already."""
        if not self.lean:
            return self._record_all(prim, vals, parents, ans, params)
        if type(ans) is float:
            shape = ()                  # scalar arguments cost nothing to keep: keep them all
        else:
            if type(ans) is np.ndarray and ans.dtype.kind not in "cO":
                shape = ans.shape
            else:           # complex: refused; object array of traced values: done again
                redo = not_real_float(prim, [v if p < 0 else TapeTracer(v, self, p)
                                             for v, p in zip(vals, parents)], params, ans)
                if redo is not None:
                    return redo
                shape = shape_of(ans)
            if not prim.keep_args:      # only the shapes of the arguments (shared stubs)
                vals = tuple(v if p < 0 else stub_of(v) for v, p in zip(vals, parents))
        self.rows.append((prim, parents, vals, ans if prim.keep_ans else None, params, shape))
        self.local.append(local)
        return TapeTracer(ans, self, len(self.rows) - 1)

    def _record_all(self, prim, vals, parents, ans, params):
        if type(ans) is not float and type(ans) is not np.float64 \
                and not (type(ans) is np.ndarray and ans.dtype.kind == "f"):
            redo = not_real_float(prim, [v if p < 0 else TapeTracer(v, self, p)
                                         for v, p in zip(vals, parents)], params, ans)
            if redo is not None:
                return redo
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
        def count(n, noun):
            return f"{n} {noun}{'' if n == 1 else 's'}"
        return (f"<adnb Trace: {count(len(self.inputs), 'input')}, {count(self.n_ops, 'operation')}, "
                f"{count(len(self.outputs), 'output')}>")

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
