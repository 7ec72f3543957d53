"""Cost of derivatives against dimension (Bishop & Bishop 2024, §8.1.4, §8.2.1, §8.2.2).

For a family of functions f: R^D → R^K this measures what a full Jacobian costs by

* forward mode, ``adnb.jacfwd``: D passes, one per input (a column each, eq. 8.66);
* reverse mode, ``adnb.jacrev``: K passes, one per output (a row each);
* central differences, ``adnb.numerical_jacobian``: 2D evaluations of f (eq. 8.25),

counting floating-point operations with ``adnb.count_cost`` (deterministic, the primary measure)
and, as a secondary series, wall-clock time. Forward mode wins when D ≪ K, reverse mode when
K ≪ D; the curves cross near D ≈ K. One pass of either mode costs at most about 6× an
evaluation of f (§8.2.2). Reverse mode must keep the trace for its backward sweep, so its
memory grows with the length of the computation; forward mode (online, dual numbers) keeps only
the current primal and tangent.

What this module lets you do (pure functions, no widgets):

* ``network_family(D, K)`` — the default family, y = tanh(A2 tanh(A1 x));
* ``measure(f, x, method)`` — one ``CostPoint`` (passes, ops, flops, seconds);
* ``cost_sweep(vary="D", dims=..., fixed=...)`` — points for each method along D or K, cached;
* ``crossover(points)`` — where forward and reverse mode cost the same;
* ``memory_growth(lengths)`` — bytes reverse mode keeps against trace length;
* ``pass_ratio(primal, derivative)`` — one pass relative to one evaluation, (primal + derivative)
  / primal: the ratio the book calls "typically 2–3×", as notebook 05 measures it;
* ``plot_cost(sweep_d, sweep_k, memory)`` — the figure, two panels a row with the legend outside
  the axes; ``figure_png(fig)`` its PNG bytes;
* ``text_progress`` — a progress callback that prints, for use outside widgets.
"""
from __future__ import annotations

import io
import sys
import time
from dataclasses import dataclass, field

import numpy as np

__all__ = ["METHODS", "CostPoint", "CostSweep", "network_family", "measure", "cost_sweep",
           "crossover", "memory_growth", "MemoryPoint", "plot_cost", "figure_png",
           "text_progress", "clear_cache", "summary_text", "pass_ratio", "number_text"]

METHODS = ("jacfwd", "jacrev", "central")
BOUND = 6.0             # §8.2.2: one pass costs at most ~6 evaluations of f
_CACHE: dict = {}


@dataclass(frozen=True)
class CostPoint:
    """The cost of one full Jacobian of f: R^D → R^K by one method.

    Attributes:
        method: ``"jacfwd"``, ``"jacrev"`` or ``"central"``.
        D, K: input and output dimension.
        passes: D (jacfwd), K (jacrev) or 2D evaluations (central).
        flops: floating-point operations of the whole computation (evaluation included).
        ops: elementary operations (primitive calls; a vectorised sweep counts each op once).
        primal_flops: flops of one evaluation of f.
        seconds: best wall-clock time of ``repeat`` runs (None if not timed).
        tape_bytes: bytes kept for the reverse sweep (0 for forward mode and differences).
    """
    method: str
    D: int
    K: int
    passes: int
    flops: int
    ops: int
    primal_flops: int
    seconds: float | None
    tape_bytes: int = 0

    @property
    def per_pass(self):
        """Derivative flops of one pass (the evaluation excluded) per evaluation of f."""
        extra = self.flops - (self.primal_flops if self.method != "central" else 0)
        return extra / max(self.passes, 1) / max(self.primal_flops, 1)

    @property
    def pass_ratio(self):
        """What one pass costs relative to evaluating f, as notebook 05 defines it:
        (primal + derivative) / primal, the derivative being one pass's share (``pass_ratio``).
        The book's "typically 2–3×, at most about 6×" (§8.2.2) is about this number. For
        central differences, whose passes are evaluations of f, it is 1."""
        return self.per_pass if self.method == "central" else 1.0 + self.per_pass


@dataclass
class CostSweep:
    """Cost points along one dimension (``vary`` = "D" or "K") with the other one fixed."""
    vary: str
    fixed: int
    dims: list
    points: list = field(default_factory=list)
    family: str = "network"

    def series(self, method, attr="flops"):
        """(dims, values) of one method."""
        pts = sorted((p for p in self.points if p.method == method),
                     key=lambda p: getattr(p, self.vary))
        return [getattr(p, self.vary) for p in pts], [getattr(p, attr) for p in pts]


def network_family(D, K, hidden=8, seed=0):
    """The default family: a small network y = tanh(A2 tanh(A1 x)), R^D → R^K.

    Args:
        D, K: input and output dimension.
        hidden: width of the hidden layer.
        seed: seed of the random weights and point (the same D, K give the same f and x).

    Returns:
        (f, x): the function and a point x of shape (D,).
    """
    rng = np.random.default_rng([seed, D, K, hidden])
    A1 = rng.normal(size=(hidden, D)) / np.sqrt(D)
    A2 = rng.normal(size=(K, hidden)) / np.sqrt(hidden)
    x = rng.normal(size=D)

    def network(x):
        return np.tanh(A2 @ np.tanh(A1 @ x))
    return network, x


def _primal_cost(f, x):
    import adnb
    with adnb.count_cost() as c:
        adnb.jvp(f, (x,), (np.zeros_like(x),))
    return c.ops["primal"], c.flops["primal"]


def _best_time(fn, repeat):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def measure(f, x, method, repeat=3, timing=True):
    """Cost of the full Jacobian of f at x by one method.

    Args:
        f: a function R^D → R^K (x of shape (D,), output of shape (K,) or a scalar).
        x: the point.
        method: ``"jacfwd"``, ``"jacrev"`` or ``"central"``.
        repeat: timing runs (the best is kept).
        timing: measure wall-clock time too (counts are always measured).

    Returns:
        CostPoint
    """
    import adnb
    x = np.asarray(x, dtype=float)
    D = x.size
    y = np.asarray(f(x))
    K = y.size
    p_ops, p_flops = _primal_cost(f, x)
    if method == "jacfwd":
        run = lambda: adnb.jacfwd(f)(x)          # noqa: E731
    elif method == "jacrev":
        run = lambda: adnb.jacrev(f)(x)          # noqa: E731
    elif method == "central":
        run = lambda: adnb.numerical_jacobian(f, x)  # noqa: E731
    else:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    if method == "central":
        passes, ops, flops, tape = 2 * D, 2 * D * p_ops, 2 * D * p_flops, 0
    else:
        with adnb.count_cost() as c:
            run()
        passes = c.forward_passes if method == "jacfwd" else c.reverse_passes
        ops, flops, tape = c.total_ops, sum(c.flops.values()), c.tape_bytes
    seconds = _best_time(run, repeat) if timing else None
    return CostPoint(method, D, K, passes, int(flops), int(ops), int(p_flops), seconds, int(tape))


def clear_cache():
    """Forget every cached measurement."""
    _CACHE.clear()


def pass_ratio(primal, derivative, passes=1):
    """The cost of one derivative pass relative to one evaluation of f: (primal + derivative)
    / primal, with ``derivative`` the work of ``passes`` passes (ops or flops of
    ``adnb.count_cost``: e.g. ``pass_ratio(c.ops["primal"], c.ops["tangent"])``). Bishop &
    Bishop §8.2.2: typically 2–3, at most about 6. One definition for the cost figure
    (``CostPoint.pass_ratio``) and notebook 05."""
    return (primal + derivative / max(passes, 1)) / max(primal, 1)


def cost_sweep(vary="D", dims=(1, 2, 4, 8, 16, 32), fixed=8, family=None, methods=METHODS,
               repeat=3, timing=True, progress=None):
    """Measure each method along one dimension with the other fixed (cached).

    Args:
        vary: ``"D"`` (inputs vary, K = ``fixed``) or ``"K"`` (outputs vary, D = ``fixed``).
        dims: the values of the varying dimension.
        fixed: the other dimension.
        family: ``family(D, K) -> (f, x)``; default ``network_family``. Measurements are cached
            per (family, method, D, K, timing), so give the same family object to reuse them.
        methods: which of ``METHODS`` to run.
        repeat: timing runs per point.
        timing: measure wall-clock time too.
        progress: ``progress(done, total, label)`` called before each measurement and at the
            end (``text_progress`` prints; the CostExplorer drives an IntProgress).

    Returns:
        CostSweep
    """
    if vary not in ("D", "K"):
        raise ValueError("vary must be 'D' or 'K'")
    family = network_family if family is None else family
    fam_name = getattr(family, "__name__", "family")
    sweep = CostSweep(vary, int(fixed), [int(d) for d in dims], family=fam_name)
    jobs = [(m, d) for d in sweep.dims for m in methods]
    for n, (m, d) in enumerate(jobs):
        D, K = (d, fixed) if vary == "D" else (fixed, d)
        if progress is not None:
            progress(n, len(jobs), f"{m} D={D} K={K}")
        key = (family, m, D, K, bool(timing))
        pt = _CACHE.get(key)
        if pt is None:
            f, x = family(D, K)
            pt = measure(f, x, m, repeat=repeat, timing=timing)
            _CACHE[key] = pt
        sweep.points.append(pt)
    if progress is not None:
        progress(len(jobs), len(jobs), "done")
    return sweep


def crossover(sweep, a="jacfwd", b="jacrev", attr="flops"):
    """The value of the varying dimension where methods a and b cost the same.

    Linear interpolation between the two measured dimensions where the sign of
    cost(a) − cost(b) changes; None if it never changes (or an exact tie at a point: that point).
    """
    xa, ya = sweep.series(a, attr)
    xb, yb = sweep.series(b, attr)
    common = sorted(set(xa) & set(xb))
    da = dict(zip(xa, ya))
    db = dict(zip(xb, yb))
    diff = [(x, (da[x] or 0) - (db[x] or 0)) for x in common if da[x] is not None and db[x] is not None]
    for (x0, d0), (x1, d1) in zip(diff, diff[1:]):
        if d0 == 0:
            return float(x0)
        if (d0 < 0) != (d1 < 0):
            return float(x0 + (x1 - x0) * (-d0) / (d1 - d0))
    if diff and diff[-1][1] == 0:
        return float(diff[-1][0])
    return None


@dataclass(frozen=True)
class MemoryPoint:
    """Memory of one computation of length n (n steps of the logistic map on a vector).

    Attributes:
        n: steps of the loop.
        nodes: nodes recorded for the reverse sweep.
        reverse_bytes: bytes of arrays reverse mode keeps for its backward sweep.
        forward_bytes: bytes forward mode (online) holds at any time: the current primal and
            tangent only, whatever n.
    """
    n: int
    nodes: int
    reverse_bytes: int
    forward_bytes: int


def memory_growth(lengths=(1, 2, 4, 8, 16, 32, 64), width=100, progress=None):
    """Bytes kept by reverse mode against the length of the computation.

    The computation is n steps of the logistic map L ← 4 L (1 − L) (Exercise 8.14) on a vector
    of ``width`` entries, then a sum; reverse mode records about 3n nodes and keeps their
    arrays, forward mode carries (L, L̇) along and keeps nothing else.
    """
    import adnb
    out = []
    x0 = np.linspace(0.1, 0.4, width)
    for k, n in enumerate(lengths):
        if progress is not None:
            progress(k, len(lengths), f"memory n={n}")
        key = ("memory", int(n), int(width))
        pt = _CACHE.get(key)
        if pt is None:
            def f(x, n=int(n)):
                for _ in range(n):
                    x = 4.0 * x * (1.0 - x)
                return np.sum(x)
            with adnb.count_cost() as c:
                adnb.grad(f)(x0)
            pt = MemoryPoint(int(n), int(c.tape_nodes), int(c.tape_bytes), 2 * x0.nbytes)
            _CACHE[key] = pt
        out.append(pt)
    if progress is not None:
        progress(len(lengths), len(lengths), "done")
    return out


def text_progress(done, total, label, stream=None, width=24):
    """A progress callback printing ``[#####-----] 5/12 jacrev D=16`` on one line."""
    stream = sys.stdout if stream is None else stream
    filled = int(width * done / max(total, 1))
    end = "\n" if done >= total else ""
    stream.write(f"\r[{'#' * filled}{'-' * (width - filled)}] {done}/{total} {label:<24}{end}")
    stream.flush()


_STYLE = {"jacfwd": dict(color="#1f77b4", marker="o", label="forward mode (jacfwd): D passes"),
          "jacrev": dict(color="#d62728", marker="s", label="reverse mode (jacrev): K passes"),
          "central": dict(color="#7f7f7f", marker="^", label="central differences: 2D evaluations")}
_FONT = 10              # points; the figure is drawn at 80 dpi: 11 px text at 100 %


def number_text(x, spec=".3g"):
    """A number for a figure: never "-0" (the sign of a zero is noise)."""
    return format(float(x) + 0.0, spec)


def _plot_sweep(ax, sweep, attr, ylabel):
    for m in METHODS:
        xs, ys = sweep.series(m, attr)
        if xs and all(v is not None for v in ys):
            ax.plot(xs, ys, **_STYLE[m])
    if attr == "flops":
        # §8.2.2: each pass ≤ 6 evaluations of f, so a Jacobian ≤ passes × 6 × cost(f)
        for m in ("jacfwd", "jacrev"):
            pts = sorted((p for p in sweep.points if p.method == m),
                         key=lambda p: getattr(p, sweep.vary))
            if pts:
                ax.plot([getattr(p, sweep.vary) for p in pts],
                        [p.primal_flops * (1 + BOUND * p.passes) for p in pts],
                        ls="--", lw=1, color=_STYLE[m]["color"], alpha=0.6,
                        label=f"≤ 6× bound: cost(f)·(1 + 6·{'D' if m == 'jacfwd' else 'K'})")
    x = crossover(sweep, attr=attr)
    if x is not None:
        ax.axvline(x, color="k", ls=":", lw=1)
        ax.annotate(f"crossover {sweep.vary}≈{number_text(x)}", (x, 0.95),
                    xycoords=("data", "axes fraction"), ha="left", va="top", fontsize=_FONT - 1)
    other = "K" if sweep.vary == "D" else "D"
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    what = "inputs" if sweep.vary == "D" else "outputs"
    ax.set_xlabel(f"{sweep.vary} ({what}), {other} = {sweep.fixed}", fontsize=_FONT)
    ax.set_ylabel(ylabel, fontsize=_FONT)
    ax.grid(True, which="major", alpha=0.3)


def _plot_ratio(ax, sweeps):
    """Panel 3: one pass relative to one evaluation, (primal + derivative) / primal."""
    for sw in sweeps:
        for m in ("jacfwd", "jacrev"):
            pts = sorted((p for p in sw.points if p.method == m), key=lambda p: getattr(p, sw.vary))
            if pts:
                ax.plot([getattr(p, sw.vary) for p in pts], [p.pass_ratio for p in pts],
                        ls="-" if sw.vary == "D" else "-.", color=_STYLE[m]["color"],
                        marker=_STYLE[m]["marker"], ms=4, label=f"{m}, against {sw.vary}")
    ax.axhline(BOUND, color="k", lw=1, label="≤ 6× bound (§8.2.2)")
    ax.axhspan(2, 3, color="0.85", alpha=0.6, lw=0, label="typically 2–3×")
    ax.set_xscale("log", base=2)
    ax.set_ylim(0, BOUND * 1.2)
    ax.set_title("one pass / one evaluation of f", fontsize=_FONT + 1)
    ax.set_xlabel("dimension (D or K)", fontsize=_FONT)
    ax.set_ylabel("(primal + derivative) / primal", fontsize=_FONT)
    ax.legend(fontsize=_FONT - 1, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2,
              frameon=False)


def _plot_memory(ax, memory):
    ns = [p.nodes for p in memory]
    ax.plot(ns, [p.reverse_bytes for p in memory], color=_STYLE["jacrev"]["color"],
            marker="s", label="reverse mode: kept for the backward sweep")
    ax.plot(ns, [p.forward_bytes for p in memory], color=_STYLE["jacfwd"]["color"],
            marker="o", label="forward mode (online): primal + tangent")
    ax.set_xlabel("nodes in the trace", fontsize=_FONT)
    ax.set_ylabel("bytes", fontsize=_FONT)
    ax.set_title("memory as the trace grows", fontsize=_FONT + 1)
    ax.legend(fontsize=_FONT - 1, loc="upper center", bbox_to_anchor=(0.5, -0.22),
              frameon=False)
    ax.grid(True, alpha=0.3)


def _panels(sweeps, memory, timed):
    """(kind, sweep) per panel, two a row: cost against D and K, ratio and memory, then the
    wall-clock panels (secondary) last."""
    panels = [("flops", s) for s in sweeps]
    if sweeps:
        panels.append(("ratio", None))
    if memory:
        panels.append(("memory", None))
    if timed:
        panels += [("seconds", s) for s in sweeps]
    return panels


def plot_cost(sweep_d=None, sweep_k=None, memory=None, fig=None, timing=True):
    """The cost figure, two panels a row (legible at notebook width): flops against D and K,
    one pass relative to one evaluation, memory, and (if timed) wall-clock time.

    Visual encoding: blue circles = forward mode (jacfwd), red squares = reverse mode (jacrev),
    grey triangles = central differences; dashed lines in the mode's colour = the §8.2.2 bound
    cost(f)·(1 + 6·passes); dotted black vertical line = crossover of forward and reverse mode.
    Ratio panel: (primal + derivative) / primal flops of one pass (``CostPoint.pass_ratio``, the
    definition of notebook 05); the black line is the 6× bound and the grey band the book's
    "typically 2–3×". Memory panel: red = bytes reverse mode keeps, blue = forward mode's live
    (primal, tangent). The methods' legend sits under the panels, outside every axes.

    Args:
        sweep_d, sweep_k: ``CostSweep`` along D and along K (either may be None).
        memory: ``memory_growth(...)`` points (or None).
        fig: a matplotlib Figure to draw into (cleared), or None for a new one.
        timing: add the wall-clock panels (if the sweeps were timed).

    Returns:
        matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure
    sweeps = [s for s in (sweep_d, sweep_k) if s is not None]
    timed = timing and any(p.seconds is not None for s in sweeps for p in s.points)
    panels = _panels(sweeps, memory, timed)
    ncols = 2 if len(panels) > 1 else 1
    nrows = max(-(-len(panels) // ncols), 1)
    if fig is None:
        fig = Figure(figsize=(4.0 * ncols, 3.3 * nrows + 0.8), dpi=80, layout="constrained")
    fig.clear()
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[len(panels):]:
        ax.axis("off")
    for ax, (kind, s) in zip(axes, panels):
        ax.tick_params(labelsize=_FONT - 1)
        if kind == "flops":
            _plot_sweep(ax, s, "flops", "flops, full Jacobian")
            ax.set_title(f"cost against {s.vary}", fontsize=_FONT + 1)
        elif kind == "seconds":
            _plot_sweep(ax, s, "seconds", "seconds (best of runs)")
            ax.set_title(f"time against {s.vary} (secondary)", fontsize=_FONT + 1)
        elif kind == "ratio":
            _plot_ratio(ax, sweeps)
        else:
            _plot_memory(ax, memory)
    handles, labels = [], []
    for ax, (kind, _) in zip(axes, panels):
        if kind == "flops":
            for h, lab in zip(*ax.get_legend_handles_labels()):
                if lab not in labels:
                    handles.append(h)
                    labels.append(lab)
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncol=2, fontsize=_FONT - 1,
                   frameon=False)
    return fig


def figure_png(fig, dpi=None):
    """PNG bytes of a matplotlib Figure (no pyplot, no display)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def summary_text(sweep_d=None, sweep_k=None, memory=None):
    """The measurements as a plain-text table (deterministic except for the seconds column)."""
    lines = []
    for s in (sweep_d, sweep_k):
        if s is None:
            continue
        x = crossover(s)
        lines.append(f"against {s.vary} (other dimension {s.fixed}): crossover of forward and "
                     f"reverse mode at {s.vary} ≈ {number_text(x)}" if x is not None else
                     f"against {s.vary} (other dimension {s.fixed}): no crossover in range")
        lines.append(f"  {'method':<8} {'D':>5} {'K':>5} {'passes':>7} {'flops':>10} "
                     f"{'pass / f':>9}")
        for p in sorted(s.points, key=lambda p: (getattr(p, s.vary), METHODS.index(p.method))):
            lines.append(f"  {p.method:<8} {p.D:>5} {p.K:>5} {p.passes:>7} {p.flops:>10} "
                         f"{number_text(p.pass_ratio, '.2f'):>8}×")
    if memory:
        lines.append("memory: nodes -> bytes kept by reverse mode (forward mode keeps "
                     f"{memory[0].forward_bytes} bytes throughout)")
        lines.append("  " + ", ".join(f"{p.nodes}: {p.reverse_bytes}" for p in memory))
    return "\n".join(lines)
