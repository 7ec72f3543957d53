"""Every primitive adnb differentiates, one block each: value, rules, display, numpy hooks.

Conventions (Bishop & Bishop notation):
  * ``partials=`` (elementwise operations) gives the local partial derivative ∂v/∂v_k for each
    argument k as a function of ``(ans, *args)``; tangent and adjoint rules follow from them:
    v̇ += ∂v/∂v_k · v̇_k (eq. 8.57) and v̄_k += v̄ · ∂v/∂v_k (eq. 8.69). Displays print these.
  * ``jvp=``/``vjp=`` give explicit rules, one per argument: ``(t, ans, *args, **params)`` returns
    argument k's contribution to the output tangent, ``(g, ans, *args, **params)`` the
    contribution of the output adjoint g to argument k's adjoint. ``None`` means "contributes
    nothing". The sweeps add contributions up; rules never accumulate.
  * ``keep=`` says what the reverse sweep must store: "ans", "args", "both" or "" (shapes only).
  * For Hessian-vector products (``second_order.py``): ``partials2=`` (elementwise unary) gives
    d²v/dv_1² from ``(ans, x)``; ``bilinear=True`` marks mul and matmul. Without them the
    second-order sweep runs the adjoint rule on dual numbers.
  * Rules are written with primitives and operators, so they can be differentiated again
    (Hessians, nesting to any order).

Groups: elementwise binary · elementwise unary · selection · reductions · shape and indexing ·
contractions · linear algebra · numpy entry points (functions that accept numpy's signatures and
call the primitives above) · non-differentiable operations.
"""
from __future__ import annotations

import math
import operator
import string

import numpy as np

from ..errors import UnsupportedOperationError, InPlaceError, CutDerivativeError
from .registry import (ARRAY_FUNCTIONS, PRIMITIVES, UFUNCS, define_primitive, implements,
                       supported_list)
from .tracer import Tracer, clone, shape_of, unwrap

__all__ = ["PRIMITIVES", "UFUNCS", "ARRAY_FUNCTIONS", "supported_list"]


def _scalar(mf, nf):
    """A math-module fast path for Python floats, falling back to numpy (inf/nan, warnings)
    where math would raise (math.log(0), math.exp(1000))."""
    def f(x):
        try:
            return mf(x)
        except (ValueError, OverflowError):
            return nf(np.float64(x))
    return f


def _size(x):
    return int(np.prod(shape_of(x))) if shape_of(x) else 1


def _mask(cond):
    """A 0/1 float mask from a condition on primal values (a constant: no derivative)."""
    c = unwrap(cond)
    if isinstance(c, (bool, np.bool_)):
        return 1.0 if c else 0.0
    return np.asarray(c, dtype=float)


def _select(cond, t):
    """t where cond holds, else an exact 0 -- never 0 · t, which is nan when t is inf (the
    tangent or adjoint of an unselected √x at 0 must not poison the result)."""
    c = unwrap(cond)
    if isinstance(c, (bool, np.bool_)):
        if c:
            return t
        s = shape_of(t)
        return np.zeros(s) if s else 0.0
    return where_(c, t, 0.0)


# ============================================================================================
# Elementwise binary
# ============================================================================================

add = define_primitive(
    "add", operator.add, numpy=(np.add,), elementwise=True, formula="{0} + {1}",
    scalar_partials=lambda ans, x, y: (1.0, 1.0),
    partials=(lambda ans, x, y: 1.0, lambda ans, x, y: 1.0),          # ∂(x+y)/∂x = ∂/∂y = 1
    jvp=(lambda t, ans, x, y: t, lambda t, ans, x, y: t),
    vjp=(lambda g, ans, x, y: g, lambda g, ans, x, y: g))

sub = define_primitive(
    "sub", operator.sub, numpy=(np.subtract,), elementwise=True, formula="{0} − {1}",
    scalar_partials=lambda ans, x, y: (1.0, -1.0),
    partials=(lambda ans, x, y: 1.0, lambda ans, x, y: -1.0),
    jvp=(lambda t, ans, x, y: t, lambda t, ans, x, y: -t),
    vjp=(lambda g, ans, x, y: g, lambda g, ans, x, y: -g))

mul = define_primitive(
    "mul", operator.mul, numpy=(np.multiply,), elementwise=True, formula="{0} {1}", keep="args",
    bilinear=True, scalar_partials=lambda ans, x, y: (y, x),
    partials=(lambda ans, x, y: y, lambda ans, x, y: x))               # ∂(xy)/∂x = y, ∂/∂y = x


def _div_impl(x, y):
    try:
        return x / y
    except ZeroDivisionError:       # Python floats: follow numpy (inf/nan and a warning)
        return np.divide(np.float64(x), y)


div = define_primitive(
    "div", _div_impl, numpy=(np.divide,), elementwise=True, formula="{0} / {1}", keep="both",
    scalar_partials=lambda ans, x, y: (1.0 / y, -ans / y),
    partials=(lambda ans, x, y: 1.0 / y, lambda ans, x, y: -ans / y),  # 1/y, −x/y²
    jvp=(lambda t, ans, x, y: t / y, lambda t, ans, x, y: -t * ans / y),
    vjp=(lambda g, ans, x, y: g / y, lambda g, ans, x, y: -g * ans / y))


def _pow_impl(x, y):
    if type(x) is float and type(y) in (float, int):
        try:
            return math.pow(x, y)
        except (ValueError, OverflowError, ZeroDivisionError):
            return np.power(np.float64(x), y)
    if isinstance(x, (int, np.integer, np.ndarray)) and np.issubdtype(np.result_type(x), np.integer):
        x = np.asarray(x, dtype=float)    # integer ** negative integer is an error in numpy
    return np.power(x, y)


def _dpow_dbase(ans, x, y):
    # y x^(y−1); where y = 0 the partial is exactly 0 (x^0 = 1 is constant), also at x = 0 where
    # 0 · 0^(−1) would be nan. The exponent there is replaced by 1 so that every derivative of
    # this partial is also exact (the Hessian of x^1 at 0 is 0).
    yv = unwrap(y)
    if np.ndim(yv) == 0:
        return (np.zeros(shape_of(x)) if shape_of(x) else 0.0) if yv == 0 else y * x ** (y - 1)
    zero = np.asarray(yv) == 0
    if not zero.any():
        return y * x ** (y - 1)
    return where_(zero, 0.0, y * x ** where_(zero, 1.0, y - 1))


def _dpow_dexp(ans, x, y):
    # x^y ln x, with 0^y ln 0 read as 0 (the limit for y > 0)
    xv = unwrap(x)
    if np.ndim(xv) == 0:
        return 0.0 * ans if xv == 0 else ans * log(x)
    safe = where_(np.asarray(xv) == 0, 1.0, x)
    return ans * log(safe)


pow = define_primitive(
    "pow", _pow_impl, numpy=(np.power,), elementwise=True, formula="{0}^{1}", keep="both",
    scalar_partials=lambda ans, x, y: (y * x ** (y - 1), ans * math.log(x)),   # x > 0 only
    partials=(_dpow_dbase, _dpow_dexp))

maximum = define_primitive(
    "maximum", np.maximum, numpy=(np.maximum, np.fmax), elementwise=True, keep="args",
    formula="max({0}, {1})",
    # at a tie the first argument takes the whole derivative (documented one-sided choice)
    partials=(lambda ans, x, y: _mask(unwrap(x) >= unwrap(y)),
              lambda ans, x, y: _mask(unwrap(x) < unwrap(y))),
    jvp=(lambda t, ans, x, y: _select(unwrap(x) >= unwrap(y), t),
         lambda t, ans, x, y: _select(unwrap(x) < unwrap(y), t)),
    vjp=(lambda g, ans, x, y: _select(unwrap(x) >= unwrap(y), g),
         lambda g, ans, x, y: _select(unwrap(x) < unwrap(y), g)))

minimum = define_primitive(
    "minimum", np.minimum, numpy=(np.minimum, np.fmin), elementwise=True, keep="args",
    formula="min({0}, {1})",
    partials=(lambda ans, x, y: _mask(unwrap(x) <= unwrap(y)),
              lambda ans, x, y: _mask(unwrap(x) > unwrap(y))),
    jvp=(lambda t, ans, x, y: _select(unwrap(x) <= unwrap(y), t),
         lambda t, ans, x, y: _select(unwrap(x) > unwrap(y), t)),
    vjp=(lambda g, ans, x, y: _select(unwrap(x) <= unwrap(y), g),
         lambda g, ans, x, y: _select(unwrap(x) > unwrap(y), g)))

arctan2 = define_primitive(
    "arctan2", np.arctan2, numpy=(np.arctan2,), elementwise=True, keep="args",
    formula="arctan2({0}, {1})",
    partials=(lambda ans, y, x: x / (x * x + y * y), lambda ans, y, x: -y / (x * x + y * y)))

# x mod y = x − ⌊x/y⌋ y: ∂/∂x = 1, ∂/∂y = −⌊x/y⌋ (piecewise; ⌊·⌋ is a constant between jumps)
remainder = define_primitive(
    "remainder", np.remainder, numpy=(np.remainder,), elementwise=True, keep="args",
    formula="{0} mod {1}",
    partials=(lambda ans, x, y: 1.0, lambda ans, x, y: -np.floor(unwrap(x) / unwrap(y))))

# ============================================================================================
# Elementwise unary
# ============================================================================================

neg = define_primitive(
    "neg", operator.neg, numpy=(np.negative,), elementwise=True, formula="−{0}",
    scalar_partials=lambda ans, x: (-1.0,),
    partials=(lambda ans, x: -1.0,),
    jvp=(lambda t, ans, x: -t,), vjp=(lambda g, ans, x: -g,))


def _sign_right(x):
    """sign with sign(0) = +1: abs'(0) is taken as the right derivative (documented choice)."""
    v = unwrap(x)
    if np.ndim(v) == 0:
        return 1.0 if v >= 0 else -1.0
    return np.where(np.asarray(v) >= 0, 1.0, -1.0)


abs_ = define_primitive(
    "abs", abs, scalar_impl=math.fabs, numpy=(np.absolute, np.fabs), elementwise=True,
    keep="args", formula="|{0}|", partials=(lambda ans, x: _sign_right(x),),
    scalar_partials=lambda ans, x: (1.0 if x >= 0 else -1.0,))

exp = define_primitive(
    "exp", np.exp, scalar_impl=_scalar(math.exp, np.exp), numpy=(np.exp,), elementwise=True,
    scalar_partials=lambda ans, x: (ans,),
    keep="ans", formula="exp({0})", partials=(lambda ans, x: ans,),     # d e^v = e^v
    partials2=lambda ans, x: ans)

log = define_primitive(
    "log", np.log, scalar_impl=_scalar(math.log, np.log), numpy=(np.log,), elementwise=True,
    scalar_partials=lambda ans, x: (1.0 / x,),
    keep="args", formula="ln({0})", partials=(lambda ans, x: 1.0 / x,),
    partials2=lambda ans, x: -1.0 / (x * x))

log1p = define_primitive(
    "log1p", np.log1p, scalar_impl=_scalar(math.log1p, np.log1p), numpy=(np.log1p,),
    scalar_partials=lambda ans, x: (1.0 / (1.0 + x),),
    elementwise=True, keep="args", formula="ln(1 + {0})", partials=(lambda ans, x: 1.0 / (1.0 + x),))

expm1 = define_primitive(
    "expm1", np.expm1, scalar_impl=_scalar(math.expm1, np.expm1), numpy=(np.expm1,),
    scalar_partials=lambda ans, x: (ans + 1.0,),
    elementwise=True, keep="ans", formula="exp({0}) − 1", partials=(lambda ans, x: ans + 1.0,))

sqrt = define_primitive(
    "sqrt", np.sqrt, scalar_impl=_scalar(math.sqrt, np.sqrt), numpy=(np.sqrt,), elementwise=True,
    scalar_partials=lambda ans, x: (0.5 / ans,),
    keep="ans", formula="√{0}", partials=(lambda ans, x: 0.5 / ans,),   # 1/(2√v)
    partials2=lambda ans, x: -0.25 / (ans * ans * ans))

square = define_primitive(
    "square", np.square, numpy=(np.square,), elementwise=True, keep="args", formula="{0}²",
    partials=(lambda ans, x: 2.0 * x,))

reciprocal = define_primitive(
    "reciprocal", np.reciprocal, numpy=(np.reciprocal,), elementwise=True, keep="ans",
    formula="1 / {0}", partials=(lambda ans, x: -ans * ans,))

sin = define_primitive(
    "sin", np.sin, scalar_impl=math.sin, numpy=(np.sin,), elementwise=True, keep="args",
    scalar_partials=lambda ans, x: (math.cos(x),),
    formula="sin({0})", partials=(lambda ans, x: cos(x),),              # d sin v = cos v
    partials2=lambda ans, x: -ans)

cos = define_primitive(
    "cos", np.cos, scalar_impl=math.cos, numpy=(np.cos,), elementwise=True, keep="args",
    scalar_partials=lambda ans, x: (-math.sin(x),),
    formula="cos({0})", partials=(lambda ans, x: -sin(x),),
    partials2=lambda ans, x: -ans)

tan = define_primitive(
    "tan", np.tan, scalar_impl=math.tan, numpy=(np.tan,), elementwise=True, keep="ans",
    scalar_partials=lambda ans, x: (1.0 + ans * ans,),
    formula="tan({0})", partials=(lambda ans, x: 1.0 + ans * ans,))     # 1 + tan² v

arcsin = define_primitive(
    "arcsin", np.arcsin, scalar_impl=_scalar(math.asin, np.arcsin), numpy=(np.arcsin,),
    scalar_partials=lambda ans, x: (1.0 / math.sqrt(1.0 - x * x),),
    elementwise=True, keep="args", formula="arcsin({0})",
    partials=(lambda ans, x: 1.0 / sqrt(1.0 - x * x),))

arccos = define_primitive(
    "arccos", np.arccos, scalar_impl=_scalar(math.acos, np.arccos), numpy=(np.arccos,),
    scalar_partials=lambda ans, x: (-1.0 / math.sqrt(1.0 - x * x),),
    elementwise=True, keep="args", formula="arccos({0})",
    partials=(lambda ans, x: -1.0 / sqrt(1.0 - x * x),))

arctan = define_primitive(
    "arctan", np.arctan, scalar_impl=math.atan, numpy=(np.arctan,), elementwise=True,
    scalar_partials=lambda ans, x: (1.0 / (1.0 + x * x),),
    keep="args", formula="arctan({0})", partials=(lambda ans, x: 1.0 / (1.0 + x * x),))

sinh = define_primitive(
    "sinh", np.sinh, scalar_impl=_scalar(math.sinh, np.sinh), numpy=(np.sinh,), elementwise=True,
    scalar_partials=lambda ans, x: (math.cosh(x),),
    keep="args", formula="sinh({0})", partials=(lambda ans, x: cosh(x),))

cosh = define_primitive(
    "cosh", np.cosh, scalar_impl=_scalar(math.cosh, np.cosh), numpy=(np.cosh,), elementwise=True,
    scalar_partials=lambda ans, x: (math.sinh(x),),
    keep="args", formula="cosh({0})", partials=(lambda ans, x: sinh(x),))

tanh = define_primitive(
    "tanh", np.tanh, scalar_impl=math.tanh, numpy=(np.tanh,), elementwise=True, keep="ans",
    scalar_partials=lambda ans, x: (1.0 - ans * ans,),
    formula="tanh({0})", partials=(lambda ans, x: 1.0 - ans * ans,),    # 1 − tanh² v
    partials2=lambda ans, x: -2.0 * ans * (1.0 - ans * ans))

# ============================================================================================
# Selection
# ============================================================================================

# where(cond, x, y): the unselected branch gets exactly zero -- never 0 · (its inf/nan partial),
# so np.where(x > 0, np.sqrt(x), 0.0) has a clean gradient at x < 0 (the "double-where" trap).
where_ = define_primitive(
    "where", np.where, elementwise=True, keep="args", formula="where({0}, {1}, {2})",
    partials=(None, lambda ans, c, x, y: _mask(c), lambda ans, c, x, y: 1.0 - _mask(c)),
    jvp=(None, lambda t, ans, c, x, y: where_(c, t, 0.0), lambda t, ans, c, x, y: where_(c, 0.0, t)),
    vjp=(None, lambda g, ans, c, x, y: where_(c, g, 0.0), lambda g, ans, c, x, y: where_(c, 0.0, g)))

# ============================================================================================
# Reductions
# ============================================================================================


def _axes(axis, ndim):
    """Normalise an axis argument to a sorted tuple of non-negative axes (None: all)."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (int(axis),)
    out = []
    for a in axis:
        a = int(a)
        if not -ndim <= a < max(ndim, 1):
            raise np.exceptions.AxisError(a, ndim)
        out.append(a % max(ndim, 1))
    return tuple(sorted(out))


def _expand_to(g, shape, axes, keepdims):
    """Broadcast a reduced adjoint g back to the reduced operand's shape."""
    if not keepdims and shape and shape_of(g):
        kshape = tuple(1 if i in axes else n for i, n in enumerate(shape))
        g = reshape(g, kshape)
    return broadcast_to(g, shape)


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
    formula="Σ({0})", keep="",
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

# ============================================================================================
# Shape and indexing
# ============================================================================================

def _reshape_impl(x, shape):
    return x.reshape(shape) if type(x) is np.ndarray else np.reshape(x, shape)


reshape = define_primitive(
    "reshape", _reshape_impl, formula="reshape({0}, {shape})",
    jvp=(lambda t, ans, x, shape: reshape(t, shape),),
    vjp=(lambda g, ans, x, shape: reshape(g, shape_of(x)),),
    flops=lambda ans, x, shape: 0)
reshape.jvp_batched = (lambda t, ans, x, shape: reshape(t, (shape_of(t)[0],) + tuple(shape)),)


def _inverse_perm(axes):
    return tuple(np.argsort(axes))


transpose_ = define_primitive(
    "transpose", lambda x, axes: np.transpose(x, axes), formula="{0}ᵀ",
    jvp=(lambda t, ans, x, axes: transpose_(t, axes=axes),),
    vjp=(lambda g, ans, x, axes: transpose_(g, axes=_inverse_perm(axes)),),
    flops=lambda ans, x, axes: 0)
transpose_.jvp_batched = (lambda t, ans, x, axes: transpose_(t, axes=(0,) + tuple(a + 1 for a in axes)),)

def _broadcast_impl(x, shape):
    if not shape_of(x):               # a scalar: filling is cheaper than numpy's broadcast_to
        out = np.empty(shape)
        out.fill(x)
        return out
    return np.broadcast_to(x, shape)


broadcast_to = define_primitive(
    "broadcast_to", _broadcast_impl, formula="broadcast({0}, {shape})",
    jvp=(lambda t, ans, x, shape: broadcast_to(t, shape),),
    vjp=(lambda g, ans, x, shape: _unbroadcast(g, shape_of(x)),),
    flops=lambda ans, x, shape: 0)


def _batched_broadcast(t, ans, x, shape):
    n = shape_of(t)[0]
    missing = len(shape) - len(shape_of(x))
    t = reshape(t, (n,) + (1,) * missing + tuple(shape_of(x)))
    return broadcast_to(t, (n,) + tuple(shape))


broadcast_to.jvp_batched = (_batched_broadcast,)


def _unbroadcast(g, shape):
    from .reverse import unbroadcast
    return unbroadcast(g, tuple(shape))


def _is_basic_index(idx):
    items = idx if isinstance(idx, tuple) else (idx,)
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in items)


def _untake_impl(g, idx, shape):
    z = np.zeros(shape)
    if _is_basic_index(idx):
        z[idx] = g
    else:
        np.add.at(z, idx, g)      # repeated fancy indices add up
    return z


getitem = define_primitive(
    "getitem", lambda x, idx: x[idx], formula="{0}[{1}]",
    jvp=(lambda t, ans, x, idx: getitem(t, idx),),
    vjp=(lambda g, ans, x, idx: untake(g, idx=idx, shape=shape_of(x)),),
    flops=lambda ans, x, idx: 0)


def _batched_index(idx):
    return (slice(None),) + (idx if isinstance(idx, tuple) else (idx,))




def _separated_advanced_ndim(idx):
    """If the index has advanced (array) indices separated by a slice, Ellipsis or None, numpy
    puts their dimensions first, in front of the direction axis: return how many there are."""
    items = idx if isinstance(idx, tuple) else (idx,)
    if not any(isinstance(i, (np.ndarray, list)) for i in items):
        return 0
    pos = [k for k, i in enumerate(items) if isinstance(i, (np.ndarray, list, int, np.integer))]
    if pos[-1] - pos[0] + 1 == len(pos):
        return 0
    arrays = []
    for k in pos:
        a = np.asarray(items[k])
        arrays.extend(np.nonzero(a) if a.dtype == bool else [a])
    return len(np.broadcast_shapes(*[a.shape for a in arrays]))


def _getitem_batched(t, ans, x, idx):
    out = getitem(t, _batched_index(idx))
    n_adv = _separated_advanced_ndim(idx)
    if n_adv:   # (*advanced, N, *rest) -> (N, *advanced, *rest)
        nd = len(shape_of(out))
        out = transpose_(out, axes=(n_adv,) + tuple(range(n_adv)) + tuple(range(n_adv + 1, nd)))
    return out


getitem.jvp_batched = (_getitem_batched,)

untake = define_primitive(
    "untake", _untake_impl, formula="scatter({0} → {shape})",
    jvp=(lambda t, ans, g, idx, shape: untake(t, idx=idx, shape=shape),),
    vjp=(lambda g2, ans, g, idx, shape: getitem(g2, idx),))


def _concat_impl(*xs, axis):
    return np.concatenate(xs, axis=axis)


def _concat_offsets(args, axis):
    sizes = [shape_of(a)[axis] for a in args]
    return np.cumsum([0] + sizes)


def _concat_jvp(t, ans, *xs, argnum, axis, batched=False):
    parts = []
    for j, x in enumerate(xs):
        if j == argnum:
            parts.append(t)
        else:
            s = shape_of(x)
            parts.append(np.zeros(((shape_of(t)[0],) if batched else ()) + tuple(s)))
    return concatenate(*parts, axis=axis + (1 if batched else 0))


def _concat_vjp(g, ans, *xs, argnum, axis):
    off = _concat_offsets(xs, axis)
    idx = [slice(None)] * len(shape_of(g))
    idx[axis] = slice(int(off[argnum]), int(off[argnum + 1]))
    return getitem(g, tuple(idx))


concatenate = define_primitive(
    "concatenate", _concat_impl, variadic=True, formula="concat({args})",
    jvp=(_concat_jvp,), vjp=(_concat_vjp,), flops=lambda ans, *xs, axis: 0)
concatenate.jvp_batched = (lambda t, ans, *xs, argnum, axis:
                           _concat_jvp(t, ans, *xs, argnum=argnum, axis=axis, batched=True),)

# ============================================================================================
# Contractions
# ============================================================================================


def _mT(x):
    """Swap the last two axes (matrix transpose); a vector is left alone."""
    n = len(shape_of(x))
    if n < 2:
        return x
    axes = tuple(range(n - 2)) + (n - 1, n - 2)
    return transpose_(x, axes=axes)


def _matmul_vjp_x(g, ans, x, y):
    xs, ys = shape_of(x), shape_of(y)
    if len(xs) == 2 and len(ys) == 2:
        return g @ _mT(y)                                   # x̄ = ȳ yᵀ
    if len(xs) == 1 and len(ys) == 1:
        return g * y
    if len(xs) == 1 and len(ys) == 2:
        return y @ g                                        # x̄ = y ȳ
    x2 = (1,) + xs if len(xs) == 1 else xs          # promote vectors to matrices,
    y2 = ys + (1,) if len(ys) == 1 else ys          # then sum over broadcast batch axes
    out2 = np.broadcast_shapes(x2[:-2], y2[:-2]) + (x2[-2], y2[-1])
    gx = _unbroadcast(reshape(g, out2) @ _mT(reshape(y, y2)), x2)
    return reshape(gx, xs)


def _matmul_vjp_y(g, ans, x, y):
    xs, ys = shape_of(x), shape_of(y)
    if len(xs) == 2 and len(ys) == 2:
        return _mT(x) @ g                                   # ȳ = xᵀ ḡ
    if len(xs) == 1 and len(ys) == 1:
        return g * x
    if len(xs) == 2 and len(ys) == 1:
        return g @ x                                        # ȳ = xᵀ ḡ, as a vector
    x2 = (1,) + xs if len(xs) == 1 else xs
    y2 = ys + (1,) if len(ys) == 1 else ys
    out2 = np.broadcast_shapes(x2[:-2], y2[:-2]) + (x2[-2], y2[-1])
    g2 = reshape(g, out2)
    gy = _unbroadcast(_mT(reshape(x, x2)) @ g2, y2)
    return reshape(gy, ys)


def _matmul_flops(ans, x, y):
    return 2 * _size(ans) * (shape_of(x)[-1] if shape_of(x) else 1)


matmul = define_primitive(
    "matmul", np.matmul, numpy=(np.matmul,), formula="{0} @ {1}", keep="args", bilinear=True,
    jvp=(lambda t, ans, x, y: t @ y, lambda t, ans, x, y: x @ t),
    vjp=(_matmul_vjp_x, _matmul_vjp_y), flops=_matmul_flops)


def _matmul_batched(t, ans, x, y, argnum):
    """Tangents of N directions at once (t: (N, *shape of the argument)). matmul broadcasts
    batch axes from the right, so the direction axis must be kept apart from x's and y's own
    batch axes (nested jacfwd: the other operand may itself carry a direction axis)."""
    xs, ys = tuple(shape_of(x)), tuple(shape_of(y))
    n = shape_of(t)[0]
    if argnum == 0:
        if len(ys) == 1:
            return t @ y                                   # (N, …, m, k) @ (k,) → (N, …, m)
        if len(xs) == 1:                                   # row vector: (N, 1…, 1, k) @ y
            t = reshape(t, shape=(n,) + (1,) * (len(ys) - 2) + (1, xs[0]))
            return reshape(t @ y, shape=(n,) + tuple(shape_of(ans)))
        if len(ys) > len(xs):
            t = reshape(t, shape=(n,) + (1,) * (len(ys) - len(xs)) + xs)
        return t @ y
    if len(xs) == 1:
        return x @ t if len(ys) > 1 else t @ x             # (k,) @ (N, …, k, n), or (N, k)·(k,)
    if len(ys) == 1:                                       # column vector: x @ (N, 1…, k, 1)
        t = reshape(t, shape=(n,) + (1,) * (len(xs) - 2) + (ys[0], 1))
        return reshape(x @ t, shape=(n,) + tuple(shape_of(ans)))
    if len(xs) > len(ys):
        t = reshape(t, shape=(n,) + (1,) * (len(xs) - len(ys)) + ys)
    return x @ t


matmul.jvp_batched = (lambda t, ans, x, y: _matmul_batched(t, ans, x, y, 0),
                      lambda t, ans, x, y: _matmul_batched(t, ans, x, y, 1))


def _parse_einsum(subscripts, n_operands):
    s = subscripts.replace(" ", "")
    if "." in s:
        raise UnsupportedOperationError("np.einsum with '...' is not supported by adnb; write "
                                        "the indices out")
    if "->" in s:
        ins, out = s.split("->")
    else:
        ins = s
        letters = [c for c in ins.replace(",", "")]
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    ins = ins.split(",")
    if len(ins) != n_operands:
        raise ValueError(f"einsum: {len(ins)} subscripts for {n_operands} operands")
    for term in ins:
        if len(set(term)) != len(term):
            raise UnsupportedOperationError(
                f"np.einsum with a repeated index within one operand ('{term}') is not "
                "supported by adnb; use np.trace or np.diag instead")
    return ins, out


def _einsum_jvp(t, ans, *ops, argnum, subscripts, batched=False):
    ins, out = _parse_einsum(subscripts, len(ops))
    args = list(ops)
    args[argnum] = t
    if batched:   # a fresh index for the direction axis
        z = next(c for c in string.ascii_letters if c not in subscripts)
        ins = list(ins)
        ins[argnum] = z + ins[argnum]
        out = z + out
    return einsum(*args, subscripts=",".join(ins) + "->" + out)


def _einsum_vjp(g, ans, *ops, argnum, subscripts):
    ins, out = _parse_einsum(subscripts, len(ops))
    target = ins[argnum]
    others = [o for j, o in enumerate(ops) if j != argnum]
    other_ins = [s for j, s in enumerate(ins) if j != argnum]
    available = set(out).union(*map(set, other_ins)) if other_ins else set(out)
    present = "".join(c for c in target if c in available)
    res = einsum(g, *others, subscripts=",".join([out] + other_ins) + "->" + present)
    if present != target:   # indices summed out of this operand alone: broadcast back
        tshape = shape_of(ops[argnum])
        kshape = tuple(n if c in present else 1 for c, n in zip(target, tshape))
        res = broadcast_to(reshape(res, kshape), tshape)
    return res


def _einsum_flops(ans, *ops, subscripts):
    ins, out = _parse_einsum(subscripts, len(ops))
    dims = {}
    for term, o in zip(ins, ops):
        for c, n in zip(term, shape_of(o)):
            dims[c] = n
    return 2 * int(np.prod(list(dims.values()) or [1]))


einsum = define_primitive(
    "einsum", lambda *ops, subscripts: np.einsum(subscripts, *ops, optimize=len(ops) > 2),
    variadic=True, formula="einsum('{subscripts}', {args})", keep="args",
    jvp=(_einsum_jvp,), vjp=(_einsum_vjp,), flops=_einsum_flops)
einsum.jvp_batched = (lambda t, ans, *ops, argnum, subscripts:
                      _einsum_jvp(t, ans, *ops, argnum=argnum, subscripts=subscripts, batched=True),)

# ============================================================================================
# Linear algebra
# ============================================================================================


def _solve_impl(a, b):
    return np.linalg.solve(a, b)


# numpy 2: b is one vector only when it is 1-d; otherwise (..., M, K), batches broadcasting.
def _col(v):
    return reshape(v, shape=tuple(shape_of(v)) + (1,))


def _uncol(v):
    return reshape(v, shape=tuple(shape_of(v))[:-1])


def _solve_vectors(a, r):
    """Solve A x = r for a stack of vectors r (..., M)."""
    return solve(a, r) if len(shape_of(r)) == 1 else _uncol(solve(a, _col(r)))


def _solve_jvp_a(t, ans, a, b):
    if len(shape_of(b)) == 1:                               # ẋ = −A⁻¹ Ȧ x
        return _uncol(solve(a, -(t @ _col(ans))))
    return solve(a, -(t @ ans))


def _solve_vjp_b(g, ans, a, b):
    return _unbroadcast(_solve_vectors(_mT(a), g) if len(shape_of(b)) == 1
                        else solve(_mT(a), g), shape_of(b))    # b̄ = A⁻ᵀ ḡ


def _solve_vjp_a(g, ans, a, b):
    if len(shape_of(b)) == 1:
        gb = _solve_vectors(_mT(a), g)
        return _unbroadcast(-(_col(gb) * reshape(ans, tuple(shape_of(ans))[:-1] + (1, -1))),
                            shape_of(a))                    # Ā = −b̄ xᵀ
    return _unbroadcast(-(solve(_mT(a), g) @ _mT(ans)), shape_of(a))


solve = define_primitive(
    "solve", _solve_impl, formula="solve({0}, {1})", keep="both",
    jvp=(_solve_jvp_a, lambda t, ans, a, b: solve(a, t)),
    vjp=(_solve_vjp_a, _solve_vjp_b),
    flops=lambda ans, a, b: 2 * shape_of(a)[-1] ** 3 // 3 + 2 * _size(b) * shape_of(a)[-1])


inv = define_primitive(
    "inv", np.linalg.inv, formula="{0}⁻¹", keep="ans",
    jvp=(lambda t, ans, a: -(ans @ t @ ans),),                           # d A⁻¹ = −A⁻¹ dA A⁻¹
    vjp=(lambda g, ans, a: -(_mT(ans) @ g @ _mT(ans)),),
    flops=lambda ans, a: 2 * shape_of(a)[-1] ** 3)
inv.jvp_batched = (lambda t, ans, a: -(ans @ t @ ans),)

def _det_cofactors(ans, a):
    """∂|A|/∂A: the cofactor matrix, |A| A⁻ᵀ when A is invertible. A singular A has no
    inverse but still a derivative; then the cofactors (−1)^{i+j} |minor_ij| are used."""
    av = unwrap(a)
    s = tuple(shape_of(a))
    if np.all(np.linalg.cond(av) < 1e12):
        return reshape(ans, shape=tuple(shape_of(ans)) + (1, 1)) * _mT(inv(a))
    if len(s) > 2:                                          # a stack: matrix by matrix
        return stack_([_det_cofactors(getitem(ans, i), getitem(a, i)) for i in range(s[0])])
    n = s[-1]
    if n == 1:
        return np.ones((1, 1))
    rows = []
    for i in range(n):
        r = np.array([k for k in range(n) if k != i])[:, None]
        row = [(-1.0) ** (i + j) * det(getitem(a, (r, np.array([k for k in range(n) if k != j]))))
               for j in range(n)]
        rows.append(stack_(row))
    return stack_(rows)


def _det_jvp(t, ans, a):
    nd = len(shape_of(t))           # (a leading axis of directions, if batched, is kept)
    return sum_(_det_cofactors(ans, a) * t, axes=(nd - 2, nd - 1), keepdims=False)


det = define_primitive(
    "det", np.linalg.det, formula="det({0})", keep="both",
    jvp=(_det_jvp,),
    vjp=(lambda g, ans, a: reshape(g, shape=tuple(shape_of(g)) + (1, 1)) * _det_cofactors(ans, a),),
    flops=lambda ans, a: 2 * shape_of(a)[-1] ** 3 // 3)             # ∂|A|/∂A = |A| A⁻ᵀ
det.jvp_batched = (_det_jvp,)

# ============================================================================================
# numpy entry points: numpy's signatures, mapped onto the primitives above
# ============================================================================================


def _reject(name, out=None, where=None, initial=None, dtype=None, **other):
    if out is not None:
        raise InPlaceError(f"np.{name}(..., out=...) writes in place; assign the result instead")
    if where is not None and where is not True:
        raise UnsupportedOperationError(f"np.{name}(..., where=...) is not supported by adnb")
    if initial is not None:
        raise UnsupportedOperationError(f"np.{name}(..., initial=...) is not supported by adnb")
    if dtype is not None and not np.issubdtype(np.dtype(dtype), np.floating):
        raise CutDerivativeError(f"np.{name}(..., dtype={dtype}) would drop the derivative")
    if other:
        raise UnsupportedOperationError(f"np.{name}: arguments {sorted(other)} are not supported")


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


def _resolve_shape(a, shape):
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    return np.empty(shape_of(a), dtype=bool).reshape(shape).shape   # resolves -1, checks size


def _order_index(a, order, shape):
    """For order 'F', 'A' or 'K': which C-order entry of a lands at each position of
    np.reshape(a, shape, order) (None when that is plain C order). Computed on an index array
    laid out in memory like a's primal, so 'A' and 'K' follow a's actual layout as numpy does."""
    if order not in ("C", "F", "A", "K"):
        raise ValueError(f"order must be one of 'C', 'F', 'A', or 'K' (got {order!r})")
    v = unwrap(a)
    s = shape_of(a)
    ind = np.empty_like(v, dtype=np.intp) if isinstance(v, np.ndarray) else np.empty(s, np.intp)
    ind[...] = np.arange(int(np.prod(s))).reshape(s)
    if order == "K":
        idx = np.ravel(ind, order="K").reshape(shape)
    else:
        idx = np.reshape(ind, shape, order=order)
    return None if np.array_equal(idx.ravel(), np.arange(idx.size)) else idx


@implements(np.reshape)
def np_reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    shape = _resolve_shape(a, shape if shape is not None else newshape)
    if order != "C":
        idx = _order_index(a, order, shape)
        if idx is not None:
            if order == "K":
                raise ValueError("order 'K' is not permitted for reshaping")
            return getitem(np_reshape(a, (-1,)), idx)
    if shape == shape_of(a):
        return a
    return reshape(a, shape=shape)


@implements(np.ravel)
def np_ravel(a, order="C"):
    if order == "K":
        idx = _order_index(a, "K", (-1,))
        return np_reshape(a, (-1,)) if idx is None else getitem(np_reshape(a, (-1,)), idx)
    return np_reshape(a, (-1,), order=order)


@implements(np.transpose)
def transpose(a, axes=None):
    n = len(shape_of(a))
    axes = tuple(reversed(range(n))) if axes is None else tuple(int(x) % max(n, 1) for x in axes)
    if axes == tuple(range(n)):
        return a
    return transpose_(a, axes=axes)


@implements(np.matrix_transpose) if hasattr(np, "matrix_transpose") else (lambda f: f)
def matrix_transpose(x):
    return _mT(x)


@implements(np.swapaxes)
def np_swapaxes(a, axis1, axis2):
    n = len(shape_of(a))
    axes = list(range(n))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return transpose(a, axes)


@implements(np.squeeze)
def np_squeeze(a, axis=None):
    s = shape_of(a)
    if axis is None:
        new = tuple(n for n in s if n != 1)
    else:
        ax = _axes(axis, len(s))
        if any(s[i] != 1 for i in ax):
            raise ValueError("cannot select an axis to squeeze out which has size not equal to one")
        new = tuple(n for i, n in enumerate(s) if i not in ax)
    return np_reshape(a, new)


@implements(np.expand_dims)
def np_expand_dims(a, axis):
    s = list(shape_of(a))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    n = len(s) + len(axes)
    for ax in sorted(int(x) % n for x in axes):
        s.insert(ax, 1)
    return np_reshape(a, tuple(s))


@implements(np.atleast_1d)
def np_atleast_1d(*arys):
    res = [np_reshape(a, (1,)) if not shape_of(a) else a for a in arys]
    return res[0] if len(res) == 1 else res


@implements(np.broadcast_to)
def np_broadcast_to(array, shape, subok=False):
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return array if shape_of(array) == shape else broadcast_to(array, shape=shape)


@implements(np.concatenate)
def np_concatenate(arrays, axis=0, out=None, dtype=None, casting=None):
    _reject("concatenate", out=out, dtype=dtype)
    arrays = list(arrays)
    if axis is None:
        arrays, axis = [np_reshape(a, (-1,)) for a in arrays], 0
    if not arrays:
        raise ValueError("need at least one array to concatenate")
    if any(not shape_of(a) for a in arrays):
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    axis = int(axis) % len(shape_of(arrays[0]))
    return concatenate(*arrays, axis=axis)


@implements(np.stack)
def stack_(arrays, axis=0, out=None, dtype=None, casting=None):
    _reject("stack", out=out, dtype=dtype)
    arrays = list(arrays)
    if not arrays:
        raise ValueError("need at least one array to stack")
    n = len(shape_of(arrays[0])) + 1
    axis = int(axis) % n
    return concatenate(*[np_expand_dims(a, axis) for a in arrays], axis=axis)


stack = stack_


@implements(np.vstack)
def np_vstack(tup, dtype=None, casting=None):
    arrs = [np_reshape(a, (1, -1)) if len(shape_of(a)) < 2 else a for a in tup]
    return concatenate(*arrs, axis=0)


@implements(np.hstack)
def np_hstack(tup, dtype=None, casting=None):
    arrs = [np_atleast_1d(a) for a in tup]
    return concatenate(*arrs, axis=0 if len(shape_of(arrs[0])) == 1 else 1)


@implements(np.where)
def np_where(condition, x=None, y=None):
    cond = np.asarray(unwrap(condition), dtype=bool)
    if x is None and y is None:
        return np.where(cond)
    if x is None or y is None:
        raise ValueError("either both or neither of x and y should be given")
    return where_(cond, x, y)


@implements(np.sort)
def np_sort(a, axis=-1, kind=None, order=None, **kw):
    # the values themselves, permuted: a getitem with the sorting permutation (primal values)
    if order is not None:
        raise UnsupportedOperationError("np.sort(order=...) (structured arrays) is not supported")
    if axis is None:
        a, axis = np_reshape(a, (-1,)), 0
    perm = np.argsort(unwrap(a), axis=axis, kind=kind, **kw)
    grid = list(np.indices(perm.shape, sparse=True))
    grid[int(axis) % perm.ndim] = perm
    return getitem(a, tuple(grid))


@implements(np.clip)
def np_clip(a, a_min=None, a_max=None, out=None, *, min=None, max=None, **kw):
    _reject("clip", out=out, **kw)
    lo = a_min if a_min is not None else min
    hi = a_max if a_max is not None else max
    if lo is not None:
        a = maximum(a, lo)     # at the bounds the derivative passes through (first argument)
    if hi is not None:
        a = minimum(a, hi)
    return a


@implements(np.dot)
def np_dot(a, b, out=None):
    _reject("dot", out=out)
    if not shape_of(a) or not shape_of(b):
        return mul(a, b)
    if len(shape_of(b)) > 2:     # sum over a's last axis and b's second-to-last
        return np_tensordot(a, b, axes=([-1], [-2]))
    return matmul(a, b)


@implements(np.inner)
def np_inner(a, b):
    if not shape_of(a) or not shape_of(b):
        return mul(a, b)                       # a scalar: numpy multiplies
    if len(shape_of(a)) == 1 and len(shape_of(b)) == 1:
        return matmul(a, b)
    return np_tensordot(a, b, axes=([-1], [-1]))    # sum over the last axes of both


@implements(np.vdot)
def np_vdot(a, b):
    return matmul(np_reshape(a, (-1,)), np_reshape(b, (-1,)))    # real values: no conjugate


@implements(np.outer)
def np_outer(a, b, out=None):
    _reject("outer", out=out)
    return np_reshape(a, (-1, 1)) * np_reshape(b, (1, -1))


@implements(np.einsum)
def np_einsum(subscripts, *operands, out=None, optimize=False, **kw):
    _reject("einsum", out=out, **kw)
    if not isinstance(subscripts, str):
        raise UnsupportedOperationError("np.einsum: use the string form ('ij,jk->ik', a, b)")
    _parse_einsum(subscripts, len(operands))
    return einsum(*operands, subscripts=subscripts.replace(" ", ""))


@implements(np.tensordot)
def np_tensordot(a, b, axes=2):
    na, nb = len(shape_of(a)), len(shape_of(b))
    if isinstance(axes, (int, np.integer)):
        ax_a, ax_b = list(range(na - axes, na)), list(range(axes))
    else:
        ax_a, ax_b = axes
        ax_a = [ax_a] if isinstance(ax_a, (int, np.integer)) else list(ax_a)
        ax_b = [ax_b] if isinstance(ax_b, (int, np.integer)) else list(ax_b)
    letters = iter(string.ascii_lowercase)
    sa = [next(letters) for _ in range(na)]
    sb = [next(letters) for _ in range(nb)]
    for i, j in zip(ax_a, ax_b):
        sb[j % nb] = sa[i % na]
    out = [c for i, c in enumerate(sa) if i not in [x % na for x in ax_a]] + \
          [c for j, c in enumerate(sb) if j not in [x % nb for x in ax_b]]
    return einsum(a, b, subscripts="".join(sa) + "," + "".join(sb) + "->" + "".join(out))


@implements(np.diag)
def np_diag(v, k=0):
    s = shape_of(v)
    if len(s) == 1:
        n = s[0] + abs(k)
        m = np.eye(n, k=k)
        if k >= 0:
            full = concatenate(np.zeros(k), v, axis=0) if k else v
        else:
            full = concatenate(v, np.zeros(-k), axis=0)
        return m * full                       # M[i, j] = δ_{j, i+k} v_j: a constant mask
    if len(s) == 2:
        rows = np.arange(max(0, -k), min(s[0], s[1] - k))
        return getitem(v, (rows, rows + k))
    raise ValueError("np.diag input must be 1-d or 2-d")


@implements(np.diagonal)
def np_diagonal(a, offset=0, axis1=0, axis2=1):
    if len(shape_of(a)) != 2 or (axis1, axis2) != (0, 1):
        raise UnsupportedOperationError("np.diagonal is supported for 2-d arrays only")
    return np_diag(a, offset)


@implements(np.trace)
def np_trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    _reject("trace", out=out, dtype=dtype)
    return np_sum(np_diagonal(a, offset, axis1, axis2))


@implements(np.linalg.norm)
def np_norm(x, ord=None, axis=None, keepdims=False):
    s = shape_of(x)
    if ord in (None, 2, "fro") and (ord != 2 or len(s) == 1 or (axis is not None and not isinstance(axis, tuple))):
        if ord == "fro" and len(s) != 2 and axis is None:
            raise ValueError("'fro' norm needs a matrix")
        return sqrt(np_sum(x * x, axis=axis, keepdims=keepdims))
    if ord == 1 and (len(s) == 1 or axis is not None):
        return np_sum(abs_(x), axis=axis, keepdims=keepdims)
    if ord in (np.inf, float("inf")) and (len(s) == 1 or axis is not None):
        return np_max(abs_(x), axis=axis, keepdims=keepdims)
    raise UnsupportedOperationError(
        f"np.linalg.norm(ord={ord!r}) on a {len(s)}-d array is not supported by adnb: use the "
        "2-norm/Frobenius (default), ord=1 or ord=inf of vectors")


@implements(np.linalg.solve)
def np_solve(a, b):
    return solve(a, b)


@implements(np.linalg.inv)
def np_inv(a):
    return inv(a)


@implements(np.linalg.det)
def np_det(a):
    return det(a)


# ---- numpy functions that only read shapes or primal values ----------------------------------

@implements(np.shape)
def np_shape(a):
    return shape_of(a)


@implements(np.ndim)
def np_ndim(a):
    return len(shape_of(a))


@implements(np.size)
def np_size(a, axis=None):
    return int(np.prod(shape_of(a))) if axis is None else shape_of(a)[axis]


@implements(np.zeros_like)
def np_zeros_like(a, dtype=None, **kw):
    return np.zeros(shape_of(a), dtype=dtype or float)


@implements(np.ones_like)
def np_ones_like(a, dtype=None, **kw):
    return np.ones(shape_of(a), dtype=dtype or float)


@implements(np.full_like)
def np_full_like(a, fill_value, dtype=None, **kw):
    if isinstance(fill_value, Tracer):
        return broadcast_to(fill_value, shape_of(a))
    return np.full(shape_of(a), fill_value, dtype=dtype or float)


@implements(np.copy)
def np_copy(a, order="K", subok=False):
    return clone(a) if isinstance(a, Tracer) else a      # a new object: in-place ops stay apart


@implements(np.asanyarray)
def np_asanyarray(a, dtype=None, order=None, **kw):
    if dtype is not None and np.dtype(dtype).kind not in "f":
        raise CutDerivativeError(f"np.asanyarray(..., dtype={dtype}) would drop the derivative")
    return a


def _primal_only(f):
    def g(*args, **kw):
        return f(*[unwrap(a) for a in args], **{k: unwrap(v) for k, v in kw.items()})
    g.__name__ = f.__name__
    return g


# results that are integers or booleans: computed on primal values (no derivative to carry)
for _f in (np.argmax, np.argmin, np.argsort, np.isclose, np.allclose, np.array_equal, np.any,
           np.all, np.count_nonzero, np.nonzero, np.isfinite, np.isnan, np.round, np.around,
           np.sign, np.floor, np.ceil, np.searchsorted, np.result_type):
    if hasattr(_f, "__name__"):
        ARRAY_FUNCTIONS[_f] = _primal_only(_f)

# ============================================================================================
# Non-differentiable ufuncs (piecewise constant) and comparisons: evaluated on primal values
# ============================================================================================

PIECEWISE_CONSTANT = {np.sign, np.floor, np.ceil, np.rint, np.trunc, np.isnan, np.isinf,
                      np.isfinite, np.signbit, np.logical_not, np.logical_and, np.logical_or,
                      np.logical_xor, np.floor_divide}
COMPARISONS = {np.less: "<", np.less_equal: "≤", np.greater: ">", np.greater_equal: "≥",
               np.equal: "==", np.not_equal: "≠"}
