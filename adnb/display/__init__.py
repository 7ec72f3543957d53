"""adnb's displays: pure functions from traces and sweep results to HTML, text, graphs and code.

Lets you see automatic differentiation happen (Bishop & Bishop §8.2):

* ``trace_table`` / ``trace_text`` — the evaluation-trace table with primals, tangents and
  adjoints, expandable sums, loop folding and a sweep shown step by step (``adnb.display.html``);
* ``to_networkx`` / ``draw_graph`` / ``graph_png`` / ``graph_svg`` — the computational graph of Figures 8.4/8.5
  (``adnb.display.graph``; ``graph_svg`` writes SVG directly, without matplotlib, and
  ``graph_html`` puts it in a box that scrolls to the node in progress: ``adnb.display.svg``);
  both drawings share one layered layout cached per trace (``adnb.display.layout``);
* ``tangent_code`` / ``adjoint_code`` — the derivative programs AD generates, as runnable Python
  (``adnb.display.codegen``);
* ``difference_errors`` / ``plot_difference_errors`` — finite differences against step size,
  Figure 8.2 (``adnb.display.numerical``);
* ``to_sympy`` / ``swell_report`` / ``logistic_swell`` — symbolic differentiation and expression
  swell, eq. (8.48) and Exercise 8.14 (``adnb.display.symbolic``, needs ``adnb[symbolic]``).

No IPython or ipywidgets here; matplotlib and sympy are imported only inside the functions that
draw or do algebra.
"""
from .html import trace_table, trace_text
from .graph import to_networkx, draw_graph, graph_png, graph_svg, fold_graph
from .layout import graph_layout
from .svg import graph_html
from .codegen import tangent_code, adjoint_code, compile_code
from .numerical import difference_errors, plot_difference_errors
from .symbolic import to_sympy, symbolic_derivatives, swell_report, logistic_swell
from .sweep import sweep_steps, sweep_state
from .folding import find_loops

__all__ = ["trace_table", "trace_text", "to_networkx", "draw_graph", "graph_png", "graph_svg", "fold_graph",
           "graph_layout", "graph_html",
           "tangent_code", "adjoint_code", "compile_code", "difference_errors",
           "plot_difference_errors", "to_sympy", "symbolic_derivatives", "swell_report",
           "logistic_swell", "sweep_steps", "sweep_state", "find_loops"]
