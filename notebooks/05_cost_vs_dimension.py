# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 05 · Cost against dimension
#
# *Course notebook for Bishop & Bishop (2024), §8.1.4, §8.2.1 and §8.2.2: the cost statements.*
#
# The book makes five claims about cost. Each section below measures one of them:
#
# 1. one pass of forward or reverse mode costs no more than about **6×** one evaluation of the
#    function, typically 2–3× (§8.2.2, citing Griewank & Walther 2008);
# 2. a gradient by finite differences costs $O(W^2)$ for $W$ weights, by backpropagation $O(W)$
#    (§8.1.4), and central differences take about twice the evaluations of forward differences;
# 3. forward mode needs one pass per **input**, reverse mode one per **output**, so forward mode
#    suits $K \gg D$ and reverse mode $D \gg K$ (§8.2.1, §8.2.2);
# 4. reverse mode must **store** the intermediate values of the whole computation; forward mode can
#    discard them as it goes (§8.2.2).
#
# Wall-clock time in pure Python is dominated by interpreter overhead, so we assert on
# **operation counts** (deterministic: `adnb.count_cost()` counts every elementary operation and
# floating-point operation, per phase) and show times beside them.

# %%
import time
import tracemalloc

import matplotlib.pyplot as plt
import numpy as np

import adnb

plt.rcParams.update({"figure.figsize": (5.5, 3.6), "figure.dpi": 80})


def best_time(fn, repeat=3):
    """Best of `repeat` wall-clock timings, in seconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def loglog_slope(x, y):
    return np.polyfit(np.log(x), np.log(y), 1)[0]

# %% [markdown]
# ## 1. What one pass costs
#
# `count_cost()` attributes every elementary operation to a phase: `primal` (evaluating $f$),
# `tangent` (forward-mode rules) or `adjoint` (reverse-mode rules). The cost of a derivative pass
# relative to the function is then (primal + derivative ops) / primal ops. We measure it for one
# forward pass (`jvp`) and one reverse pass (`grad`) on the functions of the previous notebooks:

# %%
def f849(x1, x2):                 # eq. (8.49)
    v3 = x1 * x2
    return v3 + np.exp(v3) - np.sin(x2)


def softplus_net(x, w1, b1, w2, b2):   # eq. (8.47)
    h = lambda a: np.log(1 + np.exp(a))  # noqa: E731
    return h(w2 * h(w1 * x + b1) + b2)


def logistic(x, n=20):            # Exercise 8.14, 20 steps
    for _ in range(n - 1):
        x = 4 * x * (1 - x)
    return x


rng = np.random.default_rng(0)
Xd, td = rng.standard_normal((50, 4)), rng.standard_normal(50)


def mlp_error(w):                 # two-layer tanh network, sum-of-squares error, W = 8*4 + 8
    W1, w2 = np.reshape(w[:32], (8, 4)), w[32:]
    return 0.5 * np.sum((np.tanh(Xd @ W1.T) @ w2 - td) ** 2)


cases = {"eq. (8.49)": (f849, (1.0, 2.0)),
         "softplus net (8.47)": (softplus_net, (1.5, 0.8, -0.3, 1.2, 0.5)),
         "logistic map, 20 steps": (logistic, (0.3,)),
         "tanh MLP error, W=40": (mlp_error, (0.3 * rng.standard_normal(40),))}

print(f"{'function':24s} {'primal ops':>10s}  {'fwd pass / f':>12s}  {'rev pass / f':>12s}   "
      f"wall time: fwd / f, rev / f")
ratios = []
for name, (fn, args) in cases.items():
    ones = tuple(np.ones_like(a) if np.ndim(a) else 1.0 for a in args)
    every = tuple(range(len(args)))
    with adnb.count_cost() as cf:
        adnb.jvp(fn, args, ones)                     # one forward pass
    with adnb.count_cost() as cr:
        adnb.grad(fn, argnums=every)(*args)          # one reverse pass
    r_fwd = (cf.ops["primal"] + cf.ops["tangent"]) / cf.ops["primal"]
    r_rev = (cr.ops["primal"] + cr.ops["adjoint"]) / cr.ops["primal"]
    t_f = best_time(lambda: fn(*args), 5)
    t_fwd = best_time(lambda: adnb.jvp(fn, args, ones), 5)
    t_rev = best_time(lambda: adnb.grad(fn, argnums=every)(*args), 5)
    ratios.append((r_fwd, r_rev))
    print(f"{name:24s} {cf.ops['primal']:10d}  {r_fwd:12.2f}  {r_rev:12.2f}   "
          f"{t_fwd / t_f:8.0f}× {t_rev / t_f:8.0f}×")
    assert cf.forward_passes == 1 and cr.reverse_passes == 1
    assert 1 <= r_fwd <= 6 and 1 <= r_rev <= 6, (name, r_fwd, r_rev)
assert 2 <= ratios[0][0] <= 3 and 2 <= ratios[0][1] <= 3      # "typically 2–3×" on eq. (8.49)

# %% [markdown]
# Counted in operations, one pass of either mode costs between 1× and 6× the function, and about
# 2–3× for the book's example, as claimed. The wall-time columns are a different story: a plain
# numpy call costs microseconds, while adnb pays Python-level bookkeeping on every operation, so
# the time ratio says more about the interpreter than about AD. Production AD systems remove that
# overhead by compiling; the *operation count* is the part of the claim that carries over.
#
# ## 2. Finite differences: $O(W^2)$; reverse mode: $O(W)$
#
# A network error $E(w)$ with $W$ weights costs $O(W)$ to evaluate (a multiply–add per weight and
# data point). Central differences evaluate it $2W$ times (forward differences $W + 1$ times), so
# a numerical gradient costs $O(W^2)$; one reverse pass costs $O(W)$. We grow a two-layer tanh
# network (8 inputs, $H$ hidden units, one output, 1000 data points) and measure both ways, counting
# floating-point operations (flops) and timing:

# %%
D_in, N = 8, 1000
Xw, tw = rng.standard_normal((N, D_in)), rng.standard_normal(N)


def make_error(H):
    def E(w):
        W1, w2 = np.reshape(w[:H * D_in], (H, D_in)), w[H * D_in:]
        return 0.5 * np.sum((np.tanh(Xw @ W1.T) @ w2 - tw) ** 2)
    return E, H * D_in + H


Ws, evals_c, evals_f, flops_num, flops_rev, time_num, time_rev = [], [], [], [], [], [], []
for H in (4, 8, 16, 32):
    E, W = make_error(H)
    w = 0.3 * rng.standard_normal(W)
    calls = [0]

    def E_counted(w):
        calls[0] += 1
        return E(w)

    def count_only(w):             # same counter, no work: counting forward differences
        calls[0] += 1
        return np.sum(w)

    g_num = adnb.numerical_grad(E_counted, w)                      # central differences
    evals_c.append(calls[0])
    calls[0] = 0
    adnb.numerical_grad(count_only, w, method="forward")
    evals_f.append(calls[0])
    with adnb.count_cost() as c_eval:                             # flops of ONE evaluation
        adnb.trace(E, w)
    with adnb.count_cost() as c_rev:
        g = adnb.grad(E)(w)
    assert np.allclose(g, g_num, rtol=1e-5, atol=1e-6)
    Ws.append(W)
    flops_num.append(evals_c[-1] * c_eval.flops["primal"])
    flops_rev.append(c_rev.flops["primal"] + c_rev.flops["adjoint"])
    time_num.append(best_time(lambda: adnb.numerical_grad(E, w), repeat=5 if W <= 72 else 2))
    time_rev.append(best_time(lambda: adnb.grad(E)(w), repeat=5))

Ws = np.array(Ws)
s_fl_num, s_fl_rev = loglog_slope(Ws, flops_num), loglog_slope(Ws, flops_rev)
s_t_num, s_t_rev = loglog_slope(Ws, time_num), loglog_slope(Ws, time_rev)
print("   W   evals (central)  evals (forward)   flops: numerical   reverse    time: numerical  reverse")
for row in zip(Ws, evals_c, evals_f, flops_num, flops_rev, time_num, time_rev):
    print(f"{row[0]:4d}  {row[1]:15d}  {row[2]:15d}  {row[3]:17.2e}  {row[4]:9.2e}  "
          f"{row[5] * 1e3:13.1f} ms  {row[6] * 1e3:6.2f} ms")
print(f"log–log slopes against W:  flops {s_fl_num:.2f} vs {s_fl_rev:.2f};  time {s_t_num:.2f} vs {s_t_rev:.2f}")

fig, ax = plt.subplots()
ax.loglog(Ws, flops_num, "o-", label=f"central differences (slope {s_fl_num:.2f})")
ax.loglog(Ws, flops_rev, "s-", label=f"reverse mode (slope {s_fl_rev:.2f})")
ax.set(xlabel="number of weights W", ylabel="flops for one gradient", title="Gradient cost against W")
ax.legend()
plt.show()

# %%
assert evals_c == [2 * W for W in Ws]                 # central: exactly 2W evaluations
assert evals_f == [W + 1 for W in Ws]                 # forward: exactly W + 1
assert abs(s_fl_num - 2) < 0.1 and abs(s_fl_rev - 1) < 0.1
assert s_t_num > 1.5 and s_t_rev < 1.5                # wall time agrees (generous bounds: shared machine)

# %% [markdown]
# ## 3. Forward or reverse? It depends on D and K
#
# For $f: \mathbb{R}^D \to \mathbb{R}^K$ the full Jacobian takes $D$ forward passes or $K$ reverse
# passes, each costing a small multiple of $f$. We use a small network
# $y = B \tanh(A x)$ with 32 hidden units and every combination of $D, K \in \{1, 4, 16, 64\}$,
# and compare the derivative flops of `jacfwd` and `jacrev`:

# %%
dims = (1, 4, 16, 64)
Hh = 32
ratio = np.zeros((len(dims), len(dims)))          # forward flops / reverse flops
wall = np.zeros_like(ratio)
for a, D in enumerate(dims):
    for b, K in enumerate(dims):
        A = rng.standard_normal((Hh, D)) / np.sqrt(D)
        B = rng.standard_normal((K, Hh)) / np.sqrt(Hh)
        g = lambda x: B @ np.tanh(A @ x)  # noqa: E731
        x0 = rng.standard_normal(D)
        with adnb.count_cost() as cf:
            Jf = adnb.jacfwd(g)(x0)
        with adnb.count_cost() as cr:
            Jr = adnb.jacrev(g)(x0)
        assert np.allclose(Jf, Jr, rtol=1e-12, atol=1e-14)
        assert cf.forward_passes == D and cr.reverse_passes == K
        ratio[a, b] = cf.flops["tangent"] / cr.flops["adjoint"]
        if (D, K) in [(1, 64), (64, 1), (16, 16)]:
            def fwd_loop():                # D separate forward passes (jvp), one per column
                for j in range(D):
                    adnb.jvp(g, (x0,), (np.eye(D)[j],))

            def rev_loop():                # one recording, K reverse passes, one per row
                _, pullback = adnb.vjp(g, x0)
                for k in range(K):
                    pullback(np.eye(K)[k])
            wall[a, b] = best_time(fwd_loop) / best_time(rev_loop)

fig, ax = plt.subplots(figsize=(4.6, 3.8))
im = ax.imshow(np.log2(ratio), cmap="coolwarm", vmin=-7, vmax=7, origin="lower")
ax.set(xticks=range(len(dims)), xticklabels=dims, yticks=range(len(dims)), yticklabels=dims,
       xlabel="outputs K", ylabel="inputs D", title="log2(forward flops / reverse flops)")
for a in range(len(dims)):
    for b in range(len(dims)):
        ax.text(b, a, f"{np.log2(ratio[a, b]):+.1f}", ha="center", va="center", fontsize=9)
fig.colorbar(im, ax=ax, shrink=0.8)
plt.show()
print("forward/reverse flops:\n", np.array2string(ratio, precision=2))
print(f"wall time forward/reverse: D=1,K=64: {wall[0, 3]:.2f}   D=16,K=16: {wall[2, 2]:.2f}   "
      f"D=64,K=1: {wall[3, 0]:.1f}")

# %% [markdown]
# Red above the diagonal (more inputs than outputs): reverse mode is cheaper. Blue below it: forward
# mode is. On the diagonal the two cost about the same — the crossover sits at $D \approx K$. A
# network's training gradient has $D$ = millions of weights and $K = 1$ error: the far top-left
# corner of this picture, scaled up, and the reason training uses reverse mode.

# %%
for a, D in enumerate(dims):
    for b, K in enumerate(dims):
        if D >= 4 * K:
            assert ratio[a, b] > 1, (D, K)          # many inputs: reverse mode cheaper
        if K >= 4 * D:
            assert ratio[a, b] < 1, (D, K)          # many outputs: forward mode cheaper
        if D == K:
            assert 0.5 < ratio[a, b] < 2, (D, K)    # crossover at D ≈ K
assert wall[0, 3] < 1 < wall[3, 0]                  # the extreme corners agree in wall time too

# %% [markdown]
# ## 4. Memory: reverse mode remembers, forward mode forgets
#
# Reverse mode runs backwards, so every value its adjoint rules need must survive until the
# backward sweep reaches it. Forward mode (dual numbers, `adnb.jvp`) computes each tangent together
# with its value and keeps nothing. We iterate a map $n$ times on a vector of 1000 numbers and
# measure the peak memory allocated during one derivative computation (`tracemalloc`), plus the
# bytes adnb reports keeping on its tape. (We use the tamer map $x \mapsto 2.5\,x(1-x)$: with the
# factor 4 of Exercise 8.14 the derivative overflows after a few hundred steps.)

# %%
x_vec = np.linspace(0.1, 0.4, 1000)


def iterate(x, n):
    for _ in range(n):
        x = 2.5 * x * (1 - x)
    return np.sum(x)


def peak_bytes(fn):
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


lengths = [50, 100, 200, 400]
mem_rev, mem_fwd, tape = [], [], []
for n in lengths:
    with adnb.count_cost() as c:
        adnb.grad(iterate)(x_vec, n)
    tape.append(c.tape_bytes)
    mem_rev.append(peak_bytes(lambda: adnb.grad(iterate)(x_vec, n)))
    mem_fwd.append(peak_bytes(lambda: adnb.jvp(lambda x: iterate(x, n), (x_vec,), (np.ones(1000),))))
    print(f"n = {n:3d}: reverse mode peak {mem_rev[-1] / 1e6:6.2f} MB (tape {tape[-1] / 1e6:5.2f} MB),"
          f"  forward mode peak {mem_fwd[-1] / 1e6:5.3f} MB")

fig, ax = plt.subplots()
ax.plot(lengths, np.array(mem_rev) / 1e6, "s-", label="reverse mode (grad)")
ax.plot(lengths, np.array(mem_fwd) / 1e6, "o-", label="forward mode (jvp)")
ax.set(xlabel="loop length n", ylabel="peak memory [MB]", title="Memory of one derivative")
ax.legend()
plt.show()

s_rev, s_tape = loglog_slope(lengths, mem_rev), loglog_slope(lengths, tape)
print(f"log–log slope of memory against n: reverse {s_rev:.2f} (tape {s_tape:.2f}); "
      f"forward peak varies by {max(mem_fwd) / min(mem_fwd):.2f}×")

# %%
assert abs(s_tape - 1) < 0.1 and abs(s_rev - 1) < 0.1          # reverse: memory ∝ n
assert max(mem_fwd) < 1.5 * min(mem_fwd)                        # forward: flat in n
assert max(mem_fwd) < 0.1 * max(mem_rev)

# %% [markdown]
# ## Explore
#
# `adnb.widgets.CostExplorer` repeats measurement 3 for a family of networks, with sliders for the
# largest dimension and the fixed one, plus the memory panel. (It needs a running kernel to
# respond; in a static view you see the last result.)

# %%
from adnb.widgets import CostExplorer  # noqa: E402

explorer = CostExplorer(max_dim=16, fixed=4, timing=False)
explorer

# %% [markdown]
# **Next:** [06 · Control flow](06_control_flow.ipynb) — loops, branches and recursion, which symbolic
# differentiation cannot take but AD can.
