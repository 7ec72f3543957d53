"""%%autodiff / %autodiff through IPython's InteractiveShell, in process (no kernel).

Each scenario also runs through the plain call the magic is sugar for, and both must agree.
"""
import re

import numpy as np
import pytest

IPython = pytest.importorskip("IPython")
from IPython.core.error import UsageError  # noqa: E402
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402

import adnb  # noqa: E402
from adnb.explore import Exploration  # noqa: E402

J_BOOK = np.array([[16.7781121978613, 8.805202935477793]])
BOOK = "y = x1 * x2 + np.exp(x1 * x2) - np.sin(x2)\n"


@pytest.fixture(scope="module")
def ip():
    shell = InteractiveShell.instance()
    shell.run_line_magic("colors", "nocolor")
    shell.run_line_magic("load_ext", "adnb")
    yield shell
    shell.run_line_magic("unload_ext", "adnb")
    InteractiveShell.clear_instance()


@pytest.fixture
def ns(ip):
    ip.run_cell("import numpy as np")
    for k in ("x", "x1", "x2", "y", "z", "a", "f1", "f2", "calls"):
        ip.user_ns.pop(k, None)
    return ip.user_ns


def magic(ip, line, cell=None):
    if cell is None:
        return ip.run_line_magic("autodiff", line)
    return ip.run_cell_magic("autodiff", line, cell)


def test_cell_magic_equals_plain_call(ip, ns):
    e = magic(ip, "-o x1=1.0 x2=2.0", BOOK)
    ref = adnb.explore_cell(BOOK, {"x1": 1.0, "x2": 2.0}, namespace={"np": np})
    assert isinstance(e, Exploration)
    np.testing.assert_allclose(e.jacobian, J_BOOK, rtol=1e-12)
    np.testing.assert_allclose(e.jacobian, ref.jacobian, rtol=0)
    assert e.to_text().splitlines()[1:] == ref.to_text().splitlines()[1:]
    assert e.interactive and e.mode == "both" and e.show == ("table", "graph")


def test_namespace_untouched_and_cell_runs_once(ip, ns):
    ns["calls"] = calls = []
    ns["keep"] = keep = object()
    ns["x1"] = "a string the magic replaces"
    before = {k: v for k, v in ns.items()}
    magic(ip, "x1=1.0 x2=np.float64(2)", "a = x1 * x2\ncalls.append(a)\n" + BOOK)
    # ran once; the value it stored into an existing list is a plain number afterwards
    assert len(calls) == 1 and type(calls[0]) is float and calls[0] == 2.0
    changed = {k for k in ns if k not in before or ns[k] is not before[k]}
    assert changed == {"x1", "x2", "a", "y"}
    assert ns["keep"] is keep and ns["calls"] is calls
    for k in ("x1", "x2", "a", "y"):
        assert type(ns[k]) is float, k
    assert ns["y"] == pytest.approx(8.47975867210497, rel=1e-12)


def test_without_o_it_displays_and_returns_none(ip, ns, capsys):
    assert magic(ip, "--static x=2.0", "y = x * x") is None
    out = capsys.readouterr().out
    assert "In[" in out and "J is 1×1" in out


def test_array_inputs_brackets_and_seed_vector(ip, ns):
    e = magic(ip, "-o -m forward --seed-in [1,-1] x=np.array([1.0, 2.0])",
              "y = np.sum(np.sin(x) * x)")
    assert e.mode == "forward" and len(e.forward_seeds) == 1
    J = adnb.jacfwd(lambda x: np.sum(np.sin(x) * x))(np.array([1.0, 2.0]))
    np.testing.assert_allclose(e.output_tangent(e.forward_seeds[0]), [J @ [1, -1]], rtol=1e-12)
    assert isinstance(ns["x"], np.ndarray) and type(ns["y"]) in (float, np.float64)
    # spaces inside brackets and quotes stay in one token; no {var} expansion
    e = magic(ip, "-o --seed-out 'y' x=np.array([1.0,  2.0]) w=float({1: 3.0}[1])",
              "y = np.sum(x) * w")
    assert list(e.inputs) == ["x", "w"] and e.inputs["w"] == 3.0


def test_seed_names_and_outputs(ip, ns):
    e = magic(ip, "-o -m reverse --out f1,f2 --seed-out f2 --seed-in x2 x1=1.0 x2=2.0",
              "v3 = x1 * x2\nf1 = v3 + np.exp(v3) - np.sin(x2)\nf2 = (v3 - np.sin(x2)) * np.exp(v3)")
    assert list(e.outputs) == ["f1", "f2"]
    assert [s.unit for s in e.reverse_seeds] == [1] and [s.unit for s in e.forward_seeds] == [1]
    np.testing.assert_allclose(e.input_adjoint(e.reverse_seeds[0]),
                               [30.8966371987274, 18.523250920003058], rtol=1e-12)


@pytest.mark.parametrize("line, cell, expected", [
    ("-m sideways x=1", "y = x", "invalid choice: 'sideways' (choose from 'forward', 'reverse', 'both')"),
    ("--bogus x=1", "y = x", "unrecognized arguments: --bogus; usage: %%autodiff [-m forward|"),
    ("--seed-in -1,1 x=1", "y = x", "--seed-in: expected one argument; usage:"),
    ("--show table,nope x=1", "y = x", "unknown part 'nope'; choose from table, graph, code, cost"),
    ("x", "y = x", "name=value"),
    ("x = 1", "y = x", "name=value"),
    ("", "y = 2", "name the inputs"),
    ("x=undefined_thing", "y = x", "NameError"),
    ("x=(1", "y = x", "unbalanced"),
    ("--out nope x=1", "y = x", "output 'nope' is not assigned"),
    ("--seed-in x9 x=1", "y = x", "forward seed 'x9' is not an input"),
    ("--seed-out [1,2] x=1", "y = x", "needs 1 number"),
    ("x=1", "z = 1", None),      # fine: an output that does not depend on x
])
def test_usage_errors_are_one_line(ip, ns, line, cell, expected):
    if expected is None:
        magic(ip, "-o " + line, cell)
        return
    with pytest.raises(UsageError) as info:
        magic(ip, line, cell)
    msg = str(info.value)
    assert expected in msg and "\n" not in msg


def test_usage_error_comes_before_the_cell_runs(ip, ns):
    ns["calls"] = calls = []
    with pytest.raises(UsageError):
        magic(ip, "-m sideways x=1.0", "calls.append(1)\ny = x")
    with pytest.raises(UsageError):
        magic(ip, "--out nope x=1.0", "calls.append(1)\ny = x")
    assert calls == []


def test_error_in_cell_is_the_users_exception(ip, ns, capsys):
    res = ip.run_cell("%%autodiff x=1.5\ny = 2 * x\nz = undefined_name * x\n")
    assert isinstance(res.error_in_exec, NameError)
    out = capsys.readouterr().out
    # the line number is the notebook cell's (the %%autodiff line is line 1)
    assert "----> 3 z = undefined_name * x" in out and "line 3" in out
    assert "explore.py" not in out and "magics.py" not in out      # internal frames hidden
    assert type(ns["x"]) is float and type(ns["y"]) is float        # plain even after an error


def test_error_in_an_adnb_operation(ip, ns):
    res = ip.run_cell("%%autodiff x=1.5\nimport math\ny = math.sin(x)\n")
    assert isinstance(res.error_in_exec, adnb.CutDerivativeError)
    assert type(ns["x"]) is float


def test_line_magic_explores_a_function(ip, ns):
    ip.run_cell("def f(x1, x2):\n    return x1 * x2 + np.exp(x1 * x2) - np.sin(x2)\n")
    e = magic(ip, "-o f(1.0, 2.0)")
    np.testing.assert_allclose(e.jacobian, J_BOOK, rtol=1e-12)
    # the function's lines are named after its cell, not IPython's temporary file name
    files = {n.loc[0] for n in e.trace.nodes if n.loc}
    assert len(files) == 1 and re.fullmatch(r"In\[\d+\]", files.pop())
    assert list(e.inputs) == ["x1", "x2"] and e.trace.function_name == "f"
    e = magic(ip, "-o -m reverse --static f(*[1.0], x2=2.0)")
    assert e.mode == "reverse" and not e.interactive
    with pytest.raises(UsageError, match="takes a call"):
        magic(ip, "f")
    with pytest.raises(UsageError, match="--out applies to the cell magic"):
        magic(ip, "--out y f(1.0, 2.0)")
    res = ip.run_cell("%autodiff f(1.0)")
    assert isinstance(res.error_in_exec, TypeError)


def test_help_page_is_complete(ip):
    doc = ip.find_cell_magic("autodiff").__doc__
    for part in ("%%autodiff [options] name=value", "%autodiff [options] f(arg, ...)",
                 "exactly once", "adnb.explore_cell(", "adnb.explore(f, 1.0, 2.0",
                 "Examples", "In [2]: %%autodiff x1=1.0 x2=2.0", "-m <{forward,reverse,both}>",
                 "--seed-in SPEC", "--seed-out SPEC", "--show PARTS", "--static", "--out NAMES",
                 "-o"):
        assert part in doc, part
    assert ip.find_line_magic("autodiff").__doc__ == doc


# ---- issue 14 ------------------------------------------------------------------------------


def test_the_magic_provides_np_as_explore_cell_does(ip, ns):
    ns.pop("np", None)
    e = magic(ip, "-o x1=1.0 x2=2.0", "v3 = x1 * x2\nv4 = np.sin(x2)\nf = np.exp(v3) + v3 - v4\n")
    np.testing.assert_allclose(e.jacobian, [[16.7781121978613, 8.805202935477793]], rtol=1e-13)
    assert ns["np"] is np


def test_the_explorer_names_the_cells_own_number(ip, ns):
    # ipykernel 7 counts the next cell before this one runs: execution_count is then one ahead
    # of the number the cell was compiled (and is shown) with
    real_cache = ip.compile.cache

    def cache_then_count(*args, **kwargs):
        name = real_cache(*args, **kwargs)
        ip.execution_count += 1
        return name
    ip.compile.cache = cache_then_count
    try:
        n = ip.execution_count
        res = ip.run_cell("%%autodiff -o --static x=2.0\ny = x * x\nz = np.sin(y)\n",
                          store_history=True)
    finally:
        ip.compile.cache = real_cache
    e = res.result
    assert e.trace.function_name == f"In[{n}]"
    assert e.trace.nodes[1].loc[0] == f"In[{n}]" and e.trace.nodes[1].loc[1] == 2
    assert f"In[{n}]:3" in e.to_html() or f"In[{n}]" in e.to_html()


def test_input_names_from_a_pdf_are_normalised(ip, ns):
    ns["x"] = 100.0
    e = magic(ip, "-o 𝑥=2.0", "y = x * 3\n")
    assert list(e.inputs) == ["x"] and e.jacobian[0, 0] == 3.0 and ns["x"] == 2.0


def test_cell_output_errors_are_one_line_usage_errors(ip, ns):
    with pytest.raises(UsageError, match="output 's' is a str"):
        magic(ip, "x=1.0", "s = 'not a number'\n")


def test_math_sin_through_the_magic_names_the_users_line(ip, ns):
    import math
    import traceback
    ns["math"] = math
    with pytest.raises(adnb.CutDerivativeError) as info:
        magic(ip, "x=1.0", "y = x * 2\nz = math.sin(y)\n")
    assert "line 3: z = math.sin(y)" in str(info.value).splitlines()[0]   # line 1: the magic
    frames = traceback.extract_tb(info.value.__traceback__)
    assert frames[-1].line == "z = math.sin(y)"
    assert not any("adnb" in f.filename and "tracer" in f.filename for f in frames)


def test_rerunning_an_explorer_cell_keeps_memory_flat(ip, ns):
    import gc
    import tracemalloc
    ipywidgets = pytest.importorskip("ipywidgets")
    from ipywidgets.widgets.widget import _instances
    cell = ("%%autodiff x=np.linspace(0.1, 1.0, 40)\nfor i in range(150):\n"
            "    x = np.sin(x) * 0.9 + 0.1 * x\ny = np.sum(x)\n")
    from IPython.utils.capture import capture_output
    before = {k for k, w in _instances.items() if type(w).__name__ == "TraceExplorer"}
    tracemalloc.start()
    try:
        sizes = []
        for _ in range(20):
            with capture_output():
                ip.run_cell(cell).raise_error()
            gc.collect()
            sizes.append(tracemalloc.get_traced_memory()[0])
        one_run = tracemalloc.get_traced_memory()[0]
        explorers = [w for k, w in _instances.items()
                     if type(w).__name__ == "TraceExplorer" and k not in before]
    finally:
        tracemalloc.stop()
    assert len(explorers) == 1                      # the old ones were closed and released
    growth = sizes[-1] - sizes[4]
    assert growth < 1_000_000, [round(s / 1e6, 2) for s in sizes]
    assert one_run > 0 and ipywidgets
