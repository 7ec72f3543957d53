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
# # 09 · Bending the rules: custom derivatives, stop_gradient, checkpointing, transposition
#
# *Beyond the chapter: the questions §8.2 leaves open, answered with the tools every AD system
# offers (JAX's names: `custom_jvp`, `custom_vjp`, `stop_gradient`, `checkpoint`, `linearize`,
# `linear_transpose`; PyTorch's `autograd.Function`, `detach`, `torch.utils.checkpoint`).*
#
# Automatic differentiation differentiates the **code**, not the **maths**. Usually they agree.
# When they do not — an overflow inside, a quantity that should be held fixed, a gradient that
# should be tamed — you tell AD what you mean. And reverse mode's memory (§8.2.2: it keeps the
# whole evaluation trace) can be traded for recomputation. Every claim below is measured and
# checked with an `assert`.

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import HTML, display

import adnb
from adnb.display import graph_svg, trace_table
from adnb.display.checkpointing import checkpoint_costs, peak_bytes, plot_checkpoint_costs
from adnb.display.linear import linear_pair

plt.rcParams.update({"figure.figsize": (5.5, 3.6), "figure.dpi": 80})

# %% [markdown]
# ## 1. AD differentiates code, not maths
#
# The softplus $h(x) = \ln(1 + e^x)$ (the activation of notebook 01) has derivative
# $h'(x) = \sigma(x) = 1/(1 + e^{-x})$, which is 1.0 to machine precision at $x = 800$. Written as
# `np.log(1 + np.exp(x))`, the code overflows there: $e^{800} = \infty$. The chain rule through
# that code is $\frac{1}{1 + e^{x}} \cdot e^{x} = \frac{1}{\infty}\cdot\infty$, and AD reports…

# %%
def softplus_naive(x):
    return np.log(1 + np.exp(x))


with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    naive = adnb.grad(softplus_naive)(800.0)
print("AD gradient at 800:", naive)
print("numpy said:", sorted({str(w.message) for w in caught if w.category is RuntimeWarning}))
adnb_said = [str(w.message) for w in caught if w.category is adnb.NonDifferentiablePointWarning]
print("adnb said:", adnb_said[0][:68], "…")
assert naive != 1.0 and "overflowed" in adnb_said[0]

# %% [markdown]
# …a wrong number (0, from the zero adjoint $1/\infty$ meeting the infinite partial $e^{800}$),
# and adnb says so: the value overflowed, so no derivative computed there can be trusted.
# The maths is fine; the code is not. Rewrite the function stably *and* tell AD its derivative
# with a **custom JVP rule**: `rule(primals, tangents) -> (h(x), ẏ)`, with $\dot y = \sigma(x)\,\dot x$
# and $\sigma(x) = \tfrac12(1 + \tanh(x/2))$, which does not overflow.

# %%
@adnb.custom_jvp
def softplus(x):
    return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0.0)     # stable: no overflow


@softplus.defjvp
def softplus_jvp(primals, tangents):
    (x,), (x_dot,) = primals, tangents
    return softplus(x), x_dot * 0.5 * (1 + np.tanh(x / 2))


print("grad at 800:", adnb.grad(softplus)(800.0), "  at -800:", adnb.grad(softplus)(-800.0))
assert adnb.grad(softplus)(800.0) == 1.0 and adnb.grad(softplus)(-800.0) == 0.0
for x in (-3.0, 0.0, 2.5):
    s = 1 / (1 + np.exp(-x))
    assert abs(adnb.grad(softplus)(x) - s) < 1e-15
    # the rule is differentiated too: second derivatives go through it, h'' = σ(1 − σ)
    assert abs(adnb.hessian(softplus)(x) - s * (1 - s)) < 1e-15
    assert abs(adnb.grad(adnb.grad(softplus))(x) - s * (1 - s)) < 1e-15

# %% [markdown]
# Forward mode calls the rule; reverse mode (`grad`) uses it too, with **one** reverse pass: adnb
# records the rule once with the tangents as inputs and sweeps that record backwards (the rule is
# linear in the tangents, so the backward sweep of its record is its transpose — section 4).
#
# In the trace, the custom function is **one row**, tagged `custom_jvp`; hover the tag: its tangent
# is written out from the rule itself.

# %%
t = adnb.trace(lambda x: softplus(2 * x) * x, 1.5)
display(HTML(trace_table(t, reverse=t.reverse(), expand=["v3"])))
assert [n.prim.name for n in t.nodes[1:]] == ["mul", "softplus", "mul"]

# %% [markdown]
# **Checking a rule.** A rule is a promise AD cannot verify by itself. `adnb.check_grads` compares
# it with central differences (forward and reverse mode, and order 2 through the rule). A rule with
# a sign error — $e^{x}$ where $e^{-x}$ belongs — is caught:

# %%
assert adnb.check_grads(softplus, (0.7,), order=2)


@adnb.custom_jvp
def softplus_wrong(x):
    return np.log1p(np.exp(x))


@softplus_wrong.defjvp
def softplus_wrong_jvp(primals, tangents):
    (x,), (x_dot,) = primals, tangents
    return softplus_wrong(x), x_dot / (1 + np.exp(x))      # sign error


try:
    adnb.check_grads(softplus_wrong, (0.7,))
    caught_wrong = None
except AssertionError as e:
    caught_wrong = str(e)
print(caught_wrong.splitlines()[0])
assert caught_wrong is not None and "softplus_wrong" in caught_wrong

# %% [markdown]
# ## 2. Holding a value fixed: `stop_gradient`
#
# Some targets are computed by the model itself but must be treated as constants — the
# "bootstrapped" target $y + \gamma\,\hat y(x)$ of temporal-difference learning, a moving average,
# a teacher's output. `adnb.stop_gradient(v)` passes $v$ on unchanged with derivative 0, in every
# mode and order. For the loss $E(w) = \sum_n \bigl(w x_n - (y_n + \gamma\, w x_n)\bigr)^2$ with the
# target held fixed, $\partial E/\partial w = \sum_n 2\,(w x_n - y_n - \gamma w x_n)\, x_n$ —
# not the derivative of the expression as written, which would be
# $\sum_n 2\,(w x_n - y_n - \gamma w x_n)(1 - \gamma)\,x_n$.

# %%
x_data, y_data, gamma = np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.0, 3.0]), 0.9


def td_loss(w, hold=True):
    target = y_data + gamma * (adnb.stop_gradient(w * x_data) if hold else w * x_data)
    return np.sum((w * x_data - target) ** 2)


w0 = 0.8
residual = w0 * x_data - y_data - gamma * w0 * x_data
g_fixed, g_through = adnb.grad(td_loss)(w0), adnb.grad(lambda w: td_loss(w, hold=False))(w0)
print(f"target held fixed: {g_fixed:.6f}   differentiated through: {g_through:.6f}")
assert abs(g_fixed - np.sum(2 * residual * x_data)) < 1e-12
assert abs(g_through - np.sum(2 * residual * (1 - gamma) * x_data)) < 1e-12
assert td_loss(w0) == td_loss(w0, hold=False)                       # same value
assert abs(adnb.jvp(td_loss, (w0,), (1.0,))[1] - g_fixed) < 1e-12    # forward mode agrees
# and in every order: the held target stays a constant, so E'' = 2 Σ x², not 2 (1 − γ)² Σ x²
assert abs(adnb.hessian(td_loss)(w0) - 2 * np.sum(x_data ** 2)) < 1e-12

# %% [markdown]
# In the graph the edge into `stop_gradient` is **cut** (dashed red, partial 0): no tangent goes
# through it, no adjoint comes back.

# %%
t_td = adnb.trace(td_loss, w0)
display(HTML(graph_svg(t_td)))
assert graph_svg(t_td).count('class="adnb-cut-edges"') == 1

# %% [markdown]
# ## 3. Your own backward pass: `custom_vjp` and gradient clipping
#
# `custom_vjp` gives reverse mode a rule of your own: `fwd(x) -> (y, residuals)` runs on the way
# forward, `bwd(residuals, ȳ) -> (x̄,)` on the way back. Gradient clipping is the classic use: the
# value passes unchanged, the adjoint flowing back is clipped to $[-1, 1]$.

# %%
@adnb.custom_vjp
def clip_gradient(x):
    return x


def clip_fwd(x):
    return x, None                      # nothing to remember


def clip_bwd(res, g):
    return (np.clip(g, -1.0, 1.0),)     # one cotangent per argument


clip_gradient.defvjp(clip_fwd, clip_bwd)


def loss(x):
    return np.sum(clip_gradient(3 * x) ** 2)


x = np.array([0.1, 0.4, -2.0])
print("gradient with clipping:   ", adnb.grad(loss)(x))
print("without:                  ", adnb.grad(lambda x: np.sum((3 * x) ** 2))(x))
assert loss(x) == np.sum((3 * x) ** 2)
assert np.array_equal(adnb.grad(loss)(x), 3 * np.clip(6 * x, -1, 1))

# %% [markdown]
# A `custom_vjp` function has a reverse-mode rule only, so forward mode through it is an error
# that says what to do (as in JAX), and so is a `bwd` that returns the wrong number of cotangents:

# %%
try:
    adnb.jvp(loss, (x,), (np.ones(3),))
except adnb.CustomRuleError as e:
    print("jvp:", e)
clip_gradient.defvjp(clip_fwd, lambda res, g: np.clip(g, -1.0, 1.0))       # not a tuple
try:
    adnb.grad(loss)(x)
except adnb.CustomRuleError as e:
    print("grad:", e)
    assert "clip_gradient" in str(e) and "<lambda>" in str(e)
clip_gradient.defvjp(clip_fwd, clip_bwd)

# %% [markdown]
# ## 4. Memory against recomputation: checkpointing
#
# Reverse mode keeps, for the adjoint sweep, what every rule will need: for a loop of $n$ steps
# $x_{k+1} = \tanh(x_k W)$, one activation per step — $O(n)$ memory (notebook 05).
# `adnb.checkpoint(f)` keeps only $f$'s inputs and **runs $f$ again** when the adjoints reach it.
# `adnb.checkpoint_loop(step, x, n, every=k)` cuts the loop into segments of $k$ steps, each
# checkpointed: the tape holds $n/k$ segment inputs, and during the sweep one segment's $k$
# activations — $n/k + k$, least at $k = \sqrt n$ (Griewank & Walther's simplest schedule): $O(\sqrt n)$
# memory, for about one extra forward pass. The derivatives are the same:

# %%
d, batch = 64, 16
W = np.random.default_rng(0).normal(size=(d, d)) / np.sqrt(d)
x0 = np.random.default_rng(1).normal(size=(batch, d))
act = x0.nbytes                                 # one activation: 8 KiB


def step(h, W):
    return np.tanh(h @ W)


def make_loss(n, every):
    return lambda x: np.sum(adnb.checkpoint_loop(step, x, n, every, (W,)))


g_plain = adnb.grad(make_loss(100, None))(x0)
for every in (1, 10, "sqrt", 100):
    assert np.allclose(adnb.grad(make_loss(100, every))(x0), g_plain, rtol=1e-13, atol=0)


ns = np.array([49, 100, 196, 400, 784])        # peak_bytes: tracemalloc sees numpy's buffers
peaks = {every: np.array([peak_bytes(lambda: adnb.grad(make_loss(n, every))(x0)) for n in ns])
         for every in (None, "sqrt")}
for every, p in peaks.items():       # (~: measured, varies by an activation from run to run)
    print(f"every={every!s:5}: peak", " ".join(f"~{v:.0f}" for v in p / act),
          f"activations for n = {ns}")

# %% [markdown]
# Fit the two lines: memory $= a + b\,n$ without checkpoints and $= a + c\sqrt n$ with
# $\sqrt n$-step segments. The slopes, in activations: $b \approx 1$ per step; $c \approx 2$ per
# $\sqrt n$ ($\sqrt n$ segment inputs plus one segment of $\sqrt n$ steps). Both fits are straight
# lines (R² near 1) — memory grows like $n$ in one case and like $\sqrt n$ in the other.

# %%
def line_fit(u, y):
    (slope, icept), res, *_ = np.polyfit(u, y, 1, full=True)
    r2 = 1 - res[0] / np.sum((y - y.mean()) ** 2)
    return slope, icept, r2


b, a_none, r2_none = line_fit(ns, peaks[None] / act)
c, a_sqrt, r2_sqrt = line_fit(np.sqrt(ns), peaks["sqrt"] / act)
print(f"no checkpoints: ~{b:.2f} activations per step        (R² = ~{r2_none:.4f})")
print(f"√n segments:    ~{c:.2f} activations per √n step      (R² = ~{r2_sqrt:.4f})")
assert 0.9 < b < 1.5 and r2_none > 0.99
assert 1.5 < c < 3.0 and r2_sqrt > 0.99
assert peaks["sqrt"][-1] < peaks[None][-1] / 6          # n = 784: a small fraction

fig, ax = plt.subplots()
ax.loglog(ns, peaks[None] / act, "o-", label="no checkpoints: O(n)")
ax.loglog(ns, peaks["sqrt"] / act, "s-", label="√n checkpoints: O(√n)")
ax.set_xlabel("loop steps n")
ax.set_ylabel("peak memory of grad (activations)")
ax.legend()
plt.show()

# %% [markdown]
# **What it costs.** `count_cost` counts the operations run again (`recomputed_ops`): with any
# segment length, every step is recomputed once — one extra forward pass — while the tape's memory
# follows $n/k + k$. For $n = 400$:

# %%
n = 400
points = checkpoint_costs(step, x0, n, ks=[1, 4, 10, 20, 40, 100, 400], args=(W,))
mem = [p.peak_bytes / act for p in points]
print("k:                   ", [p.k for p in points])
print("peak (activations):  ", " ".join(f"~{m:.0f}" for m in mem))
print("model n/k + k:       ", [p.model for p in points])
print("extra forward passes:", [p.extra_passes for p in points])
assert all(p.extra_passes == 1.0 and p.loop_ops == 2 * n for p in points)   # @ and tanh per step
assert 10 <= points[int(np.argmin(mem))].k <= 40         # the least memory near √n = 20
assert min(mem) < 0.15 * mem[-1]
plot_checkpoint_costs(points, unit=act)
plt.show()

# %% [markdown]
# In the trace, a checkpoint is one row standing for its folded inside; the reverse sweep, shown
# step by step, says where the recomputation happens:

# %%
t_cp = adnb.trace(lambda x: np.sum(adnb.checkpoint_loop(lambda h: np.sin(h) * h, x, 6, 3)), 0.3)
display(HTML(trace_table(t_cp, mode="reverse", step=1)))
assert "recomputing the 6 operations" in trace_table(t_cp, mode="reverse", step=1)

# %% [markdown]
# ## 5. Reverse mode = linearize + transpose
#
# `adnb.linearize(f, x)` evaluates $f$ once and returns the linear map $\dot x \mapsto J\dot x$ —
# the tangent sweep of notebook 03, as a program of **linear** operations only (each tangent rule
# with the primal values frozen into constants). Any linear program can be run backwards, each
# operation replaced by its transpose: a scale by the same constant, a copy to both summands of a
# sum. `adnb.linear_transpose` does that, and the result is $u \mapsto J^\top u$ — exactly reverse
# mode. On eq. (8.49) at $(1, 2)$, the linearized trace and its transpose side by side; every value
# on the right equals the adjoint $\bar v_i$ the reverse sweep of notebook 04 computes (✓):

# %%
def f(x1, x2):
    return x1 * x2 + np.exp(x1 * x2) - np.sin(x2)


pair = linear_pair(f, 1.0, 2.0, v=(1.0, 0.5), u=1.0)
display(HTML(pair._repr_html_()))
for _, _, transposed, adjoint in pair.matches():
    assert transposed == adjoint

# %% [markdown]
# The dot-product identity $u^\top (J v) = (J^\top u)^\top v$ holds for any $u, v$ — it is what
# "transpose" means — and `linear_transpose(linearize(f, x)[1], x)` is `vjp`:

# %%
A = np.random.default_rng(3).normal(size=(4, 3))


def g(x):
    h = np.tanh(A @ x)
    return h * np.sum(x ** 2)


x = np.array([0.3, -1.2, 0.8])
y, g_jvp = adnb.linearize(g, x)
g_t = adnb.linear_transpose(g_jvp, x)
rng = np.random.default_rng(4)
for _ in range(5):
    u, v = rng.normal(size=4), rng.normal(size=3)
    (jt_u,) = g_t(u)
    assert abs(u @ g_jvp(v) - jt_u @ v) < 1e-12
    assert np.allclose(jt_u, adnb.vjp(g, x)[1](u)[0], rtol=1e-13, atol=0)
print("uᵀ(Jv) =", u @ g_jvp(v), " (Jᵀu)ᵀv =", jt_u @ v)

# %% [markdown]
# `linear_transpose` refuses what is not linear — there is nothing to transpose:

# %%
try:
    adnb.linear_transpose(lambda t: t * t, x)
except adnb.NotLinearError as e:
    print(e)

# %% [markdown]
# ## Exercises
#
# **Exercise 1 (a safe norm).** $\|x\| = \sqrt{\sum_i x_i^2}$ has no derivative at $x = 0$, and
# AD of `np.sqrt(np.sum(x**2))` returns nan there (with a warning). Write `safe_norm` with a
# `custom_jvp` rule $\dot y = x^\top \dot x / \|x\|$ that returns the subgradient 0 at $x = 0$;
# check it with `check_grads` at a non-zero point, and that `grad` at 0 is all zeros.
#
# **Exercise 2 (straight-through estimator).** Quantisation $q(x) = \mathrm{round}(x)$ has
# derivative 0 almost everywhere, which stops learning. The straight-through estimator uses the
# value of $q$ with the derivative of the identity. Write it with `stop_gradient` alone, in one
# line, and check value and gradient.
#
# **Exercise 3 (the best segment).** For $n = 256$ steps, which segment length $k$ gives the
# least peak memory? Compare with $\sqrt n$ and with the $n/k + k$ model.

# %% [markdown]
# ### Solution (Exercise 1)
#
# *Collapsed: click the bar on the left to expand.*

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
@adnb.custom_jvp
def safe_norm(x):
    return np.sqrt(np.sum(x ** 2))


@safe_norm.defjvp
def safe_norm_jvp(primals, tangents):
    (x,), (x_dot,) = primals, tangents
    y = safe_norm(x)
    if adnb.value(y) == 0.0:
        return y, 0.0 * np.sum(x_dot)        # the subgradient 0 at the kink
    return y, np.sum(x * x_dot) / y


assert adnb.check_grads(safe_norm, (np.array([3.0, -4.0]),), order=2)
assert np.array_equal(adnb.grad(safe_norm)(np.zeros(2)), np.zeros(2))
assert np.allclose(adnb.grad(safe_norm)(np.array([3.0, -4.0])), [0.6, -0.8])
print("grad at 0:", adnb.grad(safe_norm)(np.zeros(2)))

# %% [markdown]
# ### Solution (Exercise 2)
#
# *Collapsed: click the bar on the left to expand.*

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
def straight_through_round(x):
    # value: x + (round(x) − x) = round(x); derivative: that of x, the rest is held fixed
    return x + adnb.stop_gradient(np.round(adnb.value(x)) - x)


xs = np.array([0.2, 1.7, -2.4])
assert np.array_equal(straight_through_round(xs), np.round(xs))
assert np.array_equal(adnb.grad(lambda x: np.sum(straight_through_round(x) ** 2))(xs),
                      2 * np.round(xs))
print(adnb.grad(lambda x: np.sum(straight_through_round(x) ** 2))(xs))

# %% [markdown]
# ### Solution (Exercise 3)
#
# *Collapsed: click the bar on the left to expand.*

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
points3 = checkpoint_costs(step, x0, 256, ks=[2, 4, 8, 16, 32, 64, 128], args=(W,))
mem3 = [p.peak_bytes / act for p in points3]
best = points3[int(np.argmin(mem3))].k
print("k:", [p.k for p in points3], "\nmeasured:", " ".join(f"~{m:.0f}" for m in mem3),
      "\nn/k + k:", [p.model for p in points3])
print("least memory at k =", best, "; √n =", np.sqrt(256))
assert best in (8, 16, 32) and min(points3, key=lambda p: p.model).k == 16
