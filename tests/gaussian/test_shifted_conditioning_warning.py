"""τ²I + Xᵀ S X reference covariances (soft-label laws, predictive laws of hand-built kernels)
are whitened by a float64 eigendecomposition without refinement: when their condition number
exceeds 1e6 the result may lose digits (2.2e-9 measured at cond ~1e7 against 60-digit mpmath)
and a ConditioningWarning must say so, as it does for dense covariances. Ridge kernels on
their design are whitened exactly (diagonal in the design's eigenbasis): no warning."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import gaussdistill as gd


def _hand_built(rng, k, d, cond):
    Q = np.linalg.qr(rng.standard_normal((d, d)))[0]
    S = (Q * np.geomspace(1, 1 / cond, d)) @ Q.T
    return gd.MatrixNormal(rng.standard_normal((k, d)), (S + S.T) / 2)


def test_ill_conditioned_soft_label_covariance_warns():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((4, 9))
    t1, t2 = _hand_built(rng, 2, 4, 1e8), _hand_built(rng, 2, 4, 1e8)
    with pytest.warns(gd.ConditioningWarning, match="condition number"):
        gd.kl_matrix_normal(gd.soft_labels(t1, X, 1e-3), gd.soft_labels(t2, X, 1.1e-3))
    with warnings.catch_warnings():                     # τ = 1: cond(τ²I + XᵀSX) ~ 10
        warnings.simplefilter("error", gd.ConditioningWarning)
        gd.kl_matrix_normal(gd.soft_labels(t1, X, 1.0), gd.soft_labels(t2, X, 1.1))


def test_ill_conditioned_predictive_covariance_of_hand_built_kernels_warns():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((4, 9))
    s, t = _hand_built(rng, 2, 4, 1e8), _hand_built(rng, 2, 4, 1e8)
    for method in ("reduced", "dense"):
        with pytest.warns(gd.ConditioningWarning, match="condition number"):
            gd.divergence(s, t, X, 1e-3, kind="predictive", method=method, rank=2)
        with warnings.catch_warnings():
            warnings.simplefilter("error", gd.ConditioningWarning)
            gd.divergence(s, t, X, 1.0, kind="predictive", method=method, rank=2)


def test_ridge_kernels_on_their_design_do_not_warn():
    problem = gd.example_problem(k=2, d=4, n=30, rank=1, noise=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", gd.ConditioningWarning)
        for direction in gd.DIRECTIONS:
            gd.divergence(problem.student, problem.teacher, problem.X, 1e-4, direction=direction)
        gd.kl_matrix_normal(gd.soft_labels(problem.teacher, problem.X, 1e-4),
                            gd.soft_labels(problem.teacher, problem.X, 2e-4))
