"""Render times of adnb's displays, against the targets of issues 4 and 5.

    python benchmarks/bench_display.py [--repeat N]

Prints one table: the book's example (8.49)/(8.65) — its trace table and its graph must render in
under 100 ms each — 10,000-operation traces — folded table and graph in under 2 s, HTML under
1 MB — and one step of a sweep as the explorer widget draws it (issue 5: under 100 ms for the
book's example, under 500 ms for a 500-operation trace). Each time is the median of N runs after one warm-up run (imports and caches excluded),
as wall-clock time and as CPU time of this process; targets are judged on CPU time, since the
machine may be shared (the load average is printed) and wall time then counts other processes.

What is timed:

* table: ``trace_table(trace, forward, reverse)`` (tangents and adjoints of every seed), sweeps
  computed beforehand;
* graph (artists): ``draw_graph`` into a fresh matplotlib Figure — layout and artists, no pixels;
* graph (PNG): ``graph_png`` — the same plus rasterising and PNG encoding (static fallbacks);
* graph (SVG): ``graph_svg`` — the same picture written directly as SVG (``adnb.display.svg``,
  no matplotlib), layout cache cleared before each run (a first draw); "SVG, sweep step": one
  step of a reverse sweep with the layout cached (what the explorer redraws per step);
* sweep step (table + SVG): ``trace_table`` and ``graph_svg`` at one step, cycling through the
  steps of the reverse sweep (the explorer's callback does these two and the Jacobian);
* code: ``tangent_code`` + ``adjoint_code``;
* ``%%autodiff`` cell, end to end (issue 14: 10k array operations in under 1 s, 100k in under
  5 s, HTML under 1 MB): ``run_cell`` of a magic cell in IPython's InteractiveShell, from
  parsing the line to the formatted display (tracing, sweeps, static table, graph and code,
  text view, explorer widget); the HTML column is the size of every text/html output. The
  100k cell runs once (``--repeat`` applies to the others). ``--cells`` runs only these rows.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import adnb  # noqa: E402
from adnb.display import (adjoint_code, draw_graph, graph_png, graph_svg, sweep_steps,  # noqa: E402
                          tangent_code, trace_table)
from adnb.display.layout import forget_layouts  # noqa: E402
from tests.functions import book_8_65  # noqa: E402  (the book's eqs. 8.49/8.65, v3 … v8)


def loop_10k(x):
    """10,002 operations: one loop body of three operations, repeated (folds into 1 box)."""
    for _ in range(3334):
        x = np.sin(x) * 0.9 + 0.1
    return x


_COEFFS = list(np.random.default_rng(0).uniform(0.2, 1.4, size=5000))


def branchy_10k(x):
    """~10,000 operations whose branches change with the data: few exact repeats, so the table
    must elide rows rather than fold loop iterations."""
    for c in _COEFFS:
        if x > 0.0:
            x = x * c - 0.3
        else:
            x = np.sin(x) + c
    return x


def loop_600(x, y):
    """601 operations: the explorer's benchmark loop (``python -m adnb.widgets.explorer``)."""
    for _ in range(100):
        x = np.sin(x) * y + 0.1
        y = y * 0.99 - x * 0.01
    return x + y


def _svg_cold(trace, **kw):
    """``graph_svg`` with the trace's layout cache dropped: a first draw."""
    forget_layouts(trace)
    return graph_svg(trace, **kw)


def _png_cold(trace, **kw):
    """``graph_png`` with the trace's layout cache dropped (the layout is shared with SVG)."""
    forget_layouts(trace)
    return graph_png(trace, **kw)


class _Stepper:
    """Each call draws the next step of the reverse sweep (layout cached, as in the widget)."""

    def __init__(self, trace, reverse, table=False):
        self.trace, self.reverse, self.table = trace, reverse, table
        self.n = len(sweep_steps(trace, "reverse", reverse)) + 1
        self.k = 0

    def __call__(self):
        self.k = (self.k + max(1, self.n // 25)) % self.n
        kw = dict(reverse=self.reverse, step=self.k, mode="reverse")
        if self.table:
            trace_table(self.trace, **kw)
        graph_svg(self.trace, **kw)


def _time(fn, repeat):
    """Median wall time and median CPU time of this process (the CPU time is what the code
    costs when the machine is not shared)."""
    fn()                                     # warm-up: imports, font caches
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def _artists(trace, **kw):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure()
    FigureCanvasAgg(fig)
    forget_layouts(trace)                    # a first draw: the layout is computed too
    draw_graph(trace, ax=fig.add_subplot(1, 1, 1), **kw)


_CELL = ("%%autodiff --show {show} x=np.linspace(0.1, 1.0, 8)\n"
         "for i in range({n}):\n"
         "    x = np.sin(x) * 0.9 + 0.1 * x      # 4 array operations per iteration\n"
         "y = np.sum(x)\n")


def _cell_rows(bench_cell, repeat):
    """End-to-end ``%%autodiff`` cells through IPython (no kernel): (name, fn, target, size)."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "adnb")
    shell.run_cell("import numpy as np")
    last = {}

    def run(cell):
        with capture_output() as cap:
            res = shell.run_cell(cell)
        res.raise_error()
        last[cell] = sum(len(o.data.get("text/html", "").encode()) for o in cap.outputs)

    for n, show, target, reps in ((2500, "table,graph", 1.0, repeat),
                                  (2500, "table,graph,code,cost", 1.0, repeat),
                                  (25000, "table,graph", 5.0, 1),
                                  (25000, "table,graph,code", 5.0, 1)):
        cell = _CELL.format(n=n, show=show)
        bench_cell(f"%%autodiff cell, {4 * n + 1} ops, --show {show}", lambda c=cell: run(c),
                   target, lambda c=cell: last[c], reps)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--cells", action="store_true", help="only the end-to-end %%%%autodiff rows")
    args = ap.parse_args(argv)
    rows = []

    def bench(name, fn, target, size=None, repeat=None):
        med, cpu = _time(fn, repeat or args.repeat)
        ok = cpu < target
        extra = ""
        if size is not None:
            n_bytes = size()
            extra = f"{n_bytes / 1e3:.0f} kB"
            ok = ok and n_bytes < 1_000_000
        rows.append((name, f"{med * 1e3:9.1f}", f"{cpu * 1e3:9.1f}", f"{target * 1e3:7.0f}",
                     extra, "yes" if ok else "NO"))

    _cell_rows(bench, args.repeat)
    if not args.cells:
        _display_rows(bench)
    _print(rows, args.repeat)


def _display_rows(bench):
    t = adnb.trace(book_8_65, 1.0, 2.0)
    fw, rv = t.forward(), t.reverse()
    bench("book example: table", lambda: trace_table(t, fw, rv), 0.1,
          size=lambda: len(trace_table(t, fw, rv).encode()))
    bench("book example: graph (artists)", lambda: _artists(t, forward=fw, reverse=rv), 0.1)
    bench("book example: graph (PNG)", lambda: _png_cold(t, forward=fw, reverse=rv), 0.1)
    bench("book example: graph (SVG)", lambda: _svg_cold(t, forward=fw, reverse=rv), 0.1)
    bench("book example: graph (SVG, sweep step)", _Stepper(t, rv), 0.02)
    bench("book example: sweep step (table + SVG)", _Stepper(t, rv, table=True), 0.1)
    bench("book example: tangent+adjoint code", lambda: (tangent_code(t), adjoint_code(t)), 0.1)

    loop = adnb.trace(loop_600, 0.3, 0.7)
    lrv = loop.reverse()
    name = f"600-op loop ({loop.n_ops} ops)"
    bench(f"{name}: folded graph (PNG)", lambda: _png_cold(loop, reverse=lrv), 0.5)
    bench(f"{name}: folded graph (SVG)", lambda: _svg_cold(loop, reverse=lrv), 0.5)
    bench(f"{name}: sweep step (table + SVG)", _Stepper(loop, lrv, table=True), 0.5)

    for label, f in (("10k ops, loop", loop_10k), ("10k ops, branchy", branchy_10k)):
        big = adnb.trace(f, 0.3)
        bfw, brv = big.forward(), big.reverse()
        name = f"{label} ({big.n_ops} ops)"
        bench(f"{name}: folded table", lambda: trace_table(big, bfw, brv), 2.0,
              size=lambda: len(trace_table(big, bfw, brv).encode()))
        bench(f"{name}: folded graph (artists)", lambda: _artists(big, reverse=brv), 2.0)
        bench(f"{name}: folded graph (PNG)", lambda: _png_cold(big, reverse=brv), 2.0)
        bench(f"{name}: folded graph (SVG)", lambda: _svg_cold(big, reverse=brv), 2.0)
        bench(f"{name}: folded graph (SVG, sweep step)", _Stepper(big, brv), 0.5)
        bench(f"{name}: tangent+adjoint code", lambda: (tangent_code(big), adjoint_code(big)),
              2.0)



def _print(rows, repeat):
    head = ("what", "wall ms", "CPU ms", "target", "HTML", "met (CPU)")
    widths = [max(len(str(r[k])) for r in rows + [head]) for k in range(len(head))]
    line = lambda r: "  ".join(str(c).rjust(w) if k else str(c).ljust(w)  # noqa: E731
                               for k, (c, w) in enumerate(zip(r, widths)))
    print(f"adnb display benchmark — median of {repeat} runs after a warm-up; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(line(head))
    print("-" * len(line(head)))
    for r in rows:
        print(line(r))


if __name__ == "__main__":
    main()
