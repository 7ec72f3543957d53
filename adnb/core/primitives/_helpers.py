"""Small helpers shared by the primitive groups (no primitives here)."""
from __future__ import annotations

import numpy as np

from ...errors import CutDerivativeError, InPlaceError, UnsupportedOperationError
from ..tracer import shape_of


def _scalar(mf, nf):
    """A math-module fast path for Python floats, falling back to numpy (inf/nan, warnings)
    where math would raise (math.log(0), math.exp(1000))."""
    def f(x):
        try:
            return mf(x)
        except (ValueError, OverflowError):
            return nf(np.float64(x))
    return f


def _size(x):
    return int(np.prod(shape_of(x))) if shape_of(x) else 1


def _axes(axis, ndim):
    """Normalise an axis argument to a sorted tuple of non-negative axes (None: all)."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (int(axis),)
    out = []
    for a in axis:
        a = int(a)
        if not -ndim <= a < max(ndim, 1):
            raise np.exceptions.AxisError(a, ndim)
        out.append(a % max(ndim, 1))
    return tuple(sorted(out))


def _reject(name, out=None, where=None, initial=None, dtype=None, **other):
    if out is not None:
        raise InPlaceError(f"np.{name}(..., out=...) writes in place; assign the result instead")
    if where is not None and where is not True:
        raise UnsupportedOperationError(f"np.{name}(..., where=...) is not supported by adnb")
    if initial is not None:
        raise UnsupportedOperationError(f"np.{name}(..., initial=...) is not supported by adnb")
    if dtype is not None and not np.issubdtype(np.dtype(dtype), np.floating):
        raise CutDerivativeError(f"np.{name}(..., dtype={dtype}) would drop the derivative")
    if other:
        raise UnsupportedOperationError(f"np.{name}: arguments {sorted(other)} are not supported")
