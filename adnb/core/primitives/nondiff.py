"""numpy functions without a derivative to carry: those that read only shapes or primal values,
piecewise-constant ufuncs and comparisons (evaluated on primal values)."""
from __future__ import annotations

import numpy as np

from ..registry import ARRAY_FUNCTIONS, implements
from ...errors import CutDerivativeError
from ..tracer import Tracer, clone, shape_of, unwrap
from .reductions import broadcast_to


# ---- numpy functions that only read shapes or primal values ----------------------------------

@implements(np.shape)
def np_shape(a):
    return shape_of(a)


@implements(np.ndim)
def np_ndim(a):
    return len(shape_of(a))


@implements(np.size)
def np_size(a, axis=None):
    return int(np.prod(shape_of(a))) if axis is None else shape_of(a)[axis]


@implements(np.zeros_like)
def np_zeros_like(a, dtype=None, **kw):
    return np.zeros(shape_of(a), dtype=dtype or float)


@implements(np.ones_like)
def np_ones_like(a, dtype=None, **kw):
    return np.ones(shape_of(a), dtype=dtype or float)


@implements(np.full_like)
def np_full_like(a, fill_value, dtype=None, **kw):
    if isinstance(fill_value, Tracer):
        return broadcast_to(fill_value, shape_of(a))
    return np.full(shape_of(a), fill_value, dtype=dtype or float)


@implements(np.copy)
def np_copy(a, order="K", subok=False):
    return clone(a) if isinstance(a, Tracer) else a      # a new object: in-place ops stay apart


@implements(np.asanyarray)
def np_asanyarray(a, dtype=None, order=None, **kw):
    if dtype is not None and np.dtype(dtype).kind not in "f":
        raise CutDerivativeError(f"np.asanyarray(..., dtype={dtype}) would drop the derivative")
    return a


def _primal_only(f):
    def g(*args, **kw):
        return f(*[unwrap(a) for a in args], **{k: unwrap(v) for k, v in kw.items()})
    g.__name__ = f.__name__
    return g


# results that are integers or booleans: computed on primal values (no derivative to carry)
for _f in (np.argmax, np.argmin, np.argsort, np.isclose, np.allclose, np.array_equal, np.any,
           np.all, np.count_nonzero, np.nonzero, np.isfinite, np.isnan, np.round, np.around,
           np.sign, np.floor, np.ceil, np.searchsorted, np.result_type):
    if hasattr(_f, "__name__"):
        ARRAY_FUNCTIONS[_f] = _primal_only(_f)

# Non-differentiable ufuncs (piecewise constant) and comparisons are evaluated on primal values
# by the tracer's numpy hook: their tables (PIECEWISE_CONSTANT, COMPARISONS) live in tracer.py.
