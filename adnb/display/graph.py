"""The computational graph of a trace (Bishop & Bishop Figures 8.4 and 8.5).

Lets you:

* ``to_networkx(trace, forward=None, reverse=None)`` — a ``networkx.DiGraph`` with one node per
  variable v_i (keyed by its label "v3") and one edge per parent → child use, carrying everything
  a learner might query: operation, formula, value, shape, user name, input/output flags,
  tangents/adjoints if given, and on each edge the local partial ∂v_j/∂v_i (number and formula).
* ``fold_graph(trace, max_nodes=200)`` — the same graph with loop iterations and repeated
  structure folded into box nodes when the trace is too big to draw (counts add up).
* ``draw_graph(trace, ax=None, forward=None, reverse=None, step=None, mode=None)`` — draw it with
  matplotlib in the book's layout: inputs first, outputs last, nodes layered by depth, edges
  labelled with ∂v_j/∂v_i, a sweep's state at step k highlighted. No Graphviz needed.
* ``graph_png(...)`` / ``graph_svg(...)`` — the drawing as PNG bytes (matplotlib) or SVG text
  (written directly by ``adnb.display.svg``, no matplotlib: what widgets show).

Both drawings use one layout, ``adnb.display.layout.graph_layout`` (layered, grandalf's
Sugiyama layout, cached per trace). matplotlib is imported inside the drawing functions only.
"""
from __future__ import annotations

import io

import networkx as nx

from . import _format as F
from . import svg as _svg
from ._rules import formula, jvp_text, op_symbol, partial_text
from .layout import (COLORS, NODE_PX, RADIUS, SMALL_PX, fold_groups, graph_from_groups,
                     graph_layout, output_labels, title_text, value_text)
from .sweep import local_partial, quiet, resolve_sweep

__all__ = ["to_networkx", "fold_graph", "draw_graph", "graph_png", "graph_svg"]


def _depths(trace):
    depth = [0] * len(trace.nodes)
    for n in trace.nodes:
        ps = [depth[p] for p in n.parents if p >= 0]
        depth[n.index] = (max(ps) + 1) if ps else 0
    return depth


def to_networkx(trace, forward=None, reverse=None):
    """The trace as a directed graph: v_i → v_j for every parent i of j.

    Args:
        trace: a ``Trace``.
        forward: optional ``ForwardResult``: node attributes ``tangent`` (first seed) and
            ``tangents`` ({seed label: v̇_i}).
        reverse: optional ``ReverseResult``: ``adjoint`` (first seed), ``adjoints``
            ({seed label: v̄_i}).

    Returns:
        networkx.DiGraph keyed by labels "v1", "v2", ... Node attributes: ``index``, ``label``,
        ``op`` (primitive name or "input"), ``symbol``, ``formula`` ("v1 v2"), ``value``,
        ``shape``, ``name`` (user's name or None), ``is_input``, ``is_output``, ``outputs``
        (["f1"]), ``depth``, ``loc``, and tangents/adjoints as above. Edge attributes: ``argnums``
        (argument positions of the child fed by the parent; two for ``x * x``), ``partial`` (the
        number ∂v_j/∂v_i, summed over argnums, None for non-elementwise operations),
        ``formula`` (its text, "cos(v2)"; for non-elementwise ops the tangent rule, "v̇1 @ v2"),
        ``rule`` (the child's primitive), ``cut`` (True into ``stop_gradient``: partial 0).
        Graph attributes: ``function_name``, ``inputs``,
        ``outputs``, ``tangent_labels``, ``adjoint_labels``.
    """
    g = nx.DiGraph()
    names = [n.label for n in trace.nodes]
    outs = output_labels(trace)
    depth = _depths(trace)
    g.graph.update(function_name=trace.function_name,
                   inputs=[names[i] for i in trace.inputs],
                   outputs=[names[o] if o >= 0 else None for o in trace.outputs],
                   tangent_labels=list(forward.labels) if forward else [],
                   adjoint_labels=list(reverse.labels) if reverse else [])
    for n in trace.nodes:
        attrs = dict(index=n.index, label=n.label,
                     op=n.prim.name if n.prim is not None else "input",
                     symbol=op_symbol(n), formula=formula(n) if n.prim else "input",
                     value=n.ans, shape=tuple(n.shape) if n.shape is not None else (),
                     name=n.name, is_input=n.prim is None, is_output=n.index in outs,
                     outputs=outs.get(n.index, []), depth=depth[n.index], loc=n.loc)
        if forward is not None:
            attrs["tangents"] = {lab: forward.tangents[s][n.index]
                                 for s, lab in enumerate(forward.labels)}
            attrs["tangent"] = forward.tangents[0][n.index] if forward.tangents else None
        if reverse is not None:
            attrs["adjoints"] = {lab: reverse.adjoints[s][n.index]
                                 for s, lab in enumerate(reverse.labels)}
            attrs["adjoint"] = reverse.adjoints[0][n.index] if reverse.adjoints else None
        g.add_node(n.label, **attrs)
    with quiet():
        for n in trace.nodes:
            by_parent = {}
            for k, p in enumerate(n.parents):
                if p >= 0:
                    by_parent.setdefault(p, []).append(k)
            for p, ks in by_parent.items():
                partial, texts = None, []
                if n.prim.elementwise:
                    vals = [local_partial(n, k) for k in ks]
                    if all(v is not None for v in vals):
                        partial = vals[0]
                        for v in vals[1:]:
                            partial = partial + v
                    texts = [partial_text(n, k, names) for k in ks]
                else:
                    texts = [jvp_text(n, k, names, "v\u0307" + str(p + 1)) for k in ks]
                cut = getattr(n.prim, "kind", None) == "stop_gradient"   # derivative 0
                g.add_edge(names[p], n.label, argnums=ks, partial=0.0 if cut else partial,
                           formula=" + ".join(t for t in texts if t), rule=n.prim.name, cut=cut)
    return g


# ---- folding -----------------------------------------------------------------------------------

def fold_graph(trace, max_nodes=200, keep=()):
    """The graph with loop iterations / repeated structure folded to at most about
    ``max_nodes`` nodes.

    Args:
        trace: a ``Trace``.
        max_nodes: fold when the trace has more nodes than this (None: never).
        keep: node indices that must stay visible (outputs are always kept).

    Returns:
        networkx.DiGraph keyed by labels ("v3") for kept nodes and "fold:lo-hi" for folded runs.
        Node attributes: ``kind`` ("node" | "fold"), ``count`` (trace nodes it stands for),
        ``lo``/``hi`` (index range), ``label`` (text to draw), ``index`` (first trace node).
        Graph attribute ``folded`` = number of trace nodes inside fold nodes; the counts add up
        to the trace length.
    """
    keep = set(keep) | {o for o in trace.outputs if o >= 0}
    return graph_from_groups(trace, fold_groups(trace, max_nodes, keep))[0]


# ---- drawing with matplotlib (the layout of adnb.display.layout, in px) -------------------------

def draw_graph(trace, ax=None, forward=None, reverse=None, step=None, mode=None, max_nodes=200,
               edge_labels=None, values=None, direction="auto"):
    """Draw the computational graph in the layered layout of Bishop & Bishop Figures 8.4/8.5
    (the same layout as ``graph_svg``: ``adnb.display.layout.graph_layout``).

    Args:
        trace: a ``Trace``.
        ax: matplotlib Axes to draw into (default: a new pyplot figure sized to the graph).
        forward, reverse: sweep results; their values are written under the nodes.
        step, mode: highlight the state of the ``mode`` sweep ("forward"/"reverse") at ``step``
            (see ``adnb.display.sweep.sweep_state``); the result is computed if not given.
        max_nodes: traces with more nodes are folded (loop iterations, then runs of nodes)
            into grey boxes, and the title says how many nodes were folded.
        edge_labels: write ∂v_j/∂v_i on the edges (default: when at most 40 nodes are drawn).
        values: write the primal (and tangent/adjoint) under each node (default: when at most
            40 nodes are drawn).
        direction: "LR" (inputs left), "TB" (inputs on top) or "auto".

    Returns:
        the matplotlib Axes (data coordinates are the layout's pixels, y downwards).

    Visual encoding: as ``adnb.display.svg.graph_svg`` — circles are variables labelled v_i and
    their operation, inputs light blue, outputs orange with an arrow to their name; arrows go
    from parent to child and are labelled with the local partial ∂v_j/∂v_i; under each node its
    value and v̇/v̄; a sweep at a step colours nodes done (green), in progress (yellow, thick
    border), pending (pale grey); red = inf/nan; grey dashed boxes are folded nodes.
    """
    mode, forward, reverse, state = resolve_sweep(trace, forward, reverse, step, mode)
    keep = frozenset(state.current) if state else frozenset()
    lay = graph_layout(trace, max_nodes=max_nodes, keep=keep, edge_labels=edge_labels,
                       direction=direction)
    values = lay.values if values is None else values
    if ax is None:
        import matplotlib.pyplot as plt
        _, ax = plt.subplots(figsize=(max(lay.width, 200) / 72, (lay.height + 50) / 72))
    _mpl_edges(ax, lay, trace, state)
    values_of = ((lambda nd: value_text(trace, nd, forward, reverse, mode, state))
                 if values else None)
    _mpl_nodes(ax, lay, trace, state, values_of)
    bottom = lay.height
    keys = ([_svg.EDGE_KEY] if lay.labels or lay.omitted else []) + \
        [f"\u2202{v}/\u2202{u}: {text}" for (u, v), text in lay.omitted]
    for k, text in enumerate(keys):        # the key of the edge labels, as under the SVG
        ax.text(8, lay.height + 4 + 14 * k, text, ha="left", va="top", fontsize=SMALL_PX,
                parse_math=False, color="#333333")
        bottom = lay.height + 4 + 14 * (k + 1)
    ax.set_xlim(0, max(lay.width, 1.0))
    ax.set_ylim(max(bottom, 1.0), 0)
    ax.set_aspect("equal", adjustable="box")
    ax.axis("off")
    ax.set_title(title_text(trace, lay.g, state, mode), fontsize=NODE_PX, parse_math=False)
    return ax


def _arrowhead(a, b, length=8.0, width=4.5):
    """The triangle of an arrowhead ending at b, pointing along a → b."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    d = (dx * dx + dy * dy) ** 0.5 or 1.0
    ux, uy = dx / d, dy / d
    bx, by = b[0] - ux * length, b[1] - uy * length
    return [b, (bx - uy * width, by + ux * width), (bx + uy * width, by - ux * width)]


def _mpl_edges(ax, lay, trace, state):
    """Edges (one collection), arrowheads, the active edges, labels and output arrows."""
    from matplotlib.collections import LineCollection, PatchCollection
    from matplotlib.patches import Polygon

    lines = list(lay.edges.values()) + [[a, b] for _, a, b, *_ in lay.outputs]
    heads = [Polygon(_arrowhead(p[-2], p[-1]), closed=True) for p in lines]
    cut = [bool(lay.g.edges[e].get("cut")) for e in lay.edges] + [False] * len(lay.outputs)
    ax.add_collection(LineCollection(lines, colors=["#b03030" if c else "#555555" for c in cut],
                                     linestyles=["--" if c else "-" for c in cut],
                                     linewidths=0.9, zorder=1))     # cut: into stop_gradient
    ax.add_collection(PatchCollection(heads, facecolors="#555555", edgecolors="none", zorder=1))
    if state is not None:
        active = [lay.edges[(lay.owner[p], lay.owner[c])] for c in state.current
                  for p in set(trace.nodes[c].parents)
                  if p >= 0 and (lay.owner[p], lay.owner[c]) in lay.edges]
        ax.add_collection(LineCollection(active, colors="#b08800", linewidths=2.2, zorder=1))
    for lab in lay.labels:
        ax.text(lab.x, lab.y, "\n".join(lab.lines), fontsize=SMALL_PX, ha="center",
                va="center", color="#333366", zorder=3, parse_math=False, linespacing=1.0,
                bbox=dict(boxstyle="square,pad=0.1", fc="white", ec="none"))
    for _, _, _, text, at, anchor in lay.outputs:
        ax.text(at[0], at[1], text, ha="left" if anchor == "start" else "center", va="center",
                fontsize=NODE_PX, fontweight="bold", zorder=4, parse_math=False)


def _node_color(trace, s, state):
    node = trace.nodes[s.index]
    if F.is_nonfinite(node.ans):
        return COLORS["nonfinite"]
    if state is not None:
        return COLORS[state.status(s.index)]
    return COLORS[s.role]


def _mpl_nodes(ax, lay, trace, state, values_of):
    """Circles and fold boxes (one collection each) and their texts."""
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Circle, FancyBboxPatch

    circles, boxes = [], []
    for s in lay.nodes.values():
        if s.kind == "fold":
            boxes.append(FancyBboxPatch((s.x - s.w / 2, s.y - s.h / 2), s.w, s.h,
                                        boxstyle="round,pad=2"))
            ax.text(s.x, s.y, "\n".join(s.lines), ha="center", va="center", fontsize=SMALL_PX,
                    zorder=4, parse_math=False)
            continue
        current = state is not None and s.index in state.current
        circles.append(Circle((s.x, s.y), RADIUS, fc=_node_color(trace, s, state),
                              ec="#b08800" if current else "#333333", lw=2.5 if current else 1.0))
        ax.text(s.x, s.y, "\n".join(s.lines), ha="center", va="center", zorder=4,
                parse_math=False, fontsize=s.px, linespacing=1.0,
                fontweight="bold" if s.role == "output" else "normal")
        if s.name:
            ax.text(s.x, s.y - RADIUS - 3, s.name, ha="center", va="bottom", fontsize=SMALL_PX,
                    style="italic", color="#222255", zorder=4, parse_math=False)
        vt = values_of(trace.nodes[s.index]) if values_of else ""
        if vt:
            x, y = (s.x + RADIUS + 4, s.y) if s.values_right else (s.x, s.y + RADIUS + 3)
            ax.text(x, y, vt, ha="left" if s.values_right else "center",
                    va="center" if s.values_right else "top", fontsize=SMALL_PX,
                    color="#444444", zorder=4, parse_math=False, linespacing=1.0)
    ax.add_collection(PatchCollection(circles, match_original=True, zorder=2))
    if boxes:
        ax.add_collection(PatchCollection(boxes, facecolors=COLORS["fold"], edgecolors="#888888",
                                          linestyles="--", zorder=2))


def _render(trace, fmt, dpi, kwargs):
    """Draw on a pyplot-free Figure sized to the graph and save it in ``fmt``."""
    import matplotlib as mpl
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure()
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    draw_graph(trace, ax=ax, **kwargs)
    # one data unit is one pixel of the layout, one point of text one pixel at 72 dpi: the
    # picture matches graph_svg's at 100 % (capped at 40 × 30 inches)
    x0, x1 = ax.get_xlim()
    y1, y0 = ax.get_ylim()
    n_title = len(ax.get_title().split("\n"))
    w, h = (x1 - x0) / 72, (y1 - y0 + 18 * n_title + 16) / 72
    fig.set_size_inches(min(w, 40), min(h, 30))
    fig.subplots_adjust(left=0, right=1, bottom=0, top=1 - (18 * n_title + 8) / 72 / h)
    # unhinted text rasterises about a third faster and looks the same at these sizes;
    # SVG keeps text as text (no glyph outlines): small files, quick to write
    rc = {"text.hinting": "none", "svg.fonttype": "none"}
    buf = io.BytesIO()
    # light PNG compression: encoding time matters more than bytes for an inline image
    extra = {"pil_kwargs": {"compress_level": 1}} if fmt == "png" else {}
    with mpl.rc_context(rc):
        fig.savefig(buf, format=fmt, dpi=dpi, **extra)
    return buf.getvalue()


def graph_png(trace, forward=None, reverse=None, step=None, mode=None, dpi=90, **kwargs):
    """``draw_graph`` rendered to PNG bytes, without pyplot (no figure is left open).

    Args:
        trace, forward, reverse, step, mode: as for ``draw_graph``.
        dpi: resolution.
        **kwargs: passed to ``draw_graph`` (max_nodes, edge_labels, values).

    Returns:
        bytes of a PNG image.
    """
    kwargs.update(forward=forward, reverse=reverse, step=step, mode=mode)
    return _render(trace, "png", dpi, kwargs)


def graph_svg(trace, forward=None, reverse=None, step=None, mode=None, **kwargs):
    """The drawing as SVG markup, written directly without matplotlib
    (``adnb.display.svg.graph_svg``: the same picture, its visual encoding documented there),
    fast enough to redraw at every step of a sweep: the layout is cached per trace.

    Args:
        trace, forward, reverse, step, mode: as for ``draw_graph``.
        **kwargs: max_nodes, edge_labels, values, direction (as for ``draw_graph``).

    Returns:
        str: one ``<svg>`` element (inline in HTML or saved as a file).
    """
    return _svg.graph_svg(trace, forward=forward, reverse=reverse, step=step, mode=mode, **kwargs)
