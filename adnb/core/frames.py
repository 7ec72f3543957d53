"""Which stack frames are the user's: adnb's core and numpy are machinery (for source lines in
traces, and for warnings that point at the user's code)."""
from __future__ import annotations

import os
import sys

import numpy as np

_CORE_DIR = os.path.dirname(os.path.abspath(__file__))
_NUMPY_DIR = os.path.dirname(np.__file__)


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
