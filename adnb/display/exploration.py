"""An ``adnb.Exploration`` as text and HTML: title, trace table, graph, Jacobian, code and cost.

Pure functions of an exploration (``adnb.exploration.Exploration``, duck-typed: this module
imports nothing above ``adnb.display``):

* ``title_text(e)`` — one line: inputs → outputs, operations, Jacobian shape and passes;
* ``exploration_text(e)`` / ``exploration_html(e)`` — the static views (text/plain, text/html);
* ``jacobian_text(e)`` / ``jacobian_html(e, filled, highlight, by)`` — the Jacobian, filled
  column by column (forward) or row by row (reverse) in the explorer;
* ``code_html(trace, mode)`` — the generated tangent/adjoint code, folded like the table;
* ``cost_html(summary)`` — operation counts of one forward and one reverse pass;
* ``fmt_value(v)`` — a number or array in a few characters.

Long traces: the text view formats only the rows it shows (the first 24 and the last 8), and
the code view generates only the head and tail of each sweep, so a 100k-operation cell
displays in seconds with well under 1 MB of HTML (``benchmarks/bench_display.py --cells``).
"""
from __future__ import annotations

import html

import numpy as np

from ._format import plural

__all__ = ["title_text", "exploration_text", "exploration_html", "jacobian_text",
           "jacobian_html", "code_html", "cost_html", "fmt_value", "plural",
           "TEXT_HEAD", "TEXT_TAIL", "CODE_HEAD", "CODE_TAIL"]

TEXT_HEAD, TEXT_TAIL = 24, 8          # rows of the text view of a long trace
CODE_HEAD, CODE_TAIL = 60, 15         # operations of each generated sweep shown
_MAX_JACOBIAN = 400                   # entries; larger Jacobians are not printed


def fmt_value(v, precision=6):
    """A number or array in a few characters (``·`` for None: no value)."""
    if v is None:
        return "·"
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if np.ndim(v) == 0:
        x = float(np.asarray(v))
        return f"{x:.{precision}g}" if x != 0 else "0"
    return np.array2string(np.asarray(v, dtype=float), precision=4, threshold=6, edgeitems=2,
                           separator=", ", suppress_small=True).replace("\n", "")


def title_text(e):
    """One line: ``cell: x1 = 1, x2 = 2 → y = 16.2 · 7 operations · J is 1×2: …``."""
    tr = e.trace
    ins = ", ".join(f"{n} = {fmt_value(v)}" for n, v in e.inputs.items())
    outs = ", ".join(f"{n} = {fmt_value(v)}" for n, v in e.outputs.items())
    what = tr.function_name or ("cell" if e.source is not None else "f")
    K, D = e.shape
    return (f"{what}: {ins} → {outs} · {plural(tr.n_ops, 'operation')} · J is {K}×{D}: "
            f"{plural(D, 'forward pass')} or {plural(K, 'reverse pass')}")


def _shown_rows(n):
    """Node indices the text view shows, and where the elision goes (None: all shown)."""
    if n <= TEXT_HEAD + TEXT_TAIL + 8:
        return list(range(n)), None
    return list(range(TEXT_HEAD)) + list(range(n - TEXT_TAIL, n)), TEXT_HEAD


def exploration_text(e):
    """The trace, tangents, adjoints and Jacobian as plain text (deterministic). A long trace
    shows its first and last rows; only those are formatted."""
    tr = e.trace
    cols = ["node", "formula", "name", "value"]
    fwd, rev = e.shown_results()
    if fwd is not None:
        cols += [f"v̇ ({lab})" for lab in fwd.labels]
    if rev is not None:
        cols += [f"v̄ ({lab})" for lab in rev.labels]
    nodes = tr.nodes
    shown, gap = _shown_rows(len(nodes))
    rows = []
    for i in shown:
        n = nodes[i]
        r = [n.label, n.formula(), n.name or "", fmt_value(n.ans)]
        if fwd is not None:
            r += [fmt_value(t[i]) for t in fwd.tangents]
        if rev is not None:
            r += [fmt_value(a[i]) for a in rev.adjoints]
        rows.append(r)
    if gap is not None:
        hidden = len(nodes) - len(shown)
        rows.insert(gap, ["…", plural(hidden, "row") + " not shown", "", ""] + [""] * (len(cols) - 4))
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(cols)]
    lines = [title_text(e), "  ".join(c.ljust(w) for c, w in zip(cols, widths))]
    lines += ["  ".join(x.ljust(w) for x, w in zip(r, widths)).rstrip() for r in rows]
    note = _columns_note(e, fwd, rev)
    if note:
        lines.append(note)
    lines.append(jacobian_text(e))
    return "\n".join(lines)


def exploration_html(e):
    """The static view: title, table, graph (SVG), Jacobian, code and cost, per ``e.show``."""
    from .html import trace_table
    tr = e.trace
    fwd, rev = e.shown_results()
    mode = None if e.mode == "both" else e.mode
    parts = [f'<div class="adnb-exploration"><p class="adnb-title"><b>{html.escape(title_text(e))}'
             f'</b></p>']
    if getattr(e, "predict", False):
        return "\n".join(parts + [_predict_html(e), "</div>"])
    if "table" in e.show:
        parts.append(trace_table(tr, forward=fwd, reverse=rev, mode=mode))
    if "graph" in e.show:       # inline SVG: written directly, no matplotlib needed
        from .svg import graph_svg
        parts.append(f'<div class="adnb-graph">{graph_svg(tr, forward=fwd, reverse=rev, mode=mode)}'
                     f'</div>')
    note = _columns_note(e, fwd, rev)
    if note:
        parts.append(f'<p class="adnb-columns-note">{html.escape(note)}</p>')
    parts.append(jacobian_html(e))
    if "code" in e.show:
        parts.append(code_html(tr, e.mode))
    if "cost" in e.show:
        parts.append(cost_html(e.cost))
    parts.append("</div>")
    return "\n".join(parts)


def _predict_html(e):
    """Predict mode without widgets: the values, then the blanks of the sweep the explorer would
    ask for (forward unless the exploration is reverse-only), the answers collapsed."""
    from .html import trace_table
    from .predict import exercise_html
    mode = "reverse" if e.mode == "reverse" else "forward"
    res = e.sweep(mode, e.seeds(mode)[0])
    kw = {"forward": res} if mode == "forward" else {"reverse": res}
    return trace_table(e.trace, mode="primal") + exercise_html(e.trace, mode, **kw)


def _columns_note(e, fwd, rev):
    """Which seeds the table's columns show, when not all of them."""
    parts = []
    for mode, res in (("forward", fwd), ("reverse", rev)):
        if res is not None and len(res.labels) < len(e.seeds(mode)):
            parts.append(f"the first {plural(len(res.labels), mode + ' pass')} of "
                         f"{len(e.seeds(mode))}")
    if not parts:
        return ""
    return ("The table shows " + " and ".join(parts) + "; the explorer widget (or "
            "e.sweep(mode, seed)) shows any other.")


def jacobian_text(e):
    """The Jacobian with its row and column labels, or a note when it has over 400 entries."""
    K, D = e.shape
    if K * D > _MAX_JACOBIAN:
        return f"Jacobian: {K}×{D} (too large to print; see .jacobian)"
    J = e.jacobian
    li, lo = e.input_layout.labels, e.output_layout.labels
    w = max([10] + [len(x) for x in li])
    wl = max(len(x) for x in lo) if lo else 1
    head = " " * (wl + 2) + "".join(x.rjust(w + 2) for x in li)
    rows = [f"  {lo[k].ljust(wl)}" + "".join(fmt_value(J[k, j]).rjust(w + 2) for j in range(D))
            for k in range(K)]
    return "\n".join([f"Jacobian ∂y/∂x ({K}×{D}): {plural(D, 'forward pass')} or "
                      f"{plural(K, 'reverse pass')}", head] + rows)


def _jacobian_value(e, cache, k, j, by):
    if by == "column":
        return cache.setdefault(j, e.jacobian_column(j))[k]
    return cache.setdefault(k, e.jacobian_row(k))[j]


def jacobian_html(e, filled=None, highlight=None, by="column"):
    """The Jacobian as an HTML table.

    Args:
        e: the Exploration.
        filled: which columns (``by="column"``) or rows (``by="row"``) are known; None = all.
        highlight: the column/row being filled now (drawn with a border).
        by: ``"column"`` (forward passes) or ``"row"`` (reverse passes).
    """
    K, D = e.shape
    li, lo = e.input_layout.labels, e.output_layout.labels
    if K * D > _MAX_JACOBIAN:
        return (f'<p class="adnb-jacobian-note">Jacobian {K}×{D}: too large to show '
                f'(see <code>.jacobian</code>)</p>')
    J = e.jacobian if filled is None else None
    filled = set(range(D if by == "column" else K)) if filled is None else set(filled)
    cells = ['<table class="adnb-jac" style="border-collapse:collapse">',
             "<tr><th></th>" + "".join(f"<th>∂/∂{html.escape(x)}</th>" for x in li) + "</tr>"]
    cache = {}
    for k in range(K):
        tds = []
        for j in range(D):
            idx = j if by == "column" else k
            style = "padding:2px 8px;text-align:right"
            if idx == highlight:
                style += ";background:#fff3c4"
            if idx in filled:
                v = J[k, j] if J is not None else _jacobian_value(e, cache, k, j, by)
                tds.append(f'<td style="{style}">{fmt_value(v, 5)}</td>')
            else:
                tds.append(f'<td style="{style};color:#aaa">?</td>')
        cells.append(f"<tr><th>{html.escape(lo[k])}</th>{''.join(tds)}</tr>")
    cells.append("</table>")
    return '<div class="adnb-jacobian-table">' + "".join(cells) + "</div>"


def code_html(trace, mode):
    """Generated tangent/adjoint code (``adnb.display.codegen``) as HTML. A long program shows
    its first ``CODE_HEAD`` and last ``CODE_TAIL`` operations per sweep (only those are
    generated); ``adnb.display.tangent_code(trace)`` gives the whole program."""
    from ..errors import UnsupportedOperationError
    from .codegen import adjoint_code, tangent_code
    fold = (CODE_HEAD, CODE_TAIL)
    out = []
    try:
        if mode in ("forward", "both"):
            code = tangent_code(trace, fold=fold)
            out.append("<b>tangent code (forward mode)</b><pre>" + html.escape(code) + "</pre>")
        if mode in ("reverse", "both"):
            code = adjoint_code(trace, fold=fold)
            out.append("<b>adjoint code (reverse mode)</b><pre>" + html.escape(code) + "</pre>")
    except UnsupportedOperationError as e:      # custom rules: no code to generate
        out = [f"<p>{html.escape(str(e))}</p>"]
    return '<div class="adnb-code">' + "".join(out) + "</div>"


def cost_html(summary):
    """A ``CostSummary`` (``e.cost``) as an HTML table."""
    head = ("<tr><th>sweep</th><th>ops</th><th>flops</th><th>ops per primal op (≤ 6, §8.2.2)"
            "</th><th>full Jacobian</th></tr>")
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(x))}</td>" for x in r) + "</tr>"
                   for r in summary.rows())
    tape = ""
    if summary.reverse is not None:
        tape = (f"<p>reverse mode keeps {summary.reverse.tape_bytes} bytes of arrays for the "
                f"backward sweep; forward mode (online) keeps none.</p>")
    return f'<div class="adnb-cost"><table class="adnb-cost-table">{head}{body}</table>{tape}</div>'
