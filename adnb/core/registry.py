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

import numpy as np

# the tables live beside the tracer (no import cycle); the primitive modules read them here
from .tracer import (ARRAY_FUNCTIONS, PRIMITIVES, SUPPORTED_NUMPY, UFUNC_FUNCTIONS,  # noqa: F401
                     UFUNC_METHODS, UFUNCS, VIEW_FUNCTIONS, Tracer, leaked_tracer_error, shape_of,
                     supported_list, unwrap)
from . import cost as _cost

class Primitive:
    """One elementary operation and everything adnb needs to know about it.

    Attributes:
        name: short name used in traces (``"sin"``, ``"mul"``).
        impl: computes the primal value on plain numbers/arrays.
        scalar_impl: optional faster version for Python floats (``math.sin``).
        partials: for elementwise operations, one entry per argument: a function
            ``(ans, *args) -> ∂ans/∂arg`` written with adnb's primitives, a number for a constant
            partial (add: 1, sub: 1 and −1), or None (no derivative along that argument). The
            tangent and adjoint rules are derived from them (v̇ = Σ ∂v/∂v_k v̇_k, v̄_k += v̄ ∂v/∂v_k),
            and so are the displays' edge labels and the generated code.
        mask: the partials are 0/1 masks (maximum, where): contributions select, never multiply,
            so an inf tangent or adjoint on the branch not taken gives an exact 0, not nan.
        partials_text: display templates for partials that read values to decide (``[{0} ≥ {1}]``
            for maximum): the symbolic stand-ins of ``display/_rules.py`` cannot show a branch.
        code: Python source template of the value for generated code (``{0} + {1}``), where
            calling the primitive by name would read worse.
        scalar_partials: optional fast path of ``partials`` for Python floats: one function
            ``(ans, *args) -> (∂ans/∂arg0, ∂ans/∂arg1, ...)`` with plain math (tests check it
            against ``partials``). Scalar code gets every local partial in one call while
            recording, so the reverse sweep over it is multiply-and-add only.
        jvp: tangent rules, one per argument ``(t, ans, *args, **params) -> contribution``
            (for non-elementwise operations; derived from ``partials`` otherwise).
        vjp: adjoint rules, one per argument ``(g, ans, *args, **params) -> contribution``.
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

    __slots__ = ("name", "impl", "scalar_impl", "scalar_partials", "_partials", "constants",
                 "mask", "partials_text", "partials2", "bilinear", "jvp", "vjp",
                 "keep", "keep_args", "keep_ans", "elementwise", "variadic", "differentiable",
                 "formula", "code", "flops", "jvp_batched")

    def __init__(self, name, impl, *, scalar_impl=None, scalar_partials=None, partials=None,
                 mask=False, partials_text=None, partials2=None, bilinear=False, jvp=None,
                 vjp=None, keep="", elementwise=False, variadic=False, differentiable=True,
                 formula=None, code=None, flops=None, jvp_batched=None):
        if partials is not None and (jvp is not None or vjp is not None):
            raise ValueError(f"primitive {name!r}: give partials= or jvp=/vjp=, not both (the "
                             "rules are derived from the partials)")
        self.name = name
        self.impl = impl
        self.scalar_impl = scalar_impl
        self.scalar_partials = scalar_partials
        self.mask = mask
        self.partials_text = partials_text
        self.jvp = jvp
        self.vjp = vjp
        self.partials = partials            # (derives jvp and vjp)
        self.partials2 = partials2
        self.bilinear = bilinear
        self.keep = keep
        self.keep_args = keep in ("args", "both")     # derived from keep, read on the hot path
        self.keep_ans = keep in ("ans", "both")
        self.elementwise = elementwise
        self.variadic = variadic
        self.differentiable = differentiable
        self.formula = formula or (name + "({0})")
        self.code = code
        self.flops = flops
        self.jvp_batched = jvp_batched

    @property
    def partials(self):
        """∂v/∂(argument k) as functions ``(ans, *args)`` (constants wrapped), or None."""
        return self._partials

    @partials.setter
    def partials(self, partials):
        # setting the partials (re)derives the rules: one source for both modes
        if partials is None:
            self._partials = self.constants = None
            return
        self.constants = tuple(None if callable(d) or d is None else float(d) for d in partials)
        self._partials = tuple(d if callable(d) or d is None else _constant(float(d))
                               for d in partials)
        self.jvp, self.vjp = _rules_from_partials(self._partials, self.constants, self.mask)

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
            return compute(self, args, params)
        return top.trace.process(self, args, params)

    def __repr__(self):
        return f"<adnb primitive {self.name}>"


def compute(prim, vals, params):
    """The value of ``prim(*vals, **params)``: the block's ``impl`` (``scalar_impl`` for one
    Python float), counted by ``count_cost``; a tracer of an outer transformation among the
    values hands the call on to it (nesting)."""
    for v in vals:
        if isinstance(v, Tracer):
            return outer_process(prim, vals, params)
    if len(vals) == 1 and type(vals[0]) is float and prim.scalar_impl is not None:
        ans = prim.scalar_impl(vals[0])
    else:
        ans = prim.impl(*vals, **params)
    if _cost.ACTIVE:
        _cost.record(prim, vals, ans, params)
    return ans


def outer_process(prim, vals, params):
    """Hand an operation on to the transformations outside the current one (its values still
    hold their tracers): the one tracer's transformation, or for several the innermost (bind).
    A tracer whose transformation has finished (kept across calls) is refused here."""
    found = None
    several = False
    for v in vals:
        if isinstance(v, Tracer):
            if not getattr(v.trace, "active", True):
                raise leaked_tracer_error(v)
            several = found is not None
            found = v
    if several:
        return prim(*vals, **params)
    return found.trace.process(prim, tuple(vals), params)


def _constant(d):
    def partial(ans, *args):
        return d
    return partial


def select(mask, t):
    """t where the 0/1 mask is 1, else an exact 0 -- never 0 · t, which is nan when t is inf
    (the tangent or adjoint of an unselected √x at 0 must not poison the result)."""
    m = unwrap(mask)
    if np.ndim(m) == 0:
        if m:
            return t
        s = shape_of(t)
        return np.zeros(s) if s else 0.0
    return PRIMITIVES["where"](np.asarray(m) != 0, t, 0.0)


def _rules_from_partials(partials, constants, mask):
    """The tangent and adjoint rule of each argument, from its local partial d = ∂v/∂v_k:
    v̇ contribution d · v̇_k (eq. 8.57), v̄_k contribution v̄ · d (eq. 8.69); a constant ±1
    passes the seed on unchanged (or negated), a mask selects."""
    jvps, vjps = [], []
    for d, c in zip(partials, constants):
        if d is None:
            jvps.append(None)
            vjps.append(None)
        elif c == 1.0:
            jvps.append(lambda t, ans, *args: t)
            vjps.append(lambda g, ans, *args: g)
        elif c == -1.0:
            jvps.append(lambda t, ans, *args: -t)
            vjps.append(lambda g, ans, *args: -g)
        elif mask:
            jvps.append(lambda t, ans, *args, d=d: select(d(ans, *args), t))
            vjps.append(lambda g, ans, *args, d=d: select(d(ans, *args), g))
        else:
            jvps.append(lambda t, ans, *args, d=d: t * d(ans, *args))
            vjps.append(lambda g, ans, *args, d=d: g * d(ans, *args))
    return tuple(jvps), tuple(vjps)


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

