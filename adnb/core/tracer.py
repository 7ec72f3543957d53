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
import sys

import numpy as np

from ..errors import (CutDerivativeError, InPlaceError, LeakedTracerError,
                      NotDifferentiableTypeError, UnsupportedOperationError)
from .frames import called_from_numpy


# The registry's tables, filled as the primitive blocks are defined (registry.py); kept here so
# that a tracer's operators and numpy hooks find the primitives without importing them.
#: every primitive by name, in definition order
PRIMITIVES: dict = {}
#: numpy ufunc -> Primitive, and numpy array function -> python implementation (numpy signature).
UFUNCS: dict = {}
ARRAY_FUNCTIONS: dict = {}
#: numpy names that dispatch to adnb (for the "supported" list in error messages)
SUPPORTED_NUMPY: list = []
#: numpy ufunc -> python implementation, for ufuncs composed of primitives (np.vecdot, np.hypot
#: ...), and (ufunc, method) -> implementation for ufunc methods (np.add.reduce, ...)
UFUNC_FUNCTIONS: dict = {}
UFUNC_METHODS: dict = {}
#: numpy functions whose result is a view in numpy (in-place changes would show in both)
VIEW_FUNCTIONS: set = set()
_P, _F = PRIMITIVES, ARRAY_FUNCTIONS

# np.mean / np.var / np.std (and the nan* forms) of a *list* of traced values never reach
# __array_function__ (numpy dispatches on the list, not its items): numpy sums the list as an
# object array and then casts the traced sum with ``ret.dtype.type(ret / n)``. Read from those
# functions, a tracer's dtype is ``object``, so the cast is ``np.object_(ret / n)``: the traced
# value itself, derivative intact.
try:
    from numpy._core import _methods as _np_methods
except ImportError:                                     # numpy 1.x
    from numpy.core import _methods as _np_methods
try:
    from numpy.lib import _nanfunctions_impl as _np_nanfunctions
except ImportError:                                     # numpy 1.x
    from numpy.lib import nanfunctions as _np_nanfunctions
_CASTS_BY_DTYPE = frozenset(
    getattr(getattr(module, n), "__wrapped__", getattr(module, n)).__code__
    for module, n in ((_np_methods, "_mean"), (_np_methods, "_var"), (_np_methods, "_std"),
                      (_np_nanfunctions, "_divide_by_count"), (_np_nanfunctions, "nanstd"))
    if hasattr(module, n))
_OBJECT = np.dtype(object)

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


def supported_hint(name=""):
    """The end of an "unsupported" message: how many functions adnb does follow, where they
    are listed, and the supported names closest to ``name`` (np.arcsinh for np.asinh)."""
    import difflib
    names = supported_list()
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.8) if name else []
    near = f" Close: {', '.join(close)}." if close else ""
    return (f"adnb differentiates {len(names)} numpy and scipy.special functions "
            f"(adnb.supported_numpy() lists them, e.g. np.sin, np.sum, np.linalg.solve).{near}")


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
    __slots__ = ("primal", "trace", "_viewed")    # _viewed: set once numpy would have a view of it
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
        if sys._getframe(1).f_code in _CASTS_BY_DTYPE:
            return _OBJECT
        return getattr(self.primal, "dtype", np.dtype(np.float64))

    def __len__(self):
        s = shape_of(self.primal)
        if not s:
            raise TypeError("len() of a scalar traced value")
        return s[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    # ---- arithmetic: every operator is a primitive call ------------------------------------
    # (+ − × ÷ % ** @ are set below the class; ``fast.py`` installs float fast paths over them
    # on the tracers of recording and forward mode; these are the reference.)
    def __floordiv__(self, other): return np.floor_divide(unwrap(self), unwrap(other))  # steps: ∂ = 0
    def __rfloordiv__(self, other): return np.floor_divide(unwrap(other), unwrap(self))
    def __divmod__(self, other): return self // other, self % other
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
            "with math.sin/math.exp/... (use np.sin, np.exp: they are differentiated), when a "
            "traced value is written into a numpy buffer (out[i] = x: build the array with "
            "np.stack or np.array([...]) instead) or with float(x) in your code (leave x as it "
            "is; adnb.value(x) gives the plain number if you only need it for printing).")

    __complex__ = __float__

    def __int__(self):
        return int(unwrap(self))   # piecewise constant: its derivative is zero anyway

    def __index__(self):
        raise TypeError("a traced value cannot be used as an index; index with an int "
                        "(int(x) if it holds a whole number)")

    def __array__(self, dtype=None, copy=None):
        # numpy met a traced value where it wanted an array (np.array([a, b]), np.mean([a, b]),
        # np.exp([a, 2 * a]), A.dot(x)): an object array of traced scalars. numpy then works on
        # them entry by entry (with Python operators and the methods named after ufuncs), so
        # the derivative is kept; adnb turns such an array back into one traced array wherever
        # it meets one (materialize). Converting to a float dtype would drop the derivative.
        if dtype is not None and np.dtype(dtype).kind in "iub":
            # np.int64(x), x.astype(int): piecewise constant, as int(x): derivative zero anyway
            return np.asarray(unwrap(self)).astype(dtype)
        if dtype is not None and np.dtype(dtype) != np.dtype(object):
            raise CutDerivativeError(
                f"a traced value was converted to a numpy array of {np.dtype(dtype)} (np.asarray("
                "x, dtype=...), or written into a numpy buffer such as out[i] = x), which would "
                "drop its derivative. Build arrays with np.stack([...]) or np.array([...]) "
                "without a dtype, and avoid writing traced values into preallocated arrays.")
        shape = shape_of(self.primal)
        out = np.empty(shape, dtype=object)
        if not shape:
            out[()] = self
        else:
            for idx in np.ndindex(*shape):
                out[idx] = self[idx]
        return out

    def item(self):
        raise CutDerivativeError("x.item() would drop the derivative; use x[()] or x.reshape(()) "
                                 "to keep a scalar traced value, or adnb.value(x) to print it.")

    def tolist(self):
        raise CutDerivativeError("x.tolist() would drop the derivative; use list(x) to iterate.")

    # ---- indexing -------------------------------------------------------------------------
    def __getitem__(self, idx): return _mark_view(self, _P["getitem"](self, idx))

    def __setitem__(self, idx, value):
        raise InPlaceError(
            "in-place writes into a traced array (x[i] = ...) are not supported: the old value "
            "would be lost for the reverse sweep. Build a new array instead, e.g. "
            "np.where(mask, new, x), np.concatenate([...]) or np.stack([...]).")

    # a += b: numpy changes an array in place, so every alias of it (z = y; a list entry) sees
    # the new value; a scalar is rebound. adnb does the same: the tracer object itself takes
    # the new value and node. Where numpy would also change a view (or a view would see the
    # change), adnb refuses rather than give a different number.
    def __iadd__(self, other): return _in_place(self, _P["add"](self, other), "+=")
    def __isub__(self, other): return _in_place(self, _P["sub"](self, other), "-=")
    def __imul__(self, other): return _in_place(self, _P["mul"](self, other), "*=")
    def __itruediv__(self, other): return _in_place(self, _P["div"](self, other), "/=")
    def __ipow__(self, other): return _in_place(self, _P["pow"](self, other), "**=")
    def __imod__(self, other): return _in_place(self, _P["remainder"](self, other), "%=")
    def __imatmul__(self, other): return _in_place(self, _P["matmul"](self, other), "@=")
    def __ifloordiv__(self, other): return _in_place(self, self // other, "//=")

    def __format__(self, spec):
        # f"{x:.3f}" while tracing (students print inside cells): the primal value, formatted
        return format(unwrap(self), spec) if spec else str(self)

    def __round__(self, ndigits=None):
        # round(x, 3): a plain number; rounding is piecewise constant (its derivative is 0)
        return round(unwrap(self), ndigits)

    # ---- ndarray methods ------------------------------------------------------------------
    @property
    def T(self): return _mark_view(self, _F[np.transpose](self))

    @property
    def mT(self): return _mark_view(self, _F[np.matrix_transpose](self))

    def transpose(self, *axes):
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = axes[0]
        return _mark_view(self, _F[np.transpose](self, tuple(axes) if axes else None))

    def reshape(self, *shape, order="C", copy=None):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = shape[0]
        return _mark_view(self, _F[np.reshape](self, tuple(shape), order=order))

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
    def squeeze(self, axis=None): return _mark_view(self, _F[np.squeeze](self, axis))
    def ravel(self, order="C"): return _mark_view(self, _F[np.ravel](self, order))
    def flatten(self, order="C"): return clone(_F[np.ravel](self, order))    # a copy in numpy
    def copy(self, order="C"): return clone(self)

    def astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
        if np.dtype(dtype).kind == "c":
            raise NotDifferentiableTypeError(
                f"x.astype({dtype}): adnb differentiates real values only; complex values are "
                "not supported (keep the real and imaginary parts as two real arrays)")
        if np.issubdtype(np.dtype(dtype), np.floating):
            return clone(self) if copy else self
        if np.dtype(dtype).kind in "iub":       # piecewise constant, as int(x): derivative zero
            return np.asarray(unwrap(self)).astype(dtype)
        raise CutDerivativeError(f"astype({dtype}) would drop the derivative of a traced value")

    def diagonal(self, offset=0, axis1=0, axis2=1):
        return _F[np.diagonal](self, offset, axis1, axis2)

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
                    if type(other) is list or type(other) is tuple:   # np.arctan2([1, 2], x)
                        return prim(*[list_as_array(a) for a in inputs])
                    if not isinstance(other, Tracer) or other.trace is self.trace:
                        return self.trace.process(prim, inputs, _NO_PARAMS)
                return prim(*inputs)
        if any(type(a) in (list, tuple) for a in inputs):      # np.arctan2([1, 2], x)
            inputs = tuple(list_as_array(a) for a in inputs)
        if method != "__call__":
            fn = UFUNC_METHODS.get((ufunc, method)) or UFUNC_METHODS.get((None, method))
            if fn is not None and kwargs.get("out") is None:
                return fn(ufunc, *inputs, **kwargs)
            raise UnsupportedOperationError(
                f"np.{ufunc.__name__}.{method} is not supported on traced values; adnb "
                f"differentiates plain calls such as np.{ufunc.__name__}(x, y). "
                f"Supported: adnb.supported_numpy().")
        if kwargs.get("out") is not None:
            if called_from_numpy():      # numpy's own code for a list of traced values
                raise UnsupportedOperationError(
                    f"numpy's code wrote into a buffer (np.{ufunc.__name__}(..., out=...)) while "
                    "working on traced values held in a Python list or object array. Make the "
                    "list one traced array first with np.stack([...]) and pass that.")
            raise InPlaceError(f"np.{ufunc.__name__}(..., out=...) writes in place, which is not "
                               "supported on traced values; assign the result instead.")
        prim = UFUNCS.get(ufunc)
        if prim is None and ufunc in UFUNC_FUNCTIONS:
            kwargs.pop("out", None)
            return UFUNC_FUNCTIONS[ufunc](*inputs, **kwargs)
        if prim is None:
            cmp = COMPARISONS.get(ufunc)
            if cmp is not None:
                return self.trace.compare(ufunc, *inputs)
            if ufunc in PIECEWISE_CONSTANT:
                return ufunc(*[unwrap(x) for x in inputs], **kwargs)
            raise UnsupportedOperationError(
                f"np.{ufunc.__name__} has no derivative rules in adnb. "
                + supported_hint(f"np.{ufunc.__name__}"))
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
            name = ("np.linalg." if "linalg" in mod else "np.fft." if "fft" in mod
                    else "np.") + func.__name__
            raise UnsupportedOperationError(
                f"{name} is not supported by adnb (no derivative rules). " + supported_hint(name))
        if any(type(a) in (list, tuple) for a in args) or \
                kwargs and any(type(v) in (list, tuple) for v in kwargs.values()):
            args, kwargs = lists_as_arrays(func, args, kwargs)
        out = impl(*args, **kwargs)
        if func in VIEW_FUNCTIONS:      # a view in numpy: += on it or on its source is refused
            _mark_views(args, out)
        return out

    def __repr__(self):
        return f"{type(self).__name__}({self.primal!r})"


def _foreign(other):
    """Another library's array (an xarray DataArray, a pandas Series): x * other is left to it
    (NotImplemented), which wraps its result around numpy's, as it does for an ndarray."""
    t = type(other)
    return (hasattr(t, "__array_ufunc__") or hasattr(t, "__array_function__")) and \
        not isinstance(other, (np.ndarray, np.generic, Tracer))


def _binary_operator(prim_name, reflected):
    def operator(self, other):
        if _foreign(other):
            return NotImplemented
        other = _data(other)
        return _P[prim_name](other, self) if reflected else _P[prim_name](self, other)
    return operator


for _op, _prim in (("add", "add"), ("sub", "sub"), ("mul", "mul"), ("mod", "remainder"),
                   ("truediv", "div"), ("pow", "pow"), ("matmul", "matmul")):
    setattr(Tracer, f"__{_op}__", _binary_operator(_prim, False))
    setattr(Tracer, f"__r{_op}__", _binary_operator(_prim, True))


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
        raise error(message or f"x.{name} (an ndarray attribute) has no derivative rules in adnb. "
                    + supported_hint(f"np.{name}"))
    return property(refuse)


for _name in dir(np.ndarray):
    if not _name.startswith("_") and not hasattr(Tracer, _name):
        setattr(Tracer, _name, _refusal(_name))
del _name


def complex_error(prim):
    """adnb differentiates real values: a complex intermediate would get real rules applied."""
    return NotDifferentiableTypeError(
        f"{prim.name} produced a complex value from a traced one. adnb differentiates real "
        "values only (real rules on complex numbers would give wrong derivatives): keep the "
        "real and imaginary parts as two real arrays, e.g. np.cos(x) and np.sin(x) for "
        "np.exp(1j * x).")


def leaked_tracer_error(t):
    """The adnb error for a tracer used after its transformation ended (JAX's
    UnexpectedTracerError), naming the call and, where known, the operation that made it."""
    tr = t.trace
    made = ""
    index = getattr(t, "index", None)
    rows = getattr(tr, "rows", None)
    if index is not None and rows and index < len(rows):
        prim = rows[index][0]
        made = f", made by {'an input' if prim is None else prim.name} (node v{index + 1}"
        loc = tr.locs.get(index) if hasattr(tr, "locs") else None
        made += f", line {loc[1]})" if loc else ")"
    how, f = getattr(tr, "made_by", ("transformation", None))
    origin = f"adnb.{how}({getattr(f, '__name__', 'the function')})"
    return LeakedTracerError(
        f"a traced value from {origin}{made} "
        "was used after that call had finished: it was kept outside the function (a cache, a "
        "global, a running mean kept across calls). Keep adnb.value(x), the plain number, "
        "instead, or pass the value in as an argument / return it from the function.")


def _mark_view(source, out):
    """numpy would return a view of source here: an in-place change to one shows in the other."""
    if isinstance(out, Tracer):
        v = unwrap(out)
        if type(v) is np.ndarray and v.base is not None:
            source._viewed = True
    elif isinstance(out, (list, tuple)):
        for o in out:
            _mark_view(source, o)
    return out


def _mark_views(args, out):
    for x in args + (tuple(out) if isinstance(out, (list, tuple)) else (out,)):
        if isinstance(x, Tracer):
            x._viewed = True


def _slots(cls):
    return [n for c in cls.__mro__ for n in getattr(c, "__slots__", ()) if n != "_viewed"]


def clone(t):
    """A new tracer object for the same value and node (np.copy, x.copy(), x.astype(float)):
    an in-place change of the copy must not change the original."""
    c = object.__new__(type(t))
    for n in _slots(type(t)):
        setattr(c, n, getattr(t, n))
    return c


def _in_place(target, new, op):
    value = unwrap(target)
    if type(value) is not np.ndarray:       # a scalar (float, np.float64): rebound, as in numpy
        return new
    if type(new) is not type(target) or new.trace is not target.trace:
        raise InPlaceError(f"x {op} ... on a traced array cannot keep the derivative here (the "
                           f"result is not differentiable or mixes transformations); write "
                           f"x = x {op[:-1]} ... instead.")
    if shape_of(new) != shape_of(target):
        raise ValueError(f"non-broadcastable output operand with shape {shape_of(target)} doesn't "
                         f"match the broadcast shape {shape_of(new)}")
    if getattr(target, "_viewed", False) or value.base is not None:
        raise InPlaceError(
            f"x {op} ... changes x in place, and x shares memory with another array (it is a "
            "view such as x = y[1:], y.T, y.reshape(...), or such a view of x exists), which numpy "
            f"would change too. adnb does not follow that; write x = x {op[:-1]} ... (a new "
            "array) and recompute the view from it.")
    for n in _slots(type(target)):
        setattr(target, n, getattr(new, n))
    return target


def is_object_array(x):
    return type(x) is np.ndarray and x.dtype.kind == "O"


def materialize(x):
    """An object array holding traced values (np.array([a, b])) as one traced array; lists,
    tuples and dicts are searched; anything else is returned as it is."""
    if is_object_array(x):
        if not any(isinstance(v, Tracer) for v in x.flat):
            return x.astype(float)
        items = [v if isinstance(v, Tracer) else float(v) for v in x.flat]
        if not items:
            return np.zeros(x.shape)
        return _F[np.reshape](_F[np.stack](items), x.shape)
    if type(x) in (list, tuple):
        return type(x)(materialize(v) for v in x)
    if type(x) is dict:
        return {k: materialize(v) for k, v in x.items()}
    return x


def not_real_float(prim, args, params, ans):
    """A value that is neither a real float nor a float array: a complex one is refused; an
    object array of traced values (np.array([a, b]) as a constant) is made one traced array and
    the primitive run again. None: nothing unusual."""
    if type(ans) is np.ndarray:
        if ans.dtype.kind == "O":
            return redo_without_object_arrays(prim, args, params)
        if ans.dtype.kind != "c":
            return None
    elif not isinstance(ans, complex):
        return None
    raise complex_error(prim)


def redo_without_object_arrays(prim, args, params):
    """A primitive met an object array of traced values as a constant: run it again on the
    traced array the object array stands for, so the derivative flows through it."""
    new = [materialize(list_as_array(a)) for a in args]
    if all(a is b for a, b in zip(new, args)):
        raise UnsupportedOperationError(
            f"{prim.name}: an argument holds traced values in a form adnb cannot read as one "
            "array (a ragged list, or a list of traced arrays of different shapes); build it "
            "with np.stack([...]) or np.concatenate([...]) first.")
    return prim(*new, **params)


def _numbers_with_a_tracer(x):
    """(all leaves are numbers or 0-d traced values, at least one traced) for a nested list."""
    found = False
    for v in x:
        if type(v) in (list, tuple):
            ok, traced = _numbers_with_a_tracer(v)
            if not ok:
                return False, False
            found = found or traced
        elif isinstance(v, Tracer):
            if shape_of(v.primal):
                return False, False
            found = True
        elif not isinstance(v, (int, float, np.number)) or isinstance(v, bool):
            return False, False
    return True, found


# parameters of numpy functions that take shapes, axes, counts or indices: a list there is not
# an array of data (every other list or tuple of numbers is, as numpy reads it with np.asarray)
_NOT_DATA = frozenset({
    "axis", "axes", "axis1", "axis2", "shape", "newshape", "new_shape", "reps", "repeats",
    "shift", "pad_width", "indices_or_sections", "source", "destination", "subscripts", "kth",
    "ord", "order", "indices", "obj", "s", "bins", "sections", "dims", "k", "n", "ddof",
    "num", "deg", "edge_order", "mode", "side", "kind", "method", "return_index",
    "equal_nan", "keepdims", "where", "condition", "condlist", "dtype", "out", "operands"})
_DATA_PARAMETERS = {}


def _data_parameters(func):
    """The names of func's positional parameters, and whether each takes data (cached)."""
    names = _DATA_PARAMETERS.get(func)
    if names is None:
        import inspect
        try:
            params = list(inspect.signature(func).parameters.values())
        except (TypeError, ValueError):
            params = []
        names = _DATA_PARAMETERS[func] = tuple(
            (p.name, p.kind != p.VAR_POSITIONAL and p.name not in _NOT_DATA) for p in params)
    return names


def lists_as_arrays(func, args, kwargs):
    """numpy reads a list or tuple of numbers given as data as np.asarray(list): the same
    here, before adnb's version of func runs (np.dot([1, 2], x), np.interp(x, [0, 1], [a, b]));
    shapes, axes and indices keep their lists."""
    params = _data_parameters(func)
    new = list(args)
    for i, a in enumerate(args):
        if type(a) in (list, tuple) and i < len(params) and params[i][1]:
            new[i] = list_as_array(a)
    kind = dict(params)
    new_kwargs = {k: list_as_array(v) if type(v) in (list, tuple) and kind.get(k, False) else v
                  for k, v in kwargs.items()}
    return tuple(new), new_kwargs


def _data(x):
    """The other operand of x + other: a list or tuple as numpy reads it (an array)."""
    return list_as_array(x) if type(x) is list or type(x) is tuple else x


def list_as_array(x):
    """A (nested) list or tuple of numbers as an array: a traced one if it holds traced scalars,
    else np.asarray's. A list of arrays (np.concatenate's) has its items converted."""
    if type(x) not in (list, tuple) or not x:
        return x
    ok, traced = _numbers_with_a_tracer(x)
    if ok:
        return materialize(np.array(x, dtype=object)) if traced else np.asarray(x)
    items = [list_as_array(v) for v in x]
    return type(x)(items) if any(v is not w for v, w in zip(items, x)) else x


def unwrap(x):
    """The plain value under any number of tracers."""
    while isinstance(x, Tracer):
        x = x.primal
    return x


