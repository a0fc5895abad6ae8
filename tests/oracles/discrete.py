"""A discrete random variable g with law p: its centred CGF and its exponential tilts.

The tilt Q ∝ p e^{λg} is where Donsker–Varadhan is an equality; its KL(Q‖P) and E_Q g are
computed at 50 digits in mpmath, since in float64 Σ q ln(q/p) loses its absolute digits for
λ near 0 (K ~ λ²Var/2 ~ 1e-15 at λ = 6e-8), and the bound divides that error by λ.
"""

from __future__ import annotations

import mpmath
import numpy as np
from scipy.special import logsumexp

DPS = 50


class DiscreteCGF:
    """Stable centred CGF ψ(λ) = log E e^{λ(g − E g)} of a discrete variable (values g, probabilities p)."""

    def __init__(self, g, p):
        self.g, self.p = np.asarray(g, float), np.asarray(p, float)
        self.mass = float(self.p.sum())  # 1 up to rounding: every formula divides by it
        self.mean = float(self.p @ self.g) / self.mass

    def __call__(self, lam):
        lam = np.asarray(lam, float)
        x = np.multiply.outer(lam, self.g - self.mean)
        # Near λ = 0, ψ ~ λ²Var/2 is far below 1: logsumexp would round it to an absolute
        # 1e-16, which a bound divides by λ. There ψ = log1p(Σ p (e^x − 1 − x) + Σ p x), Σ p x ≈ 0,
        # with e^x − 1 − x summed as a series for |x| < 0.1.
        small = np.abs(x) < 0.1
        xs = np.where(small, x, 0.0)
        series = xs * xs / 2 * (1 + xs / 3 * (1 + xs / 4 * (1 + xs / 5 * (1 + xs / 6 * (1 + xs / 7)))))
        excess = np.where(small, series, np.expm1(np.where(small, 0.0, np.minimum(x, 700.0))) - x)
        near_zero = np.log1p(np.sum(self.p * (excess + x), axis=-1) / self.mass)
        far = logsumexp(x, b=self.p / self.mass, axis=-1)
        return np.where(np.abs(x).max(axis=-1) < 1.0, near_zero, far)

    def tilt(self, lam):
        """The law Q ∝ p e^{λg}: (KL(Q‖P), E_Q g), each rounded once to float64."""
        with mpmath.workdps(DPS):
            g = [mpmath.mpf(float(x)) for x in self.g]
            p = [mpmath.mpf(float(x)) for x in self.p]
            p = [pi / mpmath.fsum(p) for pi in p]
            lam = mpmath.mpf(float(lam))
            top = max(g)
            w = [pi * mpmath.exp(lam * (gi - top)) for gi, pi in zip(g, p)]
            total = mpmath.fsum(w)
            q = [wi / total for wi in w]
            kl = mpmath.fsum(qi * mpmath.log(qi / pi) for qi, pi in zip(q, p) if qi > 0)
            mean = mpmath.fsum(qi * gi for qi, gi in zip(q, g))
            return float(kl), float(mean)
