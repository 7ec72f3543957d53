"""One benchmark worker: a subprocess for one system, pinned to one core, driven by run.py.

    python benchmarks/worker.py SYSTEM CPU

Protocol: one JSON object per line on stdin (commands), one per line on the original stdout
(replies). Anything the libraries print goes to stderr. Commands:

* ``{"cmd": "setup", "cfg": {...}, "workloads": ["W1", ...]}`` — build the system's cases, call
  each once and check its result against the hand-written reference (``err``: largest relative
  error per part; JAX's jit compiles here). Setup runs unpinned, so workers set up in parallel.
* ``{"cmd": "pin"}`` — pin this process to core CPU (``os.sched_setaffinity``) for the timings.
* ``{"cmd": "warmup", "case": id, "warm": s, "repeat": s}`` — run the case for ``warm`` seconds and
  choose the number of calls per timed repeat (``n``) so that one repeat lasts about ``repeat`` s.
* ``{"cmd": "time", "case": id}`` — one timed repeat: ``n`` calls; replies seconds per call.
* ``{"cmd": "memory", "cfg": {...}}`` — W5 (see memory.py); unpins first (not a timing).
* ``{"cmd": "quit"}``.
"""
from __future__ import annotations

import gc
import json
import os
import sys
import time
import traceback

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)


def main():
    system, cpu = sys.argv[1], int(sys.argv[2])
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)                      # stray prints from libraries go to stderr
    sys.stdout = sys.stderr

    from benchmarks import memory, systems
    from benchmarks import workloads as W

    cases, n_calls = {}, {}
    all_cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None

    def reply(**kw):
        proto.write(json.dumps(kw) + "\n")

    for line in sys.stdin:
        msg = json.loads(line)
        cmd = msg["cmd"]
        try:
            if cmd == "setup":
                cfg = msg["cfg"]
                t0 = time.perf_counter()
                built = systems.build(system, cfg)
                refs = W.references(cfg)
                info = {}
                for cid, (thunk, conv) in built.items():
                    if cid.split(".")[0] not in msg["workloads"]:
                        continue
                    try:
                        t1 = time.perf_counter()
                        res = thunk()
                        first = time.perf_counter() - t1
                        err = W.check_error(conv(res), refs[W.ref_key(cid)])
                        cases[cid] = thunk
                        info[cid] = {"err": err, "first": first}
                    except Exception as e:
                        info[cid] = {"error": f"{type(e).__name__}: {e}"}
                reply(ok=True, cases=info, version=systems.version(system),
                      setup_s=time.perf_counter() - t0)
            elif cmd == "pin":
                # after setup (imports, first calls, jit compiles run unpinned, in parallel)
                if cpu >= 0 and hasattr(os, "sched_setaffinity"):
                    os.sched_setaffinity(0, {cpu})
                reply(ok=True, cpu=sorted(os.sched_getaffinity(0)))
            elif cmd == "warmup":
                thunk = cases[msg["case"]]
                calls, t0 = 0, time.perf_counter()
                while True:
                    thunk()
                    calls += 1
                    el = time.perf_counter() - t0
                    if el >= msg["warm"]:
                        break
                est = el / calls
                n = max(1, int(round(msg["repeat"] / est))) if est > 0 else 1000
                n_calls[msg["case"]] = n
                reply(ok=True, n=n, est=est)
            elif cmd == "time":
                thunk, n = cases[msg["case"]], n_calls[msg["case"]]
                gc.collect()
                t0 = time.perf_counter()
                for _ in range(n):
                    thunk()
                reply(ok=True, t=(time.perf_counter() - t0) / n, n=n)
            elif cmd == "memory":
                # not a timing: use every core, so the workers can measure in parallel
                if hasattr(os, "sched_setaffinity"):
                    os.sched_setaffinity(0, all_cpus)
                cases.clear()
                gc.collect()
                reply(ok=True, memory=memory.measure(system, msg["cfg"]))
            elif cmd == "quit":
                reply(ok=True)
                break
            else:
                reply(ok=False, error=f"unknown command {cmd!r}")
        except Exception as e:
            traceback.print_exc()
            reply(ok=False, error=f"{type(e).__name__}: {e}")


if __name__ == "__main__":
    main()
