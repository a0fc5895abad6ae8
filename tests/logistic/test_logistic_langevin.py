"""The batched Langevin engine and its diagnostics against exact answers.

* split R-hat / ESS: an AR(1) chain (exact ESS = N(1 − φ)/(1 + φ)), i.i.d. normal draws
  (ESS = N, R-hat = 1), chains stuck at different levels (R-hat ≫ 1);
* MALA on a linear-Gaussian posterior (the case study's ridge teacher at t_T = 1, exact mean
  M_T and covariance ν² A_T⁻¹ from ``gd.ridge_teacher``) through the same ``run_chains``
  engine the logistic model uses: final states of independent chains vs the exact moments,
  z-scores under the tests/oracles policy;
* ULA on the same target: matches the exact ULA stationary covariance H⁻¹(I − hH/2)⁻¹ (the
  known step-size bias, corrected), and a large step is *detected* as biased against the
  exact posterior (the test can fail);
* the logistic samplers' own code path at γ → 0, where the posterior is the Gaussian prior.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import gaussdistill as gd
from gaussdistill.logistic import Preconditioner, diagnostics, run_chains
from gaussdistill.logistic.model import Problem, sample_student, sample_teacher, soft_labels

from oracles import assert_within_ci


def _ar1(phi, n, chains, rng):
    e = rng.standard_normal((n, chains))
    x = np.empty((n, chains))
    x[0] = e[0] / math.sqrt(1 - phi * phi)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + e[t]
    return x


@pytest.mark.parametrize("phi", [0.5, 0.9])
def test_ess_of_ar1_matches_exact(phi):
    rng = np.random.default_rng(1)
    n, chains = 4000, 8
    x = _ar1(phi, n, chains, rng)
    exact = n * chains * (1 - phi) / (1 + phi)
    ess = float(diagnostics.effective_sample_size(x))
    assert abs(ess / exact - 1) < 0.15, (ess, exact)
    assert float(diagnostics.split_rhat(x)) < 1.01


def test_iid_draws_have_full_ess_and_unit_rhat():
    z = np.random.default_rng(2).standard_normal((1000, 4, 3))
    ess = diagnostics.effective_sample_size(z)
    assert ess.shape == (3,)
    assert np.all(np.abs(ess / 4000 - 1) < 0.1)
    assert np.all(np.abs(diagnostics.split_rhat(z) - 1) < 0.01)


def test_rhat_flags_chains_at_different_levels():
    w = np.random.default_rng(3).standard_normal((500, 4)) + np.arange(4)
    assert float(diagnostics.split_rhat(w)) > 1.5
    trend = np.linspace(0, 5, 500)[:, None] + np.random.default_rng(4).standard_normal((500, 4))
    assert float(diagnostics.split_rhat(trend)) > 1.5        # split halves catch a drift


def test_diagnostics_refuse_bad_draws():
    with pytest.raises(gd.GaussDistillError, match="draws"):
        diagnostics.split_rhat(np.ones(10))
    with pytest.raises(gd.GaussDistillError, match="non-finite"):
        diagnostics.effective_sample_size(np.full((10, 2), np.nan))


def _gaussian_problem(seed=0, k=2, d=3, n=40, lam=2.0, noise=0.7):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((d, n)) * np.array([1.0, 0.7, 0.5])[:, None]
    Y = rng.standard_normal((k, d)) @ X + noise * rng.standard_normal((k, n))
    teacher = gd.ridge_teacher(X, Y, lam, noise, 1.0)   # exact posterior, prior MN(0, I, (ν²/λ) I)

    def log_post(x):
        W = x.reshape(-1, k, d)
        resid = Y[None] - W @ X
        grad = (resid @ X.T - lam * W) / noise ** 2
        lp = -(np.einsum("ckn,ckn->c", resid, resid) + lam * np.einsum("ckd,ckd->c", W, W)) / (2 * noise ** 2)
        return lp, grad.reshape(x.shape)

    precision = (X @ X.T + lam * np.eye(d)) / noise ** 2       # per output row
    return teacher, log_post, precision, k, d


def _moments_check(draws, mean, cov):
    """z-scores of the sample mean and covariance of i.i.d. draws (rows) against exact values."""
    N = draws.shape[0]
    sd = np.sqrt(np.diag(cov))
    assert_within_ci(draws.mean(axis=0), sd / math.sqrt(N), mean)
    S = np.cov(draws, rowvar=False)
    se = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov ** 2) / (N - 1))
    iu = np.triu_indices(cov.shape[0])
    assert_within_ci(S[iu], se[iu], cov[iu])


def test_mala_matches_exact_gaussian_posterior():
    teacher, log_post, precision, k, d = _gaussian_problem()
    chains = 4000
    rng = np.random.default_rng(5)
    lam_max = float(np.linalg.eigvalsh(precision)[-1])
    lam_min = float(np.linalg.eigvalsh(precision)[0])
    h = 0.5 / lam_max
    n_steps = 3 * int(math.ceil(12 / (h * lam_min)))           # (1 − hλ_min)^{n/3} ≤ e^{-12}, with rejections
    x0 = teacher.mean.reshape(1, -1) + 3.0 / math.sqrt(lam_min) * rng.standard_normal((chains, k * d))
    run = run_chains(log_post, x0, h, n_steps, rng, burn_in=n_steps // 2, method="mala")
    assert 0.5 < run.acceptance < 1.0
    exact_cov = np.kron(np.eye(k), teacher.col_cov)            # rows independent, each Σ_T (oracle, small)
    _moments_check(run.final, teacher.mean.reshape(-1), exact_cov)


def test_ula_matches_its_known_stationary_law_and_its_bias_is_detected():
    teacher, log_post, precision, k, d = _gaussian_problem(seed=1)
    chains = 4000
    lam_max = float(np.linalg.eigvalsh(precision)[-1])
    lam_min = float(np.linalg.eigvalsh(precision)[0])
    vals, vecs = np.linalg.eigh(precision)
    for h_scale, matches_exact in ((0.05, True), (1.2, False)):
        h = h_scale / lam_max
        rng = np.random.default_rng(6)
        n_steps = int(math.ceil(12 / (h * lam_min)))
        run = run_chains(log_post, teacher.mean.reshape(1, -1) + rng.standard_normal((chains, k * d)), h,
                         n_steps, rng, burn_in=n_steps - 5, method="ula")
        ula_row_cov = (vecs / (vals * (1 - h * vals / 2))) @ vecs.T    # H⁻¹(I − hH/2)⁻¹, exact for ULA
        _moments_check(run.final, teacher.mean.reshape(-1), np.kron(np.eye(k), ula_row_cov))
        exact = np.kron(np.eye(k), teacher.col_cov)
        if matches_exact:      # bias h λ/2 ≤ 2.5 % is inside the Monte Carlo tolerance at 4000 chains
            _moments_check(run.final, teacher.mean.reshape(-1), exact)
        else:                  # bias up to 150 %: the comparison with the exact posterior must fail
            with pytest.raises(AssertionError):
                _moments_check(run.final, teacher.mean.reshape(-1), exact)


def test_preconditioned_mala_same_target():
    teacher, log_post, precision, k, d = _gaussian_problem(seed=2)
    pre = Preconditioner.from_precision(np.kron(np.eye(k), precision))
    rng = np.random.default_rng(7)
    run = run_chains(log_post, np.zeros((3000, k * d)), 0.5, 60, rng, burn_in=30, precond=pre)
    assert run.acceptance > 0.7
    _moments_check(run.final, teacher.mean.reshape(-1), np.kron(np.eye(k), teacher.col_cov))


def test_logistic_samplers_at_vanishing_gamma_sample_the_prior():
    # γ → 0: the Gibbs posterior is the N(0, σ₀² I) prior, through the logistic code path.
    rng = np.random.default_rng(8)
    X = rng.standard_normal((3, 30))
    y = rng.integers(0, 3, 30)
    pb = Problem(X, y, 1e-9, 0.8, 1.5)
    run = sample_teacher(pb, 3, 2000, 60, 30, rng)
    _moments_check(run.final, np.zeros(9), 0.8 * np.eye(9))
    soft = soft_labels(run.final.reshape(-1, 3, 3)[:1000], X, 1.5)
    srun, _ = sample_student(pb, soft, 2, 80, 40, rng)
    _moments_check(srun.final, np.zeros(12), 0.8 * np.eye(12))


def test_engine_refuses_bad_arguments():
    _, log_post, _, k, d = _gaussian_problem()
    x0 = np.zeros((4, k * d))
    rng = np.random.default_rng(0)
    for bad in (0.0, -1.0, math.inf, math.nan):
        with pytest.raises(gd.GaussDistillError, match="step"):
            run_chains(log_post, x0, bad, 20, rng, burn_in=5)
    with pytest.raises(gd.GaussDistillError, match="method"):
        run_chains(log_post, x0, 0.1, 20, rng, burn_in=5, method="hmc")
    with pytest.raises(gd.GaussDistillError, match="burn_in"):
        run_chains(log_post, x0, 0.1, 20, rng, burn_in=19)


def test_diverging_step_is_reported_not_nan():
    _, log_post, precision, k, d = _gaussian_problem()
    lam_max = float(np.linalg.eigvalsh(precision)[-1])
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((8, k * d))
    with pytest.raises(gd.GaussDistillError, match=r"diverged.*step size"):
        run_chains(log_post, x0, 5.0 / lam_max, 400, rng, burn_in=10, method="ula")
    with pytest.raises(gd.GaussDistillError, match=r"stuck.*step size"):
        run_chains(log_post, x0, 50.0 / lam_max, 200, rng, burn_in=10, method="mala")


def test_chains_stuck_at_different_values_are_not_converged():
    # Each chain constant, at its own value: no mixing at all. R-hat used to be 1.0 and the
    # ESS the full m·N (a frozen sampler reported as perfectly converged).
    from gaussdistill.logistic.diagnostics import effective_sample_size, split_rhat

    stuck = np.ones((200, 6)) + np.arange(6)
    assert split_rhat(stuck)[()] == np.inf
    assert effective_sample_size(stuck)[()] <= 12         # m = 12 split sequences: about m / 2
    same = np.ones((200, 6))
    assert split_rhat(same)[()] == 1.0 and effective_sample_size(same)[()] == 1200
