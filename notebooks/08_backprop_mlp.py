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
# # 08 · Backpropagation in a two-layer network
#
# *Course notebook for Bishop & Bishop (2024), §8.1.2–8.1.3 (error backpropagation, Algorithm 8.1,
# eqs. (8.5)–(8.23)) and §8.1.5 (the Jacobian, eqs. (8.26)–(8.35)).*
#
# Section 8.1 derives backpropagation by hand for layered networks: propagate activations forward,
# propagate errors $\delta$ backward, multiply. Section 8.2 then presents reverse-mode AD as its
# generalisation to any program. Here we go back and implement the hand-derived algorithm for the
# book's worked example, and check that it is reverse mode: same numbers as `adnb.grad`, to
# rounding.

# %%
import numpy as np

import adnb

rng = np.random.default_rng(1)

# %% [markdown]
# ## The network of §8.1.3
#
# $D$ inputs, $M$ hidden units with $h = \tanh$, $K$ linear outputs, sum-of-squares error over $N$
# data points (Bishop & Bishop 2024, eqs. (8.15)–(8.20)):
#
# $$a_j = \sum_i w^{(1)}_{ji} x_i + b^{(1)}_j, \quad z_j = \tanh a_j, \quad
#   y_k = \sum_j w^{(2)}_{kj} z_j + b^{(2)}_k, \quad E = \tfrac12 \sum_n \sum_k (y_{nk} - t_{nk})^2.$$
#
# (The book folds the biases into the weights with an extra input fixed at 1; we keep them
# separate.)

# %%
D, M, K, N = 3, 6, 2, 40
X = rng.standard_normal((N, D))
T = rng.standard_normal((N, K))
params = (0.5 * rng.standard_normal((M, D)), 0.1 * rng.standard_normal(M),
          0.5 * rng.standard_normal((K, M)), 0.1 * rng.standard_normal(K))


def forward(W1, b1, W2, b2, X):
    A = X @ W1.T + b1                    # a_j for every data point (rows)
    Z = np.tanh(A)                       # z_j
    Y = Z @ W2.T + b2                    # y_k
    return A, Z, Y


def error(W1, b1, W2, b2):
    _, _, Y = forward(W1, b1, W2, b2, X)
    return 0.5 * np.sum((Y - T) ** 2)

# %% [markdown]
# ## Algorithm 8.1 by hand
#
# 1. forward: compute all $a_j$, $z_j$, $y_k$;
# 2. output errors: $\delta_k = y_k - t_k$ (eq. 8.21);
# 3. hidden errors: $\delta_j = h'(a_j) \sum_k w^{(2)}_{kj} \delta_k$ with $h'(a) = 1 - \tanh^2 a
#    = 1 - z^2$ (eqs. (8.13), (8.22));
# 4. derivatives: $\partial E_n/\partial w^{(1)}_{ji} = \delta_j x_i$ and
#    $\partial E_n/\partial w^{(2)}_{kj} = \delta_k z_j$ (eq. 8.23); sum over data points.
#
# First for one data point at a time, with explicit loops over units, as written in the book:

# %%
def backprop_one_point(W1, b1, W2, b2, x, t):
    a = [sum(W1[j, i] * x[i] for i in range(D)) + b1[j] for j in range(M)]
    z = [np.tanh(a_j) for a_j in a]
    y = [sum(W2[k, j] * z[j] for j in range(M)) + b2[k] for k in range(K)]
    delta_k = [y[k] - t[k] for k in range(K)]                                        # (8.21)
    delta_j = [(1 - z[j] ** 2) * sum(W2[k, j] * delta_k[k] for k in range(K))       # (8.22)
               for j in range(M)]
    gW1 = np.array([[delta_j[j] * x[i] for i in range(D)] for j in range(M)])       # (8.23)
    gW2 = np.array([[delta_k[k] * z[j] for j in range(M)] for k in range(K)])
    return gW1, np.array(delta_j), gW2, np.array(delta_k)


per_point = [backprop_one_point(*params, X[n], T[n]) for n in range(N)]
grads_loop = [sum(g[p] for g in per_point) for p in range(4)]     # E = Σ_n E_n  (eq. 8.1)

# %% [markdown]
# The same algorithm with the data points as rows of a matrix (the form used in practice):

# %% [markdown]
# **Predict, then run.** Algorithm 8.1 by hand against adnb's reverse mode: will the largest difference
# be about $10^{-3}$, $10^{-8}$ or $10^{-16}$?

# %%
def backprop(W1, b1, W2, b2):
    A, Z, Y = forward(W1, b1, W2, b2, X)
    dK = Y - T                                  # δ_k, one row per data point
    dJ = (1 - Z ** 2) * (dK @ W2)               # δ_j = h'(a_j) Σ_k w_kj δ_k
    return dJ.T @ X, dJ.sum(0), dK.T @ Z, dK.sum(0)


grads_bp = backprop(*params)
grads_ad = adnb.grad(error, argnums=(0, 1, 2, 3))(*params)
names = ("W1", "b1", "W2", "b2")
for name, g_loop, g_bp, g_ad in zip(names, grads_loop, grads_bp, grads_ad):
    print(f"∂E/∂{name}: shape {g_ad.shape}, max |backprop − adnb| = {np.max(np.abs(g_bp - g_ad)):.1e}, "
          f"max |loops − adnb| = {np.max(np.abs(g_loop - g_ad)):.1e}")
    assert np.allclose(g_bp, g_ad, rtol=1e-12, atol=1e-12)
    assert np.allclose(g_loop, g_ad, rtol=1e-12, atol=1e-12)

# %% [markdown]
# And against finite differences, the check the book recommends for any hand-written gradient code
# (§8.1.4): central differences of $E$ with respect to every weight ($2W$ evaluations).

# %%
sizes = [p.size for p in params]
W_total = sum(sizes)


def unpack(w):
    out, i = [], 0
    for p in params:
        out.append(np.reshape(w[i:i + p.size], p.shape))
        i += p.size
    return out


w_flat = np.concatenate([p.ravel() for p in params])
g_num = adnb.numerical_grad(lambda w: error(*unpack(w)), w_flat)
g_bp_flat = np.concatenate([g.ravel() for g in grads_bp])
print(f"W = {W_total} weights; max |backprop − central difference| = {np.max(np.abs(g_bp_flat - g_num)):.1e}")
assert np.allclose(g_bp_flat, g_num, rtol=1e-6, atol=1e-7)
assert adnb.check_grads(error, params)

# %% [markdown]
# Backpropagation *is* reverse mode specialised to this network: $\delta_k$ and $\delta_j$ are the
# adjoints $\bar a$ of the pre-activations (the book defines $\delta_j \equiv \partial E_n/\partial
# a_j$, eq. (8.8)), and the last step multiplies each adjoint by the value the weight was
# multiplied with. adnb derives the same sweep from the forward code alone: the hand derivation
# is no longer needed — but it is a good way to see what the sweep does.
#
# ## The Jacobian $\partial y_k / \partial x_i$ (§8.1.5)
#
# For one input vector $x$, the $K\times D$ Jacobian of the outputs is, by the chain rule through the
# hidden layer (eqs. (8.29)–(8.34) for linear outputs),
#
# $$J_{ki} = \sum_j w^{(2)}_{kj}\, h'(a_j)\, w^{(1)}_{ji}.$$
#
# The book computes it by *back*-propagation, one sweep per output $k$ ($K$ sweeps). Exercise 8.5
# asks for the *forward* version: propagate $\partial a_j/\partial x_i = w^{(1)}_{ji}$, then
# $\partial z_j/\partial x_i = h'(a_j) \partial a_j / \partial x_i$, then $\partial y_k/\partial x_i$,
# one column $i$ per sweep ($D$ sweeps): forward mode. We compute it four ways:

# %% [markdown]
# **Predict, then run.** How many reverse passes does the $K \times D$ Jacobian take, and how many
# forward passes?

# %%
W1, b1, W2, b2 = params
x0 = X[0]


def outputs(x):
    return forward(W1, b1, W2, b2, x)[2]


a0 = W1 @ x0 + b1
J_backward = np.stack([(W2[k] * (1 - np.tanh(a0) ** 2)) @ W1 for k in range(K)])   # K backward sweeps
dA = W1                                            # ∂a/∂x, all D columns at once
dZ = (1 - np.tanh(a0) ** 2)[:, None] * dA          # ∂z/∂x
J_forward = W2 @ dZ                                # ∂y/∂x  (Exercise 8.5)

with adnb.count_cost() as c_rev:
    J_rev = adnb.jacrev(outputs)(x0)
with adnb.count_cost() as c_fwd:
    J_fwd = adnb.jacfwd(outputs)(x0)
J_num = adnb.numerical_jacobian(outputs, x0)      # eq. (8.35): 2D evaluations

print(f"J ({K}×{D}):\n{J_rev}")
print(f"reverse passes {c_rev.reverse_passes} (= K), forward passes {c_fwd.forward_passes} (= D)")
assert c_rev.reverse_passes == K and c_fwd.forward_passes == D
for J in (J_backward, J_forward, J_fwd):
    assert np.allclose(J, J_rev, rtol=1e-12, atol=1e-14)
assert np.allclose(J_num, J_rev, rtol=1e-6, atol=1e-9)

# %% [markdown]
# With $D = 3$ inputs and $K = 2$ outputs both are cheap; notebook 05 showed how the choice between
# them depends on which of $D$ and $K$ is larger.
#
# **Back to the start:** [00 · Index](00_index.ipynb).
