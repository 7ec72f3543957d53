"""Symbolic stand-ins: a primitive's own rules, run on named placeholders, write its formulas.

A primitive block holds its derivative once, as code (``partials=``, ``jvp=``/``vjp=``). Displays
need the same derivative as text — the edge label ∂v4/∂v2 = cos(v2), the generated statement
``v4_dot = v2_dot * cos(v2)`` — and take it from that code rather than from a second table: the
rule runs on stand-ins instead of numbers, every primitive it calls returns a new stand-in holding
the expression (``("op", prim, args, params)``), and ``render`` writes the expression with the
primitives' templates (``formula=`` for the book's notation, ``code=`` for Python).

A stand-in carries its node's real value, so rules that look at shapes work as usual. A rule that
looks at a *value* to decide (maximum's tie, abs at 0) cannot be written as one formula: the
stand-in trace notes the read (``read_value``) and callers fall back (the block's
``partials_text``, or a call of the rule itself in generated code).
"""
from __future__ import annotations

import inspect
import re

import numpy as np

from .tracer import LEVELS, Tracer, shape_of, unwrap

__all__ = ["StandIn", "rule_expression", "render", "fill"]


class StandIn(Tracer):
    """A placeholder in a rule: an expression and the value it stands for."""
    __slots__ = ("expr", "value")

    def __init__(self, expr, value, trace):
        self.expr, self.value, self.trace = expr, value, trace

    @property
    def primal(self):
        self.trace.read_value = True         # the rule decides on a value: no single formula
        return self.value

    @property
    def shape(self):
        return shape_of(self.value)

    @property
    def ndim(self):
        return len(shape_of(self.value))

    @property
    def size(self):
        return int(np.prod(shape_of(self.value)))

    @property
    def dtype(self):
        return getattr(self.value, "dtype", np.dtype(np.float64))


class _ExprParam:
    """A keyword parameter that is itself an expression (a leaf of the rule)."""
    __slots__ = ("expr",)

    def __init__(self, expr):
        self.expr = expr


class StandInTrace:
    """The transformation of stand-ins: each primitive call builds an expression node."""

    def __init__(self):
        self.level = next(LEVELS)
        self.read_value = False

    def leaf(self, key, value):
        return StandIn(("leaf", key), value, self)

    def process(self, prim, args, params):
        exprs, values = [], []
        for a in args:
            if isinstance(a, StandIn) and a.trace is self:
                exprs.append(a.expr)
                values.append(a.value)
            else:
                exprs.append(("const", a))
                values.append(unwrap(a))
        shown, given = {}, {}
        for k, v in params.items():         # a stand-in passed by keyword: untake(g, idx=idx)
            if isinstance(v, StandIn) and v.trace is self:
                shown[k], given[k] = _ExprParam(v.expr), v.value
            else:
                shown[k] = given[k] = v
        try:
            with np.errstate(all="ignore"):
                value = prim.impl(*values, **given)
        except Exception:       # noqa: BLE001 -- a stub or odd value: the shape is unknown then
            value = None
        return StandIn(("op", prim, tuple(exprs), shown), value, self)

    def compare(self, ufunc, *args):
        self.read_value = True
        return ufunc(*[a.value if isinstance(a, StandIn) else unwrap(a) for a in args])

    def branch(self, value, tracer):
        self.read_value = True
        return value


def rule_expression(rule, ans, args, seed=None, params=None, argnum=None):
    """Run one rule on stand-ins: ``rule(seed, ans, *args, **params)`` (or ``rule(ans, *args)``
    for a partial, ``seed=None``). Leaves are keyed "seed", "ans" and ("arg", k).

    Returns:
        the expression (a leaf, a constant or an op node), or None when the rule reads a value
        to decide or fails on stand-ins.
    """
    trace = StandInTrace()
    leaves = [trace.leaf(("arg", k), a) for k, a in enumerate(args)]
    extra = dict(params or {})
    if argnum is not None:
        extra["argnum"] = argnum
    try:
        with np.errstate(all="ignore"):
            if seed is None:
                out = rule(trace.leaf("ans", ans), *leaves)
            else:
                out = rule(trace.leaf("seed", seed), trace.leaf("ans", ans), *leaves, **extra)
    except Exception:           # noqa: BLE001 -- the caller falls back to the rule by name
        return None
    if trace.read_value:
        return None
    if isinstance(out, StandIn) and out.trace is trace:
        return out.expr
    return None if isinstance(out, Tracer) else ("const", out)


# ---- writing expressions ------------------------------------------------------------------------
# Precedence: 1 sums, 2 products, 3 a leading minus, 4 powers and postfix marks, 5 atoms and calls.
# A slot of a template is "delimited" when the template brackets it already (f({0}), [{0}]).

_CACHE: dict = {}


def _template_info(template, style):
    key = (template, style)
    got = _CACHE.get(key)
    if got is not None:
        return got
    slots = [(m.start(), m.end(), m.group(1)) for m in re.finditer(r"\{(\d+)\}", template)]
    bare = re.sub(r"\([^()]*\)|\[[^\[\]]*\]", "()", template)   # what lies outside brackets
    if style == "python":
        sums, products, neg = (" + ", " - "), (" * ", " / ", " @ ", " % "), "-"
    else:
        sums, products, neg = (" + ", " − "), (" / ", " @ ", " × ", " mod "), "−"
    if re.fullmatch(r"[\w.]+\(.*\)|\|\{0\}\||\[.*\]", template):
        prec = 5
    elif any(s in bare for s in sums):
        prec = 1
    elif any(s in bare for s in products) or re.fullmatch(r"\{0\} \{1\}", template):
        prec = 2
    elif template.startswith(neg):
        prec = 3
    else:
        prec = 4
    needs = {}
    for start, end, k in slots:
        before, after = template[:start], template[end:]
        delimited = before.endswith(("(", ", ", "[", "|")) and after.startswith((")", ",", "]", "|"))
        if delimited:
            needs[int(k)] = 0
        elif prec in (1, 2):
            needs[int(k)] = prec if not before.strip() else prec + 1    # left operand, right one
        elif prec == 3:
            needs[int(k)] = 3
        else:
            needs[int(k)] = 5
    got = _CACHE[key] = (prec, needs)
    return got


def fill(template, parts, params=None, style="book", fallback=None):
    """Substitute (text, precedence) parts into a template, bracketing where precedence asks.

    Returns:
        (text, precedence of the result)."""
    if style != "python" and template == "{0} {1}" and len(parts) == 2:
        if style == "rule" and parts[0][0] == parts[1][0] and parts[0][1] >= 5:
            return parts[0][0] + "²", 4                     # v3 v3 reads v3²
        if _is_number(parts[1][0]) or parts[0][0].startswith(("−", "(−")) and \
                _is_number(parts[0][0]):
            template = "{0} × {1}"          # a constant factor on the right: v3 × (−1.0); 4 v1
    prec, needs = _template_info(template, "python" if style == "python" else "book")
    texts = [f"({t})" if p < needs.get(k, 5) else t for k, (t, p) in enumerate(parts)]
    try:
        return template.format(*texts, args=", ".join(texts), **(params or {})), prec
    except (IndexError, KeyError, ValueError):
        if fallback is None:
            raise
        return fallback(texts), 5


def _is_number(text):
    return bool(re.fullmatch(r"\(?[−\-]?[\d.]+(e[+\-]?\d+)?\)?|\(?[−\-]?(inf|nan)\)?", text))


def render(expr, leaf, template_of, const, style="book", param_text=None):
    """Write an expression.

    Args:
        expr: from ``rule_expression``.
        leaf: ``key -> (text, precedence)`` for the leaves ("seed", "ans", ("arg", k)).
        template_of: ``(prim, number of arguments, params) -> template`` (the primitive's
            ``formula`` for the book's notation).
        const: ``value -> (text, precedence)`` for constants inside the rule.
        style: "book", "rule" (the book's notation, a product of equal names written as a
            square: 1 − v6²) or "python" (which operators bind how).
        param_text: ``value -> text`` for keyword parameters (default: as they are).
    """
    kind = expr[0]
    if kind == "leaf":
        return leaf(expr[1])
    if kind == "const":
        return const(expr[1])
    _, prim, args, params = expr
    template = template_of(prim, len(args), params)
    args, params = _name_positional(prim, template, args, params)
    if len(args) != len(expr[2]):
        template = template_of(prim, len(args), params)
    parts = [render(a, leaf, template_of, const, style, param_text) for a in args]
    shown = {k: render(v.expr, leaf, template_of, const, style, param_text)[0]
             if isinstance(v, _ExprParam) else (param_text(v) if param_text else v)
             for k, v in params.items()}

    def fallback(texts):
        named = [f"{k}={v}" for k, v in shown.items()]
        if style == "python":
            return f"apply({prim.name!r}, {', '.join(texts + named)})"
        return f"{prim.name}({', '.join(texts + named)})"
    return fill(template, parts, shown, style, fallback)


def _name_positional(prim, template, args, params):
    """A parameter passed by position (``reshape(g, shape)``) moved to its name, where the
    template asks for it by name (``{shape}``)."""
    names = _impl_names(prim)
    moved = dict(params)
    kept = []
    for k, a in enumerate(args):
        if a[0] == "const" and k < len(names) and "{" + names[k] + "}" in template \
                and "{%d}" % k not in template:
            moved[names[k]] = a[1]
        else:
            kept.append(a)
    return (tuple(kept), moved) if len(kept) != len(args) else (args, params)


def _impl_names(prim):
    got = _NAMES.get(prim)
    if got is None:
        try:
            got = [p.name for p in inspect.signature(prim.impl).parameters.values()]
        except (TypeError, ValueError):         # a builtin or ufunc without a signature
            got = []
        _NAMES[prim] = got
    return got


_NAMES: dict = {}
