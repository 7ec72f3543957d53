"""Issue 13: the kinds of program where adnb used to give a silently wrong number or crash.

Each test states the whole kind (property tests where a family exists), checked against numpy's
own values, central differences, or the other mode.
"""
from __future__ import annotations

import collections
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import adnb
from adnb.errors import (ADNBError, InPlaceError, LeakedTracerError, NonDifferentiablePointWarning,
                         NotDifferentiableTypeError, ReturnedNoneError)
from adnb.core.pytree import StructureMismatchError

SETTINGS = settings(max_examples=25, deadline=None)


# ---- powers at 0 ---------------------------------------------------------------------------------

@SETTINGS
@given(p=st.integers(0, 5), x=st.sampled_from([0.0, -0.0, 1.5, -2.0]))
def test_integer_powers_have_exact_derivatives_everywhere(p, x):
    """d/dx x^p = p x^(p−1) and d²/dx² = p(p−1) x^(p−2) for integer p ≥ 0, also at 0 (where
    0 · 0^(−1) used to give nan), in both modes, with no warning."""
    d1 = p * x ** (p - 1) if p >= 1 else 0.0
    d2 = p * (p - 1) * x ** (p - 2) if p >= 2 else 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", NonDifferentiablePointWarning)
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", adnb.ADNBWarning)   # (a constant derivative's own)
        for exponent in (p, float(p), np.float64(p)):
            f = lambda x: x ** exponent    # noqa: E731
            assert adnb.grad(f)(x) == d1
            assert adnb.jvp(f, (x,), (1.0,))[1] == d1
            assert adnb.hessian(f)(x) == d2
            assert adnb.grad(adnb.grad(f))(x) == d2


def test_polynomial_with_array_of_exponents_at_zero():
    c = np.array([1.0, 2.0, 3.0, 4.0])
    f = lambda x: np.sum(c * x ** np.arange(4))      # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert adnb.grad(f)(0.0) == c[1]
        assert adnb.jacfwd(f)(0.0) == c[1]
        assert adnb.hessian(f)(0.0) == 2 * c[2]
        np.testing.assert_array_equal(adnb.grad(lambda x: np.sum(x ** np.arange(3)))(np.zeros(3)),
                                      [0.0, 1.0, 0.0])


def test_fractional_power_at_zero_warns_without_blaming_p_0_or_1():
    with pytest.warns(NonDifferentiablePointWarning, match="p < 1, p ≠ 0"):
        adnb.grad(lambda x: x ** 0.5)(0.0)


# ---- std / var of one value ---------------------------------------------------------------------

@pytest.mark.parametrize("f, shape", [(np.std, (1,)), (np.var, (1,)), (np.std, (1, 1)),
                                      (lambda a: np.std(a, axis=0), (1, 3)),
                                      (lambda a: np.std(a, axis=1, keepdims=True), (3, 1)),
                                      (lambda a: np.std(a, axis=(0, 2)), (1, 2, 1))])
def test_std_of_one_value_per_slice_is_zero_in_both_modes(f, shape):
    x = np.arange(1.0, 1.0 + np.prod(shape)).reshape(shape)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        jr = adnb.jacrev(f)(x)
        jf = adnb.jacfwd(f)(x)
    np.testing.assert_array_equal(jr, np.zeros_like(jr))
    np.testing.assert_array_equal(jf, jr)


# ---- matrix norms --------------------------------------------------------------------------------

@pytest.mark.parametrize("ord", [None, 1, -1, 2, -2, np.inf, -np.inf, "fro", "nuc"])
@pytest.mark.parametrize("axis", [None, (0, 1), (1, 0), (-1, -2)])
def test_matrix_norm_is_numpys(ord, axis):
    A = np.array([[1.0, -2.0, 0.5], [3.0, 4.0, -1.0]])
    f = lambda a: np.linalg.norm(a, ord=ord, axis=axis)    # noqa: E731
    assert adnb.value(adnb.trace(f, A).output_values[0]) == pytest.approx(f(A), rel=1e-12)
    adnb.check_grads(f, (A,), order=1, atol=1e-6)


# ---- orders of ravel / flatten / reshape --------------------------------------------------------

@SETTINGS
@given(order=st.sampled_from("CFAK"), transposed=st.booleans(),
       shape=st.sampled_from([(2, 3), (3, 1, 2), (4,)]))
def test_ravel_and_flatten_follow_the_order(order, transposed, shape):
    a = np.arange(float(np.prod(shape))).reshape(shape)

    def f(x):
        y = x.T if transposed else x
        return np.ravel(y, order=order) * 1.0 + y.flatten(order) * 10.0 + y.ravel(order) * 100.0
    np.testing.assert_array_equal(adnb.value(adnb.trace(f, a).output_values[0]), f(a))
    J = adnb.jacrev(f)(a)
    np.testing.assert_array_equal(J, adnb.jacfwd(f)(a))
    # each output entry depends on the one input entry numpy put there (weight 111)
    moved = f(a) / 111.0
    np.testing.assert_array_equal(J.reshape(len(moved), -1).argmax(axis=1), moved)


@pytest.mark.parametrize("order", ["C", "F", "A"])
def test_reshape_order(order):
    a = np.arange(6.0).reshape(2, 3)
    f = lambda x: np.reshape(x, (3, 2), order=order) * np.arange(1.0, 7.0).reshape(3, 2)  # noqa
    np.testing.assert_array_equal(adnb.value(adnb.trace(f, a).output_values[0]), f(a))
    adnb.check_grads(f, (a,), order=2)


# ---- argnums, pytrees ----------------------------------------------------------------------------

def test_repeated_argnums_give_the_same_gradient_twice():
    f = lambda x, y: np.sum(x * y)        # noqa: E731
    for entry in (adnb.grad, adnb.jacrev, adnb.jacfwd):
        g = entry(f, argnums=(0, 0, 1))(np.array([1.0, 2.0]), 3.0)
        np.testing.assert_array_equal(g[0], [3.0, 3.0])
        np.testing.assert_array_equal(g[1], [3.0, 3.0])
        assert not isinstance(g[0], adnb.core.tracer.Tracer)


def test_dict_tangents_and_cotangents_are_matched_by_key():
    f = lambda d: d["a"] + 10.0 * d["b"]     # noqa: E731
    assert adnb.jvp(f, ({"a": 1.0, "b": 2.0},), ({"b": 1.0, "a": 0.0},))[1] == 10.0
    g = lambda d: {"x": d["a"], "y": 10.0 * d["b"]}   # noqa: E731
    _, pullback = adnb.vjp(g, {"b": 2.0, "a": 1.0})
    assert pullback({"y": 1.0, "x": 0.0}) == ({"a": 0.0, "b": 10.0},)


@pytest.mark.parametrize("bad", [{"q": 1.0, "x": 0.0}, {"x": 1.0}, [1.0, 0.0], (1.0, 0.0)])
def test_cotangent_of_another_structure_is_refused_naming_both(bad):
    _, pullback = adnb.vjp(lambda d: {"x": d["a"], "y": d["a"]}, {"a": 1.0})
    with pytest.raises(StructureMismatchError) as info:
        pullback(bad)
    assert "{'x': *, 'y': *}" in str(info.value) and isinstance(info.value, ADNBError)


def test_tangent_of_another_structure_is_refused():
    with pytest.raises(StructureMismatchError, match=r"\{'a': \*\}"):
        adnb.jvp(lambda d: d["a"], ({"a": 1.0},), ({"b": 1.0},))


def test_namedtuples_round_trip():
    Params = collections.namedtuple("Params", "w b")
    p = Params(np.array([1.0, 2.0]), 0.5)
    f = lambda p: np.sum(p.w ** 2) * p.b     # noqa: E731
    g = adnb.grad(f)(p)
    assert type(g) is Params
    np.testing.assert_array_equal(g.w, [1.0, 2.0])
    assert g.b == 5.0
    J = adnb.jacrev(lambda p: p.w * p.b)(p)
    assert type(J) is Params
    _, t = adnb.jvp(f, (p,), (Params(np.ones(2), 0.0),))
    assert t == 3.0


# ---- aliasing and in-place operators ------------------------------------------------------------

def _alias_then_add(y):
    z = y
    z += 1.0
    return np.sum(y * z)


def _sgd_step(params):
    for p in params:
        p -= 0.1 * p
    return sum(np.sum(p * p) for p in params)


def _accumulate(x):
    s = 0.0
    for v in x:
        s += v * v            # a scalar: rebound, as in numpy
    return s


def _matrix_in_place(x):
    h = np.outer(x, x)
    h *= 2.0
    h @= np.eye(2) + 1.0
    h /= 3.0
    return np.sum(h ** 2)


@pytest.mark.parametrize("f, args", [
    (_alias_then_add, (np.array([1.0, 2.0]),)),
    (_sgd_step, ([np.array([1.0, 2.0]), np.array([3.0])],)),
    (_accumulate, (np.array([1.0, -2.0, 3.0]),)),
    (_matrix_in_place, (np.array([0.5, -1.5]),)),
])
def test_in_place_operators_follow_numpy(f, args):
    """The value is what numpy computes (with its aliasing), the derivative that of this value,
    and the caller's arrays are untouched."""
    import copy
    want = f(*copy.deepcopy(args))
    before = copy.deepcopy(args)
    got = adnb.value(adnb.trace(f, *args).output_values[0])
    assert got == pytest.approx(want)
    # (check_grads also runs f on plain arrays, which f changes in place: give it copies)
    if isinstance(args[0], list):
        adnb.check_grads(lambda *leaves: f([np.copy(v) for v in leaves]), tuple(args[0]), order=2)
    else:
        adnb.check_grads(lambda x: f(np.copy(x)), args, order=2)
    flat = adnb.core.pytree.tree_flatten
    for a, b in zip(flat(args)[0], flat(before)[0]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("make_view", [lambda x: x[1:], lambda x: x.T, lambda x: x.reshape(-1),
                                       lambda x: np.flip(x), lambda x: np.moveaxis(x, 0, 1),
                                       lambda x: np.split(x, 2)[0]])
def test_in_place_on_a_view_or_its_source_is_refused(make_view):
    def change_view(x):
        v = make_view(x)
        v += 1.0
        return np.sum(x)

    def change_source(x):
        v = make_view(x)
        x += 1.0
        return np.sum(v)
    x = np.arange(4.0).reshape(2, 2)
    for f in (change_view, change_source):
        with pytest.raises(InPlaceError, match="view"):
            adnb.grad(f)(x)


def test_copies_are_independent():
    def f(x):
        y = x.copy()
        z = np.copy(x)
        y += 1.0
        z *= 3.0
        return np.sum(x * y * z)
    x = np.array([1.0, 2.0])
    assert adnb.value(adnb.trace(f, x).output_values[0]) == f(x.copy())
    adnb.check_grads(f, (x,), order=2)


# ---- tracers that outlive their transformation ------------------------------------------------

def test_leaked_tracer_is_refused_naming_where_it_was_made():
    cache = []

    def f(x):
        if not cache:
            cache.append(x * 2.0)
        return x * cache[0]
    assert adnb.grad(f)(1.0) == 4.0
    with pytest.raises(LeakedTracerError, match=r"adnb\.grad\(f\).*mul") as info:
        adnb.grad(f)(1.0)
    assert isinstance(info.value, ADNBError)


@pytest.mark.parametrize("entry", ["grad", "jvp", "jacfwd", "jacrev", "vjp"])
def test_running_statistic_kept_across_calls_is_refused(entry):
    state = {"mean": 0.0}

    def step(x):
        state["mean"] = 0.9 * state["mean"] + 0.1 * np.sum(x)
        return np.sum(x * x) + state["mean"]
    x = np.ones(2)
    calls = {"grad": lambda: adnb.grad(step)(x), "jvp": lambda: adnb.jvp(step, (x,), (x,)),
             "jacfwd": lambda: adnb.jacfwd(step)(x), "jacrev": lambda: adnb.jacrev(step)(x),
             "vjp": lambda: adnb.vjp(step, x)}
    calls[entry]()
    with pytest.raises(LeakedTracerError):
        calls[entry]()


def test_leaked_tracer_returned_alone_is_refused():
    kept = []
    adnb.grad(lambda x: (kept.append(x * 3.0), x)[1])(1.0)
    with pytest.raises(LeakedTracerError):
        adnb.grad(lambda x: kept[0] * 2.0)(1.0)


# ---- complex values ------------------------------------------------------------------------------

@pytest.mark.parametrize("f", [lambda x: abs(x * 1j), lambda x: np.real(np.exp(1j * x)),
                               lambda x: np.sum(x * np.array([1 + 1j, 2.0])),
                               lambda x: np.sum(np.asarray(x).astype(complex).real)])
@pytest.mark.parametrize("entry", ["grad", "jvp", "trace"])
def test_complex_intermediates_are_refused(f, entry):
    run = {"grad": lambda: adnb.grad(lambda x: np.sum(f(x)))(np.array([1.0, 2.0])),
           "jvp": lambda: adnb.jvp(f, (np.array([1.0, 2.0]),), (np.ones(2),)),
           "trace": lambda: adnb.trace(f, np.array([1.0, 2.0]))}
    with pytest.raises((NotDifferentiableTypeError, adnb.CutDerivativeError)):
        run[entry]()


# ---- former crashes ----------------------------------------------------------------------------

def test_jacobians_of_empty_inputs_are_empty():
    assert adnb.jacfwd(lambda x: x * 2.0)(np.zeros(0)).shape == (0, 0)
    assert adnb.jacrev(lambda x: x * 2.0)(np.zeros(0)).shape == (0, 0)
    assert adnb.jacfwd(lambda x: np.sum(x))(np.zeros((0, 3))).shape == (0, 3)


def test_numpys_own_errors_for_invalid_calls():
    with pytest.raises(ValueError, match="zero-dimensional"):
        adnb.grad(lambda x: np.sum(np.concatenate([x, x])))(1.0)
    with pytest.raises(ValueError, match="both or neither"):
        adnb.grad(lambda x: np.sum(np.where(x > 0, x)))(np.ones(2))


@pytest.mark.parametrize("b_shape", [(2,), (3, 2, 1), (2, 3), (4, 3, 2, 2)])
def test_batched_solve_both_modes(b_shape):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((3, 2, 2)) + 3 * np.eye(2)
    b = rng.standard_normal(b_shape)
    f = lambda a, b: np.linalg.solve(a, b)     # noqa: E731
    np.testing.assert_allclose(adnb.jacfwd(f)(A, b), adnb.jacrev(f)(A, b), atol=1e-12)
    adnb.check_grads(f, (A, b), order=2)


def test_batched_det_and_inv():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((2, 3, 3, 3)) + 3 * np.eye(3)
    for f in (np.linalg.det, np.linalg.inv, lambda a: np.linalg.slogdet(a)[1]):
        np.testing.assert_allclose(adnb.jacfwd(f)(A), adnb.jacrev(f)(A), atol=1e-10)
        adnb.check_grads(f, (A,), order=2)


@pytest.mark.parametrize("a_shape, b_shape", [((3,), ()), ((), (3,)), ((2, 3), (4, 3)),
                                              ((2, 3), (3,)), ((3,), (2, 4, 3))])
def test_inner_and_dot_in_every_dimension(a_shape, b_shape):
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    for f in (np.inner, np.dot, np.vdot):
        if f is np.vdot and np.size(a) != np.size(b):
            continue
        try:
            want = f(a, b)
        except ValueError:
            continue
        got = adnb.value(adnb.trace(f, a, b).output_values[0])
        np.testing.assert_allclose(got, want, rtol=1e-12)
        adnb.check_grads(f, (a, b), order=2)


# ---- learner-friendly behaviour ----------------------------------------------------------------

def test_formatting_and_rounding_a_traced_value_use_its_value(capsys):
    def f(x):
        print(f"{x:.3f}", format(x, ".2f"), round(x, 3), round(x))
        return x * x
    assert adnb.grad(f)(1.23456) == pytest.approx(2 * 1.23456)
    assert capsys.readouterr().out.split() == ["1.235", "1.23", "1.235", "1"]


@pytest.mark.parametrize("entry", [lambda f: adnb.grad(f)(1.0),
                                   lambda f: adnb.jvp(f, (1.0,), (1.0,)),
                                   lambda f: adnb.jacfwd(f)(1.0), lambda f: adnb.jacrev(f)(1.0),
                                   lambda f: adnb.vjp(f, 1.0)])
def test_function_returning_none_is_named(entry):
    def forgot(x):
        x * 2.0
    with pytest.raises(ReturnedNoneError, match=r"forgot returned None — did you forget `return`"):
        entry(forgot)


# ---- Python lists of traced values ----------------------------------------------------------------
# numpy dispatches on its arguments, not on what a list holds: np.mean([a, b]) runs numpy's own code
# on an object array of traced values. It must give the derivative of the same code on an array.

LIST_REDUCTIONS = [np.mean, np.var, np.std, np.nanmean, np.nanvar, np.nanstd, np.sum, np.prod,
                   np.max, np.median, np.average, np.linalg.norm,
                   lambda v: np.var(v, ddof=1), lambda v: np.std(v, ddof=1)]


@SETTINGS
@given(f=st.sampled_from(LIST_REDUCTIONS), n=st.integers(1, 4),
       seed=st.integers(0, 2 ** 16), shape=st.sampled_from([(), (2,)]))
def test_reductions_of_python_lists_equal_those_of_arrays(f, n, seed, shape):
    """Lists of scalars or of arrays, mixing traced values and constants, in both modes and to
    second order: the same numbers as the function of np.stack(list)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 2.0, (n,) + shape)
    const = rng.uniform(0.5, 2.0, shape)

    def on_list(x):
        items = [x[i] * (i + 1.0) for i in range(n)] + [const]
        return np.sum(f(items) * 1.0)

    def on_array(x):
        return np.sum(f(np.stack([x[i] * (i + 1.0) for i in range(n)] + [const])) * 1.0)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)       # var of one value with ddof=1
        np.testing.assert_allclose(on_list(x), on_array(x), rtol=1e-12)
        np.testing.assert_allclose(adnb.grad(on_list)(x), adnb.grad(on_array)(x), rtol=1e-12)
        np.testing.assert_allclose(adnb.jvp(on_list, (x,), (np.ones_like(x),))[1],
                                   adnb.jvp(on_array, (x,), (np.ones_like(x),))[1], rtol=1e-12)
        if not shape and n <= 2:
            np.testing.assert_allclose(adnb.hessian(on_list)(x), adnb.hessian(on_array)(x),
                                       rtol=1e-10, atol=1e-12)


def test_mean_var_std_of_a_list_match_jax():
    jnp = pytest.importorskip("jax.numpy")
    jax = pytest.importorskip("jax")
    for f, jf in ((np.mean, jnp.mean), (np.var, jnp.var), (np.std, jnp.std)):
        g = adnb.grad(lambda x: f([x, x ** 2, 3.0]))(1.5)
        jg = jax.grad(lambda x: jf(jnp.stack([x, x ** 2, 3.0])))(1.5)
        np.testing.assert_allclose(g, float(jg), rtol=1e-6)
    assert adnb.grad(lambda x: np.mean([x, x + 2]))(0.0) == 1.0
    assert adnb.grad(lambda x: np.std([x, x + 2]))(0.0) == 0.0


FUNCTIONS_OF_A_LIST_AND_A_TRACED_ARRAY = [
    lambda l, y: np.append(l, y),
    lambda l, y: np.concatenate([l, y]),
    lambda l, y: np.dot(l, y),
    lambda l, y: np.interp(y, [0.0, 1.0, 2.0], l),
    lambda l, y: np.where(y > 0, l, y),
    lambda l, y: np.polyval(l, y),
    lambda l, y: np.outer(l, y),
    lambda l, y: np.maximum(l, y),
    lambda l, y: np.convolve(l, y),
]


@pytest.mark.parametrize("f", FUNCTIONS_OF_A_LIST_AND_A_TRACED_ARRAY)
def test_a_list_of_traced_scalars_next_to_a_traced_array_is_that_array(f):
    """When numpy does hand the call to adnb (another argument is traced), a list of traced
    scalars is the array numpy would have made of it."""
    x = np.array([0.5, -1.0, 2.0])

    def on_list(x):
        return np.sum(f([x[0], 2.0 * x[1], x[2]], np.sin(x)))

    def on_array(x):
        return np.sum(f(x * np.array([1.0, 2.0, 1.0]), np.sin(x)))

    np.testing.assert_allclose(on_list(x), on_array(x))
    np.testing.assert_allclose(adnb.grad(on_list)(x), adnb.grad(on_array)(x), rtol=1e-12)
    np.testing.assert_allclose(adnb.jvp(on_list, (x,), (np.ones(3),))[1],
                               adnb.jvp(on_array, (x,), (np.ones(3),))[1], rtol=1e-12)


@pytest.mark.parametrize("f, advice", [
    (lambda x: np.arctan2(1.0, [x, 2.0 * x])[0], "np.stack"),
    (lambda x: np.quantile([x, 2.0 * x, 3.0], 0.3), "np.stack"),
    (lambda x: np.interp(1.5, [0.0, 1.0, 2.0], [x, 2.0 * x, 3.0]), "np.stack"),
])
def test_numpy_failing_on_a_list_of_traced_values_is_adnbs_error(f, advice):
    """Where numpy's own code cannot run on an object array of traced values, adnb says what to
    do instead of showing numpy's internal error."""
    for transform in (adnb.grad, lambda g: lambda x: adnb.jvp(g, (x,), (1.0,))):
        with pytest.raises(adnb.UnsupportedOperationError, match=advice) as info:
            transform(f)(1.0)
        assert "test_numpy_semantics.py, line" in str(info.value)     # the user's line first


def test_scipy_functions_that_convert_their_input_are_named():
    sp = pytest.importorskip("scipy.special")
    with pytest.raises(adnb.UnsupportedOperationError, match="adnb.special.logsumexp"):
        adnb.grad(lambda x: sp.logsumexp(x))(np.ones(3))
    with pytest.raises(adnb.UnsupportedOperationError, match="adnb.special.log_softmax"):
        adnb.grad(lambda x: sp.log_softmax(x)[0])(np.ones(3))


def test_users_own_errors_still_pass_through():
    def f(x):
        return x.no_such_attribute
    with pytest.raises(AttributeError, match="no_such_attribute") as info:
        adnb.grad(f)(1.0)
    assert not isinstance(info.value, ADNBError)
    with pytest.raises(ValueError, match="not aligned"):
        adnb.grad(lambda x: np.dot(np.ones(3), np.ones(2)) * x)(1.0)


# ---- casts, outputs and dtypes ----------------------------------------------------------------------

def test_casting_to_int_is_piecewise_constant_like_int():
    """np.int64(x) and x.astype(int) keep the value and contribute derivative 0, as int(x) and
    np.floor do; the float part of the program keeps its derivative."""
    W = np.array([[1.0, 0.0], [2.0, 1.0]])

    def f(W):
        rows = np.int64(W[:, -1])                 # indices computed from a traced array
        return np.sum(W[rows, 0] ** 2) + np.sum(W.astype(int) * W)

    np.testing.assert_allclose(adnb.grad(f)(W), [[2.0 + 1.0, 0.0], [4.0 + 2.0, 1.0]])
    np.testing.assert_allclose(adnb.jacfwd(f)(W), adnb.grad(f)(W))
    with pytest.raises(adnb.CutDerivativeError):
        adnb.grad(lambda x: np.sum(np.asarray(x, dtype=np.float32)))(W)


def test_bool_output_is_refused():
    with pytest.raises(NotDifferentiableTypeError, match="returned a bool"):
        adnb.grad(lambda x: np.allclose(x, x * 3.0 / 3.0))(np.ones(3))


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_gradient_has_the_arguments_float_type(dtype):
    """Computed in float64, returned in the argument's type, as in JAX and HIPS autograd."""
    x = np.arange(3, dtype=dtype)
    g = adnb.grad(lambda x: np.sum(np.sin(x.astype(np.float64))))(x)
    assert g.dtype == dtype
    np.testing.assert_allclose(g, np.cos(np.arange(3.0)), rtol=1e-3)
    assert type(adnb.grad(lambda x: x ** 2)(dtype(2.0))) is dtype
    tree = adnb.grad(lambda d: d["a"] * d["b"])({"a": dtype(1.0), "b": 2.0})
    assert type(tree["a"]) is dtype and type(tree["b"]) is float
    assert adnb.grad(lambda x: x ** 2)(2.0) == 4.0 and type(adnb.grad(lambda x: x ** 2)(2.0)) is float


def test_real_if_close_iscomplex_isreal_on_real_values():
    assert adnb.grad(lambda x: np.real(x ** 2 if np.iscomplex(x) else np.sum(x)))(2.0) == 1.0
    np.testing.assert_allclose(adnb.grad(lambda x: np.sum(np.real_if_close(x) ** 2))(np.ones(2)),
                               [2.0, 2.0])
    assert adnb.grad(lambda x: x * np.all(np.isreal(x)))(np.float64(3.0)) == 1.0


# ---- plain lists of numbers as data next to a traced value ----------------------------------------
# np.dot([0.5, 1.5, 2.5], x) once returned the elementwise product: the list was read as a scalar.

L = [0.5, 1.5, 2.5]
L2 = [[1.0, 0.2, 0.1], [0.3, 2.0, 0.0], [0.0, 0.1, 1.5]]
WITH_PLAIN_LISTS = {
    "interp": lambda x: np.interp(x, [0, 1, 2, 3], [0.0, 1.0, 4.0, 9.0]),
    "polyval": lambda x: np.polyval(L, x), "polyval-coefs": lambda x: np.polyval(x, L),
    "convolve": lambda x: np.convolve(L, x), "correlate": lambda x: np.correlate(x, L, "full"),
    "dot": lambda x: np.dot(L, x), "dot-2d": lambda x: np.dot(L2, x), "int-dot": lambda x: np.dot([1, 2, 3], x),
    "kron": lambda x: np.kron(L, x), "cross": lambda x: np.cross(x, L), "outer": lambda x: np.outer(L, x),
    "where": lambda x: np.where([True, False, True], x, L), "clip": lambda x: np.clip(x, [0.6, 0, 0], [5, 5, 1]),
    "append": lambda x: np.append(x, L), "concatenate": lambda x: np.concatenate([x, L]),
    "stack": lambda x: np.stack([x, L]), "vstack": lambda x: np.vstack([x, L]),
    "matmul": lambda x: np.matmul(L2, x), "@": lambda x: L2 @ x, "@-right": lambda x: x @ L2,
    "einsum": lambda x: np.einsum("ij,j->i", L2, x), "tensordot": lambda x: np.tensordot(L, x, 1),
    "inner": lambda x: np.inner(L, x), "vdot": lambda x: np.vdot(L, x),
    "solve": lambda x: np.linalg.solve(L2, x), "solve-b": lambda x: np.linalg.solve(np.diag(x) + L2, L),
    "lstsq": lambda x: np.linalg.lstsq(L2, x, rcond=None)[0], "average": lambda x: np.average(x, weights=L),
    "arctan2": lambda x: np.arctan2(L, x), "hypot": lambda x: np.hypot(L, x), "add": lambda x: L + x,
    "trapezoid": lambda x: np.trapezoid(x, L), "diff-prepend": lambda x: np.diff(x, prepend=[0.0]),
    "cov": lambda x: np.cov(x, L), "polyfit": lambda x: np.polyfit(L, x, 1),
    "ediff1d": lambda x: np.ediff1d(x, to_end=[1.0]), "select": lambda x: np.select([x > 1], [L], default=x),
    # lists that are shapes, axes and indices stay lists
    "reshape": lambda x: np.reshape(x, [3, 1]), "transpose": lambda x: np.transpose(np.outer(x, x), [1, 0]),
    "take": lambda x: np.take(x, [0, 2]), "split": lambda x: np.split(x, [1])[1], "pad": lambda x: np.pad(x, [(1, 2)]),
    "tile": lambda x: np.tile(x, [2]), "repeat": lambda x: np.repeat(x, [1, 2, 1]), "sum-axes": lambda x: np.sum(np.outer(x, x), axis=(0,)),
    "einsum-sublists": lambda x: np.einsum(x, [0], np.outer(x, x), [0, 1], [1]),
    "percentile": lambda x: np.percentile(x, [30, 60]),
}


for _name, _op in [("add", lambda a, b: a + b), ("sub", lambda a, b: a - b), ("mul", lambda a, b: a * b),
                   ("div", lambda a, b: a / b), ("pow", lambda a, b: a ** b), ("mod", lambda a, b: a % b)]:
    WITH_PLAIN_LISTS[f"x {_name} list"] = lambda x, o=_op: o(x, L)
    WITH_PLAIN_LISTS[f"list {_name} x"] = lambda x, o=_op: o(L, x)
    WITH_PLAIN_LISTS[f"x[0] {_name} list"] = lambda x, o=_op: o(x[0] * 1.0, np.array(L)) + o(x[0] * 1.0, L[0])
    WITH_PLAIN_LISTS[f"tuple {_name} x"] = lambda x, o=_op: o(tuple(L), x)
WITH_PLAIN_LISTS.update({
    "np.arctan2(x[0], list)": lambda x: np.arctan2(x[0], L), "np.hypot(list, x[1])": lambda x: np.hypot(L, x[1]),
    "np.logaddexp(list, x)": lambda x: np.logaddexp(L, x), "np.power(list, x)": lambda x: np.power(L, x),
    "bool-list index": lambda x: x[[True, False, True]], "list index": lambda x: x[[0, 0, 2]],
    "np.mean([x, list], axis=0)": lambda x: np.mean([x, L], axis=0),
    "np.std([x, list], axis=0)": lambda x: np.std([x, L], axis=0),
    "np.clip(list, x[0], x[2])": lambda x: np.clip(L, x[0], x[2]),
})


@pytest.mark.parametrize("name", list(WITH_PLAIN_LISTS))
def test_plain_lists_are_read_as_numpy_reads_them(name):
    f = WITH_PLAIN_LISTS[name]
    x = np.array([0.7, 1.2, 2.1])
    expected = f(x)                                   # numpy on plain values
    rev, fwd = adnb.jacrev(f)(x), adnb.jacfwd(f)(x)
    assert np.shape(rev) == np.shape(expected) + (3,)
    np.testing.assert_allclose(adnb.jvp(f, (x,), (np.ones(3),))[0], expected, rtol=1e-14)
    np.testing.assert_allclose(adnb.vjp(f, x)[0], expected, rtol=1e-14)
    np.testing.assert_allclose(rev, fwd, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(rev, adnb.numerical_jacobian(f, x), rtol=1e-5, atol=1e-6)


# ---- 0 · ∞ in the chain rule ----------------------------------------------------------------------

@pytest.mark.parametrize("f", [lambda x: np.linalg.norm(x), lambda x: np.linalg.norm(x, 3),
                               lambda x: np.linalg.norm(np.stack([x, x]), "fro"),
                               lambda x: np.sum(np.linalg.norm(np.stack([x, 2 * x]), axis=1)),
                               lambda x: np.linalg.vector_norm(x)])
def test_norms_at_zero_agree_in_both_modes(f):
    """‖x‖ at x = 0 is a kink, as |x| at 0: derivative 0 in both modes (abs'(0)'s value), where the
    chain rule through sqrt would give inf · 0 (nan in reverse, 0 in forward)."""
    x = np.zeros(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NonDifferentiablePointWarning)
        np.testing.assert_array_equal(adnb.grad(f)(x), np.zeros(3))
        np.testing.assert_array_equal(adnb.jacfwd(f)(x), np.zeros(3))
    y = np.array([0.3, -1.2, 2.0])
    np.testing.assert_allclose(adnb.grad(f)(y), adnb.numerical_grad(f, y), rtol=1e-6)


@pytest.mark.parametrize("f, x", [
    (lambda x: np.cbrt(x ** 3), 0.0),                    # = x: derivative 1, the rule says 0
    (lambda x: np.std([x]), 1.5), (lambda x: np.std([x * 2.0]), 1.5),
    (lambda x: np.std([x, x]), 1.5), (lambda x: np.std(np.stack([x, x])), 1.5),
    (lambda x: np.linalg.norm([x - x, 0.0]), 1.5), (lambda x: np.sqrt(x * x), 0.0),
    (lambda x: np.sum(np.sqrt(x * x)), np.zeros(3)),
])
def test_infinity_times_zero_is_zero_in_both_modes_and_never_silent(f, x):
    """The chain rule meets ∞ · 0 (a zero tangent and sqrt'(0) in forward mode; an infinite
    adjoint and a zero partial in reverse mode). Both modes count it as 0 -- the same number --
    and say so: cbrt(x**3) at 0 shows why it cannot be trusted."""
    results = []
    for run in (lambda: adnb.grad(f)(x), lambda: adnb.jvp(f, (x,), (np.ones_like(x),))[1]):
        with pytest.warns(NonDifferentiablePointWarning, match="0"):
            with np.errstate(all="ignore"):
                results.append(run())
    np.testing.assert_array_equal(np.sum(results[0]), results[1])
    np.testing.assert_array_equal(results[1], 0.0)


class _Labelled:
    """A stand-in for another library's array (xarray's DataArray): it wraps the result of the
    operation on its data, whatever that data is (here a traced array)."""
    def __init__(self, data):
        self.data = data

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        inputs = [i.data if isinstance(i, _Labelled) else i for i in inputs]
        return _Labelled(getattr(ufunc, method)(*inputs, **kwargs))

    def __mul__(self, other):
        return _Labelled(self.data * other)

    def __rmul__(self, other):
        return _Labelled(other * self.data)


def test_another_librarys_array_wraps_the_traced_result():
    base = np.array([1.0, -2.0, 3.0])
    for f in (lambda x: np.sum((x * _Labelled(base)).data),
              lambda x: np.sum((_Labelled(base) * x).data),
              lambda x: np.sum(np.abs(_Labelled(base) * x).data)):
        np.testing.assert_allclose(adnb.grad(f)(2.0), adnb.numerical_grad(f, 2.0), rtol=1e-6)
        np.testing.assert_allclose(adnb.jvp(f, (2.0,), (1.0,))[1], adnb.grad(f)(2.0))
