"""Per-primitive gradient checks: one ``SPECS`` table, one parametrized ``check_grads`` test.

Each ``Spec`` names the coverage item it exercises (the list in issue 2, "Coverage"), a function
written with plain numpy, the shapes to try (scalar, vector, matrix, broadcasting (1, n) against
(m, 1)), a domain sampler per argument (positive for log/sqrt, (−1, 1) for arcsin, away from
kinks and ties for abs/maximum/clip) and whether second derivatives are checked too.

``test_registry_*`` check the other direction: every registered primitive has an implementation
and rules (or is marked non-differentiable) and is exercised by some spec.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pytest

import adnb
from adnb.core import primitives as P

# ---- domain samplers: (rng, shape) -> float or array -------------------------------------------


def _out(rng_values, shape):
    return float(rng_values) if shape == () else rng_values


def real(rng, shape):
    return _out(rng.uniform(-1.5, 1.5, size=shape), shape)


def positive(rng, shape):
    return _out(rng.uniform(0.5, 2.0, size=shape), shape)


def unit(rng, shape):            # inside (−1, 1), away from the ends (arcsin, arccos)
    return _out(rng.uniform(-0.8, 0.8, size=shape), shape)


def nonzero(rng, shape):         # |x| in [0.3, 1.5] (abs, divisors)
    v = rng.uniform(0.3, 1.5, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    return _out(v, shape)


def small(rng, shape):           # tan, exp of large arrays
    return _out(rng.uniform(-1.0, 1.0, size=shape), shape)


def away_from_clip(rng, shape):  # |x ∓ 0.5| ≥ 0.1 so np.clip(x, −0.5, 0.5) is smooth there
    v = rng.choice([-1.0, 1.0], size=shape) * rng.choice([0.1, 0.25, 0.35, 0.7, 0.9, 1.2], size=shape)
    v = v + rng.uniform(-0.04, 0.04, size=shape)
    return _out(v, shape)


def distinct(rng, shape):        # well-separated values (max/min reductions: no ties nearby)
    n = int(np.prod(shape)) if shape else 1
    v = rng.permutation(n) * 0.37 - 0.5 * n * 0.37 + rng.uniform(-0.05, 0.05, size=n)
    return _out(v.reshape(shape), shape)


def well_conditioned(rng, shape):
    n = shape[-1]
    return rng.uniform(-1.0, 1.0, size=shape) + 3.0 * np.eye(n)


def singular(rng, shape):          # rank n − 1 (the zero matrix for n = 1)
    n = shape[-1]
    return rng.uniform(-1.0, 1.0, size=(n, n - 1)) @ rng.uniform(-1.0, 1.0, size=(n - 1, n))


# ---- the spec table ---------------------------------------------------------------------------


@dataclass
class Spec:
    covers: str                       # the coverage item of issue 2 this entry exercises
    fn: object
    shapes: list                      # list of tuples of argument shapes
    domains: tuple = (real,)          # one sampler per argument (the last one repeats)
    order: int = 2                    # 2: also check the derivatives of the derivatives
    label: str = ""                   # distinguishes several specs of one item
    atol: float = 1e-6
    rtol: float = 1e-5
    modes: tuple = ("fwd", "rev")

    def sample(self, shapes, seed):
        rng = np.random.default_rng(seed)
        doms = list(self.domains) + [self.domains[-1]] * (len(shapes) - len(self.domains))
        return tuple(d(rng, s) for d, s in zip(doms, shapes))

    @property
    def name(self):
        return self.covers + (f"[{self.label}]" if self.label else "")


S, V, M = (), (4,), (3, 4)
UNARY = [(S,), (V,), (M,)]
BINARY = [(S, S), (V, V), (M, M), ((1, 4), (3, 1)), (S, M), (V, M)]


def _unary(name, f, domain=real, order=2, **kw):
    return Spec(name, f, UNARY, (domain,), order, **kw)


SPECS = [
    # -- elementwise binary (with broadcasting) --
    Spec("add", lambda x, y: x + y, BINARY),
    Spec("add", lambda x, y: np.add(x, y) + 1.0, BINARY[:2], label="np.add"),
    Spec("sub", lambda x, y: x - y, BINARY),
    Spec("sub", lambda x, y: np.subtract(2.0, x) - np.subtract(y, 1.0), BINARY[:2], label="consts"),
    Spec("mul", lambda x, y: x * y, BINARY),
    Spec("mul", lambda x, y: np.multiply(x, 3.0) * np.multiply(2.0, y), BINARY[:2], label="consts"),
    Spec("div", lambda x, y: x / y, BINARY, (real, nonzero)),
    Spec("div", lambda x, y: 1.0 / y + x / 2.0 + np.divide(x, y), BINARY[:2], (real, nonzero),
         label="consts"),
    Spec("power", lambda x: x ** 2.5 + x ** 0.5, UNARY, (positive,), label="base traced"),
    Spec("power", lambda x: x ** 3 + x ** 2 + x ** -1, UNARY, (nonzero,), label="int exponent"),
    Spec("power", lambda y: 2.0 ** y + np.power(1.7, y), UNARY, (real,), label="exponent traced"),
    Spec("power", lambda x, y: x ** y, BINARY, (positive, real), label="both traced"),
    Spec("power", lambda x, y: np.power(x, y), BINARY[:3], (positive, real), label="np.power"),
    Spec("maximum", lambda x, y: np.maximum(x, y), BINARY),
    Spec("maximum", lambda x: np.maximum(x, 0.0) + np.maximum(0.2, x), UNARY, (nonzero,),
         label="with constant"),
    Spec("minimum", lambda x, y: np.minimum(x, y), BINARY),
    Spec("minimum", lambda x: np.minimum(x, 0.0) + np.fmin(x, 0.1), UNARY, (nonzero,),
         label="with constant"),
    Spec("arctan2", lambda y, x: np.arctan2(y, x), BINARY, (nonzero,)),
    Spec("remainder", lambda x, y: np.remainder(x, y) + np.mod(x, 0.7), BINARY, (away_from_clip,
                                                                               nonzero)),
    # -- elementwise unary --
    _unary("neg", lambda x: -x + np.negative(x)),
    _unary("abs", lambda x: np.abs(x) + abs(x) + np.fabs(x), nonzero),
    _unary("exp", np.exp),
    _unary("log", np.log, positive),
    _unary("log1p", np.log1p, positive),
    _unary("expm1", np.expm1),
    _unary("sqrt", np.sqrt, positive),
    _unary("square", np.square),
    _unary("reciprocal", np.reciprocal, nonzero),
    _unary("sin", np.sin),
    _unary("cos", np.cos),
    _unary("tan", np.tan, small),
    _unary("arcsin", np.arcsin, unit),
    _unary("arccos", np.arccos, unit),
    _unary("arctan", np.arctan),
    _unary("sinh", np.sinh),
    _unary("cosh", np.cosh),
    _unary("tanh", np.tanh),
    # -- selection --
    Spec("where", lambda x, y: np.where(np.asarray([[True, False, True, False]]), x, y),
         [(V, V), (M, M), ((1, 4), (3, 1)), (S, M)]),
    Spec("where", lambda x: np.where(x > 0, x ** 2, np.sin(x)), UNARY, (nonzero,),
         label="condition on data"),
    Spec("where", lambda x: np.where(x > 0, x, 0.0) + np.where(x < 0, 1.0, x * x), UNARY,
         (nonzero,), label="constant branch"),
    Spec("clip", lambda x: np.clip(x, -0.5, 0.5), UNARY, (away_from_clip,)),
    Spec("clip", lambda x: x.clip(-0.5, 0.5) + np.clip(x, None, 0.5) + np.clip(x, -0.5, None),
         [(V,), (M,)], (away_from_clip,), label="method, one-sided"),
    # -- reductions (axis, keepdims) --
    Spec("sum", lambda x: np.sum(x), [(V,), (M,)]),
    Spec("sum", lambda x: np.sum(x, axis=0) + x.sum(axis=1, keepdims=True).sum(), [(M,)],
         label="axis/keepdims"),
    Spec("sum", lambda x: np.sum(x, axis=(0, 2)) + np.sum(x, axis=-1, keepdims=True).sum(),
         [((2, 3, 4),)], label="axis tuple, negative axis"),
    Spec("mean", lambda x: np.mean(x) + x.mean(), [(V,), (M,)]),
    Spec("mean", lambda x: np.mean(x, axis=1) + np.mean(x, axis=0, keepdims=True).sum(), [(M,)],
         label="axis/keepdims"),
    Spec("var", lambda x: np.var(x) + x.var(ddof=1), [(V,), (M,)]),
    Spec("var", lambda x: np.var(x, axis=0) + np.var(x, axis=1, keepdims=True).sum(), [(M,)],
         label="axis/keepdims"),
    Spec("std", lambda x: np.std(x) + x.std(ddof=1), [(V,), (M,)]),
    Spec("std", lambda x: np.std(x, axis=1) + np.std(x, axis=0, keepdims=True).sum(), [(M,)],
         label="axis/keepdims"),
    Spec("max", lambda x: np.max(x) + x.max(), [(V,), (M,)], (distinct,)),
    Spec("max", lambda x: np.max(x, axis=0) + np.amax(x, axis=1, keepdims=True).sum(), [(M,)],
         (distinct,), label="axis/keepdims"),
    Spec("min", lambda x: np.min(x) + x.min(), [(V,), (M,)], (distinct,)),
    Spec("min", lambda x: np.min(x, axis=1) + np.amin(x, axis=0, keepdims=True).sum(), [(M,)],
         (distinct,), label="axis/keepdims"),
    Spec("prod", lambda x: np.prod(x) + x.prod(), [(V,), (M,)], (nonzero,)),
    Spec("prod", lambda x: np.prod(x, axis=0) + np.prod(x, axis=1, keepdims=True).sum(), [(M,)],
         (nonzero,), label="axis/keepdims"),
    Spec("prod", lambda x: np.prod(x) + np.prod(x, axis=0).sum() + np.prod(x, axis=-1).sum(),
         [((2, 3),), ((3,),)], (lambda rng, s: np.where(rng.uniform(size=s) < 0.4, 0.0,
                                                        rng.uniform(0.5, 1.5, size=s)),),
         label="with zeros"),
    Spec("prod", lambda x: np.prod(np.array([0.0, 1.0, 2.0]) * x), [(S,), ((3,),)],
         label="exact zero entry"),
    Spec("reductions of a scalar", lambda x: (np.sum(x) + np.prod(x) + np.max(x) + np.min(x)
                                              + np.mean(x)) * x, [(S,)]),
    Spec("cumsum", lambda x: np.cumsum(x), [(V,), (M,)]),
    Spec("cumsum", lambda x: np.cumsum(x, axis=0) * np.cumsum(x, axis=1) + x.cumsum(axis=-1),
         [(M,)], label="axis"),
    # -- contractions --
    Spec("dot", lambda a, b: np.dot(a, b), [(V, V), ((3, 4), (4,)), ((4,), (4, 3)),
                                            ((3, 4), (4, 2)), (S, V)]),
    Spec("dot", lambda a: a.dot(np.linspace(-1.0, 1.0, 8).reshape(4, 2)), [((3, 4),)],
         label="method"),
    Spec("matmul", lambda a, b: a @ b, [(V, V), ((3, 4), (4,)), ((4,), (4, 3)), ((3, 4), (4, 2)),
                                        ((2, 3, 4), (4, 2)), ((2, 3, 4), (2, 4, 5)),
                                        ((1, 3, 4), (2, 4, 2))]),
    Spec("matmul", lambda a, b: np.matmul(a, b), [((3, 4), (4, 2))], label="np.matmul"),
    Spec("outer", lambda a, b: np.outer(a, b), [(V, (3,)), ((2, 2), (3,))]),
    Spec("einsum", lambda a, b: np.einsum("ij,jk->ik", a, b), [((3, 4), (4, 2))], label="matmul"),
    Spec("einsum", lambda a, b: np.einsum("i,i->", a, b), [(V, V)], label="inner"),
    Spec("einsum", lambda a, b: np.einsum("ij,ij->i", a, b), [(M, M)], label="row dots"),
    Spec("einsum", lambda a, b: np.einsum("ijk,ik->j", a, b), [((2, 3, 4), (2, 4))],
         label="batch contraction"),
    Spec("einsum", lambda a: np.einsum("ij->ji", a) * np.einsum("ij->i", a), [(M,)],
         label="unary"),
    Spec("einsum", lambda a, b: np.einsum("ij,jk", a, b), [((3, 4), (4, 2))], label="implicit"),
    Spec("einsum", lambda a, b, c: np.einsum("ij,jk,kl->il", a, b, c),
         [((2, 3), (3, 4), (4, 2))], label="three operands"),
    Spec("tensordot", lambda a, b: np.tensordot(a, b, axes=1), [((3, 4), (4, 2))], label="axes=1"),
    Spec("tensordot", lambda a, b: np.tensordot(a, b), [((2, 3, 4), (3, 4, 2))], label="axes=2"),
    Spec("tensordot", lambda a, b: np.tensordot(a, b, axes=([0], [1])), [((3, 4), (2, 3))],
         label="axes lists"),
    # -- shape and indexing --
    Spec("transpose", lambda x: x.T * np.transpose(x), [(M,), (V,)]),
    Spec("transpose", lambda x: np.transpose(x, (1, 2, 0)) + x.transpose(1, 2, 0),
         [((2, 3, 4),)], label="axes"),
    Spec("transpose", lambda x: np.swapaxes(x, 0, 1), [(M,)], label="swapaxes"),
    Spec("reshape", lambda x: x.reshape(2, 6) * np.reshape(x, (2, -1)), [(M,)]),
    Spec("reshape", lambda x: x.ravel() + np.ravel(x) + x.flatten(), [(M,)], label="ravel"),
    Spec("squeeze", lambda x: np.squeeze(x) + x.squeeze(axis=0).squeeze(), [((1, 4, 1),)]),
    Spec("expand_dims", lambda x: np.expand_dims(x, 0) * np.expand_dims(x, axis=-1), [(V,)]),
    Spec("expand_dims", lambda x: x[None, :] * x[:, None], [(V,)], label="newaxis"),
    Spec("concatenate", lambda x, y: np.concatenate([x, y, x]), [(V, (3,))]),
    Spec("concatenate", lambda x, y: np.concatenate((x, y), axis=1), [((3, 4), (3, 2))],
         label="axis=1"),
    Spec("concatenate", lambda x, y: np.concatenate([x, y], axis=None), [((3, 4), (2,))],
         label="axis=None"),
    Spec("concatenate", lambda x, y: np.concatenate([x, 2.0 * np.ones(3)]) * y, [(V, (7,))],
         label="with constant"),
    Spec("stack", lambda x, y: np.stack([x, y, x]), [(V, V), (M, M)]),
    Spec("stack", lambda x, y: np.stack([x, y], axis=1)[:, 0] * np.stack([x, y], axis=-1)[..., 1],
         [(M, M)],
         label="axis"),
    Spec("stack", lambda x, y: np.stack([x, y, 1.0]), [(S, S)], label="scalars and constant"),
    Spec("getitem", lambda x: x[1] * x[-1] + x[0], [(V,)], label="int"),
    Spec("getitem", lambda x: x[1:3] + x[::-2], [(V,)], label="slices"),
    Spec("getitem", lambda x: x[np.array([0, 0, 3, 1, 0])], [(V,)], label="fancy, repeated"),
    Spec("getitem", lambda x: x[[2, 2, 1]], [(V,)], label="list index, repeated"),
    Spec("getitem", lambda x: x[np.array([0, 2, 2]), np.array([1, 1, 3])] + x[1, 1:3].sum(),
         [(M,)], label="2-d fancy, repeated"),
    Spec("getitem", lambda x: x[:, 1] * x[2, :3] + x[..., 0] + x[1][2], [(M,)],
         label="2-d basic"),
    Spec("getitem", lambda x: x[np.array([0, 2, 2]), :, np.array([1, 0, 0])] + x[1, :, [1, 1, 0]],
         [((3, 4, 2),)], label="separated fancy indices"),
    Spec("getitem", lambda x: x[x > 0].sum() + x[np.array([True, False, True, True])], [(V,)],
         (nonzero,), label="boolean mask"),
    Spec("getitem", lambda x: x[2][()] * x[1, ...], [(V,)], label="0-d ()"),
    Spec("broadcast_to", lambda x: np.broadcast_to(x, (3, 4)), [(V,), ((3, 1),), (S,)]),
    Spec("reshape", lambda x: np.reshape(x, (1, 1)) * np.atleast_1d(x), [(S,)], label="scalar"),
    Spec("sort", lambda x: np.sort(x) * np.arange(1.0, 5.0), [(V,), (M,)], (distinct,)),
    Spec("sort", lambda x: np.sort(x, axis=0) + np.sort(x, axis=None)[:4], [(M,)], (distinct,),
         label="axis"),
    Spec("trace", lambda x: np.trace(x) + np.trace(x, offset=1), [((3, 3),), ((3, 4),)]),
    Spec("diag", lambda x: np.diag(x) + np.diag(x, k=1)[1:, :-1] + np.diag(x, k=-1)[:-1, 1:],
         [(V,)], label="vector → matrix"),
    Spec("diag", lambda x: np.diag(x) * np.diag(x, k=1).sum() + np.diagonal(x), [((3, 3),)],
         label="matrix → vector"),
    Spec("eye/zeros/ones", lambda x: np.eye(3) @ x + np.zeros(3) + np.ones((3,)) * x
         + np.zeros_like(x) + np.ones_like(x) * x + np.eye(3, 4) @ np.ones(4), [((3,),)]),
    # -- linear algebra --
    Spec("np.linalg.norm", lambda x: np.linalg.norm(x), [(V,), (M,)], (nonzero,)),
    Spec("np.linalg.norm", lambda x: np.linalg.norm(x, ord=1) + np.linalg.norm(x, ord=np.inf),
         [(V,)], (distinct,), label="ord=1, inf"),
    Spec("np.linalg.norm", lambda x: np.linalg.norm(x, axis=1) + np.linalg.norm(x, "fro"),
         [(M,)], (nonzero,), label="axis, fro"),
    Spec("solve", lambda a, b: np.linalg.solve(a, b), [((3, 3), (3,)), ((3, 3), (3, 2))],
         (well_conditioned, real)),
    Spec("inv", lambda a: np.linalg.inv(a), [((3, 3),)], (well_conditioned,)),
    Spec("det", lambda a: np.linalg.det(a), [((3, 3),), ((2, 2),)], (well_conditioned,)),
    Spec("det", lambda a: np.linalg.det(a), [((3, 3),), ((2, 2),), ((1, 1),)], (singular,),
         label="singular matrix"),
]

# ---- issue 13: the primitives numpy coverage added (compositions: tests/test_numpy_coverage.py) ----

def above_one(rng, shape):
    return _out(rng.uniform(1.2, 3.0, size=shape), shape)


def spd(rng, shape):                # symmetric positive definite (cholesky)
    a = rng.uniform(-1.0, 1.0, size=shape)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def full_rank(rng, shape):          # a tall or square matrix with a strong diagonal (qr)
    return rng.uniform(-1.0, 1.0, size=shape) + 3.0 * np.eye(*shape[-2:])


def real_eigen(rng, shape):         # distinct real eigenvalues 1, 2, 3.5, … (eig)
    n = shape[-1]
    v = rng.uniform(-1.0, 1.0, size=shape) + 3.0 * np.eye(n)
    return v @ np.diag(1.0 + 1.25 * np.arange(n)) @ np.linalg.inv(v)


SPECS += [
    _unary("log2", np.log2, positive), _unary("log10", np.log10, positive),
    _unary("exp2", np.exp2, small), _unary("arcsinh", np.arcsinh),
    _unary("arccosh", np.arccosh, above_one), _unary("arctanh", np.arctanh, unit),
    _unary("cbrt", np.cbrt, nonzero), _unary("deg2rad", np.deg2rad),
    _unary("rad2deg", np.rad2deg), _unary("sinc", np.sinc),
    Spec("hypot", np.hypot, BINARY, (nonzero,)),
    Spec("logaddexp", np.logaddexp, BINARY), Spec("logaddexp2", np.logaddexp2, BINARY),
    Spec("fmod", lambda x, y: np.fmod(3.0 * x, y), BINARY[:4], (real, nonzero)),
    Spec("copysign", np.copysign, BINARY[:4], (nonzero,)),
    Spec("svdvals", lambda a: np.linalg.svd(a, compute_uv=False), [((3, 4),), ((4, 3),)],
         (distinct,)),
    Spec("svd_u", lambda a: np.linalg.svd(a, full_matrices=False)[0], [((3, 4),), ((4, 3),)],
         (distinct,), atol=1e-5, rtol=1e-4),
    Spec("svd_vh", lambda a: np.linalg.svd(a, full_matrices=False)[2], [((3, 4),), ((4, 3),)],
         (distinct,), atol=1e-5, rtol=1e-4),
    Spec("eigh_w", lambda a: np.linalg.eigvalsh(a), [((3, 3),)], (well_conditioned,)),
    Spec("eigh_v", lambda a: np.linalg.eigh(a)[1], [((3, 3),)], (real_eigen,), atol=1e-5,
         rtol=1e-4),
    Spec("cholesky", np.linalg.cholesky, [((3, 3),)], (spd,)),
    Spec("qr_q", lambda a: np.linalg.qr(a)[0], [((4, 3),), ((3, 3),)], (full_rank,)),
    Spec("qr_r", lambda a: np.linalg.qr(a)[1], [((4, 3),), ((3, 3),)], (full_rank,)),
    Spec("logabsdet", lambda a: np.linalg.slogdet(a)[1], [((3, 3),)], (well_conditioned,)),
    Spec("eig_w", np.linalg.eigvals, [((3, 3),)], (real_eigen,)),
    Spec("eig_v", lambda a: np.linalg.eig(a)[1], [((3, 3),)], (real_eigen,), atol=1e-5,
         rtol=1e-4),
]

try:                                # scipy.special's ufuncs (an optional dependency)
    import scipy.special as _sp
except ImportError:
    _sp = None
if _sp is not None:
    SPECS += [
        _unary("expit", _sp.expit), _unary("logit", _sp.logit, lambda r, s: _out(
            r.uniform(0.2, 0.8, size=s), s)),
        _unary("erf", _sp.erf), _unary("erfc", _sp.erfc), _unary("erfinv", _sp.erfinv, unit),
        _unary("ndtr", _sp.ndtr), _unary("log_ndtr", _sp.log_ndtr),
        _unary("digamma", _sp.digamma, positive), _unary("gammaln", _sp.gammaln, positive),
        _unary("gamma", _sp.gamma, positive),
        Spec("xlogy", _sp.xlogy, BINARY, (real, positive)),
        Spec("xlog1py", _sp.xlog1py, BINARY, (real, positive)),
        Spec("beta", _sp.beta, BINARY, (positive,)), Spec("betaln", _sp.betaln, BINARY, (positive,)),
        _unary("rgamma", _sp.rgamma, positive), _unary("gammasgn", _sp.gammasgn, positive),
        _unary("gammainc", lambda x: _sp.gammainc(1.5, x), positive),
        _unary("gammaincc", lambda x: _sp.gammaincc(2.5, x), positive),
        _unary("betainc", lambda x: _sp.betainc(1.5, 2.5, x), lambda r, s: _out(
            r.uniform(0.2, 0.8, size=s), s)),
        _unary("erfcinv", lambda x: _sp.erfcinv(x + 1.0), unit), _unary("erfcx", _sp.erfcx),
        _unary("ndtri", _sp.ndtri, lambda r, s: _out(r.uniform(0.2, 0.8, size=s), s)),
        _unary("log_expit", _sp.log_expit), _unary("entr", _sp.entr, positive),
        Spec("rel_entr", _sp.rel_entr, BINARY, (positive,)),
        Spec("kl_div", _sp.kl_div, BINARY, (positive,)),
    ] + [_unary(name, getattr(_sp, name), positive) for name in
         ("j0", "j1", "y0", "y1", "i0", "i1", "k0", "k1")] + [
        _unary(name, lambda x, f=getattr(_sp, name), o=order: f(o, 3.0 * x), positive)
        for name, order in (("yn", 1), ("jv", 1.5), ("yv", 0.5), ("iv", 2.5),
                            ("ive", 1.5))]

#: the "Coverage" list of issue 2, one name per numpy entry point / operator
COVERAGE = [
    "add", "sub", "mul", "div", "power", "neg", "abs", "exp", "log", "log1p", "expm1", "sqrt",
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "maximum",
    "minimum", "where", "clip", "sum", "mean", "var", "std", "max", "min", "prod", "cumsum", "dot",
    "matmul", "outer", "einsum", "tensordot", "transpose", "reshape", "squeeze", "expand_dims",
    "concatenate", "stack", "getitem", "trace", "diag", "eye/zeros/ones", "np.linalg.norm",
    "solve", "inv", "det",
]


def _shape_id(shapes):
    return "×".join("s" if s == () else "x".join(map(str, s)) for s in shapes)


CASES = [(spec, shapes) for spec in SPECS for shapes in spec.shapes]
IDS = [f"{spec.name}-{_shape_id(shapes)}" for spec, shapes in CASES]

#: (test, case id) -> known bug in a core file owned elsewhere (strict xfail: fixing it shows)
CORE_BUGS = {}


def _params(test, cases=None, ids=None):
    cases, ids = (CASES, IDS) if cases is None else (cases, ids)
    out = []
    for case, cid in zip(cases, ids):
        reason = CORE_BUGS.get((test, cid))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(*case, id=cid, marks=marks))
    return out


def _seed(spec, shapes):
    return zlib.crc32(f"{spec.name}-{shapes}".encode())


@pytest.mark.parametrize("spec, shapes", CASES, ids=IDS)
def test_check_grads(spec, shapes):
    args = spec.sample(shapes, _seed(spec, shapes))
    adnb.check_grads(spec.fn, args, modes=spec.modes, order=spec.order, atol=spec.atol,
                     rtol=spec.rtol)


@pytest.mark.parametrize("spec, shapes", CASES, ids=IDS)
def test_value_matches_numpy(spec, shapes):
    """Tracing must not change the value: f on traced inputs equals f on plain arrays."""
    args = spec.sample(shapes, _seed(spec, shapes))
    expected = spec.fn(*args)
    value, _ = adnb.vjp(spec.fn, *args)
    np.testing.assert_allclose(np.asarray(value), np.asarray(expected), rtol=1e-13, atol=1e-14)
    assert np.shape(value) == np.shape(expected)


@pytest.mark.parametrize("spec, shapes", CASES, ids=IDS)
def test_trace_sweeps_match_jvp_and_vjp(spec, shapes):
    """The explored trace (adnb.trace) keeps full values, not the lean tape: its forward and
    reverse sweeps must give the same J v and uᵀJ as jvp and vjp."""
    args = spec.sample(shapes, _seed(spec, shapes))
    rng = np.random.default_rng(_seed(spec, shapes) + 1)
    v = [rng.standard_normal(np.shape(a)) if np.ndim(a) else float(rng.standard_normal())
         for a in args]
    out, jv = adnb.jvp(spec.fn, args, tuple(v))
    u = rng.standard_normal(np.shape(out)) if np.ndim(out) else float(rng.standard_normal())
    _, pullback = adnb.vjp(spec.fn, *args)
    ut_j = pullback(u)
    t = adnb.trace(spec.fn, *args)
    assert len(t.inputs) == len(args)
    fwd = t.forward(seeds=v).output_tangents(0)[0]
    np.testing.assert_allclose(np.asarray(0.0 if fwd is None else fwd, dtype=float) *
                               np.ones(np.shape(out)), np.asarray(jv, dtype=float),
                               rtol=1e-12, atol=1e-13)
    if t.outputs[0] >= 0:
        grads = t.reverse(seeds=[u]).gradient(0)
        for g, expected in zip(grads, ut_j):
            g = np.zeros(np.shape(expected)) if g is None else np.asarray(g, dtype=float)
            assert g.shape == np.shape(expected)
            np.testing.assert_allclose(g, expected, rtol=1e-12, atol=1e-13)


def _weights(shape):
    return np.cos(np.arange(int(np.prod(shape))) + 1.0).reshape(shape) if shape else 0.7


@pytest.mark.parametrize("spec, shapes", _params("jacfwd"))
def test_jacfwd_equals_jacrev(spec, shapes):
    """jacfwd carries all D directions in one vectorised sweep (the primitives' batched tangent
    rules), which check_grads (one direction at a time) does not exercise."""
    args = spec.sample(shapes, _seed(spec, shapes))
    for i in range(len(args)):
        Jf = np.asarray(adnb.jacfwd(spec.fn, argnums=i)(*args), dtype=float)
        Jr = np.asarray(adnb.jacrev(spec.fn, argnums=i)(*args), dtype=float)
        assert Jf.shape == Jr.shape == np.shape(spec.fn(*args)) + np.shape(args[i])
        np.testing.assert_allclose(Jf, Jr, rtol=1e-10, atol=1e-12, err_msg=f"argument {i}")


@pytest.mark.parametrize("spec, shapes", [c for c in CASES if c[0].order >= 2],
                         ids=[i for c, i in zip(CASES, IDS) if c[0].order >= 2])
def test_batched_second_order(spec, shapes):
    """Hessians of a weighted sum of the outputs: forward-over-forward (batched rules applied
    to batched tangents) == reverse-over-reverse == forward-over-reverse."""
    args = spec.sample(shapes, _seed(spec, shapes))
    w = _weights(np.shape(spec.fn(*args)))
    for i in range(len(args)):
        def scalar(a):
            a2 = list(args)
            a2[i] = a
            return np.sum(spec.fn(*a2) * w)
        H_ff = np.asarray(adnb.jacfwd(adnb.jacfwd(scalar))(args[i]), dtype=float)
        H_rr = np.asarray(adnb.jacrev(adnb.jacrev(scalar))(args[i]), dtype=float)
        H_fr = np.asarray(adnb.hessian(scalar)(args[i]), dtype=float)
        np.testing.assert_allclose(H_ff, H_rr, rtol=1e-9, atol=1e-11, err_msg=f"ff vs rr, arg {i}")
        np.testing.assert_allclose(H_fr, H_rr, rtol=1e-9, atol=1e-11, err_msg=f"fr vs rr, arg {i}")


def test_coverage_list_has_specs():
    covered = {s.covers for s in SPECS}
    missing = [c for c in COVERAGE if c not in covered]
    assert not missing, f"coverage items without a spec: {missing}"


def test_coverage_shapes():
    """Every elementwise entry is checked on scalar, vector and matrix shapes, and every
    binary elementwise entry on the (1, n) vs (m, 1) broadcast."""
    for item in ["add", "sub", "mul", "div", "maximum", "minimum", "power"]:
        shapes = {sh for s in SPECS if s.covers == item for sh in s.shapes}
        assert ((1, 4), (3, 1)) in shapes, item
        assert (S, S) in shapes or (S,) in shapes, item
    for item in ["neg", "abs", "exp", "log", "sin", "tanh", "sqrt", "arcsin"]:
        shapes = {sh for s in SPECS if s.covers == item for sh in s.shapes}
        assert {(S,), (V,), (M,)} <= shapes, item


# ---- registry self-check -------------------------------------------------------------------------


def _arity_ok(prim):
    if prim.partials is not None and prim.jvp is not None and prim.vjp is not None:
        return len(prim.partials) == len(prim.jvp) == len(prim.vjp)
    if prim.jvp is not None and prim.vjp is not None:
        return len(prim.jvp) == len(prim.vjp) and (not prim.variadic or len(prim.jvp) == 1)
    return True


@pytest.mark.parametrize("name", list(adnb.PRIMITIVES))
def test_registry_entry_complete(name):
    prim = adnb.PRIMITIVES[name]
    assert prim.name == name
    assert callable(prim.impl), f"{name}: no impl"
    assert isinstance(prim.formula, str) and prim.formula, f"{name}: no display formula"
    if not prim.differentiable:
        return
    has_partials = prim.partials is not None
    has_rules = prim.jvp is not None and prim.vjp is not None
    assert has_partials or has_rules, f"{name}: neither partials nor jvp+vjp rules"
    if has_partials:
        assert prim.elementwise, f"{name}: partials= is for elementwise primitives"
    assert _arity_ok(prim), f"{name}: rules for different numbers of arguments"
    if prim.jvp is not None and prim.vjp is not None and not prim.variadic:
        for k, (j, v) in enumerate(zip(prim.jvp, prim.vjp)):
            assert (j is None) == (v is None), f"{name}: argument {k} has only one rule"
    if prim.elementwise and prim.partials is not None:
        assert any(p is not None for p in prim.partials), f"{name}: all partials are None"


@pytest.mark.parametrize("name", [n for n, p in adnb.PRIMITIVES.items()
                                  if p.scalar_partials is not None])
def test_scalar_partials_agree_with_partials(name):
    """The float fast path (all local partials at once, plain math) must give exactly what the
    general ``partials`` give, wherever both are defined."""
    prim = adnb.PRIMITIVES[name]
    nargs = len(prim.partials)
    points = [0.2, 0.45, 0.9, -0.35, -0.8, 1.7, -2.5]
    checked = 0
    for i, x in enumerate(points):
        args = (x, points[(i + 3) % len(points)])[:nargs]
        with np.errstate(all="ignore"):
            ans = (prim.scalar_impl or prim.impl)(*args)
        if type(ans) is not float:
            continue        # the fast path runs only where the value is a Python float
        try:
            fast = prim.scalar_partials(ans, *args)
        except (ValueError, ZeroDivisionError, OverflowError):
            continue        # outside the fast path's domain: the general rules take over
        with np.errstate(all="ignore"):
            slow = [float(np.asarray(pf(ans, *args))) for pf in prim.partials]
        assert len(fast) == nargs and all(type(d) in (float, int) for d in fast), name
        assert list(fast) == slow, f"{name} at {args}: {fast} != {slow}"   # bit for bit
        checked += 1
    assert checked >= 3, f"{name}: too few points in the fast path's domain"


def test_registry_numpy_hooks_point_to_registered_primitives():
    for ufunc, prim in P.UFUNCS.items():
        assert adnb.PRIMITIVES.get(prim.name) is prim, ufunc
    names = adnb.supported_numpy()
    assert names == sorted(set(names))
    for must in ["np.sin", "np.exp", "np.sum", "np.matmul", "np.linalg.solve", "np.linalg.norm",
                 "np.einsum", "np.where", "np.clip"]:
        assert must in names, must


def _primitives_exercised(spec, shapes):
    """Names of the primitives that f and its tangent and adjoint rules evaluate, recorded on an
    outer trace (the rules are differentiable code themselves)."""
    args = spec.sample(shapes, _seed(spec, shapes))
    names = set()

    def rules(*xs):
        out, pullback = adnb.vjp(spec.fn, *xs)
        ct = out * 0.0 + 1.0          # traced, so the adjoint rules are recorded as well
        _, tangent = adnb.jvp(spec.fn, xs, tuple(x * 0.0 + 1.0 for x in xs))
        return pullback(ct), tangent

    t = adnb.trace(rules, *args)
    names |= {n.prim.name for n in t.nodes if n.prim is not None}
    return names


def test_registry_every_primitive_is_exercised_by_specs():
    seen = set()
    for spec, shapes in CASES:
        seen |= _primitives_exercised(spec, shapes)
    differentiable = {n for n, p in adnb.PRIMITIVES.items() if p.differentiable}
    missing = sorted(differentiable - seen)
    assert not missing, f"registered primitives no spec exercises: {missing}"


@pytest.mark.parametrize("name", [n for n, p in adnb.PRIMITIVES.items()
                                  if p.scalar_impl is not None])
def test_scalar_impl_agrees_with_impl(name):
    """The float value path (``math.sin`` for ``np.sin``) is a speed-only specialisation too: it
    must agree with the block's ``impl`` to the last bit or two."""
    prim = adnb.PRIMITIVES[name]
    checked = 0
    for x in (0.2, 0.45, 0.9, -0.35, -0.8, 1.7, -2.5, 0.0):
        with np.errstate(all="ignore"):
            slow = float(prim.impl(np.float64(x)))
        try:
            with np.errstate(all="ignore"):
                fast = prim.scalar_impl(x)
        except (ValueError, OverflowError):
            continue
        if not np.isfinite(slow):                 # numpy's inf/nan (and warning) at the edges
            assert fast == slow or (np.isnan(slow) and np.isnan(fast)), f"{name}({x})"
            continue
        assert type(fast) is float and fast == pytest.approx(slow, rel=4e-16, abs=0), f"{name}({x})"
        checked += 1
    assert checked >= 4
