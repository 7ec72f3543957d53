"""autograd.test_util's checks, with adnb underneath: JVP against a central difference,
VJP through the dot-product identity, and the same checks on the derivative functions."""
from itertools import product

import pytest

from .wrap_util import unary_to_nary
from . import vspaces as vs
from . import _make_jvp, _make_vjp

TOL = 1e-6
RTOL = 1e-6
EPS = 1e-6


def scalar_close(a, b):
    return abs(a - b) < TOL or abs(a - b) / abs(a + b) < RTOL


def _numerical_jvp(f, x):
    def jvp(v):
        return vs.scale(vs.add(f(vs.add(x, v, EPS / 2)), f(vs.add(x, v, -EPS / 2)), -1.0), 1 / EPS)
    return jvp


def _skip_complex(x):
    if vs.is_complex(x):
        pytest.skip("complex input: adnb refuses complex values by design")


def check_vjp(f, x):
    vjp, y = _make_vjp(f, x)
    x_v, y_v = vs.randn_like(x), vs.randn_like(y)
    vjp_y = vjp(y_v)
    assert vs.shapes(vjp_y) == vs.shapes(x), (vs.shapes(vjp_y), vs.shapes(x))
    exact = vs.inner(x_v, vjp_y)
    numeric = vs.inner(y_v, _numerical_jvp(f, x)(x_v))
    assert scalar_close(numeric, exact), f"VJP of {f.__name__} at {x}: {exact} vs {numeric}"


def check_jvp(f, x):
    v = vs.randn_like(x)
    check_equivalent(_make_jvp(f, x)(v)[1], _numerical_jvp(f, x)(v))


def check_equivalent(x, y):
    assert vs.shapes(x) == vs.shapes(y), f"shape mismatch: {vs.shapes(x)} vs {vs.shapes(y)}"
    v = vs.randn_like(x)
    assert scalar_close(vs.inner(x, v), vs.inner(y, v)), f"value mismatch:\n{x}\n{y}"


@unary_to_nary
def check_grads(f, x, modes=["fwd", "rev"], order=2):
    _skip_complex(x)
    if "fwd" in modes:
        check_jvp(f, x)
        if order > 1:
            def jvp_f(x, v):
                return _make_jvp(f, x)(v)[1]
            jvp_f.__name__ = f"jvp_{f.__name__}"
            check_grads(jvp_f, (0, 1), modes, order=order - 1)(x, vs.randn_like(x))
    if "rev" in modes:
        check_vjp(f, x)
        if order > 1:
            def vjp_f(x, v):
                return _make_vjp(f, x)[0](v)
            vjp_f.__name__ = f"vjp_{f.__name__}"
            check_grads(vjp_f, (0, 1), modes, order=order - 1)(x, vs.randn_like(f(x)))


def combo_check(fun, *args, **kwargs):
    def _combo_check(*arg_lists, **kwarg_lists):
        kv = [[(k, x) for x in xs] for k, xs in kwarg_lists.items()]
        for _args in product(*arg_lists):
            if vs.is_complex(_args):
                continue          # adnb refuses complex values; the real combinations still run
            for _kwargs in product(*kv):
                check_grads(fun, *args, **kwargs)(*_args, **dict(_kwargs))
    return _combo_check
