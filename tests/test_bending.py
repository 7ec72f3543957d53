"""Bending the rules (issue 15): custom_jvp, custom_vjp, stop_gradient, checkpoint, linearize and
linear_transpose — against closed forms, central differences, plain AD and JAX."""
import warnings

import numpy as np
import pytest

import adnb
from adnb import CustomRuleError
from adnb.course import peak_bytes


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


@adnb.custom_jvp
def softplus(x):
    return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0.0)


@softplus.defjvp
def softplus_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return softplus(x), t * 0.5 * (1 + np.tanh(x / 2))       # σ(x), without overflow


@pytest.fixture(scope="module")
def jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_platforms", "cpu")
    return jax


# ---- custom_jvp -------------------------------------------------------------------------------

def test_naive_softplus_gradient_is_wrong_at_800_and_the_rule_fixes_it():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        naive = adnb.grad(lambda x: np.log(1 + np.exp(x)))(800.0)
    assert naive != 1.0                       # AD differentiated the overflow
    assert adnb.grad(softplus)(800.0) == 1.0
    assert adnb.grad(softplus)(-800.0) == 0.0


@pytest.mark.parametrize("x", [-3.0, -0.2, 0.0, 0.7, 5.0])
def test_custom_jvp_every_mode_matches_the_closed_form(x):
    s = sigmoid(x)
    assert adnb.grad(softplus)(x) == pytest.approx(s, rel=1e-14)
    assert adnb.jvp(softplus, (x,), (2.5,))[1] == pytest.approx(2.5 * s, rel=1e-14)
    # the rule is itself differentiated: second derivatives go through it
    d2 = s * (1 - s)
    assert adnb.grad(adnb.grad(softplus))(x) == pytest.approx(d2, rel=1e-12)
    assert adnb.hessian(softplus)(x) == pytest.approx(d2, rel=1e-12)
    assert adnb.hvp(softplus, x, 1.5) == pytest.approx(1.5 * d2, rel=1e-12)
    for method in ("forward-over-reverse", "reverse-over-forward"):
        assert adnb.hvp(softplus, x, 1.5, method=method) == pytest.approx(1.5 * d2, rel=1e-12)


def test_custom_jvp_on_arrays_jacobians(rng):
    x = rng.normal(size=5)
    want = np.diag(sigmoid(x))
    np.testing.assert_allclose(adnb.jacfwd(softplus)(x), want, rtol=1e-14)
    np.testing.assert_allclose(adnb.jacrev(softplus)(x), want, rtol=1e-14)
    s = sigmoid(x)
    np.testing.assert_allclose(adnb.hessian(lambda x: np.sum(softplus(x)))(x),
                               np.diag(s * (1 - s)), rtol=1e-12)


def test_custom_jvp_reverse_mode_calls_the_rule_once_for_all_arguments(rng):
    calls = []

    @adnb.custom_jvp
    def f(x, y, z):
        return x * np.sin(y) + z ** 2

    @f.defjvp
    def f_jvp(primals, tangents):
        calls.append(1)
        (x, y, z), (tx, ty, tz) = primals, tangents
        return f(x, y, z), tx * np.sin(y) + x * np.cos(y) * ty + 2 * z * tz

    args = (0.3, 1.1, -0.4)
    g = adnb.grad(f, argnums=(0, 1, 2))(*args)
    assert len(calls) == 1                      # one transposed rule, not D forward passes
    plain = adnb.grad(lambda x, y, z: x * np.sin(y) + z ** 2, argnums=(0, 1, 2))(*args)
    np.testing.assert_allclose(g, plain, rtol=1e-15)
    x, y = rng.normal(size=3), rng.normal(size=3)
    np.testing.assert_allclose(adnb.jacrev(f, argnums=1)(x, y, 2.0), np.diag(x * np.cos(y)),
                               rtol=1e-14)
    np.testing.assert_allclose(adnb.jacfwd(f, argnums=1)(x, y, 2.0), np.diag(x * np.cos(y)),
                               rtol=1e-14)


def test_custom_jvp_nondiff_argnums():
    @adnb.custom_jvp
    def scaled_tanh(k, x):
        return np.tanh(k * x)

    scaled_tanh.nondiff_argnums = (0,)

    @scaled_tanh.defjvp
    def rule(k, primals, tangents):
        (x,), (t,) = primals, tangents
        y = np.tanh(k * x)
        return y, k * (1 - y * y) * t

    x = 0.4
    assert adnb.grad(lambda x: scaled_tanh(3, x))(x) == pytest.approx(3 / np.cosh(3 * x) ** 2,
                                                                      rel=1e-14)


def test_custom_jvp_against_jax(jax, rng):
    jnp = jax.numpy

    @jax.custom_jvp
    def jsoftplus(x):
        return jnp.log1p(jnp.exp(-jnp.abs(x))) + jnp.maximum(x, 0.0)

    @jsoftplus.defjvp
    def jsoftplus_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return jsoftplus(x), t * (1 / (1 + jnp.exp(-x)))

    for x in (800.0, -1.3, 0.25):
        assert adnb.grad(softplus)(x) == pytest.approx(float(jax.grad(jsoftplus)(x)), rel=1e-14)
        assert adnb.hessian(softplus)(x) == pytest.approx(float(jax.hessian(jsoftplus)(x)),
                                                          rel=1e-12, abs=1e-300)
    x = rng.normal(size=4)
    np.testing.assert_allclose(adnb.jacrev(softplus)(x), jax.jacrev(jsoftplus)(x), rtol=1e-14)


def test_check_grads_passes_a_right_rule_and_catches_a_wrong_one():
    assert adnb.check_grads(softplus, (0.3,), order=2)

    @adnb.custom_jvp
    def bad_softplus(x):
        return np.log1p(np.exp(x))

    @bad_softplus.defjvp
    def bad_rule(primals, tangents):                # forgot the minus sign in exp(-x)
        (x,), (t,) = primals, tangents
        return bad_softplus(x), t / (1 + np.exp(x))

    with pytest.raises(AssertionError, match="bad_softplus"):
        adnb.check_grads(bad_softplus, (0.3,), modes=("fwd",))
    with pytest.raises(AssertionError, match="bad_softplus"):
        adnb.check_grads(bad_softplus, (0.3,), modes=("rev",))


# ---- mistakes name the rule -------------------------------------------------------------------

def test_custom_jvp_without_defjvp():
    @adnb.custom_jvp
    def f(x):
        return x

    with pytest.raises(CustomRuleError, match="defjvp"):
        adnb.grad(f)(1.0)


@pytest.mark.parametrize("out, match", [
    (lambda x, t: (x, t, t), "must return a pair"),
    (lambda x, t: x * 2, "must return a pair"),
    (lambda x, t: (x, np.ones(3) * t[0]), r"tangent output .* shape \(3,\).* shape \(2,\)"),
    (lambda x, t: (np.sum(x), t), r"primal output .* shape \(\)"),
])
def test_custom_jvp_rule_mistakes(out, match):
    @adnb.custom_jvp
    def f(x):
        return 2 * x

    @f.defjvp
    def my_rule(primals, tangents):
        return out(primals[0], tangents[0])

    x = np.array([1.0, 2.0])
    with pytest.raises(CustomRuleError, match=match) as e:
        adnb.jvp(f, (x,), (np.ones(2),))
    assert "my_rule" in str(e.value)
    if "primal" not in match:
        with pytest.raises(CustomRuleError, match="my_rule"):
            adnb.vjp(f, x)[1](np.ones(2))


def test_custom_vjp_mistakes():
    @adnb.custom_vjp
    def f(x, y):
        return x * y

    with pytest.raises(CustomRuleError, match="defvjp"):
        adnb.grad(f)(1.0, 2.0)
    f.defvjp(lambda x, y: (x * y, (x, y)), lambda res, g: (g * res[1],))
    with pytest.raises(CustomRuleError, match=r"returned 1 cotangent\(s\).* 2 differentiable"):
        adnb.grad(f)(1.0, 2.0)
    f.defvjp(lambda x, y: (x * y, (x, y)), lambda res, g: g * res[1])
    with pytest.raises(CustomRuleError, match="must return a tuple"):
        adnb.grad(f)(1.0, 2.0)
    f.defvjp(lambda x, y: (x * y, (x, y)), lambda res, g: (np.ones(2), None))
    with pytest.raises(CustomRuleError, match=r"cotangent 0 .* shape \(2,\)"):
        adnb.grad(f)(1.0, 2.0)
    f.defvjp(lambda x, y: (x * y, (x, y)), lambda res, g: (g * res[1], None))
    assert adnb.grad(f, argnums=(0, 1))(3.0, 2.0) == (2.0, 0.0)     # None: zero
    with pytest.raises(CustomRuleError, match="forward mode"):
        adnb.jvp(f, (1.0, 2.0), (1.0, 0.0))
    with pytest.raises(CustomRuleError, match="forward mode"):
        adnb.jacfwd(f)(1.0, 2.0)


# ---- custom_vjp -------------------------------------------------------------------------------

@adnb.custom_vjp
def clip_gradient(lo, hi, x):
    return x


clip_gradient.nondiff_argnums = (0, 1)
clip_gradient.defvjp(lambda lo, hi, x: (x, None),
                     lambda lo, hi, res, g: (np.clip(g, lo, hi),))


def test_custom_vjp_clips_the_gradient_not_the_value(rng):
    def loss(x):
        return np.sum(clip_gradient(-1.0, 1.0, 3 * x) ** 2)

    x = np.array([0.1, 0.4, -2.0])
    assert loss(x) == np.sum((3 * x) ** 2)
    np.testing.assert_allclose(adnb.grad(loss)(x), 3 * np.clip(6 * x, -1, 1), rtol=1e-15)


def test_custom_vjp_residuals_and_second_order():
    @adnb.custom_vjp
    def my_sin(x):
        return np.sin(x)

    my_sin.defvjp(lambda x: (np.sin(x), np.cos(x)), lambda cos_x, g: (g * cos_x,))
    for x in (0.3, 2.0):
        assert adnb.grad(my_sin)(x) == pytest.approx(np.cos(x), rel=1e-15)
        # inside another differentiation fwd runs again on tracers: the residual's derivative
        assert adnb.grad(adnb.grad(my_sin))(x) == pytest.approx(-np.sin(x), rel=1e-14)
    x = np.array([0.2, 1.0])
    np.testing.assert_allclose(adnb.jacrev(adnb.jacrev(lambda x: np.sum(my_sin(x))))(x),
                               np.diag(-np.sin(x)), rtol=1e-14)
    assert adnb.check_grads(my_sin, (0.7,), modes=("rev",))


def test_custom_vjp_against_jax(jax):
    jnp = jax.numpy
    from functools import partial

    @partial(jax.custom_vjp, nondiff_argnums=(0, 1))
    def jclip(lo, hi, x):
        return x

    jclip.defvjp(lambda lo, hi, x: (x, None), lambda lo, hi, res, g: (jnp.clip(g, lo, hi),))
    x = np.array([0.1, 0.4, -2.0, 0.02])
    want = jax.grad(lambda x: jnp.sum(jclip(-1.0, 1.0, 3 * x) ** 2))(x)
    got = adnb.grad(lambda x: np.sum(clip_gradient(-1.0, 1.0, 3 * x) ** 2))(x)
    np.testing.assert_allclose(got, want, rtol=1e-15)


# ---- stop_gradient ----------------------------------------------------------------------------

def test_stop_gradient_every_mode_and_order(rng):
    def f(x):
        return x ** 3 * adnb.stop_gradient(x)          # treated as x³ c with c = x

    x = 1.7
    assert f(x) == x ** 4
    assert adnb.grad(f)(x) == pytest.approx(3 * x ** 3, rel=1e-15)
    assert adnb.jvp(f, (x,), (2.0,))[1] == pytest.approx(6 * x ** 3, rel=1e-15)
    assert adnb.hessian(f)(x) == pytest.approx(6 * x ** 2, rel=1e-15)
    assert adnb.grad(adnb.grad(f))(x) == pytest.approx(6 * x ** 2, rel=1e-15)
    assert adnb.hvp(f, x, 1.0) == pytest.approx(6 * x ** 2, rel=1e-15)
    assert adnb.grad(lambda x: adnb.stop_gradient(np.sin(x)))(x) == 0.0
    v = rng.normal(size=3)
    np.testing.assert_array_equal(adnb.jacfwd(adnb.stop_gradient)(v), np.zeros((3, 3)))
    np.testing.assert_array_equal(adnb.jacrev(lambda v: adnb.stop_gradient(v) * 1.0)(v),
                                  np.zeros((3, 3)))
    assert adnb.stop_gradient(v) is v


def test_stop_gradient_target_held_fixed_against_jax(jax):
    jnp = jax.numpy
    w, x, y = 0.8, np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.0, 3.0])

    def td(w, sg, np_):
        target = y + 0.9 * sg(w * x)                # a bootstrapped target, held fixed
        return np_.sum((w * x - target) ** 2)

    got = adnb.grad(lambda w: td(w, adnb.stop_gradient, np))(w)
    want = jax.grad(lambda w: td(w, jax.lax.stop_gradient, jnp))(w)
    assert got == pytest.approx(float(want), rel=1e-14)
    assert got == pytest.approx(np.sum(2 * (w * x - y - 0.9 * w * x) * x), rel=1e-14)


# ---- checkpoint -------------------------------------------------------------------------------

W = np.random.default_rng(7).normal(size=(30, 30)) / 6


def step(h):
    return np.tanh(W @ h + 0.1)


@pytest.mark.parametrize("every", [None, 1, 3, "sqrt", 25, "bisect"])
def test_checkpoint_loop_same_derivatives(every, rng):
    x = rng.normal(size=30)

    def f(x):
        return np.sum(adnb.checkpoint_loop(step, x, 20, every) ** 2)

    g_plain = adnb.grad(lambda x: np.sum(adnb.checkpoint_loop(step, x, 20, None) ** 2))(x)
    np.testing.assert_allclose(adnb.grad(f)(x), g_plain, rtol=1e-13)
    np.testing.assert_allclose(f(x), np.sum(adnb.checkpoint_loop(step, x, 20, None) ** 2))
    u = rng.normal(size=30)
    np.testing.assert_allclose(adnb.jvp(f, (x,), (u,))[1], g_plain @ u, rtol=1e-12)


def test_checkpoint_nested_and_second_order(rng):
    f = adnb.checkpoint(lambda x, y: np.sin(x) * y)
    assert adnb.grad(adnb.grad(lambda x: f(x, x)))(0.7) == pytest.approx(
        -np.sin(0.7) * 0.7 + 2 * np.cos(0.7), rel=1e-14)
    assert adnb.grad(f, argnums=(0, 1))(0.7, 2.0) == pytest.approx((2 * np.cos(0.7), np.sin(0.7)))
    assert adnb.remat is adnb.checkpoint
    x = rng.normal(size=30)
    h_cp = adnb.hessian(lambda x: np.sum(adnb.checkpoint_loop(step, x, 6, 2)))(x)
    h = adnb.hessian(lambda x: np.sum(adnb.checkpoint_loop(step, x, 6, None)))(x)
    np.testing.assert_allclose(h_cp, h, rtol=1e-12, atol=1e-15)


def test_checkpoint_against_jax(jax, rng):
    jnp = jax.numpy
    x = rng.normal(size=30)

    def jstep(h):
        return jnp.tanh(W @ h + 0.1)

    def jf(x):
        for _ in range(4):
            x = jax.checkpoint(lambda h: jstep(jstep(h)))(x)
        return jnp.sum(x ** 2)

    got = adnb.grad(lambda x: np.sum(adnb.checkpoint_loop(step, x, 8, 2) ** 2))(x)
    np.testing.assert_allclose(got, jax.grad(jf)(x), rtol=1e-12)


def test_checkpoint_memory_and_recomputation_counts():
    n, d = 400, 200
    Wb = np.random.default_rng(3).normal(size=(d, d)) / np.sqrt(d)

    def big_step(h):
        return np.tanh(Wb @ h)

    x = np.ones(d)

    def grad_of(every):
        return adnb.grad(lambda x: np.sum(adnb.checkpoint_loop(big_step, x, n, every)))

    grad_of(None)(x)                        # warm caches before measuring
    plain, sqrt = peak_bytes(lambda: grad_of(None)(x)), peak_bytes(lambda: grad_of("sqrt")(x))
    activation = d * 8
    assert plain > 0.9 * n * activation            # O(n): one activation kept per step
    assert sqrt < 0.2 * plain                      # O(√n): 20 segment inputs + one segment
    with adnb.count_cost() as c0:
        grad_of(None)(x)
    with adnb.count_cost() as c1:
        grad_of("sqrt")(x)
    loop_ops = 2 * n                               # matmul and tanh per step
    assert c0.ops["primal"] == loop_ops + 1 and c0.recomputed_ops == 0
    assert c1.recomputed_ops == loop_ops           # every step recomputed once: one extra pass
    assert c1.ops["primal"] == 2 * loop_ops + 1         # the loop twice, and the sum
    assert c1.ops["adjoint"] == c0.ops["adjoint"] and c1.reverse_passes == 1
    assert c1.tape_bytes - Wb.nbytes < (c0.tape_bytes - Wb.nbytes) / 5     # (W kept once)


# ---- linearize and linear_transpose -----------------------------------------------------------

A = np.random.default_rng(11).normal(size=(4, 3))


def g(x):
    h = np.tanh(A @ x)
    return h * np.sum(x ** 2) + np.exp(h[0]) * h


def test_linearize_equals_jvp_and_its_transpose_equals_vjp(rng):
    x, v, u = rng.normal(size=3), rng.normal(size=3), rng.normal(size=4)
    y, g_jvp = adnb.linearize(g, x)
    np.testing.assert_allclose(y, g(x), rtol=1e-15)
    np.testing.assert_allclose(g_jvp(v), adnb.jvp(g, (x,), (v,))[1], rtol=1e-14)
    g_t = adnb.linear_transpose(g_jvp, x)
    (ut_j,) = g_t(u)
    np.testing.assert_allclose(ut_j, adnb.vjp(g, x)[1](u)[0], rtol=1e-14)
    assert u @ g_jvp(v) == pytest.approx(ut_j @ v, rel=1e-13)     # uᵀ(J v) = (Jᵀu)ᵀ v
    J = adnb.jacfwd(g)(x)
    np.testing.assert_allclose(ut_j, J.T @ u, rtol=1e-13)


def test_linear_transpose_against_jax(jax, rng):
    jnp = jax.numpy
    x, u = rng.normal(size=3), rng.normal(size=4)

    def jg(x):
        h = jnp.tanh(A @ x)
        return h * jnp.sum(x ** 2) + jnp.exp(h[0]) * h

    _, jg_jvp = jax.linearize(jg, x)
    (want,) = jax.linear_transpose(jg_jvp, x)(u)
    (got,) = adnb.linear_transpose(adnb.linearize(g, x)[1], x)(u)
    np.testing.assert_allclose(got, want, rtol=1e-13)
    M = rng.normal(size=(2, 3))
    (got,) = adnb.linear_transpose(lambda t: M @ (2 * t), x)(np.ones(2))
    np.testing.assert_allclose(got, 2 * M.T @ np.ones(2), rtol=1e-15)


@pytest.mark.parametrize("f, what", [
    (lambda t: t * t, "not linear"), (lambda t: t + 1.0, "affine"),
    (lambda t: np.sin(t), "not linear")])
def test_linear_transpose_refuses_nonlinear_functions(f, what):
    with pytest.raises(adnb.NotLinearError, match=what):
        adnb.linear_transpose(f, 1.0)


# ---- seen in the trace ------------------------------------------------------------------------

def test_custom_function_is_one_row_of_the_trace():
    t = adnb.trace(lambda x: softplus(x) * adnb.stop_gradient(x), 0.5)
    ops = [n.prim.name for n in t.nodes if n.prim is not None]
    assert ops == ["softplus", "stop_gradient", "mul"]
    assert str(t).splitlines()[1] == "v2 = softplus(v1)"
    fwd, rev = t.forward(), t.reverse()
    assert rev.gradient()[0] == pytest.approx(sigmoid(0.5) * 0.5, rel=1e-14)
    assert fwd.output_tangents()[0] == pytest.approx(sigmoid(0.5) * 0.5, rel=1e-14)
    assert rev.adjoints[0][2] == pytest.approx(softplus(0.5))    # v̄3, then cut: nothing to v1


def test_checkpoint_loop_with_weights_and_closures_refused(rng):
    Wm, x = rng.normal(size=(5, 5)) / 3, rng.normal(size=(2, 5))

    def f(x, Wm, every):
        return np.sum(adnb.checkpoint_loop(lambda h, Wm: np.tanh(h @ Wm), x, 9, every, (Wm,)))

    g = adnb.grad(f, argnums=(0, 1))(x, Wm, None)
    for every in ("sqrt", 2, 4):
        for a, b in zip(adnb.grad(f, argnums=(0, 1))(x, Wm, every), g):
            np.testing.assert_allclose(a, b, rtol=1e-13)

    def closure(x, Wm):     # W from the enclosing code, not an argument: would lose dW
        return np.sum(adnb.checkpoint(lambda h: np.tanh(h @ Wm))(x))
    with pytest.raises(CustomRuleError, match="Pass that value as an argument"):
        adnb.grad(closure, argnums=(0, 1))(x, Wm)


def test_bisection_checkpoints_log_memory(rng):
    W = rng.normal(size=(16, 16)) / 4
    x = rng.normal(size=(4, 16))

    def stats(n, every):
        loss = lambda x: np.sum(adnb.checkpoint_loop(lambda h, W: np.tanh(h @ W), x, n, every, (W,)))
        with adnb.count_cost() as c:
            g = adnb.grad(loss)(x)
        return g, c

    g0, c0 = stats(64, None)
    g1, c1 = stats(64, "bisect")
    np.testing.assert_allclose(g1, g0, rtol=1e-13)
    assert c1.recomputed_ops == 5 * c0.ops["primal"] - 5      # 5 levels (64 → 2): 5 extra passes
    # each recorded trace keeps two halves' inputs, or a 2-step segment: bounded whatever n
    assert c1.tape_bytes - W.nbytes <= 3 * x.nbytes
    assert stats(256, "bisect")[1].tape_bytes == c1.tape_bytes
    assert c0.tape_bytes - W.nbytes >= 64 * x.nbytes


def test_a_tangent_rule_that_is_not_linear_is_refused_in_reverse_mode():
    @adnb.custom_jvp
    def f(x):
        return x ** 2

    @f.defjvp
    def squared_tangent(primals, tangents):
        (x,), (t,) = primals, tangents
        return x ** 2, 2 * x * t * t                 # not linear in t

    with pytest.raises(adnb.NotLinearError, match="squared_tangent.*linear in the tangents"):
        adnb.grad(f)(1.5)


def test_checkpoint_warns_when_the_recomputation_differs():
    rng = np.random.default_rng(0)

    def noisy(x):                                    # a fresh random number on every run
        return x * (1 + 0.1 * rng.normal())

    with pytest.warns(adnb.ADNBWarning, match="different value when the reverse sweep ran it"):
        adnb.grad(lambda x: adnb.checkpoint(noisy)(x) * 2.0)(1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")               # deterministic: no warning, scalar code too
        adnb.grad(lambda x: np.sum(adnb.checkpoint_loop(lambda h: np.tanh(h) * 1.5, x, 50)))(0.3)
