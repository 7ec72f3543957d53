"""ndarray methods on traced values, as the numpy functions of the same name (x.argmax(),
x.round(), x.cumprod(), x.take(...), x.trace() ...), and the methods numpy's object-array loops
call (np.exp on np.array([a, b]) calls a.exp()): each one calls the numpy function, which
dispatches back to adnb.
"""
from __future__ import annotations

import numpy as np

from ..registry import UFUNC_FUNCTIONS, UFUNCS
from ..tracer import PIECEWISE_CONSTANT, Tracer

# ndarray methods that are the numpy function of the same name with x first (not x.trace():
# `trace` is the tracer's transformation; write np.trace(x))
_METHODS = ("all", "any", "argmax", "argmin", "argpartition", "argsort", "compress", "cumprod",
            "nonzero", "repeat", "round", "searchsorted", "swapaxes", "take", "conj",
            "conjugate")


def _method(name):
    fn = getattr(np, name)

    def method(self, *args, **kwargs):
        return fn(self, *args, **kwargs)
    method.__name__ = name
    method.__doc__ = f"x.{name}(...) = np.{name}(x, ...)"
    return method


for _name in _METHODS:
    setattr(Tracer, _name, _method(_name))

Tracer.real = property(lambda self: self, doc="x.real: x itself (adnb's values are real)")
Tracer.imag = property(lambda self: np.imag(self), doc="x.imag: zeros (real values)")


def _ufunc_method(ufunc):
    def method(self, *others):
        return ufunc(self, *others)
    method.__name__ = ufunc.__name__
    return method


# numpy's loops over object arrays call x.exp(), x.arctan2(y), ...: one method per ufunc adnb
# differentiates or treats as piecewise constant (not for names ndarray itself uses, which keep
# their ndarray meaning)
for _ufunc in list(UFUNCS) + list(UFUNC_FUNCTIONS) + list(PIECEWISE_CONSTANT):
    _n = _ufunc.__name__
    if getattr(_ufunc, "nin", 0) in (1, 2) and not hasattr(np.ndarray, _n) \
            and not hasattr(Tracer, _n):
        setattr(Tracer, _n, _ufunc_method(_ufunc))

