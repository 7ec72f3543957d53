"""The catalogue of test functions (in the style of Tangent's ``tests/functions.py``).

Plain numpy functions, written the way a learner would write them; the argument names fix the
inputs. ``CATALOGUE`` pairs each with a point to differentiate at (chosen away from kinks, ties
and branch boundaries, so central differences are meaningful there).

The module reads ``np`` from ``NUMPY`` if that is set before the module body runs: the reference
cross-check (tests/test_reference.py) loads this same file again with ``autograd.numpy`` or
``jax.numpy`` so the very same source is differentiated by the reference system.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as _numpy

np = globals().get("NUMPY", _numpy)


@dataclass
class Case:
    """One catalogue entry: ``f(*args)`` is an array or a float."""
    name: str
    f: object
    args: tuple
    tags: frozenset = field(default_factory=frozenset)   # "control", "fanout", "linalg", ...
    ref_skip: frozenset = field(default_factory=frozenset)  # reference systems that cannot run it

    def __repr__(self):
        return self.name


# ---- the book's example (8.49), (8.65) ---------------------------------------------------------

def book_f1(x1, x2):
    return x1 * x2 + np.exp(x1 * x2) - np.sin(x2)


def book_f2(x1, x2):
    return (x1 * x2 - np.sin(x2)) * np.exp(x1 * x2)


def book_8_65(x1, x2):
    """Eqs. (8.49) and (8.65) written as the book's trace: v3 … v8 in the book's order."""
    v3 = x1 * x2
    v4 = np.sin(x2)
    v5 = np.exp(v3)
    v6 = v3 - v4
    v7 = v5 + v6
    v8 = v5 * v6
    return v7, v8


def book_both(x):
    return np.stack(book_8_65(x[0], x[1]))


def baydin(x1, x2):
    return np.log(x1) + x1 * x2 - np.sin(x2)


# ---- fan-out -----------------------------------------------------------------------------------

def square_fanout(x):
    return x * x


def sin_fanout(x):
    return np.sin(np.sin(x) + np.sin(x))


def doubling(a):
    b = a + a
    c = b + b
    return c


def reuse_many(x):
    y = x * x * x            # x used three times on one line
    return y + x - np.tanh(x) * x


# ---- constants and independence ----------------------------------------------------------------

def with_constants(x):
    return 3.0 * x ** 3 - 2.0 * x + 1.5 + np.pi * np.sqrt(2.0) + np.exp(1.0) * x


def ignores_second(x, y):
    return np.sin(x) * 2.0          # y does not reach the output: its derivative is 0


def constant_output(x):
    return np.array([1.0, 2.0, 3.0])     # does not depend on x at all


def partly_constant(x):
    return np.stack([np.sum(x * x), 7.0 + 0.0 * np.sum(x)])


# ---- broadcasting, matmul, MLP -----------------------------------------------------------------

def broadcast_rows_cols(a, b):
    # a: (1, n), b: (m, 1) -> (m, n)
    return a * b + a - b / (1.0 + b * b)


def broadcast_scalar_vector(s, v):
    return s * v + s ** 2 - v / s


def scalar_plus_constant_array(s):
    return s + np.arange(3.0) - 2.0 * np.ones(3)     # the output is a vector, the input a scalar


def matvec_tanh(W, x):
    return np.tanh(W @ x)


def matmat(A, B):
    return np.matmul(A, B.T) @ A


def softplus(a):
    return np.log1p(np.exp(a))


def softplus_net(x, w1, b1, w2, b2):
    z = softplus(w1 * x + b1)
    return softplus(w2 * z + b2)


def mlp(W1, b1, W2, b2, X):
    H = np.tanh(X @ W1 + b1)
    out = H @ W2 + b2
    target = np.array([[0.5], [-0.25], [1.0], [0.0]])
    return np.mean((out - target) ** 2)


# ---- Python control flow -----------------------------------------------------------------------

def if_on_data(x):
    if x > 0:
        return x ** 2 * np.sin(x)
    return -x ** 3


def if_on_data_vector(x):
    if np.sum(x) > 0:
        y = np.exp(x) * x
    else:
        y = np.cos(x)
    return y


def while_data_exit(x):
    # halve until small: the number of iterations depends on x
    while np.sum(x * x) > 1.0:
        x = x * 0.5
    return np.sin(x) + x


def for_logistic(x):
    L = x
    for _ in range(4):
        L = 4.0 * L * (1.0 - L)
    return L


def _rec_power(x, n):
    if n == 1:
        return x
    return x * _rec_power(x, n - 1)


def recursion(x):
    return _rec_power(x, 5) + _rec_power(np.sin(x), 3)


def _horner(coeffs, x):
    if len(coeffs) == 1:
        return coeffs[0] + 0.0 * x
    return coeffs[0] + x * _horner(coeffs[1:], x)


def recursion_horner(x):
    return _horner([1.0, -2.0, 0.5, 3.0], x)


def closures(x):
    k = np.exp(x)

    def scale(y):
        return y * k          # captures the traced k

    def make_adder(c):
        def add(y):
            return y + c
        return add
    add_x = make_adder(x)     # captures the traced x
    return scale(np.sin(x)) + add_x(k)


def _inner(x):
    return np.sin(x) * x


def _middle(x):
    return _inner(x) + _inner(2.0 * x)


def nested_calls(x):
    return _middle(_middle(x))


def python_builtins(X):
    # iteration, len, .shape/.ndim/.size, and Python's sum/max over a traced array
    total = 0.0
    for row in X:
        total = total + sum(row) * len(row) + max(row)
    n, m = X.shape
    return total / (n * m) + X.ndim + 0.0 * X.size + X.T.sum(axis=0).prod()


# ---- selection -----------------------------------------------------------------------------------

def where_branches(x):
    return np.where(x > 0, x ** 2, np.sin(x))


def leaky_relu(x):
    return np.maximum(x, 0.1 * x)


def max_of_two(x, y):
    return np.maximum(x, y) * np.minimum(x, y) + np.maximum(x, 0.0)


def clipped(x):
    return np.clip(x, -0.5, 0.5) * x


def abs_value(x):
    return np.abs(x) * x + abs(x)


# ---- indexing ------------------------------------------------------------------------------------

def slicing(x):
    return x[1:3] * x[0] + x[::-1][:2] + x[-1]


def fancy_repeated(x):
    idx = np.array([0, 0, 2, 2, 2, 1])
    return x[idx] * x[idx[::-1]]


def matrix_indexing(A):
    rows = np.array([0, 1, 1])
    cols = np.array([2, 0, 0])
    return A[:, 1].sum() * A[1] + A[rows, cols].sum() + A[1, 2]


def boolean_mask(x):
    return np.sum(x[x > 0] ** 2)


# ---- reductions, shape, contractions -------------------------------------------------------------

def reductions(X):
    return np.stack([np.sum(X), np.mean(X ** 2), np.var(X), np.std(X, axis=0).sum(),
                     np.prod(X[0]), np.max(X), np.min(X, axis=1).sum(),
                     np.cumsum(X, axis=1)[:, -1].sum()])


def shapes(X):
    Y = X.T.reshape(2, 6)
    Z = np.concatenate([Y, Y * 2.0], axis=0)
    S = np.stack([Z[0], Z[3]], axis=1)
    return np.expand_dims(np.squeeze(S[None, :, :]), 0).sum(axis=0)


def contractions(A, B):
    return (np.einsum("ij,jk->ik", A, B).sum() + np.tensordot(A, B.T, axes=2)
            + np.outer(A[0], B[:, 0]).sum() + np.dot(A[1], B[:, 1]))


# ---- linear algebra ------------------------------------------------------------------------------

def linalg_solve(A, b):
    return np.linalg.solve(A, b)


def linalg_mix(A):
    return np.linalg.det(A) * np.trace(np.linalg.inv(A)) + np.linalg.norm(A[0])


def linalg_diag(A):
    return np.diag(np.diag(A)) @ A + np.eye(3) * np.trace(A)


# ---- the catalogue ---------------------------------------------------------------------------------

_rng = _numpy.random.default_rng(1234)


def _arr(*shape, lo=-1.0, hi=1.0):
    return _rng.uniform(lo, hi, size=shape)


_A3 = _arr(3, 3) + 3.0 * _numpy.eye(3)

CATALOGUE = [
    Case("book_f1", book_f1, (1.0, 2.0), frozenset({"book", "fanout"})),
    Case("book_f1_baydin_point", book_f1, (2.0, 5.0), frozenset({"book", "fanout"})),
    Case("book_f2", book_f2, (1.0, 2.0), frozenset({"book", "fanout"})),
    Case("book_both", book_both, (_numpy.array([1.0, 2.0]),), frozenset({"book", "fanout"})),
    Case("baydin", baydin, (2.0, 5.0)),
    Case("square_fanout", square_fanout, (_arr(4),), frozenset({"fanout"})),
    Case("sin_fanout", sin_fanout, (0.7,), frozenset({"fanout"})),
    Case("sin_fanout_vec", sin_fanout, (_arr(3),), frozenset({"fanout"})),
    Case("doubling", doubling, (_arr(3),), frozenset({"fanout"})),
    Case("reuse_many", reuse_many, (0.3,), frozenset({"fanout"})),
    Case("with_constants", with_constants, (_arr(3),)),
    Case("ignores_second", ignores_second, (_arr(3), _arr(2)), frozenset({"independent"})),
    Case("constant_output", constant_output, (_arr(2),), frozenset({"independent"})),
    Case("partly_constant", partly_constant, (_arr(3),), frozenset({"independent"})),
    Case("broadcast_rows_cols", broadcast_rows_cols, (_arr(1, 4), _arr(3, 1)),
         frozenset({"broadcast"})),
    Case("broadcast_scalar_vector", broadcast_scalar_vector, (1.3, _arr(4)),
         frozenset({"broadcast"})),
    Case("scalar_plus_constant_array", scalar_plus_constant_array, (0.4,),
         frozenset({"broadcast"})),
    Case("matvec_tanh", matvec_tanh, (_arr(3, 2), _arr(2))),
    Case("matmat", matmat, (_arr(2, 3), _arr(2, 3))),
    Case("softplus_net", softplus_net, (1.5, 0.8, -0.3, 1.2, 0.5)),
    Case("mlp", mlp, (_arr(3, 5), _arr(5), _arr(5, 1), _arr(1), _arr(4, 3))),
    Case("if_on_data_pos", if_on_data, (0.8,), frozenset({"control"})),
    Case("if_on_data_neg", if_on_data, (-0.6,), frozenset({"control"})),
    Case("if_on_data_vector", if_on_data_vector, (_numpy.array([0.4, -0.1, 0.3]),),
         frozenset({"control"})),
    Case("if_on_data_vector_else", if_on_data_vector, (_numpy.array([-0.4, -0.1, 0.3]),),
         frozenset({"control"})),
    Case("while_data_exit", while_data_exit, (_numpy.array([1.3, -2.1, 0.7]),),
         frozenset({"control"})),
    Case("for_logistic", for_logistic, (0.3,), frozenset({"control", "fanout"})),
    Case("recursion", recursion, (0.9,), frozenset({"control"})),
    Case("recursion_horner", recursion_horner, (_arr(3),), frozenset({"control"})),
    Case("closures", closures, (0.4,), frozenset({"control", "fanout"})),
    Case("nested_calls", nested_calls, (_arr(2),), frozenset({"control", "fanout"})),
    Case("python_builtins", python_builtins, (_arr(3, 4),), frozenset({"control"})),
    Case("where_branches", where_branches, (_numpy.array([-0.7, 0.2, 1.1, -0.3]),),
         frozenset({"selection"})),
    Case("leaky_relu", leaky_relu, (_numpy.array([-0.7, 0.2, 1.1, -0.3]),),
         frozenset({"selection"})),
    Case("max_of_two", max_of_two, (_numpy.array([-0.7, 0.2, 1.1]), _numpy.array([0.1, -0.4, 1.5])),
         frozenset({"selection"})),
    Case("clipped", clipped, (_numpy.array([-0.9, 0.2, 0.45, 0.8]),), frozenset({"selection"})),
    Case("abs_value", abs_value, (_numpy.array([-0.9, 0.2, 0.45]),), frozenset({"selection"})),
    Case("slicing", slicing, (_arr(5),), frozenset({"indexing"})),
    Case("fancy_repeated", fancy_repeated, (_arr(3),), frozenset({"indexing", "fanout"})),
    Case("matrix_indexing", matrix_indexing, (_arr(2, 3),), frozenset({"indexing"})),
    Case("boolean_mask", boolean_mask, (_numpy.array([-0.5, 0.3, 0.9, -0.1]),),
         frozenset({"indexing"}), ref_skip=frozenset({"jax"})),
    Case("reductions", reductions, (_arr(3, 4),)),
    Case("shapes", shapes, (_arr(4, 3),)),
    Case("contractions", contractions, (_arr(2, 3), _arr(3, 2))),
    Case("linalg_solve", linalg_solve, (_A3, _arr(3)), frozenset({"linalg"})),
    Case("linalg_mix", linalg_mix, (_A3,), frozenset({"linalg"})),
    Case("linalg_diag", linalg_diag, (_A3,), frozenset({"linalg"})),
]

CASES = {c.name: c for c in CATALOGUE}
