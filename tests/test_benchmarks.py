"""The benchmark workloads (benchmarks/, issue 3) are correct, so the benchmark cannot rot.

No timing assertions: every workload is checked in quick mode against hand-written derivatives
(closed forms, hand-coded backprop, a hand-written HVP, the hand-written Jacobian), the hand-written
references against finite differences, and the harness itself runs end to end on adnb for W1.
"""
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

import adnb                                   # noqa: E402
from benchmarks import systems                # noqa: E402
from benchmarks import workloads as W         # noqa: E402

CFG = W.config(quick=True)
TOL = 1e-10


@pytest.fixture(scope="module")
def adnb_cases():
    return W.adnb_cases(CFG)


def central_diff(f, x, h=1e-6):
    x = np.asarray(x, dtype=float)
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = h
        g.flat[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


# ---- the hand-written references are right ---------------------------------------------------


def test_book_closed_form_matches_finite_differences():
    v, g = W.book_value_and_grad_hand(*W.BOOK_X)
    assert v == pytest.approx(W.book(*W.BOOK_X), rel=1e-14)
    fd = central_diff(lambda x: W.book(x[0], x[1]), np.array(W.BOOK_X))
    np.testing.assert_allclose(g, fd, rtol=1e-8)


def test_chain_hand_derivatives_match_finite_differences_and_each_other():
    assert W.CHAIN_OPS == 1000
    v, g = W.chain_value_and_grad_hand(W.CHAIN_X0)
    v2, t = W.chain_jvp_hand(W.CHAIN_X0)
    assert v == v2 == W.chain_value_hand(W.CHAIN_X0)
    assert W.chain_value_numpy(W.CHAIN_X0) == pytest.approx(v, rel=1e-14)
    assert g == pytest.approx(t, rel=1e-12)
    # the derivative is a product of 250 small factors (≈1e-23): check the recurrence on 10 steps
    x, h = W.CHAIN_X0, 1e-6

    def ten(x):
        for _ in range(10):
            x = math.sin(x) * 1.0001 + 0.1 * x
        return x
    dt, xx = 1.0, x
    for _ in range(10):
        dt *= math.cos(xx) * 1.0001 + 0.1
        xx = math.sin(xx) * 1.0001 + 0.1 * xx
    assert dt == pytest.approx((ten(x + h) - ten(x - h)) / (2 * h), rel=1e-8)


def test_mlp_hand_backprop_matches_finite_differences():
    params, X, Y = W.mlp_inputs()
    loss, grads = W.mlp_value_and_grad_hand(params, X, Y)
    assert loss == pytest.approx(W.mlp_loss(params, X, Y), rel=1e-13)
    rng = np.random.default_rng(3)
    for k, (p, g) in enumerate(zip(params, grads)):
        assert g.shape == p.shape
        for idx in [tuple(rng.integers(0, n) for n in p.shape)]:
            def f(t, k=k, idx=idx):
                ps = [q.copy() for q in params]
                ps[k][idx] = t[0]
                return W.mlp_loss(ps, X, Y)
            fd = central_diff(f, np.array([p[idx]]), h=1e-5)[0]
            assert g[idx] == pytest.approx(fd, rel=1e-5, abs=1e-9)


def test_w3_hand_jacobian_matches_finite_differences():
    A1, A2, x = W.w3_inputs(4, 16)
    J = W.w3_jacobian_hand(A1, A2, x)
    net = W.w3_function(A1, A2)
    assert J.shape == (16, 4)
    fd = np.stack([central_diff(lambda x: net(x)[k], x) for k in range(16)])
    np.testing.assert_allclose(J, fd, atol=1e-8)


def test_w4_hand_hvp_matches_finite_differences_of_the_gradient():
    A, x, v = W.w4_inputs()
    f = W.w4_function(A)
    g = W.w4_grad_hand(A, x)
    e = np.zeros_like(x)
    e[:3] = 1.0
    fd = central_diff(lambda t: f(x + t[0] * e), np.array([0.0]))[0]
    assert g @ e == pytest.approx(fd, rel=1e-7)
    hv = W.w4_hvp_hand(A, x, v)
    h = 1e-6
    fd_hv = (W.w4_grad_hand(A, x + h * v) - W.w4_grad_hand(A, x - h * v)) / (2 * h)
    np.testing.assert_allclose(hv, fd_hv, rtol=1e-6, atol=1e-7)


def test_w5_hand_backprop_matches_finite_differences():
    x0, Wm = W.w5_inputs()
    x0, Wm = x0[:2, :8], Wm[:8, :8]
    f = W.w5_function(5)
    v, (gx, gW) = W.w5_value_and_grad_hand(x0, Wm, 5)
    assert v == pytest.approx(f(x0, Wm), rel=1e-14)
    fdx = central_diff(lambda x: f(x.reshape(x0.shape), Wm), x0.ravel()).reshape(x0.shape)
    fdW = central_diff(lambda w: f(x0, w.reshape(Wm.shape)), Wm.ravel()).reshape(Wm.shape)
    np.testing.assert_allclose(gx, fdx, atol=1e-8)
    np.testing.assert_allclose(gW, fdW, atol=1e-8)


# ---- adnb agrees with the hand-written derivatives --------------------------------------------


def test_every_adnb_case_matches_its_reference(adnb_cases):
    expected = {"W1.book", "W1.book.explore", "W1.chain.rev", "W1.chain.fwd", "W1.chain.explore",
                "W2.mlp", "W4.hvp", "W4.hvp.fwd-rev", "W4.hvp.rev-fwd"}
    expected |= {f"W3.{m}.D{D}.K{K}" for m in ("fwd", "rev") for D in CFG["w3_sizes"]
                 for K in CFG["w3_sizes"]}
    assert set(adnb_cases) == expected
    for cid, (thunk, conv, ref) in adnb_cases.items():
        err = W.check_error(conv(thunk()), ref)
        assert err <= TOL, f"{cid}: relative error {err:.2e} against the hand-written reference"


def test_w1_closed_forms(adnb_cases):
    v, (g1, g2) = adnb.value_and_grad(W.book, argnums=(0, 1))(*W.BOOK_X)
    x1, x2 = W.BOOK_X
    assert v == pytest.approx(x1 * x2 + math.exp(x1 * x2) - math.sin(x2), rel=1e-15)
    assert g1 == pytest.approx(x2 * (1 + math.exp(x1 * x2)), rel=1e-14)
    assert g2 == pytest.approx(x1 * (1 + math.exp(x1 * x2)) - math.cos(x2), rel=1e-14)
    _, g = adnb.value_and_grad(W.chain)(W.CHAIN_X0)
    _, t = adnb.jvp(W.chain, (W.CHAIN_X0,), (1.0,))
    ref = W.chain_value_and_grad_hand(W.CHAIN_X0)[1]
    assert g == pytest.approx(ref, rel=1e-12) and t == pytest.approx(ref, rel=1e-12)
    tr = adnb.trace(W.chain, W.CHAIN_X0)
    assert tr.n_ops == W.CHAIN_OPS              # the chain really is 1,000 elementary ops


def test_w2_adnb_gradient_equals_hand_backprop():
    params, X, Y = W.mlp_inputs()
    loss, grads = adnb.value_and_grad(W.mlp_loss)(params, X, Y)
    hloss, hgrads = W.mlp_value_and_grad_hand(params, X, Y)
    assert loss == pytest.approx(hloss, rel=1e-12)
    for g, h in zip(grads, hgrads):
        assert g.shape == h.shape
        np.testing.assert_allclose(g, h, rtol=0, atol=1e-10 * max(1.0, np.abs(h).max()))


@pytest.mark.parametrize("D,K", [(1, 256), (256, 1), (16, 16)])
def test_w3_jacfwd_equals_jacrev_equals_hand(D, K):
    A1, A2, x = W.w3_inputs(D, K)
    net = W.w3_function(A1, A2)
    J = W.w3_jacobian_hand(A1, A2, x)
    Jf, Jr = adnb.jacfwd(net)(x), adnb.jacrev(net)(x)
    assert np.shape(Jf) == np.shape(Jr) == (K, D)
    np.testing.assert_allclose(Jf, J, atol=1e-12)
    np.testing.assert_allclose(Jr, J, atol=1e-12)


@pytest.mark.parametrize("method", [None, "forward-over-reverse", "reverse-over-forward"])
def test_w4_hvp_equals_hand_hvp(method):
    A, x, v = W.w4_inputs()
    hv = adnb.hvp(W.w4_function(A), x, v, method=method)
    np.testing.assert_allclose(hv, W.w4_hvp_hand(A, x, v), rtol=0, atol=1e-12)


def test_w5_adnb_gradient_equals_hand_backprop():
    x0, Wm = W.w5_inputs()
    v, (gx, gW) = adnb.value_and_grad(W.w5_function(30), argnums=(0, 1))(x0, Wm)
    hv, (hx, hW) = W.w5_value_and_grad_hand(x0, Wm, 30)
    assert v == pytest.approx(hv, rel=1e-12)
    np.testing.assert_allclose(gx, hx, atol=1e-12)
    np.testing.assert_allclose(gW, hW, atol=1e-10)


# ---- peer systems (when installed): same answers ---------------------------------------------------


def test_hand_and_cheap_peer_cases_match_references():
    refs = W.references(CFG)
    for system in ("numpy-hand", "micrograd", "autograd"):
        if system != "numpy-hand" and systems.version(system) is None:
            continue
        for cid, (thunk, conv) in systems.build(system, CFG).items():
            if cid.startswith("W3.") and "D256" in cid:
                continue                       # autograd's looped forward mode: slow, same code
            err = W.check_error(conv(thunk()), refs[W.ref_key(cid)])
            assert err <= 1e-9, f"{system} {cid}: {err:.2e}"


# ---- the harness runs end to end ------------------------------------------------------------------


def test_harness_runs_quick_on_adnb(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, os.path.join(REPO, "benchmarks", "run.py"), "--quick", "--only", "W1,W4,W5",
         "--systems", "adnb,numpy-hand", "--repeats", "1", "--silent", "--json", str(out)],
        capture_output=True, text=True, timeout=120, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = proc.stdout
    for needle in ("W1 book", "W1 chain, 1,000 ops: reverse", "forward JVP", "W4 HVP",
                   "Targets (issue 3)", "adnb explore: trace+reverse", "correctness: all"):
        assert needle in text, needle
    res = json.loads(out.read_text())
    for cid in ("W1.book", "W1.chain.rev", "W1.chain.fwd", "W4.hvp", "W4.hvp.fwd-rev"):
        c = res["cases"]["adnb"][cid]
        assert c["err"] <= TOL and c["median"] > 0
    assert {t["status"] for t in res["targets"]} <= {"PASS", "MISS", None}
    # W5: the memory measurement works and is plausible (reverse mode needs ≥ 1 activation/step)
    assert "W5 memory" in text
    for system in ("adnb", "numpy-hand"):
        m = res["memory"][system]
        assert m["err"] <= TOL and m["peak_vg"] > m["peak_f"] > 0
        assert 0.8 < m["per_step"] < 5, (system, m)
    assert 0.9 < res["memory"]["adnb"]["kept_lean"] < 3
