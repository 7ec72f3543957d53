"""Every primitive adnb differentiates, one block each: value, rules, display, numpy hooks.

Conventions (Bishop & Bishop notation):
  * ``partials=`` (elementwise operations) gives the local partial derivative ∂v/∂v_k for each
    argument k as a function of ``(ans, *args)``; tangent and adjoint rules follow from them:
    v̇ += ∂v/∂v_k · v̇_k (eq. 8.57) and v̄_k += v̄ · ∂v/∂v_k (eq. 8.69). Displays print these.
  * ``jvp=``/``vjp=`` give explicit rules, one per argument: ``(t, ans, *args, **params)`` returns
    argument k's contribution to the output tangent, ``(g, ans, *args, **params)`` the
    contribution of the output adjoint g to argument k's adjoint. ``None`` means "contributes
    nothing". The sweeps add contributions up; rules never accumulate.
  * ``keep=`` says what the reverse sweep must store: "ans", "args", "both" or "" (shapes only).
  * For Hessian-vector products (``second_order.py``): ``partials2=`` (elementwise unary) gives
    d²v/dv_1² from ``(ans, x)``; ``bilinear=True`` marks mul and matmul. Without them the
    second-order sweep runs the adjoint rule on dual numbers.
  * Rules are written with primitives and operators, so they can be differentiated again
    (Hessians, nesting to any order).

One module per group; each holds its primitives' blocks and the numpy entry points (functions
with numpy's signatures, registered with ``@implements``) built on them. A new group is a new
module plus one import line below; every public name is re-exported here, so
``from adnb.core import primitives as P; P.sin`` reaches any of them.
"""
from __future__ import annotations

from ..registry import ARRAY_FUNCTIONS, PRIMITIVES, UFUNCS, supported_list

from .elementwise import *     # noqa: F401,F403  add … tanh, where
from .reductions import *      # noqa: F401,F403  sum, max, min, prod, cumsum, mean, var, std
from .shape import *           # noqa: F401,F403  reshape, transpose, broadcast_to, getitem, …
from .contractions import *    # noqa: F401,F403  matmul, einsum, dot, outer, tensordot
from .linalg import *          # noqa: F401,F403  solve, inv, det, norm
from .nondiff import *         # noqa: F401,F403  shape queries, piecewise constants, comparisons
# issue 13: numpy functions beyond the core table (they register themselves on import)
from .decompositions import *  # noqa: F401,F403  svd, eigh, cholesky, qr, slogdet, eig
from .linalg_more import *     # noqa: F401,F403  norm (every ord), pinv, matrix_power, lstsq, …
from .rearranging import *     # noqa: F401,F403  flip, roll, tile, pad, split, diff, linspace, …
from .elementwise_more import *  # noqa: F401,F403  log2 … logaddexp, sinc, rounding (∂ = 0)
from .statistics import *      # noqa: F401,F403  median, quantile, average, cov, nan-reductions
from .signal import *          # noqa: F401,F403  convolve, correlate, interp, polyval, …
from .ufunc_methods import *   # noqa: F401,F403  np.add.reduce, np.maximum.accumulate, …
from .einsum_forms import *    # noqa: F401,F403  einsum with '...', sublists, 'ii', implicit
from . import special          # noqa: F401  scipy.special ufuncs; logsumexp, softmax, …
from . import methods          # noqa: F401,E402  ndarray methods (x.argmax(), x.round(), …)

__all__ = ["PRIMITIVES", "UFUNCS", "ARRAY_FUNCTIONS", "supported_list"]
