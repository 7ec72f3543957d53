"""The arithmetic behind the displays: sweep steps, per-edge contributions, inf/nan origins.

Lets a display (table, graph, widget) ask:

* ``sweep_steps(trace, mode, result)`` / ``sweep_state(...)`` — what a forward or reverse sweep
  has done at step k: rows done, the row in progress, rows pending. Forward mode seeds the inputs
  at step 0 and then computes one node per step in index order; reverse mode processes the nodes
  its seeds reach in decreasing index order, starting from the outputs (a node's adjoint is final
  once every child has been processed, which decreasing order guarantees).
* ``tangent_terms(trace, tangents, i)`` — the terms of eq. (8.57) for node i, one per argument:
  v̇_i = Σ_{j∈pa(i)} ∂v_i/∂v_j v̇_j, each with its local partial and its number.
* ``adjoint_terms(trace, reverse, s, i)`` — the terms of eq. (8.69), one per edge into a child:
  v̄_i = Σ_{j∈ch(i)} v̄_j ∂v_j/∂v_i (plus the seed if i is a seeded output).
* ``find_nonfinite(trace, forward, reverse)`` — for the values, each tangent column and each
  adjoint column: the first row (in sweep order) that turns inf/nan, the operation that caused it
  and, for every later inf/nan row, the row its inf/nan came from.

Contributions are computed with the core's own rules (``adnb.core.forward.tangent_contribution``
and ``adnb.core.reverse.adjoint_contribution``), so the displayed terms add up to the sweep's
numbers.
"""
from __future__ import annotations

import warnings
import weakref
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from ._format import is_nonfinite, nonfinite_kind, short
from ._rules import formula, partial_text

__all__ = ["sweep_steps", "sweep_state", "SweepState", "Term", "tangent_terms", "adjoint_terms",
           "partial_adjoint", "children_map", "find_nonfinite", "Nonfinite"]

_CHILDREN = weakref.WeakKeyDictionary()


def children_map(trace):
    """ch(i) for every node at once (``trace.children(i)`` scans the whole trace per call).

    Returns:
        list: ``children[i]`` = sorted unique indices of the nodes that use node i.
    """
    cached = _CHILDREN.get(trace)
    if cached is not None and cached[0] == len(trace.nodes):
        return cached[1]
    ch = [[] for _ in trace.nodes]
    for n in trace.nodes:
        seen = set()
        for p in n.parents:
            if p >= 0 and p not in seen:
                seen.add(p)
                ch[p].append(n.index)
    _CHILDREN[trace] = (len(trace.nodes), ch)
    return ch


def _ancestors_of_outputs(trace):
    """Nodes with a path to some output: the ones a reverse sweep can reach."""
    reach = [False] * len(trace.nodes)
    for o in trace.outputs:
        if o >= 0:
            reach[o] = True
    for n in reversed(trace.nodes):
        if reach[n.index]:
            for p in n.parents:
                if p >= 0:
                    reach[p] = True
    return [i for i, r in enumerate(reach) if r]


def sweep_steps(trace, mode, result=None):
    """The order a sweep visits the nodes in, as one tuple of node indices per step.

    Args:
        trace: the ``Trace``.
        mode: ``"forward"`` or ``"reverse"``.
        result: the ``ReverseResult`` (reverse mode: only nodes some seed reaches are visited);
            without it every node with a path to an output counts as reached.

    Returns:
        list of tuples: forward ``[(inputs...), (first op,), (second op,), ...]``; reverse
        ``[(highest reached node,), ..., (lowest,)]``.
    """
    if mode == "forward":
        ins = tuple(trace.inputs)
        return ([ins] if ins else []) + [(n.index,) for n in trace.nodes if n.prim is not None]
    if mode == "reverse":
        if result is not None:
            reached = set()
            for adj in result.adjoints:
                reached.update(i for i, a in enumerate(adj) if a is not None)
            for seed in result.seeds:
                reached.update(seed)
        else:
            reached = set(_ancestors_of_outputs(trace))
        return [(i,) for i in sorted(reached, reverse=True)]
    raise ValueError(f"mode must be 'forward' or 'reverse', not {mode!r}")


@dataclass
class SweepState:
    """Where a sweep stands at one step.

    Attributes:
        mode: ``"forward"`` or ``"reverse"``.
        step: the step shown (clipped to ``0..n_steps``; ``n_steps`` means finished).
        n_steps: number of steps of the whole sweep.
        done: nodes whose tangent/adjoint is computed and (reverse) already passed on.
        current: nodes being processed at this step (forward: computed now from their parents;
            reverse: final adjoint, being passed to the parents now).
        pending: nodes the sweep has not reached yet.
        order: the full visiting order (``sweep_steps``).
    """
    mode: str
    step: int
    n_steps: int
    done: frozenset
    current: tuple
    pending: frozenset
    order: list = field(repr=False, default_factory=list)

    def status(self, i):
        """``"done"``, ``"current"``, ``"pending"`` or ``"idle"`` (not visited by this sweep)."""
        if i in self.done:
            return "done"
        if i in self.current:
            return "current"
        if i in self.pending:
            return "pending"
        return "idle"

    @property
    def finished(self):
        return self.step >= self.n_steps


def sweep_state(trace, mode, step, result=None):
    """The state of a sweep at step ``step`` (see ``sweep_steps`` for the order).

    Args:
        trace: the ``Trace``.
        mode: ``"forward"`` or ``"reverse"``.
        step: 0-based step; values past the end show the finished sweep.
        result: the sweep result (reverse mode uses it to know which nodes are reached).

    Returns:
        SweepState.
    """
    order = sweep_steps(trace, mode, result)
    if step is None:
        step = len(order)
    step = int(step)
    if step < 0:
        raise ValueError(f"step must be >= 0, not {step}")
    step = min(step, len(order))
    done = frozenset(i for s in order[:step] for i in s)
    current = tuple(order[step]) if step < len(order) else ()
    pending = frozenset(i for s in order[step + 1:] for i in s)
    return SweepState(mode, step, len(order), done, current, pending, order)


@dataclass
class Term:
    """One term of the sum (8.57) or (8.69).

    Attributes:
        other: the parent (tangent terms) or the child (adjoint terms) node index; -1 for the seed
            of an output's adjoint.
        argnum: which argument of the child the edge enters.
        value: the contribution (∂v_i/∂v_j v̇_j or v̄_j ∂v_j/∂v_i), or None if the rule gives none.
        partial: the local partial ∂v_child/∂v_parent as a number (elementwise primitives), or None.
        error: a message if the rule could not be evaluated.
    """
    other: int
    argnum: int
    value: object = None
    partial: object = None
    error: str | None = None


def resolve_sweep(trace, forward=None, reverse=None, step=None, mode=None):
    """The (mode, forward, reverse, state) a drawing of the sweep at ``step`` needs.

    ``mode`` defaults to the one result given (None with both and no step: show v̇ and v̄);
    the result of the stepped mode is computed when missing; ``state`` is ``sweep_state`` at
    ``step`` (None without a step)."""
    if mode is None:
        mode = "forward" if forward is not None else ("reverse" if reverse is not None else None)
        if forward is not None and reverse is not None and step is None:
            mode = None                       # both results, no sweep: show v̇ and v̄
    if step is not None and mode not in ("forward", "reverse"):
        raise ValueError("step needs mode='forward' or mode='reverse'")
    if mode == "forward" and forward is None and step is not None:
        forward = trace.forward()
    if mode == "reverse" and reverse is None and step is not None:
        reverse = trace.reverse()
    state = None
    if step is not None:
        state = sweep_state(trace, mode, step, forward if mode == "forward" else reverse)
    return mode, forward, reverse, state


@contextmanager
def quiet():
    """Silence the core's inf/nan warnings and numpy's: displays report them in their own way."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            yield


def local_partial(node, k):
    """The number ∂v/∂(argument k) for an elementwise node, or None (non-elementwise op, or no
    partial function for that argument)."""
    prim = node.prim
    if prim is None or not prim.elementwise or not prim.partials or k >= len(prim.partials):
        return None
    f = prim.partials[k]
    if f is None:
        return None
    with quiet():
        try:
            return f(node.ans, *node.args)
        except Exception:       # noqa: BLE001 -- e.g. 1/x at x = 0.0 on Python floats
            return float("inf")


def tangent_terms(trace, tangents, i):
    """The terms of v̇_i = Σ_{j∈pa(i)} ∂v_i/∂v_j v̇_j (eq. 8.57), one per argument with a
    reached parent, in argument order (the order the forward sweep adds them).

    Args:
        trace: the ``Trace``.
        tangents: v̇ of every node for one seed (``ForwardResult.tangents[s]``).
        i: node index.

    Returns:
        list of ``Term`` (empty for inputs and for nodes no seeded input reaches).
    """
    from ..core.forward import tangent_contribution
    node = trace.nodes[i]
    terms = []
    if node.prim is None:
        return terms
    with quiet():
        for k, p in enumerate(node.parents):
            if p < 0 or tangents[p] is None:
                continue
            term = Term(p, k, partial=local_partial(node, k))
            try:
                term.value = tangent_contribution(node.prim, k, tangents[p], node.ans, node.args,
                                                  node.params or {}, None, node)
            except Exception as e:     # noqa: BLE001 -- shown in the expansion, not raised
                term.error = f"{type(e).__name__}: {e}"
            terms.append(term)
    return terms


def adjoint_terms(trace, reverse, s, i, only_children=None):
    """The terms of v̄_i = Σ_{j∈ch(i)} v̄_j ∂v_j/∂v_i (eq. 8.69) for seed column s: the seed (if
    node i is a seeded output) and one term per edge into a child, children in increasing index
    order (the book's order; the sweep adds them from the highest child down).

    Args:
        trace: the ``Trace``.
        reverse: the ``ReverseResult``.
        s: seed column.
        i: node index.
        only_children: if given, a set of child indices to include (the children processed so
            far, for a sweep shown mid-way).

    Returns:
        list of ``Term``; the seed term has ``other = -1``.
    """
    from ..core.reverse import adjoint_contribution
    adj = reverse.adjoints[s]
    terms = []
    seed = reverse.seeds[s].get(i) if s < len(reverse.seeds) else None
    if seed is not None:
        terms.append(Term(-1, -1, value=seed))
    with quiet():
        for j in children_map(trace)[i]:
            if adj[j] is None or (only_children is not None and j not in only_children):
                continue
            child = trace.nodes[j]
            for k, p in enumerate(child.parents):
                if p != i:
                    continue
                term = Term(j, k, partial=local_partial(child, k))
                try:
                    term.value = adjoint_contribution(child, k, adj[j], child.ans, child.args)
                except Exception as e:     # noqa: BLE001 -- shown in the expansion, not raised
                    term.error = f"{type(e).__name__}: {e}"
                terms.append(term)
    return terms


def sum_terms(terms):
    """Add up the values of terms (None when there are none)."""
    total = None
    with quiet():
        for t in terms:
            if t.value is None:
                continue
            total = t.value if total is None else total + t.value
    return total


def partial_adjoint(trace, reverse, s, i, done):
    """What the adjoint accumulator of node i holds once the nodes in ``done`` have been
    processed: its seed plus the contributions of the processed children.

    Returns:
        (value or None, number of children processed, number of children in the sweep).
    """
    adj = reverse.adjoints[s]
    reached_children = [j for j in children_map(trace)[i] if adj[j] is not None]
    terms = adjoint_terms(trace, reverse, s, i, only_children=done)
    n_done = sum(1 for j in reached_children if j in done)
    return sum_terms(terms), n_done, len(reached_children)


# ---- inf / nan ------------------------------------------------------------------------------

@dataclass
class Nonfinite:
    """Where inf/nan first appears in one column of the table, and where it spreads.

    Attributes:
        quantity: ``"value"``, ``"tangent"`` or ``"adjoint"``.
        seed: seed column (tangent/adjoint), None for values.
        label: the column's label ("ẋ=e1", "f1", "" for values).
        first: index of the first row, in sweep order, that turns inf/nan.
        cause: a sentence naming the operation that produced it.
        origin: ``{row: row its inf/nan came from}`` for every inf/nan row of the column (the
            first row maps to itself).
    """
    quantity: str
    seed: int | None
    label: str
    first: int
    cause: str
    origin: dict


def _value_cause(trace, i, names):
    node = trace.nodes[i]
    kind = nonfinite_kind(node.ans)
    if node.prim is None:
        return f"input {names[i]} is {kind}"
    args = []
    for p, a in zip(node.parents, node.args):
        if p >= 0:
            args.append(f"{names[p]} = {short(a)}")
    at = (" at " + ", ".join(args)) if args else ""
    return f"{names[i]} = {formula(node, names)} gives {kind}{at}"


def _edge_cause(trace, child, k, parent, names, quantity, partial):
    node = trace.nodes[child]
    ptext = partial_text(node, k, names)
    what = f"∂{names[child]}/∂{names[parent]}"
    if ptext is not None:
        what += f" = {ptext}"
    if partial is not None and is_nonfinite(partial):
        val = f" = {nonfinite_kind(partial)}"
    else:
        val = " is not finite"
    return (f"{quantity} rule of {names[child]} = {formula(node, names)}: {what}{val} "
            f"at {names[parent]} = {short(trace.nodes[parent].ans)} "
            f"({node.prim.name} has no finite derivative there)")


def _all_finite(values):
    """True if no value (numbers, arrays, None) holds inf or nan: one vectorised check for the
    common case, so that only a column with some inf/nan is searched node by node."""
    floats = [v for v in values if type(v) is float]
    arrays = [v for v in values if type(v) is np.ndarray]
    try:
        if floats and not np.isfinite(np.array(floats)).all():
            return False
        if arrays and not np.isfinite(np.concatenate(arrays, axis=None)).all():
            return False
    except TypeError:               # object or string arrays: ask node by node
        return False
    if len(floats) + len(arrays) == len(values):
        return True
    return not any(is_nonfinite(v) for v in values
                   if type(v) is not float and type(v) is not np.ndarray)


def find_nonfinite(trace, forward=None, reverse=None, names=None):
    """Find where inf/nan first appears in the values, each tangent column and each adjoint
    column, and trace every later inf/nan back to that origin.

    Args:
        trace: the ``Trace`` (explore mode, so values are kept).
        forward: optional ``ForwardResult``.
        reverse: optional ``ReverseResult``.
        names: display names per node (default v1, v2, ...).

    Returns:
        list of ``Nonfinite`` (empty if everything is finite).
    """
    nodes = trace.nodes
    names = names or [n.label for n in nodes]
    found = []
    if not _all_finite([n.ans for n in nodes]):
        found += _value_origins(trace, names)
    for s, tan in enumerate(forward.tangents if forward is not None else ()):
        if not _all_finite(tan):
            found += _tangent_origins(trace, forward, s, names)
    for s, adj in enumerate(reverse.adjoints if reverse is not None else ()):
        if not _all_finite(adj):
            found += _adjoint_origins(trace, reverse, s, names)
    return found


def _value_origins(trace, names):
    """Values, in index order: inf/nan flows from parents to children."""
    origin = {}
    for n in trace.nodes:
        if not is_nonfinite(n.ans):
            continue
        src = next((origin[p] for p in n.parents if p >= 0 and p in origin), n.index)
        origin[n.index] = src
    if not origin:
        return []
    first = min(origin)
    return [Nonfinite("value", None, "", first, _value_cause(trace, first, names), origin)]


def _tangent_origins(trace, forward, s, names):
    tan = forward.tangents[s]
    origin, first, cause = {}, None, ""
    for n in trace.nodes:
        if not is_nonfinite(tan[n.index]):
            continue
        src = next((origin[p] for p in n.parents if p >= 0 and p in origin), None)
        if src is None:
            src = n.index
            if first is None:
                first = n.index
                cause = _tangent_cause(trace, tan, n.index, names)
        origin[n.index] = src
    if not origin:
        return []
    return [Nonfinite("tangent", s, forward.labels[s], first, cause, origin)]


def _adjoint_origins(trace, reverse, s, names):
    adj = reverse.adjoints[s]
    ch = children_map(trace)
    origin, first, cause = {}, None, ""
    for i in range(len(trace.nodes) - 1, -1, -1):
        if not is_nonfinite(adj[i]):
            continue
        src = next((origin[j] for j in ch[i] if j in origin), None)
        if src is None:
            src = i
            if first is None:
                first = i
                cause = _adjoint_cause(trace, reverse, s, i, names)
        origin[i] = src
    if not origin:
        return []
    return [Nonfinite("adjoint", s, reverse.labels[s], first, cause, origin)]


def _tangent_cause(trace, tan, i, names):
    node = trace.nodes[i]
    if node.prim is None:
        return f"the seed of {names[i]} is {nonfinite_kind(tan[i])}"
    if is_nonfinite(node.ans):
        return (f"the value {names[i]} is already {nonfinite_kind(node.ans)}, so its tangent "
                f"rule has nothing finite to work with")
    for term in tangent_terms(trace, tan, i):
        if term.value is not None and is_nonfinite(term.value):
            return _edge_cause(trace, i, term.argnum, term.other, names, "tangent", term.partial)
    return f"the tangent rule of {names[i]} = {formula(node, names)} gives inf/nan"


def _adjoint_cause(trace, reverse, s, i, names):
    seed = reverse.seeds[s].get(i)
    if seed is not None and is_nonfinite(seed):
        return f"the seed v̄ of {names[i]} is {nonfinite_kind(seed)}"
    for term in adjoint_terms(trace, reverse, s, i):
        if term.other >= 0 and term.value is not None and is_nonfinite(term.value):
            if is_nonfinite(trace.nodes[term.other].ans):
                return (f"the value {names[term.other]} is {nonfinite_kind(trace.nodes[term.other].ans)}"
                        f", so the adjoint rule of {names[term.other]} gives inf/nan")
            return _edge_cause(trace, term.other, term.argnum, i, names, "adjoint", term.partial)
    return f"the adjoint of {names[i]} is inf/nan"
