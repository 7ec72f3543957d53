"""The explorer's learning panels: predict mode and the geometry panel (stock ipywidgets).

``attach(explorer, predict=False, geometry=False)`` adds two toggles to a ``TraceExplorer``:

* **predict** (``.adnb-predict-toggle``): the sweep stops at each value it is about to reveal —
  v̇_i in forward mode, v̄_i in reverse mode — and a ``PredictPanel`` asks for it (the table shows
  it as ``?``, the graph hides its numbers, the step slider follows the questions). Switching
  mode or seed, or moving an input, starts a new round;
* **geometry** (``.adnb-geometry-toggle``): for a function with one output, f around the inputs
  (curve for one input, contours for two, a 2-D slice through the first two entries for more),
  the tangent line or plane, the forward seed r with J r, the gradient and one descent step
  (``adnb.display.geometry``), as SVG in an ``HTML`` widget (``.adnb-geometry``); moving an input
  slider moves the point and the tangent.

Only observers are added (after the explorer's own, so they run after its refresh); the explorer
keeps working without them.
"""
from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np

from .predict import PredictPanel

__all__ = ["attach", "LearningPanels"]

#: gradient-descent step drawn in the geometry panel
GEOMETRY_LR = 0.1


class LearningPanels:
    """The predict and geometry toggles of one explorer (``explorer.learning``)."""

    def __init__(self, explorer, predict=False, geometry=False):
        self.explorer = explorer
        self.panel = None
        self.predict_toggle = widgets.ToggleButton(value=False, description="predict",
                                                   tooltip="predict each value before it is "
                                                           "revealed", icon="question")
        self.predict_toggle.add_class("adnb-predict-toggle")
        self.geometry_toggle = widgets.ToggleButton(value=False, description="geometry",
                                                    tooltip="f around x, tangent, gradient, "
                                                            "one descent step", icon="line-chart")
        self.geometry_toggle.add_class("adnb-geometry-toggle")
        self.geometry = widgets.HTML(layout=widgets.Layout(display="none"))
        self.geometry.add_class("adnb-geometry")
        self.box = widgets.VBox([], layout=widgets.Layout(display="none"))
        self.box.add_class("adnb-predict-box")
        self.toggles = widgets.HBox([self.predict_toggle, self.geometry_toggle])
        self.toggles.add_class("adnb-learning")
        if not self._geometry_possible():
            self.geometry_toggle.layout.display = "none"
        children = list(explorer.children)
        at = next((k + 1 for k, c in enumerate(children)
                   if "adnb-stepper" in getattr(c, "_dom_classes", ())), 2)
        explorer.children = children[:at] + [self.toggles, self.box] + children[at:] + \
            [self.geometry]
        self.predict_toggle.observe(self._on_predict, names="value")
        self.geometry_toggle.observe(self._on_geometry, names="value")
        for w in (explorer.mode, explorer.seed):
            w.observe(self._on_sweep_changed, names="value")
        explorer.step.observe(self._on_step, names="value")
        self._traced = explorer.exploration
        self._watch_inputs()
        self.predict_toggle.value = bool(predict)
        self.geometry_toggle.value = bool(geometry) and self._geometry_possible()

    # -- predict ---------------------------------------------------------------------------------
    @property
    def predicting(self):
        return self.predict_toggle.value

    def _on_predict(self, change):
        ex = self.explorer
        if change["new"]:
            self._new_round()
        else:
            self.panel = None
            self.box.children = []
            self.box.layout.display = "none"
            for w in (ex.step, ex.play):
                w.disabled = False
            ex.step.value = ex.step.max          # the explorer redraws the finished sweep

    def _new_round(self):
        ex = self.explorer
        mode = ex.mode.value
        kw = {"forward": ex.result} if mode == "forward" else {"reverse": ex.result}
        self.panel = PredictPanel(ex.exploration.trace, mode, show_table=False,
                                  on_change=self._follow, **kw)
        self.box.children = [self.panel]
        self.box.layout.display = None
        ex.play.playing = False
        for w in (ex.step, ex.play):
            w.disabled = True
        self._follow(self.panel)

    def _follow(self, panel):
        """Move the explorer's sweep to the question's step and blank what is to predict."""
        if self.panel is None:
            return
        ex = self.explorer
        step = panel.step
        target = ex.step.max if step is None else step
        if ex.step.value != target:
            ex.step.value = target               # the explorer redraws; _on_step blanks
        else:
            self._blank()

    def _blank(self):
        ex = self.explorer
        ex.table.value = self.panel.table_html()
        if self.panel.step is not None and getattr(ex, "_show_graph", False):
            from ..display.svg import graph_html        # what the explorer shows, no numbers
            mode = ex.mode.value
            kw = {"forward": ex.result} if mode == "forward" else {"reverse": ex.result}
            ex.graph.value = graph_html(ex.exploration.trace, step=self.panel.step, mode=mode,
                                        values=False, **kw)

    def _on_step(self, change):
        if self.panel is not None:
            self._blank()

    def _on_sweep_changed(self, change):
        if self.panel is not None:
            self._new_round()
        self._draw_geometry()

    def static_html(self):
        """What predict mode shows without a widget frontend: the blanks as an exercise, the
        answers collapsed (``adnb.display.predict.exercise_html``); "" when predict is off."""
        if self.panel is None:
            return ""
        from ..display.predict import exercise_html
        s = self.panel.session
        return exercise_html(s.trace, s.mode, qs=s.questions)

    # -- inputs ----------------------------------------------------------------------------------
    def _watch_inputs(self):
        for s in self.explorer.inputs.children:
            s.observe(self._on_input, names="value")

    def _on_input(self, change):
        # the explorer's observer ran first: a new trace if it re-traced (it may wait for a
        # button when re-running the cell has side effects; then nothing changed yet)
        if self.explorer.exploration is self._traced:
            return
        self._traced = self.explorer.exploration
        if self.panel is not None:
            self._new_round()
        self._draw_geometry()

    # -- geometry --------------------------------------------------------------------------------
    def _geometry_possible(self):
        e = self.explorer.exploration
        return len(e.trace.outputs) == 1 and e.output_layout.size == 1

    def _on_geometry(self, change):
        self.geometry.layout.display = None if change["new"] else "none"
        self._draw_geometry()

    def _draw_geometry(self):
        if not self.geometry_toggle.value:
            return
        from ..display.geometry import geometry_svg, replay_values
        ex = self.explorer
        e = ex.exploration
        trace = e.trace
        args = [trace.nodes[i].ans for i in trace.inputs]
        dims = (0,) if e.input_layout.size == 1 else (0, 1)
        r = None
        if ex.mode.value == "forward":
            r = np.asarray(ex.current_seed.vector, dtype=float)
        replayable = replay_values(trace, [np.asarray([a]) for a in args]) is not None

        def evaluate(*values):
            out = e.at(*values).outputs
            return next(iter(out.values()))
        try:
            svg = geometry_svg(trace, r=r, lr=GEOMETRY_LR, dims=dims,
                               evaluate=None if replayable else evaluate,
                               resolution=25 if replayable else 11)
        except Exception as err:   # noqa: BLE001 -- shown in the panel, not lost
            svg = (f'<div class="adnb-geometry-error">geometry panel: '
                   f"{html.escape(type(err).__name__)}: {html.escape(str(err))}</div>")
        self.geometry.value = f'<div class="adnb-geometry-panel">{svg}</div>'


def attach(explorer, predict=False, geometry=False):
    """Add the predict and geometry toggles to ``explorer`` (a ``TraceExplorer``); returns the
    ``LearningPanels`` (also ``explorer.learning``)."""
    explorer.learning = LearningPanels(explorer, predict=predict, geometry=geometry)
    return explorer.learning
