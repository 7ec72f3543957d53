"""The JAX-style API: grad, value_and_grad, jvp, vjp, jacfwd, jacrev, hessian, hvp, trace.

Names and signatures follow JAX so that what a learner writes here carries over:

    grad(f)(x)                       ∇f(x) by one reverse pass (f scalar)
    jvp(f, (x,), (r,))               (f(x), J r) by one forward pass, ẋ = r  (eq. 8.67)
    vjp(f, x) -> (y, vjp_fn)         vjp_fn(u) = uᵀJ by one reverse pass, ȳ = u
    jacfwd(f)(x), jacrev(f)(x)       J by D forward passes / K reverse passes
    hessian(f)(x), hvp(f, x, v)      second derivatives by mixed mode (§8.2.2)
    trace(f, *args)                  the evaluation trace, for tables, graphs and code

Every transformation nests in any order (``grad(grad(f))``, ``jacfwd(jacrev(f))``): each one
tags its tracers with a fresh level and only ever differentiates its own, so a value from an
outer differentiation is a constant to an inner one (no perturbation confusion).
"""
from __future__ import annotations

import functools
import inspect
import math
import sys
import numbers
import warnings

import numpy as np

from ..errors import (ADNBError, ADNBWarning, NonDifferentiablePointWarning, NonScalarOutputError,
                      NotDifferentiableTypeError, ReturnedNoneError)
from . import cost as _cost
from . import primitives as P
from . import second_order
from .forward import DualTrace, DualTracer
from . import reverse
from .pytree import tree_flatten, check_same_structure
from .frames import explain_error
from .trace import TapeTracer, Trace, is_machinery
from .tracer import Tracer, leaked_tracer_error, materialize, shape_of, unwrap

# ---- inputs --------------------------------------------------------------------------------


def as_input(x, what="argument"):
    """Check and convert one differentiable input: ints become floats, arrays float64.
    ``what`` (a string, or a function giving one) names the input in error messages."""
    if type(x) is float or isinstance(x, Tracer) or type(x) is np.ndarray and x.dtype == np.float64:
        return x
    if callable(what):
        what = what()
    if isinstance(x, (bool, np.bool_)):
        raise NotDifferentiableTypeError(
            f"{what} is a bool ({x!r}); adnb differentiates with respect to real numbers and "
            "float arrays. Pass a float, or leave this argument out of argnums.")
    if isinstance(x, numbers.Real) and not isinstance(x, np.ndarray):
        return float(x)
    if isinstance(x, np.ndarray):
        if x.dtype.kind in "iuf":
            return x.astype(np.float64) if x.dtype != np.float64 else x
        kind = {"b": "bool", "c": "complex", "O": "object", "U": "str", "S": "bytes"}.get(x.dtype.kind, str(x.dtype))
        raise NotDifferentiableTypeError(
            f"{what} is a {kind} array; adnb differentiates with respect to real float arrays. "
            "Convert it with x.astype(float) if it holds real numbers.")
    if isinstance(x, complex):
        raise NotDifferentiableTypeError(
            f"{what} is complex ({x!r}); adnb differentiates with respect to real floats and "
            "float arrays. Pass the real and imaginary parts as two float inputs.")
    raise NotDifferentiableTypeError(
        f"{what} is of type {type(x).__name__} ({x!r:.60}); adnb can differentiate with respect "
        "to floats, float arrays, and tuples/lists/dicts of them. Pass the value as a number or "
        "np.array, or leave this argument out of argnums.")


_STRUCTURES = (tuple, list, dict)


def _argnums(argnums, nargs):
    if type(argnums) is int and 0 <= argnums < nargs:
        return True, (argnums,)
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)
    for a in nums:
        if not -nargs <= a < nargs:
            raise TypeError(f"argnums={argnums!r} but the function was called with {nargs} "
                            "positional argument(s)")
    return single, tuple(a % nargs for a in nums)


def _zeros_like(x):
    s = shape_of(x)
    return np.zeros(s) if s else 0.0


def _fresh(x, given=()):
    """A derivative array handed back to the caller, safe to modify in place: a read-only
    broadcast view (the adjoint of a sum), or the very array the caller passed in as a seed or a
    view of it (identity rules such as those of + pass seeds straight through), is copied."""
    if type(x) is not np.ndarray:
        return x
    if x.base is not None and not x.flags.writeable:        # (an array of its own is writable)
        return x.copy()
    if given and any(type(g) is np.ndarray and np.may_share_memory(x, g) for g in given):
        return x.copy()
    return x


def _independent_warning(fname):
    warnings.warn(f"the output of {fname} does not depend on the differentiated input(s); its "
                  "derivative is zero.", ADNBWarning, stacklevel=3)


def _check_value(fname, value):
    """An output that is inf or nan: floating point left the maths behind (an overflow, 0/0), and
    a derivative computed there is not reliable -- the reverse sweep reads 1/inf as an exact 0
    (grad of log(1 + exp(x)) at x = 800 would be 0, not 1). Say so instead of staying silent."""
    if type(value) is float:
        bad = value - value != 0                    # inf - inf and nan - nan are nan
    elif type(value) in (np.float64, np.ndarray):
        bad = not np.all(np.isfinite(value))
    else:
        return                                      # a tracer of an outer transformation
    if bad:
        warnings.warn(f"{fname} returned {value} here: its value overflowed or is undefined, so "
                      "its derivative at this point is not reliable (AD differentiates the "
                      "floating-point code, not the maths). Write it in a numerically stable form "
                      "(np.logaddexp(0, x) for log(1 + exp(x))) or give it a rule with "
                      "adnb.custom_jvp.", NonDifferentiablePointWarning,
                      stacklevel=reverse._user_stacklevel())


def call_user(f, *args, **kwargs):
    """Run the user's function. numpy turns some of adnb's errors (a traced scalar written into a
    numpy buffer calls float(), which refuses) into its own ValueError; re-raise adnb's, which
    says what to do. The user's own exceptions pass through unchanged."""
    try:
        return f(*args, **kwargs)
    except (ValueError, TypeError, AttributeError, ADNBError) as e:
        _reraise_adnb_cause(e)
        raise


def _reraise_adnb_cause(e):
    """An adnb error from the user's code (or numpy's ValueError around one) leads with the
    user's line and ends at it: adnb's own frames are cut from the traceback."""
    better = explain_error(e, trim_head=True)
    if better is not e:
        raise better from None
    cause = e.__cause__ if e.__cause__ is not None else e.__context__
    if isinstance(cause, ADNBError) and not isinstance(e, ADNBError):
        raise cause from None


def _finished(trace, out, f, how):
    """f has returned: its transformation ends here (a tracer kept beyond it is refused when it
    is used again), and a None output is named for what it usually is."""
    if type(out) is not TapeTracer and type(out) is not DualTracer:
        if out is None:
            raise ReturnedNoneError(
                f"{_name(f)} returned None — did you forget `return`? adnb.{how} "
                "differentiates the value the function returns.")
        out = materialize(out)              # np.array([a, b]) returned: one traced array
    trace.active = False
    trace.made_by = (how, f)                # (named by leaked_tracer_error)
    return out


def _check_leaks(leaves):
    for o in leaves:
        if isinstance(o, Tracer) and not getattr(o.trace, "active", True):
            raise leaked_tracer_error(o)


def _unique_argnums(nums):
    """argnums=(0, 0): each distinct argument once, and where to find each requested one."""
    uniq = tuple(dict.fromkeys(nums))
    return uniq, tuple(uniq.index(a) for a in nums)


def _name(f):
    return getattr(f, "__name__", "the function")


# ---- reverse mode ----------------------------------------------------------------------------


def value_and_grad(f, argnums=0):
    """Return a function computing ``(f(*args), ∇f)`` by one reverse pass.

    Args:
        f: a function returning a scalar (a float or 0-d/size-1 array).
        argnums: which positional argument(s) to differentiate; a tuple gives a tuple of grads.
            An argument may be a tuple/list/dict of arrays (the gradient has the same structure).
    Raises:
        NonScalarOutputError: f returns several values; use jacrev, jacfwd or vjp.
    """
    single = isinstance(argnums, int)
    fixed = (argnums,) if single else tuple(argnums)
    fixed = fixed if all(type(a) is int and a >= 0 for a in fixed) else None
    needed = max(fixed) + 1 if fixed else 0

    @functools.wraps(f)
    def value_and_grad_f(*args, **kwargs):
        if fixed is not None and len(args) >= needed:
            return _value_and_grad(f, args, kwargs, fixed, single)     # argnums checked once
        single_, nums = _argnums(argnums, len(args))
        return _value_and_grad(f, args, kwargs, nums, single_)
    return value_and_grad_f


def _value_and_grad(f, args, kwargs, nums, single):
    """``value_and_grad(f, argnums)(*args, **kwargs)`` with argnums already checked (``nums``)."""
    if len(nums) > 1 and len(set(nums)) < len(nums):      # argnums=(0, 0): as JAX, both alike
        uniq, where = _unique_argnums(nums)
        value, grads = _value_and_grad(f, args, kwargs, uniq, False)
        return value, tuple(grads[k] for k in where)
    trace = Trace()
    args_in, args = args, list(args)
    structures = []
    narrow = False          # a float32/float16 argument: its gradient goes back in that type
    for a in nums:
        x = args[a]
        if type(x) is float or type(x) is np.ndarray and x.dtype == np.float64:
            args[a] = trace.new_input(x)            # the common case: one plain leaf
            structures.append((trace.inputs[-1], 1, None))     # (its node index, 1, None)
            continue
        leaves, unflatten = tree_flatten(x)
        boxed = [trace.new_input(as_input(v, lambda: f"argument {a} of {_name(f)}")) for v in leaves]
        structures.append((len(trace.inputs) - len(boxed), len(boxed), unflatten))
        args[a] = unflatten(boxed)
        narrow = narrow or any(getattr(v, "dtype", None) in _NARROW_FLOATS for v in leaves)
    try:
        out = f(*args, **kwargs)
    except (ValueError, TypeError, AttributeError, ADNBError) as e:
        _reraise_adnb_cause(e)
        raise
    out = _finished(trace, out, f, "grad")
    if type(out) is TapeTracer and out.trace is trace:
        shape = shape_of(out.primal)
        if shape and math.prod(shape) != 1:
            raise NonScalarOutputError(
                f"grad needs a scalar output, but {_name(f)} returned shape {shape}. Use "
                "adnb.jacrev(f) or adnb.jacfwd(f) for the Jacobian, or adnb.vjp(f, x) and "
                "call the result with a cotangent u to get uᵀJ in one pass.")
        adj = reverse.backward(trace, {out.index: np.ones(shape) if shape else 1.0})
        value = out.primal
        _check_value(_name(f), value)
    elif isinstance(out, (tuple, list, dict)):
        raise NonScalarOutputError(
            f"grad needs a function with a single scalar output, but {_name(f)} returned a "
            f"{type(out).__name__}. Use adnb.jacrev/jacfwd for all derivatives, or adnb.vjp "
            "with a cotangent for a weighted sum of outputs.")
    else:
        _check_leaks((out,))
        if isinstance(out, (bool, np.bool_)) or getattr(out, "dtype", None) == np.bool_:
            raise NotDifferentiableTypeError(
                f"{_name(f)} returned a bool ({out!r}); grad differentiates real-valued "
                "functions. A comparison or np.allclose has no derivative: return the number "
                "it compares instead.")
        shape = shape_of(out)
        if shape and math.prod(shape) != 1:
            raise NonScalarOutputError(f"grad needs a scalar output, got shape {shape}")
        _independent_warning(_name(f))
        adj = [None] * len(trace.rows)
        value = out
    rows = trace.rows
    grads = []
    for start, n, unflatten in structures:
        if unflatten is None:               # one leaf: `start` is its node index
            gi = adj[start]
            if type(gi) is not float:       # (a float, the scalar case, is final as it is)
                gi = _zeros_like(rows[start][3]) if gi is None else _fresh(gi)
            grads.append(gi)
            continue
        grads.append(unflatten([_zeros_like(rows[i][3]) if adj[i] is None else _fresh(adj[i])
                                for i in trace.inputs[start:start + n]]))
    if narrow:
        grads = [_in_dtype_of(g, args_in[a]) for g, a in zip(grads, nums)]
    return value, (grads[0] if single else tuple(grads))


_NARROW_FLOATS = frozenset(np.dtype(t) for t in (np.float16, np.float32, np.longdouble)
                           if np.dtype(t) != np.float64)


def _in_dtype_of(g, x):
    """The gradient in the argument's float type (computed in float64): float32 in, float32
    out, as in JAX and HIPS autograd."""
    if isinstance(x, (np.ndarray, np.floating)) and x.dtype.kind == "f" and x.dtype != np.float64:
        return np.asarray(g, dtype=x.dtype) if isinstance(x, np.ndarray) else x.dtype.type(g)
    if isinstance(x, _STRUCTURES):
        g_leaves, g_def = tree_flatten(g)
        x_leaves = tree_flatten(x)[0]
        if len(g_leaves) == len(x_leaves):
            return g_def([_in_dtype_of(a, b) for a, b in zip(g_leaves, x_leaves)])
    return g


def grad(f, argnums=0):
    """Return a function computing the gradient ∇f by one reverse pass (see value_and_grad)."""
    vg = value_and_grad(f, argnums)

    @functools.wraps(f)
    def grad_f(*args, **kwargs):
        return vg(*args, **kwargs)[1]
    return grad_f


def vjp(f, *primals):
    """Record f at ``primals``; return ``(f(*primals), vjp_fn)``.

    ``vjp_fn(u)`` runs one reverse pass seeded with the output adjoint ȳ = u and returns uᵀJ as
    a tuple with one entry per primal. It can be called many times (one pass each).
    """
    trace = Trace()
    structures, boxed_args = [], []
    for a, p in enumerate(primals):
        leaves, unflatten = tree_flatten(p)
        boxed = [trace.new_input(as_input(x, lambda: f"argument {a} of {_name(f)}")) for x in leaves]
        structures.append((len(trace.inputs) - len(boxed), len(boxed), unflatten))
        boxed_args.append(unflatten(boxed))
    out = call_user(f, *boxed_args)
    out = _finished(trace, out, f, "vjp")
    out_leaves, out_unflatten = tree_flatten(out)
    _check_leaks(o for o in out_leaves if not (isinstance(o, TapeTracer) and o.trace is trace))
    nodes = [o.index if isinstance(o, TapeTracer) and o.trace is trace else -1
             for o in out_leaves]
    out_values = out_unflatten([o.primal if n >= 0 else o for o, n in zip(out_leaves, nodes)])
    for o, n in zip(out_leaves, nodes):
        if n >= 0:
            _check_value(_name(f), o.primal)

    def vjp_fn(cotangent):
        ct_leaves, ct_def = tree_flatten(cotangent)
        check_same_structure(ct_def, out_unflatten, "cotangent", f"output of {_name(f)}")
        seeds = {}
        for n, u, o in zip(nodes, ct_leaves, out_leaves):
            if shape_of(u) != shape_of(o):
                raise ValueError(f"cotangent of shape {shape_of(u)} for an output of shape "
                                 f"{shape_of(o)}")
            if n >= 0:
                u = as_input(u, "cotangent")
                seeds[n] = u if n not in seeds else seeds[n] + u
        adj = reverse.backward(trace, seeds) if seeds else [None] * len(trace.rows)
        res = []
        for start, n, unflatten in structures:
            res.append(unflatten([_fresh(adj[i], ct_leaves) if adj[i] is not None
                                  else _zeros_like(trace.rows[i][3])
                                  for i in trace.inputs[start:start + n]]))
        return tuple(res)
    return out_values, vjp_fn


def jacrev(f, argnums=0):
    """Jacobian by reverse mode: one recording of f, then one reverse pass per output entry
    (K passes for K outputs, §8.2.2). Shape: output shape + input shape."""
    @functools.wraps(f)
    def jacrev_f(*args):
        single, nums = _argnums(argnums, len(args))
        if any(isinstance(args[a], (tuple, list, dict)) for a in nums):
            return _tree_jacobian(jacrev, f, argnums, args)
        trace = Trace()
        args = list(args)
        nums, where = _unique_argnums(nums)
        for a in nums:
            args[a] = trace.new_input(as_input(args[a], lambda: f"argument {a} of {_name(f)}"))
        inputs = list(trace.inputs)
        out = call_user(f, *args)
        out = _finished(trace, out, f, "jacrev")
        outs, unflat = tree_flatten(out)
        _check_leaks(o for o in outs if not (isinstance(o, TapeTracer) and o.trace is trace))
        per_out = []
        for o in outs:
            traced = type(o) is TapeTracer and o.trace is trace
            oshape = shape_of(o.primal if traced else o)
            if traced:
                _check_value(_name(f), o.primal)
            k = math.prod(oshape)
            cols = [[] for _ in nums]
            for j in range(k):          # one reverse pass per output entry, seeded ȳ = e_j
                adj = None
                if traced:
                    if oshape:
                        seed = np.zeros(k)
                        seed[j] = 1.0
                        seed = seed.reshape(oshape)
                    else:
                        seed = 1.0
                    adj = reverse.backward(trace, {o.index: seed})
                for c, i in zip(cols, inputs):
                    gi = adj[i] if adj is not None else None
                    c.append(gi if gi is not None else _zeros_like(trace.rows[i][3]))
            jacs = []
            for c, i in zip(cols, inputs):
                ishape = shape_of(trace.rows[i][3])
                if not oshape:
                    jacs.append(c[0])
                elif not any(isinstance(r, Tracer) for r in c):
                    jacs.append(np.array(c, dtype=float).reshape(tuple(oshape) + tuple(ishape)))
                else:
                    jacs.append(P.np_reshape(P.stack(c), tuple(oshape) + tuple(ishape)))
            per_out.append(jacs[0] if single else tuple(jacs[k] for k in where))
        return unflat(per_out)
    return jacrev_f


jacobian = jacrev

# ---- forward mode ------------------------------------------------------------------------------


def jvp(f, primals, tangents):
    """One forward pass seeded with ẋ = tangents: returns ``(f(*primals), J·tangents)``.

    Dual numbers, online: no trace is stored. Outputs may be a tuple (both tangents come out
    of the same pass, as in Figure 8.5)."""
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp(f, primals, tangents) takes tuples: jvp(f, (x,), (v,))")
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    dual = DualTrace()
    boxed = []
    seeds = []                  # the caller's tangent arrays: never handed back as results
    for a, (p, t) in enumerate(zip(primals, tangents)):
        if isinstance(p, _STRUCTURES) or isinstance(t, _STRUCTURES):
            pl, unflatten = tree_flatten(p)
            tl, tdef = tree_flatten(t)
            check_same_structure(tdef, unflatten, f"tangent {a}", f"primal {a}")
        else:                       # one number or array: the common case, no tree to rebuild
            pl, tl, unflatten = (p,), (t,), None
        seeds.extend(tl)
        leaves = []
        for x, v in zip(pl, tl):
            if not (type(x) is type(v) is np.ndarray and x.dtype == v.dtype == np.float64):
                x = as_input(x, lambda: f"primal {a}")
                v = as_input(v, lambda: f"tangent {a}")
            if shape_of(x) != shape_of(v):
                raise ValueError(f"jvp: tangent of shape {shape_of(v)} for a primal of shape "
                                 f"{shape_of(x)}")
            leaves.append(dual.new_input(x, v))
        boxed.append(leaves[0] if unflatten is None else unflatten(leaves))
    if _cost.ACTIVE:
        _cost.add_passes(forward=1)
    out = call_user(f, *boxed)
    out = _finished(dual, out, f, "jvp")
    if type(out) is DualTracer and out.trace is dual:      # one output, as most functions return
        return out.primal, _fresh(out.tangent, seeds)
    leaves, unflatten = tree_flatten(out)
    _check_leaks(o for o in leaves if not (isinstance(o, DualTracer) and o.trace is dual))
    ps, ts = [], []
    for o in leaves:
        if isinstance(o, DualTracer) and o.trace is dual:
            ps.append(o.primal)
            ts.append(_fresh(o.tangent, seeds))
        else:
            ps.append(o)
            ts.append(_zeros_like(o))
    return unflatten(ps), unflatten(ts)


def jacfwd(f, argnums=0):
    """Jacobian by forward mode: D passes for D inputs, carried as one vectorised sweep (the
    tangent of each value gets a leading axis of D directions). Shape: output + input shape."""
    @functools.wraps(f)
    def jacfwd_f(*args):
        single, nums = _argnums(argnums, len(args))
        if any(isinstance(args[a], (tuple, list, dict)) for a in nums):
            return _tree_jacobian(jacfwd, f, argnums, args)
        per_arg = []
        out_unflat = None
        for a in nums:
            x = as_input(args[a], lambda: f"argument {a} of {_name(f)}")
            ishape = shape_of(x)
            d = math.prod(ishape)
            batched = d > 1     # one direction needs no direction axis: a plain jvp
            dual = DualTrace(batch=d if batched else None)
            if batched:
                seed = np.eye(d).reshape((d,) + tuple(ishape))
            else:
                seed = np.ones(ishape) if ishape else 1.0
            a2 = list(args)
            a2[a] = dual.new_input(x, seed)
            if _cost.ACTIVE:
                _cost.add_passes(forward=d, sweeps=1)
            out = call_user(f, *a2)
            out = _finished(dual, out, f, "jacfwd")
            leaves, out_unflat = tree_flatten(out)
            _check_leaks(o for o in leaves if not (isinstance(o, DualTracer) and o.trace is dual))
            jacs = []
            for o in leaves:
                oshape = shape_of(o.primal if isinstance(o, DualTracer) else o)
                if not (isinstance(o, DualTracer) and o.trace is dual):
                    jacs.append(np.zeros(tuple(oshape) + tuple(ishape)) if oshape or ishape else 0.0)
                    continue
                t = o.tangent
                if not ishape:
                    jacs.append(t)
                    continue
                if d == 0:                  # an empty input: an empty Jacobian (as JAX)
                    jacs.append(np.zeros(tuple(oshape) + tuple(ishape)))
                    continue
                if not batched:
                    jacs.append(P.np_reshape(t, tuple(oshape) + tuple(ishape)))
                    continue
                # (D, *out) -> (*out, *in)
                t = P.transpose(t, tuple(range(1, len(oshape) + 1)) + (0,)) if oshape else t
                jacs.append(P.np_reshape(t, tuple(oshape) + tuple(ishape)))
            per_arg.append(jacs)
        res = []
        for k in range(len(per_arg[0])):
            res.append(per_arg[0][k] if single else tuple(p[k] for p in per_arg))
        return out_unflat(res)
    return jacfwd_f


def _tree_jacobian(jac, f, argnums, args):
    """jacfwd/jacrev for arguments that are tuples/lists/dicts of arrays: differentiate with
    respect to every leaf, then give each output leaf's Jacobian the argument's structure."""
    single, nums = _argnums(argnums, len(args))
    flat, structs = [], []
    for a in nums:
        leaves, unflatten = tree_flatten(args[a])
        structs.append((len(flat), len(leaves), unflatten))
        flat.extend(leaves)
    out_tree = {}

    def of_leaves(*leaves):
        a2 = list(args)
        for a, (start, n, unflatten) in zip(nums, structs):
            a2[a] = unflatten(list(leaves[start:start + n]))
        out = f(*a2)
        out_leaves, out_tree["unflatten"] = tree_flatten(out)
        out_tree["n"] = len(out_leaves)
        return out
    J = tree_flatten(jac(of_leaves, argnums=tuple(range(len(flat))))(*flat))[0]
    per_out = []
    for k in range(out_tree["n"]):      # J: per output leaf, one Jacobian per input leaf
        row = J[k * len(flat):(k + 1) * len(flat)]
        per_arg = tuple(unflatten(row[start:start + n]) for start, n, unflatten in structs)
        per_out.append(per_arg[0] if single else per_arg)
    return out_tree["unflatten"](per_out)


def hessian(f, argnums=0):
    """Hessian as jacfwd(jacrev(f)): forward mode over reverse mode."""
    return jacfwd(jacrev(f, argnums), argnums)


def hvp(f, x, v, method=None):
    """Hessian-vector product H v in O(cost of f), without forming H (§8.2.2, Pearlmutter 1994).

    Args:
        method: how to compose the two modes. The two orderings of the book:
            "reverse-over-forward" — seed ẋ = v, run forward mode to get vᵀ∇f, then reverse mode
            on that code (tracers of both transformations); or "forward-over-reverse" — a forward
            pass (ẋ = v) through the gradient code, which also computes the gradient's own value
            (one more matrix-vector product for f(x) = Σ tanh(Ax)).
            None (default): forward over reverse carried out on one recorded trace
            (``second_order.py``: a tangent sweep, then an adjoint sweep that carries each
            adjoint's tangent and never forms the gradient itself) — faster on array code whose
            primitives have cheap second-order rules, about even elsewhere; where it cannot answer
            (tracers or trees as inputs, count_cost, errors and inf/nan to report), reverse over
            forward. All give the same H v.
    """
    if method is None:
        if not _cost.ACTIVE and second_order.applies(x, v):
            hv = second_order.hvp(f, x, v, call_user)
            if hv is not None:
                return _fresh(hv, (v,))
        method = "reverse-over-forward"     # f runs again, to report what the sweep handed back
    # (the internal calls skip building grad's wrapper function: hvp is often called in loops)
    if method in ("forward-over-reverse", "fwd-rev", "forward"):
        return jvp(lambda y: _value_and_grad(f, (y,), {}, (0,), True)[1], (x,), (v,))[1]
    if method in ("reverse-over-forward", "rev-fwd", "reverse"):
        return _value_and_grad(lambda y: jvp(f, (y,), (v,))[1], (x,), {}, (0,), True)[1]
    raise ValueError(f"hvp method must be None, 'forward-over-reverse' or "
                     f"'reverse-over-forward', not {method!r}")

# ---- the evaluation trace ----------------------------------------------------------------------


def trace(f, *args, **kwargs):
    """Run f once and record its evaluation trace (Wengert list) with every value.

    Each numeric argument becomes an input v1, v2, … (named after f's parameters); every
    elementary operation becomes a node v_{D+1}, … with its parents, value, source line and the
    name the code gave it. Outputs: whatever f returns (a value or a tuple of values).

    Example:
        >>> t = adnb.trace(lambda x1, x2: x1 * x2 + np.exp(x1 * x2) - np.sin(x2), 1.0, 2.0)
        >>> t.forward(), t.reverse()          # tangents and adjoints of every node
    """
    tr = Trace(explore=True)
    tr.function_name = _name(f)
    try:
        # one name per value, in the order of ``values`` below: positional parameters (then
        # *args as name1, name2, ...) for args, the keyword itself for kwargs
        sig = inspect.signature(f)
        sig.bind(*args, **kwargs)
        params = list(sig.parameters.values())
        pos = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        var = next((p.name for p in params if p.kind is p.VAR_POSITIONAL), "x")
        names = [pos[i] if i < len(pos) else f"{var}{i - len(pos) + 1}"
                 for i in range(len(args))] + list(kwargs)
    except (TypeError, ValueError):
        names = [f"x{i + 1}" for i in range(len(args))] + list(kwargs)
    values = list(args) + list(kwargs.values())
    boxed = []
    for name, val in zip(names, values):
        leaves, unflatten = tree_flatten(val)
        if len(leaves) == 1 and unflatten([0]) == 0:
            boxed.append(tr.new_input(as_input(val, f"argument '{name}'"), name))
        else:
            boxed.append(unflatten([tr.new_input(as_input(x, f"argument '{name}'"), f"{name}[{i}]")
                                    for i, x in enumerate(leaves)]))
    bargs = boxed[:len(args)]
    bkw = dict(zip(list(kwargs), boxed[len(args):]))
    out = materialize(_call_naming_returns(tr, f, bargs, bkw))
    outs, _ = tree_flatten(out)
    return tr.finish(outs)


def _call_naming_returns(tr, f, args, kwargs):
    """Run f; as each of the user's functions returns, name the values its locals still hold
    (the last value a function computes is never seen by the next operation's naming)."""
    if sys.getprofile() is not None:       # a profiler is running: don't displace it
        return call_user(f, *args, **kwargs)

    def on_return(frame, event, arg):
        if event == "return" and not is_machinery(frame.f_code.co_filename):
            tr._name_locals(frame)
    sys.setprofile(on_return)
    try:
        return call_user(f, *args, **kwargs)
    finally:
        sys.setprofile(None)


def value(x):
    """The plain number or array under a traced value (for printing; cuts the derivative)."""
    return unwrap(x)
