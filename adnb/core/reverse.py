"""Reverse mode: the adjoint sweep over a recorded trace (Bishop & Bishop eq. 8.69).

    v̄_i = Σ_{j ∈ ch(i)} v̄_j ∂v_j/∂v_i

The sweep walks the nodes backwards. Each node hands its adjoint v̄_j to its parents, one
contribution per edge, and a parent *adds* contributions from all its children (fan-out: in
eq. 8.74 v̄3 = v̄5 v5 + v̄6 collects two). Overwriting instead of adding is the classic bug.

The loop is iterative, so a 100,000-operation trace or a 400-deep user recursion is fine.
"""
from __future__ import annotations

import sys
import warnings
from math import isfinite

import numpy as np

from ..errors import MissingRuleError, NonDifferentiablePointWarning
from . import cost as _cost
from .tracer import Tracer, shape_of


def unbroadcast(g, shape):
    """Sum g over the dimensions that broadcasting added to reach it from ``shape``."""
    from . import primitives as P
    gs = shape_of(g)
    if gs == shape:
        return g
    extra = len(gs) - len(shape)
    axes = tuple(range(extra)) + tuple(i + extra for i, n in enumerate(shape)
                                       if n == 1 and gs[i + extra] != 1)
    if axes:
        g = P.sum_(g, axes=axes, keepdims=True)
    if shape_of(g) != shape:
        g = P.reshape(g, shape)
    return g


def _f64(x):
    return np.float64(x) if type(x) is float else x


def call_as_numpy(rule, *args, **params):
    """Re-run a rule with numpy scalars: Python floats raise ZeroDivisionError where numpy
    gives inf/nan (which the sweeps then report)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return rule(*[_f64(a) for a in args], **params)


def nonfinite(c):
    """True if c has an inf or nan (tracers are not inspected)."""
    t = type(c)
    if t is float:
        return c - c != 0
    if t is np.ndarray:
        # a sum of finite numbers is finite (but for overflow: then check exactly)
        return not isfinite(np.add.reduce(c, axis=None)) and not np.isfinite(c).all()
    if t is np.float64:
        return not isfinite(c)
    if t is _cost.CountTracer:
        return nonfinite(c.primal)
    if isinstance(c, Tracer):       # (first: isinstance is slow for a type it is not)
        return False
    if isinstance(c, (np.floating, np.ndarray)):
        return not np.isfinite(c).all()
    return False


def fix_nonfinite(c, seed, node, prim, mode, ans=None):
    """Zero seed times an infinite partial counts as zero (the unselected branch of a
    ``where`` must not poison the result); any inf/nan left where the value itself is finite
    or infinite (sqrt or log at 0: a point without a derivative) is reported with its origin.
    Where the value is already nan (sqrt(-1)), numpy has warned about it and nothing is added."""
    from . import primitives as P
    seed = _cost.unwrap_count(seed)
    if isinstance(seed, Tracer) or isinstance(_cost.unwrap_count(c), Tracer):
        return c
    zero = np.equal(seed, 0)
    if np.any(zero):
        c = P.where_(zero, 0.0, c) if np.ndim(c) or np.ndim(zero) else 0.0
    if not nonfinite(c):
        return c
    ans = _cost.unwrap_count(ans)
    if ans is not None and not isinstance(ans, Tracer):
        bad = ~np.isfinite(np.asarray(c, dtype=float))
        has_value = ~np.isnan(np.asarray(ans, dtype=float))   # sqrt(-1): nan already
        if np.ndim(has_value) <= bad.ndim and not np.any(bad & np.broadcast_to(has_value, bad.shape)):
            return c
    warnings.warn(f"the derivative of {prim.name}{_where(node)} is infinite or undefined "
                  f"({mode} mode), so the result contains inf/nan: sqrt, log, 1/x and x**p with "
                  "p < 1 have no derivative at 0.", NonDifferentiablePointWarning,
                  stacklevel=_user_stacklevel())
    return c


def _user_stacklevel():
    """The warnings stacklevel that points at the user's code, past adnb's and numpy's frames."""
    from .trace import is_machinery
    f, level = sys._getframe(2), 2
    while f is not None and is_machinery(f.f_code.co_filename):
        f, level = f.f_back, level + 1
    return level


def _where(node):
    """' at v5 'a1' (line 3)' for a trace node; the user's source line otherwise."""
    if node is not None:
        name = f" '{node.name}'" if node.name else ""
        loc = f" (line {node.loc[1]})" if node.loc else ""
        return f" at {node.label}{name}{loc}"
    from .trace import _user_frame
    frame = _user_frame(2)
    return f" (line {frame.f_lineno} of {frame.f_code.co_filename})" if frame else ""


def contribution(prim, k, g, ans, args, params):
    """v̄_j ∂v_j/∂v_k: what node j (= prim(*args), with adjoint g) hands to its argument k,
    from the primitive's local partial or its adjoint rule; None for "nothing"."""
    if prim.vjp is None:
        raise MissingRuleError(f"reverse-mode (adjoint) rule for '{prim.name}' is not "
                               "defined; see adnb/core/primitives/")
    if prim.variadic:
        return prim.vjp[0](g, ans, *args, argnum=k, **params)
    rule = prim.vjp[k]
    if rule is None:
        return None
    try:
        return rule(g, ans, *args, **params)
    except ZeroDivisionError:
        return call_as_numpy(rule, g, ans, *args, **params)


def settle(c, g, trace, i, k):
    """For elementwise operations: inf/nan handling (see ``fix_nonfinite``) and summing the
    contribution back over broadcast dimensions to argument k's shape."""
    prim, parents, args, ans = trace.rows[i][:4]
    if prim.elementwise:
        if nonfinite(c):
            c = fix_nonfinite(c, g, trace.node(i), prim, "reverse", ans)
        target = shape_of(args[k])
        if shape_of(c) != target:
            c = unbroadcast(c, target)
    return c


def adjoint_contribution(node, k, g, ans, args):
    """``contribution`` of a ``Node``, settled; used by displays to show each term."""
    c = contribution(node.prim, k, g, ans, args, node.params or {})
    if c is None or not node.prim.elementwise:
        return c
    if nonfinite(c):
        c = fix_nonfinite(c, g, node, node.prim, "reverse", node.ans)
    target = shape_of(node.args[k])
    return unbroadcast(c, target) if shape_of(c) != target else c


def backward(trace, seeds, keep_all=False):
    """Run one adjoint sweep.

    Args:
        trace: the recorded ``Trace``.
        seeds: ``{node index: v̄ seed}`` (an output's adjoint, 1.0 for a scalar f).
        keep_all: keep every node's adjoint (for displays); otherwise an adjoint is dropped as
            soon as it has been passed on, and only inputs' adjoints survive.

    Returns:
        list of adjoints by node index (None where no path leads to a seeded output).

    Array contributions are checked for inf/nan (``settle``) only when they need to be. An inf or
    nan in a contribution reaches an input's adjoint (rules pass it on), unless a selecting rule
    (where, clip, maximum) routes that entry to the branch not taken, whose derivative is exactly
    0 whatever the partials beyond it: then the result is finite and right. So a sweep whose input
    adjoints are all finite stands, and only one that ends with an inf/nan runs again with every
    contribution checked (zero seed × inf → 0, and the warning that names the operation).
    """
    start = max(seeds)
    if _cost.ACTIVE:
        return _backward_counted(trace, _seeded(trace, seeds), start, keep_all)
    if keep_all:
        return _sweep(trace, _seeded(trace, seeds), start, True, True)
    result = _sweep(trace, _seeded(trace, seeds), start, False, False)
    for i in trace.inputs:
        a = result[i]
        if a is not None and (a - a != 0 if type(a) is float else nonfinite(a)):
            return _sweep(trace, _seeded(trace, seeds), start, False, True)
    return result


def _seeded(trace, seeds):
    adj = [None] * len(trace.rows)
    for i, s in seeds.items():
        adj[i] = s if adj[i] is None else adj[i] + s
    return adj


def _sweep(trace, adj, start, keep_all, checked):
    rows = trace.rows
    local = trace.local
    for i in range(start, -1, -1):
        g = adj[i]
        if g is None:
            continue
        d = local[i]
        if d is not None and type(g) is float:     # scalar code, partials known: v̄_j ∂v_j/∂v_k
            if not keep_all:
                adj[i] = None       # passed on below, no longer needed: free it
            k = -1
            for p in rows[i][1]:
                k += 1
                if p >= 0:
                    c = g * d[k]
                    if checked and c - c != 0:     # inf/nan: report it, or zero seed × inf
                        c = settle(c, g, trace, i, k)
                    a = adj[p]
                    adj[p] = c if a is None else a + c
            continue
        prim, parents, args, ans, params, shape = rows[i]
        if prim is None:            # an input: its adjoint is a result
            continue
        if not keep_all:
            adj[i] = None
        vjp = prim.vjp
        inline = not prim.variadic and vjp is not None
        k = -1
        for p in parents:
            k += 1
            if p < 0:
                continue
            if inline:                                     # `contribution`, inlined
                try:
                    rule = vjp[k]
                    if rule is None:
                        continue
                    c = rule(g, ans, *args, **params) if params else rule(g, ans, *args)
                except ZeroDivisionError:
                    c = contribution(prim, k, g, ans, args, params)
            else:
                c = contribution(prim, k, g, ans, args, params)
                if c is None:
                    continue
            if type(c) is not float:
                if checked:
                    c = settle(c, g, trace, i, k)
                elif prim.elementwise:                     # sum over broadcast dimensions
                    target = rows[p][5]                    # (the parent's shape)
                    if (c.shape if type(c) is np.ndarray else shape_of(c)) != target:
                        c = unbroadcast(c, target)
            elif checked and c - c != 0:
                c = settle(c, g, trace, i, k)
            a = adj[p]
            adj[p] = c if a is None else a + c             # sum over children: eq. (8.69)
    return adj


def _backward_counted(trace, adj, start, keep_all):
    """The same sweep, with every operation of the rules counted (``count_cost``): the rules
    run on counting tracers, so operator arithmetic on floats is seen too."""
    _cost.add_passes(reverse=1)
    _cost.note_tape(trace.kept_bytes(), len(trace.rows))
    counter = _cost.CountTrace()
    adj = [counter.wrap(a) for a in adj]
    with _cost.phase("adjoint"):
        for i in range(start, -1, -1):
            g = adj[i]
            if g is None or trace.rows[i][0] is None:
                continue
            prim, parents, args, ans, params = trace.rows[i][:5]
            if not keep_all:
                adj[i] = None
            for k, p in enumerate(parents):
                if p < 0:
                    continue
                c = contribution(prim, k, g, counter.wrap(ans), [counter.wrap(a) for a in args],
                                 params)
                if c is None:
                    continue
                c = settle(c, g, trace, i, k)
                a = adj[p]
                adj[p] = c if a is None else a + c
    return [_cost.unwrap_count(a) for a in adj]


class ReverseResult:
    """Adjoints v̄_i of every node of an explored trace, one column per output seed.

    Attributes:
        trace: the ``Trace``.
        seeds: the output seeds (dicts ``{output node: v̄}``), one per sweep.
        adjoints: ``adjoints[s][i]`` is v̄_i for seed s (None where v_i does not reach the output).
        labels: a short label per seed ("f1", "ȳ=u", ...).
    """

    def __init__(self, trace, seeds, adjoints, labels):
        self.trace, self.seeds, self.adjoints, self.labels = trace, seeds, adjoints, labels

    @property
    def mode(self):
        return "reverse"

    def gradient(self, s=0):
        """Adjoints of the inputs for seed s: the gradient (row s of the Jacobian)."""
        return [self.adjoints[s][i] for i in self.trace.inputs]

    @property
    def passes(self):
        return len(self.seeds)

    def _repr_html_(self):
        from ..display.html import trace_table
        return trace_table(self.trace, reverse=self)

    def __repr__(self):
        return f"<adnb ReverseResult: {self.passes} reverse pass(es) over {len(self.trace)} nodes>"


def reverse_sweep(trace, seeds=None):
    """Adjoint sweeps over an explored trace, keeping every v̄_i (for tables and graphs).

    Args:
        seeds: None (one sweep per output, v̄ = 1 / ones), a list of cotangents (one per output,
            for a single sweep: the VJP uᵀJ), or a list of such lists (several sweeps).
    """
    outs = trace.outputs
    if seeds is None:   # one sweep per output that depends on the inputs, v̄_out = 1
        seeds, labels = [], []
        for k, o in enumerate(outs):
            if o < 0:
                continue
            one = np.ones(trace.nodes[o].shape) if trace.nodes[o].shape else 1.0
            seeds.append([one if j == k else None for j in range(len(outs))])
            default = f"f{k + 1}" if len(outs) > 1 else "f"
            labels.append(trace.output_names[k] or default)
    else:
        if not isinstance(seeds[0], (list, tuple)):
            seeds = [seeds]
        labels = [f"ȳ={_short(s)}" for s in seeds]
    adjs, seed_dicts = [], []
    for s in seeds:
        d = {}
        for o, u in zip(outs, s):
            if u is not None and o >= 0:
                u = float(u) if np.ndim(u) == 0 else np.asarray(u, dtype=float)
                d[o] = u if o not in d else d[o] + u
        seed_dicts.append(d)
        adjs.append(backward(trace, d, keep_all=True) if d else [None] * len(trace.rows))
    return ReverseResult(trace, seed_dicts, adjs, labels)


def _short(s):
    try:
        return "(" + ", ".join(f"{float(np.asarray(u)):g}" if np.ndim(u) == 0 else "…" for u in s) + ")"
    except (TypeError, ValueError):
        return "…"
