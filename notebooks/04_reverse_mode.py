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
# # 04 · Reverse mode
#
# *Course notebook for Bishop & Bishop (2024), §8.2.2, eqs. (8.68)–(8.76), Exercises 8.16 and 8.17.*
#
# Forward mode pushes the derivative with respect to one *input direction* forward through the
# trace. Reverse mode pulls the derivative of one *output* backward. Every variable gets an
# **adjoint**
#
# $$\bar v_i = \frac{\partial f}{\partial v_i} \qquad \text{(eq. (8.68))},$$
#
# and the chain rule, applied from the output back towards the inputs, sums over the *children*
# of $v_i$:
#
# $$\bar v_i = \sum_{j \in \mathrm{ch}(i)} \bar v_j \, \frac{\partial v_j}{\partial v_i}
# \qquad \text{(eq. (8.69))}.$$
#
# The backward sweep starts from $\bar f = 1$ and needs the values $v_i$ of the forward sweep, so
# those are recorded first. One backward sweep yields the derivative of $f$ with respect to *all*
# inputs: for a network, the whole gradient. Error backpropagation (notebook 08) is the special case
# for layered networks.

# %%
import math

import numpy as np

import adnb

# %load_ext adnb

# %% [markdown]
# ## Adjoints of the book's example
#
# The same $f(x_1,x_2) = x_1x_2 + \exp(x_1x_2) - \sin x_2$ (eq. 8.49) at $(1, 2)$. `trace.reverse()`
# runs one backward sweep per output (here: one) and keeps every adjoint:

# %%
def f(x1, x2):
    v3 = x1 * x2
    v4 = np.sin(x2)
    v5 = np.exp(v3)
    v6 = v3 - v4
    v7 = v5 + v6
    return v7


t = adnb.trace(f, 1.0, 2.0)
rv = t.reverse()
print(rv)
adjoint = lambda i: rv.adjoints[0][i - 1]  # noqa: E731  (book numbering)

# %% [markdown]
# The backward sweep of eqs. (8.70)–(8.76), checked against values worked out by hand:
#
# | eq. | adjoint | at (1, 2) |
# |---|---|---|
# | (8.70) | $\bar v_7 = 1$ | 1 |
# | (8.71) | $\bar v_6 = \bar v_7$ | 1 |
# | (8.72) | $\bar v_5 = \bar v_7$ | 1 |
# | (8.73) | $\bar v_4 = -\bar v_6$ | −1 |
# | (8.74) | $\bar v_3 = \bar v_5 v_5 + \bar v_6$ | $e^2 + 1$ |
# | (8.75) | $\bar v_2 = \bar v_3 v_1 + \bar v_4 \cos v_2$ | $1 + e^2 - \cos 2$ |
# | (8.76) | $\bar v_1 = \bar v_3 v_2$ | $2 + 2e^2$ |

# %%
e2 = math.exp(2)
expected = {7: 1.0, 6: 1.0, 5: 1.0, 4: -1.0, 3: e2 + 1, 2: 1 + e2 - math.cos(2), 1: 2 + 2 * e2}
for i, ref in expected.items():
    print(f"v̄{i} = {adjoint(i)!r}")
    assert math.isclose(adjoint(i), ref, rel_tol=1e-12)
assert rv.gradient(0) == [adjoint(1), adjoint(2)]      # the input adjoints are the gradient

# %% [markdown]
# Step through the backward sweep yourself: the explorer below starts at the output and fills in
# one adjoint per step, from the children back to the parents. (In a static view you see the
# finished table.)

# %%
# %%autodiff -m reverse x1=1.0 x2=2.0
v3 = x1 * x2
v4 = np.sin(x2)
v5 = np.exp(v3)
v6 = v3 - v4
v7 = v5 + v6

# %% [markdown]
# **Predict, then run.** Now predict the adjoints yourself: the explorer's *predict*
# mode stops before each $\bar v_i$ is revealed, checks what you type, and names the classic
# mistake your answer matches — a child forgotten in a fan-out sum, an adjoint overwritten
# instead of accumulated, a partial at the wrong value, forward and reverse seeds mixed up.
# Without a live kernel the blanks appear as an exercise with the answers collapsed below.

# %%
# %%autodiff --predict -m reverse x1=1.0 x2=2.0
v3 = x1 * x2
v4 = np.sin(x2)
v5 = np.exp(v3)
v6 = v3 - v4
v7 = v5 + v6

# %% [markdown]
# And as code: `adnb.display.codegen.adjoint_code` writes the adjoint program — the primal
# sweep, which keeps every $v_i$, then one line per adjoint, last variable first. Its lines are eqs.
# (8.70)–(8.76), with adnb's own numbering of the trace:

# %%
from adnb.display.codegen import adjoint_code, compile_code  # noqa: E402

source = adjoint_code(t)
print(source)
f_adjoint = compile_code(source)
value, (x1_bar, x2_bar) = f_adjoint(1.0, 2.0)
assert value == t.output_values[0] and (x1_bar, x2_bar) == (adjoint(1), adjoint(2))

# %% [markdown]
# ## Fan-out: adjoints *add up*
#
# $v_3$ has two children ($v_5$ and $v_6$), and $v_2$ has two ($v_3$ and $v_4$). Their adjoints in
# (8.74) and (8.75) are sums of two terms, one per child. A reverse sweep must therefore
# *accumulate* into $\bar v_i$, never overwrite it. Here is a complete reverse sweep over adnb's
# recorded trace, written out so that the accumulation is visible. It uses only the local partial
# derivatives $\partial v_j/\partial v_i$ that each recorded node provides:

# %% [markdown]
# **Predict, then run.** If a sweep *overwrote* $\bar v_i$ with each child's contribution instead of
# adding, which adjoints of eq. (8.49) would come out wrong, and what would $\bar v_3$ be? (Its
# right value is $e^2 + 1$.) The next cell runs both versions.

# %% tags=["nbval-check-output"]
def reverse_sweep(trace, accumulate=True):
    """Adjoints of every node for the first output, by eq. (8.69)."""
    adj = [0.0] * len(trace.nodes)
    adj[trace.outputs[0]] = 1.0                                    # v̄_out = 1, eq. (8.70)
    for node in reversed(trace.nodes):                             # children before parents
        if node.prim is None:
            continue                                               # an input: nothing to pass on
        for k, parent in enumerate(node.parents):
            if parent < 0:
                continue                                           # a constant, not a variable
            local = node.prim.partials[k](node.ans, *node.args)    # ∂v_node / ∂v_parent
            if accumulate:
                adj[parent] += adj[node.index] * local             # sum over children
            else:
                adj[parent] = adj[node.index] * local              # BUG: last child wins
    return adj


ours = reverse_sweep(t)
print("accumulating:", [round(a, 6) for a in ours])
assert all(math.isclose(a, adjoint(i + 1), rel_tol=1e-15) for i, a in enumerate(ours))

wrong = reverse_sweep(t, accumulate=False)
print("overwriting: ", [round(a, 6) for a in wrong])
assert not math.isclose(wrong[2], adjoint(3), rel_tol=1e-3)        # v̄3 misses one child
assert not math.isclose(wrong[1], adjoint(2), rel_tol=1e-3)        # v̄2 misses one child

# %% [markdown]
# Overwriting keeps only the contribution of whichever child happens to be processed last: $\bar v_3$
# and $\bar v_2$ — exactly the two variables with fan-out — come out wrong, and so does $\bar v_1$,
# which inherits the error. (This bug has shipped in real AD libraries; a fan-out test like this one
# catches it.)
#
# > **Typo note.** Eq. (8.75) is printed as $\bar v_2 = \bar v_2 v_1 + \bar v_4 \cos v_2$, with
# > $\bar v_2$ on both sides. The first term is the contribution of child $v_3 = v_1 v_2$, so it
# > is $\bar v_3\, \partial v_3/\partial v_2 = \bar v_3 v_1$:

# %%
v1, v2 = 1.0, 2.0
vb3, vb4 = adjoint(3), adjoint(4)
corrected = vb3 * v1 + vb4 * math.cos(v2)
as_printed_from_zero = 0.0 * v1 + vb4 * math.cos(v2)     # v̄2 on the right is still 0 at that point
print(f"corrected (8.75): v̄2 = {corrected!r};  as printed: {as_printed_from_zero!r}")
assert math.isclose(corrected, adjoint(2), rel_tol=1e-15)
assert not math.isclose(as_printed_from_zero, adjoint(2), rel_tol=1e-3)

# %% [markdown]
# ## One pass for all inputs, one pass per output
#
# A backward sweep is seeded at *one output* and reaches every input. So the gradient of a scalar
# function costs one reverse pass however many inputs it has, while a function with $K$ outputs
# needs $K$ passes for its full Jacobian, one row each. We count passes with `adnb.count_cost()`:

# %% [markdown]
# **Predict, then run.** How many reverse passes does the gradient of a function of $D = 1000$ inputs
# take? And the Jacobian of a function with $K = 12$ outputs?

# %%
rng = np.random.default_rng(0)
for D in (2, 10, 100, 1000):
    a = rng.standard_normal(D)

    def loss(x):
        return np.sum(np.tanh(a * x) ** 2) + np.sum(x) ** 2     # R^D -> R

    x0 = rng.standard_normal(D)
    with adnb.count_cost() as cost:
        g = adnb.grad(loss)(x0)
    print(f"D = {D:4d}: gradient of {g.size} entries from {cost.reverse_passes} reverse pass")
    assert g.shape == (D,) and cost.reverse_passes == 1
    if D <= 100:
        assert adnb.check_grads(loss, (x0,), modes=("rev",))

for K in (1, 2, 5, 12):
    B = rng.standard_normal((K, 4))

    def g(x):
        return np.sin(B @ x) * np.sum(x ** 2)                     # R^4 -> R^K

    x0 = rng.standard_normal(4)
    with adnb.count_cost() as cost:
        J = adnb.jacrev(g)(x0)
    print(f"K = {K:2d}: Jacobian {J.shape} from {cost.reverse_passes} reverse passes")
    assert J.shape == (K, 4) and cost.reverse_passes == K
    assert np.allclose(J, adnb.numerical_jacobian(g, x0), rtol=1e-6, atol=1e-8)

# %% [markdown]
# ## The vector–Jacobian product $u^\top J$ in one pass
#
# The dual of forward mode's $J r$ (eq. 8.67): seeding the *output* adjoints with a vector $u$
# instead of a unit vector gives the weighted sum of the Jacobian's rows, $u^\top J$, in one backward
# pass. (The book does not name this product; it is the standard name in the AD literature.) For the
# two-output example of Fig. 8.5 with $(\bar v_7, \bar v_8) = u = (1, 2)$:

# %%
def f12(x1, x2):
    v3 = x1 * x2
    v4 = np.sin(x2)
    v5 = np.exp(v3)
    v6 = v3 - v4
    return v5 + v6, v5 * v6


with adnb.count_cost() as cost:
    _, pullback = adnb.vjp(f12, 1.0, 2.0)
    uJ = pullback((1.0, 2.0))
J = np.array([[16.7781121978613, 8.805202935477793],
              [30.8966371987274, 18.523250920003058]])       # the reference Jacobian
print(f"uᵀJ = {uJ} from {cost.reverse_passes} reverse pass;  u @ J = {np.array([1.0, 2.0]) @ J}")
assert cost.reverse_passes == 1
assert np.allclose(uJ, [78.5713865953161, 45.85170477548391], rtol=1e-12, atol=0)

# %% [markdown]
# The price of reverse mode is memory: the backward sweep needs the values of the forward sweep, so
# they are all stored until it runs. Forward mode can forget each value as soon as its children are
# computed. Notebook 05 measures both, along with the "one pass costs at most a small multiple of
# one function evaluation" claim.
#
# ## A cross-check with the literature
#
# The review by Baydin et al. (2018) works a similar example, $y = \ln x_1 + x_1 x_2 - \sin x_2$ at
# $(2, 5)$, whose gradient is $(1/x_1 + x_2,\ x_1 - \cos x_2) = (5.5,\ 2 - \cos 5)$. It shares
# $x_1 x_2 - \sin x_2$ with our $f$, so our $v_6 = v_3 - v_4$ must have the same derivative with
# respect to $x_2$ there:

# %%
yb = adnb.grad(lambda x1, x2: np.log(x1) + x1 * x2 - np.sin(x2), argnums=(0, 1))(2.0, 5.0)
fw_25 = adnb.trace(f, 2.0, 5.0).forward()
print(f"Baydin's example: ∇y = {yb};  our v̇6 for ẋ = e2 at (2, 5): {fw_25.tangents[1][5]!r}")
assert math.isclose(yb[0], 5.5, rel_tol=1e-15)
assert math.isclose(yb[1], 2 - math.cos(5), rel_tol=1e-14)
assert math.isclose(fw_25.tangents[1][5], yb[1], rel_tol=1e-14)

# %% [markdown]
# ## Exercises
#
# **Exercise 8.16.** From the evaluation trace (8.50)–(8.56), the graph of Fig. 8.4 and the rule
# (8.69), derive the adjoint equations (8.70)–(8.76).
#
# **Exercise 8.17.** Write $\partial f/\partial x_1$ for eq. (8.49) in closed form and evaluate it at
# $x_1 = 1, x_2 = 2$. Then evaluate the primal variables $v_1 \dots v_7$, the tangents
# $\dot v_1 \dots \dot v_7$ (seed $e_1$) and the adjoints $\bar v_7 \dots \bar v_1$, and confirm that
# forward and reverse mode both reproduce the direct value.

# %% [markdown]
# ### Solution (Exercise 8.16)
#
# *Collapsed: click the bar on the left to expand.*

# %% [markdown] jupyter={"source_hidden": true}
# Walk the trace backwards. For each $v_i$ list its children from Fig. 8.4, and for each child
# $v_j$ the local partial $\partial v_j/\partial v_i$:
#
# | $v_i$ | children | contributions $\bar v_j\, \partial v_j/\partial v_i$ | result |
# |---|---|---|---|
# | $v_7$ | — (output) | seed | $\bar v_7 = 1$ (8.70) |
# | $v_6$ | $v_7 = v_5 + v_6$ | $\bar v_7 \cdot 1$ | $\bar v_6 = \bar v_7$ (8.71) |
# | $v_5$ | $v_7$ | $\bar v_7 \cdot 1$ | $\bar v_5 = \bar v_7$ (8.72) |
# | $v_4$ | $v_6 = v_3 - v_4$ | $\bar v_6 \cdot (-1)$ | $\bar v_4 = -\bar v_6$ (8.73) |
# | $v_3$ | $v_5 = e^{v_3}$, $v_6$ | $\bar v_5 e^{v_3} = \bar v_5 v_5$, $\bar v_6 \cdot 1$ | $\bar v_3 = \bar v_5 v_5 + \bar v_6$ (8.74) |
# | $v_2$ | $v_3 = v_1 v_2$, $v_4 = \sin v_2$ | $\bar v_3 v_1$, $\bar v_4 \cos v_2$ | $\bar v_2 = \bar v_3 v_1 + \bar v_4 \cos v_2$ (8.75, corrected) |
# | $v_1$ | $v_3$ | $\bar v_3 v_2$ | $\bar v_1 = \bar v_3 v_2$ (8.76) |
#
# The cell evaluates these equations literally and compares them with adnb's adjoints.

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
v1, v2 = 1.0, 2.0
v3 = v1 * v2; v4 = math.sin(v2); v5 = math.exp(v3); v6 = v3 - v4; v7 = v5 + v6       # noqa: E702
b7 = 1.0                          # (8.70)
b6 = b7                           # (8.71)
b5 = b7                           # (8.72)
b4 = -b6                          # (8.73)
b3 = b5 * v5 + b6                 # (8.74)
b2 = b3 * v1 + b4 * math.cos(v2)  # (8.75), corrected
b1 = b3 * v2                      # (8.76)
by_hand = [b1, b2, b3, b4, b5, b6, b7]
print("v̄1..v̄7 =", by_hand)
assert all(math.isclose(b, adjoint(i + 1), rel_tol=1e-15) for i, b in enumerate(by_hand))

# %% [markdown]
# ### Solution (Exercise 8.17)
#
# *Collapsed: click the bar on the left to expand.*

# %% [markdown] jupyter={"source_hidden": true}
# Directly: $\partial f/\partial x_1 = x_2 + x_2 e^{x_1 x_2} - 0 = x_2(1 + e^{x_1x_2})$, so at
# $(1, 2)$ it is $2 + 2e^2 \approx 16.778112197861300$. The cell tabulates $v_i$, $\dot v_i$ (seed
# $e_1$) and $\bar v_i$, and checks that $\dot v_7$ (forward mode) and $\bar v_1$ (reverse mode) both
# equal this value.

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
direct = 2 * (1 + math.exp(2))
fw = t.forward()
print(" i   v_i                   v̇_i (ẋ=e1)            v̄_i")
for i in range(1, 8):
    print(f"{i:2d}   {t.nodes[i - 1].ans!r:20}  {fw.tangents[0][i - 1] or 0.0!r:20}  {adjoint(i)!r}")
print(f"direct ∂f/∂x1 = {direct!r};  forward v̇7 = {fw.tangents[0][6]!r};  reverse v̄1 = {adjoint(1)!r}")
assert math.isclose(fw.tangents[0][6], direct, rel_tol=1e-15)
assert math.isclose(adjoint(1), direct, rel_tol=1e-15)

# %% [markdown]
# **Next:** [05 · Cost against dimension](05_cost_vs_dimension.ipynb) — when each mode wins, what a
# pass costs, and what reverse mode has to remember.
