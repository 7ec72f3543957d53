"""Tests of adnb.display: the evaluation-trace table, the graph, finite differences.

Golden numbers are the book's example (8.49)/(8.65) at (x1, x2) = (1, 2), from
shared/reference/bishop-ch8.md §10.1. Everything is checked on strings and graph structure,
never on pixels.
"""
from __future__ import annotations

import html
import math
import os
import re
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import adnb
from adnb.display import (draw_graph, find_loops, fold_graph, graph_png, sweep_state,
                          sweep_steps, to_networkx, trace_table, trace_text)
from adnb.display.folding import fold
from adnb.display.numerical import difference_errors, plot_difference_errors
from functions import book_8_65


# ---- the book's example, written in the book's order (8.50)–(8.56) and v8 of (8.65) ----------

def book_8_49(x1, x2):
    v3 = x1 * x2
    v4 = np.sin(x2)
    v5 = np.exp(v3)
    v6 = v3 - v4
    v7 = v5 + v6
    return v7


# §10.1: i -> (primal, v̇ ẋ=e1, v̇ ẋ=e2, v̄ f1, v̄ f2)
REFERENCE = {
    1: (1.0, 1.0, 0.0, 16.7781121978613, 30.8966371987274),
    2: (2.0, 0.0, 1.0, 8.805202935477793, 18.523250920003058),
    3: (2.0, 2.0, 1.0, 8.38905609893065, 15.4483185993637),
    4: (0.9092974268256817, 0.0, -0.4161468365471424, -1.0, -7.38905609893065),
    5: (7.38905609893065, 14.7781121978613, 7.38905609893065, 1.0, 1.0907025731743183),
    6: (1.0907025731743183, 2.0, 1.4161468365471424, 1.0, 7.38905609893065),
    7: (8.47975867210497, 16.7781121978613, 8.805202935477793, 1.0, 0.0),
    8: (8.05926250043305, 30.8966371987274, 18.523250920003058, 0.0, 1.0),
}


@pytest.fixture(scope="module")
def book():
    t = adnb.trace(book_8_65, 1.0, 2.0)
    return t, t.forward(), t.reverse()


_ROW = re.compile(r'<tr class="([^"]*)" data-node="(\d+)">(.*?)</tr>', re.S)
_TD = re.compile(r'<td class="([^"]*)"(?: title="([^"]*)")?>')


def table_rows(markup):
    """{node index: (row classes, [(cell classes, title), ...])} of the main table's rows."""
    rows = {}
    for cls, idx, body in _ROW.findall(markup):
        cells = [(c, html.unescape(t)) for c, t in _TD.findall(body)]
        rows.setdefault(int(idx), (cls.split(), cells))
    return rows


def number(title):
    """The exact number a cell's tooltip holds (repr of the float; 'not reached' means 0)."""
    if title.startswith("0 (not reached"):
        return 0.0
    return float(title)


# ---- the table ---------------------------------------------------------------------------------

def test_table_holds_the_books_numbers(book):
    t, fw, rv = book
    rows = table_rows(trace_table(t, fw, rv))
    assert sorted(rows) == list(range(8))
    for i, expected in REFERENCE.items():
        _, cells = rows[i - 1]
        got = [number(title) for _, title in cells[3:8]]   # value, v̇ e1, v̇ e2, v̄ f1, v̄ f2
        for g, e in zip(got, expected):
            assert math.isclose(g, e, rel_tol=1e-12, abs_tol=1e-15), (i, got, expected)


def test_table_names_formulas_and_columns(book):
    t, fw, rv = book
    out = trace_table(t, fw, rv)
    assert '<table class="adnb-trace" data-mode="forward"' in out
    assert "<td class=\"adnb-op\">v<sub>1</sub> v<sub>2</sub></td>" in out        # v3 = v1 v2
    assert "<td class=\"adnb-op\">sin(v<sub>2</sub>)</td>" in out
    assert "<td class=\"adnb-op\">v<sub>3</sub> − v<sub>4</sub></td>" in out
    assert '<td class="adnb-name">x1</td>' in out and '<td class="adnb-name">x2</td>' in out
    assert "ẋ=e1" in out and "ẋ=e2" in out and ">f1<" in out and ">f2<" in out
    assert "functions.py:" in out                          # source line column
    rows = table_rows(out)
    assert "adnb-input" in rows[0][0] and "adnb-output" in rows[6][0] and "adnb-output" in rows[7][0]


def test_data_mode_follows_the_results(book):
    t, fw, rv = book
    assert 'data-mode="primal"' in trace_table(t)
    assert 'data-mode="forward"' in trace_table(t, forward=fw)
    assert 'data-mode="reverse"' in trace_table(t, reverse=rv)
    assert 'data-mode="reverse"' in trace_table(t, fw, rv, mode="reverse")
    with pytest.raises(ValueError):
        trace_table(t, mode="sideways")
    with pytest.raises(ValueError):
        trace_table(t, step=1)                     # a primal table has no sweep to step


def test_adjoint_rows_expand_into_their_sum_over_children(book):
    t, fw, rv = book
    out = trace_table(t, reverse=rv, expand=["v3"])
    # eq. (8.74): v̄3 = v̄5 v5 + v̄6, with the numbers (fan-out of v3 into v5 and v6)
    assert ("v̄<sub>3</sub> = v̄<sub>5</sub> · v<sub>5</sub> + v̄<sub>6</sub><br>= 1 · 7.38906 + 1"
            "<br>= 8.38906") in out
    assert "<details open><summary>8.38906</summary>" in out
    # eq. (8.75), corrected: v̄2 = v̄3 v1 + v̄4 cos(v2)
    assert "v̄<sub>2</sub> = v̄<sub>3</sub> · v<sub>1</sub> + v̄<sub>4</sub> · cos(v<sub>2</sub>)" in out
    assert "v̄<sub>4</sub> = −v̄<sub>6</sub><br>= -1" in out                          # (8.73)


def test_tangent_rows_expand_into_their_sum_over_parents(book):
    t, fw, rv = book
    out = trace_table(t, forward=fw, expand=True)
    # eq. (8.60): v̇3 = v1 v̇2 + v̇1 v2, at ẋ = e1 and e2
    v3 = "v̇<sub>3</sub> = v̇<sub>1</sub> · v<sub>2</sub> + v̇<sub>2</sub> · v<sub>1</sub>"
    assert v3 + "<br>= 1 · 2 + 0 · 1<br>= 2" in out
    assert v3 + "<br>= 0 · 2 + 1 · 1<br>= 1" in out
    assert "v̇<sub>4</sub> = v̇<sub>2</sub> · cos(v<sub>2</sub>)<br>= 1 · (-0.416147)<br>= -0.416147" in out
    assert "v̇<sub>6</sub> = v̇<sub>3</sub> − v̇<sub>4</sub><br>= 1 − (-0.416147)<br>= 1.41615" in out
    assert "<details open>" in out
    assert "<details" not in trace_table(t, forward=fw, expand=False)


def test_every_user_string_is_escaped():
    t = adnb.trace(book_8_65, 1.0, 2.0)
    evil = "<script>alert(1)</script>"
    t.nodes[0].name = evil
    t.nodes[2].name = '"><img src=x onerror=alert(2)>'
    t.function_name = "<b>f</b>"
    t.output_names = ["<i>y1</i>", None]
    n = t.nodes[3]
    n.loc = ("/tmp/<evil>.py", n.loc[1], "<f>")
    out = trace_table(t, t.forward(), t.reverse(), expand=True)
    for raw in (evil, "<img", "<b>f</b>", "<i>y1</i>", "<evil>", "<f>"):
        assert raw not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "&lt;b&gt;f&lt;/b&gt;" in out and "&lt;i&gt;y1&lt;/i&gt;" in out
    assert "&lt;evil&gt;.py" in out
    text = trace_text(t, t.forward(), t.reverse())
    assert evil in text                     # plain text is not HTML: shown as typed


def test_source_text_of_branches_is_escaped(tmp_path):
    src = tmp_path / "branchy.py"
    src.write_text(textwrap.dedent("""
        def g(x):
            if x < 0.5:
                return x * 2.0
            return x * 3.0
    """))
    sys.path.insert(0, str(tmp_path))
    try:
        import branchy
        t = adnb.trace(branchy.g, 0.25)
    finally:
        sys.path.remove(str(tmp_path))
    out = trace_table(t)
    assert 'class="adnb-event"' in out and "branch taken" in out
    assert "if x &lt; 0.5:" in out and "if x < 0.5" not in out
    assert "<b>True</b>" in out


def test_sweep_state_forward_and_reverse(book):
    t, fw, rv = book
    steps = sweep_steps(t, "forward")
    assert steps[0] == (0, 1) and steps[1:] == [(i,) for i in range(2, 8)]
    assert sweep_steps(t, "reverse", rv) == [(i,) for i in range(7, -1, -1)]
    st = sweep_state(t, "forward", 3, fw)              # inputs, v3, v4 done; v5 in progress
    assert st.done == {0, 1, 2, 3} and st.current == (4,) and st.pending == {5, 6, 7}
    st = sweep_state(t, "reverse", 3, rv)              # v8, v7, v6 done; v5 being passed on
    assert st.done == {7, 6, 5} and st.current == (4,) and st.pending == {3, 2, 1, 0}
    assert sweep_state(t, "reverse", 99, rv).finished


def test_table_at_a_reverse_step_shows_partial_sums(book):
    t, fw, rv = book
    out = trace_table(t, reverse=rv, step=3, mode="reverse")
    assert 'data-mode="reverse"' in out and 'data-step="3"' in out
    rows = table_rows(out)
    assert "adnb-current" in rows[4][0]
    assert all("adnb-done" in rows[i][0] for i in (5, 6, 7))
    assert all("adnb-pending" in rows[i][0] for i in (0, 1, 2, 3))
    # v̄3 (f1) so far holds only v6's contribution: 1 of its 2 children processed
    v3_f1 = rows[2][1][4]
    assert "adnb-partial" in v3_f1[0] and v3_f1[1].startswith("partial sum: 1 of 2")
    assert "(v̄<sub>5</sub> · v<sub>5</sub>: pending)" in out
    # the inputs have received nothing yet
    assert "adnb-pending" in rows[0][1][4][0]


def test_table_at_a_forward_step(book):
    t, fw, rv = book
    out = trace_table(t, forward=fw, step=0)
    rows = table_rows(out)
    assert "adnb-current" in rows[0][0] and "adnb-current" in rows[1][0]
    assert "seeding" in out
    out = trace_table(t, step=4, mode="forward")       # computes the forward result itself
    rows = table_rows(out)
    assert "adnb-current" in rows[5][0] and "adnb-pending" in rows[6][0]
    assert rows[6][1][4][1] == "not computed yet at this step"


def logistic(x, n=50):
    for _ in range(n):
        x = 4 * x * (1 - x)
    return x


def test_loops_fold_and_totals_add_up():
    t = adnb.trace(logistic, 0.3)
    out = trace_table(t, reverse=t.reverse())
    total = int(re.search(r'data-rows="(\d+)"', out).group(1))
    shown = int(re.search(r'data-shown="(\d+)"', out).group(1))
    folded = int(re.search(r'data-folded="(\d+)"', out).group(1))
    assert total == len(t.nodes) == 151
    assert shown + folded == total and folded == 48 * 3
    assert sum(int(x) for x in re.findall(r'data-folded-rows="(\d+)"', out)) == folded
    assert "iterations 2–49 of 50 of the loop" in out
    rows = table_rows(out)
    assert 150 in rows and "50/50" in out                      # the output row stays, labelled
    value = float(rows[150][1][3][1])
    assert math.isclose(value, logistic(0.3), rel_tol=1e-15)
    assert "151 rows (1 input, 150 operations): 7 shown, 144 folded" in out


def test_find_loops_and_nested_loops():
    def nested(x):
        for _ in range(3):
            for _ in range(4):
                x = np.sin(x)
            x = x * 2.0
        return x
    t = adnb.trace(nested, 0.3)
    (inp, loop) = find_loops(t)
    assert inp == 0 and (loop.start, loop.period, loop.count) == (1, 5, 3)
    inner = loop.body[0]
    assert (inner.period, inner.count) == (1, 4)
    segs = fold(t)
    covered = []
    for kind, item in segs:
        covered.extend([item] if kind == "row" else range(item.lo, item.hi))
    assert covered == list(range(len(t.nodes)))               # a partition, in order


def test_indexing_formulas_and_one_line_repeats_are_not_loops():
    t = adnb.trace(lambda x: x[0] * x[1:].sum() + x[::2].sum() + x[np.array([0, 2])].sum(),
                   np.array([1.0, 2.0, 3.0]))
    text = trace_text(t)
    assert "v1[0]" in text and "v1[1:]" in text and "v1[::2]" in text and "v1[[0, 2]]" in text
    assert "loop" not in text                  # the same code twice on one line is no loop
    g = to_networkx(t)
    assert g.nodes["v3"]["formula"] == "v1[1:]"


@settings(max_examples=25, deadline=None)
@given(counts=st.lists(st.integers(1, 7), min_size=1, max_size=5), max_rows=st.integers(3, 40))
def test_folding_always_partitions_the_trace(counts, max_rows):
    def f(x):
        for k, n in enumerate(counts):
            for _ in range(n):
                x = np.sin(x) * 0.5 if k % 2 else x * 0.9 + 0.05
        return x
    t = adnb.trace(f, 0.3)
    covered = []
    for kind, item in fold(t, max_items=max_rows, keep={len(t.nodes) - 1}):
        covered.extend([item] if kind == "row" else range(item.lo, item.hi))
    assert covered == list(range(len(t.nodes)))
    out = trace_table(t, reverse=t.reverse(), max_rows=max_rows)
    shown = int(re.search(r'data-shown="(\d+)"', out).group(1))
    folded = int(re.search(r'data-folded="(\d+)"', out).group(1))
    assert shown + folded == len(t.nodes) and len(t.nodes) - 1 in table_rows(out)


def _branchy(x, coeffs):
    for c in coeffs:
        if x > 0.0:
            x = x * c - 0.3
        else:
            x = np.sin(x) + c
    return x


def test_big_trace_degrades_gracefully():
    rng = np.random.default_rng(1)
    coeffs = list(rng.uniform(0.2, 1.4, size=400))
    t = adnb.trace(lambda x: _branchy(x, coeffs), 0.7)
    out = trace_table(t, reverse=t.reverse(), max_rows=60)
    shown = int(re.search(r'data-shown="(\d+)"', out).group(1))
    folded = int(re.search(r'data-folded="(\d+)"', out).group(1))
    assert shown <= 60 + 2 and shown + folded == len(t.nodes)
    assert "rows not shown" in out
    assert len(table_rows(out)) == shown                      # folded rows are not rendered
    assert len(t.nodes) - 1 in table_rows(out)                # the output is kept


def test_ten_thousand_operations_stay_under_a_megabyte():
    def chain(x):
        for _ in range(3334):
            x = np.sin(x) * 0.9 + 0.1
        return x
    t = adnb.trace(chain, 0.3)
    assert t.n_ops >= 10_000
    out = trace_table(t, t.forward(), t.reverse())
    assert len(out.encode()) < 1_000_000
    assert len(table_rows(out)) <= 200
    g = fold_graph(t, max_nodes=200)
    assert sum(d["count"] for _, d in g.nodes(data=True)) == len(t.nodes)
    assert g.number_of_nodes() <= 200 and g.graph["folded"] > 0


def test_first_inf_or_nan_is_marked_with_its_cause():
    def bad(x):
        a = x - 1.0
        b = np.sqrt(a)
        c = b * 3.0
        return np.exp(c)
    t = adnb.trace(bad, np.array([1.0, 2.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fw, rv = t.forward(), t.reverse()
    out = trace_table(t, fw, rv)
    rows = table_rows(out)
    assert "adnb-nonfinite-first" in rows[2][0]       # v3 = √v2: first inf tangent
    assert "adnb-nonfinite-first" in rows[1][0]       # v2: first inf adjoint (reverse order)
    assert "adnb-nonfinite-first" not in rows[3][0]
    assert "first inf/nan at v<sub>3</sub>" in out and "sqrt has no finite derivative" in out
    assert "comes from v<sub>3</sub>" in out           # v4, v5 trace back to v3
    text = trace_text(t, fw, rv)
    assert "⚠ tangent (ẋ=1): first inf/nan at v3" in text


def test_nonfinite_values_trace_back_to_the_operation():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = adnb.trace(lambda x: np.log(x - 1.0) * 2.0, 1.0)
    out = trace_text(t)
    assert "⚠ value: first inf/nan at v3 — v3 = ln(v2) gives -inf at v2 = 0" in out


def test_arrays_are_shown_compactly():
    W = np.arange(600.0).reshape(20, 30) / 600
    t = adnb.trace(lambda W, x: np.tanh(W @ x).sum(), W, np.ones(30))
    out = trace_table(t, reverse=t.reverse())
    assert ">(20, 30) [0, 0.001667, 0.003333, …]<" in out
    assert len(out) < 12_000
    assert "shape (20, 30)" in out                             # the tooltip says what it is


def test_text_fallback_and_result_reprs(book):
    t, fw, rv = book
    text = trace_text(t, fw, rv)
    assert "v3   v3    v1 v2" not in text                       # user name equal to label hidden
    assert re.search(r"v4\s+sin\(v2\)\s+0\.909297\s+0\s+-0\.416147\s+-1\s+-7\.38906", text)
    assert "8 rows: 8 shown, 0 folded" in text
    assert 'class="adnb-trace"' in t._repr_html_()
    assert 'data-mode="forward"' in fw._repr_html_()
    assert 'data-mode="reverse"' in rv._repr_html_()


def test_reverse_text_marks_the_sweep(book):
    t, fw, rv = book
    text = trace_text(t, reverse=rv, step=2, mode="reverse")
    lines = {ln.split()[1]: ln for ln in text.splitlines() if ln[:1] in "✓▶·"}
    assert lines["v6"].startswith("▶") and lines["v8"].startswith("✓")
    assert lines["v5"].startswith("·")


# ---- the graph ---------------------------------------------------------------------------------

FIG_8_4_EDGES = {("v1", "v3"), ("v2", "v3"), ("v2", "v4"), ("v3", "v5"), ("v3", "v6"),
                 ("v4", "v6"), ("v5", "v7"), ("v6", "v7")}


def test_graph_of_8_49_is_figure_8_4():
    g = to_networkx(adnb.trace(book_8_49, 1.0, 2.0))
    assert set(g.nodes) == {f"v{i}" for i in range(1, 8)}
    assert set(g.edges) == FIG_8_4_EDGES
    assert [v for v in g if g.nodes[v]["is_input"]] == ["v1", "v2"]
    assert [v for v in g if g.nodes[v]["is_output"]] == ["v7"]
    assert g.out_degree("v2") == 2 and g.out_degree("v3") == 2          # fan-out
    assert g.nodes["v1"]["name"] == "x1" and g.nodes["v4"]["formula"] == "sin(v2)"


def test_graph_of_8_65_is_figure_8_5(book):
    t, fw, rv = book
    g = to_networkx(t, fw, rv)
    assert set(g.nodes) == {f"v{i}" for i in range(1, 9)}
    assert set(g.edges) == FIG_8_4_EDGES | {("v5", "v8"), ("v6", "v8")}
    assert g.nodes["v7"]["outputs"] == ["f1"] and g.nodes["v8"]["outputs"] == ["f2"]
    e = g.edges["v2", "v4"]
    assert e["formula"] == "cos(v2)" and math.isclose(e["partial"], math.cos(2.0))
    assert g.edges["v4", "v6"]["partial"] == -1.0 and g.edges["v1", "v3"]["formula"] == "v2"
    assert g.edges["v3", "v5"]["formula"] == "v5"                      # ∂ exp(v3)/∂v3 = v5
    assert math.isclose(g.nodes["v3"]["adjoints"]["f1"], REFERENCE[3][3], rel_tol=1e-12)
    assert math.isclose(g.nodes["v5"]["tangents"]["ẋ=e1"], REFERENCE[5][1], rel_tol=1e-12)
    assert g.nodes["v3"]["depth"] == 1 and g.nodes["v7"]["depth"] == 3


def test_graph_edges_of_repeated_arguments_and_matrices():
    g = to_networkx(adnb.trace(lambda x: x * x, 3.0))
    e = g.edges["v1", "v2"]
    assert e["argnums"] == [0, 1] and e["partial"] == 6.0 and e["formula"] == "v1 + v1"
    g = to_networkx(adnb.trace(lambda W, x: W @ x, np.eye(2), np.ones(2)))
    assert g.edges["v1", "v3"]["partial"] is None and g.edges["v1", "v3"]["rule"] == "matmul"
    assert "@" in g.edges["v1", "v3"]["formula"]


def test_draw_graph_labels_and_layout(book):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    t, fw, rv = book
    fig, ax = plt.subplots()
    try:
        draw_graph(t, ax=ax, reverse=rv, step=3, mode="reverse")
        texts = [x.get_text() for x in ax.texts]
        assert "v3\n×" in texts and "v4\nsin" in texts and "v1\nx1" in texts
        assert "f1" in texts and "f2" in texts
        assert "cos(v2)\n= -0.4161" in texts               # edge label ∂v4/∂v2, two lines
        assert "reverse sweep, step 3 of 8: v5" in ax.get_title()
        xs = {tx.get_text().split("\n")[0]: tx.get_position()[0] for tx in ax.texts
              if tx.get_text().startswith("v") and "\n" in tx.get_text()}
        assert xs["v1"] == xs["v2"] < xs["v3"] == xs["v4"] < xs["v5"] == xs["v6"] < xs["v7"]
        assert xs["v7"] == xs["v8"]                          # outputs share the last column
    finally:
        plt.close(fig)


def test_graph_png_and_folded_drawing():
    t = adnb.trace(lambda x: logistic(x, 120), 0.3)
    png = graph_png(t, max_nodes=40)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()
    try:
        draw_graph(t, ax=ax, max_nodes=40)
        assert "folded into 1 grey box" in ax.get_title()
        assert any("iterations 2–119" in x.get_text() for x in ax.texts)
    finally:
        plt.close(fig)


# ---- the graph as SVG (adnb.display.svg: no matplotlib) ------------------------------------------

_SVG_NS = "{http://www.w3.org/2000/svg}"


def _svg_tree(svg):
    """Parse the SVG (it must be well-formed XML); map data-node -> its <g> element."""
    import xml.etree.ElementTree as ET
    root = ET.fromstring(svg)
    nodes = {g.get("data-node"): g for g in root.iter(_SVG_NS + "g") if g.get("data-node")}
    return root, nodes


def _texts(el):
    """Every line of text under an element (one per <tspan> or bare <text>)."""
    out = []
    for t in el.iter(_SVG_NS + "text"):
        spans = list(t.iter(_SVG_NS + "tspan"))
        out += [sp.text for sp in spans] if spans else [t.text]
    return out


def test_svg_of_8_65_is_figure_8_5(book):
    from adnb.display import graph_svg
    t, fw, rv = book
    svg = graph_svg(t, fw, rv)
    assert svg.startswith("<svg") and 'xmlns="http://www.w3.org/2000/svg"' in svg
    root, nodes = _svg_tree(svg)
    assert set(nodes) == {f"v{i}" for i in range(1, 9)}
    edges = {tuple(g.get("data-edge").split("-")) for g in root.iter(_SVG_NS + "g")
             if g.get("data-edge")}
    assert edges == FIG_8_4_EDGES | {("v5", "v8"), ("v6", "v8")}          # every edge labelled
    assert svg.count("<path class=\"adnb-edges\"") == 1
    assert _texts(nodes["v1"])[:2] == ["v1", "x1"] and _texts(nodes["v3"])[:2] == ["v3", "×"]
    assert _texts(nodes["v4"])[:2] == ["v4", "sin"]
    assert "adnb-input" in nodes["v2"].get("class") and "adnb-output" in nodes["v8"].get("class")
    labels = [x for g in root.iter(_SVG_NS + "g") if g.get("data-edge") for x in _texts(g)]
    assert ["cos(v2)", "= -0.4161"] == labels[labels.index("cos(v2)"):][:2]    # ∂v4/∂v2
    assert "v5 = 7.389" in labels                                               # ∂v5/∂v3
    all_text = _texts(root)
    assert "f1" in all_text and "f2" in all_text
    assert "v̇=16.78" in _texts(nodes["v7"]) and "v̄=16.78" in _texts(nodes["v1"])
    assert "Computational graph of book_8_65: 2 inputs, 6 operations" in all_text
    # the book's layout: columns by depth, outputs share the last column
    x = {k: float(g.find(_SVG_NS + "circle").get("cx")) for k, g in nodes.items()}
    assert x["v1"] == x["v2"] < x["v3"] == x["v4"] < x["v5"] == x["v6"] < x["v7"] == x["v8"]


def test_svg_escapes_user_strings():
    from adnb.display import graph_svg

    def f(x1, x2):
        a = x1 * x2
        return np.sin(a)
    t = adnb.trace(f, 1.0, 2.0)
    assert t.nodes[2].name == "a"
    t.nodes[0].name = "<script>$x$"           # also: no mathtext parsing of a user's "$"
    t.nodes[2].name = "<script>alert(1)</script>"
    t.function_name = "a&b<i>"
    svg = graph_svg(t)
    assert "<script" not in svg
    assert "&lt;script&gt;$x$" in svg and "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert "a&amp;b&lt;i&gt;" in svg
    _, nodes = _svg_tree(svg)                                # still well-formed
    assert "<script>alert(1)</script>" in _texts(nodes["v3"])   # the op's name, above it
    assert graph_svg(t).count("<script") == 0


def test_svg_step_highlighting(book):
    from adnb.display import graph_svg
    t, fw, rv = book
    seen = set()
    for mode, res in (("forward", {"forward": fw}), ("reverse", {"reverse": rv})):
        for step in range(len(sweep_steps(t, mode, res.get(mode))) + 1):
            svg = graph_svg(t, step=step, mode=mode, **res)
            seen.add(svg)
            root, nodes = _svg_tree(svg)
            state = sweep_state(t, mode, step, res[mode])
            for k, g in nodes.items():
                i = int(k[1:]) - 1
                assert g.get("data-status") == state.status(i), (mode, step, k)
                assert f"adnb-{state.status(i)}" in g.get("class")
            assert root.get("data-mode") == mode and root.get("data-step") == str(state.step)
    assert len(seen) == 7 + 1 + 8 + 1                       # every step draws differently
    svg = graph_svg(t, reverse=rv, step=3, mode="reverse")
    root, nodes = _svg_tree(svg)
    assert nodes["v5"].get("data-status") == "current"
    assert nodes["v8"].get("data-status") == "done" and nodes["v3"].get("data-status") == "pending"
    assert nodes["v5"].find(_SVG_NS + "circle").get("fill") == "#ffe066"
    assert "reverse sweep, step 3 of 8: v5" in _texts(root)
    assert "v̄=·" in _texts(nodes["v3"]) and "v̄=1" in _texts(nodes["v5"])   # pending vs final
    assert root.find(f".//{_SVG_NS}path[@class='adnb-active-edges']") is not None  # v3 → v5
    assert "in progress" in _texts(root)                                       # the legend
    with pytest.raises(ValueError):
        graph_svg(t, step=1)


def test_svg_layout_is_cached_per_trace(book):
    from adnb.display.svg import graph_layout, graph_svg
    t, fw, rv = book
    lay = graph_layout(t)
    assert graph_layout(t) is lay
    graph_svg(t, reverse=rv, step=2, mode="reverse")
    graph_svg(t, reverse=rv, step=5, mode="reverse")
    assert graph_layout(t, direction="TB") is graph_layout(t, direction="TB")
    assert graph_layout(t, direction="TB") is not lay
    t2 = adnb.trace(book_8_65, 1.0, 2.0)
    assert graph_layout(t2) is not lay


def test_svg_folds_as_fold_graph():
    from adnb.display import graph_svg
    from adnb.display.svg import graph_layout
    t = adnb.trace(lambda x: logistic(x, 120), 0.3)
    svg = graph_svg(t, max_nodes=40)
    root, nodes = _svg_tree(svg)
    g = fold_graph(t, max_nodes=40)
    assert set(nodes) == set(g.nodes)                        # the same folding
    assert set(graph_layout(t, max_nodes=40).g.edges) == set(g.edges)
    assert "folded into 1 grey box(es)" in " ".join(_texts(root))
    assert "⋯ iterations 2–119" in _texts(root) and "folded nodes" in _texts(root)
    # a sweep step inside the folded iterations shows the node in progress
    rv = t.reverse()
    order = sweep_steps(t, "reverse", rv)
    step = len(order) // 2
    (cur,) = order[step]
    svg = graph_svg(t, reverse=rv, step=step, mode="reverse", max_nodes=40)
    root, nodes = _svg_tree(svg)
    assert nodes[f"v{cur + 1}"].get("data-status") == "current"
    assert set(nodes) == set(fold_graph(t, max_nodes=40, keep=[cur]).nodes)
    folds = [g for k, g in nodes.items() if k.startswith("fold:")]
    assert len(folds) == 2


def test_graph_svg_in_graph_module_is_the_direct_writer(book):
    from adnb.display import graph as G
    from adnb.display import svg as S
    t, fw, rv = book
    assert G.graph_svg(t, reverse=rv, step=1, mode="reverse") == \
        S.graph_svg(t, reverse=rv, step=1, mode="reverse")


# ---- finite differences (Fig 8.2) ------------------------------------------------------------

def test_difference_errors_reproduce_figure_8_2():
    r = difference_errors(lambda x1, x2: x1 * x2 + np.exp(x1 * x2) - np.sin(x2), 1.0, 2.0)
    assert math.isclose(r.exact, 16.7781121978613, rel_tol=1e-14)
    assert abs(r.forward_slope - 1.0) < 0.1 and abs(r.central_slope - 2.0) < 0.1
    err = dict(zip(np.round(np.log10(r.eps), 1), r.forward))
    assert err[-12.0] > err[-8.0]                     # round-off branch: error grows again
    i = int(np.argmin(abs(r.eps - 1e-1)))
    assert math.isclose(r.forward[i], 1.58, rel_tol=0.01)     # reference §10.5
    assert math.isclose(r.central[i], 9.87e-2, rel_tol=0.01)
    assert 1e-9 <= r.forward_best <= 1e-7 and 1e-7 <= r.central_best <= 1e-4
    assert "slopes on the truncation branch" in r.table()


def test_plot_difference_errors():
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()
    try:
        plot_difference_errors(lambda x: np.exp(x) * np.sin(x), 0.7, ax=ax)
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert any(s.startswith("forward (8.24): slope 1.0") for s in labels)
        assert any(s.startswith("central (8.25): slope 2.0") for s in labels)
        assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    finally:
        plt.close(fig)


# ---- dependency direction ----------------------------------------------------------------------

def test_display_imports_no_ipython_widgets_or_plotting():
    code = ("import sys, adnb, adnb.display, adnb.display.html, adnb.display.graph;"
            "adnb.display.graph_svg(adnb.trace(lambda x: x * x, 2.0), step=1, mode='reverse');"
            "print(sorted(m for m in ('IPython', 'ipywidgets', 'matplotlib', 'sympy') "
            "if m in sys.modules))")
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(adnb.__file__)))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True).stdout.strip()
    assert out == "[]"
