"""HIPS autograd's own test suite, run on adnb through a thin adapter (``autograd_adapter/``).

The adapter answers ``import autograd`` with adnb: ``autograd.numpy`` is plain numpy, ``grad``,
``jacobian``, ``make_vjp``... are the adnb calls that mean the same, and ``check_grads`` is
autograd's check (JVP against a central difference, VJP by the dot-product identity, order 2)
written over adnb. Complex inputs are skipped (adnb refuses complex values by design).

    python benchmarks/autograd_suite.py            # downloads autograd's sdist with pip
    python benchmarks/autograd_suite.py --tests DIR

Prints passed / failed / skipped per test file, and the share passing among the files that
test differentiation of numpy code (not autograd's internals, complex numbers, FFTs or scipy).
"""
from __future__ import annotations

import argparse
import glob
import os
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ADAPTER = os.path.join(HERE, "autograd_adapter")

# what each file tests, for the summary
NOT_NUMPY = {
    "test_vspaces.py": "autograd's vector spaces (not collected: autograd.core.vspace)",
    "test_core.py": "autograd's tracer internals",
    "test_tests.py": "autograd's check_grads itself",
    "test_misc.py": "autograd.misc helpers",
    "test_wrappers.py": "autograd's wrappers and deprecated API",
    "test_builtins.py": "autograd.builtins",
    "test_logic.py": "autograd.primitive / defvjp",
    "test_complex.py": "complex numbers",
    "test_direct.py": "holomorphic_grad",
    "test_fft.py": "FFTs (complex intermediates)",
    "test_scipy.py": "scipy.stats / scipy.signal / scipy.special",
}


def autograd_tests(tmp):
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                    "-q", "-d", tmp, "autograd"], check=True)
    (sdist,) = glob.glob(os.path.join(tmp, "autograd-*.tar.gz"))
    with tarfile.open(sdist) as tar:
        tar.extractall(tmp, filter="data")
    (tests,) = glob.glob(os.path.join(tmp, "autograd-*", "tests"))
    return tests


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tests", help="autograd's tests/ directory (default: download the sdist)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tests = args.tests or autograd_tests(tmp)
        report = os.path.join(tmp, "report.xml")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [ADAPTER, os.path.dirname(HERE), os.environ.get("PYTHONPATH", "")]))
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "-p", "no:randomly", "-W", "ignore", "--tb=no", f"--junitxml={report}",
                        "--continue-on-collection-errors",
                        "--rootdir", tests, "-c", os.devnull, tests],
                       env=env, cwd=tests, stdout=subprocess.DEVNULL)
        counts = {}
        for case in ET.parse(report).iter("testcase"):
            module = case.get("classname") or case.get("name") or ""    # (a file not collected)
            name = module.split(".")[-1] + ".py"
            outcome = ("failed" if case.find("failure") is not None or case.find("error") is not None
                       else "skipped" if case.find("skipped") is not None else "passed")
            counts.setdefault(name, {"passed": 0, "failed": 0, "skipped": 0})[outcome] += 1
    print(f"{'file':24s} {'passed':>7s} {'failed':>7s} {'skipped':>8s}  tests")
    totals = {True: [0, 0], False: [0, 0]}
    for name in sorted(counts):
        c = counts[name]
        what = NOT_NUMPY.get(name, "differentiating numpy code")
        print(f"{name:24s} {c['passed']:7d} {c['failed']:7d} {c['skipped']:8d}  {what}")
        totals[name not in NOT_NUMPY][0] += c["passed"]
        totals[name not in NOT_NUMPY][1] += c["failed"]
    for numpy_only, label in ((True, "numpy files"), (False, "all other files")):
        p, f = totals[numpy_only]
        print(f"{label}: {p} of {p + f} run tests pass ({100 * p / max(p + f, 1):.1f} %)")


if __name__ == "__main__":
    main()
