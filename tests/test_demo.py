"""``python -m adnb``: the book's example end to end, as a student first runs it.

Its output must read as numbers (``16.7781121978613``, not ``np.float64(16.7781121978613)``), every
check line must have the same shape (status, claim, value, relative error), and a wrong value must
print ``BAD`` and fail the exit status.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

import adnb
from adnb import demo

ROOT = Path(__file__).resolve().parent.parent
# status, claim, value, error: columns separated by two or more spaces (single spaces inside)
CHECK_LINE = re.compile(r"^(?P<status>ok |BAD)  (?P<label>\S+(?: \S+)*) +(?P<value>[-\[\d][-\[\]\d., e+]*)"
                        r"  \(relative error (?P<err>\d\.\de[+-]\d\d)\)$")


def run_demo(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "adnb"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)


def check_lines(text):
    return [line for line in text.splitlines() if line.startswith(("ok ", "BAD"))]


def test_python_m_adnb_prints_numbers_and_uniform_ok_lines(tmp_path):
    proc = run_demo(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stderr == ""
    out = proc.stdout
    assert "np.float64" not in out and "array(" not in out
    lines = check_lines(out)
    assert len(lines) == 7, lines
    values = {}
    for line in lines:
        m = CHECK_LINE.match(line)
        assert m, f"check line of another shape: {line!r}"
        assert m["status"] == "ok "
        assert float(m["err"]) <= 1e-12
        values[m["label"]] = eval(m["value"])          # plain Python numbers, nothing else
    # the book's reference values (reference §10.1), read back from what was printed
    assert values["∂f1/∂x1 = 2 + 2e²"] == 16.7781121978613
    assert np.allclose(values["J r = J_exact r"], [7.972909262383508, 12.373386278724341], rtol=1e-14)
    assert np.allclose(values["uᵀJ = uᵀ J_exact"], [78.5713865953161, 45.85170477548391], rtol=1e-14)
    assert np.allclose(values["H v = (e² − 1, 2e² + 1 − sin 2)"], [6.3890560989306502, 14.868814771035619],
                       rtol=1e-14)
    # all check lines align: the value column starts at the same place
    starts = {CHECK_LINE.match(line).start("value") for line in lines}
    assert len(starts) == 1, starts
    assert (tmp_path / "adnb-demo.html").exists()
    assert "Jacobian, forward mode (2 passes):  [[16.7781121978613, 8.805202935477793]" in out


def test_a_wrong_value_prints_bad_and_fails(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    right = adnb.hvp
    monkeypatch.setattr(adnb, "hvp", lambda *a, **k: right(*a, **k) * (1 + 1e-9))
    assert demo.main([]) == 1
    lines = check_lines(capsys.readouterr().out)
    assert [line[:3] for line in lines] == ["ok "] * 6 + ["BAD"], lines
    assert CHECK_LINE.match(lines[-1])


def test_numbers_are_plain():
    assert demo.numbers(np.float64(0.1)) == "0.1"
    assert demo.numbers(np.array([[1.0, -0.5]])) == "[[1.0, -0.5]]"
