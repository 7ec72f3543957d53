"""Random vectors, inner products and ones over numbers, arrays, tuples, lists and dicts."""
import numpy as np


def _map(f, x, *rest):
    if isinstance(x, (tuple, list)):
        return type(x)(_map(f, *xs) for xs in zip(x, *rest))
    if isinstance(x, dict):
        return {k: _map(f, x[k], *(r[k] for r in rest)) for k in x}
    return f(x, *rest)


def leaves(x):
    if isinstance(x, (tuple, list)):
        return [l for e in x for l in leaves(e)]
    if isinstance(x, dict):
        return [l for k in x for l in leaves(x[k])]
    return [x]


def is_complex(x):
    return any(np.iscomplexobj(l) for l in leaves(x))


def randn_like(x):
    return _map(lambda a: np.random.randn(*np.shape(a)) if np.ndim(a) else float(np.random.randn()), x)


def ones_like(x):
    return _map(lambda a: np.ones(np.shape(a)) if np.ndim(a) else 1.0, x)


def zeros_like(x):
    return _map(lambda a: np.zeros(np.shape(a)) if np.ndim(a) else 0.0, x)


def add(x, y, c=1.0):
    return _map(lambda a, b: np.asarray(a, float) + c * np.asarray(b, float), x, y)


def scale(x, c):
    return _map(lambda a: c * np.asarray(a, float), x)


def inner(x, y):
    return float(sum(np.sum(np.asarray(a, float) * np.asarray(b, float))
                     for a, b in zip(leaves(x), leaves(y))))


def shapes(x):
    return [np.shape(l) for l in leaves(x)]
