"""The exploration model: one recorded trace with its seeds, sweeps, Jacobian and cost (no HTML).

``adnb.explore``/``adnb.explore_cell`` (``adnb/explore.py``) record a trace and wrap it in an
``Exploration``; ``adnb.display.exploration`` writes it as text and HTML; the ``TraceExplorer``
widget (``adnb.widgets.explorer``) steps through it.

Seeds. A forward pass is seeded with an input direction ẋ, a reverse pass with an output adjoint
ȳ. With the default seeds every *scalar* input gets its own pass (ẋ = e_j: one Jacobian column,
eq. 8.66) and every scalar output its own reverse pass (ȳ = e_k: one Jacobian row). Arrays count
element by element: an input ``x`` of shape (3,) stands for three scalar inputs ``x[0]``..``x[2]``.
A seed can also name inputs/outputs (``"x1"``, ``"x[1]"``, ``["x1", "x2"]``) or be a custom vector
r with one entry per scalar input (one pass giving J r, eq. 8.67) or u per scalar output (uᵀJ).
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import numpy as np

from .core.api import as_input
from .core.forward import ForwardResult
from .core.reverse import ReverseResult
from .errors import ADNBError, ExploreUsageError  # noqa: F401  (re-exported)

__all__ = ["Exploration", "Seed", "Layout", "CostSummary", "ExploreUsageError", "SHOW_PARTS",
           "DEFAULT_SHOW", "MODES", "SHOWN_SEEDS", "SHOWN_ROW_PASSES", "check_options", "as_cell_input"]

SHOW_PARTS = ("table", "graph", "code", "cost")
SHOWN_SEEDS = 6             # tangent/adjoint columns in static views
SHOWN_ROW_PASSES = 30_000   # at most this many rows × passes for a static view's columns
DEFAULT_SHOW = ("table", "graph")
MODES = ("forward", "reverse", "both")



# ---- flattening inputs and outputs into the Jacobian's columns and rows ----------------------


def _element_labels(name, shape):
    if not shape:
        return [name]
    return [f"{name}[{','.join(map(str, idx))}]" for idx in np.ndindex(*shape)]


class Layout:
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


def as_cell_input(name, value):
    """A cell input as adnb differentiates it: lists of numbers become float arrays."""
    if isinstance(value, (list, tuple)):
        value = np.asarray(value, dtype=float)
    return as_input(value, f"input '{name}'")


def check_options(mode, show):
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
        predict: the explorer starts in predict mode; the static view shows the blanks.
    """

    def __init__(self, trace, mode="both", tangent_seed=None, output_seed=None,
                 show=DEFAULT_SHOW, interactive=False, retrace=None, source=None, predict=False):
        self.trace = trace
        self.predict = bool(predict)
        self.mode = mode
        self.show = check_options(mode, show)
        self.interactive = interactive
        self.source = source
        self._retrace = retrace
        self._seed_specs = (tangent_seed, output_seed)
        nodes = trace.nodes
        self.input_layout = Layout([nodes[i].name or f"x{k + 1}" for k, i in enumerate(trace.inputs)],
                                    [nodes[i].shape for i in trace.inputs])
        K = len(trace.outputs)
        onames = [n or (f"f{k + 1}" if K > 1 else "f") for k, n in enumerate(trace.output_names)]
        self.output_layout = Layout(onames, [np.shape(v) for v in trace.output_values])
        self.inputs = {n: nodes[i].ans for n, i in zip(self.input_layout.names, trace.inputs)}
        self.outputs = dict(zip(onames, trace.output_values))
        self._sweeps = {}
        self._forward = self._reverse = self._jacobian = self._cost = None
        self.forward_seeds = self._resolve("forward", tangent_seed)
        self.reverse_seeds = self._resolve("reverse", output_seed)
        self._widget = None
        self.side_effects = None    # set by explore_cell: what the cell changed outside its names
        self.output_source = None   # explore_cell: "named", "expression" or "assignment"

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
            rs = [self.sweep("forward", s) for s in self.forward_seeds]
            self._forward = ForwardResult(self.trace, [r.seeds[0] for r in rs],
                                          [r.tangents[0] for r in rs], [s.label for s in self.forward_seeds])
        return self._forward

    @property
    def reverse(self):
        """ReverseResult: one reverse pass per output seed (default: one per scalar output)."""
        if self._reverse is None:
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
            raise ExploreUsageError(f"at(): {_count(len(self.inputs), 'input value')} expected, "
                                    f"got {len(vals)}")
        names = list(self.inputs)
        for k, v in by_name.items():
            if k not in names:
                raise ExploreUsageError(f"at(): {k!r} is not an input; inputs: {', '.join(names)}")
            vals[names.index(k)] = v
        vals = [as_cell_input(n, v) for n, v in zip(names, vals)]
        tr = self._retrace(vals)
        t_spec, o_spec = self._seed_specs
        new = Exploration(tr, mode=self.mode, tangent_seed=t_spec, output_seed=o_spec,
                          show=self.show, interactive=self.interactive, retrace=self._retrace,
                          source=self.source, predict=self.predict)
        new.side_effects, new.output_source = self.side_effects, self.output_source
        return new

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

    def close(self):
        """Close this exploration's widget, if it made one (frees it: ipywidgets keeps every
        open widget alive). ``%%autodiff`` does this when its cell is re-run."""
        if self._widget is not None:
            self._widget.close()
            self._widget = None

    def title(self):
        """One line: inputs → outputs, operations, Jacobian shape and passes."""
        from .display.exploration import title_text
        return title_text(self)

    def __repr__(self):
        K, D = self.shape
        return (f"<adnb Exploration: {_count(len(self.inputs), 'input')}, "
                f"{_count(self.trace.n_ops, 'operation')}, {_count(len(self.outputs), 'output')}; "
                f"J is {K}×{D}>")

    def shown_count(self):
        """How many seeds per mode the static views show: ``SHOWN_SEEDS``, fewer for long traces
        (a 100k-operation trace shows one: each column is a whole sweep)."""
        return max(1, min(SHOWN_SEEDS, SHOWN_ROW_PASSES // max(self.trace.n_ops, 1)))

    def shown_results(self):
        """(forward, reverse): results of the first ``shown_count()`` seeds of the modes shown,
        None for a mode not shown (a static view of a 1000-input trace should not run 1000
        sweeps)."""
        out = []
        k = self.shown_count()
        for mode in ("forward", "reverse"):
            if self.mode not in (mode, "both"):
                out.append(None)
                continue
            seeds = self.seeds(mode)
            if len(seeds) <= k:
                out.append(self.forward if mode == "forward" else self.reverse)
                continue
            rs = [self.sweep(mode, s) for s in seeds[:k]]
            if mode == "forward":
                R, vals = ForwardResult, [r.tangents[0] for r in rs]
            else:
                R, vals = ReverseResult, [r.adjoints[0] for r in rs]
            out.append(R(self.trace, [r.seeds[0] for r in rs], vals,
                         [s.label for s in seeds[:k]]))
        return out

    # display hooks: the text and HTML are written by adnb.display.exploration
    def to_text(self):
        """The trace, tangents, adjoints and Jacobian as plain text (deterministic)."""
        from .display.exploration import exploration_text
        return exploration_text(self)

    def to_html(self):
        """The static view: title, table, graph (SVG), Jacobian, code and cost, per ``show``."""
        from .display.exploration import exploration_html
        return exploration_html(self)

    def _repr_mimebundle_(self, include=None, exclude=None):
        data = {"text/plain": self.to_text(), "text/html": self.to_html()}
        if self.interactive:
            try:
                w = self.widget()
            except ImportError:        # no ipywidgets: the static view is all there is
                return data
            data.update(w.view_bundle())
        return data


def _count(n, noun):
    """``1 input``, ``2 inputs``, ``1 pass``, ``3 passes``."""
    return f"{n} {noun}{'' if n == 1 else ('es' if noun.endswith('s') else 's')}"


def _is_number(s):
    try:
        float(s)
        return True
    except (TypeError, ValueError):
        return False


def _forward_one(trace, parts):
    return trace.forward(seeds=[parts])


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
                         _count(self.D, "pass")))
        if self.reverse is not None:
            rows.append(("one reverse pass (adjoints)", self.reverse.ops["adjoint"],
                         self.reverse.flops["adjoint"], f"{self.ratio('reverse'):.2f}×",
                         _count(self.K, "pass")))
        return rows

    def to_text(self):
        return "\n".join(f"{a}: {b} ops, {c} flops {d} {e}".rstrip() for a, b, c, d, e in self.rows())

    def to_html(self):
        """The table as HTML (``adnb.display.exploration.cost_html``)."""
        from .display.exploration import cost_html
        return cost_html(self)
