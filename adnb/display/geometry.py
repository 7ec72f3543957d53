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

__all__ = ["geometry", "draw_geometry", "Geometry"]


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
    from ..core.api import jvp, trace as record
    x = _flatten(args)
    if dims is None:
        if x.size > 2:
            raise ADNBError(f"{getattr(f, '__name__', 'f')} has {x.size} input entries: pick the "
                            "two to draw, e.g. dims=(0, 1) (the others stay fixed)")
        dims = tuple(range(x.size))
    dims = tuple(int(d) for d in dims)
    t = record(f, *args)
    if len(t.outputs) != 1:
        raise ADNBError(f"the geometry panel draws a function with one output, and "
                        f"{getattr(f, '__name__', 'f')} has {len(t.outputs)}")
    name = getattr(f, "__name__", "f")
    value = _scalar(t.output_values[0], name)
    rev = t.reverse()
    grads = [np.zeros(np.shape(a)) if rev.adjoints[0][i] is None else rev.adjoints[0][i]
             for i, a in zip(t.inputs, args)]
    gradient = _flatten(grads)
    if r is None:
        r = np.zeros_like(x)
        r[dims[0]] = 1.0
    r = np.ravel(np.asarray(r, dtype=float))
    if r.shape != x.shape:
        raise ADNBError(f"r has {r.size} entries, the inputs {x.size}")
    _, jr = jvp(f, tuple(args), _unflatten(r, args))
    step = x - lr * gradient
    step_value = _scalar(f(*_unflatten(step, args)), name)
    return Geometry(x, dims, value, gradient, r, _scalar(jr, name), lr, step, step_value)


def _evaluate(f, args, x, dims, points):
    """f at x with the drawn entries replaced by each row of points (plain numpy calls)."""
    out = np.empty(len(points))
    with np.errstate(all="ignore"):
        for k, p in enumerate(points):
            z = x.copy()
            z[list(dims)] = p
            try:
                out[k] = float(np.ravel(np.asarray(f(*_unflatten(z, args)), dtype=float))[0])
            except (ArithmeticError, ValueError):
                out[k] = np.nan
    return out


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
    import matplotlib.pyplot as plt
    g = geometry(f, *args, r=r, lr=lr, dims=dims)
    if ax is None:
        with plt.ioff():
            _, ax = plt.subplots(figsize=(5, 4))
    if span is None:
        far = np.abs(np.concatenate([g.r[list(g.dims)], (g.step - g.x)[list(g.dims)]]))
        span = float(max(1.0, 1.2 * far.max()))
    artists = (_draw_1d if len(g.dims) == 1 else _draw_2d)(ax, f, args, g, span, resolution)
    for gid, artist in artists.items():
        artist.set_gid(gid)
    ax.adnb_geometry, ax.adnb_artists = g, artists
    return ax


def _arrow(ax, start, end, colour, text=None, dashed=False):
    style = dict(arrowstyle="-|>", color=colour, lw=1.8, linestyle="--" if dashed else "-")
    ann = ax.annotate("", xy=tuple(end), xytext=tuple(start), arrowprops=style)
    if text:
        ax.annotate(text, xy=tuple(end), xytext=(4, 4), textcoords="offset points",
                    color=colour, fontsize=9)
    return ann


def _draw_1d(ax, f, args, g, span, resolution):
    d = g.dims[0]
    x0, v, slope = g.x[d], g.value, g.gradient[d]
    t = np.linspace(x0 - span, x0 + span, 5 * resolution)
    y = _evaluate(f, args, g.x, g.dims, t[:, None])
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


def _draw_2d(ax, f, args, g, span, resolution):
    i, j = g.dims
    xi, xj = g.x[i], g.x[j]
    a = np.linspace(xi - span, xi + span, resolution)
    b = np.linspace(xj - span, xj + span, resolution)
    A, B = np.meshgrid(a, b)
    Z = _evaluate(f, args, g.x, g.dims, np.column_stack([A.ravel(), B.ravel()])).reshape(A.shape)
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
