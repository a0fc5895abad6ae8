"""Core numerics: every closed form against an independent dense computation.

Oracles used here, none produced by the code under test:
* the KL of the vectorised Gaussians, formed densely with np.kron and np.linalg (small sizes);
* the published value KL(MN(0, diag(2,1), [[1,.5],[.5,1]]) ‖ MN(1, I, I)) = 3 − ln 1.5;
* the decomposition parts from their matrix definitions (n×n V, solves, eigh square roots);
* Monte Carlo of the teacher mixture with a seeded Generator (|z| < 5);
* a 50-digit mpmath evaluation.
"""
from __future__ import annotations

import doctest
import math

import mpmath
import numpy as np
import pytest

import gaussdistill as gd
from gaussdistill.gaussian import kl as kl_module
from gaussdistill.linear_gaussian import kernels as kernels_module

from oracles import dense_mn_kl


# ----------------------------------------------------------------------------- helpers
def random_spd(rng, dim, eps=0.1):
    a = rng.standard_normal((dim, dim))
    return a @ a.T / dim + eps * np.eye(dim)


def sym_sqrt_inv(mat):
    w, q = np.linalg.eigh(mat)
    return (q / np.sqrt(w)) @ q.T


def problem(seed=0, k=4, d=5, n=12, noise=0.6, lam_t=0.8, t_t=1.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((d, n))
    W = rng.standard_normal((k, d))
    Y = W @ X + noise * rng.standard_normal((k, n))
    return X, Y, gd.ridge_teacher(X, Y, lam_t, noise, t_t)


def direct_parts(student, teacher, X, tau, kind, direction, r):
    """(variance, mean, rank) from the matrix definitions of docs/mathematics.md §2.2–2.3, dense."""
    k = teacher.shape[0]
    n = X.shape[1]
    a, b = (student, teacher) if direction == "student||teacher" else (teacher, student)
    delta = (a.mean - b.mean) @ X
    if kind == "predictive":
        va = tau**2 * np.eye(n) + X.T @ a.col_cov @ X
        vb = tau**2 * np.eye(n) + X.T @ b.col_cov @ X
        sol = np.linalg.solve(vb, va)
        variance = 0.5 * k * (np.trace(sol) - n - np.linalg.slogdet(sol)[1])
        mean = 0.5 * np.trace(delta @ np.linalg.solve(vb, delta.T))
        sv = np.linalg.svd(teacher.mean @ X @ sym_sqrt_inv(vb), compute_uv=False)
        rank = 0.5 * np.sum(sv[r:] ** 2)
    elif kind == "convexity":
        variance = k * np.trace(X.T @ (a.col_cov + b.col_cov) @ X) / (2 * tau**2)
        mean = np.sum(delta**2) / (2 * tau**2)
        sv = np.linalg.svd(teacher.mean @ X, compute_uv=False)
        rank = np.sum(sv[r:] ** 2) / (2 * tau**2)
    else:
        d = teacher.shape[1]
        sol = np.linalg.solve(b.col_cov, a.col_cov)
        variance = 0.5 * k * (np.trace(sol) - d - np.linalg.slogdet(sol)[1])
        dm = a.mean - b.mean
        mean = 0.5 * np.trace(np.linalg.solve(b.col_cov, dm.T @ dm))
        sv = np.linalg.svd(teacher.mean @ sym_sqrt_inv(b.col_cov), compute_uv=False)
        rank = 0.5 * np.sum(sv[r:] ** 2)
    return variance, mean, rank


# ----------------------------------------------------------------------------- kl_matrix_normal
def test_kl_matrix_normal_published_example():
    # REFERENCES 4.1b, checked by hand: ½(6 + 4 − 4 − 2 ln 1.5) = 3 − ln 1.5.
    p = gd.MatrixNormal(np.zeros((2, 2)), [[1, .5], [.5, 1]], row_cov=np.diag([2.0, 1.0]))
    q = gd.MatrixNormal(np.ones((2, 2)), np.eye(2), row_cov=np.eye(2))
    assert gd.kl_matrix_normal(p, q) == pytest.approx(3 - math.log(1.5), rel=1e-14)
    assert gd.kl_matrix_normal(p, q).reason is None


@pytest.mark.parametrize("seed", range(6))
def test_kl_matrix_normal_equals_dense_vectorised_kl(seed):
    rng = np.random.default_rng(seed)
    k, m = rng.integers(1, 5, size=2)
    m1, m2 = rng.standard_normal((2, k, m))
    u1, u2 = random_spd(rng, k), random_spd(rng, k)
    v1, v2 = random_spd(rng, m), random_spd(rng, m)
    ours = gd.kl_matrix_normal(gd.MatrixNormal(m1, v1, u1), gd.MatrixNormal(m2, v2, u2))
    assert ours == pytest.approx(dense_mn_kl(m1, u1, v1, m2, u2, v2), rel=1e-11)


def test_kl_matrix_normal_is_zero_on_equal_laws_and_positive_otherwise():
    rng = np.random.default_rng(3)
    m, v, u = rng.standard_normal((3, 4)), random_spd(rng, 4), random_spd(rng, 3)
    p = gd.MatrixNormal(m, v, u)
    assert gd.kl_matrix_normal(p, p) == 0.0
    # Kronecker scale ambiguity: MN(M, cU, V/c) is the same law.
    q = gd.MatrixNormal(m, v / 3.0, 3.0 * u)
    assert abs(gd.kl_matrix_normal(p, q)) < 1e-14


def test_kl_matrix_normal_mpmath_agrees():
    rng = np.random.default_rng(5)
    p = gd.MatrixNormal(rng.standard_normal((2, 3)), random_spd(rng, 3), random_spd(rng, 2))
    q = gd.MatrixNormal(rng.standard_normal((2, 3)), random_spd(rng, 3), random_spd(rng, 2))
    hi = gd.kl_matrix_normal(p, q, precision=50)
    assert float(hi) == pytest.approx(gd.kl_matrix_normal(p, q), rel=1e-12)
    assert isinstance(hi, mpmath.mpf) and hi.reason is None


def test_kl_matrix_normal_singular_same_support_is_finite():
    # REFERENCES 4.1c: Σ₁ = diag(1,0), Σ₂ = diag(2,0), equal means: ½(½ − 1 + ln 2).
    p = gd.MatrixNormal(np.zeros((1, 2)), np.diag([1.0, 0.0]))
    q = gd.MatrixNormal(np.zeros((1, 2)), np.diag([2.0, 0.0]))
    assert gd.kl_matrix_normal(p, q) == pytest.approx(0.5 * (0.5 - 1 + math.log(2)), rel=1e-14)


def test_kl_matrix_normal_infinite_cases_have_reasons():
    p = gd.MatrixNormal(np.zeros((1, 2)), np.diag([1.0, 0.0]))
    q = gd.MatrixNormal(np.zeros((1, 2)), np.diag([0.0, 1.0]))
    kl = gd.kl_matrix_normal(p, q)
    assert kl == math.inf and "support" in kl.reason
    # strict inclusion: p on a line, q full rank — p is singular w.r.t. q, KL = +inf
    full = gd.MatrixNormal(np.zeros((1, 2)), np.eye(2))
    kl = gd.kl_matrix_normal(p, full)
    assert kl == math.inf and "proper subspace" in kl.reason
    # mean outside the common support
    shifted = gd.MatrixNormal(np.array([[0.0, 1.0]]), np.diag([2.0, 0.0]))
    kl = gd.kl_matrix_normal(shifted, gd.MatrixNormal(np.zeros((1, 2)), np.diag([2.0, 0.0])))
    assert kl == math.inf and "mean" in kl.reason


@pytest.mark.parametrize("module", [kl_module, kernels_module], ids=["gaussian.kl", "linear_gaussian.kernels"])
def test_doctests(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


# ----------------------------------------------------------------------------- kernels
def test_ridge_teacher_matches_direct_formulas():
    X, Y, teacher = problem(seed=1, t_t=0.7)
    d = X.shape[0]
    A = X @ X.T + 0.8 * np.eye(d)
    np.testing.assert_allclose(teacher.mean, np.linalg.solve(A, X @ Y.T).T, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(teacher.col_cov, 0.7 * 0.36 * np.linalg.inv(A), rtol=1e-11, atol=1e-13)
    assert np.allclose(teacher.row_cov, np.eye(Y.shape[0]))


def test_rank_student_is_the_constrained_minimiser():
    X, Y, teacher = problem(seed=2)
    lam_s, r = 0.4, 2
    student = gd.rank_student(teacher, X, r, lam=lam_s)
    target = teacher.mean @ X
    assert np.linalg.matrix_rank(student.mean, tol=1e-9) == r

    def objective(W):
        return np.sum((target - W @ X) ** 2) + lam_s * np.sum(W**2)

    best = objective(student.mean)
    rng = np.random.default_rng(0)
    for _ in range(200):   # random rank-r perturbations never do better
        a, b = rng.standard_normal((teacher.shape[0], r)), rng.standard_normal((r, X.shape[0]))
        cand = student.mean + 0.05 * rng.standard_normal(student.shape)
        left, sv, right = np.linalg.svd(cand)
        cand = (left[:, :r] * sv[:r]) @ right[:r]
        assert objective(cand) >= best - 1e-10
        assert objective(a @ b) >= best - 1e-10
    # full rank: plain ridge regression on the soft labels
    full = gd.rank_student(teacher, X, min(teacher.shape), lam=lam_s, temperature=0.5, soft_noise=0.3)
    A_s = X @ X.T + lam_s * np.eye(X.shape[0])
    np.testing.assert_allclose(full.mean, np.linalg.solve(A_s, X @ target.T).T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(full.col_cov, 0.5 * 0.09 * np.linalg.inv(A_s), rtol=1e-10, atol=1e-13)


def test_sampled_student_fits_given_soft_labels():
    X, Y, teacher = problem(seed=4)
    labels = gd.soft_labels(teacher, X, 0.6).sample(rng=0)
    student = gd.rank_student(teacher, X, 4, soft_labels=labels)
    np.testing.assert_allclose(student.mean, np.linalg.solve(X @ X.T, X @ labels.T).T, rtol=1e-9, atol=1e-11)
    assert student.mode == "sampled"


@pytest.mark.parametrize("draws", [20_000, pytest.param(200_000, marks=pytest.mark.slow)])
def test_soft_label_law_matches_monte_carlo_of_the_mixture(draws):
    X, Y, teacher = problem(seed=5, k=2, d=3, n=4)
    tau = 0.4
    law = gd.soft_labels(teacher, X, tau)
    expected_cov = tau**2 * np.eye(4) + X.T @ teacher.col_cov @ X
    np.testing.assert_allclose(law.col_cov, expected_cov, rtol=1e-12)
    # independent MC of the paper's mixture: W ~ q_T, then Ŷ = W X + τ Z
    rng = np.random.default_rng(11)
    weights = teacher.sample(draws, rng)
    yhat = weights @ X + tau * rng.standard_normal((draws, 2, 4))
    mean_err = (yhat.mean(axis=0) - law.mean) / (yhat.std(axis=0) / np.sqrt(draws))
    assert np.all(np.abs(mean_err) < 5)
    centred = yhat - law.mean
    emp = np.einsum("sai,saj->ij", centred, centred) / (draws * 2)   # rows are i.i.d. (row cov I)
    prod = np.einsum("sai,saj->saij", centred, centred).reshape(draws * 2, 4, 4)
    se = prod.std(axis=0) / np.sqrt(draws * 2)
    assert np.all(np.abs(emp - expected_cov) < 5 * se)
    # and the package's own sampler draws from the same law
    own = law.sample(draws, rng=12)
    own_emp = np.einsum("sai,saj->ij", own - law.mean, own - law.mean) / (draws * 2)
    assert np.all(np.abs(own_emp - expected_cov) < 5 * se)


# ----------------------------------------------------------------------------- divergences
KIND_DIRECTION = [(kind, direction) for kind in gd.KINDS for direction in gd.DIRECTIONS]


@pytest.mark.parametrize("kind,direction", KIND_DIRECTION)
@pytest.mark.parametrize("seed", range(3))
def test_decomposition_parts_equal_their_definitions(kind, direction, seed):
    X, Y, teacher = problem(seed=seed, t_t=0.9)
    r = 2
    student = gd.rank_student(teacher, X, r, lam=0.3, soft_noise=0.5, temperature=0.6)
    res = gd.divergence(student, teacher, X, 0.5, kind, direction, rank=r)
    variance, mean, rank = direct_parts(student, teacher, X, 0.5, kind, direction, r)
    assert res.variance == pytest.approx(variance, rel=1e-9)
    assert res.rank == pytest.approx(rank, rel=1e-9)
    assert res.bias == pytest.approx(mean - rank, rel=1e-7, abs=1e-10 * mean)
    assert res.total == pytest.approx(variance + mean, rel=1e-10)
    assert res.bias + res.variance + res.rank == pytest.approx(res.total, rel=1e-12)
    assert min(res.bias, res.variance, res.rank) >= 0
    assert (res.kind, res.direction, res.rank_used) == (kind, direction, r)


@pytest.mark.parametrize("kind,direction", [kd for kd in KIND_DIRECTION if kd[0] != "weight"])
def test_predictive_and_convexity_match_dense_n_by_n_route(kind, direction):
    X, Y, teacher = problem(seed=7, n=30)
    student = gd.rank_student(teacher, X, 3, lam=0.2, temperature=0.3)
    fast = gd.divergence(student, teacher, X, 0.6, kind, direction, method="reduced")
    dense = gd.divergence(student, teacher, X, 0.6, kind, direction, method="dense")
    for part in ("total", "bias", "variance", "rank"):
        assert getattr(fast, part) == pytest.approx(getattr(dense, part), rel=1e-10, abs=1e-13)


def test_rank_part_is_optimal_over_random_rank_r_students():
    X, Y, teacher = problem(seed=8, k=5, d=6, n=20)
    r, tau = 2, 0.6
    for kind in gd.KINDS:
        student = gd.rank_student(teacher, X, r, lam=0.1, temperature=0.5)
        bottleneck = gd.divergence(student, teacher, X, tau, kind, rank=r).rank
        rng = np.random.default_rng(1)
        for _ in range(100):
            mean = rng.standard_normal((5, r)) @ rng.standard_normal((r, 6))
            # the top-r student in the metric, perturbed: still cannot beat the bottleneck
            cand = gd.MatrixNormal(mean, student.col_cov)
            res = gd.divergence(cand, teacher, X, tau, kind, rank=r)
            assert res.mean_part >= bottleneck * (1 - 1e-12)
            assert res.bias >= 0


def test_rank_bottleneck_is_attained_by_the_metric_optimal_student():
    # The student M_S = [T̃]_r G^{-1/2} (truncated teacher mean in the K^W metric) has bias 0.
    X, Y, teacher = problem(seed=9)
    r = 2
    w, q = np.linalg.eigh(teacher.col_cov)
    half, half_inv = (q * np.sqrt(w)) @ q.T, (q / np.sqrt(w)) @ q.T
    left, sv, right = np.linalg.svd(teacher.mean @ half_inv)
    best = ((left[:, :r] * sv[:r]) @ right[:r]) @ half
    res = gd.divergence(gd.MatrixNormal(best, teacher.col_cov), teacher, X, None, "weight", rank=r)
    assert res.bias == pytest.approx(0.0, abs=1e-10 * res.rank)
    assert res.variance == pytest.approx(0.0, abs=1e-14)
    assert res.rank == pytest.approx(0.5 * np.sum(sv[r:] ** 2), rel=1e-12)


@pytest.mark.parametrize("seed", range(8))
def test_data_processing_inequalities(seed):
    rng = np.random.default_rng(100 + seed)
    k, d, n = rng.integers(1, 6), rng.integers(1, 6), rng.integers(2, 15)
    X, Y, teacher = problem(seed=seed, k=int(k), d=int(d), n=int(n), lam_t=1.0)
    r = int(rng.integers(0, min(k, d) + 1))
    student = gd.rank_student(teacher, X, r, lam=float(rng.uniform(0, 1)) + 0.01,
                              temperature=float(rng.uniform(0.1, 2)), soft_noise=0.6)
    for direction in gd.DIRECTIONS:
        ky = gd.divergence(student, teacher, X, 0.6, "predictive", direction).total
        kbar = gd.divergence(student, teacher, X, 0.6, "convexity", direction).total
        kw = gd.divergence(student, teacher, X, 0.6, "weight", direction).total
        assert ky <= kbar * (1 + 1e-12)
        assert ky <= kw * (1 + 1e-12)


def test_reverse_direction_is_the_swapped_kl():
    X, Y, teacher = problem(seed=10)
    student = gd.rank_student(teacher, X, 2, lam=0.2, temperature=0.4)
    rev = gd.divergence(student, teacher, X, 0.6, "weight", "teacher||student")
    dense = dense_mn_kl(teacher.mean, np.eye(4), teacher.col_cov, student.mean, np.eye(4), student.col_cov)
    assert rev.total == pytest.approx(dense, rel=1e-10)


@pytest.mark.parametrize("kind,direction", KIND_DIRECTION)
def test_mpmath_50_digits_agrees_with_float64(kind, direction):
    X, Y, teacher = problem(seed=12, k=3, d=4, n=8)
    student = gd.rank_student(teacher, X, 2, lam=0.5, temperature=0.8)
    lo = gd.divergence(student, teacher, X, 0.6, kind, direction)
    hi = gd.divergence(student, teacher, X, 0.6, kind, direction, precision=50)
    assert hi.precision == 50
    for part in ("total", "bias", "variance", "rank"):
        value = getattr(hi, part)
        assert type(value).__module__.startswith("mpmath")
        assert float(value) == pytest.approx(getattr(lo, part), rel=1e-10, abs=1e-14)


def test_default_rank_is_the_rank_of_the_student_mean():
    X, Y, teacher = problem(seed=13)
    student = gd.rank_student(teacher, X, 3, lam=0.2)
    res = gd.divergence(student, teacher, X, 0.6, "convexity")
    assert res.rank_used == 3
    with pytest.raises(gd.GaussDistillError, match="rank=1 is below the rank of the student"):
        gd.divergence(student, teacher, X, 0.6, "convexity", rank=1)


def test_deterministic_student_weight_divergence_is_infinite_with_reason():
    X, Y, teacher = problem(seed=14)
    student = gd.rank_student(teacher, X, 2, lam=0.2, temperature=0.0)
    res = gd.divergence(student, teacher, X, 0.6, "weight")
    assert res.total == math.inf and "deterministic" in res.reason
    assert not any(np.isnan([res.bias, res.variance, res.rank]))
    finite = gd.divergence(student, teacher, X, 0.6, "predictive")
    assert math.isfinite(finite.total) and finite.reason is None


def test_tiny_divergence_between_nearly_equal_kernels_is_accurate():
    # Student = teacher up to a relative 1e-8 change of the covariance scale: the exact
    # K^W is (k d / 2) f(δ) with f(δ) = δ − ln(1 + δ) ≈ δ²/2, by hand.
    X, Y, teacher = problem(seed=15)
    k, d = teacher.shape
    delta = 1e-7
    student = gd.MatrixNormal(teacher.mean, teacher.col_cov * (1 + delta))
    res = gd.divergence(student, teacher, X, None, "weight")
    exact = 0.5 * k * d * (delta**2 / 2 - delta**3 / 3 + delta**4 / 4)
    assert res.total == pytest.approx(exact, rel=1e-6)


def test_soft_label_kl_uses_the_row_space_and_matches_dense():
    X, Y, teacher = problem(seed=16, k=2, d=3, n=7)
    other = gd.ridge_teacher(X, Y + 0.1, 0.7, 0.6, 0.5)
    p, q = gd.soft_labels(teacher, X, 0.4), gd.soft_labels(other, X, 0.4)
    dense = dense_mn_kl(p.mean, np.eye(2), 0.16 * np.eye(7) + X.T @ teacher.col_cov @ X,
                        q.mean, np.eye(2), 0.16 * np.eye(7) + X.T @ other.col_cov @ X)
    assert gd.kl_matrix_normal(p, q) == pytest.approx(dense, rel=1e-10)


@pytest.mark.parametrize("n", [5_000, pytest.param(20_000, marks=pytest.mark.slow)])
def test_large_n_never_allocates_an_n_by_n_matrix(n):
    import tracemalloc

    # an n×n float64 matrix would be 200 MB (n = 5000) or 3.2 GB (n = 20 000)
    X, Y, teacher = problem(seed=17, k=3, d=4, n=n)
    student = gd.rank_student(teacher, X, 2, lam=0.1, temperature=0.5)
    other = gd.ridge_teacher(X, Y, 2.0, 0.6, 0.3)
    tracemalloc.start()
    for kind in ("predictive", "convexity"):
        gd.divergence(student, teacher, X, 0.6, kind)
    gd.kl_matrix_normal(gd.soft_labels(teacher, X, 0.6), gd.soft_labels(other, X, 0.6))
    gd.soft_labels(teacher, X, 0.6).sample(2, rng=0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 64 * 2**20


@pytest.mark.parametrize("dim,expect_warning", [(50, False), (300, True)])
def test_conditioning_warning_where_float64_cannot_meet_the_target(dim, expect_warning):
    # cond 1e7: below 1e8 the extended-precision whitening keeps ≤ 1e-9 for supports up to
    # 256 dimensions; above that float64 gives ~cond·eps = 2e-9, so it must warn.
    import warnings

    rng = np.random.default_rng(18)
    q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    cov = (q * np.logspace(0, -7, dim)) @ q.T
    cov = (cov + cov.T) / 2
    p = gd.MatrixNormal(np.zeros((1, dim)), 1.01 * cov)
    ref = gd.MatrixNormal(np.zeros((1, dim)), cov)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        kl = gd.kl_matrix_normal(p, ref)
    flagged = [w for w in caught if issubclass(w.category, gd.ConditioningWarning)]
    assert bool(flagged) == expect_warning
    if flagged:
        assert "condition number 1e+07" in str(flagged[0].message) and "precision=50" in str(flagged[0].message)
    # exact: KL(N(0, cA) ‖ N(0, A)) = (dim/2)(c − 1 − ln c)
    assert kl == pytest.approx(dim / 2 * (0.01 - math.log1p(0.01)), rel=1e-6)


def test_extreme_variance_ratio_stays_finite_and_exact():
    # X = 8.7e-69 makes A_S = s ≈ 7.6e-137 (λ_S = 0): the K^W variance ratio is ~1e136 one
    # way and ~1e-136 the other; 1 + u rounds to 0 in the reverse direction unless the
    # ratio itself is used. Reference: ½(ρ − 1 − ln ρ) in mpmath from the same inputs.
    import mpmath

    X = np.array([[8.72697927e-69]])
    teacher = gd.ridge_teacher(X, np.zeros((1, 1)), 1.0, 1.0, 0.7)
    student = gd.rank_student(teacher, X, 0, lam=0.0, soft_noise=1.0, temperature=1.3)
    s = mpmath.mpf(X[0, 0]) ** 2
    w_s, w_t = mpmath.mpf(1.3) / s, mpmath.mpf(0.7) / (s + 1)
    for direction, rho in (("student||teacher", w_s / w_t), ("teacher||student", w_t / w_s)):
        res = gd.divergence(student, teacher, X, 1.0, "weight", direction)
        assert res.total == pytest.approx(float((rho - 1 - mpmath.log(rho)) / 2), rel=1e-12)


@pytest.mark.parametrize("direction", gd.DIRECTIONS)
def test_cold_kernels_on_an_ill_conditioned_design_match_mpmath(direction):
    # Hand-built laws carry no cached spectrum: with cond(X Xᵀ) = 1e8 the row-space map is
    # a thin QR of Xᵀ (no squaring of cond X). Reference: the same inputs at 50 digits.
    rng = np.random.default_rng(19)
    d, n, k = 5, 12, 3
    left = np.linalg.qr(rng.standard_normal((d, d)))[0]
    right = np.linalg.qr(rng.standard_normal((n, d)))[0]
    X = (left * np.logspace(0, -4, d)) @ right.T
    Y = rng.standard_normal((k, d)) @ X + 0.3 * rng.standard_normal((k, n))
    teacher = gd.ridge_teacher(X, Y, 1e-3, 0.3, 1.0)
    student = gd.rank_student(teacher, X, 2, lam=1e-2, temperature=0.5)
    cold_t = gd.MatrixNormal(teacher.mean, teacher.col_cov)
    cold_s = gd.MatrixNormal(student.mean, student.col_cov)
    for kind in ("predictive", "convexity"):
        lo = gd.divergence(cold_s, cold_t, X, 0.3, kind, direction, rank=2)
        hi = gd.divergence(cold_s, cold_t, X, 0.3, kind, direction, rank=2, precision=50)
        assert lo.total == pytest.approx(float(hi.total), rel=1e-9)
        assert lo.variance == pytest.approx(float(hi.variance), rel=1e-9, abs=1e-12 * lo.total)
