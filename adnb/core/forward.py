"""Forward mode: tangents v̇_i propagated alongside primals (Bishop & Bishop eq. 8.57).

    v̇_i = Σ_{j ∈ pa(i)} ∂v_i/∂v_j v̇_j

Two ways to run it, sharing the same per-primitive rules:

* ``DualTrace`` — online, as dual numbers (v_i, v̇_i): each operation computes its tangent at once
  and nothing is stored, so memory stays flat however long the computation (§8.2.2). With
  ``batch=N`` it carries N directions in one vectorised sweep (tangents get a leading axis of N),
  which is how ``jacfwd`` fills all D columns of a Jacobian.
* ``forward_sweep`` — over a recorded ``Trace``, keeping every v̇_i for tables and graphs.
"""
from __future__ import annotations

import numpy as np

from ..errors import MissingRuleError
from . import cost as _cost
from .reverse import call_as_numpy, fix_nonfinite, nonfinite
from .registry import compute
from .tracer import LEVELS, Tracer, shape_of, unwrap


class DualTracer(Tracer):
    """A dual number: primal v and tangent v̇ (with a leading axis of directions if batched)."""
    __slots__ = ("tangent",)

    def __init__(self, primal, trace, tangent):
        self.primal = primal
        self.trace = trace
        self.tangent = tangent


def _batch_view(t, in_shape, out_ndim, batch):
    """Line a batched tangent (N, *in_shape) up with an elementwise output of out_ndim dims."""
    missing = out_ndim - len(in_shape)
    if missing <= 0:
        return t
    from . import primitives as P
    return P.reshape(t, (batch,) + (1,) * missing + tuple(in_shape))


def tangent_contribution(prim, k, t, ans, args, params, batch=None, node=None):
    """The contribution ∂v/∂v_k v̇_k of argument k to the tangent of v = prim(*args)."""
    if batch is not None and prim.elementwise:
        t = _batch_view(t, shape_of(args[k]), len(shape_of(ans)), batch)
    if prim.jvp is None:
        raise MissingRuleError(f"forward-mode (tangent) rule for '{prim.name}' is not defined; "
                               "see adnb/core/primitives/")
    elif batch is not None and not prim.elementwise:
        c = _batched_rule(prim, k, t, ans, args, params, batch)
    elif prim.variadic:
        c = prim.jvp[0](t, ans, *args, argnum=k, **params)
    else:
        rule = prim.jvp[k]
        if rule is None:
            return None
        try:
            c = rule(t, ans, *args, **params)
        except ZeroDivisionError:       # Python floats: numpy gives inf/nan (reported below)
            c = call_as_numpy(rule, t, ans, *args, **params)
    if prim.elementwise and nonfinite(c):
        c = fix_nonfinite(c, t, node, prim, "forward", ans)
    return c


def _batched_rule(prim, k, t, ans, args, params, batch):
    if prim.jvp_batched is not None:
        rule = prim.jvp_batched[0] if prim.variadic else prim.jvp_batched[k]
        if rule is not None:
            return rule(t, ans, *args, argnum=k, **params) if prim.variadic else \
                rule(t, ans, *args, **params)
    # no vectorised rule: one direction at a time
    from . import primitives as P
    rule = prim.jvp[0] if prim.variadic else prim.jvp[k]
    if rule is None:
        return None
    extra = {"argnum": k} if prim.variadic else {}
    cols = [rule(t[n], ans, *args, **extra, **params) for n in range(batch)]
    return P.stack(cols)


def broadcast_tangent(t, ans, batch):
    target = shape_of(ans) if batch is None else (batch,) + tuple(shape_of(ans))
    if type(t) is float and not target:
        return t
    if shape_of(t) != target:
        from . import primitives as P
        t = P.broadcast_to(t, target)
    return t


class DualTrace:
    """Online forward mode (dual numbers); ``batch=N`` carries N tangent directions at once."""

    def __init__(self, batch=None):
        self.level = next(LEVELS)
        self.batch = batch

    def new_input(self, value, tangent):
        return DualTracer(value, self, tangent)

    def process(self, prim, args, params):
        """One operation on dual numbers: unbox (v_k, v̇_k), compute v, sum the contributions
        v̇ = Σ_k ∂v/∂v_k v̇_k (eq. 8.57), box (v, v̇). (The reference path; ``fast.py`` installs
        an unrolled copy over it.)"""
        primals, tangents = [], []
        for a in args:                  # a dual number of this trace, or a constant (v̇ = None)
            if type(a) is DualTracer and a.trace is self:
                primals.append(a.primal)
                tangents.append(a.tangent)
            else:
                primals.append(a)
                tangents.append(None)
        ans = compute(prim, primals, params)
        if not prim.differentiable:
            return ans
        if _cost.ACTIVE:
            return self._process_counted(prim, primals, tangents, ans, params)
        t_out = None
        for k, t in enumerate(tangents):
            if t is None:
                continue
            c = tangent_contribution(prim, k, t, ans, primals, params, self.batch)
            if c is not None:
                t_out = c if t_out is None else t_out + c       # sum over parents: eq. (8.57)
        return self.box(prim, ans, t_out)

    def box(self, prim, ans, t_out):
        """The dual number (v, v̇); an elementwise v̇ broadcast to v's shape (x + 1.0 with ẋ a
        scalar), or v alone if no tangent reached it."""
        if t_out is None:
            return ans
        if prim.elementwise and not (type(t_out) is float and type(ans) is float) \
                and (self.batch is not None or shape_of(t_out) != shape_of(ans)):
            t_out = broadcast_tangent(t_out, ans, self.batch)
        return DualTracer(ans, self, t_out)

    def _process_counted(self, prim, primals, tangents, ans, params):
        """The tangent rules run on counting tracers, so every operation is counted."""
        ct = _cost.CountTrace()
        w_ans, w_args = ct.wrap(ans), [ct.wrap(p) for p in primals]
        t_out = None
        with _cost.phase("tangent"):
            for k, t in enumerate(tangents):
                if t is None:
                    continue
                c = tangent_contribution(prim, k, ct.wrap(t), w_ans, w_args, params, self.batch)
                if c is not None:
                    t_out = c if t_out is None else t_out + c
            if t_out is None:
                return ans
            if prim.elementwise:
                t_out = broadcast_tangent(t_out, ans, self.batch)
        return DualTracer(ans, self, _cost.unwrap_count(t_out))

    def compare(self, ufunc, *args):
        return ufunc(*[unwrap(a) for a in args])

    def branch(self, value, tracer):
        return value


class ForwardResult:
    """Tangents v̇_i of every node of an explored trace, one column per input seed.

    Attributes:
        trace: the ``Trace``.
        seeds: per sweep, ``{input node index: ẋ}``.
        tangents: ``tangents[s][i]`` is v̇_i for seed s.
        labels: a short label per seed ("ẋ=e1", ...).
    """

    def __init__(self, trace, seeds, tangents, labels):
        self.trace, self.seeds, self.tangents, self.labels = trace, seeds, tangents, labels

    @property
    def mode(self):
        return "forward"

    def output_tangents(self, s=0):
        """Tangents of the outputs for seed s: a Jacobian column (J ẋ)."""
        return [self.tangents[s][o] if o >= 0 else 0.0 for o in self.trace.outputs]

    @property
    def passes(self):
        return len(self.seeds)

    def _repr_html_(self):
        from ..display.html import trace_table
        return trace_table(self.trace, forward=self)

    def __repr__(self):
        return f"<adnb ForwardResult: {self.passes} forward pass(es) over {len(self.trace)} nodes>"


def forward_sweep(trace, seeds=None):
    """Tangent sweeps over an explored trace, keeping every v̇_i.

    Args:
        seeds: None (one sweep per input, ẋ = e_j: 1 for that input, 0 for the others), one
            list of input tangents (a single sweep: J r), or a list of such lists.
    """
    ins = trace.inputs
    if seeds is None:
        seeds = []
        for j, i in enumerate(ins):
            shape = trace.rows[i][5]
            seeds.append([(np.ones(shape) if shape else 1.0) if jj == j else None
                          for jj in range(len(ins))])
        labels = [f"ẋ=e{j + 1}" if len(ins) > 1 else "ẋ=1" for j in range(len(ins))]
    else:
        if not isinstance(seeds[0], (list, tuple)):
            seeds = [seeds]
        labels = ["ẋ=(" + ", ".join("0" if u is None else f"{float(np.asarray(u)):g}"
                                     if np.ndim(u) == 0 else "…" for u in s) + ")"
                  for s in seeds]
    all_tangents, seed_dicts = [], []
    for s in seeds:
        d = {i: (float(u) if np.ndim(u) == 0 else np.asarray(u, dtype=float))
             for i, u in zip(ins, s) if u is not None}
        seed_dicts.append(d)
        all_tangents.append(_sweep(trace, d))
    return ForwardResult(trace, seed_dicts, all_tangents, labels)


def _sweep(trace, seed):
    """One tangent sweep in index order; while counting, the rules run on counting tracers
    so every operation they perform is counted (as in reverse.py)."""
    counter = _cost.CountTrace() if _cost.ACTIVE else None
    wrap = counter.wrap if counter is not None else (lambda v: v)
    tan = [None] * len(trace.rows)
    for i, u in seed.items():
        tan[i] = wrap(u)
    if counter is not None:
        _cost.add_passes(forward=1)
    with _cost.phase("tangent"):
        for node in trace.nodes:
            if node.prim is None:
                continue
            t_out = None
            for k, p in enumerate(node.parents):
                if p < 0 or tan[p] is None:
                    continue
                c = tangent_contribution(node.prim, k, tan[p], wrap(node.ans),
                                         [wrap(a) for a in node.args], node.params or {},
                                         None, node)
                if c is not None:
                    t_out = c if t_out is None else t_out + c   # sum over parents: eq. (8.57)
            if t_out is not None and node.prim.elementwise:
                t_out = broadcast_tangent(t_out, node.ans, None)
            tan[node.index] = t_out
    return [_cost.unwrap_count(t) for t in tan] if counter is not None else tan
