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
# # 06 · Control flow
#
# *Course notebook for Bishop & Bishop (2024), §8.2: automatic differentiation "can deal with
# branches, loops, recursion and procedure calls", which symbolic differentiation cannot take
# directly.*
#
# AD differentiates the operations a program *actually executed*. Loops are unrolled as they run,
# an `if` contributes only the branch taken, a recursive call adds its operations to the same trace.
# Nothing needs a closed-form formula. For each construct below we compare adnb's derivative with
# central differences (`adnb.check_grads`, which tests forward and reverse mode) and, where one
# exists, with an exact value.

# %%
import math
from fractions import Fraction

import numpy as np
import sympy as sp

import adnb


def central(fn, x, eps=1e-6):
    return (fn(x + eps) - fn(x - eps)) / (2 * eps)


def agree(a, b, tol=1e-7):
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))

# %% [markdown]
# ## Symbolic differentiation needs a formula
#
# Hand SymPy a Python function with a data-dependent `if` and it stops: a comparison of symbols
# has no truth value. adnb records the branch for the concrete input and carries on.

# %%
def ramp(x):
    if x > 0:
        return x ** 2
    return 0.1 * x


x_sym = sp.Symbol("x")
try:
    ramp(x_sym)
    raise AssertionError("SymPy was expected to refuse")
except TypeError as err:
    print("SymPy:", err)

print("adnb:  d ramp/dx at 1.5 =", adnb.grad(ramp)(1.5), "  at -2.0 =", adnb.grad(ramp)(-2.0))
assert adnb.grad(ramp)(1.5) == 3.0 and adnb.grad(ramp)(-2.0) == 0.1

# %% [markdown]
# ## Loops
#
# The logistic map of Exercise 8.14, now as an ordinary loop whose length is an argument. The exact
# derivative comes from the recurrence $L'_{n+1} = 4L'_n(1 - 2L_n)$ evaluated in exact fractions.
# (The map is chaotic: the derivative grows roughly like $2^n$, so we stay at moderate $n$ where
# finite differences can still keep up.)

# %%
def logistic(x, n):
    L = x
    for _ in range(n - 1):
        L = 4 * L * (1 - L)
    return L


def exact_derivative(x, n):
    L, dL = Fraction(x), Fraction(1)
    for _ in range(n - 1):
        L, dL = 4 * L * (1 - L), 4 * dL * (1 - 2 * L)
    return dL


x0 = 0.3
for n in (2, 5, 10, 15):
    ad_rev = adnb.grad(logistic)(x0, n)
    ad_fwd = adnb.jvp(lambda x: logistic(x, n), (x0,), (1.0,))[1]
    fd = central(lambda x: logistic(x, n), x0, eps=1e-7)
    ex = float(exact_derivative(Fraction(3, 10), n))
    print(f"n = {n:2d}: exact {ex: .12e}   relative error: reverse {abs(ad_rev / ex - 1):.0e}, "
          f"forward {abs(ad_fwd / ex - 1):.0e}, central difference {abs(fd / ex - 1):.0e}")
    assert math.isclose(ad_rev, ex, rel_tol=1e-9) and math.isclose(ad_fwd, ex, rel_tol=1e-9)
    assert agree(fd, ex, tol=1e-5)                   # finite differences: a few digits fewer

# %% [markdown]
# AD matches the exact value to about ten digits even where the derivative is in the thousands;
# central differences lose digits as the map gets steeper (their error grows with $f'''$).
#
# ## Branches
#
# A piecewise function: Huber's loss, quadratic near zero and linear beyond $|r| = \delta$. The
# derivative is that of the branch the input falls in. adnb records which branch was taken as an
# *event* of the trace:

# %% [markdown]
# **Predict, then run.** What is $d\,\mathrm{huber}/dr$ at $r = -3$, $-0.4$, $0.25$ and $2$, with
# $\delta = 1$? (Which branch does each $r$ take?)

# %%
def huber(r, delta=1.0):
    if abs(r) <= delta:
        return 0.5 * r ** 2
    return delta * (abs(r) - 0.5 * delta)


for r in (-3.0, -0.4, 0.25, 2.0):
    g = adnb.grad(huber)(r)
    expected = r if abs(r) <= 1 else math.copysign(1.0, r)
    print(f"r = {r:5.2f}: d huber/dr = {g: .6f}   (central diff {central(huber, r): .6f})")
    assert g == expected and agree(g, central(huber, r))
    assert adnb.check_grads(huber, (r,))

t = adnb.trace(huber, 2.0)
print("branch events recorded:", [(e.kind, bool(e.value)) for e in t.events])
assert [bool(e.value) for e in t.events] == [False]          # |r| <= delta was False

# %% [markdown]
# **At a kink**, AD and finite differences disagree, and both are "right" in their own way. At $x = 0$
# `ramp` executes the `else` branch, so AD reports the slope of that branch, $0.1$; a central
# difference straddles both branches and reports their average. Neither is *the* derivative,
# because at the kink there is none. (This is our observation, not the book's: AD differentiates
# the code path, so results at branch points depend on how the comparison is written.)

# %% [markdown]
# **Predict, then run.** At the kink $x = 0$, what does AD return for `ramp`, and what does a central
# difference return?

# %%
ad_kink = adnb.grad(ramp)(0.0)
fd_kink = central(ramp, 0.0, eps=1e-6)
print(f"at x = 0: AD {ad_kink}, central difference {fd_kink:.6f}")
assert ad_kink == 0.1 and abs(fd_kink - 0.05) < 1e-6

# %% [markdown]
# ## Recursion and procedure calls
#
# Horner's scheme for a polynomial, written recursively, and a function that calls helper
# procedures. The trace simply contains every operation of every call.

# %%
def horner(coeffs, x):
    """c0 + x (c1 + x (c2 + ...)), recursively."""
    if len(coeffs) == 1:
        return coeffs[0] + 0 * x
    return coeffs[0] + x * horner(coeffs[1:], x)


coeffs = [1.0, -2.0, 0.5, 3.0, -1.0]                    # p(x) = 1 − 2x + 0.5x² + 3x³ − x⁴
p_prime = lambda x: -2 + x + 9 * x ** 2 - 4 * x ** 3  # noqa: E731
for x in (-1.3, 0.4, 2.2):
    g = adnb.grad(lambda x: horner(coeffs, x))(x)
    print(f"p'({x}) = {g: .12f}  exact {p_prime(x): .12f}")
    assert math.isclose(g, p_prime(x), rel_tol=1e-13)


def layer(x, w, b):                                       # a procedure ...
    return np.tanh(w * x + b)


def network(x):                                           # ... called three times
    h1 = layer(x, 0.7, 0.1)
    h2 = layer(h1, -1.3, 0.2)
    return layer(h2, 2.0, -0.5)


g = adnb.grad(network)(0.8)
print(f"d network/dx at 0.8 = {g:.12f}, central diff {central(network, 0.8):.12f}")
assert agree(g, central(network, 0.8)) and adnb.check_grads(network, (0.8,))

# %% [markdown]
# ## A data-dependent `while` loop
#
# Newton's iteration for $\sqrt a$ runs until the residual is small: the number of iterations
# depends on the input, so there is no fixed formula at all. AD differentiates the iterations that
# ran. Because the loop converges, the derivative of its result converges too, to
# $\tfrac{d}{da}\sqrt a = 1/(2\sqrt a)$:

# %%
def newton_sqrt(a, tol=1e-14):
    y = a if a > 1 else 1.0
    steps = 0
    while abs(y * y - a) > tol * a:
        y = 0.5 * (y + a / y)
        steps += 1
    return y


for a in (0.3, 2.0, 50.0):
    tr = adnb.trace(newton_sqrt, a)
    g = adnb.grad(newton_sqrt)(a)
    print(f"a = {a:5.1f}: {len(tr.events)} loop tests, sqrt = {adnb.value(tr.output_values[0]):.15f}, "
          f"derivative {g:.15f}, exact {0.5 / math.sqrt(a):.15f}")
    assert math.isclose(g, 0.5 / math.sqrt(a), rel_tol=1e-9)
    assert agree(g, central(newton_sqrt, a, eps=1e-6 * a))

# %% [markdown]
# All four constructs — loop, branch, recursion with procedure calls, data-dependent loop — give
# derivatives that agree with central differences to about $10^{-7}$ (the accuracy of central
# differences; less on the steep chaotic map, where the differences are the ones that lose digits)
# and with exact values to near machine precision.
#
# **Next:** [07 · Hessian–vector products and mixed mode](07_hessian_vector_products.ipynb).
