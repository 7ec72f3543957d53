"""Real browser: the graph of a 13-node trace in JupyterLab at the width of an output panel with
the file browser open (~477 px), the issue-14 case.

After switching to reverse mode and stepping the sweep from the keyboard (Home: the output, at
the bottom; nine steps on: a node near the inputs; Home again), the node in progress is inside the
visible part of the graph's scrolling box each time, and the whole graph is reachable: the box
scrolls (its scroll size covers the SVG), and scrolled back to its start it shows the inputs.

    ADNB_BROWSER_SHOTS=docs/screenshots python -m pytest tests/browser/test_graph_view.py -s
"""
import os
import tempfile
import time
from pathlib import Path

import pytest

import labtools

pytestmark = pytest.mark.browser

LOSS_CELL = """%%autodiff w=0.5 b=-0.2 x=1.5
z = w * x + b
for _ in range(2):
    z = z * 0.9
if z > 0:
    p = 1 / (1 + np.exp(-z))
else:
    p = np.exp(z) / (1 + np.exp(z))
loss = -np.log(p)"""

# the current node's box and the scrolling box's visible rectangle, in page coordinates
VISIBLE = """() => {
  const view = document.querySelector('.adnb-explorer .adnb-graph-view');
  const cur = view.querySelector('[data-status="current"] circle');
  const v = view.getBoundingClientRect(), c = cur.getBoundingClientRect();
  const svg = view.querySelector('svg').getBoundingClientRect();
  return {view: [v.left, v.top, v.right, v.bottom], cur: [c.left, c.top, c.right, c.bottom],
          node: cur.parentNode.getAttribute('data-node'), svg: [svg.width, svg.height],
          scroll: [view.scrollWidth, view.scrollHeight, view.clientWidth, view.clientHeight],
          overflow: getComputedStyle(view).overflow, panel: view.parentNode.getBoundingClientRect().width};
}"""


def _inside(box, outer):
    return (outer[0] - 0.5 <= box[0] and box[2] <= outer[2] + 0.5
            and outer[1] - 0.5 <= box[1] and box[3] <= outer[3] + 0.5)


def test_graph_keeps_the_current_node_in_view_at_477px():
    if labtools.chromium_path() is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    pytest.importorskip("jupyterlab", reason="jupyterlab is not installed")
    pytest.importorskip("nbformat")
    from playwright.sync_api import expect

    shots = os.environ.get("ADNB_BROWSER_SHOTS")
    root = Path(tempfile.mkdtemp(prefix="adnb-graph-"))
    labtools.write_notebook(root / "loss.ipynb", "import numpy as np\n%load_ext adnb", LOSS_CELL)
    with labtools.LabServer(root) as lab:
        lab.drop_sessions()
        # 909 px wide with the file browser open: a 477 px output panel
        with labtools.chromium_page(viewport=(909, 800)) as page:
            labtools.open_notebook(page, lab, "loss.ipynb")
            assert labtools.run_all(page) is not False
            widget = page.locator(".adnb-explorer").first
            widget.wait_for(state="visible", timeout=60_000)
            graph = widget.locator(".adnb-graph-view svg.adnb-graph-svg")
            expect(graph).to_have_attribute("data-mode", "forward", timeout=30_000)
            widget.locator(".adnb-mode button", has_text="reverse").click()
            expect(graph).to_have_attribute("data-mode", "reverse", timeout=15_000)
            handle = widget.locator(".adnb-step .noUi-handle").first
            seen = []
            # reverse sweep: step 0 is the output (bottom), then up the chain to the inputs
            for keys, step in ((["Home"], "0"), (["ArrowRight"] * 9, "9"), (["Home"], "0")):
                for key in keys:
                    handle.press(key)
                expect(graph).to_have_attribute("data-step", step, timeout=15_000)
                time.sleep(0.3)                      # layout of the new box
                geo = page.evaluate(VISIBLE)
                seen.append(geo["node"])
                assert geo["panel"] <= 490, geo       # the narrow panel of the issue
                assert _inside(geo["cur"], geo["view"]), geo
                assert geo["overflow"] == "auto"
                sw, sh, cw, ch = geo["scroll"]
                assert sw >= geo["svg"][0] - 1 and sh >= geo["svg"][1] - 1   # all reachable
                if shots:
                    os.makedirs(shots, exist_ok=True)
                    widget.locator(".adnb-graph").first.screenshot(
                        path=os.path.join(shots, f"graph-477px-step{step}.png"))
            assert len(set(seen)) >= 2, seen          # stepping moved the current node
            # scrolled to its start, the box shows the inputs (the output was in view above)
            page.evaluate("""() => { const v = document.querySelector('.adnb-graph-view');
                                     v.scrollTop = 0; v.scrollLeft = 0; }""")
            out = widget.locator('.adnb-graph-view [data-node="v1"] circle')
            box, view = out.bounding_box(), widget.locator(".adnb-graph-view").bounding_box()
            assert _inside([box["x"], box["y"], box["x"] + box["width"], box["y"] + box["height"]],
                           [view["x"], view["y"], view["x"] + view["width"],
                            view["y"] + view["height"]])
            if shots:
                page.screenshot(path=os.path.join(shots, "explorer-477px-after.png"))
        lab.drop_sessions()
    assert not lab.stray, lab.stray
