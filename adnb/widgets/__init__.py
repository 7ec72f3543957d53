"""Interactive explorers built from stock ipywidgets (imported on first use).

* ``TraceExplorer(exploration)`` — toggle forward/reverse, step through a sweep, choose the seed,
  move the inputs, watch the Jacobian fill in (``adnb.explore(...).widget()``).
* ``CostExplorer()`` — cost of jacfwd, jacrev and central differences against the input and
  output dimension, and the memory of reverse mode.
* ``PredictPanel(trace, mode)`` — predict each value of a sweep before it is revealed, with
  verdicts that name the classic mistakes and a score.
"""

__all__ = ["TraceExplorer", "CostExplorer", "PredictPanel"]


def __getattr__(name):
    if name == "TraceExplorer":
        from .explorer import TraceExplorer
        return TraceExplorer
    if name == "PredictPanel":
        from .predict import PredictPanel
        return PredictPanel
    if name == "CostExplorer":
        from .cost import CostExplorer
        return CostExplorer
    raise AttributeError(f"module 'adnb.widgets' has no attribute {name!r}")
