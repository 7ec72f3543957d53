"""Tracer: the stand-in value a user's numpy code runs on while adnb watches.

A tracer holds a *primal* value and belongs to one transformation (``trace``): a recording
``Trace`` (reverse mode, and the evaluation trace shown in displays) or a ``DualTrace`` (online
forward mode). Every operator, ufunc (``__array_ufunc__``), numpy function (``__array_function__``)
and ndarray method on a tracer is routed to a registered primitive; anything else raises an adnb
error that names what is supported, instead of silently cutting the derivative.

Comparisons and ``bool()`` use the primal value, so Python control flow runs as usual and the trace
records the path taken (concrete tracing, as in HIPS autograd).
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from ..errors import CutDerivativeError, InPlaceError, UnsupportedOperationError


# The registry's tables, filled as the primitive blocks are defined (registry.py); kept here so
# that a tracer's operators and numpy hooks find the primitives without importing them.
#: every primitive by name, in definition order
PRIMITIVES: dict = {}
#: numpy ufunc -> Primitive, and numpy array function -> python implementation (numpy signature).
UFUNCS: dict = {}
ARRAY_FUNCTIONS: dict = {}
#: numpy names that dispatch to adnb (for the "supported" list in error messages)
SUPPORTED_NUMPY: list = []
_P, _F = PRIMITIVES, ARRAY_FUNCTIONS

# numpy ufuncs without a derivative to carry: piecewise constant ones and comparisons, evaluated
# on primal values (comparisons also record the branch taken, in explore mode)
PIECEWISE_CONSTANT = {np.sign, np.floor, np.ceil, np.rint, np.trunc, np.isnan, np.isinf,
                      np.isfinite, np.signbit, np.logical_not, np.logical_and, np.logical_or,
                      np.logical_xor, np.floor_divide}
COMPARISONS = {np.less: "<", np.less_equal: "≤", np.greater: ">", np.greater_equal: "≥",
               np.equal: "==", np.not_equal: "≠"}


def supported_list():
    """Sorted names of the numpy callables adnb differentiates."""
    return sorted(set(SUPPORTED_NUMPY))


LEVELS = itertools.count(1)
_PLAIN = {float, int, np.float64, np.ndarray}
_NO_PARAMS: dict = {}   # shared, never mutated
_INPLACE_METHODS = {"sort", "fill", "put", "resize", "itemset", "setfield", "partition",
                    "setflags", "byteswap"}   # transformation levels: nested transformations get higher numbers


class ShapeStub:
    """What the lean reverse sweep keeps of an argument whose value its rule does not need."""
    __slots__ = ("shape", "ndim", "size", "dtype")

    def __init__(self, shape, dtype=np.float64):
        self.shape = shape
        self.ndim = len(shape)
        self.size = math.prod(shape)
        self.dtype = dtype

    def __repr__(self):
        return f"ShapeStub{self.shape}"


SCALAR_STUB = ShapeStub(())
_STUBS = {(): SCALAR_STUB}


def stub_of(value):
    """The ``ShapeStub`` for a value's shape (one shared stub per shape: they are immutable)."""
    t = type(value)
    if t is float:
        return SCALAR_STUB
    shape = value.shape if t is np.ndarray else shape_of(value)
    stub = _STUBS.get(shape)
    if stub is None:
        if len(_STUBS) > 4096:      # a program with endlessly many shapes: do not hoard them
            _STUBS.clear()
            _STUBS[()] = SCALAR_STUB
        stub = _STUBS[shape] = ShapeStub(shape)
    return stub


def shape_of(x):
    """Shape of a number, array or tracer, without touching numpy's dispatch."""
    s = getattr(x, "shape", None)
    return () if s is None else s


class Tracer:
    """A traced value. Subclasses add what their transformation tracks (node, tangent)."""
    __slots__ = ("primal", "trace")
    __array_priority__ = 1000
    __hash__ = object.__hash__

    # ---- attributes that read the primal -------------------------------------------------
    @property
    def shape(self):
        return shape_of(self.primal)

    @property
    def ndim(self):
        return len(shape_of(self.primal))

    @property
    def size(self):
        return int(np.prod(shape_of(self.primal)))

    @property
    def dtype(self):
        return getattr(self.primal, "dtype", np.dtype(np.float64))

    def __len__(self):
        s = shape_of(self.primal)
        if not s:
            raise TypeError("len() of a scalar traced value")
        return s[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    # ---- arithmetic: every operator is a primitive call ------------------------------------
    # (``fast.py`` installs float fast paths over these on the tracers of recording and forward
    # mode; these are the reference.)
    def __add__(self, other): return _P["add"](self, other)
    def __radd__(self, other): return _P["add"](other, self)
    def __sub__(self, other): return _P["sub"](self, other)
    def __rsub__(self, other): return _P["sub"](other, self)
    def __mul__(self, other): return _P["mul"](self, other)
    def __rmul__(self, other): return _P["mul"](other, self)
    def __mod__(self, other): return _P["remainder"](self, other)
    def __rmod__(self, other): return _P["remainder"](other, self)
    def __floordiv__(self, other): return np.floor_divide(unwrap(self), unwrap(other))  # steps: ∂ = 0
    def __rfloordiv__(self, other): return np.floor_divide(unwrap(other), unwrap(self))
    def __divmod__(self, other): return self // other, self % other
    def __truediv__(self, other): return _P["div"](self, other)
    def __rtruediv__(self, other): return _P["div"](other, self)
    def __pow__(self, other): return _P["pow"](self, other)
    def __rpow__(self, other): return _P["pow"](other, self)
    def __matmul__(self, other): return _P["matmul"](self, other)
    def __rmatmul__(self, other): return _P["matmul"](other, self)
    def __neg__(self): return _P["neg"](self)
    def __pos__(self): return self
    def __abs__(self): return _P["abs"](self)

    # ---- comparisons use the primal: control flow follows the concrete path --------------
    def __lt__(self, other): return self.trace.compare(np.less, self, other)
    def __le__(self, other): return self.trace.compare(np.less_equal, self, other)
    def __gt__(self, other): return self.trace.compare(np.greater, self, other)
    def __ge__(self, other): return self.trace.compare(np.greater_equal, self, other)
    def __eq__(self, other): return self.trace.compare(np.equal, self, other)
    def __ne__(self, other): return self.trace.compare(np.not_equal, self, other)

    def __bool__(self):
        return self.trace.branch(bool(self.primal), self)

    # ---- conversions that would cut the derivative -----------------------------------------
    def __float__(self):
        raise CutDerivativeError(
            "float() was called on a traced value, which would drop its derivative. This happens "
            "with math.sin/math.exp/... (use np.sin, np.exp: they are differentiated) or with "
            "float(x) in your code (leave x as it is; adnb.value(x) gives the plain number if you "
            "only need it for printing).")

    __complex__ = __float__

    def __int__(self):
        return int(unwrap(self))   # piecewise constant: its derivative is zero anyway

    def __index__(self):
        raise TypeError("a traced value cannot be used as an index; index with an int "
                        "(int(x) if it holds a whole number)")

    def __array__(self, dtype=None, copy=None):
        raise CutDerivativeError(
            "a traced value was turned into a plain numpy array (np.array/np.asarray, or writing "
            "it into a numpy buffer such as out[i] = x), which would drop its derivative. Build "
            "arrays with np.stack([...]) or np.concatenate([...]) instead, and avoid writing "
            "traced values into preallocated arrays.")

    def item(self):
        raise CutDerivativeError("x.item() would drop the derivative; use x[()] or x.reshape(()) "
                                 "to keep a scalar traced value, or adnb.value(x) to print it.")

    def tolist(self):
        raise CutDerivativeError("x.tolist() would drop the derivative; use list(x) to iterate.")

    # ---- indexing -------------------------------------------------------------------------
    def __getitem__(self, idx): return _P["getitem"](self, idx)

    def __setitem__(self, idx, value):
        raise InPlaceError(
            "in-place writes into a traced array (x[i] = ...) are not supported: the old value "
            "would be lost for the reverse sweep. Build a new array instead, e.g. "
            "np.where(mask, new, x), np.concatenate([...]) or np.stack([...]).")

    def __iadd__(self, other): return _P["add"](self, other)
    def __isub__(self, other): return _P["sub"](self, other)
    def __imul__(self, other): return _P["mul"](self, other)
    def __itruediv__(self, other): return _P["div"](self, other)

    # ---- ndarray methods ------------------------------------------------------------------
    @property
    def T(self): return _F[np.transpose](self)

    @property
    def mT(self): return _F[np.matrix_transpose](self)

    def transpose(self, *axes):
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = axes[0]
        return _F[np.transpose](self, tuple(axes) if axes else None)

    def reshape(self, *shape, order="C"):
        if order != "C":
            raise UnsupportedOperationError("reshape(order=...) other than 'C' is not supported")
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = shape[0]
        return _F[np.reshape](self, tuple(shape))

    def sum(self, axis=None, dtype=None, out=None, keepdims=False, **kw):
        return _F[np.sum](self, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kw)

    def mean(self, axis=None, dtype=None, out=None, keepdims=False, **kw):
        return _F[np.mean](self, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kw)

    def var(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw):
        return _F[np.var](self, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, **kw)

    def std(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw):
        return _F[np.std](self, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, **kw)

    def max(self, axis=None, out=None, keepdims=False, **kw):
        return _F[np.max](self, axis=axis, out=out, keepdims=keepdims, **kw)

    def min(self, axis=None, out=None, keepdims=False, **kw):
        return _F[np.min](self, axis=axis, out=out, keepdims=keepdims, **kw)

    def prod(self, axis=None, dtype=None, out=None, keepdims=False, **kw):
        return _F[np.prod](self, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kw)

    def cumsum(self, axis=None, dtype=None, out=None):
        return _F[np.cumsum](self, axis=axis, dtype=dtype, out=out)

    def dot(self, other): return _F[np.dot](self, other)
    def clip(self, min=None, max=None, out=None): return _F[np.clip](self, min, max, out=out)
    def squeeze(self, axis=None): return _F[np.squeeze](self, axis)
    def ravel(self, order="C"): return _F[np.reshape](self, (-1,))
    flatten = ravel
    def copy(self): return self

    def astype(self, dtype, **kw):
        if np.issubdtype(np.dtype(dtype), np.floating):
            return self
        raise CutDerivativeError(f"astype({dtype}) would drop the derivative of a traced value")

    def diagonal(self): return _F[np.diag](self)

    # ---- numpy dispatch -------------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method == "__call__" and not kwargs:       # the common case, first
            prim = UFUNCS.get(ufunc)
            if prim is not None:
                if len(inputs) == 1:                  # np.sin(x): x's transformation handles it
                    return self.trace.process(prim, inputs, _NO_PARAMS)
                if len(inputs) == 2:                  # A @ x: a constant and this tracer, or
                    x, y = inputs                     # two tracers of the same transformation
                    other = y if x is self else x
                    if not isinstance(other, Tracer) or other.trace is self.trace:
                        return self.trace.process(prim, inputs, _NO_PARAMS)
                return prim(*inputs)
        if method != "__call__":
            raise UnsupportedOperationError(
                f"np.{ufunc.__name__}.{method} is not supported on traced values; adnb "
                f"differentiates plain calls such as np.{ufunc.__name__}(x, y). "
                f"Supported: adnb.supported_numpy().")
        if kwargs.get("out") is not None:
            raise InPlaceError(f"np.{ufunc.__name__}(..., out=...) writes in place, which is not "
                               "supported on traced values; assign the result instead.")
        prim = UFUNCS.get(ufunc)
        if prim is None:
            cmp = COMPARISONS.get(ufunc)
            if cmp is not None:
                return self.trace.compare(ufunc, *inputs)
            if ufunc in PIECEWISE_CONSTANT:
                return ufunc(*[unwrap(x) for x in inputs], **kwargs)
            raise UnsupportedOperationError(
                f"np.{ufunc.__name__} has no derivative rules in adnb. Supported numpy functions: "
                f"{', '.join(supported_list())}.")
        if kwargs:
            kwargs.pop("out", None)
            bad = {k: v for k, v in kwargs.items() if not (k == "dtype" and v in (None, float, np.float64))}
            if bad:
                raise UnsupportedOperationError(
                    f"np.{ufunc.__name__}: keyword arguments {sorted(bad)} are not supported on "
                    "traced values.")
        return prim(*inputs)

    def __array_function__(self, func, types, args, kwargs):
        impl = ARRAY_FUNCTIONS.get(func)
        if impl is None:
            mod = getattr(func, "__module__", "") or ""
            name = ("np.linalg." if "linalg" in mod else "np.") + func.__name__
            raise UnsupportedOperationError(
                f"{name} is not supported by adnb (no derivative rules). Supported numpy "
                f"functions: {', '.join(supported_list())}.")
        return impl(*args, **kwargs)

    def __repr__(self):
        return f"{type(self).__name__}({self.primal!r})"


def _refusal(name):
    """A property for an ndarray attribute adnb cannot follow: reading it raises adnb's error.
    (Class attributes rather than ``__getattr__``: a class with ``__getattr__`` loses CPython's
    fast attribute access on every tracer, which the hot path reads several times per operation.)"""
    if name in _INPLACE_METHODS:
        message = (f"x.{name}() changes the array in place, which is not supported on traced "
                   "values (the old values are needed for the reverse sweep). Use the function "
                   f"form that returns a new array instead (e.g. np.{name}(x) where numpy has "
                   "one).")
        error = InPlaceError
    else:
        message = None
        error = UnsupportedOperationError

    def refuse(self):
        raise error(message or f"the ndarray method .{name}() has no derivative rules in adnb. "
                    f"Supported numpy functions: {', '.join(supported_list())}.")
    return property(refuse)


for _name in dir(np.ndarray):
    if not _name.startswith("_") and not hasattr(Tracer, _name):
        setattr(Tracer, _name, _refusal(_name))
del _name


def unwrap(x):
    """The plain value under any number of tracers."""
    while isinstance(x, Tracer):
        x = x.primal
    return x


