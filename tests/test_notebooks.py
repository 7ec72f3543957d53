"""The course notebooks: run each one in a fresh kernel and check what a student would see.

    python -m pytest tests/test_notebooks.py          # the checks (one kernel per notebook)
    python tests/test_notebooks.py [NAME ...]         # maintainers: re-pair, execute, store outputs

For every ``notebooks/NN_*.ipynb`` (and ``solutions.ipynb`` if present):

* it runs top to bottom in a fresh kernel (nbclient, this interpreter) in under 60 s, with no
  error output and **no stderr stream at all** -- a mistyped ``%%autodiff`` option only prints a
  ``UsageError`` to stderr and the cell still "succeeds", so ``--nbval-lax`` alone would pass it;
  warnings (also stderr) fail too: a notebook that means to show one captures it;
* cells tagged ``nbval-check-output`` (or holding a ``# NBVAL_CHECK_OUTPUT`` comment) print the
  same text as their stored outputs, after the regexes of ``tests/nbval_sanitize.cfg`` -- what
  strict nbval compares (images and widget ids excepted);
* the paired percent script ``NN_*.py`` holds the same cells (jupytext), so reviews of the ``.py``
  diff are reviews of the notebook;
* no stored output names this machine (absolute paths, kernel temp files, host name, memory
  addresses);
* the stored outputs exist (nbval and static viewers need them);
* every **number** a notebook prints (stdout, ``text/plain``, ``text/latex``) is what a fresh run
  prints, in every cell, not only the checked ones -- so stored outputs cannot silently drift
  from the code (nbval-lax compares nothing). See ``numbers_differ`` for the tolerance: one unit
  in the last printed digit, rounding-level values (|x| <= 1e-12) equal, and numbers written
  ``~12.3`` skipped: that is how the notebooks and ``adnb.course`` mark what a clock or an
  allocator measured (prompt numbers and package versions are skipped too);
* no code cell is longer than 30 lines: measurement plumbing belongs in ``adnb.course``, so each
  cell shows one idea and its result.

This module is the one place that executes the notebooks in the main suite; ``pyproject.toml``
therefore does not also collect ``notebooks/`` with nbval (``python -m pytest notebooks/`` still
runs them the nbval-lax way on demand).
"""
from __future__ import annotations

import configparser
import functools
import json
import os
import re
import socket
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NB_DIR = ROOT / "notebooks"
SANITIZE_CFG = ROOT / "tests" / "nbval_sanitize.cfg"
TIME_LIMIT = 60.0          # seconds per notebook, kernel start included
TEXT_MIMES = ("text/plain", "text/html", "text/latex", "text/markdown")
MAX_CELL_LINES = 30


def notebook_paths():
    return sorted(p for p in NB_DIR.glob("*.ipynb") if not p.name.startswith("_"))


# ---- executing ---------------------------------------------------------------------------------

def execute(nb, cwd=NB_DIR, timeout=300):
    """Run a notebook node in a fresh kernel of this interpreter; return (nb, seconds).

    ``kernel_name="python3"``: jupyter_client swaps a kernelspec's ``python`` for
    ``sys.executable``, so the kernel is this environment's, as with ``--nbval-current-env``.
    Errors do not stop the run (``allow_errors``): ``problems()`` reports them all.
    """
    from nbclient import NotebookClient
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            record_timing=False, resources={"metadata": {"path": str(cwd)}})
    t0 = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - t0


def problems(nb):
    """Error outputs and stderr streams of an executed notebook, as readable strings."""
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        head = cell.source.strip().splitlines()[0][:70] if cell.source.strip() else ""
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                found.append(f"cell {i} ({head!r}): {out.ename}: {out.evalue}")
            elif out.output_type == "stream" and out.name == "stderr":
                found.append(f"cell {i} ({head!r}) wrote to stderr: {out.text.strip()[:400]}")
    return found


# ---- output hygiene ------------------------------------------------------------------------------

def _machine_patterns():
    pats = [
        r"(?<![\w.~])/(?:work|tmp|root|home|usr|opt|var|private|Users)/",   # absolute paths
        r"[A-Za-z]:\\\\",                                                    # Windows paths
        r"ipykernel_\d+",                                                    # kernel temp files
        r"site-packages",
        r"\.pyenv",
        r"\b0x[0-9a-fA-F]{6,}\b",                                            # memory addresses
    ]
    host = socket.gethostname()
    if len(host) >= 6:
        pats.append(re.escape(host))
    return [re.compile(p) for p in pats]


MACHINE = _machine_patterns()
INLINE_IMAGE = re.compile(r"data:image/[\w+.-]+;base64,[A-Za-z0-9+/=\s]+")   # random base64 is no path


def _output_texts(nb):
    """(cell index, text) for every textual piece of every output (images are skipped)."""
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                yield i, out.text
            elif out.output_type == "error":
                yield i, out.evalue + "\n" + "\n".join(out.traceback)
            else:
                for mime, val in out.get("data", {}).items():
                    if mime.startswith("image/"):
                        continue
                    text = val if isinstance(val, str) else json.dumps(val)
                    yield i, INLINE_IMAGE.sub("data:image;base64,…", text)


def machine_strings(nb):
    hits = []
    for i, text in _output_texts(nb):
        for pat in MACHINE:
            m = pat.search(text)
            if m:
                lo = max(m.start() - 40, 0)
                hits.append(f"cell {i}: {pat.pattern!r} in …{text[lo:m.end() + 40]!r}")
    meta = json.dumps(nb.metadata)
    for pat in MACHINE:
        if pat.search(meta):
            hits.append(f"notebook metadata: {pat.pattern!r}")
    return hits


@functools.lru_cache(maxsize=None)
def sanitizers():
    """The regex/replace pairs of tests/nbval_sanitize.cfg (the file nbval reads too)."""
    cfg = configparser.ConfigParser()
    cfg.read(SANITIZE_CFG)
    return [(re.compile(cfg[s]["regex"]), cfg[s]["replace"]) for s in cfg.sections()]


def sanitize(text):
    for rx, rep in sanitizers():
        text = rx.sub(rep, text)
    return text


# ---- strict comparison of the cells marked for it -----------------------------------------------

def is_checked(cell):
    tags = cell.get("metadata", {}).get("tags", [])
    return cell.cell_type == "code" and (
        "nbval-check-output" in tags
        or any(line.strip() == "# NBVAL_CHECK_OUTPUT" for line in cell.source.splitlines()))


def comparable(outputs):
    """What strict nbval compares: stream text (coalesced per stream) and textual mime data."""
    res = []
    for out in outputs:
        if out.output_type == "stream":
            if res and res[-1][0] == "stream:" + out.name:
                res[-1] = (res[-1][0], res[-1][1] + out.text)
            else:
                res.append(("stream:" + out.name, out.text))
        elif out.output_type in ("execute_result", "display_data"):
            for mime in TEXT_MIMES:
                if mime in out.get("data", {}):
                    res.append((mime, out.data[mime]))
        elif out.output_type == "error":
            res.append(("error", out.ename))
    return [(k, sanitize(v)) for k, v in res]


# ---- every printed number against a fresh run ---------------------------------------------------

NUMBERED_MIMES = ("text/plain", "text/latex")
VOLATILE_NUMBER = re.compile(r"~\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
PROMPT_NUMBER = re.compile(r"\bIn ?\[\d+\]")        # the explorer names its cell: In[4]
# installed versions (00_index prints them): the environment's, not a result of the notebook
PACKAGE_VERSION = re.compile(r"(?i)\b(adnb|numpy|matplotlib|networkx|sympy|ipywidgets|ipython|python) "
                             r"v?\d+(?:\.\d+)+[\w.+-]*")
# a number not glued to a name on its left (v3, x1 and L2 are names, not numbers)
NUMBER = re.compile(r"(?<![A-Za-z_\d.])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
ROUNDING_LEVEL = 1e-12
NEGATIVE_ZERO = re.compile(r"(?<![\w.])[-−]0(?:\.0*)?(?:[eE][-+]?\d+)?(?![\d.])")


def printed_numbers(outputs):
    """The numbers of a cell's textual outputs, in order, as their printed strings.

    Streams (stdout) and the ``text/plain``/``text/latex`` of results; HTML and images are left
    out (the HTML fallbacks repeat the text/plain numbers, with layout numbers around them).
    Sanitised first as in strict nbval; ``~``-marked (measured) numbers, prompt numbers ``In[4]``
    and installed package versions (``numpy 2.4.0``) are dropped.
    """
    texts = []
    for out in outputs:
        if out.output_type == "stream" and out.name == "stdout":
            texts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            texts += [out.data[m] for m in NUMBERED_MIMES if m in out.get("data", {})]
    text = PACKAGE_VERSION.sub(r"\1 <version>", PROMPT_NUMBER.sub("In[N]", sanitize("".join(texts))))
    return NUMBER.findall(VOLATILE_NUMBER.sub("~", text))


def _last_digit(token):
    """The value of one unit in the last printed digit of ``token`` (0 for an integer)."""
    mantissa, _, exponent = token.lower().partition("e")
    if "." not in mantissa and not exponent:
        return 0.0
    decimals = len(mantissa.partition(".")[2])
    return 10.0 ** (int(exponent or 0) - decimals)


def numbers_differ(stored, fresh):
    """Is the printed number ``fresh`` a different value than ``stored``?

    Equal when they differ by at most one unit in the last printed digit (a rounding flip, e.g.
    a last bit of ``exp`` on another CPU), or when both are at rounding level (|x| <= 1e-12:
    the error of an exact method is noise). Integers must match exactly.
    """
    a, b = float(stored), float(fresh)
    if abs(a) <= ROUNDING_LEVEL and abs(b) <= ROUNDING_LEVEL:
        return False
    unit = max(_last_digit(stored), _last_digit(fresh))
    return abs(a - b) > unit * (1 + 1e-9)


def drifted_numbers(stored_nb, fresh_nb):
    """Cells whose printed numbers differ between two runs of one notebook, as messages."""
    found = []
    for i, (s, f) in enumerate(zip(stored_nb.cells, fresh_nb.cells)):
        if s.cell_type != "code":
            continue
        a, b = printed_numbers(s.get("outputs", [])), printed_numbers(f.get("outputs", []))
        head = s.source.strip().splitlines()[0][:60] if s.source.strip() else ""
        if len(a) != len(b):
            found.append(f"cell {i} ({head!r}) prints {len(b)} numbers, its stored output {len(a)}")
            continue
        bad = [(x, y) for x, y in zip(a, b) if numbers_differ(x, y)]
        if bad:
            found.append(f"cell {i} ({head!r}): stored -> fresh " + ", ".join(f"{x} -> {y}" for x, y in bad[:6]))
    return found


def long_cells(nb, limit=MAX_CELL_LINES):
    return [(i, len(c.source.splitlines()), c.source.strip().splitlines()[0][:60])
            for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and len(c.source.splitlines()) > limit]


# ---- jupytext pairing ------------------------------------------------------------------------------

def _cell_key(cell):
    meta = cell.get("metadata", {})
    keep = {k: meta[k] for k in ("tags", "jupyter") if k in meta}
    return cell.cell_type, cell.source.strip(), json.dumps(keep, sort_keys=True)


def pairing_differences(ipynb):
    """Cells of NN.ipynb and of its percent script NN.py that differ (empty: in sync)."""
    import jupytext
    py = ipynb.with_suffix(".py")
    if not py.exists():
        return [f"{py.name} is missing"]
    a = [_cell_key(c) for c in jupytext.read(ipynb).cells]
    b = [_cell_key(c) for c in jupytext.read(py).cells]
    if len(a) != len(b):
        return [f"{ipynb.name} has {len(a)} cells, {py.name} has {len(b)}"]
    return [f"cell {i} differs: {x[1][:60]!r} vs {y[1][:60]!r}" for i, (x, y) in enumerate(zip(a, b))
            if x != y]


# ---- the tests --------------------------------------------------------------------------------------

try:
    import pytest
except ImportError:             # the maintainer CLI below does not need pytest
    pytest = None

if pytest is not None:
    import nbformat

    NOTEBOOKS = notebook_paths()
    IDS = [p.stem for p in NOTEBOOKS]

    @functools.lru_cache(maxsize=None)
    def executed(path):
        nb = nbformat.read(path, as_version=4)
        return execute(nb)

    def test_there_are_notebooks():
        names = {p.stem.split("_")[0] for p in NOTEBOOKS}
        assert {f"{i:02d}" for i in range(9)} <= names, sorted(names)

    @pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
    def test_runs_clean_in_a_fresh_kernel(path):
        nb, seconds = executed(path)
        found = problems(nb)
        assert not found, "\n".join(found)
        assert seconds < TIME_LIMIT, f"{path.name} took {seconds:.1f} s (limit {TIME_LIMIT:.0f} s)"

    @pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
    def test_checked_outputs_match_the_stored_ones(path):
        stored = nbformat.read(path, as_version=4)
        fresh, _ = executed(path)
        assert len(stored.cells) == len(fresh.cells)
        for i, (s, f) in enumerate(zip(stored.cells, fresh.cells)):
            if is_checked(s):
                assert comparable(f.outputs) == comparable(s.outputs), (
                    f"cell {i} of {path.name} ({s.source[:60]!r}) prints something else than its stored "
                    f"output; if the change is intended, re-store with `python tests/test_notebooks.py "
                    f"{path.stem}`")

    @pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
    def test_printed_numbers_match_a_fresh_run(path):
        stored = nbformat.read(path, as_version=4)
        fresh, _ = executed(path)
        assert len(stored.cells) == len(fresh.cells)
        found = drifted_numbers(stored, fresh)
        assert not found, (
            f"{path.name}: stored outputs no longer match what the code prints (mark a number "
            f"measured by a clock with '~'; otherwise re-store with `python tests/test_notebooks.py "
            f"{path.stem}`):\n" + "\n".join(found))

    @pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
    def test_no_code_cell_is_longer_than_30_lines(path):
        found = long_cells(nbformat.read(path, as_version=4))
        assert not found, (f"{path.name}: code cells over {MAX_CELL_LINES} lines (move measurement "
                           f"plumbing into adnb.course): {found}")

    @pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
    def test_no_negative_zero_is_printed(path):
        """-0.0 is a rounding artefact a learner should not have to puzzle over (figures: see
        adnb.course.number, which the course's figure labels go through)."""
        hits = [f"cell {i}: …{t[max(m.start() - 40, 0):m.end() + 10]!r}"
                for i, t in _output_texts(nbformat.read(path, as_version=4)) for m in NEGATIVE_ZERO.finditer(t)]
        assert not hits, "\n".join(hits)

    def test_the_drift_check_sees_a_changed_number_and_nothing_else():
        """The comparison fails on a changed value, a value gone missing, a changed integer; it
        passes a last-digit rounding flip, rounding-level noise and a ~-marked measurement."""
        v4 = nbformat.v4

        def nb_printing(*texts):
            return v4.new_notebook(cells=[v4.new_code_cell("", outputs=[
                v4.new_output("stream", name="stdout", text=t)]) for t in texts])

        stored = nb_printing("Hv (fwd-rev) 2.61  time ~12.3 ms", "error 1.1e-16, v3 = 2.5",
                             "y = 2.1175839730963104", "passes: 4", "In[5]: 16.7781",
                             "adnb 0.1.0; numpy 2.4.0, networkx 3.5")
        same = nb_printing("Hv (fwd-rev) 2.61  time ~48.0 ms", "error 2.2e-16, v3 = 2.5",
                           "y = 2.1175839730963105", "passes: 4", "In[4]: 16.7781",
                           "adnb 0.2.0; numpy 2.5.1rc1, networkx 3.6")
        assert drifted_numbers(stored, same) == []
        for cell, text in [(0, "Hv (fwd-rev) 2.63  time ~12.3 ms"), (1, "error 1.1e-06, v3 = 2.5"),
                           (2, "y = 2.1175839730963124"), (3, "passes: 5"), (4, "In[5]: 16.7791"),
                           (1, "error 1.1e-16")]:
            changed = nb_printing("Hv (fwd-rev) 2.61  time ~12.3 ms", "error 1.1e-16, v3 = 2.5",
                                  "y = 2.1175839730963104", "passes: 4", "In[5]: 16.7781",
                                  "adnb 0.1.0; numpy 2.4.0, networkx 3.5")
            changed.cells[cell].outputs[0].text = text
            found = drifted_numbers(stored, changed)
            assert len(found) == 1 and found[0].startswith(f"cell {cell} "), (text, found)

    def test_the_length_check_counts_lines():
        v4 = nbformat.v4
        nb = v4.new_notebook(cells=[v4.new_code_cell("x = 1\n" * 30), v4.new_code_cell("x = 1\n" * 31),
                                    v4.new_markdown_cell("text\n" * 40)])
        assert [i for i, _, _ in long_cells(nb)] == [1]

    @pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
    def test_paired_script_is_in_sync(path):
        diffs = pairing_differences(path)
        assert not diffs, f"{path.name} and its .py differ (run `jupytext --sync`):\n" + "\n".join(diffs)

    @pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
    def test_stored_outputs_exist_and_name_no_machine(path):
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code and all(c.execution_count is not None for c in code), \
            f"{path.name} is stored unexecuted: run `python tests/test_notebooks.py {path.stem}`"
        assert not problems(nb), "\n".join(problems(nb))
        hits = machine_strings(nb)
        assert not hits, "\n".join(hits)

    @pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
    def test_fresh_outputs_name_no_machine(path):
        nb, _ = executed(path)
        hits = machine_strings(nb)
        assert not hits, "\n".join(hits)

    def test_the_checks_catch_what_nbval_lax_misses():
        """A mistyped %%autodiff option only prints a UsageError to stderr; problems() sees it.
        So does a warning, and machine_strings() sees a kernel temp-file path."""
        v4 = nbformat.v4
        nb = v4.new_notebook(cells=[
            v4.new_code_cell("import numpy as np\n%load_ext adnb"),
            v4.new_code_cell("%%autodiff --mode sideways x1=1.0\ny = np.sin(x1)"),
            v4.new_code_cell("%%autodiff --bogus x1=1.0\ny = np.sin(x1)"),
            v4.new_code_cell("%%autodiff x1=1.0\ny = np.sin(x1)"),
            v4.new_code_cell("import warnings; warnings.warn('careful')"),
            v4.new_code_cell("print('/tmp/ipykernel_1234/5678.py, line 2')"),
        ])
        nb, _ = execute(nb)
        found = problems(nb)
        assert len(found) == 3, found
        assert "UsageError" in found[0] and "sideways" in found[0]
        assert "UsageError" in found[1] and "--bogus" in found[1]
        assert "careful" in found[2]
        hits = machine_strings(nb)
        assert {h.split(":")[0] for h in hits} == {"cell 4", "cell 5"}, hits   # the warning names its file

    def test_index_links_every_notebook():
        index = nbformat.read(NB_DIR / "00_index.ipynb", as_version=4)
        text = "\n".join(c.source for c in index.cells if c.cell_type == "markdown")
        for p in NOTEBOOKS:
            if p.stem != "00_index":
                assert f"({p.name})" in text, f"00_index does not link {p.name}"

    def test_exercise_solutions_are_collapsed():
        """Exercises 8.13-8.18: a "Solution" heading and collapsed (source-hidden) cells."""
        seen = set()
        for p in NOTEBOOKS:
            cells = nbformat.read(p, as_version=4).cells
            for i, c in enumerate(cells):
                m = re.match(r"#+ .*Solution.*Exercise (8\.1[3-8])", c.source) if c.cell_type == "markdown" else None
                if m:
                    nxt = cells[i + 1]
                    assert nxt.metadata.get("jupyter", {}).get("source_hidden"), \
                        f"{p.name}: the cell after the heading of {m.group(1)} is not collapsed"
                    seen.add(m.group(1))
        assert seen == {f"8.{n}" for n in range(13, 19)}, sorted(seen)


# ---- maintainer CLI: pair, execute, store ------------------------------------------------------------

def build(name):
    """notebooks/NAME.py -> NAME.ipynb with fresh outputs (the .py is the source of truth)."""
    import jupytext
    import nbformat
    py = NB_DIR / f"{name}.py"
    nb = jupytext.read(py)
    nb.metadata["jupytext"] = {"formats": "ipynb,py:percent"}     # as `jupytext --sync` writes it
    nb, seconds = execute(nb)
    for cell in nb.cells:                       # nothing machine-specific survives in outputs
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                out.text = _scrub(out.text)
            for mime, val in out.get("data", {}).items():
                if mime.startswith("text/") and isinstance(val, str):
                    out.data[mime] = _scrub(val)
    if not _has_widgets(nb):
        nb.metadata.pop("widgets", None)
    ipynb = py.with_suffix(".ipynb")
    nbformat.write(nb, ipynb)
    jupytext.write(jupytext.read(ipynb), py, fmt="py:percent")   # same header/cells both sides
    os.utime(ipynb)                                             # the notebook is the newer file
    found = problems(nb) + machine_strings(nb)
    print(f"{name}: {seconds:.1f} s" + ("".join("\n  " + f for f in found) if found else ""))
    return not found


def _scrub(text):
    return re.sub(r"\b0x[0-9a-fA-F]{6,}\b", "0x…", text)


def _has_widgets(nb):
    return any("application/vnd.jupyter.widget-view+json" in out.get("data", {})
               for c in nb.cells for out in c.get("outputs", []))


if __name__ == "__main__":
    names = sys.argv[1:] or sorted(p.stem for p in NB_DIR.glob("[0-9]*.py"))
    ok = [build(n.removesuffix(".py").removesuffix(".ipynb").split("/")[-1]) for n in names]
    sys.exit(0 if all(ok) else 1)
