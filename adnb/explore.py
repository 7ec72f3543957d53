"""Explore one computation: ``adnb.explore(f, *args)`` and ``adnb.explore_cell(code, inputs)``.

What this module lets you do (Bishop & Bishop 2024, §8.2):

* ``adnb.explore(f, 1.0, 2.0)`` records f once at these arguments and returns an
  ``Exploration``: the trace (Wengert list), the tangents v̇_i of the forward sweeps, the adjoints
  v̄_i of the reverse sweeps, the Jacobian and what it cost. It displays itself as the book's
  table and graph.
* ``adnb.explore_cell(code, {"x1": 1.0, "x2": 2.0}, namespace=globals())`` does the same for a
  block of code: the code runs exactly once with the inputs traced; afterwards the namespace, and
  every object the code stored a traced value into, holds plain numbers/arrays, and no name the
  code did not bind has changed. This is the plain Python call behind the ``%%autodiff`` magic.
* ``exploration.widget()`` returns the interactive ``TraceExplorer`` (needs ipywidgets).

The pieces: ``adnb.cell`` analyses and runs the code, ``adnb.exploration`` is the model (seeds,
sweeps, Jacobian, cost), ``adnb.display.exploration`` writes it as text and HTML.
"""
from __future__ import annotations

import inspect
import itertools
import linecache

import numpy as np

from .cell import CellRunner, analyse_cell, explain_error, input_name
from .core.api import as_input, tree_flatten
from .core.trace import Trace
from .exploration import (DEFAULT_SHOW, MODES, SHOW_PARTS, CostSummary, Exploration,
                          ExploreUsageError, Seed, as_cell_input, check_options)

__all__ = ["explore", "explore_cell", "Exploration", "Seed", "CostSummary", "ExploreUsageError",
           "SHOW_PARTS", "DEFAULT_SHOW", "MODES"]

_cell_counter = itertools.count(1)


def _record(call, names, values, function_name, location_names=None, after=None):
    """Run ``call(traced_values)`` once with each value traced as an input.

    ``call`` returns (outputs, output names); the result is the finished explore-mode Trace,
    passed to ``after`` first. An
    adnb error raised under the user's code leaves with the user's line first and adnb's frames
    cut from its traceback (``adnb.cell.explain_error``).
    """
    __tracebackhide__ = True
    tr = Trace(explore=True)
    tr.function_name = function_name
    boxed = [tr.new_input(v, n) for n, v in zip(names, values)]
    try:
        outs, out_names = call(boxed, tr)
    except Exception as err:
        if after is not None:       # the user's objects hold plain values even so
            after(tr)
        better = explain_error(err, location_names)
        if better is err:
            raise
        raise better from None
    tr.finish(outs, out_names)
    del boxed, outs             # our own references: only the user's remain for ``after``
    if after is not None:
        after(tr)
    return tr


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
    opts = check_options(mode, show)
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

    def call(boxed, tr):
        __tracebackhide__ = True
        a, kw = rebuild(boxed)
        out = f(*a, **kw)
        outs, _ = tree_flatten(out)
        return outs, None

    def retrace(values):
        __tracebackhide__ = True
        return _rename_locations(_record(call, leaf_names, values, fname, location_names),
                                 location_names)

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
    when the code raises. Objects that existed before and that the code stored traced values
    into (``hist.append(y)``, ``o.v = y``, a closure) hold the plain values too; the
    exploration's ``side_effects`` says so, and its widget then re-runs the code only when asked.
    Input names are read as Python reads identifiers (NFKC: ``𝑥`` is ``x``).

    Args:
        code: Python source (numpy code, as in a notebook cell).
        inputs: ``{name: value}``: the differentiation inputs (floats, ints, arrays or lists of
            numbers), in order.
        outputs: the output variable names (a list or a comma-separated string); default: the
            code's last bare expression if it ends with one (IPython's rule for a cell's value;
            named ``out``), else the variable(s) of its last assignment. An output may be a
            number, an array, or a tuple/list/dict of them (every leaf is an output).
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
        CellOutputError: the output is not numbers (a string, None, an object).
        SyntaxError: the code does not compile (before it runs).
        Exception: whatever the code raises, with its own traceback.
    """
    __tracebackhide__ = True
    opts = check_options(mode, show)
    if namespace is None:
        namespace = {"np": np}
    inputs = _cell_inputs(inputs)
    values = [as_cell_input(n, v) for n, v in inputs.items()]
    if filename is None:
        filename = f"<autodiff-cell-{next(_cell_counter)}>"
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    if cell_name is not None and cell_name != filename:
        linecache.cache[cell_name] = (len(code), None, code.splitlines(True), cell_name)
    analysis = analyse_cell(code, outputs, inputs, namespace, usage_error=ExploreUsageError)
    runner = CellRunner(analysis, filename, inputs)
    where = dict(location_names or {})
    if cell_name is not None:
        where[filename] = cell_name
    names = list(inputs)

    def retrace(vals, ns=None):
        # re-runs (widget sliders) happen in a copy: the user's names stay as they are
        __tracebackhide__ = True
        ns = dict(namespace) if ns is None else ns

        def call(boxed, tr):
            __tracebackhide__ = True
            return runner.run(boxed, ns)
        tr = _record(call, names, vals, cell_name or "cell", where, after=runner.release)
        return _rename_locations(tr, where)

    tr = retrace(values, namespace)
    e = Exploration(tr, mode=mode, tangent_seed=tangent_seed, output_seed=output_seed,
                    show=opts, interactive=interactive, retrace=retrace, source=code,
                    predict=predict)
    e.side_effects = runner.side_effects
    e.output_source = analysis.taken_from
    return e


def _cell_inputs(inputs):
    """The inputs with their names as Python reads them (NFKC), checked."""
    if not isinstance(inputs, dict):
        raise ExploreUsageError("inputs must be a dict {name: value}")
    if not inputs:
        raise ExploreUsageError("name at least one input to differentiate with respect to "
                                "(e.g. x1=1.0 x2=2.0)")
    out = {}
    for name, value in inputs.items():
        norm = input_name(name)
        if not (isinstance(norm, str) and norm.isidentifier()):
            raise ExploreUsageError(f"input name {name!r} is not a variable name")
        if norm in out:
            raise ExploreUsageError(f"input {norm!r} is given twice ({name!r} reads as {norm!r} "
                                    "in Python code)")
        out[norm] = value
    return out


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
