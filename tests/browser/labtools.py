"""Helpers for the real-browser test: a throwaway JupyterLab server and the notebook it opens.

    python tests/browser/labtools.py DIR      # write the notebook into DIR, start Lab, print
                                              # the URL, stop it on Ctrl-C (for debugging)

* ``write_notebook(path)`` — a small notebook: ``%load_ext adnb``, a ``%%autodiff -o`` cell on the
  book's example (8.49), and a cell that prints the mode the kernel-side widget is in;
* ``LabServer(root)`` — JupyterLab on 127.0.0.1 with its own config, data, runtime, workspace and
  settings directories (nothing leaks between runs), a random token, ``--allow-root``; started
  in ``__enter__`` (bounded wait for ``/api/status``), stopped by PID in ``__exit__``;
* ``chromium_path()`` / ``CHROMIUM_ARGS`` — Debian's chromium and the flags that work headless
  here (Playwright's own browser download does not);
* the JavaScript predicates Playwright waits on (see /work/shared/notes/browser-testing.md: keep
  ``wait_for_function`` predicates synchronous, await promises in ``page.evaluate``).
"""
from __future__ import annotations

import json
import os
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

NB_OPEN = """() => { const app = window.jupyterapp;
  const w = app && app.shell.currentWidget; return !!(w && w.sessionContext && w.content); }"""
APP_READY = """async () => {
  const app = window.jupyterapp;
  await app.started; await app.restored;
  const w = app.shell.currentWidget;
  await w.context.ready; await w.sessionContext.ready;
  return w.title.label;
}"""
KERNEL_IDLE = """() => {
  const app = window.jupyterapp;
  const w = app && app.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!(k && k.connectionStatus === 'connected' && k.status === 'idle'
            && app.commands.hasCommand('notebook:run-all-cells')
            && w.node.querySelectorAll('.jp-Cell').length === w.content.model.cells.length
            && w.content.model.cells.length > 0);
}"""


def chromium_path():
    """Debian's chromium, or None."""
    for p in ("/usr/bin/chromium", shutil.which("chromium") or ""):
        if p and os.access(p, os.X_OK):
            return p
    return None


def write_notebook(path):
    """Write the test notebook (no outputs) to ``path``."""
    import nbformat
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# adnb in JupyterLab"),
        nbformat.v4.new_code_cell("import numpy as np\n%load_ext adnb"),
        nbformat.v4.new_code_cell(BOOK_CELL),
        nbformat.v4.new_code_cell(KERNEL_CHECK),
    ]
    nbformat.write(nb, str(path))
    return Path(path)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """JupyterLab on loopback with throwaway state; a context manager.

    Attributes:
        root: the directory served (notebooks are opened relative to it).
        url: ``http://127.0.0.1:PORT``; token: the login token; pid: the server's PID.
        log: path of the server's log file.
    """

    def __init__(self, root, port=None, start_timeout=60.0):
        self.root = Path(root)
        self.port = port or free_port()
        self.token = secrets.token_hex(12)
        self.url = f"http://127.0.0.1:{self.port}"
        self.start_timeout = start_timeout
        self.state = Path(tempfile.mkdtemp(prefix="adnb-lab-"))
        self.log = self.state / "lab.log"
        self.proc = None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def __enter__(self):
        s = self.state
        env = dict(os.environ,
                   JUPYTER_CONFIG_DIR=str(s / "config"), JUPYTER_RUNTIME_DIR=str(s / "runtime"),
                   JUPYTER_DATA_DIR=str(s / "data"), IPYTHONDIR=str(s / "ipython"),
                   MPLBACKEND="module://matplotlib_inline.backend_inline")
        (s / "settings").mkdir(parents=True)
        # no "receive Jupyter news?" toast over the notebook
        (s / "settings" / "overrides.json").write_text(json.dumps(
            {"@jupyterlab/apputils-extension:notification":
             {"fetchNews": "false", "checkForUpdates": False}}))
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
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
        """Stop the server by its PID: SIGTERM (it shuts its kernels down), then SIGKILL."""
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
        self._logf.close()

    def log_tail(self, n=40):
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


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
