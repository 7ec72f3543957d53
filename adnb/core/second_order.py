"""Hessian-vector products by a second-order adjoint sweep over one recorded trace (§8.2.2).

    H v = d/dε ∇f(x + ε v) at ε = 0        (Pearlmutter 1994)

``hvp`` records f once (every value kept), runs a tangent sweep v̇_i seeded with ẋ = v, then one
reverse sweep that carries each adjoint v̄_i together with its tangent, written d(v̄_i). Adjoint
rules are linear in v̄, so the tangent of the contribution v̄_j ∂v_j/∂v_k is

    rule_k(d(v̄_j))  +  rule_k(v̄_j) differentiated along the tangents of v_j's values,

and the second term is cheap for most primitives: zero for a rule that reads no value
(``keep=""``: add, sum, reshape, ...); for a bilinear one (mul, matmul) the rule itself with the
other argument replaced by its tangent; v̄_j · d²v_j/dv_k² · v̇_k for an elementwise one with
``partials2`` (tanh, exp, ...); otherwise the rule run on dual numbers (the general case).

The input's own adjoint (the gradient) is never formed: for f(x) = Σ tanh(Ax) + x·x/2 this does
the 3 matrix-vector products of a hand-written HVP. Reverse over forward mode on tracers
(``api.hvp``'s general path) computes the same H v with about 1.5× the Python work (W4 in
benchmarks/: 593k instructions per call against 400k).
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import MissingRuleError
from .forward import DualTrace, DualTracer, broadcast_tangent
from .reverse import contribution, nonfinite, unbroadcast
from .trace import TapeTracer, Trace
from .tracer import shape_of


class _NotHere(Exception):
    """This sweep cannot give the general path's answer (hvp returns None)."""


def applies(x, v):
    """Whether ``hvp`` below can take (x, v) as they are: one float or float64 array each, alike."""
    if type(x) is float:
        return type(v) is float
    return (type(x) is np.ndarray and type(v) is np.ndarray and x.dtype == np.float64
            and v.dtype == np.float64 and x.shape == v.shape)


def hvp(f, x, v, call):
    """H v of the scalar function f at x, or None where this sweep cannot give the answer the
    general path gives: an output that is not one traced scalar (the general path raises or warns
    as for grad), a missing or failing rule, or an inf/nan in H v (the general path reports where
    it came from). ``call`` runs the user's function (``api.call_user``)."""
    trace = Trace(keep_values=True)
    out = call(f, trace.new_input(x))
    if type(out) is not TapeTracer or out.trace is not trace:
        return None
    rows = trace.rows
    o = out.index
    shape = rows[o][5]
    if shape and math.prod(shape) != 1:
        return None
    try:
        tangents = _tangent_sweep(rows, v)
        result = _second_order_sweep(rows, tangents, o, np.ones(shape) if shape else 1.0)
    except (_NotHere, MissingRuleError, ZeroDivisionError):
        return None                         # (ZeroDivisionError: Python floats at a singular point)
    if result is None:                      # H v = 0: f is at most linear in x
        return np.zeros(x.shape) if type(x) is np.ndarray else 0.0
    if nonfinite(result):
        return None
    return result


def _tangent_sweep(rows, v):
    """v̇_i of every node, ẋ = v (node 0 is the one input)."""
    tan = [None] * len(rows)
    tan[0] = v
    for i in range(1, len(rows)):
        prim, parents, args, ans, params, shape = rows[i]
        t_out = None
        k = -1
        for p in parents:
            k += 1
            if p < 0 or tan[p] is None:
                continue
            c = _jvp(prim, k, tan[p], ans, args, params)
            if c is not None:
                t_out = c if t_out is None else t_out + c
        if t_out is not None and prim.elementwise and shape_of(t_out) != shape:
            t_out = broadcast_tangent(t_out, ans, None)
        tan[i] = t_out
    return tan


def _jvp(prim, k, t, ans, args, params):
    # (not forward.tangent_contribution: its inf/nan warnings would come twice, here and again
    # from the general path this sweep hands such a case to)
    if prim.jvp is None:
        raise _NotHere                      # no tangent rule: the general path reports it
    if prim.variadic:
        return prim.jvp[0](t, ans, *args, argnum=k, **params)
    rule = prim.jvp[k]
    return None if rule is None else rule(t, ans, *args, **params)


def _second_order_sweep(rows, tan, start, seed):
    """d(v̄_0): the tangent of the input's adjoint, which is H v."""
    n = start + 1
    adj, dadj = [None] * n, [None] * n
    adj[start] = seed
    for i in range(start, 0, -1):
        g = adj[i]
        if g is None:
            continue
        gd = dadj[i]
        prim, parents, args, ans, params, shape = rows[i]
        k = -1
        for p in parents:
            k += 1
            if p < 0:
                continue
            # the input's own adjoint (the gradient) is not needed: only its tangent
            c = contribution(prim, k, g, ans, args, params) if p > 0 else None
            cd = contribution(prim, k, gd, ans, args, params) if gd is not None else None
            if prim.keep:                   # (a rule that reads no value adds nothing here)
                extra = _rule_tangent(prim, k, g, ans, args, params, parents, tan, tan[i])
                if extra is not None:
                    cd = extra if cd is None else cd + extra
            if prim.elementwise:                            # sum over broadcast dimensions
                target = rows[p][5]
                if c is not None and shape_of(c) != target:
                    c = unbroadcast(c, target)
                if cd is not None and shape_of(cd) != target:
                    cd = unbroadcast(cd, target)
            if c is not None:
                adj[p] = c if adj[p] is None else adj[p] + c
            if cd is not None:
                dadj[p] = cd if dadj[p] is None else dadj[p] + cd
    return dadj[0]


def _rule_tangent(prim, k, g, ans, args, params, parents, tan, t_ans):
    """rule_k(g) differentiated along the tangents of the values it reads (g held fixed); for a
    rule that reads no value (``keep=""``) this is zero, and the caller does not ask."""
    if prim.bilinear:
        p = parents[1 - k]
        if p < 0 or tan[p] is None:
            return None
        swapped = (args[0], tan[p]) if k == 0 else (tan[p], args[1])
        return contribution(prim, k, g, ans, swapped, params)
    if prim.partials2 is not None:
        t = tan[parents[0]]
        return None if t is None else g * prim.partials2(ans, args[0]) * t
    # the general case: forward mode over the rule (its values as dual numbers)
    dual = DualTrace()
    d_ans = ans if t_ans is None else dual.new_input(ans, t_ans)
    d_args = [a if p < 0 or tan[p] is None else dual.new_input(a, tan[p])
              for a, p in zip(args, parents)]
    c = contribution(prim, k, g, d_ans, d_args, params)
    return c.tangent if type(c) is DualTracer and c.trace is dual else None
