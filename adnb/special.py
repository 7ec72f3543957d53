"""Differentiable versions of scipy.special's logsumexp, softmax and log_softmax (same
signatures; they work on plain arrays and on traced values). scipy's own versions convert their
input with numpy and cannot be followed by adnb; scipy.special's ufuncs (expit, erf, gammaln,
xlogy, ...) need nothing: call them as usual."""
from .core.primitives.special import log_softmax, logsumexp, softmax

__all__ = ["logsumexp", "softmax", "log_softmax"]
