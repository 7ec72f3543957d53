from .extend import primitive  # noqa: F401


def isbox(x):
    from adnb.core.tracer import Tracer
    return isinstance(x, Tracer)
