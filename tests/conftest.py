"""Shared pytest fixtures for adnb's tests (kept generic: other test files share this file).

* every test starts with numpy's global random state seeded (autograd's conftest does the same),
  so a failure reproduces;
* ``rng``: a seeded ``numpy.random.Generator`` for tests that draw their own data;
* ``assert_close``: elementwise comparison of numbers, arrays and (nested) tuples/lists/dicts
  of them, with a message naming what differed.

Nothing here touches notebook collection.
"""
from __future__ import annotations

import os
import sys

import numpy as np
import pytest

# tests/ on sys.path so test modules can ``import functions`` (the catalogue)
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

SEED = 0


@pytest.fixture(autouse=True)
def _seed_numpy():
    """Seed numpy's legacy global generator before every test."""
    np.random.seed(SEED)
    yield


@pytest.fixture
def rng():
    """A fresh, seeded numpy Generator."""
    return np.random.default_rng(SEED)


def _leaves(tree):
    if isinstance(tree, dict):
        return [leaf for k in sorted(tree) for leaf in _leaves(tree[k])]
    if isinstance(tree, (tuple, list)):
        return [leaf for t in tree for leaf in _leaves(t)]
    return [tree]


def assert_allclose_tree(actual, expected, rtol=1e-12, atol=0.0, what=""):
    """Compare two pytrees of numbers/arrays leaf by leaf (structure and shapes must match)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and sorted(actual) == sorted(expected), \
            f"{what}: dict keys {sorted(actual) if isinstance(actual, dict) else type(actual)}"
    la, le = _leaves(actual), _leaves(expected)
    assert len(la) == len(le), f"{what}: {len(la)} leaves, expected {len(le)}"
    for i, (a, e) in enumerate(zip(la, le)):
        a = np.asarray(a, dtype=float)
        e = np.asarray(e, dtype=float)
        assert a.shape == e.shape, f"{what} leaf {i}: shape {a.shape}, expected {e.shape}"
        np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=f"{what} leaf {i}")


@pytest.fixture
def assert_close():
    """``assert_close(actual, expected, rtol=1e-12, atol=0.0, what="")`` for pytrees."""
    return assert_allclose_tree
