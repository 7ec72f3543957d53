"""The local derivatives of each primitive written in the book's notation, for displays.

Nothing here knows any primitive's derivative: the text is the primitive's own rule (its block in
``core/primitives/``) run on symbolic stand-ins (``core/standin.py``) and written with the
primitives' display formulas. The edge v2 → v4 of Figure 8.4 carries ∂v4/∂v2 = cos(v2) because
sin's partial is ``lambda ans, x: cos(x)``. ``partial_text(node, k, names)`` writes ∂v/∂(argument
k) with the parents' names substituted; ``jvp_text``/``vjp_text`` give a contribution to a
tangent or an adjoint (``matmul``: v̇ = v̇1 @ v2).
"""
from __future__ import annotations

import numpy as np

from ..core.standin import render, rule_expression
from ..core.trace import const_part, format_const


def argument_names(node, names):
    """Display names of a node's arguments: parents by ``names[index]``, constants written out."""
    out = []
    for p, a in zip(node.parents, node.args):
        out.append(names[p] if p >= 0 else format_const(a))
    return out


def _fill(template, node, names):
    args = argument_names(node, names)
    try:
        return template.format(*args, ans=names[node.index])
    except (IndexError, KeyError):
        return None


def _number(v):
    """A constant inside a rule: 1, 0.5, −2 (integral floats without their .0)."""
    if np.ndim(v) == 0 and isinstance(v, (int, float, np.integer, np.floating, bool, np.bool_)):
        x = float(v)
        text = f"{x:g}".replace("-", "−")
        return text, (2 if text.startswith("−") else 5)
    if isinstance(v, tuple) and all(isinstance(i, (int, np.integer)) for i in v):
        return str(tuple(int(i) for i in v)), 5                         # a shape
    return const_part(v)


def _render(expr, node, names, seed_name=None):
    def leaf(key):
        if key == "seed":
            return seed_name, 5
        if key == "ans":
            return names[node.index], 5
        k = key[1]
        p = node.parents[k]
        return (names[p], 5) if p >= 0 else const_part(node.args[k])
    return render(expr, leaf, lambda prim, n, params: prim.formula, _number, "rule")


def partial_text(node, k, names):
    """∂v/∂(argument k) of an elementwise node in book notation (``"cos(v2)"``, ``"v1"``, ``"1"``),
    or None if the primitive has no scalar local partial (matmul, sum, ...)."""
    prim = node.prim
    if prim is None or not prim.elementwise or prim.partials is None:
        return None
    if k >= len(prim.partials) or prim.partials[k] is None:
        return "—"
    if prim.partials_text and prim.partials_text[k]:        # a partial that decides on values
        text = _fill(prim.partials_text[k], node, names)
        if text is not None:
            return text
    expr = rule_expression(prim.partials[k], node.ans, node.args)
    if expr is None:
        return f"∂{names[node.index]}/∂{argument_names(node, names)[k]}"
    return _render(expr, node, names)[0]


def _group(text):
    """Bracket a compound partial inside a product: v̄6 · (1 − v6²), but v̄4 · cos(v2)."""
    bracketed = text.startswith("[") and text.endswith("]") and text.count("[") == 1
    return f"({text})" if " " in text and not bracketed else text


def jvp_text(node, k, names, tangent_name):
    """The tangent contribution of argument k written out: elementwise ``v̇2 · cos(v2)``,
    otherwise the primitive's rule (``v̇1 @ v2``), or ``"<name> rule"`` when it cannot be
    written as one formula."""
    return _contribution_text(node, k, names, tangent_name, "jvp")


def vjp_text(node, k, names, adjoint_name):
    """The adjoint contribution of this node to its argument k: elementwise ``v̄5 · v5``,
    otherwise the primitive's rule (``v̄4 @ v2ᵀ``)."""
    return _contribution_text(node, k, names, adjoint_name, "vjp")


def _contribution_text(node, k, names, seed_name, which):
    """seed × local partial for elementwise operations; the rule run on stand-ins otherwise."""
    if getattr(node.prim, "kind", None) is not None:     # a custom rule: written from the rule
        from .custom import rule_text
        t = rule_text(node, k, names, seed_name, "t" if which == "jvp" else "g")
        if t is not None:
            return t
    p = partial_text(node, k, names)
    if p is not None:
        if p == "1":
            return seed_name
        if p == "−1":
            return "−" + seed_name
        return f"{seed_name} · {_group(p)}"
    prim = node.prim
    rules = getattr(prim, which)
    if rules is not None:
        rule = rules[0] if prim.variadic else rules[min(k, len(rules) - 1)]
        seed = node.args[k] if which == "jvp" else node.ans
        expr = None if rule is None else rule_expression(
            rule, node.ans, node.args, seed=_ones_like(seed), params=node.params,
            argnum=k if prim.variadic else None)
        if expr is not None:
            return _render(expr, node, names, seed_name)[0]
    return f"{prim.name} rule({seed_name})"


def _ones_like(v):
    s = getattr(v, "shape", None)
    return np.ones(s) if s else 1.0


def _index_text(idx):
    """Python's own spelling of an index: 0, 1:, ::2, ..., [0 2]."""
    if isinstance(idx, tuple):
        return ", ".join(_index_text(i) for i in idx)
    if isinstance(idx, slice):
        a = "" if idx.start is None else str(idx.start)
        b = "" if idx.stop is None else str(idx.stop)
        return f"{a}:{b}" + ("" if idx.step is None else f":{idx.step}")
    if idx is Ellipsis:
        return "..."
    return format_const(idx) if not isinstance(idx, (int, str)) else str(idx)


def formula(node, names=None):
    """The node's formula as the core writes it (``v1 v2``, ``sin(v2)``), except indexing with
    the index passed as an argument, written ``v1[0]``/``v1[1:]`` rather than
    ``getitem(v1, slice(1, None, None))``."""
    prim = node.prim
    if prim is not None and prim.name == "getitem" and "idx" not in (node.params or {}) \
            and len(node.parents) == 2 and node.parents[1] < 0 and node.parents[0] >= 0:
        base = names[node.parents[0]] if names else f"v{node.parents[0] + 1}"
        return f"{base}[{_index_text(node.args[1])}]"
    return node.formula(names)


def op_symbol(node):
    """A short symbol for the operation of a node, for graph labels: ×, +, −, sin, exp, @, Σ."""
    if node.prim is None:
        return "input"
    return {
        "add": "+", "sub": "−", "mul": "×", "div": "÷", "pow": "^", "neg": "−x",
        "matmul": "@", "sum": "Σ", "prod": "Π", "square": "x²", "sqrt": "√", "log": "ln",
        "reciprocal": "1/x", "abs": "|x|", "transpose": "ᵀ", "getitem": "[ ]",
        "broadcast_to": "bcast", "concatenate": "concat",
    }.get(node.prim.name, node.prim.name)
