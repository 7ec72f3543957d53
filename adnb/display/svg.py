"""The computational graph as SVG text, written directly (no matplotlib): fast enough to redraw
on every step of a sweep.

Lets you:

* ``graph_svg(trace, forward=None, reverse=None, step=None, mode=None, max_nodes=200)`` — the
  picture of ``adnb.display.graph.draw_graph`` (Bishop & Bishop Figures 8.4/8.5) as one
  ``<svg>`` element, valid both inline in HTML (a widget, a notebook's HTML output) and as an
  ``.svg`` file;
* ``graph_layout(trace, max_nodes=200, keep=())`` — the part that does not change while a sweep
  steps (folding, positions, edges and their labels, node labels), computed once and cached
  per trace, so a step only re-writes the nodes' colours, the values and the title.

Speed: the book's example draws in well under a millisecond once its layout is cached (a few ms
the first time); a 600-operation loop, folded, in about a millisecond per step. matplotlib is not
imported; the layout and folding are those of ``adnb.display.graph`` (``layout``, ``fold``).
"""
from __future__ import annotations

import html
import weakref
from collections import OrderedDict

from . import _format as F
from ._rules import formula, op_symbol
from .folding import find_loops, fold
from .graph import (_COLORS, EDGE_LABEL_LIMIT, X_SPACING, Y_SPACING, _edge_label,
                    _output_labels, _title, _value_text, graph_from_groups, layout)
from .sweep import resolve_sweep

__all__ = ["graph_svg", "graph_layout", "GraphLayout"]

#: pixels per layout unit (columns are ``graph.X_SPACING`` units apart, rows ``Y_SPACING``)
SCALE = 85.0
#: node circle radius in layout units (as ``draw_graph``)
RADIUS = 0.22
_FONT = "DejaVu Sans, Verdana, Arial, sans-serif"
_EDGE = "#555555"
_ACTIVE = "#b08800"          # border of the node in progress and the edges it uses
_TITLE_LINE = 15             # px per title line
_LEGEND_H = 22               # px for the legend row
_CACHED_LAYOUTS = 64         # layouts kept per trace (folded traces: one per visible iteration)

_CACHE = weakref.WeakKeyDictionary()     # Trace -> _TraceCache


def _esc(s):
    return html.escape(str(s), quote=True)


def _n(v):
    """A coordinate: one decimal place, no trailing ".0" (small, stable SVG text)."""
    r = round(v, 1)
    return str(int(r)) if r == int(r) else str(r)


def _text_width(s, px):
    """Rough width in px of a line of text in a sans-serif font at ``px`` (for sizing only)."""
    return 0.64 * px * len(s)


class _TraceCache:
    """What ``graph_svg`` keeps per trace: a fingerprint (to notice a changed trace), the
    trace's loops, the groups each ``keep`` set folds into, and the layouts of those groups."""

    def __init__(self, fp):
        self.fp = fp
        self.blocks = None
        self.groups = OrderedDict()      # (max_nodes, keep) -> groups
        self.layouts = OrderedDict()     # (groups, edge_labels) -> GraphLayout


def _fingerprint(trace):
    nodes = trace.nodes
    return (len(nodes), id(nodes), tuple(n.name for n in nodes), tuple(trace.outputs),
            tuple(trace.output_names), trace.function_name)


def _trace_cache(trace):
    fp = _fingerprint(trace)
    c = _CACHE.get(trace)
    if c is None or c.fp != fp:
        c = _CACHE[trace] = _TraceCache(fp)
    return c


def _lru_put(d, key, value, size):
    d[key] = value
    if len(d) > size:
        d.popitem(last=False)


def _groups(trace, cache, max_nodes, keep):
    """Index ranges drawn as one node each, as ``graph.fold_graph`` folds them (loops found
    once per trace)."""
    n = len(trace.nodes)
    if max_nodes is None or n <= max_nodes:
        return tuple((i, i + 1, None) for i in range(n))
    key = (max_nodes, keep)
    got = cache.groups.get(key)
    if got is not None:
        cache.groups.move_to_end(key)
        return got
    if cache.blocks is None:
        cache.blocks = find_loops(trace)
    out = []
    for kind, item in fold(trace, max_items=max_nodes, keep=keep, blocks=cache.blocks):
        out.append((item, item + 1, None) if kind == "row" else (item.lo, item.hi, item))
    out = tuple(out)
    _lru_put(cache.groups, key, out, 4 * _CACHED_LAYOUTS)
    return out


def _lines(x, y, lines, px, line_h=None, anchor="middle", extra="", top=False):
    """A multi-line ``<text>``: the block vertically centred on y, or starting at y (top)."""
    line_h = line_h or round(px * 1.2, 1)
    y0 = y + 0.8 * px if top else y - (len(lines) - 1) * line_h / 2 + 0.35 * px
    spans = "".join(f'<tspan x="{_n(x)}" y="{_n(y0 + k * line_h)}">{_esc(s)}</tspan>'
                    for k, s in enumerate(lines))
    return f'<text text-anchor="{anchor}" font-size="{px}"{extra}>{spans}</text>'


class GraphLayout:
    """The static part of one drawing: folding, positions, edges and labels, in pixels.

    Attributes:
        g: the (folded) networkx graph, as ``graph.fold_graph`` returns it.
        owner: node index → key of the drawn node holding it ("v3" or "fold:lo-hi").
        pos: key → (x, y) in px (y downwards).
        width, height: size of the drawing in px (title and legend included).
        small: whether labels and values are drawn (at most ``EDGE_LABEL_LIMIT`` nodes).
        edges: (u, v) → the path drawn (SVG path data: a line, or an arc over a node).
        edge_svg: the SVG of the edges and output arrows; label_svg: the edge labels and the
            output names (drawn above the highlighted edges).
        nodes: one (key, index, x, y, role, inner SVG) per drawn circle.
        folds: one (key, lo, hi, x, y) per fold box.
    """

    def __init__(self, trace, groups, edge_labels=None, title_lines=1):
        self.trace = weakref.ref(trace)
        g, owner = graph_from_groups(trace, groups)
        self.g, self.owner = g, owner
        outs = _output_labels(trace)
        self.outs = outs
        out_keys = [trace.nodes[o].label for o in outs if trace.nodes[o].label in g]
        pos = layout(g, out_keys)
        self.small = g.number_of_nodes() <= EDGE_LABEL_LIMIT
        edge_labels = self.small if edge_labels is None else edge_labels
        self.fs = fs = 12 if self.small else 9
        S, r = SCALE, RADIUS * SCALE
        self.r = r
        xs = [p[0] for p in pos.values()] or [0.0]
        ys = [p[1] for p in pos.values()] or [0.0]
        x_min, y_max = min(xs), max(ys)
        self.title_h = 8 + _TITLE_LINE * title_lines
        top = self.title_h + 0.55 * S
        self.pos = {k: ((x - x_min + 0.6) * S, (y_max - y) * S + top) for k, (x, y) in pos.items()}
        graph_w = (max(xs) - x_min + 2.0) * S
        graph_h = top + (y_max - min(ys) + 0.75) * S
        self.height = graph_h + _LEGEND_H
        self.width = graph_w
        names = [nd.label for nd in trace.nodes]

        # edges: one path for the shafts and one for the arrowheads; an edge that would pass
        # through a node of a column it skips (v1 → v3 behind v2) is drawn as an arc above it
        cols = {}
        for k, (x, y) in self.pos.items():
            cols.setdefault(x, []).append((y, k))
        self._cols = sorted(cols.items())
        arcs = {e: self._arc(*e) for e in g.edges}
        peak = min((0.5 * c[1] + 0.25 * (self.pos[u][1] + self.pos[v][1])
                    for (u, v), c in arcs.items() if c is not None), default=top)
        shift = max(0.0, top - 0.1 * S - peak)       # room above the highest arc and its label
        if shift:
            self.pos = {k: (x, y + shift) for k, (x, y) in self.pos.items()}
            self._cols = [(x, [(y + shift, k) for y, k in ns]) for x, ns in self._cols]
            arcs = {e: (c and (c[0], c[1] + shift)) for e, c in arcs.items()}
            graph_h += shift
            self.height += shift
        shafts, heads, labels, self.edges = [], [], [], {}
        cut_shafts = []         # edges into stop_gradient: dashed, the derivative is cut
        for u, v in g.edges:
            p, q = self.pos[u], self.pos[v]
            ctrl = arcs[(u, v)]
            if ctrl is None:
                a, b = _trim(p, q, self._extent(u), self._extent(v))
                d = f"M{_n(a[0])} {_n(a[1])}L{_n(b[0])} {_n(b[1])}"
                heads.append(_head(a, b))
                t = 0.5 if abs(q[1] - p[1]) < 1 else 0.42     # diagonals cross at the middle
                lx, ly = a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])
            else:
                a = _trim(p, ctrl, self._extent(u), 0)[0]
                b = _trim(ctrl, q, 0, self._extent(v))[1]
                d = f"M{_n(a[0])} {_n(a[1])}Q{_n(ctrl[0])} {_n(ctrl[1])} {_n(b[0])} {_n(b[1])}"
                heads.append(_head(ctrl, b))
                lx = 0.25 * a[0] + 0.5 * ctrl[0] + 0.25 * b[0]      # the top of the arc
                ly = 0.25 * a[1] + 0.5 * ctrl[1] + 0.25 * b[1]
            self.edges[(u, v)] = d
            (cut_shafts if g.edges[u, v].get("cut") else shafts).append(d)
            if edge_labels and g.nodes[u]["kind"] == "node" and g.nodes[v]["kind"] == "node":
                txt = _edge_label(trace, g.nodes[u]["index"], g.nodes[v]["index"], names)
                if txt:
                    tw = _text_width(txt, fs - 2) + 6
                    labels.append(
                        f'<g class="adnb-edge-label" data-edge="{_esc(u)}-{_esc(v)}">'
                        f'<rect x="{_n(lx - tw / 2)}" y="{_n(ly - 0.65 * (fs - 2))}" '
                        f'width="{_n(tw)}" height="{_n(1.3 * (fs - 2))}" fill="#ffffff"/>'
                        f'<text x="{_n(lx)}" y="{_n(ly + 0.35 * (fs - 2))}" text-anchor="middle" '
                        f'font-size="{fs - 2}" fill="#333366">{_esc(txt)}</text></g>')
        out_text = []
        for key in out_keys:                      # output arrows: v7 → f1
            x, y = self.pos[key]
            a, b = (x + r + 1, y), (x + 0.7 * S, y)
            shafts.append(f"M{_n(a[0])} {_n(a[1])}L{_n(b[0])} {_n(b[1])}")
            heads.append(_head(a, b))
            text = ", ".join(outs[g.nodes[key]["index"]])
            out_text.append(f'<text x="{_n(x + 0.74 * S)}" y="{_n(y + 0.35 * fs)}" '
                            f'font-size="{fs}" class="adnb-output-name">{_esc(text)}</text>')
            self.width = max(self.width, x + 0.74 * S + _text_width(text, fs) + 8)
        parts = []
        if shafts:
            parts.append(f'<path class="adnb-edges" d="{"".join(shafts)}" fill="none" '
                         f'stroke="{_EDGE}" stroke-width="1.2"/>')
            parts.append(f'<path d="{"".join(heads)}" fill="{_EDGE}" stroke="none"/>')
        if cut_shafts:
            parts.append(f'<path class="adnb-cut-edges" d="{"".join(cut_shafts)}" fill="none" '
                         'stroke="#b03030" stroke-width="1.2" stroke-dasharray="4 3"/>')
        self.edge_svg = "".join(parts)
        parts = labels + out_text

        # nodes: static inner parts (labels, tooltip); the circle's colours come per step
        self.nodes, self.folds = [], []
        for key, (x, y) in self.pos.items():
            d = g.nodes[key]
            if d["kind"] == "fold":
                self.folds.append((key, d["lo"], d["hi"], x, y))
                continue
            i = d["index"]
            nd = trace.nodes[i]
            role = "input" if nd.prim is None else ("output" if i in outs else "op")
            head = nd.label
            second = (str(nd.name) if nd.name else "") if nd.prim is None else op_symbol(nd)
            px = fs if len(head) <= 4 else fs - 2
            weight = ' font-weight="bold"' if i in outs else ""
            lines = [head] + ([second] if second else [])
            inner = [_lines(x, y, lines, px, extra=weight)]
            if nd.prim is not None and nd.name and nd.name != nd.label:
                inner.append(f'<text x="{_n(x)}" y="{_n(y - r - 4)}" text-anchor="middle" '
                             f'font-size="{fs - 2}" font-style="italic" fill="#225" '
                             f'class="adnb-name">{_esc(nd.name)}</text>')
            tip = f"{nd.label} = {formula(nd)}" if nd.prim is not None else f"{nd.label}: input"
            if nd.name and nd.name != nd.label:
                tip += f"  ({nd.name})"
            tip += f"\nvalue {F.short(nd.ans)}"
            self.nodes.append((key, i, x, y, role, f"<title>{_esc(tip)}</title>" + "".join(inner)))
        self.label_svg = "".join(parts)
        self.legend_y = graph_h + _LEGEND_H / 2

    def _arc(self, u, v):
        """The control point of an arc from u to v if the straight line would cross a node of a
        column in between, else None."""
        (x0, y0), (x1, y1) = self.pos[u], self.pos[v]
        if x1 - x0 <= X_SPACING * SCALE * 1.01:
            return None
        for x, nodes in self._cols:
            if x <= x0 or x >= x1:
                continue
            yl = y0 + (y1 - y0) * (x - x0) / (x1 - x0)
            if any(abs(yl - y) < self._extent(k) + 4 for y, k in nodes):
                break
        else:
            return None
        # the arc's top is half the lift above the line; longer arcs rise higher (nested arcs)
        lift = Y_SPACING * SCALE * (0.5 + 0.4 * (x1 - x0) / (X_SPACING * SCALE))
        return (0.5 * (x0 + x1), 0.5 * (y0 + y1) - lift)

    def _extent(self, key):
        if self.g.nodes[key]["kind"] == "fold":
            return 0.52 * SCALE
        return self.r + 1.0


def _trim(p, q, ra, rb):
    dx, dy = q[0] - p[0], q[1] - p[1]
    d = (dx * dx + dy * dy) ** 0.5 or 1.0
    return (p[0] + dx * ra / d, p[1] + dy * ra / d), (q[0] - dx * rb / d, q[1] - dy * rb / d)


def _head(a, b, length=8.0, width=4.5):
    """An arrowhead ending at b (a closed subpath of a ``<path>``)."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    d = (dx * dx + dy * dy) ** 0.5 or 1.0
    ux, uy = dx / d, dy / d
    bx, by = b[0] - ux * length, b[1] - uy * length
    return (f"M{_n(b[0])} {_n(b[1])}L{_n(bx - uy * width)} {_n(by + ux * width)}"
            f"L{_n(bx + uy * width)} {_n(by - ux * width)}Z")


def graph_layout(trace, max_nodes=200, keep=(), edge_labels=None, title_lines=1):
    """The cached static part of the drawing (see ``GraphLayout``).

    Args:
        trace: a ``Trace``.
        max_nodes: fold traces with more nodes (as ``graph.fold_graph``).
        keep: node indices that must stay visible (outputs always are).
        edge_labels: draw ∂v_j/∂v_i on the edges (default: at most 40 nodes drawn).
        title_lines: lines reserved for the title.

    Returns:
        GraphLayout, shared by every call with the same folding (do not modify it).
    """
    cache = _trace_cache(trace)
    keep = frozenset(keep) | {o for o in trace.outputs if o >= 0}
    groups = _groups(trace, cache, max_nodes, keep)
    key = (tuple((lo, hi) for lo, hi, _ in groups), edge_labels, title_lines)
    lay = cache.layouts.get(key)
    if lay is None:
        lay = GraphLayout(trace, groups, edge_labels, title_lines)
        _lru_put(cache.layouts, key, lay, _CACHED_LAYOUTS)
    else:
        cache.layouts.move_to_end(key)
    return lay


_LEGEND_STATE = [("done", "done"), ("current", "in progress"), ("pending", "pending")]
_LEGEND_PLAIN = [("input", "input"), ("op", "operation"), ("output", "output")]


def _legend(lay, state, has_idle, has_nonfinite):
    items = list(_LEGEND_STATE if state is not None else _LEGEND_PLAIN)
    if state is not None and has_idle:
        items.append(("idle", "not reached"))
    if has_nonfinite:
        items.append(("nonfinite", "inf/nan"))
    out, x, y = ['<g class="adnb-legend" font-size="10">'], 8.0, lay.legend_y
    for key, text in items:
        stroke, sw = (_ACTIVE, 2.5) if key == "current" else ("#333333", 1)
        out.append(f'<circle cx="{_n(x + 6)}" cy="{_n(y)}" r="6" fill="{_COLORS[key]}" '
                   f'stroke="{stroke}" stroke-width="{sw}"/>'
                   f'<text x="{_n(x + 16)}" y="{_n(y + 3.5)}">{_esc(text)}</text>')
        x += 16 + _text_width(text, 10) + 14
    if lay.folds:
        out.append(f'<rect x="{_n(x)}" y="{_n(y - 6)}" width="18" height="12" rx="3" '
                   f'fill="{_COLORS["fold"]}" stroke="#888888" stroke-dasharray="3 2"/>'
                   f'<text x="{_n(x + 24)}" y="{_n(y + 3.5)}">folded nodes</text>')
        x += 24 + _text_width("folded nodes", 10) + 14
    out.append("</g>")
    return "".join(out), x


def graph_svg(trace, forward=None, reverse=None, step=None, mode=None, max_nodes=200,
              edge_labels=None, values=None):
    """The computational graph of a trace as SVG markup, in the layout of Bishop & Bishop
    Figures 8.4/8.5, optionally with a sweep's state at one step (the same picture as
    ``adnb.display.graph.draw_graph``, written directly: no matplotlib).

    Args:
        trace: a ``Trace``.
        forward, reverse: sweep results; their values (first seed) are written under the nodes.
        step, mode: highlight the state of the ``mode`` sweep ("forward"/"reverse") at ``step``
            (``adnb.display.sweep.sweep_state``); the sweep is computed if not given.
        max_nodes: traces with more nodes are folded (loop iterations, then runs of nodes, as
            ``graph.fold_graph``) into grey dashed boxes; the node in progress stays visible.
        edge_labels: write ∂v_j/∂v_i on the edges (default: when at most 40 nodes are drawn).
        values: write the value (and v̇ / v̄) under each node (default: at most 40 nodes drawn).

    Returns:
        str: one ``<svg class="adnb-graph-svg">`` element (with ``xmlns``, no XML prolog, so it
        can be inlined in HTML or saved as a file); inline, it shrinks to its container's width
        down to 60 % of its size (then the container should scroll). Every user string (names,
        function name) is HTML-escaped. The layout is cached per trace (``graph_layout``): redrawing another step
        re-writes only colours, values and the title.

    Visual encoding:
        * circles are variables, labelled v_i and their operation (× + − sin exp @ Σ ...);
          inputs on the left with the parameter name inside, outputs on the right (bold label)
          with an arrow to their name (f, f1, f2); columns are depths (longest path from an
          input), so a node's parents are always to its left; a user's name for an
          intermediate variable is written in italics above its circle; hovering a node shows
          its formula and value (``<title>``);
        * arrows go from parent to child; a node with several outgoing arrows fans out (its
          adjoint sums over them, eq. 8.69); an arrow that would pass behind a node it skips
          arcs over it instead; edge labels are the local partials ∂v_j/∂v_i in
          book notation with their value, or the tangent rule for non-elementwise operations;
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
    mode, forward, reverse, state = resolve_sweep(trace, forward, reverse, step, mode)
    keep = frozenset(state.current) if state else frozenset()
    n_total = len(trace.nodes)
    folded = max_nodes is not None and n_total > max_nodes
    title_lines = 1 + int(folded) + int(state is not None)
    lay = graph_layout(trace, max_nodes=max_nodes, keep=keep, edge_labels=edge_labels,
                       title_lines=title_lines)
    values = lay.small if values is None else values
    nodes = trace.nodes
    fs, r = lay.fs, lay.r

    # nodes: colours and values change per step
    out_nodes = []
    has_idle = has_nonfinite = False
    for key, i, x, y, role, inner in lay.nodes:
        nd = nodes[i]
        status = state.status(i) if state is not None else None
        if F.is_nonfinite(nd.ans):
            fill, has_nonfinite = _COLORS["nonfinite"], True
        elif status is not None:
            fill = _COLORS[status]
        else:
            fill = _COLORS[role]
        has_idle = has_idle or status == "idle"
        stroke, sw = (_ACTIVE, 3) if status == "current" else ("#333333", 1.2)
        cls = f"adnb-node adnb-{role}" + (f" adnb-{status}" if status else "")
        data = f' data-status="{status}"' if status else ""
        vals = ""
        if values:
            vt = _value_text(trace, nd, forward, reverse, mode, state)
            if vt:
                vals = _lines(x, y + r + 3, vt.split("\n"), fs - 2, line_h=fs - 1, top=True,
                              extra=' fill="#444444" class="adnb-values"')
        out_nodes.append(f'<g class="{cls}" data-node="{key}"{data}>'
                         f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{_n(r)}" fill="{fill}" '
                         f'stroke="{stroke}" stroke-width="{sw}"/>{inner}{vals}</g>')
    for key, lo, hi, x, y in lay.folds:
        fill = _COLORS["fold"]
        if state is not None:
            st = {state.status(i) for i in range(lo, hi)}
            if st == {"done"} or st == {"pending"}:
                fill = _COLORS[st.pop()]
        label = lay.g.nodes[key]["label"].split("\n")
        out_nodes.append(f'<g class="adnb-fold" data-node="{_esc(key)}">'
                         f'<rect x="{_n(x - 0.5 * SCALE)}" y="{_n(y - 0.32 * SCALE)}" '
                         f'width="{_n(SCALE)}" height="{_n(0.64 * SCALE)}" rx="5" fill="{fill}" '
                         f'stroke="#888888" stroke-dasharray="4 3"/>'
                         + _lines(x, y, label, fs - 3) + "</g>")

    # the edges the node in progress reads from / passes its adjoint back along
    active = []
    if state is not None:
        for c in state.current:
            ck = lay.owner[c]
            for p in set(nodes[c].parents):
                if p >= 0 and (lay.owner[p], ck) in lay.edges:
                    active.append(lay.edges[(lay.owner[p], ck)])
    active_svg = (f'<path class="adnb-active-edges" d="{"".join(active)}" fill="none" '
                  f'stroke="{_ACTIVE}" stroke-width="2.6"/>' if active else "")

    title = _title(trace, lay.g, state, mode).split("\n")
    legend, legend_w = _legend(lay, state, has_idle, has_nonfinite)
    # the width does not depend on the step (a picture that resizes while stepping would jump)
    lines = title[:-1] if state is not None else title
    if state is not None:
        lines = lines + [f"{mode} sweep, step {state.n_steps} of {state.n_steps}: "
                         + ", ".join([f"v{len(nodes)}"] * max(map(len, state.order), default=1))]
    width = max(lay.width, legend_w, max(_text_width(t, 12) for t in lines) + 16)
    height = lay.height
    title_svg = "".join(
        f'<text x="{_n(width / 2)}" y="{_n(8 + _TITLE_LINE * (k + 1) - 4)}" text-anchor="middle" '
        f'font-size="12">{_esc(t)}</text>' for k, t in enumerate(title))
    w, h = _n(width), _n(height)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="adnb-graph-svg" width="{w}" '
            f'height="{h}" viewBox="0 0 {w} {h}" font-family="{_FONT}" '
            f'style="max-width:100%;min-width:{_n(0.6 * width)}px;height:auto" role="img" '
            f'data-mode="{mode or ""}" data-step="{"" if state is None else state.step}">'
            f'<title>{_esc(title[0])}</title>'
            f'<rect width="100%" height="100%" fill="#ffffff"/>'
            f'<g class="adnb-title">{title_svg}</g>'
            f'{lay.edge_svg}{active_svg}{lay.label_svg}{"".join(out_nodes)}{legend}</svg>')
