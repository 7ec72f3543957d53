"""How the displays write custom rules, stop_gradient and checkpoints (``adnb.core.custom``).

A custom function is one row of the trace. Its tangent is written from the rule itself: the
rule is run once more on traced values (the row's arguments and a traced tangent) and the
expression it computes is printed, so ``softplus``'s row reads v̇2 = v̇1 · 0.5 · (1 + tanh(v1 /
2)) — derived from the rule, as every primitive's text is derived from its block. In a map
linear in the tangents, a summand that does not depend on them is zero, so such summands are
left out (the other arguments' zero tangents). A ``custom_vjp`` row is written from ``bwd``
the same way, with the residuals as the numbers they are. ``stop_gradient`` edges are cut
(partial 0), and a checkpoint row stands for its folded inside, which the reverse sweep runs
again.
"""
from __future__ import annotations

import re

import numpy as np

from ..core.trace import Trace, TapeTracer, format_formula
from ..core.tracer import shape_of, unwrap

__all__ = ["kind", "rule_text", "row_badge", "expression", "checkpoint_inside"]

_CALL = re.compile(r"^[\wΣ.]+\(")


def kind(prim):
    """"custom_jvp", "custom_vjp", "checkpoint", "stop_gradient", or None for a primitive."""
    return getattr(prim, "kind", None)


def _balanced_call(e):
    """True for ``name(...)`` whose first bracket closes at the very end."""
    if not _CALL.match(e):
        return False
    depth = 0
    for pos, ch in enumerate(e):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return pos == len(e) - 1
    return False


def _wrap(e):
    return f"({e})" if " " in e and not _balanced_call(e) else e


def expression(trace, out, leaves):
    """Node ``out`` of a recorded trace written as one expression of its inputs, named by
    ``leaves`` ({input index: name}); summands that do not depend on the input named first
    (``leaves``' first key: a tangent) are left out, as zero in a linear map."""
    nodes = trace.nodes
    first = next(iter(leaves))
    depends = [False] * len(nodes)
    depends[first] = True
    for n in nodes:
        if n.prim is not None:
            depends[n.index] = any(p >= 0 and depends[p] for p in n.parents)
    memo = {}

    def ex(i):
        if i in memo:
            return memo[i]
        if i in leaves:
            return leaves[i]
        node = nodes[i]
        if node.prim is None:
            return f"v{i + 1}"
        ps = node.parents
        if node.prim.name in ("add", "sub"):
            live = [k for k, p in enumerate(ps) if p >= 0 and depends[p]]
            if len(live) == 1:          # the other summand is zero in the linear map
                e = ex(ps[live[0]])
                text = e if node.prim.name == "add" or live[0] == 0 else "−" + _wrap(e)
                memo[i] = text
                return text
        if node.prim.name == "mul":     # a product of products needs no brackets
            ops = [(ex(p) if nodes[p].prim is not None and nodes[p].prim.name == "mul"
                    else _wrap(ex(p))) if p >= 0 else _const(a)
                   for p, a in zip(ps, node.args)]
            text = " · ".join(ops)
        else:
            call = _CALL.match(node.prim.formula) and node.prim.formula.endswith(")")
            text = format_formula(node, {p: ex(p) if call else _wrap(ex(p))
                                         for p in ps if p >= 0})
        memo[i] = text
        return text
    return ex(out)


def _const(a):
    from ..core.trace import format_const
    return format_const(unwrap(a))


def _record_rule(node, k, run_rule):
    """Record a rule on traced copies of the row's arguments and a traced tangent for argument
    k; returns (trace, output index or None, {input index: role})."""
    tr = Trace(keep_values=True)
    seed = tr.new_input(_zeros(node.args[k]))
    args = [tr.new_input(unwrap(a)) for a in node.args]
    try:
        out = run_rule(seed, args)
    except Exception:               # a rule that cannot run on traced values: no text
        return None
    if not (type(out) is TapeTracer and out.trace is tr):
        return tr, None
    return tr, out.index


def _zeros(a):
    s = shape_of(a)
    return np.zeros(s) if s else 0.0


def _jvp_rule_text(node, k, names, seed_name):
    owner = node.prim.owner
    static = (node.params or {}).get("static", ())

    def run(seed, args):
        tangents = [seed if j == k else _zeros(a) for j, a in enumerate(args)]
        return owner.jvp_rule(*static, tuple(args), tuple(tangents))[1]
    rec = _record_rule(node, k, run)
    if rec is None:
        return None
    tr, out = rec
    if out is None:
        return "0"
    leaves = {0: seed_name}
    for j, p in enumerate(node.parents):
        leaves[j + 1] = names[p] if p >= 0 else _const(node.args[j])
    return expression(tr, out, leaves)


def _vjp_rule_text(node, k, names, seed_name):
    owner = node.prim.owner
    static = (node.params or {}).get("static", ())
    res = (node.params or {}).get("res")
    if res is None or owner.bwd is None:
        return None
    tr = Trace(keep_values=True)
    g = tr.new_input(_zeros(node.ans))
    try:
        cts = owner.bwd(*static, res.value, g)
        c = cts[k]
    except Exception:
        return None
    if not (type(c) is TapeTracer and c.trace is tr):
        return "0"
    return expression(tr, c.index, {0: seed_name})


def rule_text(node, k, names, seed_name, slot):
    """The contribution of argument k of a custom row, in the displays' notation: ``slot`` is
    "t" (tangent, seed v̇) or "g" (adjoint, seed v̄). None: no text for this row."""
    what = kind(node.prim)
    if what == "stop_gradient":
        return "0 (cut)"
    if what == "custom_jvp":
        if slot == "t":
            return _jvp_rule_text(node, k, names, seed_name)
        return f"transpose of {node.prim.owner.jvp_rule.__name__}({seed_name})"
    if what == "custom_vjp":
        if slot == "g":
            return _vjp_rule_text(node, k, names, seed_name)
        return "no forward rule (custom_vjp)"
    if what == "checkpoint":
        arg = names[node.parents[k]] if node.parents[k] >= 0 else "const"
        return (f"jvp of {node.prim.owner.fun.__name__} along {seed_name}" if slot == "t" else
                f"∂/∂{arg} of {node.prim.owner.fun.__name__}, recomputed: {seed_name}ᵀJ")
    return None


def checkpoint_inside(node):
    """The folded inside of a checkpoint row: its function recorded on the row's arguments
    (an explore trace), which the reverse sweep runs again."""
    from ..core.api import trace
    return trace(node.prim.owner.fun, *[unwrap(a) for a in node.args])


def row_badge(node, names):
    """(tag, explanation) for a custom row, or None: shown beside the operation."""
    what = kind(node.prim)
    if what is None:
        return None
    if what == "stop_gradient":
        return "stop_gradient", "value passed on unchanged; derivative 0: the edge is cut"
    arg_names = [names[p] if p >= 0 else _const(a) for p, a in zip(node.parents, node.args)]
    label = names[node.index]
    if what == "custom_jvp":
        rule = node.prim.owner.jvp_rule
        terms = [t for t in (_jvp_rule_text(node, k, names, f"ṫ{k + 1}")
                             for k, n in enumerate(arg_names)) if t and t != "0"]
        body = " + ".join(terms) if terms else "0"
        return ("custom_jvp", f"tangent rule {rule.__name__}: tangent of {label} = {body} "
                              f"(ṫk: the tangent of {', '.join(arg_names)}); reverse mode "
                              "sweeps this rule backwards")
    if what == "custom_vjp":
        texts = [_vjp_rule_text(node, k, names, "ḡ") for k in range(len(node.parents))]
        body = "; ".join(f"{a}̄ += {t}" for a, t in zip(arg_names, texts) if t)
        return ("custom_vjp", f"adjoint rule {node.prim.owner.bwd.__name__}: {body} "
                              f"(ḡ: the adjoint of {label}); no forward mode")
    inside = checkpoint_inside(node)
    return ("checkpoint", f"{inside.n_ops} operations folded: the reverse sweep keeps only "
                          f"{', '.join(arg_names)} and runs them again when the adjoint of "
                          f"{label} arrives. Inside, on the inputs of the row:\n{inside}")
