"""scipy.special: its ufuncs as elementwise primitives (when scipy is installed), and
logsumexp / softmax / log_softmax composed of primitives.

scipy's ufuncs reach adnb through numpy's ufunc protocol, so ``scipy.special.expit(x)`` on a
traced x is differentiated as it is written. ``scipy.special.logsumexp``, ``softmax`` and
``log_softmax`` are plain Python functions that convert their input, which adnb cannot
intercept: ``adnb.special.logsumexp`` (same signature, works on plain arrays too) is the
differentiable version.
"""
from __future__ import annotations

import math

import numpy as np

from ..registry import SUPPORTED_NUMPY, UFUNCS, define_primitive
from ..tracer import unwrap
from ...errors import UnsupportedOperationError
from .elementwise import exp, log, log1p
from .reductions import np_sum
from .shape import np_reshape, np_squeeze

try:
    import scipy.special as _sp
except ImportError:         # scipy is optional: only the compositions below
    _sp = None

_SQRT_2PI = math.sqrt(2.0 * math.pi)
_2_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _special(name, partials, keep="args", nargs=1):
    ufunc = getattr(_sp, name)
    prim = define_primitive(name, ufunc, elementwise=True, keep=keep,
                            formula=name + "(" + ", ".join(f"{{{k}}}" for k in range(nargs)) + ")",
                            partials=partials)
    if isinstance(ufunc, np.ufunc):     # (scipy's polygamma is a Python function: internal only)
        UFUNCS[ufunc] = prim
        SUPPORTED_NUMPY.append("scipy.special." + name)
    return prim


if _sp is not None:
    expit = _special("expit", (lambda ans, x: ans * (1.0 - ans),), keep="ans")
    logit = _special("logit", (lambda ans, x: 1.0 / (x * (1.0 - x)),))
    erf = _special("erf", (lambda ans, x: _2_SQRT_PI * exp(-(x * x)),))
    erfc = _special("erfc", (lambda ans, x: -_2_SQRT_PI * exp(-(x * x)),))
    erfinv = _special("erfinv", (lambda ans, x: (0.5 * math.sqrt(math.pi)) * exp(ans * ans),),
                      keep="ans")
    ndtr = _special("ndtr", (lambda ans, x: exp(-0.5 * (x * x)) / _SQRT_2PI,))
    log_ndtr = _special("log_ndtr", (lambda ans, x: exp(-0.5 * (x * x) - ans) / _SQRT_2PI,),
                        keep="both")
    polygamma = _special("polygamma", (lambda ans, n, x: 0.0 * ans,      # n: an integer order
                                       lambda ans, n, x: polygamma(unwrap(n) + 1, x)), nargs=2)
    digamma = _special("digamma", (lambda ans, x: polygamma(1, x),))
    UFUNCS[_sp.psi] = digamma
    SUPPORTED_NUMPY.append("scipy.special.psi")
    gammaln = _special("gammaln", (lambda ans, x: digamma(x),))
    gamma = _special("gamma", (lambda ans, x: ans * digamma(x),), keep="both")
    xlogy = _special("xlogy", (lambda ans, x, y: log(y), lambda ans, x, y: x / y), nargs=2)
    xlog1py = _special("xlog1py", (lambda ans, x, y: log1p(y),
                                   lambda ans, x, y: x / (1.0 + y)), nargs=2)


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    """log Σ b·exp(a), computed stably (shifted by the maximum, a constant: the shift cancels
    in the derivative). Signature of scipy.special.logsumexp."""
    if return_sign:
        raise UnsupportedOperationError("adnb.special.logsumexp(return_sign=True) is not "
                                          "supported; the sign is piecewise constant")
    m = np.max(np.asarray(unwrap(a), dtype=float), axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    e = exp(a - m)
    if b is not None:
        e = e * b
    s = np_sum(e, axis=axis, keepdims=True)
    out = log(s) + m
    if not keepdims:
        out = np_squeeze(out, axis=axis) if axis is not None else np_reshape(out, ())
    return out


def softmax(x, axis=None):
    """exp(x) / Σ exp(x) along axis (scipy.special.softmax's signature)."""
    m = np.max(np.asarray(unwrap(x), dtype=float), axis=axis, keepdims=True)
    e = exp(x - m)
    return e / np_sum(e, axis=axis, keepdims=True)


def log_softmax(x, axis=None):
    """x − logsumexp(x) along axis (scipy.special.log_softmax's signature)."""
    return x - logsumexp(x, axis=axis, keepdims=True)


__all__ = ["logsumexp", "softmax", "log_softmax"]
