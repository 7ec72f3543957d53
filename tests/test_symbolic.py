"""Symbolic differentiation and expression swell (adnb.display.symbolic), against the reference.

Reference values: shared/reference/bishop-ch8.md §3 (softplus network, eq. 8.48) and §10.6
(logistic map, Exercise 8.14). SymPy's operation counts are version dependent, so only the exact
values, the growth and the redundancy are asserted strictly.
"""
from __future__ import annotations

import sys
from fractions import Fraction

import numpy as np
import pytest

import adnb

sp = pytest.importorskip("sympy")

from adnb.display.symbolic import (SymbolicUnavailableError, logistic_swell,  # noqa: E402
                                   swell_report, symbolic_derivatives, to_sympy)


def softplus_net(x, w1, b1, w2, b2):
    z = np.log(1 + np.exp(w1 * x + b1))          # (8.44) with h = softplus (8.46)
    y = np.log(1 + np.exp(w2 * z + b2))          # (8.45)
    return y


def test_trace_to_sympy_is_the_books_function():
    t = adnb.trace(lambda x1, x2: x1 * x2 + np.exp(x1 * x2) - np.sin(x2), 1.0, 2.0)
    (f,) = to_sympy(t)
    x1, x2 = sp.symbols("x1 x2", real=True)
    assert sp.simplify(f - (x1 * x2 + sp.exp(x1 * x2) - sp.sin(x2))) == 0
    d = symbolic_derivatives(t)
    assert float(d[(0, "x1")].subs({x1: 1, x2: 2})) == pytest.approx(16.7781121978613, rel=1e-14)


def test_softplus_derivative_is_eq_8_48_and_swells():
    t = adnb.trace(softplus_net, 1.5, 0.8, -0.3, 1.2, 0.5)
    r = swell_report(t)
    x, w1, b1, w2, b2 = sp.symbols("x w1 b1 w2 b2", real=True)
    e = w1 * x + b1
    eq_8_48 = (w2 * x * sp.exp(e + b2 + w2 * sp.log(1 + sp.exp(e))) /
               ((1 + sp.exp(e)) * (1 + sp.exp(b2 + w2 * sp.log(1 + sp.exp(e))))))
    assert sp.simplify(r.derivatives[(0, "w1")] - eq_8_48) == 0            # Exercise 8.13
    point = {x: 1.5, w1: 0.8, b1: -0.3, w2: 1.2, b2: 0.5}
    assert float(r.derivatives[(0, "w1")].subs(point)) == pytest.approx(1.1257319730060193,
                                                                       rel=1e-13)
    assert r.trace_length == 10
    assert r.derivative_ops > 10 * r.function_ops          # 128 vs 10 with SymPy 1.14
    assert r.n_shared >= 3 and r.cse_ops < r.derivative_ops / 4     # redundancy: 6 shared, 16 ops
    assert r.adjoint_ops <= 3 * r.trace_length              # AD: all five partials, linear cost
    assert "shared sub-expressions" in r.table()
    assert str(r) == r.table() and "SwellReport(" not in str(r)      # print(report) reads as a table
    assert f"{r.derivative_ops:6d} operations" in str(r)


def test_logistic_map_exercise_8_14():
    rows = logistic_swell(5)
    assert [r["L"] for r in rows] == [Fraction(3, 10), Fraction(21, 25), Fraction(336, 625),
                                      Fraction(388416, 390625),
                                      Fraction(3432043776, 152587890625)]
    assert [r["dL"] for r in rows] == [1, Fraction(8, 5), Fraction(-544, 125),
                                       Fraction(102272, 78125),
                                       Fraction(-157992649216, 30517578125)]
    # the trace grows by 3 operations per step; the symbolic derivative geometrically
    assert [r["trace_length"] for r in rows] == [0, 3, 6, 9, 12]
    dl = [r["ops_dL"] for r in rows]
    assert all(b >= 2 * a for a, b in zip(dl[2:], dl[3:])) and dl[-1] > 10 * rows[-1]["trace_length"]
    lo = [r["ops_L"] for r in rows]
    assert all(b >= 2 * a for a, b in zip(lo[1:], lo[2:]))
    # AD values agree with the exact recurrence L'_{n+1} = 4 L'_n (1 − 2 L_n)
    g = adnb.grad(lambda x: _logistic5(x))(0.3)
    assert g == pytest.approx(float(rows[-1]["dL"]), rel=1e-12)


def _logistic5(x):
    for _ in range(4):
        x = 4 * x * (1 - x)
    return x


def test_arrays_are_refused_with_a_clear_error():
    t = adnb.trace(lambda x: np.sum(np.sin(x)), np.ones(3))
    with pytest.raises(adnb.ADNBError, match="scalar code only"):
        to_sympy(t)


def test_missing_sympy_gives_an_adnb_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "sympy", None)
    t = adnb.trace(lambda x: x * x, 2.0)
    with pytest.raises(SymbolicUnavailableError, match=r"adnb\[symbolic\]"):
        to_sympy(t)
    with pytest.raises(ImportError):                        # also an ImportError
        swell_report(t)
