"""ufunc methods on traced values: ``np.add.reduce``, ``np.maximum.accumulate``,
``np.multiply.outer``, ``np.logaddexp.reduce``, ... for every ufunc adnb differentiates.

reduce/accumulate of add, multiply, maximum and minimum use the reductions (sum, prod, max, min,
cumsum); any other binary ufunc is folded along the axis one application at a time (numpy's own
order), so its derivative follows from the ufunc's rules. ``outer`` is the ufunc on broadcast
operands. ``at`` (in place) and ``reduceat`` are refused.
"""
from __future__ import annotations

import numpy as np

from ...errors import CutDerivativeError, InPlaceError, UnsupportedOperationError
from ..registry import UFUNC_METHODS
from ..tracer import shape_of
from .reductions import np_cumsum, np_max, np_min, np_prod, np_sum
from .shape import getitem, np_expand_dims, np_reshape, stack

_REDUCTIONS = {np.add: np_sum, np.multiply: np_prod, np.maximum: np_max,
               np.minimum: np_min, np.fmax: np_max, np.fmin: np_min}


def _check(ufunc, method, kwargs):
    if kwargs.pop("out", None) is not None:
        raise InPlaceError(f"np.{ufunc.__name__}.{method}(..., out=...) writes in place; assign "
                           "the result instead")
    dtype = kwargs.pop("dtype", None)
    if dtype is not None and not np.issubdtype(np.dtype(dtype), np.floating):
        raise CutDerivativeError(f"np.{ufunc.__name__}.{method}(dtype={dtype}) would drop the "
                                   "derivative")
    if ufunc.nin != 2:
        raise ValueError(f"{method} only supported for binary functions")


def _slice(a, axis, i):
    idx = [slice(None)] * len(shape_of(a))
    idx[axis] = i
    return getitem(a, tuple(idx))


def _reduce(ufunc, a, axis=0, dtype=None, out=None, keepdims=False, initial=np._NoValue,
            where=True):
    kw = {"out": out, "dtype": dtype}
    _check(ufunc, "reduce", kw)
    if where is not True or initial is not np._NoValue:
        raise UnsupportedOperationError(f"np.{ufunc.__name__}.reduce(initial=/where=) is not "
                                        "supported by adnb")
    reduction = _REDUCTIONS.get(ufunc)
    if reduction is not None:
        return reduction(a, axis=axis, keepdims=keepdims)
    if axis is None:
        a, axis = np_reshape(a, (-1,)), 0
    if isinstance(axis, tuple):
        if len(axis) != 1:
            raise UnsupportedOperationError(f"np.{ufunc.__name__}.reduce over several axes is "
                                            "not supported by adnb (it is not associative in "
                                            "general); reduce one axis at a time")
        axis = axis[0]
    nd = len(shape_of(a))
    axis = int(axis) % nd
    n = shape_of(a)[axis]
    if n == 0:
        raise ValueError(f"zero-size array to reduction operation {ufunc.__name__} which has no "
                         "identity")
    acc = _slice(a, axis, 0)
    for i in range(1, n):
        acc = ufunc(acc, _slice(a, axis, i))
    return np_expand_dims(acc, axis) if keepdims else acc


def _accumulate(ufunc, a, axis=0, dtype=None, out=None):
    kw = {"out": out, "dtype": dtype}
    _check(ufunc, "accumulate", kw)
    if ufunc is np.add:
        return np_cumsum(a, axis=axis)
    nd = len(shape_of(a))
    axis = int(axis) % nd
    steps = [_slice(a, axis, 0)]
    for i in range(1, shape_of(a)[axis]):
        steps.append(ufunc(steps[-1], _slice(a, axis, i)))
    return stack(steps, axis=axis)


def _outer(ufunc, a, b, **kwargs):
    _check(ufunc, "outer", kwargs)
    if kwargs:
        raise UnsupportedOperationError(f"np.{ufunc.__name__}.outer: arguments {sorted(kwargs)} "
                                        "are not supported")
    sa, sb = tuple(shape_of(a)), tuple(shape_of(b))
    a2 = np_reshape(a, sa + (1,) * len(sb)) if sb else a
    return ufunc(a2, b)


UFUNC_METHODS[(None, "reduce")] = _reduce
UFUNC_METHODS[(None, "accumulate")] = _accumulate
UFUNC_METHODS[(None, "outer")] = _outer
