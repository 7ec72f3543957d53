"""The computational graph as SVG text, written directly (no matplotlib): fast enough to redraw
on every step of a sweep.

Lets you:

* ``graph_svg(trace, forward=None, reverse=None, step=None, mode=None, max_nodes=200)`` — the
  picture of Bishop & Bishop Figures 8.4/8.5 as one ``<svg>`` element at its natural size (text
  10–12 px at 100 %), valid inline in HTML and as an ``.svg`` file;
* ``graph_html(...)`` — the same inside a scrolling box that opens scrolled to the node in
  progress (``scroll-initial-target``; browsers without it start at the top left), so the whole
  graph is reachable and a sweep's current node is in view at every step: what the explorer
  widget shows;
* ``graph_layout(...)`` — the layout both this writer and ``graph.draw_graph`` draw
  (``adnb.display.layout``), cached per trace: a step only re-writes colours, values and title.

Speed: the book's example draws in well under a millisecond once its layout is cached; the
first draw computes the layout (grandalf's Sugiyama layout and the label placement).
"""
from __future__ import annotations

import html
import weakref

from . import _format as F
from ._rules import formula
from .layout import (COLORS, NODE_PX, RADIUS, SMALL_PX, graph_layout, text_width, title_text,
                     value_text)
from .sweep import resolve_sweep

__all__ = ["graph_svg", "graph_html", "graph_layout"]

_FONT = "DejaVu Sans, Verdana, Arial, sans-serif"
_EDGE = "#555555"
_ACTIVE = "#b08800"          # border of the node in progress and the edges it uses
_TITLE_PX = 12
_TITLE_LINE = 16             # px per title line
_LEGEND_LINE = 18            # px per legend row
_VIEW_MAX_HEIGHT = 640       # px: taller graphs scroll inside graph_html's box

_STATIC = weakref.WeakKeyDictionary()    # GraphLayout -> {top offset: static SVG parts}


def _esc(s):
    return html.escape(str(s), quote=True)


def _n(v):
    """A coordinate: one decimal place, no trailing ".0" (small, stable SVG text)."""
    r = round(v, 1)
    return str(int(r)) if r == int(r) else str(r)


def _lines(x, y, lines, px, line_h=None, anchor="middle", extra="", top=False):
    """A multi-line ``<text>``: the block vertically centred on y, or starting at y (top)."""
    line_h = line_h or round(px * 1.2, 1)
    y0 = y + 0.8 * px if top else y - (len(lines) - 1) * line_h / 2 + 0.35 * px
    spans = "".join(f'<tspan x="{_n(x)}" y="{_n(y0 + k * line_h)}">{_esc(s)}</tspan>'
                    for k, s in enumerate(lines))
    return f'<text text-anchor="{anchor}" font-size="{px}"{extra}>{spans}</text>'


def _path(points, dy):
    return "M" + "L".join(f"{_n(x)} {_n(y + dy)}" for x, y in points)


def _head(a, b, dy, length=8.0, width=4.5):
    """An arrowhead ending at b, pointing along a → b (a closed subpath of a ``<path>``)."""
    dx, dyy = b[0] - a[0], b[1] - a[1]
    d = (dx * dx + dyy * dyy) ** 0.5 or 1.0
    ux, uy = dx / d, dyy / d
    bx, by = b[0] - ux * length, b[1] + dy - uy * length
    return (f"M{_n(b[0])} {_n(b[1] + dy)}L{_n(bx - uy * width)} {_n(by + ux * width)}"
            f"L{_n(bx + uy * width)} {_n(by - ux * width)}Z")


def _static(lay, top):
    """The parts of the drawing that do not change while a sweep steps (cached per layout):
    edges, edge labels, output arrows and each node's inner SVG, shifted down by ``top``."""
    per = _STATIC.setdefault(lay, {})
    got = per.get(top)
    if got is not None:
        return got
    trace = lay.trace()
    cut = {e for e in lay.edges if lay.g.edges[e].get("cut")}    # into stop_gradient: dashed
    shafts = [_path(pts, top) for e, pts in lay.edges.items() if e not in cut]
    cut_shafts = [_path(pts, top) for e, pts in lay.edges.items() if e in cut]
    heads = [_head(pts[-2], pts[-1], top) for pts in lay.edges.values()]
    labels = []
    for lab in lay.labels:
        u, v = lab.edge
        labels.append(
            f'<g class="adnb-edge-label" data-edge="{_esc(u)}-{_esc(v)}">'
            f'<rect x="{_n(lab.x - lab.w / 2)}" y="{_n(lab.y - lab.h / 2 + top)}" '
            f'width="{_n(lab.w)}" height="{_n(lab.h)}" fill="#ffffff" fill-opacity="0.92"/>'
            + _lines(lab.x, lab.y + top, lab.lines, SMALL_PX, line_h=12,
                     extra=' fill="#333366"') + "</g>")
    for _, a, b, text, at, anchor in lay.outputs:
        shafts.append(_path([a, b], top))
        heads.append(_head(a, b, top))
        labels.append(f'<text x="{_n(at[0])}" y="{_n(at[1] + top + 0.35 * NODE_PX)}" '
                      f'text-anchor="{anchor}" font-size="{NODE_PX}" font-weight="bold" '
                      f'class="adnb-output-name">{_esc(text)}</text>')
    edge_svg = ""
    if shafts:
        edge_svg = (f'<path class="adnb-edges" d="{"".join(shafts)}" fill="none" '
                    f'stroke="{_EDGE}" stroke-width="1.2"/>'
                    f'<path d="{"".join(heads)}" fill="{_EDGE}" stroke="none"/>')
    if cut_shafts:
        edge_svg += (f'<path class="adnb-cut-edges" d="{"".join(cut_shafts)}" fill="none" '
                     'stroke="#b03030" stroke-width="1.2" stroke-dasharray="4 3"/>')
    inner = {k: _node_inner(trace, s, top) for k, s in lay.nodes.items() if s.kind == "node"}
    got = per[top] = (edge_svg, "".join(labels), inner)
    return got


def _node_inner(trace, s, top):
    """A circle's static texts: label lines, the user's name above, the tooltip."""
    nd = trace.nodes[s.index]
    weight = ' font-weight="bold"' if s.role == "output" else ""
    inner = [_lines(s.x, s.y + top, s.lines, s.px, extra=weight)]
    if s.name:
        inner.append(f'<text x="{_n(s.x)}" y="{_n(s.y + top - RADIUS - 4)}" text-anchor="middle" '
                     f'font-size="{SMALL_PX}" font-style="italic" fill="#225" '
                     f'class="adnb-name">{_esc(s.name)}</text>')
    tip = f"{nd.label} = {formula(nd)}" if nd.prim is not None else f"{nd.label}: input"
    if nd.name and nd.name != nd.label:
        tip += f"  ({nd.name})"
    tip += f"\nvalue {F.short(nd.ans)}"
    return f"<title>{_esc(tip)}</title>" + "".join(inner)


_LEGEND_STATE = [("done", "done"), ("current", "in progress"), ("pending", "pending")]
_LEGEND_PLAIN = [("input", "input"), ("op", "operation"), ("output", "output")]
#: the key of the edge labels (Bishop & Bishop's local partial derivative of a child by a parent)
EDGE_KEY = "edge label: the local partial \u2202v\u2c7c/\u2202v\u1d62 of the edge v\u1d62 \u2192 v\u2c7c"


def _legend_items(lay, state, has_idle, has_nonfinite):
    items = [("circle", key, text) for key, text in
             (_LEGEND_STATE if state is not None else _LEGEND_PLAIN)]
    if state is not None and has_idle:
        items.append(("circle", "idle", "not reached"))
    if has_nonfinite:
        items.append(("circle", "nonfinite", "inf/nan"))
    if any(s.kind == "fold" for s in lay.nodes.values()):
        items.append(("fold", "fold", "folded nodes"))
    return items


def _legend(lay, state, has_idle, has_nonfinite, y, width):
    """The legend rows from y: swatches wrapped at ``width``, then the edge-label key and any
    label that found no room on its edge. Returns (svg, height, widest row)."""
    out, x, row, widest = ['<g class="adnb-legend" font-size="10">'], 8.0, 0, 0.0
    for shape, key, text in _legend_items(lay, state, has_idle, has_nonfinite):
        step = 24 + text_width(text, SMALL_PX) + 10
        if x + step > width and x > 8:
            x, row = 8.0, row + 1
        cy = y + row * _LEGEND_LINE + _LEGEND_LINE / 2
        if shape == "circle":
            stroke, sw = (_ACTIVE, 2.5) if key == "current" else ("#333333", 1)
            out.append(f'<circle cx="{_n(x + 6)}" cy="{_n(cy)}" r="6" fill="{COLORS[key]}" '
                       f'stroke="{stroke}" stroke-width="{sw}"/>')
        else:
            out.append(f'<rect x="{_n(x)}" y="{_n(cy - 6)}" width="18" height="12" rx="3" '
                       f'fill="{COLORS["fold"]}" stroke="#888888" stroke-dasharray="3 2"/>')
        out.append(f'<text x="{_n(x + 22)}" y="{_n(cy + 3.5)}">{_esc(text)}</text>')
        x += step
        widest = max(widest, x)
    lines = [EDGE_KEY] if lay.labels or lay.omitted else []
    lines += [f"\u2202{v}/\u2202{u}: {text}" for (u, v), text in lay.omitted]
    for k, text in enumerate(lines):
        cy = y + (row + 1 + k) * _LEGEND_LINE + _LEGEND_LINE / 2
        cls = ' class="adnb-edge-key"' if k == 0 else ""
        out.append(f'<text x="8" y="{_n(cy + 3.5)}"{cls}>{_esc(text)}</text>')
        widest = max(widest, 16 + text_width(text, SMALL_PX))
    out.append("</g>")
    return "".join(out), (row + 1 + len(lines)) * _LEGEND_LINE + 4, widest


def _node_svg(trace, s, inner, top, state, values_of):
    """One circle with its colours for this step, its static texts and its values."""
    nd = trace.nodes[s.index]
    status = state.status(s.index) if state is not None else None
    if F.is_nonfinite(nd.ans):
        fill = COLORS["nonfinite"]
    else:
        fill = COLORS[status] if status is not None else COLORS[s.role]
    stroke, sw = (_ACTIVE, 3) if status == "current" else ("#333333", 1.2)
    cls = f"adnb-node adnb-{s.role}" + (f" adnb-{status}" if status else "")
    data = f' data-status="{status}"' if status else ""
    vals = ""
    vt = values_of(nd) if values_of else ""
    if vt and s.values_right:
        vals = _lines(s.x + RADIUS + 4, s.y + top, vt.split("\n"), SMALL_PX, line_h=12,
                      anchor="start", extra=' fill="#444444" class="adnb-values"')
    elif vt:
        vals = _lines(s.x, s.y + top + RADIUS + 3, vt.split("\n"), SMALL_PX, line_h=12,
                      top=True, extra=' fill="#444444" class="adnb-values"')
    return (f'<g class="{cls}" data-node="{_esc(s.key)}"{data}>'
            f'<circle cx="{_n(s.x)}" cy="{_n(s.y + top)}" r="{_n(RADIUS)}" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="{sw}"/>{inner}{vals}</g>')


def _fold_svg(s, hi, top, state):
    fill = COLORS["fold"]
    if state is not None:
        st = {state.status(i) for i in range(s.index, hi)}
        if st == {"done"} or st == {"pending"}:
            fill = COLORS[st.pop()]
    return (f'<g class="adnb-fold" data-node="{_esc(s.key)}">'
            f'<rect x="{_n(s.x - s.w / 2)}" y="{_n(s.y + top - s.h / 2)}" width="{_n(s.w)}" '
            f'height="{_n(s.h)}" rx="5" fill="{fill}" stroke="#888888" stroke-dasharray="4 3"/>'
            + _lines(s.x, s.y + top, s.lines, SMALL_PX) + "</g>")


def _active_edges(lay, nodes, state, top):
    """The edges the node in progress reads from (forward) or passes its adjoint back along."""
    paths = []
    if state is not None:
        for c in state.current:
            ck = lay.owner[c]
            for p in set(nodes[c].parents):
                e = (lay.owner[p], ck) if p >= 0 else None
                if e in lay.edges:
                    paths.append(_path(lay.edges[e], top))
    if not paths:
        return ""
    return (f'<path class="adnb-active-edges" d="{"".join(paths)}" fill="none" '
            f'stroke="{_ACTIVE}" stroke-width="2.6"/>')


def _drawing(trace, forward, reverse, step, mode, max_nodes, edge_labels, values, direction):
    """The SVG and the current node's centre in it (None when no sweep step is shown)."""
    mode, forward, reverse, state = resolve_sweep(trace, forward, reverse, step, mode)
    keep = frozenset(state.current) if state else frozenset()
    lay = graph_layout(trace, max_nodes=max_nodes, keep=keep, edge_labels=edge_labels,
                       direction=direction)
    values = lay.values if values is None else values
    title = title_text(trace, lay.g, state, mode).split("\n")
    # the title's height does not depend on the step (a picture that jumps while stepping)
    n_title = 1 + int(bool(lay.g.graph.get("folded"))) + int(state is not None)
    top = 8 + _TITLE_LINE * n_title + 6
    edge_svg, label_svg, inner = _static(lay, top)
    values_of = ((lambda nd: value_text(trace, nd, forward, reverse, mode, state))
                 if values else None)
    out_nodes, has_idle, has_nonfinite = [], False, False
    for key, s in lay.nodes.items():
        if s.kind == "fold":
            out_nodes.append(_fold_svg(s, lay.g.nodes[key]["hi"], top, state))
            continue
        out_nodes.append(_node_svg(trace, s, inner[key], top, state, values_of))
        has_idle = has_idle or (state is not None and state.status(s.index) == "idle")
        has_nonfinite = has_nonfinite or F.is_nonfinite(trace.nodes[s.index].ans)
    title_w = max(text_width(t, _TITLE_PX) for t in title) + 16
    wrap = max(lay.width, 360.0)
    legend, legend_h, legend_w = _legend(lay, state, has_idle, has_nonfinite,
                                         top + lay.height, wrap)
    width = max(lay.width, legend_w, title_w)
    height = top + lay.height + legend_h
    title_svg = "".join(
        f'<text x="{_n(width / 2)}" y="{_n(8 + _TITLE_LINE * (k + 1) - 4)}" text-anchor="middle" '
        f'font-size="{_TITLE_PX}">{_esc(t)}</text>' for k, t in enumerate(title))
    w, h = _n(width), _n(height)
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" class="adnb-graph-svg" width="{w}" '
           f'height="{h}" viewBox="0 0 {w} {h}" font-family="{_FONT}" role="img" '
           f'data-mode="{mode or ""}" data-step="{"" if state is None else state.step}" '
           f'data-direction="{lay.direction}">'
           f'<title>{_esc(title[0])}</title>'
           f'<rect width="100%" height="100%" fill="#ffffff"/>'
           f'<g class="adnb-title">{title_svg}</g>'
           f'{edge_svg}{_active_edges(lay, trace.nodes, state, top)}{label_svg}'
           f'{"".join(out_nodes)}{legend}</svg>')
    focus = None
    if state is not None and state.current:
        s = lay.nodes[lay.owner[state.current[0]]]
        focus = (s.x, s.y + top, width, height)
    return svg, focus


def graph_svg(trace, forward=None, reverse=None, step=None, mode=None, max_nodes=200,
              edge_labels=None, values=None, direction="auto"):
    """The computational graph of a trace as SVG markup, in the layered layout of Bishop &
    Bishop Figures 8.4/8.5, optionally with a sweep's state at one step (the same picture and
    layout as ``adnb.display.graph.draw_graph``, written directly: no matplotlib).

    Args:
        trace: a ``Trace``.
        forward, reverse: sweep results; their values (first seed) are written under the nodes.
        step, mode: highlight the state of the ``mode`` sweep ("forward"/"reverse") at ``step``
            (``adnb.display.sweep.sweep_state``); the sweep is computed if not given.
        max_nodes: traces with more nodes are folded (loop iterations, then runs of nodes, as
            ``graph.fold_graph``) into grey dashed boxes; the node in progress stays visible.
        edge_labels: write ∂v_j/∂v_i on the edges (default: when at most 40 nodes are drawn).
        values: write the value (and v̇ / v̄) under each node (default: at most 40 nodes drawn).
        direction: "LR" (inputs left), "TB" (inputs on top) or "auto" (``adnb.display.layout``).

    Returns:
        str: one ``<svg class="adnb-graph-svg">`` element at its natural size (``xmlns``, no XML
        prolog, so it can be inlined in HTML or saved as a file); put it in a scrolling box
        (``graph_html``) where it may be wider than the page. Every user string (names,
        function name) is HTML-escaped.

    Visual encoding:
        * circles are variables, labelled v_i and their operation (× + − sin exp @ Σ ...);
          inputs first (left, or top) with the parameter name inside, outputs in the last
          layer (bold label) with an arrow to their name (f, f1, f2); layers are depths
          (longest path from an input), so a node's parents are always in earlier layers; a
          user's name for an intermediate variable is written in italics above its circle;
          hovering a node shows its formula and value (``<title>``);
        * arrows go from parent to child; a node with several outgoing arrows fans out (its
          adjoint sums over them, eq. 8.69); an arrow that skips layers bends past the nodes
          in between; edge labels are the local partials ∂v_j/∂v_i in book notation with their
          value, or the tangent rule for non-elementwise operations (the key under the graph
          says so); no label covers a node or another label;
        * under each node: its value, and v̇ (forward) and/or v̄ (reverse) for the first seed;
          "·" for a tangent/adjoint the sweep has not computed yet;
        * without a sweep step: inputs light blue, outputs orange, operations white;
        * sweep at a step: green = done, yellow with a thick dark-yellow border = in progress,
          pale grey = pending, white = not reached by this sweep; the edges between the node
          in progress and its parents are dark yellow and thicker (forward: the tangents it
          reads, eq. 8.57; reverse: the edges its adjoint is passed back along, eq. 8.69);
          a fold box is green / pale grey when all its nodes are done / pending;
        * red = an inf/nan value (overrides the sweep colours);
        * grey dashed boxes stand for folded nodes (loop iterations or runs), with counts; the
          title says how many nodes were folded, and the sweep step; a legend is at the bottom.
        Every node is a ``<g class="adnb-node adnb-<role> adnb-<status>" data-node="v3"
        data-status="...">`` (role input/op/output, status done/current/pending/idle), for CSS and
        tests.
    """
    return _drawing(trace, forward, reverse, step, mode, max_nodes, edge_labels, values,
                    direction)[0]


def graph_html(trace, forward=None, reverse=None, step=None, mode=None, max_height=None,
               **kwargs):
    """``graph_svg`` inside a box that scrolls (both ways) when the graph is larger than the
    output area, opened scrolled so that the node in progress is in view.

    The box holds an invisible marker around the current node with the CSS property
    ``scroll-initial-target: nearest``: a browser that supports it (Chromium 133+) scrolls the
    new box to it each time the widget redraws a step; others start at the top left, and every
    part of the graph stays reachable by scrolling. No script is involved.

    Args:
        trace, forward, reverse, step, mode, **kwargs: as for ``graph_svg``.
        max_height: the box's largest height in px (default 640); taller graphs scroll.

    Returns:
        str: ``<div class="adnb-graph-view">`` with the ``<svg>`` and the marker.
    """
    svg, focus = _drawing(trace, forward, reverse, step, mode, kwargs.pop("max_nodes", 200),
                          kwargs.pop("edge_labels", None), kwargs.pop("values", None),
                          kwargs.pop("direction", "auto"))
    if kwargs:
        raise TypeError(f"graph_html() got unexpected arguments {sorted(kwargs)}")
    mh = _VIEW_MAX_HEIGHT if max_height is None else max_height
    marker = ""
    if focus is not None:
        x, y, w, h = focus
        # the marker reaches 120 px around the node: "nearest" leaves that much room in view
        x0, y0 = max(x - 120, 0.0), max(y - RADIUS - 90, 0.0)
        x1, y1 = min(x + 120, w), min(y + RADIUS + 90, h)
        marker = (f'<div class="adnb-graph-focus" style="position:absolute;left:{_n(x0)}px;'
                  f'top:{_n(y0)}px;width:{_n(x1 - x0)}px;height:{_n(y1 - y0)}px;'
                  f'pointer-events:none;scroll-initial-target:nearest"></div>')
    return (f'<div class="adnb-graph-view" style="position:relative;overflow:auto;'
            f'max-width:100%;max-height:{_n(mh)}px;line-height:0">{svg}{marker}</div>')
