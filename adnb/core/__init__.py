"""adnb's AD core: pure numpy, no IPython, widgets or plotting."""
from .api import (grad, value_and_grad, jvp, vjp, jacfwd, jacrev, jacobian, hessian, hvp, trace,
                  value)
from .cost import Cost, count_cost
from .trace import Trace, Node
from .registry import PRIMITIVES, supported_list
from . import fast as _fast


def use_reference_path(on=True):
    """Run every transformation on the reference path -- the code to read beside the book:
    ``Trace.process``, ``DualTrace.process``, ``reverse.sweep`` -- without the fast paths of
    ``core/fast.py`` (``on=False`` puts them back). Same numbers, same warnings, slower.
    ``ADNB_REFERENCE=1`` in the environment does this at import."""
    (_fast.uninstall if on else _fast.install)()


__all__ = ["grad", "value_and_grad", "jvp", "vjp", "jacfwd", "jacrev", "jacobian", "hessian",
           "hvp", "trace", "value", "Cost", "count_cost", "Trace", "Node", "PRIMITIVES",
           "supported_list", "use_reference_path"]
