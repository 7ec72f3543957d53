"""Measurement plumbing for the course notebooks: timings, size sweeps, log–log fits, figures.

The notebooks keep the idea of each measurement in view (what is counted, for one size) and call
this module for the parts that only repeat it: running it over a list of sizes, printing the
table, fitting slopes, drawing the figure. What it lets you do:

* ``sweep(measure, sizes)`` — call ``measure(size) -> {column: number}`` for each size and get a
  ``Sweep`` table back: ``table["W"]`` is a column as an array, ``print(table)`` a text table,
  ``table.slope("W", "flops")`` the log–log slope of one column against another;
* ``best_time(fn)`` / ``peak_bytes(fn)`` — the best of a few wall-clock runs, the peak memory
  (``tracemalloc``) of one run;
* ``CallCounter(f)`` — ``f`` that counts its own calls; ``counting_primitives("exp", "log")`` —
  count how often adnb evaluates some of its primitives inside a ``with`` block;
* ``last_finite(fn, lo, hi)`` — the largest ``n`` for which ``fn(n)`` is all finite;
* ``plot_loglog(...)`` and ``plot_log2_grid(...)`` — the two kinds of figure the cost notebooks
  draw (matplotlib is imported only when they are called);
* ``number(x, ".2f")`` — ``format`` without the ``-0.00`` that rounding a tiny negative gives;
  ``three_digits(x)`` — how ``Sweep`` tables write measured floats.

Numbers measured with a clock or an allocator vary between runs. Wherever this module prints
them (``Sweep`` columns whose name starts with ``time``, ``wall`` or ``memory``) it writes them
as ``~12.3``: ``tests/test_notebooks.py`` compares every other number a notebook prints with a
fresh run and skips the ones marked ``~``.
"""
from __future__ import annotations

import contextlib
import math
import time
import tracemalloc
import warnings

import numpy as np

__all__ = ["Sweep", "sweep", "best_time", "peak_bytes", "CallCounter", "counting_primitives",
           "last_finite", "loglog_slope", "number", "three_digits", "plot_loglog", "plot_log2_grid",
           "VOLATILE"]

#: column-name prefixes of measurements that vary from run to run (printed with a leading ``~``)
VOLATILE = ("time", "wall", "memory")


def number(x, spec=".3g"):
    """``format(x, spec)``, except that a value that rounds to zero never prints as ``-0``.

    >>> number(-0.004, "+.1f"), number(-0.0), number(-0.001, "6.2f"), number(-1.5, ".1f")
    ('+0.0', '0', '  0.00', '-1.5')
    """
    text = format(x, spec)
    core = text.strip()
    try:
        negative_zero = core.startswith("-") and float(core) == 0.0
    except ValueError:                  # e.g. a "%" spec: leave it alone
        negative_zero = False
    if negative_zero:
        width = len(text) if core != text else 0          # a padded field keeps its width
        text = text.replace("-", "+" if "+" in spec else "", 1).rjust(width)
    return text


def three_digits(x):
    """Three significant digits, trailing zeros kept (``2.00``, ``22.3``, ``678``, ``1.35e+06``)."""
    x = float(x)
    if x == 0 or not math.isfinite(x):
        return number(x, "g")
    if 0.01 <= abs(x) < 1000:
        return number(x, f".{max(0, 2 - math.floor(math.log10(abs(x))))}f")
    return number(x, ".2e")


def loglog_slope(x, y):
    """Least-squares slope of log(y) against log(x): 1 for y ∝ x, 2 for y ∝ x²."""
    return float(np.polyfit(np.log(np.asarray(x, float)), np.log(np.asarray(y, float)), 1)[0])


def best_time(fn, repeat=3):
    """Best of ``repeat`` wall-clock runs of ``fn()``, in seconds (the least disturbed one)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def peak_bytes(fn):
    """Peak memory allocated by Python while ``fn()`` runs, in bytes (``tracemalloc``)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


class CallCounter:
    """``f`` with a call counter: ``E_counted = CallCounter(E); ...; E_counted.calls``."""

    def __init__(self, f):
        self.f, self.calls = f, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.f(*args, **kwargs)


@contextlib.contextmanager
def counting_primitives(*names):
    """Count every evaluation of the named adnb primitives inside the block.

    Wraps each primitive's implementation for the duration of the block (and restores it, also
    on error), so the count includes the evaluations that derivative rules make.

    Example::

        with counting_primitives("exp", "log") as counts:
            adnb.grad(f)(x)
        counts          # {'exp': 2, 'log': 2} for the softplus network of notebook 01
    """
    from adnb import PRIMITIVES
    counts = dict.fromkeys(names, 0)
    saved = {name: (PRIMITIVES[name].impl, PRIMITIVES[name].scalar_impl) for name in names}

    def counted(fn, name):
        if fn is None:
            return None

        def wrapper(*args, **kwargs):
            counts[name] += 1
            return fn(*args, **kwargs)
        return wrapper

    for name, (impl, scalar_impl) in saved.items():
        prim = PRIMITIVES[name]
        prim.impl, prim.scalar_impl = counted(impl, name), counted(scalar_impl, name)
    try:
        yield counts
    finally:
        for name, (impl, scalar_impl) in saved.items():
            PRIMITIVES[name].impl, PRIMITIVES[name].scalar_impl = impl, scalar_impl


def last_finite(fn, lo, hi):
    """The largest ``n`` in ``[lo, hi)`` with ``fn(n)`` all finite, by bisection.

    Assumes that once ``fn(n)`` overflows it stays non-finite for larger ``n`` (inf and nan
    propagate), and that ``fn(lo)`` is finite. Overflow warnings are expected here and silenced.

    Raises:
        ValueError: ``fn(lo)`` is not finite, or ``fn(hi - 1)`` still is (widen the range).
    """
    def finite(n):
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return bool(np.all(np.isfinite(fn(n))))

    if not finite(lo):
        raise ValueError(f"fn({lo}) is already not finite: start lower")
    if finite(hi - 1):
        raise ValueError(f"fn({hi - 1}) is still finite: search a wider range")
    while hi - lo > 1:                  # invariant: fn(lo) finite, fn(hi) not (or hi never run)
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if finite(mid) else (lo, mid)
    return lo


class Sweep:
    """A measurement repeated over sizes: one row per size, one column per measured quantity.

    Args:
        rows: list of ``{column: value}`` dicts with the same keys (as ``sweep`` builds it).
        key: name of the column holding the size (``sweep`` puts it first).
    """

    def __init__(self, rows, key="size"):
        self.rows, self.key = list(rows), key
        self.columns = list(self.rows[0]) if self.rows else [key]

    def __getitem__(self, column):
        """A column as a numpy array (``table["W"]``)."""
        return np.array([row[column] for row in self.rows])

    def __len__(self):
        return len(self.rows)

    def slope(self, x, y):
        """Log–log slope of column ``y`` against column ``x``."""
        return loglog_slope(self[x], self[y])

    def _cell(self, column, value):
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            text = str(int(value))
        elif isinstance(value, (float, np.floating)):
            text = three_digits(value)
        else:
            text = str(value)
        return "~" + text if column.lower().startswith(VOLATILE) else text

    def __str__(self):
        cells = [[self._cell(c, row[c]) for c in self.columns] for row in self.rows]
        widths = [max([len(c)] + [len(r[j]) for r in cells]) for j, c in enumerate(self.columns)]
        lines = ["  ".join(c.rjust(w) for c, w in zip(self.columns, widths))]
        lines += ["  ".join(t.rjust(w) for t, w in zip(r, widths)) for r in cells]
        return "\n".join(lines)

    def __repr__(self):
        return f"Sweep({len(self.rows)} rows: {', '.join(self.columns)})"


def sweep(measure, sizes, key="size"):
    """Run ``measure(size)`` for every size and collect the results in a ``Sweep``.

    Args:
        measure: ``size -> dict`` of named numbers (a column each). If it has no ``key`` entry,
            the size is put in front under that name.
        sizes: the sizes (or any labels) to measure at.
        key: the name of the size column.

    Returns:
        Sweep, printable as a table.
    """
    rows = []
    for size in sizes:
        row = measure(size)
        rows.append(row if key in row else {key: size, **row})
    return Sweep(rows, key=key)


# ---- figures (matplotlib only when called) ------------------------------------------------------

def plot_loglog(x, series, xlabel, ylabel, title, ax=None):
    """One log–log line per entry of ``series`` (label -> y values), each labelled with its
    fitted slope, against ``x``; the legend sits below the axes. Returns the Axes."""
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots()
    for (label, y), marker in zip(series.items(), "os^vD"):
        ax.loglog(x, y, marker + "-", label=f"{label} (slope {number(loglog_slope(x, y), '.2f')})")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend(loc="upper left", bbox_to_anchor=(0, -0.18), frameon=False)   # below: never on a line
    return ax


def plot_log2_grid(ratio, ticks, xlabel, ylabel, title, ax=None):
    """A heat map of log2(ratio) with each cell's value written in it (red > 0 > blue).

    ``ratio[a, b]`` belongs to row tick ``ticks[a]`` and column tick ``ticks[b]``. Returns the Axes.
    """
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=(4.6, 3.8))
    logs = np.log2(ratio)
    bound = max(1.0, math.ceil(float(np.max(np.abs(logs)))))
    im = ax.imshow(logs, cmap="coolwarm", vmin=-bound, vmax=bound, origin="lower")
    n = len(ticks)
    ax.set(xticks=range(n), xticklabels=ticks, yticks=range(n), yticklabels=ticks,
           xlabel=xlabel, ylabel=ylabel, title=title)
    for a in range(n):
        for b in range(n):
            ax.text(b, a, number(logs[a, b], "+.1f"), ha="center", va="center", fontsize=9)
    ax.figure.colorbar(im, ax=ax, shrink=0.8)
    return ax
