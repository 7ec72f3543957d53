"""The fast paths (core/fast.py) against the reference path: bit-identical numbers and the same
warnings on random programs (hypothesis) -- scalars, arrays, broadcasting, control flow, nesting,
points without a derivative.

Each program runs through every transformation twice, once with the fast paths installed and once
on the reference path (``adnb.core.use_reference_path``), and the results are compared with
``==`` on the bits (nan equal to nan), not with a tolerance.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

import adnb  # noqa: E402
from adnb.core import fast  # noqa: E402

UNARY = {
    "sin": np.sin, "cos": np.cos, "tanh": np.tanh, "exp": np.exp, "neg": lambda a: -a,
    "sqrt|a|": lambda a: np.sqrt(np.abs(a)),           # no derivative at 0: inf, a warning
    "log|a|": lambda a: np.log(np.abs(a) + 0.5), "square": lambda a: a * a,
    "arctan": np.arctan, "scale": lambda a: 0.5 * a - 0.25, "recip": lambda a: 1.0 / (a + 3.0),
    "relu": lambda a: np.maximum(a, 0.0), "clip": lambda a: np.clip(a, -0.5, 0.5),
    "branch": lambda a: (a * a if np.sum(a) > 0 else np.sin(a)),     # control flow
    "where": lambda a: np.where(a > 0, np.sqrt(np.abs(a)), 0.0),     # the double-where trap
}
BINARY = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (2.0 + np.cos(b)), "pow": lambda a, b: np.abs(a) ** (1.5 + 0.1 * b),
    "max": np.maximum, "arctan2": lambda a, b: np.arctan2(a, b + 3.0),
}


@st.composite
def programs(draw):
    """Steps (op, operand indices) over the inputs x (value 0) and y (value 1) and all earlier
    values: fan-out, a value used twice."""
    steps = []
    for k in range(draw(st.integers(1, 7))):
        n = k + 2
        if draw(st.booleans()):
            steps.append((draw(st.sampled_from(sorted(UNARY))), (draw(st.integers(0, n - 1)),)))
        else:
            steps.append((draw(st.sampled_from(sorted(BINARY))),
                          (draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1)))))
    return steps


def run(steps, x, y):
    vals = [x, y]
    for op, idx in steps:
        fn = UNARY.get(op) or BINARY[op]
        vals.append(fn(*[vals[i] for i in idx]))
    out = vals[-1] * vals[0] + vals[-1]
    return np.sum(out) if np.ndim(out) else out


SHAPES = {
    "scalars": lambda v: (float(v[0]), float(v[1])),
    "arrays": lambda v: (np.array(v[:3]), np.array(v[3:6])),
    "broadcast": lambda v: (np.array(v[:3]).reshape(3, 1), np.array(v[3:5])),
    "scalar-array": lambda v: (float(v[0]), np.array(v[1:4])),
}


def _everything(f, x, y):
    """Every transformation of f at (x, y), and the adnb warnings raised on the way."""
    def fx(x):
        return f(x, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with np.errstate(all="ignore"):
            out = {
                "value_and_grad": adnb.value_and_grad(f, argnums=(0, 1))(x, y),
                "jvp": adnb.jvp(f, (x, y), (np.ones_like(x) if np.ndim(x) else 1.0,
                                            np.full_like(y, -0.5) if np.ndim(y) else -0.5)),
                "jacfwd": adnb.jacfwd(fx)(x),
                "explore": _explored(f, x, y),
                "nested": adnb.grad(lambda x: np.sum(adnb.grad(fx)(x * 1.0)) if np.ndim(x)
                                    else adnb.grad(fx)(x))(x),
            }
    messages = sorted(str(w.message) for w in caught
                      if issubclass(w.category, adnb.errors.ADNBWarning))
    return out, messages


def _explored(f, x, y):
    t = adnb.trace(f, x, y)
    return [t.forward().tangents[0][-1], t.reverse().gradient(0)]


def _bits(a):
    """A comparable form: nested containers of float64 bit patterns (nan == nan, -0.0 ≠ 0.0)."""
    if isinstance(a, (list, tuple)):
        return tuple(_bits(v) for v in a)
    if isinstance(a, dict):
        return tuple((k, _bits(v)) for k, v in sorted(a.items()))
    if a is None:
        return None
    arr = np.asarray(a, dtype=np.float64)
    return (arr.shape, arr.tobytes())


@pytest.fixture
def restore_paths():
    was = fast.installed()
    yield
    (fast.install if was else fast.uninstall)()


@pytest.mark.parametrize("shape", sorted(SHAPES))
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=programs(), v=st.lists(st.floats(-2.0, 2.0, allow_nan=False).map(
    lambda a: 0.0 if abs(a) < 0.05 else a), min_size=6, max_size=6))
def test_fast_and_reference_paths_agree_bit_for_bit(restore_paths, shape, steps, v):
    x, y = SHAPES[shape](v)

    def f(x, y):
        return run(steps, x, y)
    fast.install()
    fast_out, fast_warned = _everything(f, x, y)
    fast.uninstall()
    ref_out, ref_warned = _everything(f, x, y)
    for key in ref_out:
        assert _bits(fast_out[key]) == _bits(ref_out[key]), (key, fast_out[key], ref_out[key])
    assert fast_warned == ref_warned


def test_the_switch_changes_which_code_runs(restore_paths):
    from adnb.core.trace import Trace
    adnb.core.use_reference_path()
    assert not fast.installed() and Trace.process is fast._REFERENCE["Trace.process"]
    g_ref = adnb.grad(lambda x: x * np.sin(x) / 3.0)(0.7)
    adnb.core.use_reference_path(False)
    assert fast.installed() and Trace.process is fast.trace_process
    assert adnb.grad(lambda x: x * np.sin(x) / 3.0)(0.7) == g_ref
