"""autograd.extend's primitive/defvjp, built on adnb.custom_vjp (reverse mode only, as there)."""
import functools

import adnb


class primitive:
    def __init__(self, f):
        functools.update_wrapper(self, f)
        self.fun, self.vjpmakers = f, {}

    def __call__(self, *args, **kwargs):
        f, makers = self.fun, self.vjpmakers
        wrapped = adnb.custom_vjp(lambda *a: f(*a, **kwargs))

        def fwd(*a):
            ans = f(*a, **kwargs)
            return ans, (ans, a)

        def bwd(res, g):
            ans, a = res
            return tuple(makers[i](ans, *a, **kwargs)(g) if i in makers else None
                         for i in range(len(a)))
        wrapped.defvjp(fwd, bwd)
        return wrapped(*args)


def defvjp(fun, *vjpmakers, argnums=None):
    for i, m in zip(argnums or range(len(vjpmakers)), vjpmakers):
        if m is not None:
            fun.vjpmakers[i] = m


def defjvp(fun, *jvpmakers, argnums=None):
    raise NotImplementedError("defjvp: adnb's counterpart is adnb.custom_jvp")
