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
from .frames import is_machinery, user_frame
from .primitives import where_
from .primitives.reductions import unbroadcast
from .tracer import Tracer, shape_of


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


def fix_nonfinite(c, seed, node, prim, mode, ans=None, warn=True):
    """Zero seed times an infinite partial counts as zero (the unselected branch of a
    ``where`` must not poison the result); any inf/nan left where the value itself is finite
    or infinite (sqrt or log at 0: a point without a derivative) is reported with its origin.
    Where the value is already nan (sqrt(-1)), numpy has warned about it and nothing is added."""
    seed = _cost.unwrap_count(seed)
    if isinstance(seed, Tracer) or isinstance(_cost.unwrap_count(c), Tracer):
        return c
    zero = np.equal(seed, 0)
    if np.any(zero):
        if mode == "forward" and warn:
            _zero_times_inf(c, zero, prim, node, ans)
        c = where_(zero, 0.0, c) if np.ndim(c) or np.ndim(zero) else 0.0
    if not nonfinite(c):
        return c
    ans = _cost.unwrap_count(ans)
    if ans is not None and not isinstance(ans, Tracer):
        bad = ~np.isfinite(np.asarray(c, dtype=float))
        has_value = ~np.isnan(np.asarray(ans, dtype=float))   # sqrt(-1): nan already
        try:                    # (a contribution of a broadcast argument: broadcast both)
            if not np.any(bad & has_value):
                return c
        except ValueError:      # a batched tangent against the value: shapes do not line up
            pass
    if warn:
        warnings.warn(f"the derivative of {prim.name}{_where(node)} is infinite or undefined "
                      f"({mode} mode): {_why_nonfinite(ans)}",
                      NonDifferentiablePointWarning, stacklevel=_user_stacklevel())
    return c


def _zero_times_inf(c, zero, prim, node, ans):
    """Forward mode: a zero tangent met an infinite partial where the value is finite (sqrt or
    cbrt at 0). The tangent counts as 0 -- right when the zero came from a branch np.where did
    not take, wrong when a zero partial upstream should have cancelled the inf (cbrt(x**3) at 0
    has derivative 1). adnb cannot tell which, so it says so."""
    if ans is None or isinstance(ans, Tracer):
        return
    with np.errstate(all="ignore"):
        bad = zero & ~np.isfinite(np.asarray(c, dtype=float)) & np.isfinite(np.asarray(ans, dtype=float))
    if np.any(bad):
        _warn_infinity_times_zero(prim, node, "forward")


def _warn_infinity_times_zero(prim, node, mode):
    side = ("its derivative is infinite and the tangent reaching it is 0" if mode == "forward"
            else "the adjoint reaching it is infinite and its local partial is 0")
    warnings.warn(f"{prim.name}{_where(node)}: {side} ({mode} mode). Both modes take ∞ · 0 as 0: "
                  "right for a branch np.where did not take, wrong where the chain rule should "
                  "cancel the ∞ (cbrt(x**3) at 0 has derivative 1). Check it with a central "
                  "difference.", NonDifferentiablePointWarning, stacklevel=_user_stacklevel())


_ZEROED: list = []      # marks: a quiet sweep took ∞ · 0 as 0 (backward then runs again to name it)


def _infinite_adjoint_times_zero(c, g, prim, k, ans, args, node, warn=True):
    """Reverse mode's mirror of ``_zero_times_inf``: an infinite adjoint (from sqrt at 0 further
    on) meets a local partial that is exactly 0, so ∞ · 0 counts as 0 here too, with the same
    warning, and both modes give the same number (np.std([x]), a norm of a zero list)."""
    partials = prim.partials
    if partials is None or prim.mask or partials[k] is None:
        return c
    if isinstance(g, Tracer) or isinstance(ans, Tracer) or any(isinstance(a, Tracer) for a in args):
        return c
    with np.errstate(all="ignore"):
        try:
            d = np.asarray(partials[k](ans, *args), dtype=float)
        except (TypeError, ValueError, ZeroDivisionError, ArithmeticError):
            return c
        zero = (d == 0) & np.isinf(np.asarray(g, dtype=float)) & np.isnan(np.asarray(c, dtype=float))
    if not np.any(zero):
        return c
    _ZEROED.append(1)         # (a mark only: no reference to the trace is kept)
    if warn:
        _warn_infinity_times_zero(prim, node, "reverse")
    return where_(zero, 0.0, c) if np.ndim(c) or np.ndim(zero) else 0.0


def _why_nonfinite(ans):
    """The likely cause, for the warning: an overflowed value, or a point without a derivative."""
    try:
        overflow = ans is not None and bool(np.any(np.isinf(np.asarray(ans, dtype=float))))
    except (TypeError, ValueError):
        overflow = False
    if overflow:
        return ("its value overflowed to inf, where floating point cannot follow the maths; "
                "write the expression in a stable form (np.logaddexp(0, x) for log(1 + exp(x))) "
                "or give it a rule with adnb.custom_jvp.")
    return "sqrt, log, 1/x and x**p with p < 1, p ≠ 0, have no derivative at 0."


def _user_stacklevel():
    """The warnings stacklevel that points at the user's code, past adnb's and numpy's frames."""
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
    frame = user_frame(2)
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


def settle(c, g, trace, i, k, warn=True):
    """For elementwise operations: inf/nan handling (see ``fix_nonfinite``) and summing the
    contribution back over broadcast dimensions to argument k's shape."""
    prim, parents, args, ans = trace.rows[i][:4]
    if prim.elementwise:
        if nonfinite(c):
            node = trace.node(i)
            c = _infinite_adjoint_times_zero(c, g, prim, k, ans, args, node, warn)
            c = fix_nonfinite(c, g, node, prim, "reverse", ans, warn)
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
        c = _infinite_adjoint_times_zero(c, g, node.prim, k, ans, args, node)
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

    An inf or nan in a contribution is reported (``NonDifferentiablePointWarning``, naming the
    operation) when it reaches an input's adjoint, or with ``keep_all`` (displays show every
    adjoint). One that a selecting rule (where, clip, maximum) routes to the branch not taken
    does not: that derivative is exactly 0 whatever the partials beyond it.
    """
    adj = [None] * len(trace.rows)
    for i, s in seeds.items():
        adj[i] = s if adj[i] is None else adj[i] + s
    if _cost.ACTIVE:
        return _backward_counted(trace, adj, max(seeds), keep_all)
    if keep_all:
        return sweep(trace, adj, max(seeds), True)
    _ZEROED.clear()
    result = sweep(trace, list(adj), max(seeds), False, warn=False)
    if _ZEROED or any(result[i] is not None and nonfinite(result[i]) for i in trace.inputs):
        return sweep(trace, adj, max(seeds), False)        # again, naming where it came from
    return result


def sweep(trace, adj, start, keep_all=False, wrap=None, warn=True):
    """The adjoint sweep (the reference path; ``fast.py`` installs a faster one): from node
    ``start`` down to the inputs, each node hands v̄_j ∂v_j/∂v_k to each parent k, which adds it
    up over its children (eq. 8.69)."""
    rows = trace.rows
    for i in range(start, -1, -1):
        g = adj[i]
        prim, parents, args, ans, params, shape = rows[i]
        if g is None or prim is None:       # not reached, or an input (its adjoint is a result)
            continue
        if not keep_all:
            adj[i] = None                   # passed on below, no longer needed: free it
        if wrap is not None:                # count_cost: the rules run on counting tracers
            ans, args = wrap(ans), [wrap(a) for a in args]
        for k, p in enumerate(parents):
            if p < 0:                       # a constant argument
                continue
            c = contribution(prim, k, g, ans, args, params)      # v̄_j ∂v_j/∂v_k
            if c is None:
                continue
            c = settle(c, g, trace, i, k, warn)     # inf/nan; sum over broadcast axes
            adj[p] = c if adj[p] is None else adj[p] + c         # v̄_k += ...: eq. (8.69)
    return adj


def _backward_counted(trace, adj, start, keep_all):
    """The same sweep, with every operation of the rules counted (``count_cost``): the rules
    run on counting tracers, so operator arithmetic on floats is seen too."""
    _cost.add_passes(reverse=1)
    _cost.note_tape(trace.kept_bytes(), len(trace.rows))
    counter = _cost.CountTrace()
    adj = [counter.wrap(a) for a in adj]
    with _cost.phase("adjoint"):
        sweep(trace, adj, start, keep_all, counter.wrap)
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
