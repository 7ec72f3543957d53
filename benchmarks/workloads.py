"""The fixed workloads of issue 3, as plain numpy code, with hand-written derivatives.

Every workload function here is ordinary numpy (``np.sin``, ``@``, ``np.tanh``): exactly what a
learner hands to ``adnb.grad`` / ``adnb.jacfwd`` / ``adnb.hvp``.  Next to each one sits its
derivative written by hand (closed forms, hand-coded backprop, a hand-written HVP): the references
for the benchmark's ratios, and for ``tests/test_benchmarks.py``, which checks adnb (and the
harness) against them so the benchmark cannot rot.

This module imports only numpy (adnb is imported lazily by the ``adnb_*`` helpers), so every
benchmark worker — including the PyTorch / JAX / micrograd ones — can use its inputs and references.

Inputs are deterministic (fixed seeds); ``config(quick)`` gives the sizes used by a run.
"""
from __future__ import annotations

import math

import numpy as np

# ---- sizes -----------------------------------------------------------------------------------

CHAIN_STEPS = 250            # x = sin(x)*1.0001 + 0.1*x  → 4 elementary ops per step
CHAIN_OPS = 4 * CHAIN_STEPS  # = 1,000
BOOK_X = (1.5, 0.5)
CHAIN_X0 = 0.3

MLP_BATCH = 256
MLP_WIDTHS = (784, 256, 256, 10)

W3_HIDDEN = 64
W3_SIZES_FULL = (1, 4, 16, 64, 256)
W3_SIZES_QUICK = (1, 16, 256)

W4_D = 1000

W5_BATCH, W5_WIDTH = 32, 256
W5_STEPS_FULL = 2000
W5_STEPS_QUICK = 250
W5_ACT_BYTES = W5_BATCH * W5_WIDTH * 8       # one float64 activation, 64 KiB


def config(quick=False):
    """Sizes of a run: the quick mode shrinks the W3 grid and the W5 chain (per-step figure)."""
    return {
        "quick": bool(quick),
        "w3_sizes": W3_SIZES_QUICK if quick else W3_SIZES_FULL,
        "w5_steps": W5_STEPS_QUICK if quick else W5_STEPS_FULL,
    }


# ---- W1: the book's f(x1, x2), and a 1,000-operation scalar chain --------------------------------


def book(x1, x2):
    """The book's example (Bishop & Bishop §8.2): f = x1 x2 + exp(x1 x2) − sin(x2)."""
    return x1 * x2 + np.exp(x1 * x2) - np.sin(x2)


def book_value_and_grad_hand(x1, x2):
    """Closed form: ∂f/∂x1 = x2 (1 + e^{x1 x2}), ∂f/∂x2 = x1 (1 + e^{x1 x2}) − cos x2."""
    a = x1 * x2
    e = math.exp(a)
    return a + e - math.sin(x2), (x2 * (1.0 + e), x1 * (1.0 + e) - math.cos(x2))


def chain(x):
    """250 × (sin, ×1.0001, 0.1×, +): 1,000 elementary scalar operations."""
    for _ in range(CHAIN_STEPS):
        x = np.sin(x) * 1.0001 + 0.1 * x
    return x


def chain_value_hand(x):
    """The chain in plain Python floats (``math.sin``): the 'hand-written' value-only reference."""
    sin = math.sin
    for _ in range(CHAIN_STEPS):
        x = sin(x) * 1.0001 + 0.1 * x
    return x


def chain_value_numpy(x):
    """The same chain as plain numpy on Python floats (``np.sin``), value only: the issue's
    'hand-written numpy' reference (about 0.29 µs per operation)."""
    sin = np.sin
    for _ in range(CHAIN_STEPS):
        x = sin(x) * 1.0001 + 0.1 * x
    return x


def chain_value_and_grad_hand(x):
    """Hand-written reverse mode: store the x_k, then x̄ ← x̄ (1.0001 cos x_k + 0.1) backwards."""
    sin, cos = math.sin, math.cos
    xs = []
    for _ in range(CHAIN_STEPS):
        xs.append(x)
        x = sin(x) * 1.0001 + 0.1 * x
    g = 1.0
    for xk in reversed(xs):
        g *= cos(xk) * 1.0001 + 0.1
    return x, g


def chain_jvp_hand(x, t=1.0):
    """Hand-written forward mode: ẋ ← (1.0001 cos x + 0.1) ẋ alongside x."""
    sin, cos = math.sin, math.cos
    for _ in range(CHAIN_STEPS):
        t = (cos(x) * 1.0001 + 0.1) * t
        x = sin(x) * 1.0001 + 0.1 * x
    return x, t


# ---- W2: MLP loss, batch 256, 784-256-256-10, tanh, softmax cross-entropy ------------------------


def mlp_inputs(seed=0, batch=MLP_BATCH, widths=MLP_WIDTHS):
    """(params, X, Y): params = (W1, b1, W2, b2, W3, b3); Y one-hot labels."""
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(widths[:-1], widths[1:]):
        params.append(rng.standard_normal((n_in, n_out)) / math.sqrt(n_in))
        params.append(0.1 * rng.standard_normal(n_out))
    X = rng.standard_normal((batch, widths[0]))
    labels = rng.integers(0, widths[-1], size=batch)
    Y = np.zeros((batch, widths[-1]))
    Y[np.arange(batch), labels] = 1.0
    return tuple(params), X, Y


def mlp_loss(params, X, Y):
    """Mean softmax cross-entropy of a tanh MLP (log-sum-exp with max subtraction)."""
    W1, b1, W2, b2, W3, b3 = params
    h1 = np.tanh(X @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    z = h2 @ W3 + b3
    m = np.max(z, axis=1, keepdims=True)
    lse = m + np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))
    return -np.sum(Y * (z - lse)) / X.shape[0]


def mlp_value_and_grad_hand(params, X, Y):
    """The same loss with its gradient written by hand (textbook backprop)."""
    W1, b1, W2, b2, W3, b3 = params
    B = X.shape[0]
    h1 = np.tanh(X @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    z = h2 @ W3 + b3
    m = np.max(z, axis=1, keepdims=True)
    ez = np.exp(z - m)
    s = np.sum(ez, axis=1, keepdims=True)
    lse = m + np.log(s)
    loss = -np.sum(Y * (z - lse)) / B
    dz = (ez / s - Y) / B                 # softmax − onehot, averaged
    dW3 = h2.T @ dz
    db3 = dz.sum(axis=0)
    da2 = (dz @ W3.T) * (1.0 - h2 * h2)
    dW2 = h1.T @ da2
    db2 = da2.sum(axis=0)
    da1 = (da2 @ W2.T) * (1.0 - h1 * h1)
    dW1 = X.T @ da1
    db1 = da1.sum(axis=0)
    return loss, (dW1, db1, dW2, db2, dW3, db3)


# ---- W3: y = tanh(A2 tanh(A1 x)), R^D → R^K, hidden 64 -------------------------------------------


def w3_inputs(D, K, seed=0, hidden=W3_HIDDEN):
    """(A1, A2, x) with A1: hidden×D, A2: K×hidden."""
    rng = np.random.default_rng(1000 * D + K + seed)
    A1 = rng.standard_normal((hidden, D)) / math.sqrt(D)
    A2 = rng.standard_normal((K, hidden)) / math.sqrt(hidden)
    x = rng.standard_normal(D)
    return A1, A2, x


def w3_function(A1, A2):
    """The map x ↦ tanh(A2 tanh(A1 x)), closing over the (constant) matrices."""
    def net(x):
        return np.tanh(A2 @ np.tanh(A1 @ x))
    return net


def w3_jacobian_hand(A1, A2, x):
    """J = diag(1 − y²) A2 diag(1 − h²) A1, shape K×D."""
    h = np.tanh(A1 @ x)
    y = np.tanh(A2 @ h)
    return ((1.0 - y * y)[:, None] * A2) @ ((1.0 - h * h)[:, None] * A1)


# ---- W4: f(x) = Σ tanh(Ax) + x·x/2, D = 1,000: Hessian-vector product -----------------------------


def w4_inputs(seed=0, D=W4_D):
    """(A, x, v)."""
    rng = np.random.default_rng(seed + 4)
    A = rng.standard_normal((D, D)) / math.sqrt(D)
    x = rng.standard_normal(D)
    v = rng.standard_normal(D)
    return A, x, v


def w4_function(A):
    def f(x):
        return np.sum(np.tanh(A @ x)) + x @ x / 2
    return f


def w4_hvp_hand(A, x, v):
    """H v = Aᵀ (−2 t (1 − t²) ⊙ A v) + v with t = tanh(Ax)."""
    t = np.tanh(A @ x)
    return A.T @ (-2.0 * t * (1.0 - t * t) * (A @ v)) + v


def w4_grad_hand(A, x):
    t = np.tanh(A @ x)
    return A.T @ (1.0 - t * t) + x


# ---- W5: 2,000 steps of x = tanh(x @ W), 32×256 activations: memory -------------------------------


def w5_inputs(seed=0):
    """(x0, W): x0 is 32×256, W is 256×256 (scaled so the activations stay O(1))."""
    rng = np.random.default_rng(seed + 5)
    x0 = rng.standard_normal((W5_BATCH, W5_WIDTH))
    W = rng.standard_normal((W5_WIDTH, W5_WIDTH)) / math.sqrt(W5_WIDTH)
    return x0, W


def w5_function(steps):
    """f(x0, W) = Σ x_steps with x_{k+1} = tanh(x_k @ W); value+grad is taken w.r.t. (x0, W)."""
    def f(x, W):
        for _ in range(steps):
            x = np.tanh(x @ W)
        return np.sum(x)
    return f


def w5_value_and_grad_hand(x, W, steps):
    """Hand-written backprop: keeps exactly one activation per step (x_{k+1}, which also is the
    input of the next matmul)."""
    xs = [x]
    for _ in range(steps):
        x = np.tanh(x @ W)
        xs.append(x)
    value = np.sum(x)
    gx = np.ones_like(x)
    gW = np.zeros_like(W)
    for k in range(steps, 0, -1):
        ga = gx * (1.0 - xs[k] * xs[k])     # through tanh, from its output
        gW += xs[k - 1].T @ ga
        gx = ga @ W.T
        xs[k] = None
    return value, (gx, gW)


# ---- references: the hand-written results each case is checked against -------------------------


def references(cfg):
    """{reference key: list of arrays (parts)} from the hand-written derivatives."""
    refs = {}
    v, g = book_value_and_grad_hand(*BOOK_X)
    refs["W1.book"] = [np.array([v]), np.array(g)]
    v, g = chain_value_and_grad_hand(CHAIN_X0)
    refs["W1.chain"] = [np.array([v]), np.array([g])]
    refs["W1.chain.value"] = [np.array([v])]
    v, t = chain_jvp_hand(CHAIN_X0)
    refs["W1.chain.fwd"] = [np.array([v]), np.array([t])]
    params, X, Y = mlp_inputs()
    v, g = mlp_value_and_grad_hand(params, X, Y)
    refs["W2.mlp"] = [np.array([v])] + [gi.ravel() for gi in g]
    for D in cfg["w3_sizes"]:
        for K in cfg["w3_sizes"]:
            A1, A2, x = w3_inputs(D, K)
            refs[f"W3.D{D}.K{K}"] = [w3_jacobian_hand(A1, A2, x).ravel()]
    A, x, v = w4_inputs()
    refs["W4.hvp"] = [w4_hvp_hand(A, x, v)]
    return refs


def ref_key(case):
    """The reference a case id is checked against: 'W1.book.explore' → 'W1.book',
    'W1.chain.rev' → 'W1.chain', 'W3.fwd.D1.K4' → 'W3.D1.K4', 'W4.hvp.rev-fwd' → 'W4.hvp'."""
    parts = case.split(".")
    if parts[0] == "W1":
        return ".".join(parts[:2]) + ("." + parts[2] if parts[2:3] in (["fwd"], ["value"]) else "")
    if parts[0] == "W3":
        return ".".join([parts[0]] + parts[2:])
    return ".".join(parts[:2])


def check_error(result_flat, ref_parts):
    """Largest error of a flat result against the reference parts, each part measured relative
    to its own largest entry (so a tiny gradient next to an O(1) value is still checked)."""
    sizes = [p.size for p in ref_parts]
    if result_flat.size != sum(sizes):
        return float("inf")
    err, i = 0.0, 0
    for p in ref_parts:
        a = result_flat[i:i + p.size]
        i += p.size
        scale = float(np.max(np.abs(p))) if p.size else 1.0
        scale = scale if scale > 0 else 1.0
        err = max(err, float(np.max(np.abs(a - p))) / scale if p.size else 0.0)
    return err


# ---- adnb versions (what a learner writes) ------------------------------------------------------


def adnb_cases(cfg):
    """adnb's callables for every workload: {case id: (thunk, to_array, reference array)}.

    Used by the adnb benchmark worker and by tests/test_benchmarks.py.
    """
    import adnb
    refs = references(cfg)
    cases = {}

    vg_book = adnb.value_and_grad(book, argnums=(0, 1))
    cases["W1.book"] = (lambda: vg_book(*BOOK_X), flat_value_grad)
    cases["W1.book.explore"] = (lambda: adnb.trace(book, *BOOK_X).reverse(), flat_reverse_result)

    vg_chain = adnb.value_and_grad(chain)
    cases["W1.chain.rev"] = (lambda: vg_chain(CHAIN_X0), flat_value_grad)
    cases["W1.chain.fwd"] = (lambda: adnb.jvp(chain, (CHAIN_X0,), (1.0,)), flat_value_grad)
    cases["W1.chain.explore"] = (lambda: adnb.trace(chain, CHAIN_X0).reverse(),
                                 flat_reverse_result)

    params, X, Y = mlp_inputs()
    vg_mlp = adnb.value_and_grad(mlp_loss)
    cases["W2.mlp"] = (lambda: vg_mlp(params, X, Y), flat_value_grad)

    for D in cfg["w3_sizes"]:
        for K in cfg["w3_sizes"]:
            A1, A2, x = w3_inputs(D, K)
            net = w3_function(A1, A2)
            jf, jr = adnb.jacfwd(net), adnb.jacrev(net)
            cases[f"W3.fwd.D{D}.K{K}"] = (lambda jf=jf, x=x: jf(x), flat)
            cases[f"W3.rev.D{D}.K{K}"] = (lambda jr=jr, x=x: jr(x), flat)

    A, x4, v4 = w4_inputs()
    f4 = w4_function(A)
    cases["W4.hvp"] = (lambda: adnb.hvp(f4, x4, v4), flat)       # the default (second-order sweep)
    cases["W4.hvp.fwd-rev"] = (lambda: adnb.hvp(f4, x4, v4, method="forward-over-reverse"), flat)
    cases["W4.hvp.rev-fwd"] = (lambda: adnb.hvp(f4, x4, v4, method="reverse-over-forward"), flat)
    return {k: (thunk, conv, refs[ref_key(k)]) for k, (thunk, conv) in cases.items()}


# ---- converting results to flat float64 arrays (for checks) --------------------------------------


def flat(x):
    """Any nest of numbers/arrays/tensors → one flat float64 array."""
    if isinstance(x, (tuple, list)):
        parts = [flat(p) for p in x]
        return np.concatenate(parts) if parts else np.zeros(0)
    if hasattr(x, "detach"):                       # torch tensor
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64).ravel()


def flat_value_grad(res):
    """(value, grad-or-tuple-of-grads) → [value, *grads]."""
    return flat(res)


def flat_reverse_result(r):
    """An adnb ReverseResult → [output value, *gradient] (its trace holds the value)."""
    return flat([r.trace.output_values[0], r.gradient(0)])
