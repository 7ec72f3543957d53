"""Real browser: predict mode in JupyterLab. A learner types a right and a wrong answer and sees
both verdicts — the wrong one with the rule, its numbers and the classic mistake — and the score.

    python -m pytest tests/browser/test_predict.py -m browser -s
"""
import tempfile
import time
from pathlib import Path

import pytest

import labtools

pytestmark = pytest.mark.browser

PREDICT_CELL = "%%autodiff --predict -o -m reverse x1=1.0 x2=2.0\n" \
               "v3 = x1 * x2\nv4 = np.sin(x2)\nv5 = np.exp(v3)\nv6 = v3 - v4\ny = v5 + v6"


def _answer(widget, text):
    box = widget.locator(".adnb-predict-answer input")
    box.fill(text)
    widget.locator(".adnb-predict-check").click()


def test_predict_mode_in_jupyterlab():
    if labtools.chromium_path() is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    pytest.importorskip("jupyterlab", reason="jupyterlab is not installed")
    pytest.importorskip("nbformat")
    from playwright.sync_api import expect

    root = Path(tempfile.mkdtemp(prefix="adnb-predict-"))
    labtools.write_notebook(root / "predict.ipynb", "import numpy as np\n%load_ext adnb", PREDICT_CELL)
    lab = labtools.LabServer(root)
    lab.__enter__()
    t0 = time.perf_counter()
    try:
        lab.drop_sessions()
        with labtools.chromium_page() as page:
            labtools.open_notebook(page, lab, "predict.ipynb")
            assert labtools.run_all(page) is not False, "a cell failed during Run All"
            widget = page.locator(".adnb-predict").first
            widget.wait_for(state="visible", timeout=60_000)
            question = widget.locator(".adnb-predict-question")
            verdict = widget.locator(".adnb-predict-verdict")
            expect(question).to_contain_text("v̄7 = ?", timeout=30_000)
            table = page.locator(".adnb-explorer .adnb-table table.adnb-trace").first
            expect(table.locator("td.adnb-blank")).to_have_count(1)

            _answer(widget, "1")                                  # right: the seed ∂f/∂f
            expect(verdict).to_contain_text("✓ right: v̄7 = 1", timeout=15_000)
            expect(question).to_contain_text("v̄6 = ?")
            widget.locator(".adnb-predict-reveal").click()        # v̄6 revealed
            expect(question).to_contain_text("v̄5 = ?", timeout=15_000)
            widget.locator(".adnb-predict-reveal").click()
            expect(question).to_contain_text("v̄4 = ?", timeout=15_000)
            widget.locator(".adnb-predict-reveal").click()
            expect(question).to_contain_text("v̄3 = ?", timeout=15_000)
            expect(table).not_to_contain_text("8.38906")

            _answer(widget, "7.389")                              # wrong: v̄5 v5 alone
            expect(verdict).to_contain_text("✗ v̄3 is 8.38906, not 7.389", timeout=15_000)
            expect(verdict).to_contain_text("v̄3 = v̄5 ∂v5/∂v3 + v̄6 ∂v6/∂v3")
            expect(verdict).to_contain_text("1·7.38906 + 1·1")
            expect(verdict).to_contain_text("overwritten instead of accumulated")
            expect(widget.locator(".adnb-predict-score")).to_contain_text(
                "Score: 1 right · 1 wrong · 3 revealed")

            _answer(widget, "8.389")                              # and right after all
            expect(verdict).to_contain_text("✓ right: v̄3 = 8.38906", timeout=15_000)
            expect(question).to_contain_text("v̄2 = ?")
            # the kernel-side widget counted the same (the cell's result is _)
            out = labtools.kernel_execute(
                page, "print(_.widget().learning.panel.session.score_line)")
            assert "Score: 2 right · 1 wrong · 3 revealed" in out
            stderr = page.locator(".jp-OutputArea-output"
                                  "[data-mime-type='application/vnd.jupyter.stderr']")
            assert stderr.count() == 0, stderr.all_inner_texts()
    except Exception:
        print("---- jupyter lab log ----\n" + lab.log_tail())
        raise
    finally:
        lab.__exit__(None, None, None)
    assert not lab.stray, f"processes left by the server (killed): {lab.stray}"
    print(f"predict browser test: {time.perf_counter() - t0:.1f} s")
