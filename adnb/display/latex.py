"""The book's evaluation-trace table as LaTeX and Markdown (Bishop & Bishop eqs. 8.50–8.76).

Lets you put a recorded trace on a slide or an exam paper:

* ``equations(trace, mode)`` — the equation of every variable in book notation (unicode):
  ``v3 = v1 v2`` (primal), ``v̇3 = v̇1 · v2 + v̇2 · v1`` (tangent, eq. 8.57),
  ``v̄3 = v̄5 · v5 + v̄6`` (adjoint, eq. 8.69), written symbolically whatever the seed;
* ``to_latex_math(text)`` — one such equation as LaTeX math (``\\bar{v}_{3} = \\bar{v}_{5} v_{5}
  + \\bar{v}_{6}``);
* ``trace_latex(trace, mode=None, ...)`` — the whole table as a LaTeX ``tabular``
  (``Trace.to_latex()`` calls it), with values and optionally blanks;
* ``trace_markdown(...)`` — the same table in Markdown.

Columns: the variable's equation and value, then for ``mode="forward"`` the tangent equation
and v̇_i, for ``"reverse"`` the adjoint equation and v̄_i (``None``: both). Numbers are written
with 6 significant digits (``adnb.display._format.short``).
"""
from __future__ import annotations

import re

import numpy as np

from ._format import short
from ._rules import formula, jvp_text, vjp_text
from .sweep import children_map, quiet

__all__ = ["equations", "to_latex_math", "trace_latex", "trace_markdown", "BLANK"]

#: what a blank cell holds
BLANK = "____"

_BAR, _DOT = "\u0304", "\u0307"

_FUNCTIONS = ("arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "sin", "cos", "tan", "exp",
              "log", "ln", "sign")
_SIMPLE = [("−", "-"), ("·", r"\cdot "), ("²", "^{2}"), ("ᵀ", r"^{\top}"), ("Σ", r"\sum "),
           ("≥", r"\geq "), ("≤", r"\leq "), ("∂", r"\partial "), ("…", r"\ldots "),
           ("@", r"\,"), ("ẋ", r"\dot{x}"), ("—", "-"), ("%", r"\%"), ("&", r"\&"), ("#", r"\#"),
           ("$", r"\$")]


def _name_latex(name):
    """A Python name as math: ``x1`` → ``x_{1}``, ``W_out`` → ``\\mathit{W\\_out}``."""
    m = re.fullmatch(r"([A-Za-z]+)(\d+)", name)
    if m:
        return f"{m.group(1)}_{{{m.group(2)}}}" if len(m.group(1)) == 1 else \
            rf"\mathit{{{m.group(1)}}}_{{{m.group(2)}}}"
    if len(name) == 1:
        return name
    return r"\mathit{" + name.replace("_", r"\_") + "}"


def _braced_group(s, start):
    """The end index (exclusive) of the parenthesised group starting at s[start] == '('."""
    depth = 0
    for k in range(start, len(s)):
        depth += {"(": 1, ")": -1}.get(s[k], 0)
        if depth == 0:
            return k + 1
    return len(s)


def _roots_and_powers(s):
    """``√(x)`` → ``\\sqrt{x}``; ``a^(b − 1)`` → ``a^{(b − 1)}``."""
    out, k = [], 0
    while k < len(s):
        c = s[k]
        if c in "√^" and k + 1 < len(s) and s[k + 1] == "(":
            end = _braced_group(s, k + 1)
            inner = _roots_and_powers(s[k + 1:end])
            out.append(r"\sqrt{" + inner[1:-1] + "}" if c == "√" else "^{" + inner + "}")
            k = end
        else:
            out.append(c)
            k += 1
    return "".join(out)


def to_latex_math(text, user_names=()):
    """One equation in the book's unicode notation as LaTeX math (no ``$`` around it).

    Args:
        text: e.g. ``"v̄2 = v̄3 · v1 + v̄4 · cos(v2)"``.
        user_names: names to set as math variables (``x1`` → ``x_{1}``), e.g. parameter names.

    Returns:
        str, e.g. ``\\bar{v}_{2} = \\bar{v}_{3} v_{1} + \\bar{v}_{4} \\cos(v_{2})``: a product
        of two symbols is written as juxtaposition, as in the book.
    """
    s = text.replace(" · ", " ")
    s = _roots_and_powers(s)
    for a, b in _SIMPLE:
        s = s.replace(a, b)
    s = re.sub(r"\b(" + "|".join(_FUNCTIONS) + r")\(", lambda m: "\\" + m.group(1) + "(", s)
    s = s.replace("\\sign(", r"\operatorname{sign}(").replace("\\arcsin(", r"\arcsin(")
    s = re.sub(r"v([\u0304\u0307]?)(\d+)",
               lambda m: ({"": "v", _BAR: r"\bar{v}", _DOT: r"\dot{v}"}[m.group(1)]
                          + f"_{{{m.group(2)}}}"), s)
    for name in sorted(user_names, key=len, reverse=True):
        if name and not re.fullmatch(r"v\d+", name):
            s = re.sub(rf"(?<![\\\w]){re.escape(name)}(?!\w)", lambda m: _name_latex(name), s)
    return s


def _sum(terms):
    """Join terms with + and −: ``v̄5 · v5 + v̄6``, ``v̄3 − v̄4``."""
    out = ""
    for t in terms:
        if not out:
            out = t
        elif t.startswith("−"):
            out += " − " + t[1:]
        else:
            out += " + " + t
    return out or "0"


def equations(trace, mode, forward=None, reverse=None, column=0):
    """The book's equation of each variable, one per node, in unicode book notation.

    Args:
        trace: a ``Trace``.
        mode: ``"primal"`` (``v3 = v1 v2``; an input ``v1 = x1``), ``"forward"`` (eq. 8.57:
            ``v̇3 = v̇1 · v2 + v̇2 · v1``; an input its seed ``v̇1 = 1``) or ``"reverse"`` (eq.
            8.69: ``v̄3 = v̄5 · v5 + v̄6``; the output its seed ``v̄7 = 1``).
        forward, reverse: results whose seeds are written for inputs / outputs (default: the
            default seeds, ẋ = e1 and v̄ = 1 on the first output).
        column: the seed column.

    Returns:
        list of str, one per node.
    """
    names = [n.label for n in trace.nodes]
    out = []
    if mode == "primal":
        for n in trace.nodes:
            rhs = (n.name or "input") if n.prim is None else formula(n, names)
            out.append(f"{n.label} = {rhs}")
        return out
    if mode == "forward":
        seeds = forward.seeds[column] if forward is not None else \
            {trace.inputs[column]: 1.0} if trace.inputs else {}
        for n in trace.nodes:
            d = n.label[0] + _DOT + n.label[1:]
            if n.prim is None:
                out.append(f"{d} = {_seed_text(seeds.get(n.index, 0.0))}")
                continue
            terms = [jvp_text(n, k, names, names[p][0] + _DOT + names[p][1:])
                     for k, p in enumerate(n.parents) if p >= 0]
            out.append(f"{d} = {_sum(terms)}")
        return out
    if mode == "reverse":
        seeds = reverse.seeds[column] if reverse is not None else \
            ({trace.outputs[0]: 1.0} if trace.outputs and trace.outputs[0] >= 0 else {})
        children = children_map(trace)
        for n in trace.nodes:
            b = n.label[0] + _BAR + n.label[1:]
            terms = [_seed_text(seeds[n.index])] if n.index in seeds else []
            for j in children[n.index]:
                child = trace.nodes[j]
                cb = child.label[0] + _BAR + child.label[1:]
                terms += [vjp_text(child, k, names, cb) for k, p in enumerate(child.parents)
                          if p == n.index]
            out.append(f"{b} = {_sum(terms)}")
        return out
    raise ValueError(f"mode must be 'primal', 'forward' or 'reverse', not {mode!r}")


def _seed_text(v):
    if np.ndim(v) == 0:
        return short(v).replace("-", "−")
    return "1" if np.all(np.asarray(v) == 1) else "ū"


def _columns(trace, mode, forward, reverse, column):
    """[(mode, equations, values)] for the table's column pairs."""
    modes = ["primal"] + (["forward", "reverse"] if mode is None else
                          [] if mode == "primal" else [mode])
    cols = []
    with quiet():
        for m in modes:
            if m == "forward":
                forward = forward if forward is not None else trace.forward()
                values = [0.0 if t is None else t for t in forward.tangents[column]]
            elif m == "reverse":
                reverse = reverse if reverse is not None else trace.reverse()
                values = [0.0 if a is None else a for a in reverse.adjoints[column]]
            else:
                values = [n.ans for n in trace.nodes]
            cols.append((m, equations(trace, m, forward, reverse, column), values))
    return cols


_HEAD = {"primal": ("primal", "v_i"), "forward": ("tangent", "v̇_i"),
         "reverse": ("adjoint", "v̄_i")}
_HEAD_TEX = {"primal": r"v_i", "forward": r"\dot{v}_i", "reverse": r"\bar{v}_i"}


def _number_latex(v):
    t = short(v)
    if re.fullmatch(r"-?[0-9.]+(e[+-]?\d+)?|-?inf|nan", t):
        return t
    return r"\text{" + re.sub(r"([#$%&_{}])", r"\\\1", t).replace("…", r"\ldots") + "}"


def trace_latex(trace, mode=None, forward=None, reverse=None, column=0, values=True,
                blanks=()):
    r"""The book's table of a trace as a LaTeX ``tabular`` (needs no package but ``amsmath``
    for ``\operatorname``).

    Args:
        trace: a ``Trace`` (``adnb.trace``).
        mode: ``"primal"``, ``"forward"``, ``"reverse"`` or None (primal, tangent and adjoint
            equations side by side, as eqs. 8.50–8.56, 8.58–8.64 and 8.70–8.76).
        forward, reverse, column: the sweeps and seed column (computed if not given).
        values: add each equation's number beside it.
        blanks: ``(mode, node index)`` pairs whose number is left blank (exercise sheets).

    Returns:
        str: ``\begin{tabular}...\end{tabular}``, one row per variable.
    """
    cols = _columns(trace, mode, forward, reverse, column)
    user = [n.name for n in trace.nodes if n.name]
    blanks = set(blanks)
    spec = "".join("l" + ("r" if values else "") for _ in cols)
    head = " & ".join(f"\\textbf{{{_HEAD[m][0]}}}" + (f" & ${_HEAD_TEX[m]}$" if values else "")
                      for m, _, _ in cols)
    rows = []
    for i in range(len(trace.nodes)):
        cells = []
        for m, eqs, vals in cols:
            cells.append(f"${to_latex_math(eqs[i], user)}$")
            if values:
                cells.append(r"\underline{\hspace{3em}}" if (m, i) in blanks
                             else f"${_number_latex(vals[i])}$")
        rows.append(" & ".join(cells) + r" \\")
    return "\n".join([f"\\begin{{tabular}}{{{spec}}}", head + r" \\", r"\hline", *rows,
                      r"\end{tabular}"])


def trace_markdown(trace, mode=None, forward=None, reverse=None, column=0, values=True,
                   blanks=()):
    """The same table as ``trace_latex`` in Markdown (unicode book notation, ``|`` escaped);
    blank cells hold ``BLANK``."""
    cols = _columns(trace, mode, forward, reverse, column)
    blanks = set(blanks)
    head, rule = [], []
    for m, _, _ in cols:
        head += [_HEAD[m][0]] + ([_HEAD[m][1]] if values else [])
        rule += ["---"] + (["---:"] if values else [])
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join(rule) + " |"]
    for i in range(len(trace.nodes)):
        cells = []
        for m, eqs, vals in cols:
            cells.append(eqs[i].replace("|", "\\|"))
            if values:
                cells.append(BLANK if (m, i) in blanks else short(vals[i]).replace("|", "\\|"))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
