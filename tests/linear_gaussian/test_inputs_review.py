"""Inputs found to escape as raw numpy exceptions: each must be a GaussDistillError naming it."""
from __future__ import annotations

import numpy as np
import pytest

import gaussdistill as gd


def test_ragged_targets_in_rows_are_an_error_naming_y_rows():
    with pytest.raises(gd.GaussDistillError, match="Y_rows"):
        gd.from_samples_as_rows(np.ones((5, 2)), [[1.0], [2.0, 3.0], [4.0], [5.0], [6.0]])


def test_an_example_too_large_for_memory_is_an_error_naming_the_sizes():
    with pytest.raises(gd.GaussDistillError, match="k=1000000000000"):
        gd.example_problem(k=10**12)


def test_an_infinite_divergence_reports_the_students_rank_not_minus_one():
    X = np.eye(3)
    teacher = gd.MatrixNormal(np.ones((2, 3)), np.zeros((3, 3)))
    student = gd.MatrixNormal(np.outer([1.0, 2.0], [1.0, 0.0, 0.0]), np.zeros((3, 3)))   # rank 1
    res = gd.divergence(student, teacher, X, kind="weight")
    assert res.total == np.inf and res.reason and res.rank_used == 1
    assert gd.divergence(student, teacher, X, kind="weight", rank=2).rank_used == 2


@pytest.mark.parametrize("call, name", [
    (lambda: gd.MatrixNormal(np.zeros((1, 2)), np.eye(2)).sample(10**400), "size"),
    (lambda: gd.example_problem(noise=1e308), "noise"),
    (lambda: gd.example_problem(k=10**400), "k="),
    (lambda: gd.ridge_teacher(np.full((3, 6), 1e300), np.ones((2, 6)), 0.5, 0.5), "X"),
])
def test_extreme_values_are_errors_naming_the_argument_without_numpy_warnings(call, name):
    # Found by fuzzing: OverflowError (size), RuntimeWarning (noise, X X^T), numpy ValueError (k).
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(gd.GaussDistillError, match=name):
            call()


def test_subnormal_student_mean_is_decomposed_at_its_rank():
    """On a 1e-107 design the rank-1 student's mean is ~1e-318 (subnormal): its second singular
    value is one ulp (4.9e-324) of absolute rounding, not rank. Found by hypothesis: rank=1
    was refused as 'below the rank of the student's mean (2)'."""
    X = np.full((4, 3), 2.67603619e-107)
    Y = np.array([[0.0, 1, 1], [1, 1, 1], [1, 1, 1]])
    teacher = gd.ridge_teacher(X, Y, lam=1.0, noise=1.0, temperature=1.0)
    student = gd.rank_student(teacher, X, rank=1, lam=2.0, temperature=1.0, soft_noise=1.0)
    assert np.max(np.abs(student.mean)) < 1e-300
    for kind in gd.KINDS:
        explicit = gd.divergence(student, teacher, X, 1.0, kind, rank=1)
        implied = gd.divergence(student, teacher, X, 1.0, kind)
        assert explicit.rank_used == implied.rank_used == 1
        assert explicit.total == implied.total


def test_a_direction_below_the_gram_rounding_level_is_kept():
    """X = diag(1, 1e-8): X Xᵀ = diag(1, 1e-16) rounds its small eigenvalue away, but the SVD
    resolves σ = 1e-8. The reduced route returned K^Y = K̄ = 0 (no warning) for a KL of
    ½·(1e-16)² = 5e-33 that the dense route and 30-digit mpmath give. Found by hypothesis."""
    X = np.diag([1.0, 1e-8])
    Y = np.array([[0.0, 1.0]])
    teacher = gd.ridge_teacher(X, Y, lam=1.0, noise=1.0, temperature=0.0)
    student = gd.rank_student(teacher, X, rank=0, lam=1.0, temperature=0.0, soft_noise=1.0)
    for kind in ("predictive", "convexity"):
        reduced = gd.divergence(student, teacher, X, 1.0, kind)
        assert reduced.total == pytest.approx(5e-33, rel=1e-12)
        assert reduced.total == pytest.approx(gd.divergence(student, teacher, X, 1.0, kind, method="dense").total,
                                              rel=1e-12)
