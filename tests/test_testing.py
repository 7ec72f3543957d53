"""Test the tester (HIPS autograd's tests/test_tests.py): ``check_grads`` must fail on wrong rules.

Each scratch primitive is a *copy* of a registered one with one rule broken; it is called from a
scratch function and never registered, so the real registry is untouched.
"""
from __future__ import annotations

import copy

import numpy as np
import pytest

import adnb
from adnb.core import primitives as P
from adnb.core.tracer import unwrap


def scratch(prim, **changes):
    """A copy of ``prim`` with some fields replaced (not registered anywhere). A copy with new
    ``partials`` drops the float fast path (``scalar_partials``) unless it is given too, so
    that the broken rule is the one scalar code uses."""
    new = copy.copy(prim)
    if "partials" in changes and "scalar_partials" not in changes:
        new.scalar_partials = None
    for k, v in changes.items():
        setattr(new, k, v)
    new.name = prim.name + "_scratch"
    return new


X_VEC = np.array([0.3, -1.2, 0.8])


def test_scratch_copy_is_not_registered():
    bad = scratch(P.sin, partials=(lambda ans, x: P.sin(x),))
    assert adnb.PRIMITIVES["sin"] is P.sin and bad is not P.sin
    assert "sin_scratch" not in adnb.PRIMITIVES
    assert P.UFUNCS[np.sin] is P.sin


def test_correct_copy_passes():
    """Control: the unbroken copy passes, so the failures below are due to the broken rule."""
    ok = scratch(P.sin)
    assert adnb.check_grads(lambda x: ok(x) * x, (X_VEC,), order=2)
    assert adnb.check_grads(lambda x: ok(x), (0.7,), order=2)


@pytest.mark.parametrize("mode", ["fwd", "rev"])
@pytest.mark.parametrize("x", [0.7, X_VEC], ids=["scalar", "vector"])
def test_wrong_partial_fails(mode, x):
    # d sin v = sin v  (wrong: should be cos v); both rules derive from the partial
    bad = scratch(P.sin, partials=(lambda ans, x: P.sin(x),))

    def uses_bad_sin(x):
        return bad(x) * 2.0 + x
    with pytest.raises(AssertionError, match="uses_bad_sin"):
        adnb.check_grads(uses_bad_sin, (x,), modes=(mode,))


@pytest.fixture
def fast_paths():
    """The fast paths on (the suite also runs on the reference path, ADNB_REFERENCE=1)."""
    from adnb.core import fast
    was = fast.installed()
    fast.install()
    yield
    if not was:
        fast.uninstall()


@pytest.mark.parametrize("mode", ["fwd", "rev"])
def test_wrong_scalar_partials_fail(mode, fast_paths):
    # the float fast path alone is wrong (d sin v = sin v), ``partials`` are right: scalar code
    # uses the fast path in both modes, so check_grads at a scalar must catch it
    bad = scratch(P.sin, scalar_partials=lambda ans, x: (ans,))

    def uses_bad_scalar_sin(x):
        return bad(x) * 2.0 + x
    with pytest.raises(AssertionError, match="uses_bad_scalar_sin"):
        adnb.check_grads(uses_bad_scalar_sin, (0.7,), modes=(mode,))
    assert adnb.check_grads(uses_bad_scalar_sin, (X_VEC,), modes=(mode,))   # arrays: partials


def test_wrong_partial_failure_message_shows_both_values():
    bad = scratch(P.exp, partials=(lambda ans, x: 2.0 * ans,))

    def uses_bad_exp(x):
        return bad(x)
    with pytest.raises(AssertionError) as info:
        adnb.check_grads(uses_bad_exp, (0.5,), modes=("fwd",))
    msg = str(info.value)
    assert "analytic:" in msg and "numeric:" in msg and "uses_bad_exp" in msg


def test_wrong_sign_of_second_argument_fails():
    # ∂(x − y)/∂y = +1 (wrong), in explicit rules this time
    bad = scratch(P.sub, partials=(lambda ans, x, y: 1.0, lambda ans, x, y: 1.0),
                  jvp=(lambda t, ans, x, y: t, lambda t, ans, x, y: t),
                  vjp=(lambda g, ans, x, y: g, lambda g, ans, x, y: g))

    def uses_bad_sub(x, y):
        return bad(x, y) * x
    for mode in ("fwd", "rev"):
        with pytest.raises(AssertionError):
            adnb.check_grads(uses_bad_sub, (X_VEC, X_VEC[::-1].copy()), modes=(mode,))


def test_wrong_vjp_only_fails_reverse_check_only():
    # tangent rule right, adjoint rule wrong (a transposition bug): only "rev" may catch it
    bad = scratch(P.matmul, vjp=(lambda g, ans, x, y: g @ y,     # should be g @ yᵀ
                                 P.matmul.vjp[1]))
    A = np.array([[0.3, -0.2, 1.1], [0.5, 0.9, -0.7], [0.2, 0.4, 0.6]])

    def uses_bad_matmul(a, b):
        return bad(a, b)
    assert adnb.check_grads(uses_bad_matmul, (A, A.T.copy()), modes=("fwd",))
    with pytest.raises(AssertionError, match="reverse"):
        adnb.check_grads(uses_bad_matmul, (A, A.T.copy()), modes=("rev",))


def test_wrong_jvp_only_fails_forward_check_only():
    bad = scratch(P.matmul, jvp=(lambda t, ans, x, y: y @ t,     # should be t @ y
                                 P.matmul.jvp[1]))
    A = np.array([[0.3, -0.2, 1.1], [0.5, 0.9, -0.7], [0.2, 0.4, 0.6]])

    def uses_bad_matmul(a, b):
        return bad(a, b)
    assert adnb.check_grads(uses_bad_matmul, (A, A.T.copy()), modes=("rev",))
    with pytest.raises(AssertionError, match="forward"):
        adnb.check_grads(uses_bad_matmul, (A, A.T.copy()), modes=("fwd",))


def test_wrong_unbroadcast_fails():
    # an adjoint rule that forgets the sum over a broadcast dimension but keeps the shape
    bad = scratch(P.broadcast_to, vjp=(lambda g, ans, x, shape: P.getitem(g, (slice(0, 1),)),))

    def uses_bad_broadcast(x):
        return bad(x, shape=(3, 4)) * np.arange(12.0).reshape(3, 4)
    x = np.array([[0.5, -1.0, 2.0, 0.1]])
    assert adnb.check_grads(uses_bad_broadcast, (x,), modes=("fwd",))
    with pytest.raises(AssertionError):
        adnb.check_grads(uses_bad_broadcast, (x,), modes=("rev",))


def test_rule_that_cuts_the_second_derivative_fails_only_at_order_2():
    # d sin v = cos(value of v): right at first order, but the partial is a constant to
    # the outer differentiation, so second derivatives come out wrong
    bad = scratch(P.sin, partials=(lambda ans, x: np.cos(unwrap(x)),))

    def uses_flat_sin(x):
        return bad(x)
    assert adnb.check_grads(uses_flat_sin, (X_VEC,), order=1)
    with pytest.raises(AssertionError):
        adnb.check_grads(uses_flat_sin, (X_VEC,), order=2)


def test_wrong_shape_fails_even_with_right_numbers():
    # tangent with an extra leading axis: the same numbers, the wrong shape
    bad = scratch(P.sin, partials=None,
                  jvp=(lambda t, ans, x: P.reshape(P.cos(x) * t, shape=(1,) + np.shape(unwrap(x))),),
                  vjp=(lambda g, ans, x: g * P.cos(x),), elementwise=False)

    def uses_bad_shape(x):
        return bad(x)
    with pytest.raises(AssertionError):
        adnb.check_grads(uses_bad_shape, (X_VEC,), modes=("fwd",))


def test_check_grads_passes_on_catalogue_example():
    def f(x1, x2):
        return x1 * x2 + np.exp(x1 * x2) - np.sin(x2)
    assert adnb.check_grads(f, (1.0, 2.0), order=2) is True


# ---- the numerical helpers themselves ----------------------------------------------------------

class Counted:
    """f with a call counter (the cost claims of §8.1.4: 2D evaluations central, D + 1 forward)."""

    def __init__(self, f):
        self.f, self.calls = f, 0

    def __call__(self, x):
        self.calls += 1
        return self.f(x)


def test_numerical_jacobian_counts_and_values():
    x = np.array([0.3, -1.2, 0.8, 2.0])
    f = Counted(lambda x: np.stack([np.sum(np.sin(x)), x[0] * x[1]]))
    J = adnb.numerical_jacobian(f, x)
    assert f.calls == 2 * 4 and J.shape == (2, 4)
    expected = np.array([np.cos(x), [x[1], x[0], 0.0, 0.0]])
    np.testing.assert_allclose(J, expected, atol=1e-8)
    f.calls = 0
    J = adnb.numerical_jacobian(f, x, method="forward")
    assert f.calls == 4 + 1
    np.testing.assert_allclose(J, expected, atol=1e-5)
    with pytest.raises(ValueError):
        adnb.numerical_jacobian(f, x, method="sideways")


def test_numerical_helpers_shapes_and_ints():
    assert adnb.numerical_grad(lambda x: np.sum(x ** 2), np.array([1, 2])) == pytest.approx(
        [2.0, 4.0])
    assert adnb.central_difference(np.sin, 0.5) == pytest.approx(np.cos(0.5), rel=1e-9)
    assert adnb.forward_difference(np.sin, 0.5) == pytest.approx(np.cos(0.5), rel=1e-6)
    assert adnb.numerical_jacobian(lambda A: A.sum(axis=0), np.ones((2, 3))).shape == (3, 2, 3)
    assert float(adnb.numerical_jacobian(lambda x: x ** 2, 3.0)) == pytest.approx(6.0)
