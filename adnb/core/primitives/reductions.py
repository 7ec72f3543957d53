"""Reductions: sum, max, min, prod, cumsum, and the numpy functions built on them (mean, var,
std, trace); broadcast_to and ``unbroadcast``, its adjoint (a sum over the broadcast axes).
Their rules are explicit ``jvp=``/``vjp=`` (not elementwise)."""
from __future__ import annotations

import numpy as np

from ..registry import define_primitive, implements
from ..tracer import shape_of, unwrap
from ._helpers import _axes, _reject, _size
from ..registry import select as _select
from .elementwise import sqrt, where_
from .shape import _inverse_perm, getitem, np_reshape, reshape, transpose_


# ============================================================================================
# Reductions
# ============================================================================================


def _expand_to(g, shape, axes, keepdims):
    """Broadcast a reduced adjoint g back to the reduced operand's shape."""
    if not keepdims and shape and shape_of(g):
        kshape = tuple(1 if i in axes else n for i, n in enumerate(shape))
        g = reshape(g, kshape)
    return broadcast_to(g, shape)


# broadcasting and its adjoint, the sum over the broadcast axes

def _broadcast_impl(x, shape):
    if not shape_of(x):               # a scalar: filling is cheaper than numpy's broadcast_to
        out = np.empty(shape)
        out.fill(x)
        return out
    return np.broadcast_to(x, shape)


broadcast_to = define_primitive(
    "broadcast_to", _broadcast_impl, formula="broadcast({0}, {shape})",
    code="np.broadcast_to({0}, {shape})",
    jvp=(lambda t, ans, x, shape: broadcast_to(t, shape),),
    vjp=(lambda g, ans, x, shape: unbroadcast(g, shape_of(x)),),
    flops=lambda ans, x, shape: 0)


def _batched_broadcast(t, ans, x, shape):
    n = shape_of(t)[0]
    missing = len(shape) - len(shape_of(x))
    t = reshape(t, (n,) + (1,) * missing + tuple(shape_of(x)))
    return broadcast_to(t, (n,) + tuple(shape))


broadcast_to.jvp_batched = (_batched_broadcast,)


def unbroadcast(g, shape):
    """Sum g over the dimensions that broadcasting added to reach it from ``shape`` (the
    adjoint of broadcasting, used by every elementwise adjoint)."""
    shape = tuple(shape)
    gs = shape_of(g)
    if gs == shape:
        return g
    extra = len(gs) - len(shape)
    axes = tuple(range(extra)) + tuple(i + extra for i, n in enumerate(shape)
                                       if n == 1 and gs[i + extra] != 1)
    if axes:
        g = sum_(g, axes=axes, keepdims=True)
    if shape_of(g) != shape:
        g = reshape(g, shape)
    return g


def _batched_reduce(prim):
    def rule(t, ans, x, axes, keepdims):
        return prim(t, axes=tuple(a + 1 for a in axes), keepdims=keepdims)
    return rule


def _sum_impl(x, axes, keepdims):
    if type(x) is np.ndarray:
        if not keepdims and len(axes) == x.ndim:
            return np.add.reduce(x, axis=None)          # a full sum: numpy's fastest call
        return np.add.reduce(x, axis=axes, keepdims=keepdims)
    return np.sum(x, axis=axes, keepdims=keepdims)


sum_ = define_primitive(
    "sum", _sum_impl,
    formula="Σ({0})", keep="", code="np.sum({0}, axis={axes}, keepdims={keepdims})",
    jvp=(lambda t, ans, x, axes, keepdims: sum_(t, axes=axes, keepdims=keepdims),),
    vjp=(lambda g, ans, x, axes, keepdims: _expand_to(g, shape_of(x), axes, keepdims),),
    flops=lambda ans, x, axes, keepdims: _size(x))
sum_.jvp_batched = (_batched_reduce(sum_),)


def _tie_weights(ans, x, axes, keepdims):
    """Max/min reductions share the derivative equally among tied entries (a constant)."""
    xv, av = unwrap(x), unwrap(ans)
    if not keepdims:
        av = np.reshape(av, tuple(1 if i in axes else n for i, n in enumerate(np.shape(xv))))
    m = np.asarray(xv == av, dtype=float)
    return m / np.sum(m, axis=axes, keepdims=True)


def _def_extremum(name, fn):
    prim = define_primitive(
        name, lambda x, axes, keepdims: fn(x, axis=axes, keepdims=keepdims),
        formula=name + "({0})", keep="both",
        jvp=(lambda t, ans, x, axes, keepdims:
             sum_(_weighted(t, ans, x, axes, keepdims), axes=axes, keepdims=keepdims),),
        vjp=(lambda g, ans, x, axes, keepdims:
             _weighted(_expand_to(g, shape_of(x), axes, keepdims), ans, x, axes, keepdims),))
    prim.jvp_batched = (lambda t, ans, x, axes, keepdims:
                        sum_(_weighted(t, ans, x, axes, keepdims),
                             axes=tuple(a + 1 for a in axes), keepdims=keepdims),)
    return prim


def _weighted(t, ans, x, axes, keepdims):
    """t times the tie weights, with entries that are not extreme exactly 0 (an inf tangent
    of a non-selected entry must not turn into 0 · inf = nan)."""
    w = _tie_weights(ans, x, axes, keepdims)
    return _select(w > 0, t) * w


max_ = _def_extremum("max", np.max)
min_ = _def_extremum("min", np.min)


def _prod_others(ans, x, axes, keepdims):
    """∂ prod / ∂x_i = product of the other entries (ans / x_i where x_i ≠ 0)."""
    xv = unwrap(x)
    if np.all(xv != 0):
        return _expand_to(ans, shape_of(x), axes, keepdims) / x
    # with zeros: Π_{j≠i} x_j directly, as the product of x with x_i replaced by 1 (n rows
    # per reduced slice). Written with primitives, so second derivatives stay right.
    shape = tuple(shape_of(x))
    nd = len(shape)
    perm = tuple(i for i in range(nd) if i not in axes) + tuple(axes)
    lead = tuple(shape[i] for i in perm[:nd - len(axes)])
    n = int(np.prod([shape[i] for i in axes])) if axes else 1
    xt = transpose_(x, axes=perm) if perm != tuple(range(nd)) else x
    rows = where_(np.eye(n, dtype=bool), 1.0,
                  broadcast_to(reshape(xt, shape=lead + (1, n)), shape=lead + (n, n)))
    others = reshape(prod(rows, axes=(len(lead) + 1,), keepdims=False),
                     shape=tuple(shape[i] for i in perm))
    return transpose_(others, axes=_inverse_perm(perm)) if perm != tuple(range(nd)) else others


prod = define_primitive(
    "prod", lambda x, axes, keepdims: np.prod(x, axis=axes, keepdims=keepdims),
    formula="Π({0})", keep="both",
    jvp=(lambda t, ans, x, axes, keepdims:
         sum_(t * _prod_others(ans, x, axes, keepdims), axes=axes, keepdims=keepdims),),
    vjp=(lambda g, ans, x, axes, keepdims:
         _expand_to(g, shape_of(x), axes, keepdims) * _prod_others(ans, x, axes, keepdims),))


def _flip(x, axis):
    idx = [slice(None)] * len(shape_of(x))
    idx[axis] = slice(None, None, -1)
    return getitem(x, tuple(idx))


cumsum = define_primitive(
    "cumsum", lambda x, axis: np.cumsum(x, axis=axis), formula="cumsum({0}, axis={axis})",
    jvp=(lambda t, ans, x, axis: cumsum(t, axis=axis),),
    vjp=(lambda g, ans, x, axis: _flip(cumsum(_flip(g, axis), axis=axis), axis),))
cumsum.jvp_batched = (lambda t, ans, x, axis: cumsum(t, axis=axis + 1),)


@implements(np.sum)
def np_sum(a, axis=None, dtype=None, out=None, keepdims=False, **kw):
    _reject("sum", out=out, dtype=dtype, **kw)
    return sum_(a, axes=_axes(axis, len(shape_of(a))), keepdims=bool(keepdims))


@implements(np.mean)
def np_mean(a, axis=None, dtype=None, out=None, keepdims=False, **kw):
    _reject("mean", out=out, dtype=dtype, **kw)
    axes = _axes(axis, len(shape_of(a)))
    n = int(np.prod([shape_of(a)[i] for i in axes])) if axes else 1
    return sum_(a, axes=axes, keepdims=bool(keepdims)) / n


@implements(np.var)
def np_var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw):
    _reject("var", out=out, dtype=dtype, **kw)
    axes = _axes(axis, len(shape_of(a)))
    n = int(np.prod([shape_of(a)[i] for i in axes])) if axes else 1
    d = a - np_mean(a, axis=axes, keepdims=True)
    return sum_(d * d, axes=axes, keepdims=bool(keepdims)) / (n - ddof)


@implements(np.std)
def np_std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw):
    axes = _axes(axis, len(shape_of(a)))
    if ddof == 0 and all(shape_of(a)[i] == 1 for i in axes):
        # one value per slice: the deviation is identically 0, so std is 0 with derivative 0 in
        # both modes (√ of it would give ∞ · 0)
        return np_var(a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, **kw)
    return sqrt(np_var(a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, **kw))


@implements(np.max, np.amax)
def np_max(a, axis=None, out=None, keepdims=False, **kw):
    _reject("max", out=out, **kw)
    return max_(a, axes=_axes(axis, len(shape_of(a))), keepdims=bool(keepdims))


@implements(np.min, np.amin)
def np_min(a, axis=None, out=None, keepdims=False, **kw):
    _reject("min", out=out, **kw)
    return min_(a, axes=_axes(axis, len(shape_of(a))), keepdims=bool(keepdims))


@implements(np.prod)
def np_prod(a, axis=None, dtype=None, out=None, keepdims=False, **kw):
    _reject("prod", out=out, dtype=dtype, **kw)
    return prod(a, axes=_axes(axis, len(shape_of(a))), keepdims=bool(keepdims))


@implements(np.cumsum)
def np_cumsum(a, axis=None, dtype=None, out=None):
    _reject("cumsum", out=out, dtype=dtype)
    if axis is None:
        a, axis = np_reshape(a, (-1,)), 0
    return cumsum(a, axis=_axes(axis, len(shape_of(a)))[0])


@implements(np.broadcast_to)
def np_broadcast_to(array, shape, subok=False):
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return array if shape_of(array) == shape else broadcast_to(array, shape=shape)
