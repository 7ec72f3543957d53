"""What the numbers mean: f around x, its tangent, J r along a seed, the gradient, one descent step.

``draw_geometry(f, *args, r=None, lr=0.1, dims=None, ax=None)`` draws, for a scalar f of one or
two numbers (or a 2-D slice through more, ``dims=(i, j)``):

* one input: the curve f(t) around x, the tangent line f(x) + f'(x)(t − x), the forward seed r
  as an arrow from (x, f(x)) to (x + r, f(x) + J r) — J r is the rise along r — the gradient
  (reverse mode) as an arrow along the t axis, and one gradient-descent step x − lr f'(x);
* two inputs: contours of f, the tangent plane as dashed contours of f(x) + ∇f·(z − x), the seed
  r as an arrow with J r = ∇f·r written beside it, the gradient arrow (perpendicular to the
  contour through x) and the descent step x − lr ∇f.

Artists carry ``gid``s (``"curve"``, ``"contours"``, ``"tangent"``, ``"point"``, ``"seed"``,
``"gradient"``, ``"step"``) and the numbers are in ``ax.adnb_geometry`` (``geometry(...)``), so
tests and widgets can read them. matplotlib is imported inside the function.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ADNBError

__all__ = ["geometry", "trace_geometry", "draw_geometry", "draw_trace_geometry", "Geometry",
           "replay_values", "evaluator", "geometry_svg"]


@dataclass
class Geometry:
    """The numbers of the panel.

    Attributes:
        x: every input entry, flattened (float array); ``dims``: the one or two drawn.
        value: f(x). ``gradient``: ∇f(x), flattened (one reverse pass).
        r: the forward seed, flattened; ``jr``: J r (one forward pass seeded with ẋ = r).
        lr: the step size; ``step``: x − lr ∇f; ``step_value``: f there.
    """
    x: np.ndarray
    dims: tuple
    value: float
    gradient: np.ndarray
    r: np.ndarray
    jr: float
    lr: float
    step: np.ndarray
    step_value: float


def _flatten(args):
    return np.concatenate([np.ravel(np.asarray(a, dtype=float)) for a in args])


def _unflatten(z, like):
    out, k = [], 0
    for a in like:
        n = int(np.size(a))
        part = z[k:k + n]
        out.append(float(part[0]) if np.ndim(a) == 0 else part.reshape(np.shape(a)))
        k += n
    return tuple(out)


def _scalar(y, name):
    if np.size(y) != 1:
        raise ADNBError(f"the geometry panel draws a function with one output, and {name} has "
                        f"{np.size(y)}: pass e.g. lambda *a: {name}(*a)[0]")
    return float(np.ravel(np.asarray(y, dtype=float))[0])


def geometry(f, *args, r=None, lr=0.1, dims=None):
    """The numbers behind the panel (see the module docstring).

    Args:
        f: a scalar function of numbers / arrays adnb can differentiate.
        *args: the point x.
        r: the forward seed (flattened like the inputs; default e1 along the first drawn input).
        lr: the gradient-descent step size.
        dims: the one or two input entries (flat indices) to draw; needed for more than two.

    Returns:
        ``Geometry``.

    Raises:
        ADNBError: for a function with several outputs, or more than two inputs without
            ``dims``.
    """
    from ..core.api import trace as record
    return trace_geometry(record(f, *args), r=r, lr=lr, dims=dims, evaluate=f)


def trace_geometry(trace, r=None, lr=0.1, dims=None, evaluate=None):
    """``geometry`` of a recorded explore-mode trace: the gradient from its reverse sweep, J r
    from a forward sweep seeded with r, f at the descent step from ``evaluate(*inputs)`` (a
    plain function), or, without one, by replaying the trace (``replay_values``)."""
    args = [trace.nodes[i].ans for i in trace.inputs]
    x = _flatten(args)
    name = trace.function_name or "f"
    if dims is None:
        if x.size > 2:
            raise ADNBError(f"{name} has {x.size} input entries: pick the two to draw, e.g. "
                            "dims=(0, 1) (the others stay fixed)")
        dims = tuple(range(x.size))
    dims = tuple(int(d) for d in dims)
    if len(trace.outputs) != 1:
        raise ADNBError(f"the geometry panel draws a function with one output, and {name} has "
                        f"{len(trace.outputs)}")
    value = _scalar(trace.output_values[0], name)
    rev = trace.reverse()
    grads = [np.zeros(np.shape(a)) if rev.adjoints[0][i] is None else rev.adjoints[0][i]
             for i, a in zip(trace.inputs, args)]
    gradient = _flatten(grads)
    if r is None:
        r = np.zeros_like(x)
        r[dims[0]] = 1.0
    r = np.ravel(np.asarray(r, dtype=float))
    if r.shape != x.shape:
        raise ADNBError(f"r has {r.size} entries, the inputs {x.size}")
    fwd = trace.forward(seeds=[list(_unflatten(r, args))])
    out = trace.outputs[0]
    jr = 0.0 if out < 0 or fwd.tangents[0][out] is None else fwd.tangents[0][out]
    step = x - lr * gradient
    f_at = evaluator(trace, evaluate)
    step_value = float(f_at(x, dims, step[list(dims)][None, :])[0])
    return Geometry(x, dims, value, gradient, r, _scalar(jr, name), lr, step, step_value)


def replay_values(trace, inputs):
    """The trace's output recomputed from other input values, node by node (numpy, so inputs
    may be arrays of points: one pass for a whole grid). Valid where control flow takes the
    same path: only traces without branches, with scalar inputs and elementwise operations.

    Returns:
        the output value(s), or None if the trace cannot be replayed this way.
    """
    if trace.events or any(trace.nodes[i].shape for i in trace.inputs) or \
            any(n.prim is not None and not n.prim.elementwise for n in trace.nodes):
        return None
    env = dict(zip(trace.inputs, inputs))
    with np.errstate(all="ignore"):
        for n in trace.nodes:
            if n.prim is None:
                continue
            vals = [env[p] if p >= 0 else a for p, a in zip(n.parents, n.args)]
            env[n.index] = n.prim.impl(*vals, **(n.params or {}))
    out = trace.outputs[0]
    return env[out] if out >= 0 else trace.output_values[0]


def evaluator(trace, evaluate=None):
    """A function ``(x, dims, points) -> values``: f at x with the entries ``dims`` replaced by
    each row of ``points``; by replaying the trace when it can, else through ``evaluate``."""
    args = [trace.nodes[i].ans for i in trace.inputs]

    def by_replay(x, dims, points):
        cols = [np.full(len(points), v) for v in x]
        for k, d in enumerate(dims):
            cols[d] = points[:, k]
        return np.broadcast_to(replay_values(trace, cols), (len(points),)).astype(float)

    def by_calls(x, dims, points):
        out = np.empty(len(points))
        with np.errstate(all="ignore"):
            for k, p in enumerate(points):
                z = x.copy()
                z[list(dims)] = p
                try:
                    y = evaluate(*_unflatten(z, args))
                    out[k] = float(np.ravel(np.asarray(y, dtype=float))[0])
                except (ArithmeticError, ValueError):
                    out[k] = np.nan
        return out

    if replay_values(trace, [np.asarray([a]) for a in args]) is not None:
        return by_replay
    if evaluate is None:
        raise ADNBError("this trace has branches or array operations, so it cannot be replayed "
                        "on a grid: pass evaluate=f (f written with numpy)")
    return by_calls


def draw_geometry(f, *args, r=None, lr=0.1, dims=None, span=None, ax=None, resolution=41):
    """Draw the geometry panel (see the module docstring) and return the Axes.

    Args:
        f, *args, r, lr, dims: as for ``geometry``.
        span: half-width of the window around x (default: enough for r and the step, ≥ 1).
        ax: a matplotlib Axes (a new figure is made otherwise, under ``plt.ioff()``).
        resolution: grid points per axis (2-D) — 1-D curves use 5× as many.

    Returns:
        matplotlib Axes, with ``ax.adnb_geometry`` (the ``Geometry``) and ``ax.adnb_artists``
        (gid → artist).

    Visual encoding:
        black curve / grey contours = f; dashed orange = the tangent line or plane; blue dot =
        x; green arrow = the seed r, labelled J r; red arrow = the gradient ∇f (reverse mode),
        scaled to fit and labelled with its length; purple dot and arrow = one descent step.
    """
    from ..core.api import trace as record
    return draw_trace_geometry(record(f, *args), r=r, lr=lr, dims=dims, span=span, ax=ax,
                               resolution=resolution, evaluate=f)


def draw_trace_geometry(trace, r=None, lr=0.1, dims=None, span=None, ax=None, resolution=41,
                        evaluate=None):
    """``draw_geometry`` for a recorded explore-mode trace (the explorer's panel): f on the grid
    by replaying the trace, or through ``evaluate`` (see ``evaluator``)."""
    import matplotlib.pyplot as plt
    g = trace_geometry(trace, r=r, lr=lr, dims=dims, evaluate=evaluate)
    f_at = evaluator(trace, evaluate)
    if ax is None:
        with plt.ioff():
            _, ax = plt.subplots(figsize=(5, 4))
    if span is None:
        far = np.abs(np.concatenate([g.r[list(g.dims)], (g.step - g.x)[list(g.dims)]]))
        span = float(max(1.0, 1.2 * far.max()))
    artists = (_draw_1d if len(g.dims) == 1 else _draw_2d)(ax, f_at, g, span, resolution)
    for gid, artist in artists.items():
        artist.set_gid(gid)
        if hasattr(artist, "arrow_patch") and artist.arrow_patch is not None:
            artist.arrow_patch.set_gid(gid + "-arrow")      # what an SVG of the figure keeps
    ax.adnb_geometry, ax.adnb_artists = g, artists
    return ax


def _arrow(ax, start, end, colour, text=None, dashed=False):
    style = dict(arrowstyle="-|>", color=colour, lw=1.8, linestyle="--" if dashed else "-")
    ann = ax.annotate("", xy=tuple(end), xytext=tuple(start), arrowprops=style)
    if text:
        ax.annotate(text, xy=tuple(end), xytext=(4, 4), textcoords="offset points",
                    color=colour, fontsize=9)
    return ann


def _draw_1d(ax, f_at, g, span, resolution):
    d = g.dims[0]
    x0, v, slope = g.x[d], g.value, g.gradient[d]
    t = np.linspace(x0 - span, x0 + span, 5 * resolution)
    y = f_at(g.x, g.dims, t[:, None])
    art = {}
    art["curve"], = ax.plot(t, y, color="black", lw=1.5, label="f")
    art["tangent"], = ax.plot(t, v + slope * (t - x0), "--", color="tab:orange",
                              label=f"tangent, slope f′ = {slope:.4g}")
    art["point"], = ax.plot([x0], [v], "o", color="tab:blue", zorder=5)
    rd = g.r[d]
    art["seed"] = _arrow(ax, (x0, v), (x0 + rd, v + g.jr), "tab:green",
                         f"ẋ = {rd:.3g}: J r = {g.jr:.4g}")
    length = span / 2 if slope else 0.0
    art["gradient"] = _arrow(ax, (x0, v), (x0 + np.sign(slope) * length, v), "tab:red",
                             f"∇f = {slope:.4g}")
    xs = g.step[d]
    art["step"], = ax.plot([xs], [g.step_value], "o", color="tab:purple", zorder=5,
                           label=f"step x − {g.lr:g} f′")
    _arrow(ax, (x0, v), (xs, g.step_value), "tab:purple", dashed=True)
    finite = y[np.isfinite(y)]
    if finite.size:
        lo, hi = finite.min(), finite.max()
        pad = 0.1 * (hi - lo or 1.0)
        ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlabel(f"input {d + 1}")
    ax.set_ylabel("f")
    ax.legend(fontsize=8, loc="best")
    return art


def _draw_2d(ax, f_at, g, span, resolution):
    i, j = g.dims
    xi, xj = g.x[i], g.x[j]
    a = np.linspace(xi - span, xi + span, resolution)
    b = np.linspace(xj - span, xj + span, resolution)
    A, B = np.meshgrid(a, b)
    Z = f_at(g.x, g.dims, np.column_stack([A.ravel(), B.ravel()])).reshape(A.shape)
    gi, gj = g.gradient[i], g.gradient[j]
    plane = g.value + gi * (A - xi) + gj * (B - xj)
    art = {}
    gn = np.hypot(gi, gj)
    art["contours"] = ax.contour(A, B, Z, levels=12, colors="0.55", linewidths=0.8)
    ax.contour(A, B, Z, levels=[g.value], colors="tab:blue", linewidths=1.2)
    # the plane's contours through x and at equal steps of f around it: straight, parallel,
    # perpendicular to ∇f — near x they hug f's contours
    delta = gn * span / 4 if gn else 1.0
    art["tangent"] = ax.contour(A, B, plane, levels=g.value + delta * np.arange(-4, 5),
                                colors="tab:orange", linestyles="--", linewidths=0.8)
    art["point"], = ax.plot([xi], [xj], "o", color="tab:blue", zorder=5)
    rr = g.r[[i, j]]
    rn = np.hypot(*rr)
    unit = rr / rn * span / 3 if rn else rr
    art["seed"] = _arrow(ax, (xi, xj), (xi + unit[0], xj + unit[1]), "tab:green",
                         f"r: J r = {g.jr:.4g}")
    gu = np.array([gi, gj]) / gn * span / 2 if gn else np.zeros(2)
    art["gradient"] = _arrow(ax, (xi, xj), (xi + gu[0], xj + gu[1]), "tab:red",
                             f"∇f, |∇f| = {gn:.4g}")
    art["step"], = ax.plot([g.step[i]], [g.step[j]], "o", color="tab:purple", zorder=5)
    _arrow(ax, (xi, xj), (g.step[i], g.step[j]), "tab:purple", dashed=True)
    ax.set_xlim(a[0], a[-1])
    ax.set_ylim(b[0], b[-1])
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel(f"input {i + 1}")
    ax.set_ylabel(f"input {j + 1}")
    ax.set_title(f"f = {g.value:.4g}; step x − {g.lr:g} ∇f → f = {g.step_value:.4g}", fontsize=9)
    return art


def geometry_svg(trace, r=None, lr=0.1, dims=None, evaluate=None, size=(4.6, 3.6),
                 resolution=25):
    """The panel of a trace as SVG markup (for an ``HTML`` widget: no Output capture), drawn
    with matplotlib's SVG backend off-screen. Returns str (``<svg ...>``)."""
    import io
    from matplotlib.figure import Figure
    fig = Figure(figsize=size)
    ax = fig.add_subplot()
    draw_trace_geometry(trace, r=r, lr=lr, dims=dims, ax=ax, evaluate=evaluate,
                        resolution=resolution)
    fig.tight_layout()
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    text = buf.getvalue()
    return text[text.index("<svg"):]
