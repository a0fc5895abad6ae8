r"""The one implementation of :math:`\varphi(u) = u - \ln(1 + u)`, in float64 and in mpmath.

:math:`\varphi` is the per-eigenvalue covariance term of every Gaussian KL
(docs/mathematics.md §1): with :math:`\rho = 1 + u` the ratio of two variances,
:math:`\mathrm{KL}(\mathcal N(0,\rho)\,\|\,\mathcal N(0,1)) = \tfrac12\varphi(\rho - 1)`.
Three regimes need care:

1. :math:`|u|` small: ``u - log1p(u)`` cancels (both terms are ~u, the result ~u²/2), so
   the alternating series :math:`\sum_{j\ge2}(-u)^j/j` is summed instead;
2. moderate :math:`u`: ``u - log1p(u)`` is accurate;
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

# Where the series replaces the direct difference. With |u| < SERIES_CUTOFF the 12 terms
# below leave a truncation error under |u|^13/13 / (u^2/2) < 1e-22 relative.
SERIES_CUTOFF = 1e-2
_SERIES_TERMS = 12


def _series(u: np.ndarray) -> np.ndarray:
    # Horner evaluation of sum_{j=2}^{J} (-1)^j u^j / j = u^2 * sum_{j=2}^{J} (-u)^{j-2} / j.
    acc = np.zeros_like(u)
    for j in range(_SERIES_TERMS + 1, 1, -1):
        acc = 1.0 / j - u * acc
    return u * u * acc


def u_minus_log1p(u, ratio=None) -> np.ndarray:
    r"""Elementwise :math:`\varphi(u) = u - \ln(1 + u) \ge 0` in float64, for :math:`u > -1`.

    Parameters
    ----------
    u : array_like
        The relative differences :math:`u = (a - b)/b`.
    ratio : array_like or None
        The ratios :math:`1 + u = a/b` computed directly (same shape as ``u``), when the
        caller has them. Used wherever :math:`|u| \ge` ``SERIES_CUTOFF``: it keeps every
        digit of a ratio such as 1e-17 that ``1 + u`` would round to 0. Where
        :math:`|u|` is small the series in ``u`` is used (``u`` is then the accurate one).

    Returns
    -------
    ndarray of float64 (0-d for scalar input). ``ratio = 0`` (or ``u = -1``) gives +inf.
    """
    u = np.asarray(u, dtype=float)
    out = np.empty_like(u)
    small = np.abs(u) < SERIES_CUTOFF
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
            elif r is not None and abs(uu) >= SERIES_CUTOFF:
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


__all__ = ["u_minus_log1p", "u_minus_log1p_mp", "u_minus_log1p_mp_array", "SERIES_CUTOFF"]
