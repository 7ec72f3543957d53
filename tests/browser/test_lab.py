"""Real browser: JupyterLab on localhost, Playwright driving Debian's chromium.

A generated notebook runs a ``%%autodiff`` cell; the test sees the trace table in forward mode,
clicks *reverse* and sees the adjoints v̄ appear (table and the graph's inline SVG), steps the
sweep back with the slider's keyboard and sees table and graph follow, then re-runs a cell to prove
the kernel-side widget got the click. Skipped when chromium, Playwright or JupyterLab is
missing. Every wait is bounded; the server is stopped by PID in a ``finally``.

    python -m pytest tests/browser -m browser -s      # prints the timings
    ADNB_BROWSER_SHOTS=/tmp/shots python -m pytest tests/browser -s   # also saves screenshots
"""
import os
import re
import tempfile
import time
from pathlib import Path

import pytest

import labtools

pytestmark = pytest.mark.browser

# ∂f/∂x2 of the book's example at (1, 2): v̄2 in the reverse table, absent from the forward one
ADJOINT_X2 = "8.8052"


def _requirements():
    if labtools.chromium_path() is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    pytest.importorskip("jupyterlab", reason="jupyterlab is not installed")
    pytest.importorskip("nbformat")


def test_autodiff_cell_in_jupyterlab():
    _requirements()
    from playwright.sync_api import expect, sync_playwright

    timings = {}
    t_all = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="adnb-browser-"))
    labtools.write_notebook(root / "autodiff.ipynb")
    lab = labtools.LabServer(root)
    t0 = time.perf_counter()
    lab.__enter__()
    try:
        timings["lab_start"] = time.perf_counter() - t0
        lab.drop_sessions()
        with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
            ctx = p.chromium.launch_persistent_context(
                profile, executable_path=labtools.chromium_path(), headless=True,
                args=labtools.CHROMIUM_ARGS, viewport={"width": 1300, "height": 1000})
            ctx.set_default_timeout(30_000)
            try:
                page = ctx.pages[0] if ctx.pages else ctx.new_page()
                errors = []
                page.on("console", lambda m: m.type == "error" and errors.append(m.text))

                t0 = time.perf_counter()
                page.goto(f"{lab.url}/lab/tree/autodiff.ipynb?reset&token={lab.token}",
                          timeout=60_000)
                page.wait_for_function(labtools.NB_OPEN, timeout=60_000, polling=250)
                page.evaluate(labtools.APP_READY)
                page.wait_for_function(labtools.KERNEL_IDLE, timeout=60_000, polling=250)
                timings["open_to_idle_kernel"] = time.perf_counter() - t0

                t0 = time.perf_counter()
                page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
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
                expect(page.locator(".jp-OutputArea-output",
                                    has_text="kernel sees mode = forward")).to_be_visible()
                timings["run_all_to_widget"] = time.perf_counter() - t0

                t0 = time.perf_counter()
                reverse = widget.locator(".adnb-mode button", has_text="reverse")
                reverse.click()
                expect(reverse).to_have_class(re.compile("mod-active"), timeout=10_000)
                expect(table).to_have_attribute("data-mode", "reverse", timeout=15_000)
                expect(table).to_contain_text(ADJOINT_X2, timeout=15_000)   # v̄2 appeared
                expect(table).to_contain_text("16.7781")                    # v̄1
                timings["click_to_table"] = time.perf_counter() - t0
                # the graph is set in the same kernel callback as the table
                expect(graph).to_have_attribute("data-mode", "reverse", timeout=15_000)
                expect(graph.locator('[data-node="v2"]')).to_contain_text("v̄=8.805")
                timings["click_to_graph"] = time.perf_counter() - t0
                expect(widget.locator(".adnb-jacobian")).to_contain_text("reverse pass")

                # step the sweep back to its start from the keyboard: the output v8 is in
                # progress, in the table and in the graph alike (one kernel callback)
                t0 = time.perf_counter()
                widget.locator(".adnb-step .noUi-handle").first.press("Home")
                expect(widget.locator(".adnb-step-label")).to_contain_text("step 0 of",
                                                                           timeout=15_000)
                expect(graph).to_have_attribute("data-step", "0", timeout=15_000)
                expect(graph.locator('[data-node="v8"]')).to_have_attribute("data-status",
                                                                           "current")
                expect(table.locator('tr.adnb-current[data-node="7"]')).to_have_count(1)
                timings["step_to_table_and_graph"] = time.perf_counter() - t0

                t0 = time.perf_counter()
                page.locator(".jp-Notebook .jp-CodeCell").last.click()
                page.evaluate("window.jupyterapp.commands.execute('notebook:run-cell')")
                expect(page.locator(".jp-OutputArea-output",
                                    has_text="kernel sees mode = reverse")).to_be_visible()
                timings["kernel_roundtrip"] = time.perf_counter() - t0
                shots = os.environ.get("ADNB_BROWSER_SHOTS")
                if shots:
                    os.makedirs(shots, exist_ok=True)
                    widget.screenshot(path=os.path.join(shots, "explorer-reverse.png"))
                    page.screenshot(path=os.path.join(shots, "page.png"), full_page=True)
                stderr = page.locator(
                    ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
                assert stderr.count() == 0, stderr.all_inner_texts()
            finally:
                ctx.close()
    except Exception:
        print("---- jupyter lab log ----\n" + lab.log_tail())
        raise
    finally:
        lab.__exit__(None, None, None)
    timings["total"] = time.perf_counter() - t_all
    print("browser timings (s):", {k: round(v, 2) for k, v in timings.items()})
