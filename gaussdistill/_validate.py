"""Validation at the public boundary: one place that turns bad input into clear errors.

Private kernels downstream of these checks do no checking of their own.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from .errors import GaussDistillError

# Relative tolerance for symmetry of a covariance matrix (entries compared to the
# largest absolute entry).
SYMMETRY_RTOL = 1e-10


# Columns are samples: the one data convention of the package, named in every shape error.
CONVENTION = "X is d×n and Y is k×n: columns are samples"
# Largest mpmath precision accepted (digits): a bound, so that a typo cannot hang a session.
MAX_PRECISION = 1000


def _reject_non_numbers(name: str, raw: np.ndarray) -> None:
    kind = raw.dtype.kind
    if kind == "b":
        raise GaussDistillError(f"{name} is a bool array; pass numbers (e.g. {name}.astype(float)) if that is meant")
    if kind in "USV":
        raise GaussDistillError(f"{name} is an array of str; pass numbers (strings are never parsed)")
    if kind == "O":
        for x in raw.ravel():
            if isinstance(x, (str, bytes, bool, np.bool_)):
                raise GaussDistillError(
                    f"{name} contains a {type(x).__name__} entry ({x!r}); pass numbers (strings are never parsed)")


def as_matrix(name: str, value, shape: tuple | None = None, convention: bool = False) -> np.ndarray:
    """Return ``value`` as a finite, non-empty float64 2-D array, or raise naming ``name``.

    ``shape`` may hold ``None`` entries for free dimensions. Bool and string arrays are
    rejected (as ``lam="1.0"`` is), as are empty arrays (n = 0, d = 0 or k = 0 define no
    model). With ``convention=True`` a shape error names the data convention
    (:data:`CONVENTION`) and suggests the transpose when it would fit.
    """
    try:
        raw = np.asarray(value)
        _reject_non_numbers(name, raw)
        if np.iscomplexobj(raw):
            raise GaussDistillError(
                f"{name} must be real; got complex entries (pass the real part explicitly if intended)")
        arr = np.asarray(raw, dtype=float)
    except OverflowError:
        raise GaussDistillError(f"{name} has an entry too large for float64 (max about 1.8e308); rescale it") from None
    except (TypeError, ValueError) as exc:
        raise GaussDistillError(
            f"{name} must be a real numeric matrix; could not convert it to float64 ({exc})"
        ) from None
    if arr.ndim == 1 and shape is not None and len(shape) == 2 and shape[0] == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        hint = f" ({CONVENTION})" if convention else ""
        raise GaussDistillError(
            f"{name} must be a 2-D matrix; got an array with {arr.ndim} dimension(s), shape {arr.shape}{hint}")
    if arr.size == 0:
        raise GaussDistillError(f"{name} is empty (shape {arr.shape}); every dimension must be at least 1")
    if shape is not None:
        for axis, (want, got) in enumerate(zip(shape, arr.shape)):
            if want is not None and want != got:
                msg = (f"{name} has shape {arr.shape}, expected {_shape_text(shape)} "
                       f"(axis {axis} must have length {want})")
                if convention:
                    msg += f"; {CONVENTION}"
                    if all(w is None or w == g for w, g in zip(shape, arr.shape[::-1])):
                        msg += (f"; its transpose {arr.shape[::-1]} would fit: if your samples are rows, "
                                f"pass {name}.T or use gd.from_samples_as_rows(X, Y)")
                raise GaussDistillError(msg)
    if not np.all(np.isfinite(arr)):
        bad = "NaN" if np.isnan(arr).any() else "inf"
        raise GaussDistillError(f"{name} contains {bad} entries; all entries must be finite")
    return arr


def frozen_copy(arr: np.ndarray) -> np.ndarray:
    """A read-only copy (kernels never share, nor let callers edit, their arrays)."""
    out = np.array(arr, dtype=float, copy=True)
    out.flags.writeable = False
    return out


def read_only(arr: np.ndarray) -> np.ndarray:
    """Mark an array the package just computed as read-only and return it."""
    arr.flags.writeable = False
    return arr


def same_array(a, b) -> bool:
    """Whether two arrays hold the same numbers (identity is not required: a pickled kernel
    carries its own copy of a basis it shared with another kernel before)."""
    if a is b:
        return True
    return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
            and a.dtype == b.dtype and bool(np.array_equal(a, b)))


def restore_frozen(obj, state: dict) -> None:
    """``__setstate__`` of the package's immutable objects: the attributes as pickled, with
    every array read-only again (numpy unpickles arrays writeable)."""
    for name, value in state.items():
        if isinstance(value, np.ndarray):
            value.flags.writeable = False
        object.__setattr__(obj, name, value)


def _shape_text(shape) -> str:
    return "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"


def as_symmetric(name: str, value, size: int | None = None) -> np.ndarray:
    """A finite, square, symmetric float64 matrix (PSD is checked by the factor)."""
    arr = as_matrix(name, value, (size, size))
    if arr.shape[0] != arr.shape[1]:
        raise GaussDistillError(f"{name} must be square; got shape {arr.shape}")
    scale = float(np.max(np.abs(arr))) if arr.size else 0.0
    if arr.size and np.max(np.abs(arr - arr.T)) > SYMMETRY_RTOL * max(scale, 1e-300):
        raise GaussDistillError(
            f"{name} is not symmetric (max |{name} - {name}^T| = "
            f"{np.max(np.abs(arr - arr.T)):.3g}); pass a symmetric covariance, e.g. (C + C.T) / 2"
        )
    return 0.5 * arr + 0.5 * arr.T     # (arr + arr.T) / 2 would overflow at 1e308


def as_scalar(name: str, value, *, positive: bool = False, nonnegative: bool = False) -> float:
    """A finite real scalar, optionally > 0 or >= 0."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value.item()
        else:
            raise GaussDistillError(f"{name} must be a real number; got {type(value).__name__} {value!r}")
    try:
        value = float(value)
    except OverflowError:
        raise GaussDistillError(f"{name} is too large for float64 (max about 1.8e308); got an integer with "
                                f"{len(str(abs(int(value))))} digits") from None
    if not math.isfinite(value):
        raise GaussDistillError(f"{name} must be finite; got {value}")
    if positive and value <= 0:
        raise GaussDistillError(f"{name} must be > 0; got {value}")
    if nonnegative and value < 0:
        raise GaussDistillError(f"{name} must be >= 0; got {value}")
    return value


def as_rank(name: str, value, upper: int) -> int:
    """An integer rank in [0, upper]."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            value = int(value)
        else:
            raise GaussDistillError(f"{name} must be an integer in [0, {upper}]; got {value!r}")
    value = int(value)
    if not 0 <= value <= upper:
        raise GaussDistillError(f"{name} must be an integer in [0, {upper}] (min(k, d)); got {value}")
    return value


def as_count(name: str, value, minimum: int, hint: str = "") -> int:
    """An integer >= ``minimum`` (a float with an integer value is accepted)."""
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)) or value < minimum:
        raise GaussDistillError(f"{name} must be an integer >= {minimum}{hint}; got {value!r}")
    return int(value)


def as_precision(value) -> int:
    """mpmath digits: an integer in [16, MAX_PRECISION]."""
    hint = f" and <= {MAX_PRECISION} (mpmath digits; float64 inputs already carry ~16)"
    dps = as_count("precision", value, 16, hint)
    if dps > MAX_PRECISION:
        raise GaussDistillError(f"precision must be an integer >= 16{hint}; got {dps}")
    return dps


def as_rtol(value) -> float | None:
    """A rank tolerance in [0, 1), or None for the backend's default."""
    if value is None:
        return None
    rtol = as_scalar("rtol", value, nonnegative=True)
    if rtol >= 1:
        raise GaussDistillError(f"rtol must be in [0, 1) (relative to the largest eigenvalue); got {rtol}")
    return rtol


def as_choice(name: str, value, choices) -> str:
    """One of a fixed set of strings."""
    if not isinstance(value, str) or value not in choices:
        raise GaussDistillError(
            f"unknown {name} {value!r}; valid values are " + ", ".join(repr(c) for c in choices)
        )
    return value


def as_generator(seed, name: str = "rng") -> np.random.Generator:
    """A numpy Generator from ``None``, an int seed, a SeedSequence or a Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, (numbers.Integral, np.integer, np.random.SeedSequence)):
        if isinstance(seed, (numbers.Integral, np.integer)) and int(seed) < 0:
            raise GaussDistillError(f"{name} must be a non-negative integer seed; got {seed}")
        return np.random.default_rng(seed)  # type: ignore[arg-type]
    raise GaussDistillError(
        f"{name} must be None, a non-negative int seed or a numpy.random.Generator; got {type(seed).__name__} {seed!r}"
    )
