"""KL between two soft-label laws of ridge teachers on an ill-conditioned design, against the
exact pipeline at 60 digits (mpmath from X and Y: inverses, no package code).

The row-space route formed S = U diag(t ν²/(s+λ)) Uᵀ in float64 (entries up to ν²/λ) and then
Gᵀ S G: the weak directions lost cond·eps, 1e-7 relative at cond(X Xᵀ) = 1e10, silently.
"""
from __future__ import annotations

import warnings

import mpmath
import numpy as np
import pytest

import gaussdistill as gd


def _mp(a):
    return mpmath.matrix(np.atleast_2d(np.asarray(a, float)).tolist())


def _design(rng, d, n, cond):
    L = np.linalg.qr(rng.standard_normal((d, d)))[0]
    R = np.linalg.qr(rng.standard_normal((n, d)))[0]
    return (L * np.sqrt(np.geomspace(1, 1 / cond, d))) @ R.T


def _mp_soft_label_kl(X, teachers, taus):
    """KL(P₁ ‖ P₂), P_i = MN(M_i X, I, τ_i² I + Xᵀ Σ_i X), with (Y, λ, ν) per teacher."""
    with mpmath.workdps(60):
        Xm = _mp(X)
        d, n = Xm.rows, Xm.cols
        laws = []
        for (Y, lam, noise), tau in zip(teachers, taus):
            Ai = mpmath.inverse(Xm * Xm.T + mpmath.mpf(lam) * mpmath.eye(d))
            M = _mp(Y) * Xm.T * Ai
            laws.append((M * Xm, mpmath.mpf(tau) ** 2 * mpmath.eye(n) + Xm.T * (mpmath.mpf(noise) ** 2 * Ai) * Xm))
        (m1, v1), (m2, v2) = laws
        k = m1.rows
        v2i = mpmath.inverse(v2)
        D = m1 - m2
        return (k * (mpmath.fsum((v2i * v1)[i, i] for i in range(n)) - n + mpmath.log(mpmath.det(v2) / mpmath.det(v1)))
                + mpmath.fsum((D * v2i * D.T)[i, i] for i in range(k))) / 2


@pytest.mark.parametrize("cond", [1e4, 1e10, 1e12])
def test_soft_label_kl_of_two_ridge_teachers_is_accurate_on_ill_conditioned_designs(cond):
    rng = np.random.default_rng(3)
    k, d, n = 3, 5, 12
    X = _design(rng, d, n, cond)
    Y = rng.standard_normal((k, d)) @ X + 0.3 * rng.standard_normal((k, n))
    specs = [(Y, 1e-14, 0.5), (1.1 * Y, 1e-12, 0.6)]
    t1, t2 = (gd.ridge_teacher(X, *s) for s in specs)
    ref = _mp_soft_label_kl(X, specs, (0.4, 0.5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gd.ConditioningWarning)
        got = gd.kl_matrix_normal(gd.soft_labels(t1, X, 0.4), gd.soft_labels(t2, X, 0.5))
    assert float(abs(mpmath.mpf(got) - ref) / ref) < 1e-10
