"""Shape and indexing functions, composed of primitives (no rules of their own).

Functions that only move, copy or pick entries (flip, roll, tile, repeat, moveaxis, pad, take,
split, diagonal, fftshift, ...) run numpy itself on an array of entry numbers and gather the
traced entries with the result: one ``getitem`` row whose adjoint scatters back. So they agree
with numpy exactly, for every argument numpy accepts. Those that are views in numpy are marked,
so ``+=`` on them (or on their source) is refused instead of silently differing from numpy.
"""
from __future__ import annotations

import numpy as np

from ..registry import VIEW_FUNCTIONS, implements
from ..tracer import Tracer, shape_of, unwrap
from .elementwise import where_
from .reductions import np_broadcast_to, np_sum
from .shape import getitem, np_concatenate, np_reshape, np_squeeze, np_swapaxes, stack, transpose
from ._helpers import _reject
from ...errors import UnsupportedOperationError


def _entry_numbers(a):
    s = tuple(shape_of(a))
    return np.arange(int(np.prod(s)) if s else 1).reshape(s)


def _gather(a, idx):
    flat = np_reshape(a, (-1,))
    return getitem(flat, np.asarray(idx))


def _rearranging(np_func, view=False):
    """Register np_func for traced arrays as a gather of the entries numpy's own result names."""
    def impl(a, *args, **kwargs):
        if not isinstance(a, Tracer):       # a traced index or count: no derivative to follow
            return np_func(unwrap(a), *[unwrap(x) for x in args],
                           **{k: unwrap(v) for k, v in kwargs.items()})
        out = np_func(_entry_numbers(a), *args, **kwargs)
        if isinstance(out, (list, tuple)):
            return [_gather(a, o) for o in out]
        return _gather(a, out)
    impl.__name__ = np_func.__name__
    implements(np_func)(impl)
    if view:
        VIEW_FUNCTIONS.add(np_func)
    return impl


for _f, _view in ((np.flip, True), (np.fliplr, True), (np.flipud, True), (np.rot90, True),
                  (np.moveaxis, True), (np.rollaxis, True), (np.roll, False), (np.tile, False),
                  (np.repeat, False), (np.take, False), (np.split, True),
                  (np.array_split, True), (np.hsplit, True), (np.vsplit, True),
                  (np.dsplit, True), (np.fft.fftshift, False), (np.fft.ifftshift, False),
                  (np.delete, False), (np.resize, False)):
    _rearranging(_f, _view)


@implements(np.take_along_axis)
def np_take_along_axis(arr, indices, axis=-1):
    return _gather(arr, np.take_along_axis(_entry_numbers(arr), np.asarray(unwrap(indices)),
                                           axis=axis))


@implements(np.diagonal)
def np_diagonal(a, offset=0, axis1=0, axis2=1):
    return _gather(a, np.diagonal(_entry_numbers(a), offset, axis1, axis2))


@implements(np.trace)
def np_trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    _reject("trace", out=out, dtype=dtype)
    return np_sum(np_diagonal(a, offset, axis1, axis2), axis=-1)




@implements(np.pad)
def np_pad(array, pad_width, mode="constant", **kwargs):
    if not callable(mode) and mode in ("edge", "reflect", "symmetric", "wrap"):
        return _gather(array, np.pad(_entry_numbers(array), pad_width, mode=mode, **kwargs))
    if mode != "constant":
        raise UnsupportedOperationError(
            f"np.pad(mode={mode!r}) is not supported by adnb; modes 'constant', 'edge', "
            "'reflect', 'symmetric' and 'wrap' are.")
    cv = kwargs.pop("constant_values", 0)
    if kwargs:
        raise UnsupportedOperationError(f"np.pad: arguments {sorted(kwargs)} not supported")
    idx = np.pad(_entry_numbers(array), pad_width, mode="constant", constant_values=-1)
    inside = idx >= 0
    gathered = _gather(array, np.where(inside, idx, 0))
    if isinstance(cv, Tracer) or np.ndim(cv) == 0:
        return where_(inside, gathered, cv)
    fill = np.pad(np.zeros(shape_of(array)), pad_width, mode="constant", constant_values=cv)
    return where_(inside, gathered, fill)


@implements(np.partition)
def np_partition(a, kth, axis=-1, kind="introselect", order=None):
    if axis is None:
        a, axis = np_reshape(a, (-1,)), 0
    perm = np.argpartition(unwrap(a), kth, axis=axis)      # ties: numpy's order (documented)
    return np_take_along_axis(a, perm, axis)


@implements(np.tril)
def np_tril(m, k=0):
    s = shape_of(m)
    return where_(np.tril(np.ones(s[-2:], dtype=bool), k), m, 0.0)


@implements(np.triu)
def np_triu(m, k=0):
    s = shape_of(m)
    return where_(np.triu(np.ones(s[-2:], dtype=bool), k), m, 0.0)


def _to_arrays(arrays):
    return [a if isinstance(a, Tracer) else np.asarray(a, dtype=float) for a in arrays]


@implements(np.atleast_2d)
def np_atleast_2d(*arys):
    res = []
    for a in arys:
        n = len(shape_of(a))
        res.append(np_reshape(a, (1,) * (2 - n) + tuple(shape_of(a))) if n < 2 else a)
    return res[0] if len(res) == 1 else res


@implements(np.atleast_3d)
def np_atleast_3d(*arys):
    res = []
    for a in arys:
        s = tuple(shape_of(a))
        if len(s) == 0:
            a = np_reshape(a, (1, 1, 1))
        elif len(s) == 1:
            a = np_reshape(a, (1,) + s + (1,))
        elif len(s) == 2:
            a = np_reshape(a, s + (1,))
        res.append(a)
    return res[0] if len(res) == 1 else res


@implements(np.column_stack)
def np_column_stack(tup):
    arrs = [np_reshape(a, (-1, 1)) if len(shape_of(a)) < 2 else a for a in _to_arrays(tup)]
    return np_concatenate(arrs, axis=1)


@implements(np.dstack)
def np_dstack(tup):
    arrs = np_atleast_3d(*_to_arrays(tup))
    return np_concatenate(arrs if isinstance(arrs, list) else [arrs], axis=2)


@implements(np.append)
def np_append(arr, values, axis=None):
    if axis is None:
        return np_concatenate([np_reshape(arr, (-1,)), np_reshape(values, (-1,))], axis=0)
    return np_concatenate([arr, values], axis=axis)


@implements(np.compress)
def np_compress(condition, a, axis=None, out=None):
    _reject("compress", out=out)
    return _gather(a, np.compress(np.asarray(unwrap(condition)), _entry_numbers(a), axis=axis))


@implements(np.extract)
def np_extract(condition, arr):
    return _gather(arr, np.extract(np.asarray(unwrap(condition)), _entry_numbers(arr)))


@implements(np.insert)
def np_insert(arr, obj, values, axis=None):
    """numpy inserts entry numbers (values' own, broadcast exactly as numpy broadcasts values);
    the result gathers from arr and from values accordingly."""
    obj = unwrap(obj)
    if axis is None:
        arr, axis = np_reshape(arr, (-1,)), 0
    from_arr = np.insert(_entry_numbers(arr), obj, -1, axis=axis)
    from_values = np.insert(np.full(shape_of(arr), -1), obj, _entry_numbers(values), axis=axis)
    return where_(from_arr >= 0, _gather(arr, np.maximum(from_arr, 0)),
                    _gather(values, np.maximum(from_values, 0)))


@implements(np.broadcast_arrays)
def np_broadcast_arrays(*args, subok=False):
    shape = np.broadcast_shapes(*[shape_of(a) for a in args])
    return tuple(np_broadcast_to(a, shape) for a in args)


@implements(np.meshgrid)
def np_meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    nd = len(xi)
    out = []
    for i, x in enumerate(xi):
        s = [1] * nd
        s[i] = -1
        out.append(np_reshape(x, tuple(s)))
    if indexing == "xy" and nd > 1:
        out = [np_swapaxes(o, 0, 1) for o in out]
    if not sparse:
        out = list(np_broadcast_arrays(*out))
    return tuple(out)


@implements(np.diff)
def np_diff(a, n=1, axis=-1, prepend=np._NoValue, append=np._NoValue):
    parts = []
    if prepend is not np._NoValue:
        parts.append(_along(prepend, a, axis))
    parts.append(a)
    if append is not np._NoValue:
        parts.append(_along(append, a, axis))
    if len(parts) > 1:
        a = np_concatenate(parts, axis=axis)
    nd = len(shape_of(a))
    axis = int(axis) % nd
    for _ in range(n):
        hi = [slice(None)] * nd
        lo = [slice(None)] * nd
        hi[axis], lo[axis] = slice(1, None), slice(None, -1)
        a = getitem(a, tuple(hi)) - getitem(a, tuple(lo))
    return a


def _along(v, a, axis):
    """prepend/append values of np.diff: a scalar is broadcast to one slice along axis."""
    if shape_of(v):
        return v
    s = list(shape_of(a))
    s[int(axis) % len(s)] = 1
    return np_broadcast_to(v, tuple(s))


@implements(np.ediff1d)
def np_ediff1d(ary, to_end=None, to_begin=None):
    d = np_diff(np_reshape(ary, (-1,)))
    parts = [np_reshape(x, (-1,)) for x in (to_begin, d, to_end) if x is not None]
    return np_concatenate(parts) if len(parts) > 1 else d


@implements(np.gradient)
def np_gradient(f, *varargs, axis=None, edge_order=1):
    nd = len(shape_of(f))
    axes = list(range(nd)) if axis is None else \
        [int(axis) % nd] if isinstance(axis, (int, np.integer)) else [int(a) % nd for a in axis]
    if edge_order != 1:
        raise UnsupportedOperationError("np.gradient(edge_order=2) is not supported by adnb")
    spacing = list(varargs) if varargs else [1.0] * len(axes)
    if len(spacing) == 1 and len(axes) > 1:
        spacing = spacing * len(axes)
    out = []
    for ax, h in zip(axes, spacing):
        if np.ndim(unwrap(h)) != 0:
            raise UnsupportedOperationError("np.gradient with coordinate arrays is not "
                                              "supported by adnb; pass a scalar spacing")

        def sl(s, ax=ax):
            idx = [slice(None)] * nd
            idx[ax] = s
            return tuple(idx)
        inner = (getitem(f, sl(slice(2, None))) - getitem(f, sl(slice(None, -2)))) / (2.0 * h)
        first = (getitem(f, sl(slice(1, 2))) - getitem(f, sl(slice(0, 1)))) / h
        last = (getitem(f, sl(slice(-1, None))) - getitem(f, sl(slice(-2, -1)))) / h
        out.append(np_concatenate([first, inner, last], axis=ax))
    return out[0] if len(out) == 1 else tuple(out)


@implements(np.cumprod)
def np_cumprod(a, axis=None, dtype=None, out=None):
    """A running product, one multiplication per step: exact derivatives also with zeros."""
    _reject("cumprod", out=out, dtype=dtype)
    if axis is None:
        a, axis = np_reshape(a, (-1,)), 0
    nd = len(shape_of(a))
    axis = int(axis) % nd
    n = shape_of(a)[axis]
    steps = []
    acc = None
    for i in range(n):
        idx = [slice(None)] * nd
        idx[axis] = i
        xi = getitem(a, tuple(idx))
        acc = xi if acc is None else acc * xi
        steps.append(acc)
    return stack(steps, axis=axis) if steps else a


@implements(np.linspace)
def np_linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *,
                device=None):
    num = int(num)
    div = (num - 1) if endpoint else num
    frac = np.arange(num, dtype=float) / div if div > 0 else np.zeros(num)
    shape = np.broadcast_shapes(shape_of(start), shape_of(stop))
    frac = frac.reshape((num,) + (1,) * len(shape))
    y = start + (stop - start) * frac
    if endpoint and num > 1:
        mask = np.zeros((num,) + (1,) * len(shape), dtype=bool)
        mask[-1] = True
        y = where_(mask, stop + 0.0 * y, y)          # the last point is stop exactly, as numpy
    if axis != 0:
        y = np_moveaxis(y, 0, axis)
    step = (stop - start) / div if div > 0 else np.nan
    return (y, step) if retstep else y


@implements(np.logspace)
def np_logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    return base ** np_linspace(start, stop, num, endpoint, axis=axis)


@implements(np.kron)
def np_kron(a, b):
    sa, sb = tuple(shape_of(a)), tuple(shape_of(b))
    nd = max(len(sa), len(sb))
    sa, sb = (1,) * (nd - len(sa)) + sa, (1,) * (nd - len(sb)) + sb
    a2 = np_reshape(a, tuple(x for n in sa for x in (n, 1)))
    b2 = np_reshape(b, tuple(x for n in sb for x in (1, n)))
    return np_reshape(a2 * b2, tuple(x * y for x, y in zip(sa, sb)))


@implements(np.cross)
def np_cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    if axis is not None:
        axisa = axisb = axisc = axis
    a = np_moveaxis(a, axisa, -1) if shape_of(a) else a
    b = np_moveaxis(b, axisb, -1) if shape_of(b) else b
    na, nb = shape_of(a)[-1], shape_of(b)[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError("incompatible dimensions for cross product\n(dimension must be 2 or 3)")

    def c(x, i, n):
        return getitem(x, (Ellipsis, i)) if i < n else 0.0
    a0, a1, a2 = c(a, 0, na), c(a, 1, na), c(a, 2, na)
    b0, b1, b2 = c(b, 0, nb), c(b, 1, nb), c(b, 2, nb)
    if na == 2 and nb == 2:
        return a0 * b1 - a1 * b0
    out = stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)
    return np_moveaxis(out, -1, axisc) if len(shape_of(out)) > 1 else out


@implements(np.select)
def np_select(condlist, choicelist, default=0):
    out = default
    for cond, choice in reversed(list(zip(condlist, choicelist))):
        out = where_(np.asarray(unwrap(cond), dtype=bool), choice, out)
    return out


@implements(np.choose)
def np_choose(a, choices, out=None, mode="raise"):
    _reject("choose", out=out)
    idx = np.asarray(unwrap(a))
    res = choices[-1]
    for k in range(len(choices) - 2, -1, -1):
        res = where_(idx == k, choices[k], res)
    return res


@implements(np.moveaxis)
def np_moveaxis(a, source, destination):
    nd = len(shape_of(a))
    src = [int(s) % nd for s in np.atleast_1d(source)]
    dst = [int(d) % nd for d in np.atleast_1d(destination)]
    order = [n for n in range(nd) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(a, tuple(order))


VIEW_FUNCTIONS.add(np.moveaxis)


@implements(np.squeeze)
def np_squeeze_view(a, axis=None):
    return np_squeeze(a, axis)


# numpy functions whose result is a view (the gathers above add theirs): an in-place operator
# on the result or on its source is refused (tracer.py), as adnb does not share memory
VIEW_FUNCTIONS.update({np.squeeze, np.expand_dims, np.swapaxes, np.transpose, np.reshape,
                       np.ravel, np.broadcast_to, np.broadcast_arrays, np.atleast_1d,
                       np.atleast_2d, np.atleast_3d, np.diagonal, np.matrix_transpose, np.real,
                       np.linalg.matrix_transpose, np.linalg.diagonal, np.meshgrid})
