"""Cross-check against reference AD systems (HIPS autograd; JAX on CPU with x64 if importable).

The catalogue file tests/functions.py is loaded a second time with ``np`` bound to the reference
system's numpy (``autograd.numpy`` / ``jax.numpy``), so both systems differentiate the same
source text. Jacobians with respect to every argument must agree to 1e-10 (relative).
"""
from __future__ import annotations

import importlib.util
import os
import sys
import warnings

import numpy as np
import pytest

import adnb
import functions as adnb_functions

HERE = os.path.dirname(os.path.abspath(__file__))


def load_catalogue(numpy_module, name):
    """tests/functions.py, executed again with ``NUMPY = numpy_module``."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, "functions.py"))
    mod = importlib.util.module_from_spec(spec)
    mod.NUMPY = numpy_module
    sys.modules[name] = mod          # dataclasses look their module up there
    spec.loader.exec_module(mod)
    assert mod.np is numpy_module
    return mod


def adnb_jacobians(case):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", adnb.ADNBWarning)
        J = adnb.jacrev(case.f, argnums=tuple(range(len(case.args))))(*case.args)
    return [np.asarray(j, dtype=float) for j in J]


CASES = adnb_functions.CATALOGUE
IDS = [c.name for c in CASES]


# ---- HIPS autograd -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def autograd_catalogue():
    anp = pytest.importorskip("autograd.numpy")
    return load_catalogue(anp, "functions_autograd")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_against_autograd(case, autograd_catalogue):
    autograd = pytest.importorskip("autograd")
    if "autograd" in case.ref_skip:
        pytest.skip(f"{case.name} uses something autograd does not support")
    ref_case = autograd_catalogue.CASES[case.name]
    mine = adnb_jacobians(case)
    for i in range(len(case.args)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")     # autograd: "Output seems independent of input"
            ref = np.asarray(autograd.jacobian(ref_case.f, i)(*case.args), dtype=float)
        assert ref.shape == mine[i].shape, (case.name, i)
        np.testing.assert_allclose(mine[i], ref, rtol=1e-10, atol=1e-12,
                                   err_msg=f"{case.name}: adnb vs autograd (argument {i})")


def test_autograd_second_derivatives(autograd_catalogue):
    autograd = pytest.importorskip("autograd")
    for name in ("book_f1", "softplus_net", "baydin", "for_logistic"):
        case = adnb_functions.CASES[name]
        ref_f = autograd_catalogue.CASES[name].f
        for i in range(len(case.args)):
            mine = adnb.grad(adnb.grad(case.f, argnums=i), argnums=i)(*case.args)
            ref = autograd.grad(autograd.grad(ref_f, i), i)(*case.args)
            assert float(mine) == pytest.approx(float(ref), rel=1e-10, abs=1e-12), (name, i)


# ---- JAX ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def jax_catalogue():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_platforms", "cpu")
    import jax.numpy as jnp
    return jax, load_catalogue(jnp, "functions_jax")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_against_jax(case, jax_catalogue):
    jax, cat = jax_catalogue
    if "jax" in case.ref_skip:
        pytest.skip(f"{case.name} needs concrete values JAX does not have under jacrev")
    ref_case = cat.CASES[case.name]
    mine = adnb_jacobians(case)
    nums = tuple(range(len(case.args)))
    try:        # compiled: much faster than op-by-op; Python control flow on data cannot be
        refs = jax.jit(jax.jacrev(ref_case.f, argnums=nums))(*case.args)
    except jax.errors.ConcretizationTypeError:
        assert "control" in case.tags or "indexing" in case.tags, case.name
        refs = jax.jacrev(ref_case.f, argnums=nums)(*case.args)       # eager: concrete values
    for i in range(len(case.args)):
        ref = np.asarray(refs[i], dtype=float)
        assert ref.shape == mine[i].shape, (case.name, i)
        np.testing.assert_allclose(mine[i], ref, rtol=1e-10, atol=1e-12,
                                   err_msg=f"{case.name}: adnb vs jax (argument {i})")


def test_jax_hessian_and_hvp(jax_catalogue):
    jax, cat = jax_catalogue
    x = np.array([1.0, 2.0])

    def f1(x):
        return cat.book_f1(x[0], x[1])

    def f1_adnb(x):
        return adnb_functions.book_f1(x[0], x[1])
    H_ref = np.asarray(jax.jit(jax.hessian(f1))(x))
    np.testing.assert_allclose(adnb.hessian(f1_adnb)(x), H_ref, rtol=1e-12)
    v = np.array([1.0, -1.0])
    for method in ("forward-over-reverse", "reverse-over-forward"):
        np.testing.assert_allclose(adnb.hvp(f1_adnb, x, v, method=method), H_ref @ v, rtol=1e-12)
