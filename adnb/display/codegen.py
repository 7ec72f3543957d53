"""Generate the tangent and adjoint programs of a trace as readable, runnable Python.

The chapter's central idea (Bishop & Bishop §8.2): automatic differentiation generates the code
for the derivatives from the code for the function. Lets you read that code:

* ``tangent_code(trace)`` — forward mode: the primal statements with, after each, its tangent
  statement v̇_i = Σ_{j∈pa(i)} ∂v_i/∂v_j v̇_j (eq. 8.57), e.g. ``v3_dot = v1_dot * v2 + v1 *
  v2_dot``. The function takes the inputs and their tangents (the seed ẋ) and returns the outputs
  and their tangents (J ẋ).
* ``adjoint_code(trace)`` — reverse mode: the primal sweep, then v̄_i = Σ_{j∈ch(i)} v̄_j ∂v_j/∂v_i
  (eq. 8.69) from the outputs back, e.g. ``v3_bar = v5_bar * v5 + v6_bar``. The function takes the
  inputs and the output seeds ȳ and returns the outputs and the input adjoints (ȳᵀ J).
* ``compile_code(code)`` — run the generated source and return its function.

Comments point back to the user's source lines. Every statement mirrors the rule the sweeps use
(same operations in the same order, the same elementary functions from
``adnb.display.codegen_runtime``), so running the code gives exactly the sweeps' numbers. One
difference: a sweep skips parents it has not reached, the code multiplies their zero tangents;
0 · inf = nan where a sweep would give 0.
"""
from __future__ import annotations

import keyword
import re

import numpy as np

from . import _format as F
from . import codegen_runtime as runtime
from ..core.standin import render, rule_expression
from .sweep import quiet

__all__ = ["tangent_code", "adjoint_code", "compile_code"]

_RUNTIME = "adnb.display.codegen_runtime"
# (what a primitive's value is written as comes from its block: ``code=``, else the name of the
# numpy ufunc it stands for, else ``apply("name", ...)``; its derivative statements are its own
# rules run on symbolic stand-ins, core/standin.py)


def _literal(v):
    """Python source for a constant or a parameter (exact: floats via repr)."""
    if v is None or v is Ellipsis:
        return "..." if v is Ellipsis else "None"
    if isinstance(v, (bool, np.bool_)):
        return repr(bool(v))
    if isinstance(v, (int, np.integer)):
        return f"({int(v)})" if v < 0 else str(int(v))
    if isinstance(v, (float, np.floating)):
        x = float(v)
        if x != x:
            return "float('nan')"
        if x in (float("inf"), float("-inf")):
            return "float('inf')" if x > 0 else "(-float('inf'))"
        return f"({x!r})" if x < 0 or (x == 0 and str(x).startswith("-")) else repr(x)
    if isinstance(v, slice):
        return f"slice({_literal(v.start)}, {_literal(v.stop)}, {_literal(v.step)})"
    if isinstance(v, tuple):
        inner = ", ".join(_literal(x) for x in v)
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    if isinstance(v, list):
        return "[" + ", ".join(_literal(x) for x in v) + "]"
    if isinstance(v, np.ndarray):
        dtype = "" if v.dtype in (np.float64, np.int64, np.bool_) else f", dtype=np.{v.dtype}"
        if v.ndim == 0:
            return f"np.array({_literal(v[()])}{dtype})"
        return f"np.array({v.tolist()!r}{dtype})"
    if isinstance(v, str):
        return repr(v)
    raise TypeError(f"cannot write a {type(v).__name__} constant into generated code")


def _shape(v):
    """Shape of a value, fast for Python numbers (np.shape converts them to arrays first)."""
    if type(v) in (float, int, bool):
        return ()
    s = getattr(v, "shape", None)
    return tuple(s) if s is not None else tuple(np.shape(v))


_RUNTIME_CALL = re.compile(r"\b(" + "|".join(sorted(runtime.__all__, key=len, reverse=True)) +
                           r")\(")


def _template(prim, nargs, params):
    """Python source template of a primitive's value: its block's ``code=``, the numpy ufunc it
    stands for (``sin({0})``), or a call of the primitive by name."""
    if prim.code is not None:
        return prim.code
    slots = ", ".join("{%d}" % i for i in range(nargs))
    name = runtime.UFUNC_NAMES.get(prim.name)
    if name is not None and not params:
        return f"{name}({slots})"
    extra = "".join(f", {k}={{{k}}}" for k in params)
    return f"apply({prim.name!r}, {slots}{extra})"


def _python_const(v):
    text = _literal(v)
    return text, (5 if not text.startswith("-") else 3)


class _Writer:
    """Shared machinery of both generators: names, constants, statements per node."""

    def __init__(self, trace):
        self.trace = trace
        self.nodes = trace.nodes
        _refuse_custom_rows(self.nodes)
        self.consts = []          # (name, source) of constants hoisted out of the body
        self.helpers = set()      # names imported from the runtime
        self.params = self._input_names()

    # -- names ------------------------------------------------------------------------------
    def _input_names(self):
        taken = set(runtime.__all__) | {"np"}
        names = []
        for j, i in enumerate(self.trace.inputs):
            name = self.nodes[i].name
            ok = (isinstance(name, str) and name.isidentifier() and not keyword.iskeyword(name)
                  and not re.match(r"^v\d+(_dot|_bar)?$", name) and name not in taken
                  and not re.match(r"^_c\d+$", name) and not name.endswith(("_dot", "_bar")))
            names.append(name if ok else f"x{j + 1}")
            taken.add(names[-1])
        if len(set(names)) != len(names):
            names = [f"x{j + 1}" for j in range(len(names))]
        return names

    def function_name(self, suffix):
        base = self.trace.function_name or "f"
        base = re.sub(r"\W", "_", str(base))
        if not base.isidentifier() or base.startswith("_"):
            base = "f"
        return f"{base}_{suffix}"

    def arg(self, node, k):
        """Source for argument k of a node: its variable, or the constant written out."""
        p = node.parents[k]
        if p >= 0:
            return f"v{p + 1}"
        return self.const(node.args[k])

    def const(self, value):
        if isinstance(value, np.ndarray) and value.size > 6:
            name = f"_c{len(self.consts) + 1}"
            self.consts.append((name, _literal(value)))
            return name
        return _literal(value)

    def use(self, *names):
        self.helpers.update(names)

    def _python(self, expr, node, seed_name=None):
        """Python source of a stand-in expression of this node's rule (names, constants hoisted)."""
        def leaf(key):
            if key == "seed":
                return seed_name, 5
            if key == "ans":
                return f"v{node.index + 1}", 5
            text = self.arg(node, key[1])
            return text, (3 if text.startswith("-") else 5)

        def const(v):
            text = self.const(v)
            return text, (3 if text.startswith("-") else 5)
        text = render(expr, leaf, _template, const, "python", _literal)[0]
        self.use(*_RUNTIME_CALL.findall(text))
        return text

    # -- statements ---------------------------------------------------------------------------
    def primal(self, node):
        expr = ("op", node.prim, tuple(("leaf", ("arg", k)) for k in range(len(node.args))),
                node.params or {})
        return self._python(expr, node)

    def _term(self, node, k, seed_name, which):
        """Source of argument k's contribution: the primitive's rule, run on stand-ins, so the
        statement does the core's operations in the core's order."""
        prim = node.prim
        rules = getattr(prim, which)
        rule = None if rules is None else (rules[0] if prim.variadic else rules[k])
        seed = node.args[k] if which == "jvp" else node.ans
        expr = None if rule is None else rule_expression(
            rule, node.ans, node.args, seed=np.ones(_shape(seed)) if _shape(seed) else 1.0,
            params=node.params, argnum=k if prim.variadic else None)
        if expr is None:                       # a rule that decides on values: call it
            helper = which + "_rule"
            self.use(helper)
            return self._rule_call(helper, node, k, seed_name)
        return self._python(expr, node, seed_name)

    def tangent_term(self, node, k, t):
        """Source of argument k's contribution to v̇ (∂v/∂v_k v̇_k, eq. 8.57)."""
        return self._term(node, k, t, "jvp")

    def adjoint_term(self, node, k, g):
        """Source of the contribution of v̄ (this node's adjoint g) to argument k's adjoint
        (v̄ ∂v/∂v_k, eq. 8.69), summed over broadcast axes as the sweep does."""
        expr = self._term(node, k, g, "vjp")
        if node.prim.elementwise and not expr.startswith("vjp_rule("):
            target = tuple(_shape(node.args[k]))
            if tuple(_shape(node.ans)) != target:
                self.use("unbroadcast")        # sum over the axes broadcasting added
                expr = f"unbroadcast({expr}, {_literal(target)})"
        return expr

    def _rule_call(self, helper, node, k, incoming):
        args = [self.arg(node, j) for j in range(len(node.args))]
        params = [f"{key}={_literal(v)}" for key, v in (node.params or {}).items()]
        return (f"{helper}({node.prim.name!r}, {k}, {incoming}, v{node.index + 1}, " +
                ", ".join(args + params) + ")")

    def comment(self, node):
        """``# line 12: a1 = w1 * x + b1`` for the source line of a node."""
        if not node.loc:
            return None
        src = F.source_line(node.loc).replace("\n", " ")
        return f"# line {node.loc[1]}: {src}" if src else f"# line {node.loc[1]}"

    def header(self, lines):
        imports = ["import numpy as np"]
        if self.helpers:
            imports.append(f"from {_RUNTIME} import " + ", ".join(sorted(self.helpers)))
        consts = [f"{n} = {src}" for n, src in self.consts]
        return "\n".join(imports + ([""] if consts else []) + consts + ["", ""] + lines) + "\n"


def _refuse_custom_rows(nodes):
    """Generated code calls primitives by name; a custom rule, checkpoint or stop_gradient is
    not one (and its name may be a builtin's): refuse rather than write the wrong rule."""
    from ..errors import UnsupportedOperationError
    for n in nodes:
        kind = getattr(n.prim, "kind", None)
        if kind is not None:
            raise UnsupportedOperationError(
                f"{n.label} = {n.formula()} is a {kind} row: generated derivative code cannot "
                "call user-defined rules. Show it with trace_table / draw_graph, or generate "
                "code for a function without custom_jvp, custom_vjp, checkpoint, stop_gradient.")


def _zero(shape):
    return "0.0" if not shape else f"np.zeros({_literal(tuple(shape))})"


def _tangent_shape(node, k):
    """Shape of argument k's tangent contribution, as the core computes it (for broadcasting)."""
    from ..core.forward import tangent_contribution
    t = np.ones(_shape(node.args[k])) if _shape(node.args[k]) else 1.0
    with quiet():
        try:
            c = tangent_contribution(node.prim, k, t, node.ans, node.args, node.params or {})
        except Exception:       # noqa: BLE001 -- fall back to the value's shape
            return tuple(_shape(node.ans))
    return tuple(_shape(c))


# ---- folding (display only): the head and tail of a long program, the middle as a comment ----

class _Gap:
    """Stands for ``n`` statements left out of a folded program."""

    def __init__(self, n, what):
        self.n, self.what = n, what

    def line(self):
        return f"    # … {self.n} {self.what}{'s' if self.n != 1 else ''} not shown (without fold=, all are written)"


def _fold(items, fold, what):
    """``items`` with the middle replaced by one ``_Gap`` when ``fold = (head, tail)`` is set."""
    if fold is None or len(items) <= fold[0] + fold[1] + 1:
        return list(items)
    head, tail = fold
    return list(items[:head]) + [_Gap(len(items) - head - tail, what)] + list(items[-tail:])


def _lines_by_source(w, body_for_node, nodes):
    """Statements grouped under a comment per source line, for the given nodes."""
    out = []
    last = object()
    for node in nodes:
        if isinstance(node, _Gap):
            out.append(node.line())
            last = object()
            continue
        key = node.loc[:2] if node.loc else None
        if key != last:
            c = w.comment(node)
            if c:
                out.append("    " + c)
            last = key
        out.extend("    " + s for s in body_for_node(node))
    return out


def tangent_code(trace, name=None, return_all=False, fold=None):
    """The forward-mode (tangent) program of a trace, as Python source.

    Args:
        trace: a ``Trace`` (explore mode: constants and shapes are read from it).
        name: the function's name (default ``<function>_tangent``).
        return_all: return a dict of every v_i and v̇_i (``{"v3": ..., "v3_dot": ...}``) instead
            of the outputs and their tangents.
        fold: ``(head, tail)``: write only the first and last operations, with a comment for
            the rest (for displays of long traces; the result then does not run).

    Returns:
        str: a module defining ``def f_tangent(x1, x2, x1_dot, x2_dot)`` that returns
        ``(outputs, output tangents)`` — single values for one output, tuples otherwise.

    Example:
        >>> src = tangent_code(adnb.trace(f, 1.0, 2.0))
        >>> f_tangent = compile_code(src)
        >>> f_tangent(1.0, 2.0, 1.0, 0.0)      # ẋ = e1: the first Jacobian column
    """
    w = _Writer(trace)
    fname = name or w.function_name("tangent")
    ins = w.params
    lines = [f"def {fname}({', '.join(ins + [n + '_dot' for n in ins])}):",
             f'    """Tangent program of {_safe_doc(trace.function_name)}: every v_i and its '
             f"tangent v\u0307_i = \u03a3_(j in pa(i)) \u2202v_i/\u2202v_j v\u0307_j (eq. 8.57).",
             "",
             "    Takes the inputs and their tangents (the seed \u1e8b); returns the outputs and their",
             '    tangents (J \u1e8b)."""']
    for j, i in enumerate(trace.inputs):
        lines.append(f"    v{i + 1}, v{i + 1}_dot = {ins[j]}, {ins[j]}_dot")

    def body(node):
        if node.prim is None:
            return []
        v = f"v{node.index + 1}"
        out = [f"{v} = {w.primal(node)}"]
        terms, shapes = [], []
        for k, p in enumerate(node.parents):
            if p < 0:
                continue
            terms.append(w.tangent_term(node, k, f"v{p + 1}_dot"))
            if node.prim.elementwise:
                # a contribution fills the value's shape unless its argument was broadcast
                same = tuple(_shape(node.args[k])) == tuple(_shape(node.ans))
                shapes.append(tuple(_shape(node.ans)) if same else _tangent_shape(node, k))
        expr = _sum(terms) if terms else _zero(_shape(node.ans))
        target = tuple(_shape(node.ans))
        if node.prim.elementwise and terms and np.broadcast_shapes(*shapes) != target:
            expr = f"np.broadcast_to({expr}, {_literal(target)})"
        out.append(f"{v}_dot = {expr}")
        return out

    ops = _fold([n for n in trace.nodes if n.prim is not None], fold, "operation")
    lines += _lines_by_source(w, body, ops)
    if return_all:
        lines.append("    return {k: val for k, val in locals().items() if k.startswith('v')}")
    else:
        outs = [(f"v{o + 1}", f"v{o + 1}_dot") if o >= 0 else
                (w.const(v), _zero(_shape(v))) for o, v in zip(trace.outputs, trace.output_values)]
        lines.append("    return " + _pack([a for a, _ in outs]) + ", " + _pack([b for _, b in outs]))
    return w.header(lines)


def adjoint_code(trace, name=None, return_all=False, fold=None):
    """The reverse-mode (adjoint) program of a trace, as Python source.

    Args:
        trace: a ``Trace`` (explore mode).
        name: the function's name (default ``<function>_adjoint``).
        return_all: return a dict of every v_i and v̄_i instead of outputs and input adjoints.
        fold: ``(head, tail)``: write only the first and last statements of each sweep, with a
            comment for the rest (for displays of long traces; the result then does not run).

    Returns:
        str: a module defining ``def f_adjoint(x1, x2, f1_bar, f2_bar)`` (a single scalar output
        gets the default seed ``f_bar=1.0``) that runs the primal sweep, then the adjoint sweep in
        decreasing index order, and returns ``(outputs, input adjoints)`` — single values for one
        output / one input, tuples otherwise. Nodes without a path to an output get no adjoint.
    """
    from .sweep import children_map, _ancestors_of_outputs
    w = _Writer(trace)
    fname = name or w.function_name("adjoint")
    ins = w.params
    n_out = len(trace.outputs)
    seeds = [f"f{k + 1}_bar" if n_out > 1 else "f_bar" for k in range(n_out)]
    seed_params = [s for s, o in zip(seeds, trace.outputs) if o >= 0]
    if n_out == 1 and trace.outputs[0] >= 0 and not _shape(trace.nodes[trace.outputs[0]].ans):
        seed_params = ["f_bar=1.0"]
    lines = [f"def {fname}({', '.join(ins + seed_params)}):",
             f'    """Adjoint program of {_safe_doc(trace.function_name)}: the primal sweep, then '
             f"v\u0304_i = \u03a3_(j in ch(i)) v\u0304_j \u2202v_j/\u2202v_i (eq. 8.69)",
             "    from the outputs back.",
             "",
             "    Takes the inputs and one seed v\u0304 per output; returns the outputs and the adjoints",
             '    of the inputs (\u0233\u1d40 J)."""',
             "    # primal sweep: every v_i is kept for the reverse sweep"]
    for j, i in enumerate(trace.inputs):
        lines.append(f"    v{i + 1} = {ins[j]}")
    ops = _fold([n for n in trace.nodes if n.prim is not None], fold, "operation")
    lines += _lines_by_source(w, lambda n: [f"v{n.index + 1} = {w.primal(n)}"], ops)

    reached = set(_ancestors_of_outputs(trace))
    children = children_map(trace)
    seed_of = {}
    for k, o in enumerate(trace.outputs):
        if o >= 0:
            seed_of.setdefault(o, []).append(seeds[k])
    lines.append("    # reverse sweep, from the outputs back: v\u0304_i = \u03a3_(j in ch(i)) "
                 "v\u0304_j \u2202v_j/\u2202v_i")
    for i in _fold(sorted(reached, reverse=True), fold, "adjoint"):
        if isinstance(i, _Gap):
            lines.append(i.line())
            continue
        node = trace.nodes[i]
        terms = list(seed_of.get(i, []))
        # the sweep adds contributions child by child from the highest index down
        for j in sorted(children[i], reverse=True):
            if j not in reached:
                continue
            child = trace.nodes[j]
            for k, p in enumerate(child.parents):
                if p == i:
                    terms.append(w.adjoint_term(child, k, f"v{j + 1}_bar"))
        if len(terms) == 2:
            terms.reverse()      # a + b == b + a exactly; the book lists children upwards
        expr = _sum(terms) if terms else _zero(_shape(node.ans))
        if node.loc:
            where = f"  # v{i + 1}: line {node.loc[1]}"
        else:
            where = f"  # input {ins[trace.inputs.index(i)]}" if node.prim is None else ""
        lines.append(f"    v{i + 1}_bar = {expr}{where}")
    if return_all:
        lines.append("    return {k: val for k, val in locals().items() if k.startswith('v')}")
    else:
        outs = [f"v{o + 1}" if o >= 0 else w.const(v)
                for o, v in zip(trace.outputs, trace.output_values)]
        grads = [f"v{i + 1}_bar" if i in reached else _zero(_shape(trace.nodes[i].ans))
                 for i in trace.inputs]
        lines.append("    return " + _pack(outs) + ", " + _pack(grads))
    return w.header(lines)


def _sum(terms):
    """``a + b + c`` left to right, as the sweeps add; ``a + -b`` is written ``a - b`` (the same
    IEEE operation)."""
    out = terms[0]
    for t in terms[1:]:
        out += f" - {t[1:]}" if t.startswith("-") and not t.startswith("-(") else f" + {t}"
    return out


def _pack(items):
    if len(items) == 1:
        return items[0]
    return "(" + ", ".join(items) + ")"


def _safe_doc(name):
    """A function name for a docstring (no quotes or backslashes that would end it)."""
    return re.sub(r"[\"'\\]", "", str(name or "f"))


def compile_code(code, name=None):
    """Execute generated source and return the function it defines.

    Args:
        code: source from ``tangent_code`` or ``adjoint_code``.
        name: the function to return (default: the first ``def`` in the code).

    Returns:
        the function.
    """
    if name is None:
        m = re.search(r"^def (\w+)\(", code, re.M)
        if m is None:
            raise ValueError("no function definition in the code")
        name = m.group(1)
    namespace = {}
    exec(compile(code, f"<adnb generated {name}>", "exec"), namespace)   # noqa: S102
    return namespace[name]
