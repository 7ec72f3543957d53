"""TraceExplorer: step through the forward and reverse sweeps of one evaluation trace.

A composition of stock ipywidgets (no custom JavaScript), with a static fallback so nbconvert,
GitHub and nbval still see the table and the graph:

* ``ToggleButtons`` (``.adnb-mode``): forward mode (tangents v̇_i) or reverse mode (adjoints v̄_i);
* ``Dropdown`` (``.adnb-seed``) + ``Text`` (``.adnb-seed-custom``): the seed of the pass shown —
  ẋ = e_j (one input: Jacobian column j), ȳ = e_k (one output: row k) or a custom vector
  (one pass giving J r or uᵀJ, eq. 8.67);
* ``Play`` + ``IntSlider`` (``.adnb-play``, ``.adnb-step``): the sweep step, animating the table
  and the graph together (step 0 seeds the sweep; the last step is the finished sweep);
* ``FloatSlider`` per scalar input (``.adnb-input``): re-trace the code at a new point (control
  flow may take another path there, so the trace can change shape). The re-run happens in a
  copy of the notebook's names; a cell with side effects (it stored traced values into objects
  that existed before it, or changed globals through a function) is not re-run silently: a note
  (``.adnb-side-effects``) says what it changes and a button (``.adnb-rerun``) re-runs it;
* ``HTML`` table (``.adnb-table``), the graph as inline SVG in an ``HTML`` (``.adnb-graph``),
  the Jacobian (``.adnb-jacobian``): forward mode fills it column by column, reverse mode row by
  row, with the pass count beside it;
* ``HTML`` (``.adnb-error``): errors and warnings from callbacks, shown instead of swallowed.

Speed: every part, the graph included, is set synchronously in the callback, so table and graph
always show the same step. The graph is SVG written directly (``adnb.display.svg``, no
matplotlib) from a layout computed once per trace: a step re-writes only colours, values and the
title (under a millisecond for the book's example, ~1–2 ms for a 600-operation loop, folded).
``python benchmarks/bench_explorer.py`` prints the timings.
"""
from __future__ import annotations

import functools
import html
import traceback
import warnings

import ipywidgets as widgets
import numpy as np

from ..display.exploration import code_html, cost_html, fmt_value, jacobian_html, plural
from ..display.html import trace_table as render_table
from ..display.svg import graph_html
from ..display.sweep import sweep_steps
from ..errors import ExploreUsageError

__all__ = ["TraceExplorer", "sweep_order"]

_CUSTOM = ("custom", None)
_MAX_SLIDERS = 8        # sliders per input (larger arrays get none)
_MAX_SEEDS = 100        # unit seeds offered in the dropdown


def sweep_order(trace, mode, result=None):
    """The nodes a sweep visits, one tuple per step (``adnb.display.sweep.sweep_steps``)."""
    return sweep_steps(trace, mode, result)


def render_graph_svg(trace, forward=None, reverse=None, step=None, mode=None, **kw):
    """``adnb.display.svg.graph_html``: the SVG graph in a box that scrolls to the node in
    progress (no matplotlib needed)."""
    return graph_html(trace, forward=forward, reverse=reverse, step=step, mode=mode, **kw)


def _guarded(method):
    """Run a callback; show any exception in the error panel instead of losing it."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                out = method(self, *args, **kwargs)
            self._show_warnings(caught)
            return out
        except Exception as err:  # noqa: BLE001 — shown to the user, not swallowed
            self._show_error(err)
    return wrapper


class TraceExplorer(widgets.VBox):
    """Interactive explorer of one evaluation trace (see the module docstring for the parts).

    Args:
        exploration: an ``adnb.Exploration`` (``adnb.explore(...)``, ``adnb.explore_cell(...)``).
        mode: ``"forward"`` or ``"reverse"`` to start in; default from the exploration.
        step: the step to start at; default the finished sweep.
        graph: show the graph (default: if the exploration's ``show`` has it).
        play_interval: milliseconds between steps when playing.
        predict, geometry: start with predict mode / the geometry panel on (the toggles of
            ``adnb.widgets.learn``).

    Attributes:
        exploration: the Exploration shown (replaced when an input slider re-traces).
        mode, seed, custom, play, step, step_label, inputs, table, graph, jacobian, code, cost,
        error, title: the child widgets.
    """

    def __init__(self, exploration, mode=None, step=None, graph=None, play_interval=700,
                 predict=False, geometry=False):
        super().__init__()
        # the model is duck-typed: importing adnb.exploration here would close a cycle (its
        # widget() builds this class)
        if not all(hasattr(exploration, a) for a in ("trace", "seeds", "widget")):
            raise TypeError("TraceExplorer takes an adnb.Exploration: adnb.explore(f, *args) or "
                            "adnb.explore_cell(code, inputs)")
        self.exploration = exploration
        self._busy = False
        show = exploration.show
        self._show_graph = ("graph" in show) if graph is None else bool(graph)
        if mode is None:
            mode = "reverse" if exploration.mode == "reverse" else "forward"

        self.title = widgets.HTML().add_class("adnb-title")
        self.mode = widgets.ToggleButtons(options=[("forward", "forward"), ("reverse", "reverse")],
                                          value=mode, tooltips=["tangents v̇ (eq. 8.57)",
                                                                "adjoints v̄ (eq. 8.69)"],
                                          style={"button_width": "90px"}).add_class("adnb-mode")
        self.seed = widgets.Dropdown(description="seed", layout=widgets.Layout(width="300px"))
        self.seed.add_class("adnb-seed")
        self.custom = widgets.Text(placeholder="e.g. 1, -1", description="vector",
                                   continuous_update=False,
                                   layout=widgets.Layout(width="220px", display="none"))
        self.custom.add_class("adnb-seed-custom")
        self.play = widgets.Play(interval=play_interval, min=0, max=1, step=1,
                                 show_repeat=False).add_class("adnb-play")
        self.step = widgets.IntSlider(min=0, max=1, description="step", continuous_update=True,
                                      readout=True).add_class("adnb-step")
        self._link = widgets.jslink((self.play, "value"), (self.step, "value"))
        self.step_label = widgets.HTML().add_class("adnb-step-label")
        self.inputs = widgets.HBox(layout=widgets.Layout(flex_flow="row wrap"))
        self.inputs.add_class("adnb-inputs")
        # the table keeps its width; the graph takes the rest (its SVG shrinks to 60 % of its
        # size, then scrolls) or, if less than 360 px are left, wraps below the table
        self.table = widgets.HTML(layout=widgets.Layout(flex="0 0 auto")).add_class("adnb-table")
        self.graph = widgets.HTML(layout=widgets.Layout(flex="1 1 360px", min_width="360px",
                                                        overflow="auto"))
        self.graph.add_class("adnb-graph")
        if not self._show_graph:
            self.graph.layout.display = "none"
        self.jacobian = widgets.HTML().add_class("adnb-jacobian")
        self.code = widgets.HTML().add_class("adnb-code")
        self.cost = widgets.HTML().add_class("adnb-cost")
        self.error = widgets.HTML(layout=widgets.Layout(display="none")).add_class("adnb-error")
        self.side_note = widgets.HTML().add_class("adnb-side-effects")
        self.rerun = widgets.Button(description="re-run the cell at these inputs",
                                    layout=widgets.Layout(width="auto")).add_class("adnb-rerun")
        self.rerun.on_click(self._on_rerun)

        self._build_input_sliders()
        self.side_panel = widgets.HBox([self.side_note, self.rerun]).add_class("adnb-side-panel")
        self._show_side_effects(pending=False)
        panels = [self.title,
                  widgets.HBox([self.mode, self.seed, self.custom]).add_class("adnb-controls"),
                  widgets.HBox([self.play, self.step, self.step_label]).add_class("adnb-stepper"),
                  self.inputs, self.side_panel, self.error,
                  widgets.HBox([self.table, self.graph],
                               layout=widgets.Layout(flex_flow="row wrap",
                                                     align_items="flex-start")
                               ).add_class("adnb-main"),
                  self.jacobian]
        if "code" in show:
            panels.append(self.code)
        if "cost" in show:
            panels.append(self.cost)
        self.children = panels
        self.add_class("adnb-widget")
        self.add_class("adnb-explorer")

        self._sync_seed_options()
        self._set_step_range(step)
        self._refresh()
        self.mode.observe(self._on_mode, names="value")
        self.seed.observe(self._on_seed, names="value")
        self.custom.observe(self._on_custom, names="value")
        self.step.observe(self._on_step, names="value")
        from .learn import attach
        attach(self, predict=predict, geometry=geometry)     # predict mode, geometry panel

    # -- current state -----------------------------------------------------------------------
    @property
    def current_seed(self):
        """The ``adnb.explore.Seed`` of the pass shown."""
        e, mode = self.exploration, self.mode.value
        key = self.seed.value
        if key is None:
            return e.seeds(mode)[0]
        if key[0] == "unit":
            return e.unit_seed(mode, key[1])
        if key == _CUSTOM:
            return self._custom_seed or e.seeds(mode)[0]
        return next(s for s in e.seeds(mode) if s.key == key)

    @property
    def result(self):
        """The ForwardResult / ReverseResult of the pass shown."""
        return self.exploration.sweep(self.mode.value, self.current_seed)

    # -- building ----------------------------------------------------------------------------
    def _build_input_sliders(self):
        sliders = []
        for name, v in self.exploration.inputs.items():
            a = np.asarray(v, dtype=float)
            if a.size > _MAX_SLIDERS:
                continue
            for idx in np.ndindex(*a.shape):
                x = float(a[idx])
                span = 2.0 * max(1.0, abs(x))
                label = name if not a.shape else f"{name}[{','.join(map(str, idx))}]"
                s = widgets.FloatSlider(value=x, min=x - span, max=x + span, step=span / 100,
                                        description=label, continuous_update=True,
                                        readout_format=".3g",
                                        layout=widgets.Layout(width="280px"))
                s.add_class("adnb-input")
                s._adnb_target = (name, idx)
                s.observe(self._on_input, names="value")
                sliders.append(s)
        self.inputs.children = sliders
        if not sliders:
            self.inputs.layout.display = "none"

    def _seed_options(self):
        e, mode = self.exploration, self.mode.value
        lay = e.input_layout if mode == "forward" else e.output_layout
        opts = [(e.unit_seed(mode, j).label, ("unit", j)) for j in range(min(lay.size, _MAX_SEEDS))]
        opts += [(s.label, s.key) for s in e.seeds(mode) if s.unit is None]
        opts.append(("custom vector…", _CUSTOM))
        return opts

    def _sync_seed_options(self, keep=None):
        self._busy = True
        try:
            self._custom_seed = None
            opts = self._seed_options()
            self.seed.options = opts
            keys = [k for _, k in opts]
            first = self.exploration.seeds(self.mode.value)[0].key
            self.seed.value = keep if keep in keys and keep != _CUSTOM else first
            self.custom.layout.display = "none"
            sym = "ẋ = r" if self.mode.value == "forward" else "ȳ = u"
            self.custom.description = sym
        finally:
            self._busy = False

    def _set_step_range(self, step=None):
        n = len(sweep_order(self.exploration.trace, self.mode.value, self.result))
        self._busy = True
        try:
            self.step.max = max(n, 1)
            self.play.max = self.step.max
            self.step.value = n if step is None else min(max(int(step), 0), n)
            self.play.value = self.step.value
        finally:
            self._busy = False

    # -- callbacks -----------------------------------------------------------------------------
    @_guarded
    def _on_mode(self, change):
        if self._busy:
            return
        self.play.playing = False
        self._sync_seed_options()
        self._set_step_range()
        self._refresh()

    @_guarded
    def _on_seed(self, change):
        if self._busy:
            return
        if change["new"] == _CUSTOM:
            self.custom.layout.display = None
            if self._custom_seed is None:
                return          # wait for a vector
        else:
            self.custom.layout.display = "none"
        self._set_step_range()
        self._refresh()

    @_guarded
    def _on_custom(self, change):
        text = change["new"].strip()
        if not text:
            return
        try:
            vec = [float(x) for x in text.strip("[]() ").replace(";", ",").split(",") if x.strip()]
        except ValueError:
            raise ExploreUsageError(f"custom seed: {text!r} is not a list of numbers") from None
        self._custom_seed = self.exploration.custom_seed(self.mode.value, vec)
        self._busy = True
        try:
            self.seed.value = _CUSTOM
        finally:
            self._busy = False
        self.custom.layout.display = None
        self._set_step_range()
        self._refresh()

    @_guarded
    def _on_step(self, change):
        if self._busy:
            return
        self._refresh(tables_only=True)

    def _show_side_effects(self, pending):
        effects = self.exploration.side_effects
        if not effects or not self.inputs.children:
            self.side_panel.layout.display = "none"
            return
        self.side_panel.layout.display = None
        self.rerun.disabled = not pending
        what = html.escape(effects.describe())
        then = (" The sliders moved: re-run it to see the new point." if pending else
                " Moving a slider does not re-run it silently; the button does.")
        self.side_note.value = (f'<span style="color:#850">{what}; re-running it would do that '
                                f'again.{then}</span>')

    @_guarded
    def _on_rerun(self, button=None):
        self._apply_inputs()
        self._show_side_effects(pending=False)

    @_guarded
    def _on_input(self, change):
        if self.exploration.side_effects:
            self._show_side_effects(pending=True)
            return
        self._apply_inputs()

    def _apply_inputs(self):
        values = {n: np.array(v, dtype=float) for n, v in self.exploration.inputs.items()}
        for s in self.inputs.children:
            name, idx = s._adnb_target
            values[name][idx] = s.value
        values = {n: (float(v) if v.ndim == 0 else v) for n, v in values.items()}
        keep = self.seed.value
        custom = self._custom_seed
        new = self.exploration.at(**values)
        was_finished = self.step.value >= self.step.max
        self.exploration = new
        self._sync_seed_options(keep=keep)
        if keep == _CUSTOM and custom is not None:
            self._custom_seed = new.custom_seed(self.mode.value, custom.vector)
            self._busy = True
            try:
                self.seed.value = _CUSTOM
            finally:
                self._busy = False
            self.custom.layout.display = None
        self._set_step_range(None if was_finished else self.step.value)
        self._refresh()

    # -- rendering -----------------------------------------------------------------------------
    def _refresh(self, tables_only=False):
        e, mode = self.exploration, self.mode.value
        res = self.result
        seed = self.current_seed
        step = self.step.value
        order = sweep_order(e.trace, mode, res)
        n = len(order)
        kw = {"forward": res} if mode == "forward" else {"reverse": res}
        self.table.value = render_table(e.trace, step=step, mode=mode, **kw)
        self.step_label.value = html.escape(_step_text(e.trace, mode, order, step))
        self.jacobian.value = self._jacobian_html(seed, step >= n)
        if not tables_only:
            self.title.value = f"<b>{html.escape(e.title())}</b>"
            if "code" in e.show:
                self.code.value = code_html(e.trace, mode)
            if "cost" in e.show:
                self.cost.value = cost_html(e.cost)
        if self._show_graph:
            self.graph.value = render_graph_svg(e.trace, step=step, mode=mode, **kw)
        self._clear_error()

    def _jacobian_html(self, seed, finished):
        e, mode = self.exploration, self.mode.value
        K, D = e.shape
        total = D if mode == "forward" else K
        by = "column" if mode == "forward" else "row"
        if seed.unit is None:
            if mode == "forward":
                what, vec, lab = "J r", e.output_tangent(seed), e.output_layout.labels
            else:
                what, vec, lab = "uᵀJ", e.input_adjoint(seed), e.input_layout.labels
            body = ("<i>not computed yet</i>" if not finished else
                    ", ".join(f"{html.escape(lab[i])}: {fmt_value(vec[i], 5)}" for i in range(len(vec))))
            return (f'<div class="adnb-jacobian-panel"><b>{what}</b> in one {mode} pass '
                    f'(without forming J, eq. 8.67): {body}<br><span class="adnb-passes">'
                    f'passes: 1 (the full {K}×{D} Jacobian takes {plural(total, mode + " pass")})</span></div>')
        j = seed.unit
        filled = list(range(j)) + ([j] if finished else [])
        passes = len(filled)
        table = jacobian_html(e, filled=filled, highlight=j, by=by)
        return (f'<div class="adnb-jacobian-panel"><b>Jacobian</b> ({K}×{D}), {mode} mode fills '
                f'it {by} by {by}: <span class="adnb-passes">{passes} of '
                f'{plural(total, mode + " pass")}</span>{table}</div>')

    # -- errors ----------------------------------------------------------------------------------
    def _show_error(self, err):
        tb = "".join(traceback.format_exception_only(type(err), err)).strip()
        detail = "".join(traceback.format_exception(type(err), err, err.__traceback__)[-4:])
        self.error.value = (f'<div style="color:#a00;border:1px solid #a00;padding:4px">'
                            f'<b>{html.escape(tb)}</b><details><summary>traceback</summary>'
                            f'<pre>{html.escape(detail)}</pre></details></div>')
        self.error.layout.display = None

    def _show_warnings(self, caught):
        if not caught:
            return
        msgs = "<br>".join(html.escape(f"{w.category.__name__}: {w.message}") for w in caught[:3])
        self.error.value = f'<div style="color:#850;padding:4px">{msgs}</div>'
        self.error.layout.display = None

    def _clear_error(self):
        if self.error.value:
            self.error.value = ""
            self.error.layout.display = "none"

    # -- static fallback ---------------------------------------------------------------------------
    def to_html(self):
        """A static snapshot of what the widget shows now (table, graph as inline SVG, Jacobian)."""
        parts = [f'<div class="adnb-explorer-static">{self.title.value}',
                 f"<p>{self.mode.value} mode, seed {html.escape(self.current_seed.label)}, "
                 f"{self.step_label.value}</p>", self.table.value]
        if self._show_graph and self.graph.value:
            parts.append(f'<div class="adnb-graph">{self.graph.value}</div>')
        learning = getattr(self, "learning", None)
        parts += [self.jacobian.value, learning.static_html() if learning else "", "</div>"]
        return "\n".join(parts)

    def close(self):
        """Close the explorer and every widget it is made of (its children, their layouts and
        styles, the play/step link): ipywidgets keeps open widgets alive until closed."""
        seen = {id(self)}
        parts = [self._link] + list(self.children) + [
            v for v in vars(self).values() if isinstance(v, widgets.Widget)]   # panels not shown
        for part in parts:
            _close_tree(part, seen)
        for name in ("layout", "style"):
            _close_tree(getattr(self, name, None), seen)
        super().close()

    def view_bundle(self):
        """The widget's own view (its ``application/vnd.jupyter.widget-view+json``), without
        the static fallback: what ``Exploration`` adds to its own text and HTML."""
        data = super()._repr_mimebundle_() or {}
        return {k: v for k, v in data.items() if k not in ("text/plain", "text/html")}

    def _repr_mimebundle_(self, **kwargs):
        data = super()._repr_mimebundle_(**kwargs) or {}
        data["text/plain"] = self.exploration.to_text()
        data["text/html"] = self.to_html()
        return data

    def __repr__(self):
        return f"<adnb TraceExplorer: {self.mode.value} mode, {self.exploration!r}>"


def _descendants(widget, seen):
    """Every widget reachable from ``widget`` through its traits (children, layout, style)."""
    stack, out = [widget], []
    while stack:
        w = stack.pop()
        if id(w) in seen:
            continue
        seen.add(id(w))
        out.append(w)
        for name in w.keys:
            v = getattr(w, name, None)
            items = v if isinstance(v, (list, tuple)) else (v,)
            stack += [x for x in items if isinstance(x, widgets.Widget)]
    return out


def _close_tree(widget, seen):
    if isinstance(widget, widgets.Widget):
        for w in _descendants(widget, seen):
            w.close()


def _step_text(trace, mode, order, step):
    n = len(order)
    if step >= n:
        return f"step {n} of {n}: {mode} sweep finished"
    nodes = order[step]
    if mode == "forward" and step == 0:
        return f"step 0 of {n}: seed the inputs ẋ"
    labels = ", ".join(trace.nodes[i].label for i in nodes)
    if mode == "forward":
        node = trace.nodes[nodes[0]]
        return f"step {step} of {n}: tangent of {labels} = {node.formula()}"
    return f"step {step} of {n}: pass v̄ of {labels} to its parents"
