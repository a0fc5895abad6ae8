"""Robust minimisation of λ -> (K + ψ(sλ))/λ over λ in (0, hi) (private).

(K + ψ(λ))/λ is quasi-convex on λ > 0 for a convex ψ with ψ(0) = 0 and K >= 0: its
derivative has the sign of h(λ) = λψ'(λ) − ψ(λ) − K, and h' = λψ'' >= 0, h(0) = −K <= 0.
So a grid bracket followed by a bounded scalar minimisation finds the infimum. The
variable is t = logit(λ/hi) for a finite ``hi`` (logarithmic both near 0 and near the
edge of the domain) and t = log λ for hi = +inf. Any λ gives a valid bound, so the value
reported is the objective evaluated exactly at the λ found.
"""
from __future__ import annotations

import math

import numpy as np

from ._checks import check_centred, eval_cgf

_GRID = 321


def _lam_of_t(t, hi):
    t = np.asarray(t, dtype=float)
    if math.isinf(hi):
        return np.exp(t)
    return hi / (1.0 + np.exp(-t))  # hi · logistic(t); t is bounded in [−60, 35], no overflow


def minimise_ratio(K: float, cgf, sign: float, hi: float, *, name: str = "cgf",
                   grid_t=None) -> dict:
    """inf over λ in (0, hi) of (K + ψ(sign·λ))/λ, with λ*, edge flags and the evaluation count.

    ``hi`` is the largest λ allowed (the CGF's domain edge on that side; +inf allowed).
    If ψ is finite at λ = hi itself (closed domain), that point is tried too.
    """
    from scipy.optimize import minimize_scalar  # imported on first use: keeps the package import light

    if grid_t is None:
        # logit(λ/hi) in [−60, 35]: λ/hi from 9e-27 to 1 − 6e-16; log λ in [−60, 60] when hi = inf
        grid_t = np.linspace(-60.0, 35.0, _GRID) if math.isfinite(hi) else np.linspace(-60.0, 60.0, _GRID)
        if 0.0 < K < 1e-40:
            # λ* ~ sqrt(2K/σ²) may lie below e^-60 (K = 1e-300 gave 4e-27 instead of sqrt(2K) = 1.4e-150
            # for ψ = λ²/2): extend the grid down to about sqrt(K)·e^-30 (at most e^-700)
            t_lo = max(0.5 * math.log(K) - 30.0, -700.0)
            grid_t = np.concatenate([np.linspace(t_lo, -60.0, 80, endpoint=False), grid_t])
    lam = _lam_of_t(grid_t, hi)
    keep = (lam > 0) & (lam < hi)
    grid_t, lam = grid_t[keep], lam[keep]
    psi = check_centred(eval_cgf(cgf, sign * lam, name), sign * lam, name)
    evals = lam.size
    with np.errstate(over="ignore", invalid="ignore"):
        obj = (K + psi) / lam
    edge_value = None
    if math.isfinite(hi):
        psi_hi = check_centred(eval_cgf(cgf, np.array([sign * hi]), name), np.array([sign * hi]), name)[0]
        evals += 1
        if math.isfinite(psi_hi):
            edge_value = (K + psi_hi) / hi
    finite = np.isfinite(obj)
    if not finite.any() and edge_value is None:
        return {"value": math.inf, "lambda": math.nan, "evaluations": evals, "at_edge": False,
                "at_infinity": False, "reason": "ψ is +inf at every λ > 0 tried on this side: the bound is vacuous"}
    best = {"value": math.inf, "lambda": math.nan}
    if finite.any():
        masked = np.where(finite, obj, np.inf)
        low = float(masked.min())
        # the last grid point within rounding of the minimum: a flat tail (bounded gap, the
        # infimum as λ -> inf) is then recognised as reaching the top of the grid
        i = int(np.flatnonzero(masked <= low + 4.0 * np.finfo(float).eps * max(abs(low), 1e-300))[-1])
        best = {"value": float(obj[i]), "lambda": float(lam[i])}
        lo_t = grid_t[max(i - 1, 0)]
        hi_t = grid_t[min(i + 1, grid_t.size - 1)]
        if hi_t > lo_t:
            def f(t):
                lt = float(_lam_of_t(t, hi))
                if not 0 < lt < hi:
                    return math.inf
                v = check_centred(eval_cgf(cgf, np.array([sign * lt]), name), np.array([sign * lt]), name)[0]
                return (K + v) / lt if math.isfinite(v) else math.inf

            with np.errstate(invalid="ignore", over="ignore"):   # ±inf values (overflow) inside Brent's steps
                res = minimize_scalar(f, bounds=(lo_t, hi_t), method="bounded",
                                      options={"xatol": 1e-10, "maxiter": 200})
            evals += int(res.nfev)
            if math.isfinite(res.fun) and res.fun < best["value"]:
                best = {"value": float(res.fun), "lambda": float(_lam_of_t(res.x, hi))}
        at_top = i == grid_t.size - 1
    else:
        at_top = True
    at_edge = False
    if edge_value is not None and edge_value <= best["value"]:
        best = {"value": float(edge_value), "lambda": float(hi)}
        at_edge = True
    elif math.isfinite(hi) and at_top:
        at_edge = True
    at_infinity = bool(math.isinf(hi) and at_top)
    if at_infinity:  # the objective still decreases: follow it out to 1e300
        far = 10.0 ** np.arange(30.0, 301.0, 15.0)
        psi_far = check_centred(eval_cgf(cgf, sign * far, name), sign * far, name)
        evals += far.size
        with np.errstate(over="ignore", invalid="ignore"):
            obj_far = np.where(np.isfinite(psi_far), (K + psi_far) / far, np.inf)
        j = int(np.argmin(obj_far))
        if obj_far[j] < best["value"]:
            best = {"value": float(obj_far[j]), "lambda": float(far[j])}
    out = {**best, "evaluations": evals, "at_edge": at_edge, "at_infinity": at_infinity, "reason": ""}
    if out["at_infinity"]:
        out["reason"] = ("the objective still decreases at λ = 1.1e26 (then tried up to 1e300); the value is a "
                         "valid bound at the λ reported, the infimum may be its limit as λ -> inf")
    elif at_edge:
        out["reason"] = "the minimiser lies at the edge of the CGF's domain"
    return out
