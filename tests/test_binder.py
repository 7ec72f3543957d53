"""binder/: the repo2docker configuration that puts the course on mybinder.org.

Binder cannot be reached from CI, so the configuration is proved locally, the way repo2docker
uses it (requirements.txt buildpack):

1. copy the repository (repo2docker copies it into the image; building in place would leave
   ``build/`` behind in the working tree);
2. a fresh virtual environment with the Python of ``binder/runtime.txt``;
3. ``pip install -r binder/requirements.txt`` from the repository root;
4. ``binder/postBuild`` run from the repository root (it installs adnb);
5. every notebook executed with nbclient *in that environment* (its own ``python3`` kernel), with
   the checks of ``tests/test_notebooks.py``: no error output, no stderr, under 60 s each;
6. the JupyterLab widget front end (``jupyterlab_widgets``, the ``@jupyter-widgets/jupyterlab-
   manager`` lab extension) must be a compatible pair with the kernel's ``ipywidgets``;
7. what a student on Binder sees: JupyterLab started *from that environment* (server and kernel;
   Playwright and Debian's chromium drive it from this process) opens
   ``notebooks/02_evaluation_traces.ipynb`` in the copy, runs all cells (no error, no stderr),
   and its ``%%autodiff`` explorer shows the book's trace and, after a click on *reverse*, the
   adjoint ∂f/∂x2 = 8.8052… in table and graph -- the steps of ``tests/browser/test_lab.py``
   (``labtools.drive_explorer``). Skipped without chromium or playwright.

Steps 2-7 need the package index and take minutes, so they run only with ``ADNB_BINDER_TEST=1``
(marked ``slow``). The static checks of the configuration at the top always run.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_notebooks as T  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"
ENABLED = os.environ.get("ADNB_BINDER_TEST") == "1"
sys.path.insert(0, str(ROOT / "tests" / "browser"))
import labtools  # noqa: E402  (standard library only; the browser parts import playwright lazily)


def requirements():
    pins = {}
    for line in (BINDER / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.+\-]+)", line)
            assert m, f"binder/requirements.txt: {line!r} is not pinned as name==version"
            pins[m.group(1).lower().replace("_", "-")] = m.group(2)
    return pins


# ---- static checks (always) ----------------------------------------------------------------------

def test_runtime_is_python_311():
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"


def test_requirements_pin_the_kernel_and_the_lab():
    pins = requirements()
    import tomllib
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    needed = {re.split(r"[<>=!~\[ ;]", d, maxsplit=1)[0].lower().replace("_", "-") for d in deps}
    needed |= {"sympy", "ipykernel", "jupyterlab", "jupyterlab-widgets"}
    assert needed <= set(pins), f"not pinned in binder/requirements.txt: {sorted(needed - set(pins))}"


def test_post_build_installs_adnb_and_is_executable():
    post = BINDER / "postBuild"
    assert os.access(post, os.X_OK), "binder/postBuild must be executable (git: mode 100755)"
    text = post.read_text()
    assert text.startswith("#!/bin/bash") and re.search(r"pip install .*--no-deps.* \.", text)


# ---- the environment, built as repo2docker would ----------------------------------------------------

def needs_binder_env(test):
    """Slow, and only with ADNB_BINDER_TEST=1: the test builds an environment from the index."""
    skip = pytest.mark.skipif(not ENABLED, reason="builds a Binder environment from the package "
                              "index (minutes): set ADNB_BINDER_TEST=1")
    return pytest.mark.slow(skip(test))


def _run(cmd, **kw):
    res = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    assert res.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res.stdout


@pytest.fixture(scope="module")
def binder_env(tmp_path_factory):
    base = tmp_path_factory.mktemp("binder")
    repo = base / "repo"
    shutil.copytree(ROOT, repo, ignore=shutil.ignore_patterns(
        ".git", "__pycache__", "*.egg-info", "build", "dist", ".ipynb_checkpoints", ".pytest_cache"))
    venv = base / "venv"
    timings = {}
    t0 = time.perf_counter()
    _run([sys.executable, "-m", "venv", venv])          # runtime.txt: python-3.11 (checked below)
    bindir = venv / "bin"
    state = base / "state"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "VIRTUAL_ENV", "JUPYTER", "IPYTHON", "MPL", "CONDA"))}
    env.update(PATH=f"{bindir}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(venv),
               PYTHONNOUSERSITE="1", JUPYTER_CONFIG_DIR=str(state / "config"),
               JUPYTER_DATA_DIR=str(state / "data"), JUPYTER_RUNTIME_DIR=str(state / "runtime"),
               IPYTHONDIR=str(state / "ipython"), MPLCONFIGDIR=str(state / "mpl"))
    py = bindir / "python"
    _run([py, "-m", "pip", "install", "-q", "--upgrade", "pip"], cwd=repo, env=env)
    _run([py, "-m", "pip", "install", "-q", "-r", "binder/requirements.txt"], cwd=repo, env=env)
    timings["requirements"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    _run(["./binder/postBuild"], cwd=repo, env=env)
    timings["postBuild"] = time.perf_counter() - t1
    return dict(repo=repo, venv=venv, py=py, env=env, timings=timings, base=base)


DRIVER = r"""
import json, sys, time
from pathlib import Path
import nbformat
from nbclient import NotebookClient
out_dir, paths = Path(sys.argv[1]), sys.argv[2:]
seconds = {}
for p in map(Path, paths):
    nb = nbformat.read(p, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                            record_timing=False, resources={"metadata": {"path": str(p.parent)}})
    t0 = time.perf_counter()
    client.execute()
    seconds[p.name] = time.perf_counter() - t0
    nbformat.write(nb, out_dir / p.name)
print(json.dumps(seconds))
"""


@needs_binder_env
def test_environment_is_the_pinned_one(binder_env):
    py, env = binder_env["py"], binder_env["env"]
    out = _run([py, "-c", "import sys, json, importlib.metadata as m; print(json.dumps("
                "{'python': '%d.%d' % sys.version_info[:2], 'prefix': sys.prefix, "
                "'dists': {d.metadata['Name'].lower().replace('_', '-'): d.version "
                "for d in m.distributions()}}))"], env=env)
    info = json.loads(out)
    assert info["python"] == "3.11"
    assert Path(info["prefix"]).resolve() == binder_env["venv"].resolve()
    for name, version in requirements().items():
        assert info["dists"].get(name) == version, (name, info["dists"].get(name), version)
    assert info["dists"].get("adnb"), "postBuild did not install adnb"
    print(f"\nbinder env: requirements {binder_env['timings']['requirements']:.0f} s, "
          f"postBuild {binder_env['timings']['postBuild']:.0f} s")


@needs_binder_env
def test_widget_front_end_matches_the_kernel(binder_env):
    """ipywidgets (kernel) requires a jupyterlab_widgets range; the installed one must satisfy it,
    and the lab extension it ships must be enabled and speak the same protocol generation."""
    py, env = binder_env["py"], binder_env["env"]
    check = r"""
import json, sys, importlib.metadata as m
from pathlib import Path
from packaging.requirements import Requirement
import ipywidgets
req = [Requirement(r) for r in m.requires("ipywidgets") if r.startswith("jupyterlab_widgets")][0]
lab_widgets = m.version("jupyterlab_widgets")
pkg = Path(sys.prefix, "share/jupyter/labextensions/@jupyter-widgets/jupyterlab-manager/package.json")
manager = json.loads(pkg.read_text())
print(json.dumps({"ipywidgets": ipywidgets.__version__, "protocol": ipywidgets.__protocol_version__,
                  "spec": str(req.specifier), "ok": req.specifier.contains(lab_widgets),
                  "jupyterlab_widgets": lab_widgets, "manager": manager["version"],
                  "lab_range": manager.get("dependencies", {}).get("@jupyterlab/application", ""),
                  "jupyterlab": m.version("jupyterlab")}))
"""
    info = json.loads(_run([py, "-c", check], env=env))
    assert info["ok"], f"jupyterlab_widgets {info['jupyterlab_widgets']} does not satisfy ipywidgets' {info['spec']}"
    # ipywidgets 8 <-> jupyterlab-manager 5 (widget protocol 2); ipywidgets 7 <-> manager 3 (protocol 2.0)
    assert info["ipywidgets"].split(".")[0] == "8" and info["manager"].split(".")[0] == "5", info
    assert info["protocol"].split(".")[0] == "2", info
    lab_major = info["jupyterlab"].split(".")[0]
    assert f"^{lab_major}." in info["lab_range"], f"manager supports {info['lab_range']}, lab is {info['jupyterlab']}"
    listing = subprocess.run([str(binder_env["venv"] / "bin" / "jupyter"), "labextension", "list"],
                             capture_output=True, text=True, env=env)
    text = re.sub(r"\x1b\[[0-9;]*m", "", listing.stdout + listing.stderr)
    assert re.search(r"@jupyter-widgets/jupyterlab-manager v\S+ enabled OK", text), text


@needs_binder_env
def test_every_notebook_runs_in_the_binder_env(binder_env):
    repo = binder_env["repo"]
    out_dir = binder_env["base"] / "executed"
    out_dir.mkdir()
    paths = sorted(p for p in (repo / "notebooks").glob("*.ipynb") if not p.name.startswith("_"))
    assert len(paths) >= 9
    # the kernel is the environment's own: check before running the course
    probe = repo / "notebooks" / "_probe.ipynb"
    import nbformat
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import sys, adnb; print(sys.prefix); print(adnb.__file__)")]), probe)
    out = _run([binder_env["py"], "-c", DRIVER, out_dir, probe, *paths],
               env=binder_env["env"], cwd=repo / "notebooks", timeout=1800)
    seconds = json.loads(out.strip().splitlines()[-1])
    probe_out = nbformat.read(out_dir / "_probe.ipynb", as_version=4).cells[0].outputs[0].text.split()
    assert Path(probe_out[0]).resolve() == binder_env["venv"].resolve(), probe_out
    assert "site-packages" in probe_out[1], f"adnb imported from {probe_out[1]}, not the installed package"
    failures = []
    for p in paths:
        nb = nbformat.read(out_dir / p.name, as_version=4)
        failures += [f"{p.name}: {f}" for f in T.problems(nb)]
        if seconds[p.name] >= T.TIME_LIMIT:
            failures.append(f"{p.name}: {seconds[p.name]:.1f} s")
    print("\n" + ", ".join(f"{k} {v:.1f} s" for k, v in seconds.items()))
    assert not failures, "\n".join(failures)


# ---- step 7: the notebook in JupyterLab from the Binder environment, in a real browser ------------

BROWSER_NOTEBOOK = "notebooks/02_evaluation_traces.ipynb"
# its explorer cell: %%autodiff x1=1.0 x2=2.0, v3..v7 as in eqs. (8.50)-(8.56); output v7.
# The primal values v1..v7 the table must show (rows data-node 0..6), as the table rounds them.
BOOK_PRIMALS = ["1", "2", "2", "0.909297", "7.38906", "1.0907", "8.47976"]
KERNEL_PROBE = r"""
import json, sys, adnb, ipywidgets.widgets.widget as _w
from adnb.widgets.explorer import TraceExplorer as _TE
print(json.dumps({"prefix": sys.prefix, "executable": sys.executable, "adnb": adnb.__file__,
                  "modes": [w.mode.value for w in list(_w._instances.values())
                            if isinstance(w, _TE)]}))
"""


def _has_playwright():
    try:
        return importlib.util.find_spec("playwright.sync_api") is not None
    except (ImportError, ValueError):
        return False


def _needs_browser(test):
    """Marked ``browser``; skipped before the environment is built without chromium or playwright
    (Playwright runs in this process; only the server and the kernel come from the Binder env)."""
    return pytest.mark.browser(pytest.mark.skipif(
        labtools.chromium_path() is None or not _has_playwright(),
        reason="needs Debian's chromium (apt-get install chromium) and playwright (pip)")(test))


@needs_binder_env
@_needs_browser
def test_notebook_in_jupyterlab_from_the_binder_env(binder_env):
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    from playwright.sync_api import expect
    import nbformat
    repo, venv, py = binder_env["repo"], binder_env["venv"], binder_env["py"]
    assert (repo / BROWSER_NOTEBOOK).is_file()
    timings = {}
    kernel_seen = {}

    def after_run_all(page, widget):
        # every cell ran and none wrote an error or to stderr (as tests/test_notebooks.py checks)
        # (the cells only: Lab's JSON has nulls, e.g. ``attachments``, that nbformat rejects)
        nb = nbformat.from_dict({"cells": labtools.notebook_json(page)["cells"]})
        not_run = [i for i, c in enumerate(nb.cells)
                   if c.cell_type == "code" and c.get("execution_count") is None]
        assert not not_run, f"cells not run by Run All: {not_run}"
        problems = T.problems(nb)
        assert not problems, "\n".join(problems)
        # the explorer's table holds the trace of the book's example with its primal values
        table = widget.locator(".adnb-table table.adnb-trace")
        expect(table).to_have_attribute("data-rows", str(len(BOOK_PRIMALS)))
        for i, value in enumerate(BOOK_PRIMALS):
            row = table.locator(f'tr[data-node="{i}"]')
            expect(row.locator("td.adnb-label")).to_have_text(f"v{i + 1}")
            expect(row.locator("td.adnb-num").first).to_have_text(value)

    def kernel_check(page, mode):
        # the notebook's own kernel (not a cell: the notebook stays as the student has it)
        out = labtools.kernel_execute(page, KERNEL_PROBE)
        info = json.loads(out.strip().splitlines()[-1])
        kernel_seen.update(info)
        assert Path(info["prefix"]).resolve() == venv.resolve(), info
        assert Path(info["executable"]).parent.resolve() == (venv / "bin").resolve(), info
        assert Path(info["adnb"]).resolve().is_relative_to(venv.resolve()), info
        assert info["modes"] == [mode], info

    t_all = time.perf_counter()
    lab = labtools.LabServer(repo, python=py, env=binder_env["env"], inherit_env=False)
    t0 = time.perf_counter()
    lab.__enter__()
    try:
        timings["lab_start"] = time.perf_counter() - t0
        # the server itself is the Binder environment's JupyterLab
        argv = Path(f"/proc/{lab.pid}/cmdline").read_bytes().split(b"\0")
        assert argv[0].decode() == str(py) and argv[1:3] == [b"-m", b"jupyterlab"], argv
        lab.drop_sessions()
        with labtools.chromium_page() as page:
            labtools.drive_explorer(page, lab, BROWSER_NOTEBOOK, output_node=7,
                                    after_run_all=after_run_all, kernel_check=kernel_check,
                                    timings=timings, shots=os.environ.get("ADNB_BROWSER_SHOTS"))
        sessions = lab.api("GET", "/api/sessions")
        assert all(s["kernel"]["name"] == "python3" for s in sessions), sessions
    except Exception:
        print("---- jupyter lab log ----\n" + lab.log_tail())
        raise
    finally:
        lab.__exit__(None, None, None)
    assert not lab.stray, f"processes left by the server (killed): {lab.stray}"
    timings["total"] = time.perf_counter() - t_all
    print(f"\nkernel: {kernel_seen.get('executable')} (prefix {kernel_seen.get('prefix')})")
    print("binder browser timings (s):", {k: round(v, 2) for k, v in timings.items()})
