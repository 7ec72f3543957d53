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
# # 10 · Build reverse mode yourself
#
# *Course notebook for Bishop & Bishop (2024), §8.2.2, eqs. (8.68)–(8.76).*
#
# Notebooks 02–04 showed adnb's evaluation traces and sweeps. Here you write reverse mode
# yourself, in about forty lines, and adnb checks it: `adnb.testing.compare(student_grad, f,
# *args)` runs adnb's reverse mode on the same function and reports which gradient entries differ,
# by how much, and, when your objects expose their adjoints, the **first variable of the trace
# where they go wrong**.
#
# The plan:
#
# 1. a scalar `Value` that remembers its parents and the local partials $\partial v_j/\partial v_i$;
# 2. a topological order of the graph (parents before children);
# 3. the adjoint sweep of eq. (8.69), $\bar v_i = \sum_{j\in \mathrm{ch}(i)} \bar v_j\,
#    \partial v_j/\partial v_i$, run backwards over that order;
# 4. the classic bug: an adjoint **overwritten** instead of **accumulated**, caught by adnb;
# 5. the same for a vectorised layer, with matrices.

# %%
import math

import numpy as np

import adnb
from adnb.testing import compare

# %% [markdown]
# ## 1 · A value that remembers where it came from
#
# Each operation creates a new `Value` holding its result (`data`), its parents, and the local
# partial derivative with respect to each parent, computed **while the value is computed** — the
# same numbers the book writes on the edges of Figure 8.4. `grad` will hold the adjoint
# $\bar v = \partial f/\partial v$.

# %%
class Value:
    def __init__(self, data, parents=(), partials=()):
        self.data = float(data)
        self.parents = parents          # the Values this one was computed from: pa(i)
        self.partials = partials        # ∂self/∂parent, one per parent
        self.grad = 0.0                 # the adjoint v̄, filled by backward()

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), (1.0, 1.0))

    def __sub__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data - other.data, (self, other), (1.0, -1.0))

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data))

    __radd__, __rmul__ = __add__, __mul__

    def exp(self):
        e = math.exp(self.data)
        return Value(e, (self,), (e,))          # ∂ exp(v)/∂v = exp(v): the value itself

    def sin(self):
        return Value(math.sin(self.data), (self,), (math.cos(self.data),))

    def __repr__(self):
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"


# %% [markdown]
# ## 2 · Topological order, 3 · the adjoint sweep
#
# `backward()` lists the graph with every parent before its children (a depth-first search), seeds
# the output with $\bar f = 1$ (eq. 8.70) and walks the list **backwards**: when a node is reached,
# all its children have already passed their contributions on, so its adjoint is complete and it
# can pass $\bar v_j\,\partial v_j/\partial v_i$ to each parent. The `+=` is eq. (8.69)'s sum over
# children.

# %%
def topological_order(output):
    order, seen = [], set()

    def visit(v):
        if id(v) not in seen:
            seen.add(id(v))
            for p in v.parents:
                visit(p)
            order.append(v)            # after all its parents
    visit(output)
    return order


def backward(output):
    output.grad = 1.0                                      # v̄_f = ∂f/∂f = 1
    for v in reversed(topological_order(output)):         # children before parents
        for parent, partial in zip(v.parents, v.partials):
            parent.grad += v.grad * partial                # accumulate: eq. (8.69)


# %% [markdown]
# The book's example (8.49), $f = x_1x_2 + \exp(x_1x_2) - \sin x_2$, written once for `Value`s and
# once for adnb (plain numpy). The student's gradient function returns the output `Value` after the
# sweep, so `compare` can read every adjoint, not only the gradient.

# %%
def book_values(x1, x2):
    v3 = x1 * x2
    v4 = x2.sin()
    v5 = v3.exp()
    v6 = v3 - v4
    return v5 + v6


def book(x1, x2):
    v3 = x1 * x2
    v4 = np.sin(x2)
    v5 = np.exp(v3)
    v6 = v3 - v4
    return v5 + v6


def my_grad(x1, x2):
    a, b = Value(x1), Value(x2)
    out = book_values(a, b)
    backward(out)
    return out                  # compare() walks the graph from here


# %% [markdown]
# **Predict, then run.** At $(x_1, x_2) = (1, 2)$, what is $\partial f/\partial x_1$? (Hint: it
# is $x_2(1 + e^{x_1x_2})$.) Write your number down, then run the cell.

# %%
result = compare(my_grad, book, 1.0, 2.0)
print(result)
x1_value = Value(1.0)
out = book_values(x1_value, Value(2.0))
backward(out)
print(f"∂f/∂x1 = {x1_value.grad:.6f}  (2 + 2e² = {2 + 2 * math.e ** 2:.6f})")
assert result.ok and result.matched == 7
assert math.isclose(x1_value.grad, 2 + 2 * math.exp(2), rel_tol=1e-12)

# %% [markdown]
# All seven adjoints $\bar v_1 \ldots \bar v_7$ were paired with adnb's trace and agree.
#
# ### Exercise A · add `tanh`
#
# Give `Value` a method `tanh()` (its local partial is $1 - \tanh^2 v$, written with the
# result). Then check $g(x, w) = \tanh(w x)\,x$ at $(0.7, -1.3)$ with `compare`.

# %% [markdown]
# ### Solution (Exercise A)

# %% jupyter={"source_hidden": true}
def _tanh(self):
    t = math.tanh(self.data)
    return Value(t, (self,), (1.0 - t * t,))


Value.tanh = _tanh


def g_values(x, w):
    return (w * x).tanh() * x


def g(x, w):
    return np.tanh(w * x) * x


def g_grad(x, w):
    a, b = Value(x), Value(w)
    out = g_values(a, b)
    backward(out)
    return out


check_tanh = compare(g_grad, g, 0.7, -1.3)
print(check_tanh)
assert check_tanh.ok

# %% [markdown]
# ## 4 · The classic bug: overwriting instead of accumulating
#
# Change one character, `+=` to `=`, and the sweep keeps only the **last** contribution a node
# receives. Nothing crashes. Wherever a variable has one child the numbers stay right — but $v_3$
# has two children ($v_5$ and $v_6$) and $v_2$ has two ($v_3$ and $v_4$). (tinygrad shipped this
# bug in 2020.)

# %% [markdown]
# **Predict, then run.** Which adjoint is the first to go wrong, and what value will it have?

# %%
def backward_overwrite(output):
    output.grad = 1.0
    for v in reversed(topological_order(output)):
        for parent, partial in zip(v.parents, v.partials):
            parent.grad = v.grad * partial                 # the bug: = instead of +=


def buggy_grad(x1, x2):
    a, b = Value(x1), Value(x2)
    out = book_values(a, b)
    backward_overwrite(out)
    return out


caught = compare(buggy_grad, book, 1.0, 2.0)
print(caught)
assert not caught
assert caught.first_wrong.question.symbol == "v\u03043"
assert "overwritten" in {m.kind for m in caught.first_wrong.mistakes}

# %% [markdown]
# adnb names $\bar v_3$: it should be $\bar v_5 v_5 + \bar v_6 = e^2 + 1$, but only $\bar v_5 v_5 =
# e^2$ survived (the buggy sweep reached $v_3$ from $v_6$ first and from $v_5$ last). Everything
# below $v_3$ is then wrong too: that is why the *first* wrong variable in the sweep's order is the
# one to look at.
#
# ## 5 · A vectorised layer
#
# Scalars make the idea plain; networks need matrices. For one layer
# $y = \tanh(W x + b)$ with loss $L = \sum_k y_k^2$, the same sweep runs over three matrix nodes.
# Reverse mode needs the adjoint rules of each operation:
#
# * $L = \sum_k y_k^2$: $\bar y = 2y$;
# * $y = \tanh(a)$ elementwise: $\bar a = \bar y \odot (1 - y^2)$;
# * $a = W x + b$: $\bar W = \bar a\, x^\top$, $\bar x = W^\top \bar a$, $\bar b = \bar a$.
#
# ### Exercise B · write `layer_grad(W, b, x)`
#
# Return $(\bar W, \bar b, \bar x)$ and check it with `compare` against adnb on random data.

# %% [markdown]
# ### Solution (Exercise B)

# %% jupyter={"source_hidden": true}
def layer(W, b, x):
    return np.sum(np.tanh(W @ x + b) ** 2)


def layer_grad(W, b, x):
    y = np.tanh(W @ x + b)
    a_bar = 2 * y * (1 - y ** 2)
    return np.outer(a_bar, x), a_bar, W.T @ a_bar


rng = np.random.default_rng(0)
W, b, x = rng.standard_normal((3, 4)), rng.standard_normal(3), rng.standard_normal(4)
layer_check = compare(layer_grad, layer, W, b, x)
print(layer_check)
assert layer_check.ok

# %% [markdown]
# A typical slip is $\bar W = x\,\bar a^\top$ (the transpose, which here does not even have the
# right shape) or forgetting the $\tanh$'s factor in $\bar b$. `compare` lists the entries that
# differ:

# %%
def layer_grad_slip(W, b, x):
    y = np.tanh(W @ x + b)
    gW, gb, gx = layer_grad(W, b, x)
    return gW, 2 * y, gx                         # b̄ without (1 − y²)


slip = compare(layer_grad_slip, layer, W, b, x)
print(slip)
assert [d.argument for d in slip.differences] == ["b", "b", "b"]

# %% [markdown]
# ## What next
#
# * Step through adnb's own sweep of the same function with `%%autodiff --predict`: it asks you for
#   each $\bar v_i$ before revealing it and names the classic mistakes.
# * `adnb.exercise(book, 1.0, 2.0, blanks=["v̄3", "v̄2"])` prints a sheet with blanks and its answer
#   key; lecturers find a graded version in `notebooks/assignments/`.

# %%
sheet = adnb.exercise(book, 1.0, 2.0, blanks=["v̄3", "v̄2"])
print(sheet.markdown())
