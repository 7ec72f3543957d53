"""Linear algebra: solve, inv, det, and np.linalg.norm."""
from __future__ import annotations

import numpy as np

from ..registry import define_primitive, implements
from ..tracer import shape_of, unwrap
from ._helpers import _size
from .reductions import sum_
from .reductions import unbroadcast as _unbroadcast
from .shape import _mT, getitem, reshape, stack_


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


@implements(np.linalg.solve)
def np_solve(a, b):
    return solve(a, b)


@implements(np.linalg.inv)
def np_inv(a):
    return inv(a)


@implements(np.linalg.det)
def np_det(a):
    return det(a)
