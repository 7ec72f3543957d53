"""The learner loop (issue 16): compare, predict mode, exercise sheets, the book's LaTeX table,
the geometry panel. Reference numbers are typed in from ../shared/reference/bishop-ch8.md §10.1."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest

import adnb
from adnb.display import predict as P
from adnb.display.latex import equations, to_latex_math, trace_markdown
from adnb.testing import compare
from learner_value import Value, student

E2 = math.exp(2.0)


def book(x1, x2):
    v3 = x1 * x2
    v4 = np.sin(x2)
    v5 = np.exp(v3)
    v6 = v3 - v4
    return v5 + v6


@pytest.fixture(scope="module")
def book_trace():
    return adnb.trace(book, 1.0, 2.0)


# ---- adnb.testing.compare ---------------------------------------------------------------------

def test_compare_accepts_a_correct_learner_and_checks_every_adjoint():
    result = compare(student(), book, 1.0, 2.0)
    assert result.ok and bool(result)
    assert result.matched == 7              # all of v1..v7 paired with the learner's nodes
    assert "agrees" in str(result)
    assert compare(student(return_graph=False), book, 1.0, 2.0).ok


def test_compare_finds_the_overwrite_bug_where_it_starts():
    result = compare(student(accumulate=False), book, 1.0, 2.0)
    assert not result
    by_arg = {d.argument: d for d in result.differences}
    # overwrite: v̄3 keeps v̄5·v5 = e² only, so ∂f/∂x1 = e²·2 instead of (e² + 1)·2
    assert by_arg["x1"].student == pytest.approx(2 * E2, rel=1e-12)
    assert by_arg["x1"].expected == pytest.approx(16.7781121978613, rel=1e-12)
    assert by_arg["x1"].abs_error == pytest.approx(2.0, rel=1e-9)
    first = result.first_wrong
    assert first.question.symbol == "v\u03043"              # v̄3, the first fan-out node
    assert first.answer == pytest.approx(E2, rel=1e-12)
    assert first.question.expected == pytest.approx(E2 + 1, rel=1e-12)
    kinds = {m.kind for m in first.mistakes}
    assert "overwritten" in kinds
    text = str(result)
    assert "First wrong variable" in text and "+=" in text
    with pytest.raises(AssertionError, match="v̄3"):
        result.assert_ok()


def test_compare_without_a_graph_reports_entries_only():
    result = compare(student(accumulate=False, return_graph=False), book, 1.0, 2.0)
    assert not result and result.first_wrong is None and result.matched == 0
    assert {d.argument for d in result.differences} == {"x1", "x2"}


def test_compare_on_arrays_lists_the_wrong_entries():
    def layer(W, b, x):
        return np.sum(np.tanh(W @ x + b) ** 2)
    rng = np.random.default_rng(0)
    W, b, x = rng.standard_normal((2, 3)), rng.standard_normal(2), rng.standard_normal(3)

    def right(W, b, x):
        h = np.tanh(W @ x + b)
        a_bar = 2 * h * (1 - h ** 2)
        return np.outer(a_bar, x), a_bar, W.T @ a_bar

    def wrong(W, b, x):                  # forgets the tanh's local derivative for b
        gW, gb, gx = right(W, b, x)
        return gW, 2 * np.tanh(W @ x + b), gx
    assert compare(right, layer, W, b, x)
    bad = compare(wrong, layer, W, b, x)
    assert {d.argument for d in bad.differences} == {"b"}
    assert sorted(d.index for d in bad.differences) == [(0,), (1,)]
    with pytest.raises(adnb.ADNBError, match="one per argument"):
        compare(lambda W, b, x: right(W, b, x)[:2], layer, W, b, x)
    with pytest.raises(adnb.ADNBError, match="one scalar output"):
        compare(right, lambda W, b, x: np.tanh(W @ x + b), W, b, x)
    shape = compare(lambda W, b, x: (W, b, x[:2]), layer, W, b, x)
    assert any("shape" in p for p in shape.problems)


# ---- predict mode ---------------------------------------------------------------------------

def test_questions_follow_the_sweeps(book_trace):
    rev = P.questions(book_trace, "reverse")
    assert [q.symbol for q in rev] == [f"v\u0304{i}" for i in range(7, 0, -1)]
    expected = [1.0, 1.0, 1.0, -1.0, E2 + 1, 8.805202935477793, 16.7781121978613]
    for q, e in zip(rev, expected):
        assert q.expected == pytest.approx(e, rel=1e-12)
    fwd = P.questions(book_trace, "forward")
    assert [q.step for q in fwd][:3] == [0, 0, 1]           # both input seeds at step 0
    assert [float(q.expected) for q in fwd] == pytest.approx(
        [1.0, 0.0, 2.0, 0.0, 2 * E2, 2.0, 2 * E2 + 2], rel=1e-12)
    prim = P.questions(book_trace, "primal")
    assert prim[-1].expected == pytest.approx(8.47975867210497, rel=1e-12)


def test_rule_with_numbers_for_fan_out(book_trace):
    q3 = [q for q in P.questions(book_trace, "reverse") if q.index == 2][0]
    assert q3.rule == "v̄3 = v̄5 ∂v5/∂v3 + v̄6 ∂v6/∂v3"
    assert q3.book == "v̄5 · v5 + v̄6"                                   # eq. (8.74)
    assert q3.numbers == "1·7.38906 + 1·1"
    assert q3.explanation().endswith("= 8.38906")


def test_tolerance_is_three_significant_digits():
    assert P.accepts(8.39, E2 + 1) and P.accepts(16.8, 16.7781121978613)
    assert not P.accepts(8.3, E2 + 1)
    assert P.accepts(0.0, 0.0) and not P.accepts(0.01, 0.0)
    assert P.accepts([1.0, 2.0], np.array([1.0, 2.001])) and not P.accepts([1.0], [1.0, 2.0])
    assert P.parse_answer("−0.416") == -0.416
    with pytest.raises(ValueError, match="type"):
        P.parse_answer("e squared")


@pytest.mark.parametrize("answer, kinds", [
    (E2, {"forgotten", "overwritten"}),       # v̄5 v5 alone: v̄6's contribution lost
    (E2 * 0 + 2 + 1, {"wrong_value"}),        # ∂v5/∂v3 taken as v3 = 2 instead of v5 = e²
    (2.0, {"seeds"}),                          # v̇3 for ẋ = e1: a tangent, not an adjoint
])
def test_classic_mistakes_in_reverse_mode(book_trace, answer, kinds):
    q3 = [q for q in P.questions(book_trace, "reverse") if q.index == 2][0]
    verdict = P.check(q3, answer)
    assert not verdict.correct
    assert {m.kind for m in verdict.mistakes} == kinds
    assert "v̄3 is 8.38906" in verdict.message


def test_wrong_value_for_sin_names_it(book_trace):
    q2 = [q for q in P.questions(book_trace, "reverse") if q.index == 1][0]
    wrong = (E2 + 1) * 1.0 + (-1.0) * math.sin(2.0)      # sin(v2) used for ∂v4/∂v2 = cos(v2)
    v = P.check(q2, wrong)
    assert [m.kind for m in v.mistakes] == ["wrong_value"]
    assert "∂v4/∂v2 = −0.416147" in v.mistakes[0].text


def test_forward_seed_mix_up_and_output_seed(book_trace):
    fwd = P.questions(book_trace, "forward")
    assert [m.kind for m in P.check(fwd[0], "0").mistakes] == ["seeds"]      # v̇1 for e2
    out = P.questions(book_trace, "reverse")[0]
    assert "∂f/∂f" in P.check(out, 0).mistakes[0].text


def test_session_scores_and_static_fallback_escapes(book_trace):
    s = P.PredictSession(book_trace, "reverse")
    assert s.answer("1").correct                  # v̄7
    assert not s.answer("0").correct              # v̄6, wrong
    assert s.answer("1").correct
    assert s.reveal().symbol == "v̄5"
    assert s.score_line == "Score: 2 right · 1 wrong · 1 revealed"
    assert s.current.symbol == "v̄4"

    def evil(x):
        return x * 2.0
    evil.__name__ = "<b>x</b>"
    html = P.exercise_html(adnb.trace(evil, 1.5), "reverse")
    assert "<details><summary>Answers</summary>" in html and "<b>" not in html
    v = P.check(P.questions(book_trace, "reverse")[4], 7.389)
    assert v.html().startswith('<div class="adnb-verdict adnb-wrong">') and "<script" not in v.html()


# ---- the book's table in LaTeX, exercise sheets ------------------------------------------------

BOOK_PRIMAL = [r"v_{1} = x_{1}", r"v_{2} = x_{2}", r"v_{3} = v_{1} v_{2}", r"v_{4} = \sin(v_{2})",
               r"v_{5} = \exp(v_{3})", r"v_{6} = v_{3} - v_{4}", r"v_{7} = v_{5} + v_{6}"]
# (8.70)–(8.76), (8.75) with the printed typo corrected (v̄3, not v̄2)
BOOK_ADJOINT = [r"\bar{v}_{1} = \bar{v}_{3} v_{2}", r"\bar{v}_{2} = \bar{v}_{3} v_{1} + \bar{v}_{4} \cos(v_{2})",
                r"\bar{v}_{3} = \bar{v}_{5} v_{5} + \bar{v}_{6}", r"\bar{v}_{4} = -\bar{v}_{6}",
                r"\bar{v}_{5} = \bar{v}_{7}", r"\bar{v}_{6} = \bar{v}_{7}", r"\bar{v}_{7} = 1"]
PRIMAL = ["1", "2", "2", "0.909297", "7.38906", "1.0907", "8.47976"]
ADJOINT = ["16.7781", "8.8052", "8.38906", "-1", "1", "1", "1"]


def test_to_latex_is_the_books_table(book_trace):
    tex = book_trace.to_latex("reverse")
    rows = [r for r in tex.splitlines() if r.endswith(r"\\") and r.startswith("$")]
    assert len(rows) == 7
    for row, eq, val, adj_eq, adj in zip(rows, BOOK_PRIMAL, PRIMAL, BOOK_ADJOINT, ADJOINT):
        assert row == f"${eq}$ & ${val}$ & ${adj_eq}$ & ${adj}$ \\\\"
    full = book_trace.to_latex()
    assert r"$\dot{v}_{4} = \dot{v}_{2} \cos(v_{2})$ & $0$" in full           # (8.61)
    assert r"$\dot{v}_{7} = \dot{v}_{5} + \dot{v}_{6}$ & $16.7781$" in full   # (8.64)
    assert full.startswith(r"\begin{tabular}{lrlrlr}") and full.endswith(r"\end{tabular}")


def test_latex_cells_parse_as_math(book_trace):
    mathtext = pytest.importorskip("matplotlib.mathtext")
    parser = mathtext.MathTextParser("path")
    for m in ("primal", "forward", "reverse"):
        for eq in equations(book_trace, m):
            parser.parse("$" + to_latex_math(eq, ["x1", "x2"]) + "$")
    assert to_latex_math("v̇4 = √(1 − v1²) v2^(v3 − 1)") == \
        r"\dot{v}_{4} = \sqrt{1 - v_{1}^{2}} v_{2}^{(v_{3} - 1)}"


def test_exercise_blanks_key_and_variants():
    ex = adnb.exercise(book, 1.0, 2.0, blanks=["v̄3", "v̄2"])
    md = ex.markdown()
    assert md.count("____") == 2
    assert "| v3 = v1 v2 | 2 | v̄3 = v̄5 · v5 + v̄6 | ____ |" in md
    assert "| v4 = sin(v2) | 0.909297 | v̄4 = −v̄6 | -1 |" in md
    key = ex.answers_markdown()
    assert "1. v̄3 = v̄5 ∂v5/∂v3 + v̄6 ∂v6/∂v3 = v̄5 · v5 + v̄6 = 1·7.38906 + 1·1 = 8.38906" in key
    assert "8.8052" in key and "8.8052" not in md
    assert ex.latex().count(r"\underline{\hspace{3em}}") == 2
    assert r"\item $\bar{v}_{3} = " in ex.answers_latex()
    svg = ex.svg()
    assert svg.startswith('<?xml version="1.0"') and 'xmlns="http://www.w3.org/2000/svg"' in svg
    assert "8.38906" not in svg
    v1, v1_again, v2 = ex.variant(1), ex.variant(1), ex.variant(2)
    assert v1.args == v1_again.args and v1.args != v2.args and v1.args != (1.0, 2.0)
    from adnb.display.exercise import structure
    assert structure(v1.trace) == structure(ex.trace)
    x1, x2 = v1.args                      # the key is right at the variant's numbers
    assert v1.questions[0].expected == pytest.approx(math.exp(x1 * x2) + 1, rel=1e-12)
    assert all(0.5 <= abs(a) <= 3.0 for a in v1.args)


def test_exercise_counts_and_errors(tmp_path):
    ex = adnb.exercise(book, 1.0, 2.0, mode="forward", blanks=3, seed=None)
    assert len(ex.questions) == 3 and all(q.terms for q in ex.questions)
    with pytest.raises(adnb.ADNBError, match="not entries"):
        adnb.exercise(book, 1.0, 2.0, blanks=["v9"])

    def branchy(x):
        return x * 2.0 if x > 3.05 else x * 3.0
    with pytest.raises(adnb.ADNBError, match="structure"):
        adnb.exercise(branchy, 3.1, seed=0)       # variants (≤ 3) take the other branch
    paths = adnb.exercise(book, 1.0, 2.0).save(tmp_path)
    assert sorted(p.rsplit("/", 1)[1] for p in paths) == [
        "exercise.md", "exercise.svg", "exercise.tex", "exercise_answers.md",
        "exercise_answers.tex"]
    assert "|" in trace_markdown(adnb.trace(lambda x: abs(x), -1.0))


# ---- geometry panel ---------------------------------------------------------------------------

@pytest.fixture
def plt():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    yield plt
    plt.close("all")


def test_geometry_1d(plt):
    from adnb.display.geometry import draw_geometry

    def f(x):
        return np.sin(x) * x
    ax = draw_geometry(f, 1.0, r=0.5, lr=0.1)
    g, art = ax.adnb_geometry, ax.adnb_artists
    slope = math.cos(1.0) + math.sin(1.0)
    assert g.gradient[0] == pytest.approx(slope, rel=1e-12)
    t, y = art["tangent"].get_data()
    assert np.polyfit(t, y, 1)[0] == pytest.approx(slope, rel=1e-9)       # the tangent's slope
    assert art["tangent"].get_gid() == "tangent"
    assert art["point"].get_data()[1][0] == pytest.approx(math.sin(1.0), rel=1e-12)
    (x_end, y_end), (x0, y0) = art["seed"].xy, art["seed"].xyann
    assert (x_end - x0, y_end - y0) == pytest.approx((0.5, 0.5 * slope), rel=1e-12)   # r, J r
    xs, ys = art["step"].get_data()
    assert xs[0] == pytest.approx(1.0 - 0.1 * slope) and ys[0] == pytest.approx(f(xs[0]))
    assert art["gradient"].xy[0] > art["gradient"].xyann[0]               # points uphill


def test_geometry_2d_and_slices(plt):
    from adnb.display.geometry import draw_geometry, geometry

    def f2(x1, x2):
        return x1 * x2 + np.exp(x1 * x2) - np.sin(x2)
    ax = draw_geometry(f2, 1.0, 2.0, r=[1.0, -1.0], lr=0.01)
    g, art = ax.adnb_geometry, ax.adnb_artists
    assert g.gradient == pytest.approx([16.7781121978613, 8.805202935477793], rel=1e-12)
    assert g.jr == pytest.approx(7.972909262383508, rel=1e-12)            # §10.1 J r
    (gx, gy), (x0, y0) = art["gradient"].xy, art["gradient"].xyann
    assert (gx - x0) * 8.805202935477793 == pytest.approx((gy - y0) * 16.7781121978613)
    assert art["step"].get_data()[0][0] == pytest.approx(1.0 - 0.01 * 16.7781121978613)
    assert art["tangent"].get_gid() == "tangent" and art["contours"].get_gid() == "contours"

    def f4(w):
        return np.sum(w ** 2)
    with pytest.raises(adnb.ADNBError, match="dims"):
        geometry(f4, np.ones(4))
    gs = geometry(f4, np.arange(4.0), dims=(1, 3))
    assert gs.gradient == pytest.approx([0, 2, 4, 6]) and gs.r[1] == 1.0
    with pytest.raises(adnb.ADNBError, match="one output"):
        geometry(lambda x: (x, x), 1.0)


def test_learner_value_is_a_real_reverse_mode():
    a, b = Value(1.0), Value(2.0)
    out = a * b + a
    out.backward()
    assert (a.grad, b.grad) == (3.0, 1.0)


# ---- predict mode's table and panel ---------------------------------------------------------------

def test_predict_table_blanks_only_what_is_asked(book_trace):
    s = P.PredictSession(book_trace, "reverse")
    assert s.answer(1).correct                               # v̄7
    html = P.predict_table(s)
    assert html.count("adnb-blank") == 1
    row6 = re.search(r'<tr class="[^"]*" data-node="5">.*?</tr>', html, re.S).group(0)
    assert "adnb-blank" in row6 and "adnb-current" in row6   # v̄6 is asked, at its step
    s.reveal()
    s.reveal()
    s.reveal()
    html = P.predict_table(s)                                 # v̄3 asked: 8.38906 nowhere yet
    assert "8.38906" not in re.sub(r'<div class="adnb-expansion">.*?</div>', "", html, flags=re.S)
    prim = P.PredictSession(book_trace, "primal")
    assert P.predict_table(prim).count("adnb-blank") == 5    # every value still to come


def test_predict_panel_checks_reveals_and_scores(book_trace):
    pytest.importorskip("ipywidgets")
    from adnb.widgets import PredictPanel
    p = PredictPanel(book_trace, "reverse")
    assert "v̄7 = ?" in p.question.value
    p.answer.value = "1"                                      # Enter / blur sends it
    assert "adnb-right" in p.verdict.value and "v̄6 = ?" in p.question.value
    p.answer.value = "0"
    assert "adnb-wrong" in p.verdict.value and "v̄6 is 1" in p.verdict.value
    p.check_button.click()                                    # same answer again: not counted
    assert p.score.value == "<small>Score: 1 right · 1 wrong · 0 revealed</small>"
    assert p.reveal().symbol == "v̄6" and "revealed" in p.verdict.value
    p.answer.value = "not a number"
    assert "could not read" in p.verdict.value
    assert p.session.wrong == 1
    bundle = p._repr_mimebundle_()
    assert "<details><summary>Answers</summary>" in bundle["text/html"]
    for _ in range(10):
        p.reveal()
    assert p.step is None and p.check_button.disabled


def test_geometry_from_a_trace_replays_it_on_the_grid(plt):
    from adnb.display.geometry import evaluator, geometry_svg, replay_values, trace_geometry

    def f2(x1, x2):
        return x1 * x2 + np.exp(x1 * x2) - np.sin(x2)
    t = adnb.trace(f2, 1.0, 2.0)
    grid = np.linspace(-1, 1, 7)
    assert replay_values(t, [grid, 2.0 + grid]) == pytest.approx(f2(grid, 2.0 + grid), rel=1e-14)
    g = trace_geometry(t, r=[1.0, -1.0], lr=0.01)                  # no f needed
    assert g.jr == pytest.approx(7.972909262383508, rel=1e-12)
    assert g.step_value == pytest.approx(f2(*g.step), rel=1e-14)
    svg = geometry_svg(t)
    assert svg.startswith("<svg") and 'id="tangent"' in svg and 'id="gradient-arrow"' in svg

    def branchy(x):
        return x * 2.0 if x > 0 else -x
    tb = adnb.trace(branchy, 1.0)
    assert replay_values(tb, [grid]) is None                       # a branch: no replay
    with pytest.raises(adnb.ADNBError, match="evaluate=f"):
        evaluator(tb)
    assert trace_geometry(tb, evaluate=branchy).step_value == pytest.approx(2 * 0.8)   # f(1 − 0.1·2)


# ---- predict mode and the geometry panel in the explorer, and %%autodiff --predict ----------------

BOOK_CELL = "v3 = x1 * x2\nv4 = np.sin(x2)\nv5 = np.exp(v3)\nv6 = v3 - v4\ny = v5 + v6"


def _explorer(**kw):
    pytest.importorskip("ipywidgets")
    e = adnb.explore_cell(BOOK_CELL, {"x1": 1.0, "x2": 2.0}, namespace={"np": np},
                          interactive=True, **kw)
    return e, e.widget()


def _without_sums(html):
    return re.sub(r'<div class="adnb-expansion">.*?</div>', "", html, flags=re.S)


def test_explorer_predict_toggle_steps_with_the_questions():
    e, w = _explorer(mode="reverse")
    learn = w.learning
    assert not learn.predicting and learn.panel is None
    learn.predict_toggle.value = True
    p = learn.panel
    assert w.step.value == 0 and w.step.disabled and w.play.disabled
    assert "v̄7 = ?" in p.question.value and w.table.value.count("adnb-blank") == 1
    p.answer.value = "1"
    assert w.step.value == 1 and "adnb-right" in p.verdict.value
    for _ in range(3):
        p.reveal()
    assert w.step.value == 4 and "v̄3 = ?" in p.question.value
    assert "8.38906" not in _without_sums(w.table.value)       # neither in the table
    assert "8.389" not in w.graph.value                         # nor on the graph
    p.answer.value = "7.389"
    assert "overwritten" in p.verdict.value
    w.mode.value = "forward"                                    # a new round, forward mode
    assert "v̇1 = ?" in learn.panel.question.value and w.step.value == 0
    learn.predict_toggle.value = False
    assert not w.step.disabled and w.step.value == w.step.max
    assert "adnb-blank" not in w.table.value and "16.7781" in w.table.value


def test_explorer_geometry_panel_follows_the_inputs():
    pytest.importorskip("matplotlib")
    e, w = _explorer(mode="forward")
    learn = w.learning
    assert learn.geometry.layout.display == "none"
    learn.geometry_toggle.value = True
    first = learn.geometry.value
    assert '<g id="tangent"' in first and '<g id="point"' in first
    w.inputs.children[0].value = 0.5                            # move x1: a new point
    assert learn.geometry.value != first and '<g id="tangent"' in learn.geometry.value
    assert math.isclose(w.exploration.inputs["x1"], 0.5)


def test_autodiff_magic_predict_flag():
    pytest.importorskip("IPython")
    from IPython.core.interactiveshell import InteractiveShell
    ip = InteractiveShell.instance()
    try:
        ip.run_line_magic("load_ext", "adnb")
        ip.run_cell("import numpy as np")
        e = ip.run_cell_magic("autodiff", "--predict -o -m reverse x1=1.0 x2=2.0", BOOK_CELL)
        assert e.predict and e.widget().learning.predicting
        static = e.to_html()
        shown, answers = static.split("<details>", 1)
        assert "v̄3 = ____" in shown and "8.38906" not in _without_sums(shown)
        assert "v̄3 = v̄5 ∂v5/∂v3 + v̄6 ∂v6/∂v3" in answers
        plain = ip.run_cell_magic("autodiff", "-o x1=1.0 x2=2.0", BOOK_CELL)
        assert not plain.predict and not plain.widget().learning.predicting
    finally:
        InteractiveShell.clear_instance()


# ---- "predict, then run" moments in the course ---------------------------------------------------

def test_course_notebooks_have_predict_then_run_moments():
    nbformat = pytest.importorskip("nbformat")
    from pathlib import Path
    nb_dir = Path(__file__).resolve().parent.parent / "notebooks"
    index = "\n".join(c.source for c in nbformat.read(nb_dir / "00_index.ipynb", as_version=4).cells
                      if c.cell_type == "markdown")
    listed = index.split("## Predict, then run", 1)[1].split("\n## ", 1)[0]
    for name in ("03_forward_mode", "04_reverse_mode", "05_cost_vs_dimension", "06_control_flow",
                 "07_hessian_vector_products", "08_backprop_mlp", "10_build_it_yourself"):
        cells = nbformat.read(nb_dir / f"{name}.ipynb", as_version=4).cells
        moments = [i for i, c in enumerate(cells)
                   if c.cell_type == "markdown" and c.source.startswith("**Predict, then run.**")]
        assert len(moments) >= 2, f"{name}: {len(moments)} predict-then-run moments"
        for i in moments:            # the next code cell shows the measured answer
            nxt = next(c for c in cells[i + 1:] if c.cell_type == "code")
            assert nxt.outputs, f"{name}: the cell after moment {i} shows nothing"
        assert f"({name}.ipynb)" in listed, f"the index does not list {name}'s moments"
        assert listed.split(f"({name}.ipynb)")[1].split("\n")[0].count("·") >= 1
