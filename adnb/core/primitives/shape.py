"""Shape and indexing: reshape, transpose, getitem (and its adjoint untake),
concatenate, and the numpy functions that rearrange arrays (ravel, squeeze, stack, sort, diag…)."""
from __future__ import annotations

import numpy as np

from ...errors import UnsupportedOperationError
from ..registry import define_primitive, implements
from ..tracer import shape_of, unwrap
from ._helpers import _axes, _reject


# ============================================================================================
# Shape and indexing
# ============================================================================================

def _reshape_impl(x, shape):
    return x.reshape(shape) if type(x) is np.ndarray else np.reshape(x, shape)


reshape = define_primitive(
    "reshape", _reshape_impl, formula="reshape({0}, {shape})", code="np.reshape({0}, {shape})",
    jvp=(lambda t, ans, x, shape: reshape(t, shape),),
    vjp=(lambda g, ans, x, shape: reshape(g, shape_of(x)),),
    flops=lambda ans, x, shape: 0)
reshape.jvp_batched = (lambda t, ans, x, shape: reshape(t, (shape_of(t)[0],) + tuple(shape)),)


def _inverse_perm(axes):
    return tuple(np.argsort(axes))


transpose_ = define_primitive(
    "transpose", lambda x, axes: np.transpose(x, axes), formula="{0}ᵀ",
    code="np.transpose({0}, {axes})",
    jvp=(lambda t, ans, x, axes: transpose_(t, axes=axes),),
    vjp=(lambda g, ans, x, axes: transpose_(g, axes=_inverse_perm(axes)),),
    flops=lambda ans, x, axes: 0)
transpose_.jvp_batched = (lambda t, ans, x, axes: transpose_(t, axes=(0,) + tuple(a + 1 for a in axes)),)

def _is_basic_index(idx):
    items = idx if isinstance(idx, tuple) else (idx,)
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in items)


def _untake_impl(g, idx, shape):
    z = np.zeros(shape)
    if _is_basic_index(idx):
        z[idx] = g
    else:
        np.add.at(z, idx, g)      # repeated fancy indices add up
    return z


getitem = define_primitive(
    "getitem", lambda x, idx: x[idx], formula="{0}[{1}]", code="{0}[{1}]",
    jvp=(lambda t, ans, x, idx: getitem(t, idx),),
    vjp=(lambda g, ans, x, idx: untake(g, idx=idx, shape=shape_of(x)),),
    flops=lambda ans, x, idx: 0)


def _batched_index(idx):
    return (slice(None),) + (idx if isinstance(idx, tuple) else (idx,))




def _separated_advanced_ndim(idx):
    """If the index has advanced (array) indices separated by a slice, Ellipsis or None, numpy
    puts their dimensions first, in front of the direction axis: return how many there are."""
    items = idx if isinstance(idx, tuple) else (idx,)
    if not any(isinstance(i, (np.ndarray, list)) for i in items):
        return 0
    pos = [k for k, i in enumerate(items) if isinstance(i, (np.ndarray, list, int, np.integer))]
    if pos[-1] - pos[0] + 1 == len(pos):
        return 0
    arrays = []
    for k in pos:
        a = np.asarray(items[k])
        arrays.extend(np.nonzero(a) if a.dtype == bool else [a])
    return len(np.broadcast_shapes(*[a.shape for a in arrays]))


def _getitem_batched(t, ans, x, idx):
    out = getitem(t, _batched_index(idx))
    n_adv = _separated_advanced_ndim(idx)
    if n_adv:   # (*advanced, N, *rest) -> (N, *advanced, *rest)
        nd = len(shape_of(out))
        out = transpose_(out, axes=(n_adv,) + tuple(range(n_adv)) + tuple(range(n_adv + 1, nd)))
    return out


getitem.jvp_batched = (_getitem_batched,)

untake = define_primitive(
    "untake", _untake_impl, formula="scatter({0} → {shape})",
    code="untake({0}, {idx}, {shape})",
    jvp=(lambda t, ans, g, idx, shape: untake(t, idx=idx, shape=shape),),
    vjp=(lambda g2, ans, g, idx, shape: getitem(g2, idx),))


def _concat_impl(*xs, axis):
    return np.concatenate(xs, axis=axis)


def _concat_offsets(args, axis):
    sizes = [shape_of(a)[axis] for a in args]
    return np.cumsum([0] + sizes)


def _concat_jvp(t, ans, *xs, argnum, axis, batched=False):
    parts = []
    for j, x in enumerate(xs):
        if j == argnum:
            parts.append(t)
        else:
            s = shape_of(x)
            parts.append(np.zeros(((shape_of(t)[0],) if batched else ()) + tuple(s)))
    return concatenate(*parts, axis=axis + (1 if batched else 0))


def _concat_vjp(g, ans, *xs, argnum, axis):
    off = _concat_offsets(xs, axis)
    idx = [slice(None)] * len(shape_of(g))
    idx[axis] = slice(int(off[argnum]), int(off[argnum + 1]))
    return getitem(g, tuple(idx))


concatenate = define_primitive(
    "concatenate", _concat_impl, variadic=True, formula="concat({args})",
    jvp=(_concat_jvp,), vjp=(_concat_vjp,), flops=lambda ans, *xs, axis: 0)
concatenate.jvp_batched = (lambda t, ans, *xs, argnum, axis:
                           _concat_jvp(t, ans, *xs, argnum=argnum, axis=axis, batched=True),)


def _mT(x):
    """Swap the last two axes (matrix transpose); a vector is left alone."""
    n = len(shape_of(x))
    if n < 2:
        return x
    axes = tuple(range(n - 2)) + (n - 1, n - 2)
    return transpose_(x, axes=axes)


def _resolve_shape(a, shape):
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    return np.empty(shape_of(a), dtype=bool).reshape(shape).shape   # resolves -1, checks size


def _order_index(a, order, shape):
    """For order 'F', 'A' or 'K': which C-order entry of a lands at each position of
    np.reshape(a, shape, order) (None when that is plain C order). Computed on an index array
    laid out in memory like a's primal, so 'A' and 'K' follow a's actual layout as numpy does."""
    if order not in ("C", "F", "A", "K"):
        raise ValueError(f"order must be one of 'C', 'F', 'A', or 'K' (got {order!r})")
    v = unwrap(a)
    s = shape_of(a)
    ind = np.empty_like(v, dtype=np.intp) if isinstance(v, np.ndarray) else np.empty(s, np.intp)
    ind[...] = np.arange(int(np.prod(s))).reshape(s)
    if order == "K":
        idx = np.ravel(ind, order="K").reshape(shape)
    else:
        idx = np.reshape(ind, shape, order=order)
    return None if np.array_equal(idx.ravel(), np.arange(idx.size)) else idx


@implements(np.reshape)
def np_reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    shape = _resolve_shape(a, shape if shape is not None else newshape)
    if order != "C":
        idx = _order_index(a, order, shape)
        if idx is not None:
            if order == "K":
                raise ValueError("order 'K' is not permitted for reshaping")
            return getitem(np_reshape(a, (-1,)), idx)
    if shape == shape_of(a):
        return a
    return reshape(a, shape=shape)


@implements(np.ravel)
def np_ravel(a, order="C"):
    if order == "K":
        idx = _order_index(a, "K", (-1,))
        return np_reshape(a, (-1,)) if idx is None else getitem(np_reshape(a, (-1,)), idx)
    return np_reshape(a, (-1,), order=order)


@implements(np.transpose)
def transpose(a, axes=None):
    n = len(shape_of(a))
    axes = tuple(reversed(range(n))) if axes is None else tuple(int(x) % max(n, 1) for x in axes)
    if axes == tuple(range(n)):
        return a
    return transpose_(a, axes=axes)


@implements(np.matrix_transpose) if hasattr(np, "matrix_transpose") else (lambda f: f)
def matrix_transpose(x):
    return _mT(x)


@implements(np.swapaxes)
def np_swapaxes(a, axis1, axis2):
    n = len(shape_of(a))
    axes = list(range(n))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return transpose(a, axes)


@implements(np.squeeze)
def np_squeeze(a, axis=None):
    s = shape_of(a)
    if axis is None:
        new = tuple(n for n in s if n != 1)
    else:
        ax = _axes(axis, len(s))
        if any(s[i] != 1 for i in ax):
            raise ValueError("cannot select an axis to squeeze out which has size not equal to one")
        new = tuple(n for i, n in enumerate(s) if i not in ax)
    return np_reshape(a, new)


@implements(np.expand_dims)
def np_expand_dims(a, axis):
    s = list(shape_of(a))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    n = len(s) + len(axes)
    for ax in sorted(int(x) % n for x in axes):
        s.insert(ax, 1)
    return np_reshape(a, tuple(s))


@implements(np.atleast_1d)
def np_atleast_1d(*arys):
    res = [np_reshape(a, (1,)) if not shape_of(a) else a for a in arys]
    return res[0] if len(res) == 1 else res


@implements(np.concatenate)
def np_concatenate(arrays, axis=0, out=None, dtype=None, casting=None):
    _reject("concatenate", out=out, dtype=dtype)
    arrays = list(arrays)
    if axis is None:
        arrays, axis = [np_reshape(a, (-1,)) for a in arrays], 0
    if not arrays:
        raise ValueError("need at least one array to concatenate")
    if any(not shape_of(a) for a in arrays):
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    axis = int(axis) % len(shape_of(arrays[0]))
    return concatenate(*arrays, axis=axis)


@implements(np.stack)
def stack_(arrays, axis=0, out=None, dtype=None, casting=None):
    _reject("stack", out=out, dtype=dtype)
    arrays = list(arrays)
    if not arrays:
        raise ValueError("need at least one array to stack")
    n = len(shape_of(arrays[0])) + 1
    axis = int(axis) % n
    return concatenate(*[np_expand_dims(a, axis) for a in arrays], axis=axis)


stack = stack_


@implements(np.vstack)
def np_vstack(tup, dtype=None, casting=None):
    arrs = [np_reshape(a, (1, -1)) if len(shape_of(a)) < 2 else a for a in tup]
    return concatenate(*arrs, axis=0)


@implements(np.hstack)
def np_hstack(tup, dtype=None, casting=None):
    arrs = [np_atleast_1d(a) for a in tup]
    return concatenate(*arrs, axis=0 if len(shape_of(arrs[0])) == 1 else 1)


@implements(np.sort)
def np_sort(a, axis=-1, kind=None, order=None, **kw):
    # the values themselves, permuted: a getitem with the sorting permutation (primal values)
    if order is not None:
        raise UnsupportedOperationError("np.sort(order=...) (structured arrays) is not supported")
    if axis is None:
        a, axis = np_reshape(a, (-1,)), 0
    perm = np.argsort(unwrap(a), axis=axis, kind=kind, **kw)
    grid = list(np.indices(perm.shape, sparse=True))
    grid[int(axis) % perm.ndim] = perm
    return getitem(a, tuple(grid))


@implements(np.diag)
def np_diag(v, k=0):
    s = shape_of(v)
    if len(s) == 1:
        n = s[0] + abs(k)
        m = np.eye(n, k=k)
        if k >= 0:
            full = concatenate(np.zeros(k), v, axis=0) if k else v
        else:
            full = concatenate(v, np.zeros(-k), axis=0)
        return m * full                       # M[i, j] = δ_{j, i+k} v_j: a constant mask
    if len(s) == 2:
        rows = np.arange(max(0, -k), min(s[0], s[1] - k))
        return getitem(v, (rows, rows + k))
    raise ValueError("np.diag input must be 1-d or 2-d")
