# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
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
# The book makes four claims about cost. Each section below measures one of them:
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
# floating-point operation, per phase) and show times beside them. Times vary from run to run;
# the tables mark them with `~`. The loops that repeat a measurement over sizes, print the table
# and draw the figure live in `adnb.course`, so each cell below shows what is measured for one
# size.

# %%
import matplotlib.pyplot as plt
import numpy as np

import adnb
from adnb import course
from adnb.course import best_time

plt.rcParams.update({"figure.figsize": (5.5, 3.6), "figure.dpi": 80})

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

# %% [markdown]
# **Predict, then run.** One pass over eq. (8.49), counted in elementary operations and divided by
# the operations of $f$ itself: about 1×, 2–3×, or more than the book's bound of 6×? Forward
# or reverse, which is dearer? The next cell measures both on three functions.

# %%
def pass_cost(name):
    fn, args = cases[name]
    ones = tuple(np.ones_like(a) if np.ndim(a) else 1.0 for a in args)
    every = tuple(range(len(args)))
    with adnb.count_cost() as cf:
        adnb.jvp(fn, args, ones)                     # one forward pass
    with adnb.count_cost() as cr:
        adnb.grad(fn, argnums=every)(*args)          # one reverse pass
    assert cf.forward_passes == 1 and cr.reverse_passes == 1
    t_f = best_time(lambda: fn(*args), 5)
    return {"primal ops": cf.ops["primal"],
            "fwd pass / f": (cf.ops["primal"] + cf.ops["tangent"]) / cf.ops["primal"],
            "rev pass / f": (cr.ops["primal"] + cr.ops["adjoint"]) / cr.ops["primal"],
            "time fwd / f": best_time(lambda: adnb.jvp(fn, args, ones), 5) / t_f,
            "time rev / f": best_time(lambda: adnb.grad(fn, argnums=every)(*args), 5) / t_f}


one_pass = course.sweep(pass_cost, cases, key="function")
print(one_pass)
r_fwd, r_rev = one_pass["fwd pass / f"], one_pass["rev pass / f"]
assert np.all((1 <= r_fwd) & (r_fwd <= 6) & (1 <= r_rev) & (r_rev <= 6))
assert 2 <= r_fwd[0] <= 3 and 2 <= r_rev[0] <= 3      # "typically 2–3×" on eq. (8.49)

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

# %%
def gradient_cost(H):
    E, W = make_error(H)
    w = 0.3 * rng.standard_normal(W)
    E_central, E_forward = course.CallCounter(E), course.CallCounter(E)
    g_num = adnb.numerical_grad(E_central, w)                  # central differences
    adnb.numerical_grad(E_forward, w, method="forward")        # forward differences
    with adnb.count_cost() as one_eval:                        # flops of ONE evaluation of E
        adnb.trace(E, w)
    with adnb.count_cost() as rev:                             # one reverse pass
        g = adnb.grad(E)(w)
    assert np.allclose(g, g_num, rtol=1e-5, atol=1e-6)
    return {"W": W, "evals central": E_central.calls, "evals forward": E_forward.calls,
            "flops numerical": E_central.calls * one_eval.flops["primal"],
            "flops reverse": rev.flops["primal"] + rev.flops["adjoint"],
            "time numerical [ms]": 1e3 * best_time(lambda: adnb.numerical_grad(E, w), 5 if W <= 72 else 2),
            "time reverse [ms]": 1e3 * best_time(lambda: adnb.grad(E)(w), 5)}


grad_cost = course.sweep(gradient_cost, (4, 8, 16, 32), key="H")
print(grad_cost)
Ws = grad_cost["W"]
course.plot_loglog(Ws, {"central differences": grad_cost["flops numerical"],
                        "reverse mode": grad_cost["flops reverse"]},
                   xlabel="number of weights W", ylabel="flops for one gradient", title="Gradient cost against W")
plt.show()

# %%
s_fl_num, s_fl_rev = grad_cost.slope("W", "flops numerical"), grad_cost.slope("W", "flops reverse")
s_t_num, s_t_rev = grad_cost.slope("W", "time numerical [ms]"), grad_cost.slope("W", "time reverse [ms]")
print(f"log–log slopes against W:  flops {s_fl_num:.2f} vs {s_fl_rev:.2f};  time ~{s_t_num:.2f} vs ~{s_t_rev:.2f}")
assert list(grad_cost["evals central"]) == [2 * W for W in Ws]       # central: exactly 2W evaluations
assert list(grad_cost["evals forward"]) == [W + 1 for W in Ws]       # forward: exactly W + 1
assert abs(s_fl_num - 2) < 0.1 and abs(s_fl_rev - 1) < 0.1
assert s_t_num > 1.5 and s_t_rev < 1.5                # wall time agrees (generous bounds: shared machine)

# %% [markdown]
# ## 3. Forward or reverse? It depends on D and K
#
# For $f: \mathbb{R}^D \to \mathbb{R}^K$ the full Jacobian takes $D$ forward passes or $K$ reverse
# passes, each costing a small multiple of $f$. We use a small network
# $y = B \tanh(A x)$ with 32 hidden units and every combination of $D, K \in \{1, 4, 16, 64\}$,
# and compare the derivative flops of `jacfwd` and `jacrev`:

# %% [markdown]
# **Predict, then run.** For $D = 64$ inputs and $K = 1$ output, which mode needs fewer flops for the
# whole Jacobian, and by roughly what factor? And for $D = 1$, $K = 64$?

# %%
dims, Hh = (1, 4, 16, 64), 32


def mode_cost(D, K):
    """Flops of the Jacobian of y = B tanh(A x) by D forward passes / by K reverse passes."""
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
    return cf.flops["tangent"] / cr.flops["adjoint"]


ratio = np.array([[mode_cost(D, K) for K in dims] for D in dims])     # rows D, columns K
course.plot_log2_grid(ratio, dims, xlabel="outputs K", ylabel="inputs D",
                      title="log2(forward flops / reverse flops)")
plt.show()
print("forward/reverse flops:\n", np.array2string(ratio, precision=2))

# %% [markdown]
# The same comparison in wall-clock time, for the two extreme corners and the diagonal: $D$
# separate forward passes (one `jvp` per column) against one recording and $K$ reverse passes (one
# pullback per row).

# %%
def wall_ratio(D, K):
    A = rng.standard_normal((Hh, D)) / np.sqrt(D)
    B = rng.standard_normal((K, Hh)) / np.sqrt(Hh)
    g = lambda x: B @ np.tanh(A @ x)  # noqa: E731
    x0 = rng.standard_normal(D)

    def fwd_loop():
        for j in range(D):
            adnb.jvp(g, (x0,), (np.eye(D)[j],))

    def rev_loop():
        _, pullback = adnb.vjp(g, x0)
        for k in range(K):
            pullback(np.eye(K)[k])
    return best_time(fwd_loop) / best_time(rev_loop)


wall = {(D, K): wall_ratio(D, K) for D, K in [(1, 64), (16, 16), (64, 1)]}
print("wall time forward/reverse: " + "   ".join(f"D={D},K={K}: ~{r:.2f}" for (D, K), r in wall.items()))

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
assert wall[1, 64] < 1 < wall[64, 1]                # the extreme corners agree in wall time too

# %% [markdown]
# ## 4. Memory: reverse mode remembers, forward mode forgets
#
# Reverse mode runs backwards, so every value its adjoint rules need must survive until the
# backward sweep reaches it. Forward mode (dual numbers, `adnb.jvp`) computes each tangent together
# with its value and keeps nothing. We iterate a map $n$ times on a vector of 1000 numbers and
# measure the peak memory allocated during one derivative computation (`tracemalloc`), plus the
# bytes adnb reports keeping on its tape. We use the tame map $x \mapsto 2.5\,x(1-x)$, which
# settles on its fixed point 0.6, so its derivative shrinks towards 0 and never overflows. (With
# the factor 4 of Exercise 8.14 the map is chaotic and its
# derivative roughly doubles with every step: beyond $10^{120}$ after 400 steps, and past the largest
# float64, $\approx 2^{1024}$, after about a thousand — measured at the end of this section.)

# %% [markdown]
# **Predict, then run.** As the loop runs $n = 50, 100, 200, 400$ times, does the memory of reverse mode
# grow? And that of forward mode?

# %%
x_vec = np.linspace(0.1, 0.4, 1000)


def iterate(x, n, r=2.5):
    for _ in range(n):
        x = r * x * (1 - x)
    return np.sum(x)


def memory(n):
    with adnb.count_cost() as c:
        adnb.grad(iterate)(x_vec, n)
    return {"tape [MB]": c.tape_bytes / 1e6,
            "memory reverse [MB]": course.peak_bytes(lambda: adnb.grad(iterate)(x_vec, n)) / 1e6,
            "memory forward [MB]": course.peak_bytes(
                lambda: adnb.jvp(lambda x: iterate(x, n), (x_vec,), (np.ones(1000),))) / 1e6}


mem = course.sweep(memory, [50, 100, 200, 400], key="n")
print(mem)
fig, ax = plt.subplots()
ax.plot(mem["n"], mem["memory reverse [MB]"], "s-", label="reverse mode (grad)")
ax.plot(mem["n"], mem["memory forward [MB]"], "o-", label="forward mode (jvp)")
ax.set(xlabel="loop length n", ylabel="peak memory [MB]", title="Memory of one derivative")
ax.legend()
plt.show()

# %%
mem_rev, mem_fwd = mem["memory reverse [MB]"], mem["memory forward [MB]"]
s_rev, s_tape = mem.slope("n", "memory reverse [MB]"), mem.slope("n", "tape [MB]")
print(f"log–log slope of memory against n: reverse ~{s_rev:.2f} (tape {s_tape:.2f}); "
      f"forward peak varies by ~{max(mem_fwd) / min(mem_fwd):.2f}×")
assert abs(s_tape - 1) < 0.1 and abs(s_rev - 1) < 0.1          # reverse: memory ∝ n
assert max(mem_fwd) < 1.5 * min(mem_fwd)                        # forward: flat in n
assert max(mem_fwd) < 0.1 * max(mem_rev)

# %% [markdown]
# The overflow claim above, measured: the longest loop for which the derivative of the factor-4 map
# (forward mode, summed over the 1000 starting points) is still finite, found by bisection; and the
# tame map's derivative for comparison.

# %%
def derivative(n, r):
    return adnb.jvp(lambda x: iterate(x, n, r), (x_vec,), (np.ones(1000),))[1]


n_finite = course.last_finite(lambda n: derivative(n, r=4.0), 1, 2000)
print(f"factor 4: derivative finite up to n = {n_finite}, at n = 400 it is {derivative(400, r=4.0):.1e}")
print(f"factor 2.5: at n = 400 the derivative is {derivative(400, r=2.5):.1e}")
assert 1000 <= n_finite < 1024 and 1e120 < abs(derivative(400, r=4.0)) < 1e150
assert 0 < derivative(400, r=2.5) < 1e-100

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
