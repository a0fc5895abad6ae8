"""Degenerate laws: the exact finite value or +inf with a reason, never NaN.

Oracles: REFERENCES 4.1c (degenerate Gaussians; the published examples), the KL in subspace
coordinates computed densely, hand formulas for point masses (K^Y = ½‖Δ‖²/τ² when both
kernels are deterministic), and the dense float64 references of ``cases``.

Note on 4.1c: REFERENCES states finiteness under range Σ₁ ⊆ range Σ₂. That is too weak: when
the inclusion is strict, N(μ₁, Σ₁) lives on a lower-dimensional affine subspace that
N(μ₂, Σ₂) gives probability 0, so KL(1‖2) = +inf. The KL is finite iff the supports are
*equal* (ranges equal and μ₁ − μ₂ in the range), which is what gaussdistill implements and
what ``test_strict_support_inclusion_is_infinite`` checks.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import gaussdistill as gd

from cases import CASE_NAMES, CASES, DIRECTIONS, KINDS
from oracles import dense_divergence, dense_gauss_kl, vec

FIELDS = ("total", "bias", "variance", "rank")


def _no_nan(result):
    for name in FIELDS:
        value = getattr(result, name)
        assert not math.isnan(float(value)), (name, result)


# ----------------------------------------------------------------------------- the registry
@pytest.mark.parametrize("name", CASE_NAMES)
def test_registry_case_is_finite_or_inf_with_reason_never_nan(name):
    case = CASES[name]
    student, teacher = case.pair()
    for kind in KINDS:
        for direction in DIRECTIONS:
            result = gd.divergence(student, teacher, case.X, case.soft_noise, kind, direction)
            _no_nan(result)
            finite = math.isfinite(result.total)
            assert finite == case.finite[kind, direction], (kind, direction, result)
            if finite:
                assert result.reason is None
                assert result.is_finite
                for part in ("bias", "variance", "rank"):
                    assert getattr(result, part) >= 0, (kind, direction, part, result)
                scale = max(abs(result.total), 1e-300)
                parts = result.bias + result.variance + result.rank
                assert abs(parts - result.total) <= 1e-12 * scale + 1e-300
            else:
                assert result.total == math.inf
                assert isinstance(result.reason, str) and len(result.reason) > 20


@pytest.mark.parametrize("name", [n for n in CASE_NAMES if CASES[n].exact])
def test_registry_exact_values(name):
    case = CASES[name]
    student, teacher = case.pair()
    for (kind, direction), value in case.exact.items():
        total = gd.divergence(student, teacher, case.X, case.soft_noise, kind, direction).total
        assert total == pytest.approx(value, rel=1e-12, abs=1e-20), (kind, direction)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_registry_against_dense_reference(name):
    """Finite cases: the vectorised dense Gaussian KL of the same kernels (independent code)."""
    case = CASES[name]
    student, teacher = case.pair()
    for kind in KINDS:
        for direction in DIRECTIONS:
            if not case.finite[kind, direction]:
                continue
            if kind == "weight" and min(case.t_s, case.t_t) == 0:
                continue   # equal point masses: no density, covered by the exact values
            ref = dense_divergence(student.mean, student.col_cov, teacher.mean, teacher.col_cov,
                                   case.X, case.soft_noise, kind, direction)
            got = gd.divergence(student, teacher, case.X, case.soft_noise, kind, direction).total
            assert got == pytest.approx(ref, rel=1e-8, abs=1e-12), (kind, direction)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_registry_soft_label_kl_is_the_predictive_divergence(name):
    """kl_matrix_normal between the two soft-label laws (its row-space fast path) = K^Y (dense)."""
    case = CASES[name]
    student, teacher = case.pair()
    ps = gd.soft_labels(student, case.X, case.soft_noise)
    pt = gd.soft_labels(teacher, case.X, case.soft_noise)
    for direction, (a, b) in (("student||teacher", (ps, pt)), ("teacher||student", (pt, ps))):
        ref = dense_divergence(student.mean, student.col_cov, teacher.mean, teacher.col_cov,
                               case.X, case.soft_noise, "predictive", direction)
        kl = gd.kl_matrix_normal(a, b)
        assert kl.reason is None and not math.isnan(kl)
        assert kl == pytest.approx(ref, rel=1e-8, abs=1e-12), direction


@pytest.mark.parametrize("name", CASE_NAMES)
def test_registry_reduced_and_dense_routes_agree(name):
    case = CASES[name]
    student, teacher = case.pair()
    for kind in ("predictive", "convexity"):
        for direction in DIRECTIONS:
            a = gd.divergence(student, teacher, case.X, case.soft_noise, kind, direction, method="reduced")
            b = gd.divergence(student, teacher, case.X, case.soft_noise, kind, direction, method="dense")
            for part in FIELDS:
                x, y = getattr(a, part), getattr(b, part)
                assert x == pytest.approx(y, rel=1e-10, abs=1e-13 * max(abs(a.total), 1.0)), (kind, direction, part)


# ----------------------------------------------------------------------------- deterministic kernels
def test_both_deterministic_predictive_is_half_mean_misfit_over_tau2():
    case = CASES["both_deterministic"]
    student, teacher = case.pair()
    assert student.is_deterministic and teacher.is_deterministic
    delta = (student.mean - teacher.mean) @ case.X
    expected = 0.5 * np.sum(delta * delta) / case.soft_noise**2      # V_S = V_T = τ² I
    for kind in ("predictive", "convexity"):
        for direction in DIRECTIONS:
            r = gd.divergence(student, teacher, case.X, case.soft_noise, kind, direction)
            assert r.total == pytest.approx(expected, rel=1e-12)
            assert r.variance == 0.0


def test_deterministic_student_weight_reasons_name_the_deterministic_side():
    student, teacher = CASES["singular_student"].pair()
    fwd = gd.divergence(student, teacher, CASES["singular_student"].X, kind="weight")
    rev = gd.divergence(student, teacher, CASES["singular_student"].X, kind="weight", direction="teacher||student")
    assert fwd.total == rev.total == math.inf
    assert "student" in fwd.reason and "deterministic" in fwd.reason
    assert "student" in rev.reason and "deterministic" in rev.reason


def test_rank_zero_student_is_all_rank_bottleneck():
    case = CASES["rank_zero"]
    student, teacher = case.pair()
    assert np.all(student.mean == 0)
    for kind in KINDS:
        r = gd.divergence(student, teacher, case.X, case.soft_noise, kind)
        assert r.rank_used == 0 and r.bias == 0
        assert r.rank == pytest.approx(r.total - r.variance, rel=1e-12)
    # K̄: rank part = ‖M_T X‖²_F / (2τ²) exactly (all singular values are "beyond r = 0").
    r = gd.divergence(student, teacher, case.X, case.soft_noise, "convexity")
    mx = teacher.mean @ case.X
    assert r.rank == pytest.approx(np.sum(mx * mx) / (2 * case.soft_noise**2), rel=1e-12)


def test_k_one_scalar_outputs():
    case = CASES["k_one"]
    student, teacher = case.pair()
    assert student.shape == (1, case.d)
    # r = min(k, d) = 1: no rank bottleneck at all.
    for kind in KINDS:
        assert gd.divergence(student, teacher, case.X, case.soft_noise, kind).rank == 0
    with pytest.raises(gd.GaussDistillError, match=r"rank must be an integer in \[0, 1\]"):
        gd.rank_student(teacher, case.X, 2)


def test_rank_deficient_design_teacher_mean_lives_in_the_row_space():
    case = CASES["rank_deficient_X"]
    teacher = case.teacher
    u, sv, _ = np.linalg.svd(case.X)
    null = u[:, 2:]                                    # rank X = 2
    assert np.max(np.abs(teacher.mean @ null)) <= 1e-12 * np.max(np.abs(teacher.mean))
    # λ_T = 0 is impossible on this design: A_T singular.
    with pytest.raises(gd.GaussDistillError, match=r"lam=0 but X X\^T is singular \(rank 2 < d = 5"):
        gd.ridge_teacher(case.X, case.Y, 0.0, 0.5)


def test_n_less_than_d_auto_route_equals_reduced_route():
    case = CASES["n_lt_d"]
    student, teacher = case.pair()
    for kind in KINDS:
        a = gd.divergence(student, teacher, case.X, case.soft_noise, kind)
        b = gd.divergence(student, teacher, case.X, case.soft_noise, kind, method="reduced")
        assert a.total == pytest.approx(b.total, rel=1e-10)


# ----------------------------------------------------------------------------- REFERENCES 4.1c
def _mn(mean, cov, row=None):
    return gd.MatrixNormal(np.atleast_2d(np.asarray(mean, float)), np.asarray(cov, float), row)


def test_published_degenerate_example_same_support():
    kl = gd.kl_matrix_normal(_mn([0, 0], np.diag([1.0, 0.0])), _mn([0, 0], np.diag([2.0, 0.0])))
    assert kl == pytest.approx(0.09657359027997265, rel=1e-14)   # ½(½ − 1 + ln 2), REFERENCES 4.1c
    assert kl.reason is None


def test_published_degenerate_example_disjoint_supports_is_inf():
    kl = gd.kl_matrix_normal(_mn([0, 0], np.diag([1.0, 0.0])), _mn([0, 0], np.diag([0.0, 1.0])))
    assert kl == math.inf and "not supported" in kl.reason


@pytest.mark.parametrize("cov_p,cov_q", [(np.diag([1.0, 0.0]), np.eye(2)),
                                         (np.eye(2), np.diag([1.0, 0.0]))], ids=["p_in_q", "q_in_p"])
def test_strict_support_inclusion_is_infinite(cov_p, cov_q):
    kl = gd.kl_matrix_normal(_mn([0, 0], cov_p), _mn([0, 0], cov_q))
    assert kl == math.inf
    assert "rank 1" in kl.reason and "rank 2" in kl.reason
    assert not math.isnan(kl)


def test_mean_difference_inside_and_outside_the_support():
    cov = np.diag([1.0, 0.0])
    inside = gd.kl_matrix_normal(_mn([1.0, 0.0], cov), _mn([0.0, 0.0], np.diag([2.0, 0.0])))
    # ½(½ − 1 + ln 2) + ½·1²/2
    assert inside == pytest.approx(0.5 * (0.5 - 1 + math.log(2)) + 0.25, rel=1e-14)
    outside = gd.kl_matrix_normal(_mn([0.0, 1.0], cov), _mn([0.0, 0.0], cov))
    assert outside == math.inf and "mean difference" in outside.reason


def test_rotated_degenerate_support_equals_subspace_coordinates():
    """rank-2 laws in R⁴ on a random plane: KL = the 2-dim KL in plane coordinates."""
    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.standard_normal((4, 2)))[0]              # 4×2, orthonormal
    a, b = rng.standard_normal((2, 2)), rng.standard_normal((2, 2))
    s1, s2 = a @ a.T + 0.3 * np.eye(2), b @ b.T + 0.3 * np.eye(2)
    c1, c2 = rng.standard_normal(2), rng.standard_normal(2)
    cov1, cov2 = basis @ s1 @ basis.T, basis @ s2 @ basis.T
    mu1, mu2 = basis @ c1, basis @ c2
    kl = gd.kl_matrix_normal(_mn(mu1, (cov1 + cov1.T) / 2), _mn(mu2, (cov2 + cov2.T) / 2))
    assert kl == pytest.approx(dense_gauss_kl(c1, s1, c2, s2), rel=1e-10)
    # Nudge the mean off the plane: +inf.
    off = mu1 + 1e-3 * np.linalg.qr(np.c_[basis, rng.standard_normal(4)])[0][:, 2]
    assert gd.kl_matrix_normal(_mn(off, (cov1 + cov1.T) / 2), _mn(mu2, (cov2 + cov2.T) / 2)) == math.inf


def test_singular_row_covariance_equals_kl_of_the_supported_rows():
    """U₁ = U₂ = diag(1, 0): only the first row is random; the second must agree exactly."""
    rng = np.random.default_rng(1)
    m = 3
    v1, v2 = (lambda a: a @ a.T + 0.2 * np.eye(m))(rng.standard_normal((m, m))), np.eye(m)
    row = np.diag([1.0, 0.0])
    m1 = rng.standard_normal((2, m))
    m2 = m1.copy()
    m2[0] += rng.standard_normal(m)
    kl = gd.kl_matrix_normal(gd.MatrixNormal(m1, v1, row), gd.MatrixNormal(m2, v2, row))
    assert kl == pytest.approx(dense_gauss_kl(m1[0], v1, m2[0], v2), rel=1e-12)
    m2[1, 0] += 1.0   # the deterministic row differs: +inf
    assert gd.kl_matrix_normal(gd.MatrixNormal(m1, v1, row), gd.MatrixNormal(m2, v2, row)) == math.inf


def test_point_masses():
    mean = np.arange(6.0).reshape(2, 3)
    zero = np.zeros((3, 3))
    same = gd.kl_matrix_normal(gd.MatrixNormal(mean, zero), gd.MatrixNormal(mean.copy(), zero))
    assert same == 0.0 and same.reason is None
    other = gd.kl_matrix_normal(gd.MatrixNormal(mean, zero), gd.MatrixNormal(mean + 1e-3, zero))
    assert other == math.inf and "point masses" in other.reason
    gauss = gd.MatrixNormal(mean, np.eye(3))
    to_gauss = gd.kl_matrix_normal(gd.MatrixNormal(mean, zero), gauss)
    from_gauss = gd.kl_matrix_normal(gauss, gd.MatrixNormal(mean, zero))
    assert to_gauss == from_gauss == math.inf
    assert "deterministic" in to_gauss.reason and "deterministic" in from_gauss.reason
    # A zero *row* covariance is a point mass too.
    row_zero = gd.MatrixNormal(mean, np.eye(3), np.zeros((2, 2)))
    assert row_zero.is_deterministic
    assert gd.kl_matrix_normal(row_zero, gd.MatrixNormal(mean, zero)) == 0.0


def test_hand_built_singular_weight_covariances_on_a_common_plane():
    """K^W between kernels whose Σ share a rank-2 support in R³ = KL in plane coordinates."""
    rng = np.random.default_rng(2)
    k, d = 2, 3
    basis = np.linalg.qr(rng.standard_normal((d, 2)))[0]
    a, b = rng.standard_normal((2, 2)), rng.standard_normal((2, 2))
    s_s, s_t = a @ a.T + 0.5 * np.eye(2), b @ b.T + 0.5 * np.eye(2)
    coords_t = rng.standard_normal((k, 2))
    coords_s = coords_t + 0.3 * rng.standard_normal((k, 2))
    sym = lambda c: (c + c.T) / 2  # noqa: E731
    teacher = gd.MatrixNormal(coords_t @ basis.T, sym(basis @ s_t @ basis.T))
    student = gd.MatrixNormal(coords_s @ basis.T, sym(basis @ s_s @ basis.T))
    X = rng.standard_normal((d, 5))
    ref = dense_gauss_kl(vec(coords_s), np.kron(s_s, np.eye(k)), vec(coords_t), np.kron(s_t, np.eye(k)))
    r = gd.divergence(student, teacher, X, kind="weight", rank=2)
    assert r.total == pytest.approx(ref, rel=1e-10)
    assert r.bias + r.variance + r.rank == pytest.approx(r.total, rel=1e-12)
    # Move the student's mean off the plane: +inf with a reason about the mean.
    normal = np.cross(basis[:, 0], basis[:, 1])
    shifted = gd.MatrixNormal(student.mean + 0.1 * np.outer(np.ones(k), normal), student.col_cov)
    r = gd.divergence(shifted, teacher, X, kind="weight", rank=2)
    assert r.total == math.inf and "mean difference" in r.reason
    _no_nan(r)


def test_no_nan_and_no_runtime_warning_on_degenerate_inputs():
    """Every degenerate case runs without numpy RuntimeWarnings (divide by zero, invalid)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for name in CASE_NAMES:
            case = CASES[name]
            student, teacher = case.pair()
            for kind in KINDS:
                for direction in DIRECTIONS:
                    _no_nan(gd.divergence(student, teacher, case.X, case.soft_noise, kind, direction))


@pytest.mark.parametrize("name", CASE_NAMES)
def test_registry_float64_and_mpmath_agree_on_value_and_finiteness(name):
    import mpmath

    case = CASES[name]
    student, teacher = case.pair()
    for kind in KINDS:
        for direction in DIRECTIONS:
            a = gd.divergence(student, teacher, case.X, case.soft_noise, kind, direction)
            b = gd.divergence(student, teacher, case.X, case.soft_noise, kind, direction, precision=30)
            assert math.isfinite(a.total) == (b.total != mpmath.inf), (kind, direction, a.reason, b.reason)
            assert (a.reason is None) == (b.reason is None)
            if math.isfinite(a.total):
                for part in FIELDS:
                    x, y = getattr(a, part), float(getattr(b, part))
                    assert abs(x - y) <= 1e-9 * max(abs(y), abs(a.total)) + 1e-20, (kind, direction, part, x, y)
