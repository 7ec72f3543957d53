"""The book's evaluation-trace table (Bishop & Bishop §8.2, eqs. 8.50–8.76) as HTML or text.

Lets you render a recorded trace, with the numbers of its sweeps:

* ``trace_table(trace, forward=None, reverse=None, step=None, mode=None, expand=None,
  max_rows=200) -> str`` — an HTML ``<table class="adnb-trace" data-mode=...>``: one row per
  variable v_i with the name the code gave it, its operation written with its parents
  (``v1 v2``, ``sin(v2)``), its primal value, its tangent v̇_i per forward seed and its adjoint
  v̄_i per reverse seed, the loop iteration and the source line. Each derivative cell unfolds
  (``<details>``, no JavaScript) into its sum: v̇_i over parents (eq. 8.57), v̄_i over children
  (eq. 8.69), with the numbers filled in. ``step``/``mode`` show a sweep half-way.
* ``trace_text(...)`` — the same table as plain text (for terminals and ``text/plain``).

The result objects of the core (``Trace``, ``ForwardResult``, ``ReverseResult``) render
themselves through ``trace_table`` in a notebook.
"""
from __future__ import annotations

import html as _html
import re

from . import _format as F
from ._rules import formula, jvp_text, vjp_text
from .folding import LoopIndex, find_loops, fold
from .sweep import (adjoint_terms, children_map, find_nonfinite, local_partial, partial_adjoint,
                    quiet, sum_terms, sweep_state, tangent_terms)

__all__ = ["trace_table", "trace_text", "TABLE_CSS"]

#: most seed columns shown per mode (more would make the table unreadable anyway)
MAX_COLUMNS = 8

# Placeholders for names inside formulas: formulas are escaped first, then the placeholders are
# replaced by markup, so a constant such as "<b>" in a formula can never become a tag.
_PH = re.compile("\ue000([vdb])(\\d+)\ue001")
_STAGE = "\ue002"          # between the stages of an expanded sum: "<br>= " in HTML

TABLE_CSS = """<style>
.adnb-trace{border-collapse:collapse;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;margin:4px 0}
.adnb-trace caption{caption-side:top;text-align:left;font-family:sans-serif;padding:2px 0 4px}
.adnb-trace th,.adnb-trace td{border-bottom:1px solid #ddd;padding:2px 8px;text-align:left;vertical-align:top}
.adnb-trace th{background:#f3f3f3;font-weight:600}
.adnb-trace td.adnb-num{text-align:right;white-space:nowrap}
.adnb-trace tr.adnb-input td.adnb-label{background:#e3f0fb}
.adnb-trace tr.adnb-output td.adnb-label{background:#fdebd3;font-weight:700}
.adnb-trace .adnb-name{color:#555;font-style:italic}
.adnb-trace tr.adnb-done{background:#eaf7ea}
.adnb-trace tr.adnb-current{background:#fff3b0;outline:2px solid #e0b400}
.adnb-trace tr.adnb-pending td{color:#aaa}
.adnb-trace td.adnb-partial{color:#a06000 !important;font-style:italic}
.adnb-trace td.adnb-nonfinite{color:#b00020;font-weight:700}
.adnb-trace tr.adnb-nonfinite-first td.adnb-label{background:#ffd6d6}
.adnb-trace tr.adnb-event td{color:#5a3d99;font-family:sans-serif;font-size:11px;background:#f7f3ff}
.adnb-trace tr.adnb-fold td{background:#f6f6f6;color:#444;font-family:sans-serif;font-size:11px}
.adnb-trace details>summary{cursor:pointer}
.adnb-trace .adnb-expansion{white-space:nowrap;text-align:left;color:#333;font-size:11px;padding:2px 0}
.adnb-trace .adnb-zero{color:#999}
.adnb-trace tfoot td{font-family:sans-serif;font-size:11px;color:#555;border-bottom:none}
.adnb-trace .adnb-custom{font-family:sans-serif;font-size:10px;color:#fff;background:#7a4bb5;border-radius:3px;padding:0 4px;cursor:help}
.adnb-trace .adnb-custom[data-kind=stop_gradient]{background:#b03030}
.adnb-trace .adnb-custom[data-kind=checkpoint]{background:#2f7d6d}
</style>"""


def _esc(s):
    return _html.escape(str(s), quote=True)


def _markup(text):
    """Escape a formula holding name placeholders, then turn the placeholders into v_i markup."""
    def sub(m):
        i = int(m.group(2)) + 1
        head = {"v": "v", "d": "v\u0307", "b": "v\u0304"}[m.group(1)]
        return f"{head}<sub>{i}</sub>"
    return _PH.sub(sub, _esc(text)).replace(_STAGE, "<br>= ")


def _plain(text):
    """The same formula as plain text (v3, v̇3, v̄3)."""
    def sub(m):
        i = int(m.group(2)) + 1
        return {"v": "v", "d": "v\u0307", "b": "v\u0304"}[m.group(1)] + str(i)
    return _PH.sub(sub, str(text)).replace(_STAGE, " = ")


def _ph(kind, i):
    return f"\ue000{kind}{i}\ue001"


def _paren(s):
    """Bracket a negative number inside a product or after a minus: (-0.416147)."""
    return f"({s})" if s.startswith("-") else s


def _equation(lhs, symbolic, numbers, total):
    """``lhs = symbolic = numbers = total``, dropping a repeated last step (``= 1 = 1``). The
    stages are joined by a marker: HTML breaks the line before each ``=`` (a derivation, and a
    narrower column), text keeps one line."""
    parts = [lhs + " = " + symbolic]
    nums = numbers[0] if numbers else "0"
    for n in numbers[1:]:
        nums += f" − {n[1:]}" if n.startswith("-") else f" + {n}"
    tot = F.short(total)
    if nums != symbolic:
        parts.append(nums)
    if tot != nums:
        parts.append(tot)
    return _STAGE.join(parts)


# ---- the model of the table, shared by HTML and text ----------------------------------------

class _Table:
    """Everything both renderers need: columns, sweep state, inf/nan findings, folding."""

    def __init__(self, trace, forward, reverse, step, mode, expand, max_rows, max_columns):
        if mode is None:
            mode = "forward" if forward is not None else ("reverse" if reverse is not None
                                                         else "primal")
        if mode not in ("primal", "forward", "reverse"):
            raise ValueError(f"mode must be 'primal', 'forward' or 'reverse', not {mode!r}")
        if step is not None and mode == "primal":
            raise ValueError("step needs mode='forward' or mode='reverse': a primal trace has "
                             "no sweep to step through")
        if mode == "forward" and forward is None:
            forward = trace.forward()
        if mode == "reverse" and reverse is None:
            reverse = trace.reverse()
        self.trace, self.forward, self.reverse = trace, forward, reverse
        self.mode = mode
        self.n = len(trace.nodes)
        self.vnames = [_ph("v", i) for i in range(self.n)]
        self.state = None
        if step is not None:
            result = forward if mode == "forward" else reverse
            self.state = sweep_state(trace, mode, step, result)
        self.fwd_cols = list(range(len(forward.tangents)))[:max_columns] if forward else []
        self.rev_cols = list(range(len(reverse.adjoints)))[:max_columns] if reverse else []
        self.hidden_cols = ((len(forward.tangents) - len(self.fwd_cols)) if forward else 0) + \
                           ((len(reverse.adjoints) - len(self.rev_cols)) if reverse else 0)
        with quiet():
            self.nonfinite = find_nonfinite(trace, forward, reverse, self.vnames)
        self.first_bad = {}
        for nf in self.nonfinite:
            self.first_bad.setdefault(nf.first, []).append(nf)
        self.blocks = find_loops(trace)
        self.loops = LoopIndex(self.blocks)
        self.has_loops = any(not isinstance(b, int) for b in self.blocks)
        self.outputs = {o for o in trace.outputs if o >= 0}
        keep = set(self.outputs) | set(self.first_bad)
        if self.state is not None:
            keep.update(self.state.current)
        self.expand = expand
        self.open_rows = set()
        if expand not in (None, True, False):
            for e in expand:
                idx = int(e[1:]) - 1 if isinstance(e, str) and e[:1] == "v" else int(e)
                self.open_rows.add(idx)
            keep.update(self.open_rows)
        self.segments = fold(trace, max_rows, keep, self.blocks)
        self.events = {}
        for e in trace.events:
            self.events.setdefault(e.position, []).append(e)
        self.children = children_map(trace)

    # -- cells -------------------------------------------------------------------------------
    def status(self, i):
        return self.state.status(i) if self.state is not None else None

    def formula(self, i):
        node = self.trace.nodes[i]
        if node.prim is None:
            return "input"
        return formula(node, self.vnames)

    def iteration(self, i):
        path = self.loops.path(i)
        if not path:
            return ""
        return " › ".join(f"{k}/{loop.count}" for loop, k in path)

    def tangent_cell(self, s, i):
        """(text, css classes, expansion text or None, exact value) of v̇_i for seed s."""
        tan = self.forward.tangents[s]
        value = tan[i]
        st = self.status(i) if self.mode == "forward" else None
        if st == "pending":
            return "·", ["adnb-pending"], None, "not computed yet at this step"
        classes = []
        if value is None:
            classes.append("adnb-zero")
        if F.is_nonfinite(value):
            classes.append("adnb-nonfinite")
        return F.short(value), classes, self.tangent_expansion(s, i), F.exact(value)

    def tangent_expansion(self, s, i):
        node = self.trace.nodes[i]
        tan = self.forward.tangents[s]
        if node.prim is None:
            seed = self.forward.seeds[s].get(i)
            return f"{_ph('d', i)} = {F.short(seed)} (seed {self.forward.labels[s]})"
        args = [(k, p) for k, p in enumerate(node.parents) if p >= 0]
        if not args:
            return None
        symbolic = " + ".join(jvp_text(node, k, self.vnames, _ph("d", p)) for k, p in args)
        symbolic = symbolic.replace("+ −", "− ")
        terms = {t.argnum: t for t in tangent_terms(self.trace, tan, i)}
        numbers = []
        for k, p in args:
            t = terms.get(k)
            numbers.append(self._term_numbers(node, k, tan[p], t, tangent=True))
        return _equation(_ph("d", i), symbolic, numbers, tan[i])

    def _term_numbers(self, node, k, incoming, term, tangent):
        """The numbers of one term, written like its symbols: ``1 · 7.38906`` for v̄5 · v5,
        ``-(-0.416147)`` for −v̇4, the contribution itself for non-elementwise rules."""
        if term is not None and term.error:
            return f"[{term.error}]"
        ptxt = (jvp_text if tangent else vjp_text)(node, k, self.vnames, "T")
        if node.prim.elementwise:
            partial = term.partial if term is not None else local_partial(node, k)
            inc = F.short(incoming)
            if ptxt == "T":
                return inc
            if ptxt == "−T":
                return "-" + _paren(inc)
            if partial is not None:
                return f"{_paren(inc)} · {_paren(F.short(partial))}"
        if incoming is None:
            return "0"
        return _paren(F.short(term.value)) if term is not None else "0"

    def adjoint_cell(self, s, i):
        """(text, css classes, expansion text or None, exact value) of v̄_i for seed s."""
        adj = self.reverse.adjoints[s]
        value = adj[i]
        st = self.status(i) if self.mode == "reverse" else None
        if st == "pending":
            partial, n_done, n_all = partial_adjoint(self.trace, self.reverse, s, i,
                                                     self.state.done)
            if partial is None:
                return "·", ["adnb-pending"], None, "no contribution yet at this step"
            return (F.short(partial), ["adnb-partial"],
                    self.adjoint_expansion(s, i, self.state.done),
                    f"partial sum: {n_done} of {n_all} children processed")
        classes = []
        if value is None:
            classes.append("adnb-zero")
        if F.is_nonfinite(value):
            classes.append("adnb-nonfinite")
        return F.short(value), classes, self.adjoint_expansion(s, i), F.exact(value)

    def adjoint_expansion(self, s, i, done=None):
        adj = self.reverse.adjoints[s]
        terms = adjoint_terms(self.trace, self.reverse, s, i, only_children=done)
        edges = []
        for j in self.children[i]:
            if adj[j] is None:
                continue
            child = self.trace.nodes[j]
            edges.extend((j, k) for k, p in enumerate(child.parents) if p == i)
        if not edges and not terms:
            return None
        by_edge = {(t.other, t.argnum): t for t in terms}
        symbolic, numbers = [], []
        for t in terms:
            if t.other < 0:
                symbolic.append(f"seed {self.reverse.labels[s]}")
                numbers.append(F.short(t.value))
        for j, k in edges:
            child = self.trace.nodes[j]
            sym = vjp_text(child, k, self.vnames, _ph("b", j))
            t = by_edge.get((j, k))
            if done is not None and j not in done:
                symbolic.append(f"({sym}: pending)")
                numbers.append("…")
                continue
            symbolic.append(sym)
            numbers.append(self._term_numbers(child, k, adj[j], t, tangent=False))
        return _equation(_ph("b", i), " + ".join(symbolic).replace("+ −", "− "), numbers,
                         sum_terms(terms))

    def is_open(self, i):
        return self.expand is True or i in self.open_rows

    def nonfinite_note(self, i):
        """Short note for the row: the first inf/nan here, or where its inf/nan came from."""
        notes = []
        for nf in self.nonfinite:
            src = nf.origin.get(i)
            if src is None:
                continue
            what = nf.quantity + (f" ({nf.label})" if nf.label else "")
            if nf.first == i:
                notes.append(f"⚠ first inf/nan in {what}: {nf.cause}")
            elif src != i:
                notes.append(f"{what} inf/nan comes from {_ph('v', src)}")
        return notes


# ---- HTML -------------------------------------------------------------------------------------

def trace_table(trace, forward=None, reverse=None, step=None, mode=None, expand=None,
                max_rows=200, max_columns=MAX_COLUMNS):
    """Render an evaluation trace as the book's table (HTML).

    Args:
        trace: a ``Trace`` recorded by ``adnb.trace`` (explore mode: values, names and lines).
        forward: a ``ForwardResult`` (``trace.forward()``): adds a tangent column v̇ per seed.
        reverse: a ``ReverseResult`` (``trace.reverse()``): adds an adjoint column v̄ per seed.
        step: show the ``mode`` sweep stopped at this step (see ``adnb.display.sweep``):
            forward — step 0 seeds the inputs, step k computes the k-th operation; reverse — step
            k processes the k-th node in decreasing index order from the outputs. Past the last
            step the sweep is finished. The sweep's result is computed if not passed.
        mode: ``"primal"``, ``"forward"`` or ``"reverse"``; default: forward if ``forward`` is
            given, else reverse if ``reverse`` is given, else primal. Written to ``data-mode``.
        expand: which derivative cells show their sum: None (all collapsible, closed), True (all
            open), False (no sums), or an iterable of node indices / labels ("v3") to open.
        max_rows: most rows shown; loops fold first (first and last iterations stay), then rows
            from the middle are elided. None shows every row (loops still fold, their rows
            inside the fold).
        max_columns: most seed columns per mode.

    Returns:
        str: a ``<style>`` block and ``<table class="adnb-trace" data-mode=...>``.

    Visual encoding:
        * label cell: blue = input, orange and bold = output, red = first row whose value,
          tangent or adjoint turns inf/nan (the note beside it names the operation that did it);
        * numbers: 6 significant digits, exact value in the tooltip (``title``); arrays as shape
          and first entries; grey "0" = not reached (no path to/from the seed); red = inf/nan;
        * sweep at a step: green rows = done, yellow outlined row = in progress, grey = pending;
          an orange italic adjoint is a partial sum (some children not processed yet);
        * purple rows = a comparison or truth test on a traced value (the branch taken);
        * grey rows = folded loop iterations or elided rows, with their count; the footer
          counts rows shown + rows folded = rows of the trace.
    """
    tb = _Table(trace, forward, reverse, step, mode, expand, max_rows, max_columns)
    rows_total = tb.n
    show_control = tb.has_loops or bool(trace.events)
    headers = ["v<sub>i</sub>", "name", "operation", "value v<sub>i</sub>"]
    for s in tb.fwd_cols:
        headers.append(f"v\u0307<sub>i</sub> <small>{_esc(tb.forward.labels[s])}</small>")
    for s in tb.rev_cols:
        headers.append(f"v\u0304<sub>i</sub> <small>{_esc(tb.reverse.labels[s])}</small>")
    if show_control:
        headers.append("loop")
    headers.append("line")
    ncol = len(headers)

    shown_rows = [s[1] for s in tb.segments if s[0] == "row"]
    budget = None if max_rows is None else max(0, max_rows - len(shown_rows))
    body = []
    shown = 0
    folded = 0
    for kind, item in tb.segments:
        if kind == "row":
            body.extend(_event_rows(tb, item, ncol))
            body.append(_row(tb, item, show_control))
            shown += 1
        else:
            inner = None
            if budget is None or item.n_rows <= budget:
                inner = item
                if budget is not None:
                    budget -= item.n_rows
            body.append(_fold_row(tb, item, ncol, inner, show_control, headers))
            folded += item.n_rows
    body.extend(_event_rows(tb, tb.n, ncol))

    caption = _caption(tb)
    foot = _footer(tb, rows_total, shown, folded, ncol)
    return (TABLE_CSS +
            f'<table class="adnb-trace" data-mode="{tb.mode}" data-rows="{rows_total}" '
            f'data-shown="{shown}" data-folded="{folded}"'
            + (f' data-step="{tb.state.step}" data-steps="{tb.state.n_steps}"' if tb.state else "")
            + f">{caption}<thead><tr>" + "".join(f"<th>{h}</th>" for h in headers) +
            "</tr></thead><tbody>" + "".join(body) + "</tbody>" + foot + "</table>")


def _caption(tb):
    trace = tb.trace
    fname = trace.function_name or "f"
    n_in, n_out = len(trace.inputs), len(trace.outputs)
    text = (f"Evaluation trace of <b>{_esc(fname)}</b>: {n_in} input{'s' * (n_in != 1)}, "
            f"{trace.n_ops} operation{'s' * (trace.n_ops != 1)}, {n_out} "
            f"output{'s' * (n_out != 1)}")
    if tb.state is not None:
        st = tb.state
        if st.finished:
            where = "finished"
        else:
            cur = ", ".join(_markup(_ph("v", i)) for i in st.current)
            verb = ("seeding" if st.step == 0 else "computing") if tb.mode == "forward" \
                else "passing on the adjoint of"
            where = f"{verb} {cur}" + (_recompute_note(tb, st.current) if tb.mode == "reverse"
                                       else "")
        text += (f" · {tb.mode} sweep, step {min(st.step, st.n_steps)} of {st.n_steps}: {where}")
    return f"<caption>{text}</caption>"


def _recompute_note(tb, current):
    """The reverse sweep at a checkpoint row runs its folded operations again first."""
    notes = []
    for i in current:
        node = tb.trace.nodes[i]
        if getattr(node.prim, "kind", None) == "checkpoint":
            from .custom import checkpoint_inside
            n = checkpoint_inside(node).n_ops
            notes.append(f" — recomputing the {n} operations folded into "
                         f"{_markup(_ph('v', i))} from its kept inputs, then sweeping them back")
    return "".join(notes)


def _footer(tb, total, shown, folded, ncol):
    trace = tb.trace
    parts = [f"{total} rows ({F.plural(len(trace.inputs), 'input')}, {F.plural(trace.n_ops, 'operation')}): "
             f"{shown} shown, {folded} folded"]
    if tb.hidden_cols:
        parts.append(f"{tb.hidden_cols} more seed column(s) not shown")
    for nf in tb.nonfinite:
        what = nf.quantity + (f" ({nf.label})" if nf.label else "")
        parts.append(f"⚠ {what}: first inf/nan at {_ph('v', nf.first)} — {nf.cause}")
    cells = "".join(f'<tr><td colspan="{ncol}">{_markup(p)}</td></tr>' for p in parts)
    return f"<tfoot>{cells}</tfoot>"


def _event_rows(tb, position, ncol):
    out = []
    for e in tb.events.get(position, ()):
        out.append(f'<tr class="adnb-event"><td colspan="{ncol}">{_event_text(e, html=True)}</td></tr>')
    return out


def _event_text(e, html):
    kind = e.kind.split(":", 1)
    what = "truth test" if kind[0] == "bool" else f"comparison ({kind[-1]})"
    src = F.source_line(e.loc)
    line = F.where(e.loc)
    if html:
        code = f" <code>{_esc(src)}</code>" if src else ""
        return (f"↳ {_esc(what)} at {_esc(line)}{code} → <b>{_esc(F.short(e.value))}</b>"
                " (branch taken)")
    return f"↳ {what} at {line} {src} -> {F.short(e.value)} (branch taken)"


def _num_cell(text, classes, expansion, exact, is_open, expand):
    cls = " ".join(["adnb-num"] + classes)
    title = f' title="{_esc(exact)}"' if exact is not None else ""
    if expansion is None or expand is False:
        return f'<td class="{cls}"{title}>{_esc(text)}</td>'
    op = " open" if is_open else ""
    return (f'<td class="{cls}"{title}><details{op}><summary>{_esc(text)}</summary>'
            f'<div class="adnb-expansion">{_markup(expansion)}</div></details></td>')


def _row(tb, i, show_control):
    node = tb.trace.nodes[i]
    classes = ["adnb-row"]
    if node.prim is None:
        classes.append("adnb-input")
    if i in tb.outputs:
        classes.append("adnb-output")
    st = tb.status(i)
    if st:
        classes.append(f"adnb-{st}")
    notes = tb.nonfinite_note(i)
    if i in tb.first_bad:
        classes.append("adnb-nonfinite-first")
    label = _markup(_ph("v", i))
    if i in tb.first_bad:
        label += ' <span title="{}">⚠</span>'.format(_esc(_plain("; ".join(notes))))
    name = F.display_name(node)
    out_names = [k for k, o in enumerate(tb.trace.outputs) if o == i]
    if out_names:
        labels = []
        for k in out_names:
            given = tb.trace.output_names[k] if k < len(tb.trace.output_names) else None
            labels.append(given or (f"f{k + 1}" if len(tb.trace.outputs) > 1 else "f"))
        labels = [x for x in labels if x != name]          # "y", not "y = y"
        name = " = ".join([name] * bool(name) + ([", ".join(labels)] if labels else []))
    cells = [f'<td class="adnb-label">{label}</td>',
             f'<td class="adnb-name">{_esc(name)}</td>',
             f'<td class="adnb-op">{_markup(tb.formula(i))}{_badge(tb, node)}</td>']
    value_classes = ["adnb-nonfinite"] if F.is_nonfinite(node.ans) else []
    cells.append(_num_cell(F.short(node.ans), value_classes, None, F.exact(node.ans), False,
                           tb.expand))
    for s in tb.fwd_cols:
        text, cls, expansion, exact = tb.tangent_cell(s, i)
        cells.append(_num_cell(text, cls, expansion, exact, tb.is_open(i), tb.expand))
    for s in tb.rev_cols:
        text, cls, expansion, exact = tb.adjoint_cell(s, i)
        cells.append(_num_cell(text, cls, expansion, exact, tb.is_open(i), tb.expand))
    if show_control:
        it = tb.iteration(i)
        cells.append(f'<td class="adnb-loop">{_esc(it)}</td>')
    src = F.source_line(node.loc)
    title = F.where_long(node.loc) + (f": {src}" if src else "")
    note = "".join(f'<div class="adnb-note">{_markup(n)}</div>' for n in notes
                   if not n.startswith("⚠"))
    cells.append(f'<td class="adnb-src" title="{_esc(title)}">{_esc(F.where(node.loc))}{note}</td>')
    return f'<tr class="{" ".join(classes)}" data-node="{i}">' + "".join(cells) + "</tr>"


def _badge(tb, node):
    """A custom rule, checkpoint or stop_gradient row: a tag, its rule in the tooltip."""
    if getattr(node.prim, "kind", None) is None:
        return ""
    from .custom import row_badge
    tag, title = row_badge(node, tb.vnames)
    return (f' <span class="adnb-custom" data-kind="{_esc(tag)}" '
            f'title="{_esc(_plain(title))}">{_esc(tag)}</span>')


def _fold_text(tb, fold_item):
    lo, hi = fold_item.lo, fold_item.hi
    span = f"{_ph('v', lo)}–{_ph('v', hi - 1)}" if hi - lo > 1 else _ph("v", lo)
    n_events = sum(len(tb.events.get(p, ())) for p in range(lo, hi))
    extra = f", {n_events} branch tests" if n_events else ""
    bad = sum(1 for nf in tb.nonfinite for i in nf.origin if lo <= i < hi)
    if bad:
        extra += f", {bad} inf/nan cells"
    if fold_item.kind == "loop":
        loop = fold_item.loop
        a, b = fold_item.first_iteration, fold_item.last_iteration
        its = f"iteration {a}" if a == b else f"iterations {a}–{b}"
        where = f" at {F.where(loop.loc)}" if loop.loc else ""
        return (f"⋯ {its} of {loop.count} of the loop{where} folded: "
                f"{b - a + 1} × {loop.period} = {hi - lo} rows ({span}){extra}")
    return f"⋯ {hi - lo} rows not shown ({span}){extra}"


def _fold_row(tb, fold_item, ncol, inner, show_control, headers):
    text = _markup(_fold_text(tb, fold_item))
    attrs = f'data-folded-rows="{fold_item.n_rows}" data-lo="{fold_item.lo}" data-hi="{fold_item.hi}"'
    if inner is None:
        more = ("rows not rendered, to keep the page light; pass max_rows=None (or a larger "
                "max_rows) to render them")
        return (f'<tr class="adnb-fold" {attrs}><td colspan="{ncol}">{text}'
                f'<div>{_esc(more)}</div></td></tr>')
    rows = []
    for i in range(fold_item.lo, fold_item.hi):
        rows.extend(_event_rows(tb, i, ncol))
        rows.append(_row(tb, i, show_control))
    table = ('<table class="adnb-trace adnb-inner"><thead><tr>' +
             "".join(f"<th>{h}</th>" for h in headers) + "</tr></thead><tbody>" +
             "".join(rows) + "</tbody></table>")
    return (f'<tr class="adnb-fold" {attrs}><td colspan="{ncol}"><details><summary>{text}'
            f"</summary>{table}</details></td></tr>")


# ---- plain text -------------------------------------------------------------------------------

def trace_text(trace, forward=None, reverse=None, step=None, mode=None, max_rows=200,
               max_columns=MAX_COLUMNS):
    """The evaluation-trace table as plain text (same rows, folding and sweep state as
    ``trace_table``, without the expandable sums).

    Rows of a sweep at a step are marked in the first column: ``✓`` done, ``▶`` in progress,
    ``·`` pending; ``⚠`` marks the first inf/nan. Returns a str.
    """
    tb = _Table(trace, forward, reverse, step, mode, False, max_rows, max_columns)
    show_control = tb.has_loops or bool(trace.events)
    head = ["", "v", "name", "operation", "value"]
    head += [f"v\u0307 {tb.forward.labels[s]}" for s in tb.fwd_cols]
    head += [f"v\u0304 {tb.reverse.labels[s]}" for s in tb.rev_cols]
    if show_control:
        head.append("loop")
    head.append("line")
    lines = []        # rows of cells, or a str for a full-width line
    mark = {"done": "✓", "current": "▶", "pending": "·", "idle": " ", None: " "}
    shown = folded = 0
    for kind, item in tb.segments:
        if kind == "fold":
            lines.append(_plain(_fold_text(tb, item)))
            folded += item.n_rows
            continue
        i = item
        for e in tb.events.get(i, ()):
            lines.append(_event_text(e, html=False))
        node = trace.nodes[i]
        name = F.display_name(node)
        row = [("⚠" if i in tb.first_bad else "") + mark[tb.status(i)], node.label, name,
               _plain(tb.formula(i)), F.short(node.ans)]
        row += [tb.tangent_cell(s, i)[0] for s in tb.fwd_cols]
        row += [tb.adjoint_cell(s, i)[0] for s in tb.rev_cols]
        if show_control:
            row.append(tb.iteration(i))
        row.append(F.where(node.loc))
        lines.append(row)
        shown += 1
    for e in tb.events.get(tb.n, ()):
        lines.append(_event_text(e, html=False))
    widths = [len(h) for h in head]
    for r in lines:
        if isinstance(r, list):
            widths = [max(w, len(c)) for w, c in zip(widths, r)]
    fmt = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()   # noqa: E731
    out = [_plain(_html.unescape(re.sub("<[^>]+>", "", _caption(tb)))), fmt(head),
           "-" * len(fmt(head))]
    out += [fmt(r) if isinstance(r, list) else r for r in lines]
    out.append(f"{tb.n} rows: {shown} shown, {folded} folded")
    for nf in tb.nonfinite:
        what = nf.quantity + (f" ({nf.label})" if nf.label else "")
        out.append(_plain(f"⚠ {what}: first inf/nan at {_ph('v', nf.first)} — {nf.cause}"))
    return "\n".join(out)
