r"""The one implementation of :math:`\varphi(u) = u - \ln(1 + u)`, in float64 and in mpmath.

:math:`\varphi` is the per-eigenvalue covariance term of every Gaussian KL
(docs/mathematics.md §5.1): with :math:`\rho = 1 + u` the ratio of two variances,
:math:`\mathrm{KL}(\mathcal N(0,\rho)\,\|\,\mathcal N(0,1)) = \tfrac12\varphi(\rho - 1)`.
Three regimes need care:

1. :math:`-0.5 \le u \le 1`: ``u - log1p(u)`` cancels (both terms are ~u, the result
   ~u²/2, so log10(2/|u|) digits are lost), so a series in :math:`t = u/(2+u)` with
   positive terms is summed instead;
2. :math:`u > 1`: ``u - log1p(u)`` is accurate;
3. :math:`u` near −1 (a very small variance ratio): u itself, computed as
   :math:`(a-b)/b`, has lost the digits of :math:`1 + u = a/b` (at a/b = 1e-17, 1 + u
   rounds to 0). Callers that have the ratio pass it as ``ratio`` and the function uses
   :math:`(\rho - 1) - \ln\rho` there, exact to a few ulps for every :math:`\rho > 0`.

The float64 function is vectorised; :func:`u_minus_log1p_mp` is the same at a given
number of mpmath digits (``dps``).
"""
from __future__ import annotations

import mpmath
import numpy as np

# Where the series replaces the direct difference: -0.5 <= u <= 1, i.e. |t| <= 1/3 for
# t = u/(2+u). 18 terms of the series in t^2 <= 1/9 leave a truncation error < 1e-18 relative.
SERIES_LOW, SERIES_HIGH = -0.5, 1.0
_SERIES_TERMS = 18


def _series(u: np.ndarray) -> np.ndarray:
    r"""φ(u) for -0.5 <= u <= 1 from t = u/(2+u), without cancellation.

    ln(1+u) = 2 atanh t = 2(t + t³/3 + t⁵/5 + …) and u = 2t/(1−t), so
    φ(u) = 2t²/(1−t) − 2t³ Σ_{j≥0} t^{2j}/(2j+3): both terms are positive for u < 0, and for
    u > 0 the second is at most 1/12 of the first, so no digits cancel (unlike u − log1p(u),
    which loses log10(2/|u|) digits).
    """
    t = u / (2.0 + u)
    t2 = t * t
    acc = np.zeros_like(u)
    for j in range(_SERIES_TERMS, -1, -1):   # Horner in t²
        acc = 1.0 / (2 * j + 3) + t2 * acc
    return 2.0 * t2 / (1.0 - t) - 2.0 * t2 * t * acc


def u_minus_log1p(u, ratio=None) -> np.ndarray:
    r"""Elementwise :math:`\varphi(u) = u - \ln(1 + u) \ge 0` in float64, for :math:`u > -1`.

    Parameters
    ----------
    u : array_like
        The relative differences :math:`u = (a - b)/b`.
    ratio : array_like or None
        The ratios :math:`1 + u = a/b` computed directly (same shape as ``u``), when the
        caller has them. Used outside -0.5 <= u <= 1: it keeps every digit of a ratio such
        as 1e-17 that ``1 + u`` would round to 0. Inside, a series in
        :math:`t = u/(2+u)` is used (``u`` is then the accurate one: near 0 it carries the
        digits that ``ratio - 1`` would lose).

    Returns
    -------
    ndarray of float64 (0-d for scalar input). ``ratio = 0`` (or ``u = -1``) gives +inf.
    """
    u = np.asarray(u, dtype=float)
    out = np.empty_like(u)
    small = (u >= SERIES_LOW) & (u <= SERIES_HIGH)
    out[small] = _series(u[small])
    big = ~small
    with np.errstate(divide="ignore", over="ignore"):
        if ratio is None:
            ub = u[big]
            out[big] = ub - np.log1p(ub)
        else:
            rb = np.broadcast_to(np.asarray(ratio, dtype=float), u.shape)[big]
            out[big] = (rb - 1.0) - np.log(rb)
    return out


def u_minus_log1p_mp(u=None, ratio=None, dps: int = 50):
    r""":math:`\varphi(u) = u - \ln(1+u)` as an ``mpmath.mpf`` correct to ``dps`` digits.

    Give ``u``, or ``ratio`` (:math:`1 + u`), or both (``u`` is then used near 0 and
    ``ratio`` away from it, as in :func:`u_minus_log1p`). Inputs may be floats (taken
    exactly), mpmath numbers or strings of digits already validated by the caller. For
    :math:`|u| < 10^{-\mathrm{dps}}` the two-term series :math:`u^2/2 - u^3/3` is exact to
    the working precision; otherwise the difference is formed with ``dps`` extra digits,
    which absorbs the cancellation.
    """
    if u is None and ratio is None:
        raise TypeError("u_minus_log1p_mp needs u or ratio")
    with mpmath.workdps(int(dps)):
        with mpmath.extradps(int(dps) + 10):
            if u is None:
                r = mpmath.mpf(ratio)
                uu = r - 1
            else:
                uu = mpmath.mpf(u)
                r = None if ratio is None else mpmath.mpf(ratio)
            if uu == 0:
                return mpmath.mpf(0)
            if abs(uu) < mpmath.mpf(10) ** (-int(dps)):
                value = uu * uu * (mpmath.mpf(1) / 2 - uu / 3)
            elif r is not None and not SERIES_LOW <= uu <= SERIES_HIGH:
                value = (r - 1) - mpmath.log(r)
            else:
                value = uu - mpmath.log1p(uu)
        return +value   # round to the working precision


def u_minus_log1p_mp_array(u, ratio=None, dps: int = 50) -> np.ndarray:
    """Elementwise :func:`u_minus_log1p_mp` on (object) arrays; returns an object array."""
    u = np.asarray(u, dtype=object)
    if ratio is None:
        return np.array([u_minus_log1p_mp(x, None, dps) for x in u.ravel()], dtype=object).reshape(u.shape)
    ratio = np.broadcast_to(np.asarray(ratio, dtype=object), u.shape)
    return np.array([u_minus_log1p_mp(x, r, dps) for x, r in zip(u.ravel(), ratio.ravel())],
                    dtype=object).reshape(u.shape)


__all__ = ["u_minus_log1p", "u_minus_log1p_mp", "u_minus_log1p_mp_array", "SERIES_LOW", "SERIES_HIGH"]
