"""Issue 13: every numpy function adnb adds, one table row each.

Each row runs the function on plain numpy (the reference value) and traced: the values must agree
exactly as numpy computes them, and ``check_grads`` checks forward and reverse mode against central
differences, to second order where the function is smooth there. JAX / HIPS autograd cross-checks
live in test_numpy_crosscheck.py.
"""
from __future__ import annotations

import numpy as np
import pytest

import adnb

pytestmark = pytest.mark.filterwarnings("ignore:Arrays of 2-dimensional vectors")
rng = np.random.default_rng(13)
A34 = rng.standard_normal((3, 4))
A33 = rng.standard_normal((3, 3)) + 3 * np.eye(3)
T234 = rng.standard_normal((2, 3, 4))
V5 = rng.standard_normal(5)
V4 = rng.standard_normal(4)
POS = rng.uniform(0.5, 2.0, (3, 4))
UNIT = rng.uniform(-0.9, 0.9, (3, 4))
SPD = A34 @ A34.T + np.eye(3)
EIGR = A33 @ np.diag([1.0, 2.0, 3.5]) @ np.linalg.inv(A33)

# (id, function, args, order): order 2 where the function is smooth at args
TABLE = [
    # ---- shape and indexing (gathers) ----
    ("flip", lambda a: np.flip(a, axis=1), (A34,), 2),
    ("flip-all", np.flip, (T234,), 2),
    ("fliplr", np.fliplr, (A34,), 2),
    ("flipud", np.flipud, (A34,), 2),
    ("rot90", lambda a: np.rot90(a, 3, axes=(2, 0)), (T234,), 2),
    ("roll", lambda a: np.roll(a, -2, axis=-1), (T234,), 2),
    ("roll-flat", lambda a: np.roll(a, 5), (A34,), 2),
    ("tile", lambda a: np.tile(a, (2, 1, 2)), (A34,), 2),
    ("repeat", lambda a: np.repeat(a, [1, 0, 2], axis=0), (A34,), 2),
    ("take", lambda a: np.take(a, [[0, 3], [3, 3]], axis=-1), (A34,), 2),
    ("take_along_axis", lambda a: np.take_along_axis(a, np.argsort(a, axis=1), axis=1), (A34,), 2),
    ("moveaxis", lambda a: np.moveaxis(a, [0, -1], [-1, 1]), (T234,), 2),
    ("rollaxis", lambda a: np.rollaxis(a, 2), (T234,), 2),
    ("split", lambda a: np.split(a, [1, 3], axis=1)[1], (A34,), 2),
    ("array_split", lambda a: np.array_split(a, 3, axis=-1)[-1], (T234,), 2),
    ("hsplit", lambda a: np.hsplit(a, 2)[0], (A34,), 2),
    ("vsplit", lambda a: np.vsplit(a, 3)[2], (A34,), 2),
    ("dsplit", lambda a: np.dsplit(a, 2)[1], (T234,), 2),
    ("fftshift", lambda a: np.fft.fftshift(a, axes=1), (A34,), 2),
    ("ifftshift", np.fft.ifftshift, (T234,), 2),
    ("delete", lambda a: np.delete(a, [0, 2], axis=1), (A34,), 2),
    ("insert", lambda a: np.insert(a, 1, a[:, 0] * 2, axis=1), (A34,), 2),
    ("resize", lambda a: np.resize(a, (5, 3)), (A34,), 2),
    ("compress", lambda a: np.compress([True, False, True], a, axis=0), (A34,), 2),
    ("extract", lambda a: np.extract(np.arange(12).reshape(3, 4) % 3 == 0, a), (A34,), 2),
    ("diagonal-3d", lambda a: np.diagonal(a, 1, 2, 1), (T234,), 2),
    ("trace-3d", lambda a: np.trace(a, -1, 0, 2), (T234,), 2),
    ("pad-const", lambda a: np.pad(a, ((1, 0), (2, 1)), constant_values=2.5), (A34,), 2),
    ("pad-reflect", lambda a: np.pad(a, 2, mode="reflect"), (A34,), 2),
    ("pad-edge", lambda a: np.pad(a, (1, 3), mode="edge"), (V5,), 2),
    ("pad-wrap", lambda a: np.pad(a, ((0, 0), (3, 3)), mode="wrap"), (A34,), 2),
    ("partition", lambda a: np.partition(a, 2, axis=1), (A34,), 2),
    ("tril", lambda a: np.tril(a, -1), (T234,), 2),
    ("triu", lambda a: np.triu(a, 1), (A34,), 2),
    ("atleast_2d", np.atleast_2d, (V5,), 2),
    ("atleast_3d", lambda a: np.atleast_3d(a), (A34,), 2),
    ("column_stack", lambda a, b: np.column_stack([a, b[:4], np.ones(4)]), (V4, V5), 2),
    ("dstack", lambda a, b: np.dstack([a, b]), (A34, POS), 2),
    ("append", lambda a, b: np.append(a, b), (A34, V4), 2),
    ("append-axis", lambda a, b: np.append(a, b[None, :], axis=0), (A34, V4), 2),
    ("broadcast_arrays", lambda a, b: np.broadcast_arrays(a, b)[1], (A34, V4), 2),
    ("meshgrid", lambda a, b: np.meshgrid(a, b)[0] * np.meshgrid(a, b)[1], (V4, V5), 2),
    ("meshgrid-ij", lambda a, b: np.meshgrid(a, b, indexing="ij")[1], (V4, V5), 2),
    ("diff", lambda a: np.diff(a, n=2, axis=0), (A34,), 2),
    ("diff-prepend", lambda a: np.diff(a, prepend=0.5, append=a[:, :1]), (A34,), 2),
    ("ediff1d", lambda a: np.ediff1d(a, to_begin=[1.0]), (A34,), 2),
    ("gradient", lambda a: np.gradient(a, 0.5, axis=1), (A34,), 2),
    ("gradient-2d", lambda a: np.gradient(a)[0], (A34,), 2),
    ("cumprod", lambda a: np.cumprod(a, axis=1), (A34,), 2),
    ("cumprod-zero", np.cumprod, (np.array([2.0, 0.0, 3.0, -1.0]),), 2),
    ("linspace", lambda a, b: np.linspace(a, b, 7), (0.5, 2.0), 2),
    ("linspace-arr", lambda a, b: np.linspace(a, b, 4, endpoint=False, axis=1), (V4, V4 + 1), 2),
    ("logspace", lambda a: np.logspace(a, 1.0, 5), (0.5,), 2),
    ("kron", np.kron, (A34[:2, :3], A33), 2),
    ("kron-vec", np.kron, (V4, V5), 2),
    ("cross", np.cross, (A34[:, :3], A33), 2),
    ("cross-2d", lambda a, b: np.cross(a, b), (A34[:, :2], A33[:, :2]), 2),
    ("cross-axis", lambda a, b: np.cross(a, b, axis=0), (A33, A34[:, :3]), 2),
    ("select", lambda a: np.select([a < -0.5, a > 0.5], [a ** 2, np.sin(a)], a), (A34,), 2),
    ("choose", lambda a, b: np.choose([[0, 1, 0, 1]], [a, b]), (A34, POS), 2),
]

IDS = [row[0] for row in TABLE]


def _plain(x):
    return adnb.value(x)


@pytest.mark.parametrize("name, f, args, order", TABLE, ids=IDS)
def test_value_and_derivatives(name, f, args, order):
    want = f(*args)
    got = adnb.trace(f, *args).output_values
    got = got[0] if len(got) == 1 else got
    np.testing.assert_allclose(np.asarray(_plain(got), dtype=float), np.asarray(want, dtype=float),
                               rtol=1e-12, atol=1e-12)
    adnb.check_grads(f, args, order=order, atol=1e-5, rtol=1e-4)
