"""More elementwise functions: each declares its value and its local partials ∂v/∂v_k (written
with adnb's primitives, so they are differentiable again), or is composed of primitives.

Piecewise-constant functions (sign, floor, ceil, rint, trunc, round, heaviside, angle of a real
number) have derivative 0 wherever they are differentiable; at their jumps adnb also gives 0 (the
README's "Documented choices" table).
"""
from __future__ import annotations

import math

import numpy as np

from ..registry import SUPPORTED_NUMPY, UFUNCS, define_primitive, implements, implements_ufunc
from ..tracer import shape_of, unwrap
from ..tracer import PIECEWISE_CONSTANT
from .elementwise import cos, exp, pow, sqrt, where_
from .elementwise import _sign

_LN2, _LN10 = math.log(2.0), math.log(10.0)


def _elementwise(name, impl, partials, ufunc=None, formula=None, keep="args"):
    return define_primitive(name, impl, numpy=(ufunc,) if ufunc is not None else (),
                            elementwise=True, keep=keep, formula=formula or name + "({0})",
                            partials=partials)


log2 = _elementwise("log2", np.log2, (lambda ans, x: 1.0 / (x * _LN2),), np.log2, "log₂({0})")
log10 = _elementwise("log10", np.log10, (lambda ans, x: 1.0 / (x * _LN10),), np.log10,
                     "log₁₀({0})")
exp2 = _elementwise("exp2", np.exp2, (lambda ans, x: ans * _LN2,), np.exp2, "2^{0}", keep="ans")
arcsinh = _elementwise("arcsinh", np.arcsinh, (lambda ans, x: 1.0 / sqrt(x * x + 1.0),),
                       np.arcsinh)
arccosh = _elementwise("arccosh", np.arccosh,
                       (lambda ans, x: 1.0 / (sqrt(x - 1.0) * sqrt(x + 1.0)),), np.arccosh)
arctanh = _elementwise("arctanh", np.arctanh, (lambda ans, x: 1.0 / (1.0 - x * x),), np.arctanh)
cbrt = _elementwise("cbrt", np.cbrt, (lambda ans, x: 1.0 / (3.0 * ans * ans),), np.cbrt, "∛{0}",
                    keep="ans")
deg2rad = _elementwise("deg2rad", np.deg2rad, (lambda ans, x: math.pi / 180.0,), np.deg2rad,
                       keep="")
rad2deg = _elementwise("rad2deg", np.rad2deg, (lambda ans, x: 180.0 / math.pi,), np.rad2deg,
                       keep="")
UFUNCS[np.radians], UFUNCS[np.degrees] = deg2rad, rad2deg
SUPPORTED_NUMPY.extend(["np.radians", "np.degrees"])

hypot = _elementwise("hypot", np.hypot, (lambda ans, x, y: x / ans, lambda ans, x, y: y / ans),
                     np.hypot, "hypot({0}, {1})", keep="both")
# ∂/∂x log(eˣ + eʸ) = eˣ⁻ᵃⁿˢ: never overflows
logaddexp = _elementwise("logaddexp", np.logaddexp,
                         (lambda ans, x, y: exp(x - ans), lambda ans, x, y: exp(y - ans)),
                         np.logaddexp, "ln(e^{0} + e^{1})", keep="both")
logaddexp2 = _elementwise("logaddexp2", np.logaddexp2,
                          (lambda ans, x, y: exp2(x - ans), lambda ans, x, y: exp2(y - ans)),
                          np.logaddexp2, "log₂(2^{0} + 2^{1})", keep="both")
# fmod(x, y) = x − trunc(x/y)·y: ∂/∂x = 1, ∂/∂y = −trunc(x/y) (a constant between the jumps)
fmod = _elementwise("fmod", np.fmod, (lambda ans, x, y: 1.0,
                                      lambda ans, x, y: -np.trunc(unwrap(x) / unwrap(y))),
                    np.fmod, "fmod({0}, {1})")
# copysign(x, y) = |x| sign(y): ∂/∂x = sign(x) sign(y) (0 at x = 0, as for abs), ∂/∂y = 0
copysign = _elementwise(
    "copysign", np.copysign,
    (lambda ans, x, y: np.copysign(1.0, unwrap(y)) * _sign(x),
     lambda ans, x, y: np.zeros(shape_of(y)) if shape_of(y) else 0.0), np.copysign,
    "copysign({0}, {1})")


def _sinc_partial(ans, x):
    # d/dx sin(πx)/(πx) = (cos(πx) − sinc(x))/x; at x = 0 its Taylor term −π²x/3 (value 0,
    # and the right second derivative)
    xv = unwrap(x)
    zero = np.asarray(xv) == 0
    if not np.any(zero):
        return (cos(math.pi * x) - ans) / x
    safe = where_(zero, 1.0, x)
    return where_(zero, (-math.pi ** 2 / 3.0) * x, (cos(math.pi * safe) - sinc(safe)) / safe)


sinc = _elementwise("sinc", np.sinc, (_sinc_partial,), None, "sinc({0})", keep="both")
implements(np.sinc)(lambda x: sinc(x))

# float_power is power computed in float64: the same rules
UFUNCS[np.float_power] = pow
SUPPORTED_NUMPY.append("np.float_power")


@implements_ufunc(np.positive, np.conjugate)
def np_positive(x, **kw):
    return x                                    # +x, and the conjugate of a real value


@implements(np.real)
def np_real(val):
    return val                                  # real values: the identity


@implements(np.imag)
def np_imag(val):
    return np.zeros(shape_of(val)) if shape_of(val) else 0.0


@implements(np.angle)
def np_angle(z, deg=False):
    v = np.angle(unwrap(z), deg=deg)            # 0 or π for real numbers: derivative 0
    return v


@implements(np.nan_to_num)
def np_nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """Finite entries pass through (derivative 1); replaced ones are constants (derivative 0)."""
    xv = np.asarray(unwrap(x))
    ok = np.isfinite(xv)
    if ok.all():
        return x
    return where_(ok, x, np.nan_to_num(xv, nan=nan, posinf=posinf, neginf=neginf))


@implements(np.fix)
def np_fix(x, out=None):
    return np.fix(unwrap(x))


# ---- piecewise constant: zero derivative (computed on the values) ---------------------------

for _u in (np.sign, np.floor, np.ceil, np.rint, np.trunc, np.heaviside, np.signbit,
           np.isnan, np.isinf, np.isfinite, np.floor_divide, np.logical_not, np.logical_and,
           np.logical_or, np.logical_xor, np.less, np.less_equal, np.greater, np.greater_equal,
           np.equal, np.not_equal):
    SUPPORTED_NUMPY.append("np." + _u.__name__)
PIECEWISE_CONSTANT.add(np.heaviside)
for _f in (np.round, np.around, np.argmax, np.argmin, np.argsort, np.nonzero, np.count_nonzero,
           np.any, np.all, np.isclose, np.allclose, np.array_equal, np.searchsorted):
    SUPPORTED_NUMPY.append("np." + _f.__name__)


@implements(np.argwhere)
def np_argwhere(a):
    return np.argwhere(unwrap(a))


@implements(np.flatnonzero)
def np_flatnonzero(a):
    return np.flatnonzero(unwrap(a))


@implements(np.array_equiv)
def np_array_equiv(a1, a2):
    return np.array_equiv(unwrap(a1), unwrap(a2))


@implements(np.iscomplexobj)
def np_iscomplexobj(x):
    return False                                # a traced value is always real


@implements(np.isrealobj)
def np_isrealobj(x):
    return True


@implements(np.iscomplex)
def np_iscomplex(x):
    shape = shape_of(x)
    return np.zeros(shape, dtype=bool) if shape else False


@implements(np.isreal)
def np_isreal(x):
    shape = shape_of(x)
    return np.ones(shape, dtype=bool) if shape else True


@implements(np.real_if_close)
def np_real_if_close(a, tol=100):
    return a                                    # already real: the identity


__all__ = ["log2", "log10", "exp2", "arcsinh", "arccosh", "arctanh", "cbrt", "hypot",
           "logaddexp", "logaddexp2", "fmod", "copysign", "sinc", "deg2rad", "rad2deg"]
