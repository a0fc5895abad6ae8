"""Immutability of the symbolic result objects (cached and shared by every caller)."""
from __future__ import annotations

from dataclasses import FrozenInstanceError


class Frozen:
    """Attributes are set once, by :meth:`_freeze` in ``__init__``; setting or deleting one
    afterwards raises ``FrozenInstanceError`` (an ``AttributeError``)."""

    #: appended to the "cannot set" message (how to get a changed object instead)
    _set_hint = ""

    def _freeze(self, values: dict) -> None:
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise FrozenInstanceError(f"{type(self).__name__} is immutable (cannot set {name!r}){self._set_hint}")

    def __delattr__(self, name):
        raise FrozenInstanceError(f"{type(self).__name__} is immutable (cannot delete {name!r})")
