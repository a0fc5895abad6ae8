"""The symbolic face of φ(u) = u − ln(1 + u), evaluated by the package's one implementation.

φ(ρ − 1) = ρ − 1 − ln ρ is the per-mode covariance term of a Gaussian KL (ρ the variance
ratio, docs/mathematics.md §2.3).  The engine forms u = ρ − 1 *structurally* (the equal
parts of the two covariances cancel symbolically) and keeps φ as the sympy function
:class:`u_minus_log1p`, so that lambdified code calls the stable float64 / mpmath
implementation of :mod:`gaussdistill._numerics.special` (series near 0) instead of
cancelling ``ρ − 1 − ln ρ``.  It prints as the formula ``u − ln(1 + u)``, never by name.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .._numerics.special import u_minus_log1p as u_minus_log1p_np
from .._numerics.special import u_minus_log1p_mp
from ..errors import GaussDistillError


class u_minus_log1p(sp.Function):
    r"""φ(u) = u − ln(1 + u) for u > −1 (φ >= 0, φ(0) = 0, φ'(u) = u/(1+u)).

    ``u_minus_log1p(u, rho)`` also carries the ratio ρ = 1 + u formed directly (a quotient
    of the two variances): numbers use ``u`` near 0, where it holds the digits ``ρ − 1``
    would lose, and ρ away from 0, where ``1 + u`` has lost the digits of a small ratio
    (ρ = 1e-17 rounds 1 + u to 0).  It prints as ``u − ln(1 + u)`` either way.
    """

    nargs = (1, 2)

    @classmethod
    def eval(cls, u, rho=None):
        if u.is_zero:
            return sp.S.Zero

    def fdiff(self, argindex=1):
        if argindex == 2:  # φ is a function of u alone; ρ only carries digits
            return sp.S.Zero
        u = self.args[0]
        return u / (self.args[1] if len(self.args) == 2 else 1 + u)

    def _eval_rewrite_as_log(self, u, rho=None, **kwargs):
        return u - sp.log(1 + u)

    def _eval_evalf(self, prec):
        # sympy's evalf of the Add is adaptive: it raises precision through the cancellation.
        return (self.args[0] - sp.log(1 + self.args[0])).evalf(prec_to_dps(prec))

    def _eval_is_nonnegative(self):
        if self.args[0].is_real:
            return True

    def _latex(self, printer, exp=None):
        u = printer._print(self.args[0])
        out = rf"\left({u} - \ln\left(1 + {u}\right)\right)"
        return out if exp is None else rf"{out}^{{{exp}}}"

    def _sympystr(self, printer):
        u = printer._print(self.args[0])
        return f"({u} - log(1 + {u}))"

    def _pretty(self, printer):
        return printer._print(self.args[0] - sp.log(1 + self.args[0], evaluate=False))


def prec_to_dps(prec):
    from mpmath.libmp import prec_to_dps as p2d
    return p2d(prec)


def _mp_u_minus_log1p(u, rho=None):
    import mpmath
    return u_minus_log1p_mp(u, rho, dps=mpmath.mp.dps)  # the working precision of the caller


def _np_u_minus_log1p(u, rho=None):
    if rho is None:
        return u_minus_log1p_np(u)
    u, rho = np.broadcast_arrays(np.asarray(u, dtype=float), np.asarray(rho, dtype=float))
    return u_minus_log1p_np(u, rho)


def numeric_modules(backend: str):
    """``modules=`` argument for sympy.lambdify that knows the engine's functions (the one
    implementation of φ in :mod:`gaussdistill._numerics.special`)."""
    if backend == "numpy":
        return [{"u_minus_log1p": _np_u_minus_log1p}, "numpy"]
    if backend == "mpmath":
        return [{"u_minus_log1p": _mp_u_minus_log1p}, "mpmath"]
    raise GaussDistillError(f"backend={backend!r}; valid options: 'numpy', 'mpmath'")
