"""A mistake inside the user's function reaches them as adnb's error about *their* line, through
every transformation: the message leads with the line, the traceback ends at it (adnb's own
frames are cut), and nesting does not repeat the lead."""
import math
import traceback

import numpy as np
import pytest

import adnb
from adnb.errors import CutDerivativeError


def uses_math(x):
    y = x * 2.0
    return math.sin(y)          # the mistake: math works on plain floats


def writes_buffer(x):
    b = np.zeros(2)
    b[0] = x                    # the mistake: a plain buffer
    return b.sum()


CALLS = {
    "grad": lambda f: adnb.grad(f)(1.0),
    "value_and_grad": lambda f: adnb.value_and_grad(f)(1.0),
    "jvp": lambda f: adnb.jvp(f, (1.0,), (1.0,)),
    "vjp": lambda f: adnb.vjp(f, 1.0),
    "jacfwd": lambda f: adnb.jacfwd(f)(1.0),
    "jacrev": lambda f: adnb.jacrev(f)(1.0),
    "grad of grad": lambda f: adnb.grad(adnb.grad(f))(1.0),
}


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
@pytest.mark.parametrize("f, line, says", [
    (uses_math, "return math.sin(y)", "Use np.sin"),
    (writes_buffer, "b[0] = x", "numpy buffer"),
], ids=["math.sin", "buffer"])
def test_the_error_names_the_users_line_and_ends_there(call, f, line, says):
    with pytest.raises(CutDerivativeError) as info:
        call(f)
    message = str(info.value)
    assert message.startswith(f"test_api_messages.py, line ") and line in message.splitlines()[0]
    assert says in message
    assert message.count("test_api_messages.py, line") == 1          # once, however nested
    last = traceback.extract_tb(info.value.__traceback__)[-1]
    assert last.filename == __file__ and last.name == f.__name__


def test_the_users_own_exceptions_pass_through_unchanged():
    class Mine(Exception):
        pass

    def f(x):
        raise Mine("as it was")

    with pytest.raises(Mine, match="^as it was$"):
        adnb.grad(f)(1.0)
