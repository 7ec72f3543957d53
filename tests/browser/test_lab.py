"""Real browser: JupyterLab on localhost, Playwright driving Debian's chromium.

A generated notebook runs a ``%%autodiff`` cell; the test sees the trace table in forward mode,
clicks *reverse* and sees the adjoints v̄ appear (table and the graph's inline SVG), steps the
sweep back with the slider's keyboard and sees table and graph follow, then re-runs a cell to prove
the kernel-side widget got the click. Skipped when chromium, Playwright or JupyterLab is
missing. Every wait is bounded; the server is stopped by PID in a ``finally``.

The browser steps are ``labtools.drive_explorer``, shared with ``tests/test_binder.py``, which
runs them on a course notebook in JupyterLab started from the Binder environment.

    python -m pytest tests/browser -m browser -s      # prints the timings
    ADNB_BROWSER_SHOTS=/tmp/shots python -m pytest tests/browser -s   # also saves screenshots
"""
import os
import tempfile
import time
from pathlib import Path

import pytest

import labtools

pytestmark = pytest.mark.browser

def _requirements():
    if labtools.chromium_path() is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    pytest.importorskip("jupyterlab", reason="jupyterlab is not installed")
    pytest.importorskip("nbformat")


def _forward_seen_by_kernel(page, widget):
    """The notebook's last cell (run by Run All) printed the kernel-side widget's mode."""
    from playwright.sync_api import expect
    expect(page.locator(".jp-OutputArea-output",
                        has_text="kernel sees mode = forward")).to_be_visible()


def _rerun_last_cell(page, mode):
    """Select the last cell and run it from Lab: it prints the mode the kernel-side widget has."""
    from playwright.sync_api import expect
    page.locator(".jp-Notebook .jp-CodeCell").last.click()
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-cell')")
    expect(page.locator(".jp-OutputArea-output",
                        has_text=f"kernel sees mode = {mode}")).to_be_visible()


def test_autodiff_cell_in_jupyterlab():
    _requirements()

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
        with labtools.chromium_page() as page:
            # the book's one-line cell: v1..v8, the output is v8
            labtools.drive_explorer(page, lab, "autodiff.ipynb", output_node=8,
                                    after_run_all=_forward_seen_by_kernel,
                                    kernel_check=_rerun_last_cell, timings=timings,
                                    shots=os.environ.get("ADNB_BROWSER_SHOTS"))
    except Exception:
        print("---- jupyter lab log ----\n" + lab.log_tail())
        raise
    finally:
        lab.__exit__(None, None, None)
    assert not lab.stray, f"processes left by the server (killed): {lab.stray}"
    timings["total"] = time.perf_counter() - t_all
    print("browser timings (s):", {k: round(v, 2) for k, v in timings.items()})


def test_explorer_names_its_own_cell_and_reruns_side_effects_only_on_request():
    """Issue 14 in a real JupyterLab: the explorer's title names the prompt number the cell
    shows; a cell appending to a list that existed before it stores a plain number there, says
    so, and moving its slider does not re-run it until the re-run button is pressed."""
    _requirements()
    from playwright.sync_api import expect
    root = Path(tempfile.mkdtemp(prefix="adnb-browser-"))
    labtools.write_notebook(root / "side.ipynb", "%load_ext adnb\nhist = []",
                            "%%autodiff x=0.5\ny = np.sin(x) * x\nhist.append(y)")
    lab = labtools.LabServer(root)
    lab.__enter__()
    try:
        lab.drop_sessions()
        with labtools.chromium_page() as page:
            labtools.open_notebook(page, lab, "side.ipynb")
            assert labtools.run_all(page)
            cell = page.locator(".jp-Notebook .jp-CodeCell").nth(1)
            widget = cell.locator(".adnb-explorer")
            expect(widget).to_be_visible()
            prompt = cell.locator(".jp-InputPrompt").inner_text().strip()      # "[2]:"
            number = prompt.strip("[]: ")
            assert number.isdigit(), prompt
            expect(widget.locator(".widget-html.adnb-title")).to_contain_text(f"In[{number}]: x = 0.5")
            note = widget.locator(".adnb-side-effects")
            expect(note).to_contain_text("existed before it")
            assert labtools.kernel_execute(page, "print(type(hist[0]).__name__, len(hist))"
                                           ).strip() == "float 1"
            slider = widget.locator(".adnb-input .ui-slider-handle, .adnb-input [role=slider]")
            slider.first.focus()
            page.keyboard.press("ArrowRight")
            expect(note).to_contain_text("sliders moved")
            assert labtools.kernel_execute(page, "print(len(hist))").strip() == "1"
            widget.locator(".adnb-rerun button, button.adnb-rerun").first.click()
            # the button is disabled again once the re-run has finished
            page.wait_for_function(
                "() => document.querySelector('.adnb-rerun button, button.adnb-rerun')"
                ".disabled", timeout=30_000)
            expect(note).not_to_contain_text("sliders moved")
            out = labtools.kernel_execute(page, "print(len(hist), type(hist[1]).__name__)")
            assert out.strip() == "2 float"
    except Exception:
        print("---- jupyter lab log ----\n" + lab.log_tail())
        raise
    finally:
        lab.__exit__(None, None, None)
    assert not lab.stray, f"processes left by the server (killed): {lab.stray}"
