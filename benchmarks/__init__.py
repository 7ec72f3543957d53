"""adnb's benchmark harness (issue 3): ``python benchmarks/run.py [--quick] [--only W1,W2] [--json out.json]``.

* ``workloads.py`` — the fixed workloads W1–W5 as plain numpy code (what a learner gives adnb), their
  inputs, and hand-written derivatives (the references for the ratios and for the correctness tests).
* ``systems.py`` — each system's idiomatic version of every workload (adnb, HIPS autograd, PyTorch,
  JAX eager / jit, micrograd, hand-written numpy), as timing cases.
* ``memory.py`` — W5's peak-memory measurement (tracemalloc; PyTorch via its dispatcher + malloc).
* ``worker.py`` — the per-system subprocess (pinned to one core) that runs cases on request.
* ``run.py`` — the command: starts the workers, warms up, interleaves repeats, prints the table.
"""
