"""The fast paths, installed over the reference path (``use_reference_path`` takes them off).

The reference path -- ``Trace.process`` (trace.py), ``DualTrace.process`` (forward.py),
``reverse.sweep`` and the ``Tracer`` operators -- is the one to read: unbox, compute, record or
sum the contributions, box. Everything here computes exactly the same numbers and warnings
faster (tests/test_fast_paths.py, tests/test_reference.py's differential test):

* float operators: + − × / of a traced Python float write the Wengert row (or the dual number)
  themselves, with the local partials from ``Primitive.scalar_partials``; np.sin(x) and friends
  likewise;
* unrolled ``process`` for one and two arguments, computing the scalar local partials while
  recording, so the reverse sweep over scalar code is multiply-and-add only;
* an optimistic reverse sweep: unchecked first (no inf/nan inspection of each contribution), run
  again checked only if an input's adjoint comes out inf/nan.

``ADNB_REFERENCE=1`` in the environment (read at import) or ``adnb.core.use_reference_path()``
runs everything on the reference path. Budgets: benchmarks/instructions.py.
"""
from __future__ import annotations

import os

import numpy as np

from . import cost as _cost
from . import reverse
from .forward import DualTrace, DualTracer, tangent_contribution
from .registry import PRIMITIVES, UFUNCS, outer_process
from .reverse import contribution, fix_nonfinite, nonfinite, unbroadcast
from .trace import TapeTracer, Trace
from .tracer import _NO_PARAMS, _PLAIN, Tracer, _data, _foreign, not_real_float, shape_of



# ---- recording -------------------------------------------------------------------------------

def trace_process(self, prim, args, params):
    # ``Trace.process`` with one and two arguments unrolled (the commonest cases), computing the
    # scalar local partials while recording. Unpack this trace's tracers into (value, parent).
    n = len(args)
    if n == 1:
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
        return _REFERENCE["Trace.process"](self, prim, args, params)
    if plain and _cost.ACTIVE:
        _cost.record(prim, vals, ans, params)
    if not prim.differentiable:
        return ans
    local = None
    if type(ans) is float and plain and self.lean and prim.scalar_partials is not None:
        try:                        # every local partial now: the sweep only multiplies
            local = prim.scalar_partials(ans, *vals)
        except (ZeroDivisionError, ValueError, OverflowError):
            pass                    # the sweep's rules handle (and report) this point
    return self.record(prim, parents, vals, ans, params, local)


# The float fast path of recording. Scalar code (the book's examples, loops over floats) is
# mostly +, −, ×, / between a Python float and a traced float. For those, TapeTracer's operators
# write the row themselves: the same row ``Trace.record`` writes, without its general checks and
# two call levels. Anything else (arrays, explore mode, count_cost, nested transformations)
# takes ``process``.

def _tape_operator(prim, name, reflected):
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
        if _foreign(other):                     # an xarray DataArray: its own operator wraps
            return NotImplemented
        other = _data(other)                    # x / [1, 2]: the list as numpy reads it
        return prim(other, self) if reflected else prim(self, other)
    operator.__name__ = name
    return operator


def _tape_ufunc(self, ufunc, method, *inputs, **kwargs):
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


# ---- forward mode ------------------------------------------------------------------------------

def dual_process(self, prim, args, params):
    # ``DualTrace.process`` with one and two arguments unrolled; unpack this trace's dual
    # numbers into primal and tangent, anything else is a constant (tangent None).
    n = len(args)
    if n == 1:
        x = args[0]
        if type(x) is DualTracer and x.trace is self:
            vx, tangents = x.primal, (x.tangent,)
        else:
            vx, tangents = x, (None,)
        primals = (vx,)
        plain = type(vx) in _PLAIN or not isinstance(vx, Tracer)
        if not plain:               # the outer transformation sees the operation too
            ans = vx.trace.process(prim, primals, params)
        elif type(vx) is float and prim.scalar_impl is not None:
            ans = prim.scalar_impl(vx)
        else:
            ans = prim.impl(vx, **params) if params else prim.impl(vx)
    elif n == 2:
        x, y = args
        if type(x) is DualTracer and x.trace is self:
            vx, tx = x.primal, x.tangent
        else:
            vx, tx = x, None
        if type(y) is DualTracer and y.trace is self:
            vy, ty = y.primal, y.tangent
        else:
            vy, ty = y, None
        primals, tangents = (vx, vy), (tx, ty)
        plain = (type(vx) in _PLAIN or not isinstance(vx, Tracer)) \
            and (type(vy) in _PLAIN or not isinstance(vy, Tracer))
        if not plain:
            ans = outer_process(prim, primals, params)
        else:
            ans = prim.impl(vx, vy, **params) if params else prim.impl(vx, vy)
    else:
        return _REFERENCE["DualTrace.process"](self, prim, args, params)
    if type(ans) is not float and prim.differentiable:
        redo = _unusual_value(prim, args, params, ans)     # complex: refused; object arrays
        if redo is not None:
            return redo
    if _cost.ACTIVE:
        return _dual_counted(self, prim, primals, tangents, ans, params, plain)
    if not prim.differentiable:
        return ans
    local = None
    if type(ans) is float and plain and prim.scalar_partials is not None:
        try:                                # scalar code: every local partial in one call
            local = prim.scalar_partials(ans, *primals)
        except (ZeroDivisionError, ValueError, OverflowError):
            pass                            # the rules below handle (and report) this point
    return self.box(prim, ans, _dual_tangent(self, prim, tangents, ans, primals, params, local))


def _unusual_value(prim, args, params, ans):
    """None for a real float or float array; else what ``not_real_float`` makes of it."""
    if type(ans) is np.float64 or (type(ans) is np.ndarray and ans.dtype.kind == "f"):
        return None
    return not_real_float(prim, args, params, ans)


def _dual_counted(self, prim, primals, tangents, ans, params, plain):
    """``dual_process`` under ``count_cost``: the operation counted, its tangent on counters."""
    if plain:
        _cost.record(prim, primals, ans, params)
    if prim.differentiable:
        return self._process_counted(prim, primals, tangents, ans, params)
    return ans


def _dual_tangent(self, prim, tangents, ans, primals, params, local):
    """v̇ = Σ_k ∂v/∂v_k v̇_k (eq. 8.57), with the scalar partials when known and the rule
    inlined for one direction."""
    t_out = None
    batch = self.batch
    k = -1
    for t in tangents:
        k += 1
        if t is None:
            continue
        if local is not None and type(t) is float:
            c = t * local[k]                                # v̇_k ∂v/∂v_k
            if c - c != 0:                                  # inf/nan: the full rule reports
                c = tangent_contribution(prim, k, t, ans, primals, params, batch)
        elif batch is None and not prim.variadic and prim.jvp:
            rule = prim.jvp[k]
            if rule is None:
                continue
            try:                    # `tangent_contribution`, inlined for one direction
                c = rule(t, ans, *primals, **params)
            except ZeroDivisionError:                       # x/0 on Python floats
                c = tangent_contribution(prim, k, t, ans, primals, params, batch)
            else:
                if prim.elementwise and nonfinite(c):
                    c = fix_nonfinite(c, t, None, prim, "forward", ans)
        else:
            c = tangent_contribution(prim, k, t, ans, primals, params, batch)
        if c is not None:
            t_out = c if t_out is None else t_out + c       # sum over parents: eq. (8.57)
    return t_out


# The float fast path of forward mode: +, −, ×, / of dual numbers with float primal and
# tangent, against a Python float or another such dual number, computed here in one step;
# everything else (arrays, batched directions, count_cost, nested transformations, inf/nan)
# takes ``process``.

def _dual_operator(prim, name, reflected):
    impl, partials = prim.impl, prim.scalar_partials

    def operator(self, other):
        x = self.primal
        tx = self.tangent
        trace = self.trace
        t = type(other)
        if type(x) is float and type(tx) is float and trace.batch is None and not _cost.ACTIVE:
            if t is float or t is int:
                vals = (other, x) if reflected else (x, other)
                ty = None
            elif t is DualTracer and other.trace is trace and type(other.primal) is float \
                    and type(other.tangent) is float:
                vals, ty = (x, other.primal), other.tangent
            else:
                vals = None
            if vals is not None:
                ans = impl(*vals)
                if type(ans) is float:
                    try:
                        d = partials(ans, *vals)
                    except (ZeroDivisionError, ValueError, OverflowError):
                        d = None                                 # the general path reports it
                    if d is not None:
                        if ty is not None:
                            t_out = d[0] * tx + d[1] * ty        # eq. (8.57)
                        else:
                            t_out = d[1] * tx if reflected else d[0] * tx
                        if t_out - t_out == 0:                   # finite: done
                            return DualTracer(ans, trace, t_out)
        # the general path: a constant or a tracer of this trace on the other side need no bind
        if t in _PLAIN or (t is DualTracer and other.trace is trace):
            return trace.process(prim, (other, self) if reflected else (self, other), _NO_PARAMS)
        if _foreign(other):                     # an xarray DataArray: its own operator wraps
            return NotImplemented
        other = _data(other)
        return prim(other, self) if reflected else prim(self, other)
    operator.__name__ = name
    return operator


def _dual_ufunc(self, ufunc, method, *inputs, **kwargs):
    """np.sin(x), np.exp(x)... of a dual number with float primal and tangent."""
    if len(inputs) == 1 and method == "__call__" and not kwargs:
        prim = UFUNCS.get(ufunc)
        if prim is not None:
            x, tx = self.primal, self.tangent
            if type(x) is float and type(tx) is float and prim.scalar_partials is not None \
                    and self.trace.batch is None and not _cost.ACTIVE \
                    and prim.scalar_impl is not None:
                ans = prim.scalar_impl(x)
                if type(ans) is float:
                    try:
                        t_out = prim.scalar_partials(ans, x)[0] * tx
                    except (ZeroDivisionError, ValueError, OverflowError):
                        t_out = None
                    if t_out is not None and t_out - t_out == 0:
                        return DualTracer(ans, self.trace, t_out)
            return self.trace.process(prim, inputs, _NO_PARAMS)
    return Tracer.__array_ufunc__(self, ufunc, method, *inputs, **kwargs)


# ---- reverse mode ------------------------------------------------------------------------------

def backward(trace, seeds, keep_all=False):
    """``reverse.backward``, optimistic. Array contributions are checked for inf/nan
    (``settle``) only when they need to be. An inf or nan in a contribution reaches an input's
    adjoint (rules pass it on), unless a selecting rule (where, clip, maximum) routes that entry
    to the branch not taken, whose derivative is exactly 0 whatever the partials beyond it: then
    the result is finite and right. So a sweep whose input adjoints are all finite stands, and
    only one that ends with an inf/nan runs again on the reference path, with every contribution
    checked (zero seed × inf → 0, and the warning that names the operation if the inf/nan
    stays)."""
    if keep_all or _cost.ACTIVE:
        return _REFERENCE["backward"](trace, seeds, keep_all)
    start = max(seeds)
    result = _sweep(trace, _seeded(trace, seeds), start)
    for i in trace.inputs:
        a = result[i]
        if a is not None and (a - a != 0 if type(a) is float else nonfinite(a)):
            return _REFERENCE["backward"](trace, seeds, keep_all)  # checked; warns if it stays
    return result


def _seeded(trace, seeds):
    adj = [None] * len(trace.rows)
    for i, s in seeds.items():
        adj[i] = s if adj[i] is None else adj[i] + s
    return adj


def _sweep(trace, adj, start):
    """``reverse.sweep`` without the inf/nan checks, dropping adjoints once passed on."""
    rows = trace.rows
    local = trace.local
    for i in range(start, -1, -1):
        g = adj[i]
        if g is None:
            continue
        d = local[i]
        if d is not None and type(g) is float:     # scalar code, partials known: v̄_j ∂v_j/∂v_k
            adj[i] = None
            k = -1
            for p in rows[i][1]:
                k += 1
                if p >= 0:
                    c = g * d[k]
                    a = adj[p]
                    adj[p] = c if a is None else a + c
            continue
        prim, parents, args, ans, params, shape = rows[i]
        if prim is None:            # an input: its adjoint is a result
            continue
        adj[i] = None
        _pass_on(adj, rows, prim, parents, args, ans, params, g)
    return adj


def _pass_on(adj, rows, prim, parents, args, ans, params, g):
    """v̄_k += v̄_j ∂v_j/∂v_k for each parent k of one node (the rule inlined)."""
    vjp = prim.vjp
    inline = not prim.variadic and vjp is not None
    k = -1
    for p in parents:
        k += 1
        if p < 0:
            continue
        if inline:                                     # `contribution`, inlined
            rule = vjp[k]
            if rule is None:
                continue
            try:
                c = rule(g, ans, *args, **params) if params else rule(g, ans, *args)
            except ZeroDivisionError:
                c = contribution(prim, k, g, ans, args, params)
        else:
            c = contribution(prim, k, g, ans, args, params)
            if c is None:
                continue
        if type(c) is not float and prim.elementwise:  # sum over broadcast dimensions
            target = rows[p][5]                        # (the parent's shape)
            if (c.shape if type(c) is np.ndarray else shape_of(c)) != target:
                c = unbroadcast(c, target)
        a = adj[p]
        adj[p] = c if a is None else a + c             # sum over children: eq. (8.69)


# ---- installing ------------------------------------------------------------------------------

_REFERENCE: dict = {}
_OPERATORS = ((PRIMITIVES["add"], "add"), (PRIMITIVES["sub"], "sub"), (PRIMITIVES["mul"], "mul"),
              (PRIMITIVES["div"], "truediv"))


def _save_reference():
    _REFERENCE["Trace.process"] = Trace.process
    _REFERENCE["DualTrace.process"] = DualTrace.process
    _REFERENCE["backward"] = reverse.backward
    for cls in (TapeTracer, DualTracer):
        for _, name in _OPERATORS:
            for dunder in (f"__{name}__", f"__r{name}__"):
                _REFERENCE[cls, dunder] = cls.__dict__.get(dunder)
        _REFERENCE[cls, "__array_ufunc__"] = cls.__dict__.get("__array_ufunc__")


def install():
    """Put the fast paths in place (done at import unless ADNB_REFERENCE=1)."""
    Trace.process = trace_process
    DualTrace.process = dual_process
    reverse.backward = backward
    for cls, make, ufunc in ((TapeTracer, _tape_operator, _tape_ufunc),
                             (DualTracer, _dual_operator, _dual_ufunc)):
        for prim, name in _OPERATORS:
            setattr(cls, f"__{name}__", make(prim, f"__{name}__", False))
            setattr(cls, f"__r{name}__", make(prim, f"__r{name}__", True))
        cls.__array_ufunc__ = ufunc


def uninstall():
    """Back to the reference path everywhere."""
    Trace.process = _REFERENCE["Trace.process"]
    DualTrace.process = _REFERENCE["DualTrace.process"]
    reverse.backward = _REFERENCE["backward"]
    for key, value in _REFERENCE.items():
        if isinstance(key, tuple):
            cls, name = key
            if value is None:
                if name in cls.__dict__:
                    delattr(cls, name)
            else:
                setattr(cls, name, value)


def installed():
    return Trace.process is trace_process


_save_reference()
if os.environ.get("ADNB_REFERENCE", "") in ("", "0"):
    install()
