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


X3 = rng.uniform(0.2, 0.8, 3)
KNOTS = np.array([0.0, 0.3, 0.5, 1.0])
TABLE2 = [
    # ---- elementwise ----
    ("log2", np.log2, (POS,), 2), ("log10", np.log10, (POS,), 2), ("exp2", np.exp2, (A34,), 2),
    ("arcsinh", np.arcsinh, (A34,), 2), ("arccosh", np.arccosh, (POS + 1.0,), 2),
    ("arctanh", np.arctanh, (UNIT,), 2), ("cbrt", np.cbrt, (A34,), 2),
    ("hypot", np.hypot, (A34, V4), 2), ("logaddexp", np.logaddexp, (A34, V4), 2),
    ("logaddexp-big", np.logaddexp, (A34 * 300, V4), 2),
    ("logaddexp2", np.logaddexp2, (A34, V4), 2), ("sinc", np.sinc, (A34,), 2),
    ("sinc-0", np.sinc, (np.array([0.0, 0.5]),), 2),
    ("deg2rad", np.deg2rad, (A34,), 2), ("rad2deg", np.rad2deg, (A34,), 2),
    ("radians", np.radians, (A34,), 2), ("degrees", np.degrees, (A34,), 2),
    ("fmod", np.fmod, (A34 * 3, POS), 2), ("mod", np.mod, (A34 * 3, POS), 2),
    ("copysign", np.copysign, (A34, -V4), 2), ("float_power", np.float_power, (POS, A34), 2),
    ("nan_to_num", lambda a: np.nan_to_num(np.log(a)), (A34,), 2),
    ("real", lambda a: np.real(a) * 2, (A34,), 2), ("conj", lambda a: np.conj(a) * a, (A34,), 2),
    ("positive", lambda a: np.positive(a) * a, (A34,), 2),
    ("imag", lambda a: np.imag(a) + a, (A34,), 2),
    ("angle", lambda a: np.angle(a) + a, (A34,), 2),
    ("sign-floor", lambda a: a * (np.sign(a) + np.floor(a) + np.ceil(a) + np.rint(a)), (A34,), 2),
    ("trunc-round", lambda a: a * (np.trunc(a) + np.round(a, 1) + np.around(a)), (A34,), 2),
    ("heaviside", lambda a: a * np.heaviside(a, 0.5), (A34,), 2),
    # ---- statistics ----
    ("median", np.median, (A34,), 2), ("median-axis", lambda a: np.median(a, axis=0), (A34,), 2),
    ("median-keep", lambda a: np.median(a, axis=(0, 2), keepdims=True), (T234,), 2),
    ("percentile", lambda a: np.percentile(a, [10, 50, 90], axis=1), (A34,), 2),
    ("quantile", lambda a: np.quantile(a, 0.3, axis=-1, keepdims=True), (T234,), 2),
    ("average", lambda a, w: np.average(a, axis=1, weights=w), (A34, POS[0]), 2),
    ("average-all", lambda a, w: np.average(a, weights=w), (A34, POS), 2),
    ("ptp", lambda a: np.ptp(a, axis=1), (A34,), 2),
    ("cov", np.cov, (A34,), 2),
    ("cov-xy", lambda a, b: np.cov(a, b, rowvar=False), (V4, V4 ** 2), 2),
    ("corrcoef", np.corrcoef, (A34,), 2),
    ("nansum", lambda a: np.nansum(np.where(a > 1, np.nan, a), axis=0), (A34,), 2),
    ("nanmean", lambda a: np.nanmean(np.where(a > 1, np.nan, a)), (A34,), 2),
    ("nanvar", lambda a: np.nanvar(np.where(a > 1, np.nan, a), axis=1), (A34,), 2),
    ("nanstd", lambda a: np.nanstd(np.where(a > 1, np.nan, a)), (A34,), 2),
    ("nanmax", lambda a: np.nanmax(np.where(a > 1, np.nan, a), axis=1), (A34,), 2),
    ("nanmin", lambda a: np.nanmin(np.where(a > 1, np.nan, a)), (A34,), 2),
    ("nanprod", lambda a: np.nanprod(np.where(a > 1, np.nan, a), axis=0), (A34,), 2),
    ("nancumsum", lambda a: np.nancumsum(np.where(a > 1, np.nan, a)), (A34,), 2),
    # ---- signals and polynomials ----
    ("convolve", np.convolve, (V5, V4), 2),
    ("convolve-same", lambda a: np.convolve(a, [1.0, -2.0, 0.5], mode="same"), (V5,), 2),
    ("convolve-valid", lambda v: np.convolve(np.arange(6.0), v, mode="valid"), (V4,), 2),
    ("correlate", np.correlate, (V5, V4), 2),
    ("correlate-full", lambda a, v: np.correlate(a, v, mode="full"), (V4, V5), 2),
    ("polymul", np.polymul, (V4, V5[:3]), 2),
    ("polyval", np.polyval, (V4, A34), 2),
    ("polyval-list", lambda c, x: np.polyval([c, 2.0, c * c], x), (1.5, X3), 2),
    ("polyadd", np.polyadd, (V4, V5), 2), ("polysub", np.polysub, (V5[:2], V4), 2),
    ("polyder", lambda p: np.polyder(p, 2), (V5,), 2),
    ("vander", lambda x: np.vander(x, 4), (X3,), 2),
    ("polyfit", lambda x, y: np.polyfit(x, y, 2),
     (np.linspace(0, 1, 6), np.linspace(0, 1, 6) ** 3), 2),
    ("interp", lambda x, f: np.interp(x, KNOTS, f), (np.array([-0.5, 0.1, 0.4, 0.7, 2.0]), V4), 2),
    ("interp-lr", lambda x: np.interp(x, KNOTS, V4, left=-1.0, right=2.0),
     (np.array([-0.5, 0.45, 3.0]),), 2),
    ("trapezoid", lambda y: np.trapezoid(y, dx=0.5), (A34,), 2),
    ("trapezoid-x", lambda y, x: np.trapezoid(y, x, axis=0), (A34, np.array([0.0, 0.4, 1.5])), 2),
]


@pytest.mark.parametrize("name, f, args, order", TABLE2, ids=[r[0] for r in TABLE2])
def test_value_and_derivatives_2(name, f, args, order):
    test_value_and_derivatives(name, f, args, order)


B234 = rng.standard_normal((2, 3, 4))
TABLE3 = [
    # ---- einsum in every form ----
    ("einsum-ellipsis", lambda a, b: np.einsum("...ij,...jk->...ik", a, b),
     (T234, rng.standard_normal((4, 2))), 2),
    ("einsum-ellipsis-bcast", lambda a, b: np.einsum("...j,...j->...", a, b), (T234, V4), 2),
    ("einsum-ellipsis-implicit", lambda a: np.einsum("...ij", a), (T234,), 2),
    ("einsum-trace", lambda a: np.einsum("ii", a), (A33,), 2),
    ("einsum-diag", lambda a: np.einsum("ii->i", a), (A33,), 2),
    ("einsum-diag3", lambda a: np.einsum("iij->j", a), (rng.standard_normal((3, 3, 2)),), 2),
    ("einsum-implicit", lambda a, b: np.einsum("ij,jk", a, b), (A34, B234[0].T), 2),
    ("einsum-implicit-order", lambda a: np.einsum("ba", a), (A34,), 2),
    ("einsum-sublist", lambda a, b: np.einsum(a, [0, 1], b, [1, 2], [0, 2]), (A34, B234[0].T), 2),
    ("einsum-sublist-ellipsis", lambda a: np.einsum(a, [Ellipsis, 1], [1, Ellipsis]), (T234,), 2),
    ("einsum-sum", lambda a: np.einsum("ijk->", a), (T234,), 2),
    ("einsum-3", lambda a, b, c: np.einsum("i,ij,j", a, b, c), (V5[:3], A34, V4), 2),
    # ---- ufunc methods ----
    ("add.reduce", lambda a: np.add.reduce(a, axis=1), (A34,), 2),
    ("multiply.reduce", lambda a: np.multiply.reduce(a, axis=None), (POS,), 2),
    ("maximum.reduce", lambda a: np.maximum.reduce(a, axis=-1, keepdims=True), (T234,), 2),
    ("logaddexp.reduce", lambda a: np.logaddexp.reduce(a, axis=0), (A34,), 2),
    ("logaddexp.reduce-keep", lambda a: np.logaddexp.reduce(a, axis=1, keepdims=True), (A34,), 2),
    ("subtract.reduce", lambda a: np.subtract.reduce(a), (A34,), 2),
    ("hypot.reduce", lambda a: np.hypot.reduce(a, axis=1), (A34,), 2),
    ("add.accumulate", lambda a: np.add.accumulate(a, axis=1), (A34,), 2),
    ("maximum.accumulate", lambda a: np.maximum.accumulate(a), (V5,), 2),
    ("multiply.accumulate", lambda a: np.multiply.accumulate(a, axis=0), (A34,), 2),
    ("multiply.outer", np.multiply.outer, (V4, A34), 2),
    ("subtract.outer", np.subtract.outer, (V5, V4), 2),
    ("arctan2.outer", lambda a, b: np.arctan2.outer(a, b), (V5, POS[0]), 2),
]


@pytest.mark.parametrize("name, f, args, order", TABLE3, ids=[r[0] for r in TABLE3])
def test_value_and_derivatives_3(name, f, args, order):
    test_value_and_derivatives(name, f, args, order)


# ---- scipy.special (ufuncs as written; logsumexp & co. from adnb.special) ----
sp = pytest.importorskip("scipy.special")
Y3 = np.array([0.2, 0.7, 0.4])
TABLE_SPECIAL = [
    ("expit", sp.expit, (A34,), 2), ("logit", sp.logit, (Y3,), 2), ("erf", sp.erf, (A34,), 2),
    ("erfc", sp.erfc, (A34,), 2), ("erfinv", sp.erfinv, (UNIT,), 2), ("ndtr", sp.ndtr, (A34,), 2),
    ("log_ndtr", sp.log_ndtr, (A34,), 2), ("digamma", sp.digamma, (POS,), 2),
    ("psi", sp.psi, (POS,), 2), ("gammaln", sp.gammaln, (POS,), 2), ("gamma", sp.gamma, (POS,), 2),
    ("xlogy", sp.xlogy, (A34, POS), 2), ("xlog1py", sp.xlog1py, (A34, POS), 2),
    ("scipy-softmax", lambda a: sp.softmax(a, axis=1), (A34,), 2),
    ("beta", sp.beta, (POS, POS.T.reshape(3, 4)), 2), ("betaln", sp.betaln, (POS, POS[::-1]), 2),
    ("rgamma", sp.rgamma, (POS,), 2), ("gammasgn", sp.gammasgn, (POS,), 2),
    ("gammainc", lambda x: sp.gammainc(2.5, x), (POS,), 2),
    ("gammaincc", lambda x: sp.gammaincc(0.7, x), (POS,), 2),
    ("betainc", lambda x: sp.betainc(1.5, 2.5, x), ((UNIT + 1.0) / 2,), 2),
    ("erfcinv", sp.erfcinv, (UNIT + 1.0,), 2), ("erfcx", sp.erfcx, (A34,), 2),
    ("ndtri", sp.ndtri, ((UNIT + 1.0) / 2,), 2), ("log_expit", sp.log_expit, (A34,), 2),
    ("entr", sp.entr, (POS,), 2), ("rel_entr", sp.rel_entr, (POS, POS[::-1]), 2),
    ("kl_div", sp.kl_div, (POS, POS[::-1]), 2),
    ("j0", sp.j0, (3 * POS,), 2), ("j1", sp.j1, (3 * POS,), 2), ("y0", sp.y0, (3 * POS,), 2),
    ("y1", sp.y1, (3 * POS,), 2), ("i0", sp.i0, (A34,), 2), ("i1", sp.i1, (POS,), 2),
    ("k0", sp.k0, (POS,), 2), ("k1", sp.k1, (POS,), 2),
    ("jn", lambda x: sp.jn(3, x), (3 * POS,), 2), ("yn", lambda x: sp.yn(2, x), (3 * POS,), 2),
    ("jv", lambda x: sp.jv(1.5, x), (3 * POS,), 2), ("yv", lambda x: sp.yv(0.5, x), (3 * POS,), 2),
    ("iv", lambda x: sp.iv(2.5, x), (POS,), 2), ("ive", lambda x: sp.ive(1.5, x), (POS,), 2),
    ("ive-0", lambda x: sp.ive(0, x), (A34,), 2),
]


@pytest.mark.parametrize("f, arg", [
    (lambda a: sp.gammainc(a, 2.0), 1.5), (lambda a: sp.gammaincc(a, 2.0), 1.5),
    (lambda a: sp.betainc(a, 2.0, 0.3), 1.5), (lambda b: sp.betainc(2.0, b, 0.3), 1.5),
    (lambda v: sp.jv(v, 2.0), 1.5), (lambda v: sp.iv(v, 2.0), 1.5), (lambda v: sp.ive(v, 2.0), 1.5),
    (lambda v: sp.yv(v, 2.0), 1.5)])
def test_scipy_parameter_without_a_rule_is_refused(f, arg):
    # scipy has no formula for these derivatives: an error, never a silent zero
    for transform in (adnb.grad, lambda g: lambda x: adnb.jvp(g, (x,), (1.0,))):
        with pytest.raises(adnb.MissingRuleError, match="no derivative with respect to"):
            transform(f)(arg)
TABLE_SPECIAL_ADNB = [
    ("logsumexp", lambda a: adnb.special.logsumexp(a, axis=1), sp.logsumexp, (A34,), {"axis": 1}),
    ("logsumexp-b", lambda a: adnb.special.logsumexp(a, b=POS, keepdims=True), sp.logsumexp, (A34,),
     {"b": POS, "keepdims": True}),
    ("logsumexp-big", lambda a: adnb.special.logsumexp(a * 800.0), None, (A34,), {}),
    ("softmax", lambda a: adnb.special.softmax(a, axis=0), sp.softmax, (A34,), {"axis": 0}),
    ("log_softmax", lambda a: adnb.special.log_softmax(a, axis=-1), sp.log_softmax, (A34,),
     {"axis": -1}),
]


@pytest.mark.parametrize("name, f, args, order", TABLE_SPECIAL, ids=[r[0] for r in TABLE_SPECIAL])
def test_scipy_special_ufuncs(name, f, args, order):
    test_value_and_derivatives(name, f, args, order)


@pytest.mark.parametrize("name, f, ref, args, kw", TABLE_SPECIAL_ADNB,
                         ids=[r[0] for r in TABLE_SPECIAL_ADNB])
def test_adnb_special(name, f, ref, args, kw):
    if ref is not None:
        np.testing.assert_allclose(f(*args), ref(*args, **kw), rtol=1e-12)
    adnb.check_grads(f, args, order=2, atol=1e-5, rtol=1e-4)
