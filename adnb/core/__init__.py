"""adnb's AD core: pure numpy, no IPython, widgets or plotting."""
from .api import (grad, value_and_grad, jvp, vjp, jacfwd, jacrev, jacobian, hessian, hvp, trace,
                  value)
from .cost import Cost, count_cost
from .trace import Trace, Node
from .registry import PRIMITIVES, supported_list

__all__ = ["grad", "value_and_grad", "jvp", "vjp", "jacfwd", "jacrev", "jacobian", "hessian",
           "hvp", "trace", "value", "Cost", "count_cost", "Trace", "Node", "PRIMITIVES",
           "supported_list"]
