"""Finite differences against step size: Bishop & Bishop Figure 8.2 on the learner's function.

Lets you see why numerical differentiation (§8.1.4) is for checking, not for training:

* ``difference_errors(f, *args, direction=None, eps=None, exact=None)`` — the error of the
  forward difference (8.24) and the central difference (8.25) for a range of steps ε, against
  the exact directional derivative from adnb's forward mode; with the fitted log–log slopes on
  the truncation branch (≈ 1 and ≈ 2) and the best ε of each;
* ``plot_difference_errors(...)`` — the log–log plot: a truncation branch falling as O(ε) or
  O(ε²) for large ε, and a noisy round-off branch rising as O(δ/ε) (δ ≈ 2.2e−16) for small ε.

matplotlib is imported inside ``plot_difference_errors`` only.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["difference_errors", "plot_difference_errors", "DifferenceErrors"]

#: steps where the truncation error dominates, for fitting the slopes (reference §12)
FORWARD_FIT = (1e-4, 1e-1)
CENTRAL_FIT = (1e-3, 1e-1)


@dataclass
class DifferenceErrors:
    """Errors of finite differences for one function, point and direction.

    Attributes:
        eps: the steps ε (increasing).
        forward: |forward difference − exact| per ε (eq. 8.24).
        central: |central difference − exact| per ε (eq. 8.25).
        exact: the exact directional derivative (adnb forward mode, one pass).
        value: f at the point.
        forward_slope, central_slope: log–log slopes fitted on the truncation branch
            (``FORWARD_FIT``, ``CENTRAL_FIT``): about 1 and 2.
        forward_best, central_best: the ε with the smallest error.
        label: what was differentiated ("∂f/∂x1 at (1, 2)").
    """
    eps: np.ndarray
    forward: np.ndarray
    central: np.ndarray
    exact: float
    value: float
    forward_slope: float
    central_slope: float
    forward_best: float
    central_best: float
    label: str

    def table(self):
        """The errors as a plain-text table, one row per ε."""
        lines = [f"{self.label}: exact {self.exact!r}",
                 f"{'eps':>10}  {'forward err':>12}  {'central err':>12}"]
        for e, a, b in zip(self.eps, self.forward, self.central):
            lines.append(f"{e:10.1e}  {a:12.3e}  {b:12.3e}")
        lines.append(f"slopes on the truncation branch: forward {self.forward_slope:.2f}, "
                     f"central {self.central_slope:.2f}; best eps: forward "
                     f"{self.forward_best:.0e}, central {self.central_best:.0e}")
        return "\n".join(lines)

    def _repr_html_(self):
        import html
        return "<pre>" + html.escape(self.table()) + "</pre>"


def _fit_slope(eps, err, lo, hi):
    sel = (eps >= lo * (1 - 1e-9)) & (eps <= hi * (1 + 1e-9)) & (err > 0)
    if sel.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.log10(eps[sel]), np.log10(err[sel]), 1)[0])


def _as_float(v):
    return float(np.asarray(v, dtype=float).reshape(-1)[0]) if np.size(v) == 1 else \
        np.asarray(v, dtype=float)


def difference_errors(f, *args, direction=None, eps=None, exact=None, wrt=0):
    """Errors of forward and central differences against the step size ε.

    Args:
        f: a scalar function of ``args`` (plain numpy code).
        *args: the point (numbers or arrays).
        direction: one tangent per argument (same shapes): the directional derivative along it.
            Default: the first entry of argument ``wrt`` (∂f/∂x1 for the book's example).
        eps: steps to try (default 25 steps from 1e−13 to 1e−1, half a decade apart).
        exact: the exact derivative (default: one forward-mode pass of adnb).
        wrt: the argument differentiated when ``direction`` is None.

    Returns:
        DifferenceErrors.

    Example:
        >>> r = difference_errors(lambda x1, x2: x1 * x2 + np.exp(x1 * x2) - np.sin(x2), 1.0, 2.0)
        >>> r.forward_slope, r.central_slope      # about 1 and 2
    """
    import adnb
    args = tuple(args)
    if direction is None:
        direction = []
        for k, a in enumerate(args):
            d = np.zeros(np.shape(a))
            if k == wrt:
                d.reshape(-1)[0] = 1.0
            direction.append(d if np.shape(a) else float(d))
        label_dir = f"∂f/∂{_arg_name(f, wrt)}"
    else:
        direction = [d if np.shape(d) else float(d) for d in direction]
        label_dir = "directional derivative of f"
    if eps is None:
        eps = np.logspace(-13, -1, 25)
    eps = np.sort(np.asarray(eps, dtype=float))
    if exact is None:
        prim = tuple(a if np.shape(a) else float(a) for a in args)
        value, exact = adnb.jvp(f, prim, tuple(direction))
    else:
        value = f(*args)
    exact = _as_float(exact)
    f0 = _as_float(f(*args))

    def at(step):
        return _as_float(f(*[a + step * d for a, d in zip(args, direction)]))

    fwd = np.array([abs((at(e) - f0) / e - exact) for e in eps])
    cen = np.array([abs((at(e) - at(-e)) / (2 * e) - exact) for e in eps])
    point = ", ".join(f"{float(a):g}" if not np.shape(a) else "…" for a in args)
    return DifferenceErrors(
        eps=eps, forward=fwd, central=cen, exact=exact, value=_as_float(value),
        forward_slope=_fit_slope(eps, fwd, *FORWARD_FIT),
        central_slope=_fit_slope(eps, cen, *CENTRAL_FIT),
        forward_best=float(eps[np.argmin(fwd)]), central_best=float(eps[np.argmin(cen)]),
        label=f"{label_dir} at ({point})")


def _arg_name(f, k):
    import inspect
    try:
        return list(inspect.signature(f).parameters)[k]
    except (TypeError, ValueError, IndexError):
        return f"x{k + 1}"


def plot_difference_errors(f_or_result, *args, ax=None, **kwargs):
    """Plot finite-difference error against step size on log–log axes (cf. Figure 8.2).

    Args:
        f_or_result: a ``DifferenceErrors`` or a function (then ``*args`` and ``**kwargs`` go to
            ``difference_errors``).
        ax: matplotlib Axes (default: a new pyplot figure).

    Returns:
        the matplotlib Axes.

    Visual encoding:
        * blue circles: forward difference (8.24); orange squares: central difference (8.25);
        * dashed grey lines: slope 1 and slope 2 through the truncation branch (O(ε), O(ε²));
        * dotted grey line: the round-off model δ|f|/ε with δ = machine epsilon, which both
          curves follow for small ε (the noisy branch on the left of the book's figure);
        * the legend gives the fitted slopes and the best ε of each method.
    """
    import matplotlib.pyplot as plt
    r = f_or_result if isinstance(f_or_result, DifferenceErrors) else \
        difference_errors(f_or_result, *args, **kwargs)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4.2))
    floor = np.finfo(float).tiny
    ax.loglog(r.eps, np.maximum(r.forward, floor), "o-", ms=4, color="tab:blue",
              label=f"forward (8.24): slope {r.forward_slope:.2f}, best ε {r.forward_best:.0e}")
    ax.loglog(r.eps, np.maximum(r.central, floor), "s-", ms=4, color="tab:orange",
              label=f"central (8.25): slope {r.central_slope:.2f}, best ε {r.central_best:.0e}")
    for lo_hi, err, p, txt in ((FORWARD_FIT, r.forward, 1, "O(ε)"),
                               (CENTRAL_FIT, r.central, 2, "O(ε²)")):
        e_ref = lo_hi[1]
        i = int(np.argmin(abs(r.eps - e_ref)))
        if err[i] > 0:
            xs = np.array([lo_hi[0] / 10, lo_hi[1]])
            ax.loglog(xs, err[i] * (xs / r.eps[i]) ** p, "--", color="grey", lw=1)
            ax.text(xs[0], err[i] * (xs[0] / r.eps[i]) ** p, txt, fontsize=8, color="grey",
                    ha="right", va="center")
    delta = np.finfo(float).eps * max(abs(r.value), 1e-300)
    ax.loglog(r.eps, delta / r.eps, ":", color="grey", lw=1, label="round-off δ|f|/ε")
    ax.set_xlabel("step ε")
    ax.set_ylabel("|error|")
    ax.set_title(f"Finite differences: {r.label}\n(cf. Bishop & Bishop Fig. 8.2)", fontsize=10)
    ax.legend(fontsize=7, loc="best")
    return ax
