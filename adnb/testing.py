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


# ---- compare: check a learner's own reverse mode against adnb -----------------------------------

_SHOWN = 12                 # entries listed in a report
_PARENT_ATTRS = ("parents", "_prev", "_parents", "prev", "_children", "children")
_VALUE_ATTRS = ("data", "value", "val", "primal")


def _is_student_node(x):
    """A learner's graph node: it has ``.grad`` and its parents under a micrograd-like name."""
    return hasattr(x, "grad") and any(hasattr(x, a) for a in _PARENT_ATTRS)


def _student_parents(node):
    for a in _PARENT_ATTRS:
        if hasattr(node, a):
            ps = getattr(node, a)
            return list(ps() if callable(ps) else ps)
    return []


def _student_value(node):
    for a in _VALUE_ATTRS:
        if hasattr(node, a):
            return getattr(node, a)
    return None


def _student_graph(out):
    """Every node reachable from ``out`` through its parents, parents before children."""
    order, seen, stack = [], set(), [(out, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((p, False) for p in reversed(_student_parents(node)) if id(p) not in seen)
    return order


def _key(v):
    """A value rounded for matching a learner's node to a trace node (same arithmetic, up to
    rounding in the last digits)."""
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return float(f"{v:.9g}")


def _match_nodes(trace, student_nodes):
    """Pair trace nodes with the learner's nodes of the same value whose parents have the same
    values (in trace order, each learner node used once). Returns {trace index: learner node}."""
    by_signature = {}
    for s in student_nodes:
        parents = _student_parents(s)
        sig = (_key(_student_value(s)), tuple(sorted({_key(_student_value(p)) for p in parents})),
               not parents)
        by_signature.setdefault(sig, []).append(s)
    matched = {}
    for node in trace.nodes:
        if np.ndim(node.ans) != 0:
            return {}               # the learner's scalar graph cannot mirror an array trace
        sig = (_key(node.ans), tuple(sorted({_key(a) for a in node.args})), node.prim is None)
        candidates = by_signature.get(sig)
        if candidates:
            matched[node.index] = candidates.pop(0)
    return matched


class Difference:
    """One entry of the gradient where the learner's number differs from adnb's."""
    __slots__ = ("argument", "index", "student", "expected")

    def __init__(self, argument, index, student, expected):
        self.argument, self.index, self.student, self.expected = argument, index, student, expected

    @property
    def abs_error(self):
        return abs(self.student - self.expected)

    @property
    def rel_error(self):
        return self.abs_error / abs(self.expected) if self.expected != 0 else float("inf")

    def __str__(self):
        where = self.argument + (str(list(self.index)) if self.index else "")
        return (f"∂f/∂{where}: yours {self.student!r}, adnb {self.expected!r} "
                f"(off by {self.abs_error:.3g}, relative {self.rel_error:.3g})")

    __repr__ = __str__


class Comparison:
    """What ``compare`` found: truthy when every entry agrees.

    Attributes:
        ok: True if every gradient entry agrees within the tolerance.
        differences: list of ``Difference`` (entries that disagree), ``problems``: other
            disagreements (shapes, number of gradients).
        first_wrong: when the learner's nodes expose their adjoints, the ``Verdict`` (see
            ``adnb.display.predict``) of the first variable in reverse-sweep order whose
            adjoint is wrong — where the error starts — with its rule, its numbers and the
            classic mistake it matches; None otherwise.
        matched: how many trace variables were paired with the learner's nodes.
        trace: adnb's trace of f; ``expected``: adnb's gradient, one entry per argument.
    """

    def __init__(self, trace, expected, differences, problems, first_wrong, matched):
        self.trace, self.expected = trace, expected
        self.differences, self.problems = differences, problems
        self.first_wrong, self.matched = first_wrong, matched

    @property
    def ok(self):
        return not self.differences and not self.problems and self.first_wrong is None

    def __bool__(self):
        return self.ok

    def __str__(self):
        if self.ok:
            extra = f"; {self.matched} of {len(self.trace.nodes)} adjoints checked too" \
                if self.matched else ""
            return f"✓ your gradient agrees with adnb's{extra}."
        lines = ["✗ your gradient differs from adnb's:"]
        lines += [f"  {p}" for p in self.problems]
        lines += [f"  {d}" for d in self.differences[:_SHOWN]]
        if len(self.differences) > _SHOWN:
            lines.append(f"  … and {len(self.differences) - _SHOWN} more entries")
        if self.first_wrong is not None:
            v = self.first_wrong
            lines.append(f"  First wrong variable (reverse-sweep order): {v.question.symbol} "
                         f"— yours {v.answer!r}, should be {v.question.expected!r}")
            lines.append(f"    {v.question.explanation()}")
            lines += [f"    Classic mistake — {m.text}" for m in v.mistakes]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self):
        import html
        colour = "#1a7f37" if self.ok else "#b00020"
        return (f'<pre class="adnb-compare" style="color:{colour}">{html.escape(str(self))}'
                "</pre>")

    def assert_ok(self):
        """Raise AssertionError with the report unless everything agrees."""
        if not self.ok:
            raise AssertionError(str(self))
        return True


def _as_gradients(result, trace, n_args):
    """The learner's gradient, one entry per argument, and their graph's nodes if exposed."""
    if _is_student_node(result):
        nodes = _student_graph(result)
        matched = _match_nodes(trace, nodes)
        grads = [getattr(matched[i], "grad") if i in matched else None for i in trace.inputs]
        return grads, matched
    if n_args == 1 and not isinstance(result, (tuple, list)):
        result = (result,)
    grads = [getattr(g, "grad") if hasattr(g, "grad") and not isinstance(g, np.ndarray) else g
             for g in result]
    return grads, {}


def _entry_differences(name, student, expected, rtol, atol):
    s = np.asarray(student, dtype=float)
    e = np.asarray(expected, dtype=float)
    if s.shape != e.shape:
        return [], [f"∂f/∂{name}: your gradient has shape {s.shape}, the argument {e.shape}"]
    bad = ~np.isclose(s, e, rtol=rtol, atol=atol)
    if not e.ndim:
        return ([Difference(name, (), float(s), float(e))] if bad else []), []
    return [Difference(name, tuple(int(k) for k in idx), float(s[idx]), float(e[idx]))
            for idx in zip(*np.nonzero(bad))], []


def _first_wrong(trace, reverse, matched, rtol, atol):
    """The first matched variable, in reverse-sweep order, whose learner adjoint is wrong."""
    from .display.predict import check, questions
    for q in questions(trace, "reverse", reverse=reverse):
        node = matched.get(q.index)
        if node is None:
            continue
        value = getattr(node, "grad")
        if value is None or not np.isclose(float(value), float(q.expected), rtol=rtol, atol=atol):
            return check(q, 0.0 if value is None else float(value))
    return None


def compare(student_grad, f, *args, rtol=1e-6, atol=1e-9):
    """Check a learner's own gradient code against adnb's reverse mode.

    Args:
        student_grad: called as ``student_grad(*args)``; returns either the gradient (a number or
            array for one argument, a tuple/list with one entry per argument; entries may be the
            learner's input nodes, whose ``.grad`` is read), or the learner's *output node* after
            its backward pass — an object with ``.grad``, its value in ``.data`` (or ``.value``)
            and its parents in ``.parents`` (or micrograd's ``._prev``). Then every node's
            adjoint is checked too: nodes are paired with the trace's variables by their value
            and their parents' values, inputs by their values (give the inputs values no
            constant has).
        f: the same function written for adnb (numbers and numpy arrays, scalar output).
        *args: the point.
        rtol, atol: tolerance per entry (``numpy.isclose``).

    Returns:
        ``Comparison``: truthy if everything agrees; ``print`` it for the report — which entries
        differ and by how much, and the first variable of the trace whose adjoint is wrong with
        the rule and the classic mistake (e.g. an overwritten adjoint) it matches.
    """
    from .core.api import trace as record
    from .errors import ADNBError
    t = record(f, *args)
    if len(t.outputs) != 1 or np.size(t.output_values[0]) != 1:
        raise ADNBError("compare checks the gradient of a function with one scalar output; for "
                        "several outputs compare each: compare(g, lambda *a: f(*a)[k], *args)")
    reverse = t.reverse()
    expected = [np.zeros(np.shape(a)) if reverse.adjoints[0][i] is None else reverse.adjoints[0][i]
                for i, a in zip(t.inputs, args)]
    grads, matched = _as_gradients(student_grad(*args), t, len(args))
    if len(grads) != len(args):
        raise ADNBError(f"student_grad returned {len(grads)} gradients for {len(args)} "
                        "arguments: return one per argument, in the order of f's parameters")
    differences, problems = [], []
    for i, g, e in zip(t.inputs, grads, expected):
        name = t.nodes[i].name or t.nodes[i].label
        if g is None:
            problems.append(f"∂f/∂{name}: none of your nodes holds this input's value "
                            f"{t.nodes[i].ans!r}")
            continue
        d, p = _entry_differences(name, g, e, rtol, atol)
        differences += d
        problems += p
    first = _first_wrong(t, reverse, matched, rtol, atol) if matched else None
    return Comparison(t, expected, differences, problems, first, len(matched))
