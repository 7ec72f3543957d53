"""The graded assignment in notebooks/assignments/ goes through nbgrader as a lecturer would run it:
``generate_assignment`` (solutions stripped, ``NotImplementedError`` stubs), then ``autograde`` of a
reference solution (full marks) and of one with the overwrite-instead-of-accumulate bug (loses the
marks of exactly the cells where a variable fans out) and of the untouched release (no marks)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

nbgrader = pytest.importorskip("nbgrader")
nbformat = pytest.importorskip("nbformat")

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "notebooks" / "assignments"
NAME = "reverse_mode"
FULL = 12.0
FAN_OUT_CELLS = {"test_fanout_v3": 2.0, "test_fanout_v2_gradient": 2.0, "test_mlp_batch": 3.0}

# the one-character bug, in both parts: = instead of += where contributions are summed
OVERWRITE = [("adjoints[p] += adjoints[j] * d", "adjoints[p] = adjoints[j] * d"),
             ("gW2 += ", "gW2 = "), ("gb2 += ", "gb2 = "), ("gW1 += ", "gW1 = "),
             ("gb1 += ", "gb1 = ")]


def _nbgrader(course, *args):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in [env.get("PYTHONPATH")] if p])
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args, "--force"], cwd=course,
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def _submit(course, student, nb):
    folder = course / "submitted" / student / NAME
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / f"{NAME}.ipynb")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    shutil.copy(COURSE / "nbgrader_config.py", course)
    shutil.copytree(COURSE / "source", course / "source",
                    ignore=shutil.ignore_patterns("*.py", ".ipynb_checkpoints"))
    _nbgrader(course, "generate_assignment", NAME)
    source = nbformat.read(COURSE / "source" / NAME / f"{NAME}.ipynb", as_version=4)
    release = nbformat.read(course / "release" / NAME / f"{NAME}.ipynb", as_version=4)
    buggy = nbformat.read(COURSE / "source" / NAME / f"{NAME}.ipynb", as_version=4)
    for cell in buggy.cells:
        for old, new in OVERWRITE:
            cell.source = cell.source.replace(old, new)
    assert buggy != source
    _submit(course, "reference", source)
    _submit(course, "overwrite", buggy)
    _submit(course, "untouched", release)
    _nbgrader(course, "autograde", NAME)
    from nbgrader.api import Gradebook
    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student in ("reference", "overwrite", "untouched"):
            nb = gb.find_submission_notebook(NAME, NAME, student)
            scores[student] = (gb.find_submission(NAME, student).score,
                               {g.name: g.score for g in nb.grades})
    return release, scores


def test_release_has_stubs_not_solutions(graded):
    release, _ = graded
    code = "\n".join(c.source for c in release.cells if c.cell_type == "code")
    assert code.count("raise NotImplementedError()") == 2
    assert "BEGIN SOLUTION" not in code and "adjoints[p] +=" not in code and "gW1 +=" not in code


def test_reference_solution_gets_full_marks(graded):
    total, cells = graded[1]["reference"]
    assert total == FULL, cells


def test_overwrite_bug_loses_exactly_the_fan_out_marks(graded):
    total, cells = graded[1]["overwrite"]
    assert total == FULL - sum(FAN_OUT_CELLS.values()), cells
    assert {name for name, score in cells.items() if score == 0} == set(FAN_OUT_CELLS)


def test_untouched_release_gets_nothing(graded):
    total, _ = graded[1]["untouched"]
    assert total == 0.0


def test_assignment_source_and_script_are_paired():
    jupytext = pytest.importorskip("jupytext")
    py = jupytext.read(COURSE / "source" / NAME / f"{NAME}.py")
    nb = nbformat.read(COURSE / "source" / NAME / f"{NAME}.ipynb", as_version=4)
    assert [c.source for c in py.cells] == [c.source for c in nb.cells]
    assert [c.metadata.get("nbgrader") for c in py.cells] == \
        [c.metadata.get("nbgrader") for c in nb.cells]
