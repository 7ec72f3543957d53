"""Every primitive adnb differentiates, one block each: value, rules, display, numpy hooks.

The declaration form (one ``define_primitive`` call per primitive; nothing about its derivative
is written anywhere else -- displays and generated code run these rules on symbolic stand-ins,
``core/standin.py``)::

    sin = define_primitive(
        "sin", np.sin, scalar_impl=math.sin, numpy=(np.sin,), elementwise=True, keep="args",
        formula="sin({0})",                        # display template: {0}, {1} the arguments
        partials=(lambda ans, x: cos(x),),          # ∂v/∂v_k per argument, adnb primitives only
        scalar_partials=lambda ans, x: (math.cos(x),),   # float speed-up, checked bit for bit
        partials2=lambda ans, x: -ans)              # d²v/dv², for hvp (checked numerically)

  * ``partials=`` (elementwise operations): one entry per argument, a function ``(ans, *args)``
    giving ∂v/∂v_k, a number for a constant partial (add: ``(1.0, 1.0)``), or None. The tangent
    and adjoint rules are derived: v̇ += v̇_k ∂v/∂v_k (eq. 8.57), v̄_k += v̄ ∂v/∂v_k (eq. 8.69);
    ``mask=True`` makes them select instead of multiply (maximum, where: an exact 0 on the
    branch not taken). ``partials_text=`` gives the display of a partial that decides on values.
  * ``jvp=``/``vjp=`` (all other operations): one rule per argument, ``(t, ans, *args,
    **params)`` -> argument k's contribution to the output tangent, ``(g, ans, *args,
    **params)`` -> the contribution of the output adjoint g to argument k's adjoint. ``None``
    means "contributes nothing". The sweeps add contributions up; rules never accumulate.
    ``variadic=True`` rules get ``argnum=``; ``jvp_batched`` takes N directions at once.
  * ``keep=`` says what the reverse sweep must store: "ans", "args", "both" or "" (shapes only).
  * ``formula=`` writes the value in the book's notation, ``code=`` in Python (default: the
    numpy ufunc's name, e.g. ``sin({0})``, else ``apply("name", ...)``); ``numpy=`` lists the
    ufuncs it stands for, and ``@implements(np.f)`` maps a numpy function's signature onto
    primitives (the numpy entry points at the end of each module).
  * Speed-only extras sit in the same block and are tested against the general rule over the
    whole table (tests/test_primitives.py, tests/test_second_order.py): ``scalar_partials``,
    ``partials2``, ``bilinear``, ``scalar_impl``.
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

__all__ = ["PRIMITIVES", "UFUNCS", "ARRAY_FUNCTIONS", "supported_list"]
