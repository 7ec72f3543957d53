"""adnb — see automatic differentiation happen, in a notebook.

The AD core (``adnb.core``) is plain numpy. Displays, widgets and the ``%%autodiff`` magic are
imported lazily, so ``import adnb`` never touches IPython.
"""
from .core import (grad, value_and_grad, jvp, vjp, jacfwd, jacrev, jacobian, hessian, hvp,
                   trace, value, Cost, count_cost, Trace, Node, PRIMITIVES)
from .core.registry import supported_list as supported_numpy
from .errors import (ADNBError, ADNBWarning, CutDerivativeError, InPlaceError, MissingRuleError,
                     NonDifferentiablePointWarning, NonScalarOutputError,
                     NotDifferentiableTypeError, UnsupportedOperationError, LeakedTracerError,
                     ReturnedNoneError)
from .core.pytree import StructureMismatchError
from .numerical import forward_difference, central_difference, numerical_grad, numerical_jacobian
from .testing import check_grads
from .explore import explore, explore_cell
from . import special  # noqa: F401  (adnb.special.logsumexp, softmax, log_softmax)
# bending the rules (issue 15): custom derivatives, stop_gradient, checkpointing, transposition
from .core.custom import custom_jvp, custom_vjp, stop_gradient
from .core.checkpoint import checkpoint, remat, checkpoint_loop
from .core.linearize import linearize, linear_transpose, NotLinearError
from .errors import CustomRuleError

__version__ = "0.1.0"

__all__ = ["grad", "value_and_grad", "jvp", "vjp", "jacfwd", "jacrev", "jacobian", "hessian",
           "hvp", "trace", "value", "Cost", "count_cost", "Trace", "Node", "PRIMITIVES",
           "supported_numpy", "forward_difference", "central_difference", "numerical_grad",
           "numerical_jacobian", "check_grads", "ADNBError", "ADNBWarning", "CutDerivativeError",
           "InPlaceError", "MissingRuleError", "NonDifferentiablePointWarning",
           "NonScalarOutputError", "NotDifferentiableTypeError", "UnsupportedOperationError",
           "LeakedTracerError", "ReturnedNoneError", "StructureMismatchError",
           "load_ipython_extension", "unload_ipython_extension", "explore", "explore_cell",
           "custom_jvp", "custom_vjp", "stop_gradient", "checkpoint", "remat", "checkpoint_loop",
           "linearize", "linear_transpose", "NotLinearError", "CustomRuleError", "exercise"]


def exercise(f, *args, mode="reverse", blanks="all", seed=None):
    """An exercise sheet with blanks and its answer key (``adnb.display.exercise.exercise``)."""
    from .display.exercise import exercise as _exercise
    return _exercise(f, *args, mode=mode, blanks=blanks, seed=seed)


def load_ipython_extension(ipython):
    """``%load_ext adnb``: register the %%autodiff / %autodiff magics."""
    from .magics import load_ipython_extension as _load
    _load(ipython)


def unload_ipython_extension(ipython):
    from .magics import unload_ipython_extension as _unload
    _unload(ipython)
