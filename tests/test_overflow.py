"""An overflowed value is never differentiated silently: log(1 + exp(x)) at x = 800 is inf, and
reverse mode would read 1/inf as an exact 0 (the true derivative is 1). adnb warns, names the
overflow as the cause, and leaves finite points and the unselected branch of np.where alone."""
import warnings

import numpy as np
import pytest

import adnb


def softplus(x):
    return np.log(1 + np.exp(x))


def _adnb_warnings(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with np.errstate(all="ignore"):
            result = fn()
    return result, [str(w.message) for w in caught
                    if issubclass(w.category, adnb.NonDifferentiablePointWarning)]


@pytest.mark.parametrize("call", [
    lambda: adnb.grad(softplus)(800.0),
    lambda: adnb.value_and_grad(softplus)(800.0),
    lambda: adnb.vjp(softplus, 800.0)[1](1.0),
    lambda: adnb.jacrev(lambda x: softplus(x))(np.array([1.0, 800.0])),
    lambda: adnb.grad(lambda x: np.sum(softplus(x)))(np.array([1.0, 800.0])),
], ids=["grad", "value_and_grad", "vjp", "jacrev", "grad-array"])
def test_reverse_mode_warns_on_an_overflowed_value(call):
    _, messages = _adnb_warnings(call)
    assert any("overflowed" in m for m in messages), messages


def test_forward_mode_names_the_overflow():
    (value, tangent), messages = _adnb_warnings(lambda: adnb.jvp(softplus, (800.0,), (1.0,)))
    assert value == np.inf and np.isnan(tangent)
    assert any("overflowed" in m for m in messages), messages


@pytest.mark.parametrize("x", [-30.0, 0.0, 1.0, 30.0, 700.0])
def test_finite_points_give_no_warning_and_the_right_derivative(x):
    g, messages = _adnb_warnings(lambda: adnb.grad(softplus)(x))
    assert messages == []
    assert g == pytest.approx(1 / (1 + np.exp(-x)), rel=1e-12)


def test_the_unselected_branch_of_where_stays_silent():
    def guarded(x):
        return np.where(x > 0, np.sqrt(x), 0.0)
    g, messages = _adnb_warnings(lambda: adnb.grad(guarded)(-1.0))
    assert g == 0.0 and messages == []


def test_a_stable_form_or_a_custom_rule_gives_the_true_derivative():
    stable = adnb.grad(lambda x: np.logaddexp(0.0, x))(800.0)
    assert stable == 1.0

    @adnb.custom_jvp
    def sp(x):
        return np.logaddexp(0.0, x)

    @sp.defjvp
    def sp_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return sp(x), t / (1 + np.exp(-x))

    g, messages = _adnb_warnings(lambda: adnb.grad(sp)(800.0))
    assert g == 1.0 and messages == []
