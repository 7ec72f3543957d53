"""Memory against recomputation for a checkpointed loop (``adnb.checkpoint_loop``).

``grad`` of a loop of n steps keeps one activation per step; with checkpoints every k steps it
keeps n/k segment inputs and, during the sweep, one segment: about n/k + k, least at k = √n,
and every step runs twice (one extra forward pass). This measures both for a list of k:

* ``checkpoint_costs(step, x, n, ks, args)`` — one ``CheckpointPoint`` per k: peak memory of
  ``grad`` (tracemalloc, which sees numpy's buffers), the bytes of the largest recorded tape
  (``count_cost().tape_bytes``), and the operations recomputed (``count_cost().recomputed_ops``);
* ``plot_checkpoint_costs(points)`` — memory and recomputation against k.
"""
from __future__ import annotations

import gc
import math
import tracemalloc
from dataclasses import dataclass

import numpy as np

__all__ = ["CheckpointPoint", "checkpoint_costs", "peak_bytes", "plot_checkpoint_costs"]


@dataclass
class CheckpointPoint:
    """One segment length k (None: no checkpoints) of an n-step loop.

    Attributes:
        peak_bytes: peak memory allocated while ``grad`` ran.
        tape_bytes: bytes kept by the largest recorded trace (``Cost.tape_bytes``).
        recomputed_ops: primal operations run again in the reverse sweep.
        loop_ops: primal operations of the loop itself (without checkpoints).
    """
    k: int | None
    n: int
    peak_bytes: int
    tape_bytes: int
    recomputed_ops: int
    loop_ops: int

    @property
    def extra_passes(self):
        """Recomputation in forward passes of the loop (1.0: every step ran twice)."""
        return self.recomputed_ops / max(self.loop_ops, 1)

    @property
    def model(self):
        """Activations the schedule keeps: n/k segment inputs + k inside one segment (n if none)."""
        return self.n if self.k is None else math.ceil(self.n / self.k) + self.k


def peak_bytes(fn):
    """Peak memory allocated while fn() runs, above what was allocated before."""
    gc.collect()
    running = tracemalloc.is_tracing()
    if not running:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        if not running:
            tracemalloc.stop()


def checkpoint_costs(step, x, n, ks=(None, "sqrt"), args=()):
    """Measure ``grad`` of ``sum(checkpoint_loop(step, x, n, k, args))`` for each k in ks."""
    import adnb

    def loss_for(k):
        return lambda x: np.sum(adnb.checkpoint_loop(step, x, n, k, args))

    with adnb.count_cost() as plain:                   # (counted while traced)
        adnb.grad(loss_for(None))(x)
    loop_ops = plain.ops["primal"] - 1                  # (the final sum)
    points = []
    for k in ks:
        g = adnb.grad(loss_for(k))
        peak = peak_bytes(lambda: g(x))
        with adnb.count_cost() as cost:
            g(x)
        kk = max(1, math.ceil(math.sqrt(n))) if k == "sqrt" else k
        points.append(CheckpointPoint(kk, n, peak, cost.tape_bytes, cost.recomputed_ops,
                                      loop_ops))
    return points


def plot_checkpoint_costs(points, unit=1, ax=None):
    """Peak memory (in ``unit`` bytes, e.g. one activation) and recomputation against k."""
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots()
    pts = [p for p in points if p.k is not None]
    ks = [p.k for p in pts]
    ax.plot(ks, [p.peak_bytes / unit for p in pts], "o-", label="peak memory of grad")
    ax.set_xscale("log")
    ax.set_xlabel("segment length k (steps per checkpoint)")
    ax.set_ylabel("peak memory" + (" (activations)" if unit != 1 else " (bytes)"))
    n = pts[0].n if pts else 0
    if n:
        ax.axvline(math.sqrt(n), color="grey", lw=0.8, label="k = √n")
    twin = ax.twinx()
    twin.plot(ks, [p.extra_passes for p in pts], "s--", color="C3", label="extra forward passes")
    twin.set_ylabel("extra forward passes", color="C3")
    twin.set_ylim(0, 2)
    lines = ax.get_legend_handles_labels()
    lines2 = twin.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], fontsize=8, loc="upper center")
    return ax
