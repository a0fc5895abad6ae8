"""The rank cutoff decides supports in a KL; it must not change the law itself. Sampling and
soft labels of a hand-built law used the cut eigenvalues: a diag(1, 1e-11) law drew exact
zeros in its second coordinate, and its soft labels lost the 1e-11 variance.
References: the covariance as given (dense, by hand) and a chi-square confidence interval.
"""
from __future__ import annotations

import warnings

import numpy as np

import gaussdistill as gd


def test_sampling_keeps_variances_below_the_rank_cutoff():
    law = gd.MatrixNormal(np.zeros((1, 2)), np.diag([1.0, 1e-11]))
    draws = law.sample(4000, rng=0)[:, 0, :]
    # Sample variance / true variance ~ χ²₄₀₀₀/4000: within ±10% with overwhelming probability.
    ratio = draws.var(axis=0, ddof=0) / np.array([1.0, 1e-11])
    assert np.all(np.abs(ratio - 1) < 0.1), ratio


def test_soft_labels_of_a_hand_built_teacher_keep_its_small_variances():
    sigma = np.diag([1.0, 1e-11])
    teacher = gd.MatrixNormal(np.zeros((1, 2)), sigma)
    X = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 1.0]])
    tau = 1e-7                                          # τ² = 1e-14 ≪ 1e-11
    law = gd.soft_labels(teacher, X, tau)
    expected = tau**2 * np.eye(3) + X.T @ sigma @ X
    np.testing.assert_allclose(law.col_cov, expected, rtol=1e-14, atol=0)
    # KL against the same law given densely is 0 (was 3.05: the 1e-11 variance was dropped).
    dense = gd.MatrixNormal(law.mean, expected)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gd.ConditioningWarning)      # cond(τ²I + XᵀΣX) = 4e11
        assert abs(gd.kl_matrix_normal(law, dense, rtol=0)) < 1e-12


def test_draws_of_a_singular_covariance_stay_in_its_range():
    # Rounding-level eigenvalues (1e-17) are not variances: the draws stay in range(a aᵀ).
    a = np.array([[1.0], [0.3], [-2.0]])
    law = gd.MatrixNormal(np.zeros((1, 3)), a @ a.T)
    draws = law.sample(200, rng=1)[:, 0, :]
    unit = a[:, 0] / np.linalg.norm(a)
    off = draws - np.outer(draws @ unit, unit)
    assert np.max(np.abs(off)) < 1e-14 * np.max(np.abs(draws))
