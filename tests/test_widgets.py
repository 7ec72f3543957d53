"""TraceExplorer in plain pytest: ipywidgets 8 builds widgets without a frontend, and observers
fire when Python sets a trait, which is what a click does. Assertions are on the children's
values (HTML strings, PNG bytes), never on pixels."""
import re
import statistics
import time

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

import adnb  # noqa: E402
from adnb.widgets.explorer import TraceExplorer  # noqa: E402

BOOK2 = ("v3 = x1 * x2\n"
         "f1 = v3 + np.exp(v3) - np.sin(x2)\n"
         "f2 = (v3 - np.sin(x2)) * np.exp(v3)\n")


def book(x1, x2):
    return x1 * x2 + np.exp(x1 * x2) - np.sin(x2)


def data_mode(w):
    m = re.search(r"data-mode=[\"'](\w+)[\"']", w.table.value)
    return m and m.group(1)


@pytest.fixture
def w():
    return adnb.explore(book, 1.0, 2.0).widget(background=False)


def test_parts_have_stable_classes(w):
    assert "adnb-widget" in w._dom_classes and "adnb-explorer" in w._dom_classes
    for part, cls in [(w.mode, "adnb-mode"), (w.step, "adnb-step"), (w.play, "adnb-play"),
                      (w.seed, "adnb-seed"), (w.table, "adnb-table"), (w.graph, "adnb-graph"),
                      (w.jacobian, "adnb-jacobian"), (w.error, "adnb-error")]:
        assert cls in part._dom_classes
    assert all("adnb-input" in s._dom_classes for s in w.inputs.children)


def test_flipping_the_mode_changes_the_table_and_graph(w):
    assert w.mode.value == "forward" and data_mode(w) == "forward"
    fwd_table, fwd_png = w.table.value, w.graph.value
    assert fwd_png[:8] == b"\x89PNG\r\n\x1a\n"
    w.mode.value = "reverse"                         # what a click on "reverse" does
    assert data_mode(w) == "reverse"
    assert w.table.value != fwd_table and w.graph.value != fwd_png
    assert "16.7781" in w.table.value and "8.8052" in w.table.value     # adjoints of x1, x2
    assert w.step.value == w.step.max                                    # finished sweep
    assert "reverse pass" in w.jacobian.value


def test_stepping_changes_table_graph_and_label(w):
    w.mode.value = "reverse"
    seen_tables, seen_pngs, labels = set(), set(), []
    for s in range(w.step.max + 1):
        w.step.value = s
        seen_tables.add(w.table.value)
        seen_pngs.add(w.graph.value)
        labels.append(w.step_label.value)
    assert len(seen_tables) == w.step.max + 1 and len(seen_pngs) == w.step.max + 1
    assert labels[0].startswith("step 0 of") and "finished" in labels[-1]
    assert w.play.max == w.step.max


def test_jacobian_fills_column_by_column_and_row_by_row():
    e = adnb.explore_cell(BOOK2, {"x1": 1.0, "x2": 2.0}, outputs="f1,f2")
    w = e.widget(graph=False)
    assert "1 of 2 forward passes" in w.jacobian.value          # seed e1 finished
    w.step.value = 0
    assert "0 of 2 forward passes" in w.jacobian.value
    w.seed.value = ("unit", 1)
    assert "2 of 2 forward passes" in w.jacobian.value
    assert "30.897" in w.jacobian.value and "18.523" in w.jacobian.value
    w.mode.value = "reverse"
    assert "1 of 2 reverse passes" in w.jacobian.value and "row by row" in w.jacobian.value
    w.seed.value = ("unit", 1)
    assert "2 of 2 reverse passes" in w.jacobian.value


def test_seed_choice_and_custom_vector():
    w = adnb.explore(book, 1.0, 2.0).widget(graph=False)
    labels = [lab for lab, _ in w.seed.options]
    assert labels == ["ẋ = e1 (x1)", "ẋ = e2 (x2)", "custom vector…"]
    w.seed.value = ("unit", 1)
    assert "e2 (x2)" in w.table.value
    w.custom.value = "1, -1"                          # J r in one pass (eq. 8.67)
    assert w.seed.value == ("custom", None)
    assert "J r" in w.jacobian.value and "7.9729" in w.jacobian.value
    w.mode.value = "reverse"
    assert [lab for lab, _ in w.seed.options] == ["ȳ = e1 (f)", "custom vector…"]
    w.custom.value = "oops"
    assert "not a list of numbers" in w.error.value and w.error.layout.display is None


def test_input_slider_retraces_and_leaves_the_namespace_alone():
    ns = {"np": np}
    code = "if x > 0:\n    y = x * x\nelse:\n    y = np.sin(x)\n"
    e = adnb.explore_cell(code, {"x": 1.0}, namespace=ns)
    w = e.widget(graph=False)
    (slider,) = w.inputs.children
    assert "v1 v1" in w.table.value or "v1 · v1" in w.table.value or "v1 v1" in str(e.trace)
    slider.value = -1.0                               # the other branch: a new trace
    assert w.exploration is not e and w.exploration.inputs["x"] == -1.0
    assert "sin" in w.table.value and "x = -1" in w.title.value
    np.testing.assert_allclose(w.exploration.jacobian, [[np.cos(-1.0)]], rtol=1e-12)
    assert ns["x"] == 1.0 and ns["y"] == 1.0          # re-runs happen in a copy


def test_callback_errors_are_shown_not_swallowed():
    e = adnb.explore_cell("if x > 1.2:\n    raise ValueError('too big')\ny = x * 2\n", {"x": 1.0})
    w = e.widget(graph=False)
    w.inputs.children[0].value = 1.5
    assert "ValueError: too big" in w.error.value and w.error.layout.display is None
    assert w.exploration is e                          # the last good trace stays
    w.inputs.children[0].value = 1.1
    assert w.error.value == "" and w.error.layout.display == "none"


def test_warnings_are_shown():
    e = adnb.explore_cell("y = np.sqrt(x)", {"x": 1.0})
    w = e.widget(graph=False)
    w.inputs.children[0].value = 0.0                  # d/dx sqrt at 0 is infinite
    assert "Warning" in w.error.value


def test_static_fallback_mimebundle(w):
    w.mode.value = "reverse"
    b = w._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in b
    assert b["text/plain"] == w.exploration.to_text() and "0x" not in b["text/plain"]
    assert "adnb-trace" in b["text/html"] and "data:image/png;base64," in b["text/html"]
    assert 'data-mode="reverse"' in b["text/html"] or "data-mode='reverse'" in b["text/html"]


def test_background_graph_and_prefetch():
    w = adnb.explore(book, 1.0, 2.0).widget()         # background=True (the default)
    first = w.graph.value
    assert first[:4] == b"\x89PNG"                     # the first frame is drawn at once
    w.mode.value = "reverse"
    assert data_mode(w) == "reverse"                   # the table does not wait for the graph
    assert w.wait_graph(60) and w.graph.value != first
    w.step.value = 2
    assert w.wait_graph(60)
    deadline = time.time() + 60
    while len(w._png_cache) < w.step.max + 2 and time.time() < deadline:
        time.sleep(0.05)                               # prefetch fills the sweep's frames
    assert len(w._png_cache) >= w.step.max + 2


def test_step_update_is_fast_for_the_book_example():
    w = adnb.explore(book, 1.0, 2.0).widget()
    w.mode.value = "reverse"
    times = []
    for s in range(w.step.max + 1):
        t = time.perf_counter()
        w.step.value = s                              # table, label, Jacobian; graph in background
        times.append(time.perf_counter() - t)
    # budget 100 ms; generous here because CI machines are shared
    assert statistics.median(times) < 0.1, times


def test_rejects_non_explorations():
    with pytest.raises(TypeError, match="adnb.Exploration"):
        TraceExplorer(book)
