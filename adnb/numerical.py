"""Numerical differentiation (Bishop & Bishop §8.1.4): forward and central differences.

    forward:  [f(x + εv) − f(x)] / ε          error O(ε)   (eq. 8.24), 1 extra evaluation
    central:  [f(x + εv) − f(x − εv)] / (2ε)  error O(ε²)  (eq. 8.25), 2 evaluations

A full gradient needs one (forward) or two (central) evaluations per input, which is why these
cost O(W²) for a network with W weights; their use is checking AD (``adnb.check_grads``).
"""
from __future__ import annotations

import numpy as np


def _as_array(x):
    return np.asarray(x, dtype=float)


def forward_difference(f, x, v=None, eps=1e-7):
    """Directional derivative of f at x along v (default 1) by eq. (8.24)."""
    x = _as_array(x)
    v = np.ones_like(x) if v is None else _as_array(v)
    return (_as_array(f(x + eps * v)) - _as_array(f(x))) / eps


def central_difference(f, x, v=None, eps=1e-6):
    """Directional derivative of f at x along v (default 1) by eq. (8.25)."""
    x = _as_array(x)
    v = np.ones_like(x) if v is None else _as_array(v)
    return (_as_array(f(x + eps * v)) - _as_array(f(x - eps * v))) / (2 * eps)


def numerical_jacobian(f, x, eps=1e-6, method="central"):
    """Jacobian of f at x by perturbing each input in turn: 2D evaluations (central) or D + 1
    (forward) for D inputs. Shape: output shape + input shape."""
    x = _as_array(x)
    if method not in ("central", "forward"):
        raise ValueError("method must be 'central' or 'forward'")
    flat = x.reshape(-1)
    f0 = _as_array(f(x)) if method == "forward" else None
    cols = []
    for i in range(flat.size):
        e = np.zeros_like(flat)
        e[i] = 1.0
        e = e.reshape(x.shape)
        if method == "central":
            cols.append(central_difference(f, x, e, eps))
        else:
            cols.append((_as_array(f(x + eps * e)) - f0) / eps)
    cols = np.stack(cols, axis=-1)
    return cols.reshape(cols.shape[:-1] + x.shape)


def numerical_grad(f, x, eps=1e-6, method="central"):
    """Gradient of a scalar f by finite differences (see ``numerical_jacobian``)."""
    return numerical_jacobian(f, x, eps, method)
