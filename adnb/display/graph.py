"""The computational graph of a trace (Bishop & Bishop Figures 8.4 and 8.5).

Lets you:

* ``to_networkx(trace, forward=None, reverse=None)`` — a ``networkx.DiGraph`` with one node per
  variable v_i (keyed by its label "v3") and one edge per parent → child use, carrying everything
  a learner might query: operation, formula, value, shape, user name, input/output flags,
  tangents/adjoints if given, and on each edge the local partial ∂v_j/∂v_i (number and formula).
* ``fold_graph(trace, max_nodes=200)`` — the same graph with loop iterations and repeated
  structure folded into box nodes when the trace is too big to draw (counts add up).
* ``draw_graph(trace, ax=None, forward=None, reverse=None, step=None, mode=None)`` — draw it with
  matplotlib in the book's layout: inputs left, outputs right, nodes layered by depth, edges
  labelled with ∂v_j/∂v_i, a sweep's state at step k highlighted. No Graphviz needed.
* ``graph_png(...)`` / ``graph_svg(...)`` — the drawing as PNG bytes (matplotlib) or SVG text
  (written directly by ``adnb.display.svg``, no matplotlib: what widgets show).

matplotlib is imported inside the drawing functions only.
"""
from __future__ import annotations

import io

import networkx as nx

from . import _format as F
from ._rules import formula, jvp_text, op_symbol, partial_text
from .folding import fold
from .sweep import local_partial, quiet, resolve_sweep

__all__ = ["to_networkx", "fold_graph", "draw_graph", "graph_png", "graph_svg", "layout"]

#: distance between columns (depths) and between nodes of a column, in node diameters / 0.44
X_SPACING = 1.8
Y_SPACING = 1.1
#: above this many drawn nodes, edge labels are left out (they would overlap)
EDGE_LABEL_LIMIT = 40

_COLORS = {
    "input": "#cfe5f7", "output": "#fcd9a8", "op": "#ffffff", "fold": "#eeeeee",
    "done": "#b9e4b9", "current": "#ffe066", "pending": "#f2f2f2", "idle": "#ffffff",
    "nonfinite": "#ff9d9d",
}


def _output_labels(trace):
    """{node index: ["f1", ...]} for the outputs (the user's names where known)."""
    out = {}
    n_out = len(trace.outputs)
    for k, o in enumerate(trace.outputs):
        if o < 0:
            continue
        given = trace.output_names[k] if k < len(trace.output_names) else None
        out.setdefault(o, []).append(given or (f"f{k + 1}" if n_out > 1 else "f"))
    return out


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
    outs = _output_labels(trace)
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

def _groups(trace, max_nodes, keep):
    """Contiguous index ranges to draw as one node each: single nodes, or folded runs."""
    if max_nodes is None or len(trace.nodes) <= max_nodes:
        return [(i, i + 1, None) for i in range(len(trace.nodes))]
    segs = fold(trace, max_items=max_nodes, keep=keep)
    out = []
    for kind, item in segs:
        if kind == "row":
            out.append((item, item + 1, None))
        else:
            out.append((item.lo, item.hi, item))
    return out


def _fold_label(item):
    n = item.hi - item.lo
    if item.kind == "loop":
        a, b = item.first_iteration, item.last_iteration
        its = f"iteration {a}" if a == b else f"iterations {a}–{b}"
        return f"⋯ {its}\nof {item.loop.count}\n({n} nodes)"
    return f"⋯ v{item.lo + 1}–v{item.hi}\n({n} nodes)"


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
    return graph_from_groups(trace, _groups(trace, max_nodes, keep))[0]


def graph_from_groups(trace, groups):
    """The folded DiGraph for ``groups`` of (lo, hi, fold item or None), and each trace node's
    owner key; shared by ``fold_graph`` and the SVG writer (which caches its groups)."""
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
                       label=_fold_label(item), fold=item)
            folded += hi - lo
        for i in range(lo, hi):
            owner[i] = key
    for n in trace.nodes:
        for p in n.parents:
            if p >= 0 and owner[p] != owner[n.index]:
                cut = getattr(n.prim, "kind", None) == "stop_gradient"
                g.add_edge(owner[p], owner[n.index], **({"cut": True} if cut else {}))
    g.graph.update(folded=folded, total=len(trace.nodes), function_name=trace.function_name)
    return g, owner


# ---- layout ------------------------------------------------------------------------------------

def layout(g, outputs=()):
    """Positions in the layout of Figures 8.4/8.5: x = depth (longest path from an input),
    outputs moved to the last column, nodes in a column ordered to limit crossings.

    Args:
        g: a DAG whose nodes have an ``index`` attribute (``to_networkx`` or ``fold_graph``).
        outputs: nodes to place in the rightmost column.

    Returns:
        dict node → (x, y).
    """
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
    ypos = {}
    for d in sorted(layers):
        for k, v in enumerate(layers[d]):
            ypos[v] = float(k)
    # barycentre sweeps (left to right, then right to left) to reduce edge crossings
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
            pos[v] = (X_SPACING * d, Y_SPACING * (off - k))
    return pos


# ---- drawing -----------------------------------------------------------------------------------

def _node_text(trace, node):
    lines = [node.label]
    if node.prim is None:
        if node.name:
            lines.append(str(node.name))
    else:
        lines.append(op_symbol(node))
    return "\n".join(lines)


def draw_graph(trace, ax=None, forward=None, reverse=None, step=None, mode=None, max_nodes=200,
               edge_labels=None, values=None):
    """Draw the computational graph in the layout of Bishop & Bishop Figures 8.4/8.5.

    Args:
        trace: a ``Trace``.
        ax: matplotlib Axes to draw into (default: a new pyplot figure).
        forward, reverse: sweep results; their values are written under the nodes.
        step, mode: highlight the state of the ``mode`` sweep ("forward"/"reverse") at ``step``
            (see ``adnb.display.sweep.sweep_state``); the result is computed if not given.
        max_nodes: traces with more nodes are folded (loop iterations, then runs of nodes)
            into grey boxes, and the title says how many nodes were folded.
        edge_labels: write ∂v_j/∂v_i on the edges (default: when at most 40 nodes are drawn).
        values: write the primal (and tangent/adjoint) under each node (default: when at most
            40 nodes are drawn).

    Returns:
        the matplotlib Axes.

    Visual encoding:
        * circles are variables, labelled v_i and their operation (× + − sin exp @ Σ ...);
          inputs (light blue) on the left with the parameter name, outputs (orange, bold label)
          on the right with an arrow to their name (f, f1, f2); columns are depths (longest path
          from an input), so a node's parents are always to its left;
        * arrows go from parent to child; a node with several outgoing arrows fans out (its
          adjoint sums over them, eq. 8.69); edge labels are the local partials ∂v_j/∂v_i in
          book notation with their value, or the tangent rule for non-elementwise operations;
        * under each node: its value, and v̇ (forward) and/or v̄ (reverse) for the first seed;
        * sweep at a step: green = done, yellow with a thick border = in progress, pale grey =
          pending; red = inf/nan value;
        * grey dashed boxes stand for folded nodes (loop iterations or runs), with counts.
    """
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection, PatchCollection
    from matplotlib.patches import Circle, FancyBboxPatch, Polygon

    mode, forward, reverse, state = resolve_sweep(trace, forward, reverse, step, mode)
    keep = set(state.current) if state else set()
    g = fold_graph(trace, max_nodes=max_nodes, keep=keep)
    outs = _output_labels(trace)
    out_keys = [trace.nodes[o].label for o in outs if trace.nodes[o].label in g]
    pos = layout(g, out_keys)

    if ax is None:
        xs = [p[0] for p in pos.values()] or [0]
        ys = [p[1] for p in pos.values()] or [0]
        w = min(1.25 * (max(xs) - min(xs) + 2.0) + 0.5, 40)
        h = min(1.25 * (max(ys) - min(ys) + 1.3) + 0.9, 30)
        _, ax = plt.subplots(figsize=(w, h))
    small = g.number_of_nodes() <= EDGE_LABEL_LIMIT
    edge_labels = small if edge_labels is None else edge_labels
    values = small if values is None else values
    radius = 0.22
    fs = 9 if small else 7

    def color(d):
        i = d["index"]
        node = trace.nodes[i]
        if F.is_nonfinite(node.ans):
            return _COLORS["nonfinite"]
        if state is not None:
            return _COLORS[state.status(i)]
        if node.prim is None:
            return _COLORS["input"]
        return _COLORS["output"] if i in outs else _COLORS["op"]

    # edges: one collection of shafts, one of arrowheads (fast for a couple of hundred edges)
    names = [n.label for n in trace.nodes]
    shafts, heads = [], []
    for u, v in g.edges:
        a, b = _trim(pos[u], pos[v], _extent(g, u, radius), _extent(g, v, radius))
        shafts.append((a, b))
        heads.append(Polygon(_arrowhead(a, b), closed=True))
        if edge_labels and g.nodes[u]["kind"] == "node" and g.nodes[v]["kind"] == "node":
            txt = _edge_label(trace, g.nodes[u]["index"], g.nodes[v]["index"], names)
            if txt:
                (x0, y0), (x1, y1) = pos[u], pos[v]
                ax.text(x0 + 0.42 * (x1 - x0), y0 + 0.42 * (y1 - y0), txt, fontsize=fs - 1.5,
                        ha="center", va="center", color="#333366", zorder=3, parse_math=False,
                        bbox=dict(boxstyle="square,pad=0.1", fc="white", ec="none"))
    for key in out_keys:                  # the output arrows: v7 → f1
        x, y = pos[key]
        a, b = (x + radius + 0.01, y), (x + 0.7, y)
        shafts.append((a, b))
        heads.append(Polygon(_arrowhead(a, b), closed=True))
        ax.text(x + 0.74, y, ", ".join(outs[g.nodes[key]["index"]]), ha="left", va="center",
                fontsize=fs, zorder=4, parse_math=False)
    cut = [bool(g.edges[e].get("cut")) for e in g.edges] + [False] * len(out_keys)
    ax.add_collection(LineCollection(shafts, colors=["#b03030" if c else "#555555" for c in cut],
                                     linestyles=["--" if c else "-" for c in cut],
                                     linewidths=0.9, zorder=1))
    ax.add_collection(PatchCollection(heads, facecolors="#555555", edgecolors="none", zorder=1))

    # nodes: one collection of circles, one of fold boxes
    circles, boxes = [], []
    for key, (x, y) in pos.items():
        d = g.nodes[key]
        if d["kind"] == "fold":
            boxes.append(FancyBboxPatch((x - 0.5, y - 0.32), 1.0, 0.64,
                                        boxstyle="round,pad=0.02"))
            ax.text(x, y, d["label"], ha="center", va="center", fontsize=fs - 2, zorder=4)
            continue
        i = d["index"]
        node = trace.nodes[i]
        current = state is not None and i in state.current
        circles.append(Circle((x, y), radius, fc=color(d), ec="#b08800" if current else "#333333",
                              lw=2.5 if current else 1.0))
        label = _node_text(trace, node)
        ax.text(x, y, label, ha="center", va="center", zorder=4, parse_math=False,
                fontsize=fs if len(label.split("\n")[0]) <= 4 else fs - 2,
                fontweight="bold" if i in outs else "normal")
        if values:
            vt = _value_text(trace, node, forward, reverse, mode, state)
            if vt:
                ax.text(x, y - radius - 0.04, vt, ha="center", va="top", fontsize=fs - 2,
                        color="#444444", zorder=4, parse_math=False)
    ax.add_collection(PatchCollection(circles, match_original=True, zorder=2))
    if boxes:
        ax.add_collection(PatchCollection(boxes, facecolors=_COLORS["fold"], edgecolors="#888888",
                                          linestyles="--", zorder=2))
    xs = [p[0] for p in pos.values()] or [0]
    ys = [p[1] for p in pos.values()] or [0]
    ax.set_xlim(min(xs) - 0.6, max(xs) + 1.4)
    ax.set_ylim(min(ys) - 0.75, max(ys) + 0.55)
    ax.set_aspect("equal", adjustable="box")
    ax.axis("off")
    ax.set_title(_title(trace, g, state, mode), fontsize=10, parse_math=False)
    return ax


def _arrowhead(a, b, length=0.09, width=0.055):
    """The triangle of an arrowhead ending at b, pointing along a → b (data coordinates)."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    d = (dx * dx + dy * dy) ** 0.5 or 1.0
    ux, uy = dx / d, dy / d
    bx, by = b[0] - ux * length, b[1] - uy * length
    return [b, (bx - uy * width, by + ux * width), (bx + uy * width, by - ux * width)]


def _extent(g, key, radius):
    """How far from its centre an arrow to this node must stop (circle or fold box)."""
    return 0.52 if g.nodes[key]["kind"] == "fold" else radius + 0.01


def _trim(p, q, ra, rb):
    """The segment p → q shortened by ra at p and rb at q (arrows end at the node's rim)."""
    dx, dy = q[0] - p[0], q[1] - p[1]
    d = (dx * dx + dy * dy) ** 0.5 or 1.0
    return (p[0] + dx * ra / d, p[1] + dy * ra / d), (q[0] - dx * rb / d, q[1] - dy * rb / d)


def _edge_label(trace, i, j, names):
    child = trace.nodes[j]
    ks = [k for k, p in enumerate(child.parents) if p == i]
    if not ks:
        return ""
    if child.prim.elementwise:
        texts = [partial_text(child, k, names) for k in ks]
        with quiet():
            vals = [local_partial(child, k) for k in ks]
        text = " + ".join(t for t in texts if t)
        if all(v is not None for v in vals):
            total = vals[0]
            for v in vals[1:]:
                total = total + v
            num = F.short(total, digits=4)
            if num != text:
                text = f"{text} = {num}" if text not in ("1", "−1") else text
        return text
    return jvp_text(child, ks[0], names, "v\u0307" + str(i + 1))


def _value_text(trace, node, forward, reverse, mode, state):
    parts = [F.short(node.ans, digits=4, items=2)]
    i = node.index
    if forward is not None and forward.tangents and mode in (None, "forward"):
        t = forward.tangents[0][i]
        if state is not None and mode == "forward" and state.status(i) == "pending":
            parts.append("v\u0307=·")
        else:
            parts.append("v\u0307=" + F.short(t, digits=4, items=2))
    if reverse is not None and reverse.adjoints and mode in (None, "reverse"):
        a = reverse.adjoints[0][i]
        if state is not None and mode == "reverse" and state.status(i) == "pending":
            parts.append("v\u0304=·")
        else:
            parts.append("v\u0304=" + F.short(a, digits=4, items=2))
    return "\n".join(parts)


def _title(trace, g, state, mode):
    name = trace.function_name or "f"
    title = f"Computational graph of {name}: {len(trace.inputs)} inputs, {trace.n_ops} operations"
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


def _render(trace, fmt, dpi, kwargs):
    """Draw on a pyplot-free Figure sized to the graph and save it in ``fmt``."""
    import matplotlib as mpl
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure()
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    draw_graph(trace, ax=ax, **kwargs)
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    fig.set_size_inches(min(1.25 * (x1 - x0) + 0.5, 40), min(1.25 * (y1 - y0) + 0.9, 30))
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
        **kwargs: max_nodes, edge_labels, values (as for ``draw_graph``).

    Returns:
        str: one ``<svg>`` element (inline in HTML or saved as a file).
    """
    from .svg import graph_svg as _graph_svg
    return _graph_svg(trace, forward=forward, reverse=reverse, step=step, mode=mode, **kwargs)
