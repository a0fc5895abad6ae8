r"""Gaussian plug-in estimator of KL(p ‖ q): fit a mean and a covariance to each sample.

.. math::
    \hat D = \mathrm{KL}\big(\mathcal N(\hat\mu_p, \hat\Sigma_p)\,\|\,\mathcal N(\hat\mu_q, \hat\Sigma_q)\big)
    = \tfrac12\big[\hat T + \hat m - \text{dim} + \ln\det\hat\Sigma_q - \ln\det\hat\Sigma_p\big],

:math:`\hat T = \operatorname{tr}(\hat\Sigma_q^{-1}\hat\Sigma_p)`,
:math:`\hat m = \hat\delta^T\hat\Sigma_q^{-1}\hat\delta`, :math:`\hat\delta = \hat\mu_p - \hat\mu_q`,
evaluated from Cholesky factors :math:`\hat L` of the fitted covariances taken from the QR
decomposition of the centred data (:math:`\ln\det\hat\Sigma = 2\sum_i \ln \hat L_{ii}`), never
from a formed :math:`\hat\Sigma`: it equals the package's matrix-normal KL of the fitted laws
(one row, :math:`\mathcal{MN}(\hat\mu^T, 1, \hat\Sigma)`) and stays accurate at condition numbers
of :math:`\hat\Sigma` of 1e18 and beyond. Exactly degenerate samples (centred data of rank < dim)
go through :func:`gaussdistill.kl_matrix_normal`, whose support rule gives ``inf`` (with the
reason) when the fitted laws have different supports.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.linalg import solve_triangular
from scipy.special import digamma

from .._numerics.threads import single_blas_thread
from ..errors import GaussDistillError
from ._samples import affine_rank, as_pair
from .result import KLEstimate


def _mean_cov(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mu = x.mean(axis=0)
    centred = x - mu
    cov = centred.T @ centred / (x.shape[0] - 1)
    return mu, 0.5 * (cov + cov.T), centred


def _factor(x: np.ndarray) -> tuple[int, np.ndarray]:
    """(rank of the centred rows, lower Cholesky factor L of the sample covariance, L Lᵀ = Σ̂).

    L comes from the QR decomposition of the centred data (:func:`affine_rank`), not from
    Σ̂ itself, so it keeps its digits for condition numbers of Σ̂ far beyond 1e12.
    """
    rank, r = affine_rank(x)
    return rank, r.T / math.sqrt(x.shape[0] - 1)


def _logdet_offset(dof: int, dim: int) -> float:
    """E ln det Σ̂ − ln det Σ for Σ̂ = W/ν, W ~ Wishart(Σ, ν): Σ_i ψ((ν − i + 1)/2) + dim ln(2/ν)."""
    i = np.arange(1, dim + 1)
    return float(np.sum(digamma((dof - i + 1) / 2.0)) + dim * math.log(2.0 / dof))


def gaussian_kl(samples_p, samples_q, *, debias: bool = True) -> KLEstimate:
    r"""Gaussian plug-in estimate of KL(p ‖ q) from samples, with a delta-method standard error.

    Fits :math:`\hat\mu, \hat\Sigma` (sample mean, covariance with N − 1) to each sample and
    evaluates :math:`\mathrm{KL}(\mathcal N(\hat\mu_p,\hat\Sigma_p)\|\mathcal N(\hat\mu_q,\hat\Sigma_q))`
    (``plugin`` in the result; module docstring for how). It estimates the KL
    of the Gaussian laws with p's and q's means and covariances: exact in the limit for
    Gaussian p and q, a different quantity otherwise.

    Bias: the plug-in is biased upwards, by about dim(dim + 3)/4 · (1/N + 1/M) when p = q.
    With ``debias=True`` (default) the exact Gaussian-sampling bias is removed, using the
    Wishart moments :math:`E\hat\Sigma_q^{-1} = \frac{M-1}{M-\text{dim}-2}\Sigma_q^{-1}`,
    :math:`E\ln\det\hat\Sigma = \ln\det\Sigma + \sum_{i=1}^{\text{dim}}\psi(\tfrac{\nu-i+1}{2}) +
    \text{dim}\ln\tfrac{2}{\nu}` (ν = N − 1) and :math:`E\hat\delta\hat\delta^T = \delta\delta^T +
    \Sigma_p/N + \Sigma_q/M`:

    .. math::
        \hat D_u = \tfrac12\Big[c\hat T\big(1 - \tfrac1N\big) + c\,\hat m - \tfrac{\text{dim}}{M}
        - \text{dim} + (\ln\det\hat\Sigma_q - b_q) - (\ln\det\hat\Sigma_p - b_p)\Big],\quad
        c = \frac{M - \text{dim} - 2}{M - 1},

    which is unbiased for Gaussian samples (it can be slightly negative near p = q).

    Standard error: the delta method with empirical influence values (valid for
    non-Gaussian samples too), V₁ below, combined with the exact second-order variance at
    p = q, V₂ = dim(dim + 3)/4 · (1/N + 1/M)²:

    .. math::
        \mathrm{se}^2 = \max(V_1 - V_2,\ V_2),\qquad
        V_1 = \frac{\widehat{\operatorname{Var}}\,\phi_p(x)}{N}
        + \frac{\widehat{\operatorname{Var}}\,\phi_q(y)}{M}.

    The fitted influence values carry the noise of δ̂ and Σ̂: at p = q, E V₁ ≈ 2V₂ although
    the first-order variance is 0, so V₁ − V₂ estimates the total there and V₂ is a floor.
    Measured SD(estimates)/RMS(stderr) over 200 repetitions, dim 1–10, N 50–1000, shifts
    0–1 and a 1.1 scale: 0.66–1.20 (it was 0.54–1.08 with se² = V₁ + V₂, whose error bar
    was 1.8× too wide near p = q).

    :math:`\phi_p(x) = \hat\delta^T\hat\Sigma_q^{-1}(x - \hat\mu_p) + \tfrac12 (x-\hat\mu_p)^T
    (\hat\Sigma_q^{-1} - \hat\Sigma_p^{-1})(x - \hat\mu_p)` (the fitted log-likelihood ratio) and
    :math:`\phi_q(y) = -\hat\delta^T\hat\Sigma_q^{-1} z + \tfrac12 z^T(\hat\Sigma_q^{-1} -
    \hat\Sigma_q^{-1}(\hat\Sigma_p + \hat\delta\hat\delta^T)\hat\Sigma_q^{-1}) z`,
    :math:`z = y - \hat\mu_q`. Cost O((N + M) dim² + dim³); no explicit inverse.

    Parameters
    ----------
    samples_p : (N, dim) array of draws of p, N >= dim + 1 (dim + 3 with ``debias``).
    samples_q : (M, dim) array of draws of q, M >= dim + 1 (dim + 3 with ``debias``).
    debias : remove the Gaussian-sampling bias (default True).

    Returns
    -------
    KLEstimate (``method="gaussian"``; ``plugin`` holds the uncorrected value). When the
    fitted laws have different supports the package's KL is ``inf``; so are value and
    stderr, and ``note`` gives the reason.
    """
    p, q = as_pair(samples_p, samples_q)
    if not isinstance(debias, (bool, np.bool_)):
        raise GaussDistillError(f"debias must be True or False; got {debias!r}")
    n, dim = p.shape
    m = q.shape[0]
    need = dim + 3 if debias else dim + 1
    for name, rows in (("samples_p", n), ("samples_q", m)):
        if rows < need:
            raise GaussDistillError(
                f"{name} has {rows} rows; the Gaussian plug-in in dimension {dim} needs at least "
                f"{need} (dim + {need - dim}{' with debias=True' if debias else ''})")
    with single_blas_thread():
        return _gaussian_kl(p, q, debias)


def _gaussian_kl(p: np.ndarray, q: np.ndarray, debias: bool) -> KLEstimate:
    """The work of :func:`gaussian_kl` on validated samples (no checking)."""
    from .. import MatrixNormal, kl_matrix_normal

    n, dim = p.shape
    m = q.shape[0]
    mu_p, cov_p, cp = _mean_cov(p)
    mu_q, cov_q, cq = _mean_cov(q)
    rank_p, chol_p = _factor(p)
    rank_q, chol_q = _factor(q)
    note = "delta-method stderr; Gaussian fit of the samples"
    if rank_p < dim or rank_q < dim:
        # Exactly degenerate data: the fitted laws' supports decide (the package's rank rule).
        plugin = kl_matrix_normal(MatrixNormal(mu_p[None, :], cov_p), MatrixNormal(mu_q[None, :], cov_q))
        if not math.isfinite(float(plugin)):
            reason = getattr(plugin, "reason", "") or "the fitted laws have different supports"
            return KLEstimate(math.inf, math.inf, "gaussian", n, m, dim, None, "none", math.inf,
                              f"KL(p || q) = +inf: {reason}")
        name = "samples_p" if rank_p < dim else "samples_q"
        raise GaussDistillError(
            f"{name} has a singular sample covariance (rank {min(rank_p, rank_q)} < dim = {dim}: some direction "
            "has no spread, or fewer independent rows than dim + 1) and the fitted laws share that support; "
            "the Gaussian plug-in needs full-rank covariances: project both samples onto their common subspace")
    delta = mu_p - mu_q
    g = solve_triangular(chol_q, chol_p, lower=True)          # L_q^{-1} L_p
    trace = float(np.sum(g * g))                              # tr(Σ_q^{-1} Σ_p)
    dt = solve_triangular(chol_q, delta, lower=True)          # L_q^{-1} δ
    mahal = float(dt @ dt)
    # The plug-in from the data's own factors (ln det Σ̂ = 2 Σ ln diag L). It equals
    # kl_matrix_normal of the fitted laws (tested), which factors the *formed* Σ̂ and so
    # loses the small variances once cond(Σ̂) ≳ 1e15; these factors keep them.
    logdet = 2.0 * (np.sum(np.log(np.diag(chol_q))) - np.sum(np.log(np.diag(chol_p))))
    plugin = value = 0.5 * (trace + mahal - dim + float(logdet))
    if debias:
        c = (m - dim - 2) / (m - 1)
        value += 0.5 * ((c - 1.0) * (trace + mahal) - c * trace / n - dim / m
                        - _logdet_offset(m - 1, dim) + _logdet_offset(n - 1, dim))
    # Influence values (constants dropped: only their variances are used).
    a = solve_triangular(chol_q, cp.T, lower=True)            # L_q^{-1}(x - μ_p)
    b = solve_triangular(chol_p, cp.T, lower=True)            # L_p^{-1}(x - μ_p)
    phi_p = dt @ a + 0.5 * (np.sum(a * a, axis=0) - np.sum(b * b, axis=0))
    w = solve_triangular(chol_q, cq.T, lower=True)            # L_q^{-1}(y - μ_q)
    gw = g.T @ w                                              # L_p^T Σ_q^{-1}(y - μ_q)
    dw = dt @ w
    phi_q = -dw + 0.5 * (np.sum(w * w, axis=0) - np.sum(gw * gw, axis=0) - dw * dw)
    s = 1.0 / n + 1.0 / m
    first = np.var(phi_p, ddof=1) / n + np.var(phi_q, ddof=1) / m
    second = dim * (dim + 3) / 4.0 * s * s
    # The fitted influence values carry the estimation noise of δ̂ and Σ̂: at p = q the
    # first-order sum has expectation 2·second instead of 0, so first − second estimates
    # first-order + second-order variance there; never below the second-order floor.
    var = max(first - second, second)
    return KLEstimate(value=value, stderr=float(math.sqrt(var)), method="gaussian", n_p=n, n_q=m,
                      dim=dim, k=None, stderr_method="delta method (+ second-order term at p = q)",
                      plugin=float(plugin),
                      note=note + ("; Gaussian-sampling bias removed" if debias
                                   else "; uncorrected plug-in (biased upwards)"))
