"""The local derivatives of each primitive written in the book's notation, for displays.

The core stores local partials as functions (``Primitive.partials``); displays also need them as
text: the edge v2 → v4 of Figure 8.4 carries ∂v4/∂v2 = cos(v2). ``partial_text(node, k, names)``
writes ∂v/∂(argument k) with the parents' names substituted; ``rule_text`` gives the tangent /
adjoint rule of a non-elementwise primitive (``matmul``: v̇ = v̇1 @ v2), which has no scalar
partial.
"""
from __future__ import annotations

from ..core.trace import format_const

# ∂v/∂(argument k) per elementwise primitive. {0}, {1}, {2}: the arguments' names; {ans}: the
# node's own name (the book reuses v5 = exp(v3) for ∂v5/∂v3, as AD does).
BOOK_PARTIALS = {
    "add": ("1", "1"),
    "sub": ("1", "−1"),
    "mul": ("{1}", "{0}"),
    "div": ("1 / {1}", "−{ans} / {1}"),
    "pow": ("{1} {0}^({1} − 1)", "{ans} ln({0})"),
    "maximum": ("[{0} ≥ {1}]", "[{0} < {1}]"),
    "minimum": ("[{0} ≤ {1}]", "[{0} > {1}]"),
    "arctan2": ("{1} / ({1}² + {0}²)", "−{0} / ({1}² + {0}²)"),
    "neg": ("−1",),
    "abs": ("sign({0})",),
    "exp": ("{ans}",),
    "log": ("1 / {0}",),
    "log1p": ("1 / (1 + {0})",),
    "expm1": ("{ans} + 1",),
    "sqrt": ("1 / (2 {ans})",),
    "square": ("2 {0}",),
    "reciprocal": ("−{ans}²",),
    "sin": ("cos({0})",),
    "cos": ("−sin({0})",),
    "tan": ("1 + {ans}²",),
    "arcsin": ("1 / √(1 − {0}²)",),
    "arccos": ("−1 / √(1 − {0}²)",),
    "arctan": ("1 / (1 + {0}²)",),
    "sinh": ("cosh({0})",),
    "cosh": ("sinh({0})",),
    "tanh": ("1 − {ans}²",),
    "where": ("—", "[{0}]", "1 − [{0}]"),
}

# Tangent contribution of argument k for non-elementwise primitives ({t}: that argument's
# tangent, {0}, {1}: argument names, {ans}: the node). Adjoint rules: {g} is the node's adjoint.
BOOK_JVP = {
    "matmul": ("{t} @ {1}", "{0} @ {t}"),
    "sum": ("Σ {t}",),
    "reshape": ("reshape({t})",),
    "transpose": ("{t}ᵀ",),
    "broadcast_to": ("broadcast({t})",),
    "getitem": ("{t}[…]",),
    "cumsum": ("cumsum({t})",),
    "inv": ("−{ans} {t} {ans}",),
    "solve": ("solve({0}, −{t} {ans})", "solve({0}, {t})"),
}
BOOK_VJP = {
    "matmul": ("{g} @ {1}ᵀ", "{0}ᵀ @ {g}"),
    "sum": ("broadcast({g})",),
    "reshape": ("reshape({g})",),
    "transpose": ("{g}ᵀ",),
    "broadcast_to": ("unbroadcast({g})",),
    "getitem": ("scatter({g})",),
    "inv": ("−{ans}ᵀ {g} {ans}ᵀ",),
}


def argument_names(node, names):
    """Display names of a node's arguments: parents by ``names[index]``, constants written out."""
    out = []
    for p, a in zip(node.parents, node.args):
        out.append(names[p] if p >= 0 else format_const(a))
    return out


def _fill(template, node, names, **extra):
    args = argument_names(node, names)
    try:
        return template.format(*args, ans=names[node.index], **extra)
    except (IndexError, KeyError):
        return None


def partial_text(node, k, names):
    """∂v/∂(argument k) of an elementwise node in book notation (``"cos(v2)"``, ``"v1"``, ``"1"``),
    or None if the primitive has no scalar local partial (matmul, sum, ...)."""
    prim = node.prim
    if prim is None or not prim.elementwise:
        return None
    table = BOOK_PARTIALS.get(prim.name)
    if table is None or k >= len(table):
        return f"∂{names[node.index]}/∂{argument_names(node, names)[k]}"
    return _fill(table[k], node, names)


def _group(text):
    """Bracket a compound partial inside a product: v̄6 · (1 − v6²), but v̄4 · cos(v2)."""
    return f"({text})" if " " in text else text


def jvp_text(node, k, names, tangent_name):
    """The tangent contribution of argument k written out: elementwise ``v̇2 cos(v2)``, otherwise
    the primitive's rule (``v̇1 @ v2``), or ``"<name> rule"`` when none is tabulated."""
    return _contribution_text(node, k, names, tangent_name, BOOK_JVP, "t")


def vjp_text(node, k, names, adjoint_name):
    """The adjoint contribution of this node to its argument k: elementwise ``v̄5 · v5``,
    otherwise the primitive's rule (``v̄4 @ v2ᵀ``)."""
    return _contribution_text(node, k, names, adjoint_name, BOOK_VJP, "g")


def _contribution_text(node, k, names, seed_name, rules, slot):
    """seed × local partial for elementwise operations; the tabulated rule otherwise."""
    if getattr(node.prim, "kind", None) is not None:     # a custom rule: written from the rule
        from .custom import rule_text
        t = rule_text(node, k, names, seed_name, slot)
        if t is not None:
            return t
    p = partial_text(node, k, names)
    if p is not None:
        if p == "1":
            return seed_name
        if p == "−1":
            return "−" + seed_name
        return f"{seed_name} · {_group(p)}"
    table = rules.get(node.prim.name)
    if table is not None:
        t = _fill(table[min(k, len(table) - 1)], node, names, **{slot: seed_name})
        if t:
            return t
    return f"{node.prim.name} rule({seed_name})"


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
