"""Issue 13: adnb's derivatives of numpy functions against JAX and HIPS autograd (where they
have the function), and hypothesis-generated compositions against central differences and the
other mode.

Each case is written once against a numpy-like module ``m`` (numpy, jax.numpy or
autograd.numpy), so the three systems differentiate the very same program.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import adnb

rng = np.random.default_rng(7)
A = rng.standard_normal((3, 4))
P = rng.uniform(0.5, 2.0, (3, 4))
U = rng.uniform(-0.9, 0.9, (3, 4))
S = rng.standard_normal((3, 3)) + 3 * np.eye(3)
SPD = A @ A.T + np.eye(3)
V = rng.standard_normal(5)

# (id, program against module m, argument): smooth at the argument
CASES = [
    ("log2", lambda m: m.log2, P), ("log10", lambda m: m.log10, P), ("exp2", lambda m: m.exp2, A),
    ("arcsinh", lambda m: m.arcsinh, A), ("arccosh", lambda m: m.arccosh, P + 1.0),
    ("arctanh", lambda m: m.arctanh, U), ("cbrt", lambda m: m.cbrt, P),
    ("hypot", lambda m: lambda a: m.hypot(a, 2.0 * a + 1.0), A),
    ("logaddexp", lambda m: lambda a: m.logaddexp(a, a[::-1]), A),
    ("logaddexp2", lambda m: lambda a: m.logaddexp2(a, 1.0 - a), A),
    ("sinc", lambda m: m.sinc, A), ("deg2rad", lambda m: m.deg2rad, A),
    ("rad2deg", lambda m: m.rad2deg, A), ("fmod", lambda m: lambda a: m.fmod(3 * a, 1.3), A),
    ("flip", lambda m: lambda a: m.flip(a, 1), A), ("fliplr", lambda m: m.fliplr, A),
    ("rot90", lambda m: m.rot90, A), ("roll", lambda m: lambda a: m.roll(a, 2, axis=1), A),
    ("tile", lambda m: lambda a: m.tile(a, (2, 1)), A),
    ("repeat", lambda m: lambda a: m.repeat(a, 2, axis=0), A),
    ("moveaxis", lambda m: lambda a: m.moveaxis(a, 0, 1), A),
    ("tril", lambda m: m.tril, A), ("triu", lambda m: lambda a: m.triu(a, 1), A),
    ("pad", lambda m: lambda a: m.pad(a, ((1, 2), (0, 1))), A),
    ("pad-reflect", lambda m: lambda a: m.pad(a, 2, mode="reflect"), A),
    ("diff", lambda m: lambda a: m.diff(a, axis=1), A),
    ("cumprod", lambda m: lambda a: m.cumprod(a, axis=1), A),
    ("kron", lambda m: lambda a: m.kron(a, a[:2, :2]), A),
    ("cross", lambda m: lambda a: m.cross(a[:, :3], a[:, 1:]), A),
    ("take", lambda m: lambda a: m.take(a, np.array([0, 2, 2]), axis=1), A),
    ("split", lambda m: lambda a: m.split(a, 2, axis=1)[1], A),
    ("diagonal", lambda m: lambda a: m.diagonal(a, 1), A),
    ("trace", lambda m: lambda a: m.trace(a, -1), A),
    ("column_stack", lambda m: lambda a: m.column_stack([a[0], a[1]]), A),
    ("dstack", lambda m: lambda a: m.dstack([a, 2 * a]), A),
    ("atleast_3d", lambda m: lambda a: m.atleast_3d(a) * 2.0, A),
    ("median", lambda m: lambda a: m.median(a, axis=1), A),
    ("percentile", lambda m: lambda a: m.percentile(a, 30.0, axis=0), A),
    ("quantile", lambda m: lambda a: m.quantile(a, 0.7), A),
    ("average", lambda m: lambda a: m.average(a, axis=0, weights=np.array([1.0, 2.0, 3.0])), A),
    ("ptp", lambda m: lambda a: m.ptp(a, axis=1), A),
    ("cov", lambda m: m.cov, A), ("corrcoef", lambda m: m.corrcoef, A),
    ("convolve", lambda m: lambda v: m.convolve(v, v[:3]), V),
    ("correlate", lambda m: lambda v: m.correlate(v, v[:3], "full"), V),
    ("interp", lambda m: lambda v: m.interp(v, np.array([-3.0, 0.0, 3.0]),
                                            np.array([1.0, 2.0, 0.0])), V),
    ("polyval", lambda m: lambda v: m.polyval(v, v), V),
    ("einsum-ellipsis", lambda m: lambda a: m.einsum("...i,...i->...", a, a), A),
    ("einsum-diag", lambda m: lambda a: m.einsum("ii->i", a), S),
    ("norm-2", lambda m: lambda a: m.linalg.norm(a, 2), A),
    ("norm-nuc", lambda m: lambda a: m.linalg.norm(a, "nuc"), A),
    ("norm-1", lambda m: lambda a: m.linalg.norm(a, 1), A),
    ("norm-inf", lambda m: lambda a: m.linalg.norm(a, np.inf), A),
    ("norm-p", lambda m: lambda a: m.linalg.norm(a, 3, axis=1), A),
    ("svdvals", lambda m: lambda a: m.linalg.svd(a, compute_uv=False), A),
    ("svd-u", lambda m: lambda a: m.abs(m.linalg.svd(a, full_matrices=False)[0]), A),
    ("eigh-w", lambda m: lambda a: m.linalg.eigh(a + a.T)[0], S),
    ("eigh-v", lambda m: lambda a: m.abs(m.linalg.eigh(a + a.T)[1]), S),
    ("cholesky", lambda m: lambda a: m.linalg.cholesky(a @ a.T + 3 * np.eye(3)), S),
    ("qr-r", lambda m: lambda a: m.linalg.qr(a)[1], S),
    ("slogdet", lambda m: lambda a: m.linalg.slogdet(a)[1], S),
    ("det-batched", lambda m: lambda a: m.linalg.det(m.stack([a, 2 * a])), S),
    ("inv-batched", lambda m: lambda a: m.linalg.inv(m.stack([a, a.T])), S),
    ("solve-batched", lambda m: lambda a: m.linalg.solve(m.stack([a, a.T]), m.ones((2, 3, 1))), S),
    ("pinv", lambda m: m.linalg.pinv, A),
    ("matrix_power", lambda m: lambda a: m.linalg.matrix_power(a, 3), S),
    ("multi_dot", lambda m: lambda a: m.linalg.multi_dot([a, a.T, a]), A),
]


def _weighted_sum(m, f):
    def g(x):
        y = f(m)(x)
        w = np.cos(np.arange(np.size(y), dtype=float)).reshape(np.shape(y))
        return m.sum(y * w)
    return g


def _adnb_grad(f, x):
    return adnb.grad(_weighted_sum(np, f))(x)


@pytest.mark.parametrize("name, f, x", CASES, ids=[c[0] for c in CASES])
def test_against_jax(name, f, x):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = pytest.importorskip("jax.numpy")
    try:
        want = np.asarray(jax.grad(_weighted_sum(jnp, f))(jnp.asarray(x)))
    except (AttributeError, TypeError, NotImplementedError) as e:
        pytest.skip(f"JAX has no {name}: {e}")
    np.testing.assert_allclose(_adnb_grad(f, x), want, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name, f, x", CASES, ids=[c[0] for c in CASES])
def test_against_autograd(name, f, x):
    autograd = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    try:
        want = autograd.grad(_weighted_sum(anp, f))(x)
    except (AttributeError, TypeError, NotImplementedError, ValueError, AssertionError) as e:
        pytest.skip(f"autograd has no {name}: {e}")
    np.testing.assert_allclose(_adnb_grad(f, x), want, rtol=1e-7, atol=1e-9)


# ---- hypothesis: compositions over the table --------------------------------------------------

UNARY = [("exp2", lambda a: np.exp2(0.5 * a)), ("arcsinh", np.arcsinh),
         ("cbrt", lambda a: np.cbrt(a * a + 1.0)), ("sinc", np.sinc),
         ("logaddexp", lambda a: np.logaddexp(a, -a)), ("hypot", lambda a: np.hypot(a, 1.0)),
         ("flip", lambda a: np.flip(a, -1)), ("roll", lambda a: np.roll(a, 1, axis=0)),
         ("cumprod", lambda a: np.cumprod(0.5 * a, axis=-1)),
         ("tril", lambda a: np.tril(a) + 0.5 * a),
         ("diff-pad", lambda a: np.pad(np.diff(a), [(0, 0)] * (a.ndim - 1) + [(1, 0)])),
         ("median-keep", lambda a: a - np.median(a, axis=-1, keepdims=True)),
         ("einsum", lambda a: np.einsum("...ij,...ij->...ij", a, np.tanh(a))),
         ("norm-row", lambda a: a / np.linalg.norm(a, axis=-1, keepdims=True)),
         ("svd-rescale", lambda a: a / np.linalg.norm(a, 2, axis=(-2, -1), keepdims=True)),
         ("logsumexp", lambda a: a - adnb.special.logsumexp(a, axis=0, keepdims=True)),
         ("tile-take", lambda a: np.take(np.tile(a, 2), np.arange(a.shape[-1]) + 1, axis=-1)),
         ("maximum.accumulate", lambda a: np.maximum.accumulate(a, axis=-1) + a),
         ("poly", lambda a: np.polyval([0.1, -0.2, 1.0], a))]


@settings(max_examples=30, deadline=None)
@given(ops=st.lists(st.sampled_from(UNARY), min_size=1, max_size=4),
       shape=st.sampled_from([(3, 4), (2, 3, 3), (1, 5)]), seed=st.integers(0, 2 ** 16))
def test_compositions_against_central_differences(ops, shape, seed):
    x = np.random.default_rng(seed).uniform(0.2, 1.5, shape) * \
        np.random.default_rng(seed + 1).choice([-1.0, 1.0], shape)

    def f(a):
        for _, op in ops:
            a = op(a)
        return a
    with np.errstate(all="ignore"):
        y = f(x)
    assume(np.all(np.isfinite(y)) and np.max(np.abs(y)) < 1e6)    # (0/0 of a zero row ...)
    adnb.check_grads(f, (x,), order=1, atol=1e-5, rtol=1e-4)
    np.testing.assert_allclose(adnb.jacfwd(f)(x), adnb.jacrev(f)(x), rtol=1e-9, atol=1e-12)


# ---- the README's "as HIPS autograd / JAX" claims about documented choices ----------------------

def test_abs_at_zero_is_autograds_choice_and_not_jaxs():
    autograd = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    assert adnb.grad(np.abs)(0.0) == autograd.grad(anp.abs)(0.0) == 0.0
    jax = pytest.importorskip("jax")
    assert float(jax.grad(jax.numpy.abs)(0.0)) == 1.0      # JAX takes the other side (README)


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_gradient_dtype_follows_autograd_and_jax(dtype):
    x = np.arange(3, dtype=dtype)
    ours = adnb.grad(lambda x: np.sum(np.sin(x)))(x).dtype
    autograd = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    assert ours == autograd.grad(lambda x: anp.sum(anp.sin(x)))(x).dtype == dtype
    if dtype is np.float32:
        jax = pytest.importorskip("jax")
        assert ours == jax.grad(lambda x: jax.numpy.sum(jax.numpy.sin(x)))(x).dtype
