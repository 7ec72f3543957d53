"""Signals and polynomials, composed of primitives: convolve, correlate, interp, polyval,
polyfit, vander, polyder/polyadd/polysub/polymul, trapezoid.

convolve and correlate are linear in each argument: numpy itself, run on unit vectors, gives the
matrix (or, with both arguments traced, the 3-index tensor) of the map, which is then applied
with matmul / einsum. So every ``mode`` numpy has agrees with numpy exactly.
"""
from __future__ import annotations

import functools

import numpy as np

from ..registry import implements
from ..tracer import Tracer, shape_of, unwrap
from .einsum_forms import np_einsum
from .elementwise import where_
from .reductions import np_broadcast_to, np_sum
from .shape import getitem, np_concatenate, np_reshape, stack
from ...errors import UnsupportedOperationError
from .linalg_more import np_lstsq
from .rearranging import np_diff

_MAX_BILINEAR = 250_000      # entries of the tensor of a map with both arguments traced


@functools.lru_cache(maxsize=64)
def _basis_tensor(func, na, nv, mode):
    """K[i, j, :] = func(e_i, e_j, mode): func(a, v) = Σ_ij a_i v_j K[i, j]."""
    ea, ev = np.eye(na), np.eye(nv)
    return np.stack([np.stack([func(ea[i], ev[j], mode) for j in range(nv)]) for i in range(na)])


def _linear_map(func, a, v, mode):
    a_tr, v_tr = isinstance(a, Tracer), isinstance(v, Tracer)
    na, nv = len(np.ravel(unwrap(a))), len(np.ravel(unwrap(v)))
    if na == 0 or nv == 0:
        raise ValueError(f"{func.__name__}: inputs cannot be empty")
    if a_tr and v_tr:
        if na * nv * (na + nv) > _MAX_BILINEAR:
            raise UnsupportedOperationError(
                f"np.{func.__name__} of two traced arrays this long ({na} and {nv}) is not "
                "supported by adnb (it builds an na·nv·n tensor); keep one of them constant")
        K = _basis_tensor(func, na, nv, mode)
        return np_einsum("i,j,ijk->k", np_reshape(a, (-1,)), np_reshape(v, (-1,)), K)
    if a_tr:            # func(·, v) as a matrix: column i is func(e_i, v)
        vv = np.ravel(unwrap(v))
        M = np.stack([func(e, vv, mode) for e in np.eye(na)], axis=1)
        return M @ np_reshape(a, (-1,))
    av = np.ravel(unwrap(a))
    M = np.stack([func(av, e, mode) for e in np.eye(nv)], axis=1)
    return M @ np_reshape(v, (-1,))


@implements(np.convolve)
def np_convolve(a, v, mode="full"):
    return _linear_map(np.convolve, a, v, mode)


@implements(np.correlate)
def np_correlate(a, v, mode="valid"):
    return _linear_map(np.correlate, a, v, mode)


@implements(np.polymul)
def np_polymul(a1, a2):
    return np_convolve(a1, a2)


def _as_poly(p):
    if isinstance(p, Tracer):
        return [getitem(p, i) for i in range(shape_of(p)[0])] if shape_of(p) else [p]
    return list(p) if isinstance(p, (list, tuple)) else list(np.atleast_1d(p))


@implements(np.polyval)
def np_polyval(p, x):
    """Horner's scheme: y = (((p0 x + p1) x + p2) ...)."""
    coeffs = _as_poly(p)
    y = 0.0 * x + 0.0 if not coeffs else coeffs[0] + 0.0 * x
    for c in coeffs[1:]:
        y = y * x + c
    return y


def _poly_array(p):
    return p if isinstance(p, Tracer) else np.asarray(p, dtype=float)


@implements(np.polyadd)
def np_polyadd(a1, a2):
    a1, a2 = _poly_array(a1), _poly_array(a2)
    n1, n2 = shape_of(a1)[0], shape_of(a2)[0]
    if n1 < n2:
        a1 = np_concatenate([np.zeros(n2 - n1), a1])
    elif n2 < n1:
        a2 = np_concatenate([np.zeros(n1 - n2), a2])
    return a1 + a2


@implements(np.polysub)
def np_polysub(a1, a2):
    return np_polyadd(a1, -_poly_array(a2))


@implements(np.polyder)
def np_polyder(p, m=1):
    p = _poly_array(p)
    for _ in range(int(m)):
        n = shape_of(p)[0] - 1
        if n <= 0:
            return np.zeros(1)
        p = getitem(p, slice(0, n)) * np.arange(n, 0, -1, dtype=float)
    return p


@implements(np.vander)
def np_vander(x, N=None, increasing=False):
    n = shape_of(x)[0] if N is None else int(N)
    powers = range(n) if increasing else range(n - 1, -1, -1)
    cols = [x ** float(k) for k in powers]
    return stack(cols, axis=1)


@implements(np.polyfit)
def np_polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    if full or w is not None or cov:
        raise UnsupportedOperationError("np.polyfit(full=/w=/cov=) is not supported by adnb")
    V = np_vander(x, int(deg) + 1) if isinstance(x, Tracer) else \
        np.vander(np.asarray(x, dtype=float), int(deg) + 1)
    return np_lstsq(V, y, rcond=rcond)[0]


@implements(np.interp)
def np_interp(x, xp, fp, left=None, right=None, period=None):
    """Piecewise linear interpolation, on the segment numpy uses: at a knot x = xp[j] the
    segment to its right (so the derivative in x is the right slope; at the last knot the left
    one). Outside [xp[0], xp[-1]]: left/right (default fp[0], fp[-1]), derivative 0 in x."""
    if period is not None:
        raise UnsupportedOperationError("np.interp(period=...) is not supported by adnb")
    xv, xpv = np.asarray(unwrap(x), dtype=float), np.asarray(unwrap(xp), dtype=float)
    n = xpv.shape[0]
    if n == 1:
        return np_broadcast_to(getitem(fp, 0), xv.shape) if xv.shape else getitem(fp, 0)
    j = np.clip(np.searchsorted(xpv, xv, side="right") - 1, 0, n - 2)
    x0, x1 = getitem(xp, j), getitem(xp, j + 1)
    f0, f1 = getitem(fp, j), getitem(fp, j + 1)
    inside = f0 + (x - x0) * ((f1 - f0) / (x1 - x0))
    lo = getitem(fp, 0) if left is None else left
    hi = getitem(fp, n - 1) if right is None else right
    return where_(xv < xpv[0], lo, where_(xv > xpv[-1], hi, inside))


@implements(np.trapezoid)
def np_trapezoid(y, x=None, dx=1.0, axis=-1):
    nd = len(shape_of(y))
    axis = int(axis) % nd

    def sl(s):
        idx = [slice(None)] * nd
        idx[axis] = s
        return tuple(idx)
    mid = (getitem(y, sl(slice(1, None))) + getitem(y, sl(slice(None, -1)))) / 2.0
    if x is not None:
        d = np_diff(x)
        if len(shape_of(d)) == 1 and nd > 1:
            s = [1] * nd
            s[axis] = shape_of(d)[0]
            d = np_reshape(d, tuple(s))
    else:
        d = dx
    return np_sum(mid * d, axis=axis)
