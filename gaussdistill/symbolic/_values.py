"""The boundary of the symbolic engine: every user value becomes a number before sympy sees it.

sympy turns strings into code (``sympify`` calls ``eval``), so a value such as
``"__import__('os').system(...)"`` passed to ``Expr.subs`` runs.  Every public entry point
of :mod:`gaussdistill.symbolic` therefore converts each value here first:

* a real scalar (``int``, ``float``, numpy scalar, ``fractions.Fraction``, a sympy
  ``Number``, an ``mpmath.mpf``) -> ``float`` (``mpf`` kept as is for the mpmath backend);
* an array of real numbers (list, tuple, ``ndarray``) -> ``ndarray`` of float64 (grids);
* anything else (strings, bytes, booleans, complex numbers, dicts, sympy expressions,
  ``None`` where a number is required) -> :class:`~gaussdistill.errors.GaussDistillError`
  naming the parameter.  Strings are never parsed, not even ``"1.0"``.

Values must be finite (NaN or ±inf is an error naming the parameter) and inside the
parameter's domain (:data:`DOMAINS`, docs/mathematics.md §2.1): the engine never returns NaN
for a bad input.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from ..errors import GaussDistillError

#: (lower bound, lower bound strict?, integer?) of each scalar parameter (docs/mathematics.md §2.1).
DOMAINS = {
    "k": (1, False, True),
    "n": (1, False, True),
    "m": (1, False, True),
    "nu": (0.0, False, False),
    "tau": (0.0, True, False),
    "lambda_T": (0.0, False, False),
    "lambda_S": (0.0, False, False),
    "t_T": (0.0, False, False),
    "t_S": (0.0, False, False),
    "c": (-math.inf, False, False),
}

#: Most mpmath digits accepted (beyond this a single evaluation takes minutes).
MAX_DPS = 1000


def _domain_text(name):
    lo, strict, integer = DOMAINS[name]
    if integer:
        return f"an integer >= {lo}"
    if lo == -math.inf:
        return "a finite real number"
    return f"a real number {'>' if strict else '>='} {lo:g}"


def _is_mpf(x):
    return type(x).__module__.startswith("mpmath") and hasattr(x, "_mpf_")


def _scalar(name, x, keep_mpf):
    """One real scalar -> float (or mpf); raises naming ``name`` for anything else."""
    if isinstance(x, (bool, np.bool_)):
        raise GaussDistillError(f"{name}={x!r}: a boolean is not a number; give {name} as a real number")
    if _is_mpf(x):
        import mpmath
        if not mpmath.isfinite(x):
            raise GaussDistillError(f"{name}={x!r}: must be finite")
        return x if keep_mpf else float(x)
    is_sympy_number = type(x).__module__.startswith("sympy") and getattr(x, "is_Number", False)
    if not (isinstance(x, numbers.Real) or is_sympy_number):
        raise GaussDistillError(
            f"{name}: expected a real number, got {type(x).__name__} {x!r:.60}"
            + ("; strings are never parsed, pass a number" if isinstance(x, (str, bytes)) else ""))
    try:
        v = float(x)
    except (OverflowError, TypeError, ValueError):
        raise GaussDistillError(f"{name}={x!r:.60}: does not fit in a float64 (must be finite)") from None
    if not math.isfinite(v):
        raise GaussDistillError(f"{name}={x!r:.60}: must be finite (got {v})")
    return v


def as_number(name, x, *, allow_array=True, keep_mpf=False):
    """Convert one user value to a float, an ``mpf`` or a float64 array, or raise.

    Parameters
    ----------
    name : str
        The parameter's name (used in the error message).
    x : object
        The user's value.
    allow_array : bool
        Accept array-likes of real numbers (grids for the numpy backend).
    keep_mpf : bool
        Keep ``mpmath.mpf`` values as they are (the mpmath backend).
    """
    if isinstance(x, (list, tuple, np.ndarray)):
        if not allow_array:
            raise GaussDistillError(f"{name}: expected a single real number, got an array")
        try:
            arr = np.asarray(x) if not isinstance(x, np.ndarray) else x
        except (ValueError, TypeError):
            raise GaussDistillError(f"{name}: expected a rectangular array of real numbers") from None
        if arr.dtype.kind in "iuf":
            try:
                out = arr.astype(float)
            except OverflowError:  # pragma: no cover - numpy ints always fit
                raise GaussDistillError(f"{name}: values do not fit in float64") from None
        elif arr.dtype.kind == "O" or (isinstance(x, (list, tuple)) and arr.dtype.kind not in "USb"):
            flat = [_scalar(name, v, False) for v in np.asarray(x, dtype=object).ravel()]
            out = np.array(flat, dtype=float).reshape(np.shape(np.asarray(x, dtype=object)))
        else:
            raise GaussDistillError(
                f"{name}: expected an array of real numbers, got dtype {arr.dtype}"
                + ("; strings are never parsed, pass numbers" if arr.dtype.kind in "US" else ""))
        if out.size == 0:
            raise GaussDistillError(f"{name}: an empty array has no values to evaluate at")
        if not np.all(np.isfinite(out)):
            raise GaussDistillError(f"{name}: every value must be finite (got NaN or inf)")
        return out if out.ndim else float(out)
    return _scalar(name, x, keep_mpf)


def check_domain(name, x):
    """Raise unless every entry of the converted value ``x`` lies in the domain of ``name``."""
    if name not in DOMAINS:
        return
    lo, strict, integer = DOMAINS[name]
    a = np.asarray(float(x) if _is_mpf(x) else x, dtype=float)
    ok = (a > lo) if strict else (a >= lo)
    if integer:
        ok = ok & (a == np.round(a))
    if not np.all(ok):
        raise GaussDistillError(f"{name}={x!r:.60}: must be {_domain_text(name)}")


def clean_spectrum(key, x, d, keep_mpf=False, allow_array=True):
    """``s`` or ``w`` -> a list of ``d`` converted per-mode values (each a float or a grid)."""
    if isinstance(x, np.ndarray) and x.ndim > 0:
        seq = [x[i] for i in range(x.shape[0])]
    elif isinstance(x, (list, tuple)):
        seq = list(x)
    else:
        raise GaussDistillError(f"{key}: expected a sequence of length d={d} (one value per mode), "
                                f"got {type(x).__name__} {x!r:.60}")
    if len(seq) != d:
        raise GaussDistillError(f"{key}: expected a sequence of length d={d}, got length {len(seq)}")
    out = [as_number(f"{key}_{j}", v, keep_mpf=keep_mpf, allow_array=allow_array)
           for j, v in enumerate(seq, 1)]
    if key == "s":
        for j, v in enumerate(out, 1):
            if np.any(np.asarray(float(v) if _is_mpf(v) else v) <= 0):
                raise GaussDistillError(f"s_{j}: every eigenvalue s_j of X X^T must be > 0")
    return out


def clean_values(values, d, scalar_names, *, keep_mpf=False, allow_array=True, what="values"):
    """Validate and convert a mapping of user values (scalars by name, spectra ``s``, ``w``).

    Spectra may be given as sequences ``s=[...]`` or as single names ``s_1=..``; the
    result always has them as lists under ``"s"``/``"w"`` (``None`` when absent).  Unknown
    names, non-numbers, non-finite and out-of-domain values raise a
    :class:`GaussDistillError` naming the parameter.  Nothing is evaluated.
    """
    if not hasattr(values, "keys"):
        raise GaussDistillError(f"{what}: expected a dict of parameter values, got {type(values).__name__}")
    vals = {}
    for key, v in values.items():
        if not isinstance(key, str):
            raise GaussDistillError(f"{what}: parameter names must be strings, got {key!r}")
        vals[key] = v
    out = {}
    for key in ("s", "w"):
        singles = [f"{key}_{j}" for j in range(1, d + 1)]
        given = [nm for nm in singles if nm in vals]
        if key in vals and vals[key] is not None:
            if given:
                raise GaussDistillError(f"give {key!r} either as a sequence or as {singles}, not both")
            out[key] = clean_spectrum(key, vals.pop(key), d, keep_mpf, allow_array)
        elif given:
            missing = [nm for nm in singles if nm not in vals]
            if missing:
                raise GaussDistillError(f"missing values for {missing}")
            out[key] = clean_spectrum(key, [vals.pop(nm) for nm in singles], d, keep_mpf, allow_array)
        else:
            vals.pop(key, None)
            out[key] = None
    unknown = [nm for nm in vals if nm not in scalar_names]
    if unknown:
        raise GaussDistillError(f"unknown parameter(s) {unknown}; valid: "
                                + ", ".join(tuple(scalar_names) + ("s", "w")))
    for nm, v in vals.items():
        if v is None:
            continue
        x = as_number(nm, v, allow_array=allow_array, keep_mpf=keep_mpf)
        check_domain(nm, x)
        out[nm] = x
    if allow_array:
        shapes = {nm: np.shape(v) for nm, v in out.items() if v is not None and nm not in ("s", "w")}
        for key in ("s", "w"):
            for j, v in enumerate(out[key] or (), 1):
                shapes[f"{key}_{j}"] = np.shape(v)
        try:
            np.broadcast_shapes(*shapes.values())
        except ValueError:
            listed = ", ".join(f"{nm} {sh}" for nm, sh in shapes.items() if sh)
            raise GaussDistillError(f"{what}: the array shapes do not broadcast together: {listed}") from None
    return out


def clean_bounds(name, bounds):
    """Optimiser bounds -> (lo, hi) floats inside the domain of parameter ``name``."""
    if not isinstance(bounds, (tuple, list, np.ndarray)) or np.ndim(bounds) != 1 or len(bounds) != 2:
        raise GaussDistillError(f"bounds={bounds!r:.60}: expected a pair (lower, upper) of numbers")
    lo = as_number("bounds[0]", bounds[0], allow_array=False)
    hi = as_number("bounds[1]", bounds[1], allow_array=False)
    if not hi > lo:
        raise GaussDistillError(f"bounds={bounds!r}: need lower < upper")
    if not math.isfinite(hi - lo):
        raise GaussDistillError(f"bounds={bounds!r}: the width upper - lower overflows float64")
    if name in DOMAINS:
        dlo, strict, integer = DOMAINS[name]
        if integer:
            raise GaussDistillError(f"{name} is an integer parameter; it cannot be optimised continuously")
        if lo < dlo or (strict and lo <= dlo):
            raise GaussDistillError(f"bounds={bounds!r}: the lower bound is outside the domain of "
                                    f"{name} ({name} must be {_domain_text(name)})")
    return lo, hi


def clean_int(name, x, lo, hi=None):
    """An integer option (not a bool) in [lo, hi]."""
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, np.integer)):
        raise GaussDistillError(f"{name}={x!r:.60}: expected an integer")
    if x < lo or (hi is not None and x > hi):
        raise GaussDistillError(f"{name}={x!r}: must be an integer in [{lo}, {hi if hi is not None else 'inf'}]")
    return int(x)


def clean_choice(name, value, valid):
    """A string option that must be one of ``valid`` (anything else, arrays included, is an
    error listing the valid options)."""
    if not isinstance(value, str) or value not in valid:
        raise GaussDistillError(f"{name}={value!r:.60} is not supported; valid options: "
                                + ", ".join(repr(v) for v in valid))
    return value
