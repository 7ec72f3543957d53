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
    print("\nJacobian, forward mode (2 passes):\n", J_fwd)
    print("Jacobian, reverse mode (2 passes):\n", J_rev)
    _, Jr = adnb.jvp(f, (x,), (np.array([1.0, -1.0]),))
    _, pullback = adnb.vjp(f, x)
    (uJ,) = pullback(np.array([1.0, 2.0]))
    Hv = adnb.hvp(lambda x: book_example(x[0], x[1])[0], x, np.array([1.0, -1.0]))
    print("J r  (one forward pass, r = (1, -1)):", Jr)
    print("uᵀJ  (one reverse pass, u = (1, 2)): ", uJ)
    print("H v  (mixed mode, v = (1, -1)):      ", Hv)

    hv_want = np.array([e2 - 1, 2 * e2 + 1 - math.sin(2.0)])
    # (what, computed, closed form): each line says both, as plain numbers
    expected = [
        ("∂f1/∂x1 = 2 + 2e²", J_rev[0, 0], 2 + 2 * e2),
        ("∂f1/∂x2 = 1 + e² − cos 2", J_rev[0, 1], 1 + e2 - math.cos(2.0)),
        ("forward mode = reverse mode, largest difference", np.max(np.abs(J_fwd - J_rev)), 0.0),
        ("H v = (e² − 1, 2e² + 1 − sin 2), largest difference",
         np.max(np.abs(Hv - hv_want)), 0.0),
    ]
    ok = True
    print()
    for label, got, want in expected:
        good = abs(float(got) - want) <= 1e-12 * max(1.0, abs(want))
        ok &= good
        print(f"{'ok ' if good else 'BAD'} {label}: {float(got)!r}"
              + ("" if want == 0.0 else f" (closed form {want!r})"))
    try:
        with open("adnb-demo.html", "w", encoding="utf-8") as fh:
            fh.write("<meta charset='utf-8'>" + adnb.display.html.trace_table(trace, forward=fwd, reverse=rev))
        print("\nwrote adnb-demo.html (the same table as in a notebook)")
    except (ImportError, AttributeError):
        pass
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
