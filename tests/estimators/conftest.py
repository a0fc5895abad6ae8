"""Shared pieces of the estimator tests: laws with an exact KL from the linear-Gaussian model."""
from __future__ import annotations

import numpy as np
import pytest

import gaussdistill as gd


def lg_laws(dim: int, seed: int = 0):
    """Student and teacher weight laws (k = 1 output, d = dim) and the exact K^W between them.

    Fixed design, n = 4 dim, ν = τ = 1, λ_T = 1, t_T = 1, full-rank student λ_S = 3, t_S = 0.5.
    The exact value is ``gd.kl_matrix_normal``; it is itself checked against the dense
    Kronecker KL in the core tests, and re-checked here with the textbook formula.
    """
    rng = np.random.default_rng([seed, dim])
    n = 4 * dim
    X = rng.standard_normal((dim, n))
    W = rng.standard_normal((1, dim))
    Y = W @ X + rng.standard_normal((1, n))
    teacher = gd.ridge_teacher(X, Y, lam=1.0, noise=1.0, temperature=1.0)
    student = gd.rank_student(teacher, X, rank=1, lam=3.0, soft_noise=1.0, temperature=0.5)
    return student, teacher, float(gd.kl_matrix_normal(student, teacher))


def flat_draws(law, size: int, seed) -> np.ndarray:
    """``size`` draws of a matrix normal law, one flattened draw per row."""
    return law.sample(size, rng=np.random.default_rng(seed)).reshape(size, -1)


@pytest.fixture
def laws():
    return lg_laws
