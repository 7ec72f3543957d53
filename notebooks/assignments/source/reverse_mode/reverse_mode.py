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

# %% [markdown] nbgrader={"grade": false, "solution": false, "locked": true, "grade_id": "intro", "schema_version": 3}
# # Graded assignment · Reverse mode by hand
#
# *Bishop & Bishop (2024), §8.1.3 and §8.2.2, eqs. (8.50)–(8.56) and (8.68)–(8.76).*
#
# You implement reverse-mode automatic differentiation twice: first the adjoint sweep over the
# book's evaluation trace (8.50)–(8.56), then backpropagation for a small two-layer network. The
# graded cells check your numbers against **adnb**'s reverse mode. Replace every
# `raise NotImplementedError()` with your code; do not edit the other cells.
#
# Marks: 12. Part 1: 7 (of which 4 for the variables that fan out); Part 2: 5 (of which 3 for the
# batch, where every weight is used by several examples).

# %% nbgrader={"grade": false, "solution": false, "locked": true, "grade_id": "setup", "schema_version": 3}
import math

import numpy as np

import adnb
from adnb.testing import compare

# %% [markdown] nbgrader={"grade": false, "solution": false, "locked": true, "grade_id": "part1", "schema_version": 3}
# ## Part 1 · The adjoint sweep over an evaluation trace
#
# A trace is a dictionary `{i: (operation, parents)}` for the variables $v_i$ computed from
# others (the inputs are $v_1, v_2$). The book's trace (8.50)–(8.56) of
# $f(x_1, x_2) = x_1x_2 + \exp(x_1x_2) - \sin x_2$ is `BOOK` below. `forward_values` runs it and
# `local_partials` gives $\partial v_j/\partial v_i$ for each parent of an operation.
#
# Write `reverse_sweep(trace, values, output)`: it returns the adjoints
# $\bar v_i = \partial f/\partial v_i$ of **every** variable as a dictionary, by eq. (8.69),
# $\bar v_i = \sum_{j \in \mathrm{ch}(i)} \bar v_j \,\partial v_j/\partial v_i$, starting from
# $\bar v_{\text{output}} = 1$ and visiting the variables in decreasing index order.

# %% nbgrader={"grade": false, "solution": false, "locked": true, "grade_id": "trace_tools", "schema_version": 3}
BOOK = {3: ("mul", (1, 2)), 4: ("sin", (2,)), 5: ("exp", (3,)), 6: ("sub", (3, 4)),
        7: ("add", (5, 6))}
CHAIN = {3: ("mul", (1, 2)), 4: ("sin", (3,)), 5: ("exp", (4,))}     # no variable fans out

OPERATIONS = {"mul": lambda a, b: a * b, "add": lambda a, b: a + b, "sub": lambda a, b: a - b,
              "sin": math.sin, "exp": math.exp}


def forward_values(trace, x1, x2):
    values = {1: x1, 2: x2}
    for i in sorted(trace):
        op, parents = trace[i]
        values[i] = OPERATIONS[op](*(values[p] for p in parents))
    return values


def local_partials(op, args, value):
    """∂v/∂(each argument) of one operation, at its arguments and its value."""
    if op == "mul":
        return (args[1], args[0])
    if op == "add":
        return (1.0, 1.0)
    if op == "sub":
        return (1.0, -1.0)
    if op == "sin":
        return (math.cos(args[0]),)
    if op == "exp":
        return (value,)
    raise ValueError(op)


# %% nbgrader={"grade": false, "solution": true, "locked": false, "grade_id": "reverse_sweep", "schema_version": 3}
def reverse_sweep(trace, values, output):
    """Return {i: v̄_i} for every variable of the trace (eq. 8.69)."""
    ### BEGIN SOLUTION
    adjoints = {i: 0.0 for i in values}
    adjoints[output] = 1.0
    for j in sorted(trace, reverse=True):
        op, parents = trace[j]
        partials = local_partials(op, [values[p] for p in parents], values[j])
        for p, d in zip(parents, partials):
            adjoints[p] += adjoints[j] * d
    return adjoints
    ### END SOLUTION


# %% [markdown] nbgrader={"grade": false, "solution": false, "locked": true, "grade_id": "part1_tests", "schema_version": 3}
# The cells below grade Part 1 against adnb: the function is written once more for adnb, and
# `adnb.trace(...).reverse()` gives its adjoints (adnb's variable $v_i$ is `nodes[i - 1]`).

# %% nbgrader={"grade": true, "solution": false, "locked": true, "grade_id": "test_chain", "points": 2, "schema_version": 3}
def chain(x1, x2):
    return np.exp(np.sin(x1 * x2))


_t = adnb.trace(chain, 0.8, 1.5)
_mine = reverse_sweep(CHAIN, forward_values(CHAIN, 0.8, 1.5), 5)
for _i, _adj in enumerate(_t.reverse().adjoints[0], start=1):
    assert math.isclose(_mine[_i], _adj, rel_tol=1e-9), f"v̄{_i}: yours {_mine[_i]}, adnb {_adj}"


# %% nbgrader={"grade": true, "solution": false, "locked": true, "grade_id": "test_book_single_children", "points": 1, "schema_version": 3}
def book(x1, x2):
    v3 = x1 * x2
    v4 = np.sin(x2)
    v5 = np.exp(v3)
    v6 = v3 - v4
    return v5 + v6


_adnb = adnb.trace(book, 1.0, 2.0).reverse().adjoints[0]
_mine = reverse_sweep(BOOK, forward_values(BOOK, 1.0, 2.0), 7)
for _i in (7, 6, 5, 4):               # one child each: eqs. (8.70)–(8.73)
    assert math.isclose(_mine[_i], _adnb[_i - 1], rel_tol=1e-9), \
        f"v̄{_i}: yours {_mine[_i]}, adnb {_adnb[_i - 1]}"

# %% nbgrader={"grade": true, "solution": false, "locked": true, "grade_id": "test_fanout_v3", "points": 2, "schema_version": 3}
# v3 has two children, v5 and v6: eq. (8.74) sums both
assert math.isclose(_mine[3], _adnb[2], rel_tol=1e-9), f"v̄3: yours {_mine[3]}, adnb {_adnb[2]}"

# %% nbgrader={"grade": true, "solution": false, "locked": true, "grade_id": "test_fanout_v2_gradient", "points": 2, "schema_version": 3}
# v2 has two children, v3 and v4 (eq. 8.75); the gradient is (v̄1, v̄2)
assert math.isclose(_mine[2], _adnb[1], rel_tol=1e-9), f"v̄2: yours {_mine[2]}, adnb {_adnb[1]}"
assert math.isclose(_mine[1], _adnb[0], rel_tol=1e-9), f"v̄1: yours {_mine[1]}, adnb {_adnb[0]}"

# %% [markdown] nbgrader={"grade": false, "solution": false, "locked": true, "grade_id": "part2", "schema_version": 3}
# ## Part 2 · Backpropagation for a small network
#
# The network of §8.1.3: $z = \tanh(W_1 x + b_1)$, $y = W_2 z + b_2$, error
# $E = \tfrac12 \sum_n \lVert y_n - t_n \rVert^2$ over the examples $(x_n, t_n)$ (rows of `X`, `T`).
# Write `mlp_backprop(W1, b1, W2, b2, X, T)`, returning $(\partial E/\partial W_1,
# \partial E/\partial b_1, \partial E/\partial W_2, \partial E/\partial b_2)$. Go through the
# examples one at a time with the $\delta$'s of eqs. (8.21)–(8.23),
# $\delta_{\text{out}} = y - t$, $\delta_{\text{hidden}} = (1 - z^2) \odot W_2^\top\delta_{\text{out}}$,
# and remember that every weight is used by **every** example: its gradient is a sum.

# %% nbgrader={"grade": false, "solution": true, "locked": false, "grade_id": "mlp_backprop", "schema_version": 3}
def mlp_backprop(W1, b1, W2, b2, X, T):
    """Return (dE/dW1, dE/db1, dE/dW2, dE/db2) for E = ½ Σ_n ||y_n − t_n||²."""
    ### BEGIN SOLUTION
    gW1, gb1, gW2, gb2 = (np.zeros_like(p) for p in (W1, b1, W2, b2))
    for x, t in zip(X, T):
        z = np.tanh(W1 @ x + b1)
        y = W2 @ z + b2
        delta_out = y - t
        delta_hidden = (1 - z ** 2) * (W2.T @ delta_out)
        gW2 += np.outer(delta_out, z)
        gb2 += delta_out
        gW1 += np.outer(delta_hidden, x)
        gb1 += delta_hidden
    return gW1, gb1, gW2, gb2
    ### END SOLUTION


# %% nbgrader={"grade": true, "solution": false, "locked": true, "grade_id": "test_mlp_one_example", "points": 2, "schema_version": 3}
_rng = np.random.default_rng(16)
_W1, _b1 = _rng.standard_normal((3, 2)), _rng.standard_normal(3)
_W2, _b2 = _rng.standard_normal((2, 3)), _rng.standard_normal(2)
_X, _T = _rng.standard_normal((5, 2)), _rng.standard_normal((5, 2))


def error(X, T):
    def E(W1, b1, W2, b2):
        Z = np.tanh(X @ W1.T + b1)
        Y = Z @ W2.T + b2
        return 0.5 * np.sum((Y - T) ** 2)
    return E


_one = compare(lambda *p: mlp_backprop(*p, _X[:1], _T[:1]), error(_X[:1], _T[:1]),
               _W1, _b1, _W2, _b2)
assert _one, str(_one)

# %% nbgrader={"grade": true, "solution": false, "locked": true, "grade_id": "test_mlp_batch", "points": 3, "schema_version": 3}
_batch = compare(lambda *p: mlp_backprop(*p, _X, _T), error(_X, _T), _W1, _b1, _W2, _b2)
assert _batch, str(_batch)
