"""Validation and small numerics shared by the bound evaluators (private).

Every public bound function validates its arguments here once; the helpers raise
:class:`~gaussdistill.errors.GaussDistillError` naming the argument.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from ..errors import GaussDistillError

SIDES = ("upper", "lower")
DIVERGENCES = ("weight", "predictive", "convexity")


def real(name: str, value, *, positive: bool = False, nonnegative: bool = False,
         allow_inf: bool = False) -> float:
    """A real number (never a string, bool or NaN), optionally > 0 / >= 0 / +inf allowed."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise GaussDistillError(f"{name} must be a real number; got {type(value).__name__} {value!r}")
    try:
        value = float(value)
    except OverflowError:   # a Python int beyond float64 (e.g. 10**400)
        if allow_inf and value > 0:
            return math.inf
        raise GaussDistillError(f"{name} must be finite in float64; got an integer of "
                                f"{len(str(abs(int(value))))} digits") from None
    if math.isnan(value):
        raise GaussDistillError(f"{name} must be a real number; got NaN")
    if math.isinf(value) and not (allow_inf and value > 0):
        raise GaussDistillError(f"{name} must be finite; got {value}")
    if positive and not value > 0:
        raise GaussDistillError(f"{name} must be > 0; got {value}")
    if nonnegative and value < 0:
        raise GaussDistillError(f"{name} must be >= 0; got {value}")
    return value


def divergence_value(value, name: str = "divergence_value") -> float:
    """A divergence K >= 0 (``+inf`` allowed: the bound is then vacuous)."""
    return real(name, value, nonnegative=True, allow_inf=True)


def side(value) -> str:
    if not isinstance(value, str) or value not in SIDES:
        raise GaussDistillError(f"side must be one of {SIDES}; got {value!r}")
    return value


def divergence_name(value):
    if value is None:
        return None
    if not isinstance(value, str) or value not in DIVERGENCES:
        raise GaussDistillError(f"divergence must be one of {DIVERGENCES} or None; got {value!r}")
    return value


def real_array(name: str, value, *, positive: bool = False) -> np.ndarray:
    """A finite float64 array (0-d or 1-d) of reals; strings and complex rejected."""
    if isinstance(value, (str, bytes)):
        raise GaussDistillError(
            f"{name} must be a real number or array of numbers; got {type(value).__name__} {value!r}")
    try:
        raw = np.asarray(value)
    except Exception as exc:  # pragma: no cover - exotic objects
        raise GaussDistillError(f"{name} must be numeric ({exc})") from None
    if raw.dtype.kind not in "biuf" or raw.dtype.kind == "b":
        raise GaussDistillError(f"{name} must be real numbers; got dtype {raw.dtype} ({value!r})")
    arr = raw.astype(float)
    if arr.ndim > 1:
        raise GaussDistillError(f"{name} must be a scalar or a 1-D array; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise GaussDistillError(f"{name} must be finite; got {value!r}")
    if positive and np.any(arr <= 0):
        raise GaussDistillError(f"{name} must be > 0; got {value!r}")
    return arr


def _float_or_inf(v) -> float:
    """float(v), with a Python int beyond float64 (e.g. -10**400) as ±inf."""
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


def domain_of(cgf, domain, name: str = "domain") -> tuple[float, float]:
    """The interval (lo, hi), lo <= 0 <= hi, on which ψ may be finite.

    Taken from ``domain`` if given, else from ``cgf.domain``, else the whole line.
    """
    if domain is None:
        domain = getattr(cgf, "domain", None)
    if domain is None:
        return (-math.inf, math.inf)
    try:
        lo, hi = domain
    except (TypeError, ValueError):
        raise GaussDistillError(f"{name} must be a pair (lo, hi) with lo <= 0 <= hi; got {domain!r}") from None
    for label, v in (("lo", lo), ("hi", hi)):
        numeric = isinstance(v, (numbers.Real, np.floating, np.integer)) and not isinstance(v, (bool, np.bool_))
        if not numeric or math.isnan(_float_or_inf(v)):
            raise GaussDistillError(f"{name} {label} must be a real number or ±inf; got {v!r}")
    lo, hi = (_float_or_inf(v) for v in (lo, hi))
    if not lo <= 0.0 <= hi:
        raise GaussDistillError(f"{name} must satisfy lo <= 0 <= hi (ψ(0) = 0); got ({lo}, {hi})")
    return lo, hi


def eval_cgf(cgf, lam, name: str = "cgf") -> np.ndarray:
    """Evaluate a CGF callable at an array of λ; NaN, complex or -inf raise, +inf is kept.

    The callable is first tried on the whole array (vectorised); if that fails or returns
    the wrong shape, it is called point by point. An OverflowError counts as +inf (the
    value exceeds float64); any other exception becomes a GaussDistillError naming λ.
    """
    if not callable(cgf):
        raise GaussDistillError(f"{name} must be a callable λ -> ψ(λ); got {type(cgf).__name__}")
    lam = np.atleast_1d(np.asarray(lam, dtype=float))
    out = None
    try:
        with np.errstate(all="ignore"):
            trial = np.asarray(cgf(lam))
        if trial.shape == lam.shape:
            out = trial
    except GaussDistillError:
        raise
    except Exception:
        out = None
    if out is None:
        vals = []
        for x in lam:
            try:
                with np.errstate(all="ignore"):
                    vals.append(np.asarray(cgf(float(x))).reshape(()))
            except GaussDistillError:
                raise
            except OverflowError:
                vals.append(np.asarray(np.inf))  # the value is too large for float64: treat as +inf
            except Exception as exc:
                raise GaussDistillError(f"{name} raised {type(exc).__name__} at λ = {float(x)!r}: {exc}") from exc
        out = np.array(vals)
    if np.iscomplexobj(out) or out.dtype.kind not in "biuf":
        raise GaussDistillError(f"{name} must return real numbers; got dtype {out.dtype}")
    out = out.astype(float)
    bad = np.isnan(out)
    if bad.any():
        raise GaussDistillError(
            f"{name} returned NaN at λ = {lam[bad][0]!r}; a CGF must return a real value, or +inf outside its domain"
        )
    neg_inf = np.isneginf(out)
    if neg_inf.any():
        raise GaussDistillError(f"{name} returned -inf at λ = {lam[neg_inf][0]!r}; a CGF of a centred variable is >= 0")
    return out


def check_centred(values: np.ndarray, lam: np.ndarray, name: str = "cgf") -> np.ndarray:
    """ψ(λ) >= 0 for a centred variable (Jensen): a clearly negative value is bad input, and
    rounding-level negatives are returned as 0 (a ψ(λ) < 0 from rounding, divided by a tiny λ
    in (K + ψ(λ))/λ, would otherwise make a bound arbitrarily wrong)."""
    finite = np.isfinite(values)
    if not finite.any():
        return values
    scale = max(1.0, float(np.max(np.abs(values[finite]))))
    neg = finite & (values < -1e-9 * scale)
    if neg.any():
        i = int(np.argmax(neg))
        raise GaussDistillError(
            f"{name} must be the CGF of the centred gap, ψ(λ) = log E exp(λ(g - gen_T)) >= 0 by Jensen; "
            f"got ψ({lam[i]!r}) = {values[i]!r} < 0 (did you pass the CGF of the uncentred gap?)"
        )
    return np.maximum(values, 0.0)


def u_minus_log1p(u):
    """u - log(1 + u) for u > -1, accurate for tiny |u| (series Σ_{k>=2} (-u)^k / k).

    Returns +inf at u = -1 and for u < -1 (callers mask those first).
    """
    u = np.asarray(u, dtype=float)
    out = np.empty_like(u)
    small = np.abs(u) < 0.1
    with np.errstate(divide="ignore", invalid="ignore"):
        big = ~small
        out[big] = u[big] - np.log1p(u[big])
    us = u[small]
    # Horner on Σ_{k=2}^{K} (-1)^k u^k / k = u^2 Σ_{j=0}^{K-2} (-u)^j / (j + 2)
    acc = np.zeros_like(us)
    for j in range(20, -1, -1):
        acc = acc * (-us) + 1.0 / (j + 2)
    out[small] = us * us * acc
    out[u <= -1.0] = np.inf
    out[u == np.inf] = np.inf          # inf − log1p(inf) would be NaN
    return out
