"""Errors and warnings raised by gaussdistill.

Every error about user input is a :class:`GaussDistillError`, a subclass of
``ValueError``, whose message names the offending argument and what would be valid.
"""
from __future__ import annotations


class GaussDistillError(ValueError):
    """Invalid input to a gaussdistill function (names the argument and the fix)."""


class GaussDistillWarning(UserWarning):
    """Base class of gaussdistill's warnings."""


class ConditioningWarning(GaussDistillWarning):
    """float64 may lose accuracy, or the rank cutoff may have changed the answer.

    Raised when a covariance is so ill-conditioned that float64 may lose accuracy (the
    message names the condition number), and when the rank cutoff ``rtol`` treats as zero
    eigenvalues above the rounding level and that changes the KL (a finite KL made +inf or
    0, or a dropped variance): the message gives the value with them kept. It suggests
    ``rtol=0`` or ``precision=50`` (mpmath).
    """
