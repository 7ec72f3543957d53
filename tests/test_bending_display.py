"""Bending the rules, seen: custom rows in the table and graph, cut edges, the checkpoint's
recomputation in the reverse stepper, and the linearized trace beside its transpose."""
import re

import numpy as np
import pytest

import adnb
from adnb.display import graph_svg, to_networkx, trace_table, trace_text
from adnb.display.linear import linear_pair
from test_bending import clip_gradient, softplus


def f(x, y):
    a = softplus(x * y)
    b = clip_gradient(-1.0, 1.0, a * 3)
    c = adnb.stop_gradient(b) * y
    return adnb.checkpoint(lambda u: np.sin(u) * u)(c + x)


@pytest.fixture(scope="module")
def tr():
    return adnb.trace(f, 0.5, 2.0)


def _badges(html):
    return dict(re.findall(r'<span class="adnb-custom" data-kind="(\w+)" title="([^"]*)"', html))


def test_custom_rows_are_tagged_with_the_rule_derived_from_the_rule(tr):
    html = trace_table(tr, reverse=tr.reverse())
    b = _badges(html)
    assert set(b) == {"custom_jvp", "custom_vjp", "stop_gradient", "checkpoint"}
    assert "softplus_jvp: tangent of v4 = ṫ1 · 0.5 · (1 + tanh(v3 / 2))" in b["custom_jvp"]
    assert "v5̄ += min(max(ḡ, −1.0), 1.0)" in b["custom_vjp"]      # clip, from bwd itself
    assert "2 operations folded" in b["checkpoint"]
    assert "&lt;lambda&gt;" in html and "<lambda>" not in html     # escaped


def test_adjoint_expansion_of_a_cut_edge_and_values(tr):
    rev = tr.reverse()
    html = trace_table(tr, reverse=rev, expand=True)
    assert "v̄<sub>6</sub> = 0 (cut)" in html
    assert rev.adjoints[0][5] is None or rev.adjoints[0][5] == 0     # nothing flows past the cut
    gx, gy = adnb.grad(f, argnums=(0, 1))(0.5, 2.0)
    assert rev.gradient() == pytest.approx([gx, gy], rel=1e-14)
    assert "custom_jvp" in trace_text(tr) or "softplus(v3)" in trace_text(tr)


def test_stop_gradient_edges_are_cut_in_the_graph(tr):
    g = to_networkx(tr)
    cut = [(u, v) for u, v, d in g.edges(data=True) if d["cut"]]
    assert cut == [("v6", "v7")]
    assert g.edges["v6", "v7"]["partial"] == 0.0 and g.edges["v6", "v7"]["formula"] == "0 (cut)"
    svg = graph_svg(tr)
    assert 'class="adnb-cut-edges"' in svg and 'stroke-dasharray="4 3"' in svg


def test_reverse_stepper_shows_the_recomputation_where_it_happens(tr):
    captions = [re.search("<caption>(.*?)</caption>", trace_table(tr, mode="reverse", step=s))
                .group(1) for s in range(6)]
    where = [k for k, c in enumerate(captions) if "recomputing" in c]
    assert where == [0]                 # v10 = checkpoint[...] is the first row the sweep reaches
    assert "2 operations folded into v<sub>10</sub>" in captions[0]


def test_generated_code_refuses_custom_rows(tr):
    from adnb.display.codegen import adjoint_code, tangent_code
    for gen in (tangent_code, adjoint_code):
        with pytest.raises(adnb.UnsupportedOperationError, match="softplus.*custom_jvp row"):
            gen(tr)


def test_linearized_trace_beside_its_transpose(rng):
    A = rng.normal(size=(3, 2))

    def g(x):
        return np.tanh(A @ x) * np.sum(x ** 2)

    x, v, u = rng.normal(size=2), rng.normal(size=2), rng.normal(size=3)
    lp = linear_pair(g, x, v=(v,), u=u)
    np.testing.assert_allclose(lp.jtu[0], adnb.vjp(g, x)[1](u)[0], rtol=1e-13)
    np.testing.assert_allclose(lp.jv, adnb.jvp(g, (x,), (v,))[1], rtol=1e-13)
    m = lp.matches()
    assert len(m) >= 4
    for _, _, a, b in m:                     # the transpose's values are the reverse adjoints
        if a is None or b is None:
            assert a is None and b is None
        else:
            np.testing.assert_allclose(a, b, rtol=1e-12)
    html = lp._repr_html_()
    assert "✗" not in html and html.count("✓") == sum(1 for *_, a, b in m)
    assert f"{u @ lp.jv:.12g}" in html
    # only linear operations on the left
    assert {n.prim.name for n in lp.linear.nodes if n.prim} <= {
        "mul", "add", "matmul", "sum", "broadcast_to", "neg", "reshape", "sub"}


def test_checkpoint_costs_memory_against_recomputation():
    from adnb.display.checkpointing import checkpoint_costs, plot_checkpoint_costs
    W = np.random.default_rng(0).normal(size=(32, 32)) / 6
    x = np.random.default_rng(1).normal(size=(8, 32))
    pts = checkpoint_costs(lambda h, W: np.tanh(h @ W), x, 100, [None, 1, 10, 100], (W,))
    assert [p.k for p in pts] == [None, 1, 10, 100]
    assert [p.extra_passes for p in pts] == [0.0, 1.0, 1.0, 1.0]     # every step runs twice
    assert all(p.loop_ops == 200 for p in pts)
    assert [p.model for p in pts] == [100, 101, 20, 101]
    none, ten = pts[0], pts[2]
    assert ten.peak_bytes < 0.4 * none.peak_bytes and ten.tape_bytes < 0.3 * none.tape_bytes
    import matplotlib
    matplotlib.use("Agg")
    ax = plot_checkpoint_costs(pts, unit=x.nbytes)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "peak memory of grad", "k = √n", "extra forward passes"]
