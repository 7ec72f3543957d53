"""Adding a numpy function is one block: a primitive defined here, in this file only, is right in
both modes, in the trace table, on the graph's edges and in the generated code, with nothing
about it written anywhere else (docs/ARCHITECTURE.md, "Adding a numpy function").

The block is not registered (``Primitive(...)``, not ``define_primitive``), so the package's
registry stays as it was; the user's code calls it directly.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import adnb
from adnb.core import primitives as P
from adnb.core.registry import Primitive
from adnb.display.codegen import adjoint_code, compile_code, tangent_code
from adnb.display.graph import to_networkx
from adnb.display.html import trace_table

# softplus(x) = ln(1 + eˣ), d/dx = 1 / (1 + e⁻ˣ): the block -- value, partial, display formula,
# the Python spelling of its value for generated code, and what the reverse sweep keeps
softplus = Primitive(
    "softplus", lambda x: np.logaddexp(0.0, x), elementwise=True, keep="args",
    formula="softplus({0})", code="np.logaddexp(0.0, {0})",
    partials=(lambda ans, x: 1.0 / (1.0 + P.exp(-x)),))

# a non-elementwise one: cumulative product along a vector, explicit tangent and adjoint rules
# (for x without zeros): d cumprod_i = cumprod_i Σ_{j≤i} dx_j / x_j
cumprod = Primitive(
    "cumprod", lambda x: np.cumprod(x), keep="both", formula="cumprod({0})",
    jvp=(lambda t, ans, x: ans * P.cumsum(t / x, axis=0),),
    vjp=(lambda g, ans, x: P.getitem(P.cumsum(P.getitem(g * ans, slice(None, None, -1)), axis=0),
                                     slice(None, None, -1)) / x,))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def f(x, y):
    return softplus(x * y) + np.sin(x)


X, Y = 0.7, -1.3


def test_both_modes_match_the_calculus():
    g = adnb.grad(f, argnums=(0, 1))(X, Y)
    s = sigmoid(X * Y)
    assert math.isclose(g[0], s * Y + math.cos(X), rel_tol=1e-13)
    assert math.isclose(g[1], s * X, rel_tol=1e-13)
    _, t = adnb.jvp(f, (X, Y), (1.0, 0.0))
    assert math.isclose(t, g[0], rel_tol=1e-13)
    v = np.array([0.3, -2.0, 1.5])
    assert adnb.check_grads(lambda v: softplus(v * v), (v,), order=2)
    assert adnb.check_grads(lambda v: cumprod(v * 1.5), (v,), order=1)


def test_trace_table_and_graph_edges_show_the_block():
    t = adnb.trace(f, X, Y)
    html = trace_table(t, t.forward(), t.reverse())
    assert "softplus(v<sub>3</sub>)" in html or "softplus(v3)" in html
    g = to_networkx(t, t.forward(), t.reverse())
    edge = g.edges["v3", "v4"]
    assert edge["formula"] == "1 / (1 + exp(−v3))"              # ∂v4/∂v3, from the partial
    assert math.isclose(edge["partial"], sigmoid(X * Y), rel_tol=1e-15)


def test_generated_code_runs_to_the_sweeps_numbers():
    t = adnb.trace(f, X, Y)
    tan, adj = tangent_code(t), adjoint_code(t)
    assert "v4 = np.logaddexp(0.0, v3)" in tan
    assert "v4_dot = v3_dot * (1.0 / (1.0 + exp(-v3)))" in tan
    f_tan, f_adj = compile_code(tan), compile_code(adj)
    assert f_tan(X, Y, 1.0, 0.0)[1] == t.forward().tangents[0][t.outputs[0]]
    assert f_adj(X, Y)[1] == tuple(t.reverse().gradient(0))


def test_non_elementwise_rules_reach_every_view():
    x = np.array([0.5, -1.25, 2.0])
    t = adnb.trace(lambda x: P.np_sum(cumprod(x)), x)
    g = adnb.grad(lambda x: P.np_sum(cumprod(x)))(x)
    eps = 1e-6
    numeric = [(np.sum(np.cumprod(x + eps * e)) - np.sum(np.cumprod(x - eps * e))) / (2 * eps)
               for e in np.eye(3)]
    np.testing.assert_allclose(g, numeric, rtol=1e-8)
    np.testing.assert_array_equal(t.reverse().gradient(0)[0], g)
    g_net = to_networkx(t, t.forward(), t.reverse())
    assert g_net.edges["v1", "v2"]["formula"] == "v2 cumsum(v̇1 / v1, axis=0)"   # the jvp rule
    from adnb.display._rules import vjp_text
    names = [f"v{i + 1}" for i in range(len(t.nodes))]
    assert vjp_text(t.nodes[1], 0, names, "v̄2") == \
        "cumsum((v̄2 v2)[::-1], axis=0)[::-1] / v1"
    adj = adjoint_code(t)
    assert "v1_bar = apply('cumsum', (v2_bar * v2)[slice(None, None, (-1))], axis=0)" \
        "[slice(None, None, (-1))] / v1" in adj


@pytest.mark.parametrize("which", ["tangent", "adjoint"])
def test_unregistered_non_elementwise_code_says_so(which):
    """Generated code calls a primitive without a ``code=`` template by its registered name;
    an unregistered one can only be read, not run -- compile_code reports the name."""
    t = adnb.trace(lambda x: P.np_sum(cumprod(x)), np.array([0.5, -1.25, 2.0]))
    src = (tangent_code if which == "tangent" else adjoint_code)(t)
    assert "apply('cumprod'" in src
