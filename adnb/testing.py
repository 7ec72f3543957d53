"""check_grads: compare adnb's derivatives with central differences, for tests and notebooks.

Forward mode is checked along a random direction v: J v from ``jvp`` against the central
difference [f(x+εv) − f(x−εv)]/2ε. Reverse mode is checked by the dot-product identity
⟨u, J v⟩ = ⟨uᵀJ, v⟩ for a random output weight u (JAX's ``check_vjp``, autograd's
``check_vjp``). ``order=2`` checks the derivatives of the derivatives as well.
"""
from __future__ import annotations

import numpy as np

from .core.api import jvp, vjp, tree_flatten
from .core.tracer import shape_of


def _rand_like(rng, x):
    s = shape_of(x)
    return rng.standard_normal(s) if s else float(rng.standard_normal())


def _vdot(a, b):
    la, _ = tree_flatten(a)
    lb, _ = tree_flatten(b)
    return float(sum(np.sum(np.asarray(x, dtype=float) * np.asarray(y, dtype=float)) for x, y in zip(la, lb)))


def _fail(name, what, analytic, numeric):
    raise AssertionError(f"check_grads failed for {name} ({what}):\n  analytic: {analytic!r}\n"
                         f"  numeric:  {numeric!r}")


def check_grads(f, args, modes=("fwd", "rev"), order=1, eps=1e-6, atol=1e-6, rtol=1e-5, seed=0):
    """Check adnb's derivatives of f at args against central differences.

    Args:
        f: a function of ``len(args)`` arguments (numbers or float arrays).
        args: tuple of arguments.
        modes: "fwd" (JVP vs central difference) and/or "rev" (VJP dot-product identity).
        order: 1, or 2 to also check the derivative functions themselves.
    Raises:
        AssertionError: with the analytic and numeric values, naming f.
    """
    args = tuple(np.asarray(a, dtype=float) if not np.isscalar(a) else float(a) for a in args)
    rng = np.random.default_rng(seed)
    name = getattr(f, "__name__", repr(f))
    v = tuple(_rand_like(rng, a) for a in args)
    plus = tuple(a + eps * d for a, d in zip(args, v))
    minus = tuple(a - eps * d for a, d in zip(args, v))
    out = f(*args)
    numeric = tuple(
        (np.asarray(p, dtype=float) - np.asarray(m, dtype=float)) / (2 * eps)
        for p, m in zip(tree_flatten(f(*plus))[0], tree_flatten(f(*minus))[0]))
    if "fwd" in modes:       # (only then: custom_vjp functions have no forward mode)
        jv_leaves = tree_flatten(jvp(f, args, v)[1])[0]
        if len(jv_leaves) != len(numeric):
            _fail(name, "forward mode: number of output tangents", len(jv_leaves), len(numeric))
        for a, n in zip(jv_leaves, numeric):
            if shape_of(a) != np.shape(n):     # allclose would broadcast a wrong shape away
                _fail(name, "forward mode: shape of J v", shape_of(a), np.shape(n))
            if not np.allclose(a, n, atol=atol, rtol=rtol):
                _fail(name, "forward mode: J v vs central difference", a, n)
    if "rev" in modes:
        y2, pullback = vjp(f, *args)
        u = tree_flatten(out)[1]([_rand_like(rng, o) for o in tree_flatten(out)[0]])
        ut_j = pullback(u)
        got = [shape_of(g) for g in tree_flatten(ut_j)[0]]
        want = [shape_of(d) for d in tree_flatten(v)[0]]
        if got != want:
            _fail(name, "reverse mode: shapes of uᵀJ", got, want)
        lhs = _vdot(u, tree_flatten(out)[1](list(numeric)))   # ⟨u, J v⟩ (numeric)
        rhs = _vdot(ut_j, v)                                   # ⟨uᵀJ, v⟩ (reverse mode)
        if not np.isclose(lhs, rhs, atol=atol, rtol=rtol):
            _fail(name, "reverse mode: <u, Jv> vs <uᵀJ, v>", rhs, lhs)
    if order > 1:
        def f_jvp(*xs):
            return jvp(f, xs, v)[1]
        check_grads(f_jvp, args, modes, order - 1, eps, atol * 10, rtol * 10, seed + 1)
        if "rev" in modes:
            u = tree_flatten(out)[1]([_rand_like(rng, o) for o in tree_flatten(out)[0]])

            def f_vjp(*xs):
                return vjp(f, *xs)[1](u)
            check_grads(f_vjp, args, modes, order - 1, eps, atol * 10, rtol * 10, seed + 2)
    return True
