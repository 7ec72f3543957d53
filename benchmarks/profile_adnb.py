"""Where adnb's time goes on a benchmark case: cProfile over repeated calls.

    python benchmarks/profile_adnb.py W1.book W1.chain.rev [--seconds 2] [--top 15] [--sort tottime]

Case ids are those of ``workloads.adnb_cases`` (``W1.book``, ``W1.chain.rev``, ``W1.chain.fwd``,
``W1.chain.explore``, ``W2.mlp``, ``W3.fwd.D1.K16``, ``W4.hvp.fwd-rev``, ...); a prefix such as
``W4`` selects every matching case. The W3 cases of the full grid are available (``--full``).
Runs single-threaded (BLAS threads are set to 1 before numpy is imported).
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse        # noqa: E402
import cProfile        # noqa: E402
import io              # noqa: E402
import pstats          # noqa: E402
import sys             # noqa: E402
import time            # noqa: E402

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)

from benchmarks import workloads as W   # noqa: E402


def profile_case(thunk, seconds=2.0, top=15, sort="tottime"):
    """Warm up, then profile calls for about ``seconds``; return (calls, µs per call unprofiled,
    profile text)."""
    for _ in range(3):
        thunk()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds / 4:
        thunk()
        n += 1
    per_call = (time.perf_counter() - t0) / n
    calls = max(1, int(seconds / per_call / 3))      # profiling slows calls ~2-3×
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(calls):
        thunk()
    prof.disable()
    s = io.StringIO()
    st = pstats.Stats(prof, stream=s)
    st.sort_stats(sort).print_stats(top)
    lines = [ln for ln in s.getvalue().splitlines() if ln.strip()]
    start = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls")), 0)
    head = next((ln.strip() for ln in lines if "function calls" in ln), "")
    return calls, per_call * 1e6, head, "\n".join(lines[start:])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cases", nargs="+")
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--sort", default="tottime", choices=["tottime", "cumtime", "ncalls"])
    ap.add_argument("--full", action="store_true", help="the full W3 grid")
    args = ap.parse_args(argv)
    cases = W.adnb_cases(W.config(quick=not args.full))
    chosen = [c for c in cases if any(c == p or c.startswith(p + ".") or c.startswith(p)
                                      for p in args.cases)]
    if not chosen:
        sys.exit(f"no case matches {args.cases}; cases: {', '.join(cases)}")
    for cid in chosen:
        thunk = cases[cid][0]
        calls, us, head, text = profile_case(thunk, args.seconds, args.top, args.sort)
        print(f"=== {cid}: {us:,.1f} µs per call unprofiled; profile of {calls} calls ({head})")
        print(text)
        print()


if __name__ == "__main__":
    main()
