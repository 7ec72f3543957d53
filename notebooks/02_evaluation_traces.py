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
# # 02 · Evaluation traces
#
# *Course notebook for Bishop & Bishop (2024), §8.2.1, eqs. (8.49)–(8.56), Figs. 8.4 and 8.5,
# Exercise 8.14.*
#
# Automatic differentiation does not look at formulas. It watches the program run and writes down
# every elementary operation it performs — an **evaluation trace** (also called a Wengert list,
# after R. E. Wengert's 1964 paper). Each line of the trace defines one new intermediate variable
# $v_i$ from earlier ones. Differentiating the program then means differentiating each line, which
# is easy because each line is elementary. This notebook is about the trace itself; notebooks 03
# and 04 differentiate it.
#
# ## Watch it happen
#
# adnb's `%%autodiff` cell magic runs a cell once, records its evaluation trace, and shows it as a
# table and a graph. The cell below is the book's example, eq. (8.49), written one elementary
# operation per line, at the point of Exercise 8.17, $(x_1, x_2) = (1, 2)$. The inputs are named on
# the magic's line; the output is the variable of the last assignment. In a running notebook the
# result is interactive: switch between forward and reverse mode and step through a sweep (notebooks
# 03 and 04 explain what the columns $\dot v$ and $\bar v$ mean). `%%autodiff?` shows all options.

# %%
import math
from fractions import Fraction

import matplotlib.pyplot as plt
import numpy as np
import sympy as sp

import adnb
from adnb.display.graph import draw_graph, to_networkx

plt.rcParams.update({"figure.figsize": (5.5, 3.6), "figure.dpi": 80})
# %load_ext adnb

# %%
# %%autodiff x1=1.0 x2=2.0
v3 = x1 * x2
v4 = np.sin(x2)
v5 = np.exp(v3)
v6 = v3 - v4
v7 = v5 + v6

# %% [markdown]
# After the cell has run, its variables hold plain numbers again (the recording is over):

# %%
print(f"v7 = {v7!r}")
assert type(v7) is float and math.isclose(v7, math.exp(2) + 2 - math.sin(2), rel_tol=1e-15)

# %% [markdown]
# ## The book's example, step by step
#
# Bishop & Bishop 2024 use $f(x_1, x_2) = x_1 x_2 + \exp(x_1 x_2) - \sin x_2$, eq. (8.49), and list
# its evaluation trace as eqs. (8.50)–(8.56):
#
# $$v_1 = x_1,\quad v_2 = x_2,\quad v_3 = v_1 v_2,\quad v_4 = \sin v_2,\quad v_5 = \exp v_3,\quad
# v_6 = v_3 - v_4,\quad v_7 = v_5 + v_6.$$
#
# We write the function as a program in that order and let `adnb.trace` record it at the point of
# Exercise 8.17, $(x_1, x_2) = (1, 2)$:

# %% tags=["nbval-check-output"]
def f(x1, x2):
    v3 = x1 * x2
    v4 = np.sin(x2)
    v5 = np.exp(v3)
    v6 = v3 - v4
    v7 = v5 + v6
    return v7


t = adnb.trace(f, 1.0, 2.0)
print(t)

# %% [markdown]
# `print(trace)` shows one line per variable; the book's $v_i$ is `trace.nodes[i-1]`. Each node knows
# its operation, its value and its parents. We check the recorded trace against eqs. (8.50)–(8.56)
# and against exact values:

# %%
book_formulas = ["input", "input", "v1 v2", "sin(v2)", "exp(v3)", "v3 − v4", "v5 + v6"]
exact_values = [1.0, 2.0, 2.0, math.sin(2), math.exp(2), 2 - math.sin(2), math.exp(2) + 2 - math.sin(2)]
print(" i   formula      value")
for node, formula, ref in zip(t.nodes, book_formulas, exact_values):
    print(f"v{node.index + 1}   {node.formula():10s}   {node.ans!r}")
    assert node.formula() == formula
    assert math.isclose(node.ans, ref, rel_tol=1e-15)
assert t.inputs == [0, 1] and t.outputs == [6]

# %% [markdown]
# ## Parents and children: the graph of Fig. 8.4
#
# Write $\mathrm{pa}(i)$ for the variables that $v_i$ is computed from and $\mathrm{ch}(i)$ for the
# variables computed from $v_i$. These are the edges of the computational graph that the book draws
# as Fig. 8.4. The chain rule of forward mode sums over $\mathrm{pa}(i)$ (eq. 8.57); reverse mode
# sums over $\mathrm{ch}(i)$ (eq. 8.69).

# %% tags=["nbval-check-output"]
label = lambda i: f"v{i + 1}"  # noqa: E731
print(" i   pa(i)      ch(i)")
for i in range(len(t.nodes)):
    pa = ", ".join(map(label, t.parents(i))) or "—"
    ch = ", ".join(map(label, t.children(i))) or "— (output)"
    print(f"v{i + 1}   {pa:9s}  {ch}")

assert t.children(1) == [2, 3]          # v2 = x2 feeds v3 and v4
assert t.children(2) == [4, 5]          # v3 feeds v5 and v6: two children
assert t.parents(5) == [2, 3]           # v6 = v3 − v4

# %% [markdown]
# Two variables have **two children**: $v_2$ (used by $v_3$ and $v_4$) and $v_3$ (used by $v_5$ and
# $v_6$). Remember them: in reverse mode their adjoints are sums of two terms.
#
# `adnb.display.graph.to_networkx` turns a trace into a networkx graph (with the local partial
# derivative $\partial v_j / \partial v_i$ on each edge $v_i \to v_j$), and `draw_graph` draws it
# in the layout of Fig. 8.4: inputs on the left, each node in the column of its depth.

# %%
g84 = to_networkx(t)                        # one node per variable, keyed "v1", "v2", ...
fig84_edges = {("v1", "v3"), ("v2", "v3"), ("v2", "v4"), ("v3", "v5"), ("v3", "v6"),
               ("v4", "v6"), ("v5", "v7"), ("v6", "v7")}
assert set(g84.edges) == fig84_edges
print("local partial on each edge:",
      ", ".join(f"∂{j}/∂{i} = {d['formula']}" for i, j, d in sorted(g84.edges(data=True))))

fig, ax = plt.subplots(figsize=(8, 3.6), dpi=100)
draw_graph(t, ax=ax)
plt.show()

# %% [markdown]
# ## A second output: Fig. 8.5
#
# The book then adds a second function of the same inputs, $f_2 = (x_1 x_2 - \sin x_2)\exp(x_1 x_2)$,
# eq. (8.65). In terms of the trace that is one more line, $v_8 = v_5 v_6$; both outputs share
# $v_3 \dots v_6$.

# %%
def f12(x1, x2):
    v3 = x1 * x2
    v4 = np.sin(x2)
    v5 = np.exp(v3)
    v6 = v3 - v4
    return v5 + v6, v5 * v6        # f1 = v7, f2 = v8


t2 = adnb.trace(f12, 1.0, 2.0)
print(t2)
g85 = to_networkx(t2)
assert set(g85.edges) == fig84_edges | {("v5", "v8"), ("v6", "v8")}
assert t2.outputs == [6, 7]
assert math.isclose(t2.nodes[7].ans, math.exp(2) * (2 - math.sin(2)), rel_tol=1e-15)

fig, ax = plt.subplots(figsize=(8, 3.6), dpi=100)
draw_graph(t2, ax=ax)
plt.show()

# %% [markdown]
# ## A trace records what the code *does*
#
# The trace is a record of execution, not of the formula. Write eq. (8.49) in one line and Python
# computes $x_1 x_2$ twice — so the trace has two multiplication nodes where the book has one
# $v_3$. Naming the product once, as in `f` above, is what makes the trace match eqs.
# (8.50)–(8.56). (Both traces give the same derivatives; one does a little more work.)

# %% tags=["nbval-check-output"]
t_one_line = adnb.trace(lambda x1, x2: x1 * x2 + np.exp(x1 * x2) - np.sin(x2), 1.0, 2.0)
print(t_one_line)
n_mul = sum(n.formula() == "v1 v2" for n in t_one_line.nodes)
assert n_mul == 2 and t_one_line.n_ops == t.n_ops + 1
assert t_one_line.output_values[0] == t.output_values[0]

# %% [markdown]
# ## Exercise 8.14: traces of the logistic map
#
# **Exercise 8.14.** The logistic map is $L_{n+1}(x) = 4 L_n(x)\,(1 - L_n(x))$ with $L_1(x) = x$.
# Write the evaluation traces of $L_2$, $L_3$ and $L_4$, and expressions for the derivatives
# $L_1', \dots, L_4'$ *without simplifying them*. Compare how the sizes of the function and of its
# derivative grow.

# %% [markdown]
# ### Solution (Exercise 8.14)
#
# *Collapsed: click the bar on the left to expand.*

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
def logistic(x, n):
    L = x
    for _ in range(n - 1):
        L = 4 * L * (1 - L)
    return L


for n in (2, 3, 4):
    tn = adnb.trace(lambda x: logistic(x, n), 0.3)
    print(f"--- trace of L{n}:\n{tn}")
    assert tn.n_ops == 3 * (n - 1)                  # three lines per step: 1 − v, 4·v, (4v)·(1 − v)

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
# Derivatives without simplification: the product rule applied to each step,
#   L'_{n+1} = 4 L'_n (1 − L_n) + 4 L_n (−L'_n),
# with L_n and L'_n substituted as formulas, written out as text so that nothing collects terms
# (SymPy's diff would: it prints L2' as 4 − 8x). SymPy only checks each one against its own diff.
xs = sp.Symbol("x")


def wrap(e):
    return e if e.isalnum() else f"({e})"


L_text, dL_text, sizes = "x", "1", []
for n in range(1, 5):
    print(f"L{n}  = {L_text}\nL{n}' = {dL_text}\n")
    assert sp.expand(sp.sympify(dL_text) - sp.diff(sp.sympify(L_text), xs)) == 0
    sizes.append((len(L_text), len(dL_text)))
    L_text, dL_text = (f"4*{wrap(L_text)}*(1 - {wrap(L_text)})",
                       f"4*{wrap(dL_text)}*(1 - {wrap(L_text)}) + 4*{wrap(L_text)}*(-{wrap(dL_text)})")
print("characters, L_n and L_n':", sizes)
assert sizes[3][0] / sizes[2][0] < 2.5 < sizes[3][1] / sizes[2][1]      # L' grows faster than L

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
# The function as a formula doubles with every step; the derivative formula grows by about three
# times; the trace grows by three lines. Exact values at x = 3/10 (fractions: no rounding), from
# the step-by-step recurrence L'_{n+1} = 4 L'_n (1 − 2 L_n) that AD effectively evaluates:
L, dL = Fraction(3, 10), Fraction(1)
table = [(1, L, dL)]
for n in range(2, 6):
    L, dL = 4 * L * (1 - L), 4 * dL * (1 - 2 * L)
    table.append((n, L, dL))
expected = {1: (Fraction(3, 10), 1), 2: (Fraction(21, 25), Fraction(8, 5)),
            3: (Fraction(336, 625), Fraction(-544, 125)),
            4: (Fraction(388416, 390625), Fraction(102272, 78125)),
            5: (Fraction(3432043776, 152587890625), Fraction(-157992649216, 30517578125))}
for n, Ln, dLn in table:
    ad = adnb.grad(lambda x: logistic(x, n))(0.3) if n > 1 else 1.0
    print(f"n={n}: L = {str(Ln):>26}  L' = {str(dLn):>30}  adnb: {ad!r}")
    assert (Ln, dLn) == expected[n]
    assert math.isclose(ad, float(dLn), rel_tol=1e-12)

# %% [markdown]
# The fixed point $x = 1/4$ is a poor test input ($L_2 = L_3 = 3/4$); $x = 3/10$ is not special.
#
# **Next:** [03 · Forward mode](03_forward_mode.ipynb) — attaching a derivative to every line of the
# trace.
