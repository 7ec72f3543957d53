"""W5: peak memory of value+grad over f alone, in activations stored per step.

    activations/step = (peak(value+grad) − peak(f alone)) / (steps × activation bytes)

with x_{k+1} = tanh(x_k @ W), 32×256 float64 activations (64 KiB), gradient w.r.t. (x0, W).

How peaks are measured:

* numpy-based systems (adnb, HIPS autograd, hand-written numpy): ``tracemalloc``. numpy reports its
  array buffers to tracemalloc, and Python objects (tape nodes, closures) are traced too, so the
  figure includes the bookkeeping of the tape, not only the arrays. Peak is taken relative to the
  traced memory just before the call.
* PyTorch: tensor storage is allocated by c10's CPU allocator (``posix_memalign``), invisible to
  tracemalloc, and torch exposes no allocator statistics for CPU. So the harness samples glibc's
  ``mallinfo2()`` (bytes in use, heap + mmapped) after every ATen operation, through a
  ``TorchDispatchMode`` that sees every forward and backward kernel — the same quantity tracemalloc
  gives for numpy (all live allocations, autograd graph nodes included), sampled at op boundaries.
  Also reported: the bytes of the distinct storages the autograd graph saves
  (``torch.autograd.graph.saved_tensors_hooks``), torch's analogue of ``Trace.kept_bytes()``.
* adnb also reports ``Trace.kept_bytes()`` of a lean trace (what ``grad`` keeps for the reverse
  sweep) and of an explore trace (``adnb.trace``, which keeps every value for the displays).
* JAX is not measured (its buffers live in XLA's allocator; the issue compares PyTorch and autograd).

Each peak is the minimum over two runs (the first run of a process can include one-time
allocations).
"""
from __future__ import annotations

import ctypes
import gc
import tracemalloc

import numpy as np

from . import workloads as W

MEMORY_SYSTEMS = ("adnb", "autograd", "torch", "numpy-hand")
CHECK_STEPS = 20   # gradient check against the hand-written backprop (cheap)


def _peak_tracemalloc(fn, runs=2):
    best = None
    tracemalloc.start()
    try:
        for _ in range(runs):
            gc.collect()
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
            res = fn()
            peak = tracemalloc.get_traced_memory()[1] - base
            del res
            best = peak if best is None else min(best, peak)
    finally:
        tracemalloc.stop()
    return best


def _per_step(peak_vg, peak_f, steps):
    return (peak_vg - peak_f) / (steps * W.W5_ACT_BYTES)


def _grad_error(vg, steps=CHECK_STEPS):
    """Max relative error of a system's (value, (gx0, gW)) against the hand-written backprop."""
    x0, Wm = W.w5_inputs()
    ref = W.w5_value_and_grad_hand(x0, Wm, steps)
    ref_parts = [np.array([ref[0]]), ref[1][0].ravel(), ref[1][1].ravel()]
    return W.check_error(W.flat(vg(steps)), ref_parts)


def measure(system, cfg):
    steps = cfg["w5_steps"]
    fn = {"adnb": _adnb, "autograd": _autograd, "torch": _torch,
          "numpy-hand": _hand}.get(system)
    if fn is None:
        return None
    out = fn(steps)
    out["steps"] = steps
    out["act_bytes"] = W.W5_ACT_BYTES
    out["per_step"] = _per_step(out["peak_vg"], out["peak_f"], steps)
    return out


# ---- numpy-based -------------------------------------------------------------------------------------


def _hand(steps):
    x0, Wm = W.w5_inputs()
    f = W.w5_function(steps)
    peak_f = _peak_tracemalloc(lambda: f(x0, Wm))
    peak_vg = _peak_tracemalloc(lambda: W.w5_value_and_grad_hand(x0, Wm, steps))
    err = _grad_error(lambda s: W.w5_value_and_grad_hand(x0, Wm, s))
    return {"peak_f": peak_f, "peak_vg": peak_vg, "method": "tracemalloc", "err": err}


def _adnb(steps):
    import adnb
    x0, Wm = W.w5_inputs()
    f = W.w5_function(steps)
    vg = adnb.value_and_grad(f, argnums=(0, 1))
    peak_f = _peak_tracemalloc(lambda: f(x0, Wm))
    peak_vg = _peak_tracemalloc(lambda: vg(x0, Wm))
    err = _grad_error(lambda s: adnb.value_and_grad(W.w5_function(s), argnums=(0, 1))(x0, Wm))
    out = {"peak_f": peak_f, "peak_vg": peak_vg, "method": "tracemalloc", "err": err}
    denom = steps * W.W5_ACT_BYTES
    try:   # what the lean tape (grad's) keeps for the reverse sweep
        tr = adnb.Trace()
        a, b = tr.new_input(x0), tr.new_input(Wm)
        y = f(a, b)
        tr.finish([y])
        out["kept_lean"] = tr.kept_bytes() / denom
        del tr, a, b, y
    except Exception as e:  # internal API changed: report, do not fail the run
        out["kept_lean_error"] = f"{type(e).__name__}: {e}"
    try:   # the explore path keeps every value
        out["kept_explore"] = adnb.trace(f, x0, Wm).kept_bytes() / denom
    except Exception as e:
        out["kept_explore_error"] = f"{type(e).__name__}: {e}"
    try:
        out["checkpoint"] = _adnb_checkpointed(steps, peak_f, x0, Wm)
    except Exception as e:
        out["checkpoint_error"] = f"{type(e).__name__}: {e}"
    return out


def _adnb_checkpointed(steps, peak_f, x0, Wm):
    """The same chain through ``adnb.checkpoint_loop`` with ⌈√steps⌉-step segments: the tape
    keeps the segment inputs, and the sweep one segment's activations at a time."""
    import adnb

    def f(x, Wm):
        return np.sum(adnb.checkpoint_loop(_w5_step, x, steps, "sqrt", (Wm,)))
    vg = adnb.value_and_grad(f, argnums=(0, 1))
    peak_vg = _peak_tracemalloc(lambda: vg(x0, Wm))
    plain = adnb.value_and_grad(W.w5_function(steps), argnums=(0, 1))(x0, Wm)
    got = vg(x0, Wm)
    err = W.check_error(W.flat(got), [np.array([plain[0]]), plain[1][0].ravel(),
                                      plain[1][1].ravel()])
    with adnb.count_cost() as cost:
        vg(x0, Wm)
    loop_ops = 2 * steps            # matmul and tanh per step
    return {"per_step": _per_step(peak_vg, peak_f, steps), "peak_vg": peak_vg,
            "segments": -(-steps // int(np.ceil(np.sqrt(steps)))),
            "extra_forward": cost.recomputed_ops / loop_ops, "err": err}


def _w5_step(x, Wm):
    return np.tanh(x @ Wm)


def _autograd(steps):
    import autograd
    import autograd.numpy as anp
    x0, Wm = W.w5_inputs()

    def make(steps):
        def f(x, Wm):
            for _ in range(steps):
                x = anp.tanh(x @ Wm)
            return anp.sum(x)
        return f
    f = make(steps)
    vg = autograd.value_and_grad(f, (0, 1))
    peak_f = _peak_tracemalloc(lambda: f(x0, Wm))
    peak_vg = _peak_tracemalloc(lambda: vg(x0, Wm))
    err = _grad_error(lambda s: autograd.value_and_grad(make(s), (0, 1))(x0, Wm))
    return {"peak_f": peak_f, "peak_vg": peak_vg, "method": "tracemalloc", "err": err}


# ---- PyTorch ---------------------------------------------------------------------------------------------


class _MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                                               "usmblks", "fsmblks", "uordblks", "fordblks",
                                               "keepcost")]


def _malloc_in_use_fn():
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _MallInfo2

    def in_use():
        m = libc.mallinfo2()
        return m.uordblks + m.hblkhd
    return in_use


def _torch(steps):
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode
    torch.set_num_threads(1)
    in_use = _malloc_in_use_fn()

    class PeakMode(TorchDispatchMode):
        """Samples malloc'd bytes in use after every ATen op (forward and backward kernels)."""

        def __init__(self):
            super().__init__()
            self.base = self.peak = in_use()

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            m = in_use()
            if m > self.peak:
                self.peak = m
            return out

    x0_np, W_np = W.w5_inputs()
    x0 = torch.tensor(x0_np, dtype=torch.float64)
    Wt = torch.tensor(W_np, dtype=torch.float64)

    def f(x, Wm, steps=steps):
        for _ in range(steps):
            x = torch.tanh(x @ Wm)
        return torch.sum(x)

    def vg(steps=steps):
        x = x0.detach().requires_grad_(True)
        w = Wt.detach().requires_grad_(True)
        y = f(x, w, steps)
        return y, torch.autograd.grad(y, (x, w))

    def peak(fn, runs=2):
        best = None
        for _ in range(runs):
            gc.collect()
            with PeakMode() as p:
                res = fn()
            del res
            best = p.peak - p.base if best is None else min(best, p.peak - p.base)
        return best

    peak_f = peak(lambda: f(x0, Wt))
    peak_vg = peak(vg)
    saved = {}

    def pack(t):
        s = t.untyped_storage()
        saved[s.data_ptr()] = s.nbytes()
        return t
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        vg()
    err = _grad_error(lambda s: vg(s))
    return {"peak_f": peak_f, "peak_vg": peak_vg, "err": err,
            "method": "mallinfo2 sampled per ATen op (TorchDispatchMode)",
            "kept_saved": sum(saved.values()) / (steps * W.W5_ACT_BYTES)}
