"""``import adnb`` and ``import adnb.core`` work without IPython, ipywidgets and matplotlib.

In the spirit of autograd's test_core.py: a fresh interpreter with those modules blocked
(``sys.modules[name] = None`` makes any import of them raise ImportError) imports adnb, runs the
core (trace, both sweeps, grad, jacfwd, check_grads) and checks nothing else slipped in.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

BLOCKED = ("IPython", "ipywidgets", "matplotlib", "ipykernel", "traitlets", "networkx")

SCRIPT = textwrap.dedent("""
    import sys
    for name in {blocked!r}:
        sys.modules[name] = None           # any import of it now raises ImportError
    import {module}
    import adnb, numpy as np
    def f(x1, x2):
        return x1 * x2 + np.exp(x1 * x2) - np.sin(x2)
    t = adnb.trace(f, 1.0, 2.0)
    assert abs(t.reverse().gradient(0)[0] - 16.7781121978613) < 1e-12
    assert abs(t.forward().output_tangents(1)[0] - 8.805202935477793) < 1e-12
    assert abs(adnb.grad(f)(1.0, 2.0) - 16.7781121978613) < 1e-12
    J = adnb.jacfwd(lambda x: np.sin(x) * x)(np.array([0.1, 0.2]))
    assert J.shape == (2, 2)
    assert adnb.check_grads(lambda x: np.tanh(x) @ x, (np.array([0.3, -0.2]),), order=2)
    str(t)
    with adnb.count_cost() as c:
        adnb.grad(f)(1.0, 2.0)
    assert c.reverse_passes == 1
    leaked = [m for m in {blocked!r} if sys.modules.get(m) is not None]
    assert not leaked, leaked
    print("ok")
""")


@pytest.mark.parametrize("module", ["adnb", "adnb.core", "adnb.errors, adnb.numerical, "
                                                        "adnb.testing"])
def test_import_without_notebook_stack(module):
    code = SCRIPT.format(blocked=BLOCKED[:3], module=module)
    env = dict(os.environ)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.strip().endswith("ok")


def test_core_does_not_need_networkx_or_traitlets_either():
    """The AD core is pure numpy: blocking the display/widget dependencies too must not matter."""
    code = SCRIPT.format(blocked=BLOCKED, module="adnb.core")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr[-3000:]


def test_blocking_really_blocks():
    """Control: the blocking trick makes an import of a blocked module fail."""
    code = "import sys; sys.modules['matplotlib'] = None\nimport matplotlib"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode != 0 and "import of matplotlib halted" in res.stderr
