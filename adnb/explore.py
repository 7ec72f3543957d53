"""Explore one computation: its evaluation trace, forward and reverse sweeps, and Jacobian.

What this module lets you do (Bishop & Bishop 2024, §8.2):

* ``adnb.explore(f, 1.0, 2.0)`` records f once at these arguments and returns an
  ``Exploration``: the trace (Wengert list), the tangents v̇_i of the forward sweeps, the adjoints
  v̄_i of the reverse sweeps, the Jacobian and what it cost. It displays itself as the book's
  table and graph.
* ``adnb.explore_cell(code, {"x1": 1.0, "x2": 2.0}, namespace=globals())`` does the same for a
  block of code: the code runs exactly once with the inputs traced; afterwards the namespace holds
  plain numbers/arrays for the inputs and for every variable the code assigned, and nothing else
  in it has changed. This is the plain Python call behind the ``%%autodiff`` cell magic.
* ``exploration.widget()`` returns the interactive ``TraceExplorer`` (needs ipywidgets).

Seeds. A forward pass is seeded with an input direction ẋ, a reverse pass with an output adjoint
ȳ. With the default seeds every *scalar* input gets its own pass (ẋ = e_j: one Jacobian column,
eq. 8.66) and every scalar output its own reverse pass (ȳ = e_k: one Jacobian row). Arrays count
element by element: an input ``x`` of shape (3,) stands for three scalar inputs ``x[0]``..``x[2]``.
A seed can also name inputs/outputs (``"x1"``, ``"x[1]"``, ``["x1", "x2"]``) or be a custom vector
r with one entry per scalar input (one pass giving J r, eq. 8.67) or u per scalar output (uᵀJ).
"""
from __future__ import annotations

import ast
import html
import inspect
import itertools
import linecache
import re
from dataclasses import dataclass

import numpy as np

from .core.api import as_input, tree_flatten
from .core.trace import Trace
from .core.tracer import Tracer, unwrap
from .errors import ADNBError

__all__ = ["explore", "explore_cell", "Exploration", "Seed", "ExploreUsageError", "SHOW_PARTS"]

SHOW_PARTS = ("table", "graph", "code", "cost")
SHOWN_SEEDS = 6             # tangent/adjoint columns in static views
DEFAULT_SHOW = ("table", "graph")
MODES = ("forward", "reverse", "both")
_cell_counter = itertools.count(1)


class ExploreUsageError(ADNBError, ValueError):
    """A bad argument to ``explore``/``explore_cell`` (mode, seed, outputs, show).

    The ``%%autodiff`` magic turns it into a one-line ``UsageError``."""


# ---- flattening inputs and outputs into the Jacobian's columns and rows ----------------------


def _element_labels(name, shape):
    if not shape:
        return [name]
    return [f"{name}[{','.join(map(str, idx))}]" for idx in np.ndindex(*shape)]


class _Layout:
    """Several scalars/arrays seen as one flat vector: the D columns or K rows of the Jacobian."""

    def __init__(self, names, shapes):
        self.names = list(names)
        self.shapes = [tuple(s) for s in shapes]
        self.sizes = [int(np.prod(s)) if s else 1 for s in self.shapes]
        self.offsets = [0] + list(itertools.accumulate(self.sizes))
        self.size = self.offsets[-1]
        self.labels = [lab for n, s in zip(self.names, self.shapes) for lab in _element_labels(n, s)]

    def part_of(self, j):
        """(part index, flat index inside the part) of flat element j."""
        for k in range(len(self.sizes)):
            if j < self.offsets[k + 1]:
                return k, j - self.offsets[k]
        raise IndexError(j)

    def unit(self, j):
        """e_j as one value per part: None for the parts it does not touch."""
        k, e = self.part_of(j)
        parts = [None] * len(self.sizes)
        if self.shapes[k]:
            a = np.zeros(self.sizes[k])
            a[e] = 1.0
            parts[k] = a.reshape(self.shapes[k])
        else:
            parts[k] = 1.0
        return parts

    def split(self, vec):
        """A flat vector as one value per part (floats for scalar parts)."""
        vec = np.asarray(vec, dtype=float).reshape(-1)
        out = []
        for k, s in enumerate(self.shapes):
            piece = vec[self.offsets[k]:self.offsets[k + 1]]
            out.append(float(piece[0]) if not s else piece.reshape(s).copy())
        return out

    def flatten(self, values):
        """One value per part (None = zero) as a flat vector."""
        out = np.zeros(self.size)
        for k, v in enumerate(values):
            if v is not None:
                out[self.offsets[k]:self.offsets[k + 1]] = np.asarray(v, dtype=float).reshape(-1)
        return out

    def select(self, spec):
        """Flat indices named by ``spec``: a part name (all its elements) or an element label."""
        if spec in self.labels:
            return [self.labels.index(spec)]
        if spec in self.names:
            k = self.names.index(spec)
            return list(range(self.offsets[k], self.offsets[k + 1]))
        return None


@dataclass(frozen=True, eq=False)
class Seed:
    """One pass's seed: ẋ for a forward pass, ȳ for a reverse pass.

    Attributes:
        label: e.g. ``"ẋ = e1 (x1)"``, ``"ȳ = e1 (y)"`` or ``"ẋ = r"``.
        parts: the seed value per input (forward) or output (reverse) node; None = zero.
        unit: j for the unit seed e_j (its pass gives one Jacobian column/row), None for a custom
            vector.
        vector: the seed as a flat vector of length D (forward) or K (reverse).
    """
    label: str
    parts: tuple
    unit: int | None
    vector: tuple

    @property
    def key(self):
        return ("unit", self.unit) if self.unit is not None else ("custom", self.vector)


# ---- recording ---------------------------------------------------------------------------------


def _as_cell_input(name, value):
    if isinstance(value, (list, tuple)):
        value = np.asarray(value, dtype=float)
    return as_input(value, f"input '{name}'")


def _plain(v):
    """v with every traced value replaced by its plain number/array (tuples/lists/dicts too)."""
    if isinstance(v, Tracer):
        return unwrap(v)
    t = type(v)
    if t in (tuple, list):
        if any(isinstance(x, (Tracer, tuple, list, dict)) for x in v):
            return t(_plain(x) for x in v)
    elif t is dict:
        if any(isinstance(x, (Tracer, tuple, list, dict)) for x in v.values()):
            return {k: _plain(x) for k, x in v.items()}
    return v


def _record(call, names, values, function_name):
    """Run ``call(traced_values)`` once with each value traced as an input.

    ``call`` returns (outputs, output names); the result is the finished explore-mode Trace.
    """
    __tracebackhide__ = True
    tr = Trace(explore=True)
    tr.function_name = function_name
    boxed = [tr.new_input(v, n) for n, v in zip(names, values)]
    outs, out_names = call(boxed)
    return tr.finish(outs, out_names)


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


def _cell_outputs(code, outputs, inputs, namespace):
    """The output names: given, or those of the last assignment in the code."""
    tree = ast.parse(code)
    col = _BindingCollector()
    col.visit(tree)
    if outputs is None:
        if not col.assignments:
            raise ExploreUsageError(
                "the code assigns no variable, so there is no output to differentiate; assign "
                "the result (y = ...) or name the outputs (--out NAMES / outputs=[...])")
        return list(dict.fromkeys(col.assignments[-1]))
    if isinstance(outputs, str):
        outputs = [o.strip() for o in outputs.split(",") if o.strip()]
    outputs = list(outputs)
    if not outputs:
        raise ExploreUsageError("outputs: name at least one variable")
    for o in outputs:
        if not o.isidentifier():
            raise ExploreUsageError(f"output {o!r} is not a variable name")
        if o not in col.bound and o not in inputs and o not in namespace:
            raise ExploreUsageError(
                f"output {o!r} is not assigned by the code (it assigns: "
                f"{', '.join(sorted(col.bound)) or 'nothing'})")
    return outputs


class _CellRunner:
    """Runs a compiled block of code with traced inputs and collects its outputs."""

    def __init__(self, code_obj, input_names, outputs):
        self.code_obj, self.input_names, self.outputs = code_obj, list(input_names), outputs

    def run(self, traced, namespace):
        """Exec the code in ``namespace`` (in place) with the inputs bound to ``traced``.

        Whatever happens, afterwards every name the code (re)bound, the inputs included, holds a
        plain value again, and names it did not touch are as they were.
        """
        __tracebackhide__ = True
        before = dict(namespace)            # a shallow snapshot: which names the code rebinds
        try:
            namespace.update(zip(self.input_names, traced))
            exec(self.code_obj, namespace)
            missing = [o for o in self.outputs if o not in namespace]
            if missing:
                raise NameError(f"output {missing[0]!r} was not assigned when the code ran")
            outs = [namespace[o] for o in self.outputs]
        finally:
            for k in list(namespace):
                if k not in before or namespace[k] is not before[k]:
                    namespace[k] = _plain(namespace[k])
        flat, names = [], []
        for o, v in zip(self.outputs, outs):
            if isinstance(v, (list, tuple)):
                leaves, _ = tree_flatten(v)
                flat += leaves
                names += [f"{o}[{i}]" for i in range(len(leaves))]
            else:
                flat.append(v)
                names.append(o)
        return flat, names


# ---- the public API ----------------------------------------------------------------------------


def explore(f, *args, mode="both", tangent_seed=None, output_seed=None, show=DEFAULT_SHOW,
            interactive=False, location_names=None, predict=False, **kwargs):
    """Record ``f(*args, **kwargs)`` once and explore its forward and reverse sweeps.

    Each numeric argument becomes an input v1, v2, … named after f's parameters (a tuple/list
    argument gives one input per entry); every elementary operation becomes a node.

    Args:
        f: a function of floats and numpy arrays written with numpy.
        *args, **kwargs: the point at which to evaluate f.
        mode: ``"forward"``, ``"reverse"`` or ``"both"``: which sweeps to show.
        tangent_seed: seeds of the forward passes: None (one pass per scalar input, ẋ = e_j),
            an input name or list of names (``"x1"``, ``"x[0]"``), or a vector r with one entry
            per scalar input (one pass: J r, eq. 8.67).
        output_seed: seeds of the reverse passes: None (one pass per scalar output, ȳ = e_k), an
            output name or list of names, or a vector u with one entry per scalar output (one
            pass: uᵀJ).
        show: parts of the display: any of ``"table"``, ``"graph"``, ``"code"``, ``"cost"``.
        interactive: when displayed, show the live ``TraceExplorer`` widget (with the static
            table and graph as the fallback for viewers without a widget frontend).
        location_names: ``{filename: name}``: how tables name source files (IPython compiles
            each cell under a temporary file name; the magic maps those to ``In[n]``).
        predict: start in predict mode (``adnb.widgets.learn``): each value of the sweep is
            asked before it is revealed; without a widget the blanks print as an exercise with
            the answers collapsed.

    Returns:
        Exploration

    Example:
        >>> e = adnb.explore(lambda x1, x2: x1 * x2 + np.exp(x1 * x2) - np.sin(x2), 1.0, 2.0)
        >>> e.jacobian          # array([[16.77811220, 8.80520294]])
    """
    __tracebackhide__ = True
    opts = _check_options(mode, show)
    try:
        bound = inspect.signature(f).bind(*args, **kwargs)
        names = list(bound.arguments)
        kinds = {n: p.kind for n, p in inspect.signature(f).parameters.items()}
    except (TypeError, ValueError):
        names = [f"x{i + 1}" for i in range(len(args))] + list(kwargs)
        kinds = {}
    given = list(args) + list(kwargs.values())
    if any(kinds.get(n) in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
           for n in names):
        names = [f"x{i + 1}" for i in range(len(args))] + list(kwargs)
    n_pos = len(args)
    kw_names = list(kwargs)
    structure = []          # per argument: (number of leaves, unflatten)
    leaf_names, leaf_values = [], []
    for name, val in zip(names, given):
        leaves, unflatten = tree_flatten(val)
        if len(leaves) == 1 and not isinstance(val, (tuple, list, dict)):
            leaf_names.append(name)
        else:
            leaf_names += [f"{name}[{i}]" for i in range(len(leaves))]
        leaf_values += [as_input(x, f"argument '{name}'") for x in leaves]
        structure.append((len(leaves), unflatten))
    fname = getattr(f, "__name__", "f")

    def rebuild(values):
        out, i = [], 0
        for n, unflatten in structure:
            out.append(unflatten(list(values[i:i + n])))
            i += n
        return out[:n_pos], dict(zip(kw_names, out[n_pos:]))

    def call(boxed):
        __tracebackhide__ = True
        a, kw = rebuild(boxed)
        out = f(*a, **kw)
        outs, _ = tree_flatten(out)
        return outs, None

    def retrace(values):
        __tracebackhide__ = True
        return _rename_locations(_record(call, leaf_names, values, fname), location_names)

    tr = retrace(leaf_values)
    return Exploration(tr, mode=mode, tangent_seed=tangent_seed, output_seed=output_seed,
                       show=opts, interactive=interactive, retrace=retrace, predict=predict)


def explore_cell(code, inputs, outputs=None, namespace=None, mode="both", tangent_seed=None,
                 output_seed=None, show=DEFAULT_SHOW, interactive=False, filename=None,
                 cell_name=None, location_names=None, predict=False):
    """Run a block of code exactly once with the inputs traced, and explore its derivatives.

    This is what ``%%autodiff`` does: ``%%autodiff x1=1.0 x2=2.0`` over a cell is
    ``display(adnb.explore_cell(cell, {"x1": 1.0, "x2": 2.0}, namespace=globals(),
    interactive=True))``.

    The code runs in ``namespace`` itself (so functions it defines see its globals). The inputs
    are bound to traced values while it runs; afterwards every input and every variable the code
    assigned holds a plain number or array, and no other name in the namespace has changed, even
    when the code raises.

    Args:
        code: Python source (numpy code, as in a notebook cell).
        inputs: ``{name: value}``: the differentiation inputs (floats, ints, arrays or lists of
            numbers), in order.
        outputs: the output variable names (a list or a comma-separated string); default: the
            variable(s) of the last assignment in the code.
        namespace: the dict the code runs in; default: a new dict holding ``np`` (numpy).
        mode, tangent_seed, output_seed, show, interactive, predict: as for ``explore``.
        filename: the name the code is compiled under, for tracebacks; by default a fresh
            ``<autodiff-cell-N>`` whose source is registered with ``linecache``.
        cell_name: the name the trace's table gives the code's lines (``In[3]:2``); default
            ``filename``. (IPython compiles cells under temporary file names; this keeps
            them out of displays.)
        location_names: ``{filename: name}`` for other source files (functions the code calls
            that were defined in other notebook cells), as for ``explore``.

    Returns:
        Exploration

    Raises:
        ExploreUsageError: bad mode/show/outputs/inputs (before the code runs) or a seed that
            does not fit the inputs/outputs.
        SyntaxError: the code does not compile (before it runs).
        Exception: whatever the code raises, with its own traceback.
    """
    __tracebackhide__ = True
    opts = _check_options(mode, show)
    if namespace is None:
        namespace = {"np": np}
    if not isinstance(inputs, dict):
        raise ExploreUsageError("inputs must be a dict {name: value}")
    if not inputs:
        raise ExploreUsageError("name at least one input to differentiate with respect to "
                                "(e.g. x1=1.0 x2=2.0)")
    for name in inputs:
        if not (isinstance(name, str) and name.isidentifier()):
            raise ExploreUsageError(f"input name {name!r} is not a variable name")
    values = [_as_cell_input(n, v) for n, v in inputs.items()]
    if filename is None:
        filename = f"<autodiff-cell-{next(_cell_counter)}>"
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    code_obj = compile(code, filename, "exec")
    if cell_name is not None and cell_name != filename:
        linecache.cache[cell_name] = (len(code), None, code.splitlines(True), cell_name)
    outs = _cell_outputs(code, outputs, inputs, namespace)
    where = dict(location_names or {})
    if cell_name is not None:
        where[filename] = cell_name
    runner = _CellRunner(code_obj, inputs, outs)
    names = list(inputs)

    def retrace(vals, ns=None):
        # re-runs (widget sliders) happen in a copy: the user's namespace stays as it is
        __tracebackhide__ = True
        ns = dict(namespace) if ns is None else ns

        def call(boxed):
            __tracebackhide__ = True
            return runner.run(boxed, ns)
        return _rename_locations(_record(call, names, vals, cell_name or "cell"), where)

    tr = retrace(values, namespace)
    return Exploration(tr, mode=mode, tangent_seed=tangent_seed, output_seed=output_seed,
                       show=opts, interactive=interactive, retrace=retrace, source=code,
                       predict=predict)


def _rename_locations(tr, names):
    """Name source files as ``names`` says ({filename: "In[3]"}) in the nodes and events."""
    if names:
        def renamed(loc):
            new = names[loc[0]]
            if new not in linecache.cache and loc[0] in linecache.cache:
                linecache.cache[new] = linecache.cache[loc[0]]    # keep the source lines
            return (new,) + tuple(loc[1:])
        for i, loc in list(tr.locs.items()):          # nodes' locations live in tr.locs
            if loc and loc[0] in names:
                tr.locs[i] = renamed(loc)
        for event in tr.events:
            if event.loc and event.loc[0] in names:
                event.loc = renamed(event.loc)
        tr._nodes_cache = None
    return tr


def _check_options(mode, show):
    if mode not in MODES:
        raise ExploreUsageError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
    if isinstance(show, str):
        show = [s.strip() for s in show.split(",") if s.strip()]
    show = tuple(show)
    bad = [s for s in show if s not in SHOW_PARTS]
    if bad:
        raise ExploreUsageError(f"show: unknown part {bad[0]!r}; choose from "
                                f"{', '.join(SHOW_PARTS)}")
    return show


# ---- the result object ---------------------------------------------------------------------------


class Exploration:
    """One recorded trace with its forward and reverse sweeps, Jacobian and cost.

    Attributes:
        trace: the ``Trace`` (Wengert list).
        mode: ``"forward"``, ``"reverse"`` or ``"both"`` (what the display shows first).
        show: the parts of the display (``"table"``, ``"graph"``, ``"code"``, ``"cost"``).
        interactive: displaying shows the ``TraceExplorer`` widget too.
        inputs: ``{name: value}`` of the inputs (plain values).
        outputs: ``{name: value}`` of the outputs (plain values).
        source: the code of an explored cell (None for a function).
    """

    def __init__(self, trace, mode="both", tangent_seed=None, output_seed=None,
                 show=DEFAULT_SHOW, interactive=False, retrace=None, source=None, predict=False):
        self.trace = trace
        self.predict = bool(predict)
        self.mode = mode
        self.show = _check_options(mode, show)
        self.interactive = interactive
        self.source = source
        self._retrace = retrace
        self._seed_specs = (tangent_seed, output_seed)
        nodes = trace.nodes
        self.input_layout = _Layout([nodes[i].name or f"x{k + 1}" for k, i in enumerate(trace.inputs)],
                                    [nodes[i].shape for i in trace.inputs])
        K = len(trace.outputs)
        onames = [n or (f"f{k + 1}" if K > 1 else "f") for k, n in enumerate(trace.output_names)]
        self.output_layout = _Layout(onames, [np.shape(v) for v in trace.output_values])
        self.inputs = {n: nodes[i].ans for n, i in zip(self.input_layout.names, trace.inputs)}
        self.outputs = dict(zip(onames, trace.output_values))
        self._sweeps = {}
        self._forward = self._reverse = self._jacobian = self._cost = None
        self.forward_seeds = self._resolve("forward", tangent_seed)
        self.reverse_seeds = self._resolve("reverse", output_seed)
        self._widget = None

    # -- seeds -----------------------------------------------------------------------------
    def unit_seed(self, mode, j):
        """The seed e_j of forward (ẋ) or reverse (ȳ) mode: one Jacobian column/row."""
        lay = self.input_layout if mode == "forward" else self.output_layout
        sym = "ẋ" if mode == "forward" else "ȳ"
        vec = np.zeros(lay.size)
        vec[j] = 1.0
        return Seed(f"{sym} = e{j + 1} ({lay.labels[j]})", tuple(lay.unit(j)), j, tuple(vec))

    def custom_seed(self, mode, vector):
        """A seed from a flat vector: r (forward, J r) or u (reverse, uᵀJ)."""
        lay = self.input_layout if mode == "forward" else self.output_layout
        what = "scalar input" if mode == "forward" else "scalar output"
        try:
            vec = np.asarray(vector, dtype=float).reshape(-1)
        except (TypeError, ValueError):
            raise ExploreUsageError(f"a custom {mode} seed must be numbers, got {vector!r}") from None
        if vec.size != lay.size:
            raise ExploreUsageError(
                f"a custom {mode} seed needs {lay.size} number(s), one per {what} "
                f"({', '.join(lay.labels)}); got {vec.size}")
        sym, letter = ("ẋ", "r") if mode == "forward" else ("ȳ", "u")
        label = f"{sym} = {letter} = (" + ", ".join(f"{v:g}" for v in vec) + ")"
        return Seed(label, tuple(lay.split(vec)), None, tuple(float(v) for v in vec))

    def _resolve(self, mode, spec):
        lay = self.input_layout if mode == "forward" else self.output_layout
        what = "input" if mode == "forward" else "output"
        if spec is None or (isinstance(spec, str) and spec == "all"):
            return [self.unit_seed(mode, j) for j in range(lay.size)]
        if isinstance(spec, str):
            spec = [s.strip() for s in re.split(r",(?![^\[]*\])", spec) if s.strip()]
        if isinstance(spec, (list, tuple)) and spec and all(isinstance(s, str) for s in spec):
            if all(_is_number(s) for s in spec):
                return [self.custom_seed(mode, [float(s) for s in spec])]
            idx = []
            for s in spec:
                sel = lay.select(s)
                if sel is None:
                    raise ExploreUsageError(
                        f"{mode} seed {s!r} is not an {what}; {what}s: {', '.join(lay.labels)}")
                idx += sel
            return [self.unit_seed(mode, j) for j in dict.fromkeys(idx)]
        if isinstance(spec, dict):
            vec = np.zeros(lay.size)
            for k, v in spec.items():
                if k not in lay.names:
                    raise ExploreUsageError(f"{mode} seed for {k!r}: not an {what}; "
                                            f"{what}s: {', '.join(lay.names)}")
                p = lay.names.index(k)
                vec[lay.offsets[p]:lay.offsets[p + 1]] = np.broadcast_to(
                    np.asarray(v, dtype=float), lay.shapes[p]).reshape(-1)
            return [self.custom_seed(mode, vec)]
        return [self.custom_seed(mode, spec)]

    def seeds(self, mode):
        return self.forward_seeds if mode == "forward" else self.reverse_seeds

    # -- sweeps ------------------------------------------------------------------------------
    def sweep(self, mode, seed):
        """One pass (cached): a ForwardResult or ReverseResult with a single seed."""
        key = (mode,) + seed.key
        res = self._sweeps.get(key)
        if res is None:
            parts = list(seed.parts)
            if mode == "forward":
                res = _forward_one(self.trace, parts)
            else:
                res = self.trace.reverse(seeds=[parts])
            res.labels = [seed.label]
            self._sweeps[key] = res
        return res

    @property
    def forward(self):
        """ForwardResult: one forward pass per tangent seed (default: one per scalar input)."""
        if self._forward is None:
            from .core.forward import ForwardResult
            rs = [self.sweep("forward", s) for s in self.forward_seeds]
            self._forward = ForwardResult(self.trace, [r.seeds[0] for r in rs],
                                          [r.tangents[0] for r in rs], [s.label for s in self.forward_seeds])
        return self._forward

    @property
    def reverse(self):
        """ReverseResult: one reverse pass per output seed (default: one per scalar output)."""
        if self._reverse is None:
            from .core.reverse import ReverseResult
            rs = [self.sweep("reverse", s) for s in self.reverse_seeds]
            self._reverse = ReverseResult(self.trace, [r.seeds[0] for r in rs],
                                          [r.adjoints[0] for r in rs], [s.label for s in self.reverse_seeds])
        return self._reverse

    def jacobian_column(self, j):
        """Column j of J (∂y/∂x_j): the output tangents of the forward pass ẋ = e_j."""
        res = self.sweep("forward", self.unit_seed("forward", j))
        tan = res.tangents[0]
        return self.output_layout.flatten([tan[o] if o >= 0 else None for o in self.trace.outputs])

    def jacobian_row(self, k):
        """Row k of J (∇y_k): the input adjoints of the reverse pass ȳ = e_k."""
        res = self.sweep("reverse", self.unit_seed("reverse", k))
        adj = res.adjoints[0]
        return self.input_layout.flatten([adj[i] for i in self.trace.inputs])

    def output_tangent(self, seed):
        """J ẋ for a forward seed, as a flat vector."""
        tan = self.sweep("forward", seed).tangents[0]
        return self.output_layout.flatten([tan[o] if o >= 0 else None for o in self.trace.outputs])

    def input_adjoint(self, seed):
        """ȳᵀJ for a reverse seed, as a flat vector."""
        adj = self.sweep("reverse", seed).adjoints[0]
        return self.input_layout.flatten([adj[i] for i in self.trace.inputs])

    @property
    def shape(self):
        """(K, D): scalar outputs × scalar inputs."""
        return (self.output_layout.size, self.input_layout.size)

    @property
    def jacobian(self):
        """The K×D Jacobian (flattened inputs and outputs), by D forward passes or K reverse
        passes, whichever is fewer (forward passes if ``mode == "forward"``)."""
        if self._jacobian is None:
            K, D = self.shape
            if self.mode == "forward" or (self.mode == "both" and D <= K):
                cols = [self.jacobian_column(j) for j in range(D)]
                self._jacobian = np.stack(cols, axis=1) if cols else np.zeros((K, 0))
            else:
                rows = [self.jacobian_row(k) for k in range(K)]
                self._jacobian = np.stack(rows, axis=0) if rows else np.zeros((0, D))
        return self._jacobian

    @property
    def passes(self):
        """Passes to get the whole Jacobian: ``{"forward": D, "reverse": K}`` (§8.2.1, §8.2.2)."""
        return {"forward": self.input_layout.size, "reverse": self.output_layout.size}

    @property
    def cost(self):
        """CostSummary: operations of the primal trace and of one forward / reverse pass."""
        if self._cost is None:
            self._cost = CostSummary.of(self)
        return self._cost

    # -- re-evaluation ---------------------------------------------------------------------------
    def at(self, *values, **by_name):
        """A new Exploration of the same code at other input values (re-traced: control flow
        may take another path). Code cells re-run in a copy of their namespace.

        Args:
            *values: all input values in order, or none.
            **by_name: input values by name (override ``values``).
        """
        __tracebackhide__ = True
        if self._retrace is None:
            raise ADNBError("this Exploration was built from a trace; it cannot be re-evaluated")
        vals = list(values) if values else list(self.inputs.values())
        if len(vals) != len(self.inputs):
            raise ExploreUsageError(f"at(): {len(self.inputs)} input value(s) expected, got {len(vals)}")
        names = list(self.inputs)
        for k, v in by_name.items():
            if k not in names:
                raise ExploreUsageError(f"at(): {k!r} is not an input; inputs: {', '.join(names)}")
            vals[names.index(k)] = v
        vals = [_as_cell_input(n, v) for n, v in zip(names, vals)]
        tr = self._retrace(vals)
        t_spec, o_spec = self._seed_specs
        return Exploration(tr, mode=self.mode, tangent_seed=t_spec, output_seed=o_spec,
                           show=self.show, interactive=self.interactive, retrace=self._retrace,
                           source=self.source, predict=self.predict)

    # -- display -------------------------------------------------------------------------------
    def widget(self, **kwargs):
        """The interactive ``TraceExplorer`` for this exploration (one per exploration)."""
        if self._widget is None or kwargs:
            from .widgets.explorer import TraceExplorer
            w = TraceExplorer(self, **{"predict": self.predict, **kwargs})
            if kwargs:
                return w
            self._widget = w
        return self._widget

    def title(self):
        tr = self.trace
        ins = ", ".join(f"{n} = {_fmt(v)}" for n, v in self.inputs.items())
        outs = ", ".join(f"{n} = {_fmt(v)}" for n, v in self.outputs.items())
        what = tr.function_name or ("cell" if self.source is not None else "f")
        K, D = self.shape
        return (f"{what}: {ins} → {outs} · {tr.n_ops} operations · J is {K}×{D}: "
                f"{D} forward pass{'es' if D != 1 else ''} or {K} reverse pass{'es' if K != 1 else ''}")

    def __repr__(self):
        K, D = self.shape
        return (f"<adnb Exploration: {len(self.inputs)} input(s), {self.trace.n_ops} operations, "
                f"{len(self.outputs)} output(s); J is {K}×{D}>")

    def _shown_results(self):
        """Forward/reverse results of the first ``SHOWN_SEEDS`` seeds of the modes shown (a
        static view of a 1000-input trace should not run 1000 sweeps)."""
        out = []
        for mode in ("forward", "reverse"):
            if self.mode not in (mode, "both"):
                out.append(None)
                continue
            seeds = self.seeds(mode)
            if len(seeds) <= SHOWN_SEEDS:
                out.append(self.forward if mode == "forward" else self.reverse)
                continue
            rs = [self.sweep(mode, s) for s in seeds[:SHOWN_SEEDS]]
            if mode == "forward":
                from .core.forward import ForwardResult as R
                vals = [r.tangents[0] for r in rs]
            else:
                from .core.reverse import ReverseResult as R
                vals = [r.adjoints[0] for r in rs]
            out.append(R(self.trace, [r.seeds[0] for r in rs], vals,
                         [s.label for s in seeds[:SHOWN_SEEDS]]))
        return out

    def to_text(self):
        """The trace, tangents, adjoints and Jacobian as plain text (deterministic)."""
        tr = self.trace
        cols = ["node", "formula", "name", "value"]
        rows = []
        fwd, rev = self._shown_results()
        if fwd is not None:
            cols += [f"v̇ ({lab})" for lab in fwd.labels]
        if rev is not None:
            cols += [f"v̄ ({lab})" for lab in rev.labels]
        for n in tr.nodes:
            r = [n.label, n.formula(), n.name or "", _fmt(n.ans)]
            if fwd is not None:
                r += [_fmt(t[n.index]) for t in fwd.tangents]
            if rev is not None:
                r += [_fmt(a[n.index]) for a in rev.adjoints]
            rows.append(r)
        if len(rows) > 40:      # long traces: the first and last rows
            rows = rows[:24] + [["…", f"{len(rows) - 32} rows", "", ""] + [""] * (len(cols) - 4)] \
                + rows[-8:]
        widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(cols)]
        lines = [self.title(), "  ".join(c.ljust(w) for c, w in zip(cols, widths))]
        lines += ["  ".join(x.ljust(w) for x, w in zip(r, widths)).rstrip() for r in rows]
        lines.append(_jacobian_text(self))
        return "\n".join(lines)

    def to_html(self):
        """The static view: title, table, graph (SVG), Jacobian, code and cost, per ``show``."""
        tr = self.trace
        fwd, rev = self._shown_results()
        title = html.escape(self.title())
        parts = [f'<div class="adnb-exploration"><p class="adnb-title"><b>{title}</b></p>']
        if self.predict:
            return "\n".join(parts + [self._predict_html(), "</div>"])
        if "table" in self.show:
            mode = None if self.mode == "both" else self.mode
            parts.append(render_table(tr, forward=fwd, reverse=rev, mode=mode))
        if "graph" in self.show:       # inline SVG: written directly, no matplotlib needed
            from .display.svg import graph_svg
            svg = graph_svg(tr, forward=fwd, reverse=rev,
                            mode=None if self.mode == "both" else self.mode)
            parts.append(f'<div class="adnb-graph">{svg}</div>')
        parts.append(jacobian_html(self))
        if "code" in self.show:
            parts.append(code_html(tr, self.mode))
        if "cost" in self.show:
            parts.append(self.cost.to_html())
        parts.append("</div>")
        return "\n".join(parts)

    def _predict_html(self):
        """Predict mode without widgets: the values, then the blanks of the sweep the explorer
        would ask for, as an exercise with the answers collapsed."""
        from .display.predict import exercise_html
        mode = "reverse" if self.mode == "reverse" else "forward"
        res = self.sweep(mode, self.seeds(mode)[0])
        kw = {"forward": res} if mode == "forward" else {"reverse": res}
        return render_table(self.trace, mode="primal") + exercise_html(self.trace, mode, **kw)

    def _repr_mimebundle_(self, include=None, exclude=None):
        data = {"text/plain": self.to_text(), "text/html": self.to_html()}
        if self.interactive:
            try:
                w = self.widget()
            except ImportError:        # no ipywidgets: the static view is all there is
                return data
            data.update({k: v for k, v in w._repr_mimebundle_().items() if k not in data})
        return data


def _is_number(s):
    try:
        float(s)
        return True
    except (TypeError, ValueError):
        return False


def _forward_one(trace, parts):
    return trace.forward(seeds=[parts])


def _fmt(v, precision=6):
    if v is None:
        return "·"
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if np.ndim(v) == 0:
        x = float(np.asarray(v))
        return f"{x:.{precision}g}" if x != 0 else "0"
    return np.array2string(np.asarray(v, dtype=float), precision=4, threshold=6, edgeitems=2,
                           separator=", ", suppress_small=True).replace("\n", "")


def _jacobian_text(e):
    K, D = e.shape
    if K * D > 400:
        return f"Jacobian: {K}×{D} (too large to print; see .jacobian)"
    J = e.jacobian
    li, lo = e.input_layout.labels, e.output_layout.labels
    w = max([10] + [len(x) for x in li])
    wl = max(len(x) for x in lo) if lo else 1
    head = " " * (wl + 2) + "".join(x.rjust(w + 2) for x in li)
    rows = [f"  {lo[k].ljust(wl)}" + "".join(_fmt(J[k, j]).rjust(w + 2) for j in range(D))
            for k in range(K)]
    return "\n".join([f"Jacobian ∂y/∂x ({K}×{D}): {D} forward pass(es) or {K} reverse pass(es)",
                      head] + rows)


def jacobian_html(e, filled=None, highlight=None, by="column"):
    """The Jacobian as an HTML table.

    Args:
        e: the Exploration.
        filled: which columns (``by="column"``) or rows (``by="row"``) are known; None = all.
        highlight: the column/row being filled now (drawn with a border).
        by: ``"column"`` (forward passes) or ``"row"`` (reverse passes).
    """
    K, D = e.shape
    li, lo = e.input_layout.labels, e.output_layout.labels
    if K * D > 400:
        return (f'<p class="adnb-jacobian-note">Jacobian {K}×{D}: too large to show '
                f'(see <code>.jacobian</code>)</p>')
    J = e.jacobian if filled is None else None
    filled = set(range(D if by == "column" else K)) if filled is None else set(filled)
    cells = ['<table class="adnb-jac" style="border-collapse:collapse">',
             "<tr><th></th>" + "".join(f"<th>∂/∂{html.escape(x)}</th>" for x in li) + "</tr>"]
    cols = {}
    for k in range(K):
        tds = []
        for j in range(D):
            idx = j if by == "column" else k
            style = "padding:2px 8px;text-align:right"
            if idx == highlight:
                style += ";background:#fff3c4"
            if idx in filled:
                if J is not None:
                    v = J[k, j]
                elif by == "column":
                    v = cols.setdefault(j, e.jacobian_column(j))[k]
                else:
                    v = cols.setdefault(k, e.jacobian_row(k))[j]
                tds.append(f'<td style="{style}">{_fmt(v, 5)}</td>')
            else:
                tds.append(f'<td style="{style};color:#aaa">?</td>')
        cells.append(f"<tr><th>{html.escape(lo[k])}</th>{''.join(tds)}</tr>")
    cells.append("</table>")
    return '<div class="adnb-jacobian-table">' + "".join(cells) + "</div>"


def code_html(trace, mode):
    """Generated tangent/adjoint code (adnb.display.codegen) as HTML, if available."""
    from .errors import UnsupportedOperationError
    try:
        from .display.codegen import adjoint_code, tangent_code
    except ImportError:
        return '<p class="adnb-code">(generated code needs adnb.display.codegen)</p>'
    out = []
    try:
        if mode in ("forward", "both"):
            out.append("<b>tangent code (forward mode)</b><pre>" + html.escape(tangent_code(trace)) + "</pre>")
        if mode in ("reverse", "both"):
            out.append("<b>adjoint code (reverse mode)</b><pre>" + html.escape(adjoint_code(trace)) + "</pre>")
    except UnsupportedOperationError as e:      # custom rules: no code to generate
        out = [f"<p>{html.escape(str(e))}</p>"]
    return '<div class="adnb-code">' + "".join(out) + "</div>"


# ---- cost of the explored trace -----------------------------------------------------------------


@dataclass
class CostSummary:
    """Operation counts of an explored trace (``adnb.count_cost`` over its sweeps).

    Attributes:
        primal_ops, primal_flops: the recorded evaluation (one op per trace node).
        forward, reverse: ``Cost`` of one forward pass (seed e1) and one reverse pass (seed e1).
        D, K: scalar inputs and outputs: a full Jacobian takes D forward or K reverse passes.
    """
    primal_ops: int
    primal_flops: int
    forward: object
    reverse: object
    D: int
    K: int

    @classmethod
    def of(cls, e):
        from .core.cost import count_cost
        tr = e.trace
        flops = 0
        for n in tr.nodes:
            if n.prim is None:
                continue
            fl = n.prim.flops(n.ans, *n.args, **(n.params or {})) if n.prim.flops is not None \
                else int(np.size(n.ans))
            flops += int(fl)
        K, D = e.shape
        fwd = rev = None
        if D:
            with count_cost() as fwd:       # the sweep's rules are counted too (core/forward.py)
                tr.forward(seeds=[list(e.unit_seed("forward", 0).parts)])
        if K:
            with count_cost() as rev:
                tr.reverse(seeds=[list(e.unit_seed("reverse", 0).parts)])
        return cls(tr.n_ops, flops, fwd, rev, D, K)

    def ratio(self, mode):
        """Derivative operations of one pass per primal operation (§8.2.2: at most 6)."""
        c = self.forward if mode == "forward" else self.reverse
        if c is None:
            return float("nan")
        ph = "tangent" if mode == "forward" else "adjoint"
        return c.ops[ph] / max(self.primal_ops, 1)

    def rows(self):
        rows = [("evaluation (primal)", self.primal_ops, self.primal_flops, "", "")]
        if self.forward is not None:
            rows.append(("one forward pass (tangents)", self.forward.ops["tangent"],
                         self.forward.flops["tangent"], f"{self.ratio('forward'):.2f}×",
                         f"{self.D} passes"))
        if self.reverse is not None:
            rows.append(("one reverse pass (adjoints)", self.reverse.ops["adjoint"],
                         self.reverse.flops["adjoint"], f"{self.ratio('reverse'):.2f}×",
                         f"{self.K} passes"))
        return rows

    def to_text(self):
        return "\n".join(f"{a}: {b} ops, {c} flops {d} {e}".rstrip() for a, b, c, d, e in self.rows())

    def to_html(self):
        head = ("<tr><th>sweep</th><th>ops</th><th>flops</th><th>ops per primal op (≤ 6, §8.2.2)"
                "</th><th>full Jacobian</th></tr>")
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(x))}</td>" for x in r) + "</tr>"
                       for r in self.rows())
        tape = ""
        if self.reverse is not None:
            tape = (f"<p>reverse mode keeps {self.reverse.tape_bytes} bytes of arrays for the "
                    f"backward sweep; forward mode (online) keeps none.</p>")
        return f'<div class="adnb-cost"><table class="adnb-cost-table">{head}{body}</table>{tape}</div>'


# ---- rendering through adnb.display ---------------------------------------------------------------


def render_table(trace, forward=None, reverse=None, step=None, mode=None, **kw):
    """``adnb.display.html.trace_table`` (imported on first use: it is pure but not tiny)."""
    from .display.html import trace_table
    return trace_table(trace, forward=forward, reverse=reverse, step=step, mode=mode, **kw)

