"""Property-based random programs: forward mode == reverse mode == central differences.

Hypothesis builds small random expression DAGs over a safe set of unary and binary operations.
Operands are drawn from *all* earlier values, so values are reused (fan-out) and inputs feed
several operations, the situation where an adjoint sweep that overwrites instead of adding goes
wrong. Each program is run on plain numpy and differentiated with jacfwd, jacrev, jvp/vjp and
central differences; the inputs are a scalar and a vector, so broadcasting is exercised too.
"""
from __future__ import annotations

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

import adnb  # noqa: E402

# smooth, bounded-derivative operations (no singularities on the reals)
UNARY = {
    "sin": np.sin,
    "cos": np.cos,
    "tanh": np.tanh,
    "arctan": np.arctan,
    "softplus": lambda a: np.log1p(np.exp(np.tanh(a))),
    "exp∘sin": lambda a: np.exp(np.sin(a)),
    "sqrt(1+a²)": lambda a: np.sqrt(1.0 + a * a),
    "neg": lambda a: -a,
    "square": lambda a: a * a,
    "scale": lambda a: 0.5 * a + 0.25,
}
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (1.5 + np.sin(b)),
    "hypot-ish": lambda a, b: np.sqrt(1.0 + a * a + b * b),
    "mix": lambda a, b: np.tanh(a) * np.cos(b),
}


@st.composite
def programs(draw):
    """A list of steps (op, operand indices); values 0 and 1 are the inputs x (scalar) and v
    (vector); step k produces value k + 2 from any earlier values."""
    n_steps = draw(st.integers(min_value=1, max_value=8))
    steps = []
    for k in range(n_steps):
        n_avail = k + 2
        if draw(st.booleans()):
            op = draw(st.sampled_from(sorted(UNARY)))
            steps.append((op, (draw(st.integers(0, n_avail - 1)),)))
        else:
            op = draw(st.sampled_from(sorted(BINARY)))
            a = draw(st.integers(0, n_avail - 1))
            b = draw(st.integers(0, n_avail - 1))     # a == b: the same value used twice
            steps.append((op, (a, b)))
    # output: a combination of the last value and one more value (more fan-out)
    extra = draw(st.integers(0, n_steps + 1))
    return steps, extra


def run(program, x, v):
    steps, extra = program
    vals = [x, v]
    for op, args in steps:
        if len(args) == 1:
            vals.append(UNARY[op](vals[args[0]]))
        else:
            vals.append(BINARY[op](vals[args[0]], vals[args[1]]))
    out = vals[-1] + 0.5 * vals[extra]
    return out * np.ones(3)       # always the vector shape (also for scalar-only programs)


def describe(program):
    steps, extra = program
    lines = [f"v{k + 2} = {op}({', '.join(f'v{a}' for a in args)})" for k, (op, args) in
             enumerate(steps)]
    return "; ".join(lines) + f"; out = v{len(steps) + 1} + 0.5 v{extra}"


def _numerical(f, args, i, eps=1e-6):
    def g(xi):
        a = list(args)
        a[i] = xi if np.ndim(args[i]) else float(xi)
        return f(*a)
    return adnb.numerical_jacobian(g, args[i], eps=eps)


@settings(max_examples=50, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(program=programs(),
       x=st.floats(-1.5, 1.5),
       v=st.lists(st.floats(-1.5, 1.5), min_size=3, max_size=3))
def test_random_programs_forward_equals_reverse(program, x, v):
    v = np.array(v)

    def f(x, v):
        return run(program, x, v)
    Jf = adnb.jacfwd(f, argnums=(0, 1))(x, v)
    Jr = adnb.jacrev(f, argnums=(0, 1))(x, v)
    for i, arg in enumerate((x, v)):
        a = np.asarray(Jf[i], dtype=float)
        b = np.asarray(Jr[i], dtype=float)
        assert a.shape == b.shape == (3,) + np.shape(arg), describe(program)
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=describe(program))
        num = _numerical(f, (x, v), i)
        np.testing.assert_allclose(a, num, rtol=1e-5, atol=1e-6, err_msg=describe(program))
    # one JVP and one VJP agree with the Jacobian
    r = (0.7, np.array([1.0, -2.0, 0.5]))
    _, jr = adnb.jvp(f, (x, v), r)
    np.testing.assert_allclose(jr, np.asarray(Jf[0]) * r[0] + np.asarray(Jf[1]) @ r[1],
                               rtol=1e-10, atol=1e-12, err_msg=describe(program))
    u = np.array([0.3, -1.0, 2.0])
    _, pullback = adnb.vjp(f, x, v)
    ux, uv = pullback(u)
    np.testing.assert_allclose(ux, u @ np.asarray(Jr[0]), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(uv, u @ np.asarray(Jr[1]), rtol=1e-10, atol=1e-12)


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(program=programs(), x=st.floats(-1.5, 1.5))
def test_random_programs_trace_sweeps(program, x):
    """The explored trace's forward and reverse sweeps agree with each other and with grad."""
    v = np.array([0.2, -0.4, 0.9])

    def f(x):
        return np.sum(run(program, x, v))
    t = adnb.trace(f, x)
    fwd = t.forward().output_tangents(0)[0]
    rev = t.reverse().gradient(0)[0] if t.outputs[0] >= 0 else 0.0
    g = adnb.grad(f)(x) if t.outputs[0] >= 0 else 0.0
    fwd = 0.0 if fwd is None else fwd
    rev = 0.0 if rev is None else rev
    assert float(fwd) == pytest.approx(float(rev), rel=1e-10, abs=1e-12), describe(program)
    assert float(g) == pytest.approx(float(rev), rel=1e-10, abs=1e-12), describe(program)
