"""Contractions: matmul and einsum, and the numpy functions built on them (dot, inner, outer,
tensordot)."""
from __future__ import annotations

import string

import numpy as np

from ...errors import UnsupportedOperationError
from ..registry import define_primitive, implements
from ..tracer import shape_of
from ._helpers import _reject, _size
from .elementwise import mul
from .reductions import broadcast_to, unbroadcast as _unbroadcast
from .shape import _mT, np_reshape, reshape


# ============================================================================================
# Contractions
# ============================================================================================


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
    "matmul", np.matmul, numpy=(np.matmul,), formula="{0} @ {1}", code="{0} @ {1}", keep="args",
    bilinear=True,
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
