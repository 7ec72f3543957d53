"""Reverse mode = linearize + transpose, shown side by side (``adnb.linearize``,
``adnb.linear_transpose``).

Left: the linearized trace — the tangent rows only, a program of linear operations of the input
tangents ẋ (each row a tangent rule, the primal values frozen into constants). Right: its
transpose — the same rows in reverse order, each linear operation replaced by its transpose
(a scale by the same constant, a copy to both summands, a broadcast for a sum...). Run on a
cotangent ȳ = u, the right column computes Jᵀu, and every value it holds equals the adjoint the
reverse sweep of f computes for the same variable (``LinearPair.matches``).
"""
from __future__ import annotations

import html as _html
import re

import numpy as np

from . import _format as F
from ._rules import vjp_text

__all__ = ["LinearPair", "linear_pair"]


class LinearPair:
    """The linearized trace of f at x and its transpose, with values for ẋ = v and ȳ = u.

    Attributes:
        linear: the linear program's trace (explore mode), inputs ẋ1…, output ẏ.
        tangents: value of every linear row for ẋ = v (J v at the output).
        cotangents: value of every row's transpose-adjoint for ȳ = u (Jᵀu at the inputs).
        primal_of: linear row index -> the primal node whose tangent it is (where one is).
        adjoints: the reverse sweep of f itself for ȳ = u: v̄ per primal node.
        jv, jtu: J v and Jᵀu (a tuple, one per input).
    """

    def __init__(self, f, primals, v, u):
        from ..core.forward import _sweep
        from ..core.linearize import check_linear, linearize
        from ..core.reverse import backward
        from ..core.trace import TapeTracer, Trace
        y, f_jvp = linearize(f, *primals)
        primal = f_jvp.trace
        lin = Trace(explore=True)
        lin.function_name = f"linearized {getattr(f, '__name__', 'f')}"
        ins = [lin.new_input(np.asarray(t, float) if np.ndim(t) else float(t), f"ẋ{k + 1}")
               for k, t in enumerate(v)]
        tan = _sweep(primal, dict(zip(primal.inputs, ins)))
        out = tan[primal.outputs[0]] if primal.outputs[0] >= 0 else None
        lin.finish([out], ["ẏ"])
        check_linear(lin, "the linearized function")
        self.linear, self.primal, self.y = lin, primal, y
        self.primal_of = {}
        for j, t in enumerate(tan):
            if type(t) is TapeTracer and t.trace is lin and t.index not in self.primal_of:
                self.primal_of[t.index] = j
        self.tangents = lin.values()
        o = lin.outputs[0]
        u = np.asarray(u, float) if np.ndim(u) else float(u)
        self.cotangents = backward(lin, {o: u}, keep_all=True) if o >= 0 else [None] * len(lin)
        self.adjoints = backward(primal, {primal.outputs[0]: u}, keep_all=True)
        self.jv = self.tangents[o] if o >= 0 else 0.0
        self.jtu = tuple(self.cotangents[i] for i in lin.inputs)
        self.u, self.v = u, v

    def matches(self):
        """For every linear row that is a primal node's tangent: (row, primal node, its
        transpose value, the reverse sweep's adjoint) — equal, as the transposition promises."""
        out = []
        for i, j in sorted(self.primal_of.items()):
            out.append((i, j, self.cotangents[i], self.adjoints[j]))
        return out

    def _names(self):
        lin = self.linear
        names = []
        for n in lin.nodes:
            names.append(n.name if n.prim is None else f"ṫ{n.index + 1}")
        return names

    def _repr_html_(self):
        lin = self.linear
        names = self._names()
        bars = [f"x̄{k + 1}" for k in range(len(lin.inputs))] + \
            [f"t̄{n.index + 1}" for n in lin.nodes[len(lin.inputs):]]
        left, right = [], []
        for n in lin.nodes:
            j = self.primal_of.get(n.index)
            of = f"v\u0307{j + 1}" if j is not None else ""
            op = "input (seed)" if n.prim is None else _shorten(n.formula(names))
            left.append((names[n.index], op, F.short(self.tangents[n.index]), of))
        for n in reversed(lin.nodes):
            if n.prim is None:
                continue
            ops = []
            for k, p in enumerate(n.parents):
                if p >= 0:
                    ops.append(f"{bars[p]} += {_shorten(vjp_text(n, k, names, bars[n.index]))}")
            j = self.primal_of.get(n.index)
            same = ""
            if j is not None:
                a, b = self.cotangents[n.index], self.adjoints[j]
                ok = (a is None and b is None) or (a is not None and b is not None
                                                   and np.allclose(a, b, rtol=1e-12, atol=0))
                same = f"= v\u0304{j + 1} {'✓' if ok else '✗'}"
            right.append((bars[n.index], F.short(self.cotangents[n.index]),
                          "; ".join(ops) or "(no traced argument)", same))
        for i in lin.inputs:
            right.append((bars[i], F.short(self.cotangents[i]), "result: (Jᵀu)", ""))
        esc = _html.escape
        th = '<th style="text-align:left;padding:2px 8px;background:#f3f3f3">'
        td = '<td style="padding:2px 8px;border-bottom:1px solid #ddd;font-family:monospace">'

        def table(title, header, rows):
            body = "".join("<tr>" + "".join(f"{td}{esc(str(c))}</td>" for c in r) + "</tr>"
                           for r in rows)
            return (f'<table class="adnb-linear" style="border-collapse:collapse;font-size:12px">'
                    f"<caption style='text-align:left'>{esc(title)}</caption><tr>"
                    + "".join(f"{th}{esc(h)}</th>" for h in header) + "</tr>" + body + "</table>")
        vtu = _dot(self.u, self.jv)
        tuv = sum(_dot(a, b) for a, b in zip(self.jtu, self.v))
        foot = (f"<p style='font-size:12px'>uᵀ(J v) = {vtu:.12g} and (Jᵀu)ᵀ v = {tuv:.12g}: the "
                "dot-product identity. Each t̄ of the right table equals the reverse sweep's "
                "adjoint v̄ of the same variable (✓).</p>")
        return ('<div class="adnb-linear-pair" style="display:flex;gap:24px;align-items:flex-start">'
                + table("Linearized trace: tangent rows only (ẋ = v), top to bottom",
                        ["row", "linear operation", "value", "is"], left)
                + table("Transpose: the rows reversed (ȳ = u), top to bottom",
                        ["adjoint", "value", "transposed operations", "check"], right)
                + "</div>" + foot)


_LONG = re.compile(r"\d+\.\d{6,}(?:e[-+]?\d+)?")


def _shorten(text):
    """Constants of the frozen primal values, to 6 significant digits."""
    return _LONG.sub(lambda m: f"{float(m.group()):.6g}", text)


def _dot(a, b):
    return float(np.vdot(np.asarray(a, float), np.asarray(b, float)))


def linear_pair(f, *primals, v=None, u=None):
    """The linearized trace of f at ``primals`` and its transpose, side by side.

    Args:
        v: input tangents, one per primal (default: ones), for the left table's values.
        u: the output cotangent ȳ (default: ones), for the right table's values.
    """
    from ..core.tracer import shape_of
    if v is None:
        v = tuple(np.ones(shape_of(p)) if shape_of(p) else 1.0 for p in primals)
    elif not isinstance(v, (tuple, list)):
        v = (v,)
    pair_u = u
    if pair_u is None:
        y = f(*primals)
        pair_u = np.ones(shape_of(y)) if shape_of(y) else 1.0
    return LinearPair(f, primals, tuple(v), pair_u)
