"""Which stack frames are the user's: adnb's core and numpy are machinery (for source lines in
traces, and for warnings that point at the user's code); and ``explain_error``, which re-words an
adnb error that left the user's code to lead with their line, with adnb's frames cut."""
from __future__ import annotations

import ast
import linecache
import os
import sys
import types

import numpy as np

from ..errors import ADNBError, CutDerivativeError, UnsupportedOperationError

_CORE_DIR = os.path.dirname(os.path.abspath(__file__))
_NUMPY_DIR = os.path.dirname(np.__file__)
_ADNB_DIR = os.path.dirname(_CORE_DIR)
_SCIPY_PART = f"{os.sep}scipy{os.sep}"


def _is_scipy(filename):
    return _SCIPY_PART in filename


def is_machinery(filename):
    """True for adnb's core and numpy's own files: frames there are not the user's code."""
    return filename.startswith(_CORE_DIR) or filename.startswith(_NUMPY_DIR)


def user_frame(depth=2):
    """The innermost frame outside adnb's core and numpy: where the user's code made the call."""
    f = sys._getframe(depth)
    while f is not None:
        if not is_machinery(f.f_code.co_filename):
            return f
        f = f.f_back
    return None


def called_from_numpy(depth=2):
    """True if the first frame outside adnb's core is numpy's own code (not the user's)."""
    f = sys._getframe(depth)
    while f is not None and f.f_code.co_filename.startswith(_CORE_DIR):
        f = f.f_back
    return f is not None and f.f_code.co_filename.startswith(_NUMPY_DIR)


# ---- errors that leave the user's code ----------------------------------------------------------

def _is_adnb_or_numpy(filename):
    """adnb, numpy or scipy: library frames, cut from the ends of an error's traceback."""
    return (filename.startswith(_ADNB_DIR) or filename.startswith(_NUMPY_DIR)
            or _is_scipy(filename))


def _user_tail(tb):
    """The traceback without adnb's and numpy's frames after the user's last frame."""
    frames = []
    while tb is not None:
        frames.append(tb)
        tb = tb.tb_next
    while frames and _is_adnb_or_numpy(frames[-1].tb_frame.f_code.co_filename):
        frames.pop()
    if not frames:
        return None, None
    new = None
    for t in reversed(frames):
        new = types.TracebackType(new, t.tb_frame, t.tb_lasti, t.tb_lineno)
    return new, frames[-1]


def _source_name(filename):
    """How to name the user's source file: ``In[4]`` for a notebook cell (IPython's own map, read
    only if IPython is already running: the core never imports it), else the file's name."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    cells = getattr(getattr(shell, "compile", None), "_filename_map", None) or {}
    if filename in cells:
        return f"In[{cells[filename]}]"
    if "ipykernel_" in filename or filename.startswith("<ipython-input"):
        return "a notebook cell"
    return os.path.basename(filename)


def _statement_at(filename, lineno):
    text = linecache.getline(filename, lineno).strip()
    try:
        return text, ast.parse(text).body[0]
    except (SyntaxError, IndexError):
        return text, None


# numpy hands a call to adnb only when an argument is itself traced: a Python list holding traced
# values (np.interp(t, xs, [a, b]), np.arctan2(1.0, [a, b])) is run by numpy as an object array,
# and some of numpy's functions fail on that with an error about dtype('O') or a missing method.
_OBJECT_ARRAY_SYMPTOMS = ("dtype('O')", "Tracer", "no callable", "' object has no attribute",
                          "not supported for the input types", "object arrays are not supported")
_TRACED_LIST_MESSAGE = (
    "numpy could not run this on a Python list (or object array) holding traced values "
    "(numpy said: {0}: {1}). numpy passes a call to adnb only when an argument is itself a "
    "traced array: make the list one first with np.stack([...]) and pass that.")


_ADNB_SPECIAL = ("logsumexp", "softmax", "log_softmax")


def _object_array_message(err):
    """What to do instead: for a scipy function (it converts its input, so numpy never hands
    the call to adnb), name it; else make the list one traced array."""
    tb = err.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if _is_scipy(code.co_filename):
            module = tb.tb_frame.f_globals.get("__name__", "scipy").split("._")[0]
            name = (f"{module}.{code.co_name}" if module == "scipy.special"
                     else f"{code.co_name} (from {module})")
            instead = (f"Use adnb.special.{code.co_name} instead: same signature, "
                       "differentiable" if code.co_name in _ADNB_SPECIAL else
                       "Write the formula with numpy functions (or scipy.special's ufuncs, "
                       "listed by adnb.supported_numpy()), which adnb differentiates")
            return (f"{name} does not work on traced values: scipy converts its input to plain "
                    f"numpy arrays, which adnb cannot follow (scipy said: {type(err).__name__}: "
                    f"{err}). {instead}.")
        tb = tb.tb_next
    return _TRACED_LIST_MESSAGE.format(type(err).__name__, err)


def _numpy_met_traced_list(err):
    """An error raised inside numpy (or scipy) about object arrays, while tracing: see above."""
    if not isinstance(err, (TypeError, AttributeError, ValueError)):
        return False
    text = str(err)
    # a ufunc's object loop (C code, so no numpy frame) calls x.arctan2(y) on a plain number
    if isinstance(err, AttributeError) and isinstance(getattr(np, str(err.name), None), np.ufunc) \
            and isinstance(getattr(err, "obj", None), (int, float, np.number)):
        return True
    if isinstance(err, TypeError) and text.startswith("loop of ufunc does not support argument"):
        return True
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    filename = tb.tb_frame.f_code.co_filename if tb is not None else ""
    if not (filename.startswith(_NUMPY_DIR) or _is_scipy(filename)):
        return False
    return any(s in text for s in _OBJECT_ARRAY_SYMPTOMS)


def _math_call(stmt):
    for node in ast.walk(stmt):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "math":
            return node.func.attr
    return None


def _cut_message(stmt):
    """A message naming the mistake on the user's line, or None for the general one."""
    if isinstance(stmt, (ast.Assign, ast.AugAssign)):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        sub = next((t for t in targets if isinstance(t, ast.Subscript)), None)
        if sub is not None:
            buf = ast.unparse(sub.value)
            return (f"a traced value was written into the numpy array {buf!r} ({ast.unparse(sub)}"
                    f" = ...): a plain numpy buffer stores plain numbers, so the derivative "
                    f"would be lost. Build the array from the traced values instead: "
                    f"np.stack([...]) or np.concatenate([...]), or np.where(mask, value, {buf}).")
    name = _math_call(stmt) if stmt is not None else None
    if name is not None:
        alt = {"pow": "np.power", "fabs": "np.abs"}.get(name, f"np.{name}")
        return (f"math.{name}() was called on a traced value: the math module works on plain "
                f"floats, so the derivative would be lost. Use {alt}(...), which adnb "
                f"differentiates.")
    return None


def explain_error(err, names=None, trim_head=False):
    """``err`` (an ``ADNBError`` raised under the user's code, numpy's ValueError wrapping one,
    or numpy's or scipy's own error on an object array of traced values) re-worded to lead with
    the user's line, with adnb's, numpy's and scipy's frames cut from the end of its traceback.
    Other exceptions (the user's own) are returned unchanged.

    Args:
        err: the exception.
        names: ``{filename: "In[4]"}``: how to name the user's source file.
        trim_head: also cut adnb's frames before the user's first one (``adnb.grad`` and the
            other transformations re-raise from their own frame, which Python puts back).
    """
    if getattr(err, "_adnb_explained", False):        # an inner transformation did it
        return err
    cause = err.__cause__
    if not isinstance(err, ADNBError):
        # numpy turns our CutDerivativeError from b[0] = x into a ValueError: ours again
        if isinstance(cause, CutDerivativeError):
            err = cause.with_traceback(err.__traceback__)
        elif _numpy_met_traced_list(err):
            err = UnsupportedOperationError(_object_array_message(err)).with_traceback(
                err.__traceback__)
        else:
            return err
    tb, last = _user_tail(err.__traceback__)
    if tb is None:
        return err
    while trim_head and tb is not None and _is_adnb_or_numpy(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    filename, lineno = last.tb_frame.f_code.co_filename, last.tb_lineno
    text, stmt = _statement_at(filename, lineno)
    specific = _cut_message(stmt) if isinstance(err, CutDerivativeError) else None
    where = (names or {}).get(filename) or _source_name(filename)
    head = f"{where}, line {lineno}: {text}\n" if text else ""
    try:
        new = type(err)(head + (specific or str(err)))
    except TypeError:                   # an error class with its own signature: leave it
        return err
    new.__suppress_context__ = True
    new._adnb_explained = True
    return new.with_traceback(tb)
