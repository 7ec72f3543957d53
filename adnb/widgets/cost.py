"""CostExplorer: what a full Jacobian costs by forward mode, reverse mode and central differences.

A composition of stock ipywidgets around ``adnb.display.cost``: choose the largest dimension,
the fixed other dimension and (for the default network) the hidden width, press *run*; an
``IntProgress`` (``.adnb-cost-progress``) advances while the sweeps run; the figure arrives as a
PNG in an ``Image`` (``.adnb-cost-plot``) and the numbers in an ``HTML`` table
(``.adnb-cost-summary``). Measurements are cached, so moving back to a setting already measured
is instant. Errors appear in ``.adnb-error``.
"""
from __future__ import annotations

import base64
import functools
import html
import traceback

import ipywidgets as widgets

from ..display import cost as C

__all__ = ["CostExplorer"]

_DIMS = [2, 4, 8, 16, 32, 64, 128]


class CostExplorer(widgets.VBox):
    """Cost of jacfwd (D passes), jacrev (K passes) and central differences (2D evaluations).

    Args:
        family: ``family(D, K) -> (f, x)`` giving a function R^D → R^K and a point; default the
            small network y = tanh(A2 tanh(A1 x)) (``adnb.display.cost.network_family``).
        max_dim: largest D (and K) measured; dimensions are 1, 2, 4, … up to it.
        fixed: the other dimension while one varies.
        hidden: hidden width of the default network.
        timing: measure wall-clock time as well as operation counts.
        memory: add the memory panel (reverse mode's kept bytes against trace length).
        run: measure at once (otherwise on the first click of *run*).

    Attributes:
        results: ``{"D": CostSweep, "K": CostSweep, "memory": [MemoryPoint]}`` of the last run.
    """

    def __init__(self, family=None, max_dim=32, fixed=8, hidden=8, timing=True, memory=True,
                 run=True):
        super().__init__()
        self._user_family = family
        self.results = {}
        self._png_cache = {}
        # descriptions at their own width: the default 80 px cut "hidden width" to "hidden wi…"
        full = {"description_width": "initial"}
        self.max_dim = widgets.SelectionSlider(options=_DIMS, value=_closest(max_dim),
                                               description="max D, K", style=full)
        self.max_dim.add_class("adnb-cost-max")
        self.fixed = widgets.IntSlider(value=fixed, min=1, max=64, description="other dim",
                                       style=full)
        self.fixed.add_class("adnb-cost-fixed")
        self.hidden = widgets.IntSlider(value=hidden, min=1, max=64, description="hidden width",
                                        style=full)
        self.hidden.add_class("adnb-cost-hidden")
        if family is not None:
            self.hidden.layout.display = "none"
        self.timing = widgets.Checkbox(value=timing, description="measure time", indent=False)
        self.memory = widgets.Checkbox(value=memory, description="memory panel", indent=False)
        self.run_button = widgets.Button(description="run", button_style="primary", icon="play")
        self.run_button.add_class("adnb-cost-run")
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="")
        self.progress.add_class("adnb-cost-progress")
        self.status = widgets.HTML().add_class("adnb-cost-status")
        # the figure at its natural size (11 px text), scrolling sideways in a narrow panel
        # rather than shrinking below legibility
        self.plot = widgets.Image(format="png", layout=widgets.Layout(width="auto",
                                                                      max_width="none"))
        self.plot.add_class("adnb-cost-plot")
        plot_box = widgets.Box([self.plot], layout=widgets.Layout(overflow="auto",
                                                                  max_width="100%"))
        self.summary = widgets.HTML().add_class("adnb-cost-summary")
        self.error = widgets.HTML(layout=widgets.Layout(display="none")).add_class("adnb-error")
        self.children = [
            widgets.HTML("<b>Cost of a full Jacobian of f: R<sup>D</sup> → R<sup>K</sup></b>: "
                         "forward mode takes D passes, reverse mode K passes, central "
                         "differences 2D evaluations (Bishop &amp; Bishop §8.2)"),
            widgets.HBox([self.max_dim, self.fixed, self.hidden],
                         layout=widgets.Layout(flex_flow="row wrap")),
            widgets.HBox([self.timing, self.memory, self.run_button, self.progress, self.status],
                         layout=widgets.Layout(flex_flow="row wrap")),
            self.error, plot_box, self.summary]
        self.add_class("adnb-widget")
        self.add_class("adnb-cost-explorer")
        self.run_button.on_click(self._on_run)
        if run:
            self.run()

    @property
    def family(self):
        if self._user_family is not None:
            return self._user_family
        return _network(self.hidden.value)

    def _progress(self, done, total, label):
        self.progress.max = max(total, 1)
        self.progress.value = done
        self.status.value = html.escape(f"{done}/{total} {label}")

    def run(self):
        """Measure (cached), then redraw the figure and the table."""
        dims = [d for d in [1] + _DIMS if d <= self.max_dim.value]
        fixed = self.fixed.value
        self.progress.bar_style = "info"
        fam = self.family
        timing = self.timing.value
        d = C.cost_sweep("D", dims, fixed, family=fam, timing=timing, progress=self._step("D"))
        k = C.cost_sweep("K", dims, fixed, family=fam, timing=timing, progress=self._step("K"))
        mem = C.memory_growth(progress=self._step("memory")) if self.memory.value else None
        self.results = {"D": d, "K": k, "memory": mem}
        key = (tuple(dims), fixed, fam, timing, mem is not None)
        png = self._png_cache.get(key)
        if png is None:
            self.status.value = "drawing…"
            png = self._png_cache[key] = C.figure_png(C.plot_cost(d, k, mem, timing=timing))
        self.plot.value = png
        self.summary.value = _summary_html(d, k, mem)
        self.progress.bar_style = "success"
        self.status.value = "done"
        self._clear_error()

    def _step(self, phase):
        def cb(done, total, label):
            self._progress(done, total, f"{phase}: {label}")
        return cb

    def _on_run(self, _button):
        try:
            self.run()
        except Exception as err:  # noqa: BLE001 — shown to the user, not swallowed
            self.progress.bar_style = "danger"
            tb = "".join(traceback.format_exception(type(err), err, err.__traceback__)[-3:])
            self.error.value = f'<pre style="color:#a00">{html.escape(tb)}</pre>'
            self.error.layout.display = None

    def _clear_error(self):
        self.error.value = ""
        self.error.layout.display = "none"

    # -- static fallback ---------------------------------------------------------------------
    def to_text(self):
        r = self.results
        if not r:
            return "<adnb CostExplorer: not run yet>"
        return C.summary_text(r["D"], r["K"], r["memory"])

    def to_html(self):
        img = ""
        if self.plot.value:
            img = (f'<img class="adnb-cost-plot" alt="cost against dimension" '
                   f'src="data:image/png;base64,{base64.b64encode(self.plot.value).decode()}"/>')
        return f'<div class="adnb-cost-static">{img}{self.summary.value}</div>'

    def _repr_mimebundle_(self, **kwargs):
        data = super()._repr_mimebundle_(**kwargs) or {}
        data["text/plain"] = self.to_text()
        data["text/html"] = self.to_html()
        return data

    def __repr__(self):
        return "<adnb CostExplorer>"


def _closest(n):
    return min(_DIMS, key=lambda d: abs(d - n))


@functools.lru_cache(maxsize=None)
def _network(hidden):
    """One family object per width, so the measurement cache recognises it."""
    def network(D, K):
        return C.network_family(D, K, hidden=hidden)
    network.__name__ = f"network(hidden={hidden})"
    return network


def _summary_html(d, k, mem):
    rows = []
    for s in (d, k):
        x = C.crossover(s)
        cross = (f"crossover at {s.vary} ≈ {C.number_text(x)}" if x is not None
                 else "no crossover in range")
        rows.append(f"<p>against {s.vary} (other dimension {s.fixed}): {cross}</p>")
        body = "".join(
            f"<tr><td>{p.method}</td><td>{p.D}</td><td>{p.K}</td><td>{p.passes}</td>"
            f"<td>{p.flops}</td><td>{C.number_text(p.pass_ratio, '.2f')}×</td>"
            f"<td>{'' if p.seconds is None else f'{p.seconds * 1e3:.3f}'}</td></tr>"
            for p in sorted(s.points, key=lambda p: (getattr(p, s.vary), C.METHODS.index(p.method))))
        rows.append("<details><summary>numbers</summary><table class='adnb-cost-table'><tr>"
                    "<th>method</th><th>D</th><th>K</th><th>passes</th><th>flops</th>"
                    "<th>(primal + derivative) / primal</th><th>ms</th></tr>" + body + "</table></details>")
    if mem:
        rows.append("<p>memory: reverse mode keeps "
                    + ", ".join(f"{p.reverse_bytes} B at {p.nodes} nodes" for p in mem)
                    + f"; forward mode (online) keeps {mem[0].forward_bytes} B throughout.</p>")
    return "<div class='adnb-cost-summary'>" + "".join(rows) + "</div>"
