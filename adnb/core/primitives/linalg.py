"""Linear algebra: solve, inv, det, and np.linalg.norm."""
from __future__ import annotations

import numpy as np

from ...errors import UnsupportedOperationError
from ..registry import define_primitive, implements
from ..tracer import shape_of, unwrap
from ._helpers import _size
from .elementwise import abs_, sqrt
from .reductions import np_max, np_sum, sum_
from .shape import _mT, getitem, reshape, stack_


# ============================================================================================
# Linear algebra
# ============================================================================================


def _solve_impl(a, b):
    return np.linalg.solve(a, b)


def _solve_vjp_a(g, ans, a, b):
    gb = solve(_mT(a), g)                                   # b̄ = A⁻ᵀ ḡ
    if len(shape_of(b)) == 1:
        return -reshape(gb, (-1, 1)) * reshape(ans, (1, -1))  # Ā = −b̄ xᵀ
    return -(gb @ _mT(ans))


solve = define_primitive(
    "solve", _solve_impl, formula="solve({0}, {1})", keep="both",
    jvp=(lambda t, ans, a, b: solve(a, -(t @ ans)), lambda t, ans, a, b: solve(a, t)),
    vjp=(_solve_vjp_a, lambda g, ans, a, b: solve(_mT(a), g)),
    flops=lambda ans, a, b: 2 * shape_of(a)[-1] ** 3 // 3 + 2 * _size(b) * shape_of(a)[-1])
solve.jvp_batched = (
    lambda t, ans, a, b: _batched_solve(a, -(t @ ans) if len(shape_of(b)) == 2
                                        else -(t @ reshape(ans, shape_of(ans) + (1,)))[..., 0]),
    lambda t, ans, a, b: _batched_solve(a, t))


def _batched_solve(a, rhs):
    # rhs: (N, n) or (N, n, k): solve each direction; A X = R with directions as extra columns
    n = shape_of(rhs)[0]
    if len(shape_of(rhs)) == 2:
        return _mT(solve(a, _mT(rhs)))
    cols = [solve(a, getitem(rhs, i)) for i in range(n)]
    return stack_(cols)


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
    if np.linalg.cond(av) < 1e12:
        return ans * _mT(inv(a))
    n = shape_of(a)[-1]
    if n == 1:
        return np.ones((1, 1))
    rows = []
    for i in range(n):
        r = np.array([k for k in range(n) if k != i])[:, None]
        row = [(-1.0) ** (i + j) * det(getitem(a, (r, np.array([k for k in range(n) if k != j]))))
               for j in range(n)]
        rows.append(stack_(row))
    return stack_(rows)


det = define_primitive(
    "det", np.linalg.det, formula="det({0})", keep="both",
    jvp=(lambda t, ans, a: sum_(_det_cofactors(ans, a) * t, axes=(0, 1), keepdims=False),),
    vjp=(lambda g, ans, a: g * _det_cofactors(ans, a),),               # ∂|A|/∂A = |A| A⁻ᵀ
    flops=lambda ans, a: 2 * shape_of(a)[-1] ** 3 // 3)
det.jvp_batched = (lambda t, ans, a: sum_(_det_cofactors(ans, a) * t, axes=(1, 2),
                                          keepdims=False),)


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
    if len(shape_of(a)) != 2:
        raise UnsupportedOperationError("np.linalg.det of stacked matrices is not supported")
    return det(a)
