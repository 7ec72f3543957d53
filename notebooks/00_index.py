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
# # Automatic differentiation, measured — a course on chapter 8 of Bishop & Bishop
#
# These notebooks accompany chapter 8 of C. M. Bishop and H. Bishop, **Deep Learning: Foundations
# and Concepts** (Springer, 2024): the evaluation of gradients by backpropagation (§8.1) and
# automatic differentiation (§8.2). They use **adnb**, a small
# automatic-differentiation library written to be looked inside: it records the evaluation trace of
# your Python code and runs forward and reverse mode over it, step by step, with the book's notation.
#
# The chapter makes many claims about cost, accuracy and memory. Every one of them is **measured**
# here and checked with an `assert` — so a notebook that runs to the end has re-established the
# claim on your machine. Equations are cited by their number in the book, e.g. "eq. (8.57)"; the
# text of the notebooks is ours.
#
# ## The course
#
# | # | notebook | book | what you will see |
# |---|---|---|---|
# | 01 | [Four ways to differentiate](01_four_ways.ipynb) | §8.1.4, §8.2 | by hand, finite differences (error slopes, round-off), SymPy (expression swell, repeated work), AD · Ex. 8.13 |
# | 02 | [Evaluation traces](02_evaluation_traces.ipynb) | §8.2.1, eqs. (8.49)–(8.56), Figs. 8.4–8.5 | the Wengert list, parents and children, the graph · Ex. 8.14 |
# | 03 | [Forward mode](03_forward_mode.ipynb) | eqs. (8.57)–(8.67) | tangents, dual numbers, one Jacobian column per pass, $Jr$ in one pass · Ex. 8.15, 8.18 |
# | 04 | [Reverse mode](04_reverse_mode.ipynb) | eqs. (8.68)–(8.76) | adjoints, fan-out accumulation, one pass per output, $u^\top J$ · Ex. 8.16, 8.17 |
# | 05 | [Cost against dimension](05_cost_vs_dimension.ipynb) | §8.1.4, §8.2.1–8.2.2 | the "≤ 6×" pass cost, $O(W^2)$ vs $O(W)$, forward vs reverse by $D$ and $K$, memory |
# | 06 | [Control flow](06_control_flow.ipynb) | §8.2 | loops, branches, recursion, `while` — AD vs central differences |
# | 07 | [Hessian–vector products](07_hessian_vector_products.ipynb) | §8.1.6, end of §8.2.2 | mixed mode both ways, $Hv$ in $O(W)$, outer-product approximation |
# | 08 | [Backprop in an MLP](08_backprop_mlp.ipynb) | §8.1.2–8.1.3, §8.1.5 | Algorithm 8.1 by hand = reverse mode; the network Jacobian both ways |
# | 09 | [Bending the rules](09_bending_the_rules.ipynb) | beyond §8.2 | `custom_jvp`/`custom_vjp`, `stop_gradient`, checkpointing ($O(n)$ → $O(\sqrt n)$ memory), reverse = linearize + transpose |
# | 10 | [Build reverse mode yourself](10_build_it_yourself.ipynb) | §8.2.2, eqs. (8.68)–(8.76) | a scalar `Value`, topological order, the adjoint sweep in ~40 lines, checked by `adnb.testing.compare`; the overwrite bug caught; a vectorised layer |
#
# Solutions to Exercises 8.13–8.18 sit in collapsed cells under a **Solution** heading (click the
# bar to the left of a collapsed cell to open it). Try first.
#
# ## Predict, then run
#
# Before a cell measures something, the notebooks ask you to guess it: a cell marked
# **Predict, then run** states the question, and the cell after it prints the measured answer.
# Commit to a number first — a wrong guess you can explain teaches more than a right one.
# The explorer's *predict* mode (`%%autodiff --predict`) does the same for every value of a
# sweep and names the classic mistake a wrong answer matches.
#
# | notebook | predict … |
# |---|---|
# | [03](03_forward_mode.ipynb) | which tangents $\dot v_i$ are zero for $\dot x = e_1$, and $\dot v_5$ · every $\dot v_i$ in the explorer's predict mode · forward passes for a $1 \times 20$ Jacobian · passes for $J r$ |
# | [04](04_reverse_mode.ipynb) | every $\bar v_i$ in the explorer's predict mode · which adjoints an *overwriting* sweep gets wrong, and $\bar v_3$ · reverse passes for a gradient with $D = 1000$ and a Jacobian with $K = 12$ |
# | [05](05_cost_vs_dimension.ipynb) | what one pass costs relative to $f$ (1×, 2–3×, > 6×) · forward or reverse for $D = 64, K = 1$ and for $D = 1, K = 64$ · whether memory grows with the loop length, per mode |
# | [06](06_control_flow.ipynb) | the derivative of Huber's loss on each branch · AD and a central difference at a kink |
# | [07](07_hessian_vector_products.ipynb) | whether the two mixed-mode orderings agree · whether the outer-product approximation is better before or after training |
# | [08](08_backprop_mlp.ipynb) | how far Algorithm 8.1 by hand is from adnb · passes for the network Jacobian, each mode |
# | [10](10_build_it_yourself.ipynb) | $\partial f/\partial x_1$ from your own reverse mode · which adjoint an overwriting sweep gets wrong first |
#
# ## Notation
#
# As in the book: the evaluation trace defines variables $v_1, v_2, \dots$ (inputs first);
# $\mathrm{pa}(i)$ are the parents of $v_i$ (the variables it is computed from) and
# $\mathrm{ch}(i)$ its children; $\dot v_i$ is a **tangent** (forward mode) and
# $\bar v_i = \partial f / \partial v_i$ an **adjoint** (reverse mode). In adnb, the book's $v_i$ is
# `trace.nodes[i - 1]`.
#
# ## Misprints we correct
#
# The printed chapter has a few typos; the notebooks use the corrected forms and point them out:
#
# | where | printed | correct | shown in |
# |---|---|---|---|
# | eq. (8.46) | activation named $\zeta$ | the same $h$ as in (8.44)–(8.47) | 01 |
# | text after (8.64) | "... until we obtain $\dot v_5$" | $\dot v_7$ | 03 |
# | seeding in §8.2.1 | $\dot x = e_i$ for column $j$ | $e_j$ | 03 |
# | eq. (8.67) | left-hand side $J$ | $J r$ | 03 |
# | eq. (8.75) | $\bar v_2 = \bar v_2 v_1 + \dots$ | $\bar v_2 = \bar v_3 v_1 + \bar v_4 \cos v_2$ | 04 |
# | HVP paragraph, §8.2.2 | "vector $b$", "forward model" | vector $v$, forward *mode* | 07 |
#
# ## Running the notebooks
#
# On Binder nothing needs installing. Locally, in a clone of the repository, one command
# installs adnb with JupyterLab and a kernel and opens this index:
# `pip install -e ".[course]" && jupyter lab notebooks/00_index.ipynb`. Each notebook runs top to
# bottom in well under a minute. The cell below checks that the environment is complete.

# %%
import importlib

import adnb

needed = ["numpy", "matplotlib", "networkx", "sympy", "ipywidgets"]
versions = {name: importlib.import_module(name).__version__ for name in needed}
print(f"adnb {adnb.__version__}; " + ", ".join(f"{k} {v}" for k, v in versions.items()))

# %% [markdown]
# And a first taste — the gradient of the book's example, eq. (8.49), at $(x_1, x_2) = (1, 2)$, by
# one reverse pass; the exact values are $\partial f/\partial x_1 = 2 + 2e^2$ and
# $\partial f/\partial x_2 = 1 + e^2 - \cos 2$:

# %%
import math

import numpy as np


def f(x1, x2):
    return x1 * x2 + np.exp(x1 * x2) - np.sin(x2)


g = adnb.grad(f, argnums=(0, 1))(1.0, 2.0)
print(g)
assert math.isclose(g[0], 2 + 2 * math.e ** 2, rel_tol=1e-14)
assert math.isclose(g[1], 1 + math.e ** 2 - math.cos(2), rel_tol=1e-14)

# %% [markdown]
# Start with [01 · Four ways to differentiate](01_four_ways.ipynb).
