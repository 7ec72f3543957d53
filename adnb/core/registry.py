"""Primitives: the elementary operations adnb knows how to differentiate.

A ``Primitive`` bundles everything about one operation (``define_primitive``): how to compute it
(``impl``, plus a fast ``scalar_impl`` for Python floats), its local partial derivatives or its
tangent (JVP) and adjoint (VJP) rules, what the reverse sweep must keep, how to print it, and which
numpy callables it stands for. ``core/primitives/`` holds one block per primitive,
grouped by module.

Calling a primitive is the one entry point of every transformation (the "bind" of Autodidax): it
looks for the innermost transformation among its arguments (the tracer with the highest ``level``)
and hands the call to that transformation's ``process``; with no tracer it just computes.
"""
from __future__ import annotations

from .tracer import Tracer
from . import cost as _cost

#: numpy ufunc -> Primitive, and numpy array function -> python implementation (numpy signature).
UFUNCS: dict = {}
ARRAY_FUNCTIONS: dict = {}
#: numpy ufunc -> python implementation, for ufuncs composed of primitives (np.vecdot, np.hypot
#: ...), and (ufunc, method) -> implementation for ufunc methods (np.add.reduce, ...)
UFUNC_FUNCTIONS: dict = {}
UFUNC_METHODS: dict = {}
#: numpy functions whose result is a view in numpy (in-place changes would show in both)
VIEW_FUNCTIONS: set = set()
#: every primitive by name, in definition order
PRIMITIVES: dict = {}
#: numpy names that dispatch to adnb (for the "supported" list in error messages)
SUPPORTED_NUMPY: list = []


class Primitive:
    """One elementary operation and everything adnb needs to know about it.

    Attributes:
        name: short name used in traces (``"sin"``, ``"mul"``).
        impl: computes the primal value on plain numbers/arrays.
        scalar_impl: optional faster version for Python floats (``math.sin``).
        partials: for elementwise operations, one function per argument ``(ans, *args) -> ∂ans/∂arg``;
            tangent and adjoint rules are derived from them (v̇ = Σ ∂v/∂v_j v̇_j, v̄_j += v̄ ∂v/∂v_j).
        scalar_partials: optional fast path of ``partials`` for Python floats: one function
            ``(ans, *args) -> (∂ans/∂arg0, ∂ans/∂arg1, ...)`` with plain math (tests check it
            against ``partials``). Scalar code gets every local partial in one call while
            recording, so the reverse sweep over it is multiply-and-add only.
        jvp: explicit tangent rules, one per argument ``(t, ans, *args, **params) -> contribution``.
        vjp: explicit adjoint rules, one per argument ``(g, ans, *args, **params) -> contribution``.
        partials2: for elementwise unary operations, optional ``(ans, x) -> d²ans/dx²``: lets the
            second-order sweep (``second_order.py``, hvp) differentiate the adjoint rule in one
            numpy expression instead of running it on dual numbers.
        bilinear: the operation is linear in each argument (mul, matmul): the tangent of its adjoint
            rule is the rule itself with the other argument replaced by its tangent.
        keep: what the lean reverse sweep stores: ``"ans"``, ``"args"``, ``"both"`` or ``""``;
            arguments not kept are replaced by a ``ShapeStub`` (their shape only).
        elementwise: broadcasting elementwise op: the sweeps broadcast tangents and sum adjoints
            back over broadcast dimensions (``unbroadcast``).
        variadic: takes any number of array arguments (concatenate, einsum); rules get ``argnum=``.
        differentiable: False for piecewise-constant operations (sign, floor, comparisons).
        symbol / formula: how displays write it: ``formula.format(*parent_names, **params)``.
    """

    __slots__ = ("name", "impl", "scalar_impl", "scalar_partials", "partials", "partials2",
                 "bilinear", "jvp", "vjp",
                 "keep", "keep_args", "keep_ans", "elementwise", "variadic", "differentiable",
                 "formula", "latex", "flops", "jvp_batched", "doc")

    def __init__(self, name, impl, *, scalar_impl=None, scalar_partials=None, partials=None,
                 partials2=None, bilinear=False, jvp=None, vjp=None, keep="", elementwise=False,
                 variadic=False, differentiable=True, formula=None, latex=None, flops=None,
                 jvp_batched=None, doc=""):
        self.name = name
        self.impl = impl
        self.scalar_impl = scalar_impl
        self.scalar_partials = scalar_partials
        self.partials = partials
        self.partials2 = partials2
        self.bilinear = bilinear
        self.jvp = jvp
        self.vjp = vjp
        self.keep = keep
        self.keep_args = keep in ("args", "both")     # derived from keep, read on the hot path
        self.keep_ans = keep in ("ans", "both")
        self.elementwise = elementwise
        self.variadic = variadic
        self.differentiable = differentiable
        self.formula = formula or (name + "({0})")
        self.latex = latex
        self.flops = flops
        self.jvp_batched = jvp_batched
        self.doc = doc

    def __call__(self, *args, **params):
        if len(args) == 1 and type(args[0]) is float and self.scalar_impl is not None:
            ans = self.scalar_impl(args[0])        # plain float: the fast path of scalar code
            if _cost.ACTIVE:
                _cost.record(self, args, ans, params)
            return ans
        # "bind": find the innermost transformation among the arguments and let it process the call
        top = None
        for a in args:
            if isinstance(a, Tracer) and (top is None or a.trace.level > top.trace.level):
                top = a
        if top is None:
            if self.scalar_impl is not None and type(args[0]) is float and len(args) == 1:
                ans = self.scalar_impl(args[0])
            else:
                ans = self.impl(*args, **params)
            if _cost.ACTIVE:
                _cost.record(self, args, ans, params)
            return ans
        return top.trace.process(self, args, params)

    def __repr__(self):
        return f"<adnb primitive {self.name}>"


def define_primitive(name, impl, *, numpy=(), **kwargs):
    """Create and register a primitive; ``numpy=`` lists the numpy ufuncs it intercepts."""
    prim = Primitive(name, impl, **kwargs)
    PRIMITIVES[name] = prim
    for f in numpy:
        UFUNCS[f] = prim
        SUPPORTED_NUMPY.append("np." + f.__name__)
    return prim


def implements(*numpy_functions):
    """Register a python function as adnb's implementation of numpy array functions."""
    def register(fn):
        for f in numpy_functions:
            ARRAY_FUNCTIONS[f] = fn
            mod = getattr(f, "__module__", "numpy") or "numpy"
            prefix = "np.linalg." if "linalg" in mod else "np."
            SUPPORTED_NUMPY.append(prefix + f.__name__)
        return fn
    return register


def implements_ufunc(*ufuncs):
    """Register a python function (built from primitives) as adnb's version of numpy ufuncs."""
    def register(fn):
        for u in ufuncs:
            UFUNC_FUNCTIONS[u] = fn
            SUPPORTED_NUMPY.append("np." + u.__name__)
        return fn
    return register


def supported_list():
    """Sorted names of the numpy callables adnb differentiates."""
    return sorted(set(SUPPORTED_NUMPY))
