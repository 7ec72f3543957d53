"""Bending the rules: your own derivative for a function, or none at all (JAX's names).

AD differentiates the code, not the maths. ``log(1 + exp(x))`` at x = 800 overflows inside, and
the chain rule through the overflow gives nan, although the function's slope there is 1. The fix
every AD system offers is to tell it the derivative yourself:

* ``custom_jvp(f)`` with ``@f.defjvp``: a tangent rule ``(primals, tangents) -> (f(x), ẏ)``.
  Forward mode calls it; reverse mode records it once with the tangents as inputs and sweeps
  that record backwards (the rule is linear in the tangents, so that *is* its transpose: one
  reverse pass, not one forward pass per input). The rule is itself differentiated, so
  ``hessian`` and ``grad(grad(f))`` go through it.
* ``custom_vjp(f)`` with ``f.defvjp(fwd, bwd)``: ``fwd(*x) -> (f(x), residuals)`` on the way
  forward, ``bwd(residuals, ȳ) -> (x̄_1, …)`` on the way back (``None`` for zero). Reverse mode
  only: forward mode through it is an error, as in JAX.
* ``stop_gradient(x)``: x itself, with derivative zero in every mode and order.

Each custom function becomes one ``Primitive`` made on the fly whose rules call yours, so it
is one row of the trace, and nests with every other transformation. Mistakes in a rule (wrong
number or shape of outputs) raise ``CustomRuleError`` naming the rule.
"""
from __future__ import annotations

import functools

import numpy as np

from ..errors import CustomRuleError
from . import cost as _cost
from .registry import Primitive
from .tracer import Tracer, shape_of, unwrap

__all__ = ["custom_jvp", "custom_vjp", "stop_gradient"]


class CustomPrimitive(Primitive):
    """A primitive made on the fly for a custom rule, a checkpoint or stop_gradient; ``kind``
    and ``owner`` (the custom_jvp/custom_vjp/checkpoint object) let displays mark its row and
    write its rule."""
    __slots__ = ("kind", "owner", "counted_inside")

    def __init__(self, name, impl, *, kind, owner=None, **kwargs):
        super().__init__(name, impl, **kwargs)
        self.kind, self.owner = kind, owner
        # count_cost counts the operations of its impl, not the row itself
        self.counted_inside = kind != "stop_gradient"


# ---- stop_gradient ---------------------------------------------------------------------------

def _identity(x):
    return x


#: v = x with ∂v/∂x taken as 0: no tangent passes through, no adjoint flows back.
stop_gradient_p = CustomPrimitive("stop_gradient", _identity, kind="stop_gradient",
                                  jvp=(None,), vjp=(None,), keep="",
                                  formula="stop_gradient({0})")


def stop_gradient(x):
    """``x`` unchanged, treated as a constant by every differentiation (JAX's name; PyTorch's
    ``x.detach()``). Recorded as one row, so traces and graphs show the cut edge."""
    return stop_gradient_p(x)


# ---- shared helpers --------------------------------------------------------------------------

def _name(f):
    return getattr(f, "__name__", "the function")


def _zeros(x):
    s = shape_of(x)
    return np.zeros(s) if s else 0.0


def _single_output(out, what):
    """A custom function's output as one float or float array (the primitive's value)."""
    if isinstance(out, Tracer):     # (impl runs on plain values: a tracer came from a closure)
        raise CustomRuleError(
            f"{what} uses a value being differentiated that is not one of its arguments (a "
            "variable from the enclosing code): its derivative would be lost. Pass that value "
            "as an argument.")
    if isinstance(out, (tuple, list, dict)):
        raise CustomRuleError(
            f"{what} returned a {type(out).__name__}; adnb's custom rules take functions with one "
            "output (a float or an array). Stack several outputs into one array, or split f.")
    if isinstance(out, np.ndarray):
        return out if out.dtype == np.float64 else out.astype(np.float64)
    try:
        return float(out)
    except (TypeError, ValueError):
        raise CustomRuleError(f"{what} returned {type(out).__name__}, not a number or an "
                              "array") from None


def _check_shape(value, expected, what):
    got = shape_of(value)
    if tuple(got) != tuple(expected):
        raise CustomRuleError(f"{what} has shape {tuple(got)}, but it must have shape "
                              f"{tuple(expected)} (the shape of the value it belongs to).")


def _split(args, nondiff):
    """The differentiable arguments and the fixed ones (``nondiff_argnums``), in order."""
    for i in nondiff:
        if not -len(args) <= i < len(args):
            raise CustomRuleError(f"nondiff_argnums={nondiff} but only {len(args)} positional "
                                  "argument(s) were passed")
    fixed = {i % len(args) for i in nondiff}
    diff = tuple(a for i, a in enumerate(args) if i not in fixed)
    static = tuple(a for i, a in enumerate(args) if i in fixed)
    for a in static:
        if isinstance(a, Tracer):
            raise CustomRuleError("an argument listed in nondiff_argnums is being "
                                  "differentiated; leave it out of nondiff_argnums")
    return diff, static, sorted(fixed)


def _merge(diff, static, fixed):
    """Put the fixed arguments back at their positions."""
    out, d, s = [], iter(diff), iter(static)
    for i in range(len(diff) + len(static)):
        out.append(next(s) if i in fixed else next(d))
    return out


def _counted(fun, args):
    """Run fun on plain values; while counting, on counting tracers so its operations count."""
    if not _cost.ACTIVE:
        return fun(*args)
    counter = _cost.CountTrace()
    return _cost.unwrap_count(fun(*[counter.wrap(a) for a in args]))


class _OnePass:
    """Adjoint rules are asked once per argument; a custom rule answers for all arguments in
    one call. This keeps the other arguments' answers for the calls that follow."""
    __slots__ = ("key", "refs", "left")

    def __init__(self):
        self.key, self.refs, self.left = None, None, {}

    def get(self, g, args, argnum, compute):
        key = (id(g),) + tuple(id(_cost.unwrap_count(a)) for a in args)
        if key == self.key and argnum in self.left:
            c = self.left.pop(argnum)
            if not self.left:                       # all handed out: hold on to nothing
                self.key, self.refs = None, None
            return c
        cts = compute()
        self.key, self.refs = key, (g, args)       # (refs keep the ids valid)
        self.left = {k: c for k, c in enumerate(cts) if k != argnum}
        return cts[argnum]


def _linear_transpose_of(tangent_map, g, primals, rule_name):
    """Cotangents of ``tangent_map(tangents)`` (linear in tangents) for output cotangent g:
    record it once with the tangents as inputs, then one reverse sweep seeded with g."""
    from .linearize import check_linear
    from .reverse import backward
    from .trace import TapeTracer, Trace
    tr = Trace()
    t_in = [tr.new_input(_zeros(unwrap(p))) for p in primals]
    t_out = tangent_map(t_in)
    if not (type(t_out) is TapeTracer and t_out.trace is tr):
        return [None] * len(primals)       # the tangent does not depend on the inputs' tangents
    check_linear(tr, rule_name, "A tangent rule must be linear in the tangents (JAX requires "
                 "the same); reverse mode transposes it, and a nonlinear one has no transpose.")
    if _cost.ACTIVE:
        _cost.add_passes(reverse=-1, sweeps=-1)     # part of the sweep already counted
    adj = backward(tr, {t_out.index: g})
    return [adj[i] for i in tr.inputs]


# ---- custom_jvp ------------------------------------------------------------------------------

class custom_jvp:
    """A function with a tangent rule you give (``jax.custom_jvp``).

    Example:
        >>> @adnb.custom_jvp
        ... def softplus(x):
        ...     return np.log1p(np.exp(x))
        >>> @softplus.defjvp
        ... def softplus_jvp(primals, tangents):
        ...     (x,), (t,) = primals, tangents
        ...     return softplus(x), t / (1 + np.exp(-x))
        >>> adnb.grad(softplus)(800.0)
        1.0

    The rule is called as ``rule(*nondiff_args, primals, tangents)`` and must return
    ``(primal_out, tangent_out)`` of the output's shape, with tangent_out linear in the tangents.
    """

    def __init__(self, fun, nondiff_argnums=()):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)
        self.jvp_rule = None
        self._pass = _OnePass()
        name = _name(fun)
        self.primitive = CustomPrimitive(
            name, self._impl, kind="custom_jvp", owner=self, jvp=(self._tangent,),
            vjp=(self._adjoint,), variadic=True, keep="args", formula=name + "({args})")

    def defjvp(self, rule):
        """Set the tangent rule (usable as a decorator); returns the rule."""
        self.jvp_rule = rule
        return rule

    @property
    def rule_name(self):
        return f"custom_jvp rule {_name(self.jvp_rule)} of {_name(self.fun)}"

    def __call__(self, *args):
        if self.jvp_rule is None:
            raise CustomRuleError(
                f"custom_jvp function {_name(self.fun)} has no tangent rule; define one with "
                f"@{_name(self.fun)}.defjvp before calling it.")
        diff, static, _ = _split(args, self.nondiff_argnums)
        if not any(isinstance(a, Tracer) for a in diff):
            return self.fun(*args)                  # nothing to differentiate: just f
        return self.primitive(*diff, static=static) if static else self.primitive(*diff)

    def _impl(self, *diff, static=()):
        out = _counted(self.fun, _merge(diff, static, self._fixed(diff, static)))
        return _single_output(out, _name(self.fun))

    def _fixed(self, diff, static):
        n = len(diff) + len(static)
        return sorted({i % n for i in self.nondiff_argnums})

    def _call_rule(self, primals, tangents, static):
        out = self.jvp_rule(*static, tuple(primals), tuple(tangents))
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise CustomRuleError(f"{self.rule_name} must return a pair (primal_out, "
                                  f"tangent_out), but it returned {type(out).__name__}"
                                  f"{'' if not isinstance(out, (tuple, list)) else ' of length %d' % len(out)}.")
        return out

    def _tangent(self, t, ans, *primals, argnum, static=()):
        """Argument argnum's contribution to the output tangent: the rule with the others' 0."""
        tangents = [t if k == argnum else _zeros(p) for k, p in enumerate(primals)]
        y, t_out = self._call_rule(primals, tangents, static)
        _check_shape(y, shape_of(ans), f"the primal output of {self.rule_name}")
        _check_shape(t_out, shape_of(ans), f"the tangent output of {self.rule_name}")
        return t_out

    def _adjoint(self, g, ans, *primals, argnum, static=()):
        def all_cotangents():
            def tangent_map(tangents):
                y, t_out = self._call_rule(primals, tangents, static)
                _check_shape(t_out, shape_of(g), f"the tangent output of {self.rule_name}")
                return t_out
            return _linear_transpose_of(tangent_map, g, primals, self.rule_name)
        return self._pass.get(g, primals, argnum, all_cotangents)


# ---- custom_vjp ------------------------------------------------------------------------------

class _Residuals:
    """Where fwd's residuals wait for the reverse sweep (one box per call, kept in the row)."""
    __slots__ = ("value",)

    def __init__(self):
        self.value = None

    def __repr__(self):
        return "res"


class custom_vjp:
    """A function with an adjoint rule you give (``jax.custom_vjp``): reverse mode only.

    Example (gradient clipping: the value passes unchanged, the adjoint is clipped):
        >>> @adnb.custom_vjp
        ... def clip_gradient(x):
        ...     return x
        >>> clip_gradient.defvjp(lambda x: (x, None),
        ...                      lambda res, g: (np.clip(g, -1.0, 1.0),))

    ``fwd(*args) -> (output, residuals)``; ``bwd(*nondiff_args, residuals, g)`` returns a
    tuple with one cotangent per differentiable argument (``None`` for zero).
    """

    def __init__(self, fun, nondiff_argnums=()):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)
        self.fwd = self.bwd = None
        self._pass = _OnePass()
        name = _name(fun)
        self.primitive = CustomPrimitive(
            name, self._impl, kind="custom_vjp", owner=self, jvp=(self._no_forward,),
            vjp=(self._adjoint,), variadic=True, keep="args", formula=name + "({args})")

    def defvjp(self, fwd, bwd):
        """Set the forward (``fwd``) and backward (``bwd``) halves of the rule."""
        self.fwd, self.bwd = fwd, bwd

    @property
    def rule_name(self):
        return f"custom_vjp rule {_name(self.bwd)} of {_name(self.fun)}"

    def __call__(self, *args):
        if self.fwd is None:
            raise CustomRuleError(
                f"custom_vjp function {_name(self.fun)} has no rule; set one with "
                f"{_name(self.fun)}.defvjp(fwd, bwd) before calling it.")
        diff, static, _ = _split(args, self.nondiff_argnums)
        if not any(isinstance(a, Tracer) for a in diff):
            return self.fun(*args)                  # nothing to differentiate: just f
        params = {"res": _Residuals()}
        if static:
            params["static"] = static
        return self.primitive(*diff, **params)

    def _fixed(self, diff, static):
        n = len(diff) + len(static)
        return sorted({i % n for i in self.nondiff_argnums})

    def _run_fwd(self, diff, static):
        out = self.fwd(*_merge(diff, static, self._fixed(diff, static)))
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise CustomRuleError(f"the fwd rule {_name(self.fwd)} of {_name(self.fun)} must "
                                  "return a pair (output, residuals).")
        return out

    def _impl(self, *diff, res, static=()):
        counter = _cost.CountTrace() if _cost.ACTIVE else None
        wrapped = [counter.wrap(a) for a in diff] if counter else diff
        y, r = self._run_fwd(wrapped, static)
        res.value = r if counter is None else _unwrap_tree(r)
        return _single_output(_cost.unwrap_count(y), f"the fwd rule {_name(self.fwd)}")

    def _no_forward(self, t, ans, *args, argnum, res, static=()):
        raise CustomRuleError(
            f"{_name(self.fun)} is a custom_vjp function: it has a reverse-mode rule only, so "
            "forward mode (jvp, jacfwd, hessian, linearize) cannot go through it, as in JAX. "
            "Use grad/vjp/jacrev (jacrev(jacrev(f)) for a Hessian), or give it a custom_jvp rule.")

    def _adjoint(self, g, ans, *args, argnum, res, static=()):
        def all_cotangents():
            if any(isinstance(a, Tracer) for a in args):
                # inside another differentiation: fwd again on its tracers, so the residuals
                # carry their own derivatives (grad(grad(f)))
                r = self._run_fwd(args, static)[1]
            else:
                r = res.value
            cts = self.bwd(*static, r, g)
            if not isinstance(cts, (tuple, list)):
                raise CustomRuleError(
                    f"{self.rule_name} must return a tuple with one cotangent per "
                    f"differentiable argument ({len(args)}), e.g. (x_bar,); it returned a "
                    f"{type(cts).__name__}.")
            if len(cts) != len(args):
                raise CustomRuleError(
                    f"{self.rule_name} returned {len(cts)} cotangent(s), but "
                    f"{_name(self.fun)} has {len(args)} differentiable argument(s): return one "
                    "per argument, None for zero.")
            for k, (c, a) in enumerate(zip(cts, args)):
                if c is not None:
                    _check_shape(c, shape_of(a), f"cotangent {k} returned by {self.rule_name}")
            return list(cts)
        return self._pass.get(g, args, argnum, all_cotangents)


def _unwrap_tree(r):
    if isinstance(r, (tuple, list)):
        return type(r)(_unwrap_tree(x) for x in r)
    if isinstance(r, dict):
        return {k: _unwrap_tree(v) for k, v in r.items()}
    return _cost.unwrap_count(r)
