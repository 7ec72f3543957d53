"""Matrix decompositions: svd, eigh, cholesky, qr, slogdet, eig (real eigenvalues).

A decomposition with several outputs is one primitive per output (``svd_u``, ``svdvals``,
``svd_vh``): each is one row of the trace with its own rules; the rules call the sibling
primitives, so they can be differentiated again (Hessians through an SVD). All work on stacks of
matrices (the last two axes). Inputs numpy reads only one triangle of (``eigh``, ``cholesky``)
get the derivative of exactly that: entries numpy ignores have derivative 0.

Where the derivative does not exist -- repeated singular values or eigenvalues (the vectors are
not unique), a singular matrix in ``slogdet`` -- adnb warns (``NonDifferentiablePointWarning``).
"""
from __future__ import annotations

import warnings

import numpy as np

from ...errors import NonDifferentiablePointWarning, NotDifferentiableTypeError, \
    UnsupportedOperationError
from ..registry import define_primitive, implements
from ..tracer import shape_of, unwrap
from .elementwise import where_
from .linalg import inv
from .reductions import sum_
from .shape import reshape
from .shape import _mT



def _row(v):
    """(..., k) -> (..., 1, k)"""
    s = tuple(shape_of(v))
    return reshape(v, shape=s[:-1] + (1, s[-1]))


def _col(v):
    """(..., k) -> (..., k, 1)"""
    return reshape(v, shape=tuple(shape_of(v)) + (1,))


def _diag_part(x):
    """The diagonals of a stack of square matrices, (..., k, k) -> (..., k)."""
    k = shape_of(x)[-1]
    return sum_(x * np.eye(k), axes=(len(shape_of(x)) - 1,), keepdims=False)


def _warn(what):
    warnings.warn(f"{what}: the derivative does not exist here (the result contains inf/nan "
                  "or is one of many valid choices).", NonDifferentiablePointWarning, stacklevel=4)


def _gap_matrix(values, squared, name):
    """F_ij = 1/(λ_j − λ_i) (or 1/(σ_j² − σ_i²)) off the diagonal, 0 on it; warns where two
    values coincide (no derivative of the vectors there)."""
    k = shape_of(values)[-1]
    r, c = _row(values), _col(values)
    diffs = (r + c) * (r - c) if squared else r - c
    dv = np.asarray(unwrap(diffs), dtype=float)
    off = ~np.eye(k, dtype=bool)
    scale = np.max(np.abs(unwrap(values))) if k else 0.0
    if np.any((np.abs(dv) <= 1e-12 * max(scale, 1.0) ** (2 if squared else 1)) & off):
        _warn(f"np.linalg.{name} with repeated {'singular values' if squared else 'eigenvalues'}")
    eye = np.eye(k)
    return where_(off, 1.0 / (diffs + eye), 0.0)


def _sym(t, lower=True):
    """The symmetric matrix numpy actually decomposes, from the triangle it reads."""
    k = shape_of(t)[-1]
    keep, strict = (np.tril(np.ones((k, k))), np.tril(np.ones((k, k)), -1)) if lower else \
        (np.triu(np.ones((k, k))), np.triu(np.ones((k, k)), 1))
    return t * keep + _mT(t * strict)


def _sym_adjoint(y, lower=True):
    """Adjoint of ``_sym``: the derivative with respect to the entries numpy reads."""
    k = shape_of(y)[-1]
    keep, strict = (np.tril(np.ones((k, k))), np.tril(np.ones((k, k)), -1)) if lower else \
        (np.triu(np.ones((k, k))), np.triu(np.ones((k, k)), 1))
    return y * keep + _mT(y) * strict


def _need_matrix(a, name):
    if len(shape_of(a)) < 2:
        raise np.linalg.LinAlgError(f"{len(shape_of(a))}-dimensional array given. Array must be "
                                    "at least two-dimensional")


# ---- singular value decomposition (reduced) -----------------------------------------------

def _svd_parts(a):
    U, Vh, s = svd_u(a), svd_vh(a), svdvals(a)
    m, n = shape_of(a)[-2:]
    return U, s, Vh, m, n


def _svd_u_jvp(t, ans, a):
    U, s, Vh, m, n = _svd_parts(a)
    V = _mT(Vh)
    F = _gap_matrix(s, True, "svd")
    dS = _mT(U) @ t @ V
    sr, sc = _row(s), _col(s)
    dU = U @ (F * (dS * sr + sc * _mT(dS)))
    if m > n:
        tV = t @ V
        dU = dU + (tV - U @ (_mT(U) @ tV)) / sr
    return dU


def _svd_vh_jvp(t, ans, a):
    U, s, Vh, m, n = _svd_parts(a)
    V = _mT(Vh)
    F = _gap_matrix(s, True, "svd")
    dS = _mT(U) @ t @ V
    sr, sc = _row(s), _col(s)
    dV = V @ (F * (sc * dS + _mT(dS) * sr))
    if n > m:
        tU = _mT(t) @ U
        dV = dV + (tU - V @ (Vh @ tU)) / sr
    return _mT(dV)


def _svd_u_vjp(g, ans, a):
    U, s, Vh, m, n = _svd_parts(a)
    F = _gap_matrix(s, True, "svd")
    J = F * (_mT(U) @ g)
    out = U @ ((J + _mT(J)) * _row(s)) @ Vh
    if m > n:
        out = out + ((g - U @ (_mT(U) @ g)) / _row(s)) @ Vh
    return out


def _svd_vh_vjp(g, ans, a):
    U, s, Vh, m, n = _svd_parts(a)
    V = _mT(Vh)
    F = _gap_matrix(s, True, "svd")
    K = F * (Vh @ _mT(g))
    out = U @ ((K + _mT(K)) * _col(s)) @ Vh
    if n > m:
        out = out + (U / _row(s)) @ (g - (g @ V) @ Vh)
    return out


svdvals = define_primitive(
    "svdvals", lambda a: np.linalg.svd(a, compute_uv=False), formula="σ({0})", keep="args",
    # dσ_k = u_kᵀ dA v_k;  Ā = U diag(σ̄) Vᵀ
    jvp=(lambda t, ans, a: sum_(svd_u(a) * (t @ _mT(svd_vh(a))),
                                  axes=(len(shape_of(a)) - 2,), keepdims=False),),
    vjp=(lambda g, ans, a: (svd_u(a) * _row(g)) @ svd_vh(a),))

svd_u = define_primitive(
    "svd_u", lambda a: np.linalg.svd(a, full_matrices=False)[0], formula="U({0})", keep="args",
    jvp=(_svd_u_jvp,), vjp=(_svd_u_vjp,))

svd_vh = define_primitive(
    "svd_vh", lambda a: np.linalg.svd(a, full_matrices=False)[2], formula="Vᵀ({0})",
    keep="args", jvp=(_svd_vh_jvp,), vjp=(_svd_vh_vjp,))


@implements(np.linalg.svd)
def np_svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    _need_matrix(a, "svd")
    if not compute_uv:
        return svdvals(a)
    m, n = shape_of(a)[-2:]
    if full_matrices and m != n:
        raise UnsupportedOperationError(
            "np.linalg.svd(a) of a non-square matrix with full_matrices=True (numpy's default): "
            "the extra singular vectors are not unique, so they have no derivative. Pass "
            "full_matrices=False.")
    res = (svd_u(a), svdvals(a), svd_vh(a))
    cls = getattr(np.linalg, "_linalg", None)
    cls = getattr(cls, "SVDResult", None)
    return cls(*res) if cls is not None else res


@implements(np.linalg.svdvals)
def np_svdvals(x):
    _need_matrix(x, "svdvals")
    return svdvals(x)


# ---- symmetric eigendecomposition ----------------------------------------------------------

def _eigh_w_jvp(t, ans, a, lower):
    V = eigh_v(a, lower=lower)
    return _diag_part(_mT(V) @ _sym(t, lower) @ V)          # dλ_k = v_kᵀ dA v_k


def _eigh_v_jvp(t, ans, a, lower):
    V, w = eigh_v(a, lower=lower), eigh_w(a, lower=lower)
    return V @ (_gap_matrix(w, False, "eigh") * (_mT(V) @ _sym(t, lower) @ V))


def _eigh_w_vjp(g, ans, a, lower):
    V = eigh_v(a, lower=lower)
    return _sym_adjoint((V * _row(g)) @ _mT(V), lower)      # V diag(λ̄) Vᵀ


def _eigh_v_vjp(g, ans, a, lower):
    V, w = eigh_v(a, lower=lower), eigh_w(a, lower=lower)
    return _sym_adjoint(V @ (_gap_matrix(w, False, "eigh") * (_mT(V) @ g)) @ _mT(V), lower)


eigh_w = define_primitive(
    "eigh_w", lambda a, lower: np.linalg.eigh(a, UPLO="L" if lower else "U")[0],
    formula="λ({0})", keep="args", jvp=(_eigh_w_jvp,), vjp=(_eigh_w_vjp,))

eigh_v = define_primitive(
    "eigh_v", lambda a, lower: np.linalg.eigh(a, UPLO="L" if lower else "U")[1],
    formula="eigvecs({0})", keep="args", jvp=(_eigh_v_jvp,), vjp=(_eigh_v_vjp,))


def _uplo(UPLO):
    if UPLO not in ("L", "U"):
        raise ValueError("UPLO argument must be 'L' or 'U'")
    return UPLO == "L"


@implements(np.linalg.eigh)
def np_eigh(a, UPLO="L"):
    _need_matrix(a, "eigh")
    lower = _uplo(UPLO)
    res = (eigh_w(a, lower=lower), eigh_v(a, lower=lower))
    cls = getattr(getattr(np.linalg, "_linalg", None), "EighResult", None)
    return cls(*res) if cls is not None else res


@implements(np.linalg.eigvalsh)
def np_eigvalsh(a, UPLO="L"):
    _need_matrix(a, "eigvalsh")
    return eigh_w(a, lower=_uplo(UPLO))


# ---- Cholesky -------------------------------------------------------------------------------

_PHI_CACHE: dict = {}


def _phi(k):
    """Lower triangle with the diagonal halved (Murray 2016)."""
    m = _PHI_CACHE.get(k)
    if m is None:
        m = _PHI_CACHE[k] = np.tril(np.ones((k, k)), -1) + 0.5 * np.eye(k)
    return m


def _chol_jvp(t, ans, a):
    Linv = inv(ans)
    k = shape_of(a)[-1]
    return ans @ ((Linv @ _sym(t) @ _mT(Linv)) * _phi(k))   # dL = L Φ(L⁻¹ dA L⁻ᵀ)


def _chol_vjp(g, ans, a):
    Linv = inv(ans)
    k = shape_of(a)[-1]
    return _sym_adjoint(_mT(Linv) @ ((_mT(ans) @ g) * _phi(k)) @ Linv)


cholesky = define_primitive(
    "cholesky", np.linalg.cholesky, formula="chol({0})", keep="both",
    jvp=(_chol_jvp,), vjp=(_chol_vjp,))


@implements(np.linalg.cholesky)
def np_cholesky(a, /, *, upper=False):
    _need_matrix(a, "cholesky")
    if upper:                   # numpy reads the upper triangle: the lower one of aᵀ
        return _mT(cholesky(_mT(a)))
    return cholesky(a)


# ---- QR (reduced, m ≥ n) --------------------------------------------------------------------

def _copyltu(M):
    k = shape_of(M)[-1]
    return M * np.tril(np.ones((k, k))) + _mT(M * np.tril(np.ones((k, k)), -1))


def _qr_parts_jvp(t, a):
    Q, R = qr_q(a), qr_r(a)
    dx_rinv = t @ inv(R)
    qt = _mT(Q) @ dx_rinv
    k = shape_of(R)[-1]
    low = qt * np.tril(np.ones((k, k)), -1)
    do = low - _mT(low)
    return Q, R, dx_rinv, qt, do


def _qr_q_jvp(t, ans, a):
    Q, R, dx_rinv, qt, do = _qr_parts_jvp(t, a)
    return Q @ (do - qt) + dx_rinv


def _qr_r_jvp(t, ans, a):
    Q, R, dx_rinv, qt, do = _qr_parts_jvp(t, a)
    return (qt - do) @ R


def _qr_q_vjp(g, ans, a):
    Q, R = qr_q(a), qr_r(a)                 # Ā = (Q̄ + Q copyltu(M)) R⁻ᵀ, M = −Q̄ᵀQ
    return (g + Q @ _copyltu(-(_mT(g) @ Q))) @ _mT(inv(R))


def _qr_r_vjp(g, ans, a):
    Q, R = qr_q(a), qr_r(a)                 # M = R R̄ᵀ
    return (Q @ _copyltu(R @ _mT(g))) @ _mT(inv(R))


qr_q = define_primitive("qr_q", lambda a: np.linalg.qr(a)[0], formula="Q({0})", keep="args",
                        jvp=(_qr_q_jvp,), vjp=(_qr_q_vjp,))
qr_r = define_primitive("qr_r", lambda a: np.linalg.qr(a)[1], formula="R({0})", keep="args",
                        jvp=(_qr_r_jvp,), vjp=(_qr_r_vjp,))


@implements(np.linalg.qr)
def np_qr(a, mode="reduced"):
    _need_matrix(a, "qr")
    m, n = shape_of(a)[-2:]
    if m < n or mode not in ("reduced", "r") and not (mode == "complete" and m == n):
        raise UnsupportedOperationError(
            f"np.linalg.qr(mode={mode!r}) of a {m}×{n} matrix: adnb differentiates the reduced "
            "QR of a matrix with at least as many rows as columns (there R is invertible and Q "
            "unique). Use mode='reduced', or transpose a wide matrix.")
    if mode == "r":
        return qr_r(a)
    res = (qr_q(a), qr_r(a))
    cls = getattr(getattr(np.linalg, "_linalg", None), "QRResult", None)
    return cls(*res) if cls is not None else res


# ---- log-determinant ---------------------------------------------------------------------------

def _logabsdet_rule(a):
    av = unwrap(a)
    if np.any(np.linalg.cond(av) > 1e14):
        _warn("np.linalg.slogdet of a singular matrix (log|det| = −inf)")
    return _mT(inv(a))                                    # ∂ log|A| / ∂A = A⁻ᵀ


def _logabsdet_jvp(t, ans, a):
    nd = len(shape_of(t))
    return sum_(_logabsdet_rule(a) * t, axes=(nd - 2, nd - 1), keepdims=False)


logabsdet = define_primitive(
    "logabsdet", lambda a: np.linalg.slogdet(a)[1], formula="ln|det({0})|", keep="args",
    jvp=(_logabsdet_jvp,),
    vjp=(lambda g, ans, a: reshape(g, shape=tuple(shape_of(g)) + (1, 1)) * _logabsdet_rule(a),))


@implements(np.linalg.slogdet)
def np_slogdet(a):
    _need_matrix(a, "slogdet")
    sign = np.linalg.slogdet(unwrap(a))[0]                 # piecewise constant: no derivative
    res = (sign, logabsdet(a))
    cls = getattr(getattr(np.linalg, "_linalg", None), "SlogdetResult", None)
    return cls(*res) if cls is not None else res


# ---- general eigendecomposition (real eigenvalues only) -----------------------------------

def _eig_real(a):
    w, V = np.linalg.eig(a)
    if np.iscomplexobj(w) and np.any(np.imag(w) != 0):
        raise NotDifferentiableTypeError(
            "np.linalg.eig: this matrix has complex eigenvalues; adnb differentiates real values "
            "only. For a symmetric matrix use np.linalg.eigh.")
    return np.real(w), np.real(V)


def _eig_parts(a):
    V = eig_v(a)
    return eig_w(a), V, inv(V)


def _eig_w_jvp(t, ans, a):
    w, V, Vinv = _eig_parts(a)
    return _diag_part(Vinv @ t @ V)                         # dλ = diag(V⁻¹ dA V)


def _normalise_tangent(V, dV):
    # numpy's eigenvectors have unit length: remove the component along v_k itself
    return dV - V * _row(sum_(V * dV, axes=(len(shape_of(V)) - 2,), keepdims=False))


def _eig_v_jvp(t, ans, a):
    w, V, Vinv = _eig_parts(a)
    return _normalise_tangent(V, V @ (_gap_matrix(w, False, "eig") * (Vinv @ t @ V)))


def _eig_w_vjp(g, ans, a):
    w, V, Vinv = _eig_parts(a)
    return _mT(Vinv) @ (_col(g) * _mT(V))                  # V⁻ᵀ diag(λ̄) Vᵀ


def _eig_v_vjp(g, ans, a):
    w, V, Vinv = _eig_parts(a)
    gn = _normalise_tangent(V, g)                           # (the projection is self-adjoint)
    return _mT(Vinv) @ (_gap_matrix(w, False, "eig") * (_mT(V) @ gn)) @ _mT(V)


eig_w = define_primitive("eig_w", lambda a: _eig_real(a)[0], formula="λ({0})", keep="args",
                         jvp=(_eig_w_jvp,), vjp=(_eig_w_vjp,))
eig_v = define_primitive("eig_v", lambda a: _eig_real(a)[1], formula="eigvecs({0})",
                         keep="args", jvp=(_eig_v_jvp,), vjp=(_eig_v_vjp,))


@implements(np.linalg.eig)
def np_eig(a):
    _need_matrix(a, "eig")
    res = (eig_w(a), eig_v(a))
    cls = getattr(getattr(np.linalg, "_linalg", None), "EigResult", None)
    return cls(*res) if cls is not None else res


@implements(np.linalg.eigvals)
def np_eigvals(a):
    _need_matrix(a, "eigvals")
    return eig_w(a)
