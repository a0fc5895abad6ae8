"""Special functions of the engine, with stable numeric implementations.

``u_minus_log1p(u) = u - ln(1 + u)`` is the per-mode covariance term of a Gaussian KL,
written with u = ρ − 1 where ρ is the covariance ratio.  The engine forms u
*structurally* (the equal parts of the two covariances cancel symbolically), and the
numeric backends evaluate φ(u) without the catastrophic cancellation of ρ − 1 − ln ρ
(docs/STYLE.md §8: 2e-2 relative error at KL ≈ 3.5e-14 for the naive route): numpy uses
the alternating series Σ_{m≥2} (−u)^m/m for |u| < 1e-2.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

_SERIES_CUT = 1e-2
_SERIES_TERMS = 14  # |u|^13/14 relative to u^2/2: < 1e-22 for |u| < 1e-2


class u_minus_log1p(sp.Function):
    r"""φ(u) = u − ln(1 + u) for u > −1 (φ >= 0, φ(0) = 0, φ'(u) = u/(1+u))."""

    nargs = 1

    @classmethod
    def eval(cls, u):
        if u.is_zero:
            return sp.S.Zero

    def fdiff(self, argindex=1):
        u = self.args[0]
        return u / (1 + u)

    def _eval_rewrite_as_log(self, u, **kwargs):
        return u - sp.log(1 + u)

    def _eval_evalf(self, prec):
        # sympy's evalf of the Add is adaptive: it raises precision through the cancellation.
        return (self.args[0] - sp.log(1 + self.args[0])).evalf(prec_to_dps(prec))

    def _eval_is_nonnegative(self):
        if self.args[0].is_real:
            return True

    def _latex(self, printer):
        u = printer._print(self.args[0])
        return r"\left(%s - \ln\left(1 + %s\right)\right)" % (u, u)


def prec_to_dps(prec):
    from mpmath.libmp import prec_to_dps as p2d
    return p2d(prec)


def _np_u_minus_log1p(u):
    u = np.asarray(u, dtype=float)
    with np.errstate(all="ignore"):
        out = u - np.log1p(u)
    small = np.abs(u) < _SERIES_CUT
    if np.any(small):
        us = u[small]  # the series only where it is needed (cheap on large grids)
        acc = np.zeros_like(us)
        term = us * us
        for m in range(2, _SERIES_TERMS + 1):  # Σ_{m>=2} (-u)^m / m
            acc += term / m if m % 2 == 0 else -term / m
            term = term * us
        out = np.array(out, copy=True)
        out[small] = acc
    return out if out.ndim else float(out)


def _mp_u_minus_log1p(u):
    import mpmath
    return u - mpmath.log1p(u)


def numeric_modules(backend: str):
    """``modules=`` argument for sympy.lambdify that knows the engine's functions."""
    if backend == "numpy":
        return [{"u_minus_log1p": _np_u_minus_log1p}, "numpy"]
    if backend == "mpmath":
        return [{"u_minus_log1p": _mp_u_minus_log1p}, "mpmath"]
    raise ValueError(f"backend={backend!r}; valid options: 'numpy', 'mpmath'")
