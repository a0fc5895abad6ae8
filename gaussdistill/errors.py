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
    """A covariance is so ill-conditioned that float64 may lose accuracy.

    The message names the condition number and suggests ``precision=50`` (mpmath).
    """
