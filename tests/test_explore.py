"""adnb.explore / adnb.explore_cell: the plain Python API behind %%autodiff.

Golden numbers are the book's example (8.49) + (8.65) at the Exercise 8.17 point (1, 2), from
/work/shared/reference/bishop-ch8.md §10.1.
"""
import subprocess
import sys

import numpy as np
import pytest

import adnb
from adnb.explore import Exploration, ExploreUsageError

J_BOOK = np.array([[16.7781121978613, 8.805202935477793],
                   [30.8966371987274, 18.523250920003058]])
BOOK_CELL = ("v3 = x1 * x2\n"
             "f1 = v3 + np.exp(v3) - np.sin(x2)\n"
             "f2 = (v3 - np.sin(x2)) * np.exp(v3)\n")


def book_f(x1, x2):
    return x1 * x2 + np.exp(x1 * x2) - np.sin(x2)


def test_explore_function_book_values():
    e = adnb.explore(book_f, 1.0, 2.0)
    assert isinstance(e, Exploration)
    np.testing.assert_allclose(e.jacobian, J_BOOK[:1], rtol=1e-12)
    assert e.shape == (1, 2) and e.passes == {"forward": 2, "reverse": 1}
    assert list(e.inputs) == ["x1", "x2"]
    # one forward pass per input, one reverse pass for the single output
    assert e.forward.passes == 2 and e.reverse.passes == 1
    np.testing.assert_allclose(e.reverse.gradient(0), J_BOOK[0], rtol=1e-12)
    np.testing.assert_allclose([e.forward.output_tangents(s)[0] for s in range(2)], J_BOOK[0],
                               rtol=1e-12)


def test_explore_cell_two_outputs_and_namespace():
    calls = []
    ns = {"np": np, "keep": object(), "calls": calls, "x1": "old"}
    before = dict(ns)
    e = adnb.explore_cell(BOOK_CELL + "calls.append(1)\n", {"x1": 1.0, "x2": 2},
                          outputs="f1,f2", namespace=ns)
    assert calls == [1]                                 # ran exactly once
    np.testing.assert_allclose(e.jacobian, J_BOOK, rtol=1e-12)
    for k in ("np", "keep", "calls"):
        assert ns[k] is before[k]                       # untouched
    for k in ("x1", "x2", "v3", "f1", "f2"):
        assert type(ns[k]) is float, k                  # plain values, not traced
    assert ns["x1"] == 1.0 and ns["x2"] == 2.0
    assert set(ns) - set(before) == {"x2", "v3", "f1", "f2", "__builtins__"}
    assert e.outputs == {"f1": ns["f1"], "f2": ns["f2"]}


def test_default_output_is_last_assignment_and_tuples():
    ns = {"np": np}
    e = adnb.explore_cell("a = x * 2\nb, c = a + 1, a * a\n", {"x": 3.0}, namespace=ns)
    assert list(e.outputs) == ["b", "c"]
    assert ns["b"] == 7.0 and ns["c"] == 36.0
    e = adnb.explore_cell("y = x\nfor i in range(3):\n    y = y * x\n", {"x": 2.0})
    assert list(e.outputs) == ["y"] and e.outputs["y"] == 16.0
    np.testing.assert_allclose(e.jacobian, [[4 * 2.0 ** 3]])


def test_outputs_checked_before_the_cell_runs():
    calls = []
    with pytest.raises(ExploreUsageError, match="not assigned"):
        adnb.explore_cell("calls.append(1)\ny = x", {"x": 1.0}, outputs="z",
                          namespace={"calls": calls})
    with pytest.raises(ExploreUsageError, match="assigns no variable"):
        adnb.explore_cell("calls.append(1)", {"x": 1.0}, namespace={"calls": calls})
    with pytest.raises(ExploreUsageError, match="mode"):
        adnb.explore_cell("y = x", {"x": 1.0}, mode="sideways")
    with pytest.raises(ExploreUsageError, match="show"):
        adnb.explore_cell("y = x", {"x": 1.0}, show="table,nope")
    assert calls == []


def test_error_in_cell_restores_plain_values():
    ns = {"np": np}
    with pytest.raises(ZeroDivisionError):
        adnb.explore_cell("y = x * 2\nz = 1 / 0\n", {"x": 1.5}, namespace=ns)
    assert type(ns["x"]) is float and type(ns["y"]) is float and "z" not in ns


def test_cell_traceback_points_at_the_cell_line():
    import traceback
    try:
        adnb.explore_cell("y = x * 2\nz = undefined_name\n", {"x": 1.0}, outputs="y")
    except NameError as err:
        frames = traceback.extract_tb(err.__traceback__)
    last = frames[-1]
    assert last.lineno == 2 and last.line == "z = undefined_name"


def test_functions_defined_in_the_cell_see_the_namespace():
    ns = {"np": np, "scale": 3.0}
    e = adnb.explore_cell("def g(t):\n    return np.sin(t) * scale\ny = g(x)\n", {"x": 0.5},
                          namespace=ns)
    np.testing.assert_allclose(e.jacobian, [[3.0 * np.cos(0.5)]], rtol=1e-12)
    assert ns["g"](0.0) == 0.0


def test_array_inputs_count_element_by_element():
    ns = {"np": np}
    e = adnb.explore_cell("y = np.sin(x) * x[0]", {"x": [1.0, 2.0, 3.0]}, namespace=ns)
    assert e.shape == (3, 3)
    assert e.input_layout.labels == ["x[0]", "x[1]", "x[2]"]
    ref = adnb.jacfwd(lambda x: np.sin(x) * x[0])(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(e.jacobian, ref, rtol=1e-12)
    assert isinstance(ns["x"], np.ndarray) and isinstance(ns["y"], np.ndarray)
    assert len(e.forward_seeds) == 3 and e.forward_seeds[1].label == "ẋ = e2 (x[1])"


def test_seeds_names_vectors_and_errors():
    e = adnb.explore_cell(BOOK_CELL, {"x1": 1.0, "x2": 2.0}, outputs=["f1", "f2"],
                          tangent_seed=[1, -1], output_seed=[1, 2])
    # J r in one forward pass (eq. 8.67), uᵀJ in one reverse pass (§10.1)
    np.testing.assert_allclose(e.output_tangent(e.forward_seeds[0]),
                               [7.972909262383508, 12.373386278724341], rtol=1e-12)
    np.testing.assert_allclose(e.input_adjoint(e.reverse_seeds[0]),
                               [78.5713865953161, 45.85170477548391], rtol=1e-12)
    assert e.forward.passes == 1 and e.reverse.passes == 1
    e = adnb.explore_cell(BOOK_CELL, {"x1": 1.0, "x2": 2.0}, outputs="f1,f2",
                          tangent_seed="x2", output_seed="f2")
    assert [s.unit for s in e.forward_seeds] == [1] and [s.unit for s in e.reverse_seeds] == [1]
    with pytest.raises(ExploreUsageError, match="needs 2 number"):
        adnb.explore_cell("y = x1 * x2", {"x1": 1.0, "x2": 2.0}, tangent_seed=[1, 2, 3])
    with pytest.raises(ExploreUsageError, match="not an input"):
        adnb.explore_cell("y = x1 * x2", {"x1": 1.0, "x2": 2.0}, tangent_seed="x3")


def test_at_retraces_another_path_without_touching_the_namespace():
    ns = {"np": np}
    code = "if x > 0:\n    y = x * x\nelse:\n    y = np.sin(x)\n"
    e = adnb.explore_cell(code, {"x": 1.0}, namespace=ns)
    e2 = e.at(x=-1.0)
    assert ns["x"] == 1.0 and ns["y"] == 1.0            # the re-run used a copy
    assert [n.formula() for n in e.trace.nodes][-1] == "v1 v1"
    assert [n.formula() for n in e2.trace.nodes][-1] == "sin(v1)"
    np.testing.assert_allclose(e2.jacobian, [[np.cos(-1.0)]], rtol=1e-12)
    f = adnb.explore(book_f, 1.0, 2.0).at(2.0, 5.0)
    np.testing.assert_allclose(f.outputs["f"], 22037.42471908138, rtol=1e-12)


def test_cost_summary_within_the_six_times_bound():
    e = adnb.explore(book_f, 1.0, 2.0)
    c = e.cost
    assert c.primal_ops == e.trace.n_ops == 6
    for mode in ("forward", "reverse"):
        assert 0 < c.ratio(mode) <= 6
    assert "ops per primal op" in c.to_html()


def test_rendering_static_and_interactive():
    e = adnb.explore(book_f, 1.0, 2.0, show="table,graph,cost")
    bundle = e._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html"}
    text = bundle["text/plain"]
    assert "16.7781" in text and "8.8052" in text and "0x" not in text
    assert text == e.to_text()                      # deterministic
    h = bundle["text/html"]
    assert 'class="adnb-trace"' in h or "class='adnb-trace'" in h
    assert '<div class="adnb-graph"><svg' in h and 'data-node="v7"' in h and "adnb-cost" in h
    pytest.importorskip("ipywidgets")
    e.interactive = True
    bundle = e._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle and "text/html" in bundle
    assert e.widget() is e.widget()


def test_import_adnb_does_not_import_ipython_or_widgets():
    code = ("import sys\n"
            "for m in ('IPython', 'ipywidgets', 'matplotlib'):\n"
            "    sys.modules[m] = None\n"
            "import adnb, numpy as np\n"
            "e = adnb.explore_cell('y = x * x', {'x': 3.0}, show='table')\n"
            "assert e.jacobian[0, 0] == 6.0\n"
            "print(e.to_text().splitlines()[0])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


# ---- issue 14: the cell's output, the notebook stays the user's, messages, long traces --------


def test_last_bare_expression_is_the_output():
    # IPython's rule: the cell's value is its last bare expression, not the last assignment
    e = adnb.explore_cell("v = x1 * x2\nv + np.sin(x2)\n", {"x1": 1.0, "x2": 2.0})
    assert list(e.outputs) == ["out"] and e.output_source == "expression"
    np.testing.assert_allclose(e.jacobian, [[2.0, 1.0 + np.cos(2.0)]], rtol=1e-15)
    # ';' silences it, and print()/append() are done for their effect: the last assignment
    for tail in ("v + np.sin(x2);\n", "print(v)\n", "hist.append(v)\n"):
        e = adnb.explore_cell("v = x1 * x2\n" + tail, {"x1": 1.0, "x2": 2.0},
                              namespace={"np": np, "hist": []})
        assert list(e.outputs) == ["v"], tail
        np.testing.assert_allclose(e.jacobian, [[2.0, 1.0]], rtol=0)
    # a call that gives None falls back to the last assignment too
    e = adnb.explore_cell("v = x * 3\nnoop(v)\n", {"x": 1.0},
                          namespace={"noop": lambda v: None})
    assert list(e.outputs) == ["v"] and e.jacobian[0, 0] == 3.0


def test_dict_and_tuple_outputs_are_all_their_leaves():
    e = adnb.explore_cell("d = {'a': x * 2, 'b': (x * 3, np.sin(x))}", {"x": 0.5})
    assert list(e.outputs) == ["d['a']", "d['b'][0]", "d['b'][1]"]
    np.testing.assert_allclose(e.jacobian[:, 0], [2.0, 3.0, np.cos(0.5)], rtol=1e-15)
    assert not np.any(e.jacobian == 0)
    e = adnb.explore_cell("x * 2, x ** 2", {"x": 3.0})
    np.testing.assert_allclose(e.jacobian[:, 0], [2.0, 6.0], rtol=1e-15)


@pytest.mark.parametrize("code, what", [("s = 'hello' + str(x)", "str"),
                                        ("y = None", "None"),
                                        ("y = {'a': 'b'}", "str"),
                                        ("y = object()", "object")])
def test_non_numeric_output_says_so(code, what):
    from adnb.cell import CellOutputError
    with pytest.raises(CellOutputError, match=f"is (a |){what}.*no derivative"):
        adnb.explore_cell(code, {"x": 1.0})


def test_values_stored_into_existing_objects_are_plain_afterwards():
    class Box:
        pass

    def make_setter():
        cell = [None]

        def keep(v):
            nonlocal cell
            cell = v
        return keep, lambda: cell

    keep, kept = make_setter()
    hist, o, d = [], Box(), {}
    ns = {"np": np, "hist": hist, "o": o, "d": d, "keep": keep}
    e = adnb.explore_cell("y = np.sin(x) * x\nhist.append(y)\no.v = y\nd['y'] = y\nkeep(y)\n"
                          "z = y + 1", {"x": 0.7}, namespace=ns)
    y = np.sin(0.7) * 0.7
    for got in (hist[0], o.v, d["y"], kept()):
        assert type(got) is float and got == y
    assert ns["hist"] is hist and ns["o"] is o       # the same objects, now holding numbers
    assert e.side_effects and e.side_effects.objects == 4
    # the cell's own new objects are not side effects
    e = adnb.explore_cell("acc = []\nacc.append(x * 2)\ny = acc[0]", {"x": 1.0})
    assert not e.side_effects and e.side_effects.objects == 0


def test_globals_changed_through_a_function_are_side_effects():
    ns = {"np": np, "count": 0}
    exec("def bump():\n    global count\n    count += 1\n", ns)
    e = adnb.explore_cell("bump()\ny = x * 2", {"x": 1.0}, namespace=ns)
    assert ns["count"] == 1 and e.side_effects.names == ["count"]
    assert "count" in e.side_effects.describe()


def test_math_italic_input_names_read_as_python_reads_them():
    ns = {"np": np, "x": 100.0}
    e = adnb.explore_cell("y = x * 3", {"𝑥": 2.0}, namespace=ns)   # 𝑥: U+1D465 from a PDF
    assert list(e.inputs) == ["x"] and e.outputs["y"] == 6.0 and e.jacobian[0, 0] == 3.0
    assert ns["x"] == 2.0 and "𝑥" not in ns
    with pytest.raises(ExploreUsageError, match="given twice"):
        adnb.explore_cell("y = x", {"x": 1.0, "𝑥": 2.0})


def _error_of(code, ns=None):
    with pytest.raises(adnb.ADNBError) as info:
        adnb.explore_cell(code, {"x": 1.0}, namespace=ns or {"np": np})
    return info.value


def test_math_sin_message_leads_with_the_users_line_and_hides_adnb_frames():
    import math
    import traceback
    err = _error_of("y = x * 2\nz = math.sin(y)\n", {"np": np, "math": math})
    assert isinstance(err, adnb.CutDerivativeError)
    first, second = str(err).splitlines()[:2]
    assert first.endswith("line 2: z = math.sin(y)")
    assert second.startswith("math.sin() was called on a traced value") and "np.sin" in second
    last = traceback.extract_tb(err.__traceback__)[-1]
    assert last.filename.startswith("<autodiff-cell-") and last.line == "z = math.sin(y)"


def test_buffer_write_gets_its_own_message():
    err = _error_of("b = np.zeros(2)\nb[0] = x\ny = b.sum()\n")
    assert isinstance(err, adnb.CutDerivativeError)
    assert "b[0] = x" in str(err).splitlines()[0]
    assert "written into the numpy array 'b'" in str(err) and "math" not in str(err)
    assert "np.stack" in str(err)


def test_user_exceptions_pass_through_unchanged():
    with pytest.raises(ZeroDivisionError) as info:
        adnb.explore_cell("y = x / 0.0 if False else 1 / 0", {"x": 1.0})
    assert str(info.value) == "division by zero"


def test_long_trace_text_formats_only_the_rows_shown():
    from adnb.display import exploration as dx
    code = "for i in range(3000):\n    x = np.sin(x) * 0.9 + 0.1\ny = x"
    e = adnb.explore_cell(code, {"x": 0.3})
    calls = []
    real = dx.fmt_value

    def counted(v, *a):
        calls.append(1)
        return real(v, *a)
    dx.fmt_value = counted
    try:
        text = e.to_text()
    finally:
        dx.fmt_value = real
    assert e.trace.n_ops == 9000 and len(e.trace.nodes) == 9001
    rows = dx.TEXT_HEAD + dx.TEXT_TAIL
    assert len(calls) < rows * 4 + 20            # value, tangent and adjoint per shown row
    assert f"{9001 - rows} rows not shown" in text
    assert text.splitlines()[-2].startswith("Jacobian") or "Jacobian" in text


def test_code_view_is_folded_and_the_full_code_is_one_call_away():
    from adnb.display import adjoint_code, tangent_code
    code = "for i in range(2000):\n    x = np.sin(x) * 0.9\ny = x"
    e = adnb.explore_cell(code, {"x": 0.3}, show="code")
    h = e.to_html()
    assert len(h.encode()) < 60_000
    assert h.count("3925 operations not shown") == 2 and "3926 adjoints not shown" in h
    full = tangent_code(e.trace)
    assert full.count("_dot = ") == 4001 and "not shown" not in full
    assert "v4001_bar" in adjoint_code(e.trace)


def test_plurals():
    e = adnb.explore_cell("y = np.sin(x)", {"x": 1.0})
    assert "1 operation ·" in e.title() and "1 forward pass or 1 reverse pass" in e.title()
    assert "pass(es)" not in e.to_text() and "1 passes" not in e.to_text()
    assert "1 forward pass or 1 reverse pass" in e.to_text()
    assert repr(e) == "<adnb Exploration: 1 input, 1 operation, 1 output; J is 1×1>"
    e2 = adnb.explore(book_f, 1.0, 2.0, show="cost")
    assert "2 forward passes" in e2.title() and "1 pass" in e2.cost.to_text()


def test_layers_explore_split_has_no_cycles_or_private_imports():
    import ast
    import pathlib
    root = pathlib.Path(adnb.__file__).parent
    for rel in ("cell.py", "exploration.py", "display/exploration.py", "widgets/explorer.py"):
        src = (root / rel).read_text()
        assert len(src.splitlines()) <= 900, rel
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.ImportFrom):
                names = [a.name for a in node.names]
                assert not any(n.startswith("_") for n in names), (rel, names)
                mod = node.module or ""
                if rel in ("cell.py", "exploration.py"):
                    assert "display" not in mod and "widgets" not in mod or \
                        node.col_offset > 0, (rel, mod)   # only lazy hooks inside methods
                if rel == "display/exploration.py":
                    assert not mod.startswith(("..", "adnb")) or mod.startswith("..core"), mod
                if rel == "widgets/explorer.py":
                    assert mod not in ("..explore", "..cell"), mod


def test_a_bare_name_on_the_last_line_keeps_its_name():
    e = adnb.explore_cell("y = x * 2\nz = y * 3\ny", {"x": 1.0})
    assert list(e.outputs) == ["y"] and e.jacobian[0, 0] == 2.0
