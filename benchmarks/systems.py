"""Each system's idiomatic version of the workloads, as timing cases.

``build(system, cfg)`` returns ``{case id: (thunk, to_array)}``: ``thunk()`` does one timed call
(value and derivative), ``to_array(result)`` flattens its result for the check against the
hand-written reference (``workloads.references``). A system skips the cases it cannot express.

Systems (each runs in its own worker process; peers are imported only in their own worker):

* ``adnb`` — the user's plain numpy functions of ``workloads.py`` (``np.sin``), with
  ``adnb.value_and_grad`` / ``jvp`` / ``jacfwd`` / ``jacrev`` / ``hvp``; also the explore path
  (``adnb.trace(f, ...).reverse()``) as extra cases.
* ``autograd`` — HIPS autograd with ``autograd.numpy``: ``value_and_grad``, ``make_jvp``,
  ``jacobian``, ``hessian_vector_product``.
* ``torch`` — PyTorch eager on CPU, float64: leaf tensors (0-d for W1) created once outside the
  timed call, ``torch.autograd.grad``; forward mode by ``torch.autograd.forward_ad`` dual tensors;
  HVP by double backward.
* ``jax`` / ``jax-jit`` — ``jax.value_and_grad`` / ``jax.jvp`` / ``jax.jvp(jax.grad(f))``, without
  and with ``jax.jit`` (compiled during warm-up); results are ``block_until_ready``'d.
* ``micrograd`` — Karpathy's micrograd (PyPI ``micrograd`` 0.1): scalar ``Value`` ops. It has no
  ``sin`` or ``exp``: the benchmark adds both as small custom ops written exactly like micrograd's own
  (a new ``Value`` with a ``_backward`` closure), see ``_micrograd_ops``. Its recursive topological
  sort needs ``sys.setrecursionlimit`` raised for the 1,000-op chain. No forward mode, no arrays:
  W1 reverse only.
* ``numpy-hand`` — the hand-written references: value-only chain in Python floats (``math.sin``),
  hand-coded reverse/forward for the chain, hand backprop for W2, hand HVP for W4.
"""
from __future__ import annotations

import math
import sys

import numpy as np

from . import workloads as W

SYSTEMS = ("adnb", "autograd", "torch", "jax", "jax-jit", "micrograd", "numpy-hand")
# which workloads each system takes part in (W5 is measured for the systems in memory.py)
WORKLOADS = {"adnb": "W1 W2 W3 W4 W5", "autograd": "W1 W2 W3 W4 W5", "torch": "W1 W2 W4 W5",
             "jax": "W1 W2 W4", "jax-jit": "W1 W2 W4", "micrograd": "W1",
             "numpy-hand": "W1 W2 W4 W5"}
MODULE = {"adnb": "adnb", "autograd": "autograd", "torch": "torch", "jax": "jax",
          "jax-jit": "jax", "micrograd": "micrograd", "numpy-hand": "numpy"}


def build(system, cfg):
    return {
        "adnb": _adnb, "autograd": _autograd, "torch": _torch, "jax": _jax_eager,
        "jax-jit": _jax_jit, "micrograd": _micrograd, "numpy-hand": _hand,
    }[system](cfg)


def version(system):
    mod = MODULE[system]
    try:
        m = __import__(mod)
    except Exception:
        return None
    v = getattr(m, "__version__", None)
    if v is None:
        try:
            from importlib.metadata import version as _v
            v = _v(mod)
        except Exception:
            v = "?"
    return v


# ---- adnb ---------------------------------------------------------------------------------------


def _adnb(cfg):
    return {k: (thunk, conv) for k, (thunk, conv, _ref) in W.adnb_cases(cfg).items()}


# ---- numpy, by hand -----------------------------------------------------------------------------


def _hand(cfg):
    cases = {
        "W1.book": (lambda: W.book_value_and_grad_hand(*W.BOOK_X), W.flat),
        "W1.chain.value": (lambda: W.chain_value_hand(W.CHAIN_X0), W.flat),
        "W1.chain.value.np": (lambda: W.chain_value_numpy(W.CHAIN_X0), W.flat),
        "W1.chain.rev": (lambda: W.chain_value_and_grad_hand(W.CHAIN_X0), W.flat),
        "W1.chain.fwd": (lambda: W.chain_jvp_hand(W.CHAIN_X0), W.flat),
    }
    params, X, Y = W.mlp_inputs()
    cases["W2.mlp"] = (lambda: W.mlp_value_and_grad_hand(params, X, Y), W.flat)
    A, x, v = W.w4_inputs()
    cases["W4.hvp"] = (lambda: W.w4_hvp_hand(A, x, v), W.flat)
    return cases


# ---- HIPS autograd --------------------------------------------------------------------------------


def _autograd(cfg):
    import autograd
    import autograd.numpy as anp

    def book(x1, x2):
        return x1 * x2 + anp.exp(x1 * x2) - anp.sin(x2)

    def chain(x):
        for _ in range(W.CHAIN_STEPS):
            x = anp.sin(x) * 1.0001 + 0.1 * x
        return x

    def mlp_loss(params, X, Y):
        W1, b1, W2, b2, W3, b3 = params
        h1 = anp.tanh(X @ W1 + b1)
        h2 = anp.tanh(h1 @ W2 + b2)
        z = h2 @ W3 + b3
        m = anp.max(z, axis=1, keepdims=True)
        lse = m + anp.log(anp.sum(anp.exp(z - m), axis=1, keepdims=True))
        return -anp.sum(Y * (z - lse)) / X.shape[0]

    vg_book = autograd.value_and_grad(book, (0, 1))
    vg_chain = autograd.value_and_grad(chain)
    jvp_chain = autograd.make_jvp(chain)
    cases = {
        "W1.book": (lambda: vg_book(*W.BOOK_X), W.flat),
        "W1.chain.rev": (lambda: vg_chain(W.CHAIN_X0), W.flat),
        "W1.chain.fwd": (lambda: jvp_chain(W.CHAIN_X0)(1.0), W.flat),
    }
    params, X, Y = W.mlp_inputs()
    vg_mlp = autograd.value_and_grad(mlp_loss)
    cases["W2.mlp"] = (lambda: vg_mlp(params, X, Y), W.flat)

    for D in cfg["w3_sizes"]:
        for K in cfg["w3_sizes"]:
            A1, A2, x = W.w3_inputs(D, K)

            def net(x, A1=A1, A2=A2):
                return anp.tanh(A2 @ anp.tanh(A1 @ x))
            jrev = autograd.jacobian(net)
            eye = np.eye(D)

            def jfwd(x, net=net, eye=eye, D=D):
                # forward mode, one make_jvp pass per input direction (D columns)
                jvp = autograd.make_jvp(net)(x)
                return np.stack([jvp(eye[i])[1] for i in range(D)], axis=1)
            cases[f"W3.fwd.D{D}.K{K}"] = (lambda jfwd=jfwd, x=x: jfwd(x), W.flat)
            cases[f"W3.rev.D{D}.K{K}"] = (lambda jrev=jrev, x=x: jrev(x), W.flat)

    A, x4, v4 = W.w4_inputs()

    def f4(x):
        return anp.sum(anp.tanh(A @ x)) + x @ x / 2
    hvp = autograd.hessian_vector_product(f4)
    cases["W4.hvp"] = (lambda: hvp(x4, v4), W.flat)
    return cases


# ---- PyTorch ----------------------------------------------------------------------------------------


def _torch(cfg):
    import torch
    import torch.autograd.forward_ad as fwAD
    torch.set_num_threads(1)
    f64 = torch.float64

    def book(x1, x2):
        return x1 * x2 + torch.exp(x1 * x2) - torch.sin(x2)

    def chain(x):
        for _ in range(W.CHAIN_STEPS):
            x = torch.sin(x) * 1.0001 + 0.1 * x
        return x

    x1 = torch.tensor(W.BOOK_X[0], dtype=f64, requires_grad=True)
    x2 = torch.tensor(W.BOOK_X[1], dtype=f64, requires_grad=True)

    def book_vg():
        y = book(x1, x2)
        return y, torch.autograd.grad(y, (x1, x2))

    xc = torch.tensor(W.CHAIN_X0, dtype=f64, requires_grad=True)

    def chain_vg():
        y = chain(xc)
        return y, torch.autograd.grad(y, xc)

    xp = torch.tensor(W.CHAIN_X0, dtype=f64)
    tp = torch.tensor(1.0, dtype=f64)

    def chain_jvp():
        with fwAD.dual_level():
            y = chain(fwAD.make_dual(xp, tp))
            p, t = fwAD.unpack_dual(y)
            return p.detach().clone(), t.clone()

    cases = {
        "W1.book": (book_vg, W.flat),
        "W1.chain.rev": (chain_vg, W.flat),
        "W1.chain.fwd": (chain_jvp, W.flat),
    }

    params_np, X_np, Y_np = W.mlp_inputs()
    params = [torch.tensor(p, dtype=f64, requires_grad=True) for p in params_np]
    X, Y = torch.tensor(X_np, dtype=f64), torch.tensor(Y_np, dtype=f64)

    def mlp_vg():
        W1, b1, W2, b2, W3, b3 = params
        h1 = torch.tanh(X @ W1 + b1)
        h2 = torch.tanh(h1 @ W2 + b2)
        z = h2 @ W3 + b3
        m = torch.amax(z, dim=1, keepdim=True)
        lse = m + torch.log(torch.sum(torch.exp(z - m), dim=1, keepdim=True))
        loss = -torch.sum(Y * (z - lse)) / X.shape[0]
        return loss, torch.autograd.grad(loss, params)
    cases["W2.mlp"] = (mlp_vg, W.flat)

    A_np, x_np, v_np = W.w4_inputs()
    A, v = torch.tensor(A_np, dtype=f64), torch.tensor(v_np, dtype=f64)
    x4 = torch.tensor(x_np, dtype=f64, requires_grad=True)

    def hvp():
        # double backward: g = ∇f with create_graph, then ∇(g·v)
        y = torch.sum(torch.tanh(A @ x4)) + x4 @ x4 / 2
        g, = torch.autograd.grad(y, x4, create_graph=True)
        hv, = torch.autograd.grad(g @ v, x4)
        return hv
    cases["W4.hvp"] = (hvp, W.flat)
    return cases


# ---- JAX --------------------------------------------------------------------------------------------


def _jax_fns():
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    def book(x1, x2):
        return x1 * x2 + jnp.exp(x1 * x2) - jnp.sin(x2)

    def chain(x):
        for _ in range(W.CHAIN_STEPS):
            x = jnp.sin(x) * 1.0001 + 0.1 * x
        return x

    def mlp_loss(params, X, Y):
        W1, b1, W2, b2, W3, b3 = params
        h1 = jnp.tanh(X @ W1 + b1)
        h2 = jnp.tanh(h1 @ W2 + b2)
        z = h2 @ W3 + b3
        m = jnp.max(z, axis=1, keepdims=True)
        lse = m + jnp.log(jnp.sum(jnp.exp(z - m), axis=1, keepdims=True))
        return -jnp.sum(Y * (z - lse)) / X.shape[0]

    A_np, x_np, v_np = W.w4_inputs()
    A = jnp.asarray(A_np)

    def f4(x):
        return jnp.sum(jnp.tanh(A @ x)) + x @ x / 2

    fns = {
        "W1.book": jax.value_and_grad(book, argnums=(0, 1)),
        "W1.chain.rev": jax.value_and_grad(chain),
        "W1.chain.fwd": lambda x, t: jax.jvp(chain, (x,), (t,)),
        "W2.mlp": jax.value_and_grad(mlp_loss),
        "W4.hvp": lambda x, v: jax.jvp(jax.grad(f4), (x,), (v,))[1],
    }
    params, X, Y = W.mlp_inputs()
    args = {
        "W1.book": tuple(jnp.asarray(a) for a in W.BOOK_X),
        "W1.chain.rev": (jnp.asarray(W.CHAIN_X0),),
        "W1.chain.fwd": (jnp.asarray(W.CHAIN_X0), jnp.asarray(1.0)),
        "W2.mlp": (tuple(jnp.asarray(p) for p in params), jnp.asarray(X), jnp.asarray(Y)),
        "W4.hvp": (jnp.asarray(x_np), jnp.asarray(v_np)),
    }
    return jax, fns, args


def _jax_cases(jit):
    jax, fns, args = _jax_fns()
    cases = {}
    for k, fn in fns.items():
        fn = jax.jit(fn) if jit else fn
        a = args[k]
        cases[k] = ((lambda fn=fn, a=a: jax.block_until_ready(fn(*a))), W.flat)
    return cases


def _jax_eager(cfg):
    return _jax_cases(jit=False)


def _jax_jit(cfg):
    return _jax_cases(jit=True)


# ---- micrograd ---------------------------------------------------------------------------------------


def _micrograd_ops():
    """sin and exp for micrograd's Value, written the way micrograd writes its own ops."""
    from micrograd.engine import Value

    def vsin(v):
        out = Value(math.sin(v.data), (v,), "sin")

        def _backward():
            v.grad += math.cos(v.data) * out.grad
        out._backward = _backward
        return out

    def vexp(v):
        out = Value(math.exp(v.data), (v,), "exp")

        def _backward():
            v.grad += out.data * out.grad
        out._backward = _backward
        return out
    return Value, vsin, vexp


def _micrograd(cfg):
    Value, vsin, vexp = _micrograd_ops()
    # micrograd's topological sort is recursive: a 1,000-op chain is deeper than Python's default
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20 * W.CHAIN_OPS))

    def book_vg():
        x1, x2 = Value(W.BOOK_X[0]), Value(W.BOOK_X[1])
        y = x1 * x2 + vexp(x1 * x2) - vsin(x2)
        y.backward()
        return y.data, (x1.grad, x2.grad)

    def chain_vg():
        x0 = Value(W.CHAIN_X0)
        x = x0
        for _ in range(W.CHAIN_STEPS):
            x = vsin(x) * 1.0001 + 0.1 * x
        x.backward()
        return x.data, x0.grad

    return {"W1.book": (book_vg, W.flat), "W1.chain.rev": (chain_vg, W.flat)}
