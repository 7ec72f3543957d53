"""Every code block of README.md runs as written and prints what the README says it prints.

* Python blocks with magics (``%load_ext``, ``%%autodiff``) are notebook cells: they run, in
  order, in one fresh kernel, and the explorer's title the prose quotes must be the one shown;
* plain Python blocks run in a fresh interpreter; a line ``expr  # → value …`` must give that
  value (numbers to 14 digits), a ``print(...)  # → a … b`` must print each fragment;
* bash blocks: ``python -m adnb`` runs (its checks say ok); the ``pip install`` commands are run
  by ``.ci/run`` (``.[test,browser]`` from a clean clone) and, for ``.[course]``, by the slow
  test at the end, which builds a fresh virtualenv, installs the course extra and starts the
  README's ``jupyter lab`` command (only with ``ADNB_COURSE_TEST=1``: minutes, needs the index).
"""
from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"^```(\w+)\n(.*?)^```", README, flags=re.S | re.M)


def blocks(kind):
    return [code for lang, code in BLOCKS if lang == kind]


def notebook_cells():
    return [c for c in blocks("python") if re.search(r"^%", c, flags=re.M)]


def python_scripts():
    return [c for c in blocks("python") if not re.search(r"^%", c, flags=re.M)]


def test_the_readme_has_the_blocks_we_check():
    assert len(notebook_cells()) == 2 and len(python_scripts()) == 1
    bash = blocks("bash")
    assert any("python -m adnb" in b for b in bash)
    assert any('pip install -e ".[course]" && jupyter lab notebooks/00_index.ipynb' in b
               for b in bash)
    assert set(lang for lang, _ in BLOCKS) == {"bash", "python"}


# ---- the notebook example, in a fresh kernel -------------------------------------------------


def _run_in_kernel(cells):
    jupyter_client = pytest.importorskip("jupyter_client")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    km, kc = jupyter_client.manager.start_new_kernel(kernel_name="python3", env=env)
    try:
        results = []
        for code in cells:
            msg_id = kc.execute(code)
            outputs, prompt = [], None
            while True:
                msg = kc.get_iopub_msg(timeout=120)
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                kind, content = msg["msg_type"], msg["content"]
                if kind == "execute_input":
                    prompt = content["execution_count"]
                elif kind in ("display_data", "execute_result", "stream", "error"):
                    outputs.append((kind, content))
                elif kind == "status" and content["execution_state"] == "idle":
                    break
            results.append((prompt, outputs))
        return results
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_notebook_example_runs_in_a_fresh_kernel_and_shows_the_title_the_readme_quotes():
    cells = notebook_cells()
    said = re.search(r"under the title\s+`(In\[(\d+)\]:[^`]*)`", README)
    assert said, "the README quotes the explorer's title after the example"
    title = " ".join(said.group(1).split())
    results = _run_in_kernel(cells)
    for prompt, outputs in results:
        errors = [c for k, c in outputs if k == "error" or (k == "stream" and c["name"] == "stderr")]
        assert not errors, errors
    prompt, outputs = results[-1]
    assert prompt == int(said.group(2))          # the cell's own number, as the prose says
    shown = [c["data"] for k, c in outputs if k == "display_data"]
    assert len(shown) == 1
    data = shown[0]
    assert data["text/plain"].splitlines()[0] == title
    assert "application/vnd.jupyter.widget-view+json" in data     # the explorer widget
    assert "adnb-trace" in data["text/html"] and "<svg" in data["text/html"]  # table and graph


# ---- the Python blocks, in a fresh interpreter -----------------------------------------------

_CHECK = r'''
import ast, json, sys, io, contextlib
src = sys.stdin.read()
tree = ast.parse(src)
ns = {"__name__": "__main__"}
lines = src.splitlines()
results = []
for stmt in tree.body:
    code = compile(ast.Module([stmt], []), "<readme>", "exec")
    comment = lines[stmt.end_lineno - 1].partition("# →")[2].strip()
    if isinstance(stmt, ast.Expr):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            value = eval(compile(ast.Expression(stmt.value), "<readme>", "eval"), ns)
        results.append({"line": stmt.lineno, "comment": comment, "stdout": out.getvalue(),
                        "value": repr(value)})
    else:
        exec(code, ns)
print(json.dumps(results))
'''


def _expected_value(comment):
    """The literal a ``# → value = explanation`` / ``# → value: explanation`` comment starts with."""
    head = re.split(r" = |: |, a ", comment, maxsplit=1)[0].strip()
    return ast.literal_eval(head)


def test_python_blocks_run_in_a_fresh_interpreter_and_give_what_the_readme_says():
    import json
    (script,) = python_scripts()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    res = subprocess.run([sys.executable, "-c", _CHECK], input=script, capture_output=True,
                         text=True, env=env, timeout=120, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    results = json.loads(res.stdout.splitlines()[-1])
    checked = 0
    for r in results:
        if not r["comment"]:
            continue
        checked += 1
        if r["stdout"]:             # print(...)  # → fragment … fragment
            printed = " ".join(r["stdout"].split())
            for frag in r["comment"].split("…"):
                assert " ".join(frag.split()) in printed, (r["line"], frag, r["stdout"])
        else:
            want = _expected_value(r["comment"])
            got = ast.literal_eval(re.sub(r"np\.float64\((.*?)\)", r"\1", r["value"]))
            np.testing.assert_allclose(np.asarray(got, dtype=float),
                                       np.asarray(want, dtype=float), rtol=1e-14,
                                       err_msg=f"README line {r['line']}: {r['comment']}")
    assert checked == 5


def test_python_m_adnb_checks_the_book_example(tmp_path):
    res = subprocess.run([sys.executable, "-m", "adnb"], capture_output=True, text=True,
                         timeout=300, cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert res.returncode == 0, res.stderr
    checks = [ln for ln in res.stdout.splitlines() if ln.startswith(("ok", "BAD"))]
    assert len(checks) == 7 and all(ln.startswith("ok ") for ln in checks), checks
    assert "np.float64" not in res.stdout
    assert re.match(r"ok +∂f1/∂x1 = 2 \+ 2e² +16\.7781121978613 ", checks[0]), checks[0]
    assert "adnb-trace" in (tmp_path / "adnb-demo.html").read_text(encoding="utf-8")


def test_binder_badge_names_what_to_replace():
    badge = re.search(r"mybinder\.org/v2/gh/(\w+)/adnb", README)
    assert badge and badge.group(1) == "OWNER"
    note = README[badge.end():badge.end() + 600]
    assert "replace `OWNER`" in note


# ---- the course on your own machine, from a fresh virtualenv (slow) -----------------------------

COURSE = os.environ.get("ADNB_COURSE_TEST") == "1"


@pytest.mark.slow
@pytest.mark.skipif(not COURSE, reason="builds a virtualenv from the package index (minutes): "
                                       "set ADNB_COURSE_TEST=1")
def test_the_course_command_opens_the_course_from_a_fresh_venv(tmp_path):
    (command,) = [ln for b in blocks("bash") for ln in b.splitlines() if ".[course]" in ln]
    install, _, lab = command.partition(" && ")
    assert install == 'pip install -e ".[course]"' and lab.startswith("jupyter lab ")
    repo = tmp_path / "repo"
    shutil.copytree(ROOT, repo, ignore=shutil.ignore_patterns(
        ".git", "__pycache__", "*.egg-info", "build", "dist", ".ipynb_checkpoints"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    state = tmp_path / "state"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "VIRTUAL_ENV", "JUPYTER", "IPYTHON", "MPL"))}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(venv),
               PYTHONNOUSERSITE="1", JUPYTER_CONFIG_DIR=str(state / "config"),
               JUPYTER_DATA_DIR=str(state / "data"), JUPYTER_RUNTIME_DIR=str(state / "runtime"),
               IPYTHONDIR=str(state / "ipython"))
    # the README's command, as a student types it (pip: the venv's own)
    res = subprocess.run(install, shell=True, cwd=repo, env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]
    port, token = _free_port(), "adnb-readme-test"
    server = subprocess.Popen(
        lab.split() + ["--no-browser", f"--port={port}", f"--IdentityProvider.token={token}",
                       "--ip=127.0.0.1", "--allow-root"],
        cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        specs = _wait_json(f"http://127.0.0.1:{port}/api/kernelspecs", token)
        assert "python3" in specs["kernelspecs"]
        page = _get(f"http://127.0.0.1:{port}/lab/tree/notebooks/00_index.ipynb", token)
        assert b"JupyterLab" in page or b"jupyter" in page.lower()
    finally:
        server.terminate()
        server.wait(30)
    # the kernel the course gets runs adnb's magic: a course notebook executes in that venv
    out = tmp_path / "executed.ipynb"
    res = subprocess.run([venv / "bin" / "jupyter", "nbconvert", "--to", "notebook", "--execute",
                          "notebooks/02_evaluation_traces.ipynb", "--output", out],
                         cwd=repo, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]


def _free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url, token):
    req = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read()


def _wait_json(url, token, timeout=120):
    import json
    deadline = time.monotonic() + timeout
    while True:
        try:
            return json.loads(_get(url, token))
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
