"""Instructions per call of adnb's benchmark cases, counted by valgrind (callgrind): a deterministic
measure for A/B-testing changes to the hot path on a machine whose speed drifts (a shared VM moves
wall-clock timings by ±30 % between runs; the instruction count of a case repeats to ~0.1 %).

    python benchmarks/instructions.py W1.chain.rev W1.chain.fwd W1.book [--calls 20]
    python benchmarks/instructions.py W4.hvp.rev-fwd --repo /path/to/other/checkout   # A/B
    python benchmarks/instructions.py W1.book --reference      # adnb's reference path (no fast paths)

Each case runs under callgrind twice — ``--calls`` calls, and none (imports and setup) — and the
difference per call is reported (per operation for the 1,000-operation chain). Needs valgrind
(``apt-get install valgrind``). Instructions are not time (cache misses, numpy's and BLAS's own
work weigh differently), so confirm a gain with ``run.py``; but a smaller count of the Python
machinery is a smaller time. Runs single-threaded, with a fixed hash seed and no address-space
randomisation (``setarch -R``), which is what makes the count repeatable.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
_REPO = os.path.dirname(_HERE)

_CHILD = r"""
import gc, sys
sys.path.insert(0, {repo!r}); sys.path.insert(1, {bench!r})
gc.disable()                      # collections depend on the heap's history: not repeatable
import workloads as W
thunk = W.adnb_cases(W.config(quick=True))[{case!r}][0]
thunk()                           # first call: caches, lazy imports
for _ in range({calls}):
    thunk()
"""


def count(case, calls, repo, reference=False):
    """Instructions executed by the child process running ``calls`` calls of ``case``."""
    code = _CHILD.format(repo=repo, bench=_HERE, case=case, calls=calls)
    env = dict(os.environ, PYTHONHASHSEED="0", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               MKL_NUM_THREADS="1", ADNB_REFERENCE="1" if reference else "0")
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
           sys.executable, "-c", code]
    if shutil.which("setarch"):
        cmd = ["setarch", "-R"] + cmd
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    m = re.search(r"refs:\s+([\d,]+)", out.stderr)
    if out.returncode != 0 or not m:
        sys.exit(f"valgrind failed on {case}:\n{out.stderr[-2000:]}")
    return int(m.group(1).replace(",", ""))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cases", nargs="+", help="case ids of workloads.adnb_cases, e.g. W1.book")
    ap.add_argument("--calls", type=int, default=20)
    ap.add_argument("--repo", default=_REPO, help="the adnb checkout to measure (default: this one)")
    ap.add_argument("--reference", action="store_true",
                    help="measure adnb's reference path (ADNB_REFERENCE=1: no fast paths)")
    args = ap.parse_args(argv)
    if not shutil.which("valgrind"):
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    path = "reference path" if args.reference else "fast paths"
    print(f"adnb at {args.repo} ({path}): instructions per call ({args.calls} calls − 0 calls, "
          "callgrind)")
    for case in args.cases:
        per_call = (count(case, args.calls, args.repo, args.reference)
                    - count(case, 0, args.repo, args.reference)) / args.calls
        extra = f"  ({per_call / 1000:,.0f} per operation)" if case.startswith("W1.chain") else ""
        print(f"{case:20s} {per_call:14,.0f}{extra}")


if __name__ == "__main__":
    main()
