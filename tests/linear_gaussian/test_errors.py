"""Errors that help.

One test per bad-input class for every public function. Each asserts the exception type
(``GaussDistillError``, a ``ValueError``), that the message names the offending argument, and
(where there is one) what would be valid. The command line's errors are tested in
tests/cli/test_cli_input_errors.py and tests/cli/test_cli_errors.py.
"""
from __future__ import annotations

import numpy as np
import pytest

import gaussdistill as gd
from gaussdistill import GaussDistillError
from gaussdistill.linear_gaussian.examples import example_problem


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 6))
    Y = rng.standard_normal((2, 6))
    teacher = gd.ridge_teacher(X, Y, 1.0, 0.5)
    student = gd.rank_student(teacher, X, 1, lam=0.5, temperature=1.0)
    return X, Y, teacher, student


def test_error_class_is_a_value_error():
    assert issubclass(GaussDistillError, ValueError)


# ----------------------------------------------------------------------------- MatrixNormal
@pytest.mark.parametrize("args,match", [
    ((np.zeros(3), np.eye(3)), r"mean must be a 2-D matrix; got an array with 1 dimension"),
    ((np.zeros((2, 3)), np.eye(2)), r"col_cov has shape \(2, 2\), expected \(3, 3\)"),
    ((np.zeros((2, 3)), np.eye(3), np.eye(3)), r"row_cov has shape \(3, 3\), expected \(2, 2\)"),
    ((np.zeros((1, 2)), np.ones((2, 3))), r"col_cov has shape \(2, 3\), expected \(2, 2\)"),
], ids=["mean_1d", "col_shape", "row_shape", "col_not_square"])
def test_matrix_normal_shape(args, match):
    with pytest.raises(GaussDistillError, match=match):
        gd.MatrixNormal(*args)


def test_matrix_normal_symmetry():
    with pytest.raises(GaussDistillError, match=r"col_cov is not symmetric .*\(C \+ C\.T\) / 2"):
        gd.MatrixNormal(np.zeros((1, 2)), [[1.0, 0.5], [0.0, 1.0]])
    with pytest.raises(GaussDistillError, match=r"row_cov is not symmetric"):
        gd.MatrixNormal(np.zeros((2, 1)), [[1.0]], [[1.0, 0.5], [0.0, 1.0]])


def test_matrix_normal_psd():
    with pytest.raises(GaussDistillError, match=r"col_cov is not positive semi-definite \(smallest eigenvalue -1.*PSD"):
        gd.MatrixNormal(np.zeros((1, 2)), [[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(GaussDistillError, match=r"row_cov is not positive semi-definite"):
        gd.MatrixNormal(np.zeros((2, 1)), [[1.0]], [[1.0, 2.0], [2.0, 1.0]])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_matrix_normal_nonfinite(bad):
    word = "NaN" if np.isnan(bad) else "inf"
    with pytest.raises(GaussDistillError, match=rf"mean contains {word} entries; all entries must be finite"):
        gd.MatrixNormal([[bad, 0.0]], np.eye(2))
    with pytest.raises(GaussDistillError, match=rf"col_cov contains {word} entries"):
        gd.MatrixNormal([[0.0, 0.0]], [[1.0, bad], [bad, 1.0]])


def test_matrix_normal_non_numeric_and_complex():
    with pytest.raises(GaussDistillError, match=r"mean must be a real numeric matrix"):
        gd.MatrixNormal([["a", "b"]], np.eye(2))
    with pytest.raises(GaussDistillError, match=r"col_cov must be real; got complex"):
        gd.MatrixNormal([[0.0, 0.0]], np.eye(2) + 0j)


@pytest.mark.parametrize("size", [0, -1, 2.5, "3", True])
def test_sample_size(problem, size):
    with pytest.raises(GaussDistillError, match=r"size must be an integer >= 1 or None"):
        problem[2].sample(size, rng=0)


@pytest.mark.parametrize("rng,match", [
    (-1, r"rng must be a non-negative integer seed; got -1"),
    ("x", r"rng must be None, a non-negative int seed or a numpy\.random\.Generator; got str"),
    (1.5, r"rng must be None, a non-negative int seed or a numpy\.random\.Generator; got float"),
])
def test_sample_rng(problem, rng, match):
    with pytest.raises(GaussDistillError, match=match):
        problem[2].sample(2, rng=rng)


# ----------------------------------------------------------------------------- kl_matrix_normal
def test_kl_matrix_normal_types_and_shapes(problem):
    teacher = problem[2]
    with pytest.raises(GaussDistillError, match=r"p must be a MatrixNormal; got ndarray"):
        gd.kl_matrix_normal(np.eye(2), teacher)
    with pytest.raises(GaussDistillError, match=r"q must be a MatrixNormal; got NoneType"):
        gd.kl_matrix_normal(teacher, None)
    with pytest.raises(GaussDistillError, match=r"p and q must have the same shape; got p \(1, 2\) and q \(2, 3\)"):
        gd.kl_matrix_normal(gd.MatrixNormal(np.zeros((1, 2)), np.eye(2)), teacher)


@pytest.mark.parametrize("precision", [0, -3, 5, 2.5, "50"])
def test_kl_matrix_normal_precision(problem, precision):
    with pytest.raises(GaussDistillError, match=r"precision must be an integer >= 16"):
        gd.kl_matrix_normal(problem[3], problem[2], precision=precision)


def test_kl_matrix_normal_overflow_raises_instead_of_silent_inf():
    p = gd.MatrixNormal([[1e200, 0.0]], np.eye(2))
    q = gd.MatrixNormal([[0.0, 0.0]], np.eye(2))
    with np.errstate(over="ignore"), pytest.raises(GaussDistillError, match=r"KL overflows float64.*precision=50"):
        gd.kl_matrix_normal(p, q)


# ----------------------------------------------------------------------------- ridge_teacher
def test_ridge_teacher_shapes(problem):
    X, Y = problem[:2]
    with pytest.raises(GaussDistillError, match=r"Y has shape \(2, 5\), expected \(any, 6\)"):
        gd.ridge_teacher(X, Y[:, :5], 1.0, 0.5)
    with pytest.raises(GaussDistillError, match=r"X must be a 2-D matrix"):
        gd.ridge_teacher(X[0], Y, 1.0, 0.5)


@pytest.mark.parametrize("kwargs,match", [
    (dict(lam=-1.0), r"lam must be >= 0; got -1\.0"),
    (dict(noise=0.0), r"noise must be > 0; got 0\.0"),
    (dict(noise=-0.5), r"noise must be > 0; got -0\.5"),
    (dict(noise=float("nan")), r"noise must be finite; got nan"),
    (dict(lam=float("inf")), r"lam must be finite; got inf"),
    (dict(temperature=-1.0), r"temperature must be >= 0; got -1\.0"),
    (dict(lam="1"), r"lam must be a real number; got str"),
    (dict(noise=np.array([0.5])), r"noise must be a real number; got ndarray"),
], ids=["lam_neg", "noise_zero", "noise_neg", "noise_nan", "lam_inf", "temp_neg", "lam_str", "noise_array"])
def test_ridge_teacher_scalars(problem, kwargs, match):
    X, Y = problem[:2]
    params = dict(lam=1.0, noise=0.5, temperature=1.0)
    params.update(kwargs)
    with pytest.raises(GaussDistillError, match=match):
        gd.ridge_teacher(X, Y, **params)


@pytest.mark.parametrize("which", ["X", "Y"])
def test_ridge_teacher_nonfinite(problem, which):
    X, Y = (a.copy() for a in problem[:2])
    (X if which == "X" else Y)[0, 0] = np.nan
    with pytest.raises(GaussDistillError, match=rf"{which} contains NaN entries"):
        gd.ridge_teacher(X, Y, 1.0, 0.5)


def test_ridge_teacher_singular_design_needs_ridge():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((5, 3))                                     # n < d
    with pytest.raises(GaussDistillError, match=r"lam=0 but X X\^T is singular \(rank 3 < d = 5.*pass lam > 0"):
        gd.ridge_teacher(X, rng.standard_normal((2, 3)), 0.0, 0.5)


def test_tiny_design_eigenvalue_whose_inverse_overflows():
    X = np.array([[1e-159]])                       # X Xᵀ = 1e-318 (subnormal)
    with pytest.raises(GaussDistillError,
                       match=r"X X\^T \+ lam I has an eigenvalue too small for float64.*pass lam > 0"):
        gd.ridge_teacher(X, [[1.0]], 0.0, 0.5)
    teacher = gd.ridge_teacher(X, [[1.0]], 1.0, 0.5)
    with pytest.raises(GaussDistillError,
                       match=r"student covariance overflows float64.*rescale X, pass lam > 0 or temperature=0"):
        gd.rank_student(teacher, X, 1, lam=0.0, temperature=1.0)
    # temperature = 0 stays exactly deterministic (no 0·inf = NaN covariance).
    student = gd.rank_student(teacher, X, 1, lam=0.0, temperature=0.0)
    assert student.is_deterministic and np.all(student.col_factor.values == 0)


def test_ridge_teacher_overflowing_design():
    X = np.full((2, 3), 1e200)
    with np.errstate(over="ignore"), pytest.raises(GaussDistillError, match=r"X is too large for float64.*rescale X"):
        gd.ridge_teacher(X, np.ones((1, 3)), 1.0, 0.5)


# ----------------------------------------------------------------------------- soft_labels
def test_soft_labels_errors(problem):
    X, _, teacher, _ = problem
    with pytest.raises(GaussDistillError, match=r"teacher must be a MatrixNormal kernel .*got str"):
        gd.soft_labels("teacher", X, 0.5)
    with pytest.raises(GaussDistillError, match=r"X has shape \(2, 6\), expected \(3, any\)"):
        gd.soft_labels(teacher, X[:2], 0.5)
    with pytest.raises(GaussDistillError, match=r"soft_noise must be > 0; got 0\.0"):
        gd.soft_labels(teacher, X, 0.0)
    with pytest.raises(GaussDistillError, match=r"soft_noise must be a real number; got NoneType"):
        gd.soft_labels(teacher, X, None)
    with pytest.raises(GaussDistillError, match=r"teacher must have row covariance I_k"):
        gd.soft_labels(gd.MatrixNormal(np.zeros((2, 3)), np.eye(3), 2 * np.eye(2)), X, 0.5)


# ----------------------------------------------------------------------------- rank_student
@pytest.mark.parametrize("rank,match", [
    (-1, r"rank must be an integer in \[0, 2\] \(min\(k, d\)\); got -1"),
    (3, r"rank must be an integer in \[0, 2\] \(min\(k, d\)\); got 3"),
    (1.5, r"rank must be an integer in \[0, 2\]; got 1\.5"),
    (None, r"rank must be an integer in \[0, 2\]; got None"),
])
def test_rank_student_rank_range(problem, rank, match):
    X, _, teacher, _ = problem
    with pytest.raises(GaussDistillError, match=match):
        gd.rank_student(teacher, X, rank)


def test_rank_student_scalars_and_labels(problem):
    X, _, teacher, _ = problem
    with pytest.raises(GaussDistillError, match=r"lam must be >= 0; got -1\.0"):
        gd.rank_student(teacher, X, 1, lam=-1.0)
    with pytest.raises(GaussDistillError, match=r"soft_noise must be > 0; got -1\.0"):
        gd.rank_student(teacher, X, 1, soft_noise=-1.0)
    with pytest.raises(GaussDistillError, match=r"temperature must be >= 0"):
        gd.rank_student(teacher, X, 1, temperature=-0.1)
    with pytest.raises(GaussDistillError, match=r"soft_labels has shape \(2, 5\), expected \(2, 6\)"):
        gd.rank_student(teacher, X, 1, soft_labels=np.ones((2, 5)))
    with pytest.raises(GaussDistillError, match=r"soft_labels contains inf entries"):
        gd.rank_student(teacher, X, 1, soft_labels=np.full((2, 6), np.inf))
    with pytest.raises(GaussDistillError, match=r"teacher must be a MatrixNormal kernel"):
        gd.rank_student(object(), X, 1)
    with pytest.raises(GaussDistillError, match=r"soft_noise is required when the teacher has no `noise`"):
        gd.rank_student(gd.MatrixNormal(np.zeros((2, 3)), np.eye(3)), X, 1)


def test_rank_student_stochastic_needs_invertible_ridge():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((4, 2))
    teacher = gd.ridge_teacher(X, rng.standard_normal((2, 2)), 1.0, 0.5)
    with pytest.raises(GaussDistillError, match=r"temperature=1\.0 > 0 needs A_S .* pass lam > 0 or temperature=0"):
        gd.rank_student(teacher, X, 1, lam=0.0, temperature=1.0)


# ----------------------------------------------------------------------------- divergence
@pytest.mark.parametrize("kwargs,match", [
    (dict(kind="kl"), r"unknown kind 'kl'; valid values are 'predictive', 'convexity', 'weight'"),
    (dict(kind=None), r"unknown kind None; valid values are"),
    (dict(direction="student|teacher"),
     r"unknown direction 'student\|teacher'; valid values are 'student\|\|teacher', 'teacher\|\|student'"),
    (dict(method="fast"), r"unknown method 'fast'; valid values are 'auto', 'reduced', 'dense'"),
], ids=["kind", "kind_none", "direction", "method"])
def test_divergence_unknown_options(problem, kwargs, match):
    X, _, teacher, student = problem
    with pytest.raises(GaussDistillError, match=match):
        gd.divergence(student, teacher, X, 0.5, **kwargs)


def test_divergence_rank_range(problem):
    X, _, teacher, student = problem
    with pytest.raises(GaussDistillError, match=r"rank must be an integer in \[0, 2\] \(min\(k, d\)\); got 5"):
        gd.divergence(student, teacher, X, 0.5, rank=5)
    full = gd.rank_student(teacher, X, 2)
    with pytest.raises(GaussDistillError,
                       match=r"rank=1 is below the rank of the student's mean .*pass rank >= 2 or rank=None"):
        gd.divergence(full, teacher, X, 0.5, rank=1)


def test_divergence_kernels_and_shapes(problem):
    X, _, teacher, student = problem
    with pytest.raises(GaussDistillError, match=r"student must be a MatrixNormal kernel .*got NoneType"):
        gd.divergence(None, teacher, X, 0.5)
    with pytest.raises(GaussDistillError, match=r"teacher must be a MatrixNormal kernel .*got list"):
        gd.divergence(student, [1], X, 0.5)
    with pytest.raises(GaussDistillError,
                       match=r"student and teacher must have the same shape \(k, d\); got \(1, 3\) and \(2, 3\)"):
        gd.divergence(gd.MatrixNormal(np.zeros((1, 3)), np.eye(3)), teacher, X, 0.5)
    with pytest.raises(GaussDistillError, match=r"student must have row covariance I_k"):
        gd.divergence(gd.MatrixNormal(np.zeros((2, 3)), np.eye(3), 2 * np.eye(2)), teacher, X, 0.5)
    with pytest.raises(GaussDistillError, match=r"X has shape \(4, 6\), expected \(3, any\)"):
        gd.divergence(student, teacher, np.ones((4, 6)), 0.5)


def test_divergence_noise_and_nonfinite(problem):
    X, _, teacher, student = problem
    with pytest.raises(GaussDistillError, match=r"soft_noise must be > 0; got 0\.0"):
        gd.divergence(student, teacher, X, 0.0)
    with pytest.raises(GaussDistillError, match=r"soft_noise must be finite; got inf"):
        gd.divergence(student, teacher, X, np.inf)
    with pytest.raises(GaussDistillError, match=r"soft_noise \(τ > 0\) is required for kind='convexity'"):
        gd.divergence(gd.MatrixNormal(np.zeros((2, 3)), np.eye(3)), teacher, X, kind="convexity")
    bad = X.copy()
    bad[1, 2] = -np.inf
    with pytest.raises(GaussDistillError, match=r"X contains inf entries"):
        gd.divergence(student, teacher, bad, 0.5)
    with pytest.raises(GaussDistillError, match=r"precision must be an integer >= 16"):
        gd.divergence(student, teacher, X, 0.5, precision=8)


def test_divergence_overflow_raises_instead_of_nan():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 6))
    teacher = gd.ridge_teacher(X, 1e300 * rng.standard_normal((2, 6)), 1.0, 0.5)
    student = gd.rank_student(teacher, X, 1)
    with np.errstate(over="ignore", invalid="ignore"), \
            pytest.raises(GaussDistillError, match=r"predictive divergence overflows float64.*precision=50"):
        gd.divergence(student, teacher, X, 0.5)


# ----------------------------------------------------------------------------- example_problem
@pytest.mark.parametrize("kwargs,match", [
    (dict(k=0), r"k must be a positive integer; got 0"),
    (dict(d=2.0), r"d must be a positive integer; got 2\.0"),
    (dict(rank=9), r"rank must be an integer in \[0, 6\]"),
    (dict(noise=0), r"noise must be > 0"),
    (dict(soft_noise=-1), r"soft_noise must be > 0"),
    (dict(seed=-1), r"seed must be a non-negative integer seed; got -1"),
    (dict(seed="a"), r"seed must be None, a non-negative int seed or a numpy\.random\.Generator; got str"),
    (dict(n=3, teacher_lam=0), r"lam=0 but X X\^T is singular"),
])
def test_example_problem_errors(kwargs, match):
    with pytest.raises(GaussDistillError, match=match):
        example_problem(**kwargs)
