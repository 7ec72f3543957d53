"""The graph's layout and drawing at real size (issue 14) and one layout for both renderers
(issue 12): geometry and structure, never pixels.

* every node, label and text lies inside the SVG's viewBox; every font is at least 10 px;
* edge labels overlap no node, no other label (boxes checked pairwise), and a key says what
  they are; labels that find no spot are listed in the key, not drawn over something;
* the layered layout (grandalf) crosses fewer edges than the hand layout it replaced (kept
  below as ``_old_layout``) on sample traces, never more;
* the 13-node trace of the issue fits a 477 px output panel sideways; ``graph_html`` marks the
  node in progress for ``scroll-initial-target``;
* SVG and matplotlib draw the same positions; the modules import in one direction.
"""
import ast
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import adnb
from functions import book_8_65
from adnb.display import draw_graph, graph_html, graph_svg
from adnb.display.layout import (EDGE_LABEL_LIMIT, RADIUS, SMALL_PX, crossings, graph_layout,
                                 _segments_cross)

NS = "{http://www.w3.org/2000/svg}"
ROOT = Path(__file__).resolve().parents[1]


def sin_twice(x1, x2):                # eq. (8.49) and (8.65) with sin(x2) computed twice
    v3 = x1 * x2
    v5 = np.exp(v3)
    v6 = v3 - np.sin(x2)
    return v3 + v5 - np.sin(x2), v5 * v6


def loss(w, b, x):                    # the 3-input logistic loss, a loop and a branch
    z = w * x + b
    for _ in range(2):
        z = z * 0.9
    if z > 0:
        p = 1 / (1 + np.exp(-z))
    else:
        p = np.exp(z) / (1 + np.exp(z))
    return -np.log(p)


def wide(*xs):                        # every pair of inputs multiplied: many crossings to avoid
    s = 0
    for i in range(len(xs)):
        for j in range(i + 1, len(xs)):
            s = s + xs[i] * xs[j]
    return s


def branchy(x, y):
    a, b = x, y
    for i in range(60):
        c = a * b if i % 3 else np.sin(a) + b
        a, b = np.tanh(b), c
    return a + b


def mixer(x1, x2, x3):                # fan-out and fan-in across layers
    a, b, c = x1 * x2, x2 + x3, np.sin(x1)
    d, e = a * c, b * a
    f = np.exp(c) + d
    return f * e + b, d - x3


SAMPLES = {
    "two nodes": (lambda x: np.sin(x), (0.5,)),
    "book (8.65)": (book_8_65, (1.0, 2.0)),
    "sin twice": (sin_twice, (1.0, 2.0)),
    "loss, 13 nodes": (loss, (0.5, -0.2, 1.5)),
    "mixer": (mixer, (0.3, 0.5, 0.7)),
    "wide, 5 inputs": (wide, (1.0, 2.0, 3.0, 4.0, 5.0)),
    "wide, 7 inputs": (wide, tuple(float(i) for i in range(7))),
    "branchy, 143 nodes": (branchy, (0.3, 0.7)),
}


@pytest.fixture(scope="module", params=list(SAMPLES))
def sample(request):
    f, args = SAMPLES[request.param]
    return adnb.trace(f, *args)


def _boxes_overlap(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


# ---- geometry of the layout ------------------------------------------------------------------

def test_labels_overlap_no_node_and_no_other_label(sample):
    lay = graph_layout(sample)
    nodes = lay.node_boxes()
    boxes = [lab.box for lab in lay.labels]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not _boxes_overlap(a, b), (a, b)
        for key, rects in nodes.items():
            assert not any(_boxes_overlap(a, r) for r in rects), (lay.labels[i].edge, key)
    if lay.small:                      # every edge between two drawn nodes is labelled or listed
        labelled = {lab.edge for lab in lay.labels} | {e for e, _ in lay.omitted}
        assert labelled == {(u, v) for u, v in lay.g.edges
                            if lay.g.nodes[u]["kind"] == lay.g.nodes[v]["kind"] == "node"}
    # nodes do not overlap each other either
    keys = list(nodes)
    for i, k in enumerate(keys):
        for m in keys[i + 1:]:
            assert not _boxes_overlap(nodes[k][0], nodes[m][0]), (k, m)


def test_parents_are_in_earlier_layers_and_outputs_in_the_last(sample):
    lay = graph_layout(sample)
    axis = 0 if lay.direction == "LR" else 1
    pos = lay.pos
    for u, v in lay.g.edges:
        assert pos[u][axis] < pos[v][axis], (u, v)
    last = max(p[axis] for p in pos.values())
    for key in lay.out_keys:
        if lay.g.out_degree(key) == 0:
            assert pos[key][axis] == pytest.approx(last)


def test_edges_skipping_layers_bend_around_nodes(sample):
    lay = graph_layout(sample)
    axis = 0 if lay.direction == "LR" else 1
    pos = lay.pos
    for (u, v), pts in lay.edges.items():
        between = {k: s for k, s in lay.nodes.items()
                   if pos[u][axis] + 1 < pos[k][axis] < pos[v][axis] - 1}
        for p, q in zip(pts, pts[1:]):
            for key, s in between.items():
                # the route keeps clear of every circle in the layers it skips
                d = _distance_to_segment((s.x, s.y), p, q)
                assert d > (RADIUS if s.kind == "node" else 1.0), ((u, v), key, d)


def _distance_to_segment(c, p, q):
    dx, dy = q[0] - p[0], q[1] - p[1]
    t = max(0.0, min(1.0, ((c[0] - p[0]) * dx + (c[1] - p[1]) * dy) / (dx * dx + dy * dy or 1)))
    return math.dist(c, (p[0] + t * dx, p[1] + t * dy))


def _old_layout(g, outputs=()):
    """The hand layout this module replaced (adnb.display.graph.layout before issue 14):
    depth columns, two barycentre sweeps. Units: columns 1.8 apart, rows 1.1."""
    order = sorted(g.nodes, key=lambda v: g.nodes[v].get("index", 0))
    depth = {}
    for v in order:
        ps = [depth[u] for u in g.predecessors(v) if u in depth]
        depth[v] = (max(ps) + 1) if ps else 0
    last = max(depth.values(), default=0)
    for v in outputs:
        if v in depth and g.out_degree(v) == 0:
            depth[v] = last
    layers = {}
    for v in order:
        layers.setdefault(depth[v], []).append(v)
    ypos = {v: float(k) for d in layers for k, v in enumerate(layers[d])}
    for _ in range(2):
        for direction in (1, -1):
            for d in sorted(layers, reverse=direction < 0):
                nbrs = g.predecessors if direction > 0 else g.successors

                def key(v):
                    ys = [ypos[u] for u in nbrs(v)]
                    return (sum(ys) / len(ys)) if ys else ypos[v]
                layers[d].sort(key=key)
                for k, v in enumerate(layers[d]):
                    ypos[v] = float(k)
    pos = {}
    for d, vs in layers.items():
        off = (len(vs) - 1) / 2.0
        for k, v in enumerate(vs):
            pos[v] = (1.8 * d, 1.1 * (off - k))
    return pos


def _straight_crossings(g, pos):
    edges = list(g.edges)
    n = 0
    for i, e in enumerate(edges):
        for f in edges[i + 1:]:
            if not set(e) & set(f) and _segments_cross(pos[e[0]], pos[e[1]], pos[f[0]], pos[f[1]]):
                n += 1
    return n


def test_layered_layout_crosses_fewer_edges_than_the_hand_layout():
    counts = {}
    for name, (f, args) in SAMPLES.items():
        lay = graph_layout(adnb.trace(f, *args))
        old = _straight_crossings(lay.g, _old_layout(lay.g, lay.out_keys))
        counts[name] = (crossings(lay), old)
    print("crossings (layered, hand layout):", counts)
    # fewer in all (the hand layout's straight lines also ran through skipped nodes, which the
    # layered routes avoid); barycentre heuristics are not optimal,
    # so one small sample may cross a little more than before
    assert sum(new for new, _ in counts.values()) < 0.85 * sum(old for _, old in counts.values())
    # Figure 8.5: v5 and v6 both feed v7 and v8, one crossing no drawing in layers avoids
    assert counts["book (8.65)"] == (1, 1) and counts["two nodes"] == (0, 0)
    assert sum(new > old for new, old in counts.values()) <= 1, counts
    assert all(new <= old + 2 for new, old in counts.values()), counts


# ---- the SVG at real size --------------------------------------------------------------------

def _font_sizes(root):
    sizes = []
    for el in root.iter():
        if el.get("font-size"):
            sizes.append(float(el.get("font-size")))
    return sizes


def test_svg_is_whole_inside_its_viewbox_with_text_of_10px_or_more(sample):
    rv = sample.reverse()
    svg = graph_svg(sample, reverse=rv, step=1, mode="reverse")
    root = ET.fromstring(svg)
    W, H = float(root.get("width")), float(root.get("height"))
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    assert "max-width" not in (root.get("style") or "")       # drawn at its natural size
    for c in root.iter(NS + "circle"):
        cx, cy, r = (float(c.get(a)) for a in ("cx", "cy", "r"))
        assert 0 <= cx - r and cx + r <= W and 0 <= cy - r and cy + r <= H
    for rect in root.iter(NS + "rect"):
        if rect.get("x") is not None:
            x, y = float(rect.get("x")), float(rect.get("y"))
            assert 0 <= x and x + float(rect.get("width")) <= W + 0.1
            assert 0 <= y and y + float(rect.get("height")) <= H + 0.1
    for sp in root.iter(NS + "tspan"):
        assert 0 <= float(sp.get("x")) <= W and 0 <= float(sp.get("y")) <= H
    sizes = _font_sizes(root)
    assert sizes and min(sizes) >= SMALL_PX
    svg_labels = [g for g in root.iter(NS + "g") if g.get("data-edge")]
    lay = graph_layout(sample, keep=[rv and sample.outputs[0]])
    assert len(svg_labels) == len(lay.labels)
    text = " ".join(t.text or "" for t in root.iter(NS + "text"))
    if svg_labels:
        assert "edge label: the local partial ∂vⱼ/∂vᵢ" in text     # the key


def test_thirteen_node_trace_fits_a_477px_panel_sideways():
    t = adnb.trace(loss, 0.5, -0.2, 1.5)
    assert len(t.nodes) == 13
    root = ET.fromstring(graph_svg(t, reverse=t.reverse(), step=0, mode="reverse"))
    assert float(root.get("width")) <= 477          # no sideways scrolling: output and branch
    nodes = {g.get("data-node") for g in root.iter(NS + "g") if g.get("data-node")}
    assert nodes == {f"v{i}" for i in range(1, 14)}
    assert root.get("data-direction") == "TB"       # deep and narrow: top to bottom


def test_graph_html_marks_the_node_in_progress_for_scrolling():
    t = adnb.trace(loss, 0.5, -0.2, 1.5)
    rv = t.reverse()
    for step in (0, 5, 12):
        html = graph_html(t, reverse=rv, step=step, mode="reverse")
        assert html.startswith('<div class="adnb-graph-view"') and "overflow:auto" in html
        svg = re.search(r"<svg.*</svg>", html, re.S).group(0)
        root = ET.fromstring(svg)
        (cur,) = [g for g in root.iter(NS + "g") if g.get("data-status") == "current"]
        c = cur.find(NS + "circle")
        cx, cy = float(c.get("cx")), float(c.get("cy"))
        m = re.search(r'class="adnb-graph-focus" style="position:absolute;left:([\d.]+)px;'
                      r'top:([\d.]+)px;width:([\d.]+)px;height:([\d.]+)px;[^"]*'
                      r'scroll-initial-target:nearest', html)
        x0, y0, w, h = map(float, m.groups())
        assert x0 < cx - RADIUS and cx + RADIUS < x0 + w and y0 < cy - RADIUS < cy + RADIUS < y0 + h
    assert "adnb-graph-focus" not in graph_html(t)                 # no sweep: no marker


def test_labels_that_find_no_room_are_listed_in_the_key(monkeypatch):
    from adnb.display import layout as L
    t = adnb.trace(book_8_65, 1.0, 2.0)
    monkeypatch.setattr(L, "_candidates", lambda points, w, h: iter(()))
    lay = L.GraphLayout(t, L.fold_groups(t, None, ()), edge_labels=True)
    assert not lay.labels and len(lay.omitted) == lay.g.number_of_edges()
    monkeypatch.setattr(L, "graph_layout", lambda *a, **k: lay)
    from adnb.display import svg as S
    monkeypatch.setattr(S, "graph_layout", lambda *a, **k: lay)
    text = " ".join(t.text or "" for t in ET.fromstring(S.graph_svg(t)).iter(NS + "text"))
    assert "∂v4/∂v2: cos(v2) = -0.4161" in text


def test_big_graphs_drop_labels_and_values_but_keep_10px_text():
    t = adnb.trace(branchy, 0.3, 0.7)
    lay = graph_layout(t)
    assert lay.g.number_of_nodes() > EDGE_LABEL_LIMIT and not lay.labels and not lay.values
    loop = adnb.trace(lambda x: sum(np.sin(x * k) for k in range(300)), 0.3)
    root = ET.fromstring(graph_svg(loop))          # folded: fold boxes, still ≥ 10 px
    assert any(g.get("class") == "adnb-fold" for g in root.iter(NS + "g"))
    assert min(_font_sizes(root)) >= SMALL_PX


def test_matplotlib_draws_the_svg_positions():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    t = adnb.trace(mixer, 0.3, 0.5, 0.7)
    lay = graph_layout(t)
    fig, ax = plt.subplots()
    try:
        draw_graph(t, ax=ax)
        centres = {tx.get_text().split("\n")[0]: tx.get_position() for tx in ax.texts
                   if re.fullmatch(r"v\d+\n.*", tx.get_text())}
        assert centres == {k: pytest.approx(p) for k, p in lay.pos.items()}
        sizes = [tx.get_fontsize() for tx in ax.texts]
        assert min(sizes) >= SMALL_PX
        assert any(tx.get_text().startswith("edge label: the local partial") for tx in ax.texts)
    finally:
        plt.close(fig)


# ---- module structure (issue 12) -------------------------------------------------------------

def _imports(path):
    tree = ast.parse(path.read_text())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            out += [(node.module, a.name) for a in node.names]
    return out


def test_renderers_share_the_layout_without_private_cross_imports():
    d = ROOT / "adnb" / "display"
    svg, graph, layout = (_imports(d / f"{m}.py") for m in ("svg", "graph", "layout"))
    assert not [m for m, _ in svg if m == "graph"]                  # no cycle svg ↔ graph
    assert not [m for m, _ in layout if m in ("graph", "svg")]
    for mod, names in (("svg", svg), ("graph", graph)):
        private = [(m, n) for m, n in names if m in ("graph", "svg", "layout")
                   and n.startswith("_")]
        assert not private, (mod, private)
    assert ("layout", "graph_layout") in svg and ("layout", "graph_layout") in graph
    for f in (d / "graph.py", d / "svg.py", d / "layout.py", d / "cost.py",
              ROOT / "adnb" / "widgets" / "cost.py"):
        assert len(f.read_text().splitlines()) <= 900, f
