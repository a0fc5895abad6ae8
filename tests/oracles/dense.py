"""Dense float64 references: vectorise, form the Kronecker covariance, use the textbook KL.

A matrix normal law MN(M, U, V) (row covariance U, k×k; column covariance V, n×n) is the
Gaussian law of ``vec W ~ N(vec M, V ⊗ U)`` with column-stacking ``vec`` (docs/mathematics.md
§1). These functions build that kd×kd (or kn×kn) matrix explicitly, so they are only for
small sizes, and they are exactly what the package must avoid in its hot paths.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla


def vec(m):
    """Column stacking, so that ``cov(vec W) = V ⊗ U`` for ``W ~ MN(M, U, V)``."""
    return np.asarray(m).reshape(-1, order="F")


def dense_gauss_kl(mu1, S1, mu2, S2):
    """Textbook KL(N(mu1, S1) ‖ N(mu2, S2)) for nonsingular S1, S2, float64.

    ½[tr(S2⁻¹S1) − N + (mu2 − mu1)ᵀ S2⁻¹ (mu2 − mu1) + ln det S2 − ln det S1].
    """
    mu1, mu2 = np.asarray(mu1, dtype=float), np.asarray(mu2, dtype=float)
    dim = len(mu1)
    diff = mu2 - mu1
    _, ld1 = np.linalg.slogdet(S1)
    _, ld2 = np.linalg.slogdet(S2)
    return 0.5 * (np.trace(np.linalg.solve(S2, S1)) + diff @ np.linalg.solve(S2, diff) - dim + ld2 - ld1)


def dense_mn_kl(m1, u1, v1, m2, u2, v2):
    """KL(MN(m1, u1, v1) ‖ MN(m2, u2, v2)) by the dense Kronecker form (nonsingular, small)."""
    return dense_gauss_kl(vec(m1), np.kron(v1, u1), vec(m2), np.kron(v2, u2))


def naive_gauss_kl_cholesky(mu1, S1, mu2, S2):
    """The torch/NumPyro recipe ``tr − d − logdet`` from two independent Cholesky factors.

    Not an oracle: the naive baseline whose rounding the accuracy tables compare against.
    """
    L1 = np.linalg.cholesky(S1)
    L2 = np.linalg.cholesky(S2)
    M = sla.solve_triangular(L2, L1, lower=True)
    diff = sla.solve_triangular(L2, np.asarray(mu2) - np.asarray(mu1), lower=True)
    half_logdet = np.sum(np.log(np.diag(L2))) - np.sum(np.log(np.diag(L1)))
    return 0.5 * (np.sum(M * M) + diff @ diff - len(mu1)) + half_logdet


def predictive_moments(M, Sigma, X, tau):
    """Mean ``M X`` and column covariance ``τ² I_n + Xᵀ Σ X`` of a predictive law, dense n×n."""
    return M @ X, tau**2 * np.eye(X.shape[1]) + X.T @ Sigma @ X


def dense_divergence(Ms, Ss, Mt, St, X, tau, kind, direction="student||teacher"):
    """K^Y ("predictive"), K̄ ("convexity") or K^W ("weight") formed densely (docs/mathematics.md §2.2).

    Student law MN(Ms, I_k, Ss), teacher law MN(Mt, I_k, St), design X (d×n), soft-label
    noise tau. Nonsingular covariances only (use the mpmath module for ill-conditioned ones).
    """
    k = Ms.shape[0]
    if kind == "convexity":
        D = (Ms - Mt) @ X
        return (np.sum(D * D) + k * np.trace(X.T @ (Ss + St) @ X)) / (2 * tau**2)
    if kind == "predictive":
        ms, vs = predictive_moments(Ms, Ss, X, tau)
        mt, vt = predictive_moments(Mt, St, X, tau)
    elif kind == "weight":
        ms, vs, mt, vt = Ms, Ss, Mt, St
    else:
        raise ValueError(f"unknown kind {kind!r}")
    a = (vec(ms), np.kron(vs, np.eye(k)))
    b = (vec(mt), np.kron(vt, np.eye(k)))
    if direction == "teacher||student":
        a, b = b, a
    return dense_gauss_kl(*a, *b)
