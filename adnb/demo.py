"""The book's example, end to end: ``python -m adnb``.

Bishop & Bishop (2024) eqs. (8.49) and (8.65): f1 = x1 x2 + exp(x1 x2) − sin x2 and
f2 = (x1 x2 − sin x2) exp(x1 x2) at (x1, x2) = (1, 2) (Exercise 8.17). Prints the evaluation
trace with tangents and adjoints, the Jacobian by both modes, a JVP, a VJP and an HVP, checks
them against the closed forms, and writes the HTML table to ``adnb-demo.html``.
"""
from __future__ import annotations

import math
import sys

import numpy as np

import adnb


def book_example(x1, x2):
    v3 = x1 * x2            # (8.52)
    v4 = np.sin(x2)         # (8.53)
    v5 = np.exp(v3)         # (8.54)
    v6 = v3 - v4            # (8.55)
    f1 = v5 + v6            # (8.56)
    f2 = v5 * v6            # Figure 8.5
    return f1, f2


def numbers(v):
    """A number or a (nested) array as plain Python numbers: ``16.7781121978613``, ``[1.0, 2.0]``
    (never ``np.float64(...)``; floats print their shortest round-trip form)."""
    return repr(np.asarray(v, dtype=float).tolist())


def relative_error(got, want):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    return float(np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want))))


def main(argv=None):
    e2 = math.exp(2.0)
    trace = adnb.trace(book_example, 1.0, 2.0)
    fwd, rev = trace.forward(), trace.reverse()
    print("Evaluation trace of eqs. (8.49)/(8.65) at (x1, x2) = (1, 2)\n")
    try:
        from adnb.display.html import trace_text
        print(trace_text(trace, forward=fwd, reverse=rev))
    except ImportError:
        print(trace)
        for name, res, col in (("tangents", fwd, fwd.tangents), ("adjoints", rev, rev.adjoints)):
            for label, values in zip(res.labels, col):
                print(f"{name} {label}:", [None if v is None else round(float(v), 6) for v in values])

    x = np.array([1.0, 2.0])
    f = lambda x: np.stack(book_example(x[0], x[1]))
    J_fwd = adnb.jacfwd(f)(x)
    J_rev = adnb.jacrev(f)(x)
    print("\nJacobian, forward mode (2 passes): ", numbers(J_fwd))
    print("Jacobian, reverse mode (2 passes): ", numbers(J_rev))
    r, u, v = np.array([1.0, -1.0]), np.array([1.0, 2.0]), np.array([1.0, -1.0])
    _, Jr = adnb.jvp(f, (x,), (r,))
    _, pullback = adnb.vjp(f, x)
    (uJ,) = pullback(u)
    Hv = adnb.hvp(lambda x: book_example(x[0], x[1])[0], x, v)
    print("J r  (one forward pass, r = (1, -1)):", numbers(Jr))
    print("uᵀJ  (one reverse pass, u = (1, 2)): ", numbers(uJ))
    print("H v  (mixed mode, v = (1, -1)):      ", numbers(Hv))

    J_exact = np.array([[2 + 2 * e2, 1 + e2 - math.cos(2.0)],                 # §10.1 closed forms
                        [e2 * (6 - 2 * math.sin(2.0)), e2 * (3 - math.cos(2.0) - math.sin(2.0))]])
    checks = [
        ("∂f1/∂x1 = 2 + 2e²", J_rev[0, 0], J_exact[0, 0]),
        ("∂f1/∂x2 = 1 + e² − cos 2", J_rev[0, 1], J_exact[0, 1]),
        ("J by forward mode = closed form", J_fwd, J_exact),
        ("J by reverse mode = closed form", J_rev, J_exact),
        ("J r = J_exact r", Jr, J_exact @ r),
        ("uᵀJ = uᵀ J_exact", uJ, u @ J_exact),
        ("H v = (e² − 1, 2e² + 1 − sin 2)", Hv, [e2 - 1, 2 * e2 + 1 - math.sin(2.0)]),
    ]
    print()
    ok = True
    width = max(len(label) for label, _, _ in checks)
    for label, got, want in checks:
        error = relative_error(got, want)
        good = error <= 1e-12
        ok &= good
        status = "ok " if good else "BAD"
        print(f"{status}  {label:<{width}}  {numbers(got)}  (relative error {error:.1e})")
    try:
        with open("adnb-demo.html", "w", encoding="utf-8") as fh:
            fh.write("<meta charset='utf-8'>" + adnb.display.html.trace_table(trace, forward=fwd, reverse=rev))
        print("\nwrote adnb-demo.html (the same table as in a notebook)")
    except (ImportError, AttributeError):
        pass
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
