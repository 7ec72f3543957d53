"""hvp's default, the second-order adjoint sweep (adnb/core/second_order.py), against the general
path.

The general path (reverse over forward mode on tracers) is the reference: for every catalogue
function the sweep must give its H v to rounding, and where the sweep cannot answer (errors,
warnings, inf/nan) ``adnb.hvp`` must behave exactly as the general path does.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import adnb
from adnb.core import api, second_order
from adnb.core.registry import PRIMITIVES
from adnb.errors import ADNBWarning, NonDifferentiablePointWarning, NonScalarOutputError
from functions import CATALOGUE


def general_hvp(f, x, v):
    """H v by reverse over forward mode on tracers: the default's fallback."""
    return adnb.hvp(f, x, v, method="reverse-over-forward")


def sweep_hvp(f, x, v):
    return second_order.hvp(f, x, v, api.call_user)


def _flat_case(case):
    """The case as a scalar function of one flat vector: its float arguments laid end to end,
    its outputs summed (so every catalogue function has a Hessian to take)."""
    shapes = [np.shape(a) for a in case.args]
    sizes = [math.prod(s) for s in shapes]

    def g(z):
        args, i = [], 0
        for s, n in zip(shapes, sizes):
            args.append(z[i] if not s else np.reshape(z[i:i + n], s))
            i += n
        out = case.f(*args)
        outs = out if isinstance(out, tuple) else (out,)
        return sum(np.sum(o) for o in outs)
    z = np.concatenate([np.ravel(np.asarray(a, dtype=float)) for a in case.args])
    return g, z


FLOAT_CASES = [c for c in CATALOGUE
               if all(isinstance(a, float) or isinstance(a, np.ndarray) and a.dtype == float
                      for a in c.args)]


@pytest.mark.parametrize("case", FLOAT_CASES, ids=repr)
def test_sweep_equals_the_general_path_on_the_catalogue(case):
    g, z = _flat_case(case)
    v = np.linspace(-1.0, 1.3, z.size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ADNBWarning)        # constant outputs: see below
        expected = general_hvp(g, z, v)
        hv = sweep_hvp(g, z, v)
    if "independent" in case.tags and case.name == "constant_output":
        assert hv is None               # not a traced output: the general path answers
        return
    assert hv is not None, "the sweep handed this case to the general path"
    np.testing.assert_allclose(hv, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(adnb.hvp(g, z, v), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(n for n, p in PRIMITIVES.items() if p.partials2))
def test_partials2_is_the_derivative_of_the_partial(name):
    prim = PRIMITIVES[name]
    x = np.array([0.3, 0.9, 1.7])
    h = 1e-6
    d1 = lambda x: prim.partials[0](prim.impl(x), x)                # noqa: E731
    central = (d1(x + h) - d1(x - h)) / (2 * h)
    np.testing.assert_allclose(prim.partials2(prim.impl(x), x), central, rtol=1e-7)


def test_every_kind_of_rule_in_one_function():
    # bilinear (mul, matmul), partials2 (tanh, exp), keep="" (sum, add), and the dual-number
    # fallback (div by a traced value, arctan, power), on arrays with broadcasting
    A = np.array([[0.5, -1.0, 0.2], [0.3, 0.8, -0.4]])

    def f(x):
        y = np.tanh(A @ x) * np.exp(x[:2])
        return np.sum(y / (1.0 + x[0] ** 2)) + np.arctan(x @ x) + np.sum(x[:, None] * A.T)
    x = np.array([0.2, -0.4, 0.7])
    v = np.array([1.0, 0.5, -2.0])
    expected = general_hvp(f, x, v)
    np.testing.assert_allclose(sweep_hvp(f, x, v), expected, rtol=1e-12)
    H = adnb.hessian(f)(x)
    np.testing.assert_allclose(adnb.hvp(f, x, v), H @ v, rtol=1e-12)


def test_w4_function_matches_the_hand_written_hvp():
    rng = np.random.default_rng(3)
    A, x, v = rng.standard_normal((6, 6)), rng.standard_normal(6), rng.standard_normal(6)
    t = np.tanh(A @ x)
    hand = A.T @ (-2.0 * t * (1.0 - t * t) * (A @ v)) + v
    hv = sweep_hvp(lambda y: np.sum(np.tanh(A @ y)) + y @ y / 2, x, v)
    np.testing.assert_allclose(hv, hand, rtol=1e-13, atol=1e-14)


def test_scalar_input_and_f_called_once():
    calls = []

    def f(x):
        calls.append(x)
        return x ** 4 + np.sin(x) * x
    hv = adnb.hvp(f, 2.0, 1.5)
    assert len(calls) == 1
    assert hv == pytest.approx(1.5 * (12 * 4.0 + 2 * math.cos(2.0) - 2.0 * math.sin(2.0)), rel=1e-14)


def test_linear_function_has_zero_hvp_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hv = adnb.hvp(lambda x: np.sum(3.0 * x) - x[0], np.ones(3), np.arange(3.0))
    np.testing.assert_array_equal(hv, np.zeros(3))
    hv[0] = 1.0                                      # the caller's own array


def test_errors_and_warnings_are_the_general_paths():
    with pytest.raises(NonScalarOutputError):
        adnb.hvp(lambda x: x * x, np.ones(3), np.ones(3))
    with pytest.warns(ADNBWarning, match="does not depend"):
        hv = adnb.hvp(lambda x: 1.0, np.ones(2), np.ones(2))
    np.testing.assert_array_equal(hv, np.zeros(2))
    with pytest.raises(ValueError):
        adnb.hvp(lambda x: np.sum(x), np.ones(3), np.ones(2))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")     # numpy's divide-by-zero on the way
def test_inf_or_nan_is_reported_as_before():
    f = lambda x: np.sum(np.sqrt(x) * x[0])                            # noqa: E731
    x, v = np.array([0.0, 1.0]), np.array([1.0, 1.0])
    assert sweep_hvp(f, x, v) is None               # handed over: the general path locates it
    with pytest.warns(NonDifferentiablePointWarning):
        expected = general_hvp(f, x, v)
    with pytest.warns(NonDifferentiablePointWarning, match="sqrt"):
        hv = adnb.hvp(f, x, v)
    np.testing.assert_array_equal(np.isnan(hv), np.isnan(expected))
    np.testing.assert_array_equal(hv[~np.isnan(hv)], expected[~np.isnan(expected)])


def test_closure_over_an_outer_tracer():
    # d/da of the HVP of a·x³ at x = 2, v = 1: d/da (6 a x) = 12
    assert adnb.grad(lambda a: adnb.hvp(lambda x: a * x ** 3, 2.0, 1.0))(1.5) == pytest.approx(12.0)
    g = adnb.grad(lambda a: np.sum(adnb.hvp(lambda x: a * np.sum(x ** 3), np.ones(2),
                                            np.array([1.0, 2.0]))))(0.5)
    assert g == pytest.approx(6 * 1.0 + 6 * 2.0)
