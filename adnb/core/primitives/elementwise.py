"""Elementwise primitives: binary (add … remainder), unary (neg … tanh) and selection (where).

Each declares its local partials ∂v/∂v_k (``partials=``); the sweeps derive the tangent and
adjoint rules from them (eqs. 8.57, 8.69). np.where and np.clip are their numpy entry points.
"""
from __future__ import annotations

import math
import operator

import numpy as np

from ..registry import define_primitive, implements
from ..tracer import shape_of, unwrap
from ._helpers import _reject, _scalar


def _mask(cond):
    """A 0/1 float mask from a condition on primal values (a constant: no derivative)."""
    c = unwrap(cond)
    if isinstance(c, (bool, np.bool_)):
        return 1.0 if c else 0.0
    return np.asarray(c, dtype=float)


# ============================================================================================
# Elementwise binary
# ============================================================================================

add = define_primitive(
    "add", operator.add, numpy=(np.add,), elementwise=True, formula="{0} + {1}",
    code="{0} + {1}", scalar_partials=lambda ans, x, y: (1.0, 1.0),
    partials=(1.0, 1.0))                                               # ∂(x+y)/∂x = ∂/∂y = 1

sub = define_primitive(
    "sub", operator.sub, numpy=(np.subtract,), elementwise=True, formula="{0} − {1}",
    code="{0} - {1}", scalar_partials=lambda ans, x, y: (1.0, -1.0),
    partials=(1.0, -1.0))

mul = define_primitive(
    "mul", operator.mul, numpy=(np.multiply,), elementwise=True, formula="{0} {1}", keep="args",
    code="{0} * {1}", bilinear=True, scalar_partials=lambda ans, x, y: (y, x),
    partials=(lambda ans, x, y: y, lambda ans, x, y: x))               # ∂(xy)/∂x = y, ∂/∂y = x


def _div_impl(x, y):
    try:
        return x / y
    except ZeroDivisionError:       # Python floats: follow numpy (inf/nan and a warning)
        return np.divide(np.float64(x), y)


div = define_primitive(
    "div", _div_impl, numpy=(np.divide,), elementwise=True, formula="{0} / {1}", keep="both",
    code="{0} / {1}", scalar_partials=lambda ans, x, y: (1.0 / y, -ans / y),
    partials=(lambda ans, x, y: 1.0 / y, lambda ans, x, y: -ans / y))  # 1/y, −x/y²


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
    code="{0} ** {1}",
    scalar_partials=lambda ans, x, y: (y * x ** (y - 1), ans * math.log(x)),   # x > 0 only
    partials=(_dpow_dbase, _dpow_dexp), partials_text=(None, "{ans} ln({0})"))

maximum = define_primitive(
    "maximum", np.maximum, numpy=(np.maximum, np.fmax), elementwise=True, keep="args",
    formula="max({0}, {1})",
    # at a tie the first argument takes the whole derivative (documented one-sided choice)
    partials=(lambda ans, x, y: _mask(unwrap(x) >= unwrap(y)),
              lambda ans, x, y: _mask(unwrap(x) < unwrap(y))),
    mask=True, partials_text=("[{0} ≥ {1}]", "[{0} < {1}]"))

minimum = define_primitive(
    "minimum", np.minimum, numpy=(np.minimum, np.fmin), elementwise=True, keep="args",
    formula="min({0}, {1})",
    partials=(lambda ans, x, y: _mask(unwrap(x) <= unwrap(y)),
              lambda ans, x, y: _mask(unwrap(x) > unwrap(y))),
    mask=True, partials_text=("[{0} ≤ {1}]", "[{0} > {1}]"))

arctan2 = define_primitive(
    "arctan2", np.arctan2, numpy=(np.arctan2,), elementwise=True, keep="args",
    formula="arctan2({0}, {1})",
    partials=(lambda ans, y, x: x / (x * x + y * y), lambda ans, y, x: -y / (x * x + y * y)))

# x mod y = x − ⌊x/y⌋ y: ∂/∂x = 1, ∂/∂y = −⌊x/y⌋ (piecewise; ⌊·⌋ is a constant between jumps)
remainder = define_primitive(
    "remainder", np.remainder, numpy=(np.remainder,), elementwise=True, keep="args",
    formula="{0} mod {1}",
    partials=(1.0, lambda ans, x, y: -np.floor(unwrap(x) / unwrap(y))),
    partials_text=(None, "−⌊{0} / {1}⌋"))

# ============================================================================================
# Elementwise unary
# ============================================================================================

neg = define_primitive(
    "neg", operator.neg, numpy=(np.negative,), elementwise=True, formula="−{0}", code="-{0}",
    scalar_partials=lambda ans, x: (-1.0,), partials=(-1.0,))


def _sign(x):
    """np.sign as a constant: abs'(0) = sign(0) = 0, the symmetric difference's value (and HIPS
    autograd's, PyTorch's); JAX takes +1 (documented choice)."""
    v = unwrap(x)
    if np.ndim(v) == 0:
        return 1.0 if v > 0 else (-1.0 if v < 0 else 0.0)
    return np.sign(np.asarray(v, dtype=float)) + 0.0     # no -0.0


abs_ = define_primitive(
    "abs", abs, scalar_impl=math.fabs, numpy=(np.absolute, np.fabs), elementwise=True,
    keep="args", formula="|{0}|", partials=(lambda ans, x: _sign(x),),
    partials_text=("sign({0})",),
    scalar_partials=lambda ans, x: (1.0 if x > 0 else (-1.0 if x < 0 else 0.0),))

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
    code="where({0}, {1}, {2})",
    partials=(None, lambda ans, c, x, y: _mask(c), lambda ans, c, x, y: 1.0 - _mask(c)),
    mask=True, partials_text=(None, "[{0}]", "1 − [{0}]"))


@implements(np.where)
def np_where(condition, x=None, y=None):
    cond = np.asarray(unwrap(condition), dtype=bool)
    if x is None and y is None:
        return np.where(cond)
    if x is None or y is None:
        raise ValueError("either both or neither of x and y should be given")
    return where_(cond, x, y)


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
