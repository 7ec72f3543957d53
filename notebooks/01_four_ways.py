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
# # 01 · Four ways to differentiate
#
# *Course notebook for Bishop & Bishop (2024), Deep Learning: Foundations and Concepts, §8.1.4 and
# the opening of §8.2.*
#
# Training a network needs the gradient of an error with respect to every weight. Section 8.2 of the
# book lists four ways to obtain it. In this notebook we try all four on one small function and
# **measure** what the book claims about each, instead of taking it on trust:
#
# | way | what we measure here |
# |---|---|
# | 1. derive by hand, code by hand | it works, but it is a second program to keep in step with the first |
# | 2. finite differences | error against step size: slope 1 (forward), slope 2 (central), then round-off; evaluations per gradient |
# | 3. symbolic algebra (SymPy) | the size of the derivative expressions and how often they repeat work |
# | 4. automatic differentiation (adnb) | same numbers as the exact derivative, each sub-expression evaluated once |
#
# Every claim is checked by an `assert`, so if a cell runs, the claim held on your machine.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import sympy as sp

import adnb
from adnb import course

plt.rcParams.update({"figure.figsize": (5.5, 3.6), "figure.dpi": 80})

# %% [markdown]
# ## The running example: a two-unit softplus network
#
# Bishop & Bishop 2024, eqs. (8.44)–(8.47), use a network with one input $x$, one hidden unit $z$ and
# one output $y$, both units using the *soft ReLU* (softplus) activation $h(a) = \ln(1 + e^a)$:
#
# $$z = h(w_1 x + b_1), \qquad y = h(w_2 z + b_2).$$
#
# > **Typo note.** Eq. (8.46) names the activation $\zeta(a)$, while (8.44), (8.45) and (8.47) write
# > $h$. They are the same function; we call it $h$ throughout.
#
# We evaluate everything at one fixed point (the book gives none; this one is ours):
# $x = 1.5,\ w_1 = 0.8,\ b_1 = -0.3,\ w_2 = 1.2,\ b_2 = 0.5$.

# %%
def h(a):
    """Softplus, the book's soft ReLU, eq. (8.46)."""
    return np.log(1 + np.exp(a))


def net(x, w1, b1, w2, b2):
    z = h(w1 * x + b1)      # eq. (8.44)
    y = h(w2 * z + b2)      # eq. (8.45)
    return y


point = dict(x=1.5, w1=0.8, b1=-0.3, w2=1.2, b2=0.5)
y_value = float(net(**point))
print(f"y = {y_value!r}")
assert math.isclose(y_value, 2.1175839730963104, rel_tol=1e-14)

# %% [markdown]
# Our target throughout is $\partial y/\partial w_1$. SymPy gives us an exact value to compare against
# (evaluated with 30 significant digits, then rounded to a float):

# %%
X, W1, B1, W2, B2 = sp.symbols("x w1 b1 w2 b2")
symbols = (X, W1, B1, W2, B2)
h_sym = lambda a: sp.log(1 + sp.exp(a))  # noqa: E731
y_sym = h_sym(W2 * h_sym(W1 * X + B1) + B2)           # eq. (8.47)
subs = dict(zip(symbols, point.values()))
exact = float(sp.diff(y_sym, W1).evalf(30, subs=subs))
print(f"exact dy/dw1 = {exact!r}")
assert math.isclose(exact, 1.1257319730060193, rel_tol=1e-15)

# %% [markdown]
# ## Way 1 — derive by hand, code by hand
#
# The derivative of softplus is the logistic sigmoid, $h'(a) = \sigma(a) = 1/(1+e^{-a})$. With
# $a_1 = w_1 x + b_1$ and $a_2 = w_2 z + b_2$ the chain rule gives
# $\partial y / \partial w_1 = \sigma(a_2)\, w_2\, \sigma(a_1)\, x$.
# We type that into a *second* function:

# %%
def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def dy_dw1_by_hand(x, w1, b1, w2, b2):
    a1 = w1 * x + b1                 # recomputes what net() already computed ...
    a2 = w2 * h(a1) + b2             # ... and must change whenever net() changes
    return sigmoid(a2) * w2 * sigmoid(a1) * x


by_hand = float(dy_dw1_by_hand(**point))
print(f"by hand:  {by_hand!r}   error {abs(by_hand - exact):.1e}")
assert abs(by_hand - exact) < 1e-15

# %% [markdown]
# Exact to the last bit — and that is the case *for* this way. The case against it is visible in
# the code: `dy_dw1_by_hand` repeats the forward computation, and it is only right as long as
# somebody keeps it in step with `net`. Add a layer to `net` and it silently becomes wrong.

# %% [markdown]
# ## Way 2 — finite differences
#
# Perturb one input and look at the change of the output (Bishop & Bishop 2024, eqs. (8.24) and
# (8.25)):
#
# $$\text{forward: } \frac{f(x+\epsilon)-f(x)}{\epsilon} = f'(x) + O(\epsilon), \qquad
#   \text{central: } \frac{f(x+\epsilon)-f(x-\epsilon)}{2\epsilon} = f'(x) + O(\epsilon^2).$$
#
# Taylor-expanding $f(x\pm\epsilon) = f \pm \epsilon f' + \tfrac{\epsilon^2}{2} f'' \pm
# \tfrac{\epsilon^3}{6} f''' + \dots$ shows why (the book's Exercise 8.3): in the central difference the
# even terms cancel, leaving an error $\tfrac{\epsilon^2}{6} f'''$; the forward difference keeps
# $\tfrac{\epsilon}{2} f''$.
#
# To measure the error we need a function whose derivative we know in closed form. We use the
# book's other running example, eq. (8.49), $f(x_1, x_2) = x_1 x_2 + e^{x_1 x_2} - \sin x_2$, at
# $(x_1, x_2) = (1, 2)$, where $\partial f/\partial x_1 = x_2(1 + e^{x_1 x_2}) = 2 + 2e^2$.

# %%
def f(x1, x2):
    return x1 * x2 + np.exp(x1 * x2) - np.sin(x2)      # eq. (8.49)


exact_f = 2 + 2 * math.e ** 2
eps = 10.0 ** -np.arange(1, 13.01, 0.25)                 # 1e-1 ... 1e-13, four per decade
err_fwd = np.array([abs(adnb.forward_difference(lambda x: f(x, 2.0), 1.0, eps=e) - exact_f) for e in eps])
err_cen = np.array([abs(adnb.central_difference(lambda x: f(x, 2.0), 1.0, eps=e) - exact_f) for e in eps])


def loglog_slope(eps, err, lo, hi):
    """Least-squares slope of log10(err) against log10(eps) for lo <= eps <= hi."""
    m = (eps >= lo * (1 - 1e-9)) & (eps <= hi * (1 + 1e-9))
    return np.polyfit(np.log10(eps[m]), np.log10(err[m]), 1)[0]


slope_fwd = loglog_slope(eps, err_fwd, 1e-4, 1e-1)
slope_cen = loglog_slope(eps, err_cen, 1e-3, 1e-1)
best_fwd, best_cen = eps[np.argmin(err_fwd)], eps[np.argmin(err_cen)]

fig, ax = plt.subplots()
ax.loglog(eps, err_fwd, "o-", ms=3, label=f"forward, slope {slope_fwd:.2f}")
ax.loglog(eps, err_cen, "s-", ms=3, label=f"central, slope {slope_cen:.2f}")
ax.set(xlabel="step ε", ylabel="|error|", title="Finite-difference error (cf. Fig. 8.2)")
ax.legend()
plt.show()
print(f"fitted slopes: forward {slope_fwd:.3f} on [1e-4, 1e-1], central {slope_cen:.3f} on [1e-3, 1e-1]")
print(f"smallest error (round-off: digits vary with the maths library): forward ~{err_fwd.min():.1e} "
      f"at ε ~{best_fwd:.0e}, central ~{err_cen.min():.1e} at ε ~{best_cen:.0e}")

# %% [markdown]
# What the measurement says, checked:
#
# * on the right of the plot (large steps) truncation error dominates: slope 1 for forward, 2 for
#   central differences (Fig. 8.2 of the book shows the same two lines);
# * the central difference is far more accurate at the same step;
# * to the left (small steps), round-off takes over: $f(x+\epsilon)$ and $f(x)$ agree in almost all their
#   digits, the subtraction cancels them, and the error *grows* as $\epsilon$ shrinks. The best
#   step is near $\sqrt{u} \approx 10^{-8}$ for forward and $u^{1/3} \approx 10^{-5}$ for central
#   differences ($u \approx 2.2\times10^{-16}$ is the float64 unit round-off).
#
# Round-off digits depend on the maths library, so we assert slopes and orderings, not digits.

# %%
assert not ax.xaxis_inverted()                # large steps on the right, as described above
assert abs(slope_fwd - 1.0) < 0.1, slope_fwd
assert abs(slope_cen - 2.0) < 0.1, slope_cen
assert np.all(err_cen[eps >= 1e-4] < err_fwd[eps >= 1e-4])            # central wins where truncation rules
at = lambda e: np.argmin(abs(eps - e))  # noqa: E731
assert err_fwd[at(1e-12)] > 100 * err_fwd[at(1e-8)]                   # round-off: smaller ε, larger error
assert err_cen[at(1e-12)] > 100 * err_cen[at(1e-6)]
assert 1e-9 <= best_fwd <= 1e-7 and 1e-7 <= best_cen <= 1e-4, (best_fwd, best_cen)

# %% [markdown]
# **The cost.** A finite difference gives *one* directional derivative. A gradient with respect to
# $W$ parameters needs one perturbation per parameter: $W + 1$ evaluations of $f$ for forward
# differences, $2W$ for central ones (§8.1.4). We count them for our network, $W = 5$ (notebook 05
# shows how this becomes $O(W^2)$ work for a network):

# %%
calls = {"n": 0}


def net_vec(p):
    calls["n"] += 1
    return net(*p)


p0 = np.array(list(point.values()))
W = p0.size
for method, expected in [("forward", W + 1), ("central", 2 * W)]:
    calls["n"] = 0
    g_num = adnb.numerical_grad(net_vec, p0, method=method, eps=1e-7 if method == "forward" else 1e-5)
    print(f"{method:8s}: {calls['n']:2d} evaluations of the network, "
          f"dy/dw1 = {g_num[1]:.12f} (error {abs(g_num[1] - exact):.1e})")
    assert calls["n"] == expected
fd_central = float(g_num[1])
assert abs(fd_central - exact) < 1e-9

# %% [markdown]
# ## Way 3 — symbolic differentiation
#
# A computer-algebra system applies the rules of calculus to the *formula*. SymPy differentiates
# eq. (8.47) without human error:

# %%
dy_dw1_sym = sp.diff(y_sym, W1)
dy_dw1_sym

# %% [markdown]
# The book prints the same derivative as eq. (8.48). Checking that the two agree is Exercise 8.13.
#
# **Exercise 8.13.** Show that differentiating (8.47) with respect to $w_1$ gives (8.48).

# %% [markdown]
# ### Solution (Exercise 8.13)
#
# *Collapsed: click the bar on the left to expand.*

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
a1 = W1 * X + B1
eq_8_48 = (W2 * X * sp.exp(a1 + B2 + W2 * sp.log(1 + sp.exp(a1)))
           / ((1 + sp.exp(a1)) * (1 + sp.exp(B2 + W2 * sp.log(1 + sp.exp(a1))))))
# By hand: h'(a) = e^a / (1 + e^a) = σ(a), so dy/dw1 = h'(a2) · w2 · h'(a1) · x with
# a2 = w2 h(a1) + b2. Writing e^{a2} = e^{b2 + w2 ln(1 + e^{a1})} and multiplying the two
# fractions e^{a2}/(1 + e^{a2}) and e^{a1}/(1 + e^{a1}) gives (8.48). SymPy agrees:
assert sp.simplify(sp.diff(y_sym, W1) - eq_8_48) == 0
compact = sp.exp(W2 * h_sym(a1) + B2) / (1 + sp.exp(W2 * h_sym(a1) + B2)) * W2 * sp.exp(a1) / (1 + sp.exp(a1)) * X
assert sp.simplify(eq_8_48 - compact) == 0
print("(8.48) is the derivative of (8.47); numerically", float(eq_8_48.evalf(30, subs=subs)))

# %% [markdown]
# ### Repeated work
#
# Look at (8.48) as a program. The sub-expression $w_1 x + b_1$ appears four times and
# $\ln(1+e^{w_1x+b_1})$ twice. Evaluated as written, one partial derivative costs five
# exponentials and two logarithms. We *count* them by evaluating (8.48) with counting versions of
# `exp` and `log`:

# %%
counts_48 = {"exp": 0, "log": 0}


def cexp(a):
    counts_48["exp"] += 1
    return math.exp(a)


def clog(a):
    counts_48["log"] += 1
    return math.log(a)


def eq_8_48_as_written(x, w1, b1, w2, b2):
    return (w2 * x * cexp(w1 * x + b1 + b2 + w2 * clog(1 + cexp(w1 * x + b1)))
            / ((1 + cexp(w1 * x + b1)) * (1 + cexp(b2 + w2 * clog(1 + cexp(w1 * x + b1))))))


value_48 = eq_8_48_as_written(**point)
print(f"(8.48) as written: {counts_48['exp']} exp and {counts_48['log']} log calls for ONE partial derivative")
assert counts_48 == {"exp": 5, "log": 2}
assert math.isclose(value_48, exact, rel_tol=1e-14)

# %% [markdown]
# Now automatic differentiation. adnb records each elementary operation once, then runs the chain
# rule over that record. To count its `exp` and `log` calls we wrap adnb's own `exp` and `log`
# primitives with counters for the duration of one gradient computation — all **five** partial
# derivatives at once, by one reverse pass (`adnb.course.counting_primitives` does the wrapping):

# %%
with course.counting_primitives("exp", "log") as counts_ad, adnb.count_cost() as cost:
    grads = adnb.grad(net, argnums=(0, 1, 2, 3, 4))(*point.values())
print(f"adnb: {counts_ad['exp']} exp and {counts_ad['log']} log calls for ALL five partials, "
      f"{cost.reverse_passes} reverse pass")
assert counts_ad == {"exp": 2, "log": 2}     # one per softplus: each sub-expression once
assert cost.reverse_passes == 1
assert math.isclose(grads[1], exact, rel_tol=1e-14)

# %% [markdown]
# Two of each: one `exp` and one `log` per softplus unit, exactly what evaluating $y$ itself costs.
# The adjoint rules reuse stored values ($\tfrac{d}{da}e^a = e^a$ is already known) instead of
# recomputing them.
#
# SymPy can remove the duplication afterwards by *common-subexpression elimination* (`sympy.cse`);
# what it finds is, in effect, the list of intermediate variables that AD records while running the
# code in the first place (notebook 02):

# %%
all_partials = [sp.diff(y_sym, s) for s in symbols]
raw_ops = sum(sp.count_ops(e) for e in all_partials)
shared, reduced = sp.cse(all_partials)
cse_ops = sum(sp.count_ops(e) for _, e in shared) + sum(sp.count_ops(e) for e in reduced)
print(f"y: {sp.count_ops(y_sym)} operations; its five partials as formulas: {raw_ops} operations; "
      f"after CSE: {cse_ops} operations with {len(shared)} shared sub-expressions")
assert cse_ops < raw_ops / 4

# %% [markdown]
# ### Expression swell
#
# The worse problem is growth. Take the logistic map of the book's Exercise 8.14,
# $L_{n+1}(x) = 4 L_n(x)\,(1 - L_n(x))$ with $L_1(x) = x$. As a formula, $L_n$ contains $L_{n-1}$
# twice, so its size doubles with each step, and the unsimplified derivative (product rule on every
# level) grows even faster. As a *program*, each step is three operations, and AD's record — the
# trace it differentiates — grows by exactly three nodes per step.

# %%
def logistic(x, n):
    L = x
    for _ in range(n - 1):
        L = 4 * L * (1 - L)
    return L


xs = sp.Symbol("x")
rows = []
for n in range(1, 8):
    Ln = logistic(xs, n)
    rows.append((n, sp.count_ops(Ln), sp.count_ops(sp.diff(Ln, xs)), adnb.trace(lambda x: logistic(x, n), 0.3).n_ops))
print(" n   SymPy ops: L_n   L_n' (unsimplified)   adnb trace: operations")
for n, ops_L, ops_dL, tape in rows:
    print(f"{n:2d}   {ops_L:14d}   {ops_dL:19d}   {tape:22d}")

sym_L = np.array([r[1] for r in rows])
sym_dL = np.array([r[2] for r in rows])
tape = np.array([r[3] for r in rows])
assert np.all(sym_dL[3:] / sym_dL[2:-1] >= 2)      # the derivative formula at least doubles per step
assert np.all(sym_L[2:] / sym_L[1:-1] >= 2)         # so does the function written as one formula
assert np.all(np.diff(tape) == 3)                   # the recorded program grows by 3 per step

# %% [markdown]
# Symbolic differentiation has one more limit: it needs a closed-form formula. Code with loops
# whose length depends on the data, branches and recursion has none; notebook 06 differentiates such
# code with AD.
#
# ## Way 4 — automatic differentiation
#
# adnb differentiates the Python function `net` itself. One reverse pass gives all five partial
# derivatives, equal to the exact values to within a few units in the last place:

# %%
reference = {"x": 0.6003903856032103, "w1": 1.1257319730060193, "b1": 0.7504879820040129,
             "w2": 1.0918157845774337, "b2": 0.8796780212389944}
exact_all = [float(sp.diff(y_sym, s).evalf(30, subs=subs)) for s in symbols]
for name, g, ex in zip(reference, grads, exact_all):
    print(f"dy/d{name:3s} = {g!r:22}  exact {ex!r}")
    assert math.isclose(g, reference[name], rel_tol=1e-12)
    assert math.isclose(g, ex, rel_tol=1e-14)
assert adnb.check_grads(net, tuple(point.values()))   # forward and reverse mode vs central differences

# %% [markdown]
# ## The same measurements on any function
#
# The display layer of adnb packages the measurements of this notebook for a function of your
# own: `difference_errors` sweeps the step of forward and central differences against the exact
# derivative from one forward-mode pass (the Fig. 8.2 experiment), and `swell_report` compares the
# size of SymPy's derivatives with the length of adnb's trace and of one adjoint sweep. Here they are
# for the softplus network, with respect to $w_1$; swap in your own function and point:

# %%
from adnb.display.numerical import difference_errors, plot_difference_errors  # noqa: E402
from adnb.display.symbolic import swell_report  # noqa: E402

errors = difference_errors(net, *point.values(), wrt=1)
plot_difference_errors(errors)
plt.show()
report = swell_report(adnb.trace(net, *point.values()))
print(f"{errors.label}: slopes {errors.forward_slope:.2f} (forward), {errors.central_slope:.2f} (central)")
print(report)
assert abs(errors.forward_slope - 1) < 0.1 and abs(errors.central_slope - 2) < 0.1
assert report.derivative_ops > 10 * report.function_ops          # SymPy: 5 partials, swollen
assert report.adjoint_ops <= 2 * report.trace_length             # AD: one sweep, about as long as f

# %% [markdown]
# ## The four side by side
#
# The same partial derivative $\partial y/\partial w_1$ from each way, and its distance from the exact
# value:

# %%
print(f"{'way':32s} {'dy/dw1':>22s}   error")
for name, val in [("1. by hand", by_hand), ("2. central difference (2W evals)", fd_central),
                  ("3. SymPy (8.48) as written", value_48), ("4. adnb, one reverse pass", grads[1])]:
    print(f"{name:32s} {val!r:>22}   {abs(val - exact):.1e}")

# %% [markdown]
# Only finite differences are inexact beyond rounding, and they are also the only way that needs nothing but the
# forward code. That is their real use, as the book says: *checking* gradient code. `adnb.check_grads`
# does exactly that, and later notebooks use it to check what they build.
#
# **Next:** [02 · Evaluation traces](02_evaluation_traces.ipynb) — what AD records while the code
# runs.
