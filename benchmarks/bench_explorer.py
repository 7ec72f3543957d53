"""The explorer widget's update times (moved here from ``adnb/widgets/explorer.py`` so the
package holds no benchmark code and its modules import in one direction)."""
import numpy as np

from adnb.display.html import trace_table as render_table
from adnb.explore import explore
from adnb.widgets.explorer import render_graph_svg


def main(argv=None):
    """``python benchmarks/bench_explorer.py``: time the explorer's updates (the issue's budget:
    < 100 ms per step for the book's example, < 500 ms for a 500-operation trace).

    A step's time is the whole callback (table, step label, Jacobian and graph SVG, all set
    synchronously), measured over every step of the sweep in both modes; the table and the graph
    are also timed on their own. Up to ~80 steps per sweep are timed, spread over the whole
    sweep; ``--repeat N`` goes through them N times (default 1)."""
    import argparse
    import os
    import statistics
    import time

    ap = argparse.ArgumentParser(prog="python benchmarks/bench_explorer.py",
                                 description=main.__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args(argv)

    def book(x1, x2):
        return x1 * x2 + np.exp(x1 * x2) - np.sin(x2)

    def loop(x, y):         # 6 operations per iteration: 601 in all
        for _ in range(100):
            x = np.sin(x) * y + 0.1
            y = y * 0.99 - x * 0.01
        return x + y

    def ms(xs):
        return (f"median {statistics.median(xs) * 1e3:.1f} ms, "
                f"p90 {sorted(xs)[int(0.9 * (len(xs) - 1))] * 1e3:.1f} ms, max {max(xs) * 1e3:.1f} ms")

    def timed(fn):
        t = time.perf_counter()
        fn()
        return time.perf_counter() - t

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for label, e, budget in [("book example (8.49)", explore(book, 1.0, 2.0), 0.1),
                             ("600-operation loop", explore(loop, 0.3, 0.7), 0.5)]:
        t = time.perf_counter()
        w = e.widget()
        build = time.perf_counter() - t
        print(f"{label}: {e.trace.n_ops} operations, widget built in {build * 1e3:.0f} ms")
        for mode in ("forward", "reverse"):
            w.mode.value = mode
            steps, tables, graphs = [], [], []
            kw = {mode: w.result}
            for _ in range(args.repeat):
                for s in sorted({*range(0, w.step.max, max(1, w.step.max // 80)), w.step.max}):
                    steps.append(timed(lambda: setattr(w.step, "value", s)))
                    tables.append(timed(lambda: render_table(e.trace, step=s, mode=mode, **kw)))
                    graphs.append(timed(lambda: render_graph_svg(e.trace, step=s, mode=mode, **kw)))
                w.step.value = 0
            verdict = "within" if statistics.median(steps) < budget else "OVER"
            print(f"  {mode}, {w.step.max} steps ({len(steps)} timed): step (table + graph + Jacobian): {ms(steps)} "
                  f"[{verdict} the {budget * 1e3:.0f} ms budget]\n"
                  f"    table alone: {ms(tables)}; graph SVG alone: {ms(graphs)}")
        s0 = w.inputs.children[0]
        retrace = timed(lambda: setattr(s0, "value", s0.value + 0.1))
        print(f"  input slider (re-trace, new layout): {retrace * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
