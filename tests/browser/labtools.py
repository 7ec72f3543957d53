"""Helpers for the real-browser tests: a throwaway JupyterLab server, the notebook it opens, and
the Playwright steps that drive a TraceExplorer in it.

    python tests/browser/labtools.py DIR      # write the notebook into DIR, start Lab, print
                                              # the URL, stop it on Ctrl-C (for debugging)

* ``write_notebook(path)`` — a small notebook: ``%load_ext adnb``, a ``%%autodiff -o`` cell on the
  book's example (8.49), and a cell that prints the mode the kernel-side widget is in;
* ``LabServer(root, python=None, env=None, inherit_env=True)`` — JupyterLab on 127.0.0.1 with its
  own config, data, runtime, workspace and settings directories (nothing leaks between runs), a
  random token, ``--allow-root``; run by ``python`` (default: this interpreter), so its kernels
  are that environment's too; started in ``__enter__`` (bounded wait for ``/api/status``),
  stopped by PID in ``__exit__``, and any kernel left behind is reported (``stray``) and killed;
* ``chromium_path()`` / ``CHROMIUM_ARGS`` / ``chromium_page()`` — Debian's chromium, the flags that
  work headless here (Playwright's own browser download does not), and a page in a throwaway profile;
* ``drive_explorer(page, lab, notebook, ...)`` — the browser steps both real-browser tests share:
  open the notebook, wait until app and kernel are ready, run all cells, wait for the explorer's
  trace table and SVG graph, click *reverse* and expect the adjoints in both, step the sweep back
  with the slider's keyboard, and prove the kernel-side widget saw the click;
* ``kernel_execute(page, code)`` — run code in the notebook's own kernel (not in a cell) and
  return its stdout; ``notebook_json(page)`` — the open notebook as nbformat JSON;
* the JavaScript predicates Playwright waits on (see /work/shared/notes/browser-testing.md: keep
  ``wait_for_function`` predicates synchronous, await promises in ``page.evaluate``, and bound
  every awaited promise with a timer, since ``page.evaluate`` itself never times out).
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

BOOK_CELL = "%%autodiff -o x1=1.0 x2=2.0\ny = x1 * x2 + np.exp(x1 * x2) - np.sin(x2)"
KERNEL_CHECK = "exploration = _\nprint('kernel sees mode =', exploration.widget().mode.value)"

# the book's example (8.49) at (x1, x2) = (1, 2): adjoints v̄1 = ∂f/∂x1 and v̄2 = ∂f/∂x2
ADJOINT_X1 = "16.7781"
ADJOINT_X2 = "8.8052"

NB_OPEN = """() => { const app = window.jupyterapp;
  const w = app && app.shell.currentWidget; return !!(w && w.sessionContext && w.content); }"""
# every promise awaited in the page races a timer: page.evaluate has no timeout of its own
_BOUNDED = """(ms, what, promise) => Promise.race([promise, new Promise((_, reject) =>
  setTimeout(() => reject(new Error(what + ' did not finish in ' + ms + ' ms')), ms))])"""
APP_READY = """async (ms) => {
  const bounded = %s;
  const app = window.jupyterapp;
  return await bounded(ms, 'app/session start', (async () => {
    await app.started; await app.restored;
    const w = app.shell.currentWidget;
    await w.context.ready; await w.sessionContext.ready;
    return w.title.label;
  })());
}""" % _BOUNDED
KERNEL_IDLE = """() => {
  const app = window.jupyterapp;
  const w = app && app.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!(k && k.connectionStatus === 'connected' && k.status === 'idle'
            && app.commands.hasCommand('notebook:run-all-cells')
            && w.node.querySelectorAll('.jp-Cell').length === w.content.model.cells.length
            && w.content.model.cells.length > 0);
}"""
# resolves when every cell has run (JupyterLab's runAll: true if none failed)
RUN_ALL = """async (ms) => {
  const bounded = %s;
  return await bounded(ms, 'run all cells',
                       window.jupyterapp.commands.execute('notebook:run-all-cells'));
}""" % _BOUNDED
# the open notebook (model, with the outputs the page shows) as nbformat JSON
NOTEBOOK_JSON = """() => window.jupyterapp.shell.currentWidget.content.model.toJSON()"""
# code run in the notebook's kernel outside any cell (store_history false: no In[n] is used)
KERNEL_EXECUTE = """async ([code, ms]) => {
  const bounded = %s;
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const future = kernel.requestExecute({code, silent: false, store_history: false});
  let stdout = '', stderr = '';
  future.onIOPub = (msg) => {
    const c = msg.content;
    if (msg.header.msg_type === 'stream') {
      if (c.name === 'stdout') stdout += c.text; else stderr += c.text;
    }
    else if (msg.header.msg_type === 'error') stderr += c.ename + ': ' + c.evalue + '\\n';
  };
  const reply = await bounded(ms, 'kernel execute', future.done);
  return {status: reply.content.status, stdout, stderr};
}""" % _BOUNDED


def chromium_path():
    """Debian's chromium, or None."""
    for p in ("/usr/bin/chromium", shutil.which("chromium") or ""):
        if p and os.access(p, os.X_OK):
            return p
    return None


def write_notebook(path, *cells):
    """Write a notebook of code cells (no outputs) to ``path``; by default the test notebook
    (``%load_ext adnb``, the book's cell, the kernel check)."""
    import nbformat
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    cells = cells or ("import numpy as np\n%load_ext adnb", BOOK_CELL, KERNEL_CHECK)
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, str(path))
    return Path(path)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """JupyterLab on loopback with throwaway state; a context manager.

    Args:
        root: the directory served (notebooks are opened relative to it; also the server's cwd).
        python: the interpreter that runs ``python -m jupyterlab`` (default: this one). The
            kernels are that environment's too: its ``python3`` kernelspec says ``python``, which
            jupyter_client replaces by the server's ``sys.executable``.
        env: environment variables for the server (and so its kernels), set over the inherited
            environment; the throwaway ``JUPYTER_*_DIR`` and ``IPYTHONDIR`` always win.
        inherit_env: start from ``os.environ`` (default) or from ``env`` alone -- for an
            environment built elsewhere (e.g. a Binder virtualenv) whose ``PYTHON*``,
            ``VIRTUAL_ENV`` or ``MPL*`` must not leak in from the test process. When inheriting,
            ``MPLBACKEND`` is set to the inline backend (as in a plain Lab kernel) unless ``env``
            sets it, so that a CI's ``MPLBACKEND=Agg`` does not change what the notebooks show.

    Attributes:
        root, python: as given; url: ``http://127.0.0.1:PORT``; token: the login token;
        pid: the server's PID; log: path of the server's log file;
        stray: PIDs of processes of this server (the server or a kernel: their command lines
            name its private state directory) still alive after ``stop()``; they were killed.
    """

    def __init__(self, root, port=None, start_timeout=60.0, python=None, env=None,
                 inherit_env=True):
        self.root = Path(root)
        self.python = str(python or sys.executable)
        self.extra_env = dict(env or {})
        self.inherit_env = inherit_env
        self.port = port or free_port()
        self.token = secrets.token_hex(12)
        self.url = f"http://127.0.0.1:{self.port}"
        self.start_timeout = start_timeout
        self.state = Path(tempfile.mkdtemp(prefix="adnb-lab-"))
        self.log = self.state / "lab.log"
        self.proc = None
        self.stray = []

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def __enter__(self):
        s = self.state
        env = dict(os.environ) if self.inherit_env else {}
        if self.inherit_env:
            env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
        env.update(self.extra_env)
        env.update(JUPYTER_CONFIG_DIR=str(s / "config"), JUPYTER_RUNTIME_DIR=str(s / "runtime"),
                   JUPYTER_DATA_DIR=str(s / "data"), IPYTHONDIR=str(s / "ipython"))
        (s / "settings").mkdir(parents=True)
        # no "receive Jupyter news?" toast over the notebook
        (s / "settings" / "overrides.json").write_text(json.dumps(
            {"@jupyterlab/apputils-extension:notification":
             {"fetchNews": "false", "checkForUpdates": False}}))
        cmd = [self.python, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
               f"--port={self.port}", "--port-retries=0", "--allow-root",
               f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
               "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               "--LabApp.extension_manager=readonly",
               f"--LabServerApp.workspaces_dir={s / 'workspaces'}",
               f"--LabApp.user_settings_dir={s / 'user-settings'}",
               f"--LabApp.app_settings_dir={s / 'settings'}"]
        self._logf = open(self.log, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self._logf, stderr=subprocess.STDOUT, env=env,
                                     cwd=str(self.root), start_new_session=True)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"jupyter lab exited at start:\n{self.log_tail()}")
            try:
                self.api("GET", "/api/status", timeout=2)
                return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.25)
        self.stop()
        raise TimeoutError(f"jupyter lab did not answer in {self.start_timeout:.0f} s:\n"
                           f"{self.log_tail()}")

    def __exit__(self, *exc):
        self.stop()
        return False

    def api(self, method, path, timeout=10):
        req = urllib.request.Request(f"{self.url}{path}", method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body = r.read()
        return json.loads(body) if body else None

    def drop_sessions(self):
        """Delete every session (and its kernel): a session left over makes Lab swap kernels
        and cancel queued cells."""
        try:
            for sess in self.api("GET", "/api/sessions"):
                self.api("DELETE", f"/api/sessions/{sess['id']}")
        except (urllib.error.URLError, OSError):
            pass

    def stop(self, timeout=15.0):
        """Stop the server by its PID: SIGTERM (it shuts its kernels down), then SIGKILL.

        Afterwards, any process whose command line names this server's private state directory
        (the server itself, or a kernel: its connection file lives there) is recorded in
        ``stray`` and killed by PID -- kernels run in sessions of their own, so they would
        outlive a server that failed to shut them down.
        """
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.drop_sessions()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if not self._logf.closed:
            self._logf.close()
        deadline = time.monotonic() + 5
        while self._own_processes() and time.monotonic() < deadline:
            time.sleep(0.2)         # kernels asked to shut down may take a moment
        for pid in self._own_processes():
            self.stray.append(pid)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def _own_processes(self):
        """PIDs of live processes whose command line names this server's state directory."""
        mark = f"{self.state}/".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes()
                status = (entry / "status").read_text()
            except OSError:
                continue
            if mark in cmdline and "\nState:\tZ" not in status:
                found.append(int(entry.name))
        return found

    def log_tail(self, n=40):
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


@contextlib.contextmanager
def chromium_page(viewport=(1300, 1000), default_timeout_ms=30_000):
    """A Playwright page in Debian's chromium (headless, throwaway profile); closed on exit.

    Console errors of the page are collected in ``page.console_errors``.
    """
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p, tempfile.TemporaryDirectory(prefix="adnb-chromium-") as profile:
        ctx = p.chromium.launch_persistent_context(
            profile, executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": viewport[0], "height": viewport[1]})
        ctx.set_default_timeout(default_timeout_ms)
        try:
            page = ctx.pages[0] if ctx.pages else ctx.new_page()
            page.console_errors = []
            page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
            yield page
        finally:
            ctx.close()


def open_notebook(page, lab, notebook, timeout_ms=60_000):
    """Open ``notebook`` (a path relative to the server's root) in Lab's normal layout and wait
    until the app is restored and the notebook's kernel is connected and idle."""
    page.goto(f"{lab.url}/lab/tree/{notebook}?reset&token={lab.token}", timeout=timeout_ms)
    page.wait_for_function(NB_OPEN, timeout=timeout_ms, polling=250)
    page.evaluate(APP_READY, timeout_ms)
    page.wait_for_function(KERNEL_IDLE, timeout=timeout_ms, polling=250)


def run_all(page, timeout_ms=120_000):
    """Run every cell (Lab's *Run All*) and wait until the last one has finished. Returns what
    JupyterLab reports: True when no cell failed (a failing cell stops the run)."""
    return page.evaluate(RUN_ALL, timeout_ms)


def notebook_json(page):
    """The open notebook, as the page holds it (sources and outputs), as nbformat JSON."""
    return page.evaluate(NOTEBOOK_JSON)


def kernel_execute(page, code, timeout_ms=30_000):
    """Run ``code`` in the open notebook's kernel, outside any cell; return its stdout.

    Raises AssertionError with the kernel's stderr if the code fails."""
    res = page.evaluate(KERNEL_EXECUTE, [code, timeout_ms])
    assert res["status"] == "ok", f"kernel: {res['status']}\n{res['stderr']}"
    return res["stdout"]


def drive_explorer(page, lab, notebook, *, output_node, kernel_check, after_run_all=None,
                   timings=None, shots=None):
    """The browser steps both real-browser tests share, on a notebook whose first TraceExplorer
    shows the book's example (8.49) at (x1, x2) = (1, 2) in forward mode:

    1. open ``notebook`` and wait for app and kernel (``open_notebook``);
    2. run all cells and wait for the last one; the explorer shows its trace table and inline
       SVG graph in forward mode (no adjoints yet); then ``after_run_all(page, widget)``, if given;
    3. click *reverse*: the adjoints v̄2 = ∂f/∂x2 = 8.8052… and v̄1 = 16.7781… appear in the
       table, the graph's node v2 shows v̄2, the Jacobian panel says "reverse pass";
    4. step the sweep back to its start from the slider's keyboard (Home): step label, graph and
       table all mark the output node ``v{output_node}`` as the current one;
    5. ``kernel_check(page, "reverse")`` proves the kernel-side widget saw the click;
    6. screenshots into ``shots`` (a directory) if given; no stderr output is on the page.

    ``timings`` (a dict) receives the seconds of each stage. Returns the explorer's locator.
    """
    from playwright.sync_api import expect
    timings = {} if timings is None else timings

    t0 = time.perf_counter()
    open_notebook(page, lab, notebook)
    timings["open_to_idle_kernel"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    ran = run_all(page)
    timings["run_all"] = time.perf_counter() - t0
    assert ran is not False, "JupyterLab reports that a cell failed during Run All"
    widget = page.locator(".adnb-explorer").first
    widget.wait_for(state="visible", timeout=60_000)
    table = widget.locator(".adnb-table table.adnb-trace")
    expect(table).to_have_attribute("data-mode", "forward", timeout=30_000)
    expect(table).to_contain_text("v1")                 # the trace table is there
    assert ADJOINT_X2 not in table.inner_text()
    graph = widget.locator(".adnb-graph svg.adnb-graph-svg")   # inline SVG
    expect(graph).to_have_attribute("data-mode", "forward", timeout=30_000)
    expect(graph.locator('[data-node="v3"]')).to_contain_text("×")
    assert graph.bounding_box()["width"] > 100          # laid out, not collapsed
    if after_run_all is not None:
        after_run_all(page, widget)
    timings["run_all_to_widget"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    reverse = widget.locator(".adnb-mode button", has_text="reverse")
    reverse.click()
    expect(reverse).to_have_class(re.compile("mod-active"), timeout=10_000)
    expect(table).to_have_attribute("data-mode", "reverse", timeout=15_000)
    expect(table).to_contain_text(ADJOINT_X2, timeout=15_000)   # v̄2 appeared
    expect(table).to_contain_text(ADJOINT_X1)                   # v̄1
    timings["click_to_table"] = time.perf_counter() - t0
    # the graph is set in the same kernel callback as the table
    expect(graph).to_have_attribute("data-mode", "reverse", timeout=15_000)
    expect(graph.locator('[data-node="v2"]')).to_contain_text("v̄=8.805")
    timings["click_to_graph"] = time.perf_counter() - t0
    expect(widget.locator(".adnb-jacobian")).to_contain_text("reverse pass")

    # step the sweep back to its start from the keyboard: the output is in progress, in the
    # table and in the graph alike (one kernel callback)
    t0 = time.perf_counter()
    widget.locator(".adnb-step .noUi-handle").first.press("Home")
    expect(widget.locator(".adnb-step-label")).to_contain_text("step 0 of", timeout=15_000)
    expect(graph).to_have_attribute("data-step", "0", timeout=15_000)
    expect(graph.locator(f'[data-node="v{output_node}"]')).to_have_attribute("data-status",
                                                                            "current")
    expect(table.locator(f'tr.adnb-current[data-node="{output_node - 1}"]')).to_have_count(1)
    timings["step_to_table_and_graph"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    kernel_check(page, "reverse")
    timings["kernel_roundtrip"] = time.perf_counter() - t0
    if shots:
        os.makedirs(shots, exist_ok=True)
        stem = Path(notebook).stem
        widget.screenshot(path=os.path.join(shots, f"{stem}-explorer-reverse.png"))
        page.screenshot(path=os.path.join(shots, f"{stem}-page.png"), full_page=True)
    stderr = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    assert stderr.count() == 0, stderr.all_inner_texts()
    return widget


if __name__ == "__main__":
    root = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="adnb-nb-"))
    write_notebook(root / "autodiff.ipynb")
    with LabServer(root) as lab:
        print(f"{lab.url}/lab/tree/autodiff.ipynb?token={lab.token}  (pid {lab.pid}, log {lab.log})")
        try:
            while lab.proc.poll() is None:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
