"""adnb.course: the measurement helpers the course notebooks import (sweeps, counters, figures)."""
from __future__ import annotations

import math

import numpy as np
import pytest

import adnb
from adnb import course


def test_number_never_prints_a_negative_zero():
    assert course.number(-0.004, "+.1f") == "+0.0"
    assert course.number(-0.004, ".2f") == "0.00"
    assert course.number(-0.0) == "0"
    assert course.number(-0.001, "6.2f") == "  0.00"            # width kept
    assert course.number(-1e-20, ".1e") == "-1.0e-20"           # not zero when printed: sign kept
    assert course.number(-1.5, ".1f") == "-1.5" and course.number(2.0, "+.1f") == "+2.0"
    assert format(-0.004, "+.1f") == "-0.0"                     # what it protects against


def test_three_digits():
    assert [course.three_digits(x) for x in (2, 22.34, 678.2, 1350866.0, 0.0899, 0.00123, -0.0)] == \
        ["2.00", "22.3", "678", "1.35e+06", "0.0899", "1.23e-03", "0"]


def test_loglog_slope_recovers_the_power():
    x = np.array([4.0, 8.0, 16.0, 32.0])
    assert course.loglog_slope(x, 3 * x ** 2) == pytest.approx(2.0, abs=1e-12)
    assert course.loglog_slope(x, 5 * x) == pytest.approx(1.0, abs=1e-12)


def test_sweep_table_marks_measured_columns():
    table = course.sweep(lambda n: {"W": 2 * n, "flops": 10 * n ** 2, "ratio": n / 4,
                                    "time [ms]": 0.123 * n, "memory [MB]": 1.5}, (1, 2), key="n")
    assert table.columns == ["n", "W", "flops", "ratio", "time [ms]", "memory [MB]"]
    assert list(table["W"]) == [2, 4] and table["ratio"].tolist() == [0.25, 0.5]
    assert table.slope("n", "flops") == pytest.approx(2.0)
    lines = str(table).splitlines()
    assert lines[0].split() == ["n", "W", "flops", "ratio", "time", "[ms]", "memory", "[MB]"]
    assert lines[1].split() == ["1", "2", "10", "0.250", "~0.123", "~1.50"]
    assert lines[2].split() == ["2", "4", "40", "0.500", "~0.246", "~1.50"]
    assert len({len(line) for line in lines}) == 1                       # right-aligned columns
    with_key = course.sweep(lambda n: {"n": n * 10, "x": 1}, (1,), key="n")
    assert with_key["n"].tolist() == [10]                                # measure's own key wins


def test_call_counter_and_last_finite():
    f = course.CallCounter(lambda x: 2 * np.sum(x))
    assert adnb.numerical_grad(f, np.ones(3)).tolist() == pytest.approx([2.0, 2.0, 2.0])
    assert f.calls == 6                                                  # central: 2W
    assert course.last_finite(lambda n: np.float64(2.0) ** n, 1, 2000) == 1023
    with pytest.raises(ValueError, match="wider"):
        course.last_finite(lambda n: 2.0 ** min(n, 10), 1, 100)
    with pytest.raises(ValueError, match="start lower"):
        course.last_finite(lambda n: math.inf, 1, 100)


def test_counting_primitives_counts_and_restores():
    prim = adnb.PRIMITIVES["exp"]
    before = (prim.impl, prim.scalar_impl)
    f = lambda x: np.exp(x) * np.exp(2 * x)  # noqa: E731
    with course.counting_primitives("exp") as counts:
        g = adnb.grad(f)(0.5)
    assert g == pytest.approx(3 * math.exp(1.5), rel=1e-14)
    assert counts["exp"] == 2                                            # rules reuse the values
    assert (prim.impl, prim.scalar_impl) == before
    with pytest.raises(ZeroDivisionError):
        with course.counting_primitives("exp"):
            1 / 0
    assert (prim.impl, prim.scalar_impl) == before


def test_best_time_and_peak_bytes():
    assert 0 <= course.best_time(lambda: None) < 0.1
    assert course.peak_bytes(lambda: np.ones(100_000)) >= 800_000


def test_figures_label_slopes_without_negative_zero():
    plt = pytest.importorskip("matplotlib.pyplot")
    x = np.array([10.0, 20.0, 40.0])
    ax = course.plot_loglog(x, {"flat": np.array([2.5, 2.5, 2.5 * (1 - 1e-9)]), "line": x}, "W", "y", "t")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["flat (slope 0.00)", "line (slope 1.00)"]
    ratio = np.array([[1.0, 0.25], [4.0, 0.99]])
    ax2 = course.plot_log2_grid(ratio, (1, 4), "K", "D", "t")
    assert sorted(t.get_text() for t in ax2.texts) == ["+0.0", "+0.0", "+2.0", "-2.0"]
    plt.close("all")
