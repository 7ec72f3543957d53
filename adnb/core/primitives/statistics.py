"""Statistics composed of primitives: quantiles (median, percentile, quantile), average, ptp,
cov, corrcoef and the nan-ignoring reductions.

Order statistics pick entries by the primal values (numpy's stable sort), then interpolate
linearly between two of them (numpy's default method): the derivative flows to the picked
entries with the interpolation weights; at ties it goes to the entry the stable sort puts first
(README, "Documented choices").
"""
from __future__ import annotations

import numpy as np

from ..registry import implements
from ..tracer import shape_of, unwrap
from .elementwise import sqrt, where_
from .rearranging import np_moveaxis
from .reductions import np_broadcast_to, np_cumsum, np_max, np_mean, np_min, np_prod, np_sum
from .shape import getitem, np_concatenate, np_diag, np_reshape, np_squeeze, transpose
from .shape import _mT
from ._helpers import _reject
from ...errors import UnsupportedOperationError
from .rearranging import np_atleast_2d


def _quantile(a, q, axis, keepdims, method="linear"):
    if method != "linear":
        raise UnsupportedOperationError(
            f"np.quantile(method={method!r}) is not supported by adnb; the default 'linear' is")
    qv = np.asarray(unwrap(q), dtype=float)
    if np.any((qv < 0) | (qv > 1)):
        raise ValueError("Quantiles must be in the range [0, 1]")
    if axis is None:
        a, axis, flat = np_reshape(a, (-1,)), 0, True
    else:
        flat = False
    nd = len(shape_of(a))
    axes = (int(axis) % nd,) if isinstance(axis, (int, np.integer)) else \
        tuple(sorted(int(x) % nd for x in axis))
    rest = [i for i in range(nd) if i not in axes]
    src_shape = tuple(shape_of(a))
    # the reduced axes last, merged into one
    m = np_reshape(transpose(a, tuple(rest) + axes),
                     tuple(src_shape[i] for i in rest) + (-1,))
    n = shape_of(m)[-1]
    order = np.argsort(unwrap(m), axis=-1, kind="stable")
    srt = getitem(m, tuple(np.indices(order.shape, sparse=True)[:-1]) + (order,))
    pos = qv * (n - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    w = pos - lo
    vlo = getitem(srt, (Ellipsis, lo.ravel()))
    vhi = getitem(srt, (Ellipsis, hi.ravel()))
    out = vlo + (vhi - vlo) * w.ravel()      # (..., len(q)): numpy's lerp
    lead = tuple(shape_of(out)[:-1])
    out = np_moveaxis(np_reshape(out, lead + qv.shape), tuple(range(len(lead), len(lead)
                        + qv.ndim)), tuple(range(qv.ndim))) if qv.ndim else \
        np_reshape(out, lead)
    if keepdims:
        kshape = [1] * len(src_shape) if flat else \
            [1 if i in axes else s for i, s in enumerate(src_shape)]
        out = np_reshape(out, qv.shape + tuple(kshape))
    return out


@implements(np.quantile)
def np_quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                keepdims=False, *, weights=None, interpolation=None):
    _reject("quantile", out=out)
    if weights is not None:
        raise UnsupportedOperationError("np.quantile(weights=...) is not supported by adnb")
    return _quantile(a, q, axis, keepdims, method)


@implements(np.percentile)
def np_percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                  keepdims=False, *, weights=None, interpolation=None):
    _reject("percentile", out=out)
    return _quantile(a, np.asarray(unwrap(q), dtype=float) / 100.0, axis, keepdims, method)


@implements(np.median)
def np_median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    _reject("median", out=out)
    return _quantile(a, 0.5, axis, keepdims)


@implements(np.average)
def np_average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    if weights is None:
        avg = np_mean(a, axis=axis, keepdims=keepdims)
        n = np.size(unwrap(a)) / np.size(unwrap(avg)) if shape_of(avg) else np.size(unwrap(a))
        return (avg, np.broadcast_to(float(n), shape_of(avg)).copy() if shape_of(avg) else
                float(n)) if returned else avg
    w = weights
    if shape_of(w) != shape_of(a):
        if axis is None or len(shape_of(w)) != 1:
            raise TypeError("Axis must be specified when shapes of a and weights differ.")
        s = [1] * len(shape_of(a))
        s[int(axis) % len(s)] = shape_of(w)[0]
        w = np_reshape(w, tuple(s))
        w = np_broadcast_to(w, tuple(shape_of(a)))
    scl = np_sum(w, axis=axis, keepdims=keepdims)
    avg = np_sum(a * w, axis=axis, keepdims=keepdims) / scl
    return (avg, scl) if returned else avg


@implements(np.ptp)
def np_ptp(a, axis=None, out=None, keepdims=False):
    _reject("ptp", out=out)
    return np_max(a, axis=axis, keepdims=keepdims) - np_min(a, axis=axis, keepdims=keepdims)


@implements(np.cov)
def np_cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *,
           dtype=None):
    if fweights is not None or aweights is not None:
        raise UnsupportedOperationError("np.cov with weights is not supported by adnb")
    X = np_atleast_2d(m) if len(shape_of(m)) < 2 else m
    if not rowvar and len(shape_of(X)) == 2 and shape_of(X)[0] != 1:
        X = _mT(X)
    if y is not None:
        Y = np_atleast_2d(y) if len(shape_of(y)) < 2 else y
        if not rowvar and shape_of(Y)[0] != 1:
            Y = _mT(Y)
        X = np_concatenate([X, Y], axis=0)
    n = shape_of(X)[1]
    if ddof is None:
        ddof = 0 if bias else 1
    Xc = X - np_mean(X, axis=1, keepdims=True)
    c = (Xc @ _mT(Xc)) / (n - ddof)
    return np_squeeze(c) if shape_of(c) == (1, 1) else c


@implements(np.corrcoef)
def np_corrcoef(x, y=None, rowvar=True, *, dtype=None):
    c = np_cov(x, y, rowvar)
    if not shape_of(c):
        return c / c
    d = sqrt(np_diag(c))
    return c / np_reshape(d, (-1, 1)) / np_reshape(d, (1, -1))


# ---- nan-ignoring reductions: nan entries are constants (derivative 0) --------------------------

def _nan_mask(a):
    return np.isnan(np.asarray(unwrap(a), dtype=float))


def _nan_filled(a, fill):
    mask = _nan_mask(a)
    return where_(mask, fill, a) if mask.any() else a


@implements(np.nansum)
def np_nansum(a, axis=None, dtype=None, out=None, keepdims=False, **kw):
    return np_sum(_nan_filled(a, 0.0), axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kw)


@implements(np.nanprod)
def np_nanprod(a, axis=None, dtype=None, out=None, keepdims=False, **kw):
    return np_prod(_nan_filled(a, 1.0), axis=axis, dtype=dtype, out=out, keepdims=keepdims,
                     **kw)


@implements(np.nanmean)
def np_nanmean(a, axis=None, dtype=None, out=None, keepdims=False, **kw):
    count = np.sum(~_nan_mask(a), axis=axis, keepdims=keepdims)
    return np_nansum(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kw) / count


@implements(np.nanvar)
def np_nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw):
    mask = _nan_mask(a)
    count = np.sum(~mask, axis=axis, keepdims=keepdims)
    d = _nan_filled(a - np_nanmean(a, axis=axis, keepdims=True), 0.0)
    return np_sum(d * d, axis=axis, keepdims=keepdims) / (count - ddof)


@implements(np.nanstd)
def np_nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw):
    return sqrt(np_nanvar(a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims))


@implements(np.nanmax)
def np_nanmax(a, axis=None, out=None, keepdims=False, **kw):
    return np_max(_nan_filled(a, -np.inf), axis=axis, out=out, keepdims=keepdims, **kw)


@implements(np.nanmin)
def np_nanmin(a, axis=None, out=None, keepdims=False, **kw):
    return np_min(_nan_filled(a, np.inf), axis=axis, out=out, keepdims=keepdims, **kw)


@implements(np.nancumsum)
def np_nancumsum(a, axis=None, dtype=None, out=None):
    return np_cumsum(_nan_filled(a, 0.0), axis=axis, dtype=dtype, out=out)


@implements(np.nanmedian)
def np_nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    if _nan_mask(a).any():
        raise UnsupportedOperationError("np.nanmedian of an array holding nan is not supported "
                                          "by adnb; select the finite entries first")
    return np_median(a, axis=axis, keepdims=keepdims)
