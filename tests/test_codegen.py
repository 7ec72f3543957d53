"""Generated tangent and adjoint code (adnb.display.codegen) runs to the sweeps' numbers, exactly.

Every statement of the generated code mirrors the rule the sweep uses, so the comparison is
``==`` (no tolerance), node by node, for the book's example and the whole test catalogue
(fan-out, constants, broadcasting, matmul, reductions, indexing, control flow, linear algebra).
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import adnb
from adnb.display.codegen import adjoint_code, compile_code, tangent_code
from functions import CATALOGUE, book_8_65


def _zeros_like(v):
    return np.zeros(np.shape(v)) if np.shape(v) else 0.0


def _same(generated, swept):
    """Exactly equal; a sweep's None (not reached) must be an exact zero in the code."""
    if swept is None:
        return not np.any(np.asarray(generated, dtype=float))
    g = np.asarray(generated, dtype=float)
    s = np.asarray(swept, dtype=float)
    return g.shape == s.shape and np.array_equal(g, s, equal_nan=True)


def check_tangent_code(t):
    fw = t.forward()
    f_tangent = compile_code(tangent_code(t, return_all=True))
    xs = [t.nodes[i].ans for i in t.inputs]
    for s, seed in enumerate(fw.seeds):
        dots = [seed.get(i, _zeros_like(t.nodes[i].ans)) for i in t.inputs]
        got = f_tangent(*xs, *dots)
        for n in t.nodes:
            assert _same(got[f"v{n.index + 1}"], n.ans), f"primal {n.label}"
            assert _same(got[f"v{n.index + 1}_dot"], fw.tangents[s][n.index]), \
                f"tangent {n.label} ({n.formula()}), seed {fw.labels[s]}"


def check_adjoint_code(t):
    rv = t.reverse()
    f_adjoint = compile_code(adjoint_code(t, return_all=True))
    xs = [t.nodes[i].ans for i in t.inputs]
    for s, seed in enumerate(rv.seeds):
        bars = [seed.get(o, _zeros_like(t.nodes[o].ans)) for o in t.outputs if o >= 0]
        got = f_adjoint(*xs, *bars)
        for n in t.nodes:
            key = f"v{n.index + 1}_bar"
            if key not in got:       # no path to an output: the sweep never reaches it either
                assert rv.adjoints[s][n.index] is None, n.label
                continue
            assert _same(got[key], rv.adjoints[s][n.index]), \
                f"adjoint {n.label} ({n.formula()}), seed {rv.labels[s]}"


def test_book_example_reads_like_the_book():
    t = adnb.trace(book_8_65, 1.0, 2.0)
    tan = tangent_code(t)
    assert "def book_8_65_tangent(x1, x2, x1_dot, x2_dot):" in tan
    assert "    v3_dot = v1_dot * v2 + v2_dot * v1\n" in tan              # (8.60)
    assert "    v4_dot = v2_dot * cos(v2)\n" in tan                         # (8.61)
    assert "    v5_dot = v3_dot * v5\n" in tan                              # (8.62): exp(v3) = v5
    assert "    v6_dot = v3_dot - v4_dot\n" in tan                          # (8.63)
    assert "# line " in tan and ": v3 = x1 * x2" in tan                   # back to the source
    adj = adjoint_code(t)
    assert "def book_8_65_adjoint(x1, x2, f1_bar, f2_bar):" in adj
    assert "    v4_bar = -v6_bar" in adj                                    # (8.73)
    assert "    v3_bar = v5_bar * v5 + v6_bar" in adj                       # (8.74)
    assert "    v2_bar = v3_bar * v1 + v4_bar * cos(v2)" in adj             # (8.75) corrected
    assert "    v1_bar = v3_bar * v2" in adj                                # (8.76)
    assert "from adnb.display.codegen_runtime import cos, exp, sin" in adj


def test_book_example_runs_to_the_sweeps_numbers():
    t = adnb.trace(book_8_65, 1.0, 2.0)
    f_tangent = compile_code(tangent_code(t))
    f_adjoint = compile_code(adjoint_code(t))
    fw, rv = t.forward(), t.reverse()
    assert f_tangent(1.0, 2.0, 1.0, 0.0) == (tuple(t.output_values), tuple(fw.output_tangents(0)))
    assert f_tangent(1.0, 2.0, 0.0, 1.0)[1] == tuple(fw.output_tangents(1))
    assert f_adjoint(1.0, 2.0, 1.0, 0.0)[1] == tuple(rv.gradient(0))
    assert f_adjoint(1.0, 2.0, 0.0, 1.0)[1] == tuple(rv.gradient(1))
    # §10.1: J r with r = (1, -1) in one forward pass; uᵀJ with u = (1, 2) in one reverse pass
    jr = f_tangent(1.0, 2.0, 1.0, -1.0)[1]
    assert np.allclose(jr, (7.972909262383508, 12.373386278724341), rtol=1e-12)
    ujt = f_adjoint(1.0, 2.0, 1.0, 2.0)[1]
    assert np.allclose(ujt, (78.5713865953161, 45.85170477548391), rtol=1e-12)
    check_tangent_code(t)
    check_adjoint_code(t)


def test_scalar_output_gets_a_default_seed():
    t = adnb.trace(lambda x, y: np.tanh(x * y) / y, 0.3, 2.0)
    f_adjoint = compile_code(adjoint_code(t))
    assert f_adjoint(0.3, 2.0)[1] == tuple(t.reverse().gradient(0))


def test_array_code_emits_numpy():
    def net(W, x, b):
        a = W @ x + b                      # matmul, broadcasting add
        z = np.tanh(a)
        return np.sum(z ** 2, axis=0) * 0.5
    W = np.arange(6.0).reshape(3, 2) / 7
    t = adnb.trace(net, W, np.array([[0.5], [-1.0]]), np.array([0.1, 0.2, 0.3])[:, None] * np.ones((1, 1)))
    tan, adj = tangent_code(t), adjoint_code(t)
    assert "v4 = v1 @ v2" in tan and "v4_dot = v1_dot @ v2 + v1 @ v2_dot" in tan
    assert "v8 = np.sum(v7, axis=(0,), keepdims=False)" in tan
    # matmul's adjoint rules (x̄ = ḡ yᵀ, ȳ = xᵀ ḡ) as the block writes them: g @ _mT(y)
    assert "v1_bar = v4_bar @ np.transpose(v2, (1, 0))" in adj
    assert "v2_bar = np.transpose(v1, (1, 0)) @ v4_bar" in adj
    assert "np.broadcast_to(np.reshape(" in adj
    check_tangent_code(t)
    check_adjoint_code(t)


def test_broadcasting_sums_back_in_adjoint_code():
    t = adnb.trace(lambda a, b: np.sum(a * b + a), np.array([[2.0], [1.0]]),
                   np.array([1.0, 2.0, 3.0]))
    adj = adjoint_code(t)
    assert "unbroadcast(" in adj and "import" in adj
    check_tangent_code(t)
    check_adjoint_code(t)


def test_constants_and_odd_input_names():
    big = np.linspace(0.0, 1.0, 12)

    def f(x):
        return np.sum((x[0] * big - 0.25) ** 2) + x[1] * -3.0
    t = adnb.trace(f, [1.5, 2.0])           # a list input: inputs named "x[0]", "x[1]"
    src = tangent_code(t)
    assert "def f_tangent(x1, x2, x1_dot, x2_dot):" in src
    assert "_c1 = np.array([0.0, 0.09090909090909091" in src   # big constants hoisted, exact
    assert "(-3.0)" in src and "((-3.0))" not in src       # a constant factor: one bracket
    check_tangent_code(t)
    check_adjoint_code(t)


def test_generated_code_has_no_unreached_adjoints():
    def f(x, y):
        unused = np.sin(y)             # noqa: F841 -- no path to the output
        return x * 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = adnb.trace(f, 1.0, 2.0)
    adj = adjoint_code(t)
    assert "v3_bar" not in adj                    # v3 = sin(v2) never reaches the output
    assert compile_code(adj)(1.0, 2.0)[1] == (2.0, 0.0)


@pytest.mark.parametrize("case", CATALOGUE, ids=lambda c: c.name)
def test_catalogue_code_matches_the_sweeps(case):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = adnb.trace(case.f, *case.args)
        check_tangent_code(t)
        check_adjoint_code(t)
