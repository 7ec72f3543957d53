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
from ...errors import MissingRuleError, UnsupportedOperationError
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


def _no_partial(fname, arg):
    """A partial scipy gives no formula for (the order of a Bessel function, the a of gammainc):
    refused when that argument is traced, never taken as zero."""
    def refuse(ans, *args):
        raise MissingRuleError(
            f"scipy.special.{fname}: adnb has no derivative with respect to {arg}; pass it as a "
            "constant (derivatives with respect to the last argument are supported)")
    return refuse


def _integer_order(ans, n, x):
    return 0.0 * ans          # an integer order: piecewise constant


if _sp is not None:
    # Γ and its relatives: ψ = digamma carries every derivative
    beta = _special("beta", (lambda ans, a, b: ans * (digamma(a) - digamma(a + b)),
                             lambda ans, a, b: ans * (digamma(b) - digamma(a + b))),
                    keep="both", nargs=2)
    betaln = _special("betaln", (lambda ans, a, b: digamma(a) - digamma(a + b),
                                 lambda ans, a, b: digamma(b) - digamma(a + b)), nargs=2)
    rgamma = _special("rgamma", (lambda ans, x: -ans * digamma(x),), keep="both")
    gammasgn = _special("gammasgn", (lambda ans, x: 0.0 * ans,), keep="ans")
    # regularised incomplete Γ: d/dx P(a, x) = x^(a−1) e^(−x) / Γ(a); d/da has no closed form
    gammainc = _special("gammainc", (_no_partial("gammainc", "a (the first argument)"),
                                     lambda ans, a, x: exp((a - 1.0) * log(x) - x - gammaln(a))),
                        nargs=2)
    gammaincc = _special("gammaincc", (_no_partial("gammaincc", "a (the first argument)"),
                                       lambda ans, a, x: -exp((a - 1.0) * log(x) - x - gammaln(a))),
                         nargs=2)
    # regularised incomplete B: d/dx I_x(a, b) = x^(a−1) (1 − x)^(b−1) / B(a, b)
    betainc = _special("betainc", (_no_partial("betainc", "a (the first argument)"),
                                   _no_partial("betainc", "b (the second argument)"),
                                   lambda ans, a, b, x: exp((a - 1.0) * log(x)
                                                            + (b - 1.0) * log1p(-x) - betaln(a, b))),
                       nargs=3)
    erfcinv = _special("erfcinv", (lambda ans, x: (-0.5 * math.sqrt(math.pi)) * exp(ans * ans),),
                       keep="ans")
    erfcx = _special("erfcx", (lambda ans, x: 2.0 * x * ans - _2_SQRT_PI,), keep="both")
    ndtri = _special("ndtri", (lambda ans, x: _SQRT_2PI * exp(0.5 * (ans * ans)),), keep="ans")
    log_expit = _special("log_expit", (lambda ans, x: expit(-x),))
    entr = _special("entr", (lambda ans, x: -(log(x) + 1.0),))
    rel_entr = _special("rel_entr", (lambda ans, x, y: log(x / y) + 1.0,
                                     lambda ans, x, y: -x / y), nargs=2)
    kl_div = _special("kl_div", (lambda ans, x, y: log(x / y), lambda ans, x, y: 1.0 - x / y),
                      nargs=2)
    # Bessel functions (DLMF 10.6, 10.29, 10.34): derivatives in x; the order is a constant
    j0 = _special("j0", (lambda ans, x: -j1(x),))
    j1 = _special("j1", (lambda ans, x: j0(x) - j1(x) / x,))
    y0 = _special("y0", (lambda ans, x: -y1(x),))
    y1 = _special("y1", (lambda ans, x: y0(x) - y1(x) / x,))
    i0 = _special("i0", (lambda ans, x: i1(x),))
    i1 = _special("i1", (lambda ans, x: i0(x) - i1(x) / x,))
    k0 = _special("k0", (lambda ans, x: -k1(x),))
    k1 = _special("k1", (lambda ans, x: -k0(x) - k1(x) / x,))
    yn = _special("yn", (_integer_order, lambda ans, n, x: 0.5 * (yv(n - 1.0, x) - yv(n + 1.0, x))),
                  nargs=2)
    jv = _special("jv", (_no_partial("jv", "the order v"),
                         lambda ans, v, x: 0.5 * (jv(v - 1.0, x) - jv(v + 1.0, x))), nargs=2)
    yv = _special("yv", (_no_partial("yv", "the order v"),
                         lambda ans, v, x: 0.5 * (yv(v - 1.0, x) - yv(v + 1.0, x))), nargs=2)
    if _sp.jn is not _sp.jv:        # (scipy's jn is jv under another name)
        jn = _special("jn", (_integer_order,
                             lambda ans, n, x: 0.5 * (jv(n - 1.0, x) - jv(n + 1.0, x))), nargs=2)
    iv = _special("iv", (_no_partial("iv", "the order v"),
                         lambda ans, v, x: 0.5 * (iv(v - 1.0, x) + iv(v + 1.0, x))), nargs=2)
    ive = _special("ive", (_no_partial("ive", "the order v"),       # iv(v, x) e^(−|x|)
                           lambda ans, v, x: 0.5 * (ive(v - 1.0, x) + ive(v + 1.0, x))
                           - np.sign(unwrap(x)) * ans), keep="both", nargs=2)


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
