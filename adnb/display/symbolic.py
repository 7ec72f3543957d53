"""Symbolic differentiation of a trace with SymPy, and the expression swell it suffers.

Bishop & Bishop §8.2 (eqs. 8.42–8.48, Exercise 8.14): a computer-algebra derivative can be far
longer than the function, with the same sub-expressions evaluated again and again, while an
evaluation trace computes each once. Lets you measure that on the learner's own code:

* ``to_sympy(trace)`` — the trace's outputs as SymPy expressions of its inputs (scalar traces);
* ``symbolic_derivatives(trace)`` — every ∂f_k/∂x_j by ``sympy.diff``, not simplified;
* ``swell_report(trace)`` — expression size (``sympy.count_ops``) of f and of its derivatives
  against the trace length and the operations of one adjoint sweep, and the redundant
  sub-expressions ``sympy.cse`` finds;
* ``logistic_swell(n_max)`` — Exercise 8.14: L_{n+1} = 4 L_n (1 − L_n), L_1 = x, for n = 1..n_max.

SymPy is optional (``pip install adnb[symbolic]``); it is imported when a function here runs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ..errors import ADNBError

__all__ = ["to_sympy", "symbolic_derivatives", "swell_report", "SwellReport", "logistic_swell",
           "SymbolicUnavailableError"]


class SymbolicUnavailableError(ADNBError, ImportError):
    """SymPy is not installed."""


class SymbolicUnsupportedError(ADNBError, TypeError):
    """The trace has an operation or a value SymPy cannot take (arrays, indexing, ...)."""


def _sympy():
    try:
        import sympy
    except ImportError as e:        # pragma: no cover - depends on the environment
        raise SymbolicUnavailableError(
            "symbolic differentiation needs SymPy: pip install 'adnb[symbolic]' "
            "(or pip install sympy)") from e
    return sympy


def _rules(sp):
    return {
        "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
        "div": lambda a, b: a / b, "pow": lambda a, b: a ** b, "neg": lambda a: -a,
        "exp": sp.exp, "log": sp.log, "sin": sp.sin, "cos": sp.cos, "tan": sp.tan,
        "tanh": sp.tanh, "sinh": sp.sinh, "cosh": sp.cosh, "sqrt": sp.sqrt,
        "arcsin": sp.asin, "arccos": sp.acos, "arctan": sp.atan, "arctan2": sp.atan2,
        "square": lambda a: a ** 2, "reciprocal": lambda a: 1 / a,
        "log1p": lambda a: sp.log(1 + a), "expm1": lambda a: sp.exp(a) - 1,
        "abs": sp.Abs, "maximum": sp.Max, "minimum": sp.Min,
    }


def _constant(sp, c):
    """A Python/numpy constant as a SymPy number (integral floats as integers: 1.0 → 1)."""
    if np.ndim(c) != 0:
        raise SymbolicUnsupportedError("symbolic differentiation here handles scalar code only: "
                                       f"a constant of shape {np.shape(c)} was found")
    c = np.asarray(c)[()]
    if isinstance(c, (bool, np.bool_)):
        return sp.Integer(int(c))
    if isinstance(c, (int, np.integer)) or float(c).is_integer():
        return sp.Integer(int(c))
    return sp.Float(float(c))


def input_symbols(trace):
    """One SymPy symbol per input, named as in the user's code (x1, x2, w1, ...)."""
    sp = _sympy()
    syms, seen = [], set()
    for j, i in enumerate(trace.inputs):
        name = trace.nodes[i].name or f"x{j + 1}"
        if name in seen:
            name = f"{name}_{j + 1}"
        seen.add(name)
        syms.append(sp.Symbol(str(name), real=True))
    return syms


def to_sympy(trace, symbols=None):
    """The outputs of a scalar trace as SymPy expressions of its inputs.

    Args:
        trace: a ``Trace`` whose values are all scalars.
        symbols: one SymPy symbol per input (default: ``input_symbols(trace)``).

    Returns:
        list of SymPy expressions, one per output.

    Raises:
        SymbolicUnavailableError: SymPy is missing.
        SymbolicUnsupportedError: an array value or an operation without a SymPy counterpart.
    """
    sp = _sympy()
    rules = _rules(sp)
    symbols = list(symbols) if symbols is not None else input_symbols(trace)
    expr = [None] * len(trace.nodes)
    for sym, i in zip(symbols, trace.inputs):
        expr[i] = sym
    for n in trace.nodes:
        if n.prim is None:
            if np.ndim(n.ans) != 0:
                raise SymbolicUnsupportedError(
                    f"input {n.name or n.label} has shape {np.shape(n.ans)}: symbolic "
                    "differentiation here handles scalar code only")
            continue
        rule = rules.get(n.prim.name)
        if rule is None:
            raise SymbolicUnsupportedError(
                f"{n.label} = {n.formula()}: '{n.prim.name}' has no SymPy counterpart here")
        args = [expr[p] if p >= 0 else _constant(sp, a) for p, a in zip(n.parents, n.args)]
        expr[n.index] = rule(*args)
    return [expr[o] if o >= 0 else _constant(sp, v)
            for o, v in zip(trace.outputs, trace.output_values)]


def symbolic_derivatives(trace, symbols=None):
    """Every partial derivative ∂f_k/∂x_j of a scalar trace by ``sympy.diff`` (unsimplified).

    Returns:
        dict ``{(k, symbol name): expression}``.
    """
    sp = _sympy()
    symbols = list(symbols) if symbols is not None else input_symbols(trace)
    outs = to_sympy(trace, symbols)
    return {(k, str(s)): sp.diff(f, s) for k, f in enumerate(outs) for s in symbols}


@dataclass
class SwellReport:
    """Expression size of a function and of its symbolic derivatives vs. its trace.

    Attributes:
        trace_length: operations in the evaluation trace (each sub-expression once).
        adjoint_ops: operations one reverse sweep adds (``adnb.count_cost``): all the partials
            of one output for a constant multiple of the trace.
        function_ops: ``sympy.count_ops`` of the outputs (as nested expressions).
        derivative_ops: ``count_ops`` of all partial derivatives, unsimplified.
        cse_ops: ``count_ops`` of the derivatives after ``sympy.cse`` (shared parts counted once).
        n_shared: number of common sub-expressions ``sympy.cse`` pulled out (redundant work the
            plain derivative expressions repeat).
        derivatives: the expressions, ``{(output, input): expr}``.
    """
    trace_length: int
    adjoint_ops: int
    function_ops: int
    derivative_ops: int
    cse_ops: int
    n_shared: int
    derivatives: dict = field(repr=False, default_factory=dict)

    def table(self):
        return "\n".join([
            f"evaluation trace:                {self.trace_length:6d} operations",
            f"one reverse (adjoint) sweep:     {self.adjoint_ops:6d} operations",
            f"f as one expression:             {self.function_ops:6d} operations",
            f"all derivatives, symbolic:       {self.derivative_ops:6d} operations",
            f"  after common sub-expressions:  {self.cse_ops:6d} operations "
            f"({self.n_shared} shared sub-expressions)"])

    def __str__(self):              # print(report): the table, not the dataclass repr
        return self.table()

    def _repr_html_(self):
        import html
        return "<pre>" + html.escape(self.table()) + "</pre>"


def swell_report(trace, symbols=None):
    """Measure expression swell (eq. 8.48) for a scalar trace.

    Args:
        trace: a ``Trace`` of scalar code.
        symbols: SymPy symbols for the inputs (default: named after the inputs).

    Returns:
        SwellReport.
    """
    import adnb
    sp = _sympy()
    symbols = list(symbols) if symbols is not None else input_symbols(trace)
    outs = to_sympy(trace, symbols)
    ders = {(k, str(s)): sp.diff(f, s) for k, f in enumerate(outs) for s in symbols}
    exprs = list(ders.values())
    replacements, reduced = sp.cse(exprs)
    cse_ops = sum(int(sp.count_ops(e)) for _, e in replacements) + \
        sum(int(sp.count_ops(e)) for e in reduced)
    adjoint_ops = 0
    if any(o >= 0 for o in trace.outputs):
        with adnb.count_cost() as cost:
            trace.reverse()
        adjoint_ops = int(cost.ops.get("adjoint", 0))
    return SwellReport(
        trace_length=trace.n_ops, adjoint_ops=adjoint_ops,
        function_ops=sum(int(sp.count_ops(f)) for f in outs),
        derivative_ops=sum(int(sp.count_ops(e)) for e in exprs),
        cse_ops=cse_ops, n_shared=len(replacements), derivatives=ders)


def _logistic(n):
    def logistic(x):
        for _ in range(n - 1):
            x = 4 * x * (1 - x)
        return x
    logistic.__name__ = f"L{n}"
    return logistic


def logistic_swell(n_max=5, x=Fraction(3, 10)):
    """Exercise 8.14: the logistic map L_{n+1}(x) = 4 L_n (1 − L_n), L_1 = x, for n = 1..n_max.

    Args:
        n_max: largest n.
        x: the point (exact ``Fraction``; avoid 1/4, a fixed point of the map).

    Returns:
        list of dicts per n: ``n``, ``L`` and ``dL`` (exact values at x, by the AD recurrence
        L'_{n+1} = 4 L'_n (1 − 2 L_n) on fractions), ``ops_L`` and ``ops_dL`` (SymPy count_ops
        of the nested L_n and of its unsimplified derivative), ``trace_length`` (operations adnb
        records for L_n) and ``adjoint_ops`` (operations of one reverse sweep).
    """
    import adnb
    sp = _sympy()
    xs = sp.Symbol("x", real=True)
    rows = []
    L, dL = Fraction(x), Fraction(1)
    for n in range(1, n_max + 1):
        if n > 1:
            L, dL = 4 * L * (1 - L), 4 * dL * (1 - 2 * L)
        tr = adnb.trace(_logistic(n), float(x))
        expr = to_sympy(tr, [xs])[0]
        with adnb.count_cost() as cost:
            tr.reverse()
        rows.append(dict(n=n, L=L, dL=dL, ops_L=int(sp.count_ops(expr)),
                         ops_dL=int(sp.count_ops(sp.diff(expr, xs))),
                         trace_length=tr.n_ops, adjoint_ops=int(cost.ops.get("adjoint", 0))))
    return rows
