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
# # 03 · Forward mode
#
# *Course notebook for Bishop & Bishop (2024), §8.2.1, eqs. (8.57)–(8.67), Fig. 8.5, Exercises 8.15,
# 8.17 and 8.18.*
#
# Forward-mode AD gives every variable $v_i$ of the evaluation trace a companion, its **tangent**
# $\dot v_i$: the derivative of $v_i$ with respect to one chosen direction in input space. Tangents
# flow forward through the trace together with the values, each line updating its tangent from its
# parents' tangents by the chain rule,
#
# $$\dot v_i = \sum_{j \in \mathrm{pa}(i)} \frac{\partial v_i}{\partial v_j}\, \dot v_j
# \qquad \text{(Bishop \& Bishop 2024, eq. (8.57))}.$$
#
# The local partial derivatives $\partial v_i/\partial v_j$ are those of one elementary operation,
# known in closed form, so the tangent code can be generated mechanically.

# %%
import math

import numpy as np

import adnb

# %load_ext adnb

# %% [markdown]
# ## Tangents of the book's example
#
# We use $f(x_1,x_2) = x_1x_2 + \exp(x_1x_2) - \sin x_2$, eq. (8.49), recorded exactly as in
# notebook 02, at $(x_1, x_2) = (1, 2)$. To get $\partial f/\partial x_1$ we **seed** the inputs with
# $\dot x_1 = 1, \dot x_2 = 0$, and let eq. (8.57) produce eqs. (8.58)–(8.64):

# %%
def f(x1, x2):
    v3 = x1 * x2
    v4 = np.sin(x2)
    v5 = np.exp(v3)
    v6 = v3 - v4
    v7 = v5 + v6
    return v7


t = adnb.trace(f, 1.0, 2.0)
fw = t.forward()            # one sweep per input: seeds ẋ = e1 and ẋ = e2
print(fw, fw.labels)

# %% [markdown]
# `fw.tangents[s][i-1]` is $\dot v_i$ for seed $s$ (`None` marks a tangent that is identically zero:
# the variable does not depend on the seeded input). The two columns, checked against exact values
# worked out by hand from eqs. (8.58)–(8.64):

# %% [markdown]
# **Predict, then run.** With the seed $\dot x = e_1$ at $(x_1, x_2) = (1, 2)$, which of the tangents
# $\dot v_1, \dots, \dot v_7$ are zero, and what is $\dot v_5$? Write down your guesses; the
# next cell prints both tangent columns.

# %%
e2 = math.exp(2)
book = {  # v_i: (formula, v̇_i for ẋ = e1, v̇_i for ẋ = e2)
    1: ("x1", 1.0, 0.0), 2: ("x2", 0.0, 1.0), 3: ("v1 v2", 2.0, 1.0),
    4: ("sin v2", 0.0, math.cos(2)), 5: ("exp v3", 2 * e2, e2), 6: ("v3 − v4", 2.0, 1 - math.cos(2)),
    7: ("v5 + v6", 2 + 2 * e2, 1 + e2 - math.cos(2)),
}
tangent = lambda s, i: fw.tangents[s][i - 1] or 0.0  # noqa: E731  (None = zero tangent)
print(" i  v_i        v̇_i (ẋ=e1)            v̇_i (ẋ=e2)")
for i, (formula, d1, d2) in book.items():
    print(f"{i:2d}  {formula:9s} {tangent(0, i)!r:22} {tangent(1, i)!r}")
    assert math.isclose(tangent(0, i), d1, rel_tol=1e-12, abs_tol=1e-15)
    assert math.isclose(tangent(1, i), d2, rel_tol=1e-12, abs_tol=1e-15)

# %% [markdown]
# > **Typo note.** After eq. (8.64) the printed text says the sweep continues until $\dot v_5$, "the
# > required derivative". The output of this trace is $v_7$, so the required derivative is
# > $\dot v_7 = \partial f/\partial x_1$; $\dot v_5$ is only the derivative of the $\exp$ term:

# %%
assert math.isclose(tangent(0, 7), 2 + 2 * e2, rel_tol=1e-15)     # v̇7 = ∂f/∂x1 = x2 (1 + e^{x1 x2})
assert not math.isclose(tangent(0, 5), 2 + 2 * e2, rel_tol=1e-3)  # v̇5 is not
print(f"v̇7 = {tangent(0, 7)!r} = ∂f/∂x1;   v̇5 = {tangent(0, 5)!r}")

# %% [markdown]
# The same sweep as a table, one row per trace line, with the value $v_i$ and the tangent
# $\dot v_i$ of each seed. In a running notebook, step through the sweep with the slider and watch
# each tangent being computed from its parents':

# %%
# %%autodiff -m forward x1=1.0 x2=2.0
v3 = x1 * x2
v4 = np.sin(x2)
v5 = np.exp(v3)
v6 = v3 - v4
v7 = v5 + v6

# %% [markdown]
# **Predict, then run.** The same sweep in the explorer's *predict* mode: before each
# tangent $\dot v_i$ is revealed you type your value; a wrong answer gets the rule with its
# numbers and, if it matches one, the classic mistake (a parent's term forgotten, a partial
# taken at the wrong value, the seeds mixed up). Without a live kernel the blanks appear as an
# exercise with the answers collapsed below them.

# %%
# %%autodiff --predict -m forward x1=1.0 x2=2.0
v3 = x1 * x2
v4 = np.sin(x2)
v5 = np.exp(v3)
v6 = v3 - v4
v7 = v5 + v6

# %% [markdown]
# ### The tangent code
#
# "Generated mechanically" can be taken literally: `adnb.display.codegen.tangent_code` writes the
# tangent program of a trace as Python source, one tangent line after each primal line, exactly the
# pairs (8.52)/(8.60) ... (8.56)/(8.64). We print it, compile it and run it with the seed $e_1$:

# %%
from adnb.display.codegen import compile_code, tangent_code  # noqa: E402

source = tangent_code(t)
print(source)
f_tangent = compile_code(source)
value, dvalue = f_tangent(1.0, 2.0, 1.0, 0.0)
assert value == t.output_values[0] and dvalue == tangent(0, 7)

# %% [markdown]
# ## Dual numbers: forward mode in twenty lines
#
# Nothing about forward mode needs a stored trace. Carry the pair $(v, \dot v)$ through the program
# and update both at every operation — a *dual number*. Here is a complete forward-mode AD for the
# operations of eq. (8.49):

# %%
class Dual:
    """A value v with its tangent v̇; each operation applies eq. (8.57) locally."""

    def __init__(self, v, dv=0.0):
        self.v, self.dv = v, dv

    def __mul__(self, o):
        o = o if isinstance(o, Dual) else Dual(o)
        return Dual(self.v * o.v, self.dv * o.v + self.v * o.dv)     # like eq. (8.60)

    def __add__(self, o):
        o = o if isinstance(o, Dual) else Dual(o)
        return Dual(self.v + o.v, self.dv + o.dv)                     # like eq. (8.64)

    def __sub__(self, o):
        o = o if isinstance(o, Dual) else Dual(o)
        return Dual(self.v - o.v, self.dv - o.dv)                     # like eq. (8.63)

# %% [markdown]
# The elementary functions of eq. (8.49) get the same treatment, and the program runs unchanged on
# dual numbers:

# %%
def sin(a):
    return Dual(math.sin(a.v), math.cos(a.v) * a.dv)                  # like eq. (8.61)


def exp(a):
    return Dual(math.exp(a.v), math.exp(a.v) * a.dv)                  # like eq. (8.62)


def f_dual(x1, x2):
    v3 = x1 * x2
    return exp(v3) + (v3 - sin(x2))


out = f_dual(Dual(1.0, 1.0), Dual(2.0, 0.0))       # seed ẋ = e1
print(f"f = {out.v!r}, ∂f/∂x1 = {out.dv!r}")
assert math.isclose(out.dv, tangent(0, 7), rel_tol=1e-15)

# %% [markdown]
# adnb's `adnb.jvp` does the same with numpy-compatible tracers instead of our toy class: one
# forward pass, and no trace is kept (which is why forward mode needs little memory; notebook 05
# measures it).
#
# ## One pass, one direction — and every output
#
# A seed chooses a *direction* in input space; a pass gives the derivative of **every** output along
# it. With two outputs (Fig. 8.5: $f_1$ as above, $f_2 = v_5 v_6$, eq. (8.65)), seeding $\dot x = e_1$
# yields $\partial f_1/\partial x_1$ and $\partial f_2/\partial x_1$ from the same single pass — the
# first column of the $2\times 2$ Jacobian. We count passes with `adnb.count_cost()`:

# %%
def f12(x1, x2):
    v3 = x1 * x2
    v4 = np.sin(x2)
    v5 = np.exp(v3)
    v6 = v3 - v4
    return v5 + v6, v5 * v6


with adnb.count_cost() as cost:
    (f1, f2), (df1_dx1, df2_dx1) = adnb.jvp(f12, (1.0, 2.0), (1.0, 0.0))
print(f"∂f1/∂x1 = {df1_dx1!r}, ∂f2/∂x1 = {df2_dx1!r}: {cost.forward_passes} forward pass")
assert cost.forward_passes == 1
assert math.isclose(df1_dx1, 16.7781121978613, rel_tol=1e-12)
assert math.isclose(df2_dx1, 30.8966371987274, rel_tol=1e-12)

# %% [markdown]
# ## A Jacobian takes D passes
#
# For $f:\mathbb{R}^D \to \mathbb{R}^K$, seeding $\dot x = e_j$ (1 in position $j$, 0 elsewhere)
# gives column $j$ of the $K \times D$ Jacobian, eq. (8.66), so the full Jacobian needs $D$ passes.
#
# > **Typo note.** The printed text seeds "$\dot x = e_i$" for column $j$; the seed of column $j$ is
# > $e_j$.
#
# `adnb.jacfwd` runs those $D$ passes (carried together as one vectorised sweep, but counted as $D$
# passes, one per direction). We check the pass count for several $D$, and each column against
# central differences:

# %% [markdown]
# **Predict, then run.** How many forward passes does `jacfwd` need for a Jacobian with $D = 20$
# inputs and $K = 1$ output — one, or twenty? The next cell counts them.

# %%
rng = np.random.default_rng(0)
for D, K in [(2, 2), (3, 5), (8, 3), (20, 1)]:
    A = rng.standard_normal((K, D))
    B = rng.standard_normal((K, D))

    def g(x):
        return np.tanh(A @ x) * np.exp(0.1 * (B @ x))     # R^D -> R^K

    x0 = rng.standard_normal(D)
    with adnb.count_cost() as cost:
        J = adnb.jacfwd(g)(x0)
    J_num = adnb.numerical_jacobian(g, x0)
    print(f"D={D:2d}, K={K}: Jacobian {J.shape}, {cost.forward_passes} forward passes, "
          f"max |J - central difference| = {np.max(np.abs(J - J_num)):.1e}")
    assert J.shape == (K, D) and cost.forward_passes == D
    for j in range(D):
        assert np.allclose(J[:, j], J_num[:, j], rtol=1e-6, atol=1e-8)

# %% [markdown]
# ## The Jacobian–vector product $J r$ in one pass
#
# The tangent of a pass is linear in the seed. So seeding with an arbitrary vector, $\dot x = r$,
# produces $J r$ directly — in **one** pass, without ever forming $J$ (eq. (8.67)).
#
# > **Typo note.** The left-hand side of eq. (8.67) is printed as $J$; it is the product $J r$.
#
# For eqs. (8.49)+(8.65) at $(1, 2)$ with $r = (1, -1)$:

# %% [markdown]
# **Predict, then run.** And $J r$ for $r = (1, -1)$: how many passes now?

# %%
r = (1.0, -1.0)
with adnb.count_cost() as cost:
    _, Jr = adnb.jvp(f12, (1.0, 2.0), r)
J = np.array([[16.7781121978613, 8.805202935477793],
              [30.8966371987274, 18.523250920003058]])       # the reference Jacobian
print(f"J r = {Jr} in {cost.forward_passes} pass;  J @ r = {J @ np.array(r)}")
assert cost.forward_passes == 1
assert np.allclose(Jr, [7.972909262383508, 12.373386278724341], rtol=1e-12, atol=0)
assert np.allclose(Jr, J @ np.array(r), rtol=1e-12, atol=0)

# %% [markdown]
# ## Exercises
#
# **Exercise 8.15.** Starting from the evaluation trace (8.50)–(8.56) and the general rule (8.57),
# derive the tangent equations (8.58)–(8.64).
#
# **Exercise 8.18.** Write $r = \sum_i r_i e_i$ and show that $J r$ is obtained by a single forward
# pass seeded with $\dot x = r$.
#
# (Exercise 8.17, evaluating everything at $(1,2)$, is solved at the end of notebook 04, once we
# have adjoints too.)

# %% [markdown]
# ### Solution (Exercise 8.15)
#
# *Collapsed: click the bar on the left to expand.*

# %% [markdown] jupyter={"source_hidden": true}
# Apply (8.57) to each line, using the parents of Fig. 8.4 and the local derivative of each
# elementary operation; the seed for $\partial/\partial x_1$ is $\dot v_1 = 1$, $\dot v_2 = 0$:
#
# | line | parents | local partials | tangent |
# |---|---|---|---|
# | $v_3 = v_1 v_2$ | $v_1, v_2$ | $\partial v_3/\partial v_1 = v_2$, $\partial v_3/\partial v_2 = v_1$ | $\dot v_3 = v_1 \dot v_2 + \dot v_1 v_2$ (8.60) |
# | $v_4 = \sin v_2$ | $v_2$ | $\cos v_2$ | $\dot v_4 = \dot v_2 \cos v_2$ (8.61) |
# | $v_5 = \exp v_3$ | $v_3$ | $\exp v_3$ | $\dot v_5 = \dot v_3 \exp v_3$ (8.62) |
# | $v_6 = v_3 - v_4$ | $v_3, v_4$ | $1, -1$ | $\dot v_6 = \dot v_3 - \dot v_4$ (8.63) |
# | $v_7 = v_5 + v_6$ | $v_5, v_6$ | $1, 1$ | $\dot v_7 = \dot v_5 + \dot v_6$ (8.64) |
#
# The cell below evaluates these equations literally and compares them with adnb's tangents (which
# come from adnb's per-primitive rules, not from this table).

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
v1, v2 = 1.0, 2.0
v3 = v1 * v2; v4 = math.sin(v2); v5 = math.exp(v3); v6 = v3 - v4; v7 = v5 + v6       # noqa: E702
for seed, col in [((1.0, 0.0), 0), ((0.0, 1.0), 1)]:
    d1, d2 = seed                                                     # (8.58), (8.59)
    d3 = v1 * d2 + d1 * v2                                            # (8.60)
    d4 = d2 * math.cos(v2)                                            # (8.61)
    d5 = d3 * math.exp(v3)                                            # (8.62)
    d6 = d3 - d4                                                      # (8.63)
    d7 = d5 + d6                                                      # (8.64)
    by_hand = [d1, d2, d3, d4, d5, d6, d7]
    print(f"seed {seed}: v̇ = {[round(d, 12) + 0.0 for d in by_hand]}")   # + 0.0: no -0.0 (0 · cos 2)
    assert all(math.isclose(a, tangent(col, i + 1), rel_tol=1e-15, abs_tol=1e-15)
               for i, a in enumerate(by_hand))

# %% [markdown]
# ### Solution (Exercise 8.18)
#
# *Collapsed: click the bar on the left to expand.*

# %% [markdown] jupyter={"source_hidden": true}
# Every tangent equation (8.57) is linear in the tangents of the parents, with coefficients that
# depend only on the primal values. By induction along the trace, each $\dot v_i$, and in particular
# each output tangent, is a linear function of the seed: $\dot y = M \dot x$ for some matrix $M$.
# Seeding $e_j$ gives column $j$ of the Jacobian, so $M = J$. Hence for $r = \sum_i r_i e_i$,
#
# $$\dot y\big|_{\dot x = r} = J r = \sum_i r_i\, J e_i,$$
#
# obtained in one pass: the tangents simply carry the weighted combination along. The cell checks
# this for the two-output example: one pass with $\dot x = r$ equals $r_1$(pass $e_1$) $+ r_2$(pass $e_2$).

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
r = np.array([0.7, -1.3])
_, col1 = adnb.jvp(f12, (1.0, 2.0), (1.0, 0.0))
_, col2 = adnb.jvp(f12, (1.0, 2.0), (0.0, 1.0))
with adnb.count_cost() as cost:
    _, Jr = adnb.jvp(f12, (1.0, 2.0), tuple(r))
combined = r[0] * np.array(col1) + r[1] * np.array(col2)
print(f"one pass with ẋ = r: {np.array(Jr)};  r1·(J e1) + r2·(J e2): {combined}")
assert cost.forward_passes == 1
assert np.allclose(Jr, combined, rtol=1e-13, atol=0)

# %% [markdown]
# **Next:** [04 · Reverse mode](04_reverse_mode.ipynb) — all input derivatives from a single pass.
