"""Cell analysis: what a block of code binds, what its output is, and running it once traced.

The plain-Python half of ``adnb.explore_cell`` (no display, no IPython):

* ``analyse_cell(code, outputs, inputs, namespace)`` — the names the code binds and its outputs:
  named ones, else the cell's last bare expression (IPython's rule for a cell's value), else the
  variables of its last assignment;
* ``CellRunner.run(traced, namespace)`` — exec the code once with the inputs traced; afterwards
  every name it bound, and every object it stored a traced value into (``hist.append(y)``,
  ``o.v = y``, a closure's cell), holds plain numbers again; ``side_effects`` says what it
  touched outside its own names;
* ``input_name(name)`` — an input name as Python reads it in code (NFKC: ``𝑥`` is ``x``);
* ``explain_error(err)`` — an adnb error that left the user's code, re-worded to lead with the
  user's line, with adnb's own frames cut from the end of the traceback.
"""
from __future__ import annotations

import ast
import gc
import types
import unicodedata
from dataclasses import dataclass, field

import numpy as np

from .core.frames import explain_error  # noqa: F401  (re-exported)
from .core.tracer import Tracer, unwrap
from .errors import ADNBError

__all__ = ["CellAnalysis", "CellRunner", "CellOutputError", "analyse_cell", "input_name",
           "plain", "explain_error", "EXPRESSION_OUTPUT"]

#: the output name of a cell's last bare expression (IPython shows it as the cell's Out)
EXPRESSION_OUTPUT = "out"
# a last line print(y) or hist.append(y) is done for its effect, not its value
_NOT_AN_OUTPUT = {"print", "display"}
_MUTATORS = {"append", "extend", "insert", "update", "add", "remove", "discard", "clear", "sort",
             "reverse", "setdefault", "write", "writelines", "set", "fill"}


class CellOutputError(ADNBError, ValueError):
    """The cell's output is not something to differentiate (a string, None, an object)."""


def input_name(name):
    """``name`` as Python reads it in source code: identifiers are NFKC-normalised, so the
    math-italic ``𝑥`` pasted from a PDF is the variable ``x``."""
    return unicodedata.normalize("NFKC", name) if isinstance(name, str) else name


def plain(v):
    """v with every traced value replaced by its plain number/array (tuples/lists/dicts too)."""
    if isinstance(v, Tracer):
        return unwrap(v)
    t = type(v)
    if t in (tuple, list):
        if any(isinstance(x, (Tracer, tuple, list, dict)) for x in v):
            return t(plain(x) for x in v)
    elif t is dict:
        if any(isinstance(x, (Tracer, tuple, list, dict)) for x in v.values()):
            return {k: plain(x) for k, x in v.items()}
    return v


# ---- what the code binds ------------------------------------------------------------------------


class _BindingCollector(ast.NodeVisitor):
    """Names a block of code binds, and the targets of its assignments in source order.

    Function and class bodies are not entered (their names are local to them); the def/class
    name itself is a binding. Comprehension variables are local to the comprehension."""

    def __init__(self):
        self.bound = set()
        self.assignments = []       # [names] per assignment statement, in source order

    @staticmethod
    def _names(target):
        if isinstance(target, ast.Name):
            return [target.id]
        if isinstance(target, (ast.Tuple, ast.List)):
            return [n for t in target.elts for n in _BindingCollector._names(t)]
        if isinstance(target, ast.Starred):
            return _BindingCollector._names(target.value)
        return []

    def _assign(self, targets):
        names = [n for t in targets for n in self._names(t)]
        self.bound.update(names)
        if names:
            self.assignments.append(names)

    def visit_Assign(self, node):
        self.generic_visit(node)
        self._assign(node.targets)

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        self._assign([node.target])

    def visit_AnnAssign(self, node):
        self.generic_visit(node)
        if node.value is not None:
            self._assign([node.target])

    def visit_NamedExpr(self, node):
        self.generic_visit(node)
        self._assign([node.target])

    def visit_For(self, node):
        self.bound.update(self._names(node.target))
        self.generic_visit(node)

    visit_AsyncFor = visit_For

    def visit_With(self, node):
        for item in node.items:
            if item.optional_vars is not None:
                self.bound.update(self._names(item.optional_vars))
        self.generic_visit(node)

    def visit_Import(self, node):
        self.bound.update((a.asname or a.name).split(".")[0] for a in node.names)

    visit_ImportFrom = visit_Import

    def visit_FunctionDef(self, node):
        self.bound.add(node.name)

    visit_AsyncFunctionDef = visit_FunctionDef
    visit_ClassDef = visit_FunctionDef

    def visit_Lambda(self, node):
        pass

    def _comprehension(self, node):
        pass

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comprehension


@dataclass
class CellAnalysis:
    """What ``analyse_cell`` found.

    Attributes:
        tree: the parsed code (``ast.Module``).
        bound: names the code binds at top level.
        outputs: the output names (``EXPRESSION_OUTPUT`` for the last bare expression).
        last_expression: the ``ast.Expr`` whose value is the output, or None.
        taken_from: how the outputs were chosen: ``"named"``, ``"expression"`` or
            ``"assignment"``.
        fallback: the last assignment's names, used when the last expression gives None (a
            call done for its effect, as IPython then shows nothing).
    """
    tree: ast.Module
    bound: set
    outputs: list
    last_expression: ast.Expr | None = None
    taken_from: str = "named"
    fallback: list = field(default_factory=list)


def _last_expression(tree, code):
    """The cell's last statement if it is a bare expression IPython would show as the value:
    not one ending in ';', not print(...)/display(...), not a method call done for its effect
    (``hist.append(y)``, ``d.update(...)``)."""
    if not tree.body or not isinstance(tree.body[-1], ast.Expr):
        return None
    stmt = tree.body[-1]
    lines = code.splitlines()
    end = lines[stmt.end_lineno - 1][stmt.end_col_offset:] if stmt.end_lineno <= len(lines) else ""
    if end.split("#")[0].strip().startswith(";"):
        return None
    call = stmt.value
    if isinstance(call, ast.Call):
        func = call.func
        if isinstance(func, ast.Name) and func.id in _NOT_AN_OUTPUT \
                or isinstance(func, ast.Attribute) and func.attr in _MUTATORS:
            return None
    return stmt


def analyse_cell(code, outputs, inputs, namespace, usage_error=ValueError):
    """Parse the code and decide its outputs.

    Args:
        code: the cell's source.
        outputs: None (the last bare expression, else the last assignment), a list of names or a
            comma-separated string.
        inputs, namespace: names that exist before the code runs (a named output may be one).
        usage_error: the exception class for a bad ``outputs`` (``ExploreUsageError``).
    """
    tree = ast.parse(code)
    col = _BindingCollector()
    col.visit(tree)
    if outputs is None:
        last = _last_expression(tree, code)
        fallback = list(dict.fromkeys(col.assignments[-1])) if col.assignments else []
        if last is not None:        # a bare name keeps its name; any other expression is "out"
            name = last.value.id if isinstance(last.value, ast.Name) else EXPRESSION_OUTPUT
            return CellAnalysis(tree, col.bound, [name], last, "expression", fallback)
        if not col.assignments:
            raise usage_error(
                "the code assigns no variable and does not end in an expression, so there is no "
                "output to differentiate; assign the result (y = ...), end the cell with it, or "
                "name the outputs (--out NAMES / outputs=[...])")
        return CellAnalysis(tree, col.bound, list(dict.fromkeys(col.assignments[-1])), None,
                            "assignment")
    if isinstance(outputs, str):
        outputs = [o.strip() for o in outputs.split(",") if o.strip()]
    outputs = [input_name(o) for o in outputs]
    if not outputs:
        raise usage_error("outputs: name at least one variable")
    for o in outputs:
        if not o.isidentifier():
            raise usage_error(f"output {o!r} is not a variable name")
        if o not in col.bound and o not in inputs and o not in namespace:
            raise usage_error(
                f"output {o!r} is not assigned by the code (it assigns: "
                f"{', '.join(sorted(col.bound)) or 'nothing'})")
    return CellAnalysis(tree, col.bound, outputs)


# ---- running the code once ----------------------------------------------------------------------


def _is_number_leaf(v):
    return isinstance(v, (Tracer, float, int, np.ndarray, np.number)) and not isinstance(
        v, (bool, np.bool_)) and (not isinstance(v, np.ndarray) or v.dtype.kind in "fiu")


def _output_leaves(name, value):
    """(leaves, leaf names) of one output: a number/array, or a tuple/list/dict of them."""
    if _is_number_leaf(value):
        return [value], [name]
    if isinstance(value, (tuple, list, dict)) and value:
        leaves, names = [], []
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for k, v in items:
            sub_l, sub_n = _output_leaves(f"{name}[{k!r}]" if isinstance(value, dict)
                                          else f"{name}[{k}]", v)
            leaves += sub_l
            names += sub_n
        return leaves, names
    what = f"output {name!r}" if name != EXPRESSION_OUTPUT else "the cell's last expression"
    kind = "None" if value is None else f"a {type(value).__name__} ({_short_repr(value)})"
    raise CellOutputError(
        f"{what} is {kind}, not a number or array, so it has no derivative. Make the cell end "
        "with the value to differentiate (y = ... or y on the last line), or name the outputs "
        "(--out NAMES / outputs=[...]); tuples, lists and dicts of numbers count as outputs.")


def _short_repr(v):
    r = repr(v)
    return r if len(r) <= 40 else r[:37] + "..."


@dataclass
class SideEffects:
    """What a run changed outside the names the code binds.

    Attributes:
        names: variables the run changed that the code does not bind (``global`` in a function).
        objects: how many existing objects (lists, dicts, attributes, closure cells) held a
            traced value after the run and were set back to plain numbers.
    """
    names: list = field(default_factory=list)
    objects: int = 0

    def __bool__(self):
        return bool(self.names or self.objects)

    def describe(self):
        parts = []
        if self.objects:
            parts.append(f"stores into {self.objects} object{'s' if self.objects != 1 else ''} "
                         "that existed before it (e.g. hist.append(y), o.v = y)")
        if self.names:
            parts.append("changes " + ", ".join(self.names[:5]) + " through a function")
        return "the cell " + " and ".join(parts)


class CellRunner:
    """Runs a parsed block of code with traced inputs and collects its outputs."""

    def __init__(self, analysis, filename, input_names):
        self.analysis = analysis
        self.filename = filename
        self.input_names = list(input_names)
        tree = analysis.tree
        last = analysis.last_expression
        body = ast.Module(body=[s for s in tree.body if s is not last], type_ignores=[])
        self.body = compile(body, filename, "exec")
        self.expression = None
        if last is not None:
            self.expression = compile(ast.Expression(last.value), filename, "eval")
        self.side_effects = SideEffects()
        self._changed = []

    def run(self, traced, namespace):
        """Exec the code in ``namespace`` (in place) with the inputs bound to ``traced``.

        Whatever happens, afterwards every name the code (re)bound, the inputs included, holds a
        plain value again and names it did not touch are as they were. Returns the output
        leaves (traced) and their names; call ``release(trace)`` once the trace is finished.
        """
        __tracebackhide__ = True
        before = dict(namespace)            # a shallow snapshot: which names the code rebinds
        value = None
        try:
            namespace.update(zip(self.input_names, traced))
            exec(self.body, namespace)
            if self.expression is not None:
                value = eval(self.expression, namespace)
            out_names, outs = self._outputs(namespace, value)
        finally:
            changed = [k for k in list(namespace)
                       if k not in before or namespace[k] is not before[k]]
            for k in changed:
                namespace[k] = plain(namespace[k])
            own = set(self.analysis.bound) | set(self.input_names)
            self._changed = [namespace[k] for k in changed]
            self.side_effects = SideEffects(
                [k for k in changed if k not in own and not k.startswith("_")], 0)
        flat, names = [], []
        for o, v in zip(out_names, outs):
            leaves, leaf_names = _output_leaves(o, v)
            flat += leaves
            names += leaf_names
        return flat, names

    def release(self, trace):
        """After ``trace`` is finished: replace its traced values left in other objects by
        their values (counted in ``side_effects.objects``)."""
        self.side_effects.objects = _scrub(trace, self._changed)
        self._changed = []

    def _outputs(self, namespace, value):
        """(names, values) of the outputs."""
        names = self.analysis.outputs
        if self.expression is not None:
            if value is not None or not self.analysis.fallback:
                return names, [value]
            names = self.analysis.fallback      # print(y), f(y): the value is None
        missing = [o for o in names if o not in namespace]
        if missing:
            raise NameError(f"output {missing[0]!r} was not assigned when the code ran")
        return names, [namespace[o] for o in names]


def _scrub(trace, own_values):
    """Replace live traced values of ``trace`` in lists, dicts (attributes too) and closure
    cells by their plain values; the number of containers outside ``own_values`` (the objects
    the code bound to its own names) that had to be changed."""
    live = [o for o in gc.get_objects() if isinstance(o, Tracer) and o.trace is trace]
    if not live:
        return 0
    ids = {id(t) for t in live}
    own = {id(v) for v in own_values}
    own |= {id(vars(v)) for v in own_values if hasattr(v, "__dict__")}
    touched = 0
    for ref in gc.get_referrers(*live):
        if ref is live:
            continue
        if _scrub_one(ref, ids) and id(ref) not in own:
            touched += 1
    return touched


def _scrub_one(ref, ids):
    if type(ref) is list:
        hit = [i for i, v in enumerate(ref) if id(v) in ids]
        for i in hit:
            ref[i] = unwrap(ref[i])
        return bool(hit)
    if type(ref) is dict:
        hit = [k for k, v in ref.items() if id(v) in ids]
        for k in hit:
            ref[k] = unwrap(ref[k])
        return bool(hit)
    if type(ref) is types.CellType:
        try:
            ref.cell_contents = unwrap(ref.cell_contents)
        except ValueError:          # an empty cell
            return False
        return True
    return _scrub_attributes(ref, ids)


def _scrub_attributes(obj, ids):
    """An object holding a traced value as an attribute (Python 3.11+ keeps instance attributes
    without a dict object until asked, so the object itself is the referrer)."""
    if isinstance(obj, (tuple, types.FrameType, Tracer)) \
            or type(obj).__module__.startswith("adnb."):
        return False
    try:
        attrs = vars(obj)
    except TypeError:               # no __dict__: slots
        attrs = {n: getattr(obj, n) for c in type(obj).__mro__
                 for n in getattr(c, "__slots__", ()) if hasattr(obj, n)}
    hit = [k for k, v in list(attrs.items()) if id(v) in ids]
    for k in hit:
        try:
            setattr(obj, k, unwrap(attrs[k]))
        except (AttributeError, TypeError):
            pass
    return bool(hit)


