"""PredictPanel: predict each value of a sweep before it is revealed (stock ipywidgets).

The logic is ``adnb.display.predict`` (questions, tolerance, verdicts, classic mistakes, score);
this module only lays it out:

* ``HTML`` (``.adnb-predict-table``): the trace table stopped at the question's step, the value
  to predict shown as ``?`` (``adnb.display.predict.predict_table``);
* ``HTML`` (``.adnb-predict-question``): ``v̄3 = ?`` and the rule's shape;
* ``Text`` (``.adnb-predict-answer``) + ``Button`` "Check" (``.adnb-predict-check``) + ``Button``
  "Reveal" (``.adnb-predict-reveal``); Enter in the text box checks too;
* ``HTML`` (``.adnb-predict-verdict``): right, or wrong with the rule, its numbers and the
  classic mistake the answer matches;
* ``HTML`` (``.adnb-predict-score``): "Score: 2 right · 1 wrong · 1 revealed".

Without a widget frontend (nbconvert, GitHub) it shows the blanks as an exercise with the answers
in a collapsed block (``adnb.display.predict.exercise_html``).
"""
from __future__ import annotations

import html

import ipywidgets as widgets

from ..display.predict import PredictSession, exercise_html, predict_table

__all__ = ["PredictPanel"]

_WHAT = {"primal": "the value", "forward": "the tangent (forward mode)",
         "reverse": "the adjoint (reverse mode)"}


class PredictPanel(widgets.VBox):
    """Predict mode for one sweep of a trace.

    Args:
        trace: an explore-mode ``Trace`` (``adnb.trace`` or an ``Exploration``'s trace).
        mode: ``"primal"``, ``"forward"`` or ``"reverse"``.
        forward, reverse: the sweep results (default seeds if not given); ``column``: the seed.
        show_table: include the table (the explorer shows its own and reads ``table_html()``).
        on_change: called with the panel after every answer or reveal.

    Attributes:
        session: the ``adnb.display.predict.PredictSession`` (questions, score).
        table, question, answer, check_button, reveal_button, verdict, score: the child widgets.
    """

    def __init__(self, trace, mode="reverse", forward=None, reverse=None, column=0,
                 show_table=True, on_change=None):
        super().__init__()
        self.session = PredictSession(trace, mode, forward, reverse, column)
        self.on_change = on_change
        self.table = widgets.HTML().add_class("adnb-predict-table")
        self.question = widgets.HTML().add_class("adnb-predict-question")
        self.answer = widgets.Text(placeholder="your number, e.g. 8.389",
                                   continuous_update=False, layout=widgets.Layout(width="180px"))
        self.answer.add_class("adnb-predict-answer")
        # Enter (or leaving the box) sends the value: check it. The button checks what is
        # typed unless that very answer was just checked (blur, then click).
        self._last = None
        self.answer.observe(lambda change: self._typed(change["new"]), names="value")
        self.check_button = widgets.Button(description="Check", button_style="primary",
                                           layout=widgets.Layout(width="80px"))
        self.check_button.add_class("adnb-predict-check")
        self.check_button.on_click(lambda _: self._typed(self.answer.value))
        self.reveal_button = widgets.Button(description="Reveal",
                                            layout=widgets.Layout(width="80px"))
        self.reveal_button.add_class("adnb-predict-reveal")
        self.reveal_button.on_click(lambda _: self.reveal())
        self.verdict = widgets.HTML().add_class("adnb-predict-verdict")
        self.score = widgets.HTML().add_class("adnb-predict-score")
        row = widgets.HBox([self.question, self.answer, self.check_button, self.reveal_button])
        self.children = ([self.table] if show_table else []) + [row, self.verdict, self.score]
        self.add_class("adnb-predict")
        self._refresh()

    @property
    def step(self):
        """The sweep step of the current question (None when all are done)."""
        q = self.session.current
        return None if q is None else q.step

    def table_html(self):
        """The table with the values still to predict blanked (``predict_table``)."""
        return predict_table(self.session)

    def _typed(self, text):
        if text.strip() and (self.session.position, text) != self._last:
            self.check(text)

    def check(self, text=None):
        """Check ``text`` (default: what is typed in the box); returns the ``Verdict``."""
        text = self.answer.value if text is None else text
        self._last = (self.session.position, text)
        try:
            verdict = self.session.answer(text)
        except ValueError as err:
            self.verdict.value = f'<div class="adnb-verdict adnb-wrong">{html.escape(str(err))}</div>'
            return None
        self.verdict.value = verdict.html()
        if verdict.correct:
            self.answer.value = ""
        self._refresh()
        return verdict

    def reveal(self):
        """Show the current value (with its rule) and move on; returns the ``Question``."""
        q = self.session.reveal()
        if q is not None:
            self.verdict.value = ('<div class="adnb-verdict adnb-revealed">'
                                  f'revealed: {html.escape(q.explanation())}</div>')
            self.answer.value = ""
        self._refresh()
        return q

    def _refresh(self):
        q = self.session.current
        if q is None:
            self.question.value = "<b>every value predicted</b>"
            self.answer.disabled = self.check_button.disabled = self.reveal_button.disabled = True
        else:
            self.question.value = (f'<span title="{html.escape(_WHAT[q.mode])}">'
                                   f"<b>{html.escape(q.symbol)} = ?</b></span>")
        self.score.value = f"<small>{html.escape(self.session.score_line)}</small>"
        if any(self.table is c for c in self.children):
            self.table.value = self.table_html()
        if self.on_change is not None:
            self.on_change(self)

    def _repr_mimebundle_(self, **kwargs):
        data = super()._repr_mimebundle_(**kwargs) or {}
        data["text/html"] = exercise_html(self.session.trace, self.session.mode,
                                          qs=self.session.questions)
        data["text/plain"] = f"<adnb PredictPanel: {self.session.score_line}>"
        return data
