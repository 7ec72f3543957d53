"""The float fast paths must be invisible: same trace rows, same local partials, same tangents as
the general path (``Trace.process`` / ``DualTrace.process``), and out of the way wherever the
general path does more (explore mode, count_cost, nesting, arrays, inf/nan)."""
from __future__ import annotations

import math
import operator
import warnings

import numpy as np
import pytest

import adnb
from adnb.core.forward import DualTrace, DualTracer
from adnb.core.trace import TapeTracer, Trace
from adnb.core.tracer import Tracer

@pytest.fixture(autouse=True)
def fast_paths():
    """These tests are about the fast paths: on even where the suite runs on the reference path
    (ADNB_REFERENCE=1), and compared with it."""
    from adnb.core import fast
    was = fast.installed()
    fast.install()
    yield
    if not was:
        fast.uninstall()


OPS = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv}
# (left, right): "x"/"y" are traced floats, numbers are constants (float and int)
OPERANDS = [("x", 0.7), (0.7, "x"), ("x", 3), (3, "x"), ("x", "y"), ("y", "x"), ("x", "x")]


def _general(op_name, a, b):
    """The same operation through the base class (the general path), never the fast one."""
    if isinstance(a, Tracer):
        return getattr(Tracer, f"__{op_name}__")(a, b)
    return getattr(Tracer, f"__r{op_name}__")(b, a)


@pytest.mark.parametrize("op_name", list(OPS))
@pytest.mark.parametrize("left,right", OPERANDS)
def test_recorded_rows_equal_the_general_path(op_name, left, right):
    rows = []
    for fast in (True, False):
        t = Trace()
        env = {"x": t.new_input(1.3), "y": t.new_input(-0.4)}
        a, b = env.get(left, left), env.get(right, right)
        out = OPS[op_name](a, b) if fast else _general(op_name, a, b)
        assert type(out) is TapeTracer and out.index == len(t.rows) - 1
        rows.append((t.rows[-1], t.local[-1], out.primal))
    (fast_row, fast_local, fast_val), (row, local, val) = rows
    assert fast_val == val
    assert fast_row[0] is row[0]                       # the primitive
    assert fast_row[1:] == row[1:]                     # parents, args, ans, params, shape
    assert fast_local == local and all(type(d) in (float, int) for d in fast_local)


@pytest.mark.parametrize("op_name", list(OPS))
@pytest.mark.parametrize("left,right", OPERANDS)
def test_forward_tangents_equal_the_general_path(op_name, left, right):
    results = []
    for fast in (True, False):
        d = DualTrace()
        env = {"x": d.new_input(1.3, 0.25), "y": d.new_input(-0.4, -1.5)}
        a, b = env.get(left, left), env.get(right, right)
        out = OPS[op_name](a, b) if fast else _general(op_name, a, b)
        assert type(out) is DualTracer
        results.append((out.primal, out.tangent))
    assert results[0] == results[1]


UNARY = [np.sin, np.cos, np.exp, np.log, np.sqrt, np.tanh, np.tan, np.arctan, np.negative,
         np.abs, np.log1p, np.expm1, np.sinh, np.cosh, np.arcsin, np.arccos, np.square]


@pytest.mark.parametrize("ufunc", UNARY, ids=lambda u: u.__name__)
def test_unary_ufunc_rows_and_tangents_equal_the_general_path(ufunc):
    rows, duals = [], []
    for fast in (True, False):
        t = Trace()
        x = t.new_input(0.3)
        out = ufunc(x) if fast else Tracer.__array_ufunc__(x, ufunc, "__call__", x)
        rows.append((t.rows[-1], t.local[-1], out.primal))
        d = DualTrace().new_input(0.3, 0.75)
        out = ufunc(d) if fast else Tracer.__array_ufunc__(d, ufunc, "__call__", d)
        duals.append((out.primal, out.tangent))
    (fast_row, fast_local, fast_val), (row, local, val) = rows
    assert fast_val == val and fast_row[0] is row[0] and fast_row[1:] == row[1:]
    assert fast_local == local
    assert duals[0] == duals[1]


def _scalar_program(x, y):
    z = x * y + 2 * x - y / 3.0
    for _ in range(3):
        z = z * 0.5 + x / (1.0 + y * y) - 1 - z
    return 4.0 / z + z / x


def test_gradients_and_jvps_of_scalar_code_match_numpy_scalars():
    """np.float64 inputs take the general path everywhere: the same numbers must come out."""
    x, y = 1.3, -0.4
    g_fast = adnb.grad(_scalar_program, argnums=(0, 1))(x, y)
    g_general = adnb.grad(lambda a, b: _scalar_program(a + np.zeros(()), b + np.zeros(())),
                          argnums=(0, 1))(x, y)
    np.testing.assert_allclose(g_fast, g_general, rtol=1e-15)
    for v in ((1.0, 0.0), (0.0, 1.0), (0.3, -2.0)):
        _, t_fast = adnb.jvp(_scalar_program, (x, y), v)
        np.testing.assert_allclose(t_fast, np.dot(g_fast, v), rtol=1e-13)
    assert adnb.check_grads(_scalar_program, (x, y), order=2)


def test_explore_mode_and_cost_counting_still_see_every_operation():
    t = adnb.trace(lambda x, y: x * y + 2.0 * x, 1.5, 0.5)
    assert [n.prim.name for n in t.nodes if n.prim] == ["mul", "mul", "add"]
    assert all(n.loc is not None for n in t.nodes if n.prim)      # source lines: general path
    with adnb.count_cost() as cost:
        adnb.grad(lambda x: x * 2.0 + x / 3.0)(1.5)
    assert cost.ops["primal"] == 3


def test_nested_transformations_keep_perturbations_apart():
    # d/dx [x · d/dy (x + y)] = 1, every operation here a float operator
    for outer in (adnb.grad, lambda f: (lambda x: adnb.jvp(f, (x,), (1.0,))[1])):
        for inner in (adnb.grad, lambda f: (lambda y: adnb.jvp(f, (y,), (1.0,))[1])):
            def f(x):
                return x * inner(lambda y: x + y)(2.0)
            assert outer(f)(3.0) == 1.0
    assert adnb.grad(adnb.grad(lambda x: x * x * x / 2.0))(1.5) == pytest.approx(4.5, rel=1e-15)


def test_division_by_zero_takes_the_general_path():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value, g = adnb.value_and_grad(lambda x: 1.0 / x)(0.0)
        _, t = adnb.jvp(lambda x: x / 0.0, (1.0,), (1.0,))
    assert math.isinf(value) and not math.isfinite(g)
    assert math.isinf(t)


def _adnb_warnings(f, *args):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with np.errstate(all="ignore"):
            out = f(*args)
    return out, [w for w in caught if issubclass(w.category, adnb.NonDifferentiablePointWarning)]


def test_optimistic_reverse_sweep_gives_the_checked_results_and_warnings():
    """Array contributions are checked for inf/nan only when an input's adjoint ends non-finite."""
    # a selected infinite partial (√x at 0): inf, and the warning naming sqrt
    g, warned = _adnb_warnings(adnb.grad(lambda x: np.sum(np.sqrt(x))), np.array([0.0, 4.0]))
    assert np.isinf(g[0]) and g[1] == 0.25 and warned and "sqrt" in str(warned[0].message)
    # the unselected branch of a where (zero seed × inf): exactly 0, no warning
    g, warned = _adnb_warnings(adnb.grad(lambda x: np.sum(np.where(x > 0, np.sqrt(x), 0.0))),
                               np.array([0.0, 4.0]))
    np.testing.assert_array_equal(g, [0.0, 0.25])
    assert not warned
    # an infinite partial beyond a clipped entry does not matter: gradient 0, no warning
    g, warned = _adnb_warnings(adnb.grad(lambda x: np.sum(np.sqrt(np.clip(x, 0.0, 1.0)))),
                               np.array([-1.0, 0.25]))
    np.testing.assert_array_equal(g, [0.0, 1.0])
    assert not warned
