"""HIPS autograd's public API, answered by adnb: lets autograd's own test suite run on adnb.

Only for measurement (``benchmarks/autograd_suite.py``). ``autograd.numpy`` is plain NumPy,
because adnb differentiates plain NumPy; every differential operator is the adnb call that
means the same thing.
"""
import builtins
import sys

import numpy
import numpy.fft
import numpy.linalg
import numpy.random

import adnb

from .wrap_util import unary_to_nary
from . import vspaces as _vs

# autograd.numpy (and its submodules) is numpy itself
numpy.numpy_boxes = None
sys.modules["autograd.numpy"] = numpy
sys.modules["autograd.numpy.random"] = numpy.random
sys.modules["autograd.numpy.linalg"] = numpy.linalg
sys.modules["autograd.numpy.fft"] = numpy.fft
globals()["numpy"] = numpy

dict, list, tuple, isinstance, type = (builtins.dict, builtins.list, builtins.tuple,
                                       builtins.isinstance, builtins.type)


def _make_vjp(fun, x):
    ans, vjp_fn = adnb.vjp(fun, x)
    return (lambda g: vjp_fn(g)[0]), ans


def _make_jvp(fun, x):
    return lambda v: adnb.jvp(fun, (x,), (v,))


make_vjp = unary_to_nary(_make_vjp)
make_jvp = unary_to_nary(_make_jvp)


@unary_to_nary
def grad(fun, x):
    return adnb.grad(fun)(x)


@unary_to_nary
def value_and_grad(fun, x):
    return adnb.value_and_grad(fun)(x)


@unary_to_nary
def elementwise_grad(fun, x):
    vjp, ans = _make_vjp(fun, x)
    return vjp(_vs.ones_like(ans))


@unary_to_nary
def deriv(fun, x):
    return _make_jvp(fun, x)(_vs.ones_like(x))[1]


@unary_to_nary
def jacobian(fun, x):
    return adnb.jacrev(fun)(x)


@unary_to_nary
def hessian(fun, x):
    return adnb.hessian(fun)(x)


@unary_to_nary
def holomorphic_grad(fun, x):
    raise adnb.NotDifferentiableTypeError("adnb refuses complex values (holomorphic_grad)")


@unary_to_nary
def make_hvp(fun, x):
    return _make_vjp(adnb.grad(fun), x)


@unary_to_nary
def grad_and_aux(fun, x):
    vjp, (ans, aux) = _make_vjp(lambda x: builtins.tuple(fun(x)), x)
    return vjp((_vs.ones_like(ans), _vs.zeros_like(aux))), aux


def grad_named(fun, argname):
    import inspect
    return grad(fun, inspect.getfullargspec(fun).args.index(argname))


def hessian_tensor_product(fun, argnum=0):
    fun_grad = grad(fun, argnum)

    def vector_dot_grad(*args, **kwargs):
        args, vector = args[:-1], args[-1]
        return numpy.tensordot(fun_grad(*args, **kwargs), vector, numpy.ndim(vector))
    return grad(vector_dot_grad, argnum)


hessian_vector_product = hessian_tensor_product


def tensor_jacobian_product(fun, argnum=0):
    def vector_dot_fun(*args, **kwargs):
        args, vector = args[:-1], args[-1]
        return numpy.tensordot(vector, fun(*args, **kwargs), axes=numpy.ndim(vector))
    return jacobian(vector_dot_fun, argnum)


vector_jacobian_product = tensor_jacobian_product


def make_ggnvp(f, g=lambda x: 1.0 / 2 * numpy.sum(x**2, axis=-1), f_argnum=0):
    @unary_to_nary
    def _make_ggnvp(f, x):
        def ggnvp(v):
            _, jv = adnb.jvp(f, (x,), (v,))
            f_x = f(x)
            _, hjv = adnb.jvp(adnb.grad(g), (f_x,), (jv,))
            return _make_vjp(f, x)[0](hjv)
        return ggnvp
    return _make_ggnvp(f, f_argnum)


def checkpoint(fun):
    return adnb.checkpoint(fun)


def multigrad_dict(fun):
    raise NotImplementedError("multigrad_dict needs funcsigs; not part of the comparison")


def primitive(f):
    raise NotImplementedError("autograd.primitive: adnb's counterpart is adnb.custom_vjp")
