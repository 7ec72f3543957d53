"""adnb's own exceptions and warnings: every message says what to do next.

Each error subclasses the builtin a Python user would expect (TypeError, ValueError, ...) so
``except TypeError`` keeps working, and ``ADNBError`` so ``except adnb.ADNBError`` catches them all.
"""


class ADNBError(Exception):
    """Base class of every error adnb raises on its own account."""


class UnsupportedOperationError(ADNBError, TypeError):
    """A numpy function or method adnb has no derivative rules for."""


class MissingRuleError(ADNBError, NotImplementedError):
    """A primitive lacks the tangent or adjoint rule a sweep needs."""


class NotDifferentiableTypeError(ADNBError, TypeError):
    """An input that is not a real number or array (strings, None, objects, complex)."""


class NonScalarOutputError(ADNBError, TypeError):
    """``grad`` of a function whose output is not a scalar."""


class CutDerivativeError(ADNBError, TypeError):
    """A traced value escaped into code that would silently drop its derivative
    (``math.sin``, ``float()``, writing into a plain numpy buffer)."""


class InPlaceError(ADNBError, TypeError):
    """An in-place write (``x[0] = 1``, ``x += 1`` on a buffer) into a traced array."""


class ADNBWarning(UserWarning):
    """Suspicious but valid situations: an output that does not depend on the input,
    a derivative that does not exist (inf/nan), a kink where a one-sided choice was made."""


class NonDifferentiablePointWarning(ADNBWarning):
    """The derivative does not exist where it was asked for (sqrt or log at 0, ...)."""


class CustomRuleError(ADNBError, TypeError):
    """A user-defined derivative rule (custom_jvp, custom_vjp) is missing, used where it does
    not apply, or returns the wrong number or shapes of values."""
