"""Formatting helpers shared by the displays: compact numbers and arrays, labels, source lines.

Lets the table, the text fallback and the graph write values the same way:

* ``short(v)`` — a value in a few characters (``16.7781``, ``(2, 3) [0.1, 0.2, 0.3, …]``);
* ``exact(v)`` — the full value for a tooltip (``repr`` of the float, a summarised array);
* ``is_nonfinite(v)`` — inf or nan anywhere in v;
* ``where(loc)`` / ``source_line(loc)`` — ``file.py:12`` and the text of that line.

Nothing here escapes HTML: callers escape what they put into markup.
"""
from __future__ import annotations

import linecache
import os
import re
import sys

import numpy as np

#: significant digits of numbers in tables and graph labels (the title attribute has them all)
DIGITS = 6


def _scalar_text(x, digits):
    x = float(x)
    if x != x:
        return "nan"
    if x in (float("inf"), float("-inf")):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"          # -0.0 as 0: the sign of zero is noise for a learner
    return f"{x:.{digits}g}"


def short(v, digits=DIGITS, items=3):
    """A value in a few characters: numbers to ``digits`` significant digits, arrays as their
    shape and the first ``items`` entries (all of them when there are at most ``items + 1``).

    Args:
        v: a number, numpy scalar or array (anything else goes through ``str``).
        digits: significant digits per number.
        items: how many entries of an array to show.

    Returns:
        str, e.g. ``"16.7781"``, ``"[0.162, 0.16]"``, ``"(2, 3) [0, 0.1, 0.2, …]"``.
    """
    if v is None:
        return "0"
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, float, np.integer, np.floating)):
        return _scalar_text(v, digits)
    if isinstance(v, np.ndarray):
        if v.ndim == 0:
            return _scalar_text(v[()], digits) if v.dtype.kind in "fiu" else str(v[()])
        flat = v.reshape(-1)
        d = max(3, digits - 2)     # entries of an array get fewer digits: the row stays short
        if v.dtype.kind == "b":
            fmt = lambda e: "T" if e else "F"          # noqa: E731
        else:
            fmt = lambda e: _scalar_text(e, d)          # noqa: E731
        if flat.size <= items + 1:
            body = "[" + ", ".join(fmt(e) for e in flat) + "]"
            return body if v.ndim == 1 else f"{v.shape} {body}"
        body = "[" + ", ".join(fmt(e) for e in flat[:items]) + ", …]"
        return f"{v.shape} {body}"
    return str(v)


def exact(v):
    """The value in full, for a tooltip: ``repr`` of a float (round-trips exactly), a summarised
    numpy printout of an array with its shape."""
    if v is None:
        return "0 (not reached: no path between this node and the seed)"
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, np.ndarray):
        if v.ndim == 0:
            return exact(v[()])
        with np.printoptions(threshold=12, edgeitems=2, precision=8, linewidth=100):
            return f"shape {v.shape}: {np.array2string(v)}"
    return str(v)


def is_nonfinite(v):
    """True if v (number or array) holds an inf or a nan; False for None and non-numbers."""
    if v is None:
        return False
    if isinstance(v, float):
        return v - v != 0
    try:
        a = np.asarray(v)
    except Exception:       # noqa: BLE001 -- anything we cannot read is not a number
        return False
    if a.dtype.kind not in "fc":
        return False
    return not bool(np.isfinite(a).all())


def nonfinite_kind(v):
    """``"nan"``, ``"inf"``, ``"-inf"`` or ``"inf/nan"`` (mixed) for a non-finite value."""
    a = np.asarray(v, dtype=float)
    has_nan = bool(np.isnan(a).any())
    pos = bool(np.isposinf(a).any())
    neg = bool(np.isneginf(a).any())
    if has_nan and not (pos or neg):
        return "nan"
    if pos and not (neg or has_nan):
        return "inf"
    if neg and not (pos or has_nan):
        return "-inf"
    return "inf/nan"


_CELL_FILE = re.compile(r"(ipykernel_\d+[/\\]\d+\.py$)|(^<ipython-input-(\d+)-)")


def file_label(filename):
    """How a source file is named in displays: a notebook cell's temporary file becomes
    ``In[n]`` (when IPython knows its execution count) or ``cell`` — never a path that names
    this machine; other files keep their base name."""
    m = _CELL_FILE.search(filename)
    if not m:
        return os.path.basename(filename)
    if m.group(3):
        return f"In[{m.group(3)}]"
    ipython = sys.modules.get("IPython")
    try:
        count = ipython.get_ipython().compile._filename_map.get(filename)
    except AttributeError:           # no IPython, no shell, or an IPython without the map
        count = None
    return f"In[{count}]" if count is not None else "cell"


def where(loc):
    """``file.py:12`` (or ``In[3]:12`` for a notebook cell) for a node's ``loc``; "" if unknown."""
    if not loc:
        return ""
    return f"{file_label(loc[0])}:{loc[1]}"


def where_long(loc):
    """``file.py, line 12, in f`` for a tooltip (cells named as in ``file_label``)."""
    if not loc:
        return ""
    name = file_label(loc[0]) if _CELL_FILE.search(loc[0]) else loc[0]
    return f"{name}, line {loc[1]}, in {loc[2]}"


def source_line(loc):
    """The stripped text of the source line ``loc`` points to ("" when it cannot be read)."""
    if not loc:
        return ""
    try:
        return linecache.getline(loc[0], int(loc[1])).strip()
    except Exception:       # noqa: BLE001 -- a missing file just means no source text
        return ""


def display_name(node):
    """The user's name of a node when it adds information (not just its own label)."""
    name = node.name
    if not name or name == node.label:
        return ""
    return str(name)


def plural(n, noun):
    """``1 pass``, ``2 passes``, ``1 input``, ``3 inputs``."""
    if n == 1:
        return f"{n} {noun}"
    return f"{n} {noun}{'es' if noun.endswith(('s', 'x', 'sh', 'ch')) else 's'}"
