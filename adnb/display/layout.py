"""One layout of the computational graph, shared by the SVG writer (``adnb.display.svg``) and the
matplotlib drawing (``adnb.display.graph.draw_graph``).

Lets you:

* ``graph_layout(trace, max_nodes=200, keep=(), edge_labels=None, direction="auto")`` — a
  ``GraphLayout``: folding, node positions, edge routes and edge-label boxes in pixels, cached per
  trace (a sweep step re-uses it and only re-colours);
* ``fold_groups`` / ``graph_from_groups`` — which trace nodes are drawn as one (folded) node;
* the texts every renderer writes the same way: ``output_labels``, ``edge_label``,
  ``value_text``, ``title_text``, ``fold_label``;
* ``crossings(layout)`` — how many pairs of edges cross (for tests and comparisons).

The layout is layered (Sugiyama): grandalf ranks the nodes by depth (longest path from an input,
so a node's parents are always in earlier layers; outputs go to the last layer), orders each
layer to reduce crossings (barycentre sweeps) and places nodes along the layer (Brandes–Köpf);
an edge that skips layers bends through one point per layer it skips instead of crossing nodes.
Layers run left to right as in Bishop & Bishop Figures 8.4/8.5; a graph that would be wider than
``WIDTH_BUDGET`` is drawn top to bottom when that is narrower (notebooks are narrow and scroll
down). Edge labels (the local partial ∂v_j/∂v_i) are placed greedily at the first spot along
their edge whose box meets no node, no other label and as few other edges as possible; the gaps
between layers widen until every label fits (a label that still finds no spot is listed in
``omitted`` for the key instead of being drawn over something). All text is at least
``SMALL_PX`` (10 px) high at 100 %.
"""
from __future__ import annotations

import math
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field, replace

import networkx as nx

from . import _format as F
from ._rules import jvp_text, op_symbol, partial_text
from .folding import find_loops, fold
from .sweep import local_partial, quiet

__all__ = ["COLORS", "EDGE_LABEL_LIMIT", "NODE_PX", "SMALL_PX", "RADIUS", "WIDTH_BUDGET",
           "GraphLayout", "graph_layout", "fold_groups", "graph_from_groups", "output_labels",
           "edge_label", "value_text", "title_text", "fold_label", "text_width", "crossings",
           "forget_layouts"]

#: above this many drawn nodes, edge labels and values are left out (the graph stays readable)
EDGE_LABEL_LIMIT = 40
NODE_PX = 12            # node labels (v3, ×)
SMALL_PX = 10           # values, edge labels, names, legend: the smallest text drawn
RADIUS = 19.0           # node circles, px
WIDTH_BUDGET = 640      # px: a left-to-right drawing wider than this goes top to bottom if narrower
_LINE = 12              # px per line of small text
_FOLD_W, _FOLD_H = 110.0, 58.0
_MIN_GAP = {"LR": 56.0, "TB": 44.0}
_MARGIN = 10.0
_CACHED_LAYOUTS = 64    # layouts kept per trace (folded traces: one per visible iteration)

COLORS = {
    "input": "#cfe5f7", "output": "#fcd9a8", "op": "#ffffff", "fold": "#eeeeee",
    "done": "#b9e4b9", "current": "#ffe066", "pending": "#f2f2f2", "idle": "#ffffff",
    "nonfinite": "#ff9d9d",
}


def text_width(s, px):
    """Width in px of a line of sans-serif text at ``px`` (generous: boxes must not overlap)."""
    return 0.62 * px * len(s) + 2


# ---- texts every renderer writes the same way ------------------------------------------------

def output_labels(trace):
    """{node index: ["f1", ...]} for the outputs (the user's names where known)."""
    out = {}
    n_out = len(trace.outputs)
    for k, o in enumerate(trace.outputs):
        if o < 0:
            continue
        given = trace.output_names[k] if k < len(trace.output_names) else None
        out.setdefault(o, []).append(given or (f"f{k + 1}" if n_out > 1 else "f"))
    return out


def edge_label(trace, i, j, names):
    """The label of edge v_i → v_j: the local partial ∂v_j/∂v_i as a formula and its value
    ("cos(v2) = -0.4161"), or the tangent rule for a non-elementwise operation."""
    child = trace.nodes[j]
    ks = [k for k, p in enumerate(child.parents) if p == i]
    if not ks:
        return ""
    if not child.prim.elementwise:
        return jvp_text(child, ks[0], names, "v\u0307" + str(i + 1))
    text = " + ".join(t for t in (partial_text(child, k, names) for k in ks) if t)
    with quiet():
        vals = [local_partial(child, k) for k in ks]
    if all(v is not None for v in vals):
        num = F.short(sum(vals[1:], vals[0]), digits=4)
        if num != text and text not in ("1", "−1"):
            text = f"{text} = {num}"
    return text


def value_text(trace, node, forward, reverse, mode, state):
    """The lines under a node: its value, and v̇ / v̄ of the first seed ("·" before the sweep
    has computed it)."""
    parts = [F.short(node.ans, digits=4, items=2)]
    i = node.index
    pending = state is not None and state.status(i) == "pending"
    if forward is not None and forward.tangents and mode in (None, "forward"):
        shown = "·" if pending and mode == "forward" else F.short(forward.tangents[0][i], 4, 2)
        parts.append("v\u0307=" + shown)
    if reverse is not None and reverse.adjoints and mode in (None, "reverse"):
        shown = "·" if pending and mode == "reverse" else F.short(reverse.adjoints[0][i], 4, 2)
        parts.append("v\u0304=" + shown)
    return "\n".join(parts)


def title_text(trace, g, state, mode):
    """The drawing's title: function, sizes, folding and the sweep's step."""
    name = trace.function_name or "f"
    title = (f"Computational graph of {name}: {F.plural(len(trace.inputs), 'input')}, "
             f"{F.plural(trace.n_ops, 'operation')}")
    if g.graph.get("folded"):
        title += (f"\n{g.graph['folded']} of {len(trace.nodes)} nodes folded into "
                  f"{sum(1 for v in g if g.nodes[v]['kind'] == 'fold')} grey box(es)")
    if state is not None:
        if state.finished:
            title += f"\n{mode} sweep finished"
        else:
            cur = ", ".join(f"v{i + 1}" for i in state.current)
            title += f"\n{mode} sweep, step {state.step} of {state.n_steps}: {cur}"
    return title


def fold_label(item):
    n = item.hi - item.lo
    if item.kind == "loop":
        a, b = item.first_iteration, item.last_iteration
        its = f"iteration {a}" if a == b else f"iterations {a}–{b}"
        return f"⋯ {its}\nof {item.loop.count}\n({n} nodes)"
    return f"⋯ v{item.lo + 1}–v{item.hi}\n({n} nodes)"


# ---- folding -----------------------------------------------------------------------------------

def fold_groups(trace, max_nodes, keep, blocks=None):
    """Contiguous index ranges drawn as one node each: (lo, hi, None) for a single node,
    (lo, hi, fold item) for a folded run (``adnb.display.folding.fold``)."""
    n = len(trace.nodes)
    if max_nodes is None or n <= max_nodes:
        return tuple((i, i + 1, None) for i in range(n))
    return tuple((item, item + 1, None) if kind == "row" else (item.lo, item.hi, item)
                 for kind, item in fold(trace, max_items=max_nodes, keep=keep, blocks=blocks))


def graph_from_groups(trace, groups):
    """The folded DiGraph for ``groups`` and each trace node's owner key ("v3" or
    "fold:lo-hi"); the node attributes are those of ``graph.fold_graph``."""
    g = nx.DiGraph()
    owner = [None] * len(trace.nodes)
    folded = 0
    for lo, hi, item in groups:
        if item is None:
            key = trace.nodes[lo].label
            g.add_node(key, kind="node", count=1, lo=lo, hi=hi, index=lo, label=key)
        else:
            key = f"fold:{lo}-{hi}"
            g.add_node(key, kind="fold", count=hi - lo, lo=lo, hi=hi, index=lo,
                       label=fold_label(item), fold=item)
            folded += hi - lo
        for i in range(lo, hi):
            owner[i] = key
    for n in trace.nodes:
        for p in n.parents:
            if p >= 0 and owner[p] != owner[n.index]:
                cut = getattr(n.prim, "kind", None) == "stop_gradient"   # drawn dashed
                g.add_edge(owner[p], owner[n.index], **({"cut": True} if cut else {}))
    g.graph.update(folded=folded, total=len(trace.nodes), function_name=trace.function_name)
    return g, owner


# ---- the layered order (grandalf) --------------------------------------------------------------

def _sugiyama(g, outputs, along, flip=False):
    """Layers and positions along the layers from grandalf's Sugiyama layout.

    Args:
        g: the DAG; outputs: keys moved to the last layer; along: key → the node's size along
            its layer (px).

    Returns:
        (rank, pos, bends): key → layer index, key → coordinate along the layer, and for each
        edge spanning several layers its bend points [(layer, along), ...]. ``flip`` starts
        the ordering from the reversed node order (a second try; the better one is kept).
    """
    from grandalf.graphs import Edge, Graph, Vertex
    from grandalf.layouts import SugiyamaLayout, VertexViewer

    keys = sorted(g.nodes, key=lambda v: g.nodes[v].get("index", 0), reverse=flip)
    vx = {k: Vertex(k) for k in keys}
    for k in keys:
        vx[k].view = VertexViewer(w=along[k], h=10)
    root = Vertex(None)                          # joins every component: one layout
    root.view = VertexViewer(w=1, h=10)
    edges = {(u, v): Edge(vx[u], vx[v]) for u, v in g.edges}
    starts = [Edge(root, vx[k]) for k in keys if g.in_degree(k) == 0]
    sug = SugiyamaLayout(Graph([root] + [vx[k] for k in keys], starts + list(edges.values()),
                               directed=True).C[0])
    sug.xspace, sug.yspace = 14, 10
    sug.alt_e = []
    sug.rank_all([root])
    _outputs_last(sug, g, vx, outputs)
    for e in sug.g.E():
        sug.setdummies(e)
    for ctrl in sug.ctrls.values():
        for d in ctrl.values():
            if getattr(d, "dummy", False):
                d.view.w = 16                     # the room of an edge passing a layer
    for layer in sug.layers:
        layer.setup(sug)
    sug.initdone = True
    sug.draw(3)
    rank = {k: sug.grx[vx[k]].rank - 1 for k in keys}      # layer 0 held the joining root
    pos = {k: vx[k].view.xy[0] for k in keys}
    bends = {}
    for uv, e in edges.items():
        ctrl = sug.ctrls.get(e)
        if ctrl:
            bends[uv] = [(r - 1, ctrl[r].view.xy[0]) for r in sorted(ctrl)
                         if ctrl[r] not in e.v]
    return rank, pos, bends


def _outputs_last(sug, g, vx, outputs):
    """Move outputs that feed nothing to the last layer (Figure 8.5: f1 and f2 side by side)."""
    last = len(sug.layers) - 1
    for k in outputs:
        v = vx[k]
        r = sug.grx[v].rank
        if r < last and g.out_degree(k) == 0:
            sug.layers[r].remove(v)
            sug.grx[v].rank = last
            sug.layers[last].append(v)


# ---- geometry ------------------------------------------------------------------------------------

@dataclass
class NodeBox:
    """A drawn node: circle (kind "node") or fold box (kind "fold"), in px."""
    key: str
    kind: str
    index: int
    x: float = 0.0
    y: float = 0.0
    role: str = "op"                  # input / op / output (circles)
    lines: list = field(default_factory=list)
    px: int = NODE_PX
    name: str = ""                    # the user's name of an intermediate variable (above)
    above: float = 0.0                # room above the circle (name)
    below: float = 0.0                # room below (values)
    half_w: float = RADIUS            # half the width of the node and its values
    values_w: float = 0.0             # width of the values' text
    values_right: bool = False        # values beside the circle (layers top to bottom)
    w: float = 2 * RADIUS             # fold box size
    h: float = 2 * RADIUS

    def boxes(self):
        """The rectangles (x0, y0, x1, y1) this node and its texts occupy."""
        if self.kind == "fold":
            return [(self.x - self.w / 2, self.y - self.h / 2, self.x + self.w / 2,
                     self.y + self.h / 2)]
        r = RADIUS + 2
        out = [(self.x - r, self.y - r, self.x + r, self.y + r)]
        if self.below and self.values_right:
            out.append((self.x + RADIUS + 2, self.y - self.below / 2,
                        self.x + RADIUS + 4 + self.values_w, self.y + self.below / 2))
        elif self.below:
            out.append((self.x - self.half_w, self.y + RADIUS, self.x + self.half_w,
                        self.y + RADIUS + self.below))
        if self.above:
            nw = text_width(self.name, SMALL_PX) / 2
            out.append((self.x - nw, self.y - RADIUS - self.above, self.x + nw, self.y - RADIUS))
        return out

    def rim(self, toward):
        """Distance from the centre to the node's outline in the direction of ``toward``."""
        if self.kind != "fold":
            return RADIUS + 1
        dx, dy = abs(toward[0] - self.x), abs(toward[1] - self.y)
        if dx * self.h > dy * self.w:
            return (self.w / 2 + 1) * math.hypot(dx, dy) / max(dx, 1e-9)
        return (self.h / 2 + 1) * math.hypot(dx, dy) / max(dy, 1e-9)


@dataclass
class EdgeLabel:
    """A placed edge label: its lines and box (centre x, y; size w, h) in px."""
    edge: tuple
    lines: list
    x: float
    y: float
    w: float
    h: float

    @property
    def box(self):
        return (self.x - self.w / 2, self.y - self.h / 2, self.x + self.w / 2, self.y + self.h / 2)


def _overlap(a, b, pad=0.0):
    return a[0] < b[2] + pad and b[0] < a[2] + pad and a[1] < b[3] + pad and b[1] < a[3] + pad


def _seg_hits_box(p, q, box):
    """Whether the segment p → q meets the rectangle (Liang–Barsky clipping)."""
    t0, t1 = 0.0, 1.0
    dx, dy = q[0] - p[0], q[1] - p[1]
    for d, lo, hi, s in ((dx, box[0], box[2], p[0]), (dy, box[1], box[3], p[1])):
        if abs(d) < 1e-12:
            if s < lo or s > hi:
                return False
            continue
        a, b = (lo - s) / d, (hi - s) / d
        if a > b:
            a, b = b, a
        t0, t1 = max(t0, a), min(t1, b)
        if t0 > t1:
            return False
    return True


def _dist_to_segment(c, p, q):
    dx, dy = q[0] - p[0], q[1] - p[1]
    t = ((c[0] - p[0]) * dx + (c[1] - p[1]) * dy) / (dx * dx + dy * dy or 1.0)
    t = min(1.0, max(0.0, t))
    return math.hypot(c[0] - p[0] - t * dx, c[1] - p[1] - t * dy)


def _nearer_to_another_edge(c, e, segments):
    """Whether a label at c would sit nearer to another edge than to its own (and so read as
    that edge's label)."""
    own = min(_dist_to_segment(c, p, q) for f, p, q in segments if f == e)
    return any(f != e and _dist_to_segment(c, p, q) < own - 2 for f, p, q in segments)


def _label_lines(text):
    """One line, or formula and value on two lines when the label is long."""
    if text_width(text, SMALL_PX) > 84 and " = " in text:
        head, tail = text.split(" = ", 1)
        return [head, "= " + tail]
    return [text]


def _point_at(points, t):
    """The point at fraction t of the polyline's length, and the direction of its segment."""
    lengths = [math.dist(a, b) for a, b in zip(points, points[1:])]
    target = t * sum(lengths)
    for (a, b), seg in zip(zip(points, points[1:]), lengths):
        if target <= seg or seg == lengths[-1]:
            f = target / seg if seg else 0.0
            d = ((b[0] - a[0]) / (seg or 1), (b[1] - a[1]) / (seg or 1))
            return (a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1])), d
        target -= seg
    return points[-1], (1.0, 0.0)


def _candidates(points, w, h):
    """Label centres along an edge, best first: on the edge near its middle, then beside it."""
    for t in (0.5, 0.4, 0.6, 0.3, 0.7, 0.22, 0.78):
        (x, y), (dx, dy) = _point_at(points, t)
        off = abs(dy) * w / 2 + abs(dx) * h / 2 + 3
        yield (x, y), abs(t - 0.5) * 10
        yield (x - dy * off, y + dx * off), abs(t - 0.5) * 10 + 3
        yield (x + dy * off, y - dx * off), abs(t - 0.5) * 10 + 3


# ---- the layout --------------------------------------------------------------------------------

class GraphLayout:
    """The static part of one drawing (what does not change while a sweep steps), in px with y
    downwards and (0, 0) the top left of the graph (renderers add a title above and a legend
    below).

    Attributes:
        g: the (folded) networkx graph, as ``graph.fold_graph`` returns it.
        owner: trace node index → key of the drawn node holding it ("v3" or "fold:lo-hi").
        direction: "LR" (inputs left, outputs right) or "TB" (inputs on top).
        nodes: key → ``NodeBox`` (circles and fold boxes).
        edges: (u, v) → the polyline drawn, trimmed at the nodes' outlines (the arrowhead is at
            its end).
        labels: the placed ``EdgeLabel`` s; omitted: (edge, text) of labels that found no spot.
        outputs: (key, arrow start, arrow end, text, text position, text anchor "start" or
            "middle") per output arrow.
        small: whether labels and values are drawn (at most ``EDGE_LABEL_LIMIT`` nodes).
        values: whether room for values was kept under the nodes.
        width, height: size of the graph area in px.
        outs: {trace node index: output names}.
    """

    def __init__(self, trace, groups, edge_labels=None, direction="auto"):
        self.trace = weakref.ref(trace)
        self.g, self.owner = graph_from_groups(trace, groups)
        self.outs = output_labels(trace)
        self.out_keys = [trace.nodes[o].label for o in self.outs
                         if trace.nodes[o].label in self.g]
        self.small = self.g.number_of_nodes() <= EDGE_LABEL_LIMIT
        self.values = self.small
        want_labels = self.small if edge_labels is None else edge_labels
        self._texts = self._edge_texts(trace) if want_labels else {}
        direction = direction.upper() if direction != "auto" else "auto"
        specs = self._node_specs(trace)
        if direction == "auto":
            self._build("LR", specs)
            if self.width > WIDTH_BUDGET:
                lr = dict(self.__dict__)
                self._build("TB", specs)
                if self.width >= lr["width"]:
                    self.__dict__.update(lr)
        else:
            self._build(direction, specs)
        del self._specs

    # -- what is drawn -------------------------------------------------------------------------
    def _edge_texts(self, trace):
        names = [nd.label for nd in trace.nodes]
        out = {}
        for u, v in self.g.edges:
            if self.g.nodes[u]["kind"] == "node" and self.g.nodes[v]["kind"] == "node":
                txt = edge_label(trace, self.g.nodes[u]["index"], self.g.nodes[v]["index"], names)
                if txt:
                    out[(u, v)] = _label_lines(txt)
        return out

    def _node_specs(self, trace):
        specs = {}
        for key in self.g.nodes:
            d = self.g.nodes[key]
            if d["kind"] == "fold":
                specs[key] = NodeBox(key, "fold", d["index"], lines=d["label"].split("\n"),
                                     px=SMALL_PX, w=_FOLD_W, h=_FOLD_H, half_w=_FOLD_W / 2)
                continue
            nd = trace.nodes[d["index"]]
            role = "input" if nd.prim is None else ("output" if nd.index in self.outs else "op")
            second = (str(nd.name) if nd.name else "") if nd.prim is None else op_symbol(nd)
            lines = [nd.label] + ([second] if second else [])
            px = NODE_PX if max(len(s) for s in lines) <= 4 else SMALL_PX
            name = str(nd.name) if nd.prim is not None and nd.name and nd.name != nd.label else ""
            half_w = RADIUS + 2
            below = values_w = 0.0
            if self.values:
                sample = F.short(nd.ans, digits=4, items=2)
                values_w = text_width("v\u0304=" + sample, SMALL_PX)
                half_w = max(half_w, values_w / 2 + 2)
                below = 3 * _LINE + 4
            if name:
                half_w = max(half_w, text_width(name, SMALL_PX) / 2)
            specs[key] = NodeBox(key, "node", nd.index, role=role, lines=lines, px=px, name=name,
                                 above=_LINE + 4 if name else 0.0, below=below, half_w=half_w,
                                 values_w=values_w)
        return specs

    # -- geometry --------------------------------------------------------------------------------
    def _build(self, direction, specs):
        self.direction = direction
        lr = direction == "LR"
        specs = self._specs = {k: replace(s, values_right=not lr) for k, s in specs.items()}
        along = {k: (s.h if s.kind == "fold" else 2 * RADIUS + s.above + s.below) if lr
                 else (s.w if s.kind == "fold" else self._tb_width(s)) for k, s in specs.items()}
        rank, pos, bends = _sugiyama(self.g, self.out_keys, along)
        if self.small and self.g.number_of_edges() > 1:
            tries = [(rank, pos, bends), _sugiyama(self.g, self.out_keys, along, flip=True)]
            rank, pos, bends = min(tries, key=lambda t: _order_crossings(self.g, *t))
        n_layers = max(rank.values(), default=-1) + 1
        gaps = [_MIN_GAP[direction]] * max(n_layers - 1, 0)
        for (u, _), lines in self._texts.items():
            if rank[u] < len(gaps):
                need = (max(text_width(s, SMALL_PX) for s in lines) + 24 if lr
                        else len(lines) * _LINE + 30)
                gaps[rank[u]] = max(gaps[rank[u]], need)
        for _ in range(4):
            failed = self._place(rank, pos, bends, gaps, n_layers)
            if not failed:
                break
            for r in {rank[u] for u, _ in failed if rank[u] < len(gaps)}:
                gaps[r] *= 1.4
        self.omitted = [(e, " ".join(self._texts[e])) for e in failed]
        self._normalise()

    @staticmethod
    def _tb_width(s):
        """Width of a circle with its values on the right and its name above."""
        right = RADIUS + 4 + s.values_w if s.below else RADIUS + 2
        return max(2 * right, 2 * s.half_w if s.name else 0.0)

    def _place(self, rank, pos, bends, gaps, n_layers):
        """Coordinates of nodes and edges for these gaps, then the labels; returns the edges
        whose labels found no spot."""
        lr = self.direction == "LR"
        thick = [0.0] * n_layers            # a layer's extent across the edges
        for k, s in self._specs.items():
            ext = (2 * s.half_w if s.kind == "node" else s.w) if lr else \
                (s.h if s.kind == "fold" else 2 * RADIUS + s.above + 4)
            thick[rank[k]] = max(thick[rank[k]], ext)
        start, c = [], 0.0
        for r in range(n_layers):
            start.append(c)
            c += thick[r] + (gaps[r] if r < len(gaps) else 0.0)
        centre = [start[r] + thick[r] / 2 for r in range(n_layers)]
        above = [0.0] * n_layers            # TB: circles of a layer share one line
        for k, s in self._specs.items():
            above[rank[k]] = max(above[rank[k]], s.above)
        row = [start[r] + RADIUS + above[r] for r in range(n_layers)]
        self.nodes = {}
        for k, s in self._specs.items():
            r = rank[k]
            if lr:
                shift = (s.above - s.below) / 2 if s.kind == "node" else 0.0
                s.x, s.y = centre[r], pos[k] + shift
            else:
                s.x, s.y = pos[k], (start[r] + s.h / 2 if s.kind == "fold" else row[r])
            self.nodes[k] = s
        self.edges = {}
        for u, v in self.g.edges:
            a, b = self.nodes[u], self.nodes[v]
            mid = [(centre[r], p) if lr else (p, row[r]) for r, p in bends.get((u, v), [])]
            pts = [(a.x, a.y)] + mid + [(b.x, b.y)]
            self.edges[(u, v)] = _trim(pts, a.rim(pts[1]), b.rim(pts[-2]))
        self._output_arrows()
        return self._place_labels()

    def _output_arrows(self):
        """An arrow from each output to its name (f, f1, ...): rightwards when the layers run
        left to right, down past the values when they run top to bottom."""
        self.outputs = []
        for key in self.out_keys:
            s = self.nodes[key]
            text = ", ".join(self.outs[s.index])
            if self.direction == "LR":
                a, b = (s.x + RADIUS + 1, s.y), (s.x + RADIUS + 30, s.y)
                self.outputs.append((key, a, b, text, (b[0] + 4, s.y), "start"))
            else:
                a = (s.x, s.y + RADIUS + 1)
                b = (s.x, a[1] + 22)
                self.outputs.append((key, a, b, text, (s.x, b[1] + 9), "middle"))

    def _obstacles(self):
        boxes = [b for s in self.nodes.values() for b in s.boxes()]
        for _, a, b, text, at, anchor in self.outputs:
            boxes.append((min(a[0], b[0]) - 5, min(a[1], b[1]) - 5, max(a[0], b[0]) + 5,
                          max(a[1], b[1]) + 5))
            w = text_width(text, NODE_PX)
            x0 = at[0] if anchor == "start" else at[0] - w / 2
            boxes.append((x0, at[1] - NODE_PX * 0.7, x0 + w, at[1] + NODE_PX * 0.7))
        return boxes

    def _place_labels(self):
        obstacles = self._obstacles()
        segments = [(e, p, q) for e, pts in self.edges.items() for p, q in zip(pts, pts[1:])]
        self.labels, failed = [], []
        for e, lines in self._texts.items():
            w = max(text_width(s, SMALL_PX) for s in lines) + 6
            h = len(lines) * _LINE + 3
            best = None
            for (x, y), cost in _candidates(self.edges[e], w, h):
                box = (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
                if any(_overlap(box, o, 1.0) for o in obstacles):
                    continue
                cost += 25 * sum(1 for f, p, q in segments if f != e and _seg_hits_box(p, q, box))
                cost += 12 * _nearer_to_another_edge((x, y), e, segments)
                if best is None or cost < best[0]:
                    best = (cost, x, y)
                if cost == 0:
                    break
            if best is None:
                failed.append(e)
                continue
            lab = EdgeLabel(e, lines, best[1], best[2], w, h)
            self.labels.append(lab)
            obstacles.append(lab.box)
        return failed

    def _normalise(self):
        """Move everything so the drawing starts at (_MARGIN, _MARGIN); set width and height."""
        boxes = self._obstacles() + [lab.box for lab in self.labels]
        boxes += [(x, y, x, y) for pts in self.edges.values() for x, y in pts]
        x0 = min((b[0] for b in boxes), default=0.0) - _MARGIN
        y0 = min((b[1] for b in boxes), default=0.0) - _MARGIN
        self.width = max((b[2] for b in boxes), default=0.0) - x0 + _MARGIN
        self.height = max((b[3] for b in boxes), default=0.0) - y0 + _MARGIN
        for s in self.nodes.values():
            s.x, s.y = s.x - x0, s.y - y0
        self.edges = {e: [(x - x0, y - y0) for x, y in pts] for e, pts in self.edges.items()}
        for lab in self.labels:
            lab.x, lab.y = lab.x - x0, lab.y - y0
        self.outputs = [(k, (a[0] - x0, a[1] - y0), (b[0] - x0, b[1] - y0), t,
                         (at[0] - x0, at[1] - y0), anchor)
                        for k, a, b, t, at, anchor in self.outputs]

    # -- lookups for renderers -------------------------------------------------------------------
    @property
    def pos(self):
        """key → (x, y) of every drawn node's centre."""
        return {k: (s.x, s.y) for k, s in self.nodes.items()}

    def node_boxes(self):
        """key → the rectangles each node (with its texts) occupies."""
        return {k: s.boxes() for k, s in self.nodes.items()}


def _trim(points, ra, rb):
    """The polyline shortened by ra at its start and rb at its end (arrows end at the rim)."""
    (p, q), (s, t) = points[:2], points[-2:]
    d0 = math.dist(p, q) or 1.0
    d1 = math.dist(s, t) or 1.0
    first = (p[0] + (q[0] - p[0]) * ra / d0, p[1] + (q[1] - p[1]) * ra / d0)
    last = (t[0] - (t[0] - s[0]) * rb / d1, t[1] - (t[1] - s[1]) * rb / d1)
    return [first] + list(points[1:-1]) + [last]


def _order_crossings(g, rank, pos, bends):
    """Crossings of an ordering, counted on its polylines with layers 100 px apart."""
    edges = {}
    for u, v in g.edges:
        edges[(u, v)] = ([(100.0 * rank[u], pos[u])] + [(100.0 * r, a) for r, a in
                                                         bends.get((u, v), [])]
                         + [(100.0 * rank[v], pos[v])])
    return _count_crossings(edges)


def crossings(lay):
    """The number of pairs of edges (polylines, not sharing an end node) that cross."""
    return _count_crossings(lay.edges)


def _count_crossings(edges):
    segs = [(e, p, q) for e, pts in edges.items() for p, q in zip(pts, pts[1:])]
    seen = set()
    for i, (e, p, q) in enumerate(segs):
        for f, r, s in segs[i + 1:]:
            if e == f or set(e) & set(f) or (e, f) in seen:
                continue
            if _segments_cross(p, q, r, s):
                seen.add((e, f))
    return len(seen)


def _segments_cross(p, q, r, s):
    def orient(a, b, c):
        v = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
        return 0 if abs(v) < 1e-9 else (1 if v > 0 else -1)
    return (orient(p, q, r) * orient(p, q, s) < 0) and (orient(r, s, p) * orient(r, s, q) < 0)


# ---- the cache -----------------------------------------------------------------------------------

class _TraceCache:
    """Per trace: a fingerprint (to notice a changed trace), its loops, the groups each ``keep``
    set folds into, and the layouts of those groups."""

    def __init__(self, fp):
        self.fp = fp
        self.blocks = None
        self.groups = OrderedDict()      # (max_nodes, keep) -> groups
        self.layouts = OrderedDict()     # (groups, edge_labels, direction) -> GraphLayout


_CACHE = weakref.WeakKeyDictionary()     # Trace -> _TraceCache


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


def _cached_groups(trace, cache, max_nodes, keep):
    if max_nodes is None or len(trace.nodes) <= max_nodes:
        return fold_groups(trace, None, keep)
    key = (max_nodes, keep)
    got = cache.groups.get(key)
    if got is None:
        if cache.blocks is None:
            cache.blocks = find_loops(trace)
        got = fold_groups(trace, max_nodes, keep, blocks=cache.blocks)
        _lru_put(cache.groups, key, got, 4 * _CACHED_LAYOUTS)
    else:
        cache.groups.move_to_end(key)
    return got


def forget_layouts(trace):
    """Drop the layouts cached for ``trace`` (the next drawing lays it out afresh)."""
    _CACHE.pop(trace, None)


def graph_layout(trace, max_nodes=200, keep=(), edge_labels=None, direction="auto"):
    """The cached static part of the drawing (see ``GraphLayout``).

    Args:
        trace: a ``Trace``.
        max_nodes: fold traces with more nodes (as ``graph.fold_graph``).
        keep: node indices that must stay visible (outputs always are).
        edge_labels: place ∂v_j/∂v_i on the edges (default: at most 40 nodes drawn).
        direction: "LR", "TB" or "auto" (left to right unless top to bottom is narrower for a
            drawing wider than ``WIDTH_BUDGET``).

    Returns:
        GraphLayout, shared by every call with the same folding (do not modify it).
    """
    cache = _trace_cache(trace)
    keep = frozenset(keep) | {o for o in trace.outputs if o >= 0}
    groups = _cached_groups(trace, cache, max_nodes, keep)
    key = (tuple((lo, hi) for lo, hi, _ in groups), edge_labels, direction)
    lay = cache.layouts.get(key)
    if lay is None:
        lay = GraphLayout(trace, groups, edge_labels, direction)
        _lru_put(cache.layouts, key, lay, _CACHED_LAYOUTS)
    else:
        cache.layouts.move_to_end(key)
    return lay
