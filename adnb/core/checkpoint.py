"""Checkpointing (rematerialisation): trade memory for recomputation in reverse mode.

Reverse mode keeps what every adjoint rule will need until the sweep comes back for it: for a
loop of n steps, n steps' activations (§8.2.2's memory cost). ``checkpoint(f)`` (JAX's
``jax.checkpoint``, alias ``remat``) records f as *one* row that keeps only f's inputs; when the
adjoints reach that row, f runs again on them, recorded, and that short record is swept
backwards and dropped. Same derivatives, less memory, one more evaluation of f.

``checkpoint_loop(step, x, n, every)`` applies this to a loop x ← step(x), n times, in segments
of ``every`` steps: the tape holds n/every segment inputs plus, during the sweep, one segment's
activations — n/k + k, least for k = √n (Griewank & Walther's simplest schedule): O(√n) memory
instead of O(n), for about one extra forward pass.
"""
from __future__ import annotations

import functools
import math

import warnings

import numpy as np

from ..errors import ADNBWarning, CustomRuleError
from . import cost as _cost
from .custom import CustomPrimitive, _OnePass, _counted, _name, _single_output
from .tracer import Tracer, unwrap

__all__ = ["checkpoint", "remat", "checkpoint_loop"]


class _Checkpointed:
    """The primitive behind one ``checkpoint(f)``: f's value, and rules that recompute f."""

    def __init__(self, fun):
        self.fun = fun
        self._pass = _OnePass()
        name = _name(fun)
        # keep="both": its value too, to check the recomputation against (in a loop the value
        # is the next segment's input, kept anyway)
        self.primitive = CustomPrimitive(
            "checkpoint", self._impl, kind="checkpoint", owner=self, jvp=(self._tangent,),
            vjp=(self._adjoint,), variadic=True, keep="both",
            formula=f"checkpoint[{name}]({{args}})")

    def _impl(self, *args):
        return _single_output(_counted(self.fun, args), f"checkpointed function {_name(self.fun)}")

    def _tangent(self, t, ans, *args, argnum):
        # forward mode stores nothing anyway: a checkpoint changes nothing there
        from .api import jvp
        tangents = tuple(t if k == argnum else _zero(a) for k, a in enumerate(args))
        return jvp(self.fun, tuple(args), tangents)[1]

    def _adjoint(self, g, ans, *args, argnum):
        return self._pass.get(g, args, argnum, lambda: self.recompute(g, args, ans))

    def recompute(self, g, args, ans=None):
        """Run f again on its inputs, recorded, and sweep that record back from g."""
        from .reverse import backward
        from .trace import TapeTracer, Trace
        tr = Trace()
        # (while counting, plain values: the recorded trace then counts its own operations
        # and the bytes it keeps)
        inputs = [tr.new_input(_cost.unwrap_count(a)) for a in args]
        before = [(c.ops["primal"], c.flops["primal"]) for c in _cost.counters()]
        with _cost.phase("primal"):
            out = self.fun(*inputs)
        for c, (ops, flops) in zip(_cost.counters(), before):
            c.recomputed_ops += c.ops["primal"] - ops
            c.recomputed_flops += c.flops["primal"] - flops
        if ans is not None:
            self._check_same(unwrap(ans), unwrap(out))
        if not (type(out) is TapeTracer and out.trace is tr):
            return [None] * len(args)
        if _cost.ACTIVE:
            _cost.add_passes(reverse=-1, sweeps=-1)     # part of the sweep already counted
        adj = backward(tr, {out.index: g})
        return [adj[i] for i in tr.inputs]


    def _check_same(self, before, again):
        """A function that draws random numbers or reads changing state gives another value
        when run again, and the derivative would belong to that other run: say so. (Not
        exact: a Python float may take math.tanh once and np.tanh the other time.)"""
        with np.errstate(all="ignore"):
            same = np.allclose(again, before, rtol=1e-8, atol=1e-300, equal_nan=True)
        if not same:
            warnings.warn(
                f"checkpointed function {_name(self.fun)} gave a different value when the reverse "
                "sweep ran it again (random numbers? global state? a chaotic loop?), so its "
                "derivative is that of the second run. Pass random numbers in as arguments.",
                ADNBWarning, stacklevel=2)


def _zero(a):
    from .custom import _zeros
    return _zeros(a)


def checkpoint(fun, *, prevent_cse=True, policy=None, static_argnums=()):
    """``fun`` with the same values and derivatives, whose inside the reverse sweep does not
    keep: it recomputes it when the adjoints arrive (``jax.checkpoint``).

    ``fun`` takes float/array arguments and returns one float or array. (``prevent_cse`` is
    accepted for JAX compatibility and has no effect; ``policy`` and ``static_argnums`` are not
    supported.)
    """
    if policy is not None or static_argnums:
        raise CustomRuleError("adnb.checkpoint supports neither policy= nor static_argnums=; "
                              "close over fixed arguments with a lambda instead.")
    cp = _Checkpointed(fun)

    @functools.wraps(fun)
    def checkpointed(*args):
        if not any(isinstance(a, Tracer) for a in args):
            return fun(*args)
        return cp.primitive(*args)
    checkpointed.checkpointed = cp
    return checkpointed


remat = checkpoint


def checkpoint_loop(step, x, n, every="sqrt", args=()):
    """``x ← step(x, *args)`` n times, checkpointed every ``every`` steps; returns the final x.

    Args:
        step: one step of the loop: a float/array x (and ``args``) in, the next x out.
        every: steps per checkpointed segment: ``"sqrt"`` (⌈√n⌉, O(√n) memory), an int k
            (n/k segment inputs plus k activations kept), None (no checkpoints: O(n)), or
            ``"bisect"``: checkpoints nested by halving the loop down to 2 steps (recursive
            bisection: O(log n) memory for about log₂ n extra forward passes).
        args: further arguments of every step (weights...), differentiable too: values being
            differentiated must come in as arguments, not from step's enclosing code.
    """
    if every is None:
        for _ in range(n):
            x = step(x, *args)
        return x
    if every == "bisect":
        return _bisected(step, n, {})(x, *args) if n > 0 else x
    k = max(1, math.ceil(math.sqrt(n))) if every == "sqrt" else int(every)
    if k < 1:
        raise ValueError(f"every must be a positive number of steps, 'sqrt' or None, not {every!r}")

    def segment(length):
        def run(x, *args):
            for _ in range(length):
                x = step(x, *args)
            return x
        run.__name__ = f"{_name(step)}×{length}"
        return checkpoint(run)

    full = segment(k)
    for _ in range(n // k):
        x = full(x, *args)
    if n % k:
        x = segment(n % k)(x, *args)
    return x


def _bisected(step, n, made):
    """n steps as two checkpointed halves, each halved again down to 2 steps (one function per
    length, shared). Sweeping a half back recomputes it, which records only its two halves."""
    if n in made:
        return made[n]
    if n <= 2:
        def run(x, *args):
            for _ in range(n):
                x = step(x, *args)
            return x
    else:
        first = checkpoint(_bisected(step, n // 2, made))
        second = checkpoint(_bisected(step, n - n // 2, made))

        def run(x, *args):
            return second(first(x, *args), *args)
    run.__name__ = f"{_name(step)}×{n}"
    made[n] = run
    return run
