"""np.linalg functions composed of primitives: norm (every ord), pinv, matrix_power, multi_dot,
lstsq, cond, and numpy 2's array-API names (matrix_norm, vector_norm, vecdot, ...).

Compositions need no rules of their own: their derivatives follow from the primitives they call
(abs, max, sum, svdvals, solve, ...), including the documented choices at kinks.
"""
from __future__ import annotations

import functools
import warnings

import numpy as np

from ...errors import NonDifferentiablePointWarning
from ..registry import implements
from ..tracer import shape_of, unwrap
from .contractions import matmul, np_dot, np_outer, np_tensordot
from .elementwise import abs_, sqrt, where_
from .linalg import inv, solve
from .rearranging import np_diagonal, np_trace
from .reductions import np_max, np_min, np_sum
from .shape import np_reshape, np_squeeze, reshape, transpose
from .shape import _mT
from ._helpers import _reject
from .decompositions import svdvals, svd_u, svd_vh

_INF = float("inf")


def _root(s, p=2.0):
    """s^(1/p) of a sum of |x|^p. Where s = 0 (x = 0: a kink of the norm, as of abs at 0) the
    derivative is 0 in both modes, abs'(0)'s value; the chain rule would meet inf · 0 there,
    nan in one mode and 0 in the other."""
    zero = np.asarray(unwrap(s)) == 0
    root = sqrt if p == 2.0 else (lambda v: v ** (1.0 / p))
    if not zero.any():
        return root(s)
    return where_(zero, 0.0, root(where_(zero, 1.0, s)))


def _vector_norm(x, ord, axis, keepdims):
    """‖x‖_p along axis (an int or None for all entries)."""
    ax = None if axis is None else (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    a = abs_(x)
    if ord is None or ord == 2:
        return _root(np_sum(x * x, axis=ax, keepdims=keepdims))
    if ord == _INF:
        return np_max(a, axis=ax, keepdims=keepdims)
    if ord == -_INF:
        return np_min(a, axis=ax, keepdims=keepdims)
    if ord == 0:            # the number of non-zero entries: piecewise constant, derivative 0
        return np.sum(np.asarray(unwrap(x)) != 0, axis=ax, keepdims=keepdims).astype(float)
    if ord == 1:
        return np_sum(a, axis=ax, keepdims=keepdims)
    if isinstance(ord, str):
        raise ValueError(f"Invalid norm order '{ord}' for vectors")
    if ord < 1:                 # not a norm: no kink to settle at 0 (numpy's value, as written)
        return np_sum(a ** ord, axis=ax, keepdims=keepdims) ** (1.0 / ord)
    return _root(np_sum(a ** ord, axis=ax, keepdims=keepdims), float(ord))


def _matrix_norm(x, ord, axes, keepdims):
    nd = len(shape_of(x))
    r, c = (int(a) % nd for a in axes)
    if r == c:
        raise ValueError("Duplicate axes given.")
    if ord in (None, "fro", "f"):
        out = _root(np_sum(x * x, axis=(r, c), keepdims=True))
    elif ord in (1, -1):                 # max/min over columns of the column sums
        pick = np_max if ord == 1 else np_min
        out = pick(np_sum(abs_(x), axis=r, keepdims=True), axis=c, keepdims=True)
    elif ord in (_INF, -_INF):           # max/min over rows of the row sums
        pick = np_max if ord == _INF else np_min
        out = pick(np_sum(abs_(x), axis=c, keepdims=True), axis=r, keepdims=True)
    elif ord in (2, -2, "nuc"):          # singular values of the matrices on axes (r, c)
        rest = [i for i in range(nd) if i not in (r, c)]
        m = transpose(x, tuple(rest) + (r, c))
        s = svdvals(m)
        last = len(rest)
        if ord == "nuc":
            v = np_sum(s, axis=last)
        else:
            v = (np_max if ord == 2 else np_min)(s, axis=last)
        kshape = list(shape_of(x))
        kshape[r] = kshape[c] = 1
        out = np_reshape(v, tuple(kshape))
    else:
        raise ValueError("Invalid norm order for matrices.")
    if keepdims:
        return out
    return np_squeeze(out, axis=(r, c))


@implements(np.linalg.norm)
def np_norm(x, ord=None, axis=None, keepdims=False):
    nd = len(shape_of(x))
    if axis is None:
        if ord is None:
            out = _root(np_sum(x * x))                  # the 2-norm of all entries
            return np_reshape(out, (1,) * nd) if keepdims else out
        if nd == 1:
            return _vector_norm(x, ord, 0, keepdims)
        if nd == 2:
            return _matrix_norm(x, ord, (0, 1), keepdims)
        raise ValueError("Improper number of dimensions to norm.")
    if isinstance(axis, (int, np.integer)) or len(tuple(axis)) == 1:
        ax = axis if isinstance(axis, (int, np.integer)) else tuple(axis)[0]
        return _vector_norm(x, ord, int(ax), keepdims)
    if len(tuple(axis)) == 2:
        return _matrix_norm(x, ord, tuple(axis), keepdims)
    raise ValueError("Improper number of dimensions to norm.")


@implements(np.linalg.vector_norm)
def np_vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    if axis is None:
        flat = np_reshape(x, (-1,))
        out = _vector_norm(flat, ord, 0, False)
        return np_reshape(out, (1,) * len(shape_of(x))) if keepdims else out
    if isinstance(axis, tuple) and len(axis) > 1:
        nd = len(shape_of(x))
        axes = tuple(int(a) % nd for a in axis)
        rest = [i for i in range(nd) if i not in axes]
        m = np_reshape(transpose(x, tuple(rest) + axes),
                         tuple(shape_of(x)[i] for i in rest) + (-1,))
        out = _vector_norm(m, ord, len(rest), False)
        if keepdims:
            out = np_reshape(out, tuple(1 if i in axes else n
                                          for i, n in enumerate(shape_of(x))))
        return out
    return _vector_norm(x, ord, axis if not isinstance(axis, tuple) else axis[0], keepdims)


@implements(np.linalg.matrix_norm)
def np_matrix_norm(x, /, *, keepdims=False, ord="fro"):
    return _matrix_norm(x, ord, (-2, -1), keepdims)


@implements(np.linalg.pinv)
def np_pinv(a, rcond=None, hermitian=False, *, rtol=None):
    """A⁺ = V Σ⁻¹ Uᵀ over the singular values above the cutoff. Differentiable where the rank
    does not change; at a rank-deficient matrix adnb warns (the pseudo-inverse jumps there)."""
    s = np.linalg.svd(unwrap(a), compute_uv=False)
    tol = rcond if rcond is not None else rtol if rtol is not None else \
        (1e-15 if rtol is None and rcond is None else 0.0)
    cutoff = np.asarray(tol)[..., None] * np.max(s, axis=-1, keepdims=True)
    keep = s > cutoff
    if not np.all(keep):
        warnings.warn("np.linalg.pinv of a rank-deficient matrix: the pseudo-inverse is not "
                      "differentiable where the rank changes; the derivative given keeps the "
                      "rank fixed.", NonDifferentiablePointWarning, stacklevel=3)
    else:                       # full rank: A⁺ from solves (smooth also at repeated σ)
        m, n = shape_of(a)[-2:]
        if m == n:
            return inv(a)
        if m > n:
            return solve(_mT(a) @ a, _mT(a))         # (AᵀA)⁻¹ Aᵀ
        return _mT(solve(a @ _mT(a), a))             # Aᵀ (AAᵀ)⁻¹
    U, sv, Vh = svd_u(a), svdvals(a), svd_vh(a)
    inv_s = where_(keep, 1.0 / where_(keep, sv, 1.0), 0.0)
    return _mT(Vh) @ (reshape(inv_s, shape=tuple(shape_of(inv_s)) + (1,)) * _mT(U))


@implements(np.linalg.matrix_power)
def np_matrix_power(a, n):
    n = int(n)
    if n < 0:
        a, n = inv(a), -n
    if n == 0:
        k = shape_of(a)[-1]
        return np.broadcast_to(np.eye(k), shape_of(a)).copy()
    result, base = None, a
    while n:                        # binary powering: log2(n) products
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return result


@implements(np.linalg.multi_dot)
def np_multi_dot(arrays, *, out=None):
    _reject("multi_dot", out=out)
    return functools.reduce(lambda x, y: np_dot(x, y), arrays)


@implements(np.linalg.lstsq)
def np_lstsq(a, b, rcond=None):
    """x = A⁺ b, with numpy's residuals, rank and singular values."""
    av = unwrap(a)
    m, n = np.shape(av)
    x = np_pinv(a, rcond=rcond if rcond is not None else max(m, n) * np.finfo(float).eps) @ b
    rank = np.linalg.matrix_rank(av)
    if rank == n and m > n:
        r = b - a @ x
        resid = np_sum(r * r, axis=0)
        resid = np_reshape(resid, (1,)) if not shape_of(resid) else resid
    else:
        resid = np.empty((0,))
    return x, resid, rank, svdvals(a)


@implements(np.linalg.cond)
def np_cond(x, p=None):
    if p in (None, 2, -2):
        s = svdvals(x)
        hi, lo = np_max(s, axis=-1), np_min(s, axis=-1)
        return hi / lo if p != -2 else lo / hi
    return np_norm(x, p, axis=(-2, -1)) * np_norm(inv(x), p, axis=(-2, -1))


@implements(np.linalg.matrix_rank)
def np_matrix_rank(A, tol=None, hermitian=False, *, rtol=None):
    return np.linalg.matrix_rank(unwrap(A), tol=tol, hermitian=hermitian, rtol=rtol)


# numpy 2's array-API spellings of functions adnb already has
implements(np.linalg.matmul)(lambda x1, x2, /: matmul(x1, x2))
implements(np.linalg.outer)(lambda x1, x2, /: np_outer(x1, x2))
implements(np.linalg.tensordot)(lambda x1, x2, /, *, axes=2: np_tensordot(x1, x2, axes))
implements(np.linalg.matrix_transpose)(lambda x, /: _mT(x))


@implements(np.linalg.trace)
def np_linalg_trace(x, /, *, offset=0, dtype=None):
    return np_trace(x, offset=offset, axis1=-2, axis2=-1, dtype=dtype)


@implements(np.linalg.diagonal)
def np_linalg_diagonal(x, /, *, offset=0):
    return np_diagonal(x, offset=offset, axis1=-2, axis2=-1)


@implements(np.linalg.vecdot, np.vecdot)
def np_vecdot(x1, x2, /, *, axis=-1, **kw):
    _reject("vecdot", **kw)
    return np_sum(x1 * x2, axis=axis)
