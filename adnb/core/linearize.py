"""Reverse mode as forward mode plus transposition (JAX's ``linearize`` and ``linear_transpose``).

``linearize(f, x)`` evaluates f once, recording it, and returns f(x) with the linear map
ẋ ↦ J ẋ: a tangent sweep over the recorded trace, without running f again. Every tangent rule
is linear in the tangents, so that map is a program of linear operations only (scale by a
constant, add, sum, reshape, matmul by a constant matrix...).

``linear_transpose(f_lin, x)`` turns any such linear program around: record it, and run its
operations backwards, each replaced by its transpose (a scale by the same constant, a copy to
both summands, a broadcast, a matmul by the transposed matrix). The result ū ↦ Jᵀū is exactly
what one reverse sweep computes, so ``linear_transpose(linearize(f, x)[1], x)(u) == vjp(f, x)[1](u)``:
the dot-product identity uᵀ(J v) = (Jᵀu)ᵀ v, made into an algorithm.
"""
from __future__ import annotations

import numpy as np

from ..errors import ADNBError
from .tracer import Tracer, shape_of

__all__ = ["linearize", "linear_transpose", "NotLinearError"]


class NotLinearError(ADNBError, TypeError):
    """``linear_transpose`` was given a function that is not linear in its inputs."""


# operations linear in all their traced arguments (their adjoint rules read no value)
_LINEAR_IN_ALL = {"add", "sub", "neg", "sum", "cumsum", "reshape", "transpose", "broadcast_to",
                  "getitem", "untake", "concatenate", "stop_gradient"}
# linear in one traced argument at a time, the others constant
_LINEAR_IN_ONE = {"mul": (0, 1), "matmul": (0, 1), "einsum": None, "div": (0,),
                  "where": (1, 2)}


def _as_float(x, what):
    from .api import as_input
    return as_input(x, what)


def linearize(f, *primals):
    """Evaluate f at ``primals`` and return ``(f(*primals), f_jvp)``; ``f_jvp(*tangents)`` is
    J·tangents, computed by a tangent sweep over the trace recorded here (f is not run again).

    ``f_jvp.trace`` is the recorded trace (every value kept), for displays.
    """
    from .forward import _sweep
    from .trace import TapeTracer, Trace
    tr = Trace(keep_values=True)
    ins = [tr.new_input(_as_float(p, f"primal {k}")) for k, p in enumerate(primals)]
    out = f(*ins)
    if isinstance(out, (tuple, list, dict)):
        raise ADNBError("adnb.linearize takes functions with one output (a float or an array)")
    traced = type(out) is TapeTracer and out.trace is tr
    tr.finish([out])
    y = out.primal if traced else out
    shapes = [shape_of(p) for p in primals]

    def f_jvp(*tangents):
        if len(tangents) != len(primals):
            raise TypeError(f"f_jvp takes {len(primals)} tangent(s), one per primal, got "
                            f"{len(tangents)}")
        for k, (t, s) in enumerate(zip(tangents, shapes)):
            if tuple(shape_of(t)) != tuple(s):
                raise ValueError(f"tangent {k} has shape {shape_of(t)}, its primal {s}")
        zero = np.zeros(shape_of(y)) if shape_of(y) else 0.0
        if not traced:
            return zero
        seeds = {i: (t if isinstance(t, Tracer) else _as_float(t, f"tangent {k}"))
                 for k, (i, t) in enumerate(zip(tr.inputs, tangents))}
        t_out = _sweep(tr, seeds)[out.index]
        return zero if t_out is None else t_out
    f_jvp.trace = tr
    f_jvp.__name__ = f"jvp_of_{getattr(f, '__name__', 'f')}"
    return y, f_jvp


def record_linear(f_lin, *primals, explore=False):
    """Record the linear function f_lin on inputs shaped like ``primals``; check it is linear.

    Returns ``(trace, output tracer or constant)``.
    """
    from .trace import Trace
    tr = Trace(explore=explore)
    ins = [tr.new_input(np.zeros(shape_of(p)) if shape_of(p) else 0.0,
                        f"ẋ{k + 1}" if explore else None) for k, p in enumerate(primals)]
    out = f_lin(*ins)
    check_linear(tr, getattr(f_lin, "__name__", "the function"))
    tr.finish([out], ["ẏ"] if explore else None)
    return tr, out


def check_linear(trace, name="the function", hint=None):
    """Raise ``NotLinearError`` at the first operation that is not linear in the traced inputs."""
    hint = hint or ("linear_transpose takes linear maps such as the f_jvp of adnb.linearize.")
    for node in trace.nodes:
        if node.prim is None:
            continue
        traced = [k for k, p in enumerate(node.parents) if p >= 0]
        op = node.prim.name
        if op in _LINEAR_IN_ALL:
            if op in ("add", "sub") and len(traced) < 2 and np.any(
                    np.asarray(node.args[1 - traced[0]]) != 0):
                raise NotLinearError(f"{name} is affine, not linear: {node.label} = "
                                     f"{node.formula()} adds a constant. Subtract f(0) first.")
            continue
        allowed = _LINEAR_IN_ONE.get(op, ())
        if op in _LINEAR_IN_ONE and len(traced) == 1 and (allowed is None or traced[0] in allowed):
            continue
        raise NotLinearError(
            f"{name} is not linear in its inputs: {node.label} = {node.formula()} ({op}) "
            f"is not a linear operation of them, so it has no transpose. {hint}")


def linear_transpose(f_lin, *primals):
    """The transpose of the linear function ``f_lin`` (``jax.linear_transpose``): returns
    ``f_t(u) -> (ū_1, …)`` with one cotangent per primal, Σ_k ⟨ū_k, v_k⟩ = ⟨u, f_lin(v)⟩.

    ``primals`` give the inputs' shapes (their values are not used). f_lin is recorded once on
    zero inputs; each call of f_t is one reverse sweep of that record.
    """
    from .reverse import backward
    from .trace import TapeTracer
    tr, out = record_linear(f_lin, *primals)
    traced = type(out) is TapeTracer and out.trace is tr
    out_shape = shape_of(out.primal if traced else out)

    def f_t(u):
        if tuple(shape_of(u)) != tuple(out_shape):
            raise ValueError(f"cotangent of shape {shape_of(u)} for an output of shape "
                             f"{out_shape}")
        adj = backward(tr, {out.index: _as_float(u, "cotangent")}) if traced else None
        res = []
        for i, p in zip(tr.inputs, primals):
            a = adj[i] if adj is not None else None
            res.append(a if a is not None else (np.zeros(shape_of(p)) if shape_of(p) else 0.0))
        return tuple(res)
    f_t.trace = tr
    return f_t
