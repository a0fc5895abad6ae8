"""kl_matrix_normal on the edges: tiny eigenvalues, extreme variance ratios, soft-label laws.

References: exact closed forms evaluated in 60-digit mpmath, and the dense Kronecker KL at
50 digits from the same float64 inputs (``oracles.mp_mn_kl``).
"""
from __future__ import annotations

import tracemalloc
import warnings

import mpmath
import numpy as np
import pytest

import gaussdistill as gd
from gaussdistill.errors import ConditioningWarning

from cases import design_with_spectrum
from oracles import dense_mn_kl, mp_mn_kl, rel_err

EPS = np.finfo(float).eps


def _diag_law(*variances, k=1):
    return gd.MatrixNormal(np.zeros((k, len(variances))), np.diag(variances))


def _exact_diag_kl(p_vars, q_vars):
    """½ Σ (r − 1 − ln r), r = p/q, at 60 digits."""
    with mpmath.workdps(60):
        total = mpmath.mpf(0)
        for a, b in zip(p_vars, q_vars):
            r = mpmath.mpf(a) / mpmath.mpf(b)
            total += (r - 1 - mpmath.log(r)) / 2
        return total


# ----------------------------------------------------------------------------- rank cutoff
def test_dropped_variances_warn_and_rtol_recovers_the_exact_kl():
    # Exact 0.153: the default SciPy cutoff (1e6·eps·max) drops the 2e-11 and 1e-11 variances.
    p, q = _diag_law(1.0, 2e-11), _diag_law(1.0, 1e-11)
    exact = _exact_diag_kl([1, 2e-11], [1, 1e-11])
    with pytest.warns(ConditioningWarning, match="rtol"):
        gd.kl_matrix_normal(p, q)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConditioningWarning)     # cond 1e11: flagged, yet exact here
        assert rel_err(gd.kl_matrix_normal(p, q, rtol=0), exact) < 4 * EPS
        assert rel_err(gd.kl_matrix_normal(p, q, precision=30), exact) < 1e-28


def test_finite_kl_made_infinite_by_the_cutoff_warns():
    p, q = _diag_law(1.0, 1e-10), _diag_law(1.0, 1.0)
    exact = _exact_diag_kl([1, 1e-10], [1, 1])      # 11.01
    with pytest.warns(ConditioningWarning, match="rtol"):
        gd.kl_matrix_normal(p, q)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConditioningWarning)
        assert rel_err(gd.kl_matrix_normal(p, q, rtol=1e-14), exact) < 4 * EPS
    assert rel_err(gd.kl_matrix_normal(p, q, precision=30), exact) < 1e-28


def test_a_singular_covariance_built_singular_does_not_warn():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 2))
    cov = a @ a.T                                      # rank 2, rounding-level rest
    p = gd.MatrixNormal(rng.standard_normal((2, 2)) @ a.T, cov)
    q = gd.MatrixNormal(np.zeros((2, 4)), 2 * cov)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kl = gd.kl_matrix_normal(p, q)
    assert np.isfinite(kl)


@pytest.mark.parametrize("cond", [1e10, 1e12])
def test_dense_covariances_beyond_the_default_cutoff_with_rtol_zero(cond):
    rng = np.random.default_rng(3)
    m = 4
    q_basis = np.linalg.qr(rng.standard_normal((m, m)))[0]
    v2 = (q_basis * np.logspace(0, -np.log10(cond), m)) @ q_basis.T
    v2 = (v2 + v2.T) / 2
    b = rng.standard_normal((m, m)) * 0.1
    root = (q_basis * np.sqrt(np.logspace(0, -np.log10(cond), m))) @ q_basis.T
    v1 = root @ (np.eye(m) + b @ b.T) @ root
    v1 = (v1 + v1.T) / 2
    m1, m2 = rng.standard_normal((1, m)) @ root, np.zeros((1, m))
    ref = mp_mn_kl(m1, np.eye(1), v1, m2, np.eye(1), v2)
    with pytest.warns(ConditioningWarning):
        gd.kl_matrix_normal(gd.MatrixNormal(m1, v1), gd.MatrixNormal(m2, v2))
    with pytest.warns(ConditioningWarning, match="condition number"):
        got = gd.kl_matrix_normal(gd.MatrixNormal(m1, v1), gd.MatrixNormal(m2, v2), rtol=0)
    assert rel_err(got, ref) < 1e-5          # the naive Kronecker formula's accuracy here
    assert rel_err(gd.kl_matrix_normal(gd.MatrixNormal(m1, v1), gd.MatrixNormal(m2, v2), precision=40),
                   ref) < 1e-30


def test_rtol_is_validated():
    p = _diag_law(1.0, 2.0)
    for bad in (-1.0, 1.0, "0", float("nan")):
        with pytest.raises(gd.GaussDistillError, match="rtol"):
            gd.kl_matrix_normal(p, p, rtol=bad)


# ----------------------------------------------------------------------------- variance ratios
@pytest.mark.parametrize("ratio", [1e-12, 1e-16, 1e-17, 1e-300, 1e12])
def test_kl_of_very_unequal_variances_is_exact(ratio):
    exact = _exact_diag_kl([ratio], [1.0])
    got = gd.kl_matrix_normal(_diag_law(ratio), _diag_law(1.0))
    assert rel_err(got, exact) < 4 * EPS


def test_unequal_variances_in_a_dense_matrix_normal():
    rng = np.random.default_rng(5)
    q_basis = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    v2 = (q_basis * [1.0, 2.0, 3.0]) @ q_basis.T
    v1 = 1e-15 * v2 + 1e-16 * np.eye(3)
    u1, u2 = np.array([[2.0, 0.3], [0.3, 1.0]]), np.eye(2)
    m1, m2 = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    ref = mp_mn_kl(m1, u1, v1, m2, u2, v2)
    got = gd.kl_matrix_normal(gd.MatrixNormal(m1, v1, u1), gd.MatrixNormal(m2, v2, u2))
    assert rel_err(got, ref) < 1e-13


# ----------------------------------------------------------------------------- soft-label laws
def _soft_pair(n, tau_p, tau_q, seed=0, cond=None):
    rng = np.random.default_rng(seed)
    spectrum = [1.0, 1.0, 1.0] if cond is None else [1.0, 1 / np.sqrt(cond), 1 / cond]
    X = rng.standard_normal((3, n)) if cond is None else design_with_spectrum(rng, spectrum, n)
    Y = rng.standard_normal((2, n))
    t1 = gd.ridge_teacher(X, Y, 1.0, 0.5)
    t2 = gd.ridge_teacher(X, Y + 0.1, 2.0, 0.7)
    return X, gd.soft_labels(t1, X, tau_p), gd.soft_labels(t2, X, tau_q)


@pytest.mark.parametrize("cond", [None, 1e8], ids=["gram", "qr"])
@pytest.mark.parametrize("taus", [(0.3, 0.3), (0.3, 0.5), (1.0, 1e-3)])
def test_soft_label_kl_matches_the_dense_kronecker_kl(taus, cond):
    X, p, q = _soft_pair(7, *taus, cond=cond)
    ref = dense_mn_kl(p.mean, np.eye(2), np.asarray(p.col_cov), q.mean, np.eye(2), np.asarray(q.col_cov))
    assert abs(gd.kl_matrix_normal(p, q) - ref) <= 1e-10 * abs(ref)
    if cond is None:    # the mpmath route (QR at 30 digits) against the 50-digit Kronecker KL
        # of the float64-rounded n×n covariances: they differ from the factored ones by
        # eps·‖XᵀΣX‖, i.e. 1e-12 relative when τ² = 1e-6.
        mp_ref = mp_mn_kl(p.mean, np.eye(2), np.asarray(p.col_cov), q.mean, np.eye(2), np.asarray(q.col_cov))
        assert rel_err(gd.kl_matrix_normal(p, q, precision=30), mp_ref) < 1e-10


def test_soft_label_kl_with_different_tau_forms_no_n_by_n_matrix():
    n = 1500                                     # an n×n float64 matrix would be 18 MB
    X, p, q = _soft_pair(n, 0.3, 0.5)
    tracemalloc.start()
    try:
        kl = gd.kl_matrix_normal(p, q)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert np.isfinite(kl) and kl > 0
    assert peak < 4e6, f"peak {peak / 1e6:.1f} MB"


# ----------------------------------------------------------------------------- precision and reasons
def test_precision_results_keep_their_reason():
    p, q = _diag_law(1.0, 0.0), _diag_law(1.0, 1.0)
    kl64 = gd.kl_matrix_normal(p, q)
    klmp = gd.kl_matrix_normal(p, q, precision=30)
    assert kl64 == np.inf and "subspace" in kl64.reason
    assert klmp == mpmath.inf and klmp.reason == kl64.reason
    finite = gd.kl_matrix_normal(_diag_law(2.0), _diag_law(1.0), precision=30)
    assert finite.reason is None and isinstance(finite, mpmath.mpf)


def test_precision_has_an_upper_bound():
    p = _diag_law(1.0)
    with pytest.raises(gd.GaussDistillError, match="precision.*1000"):
        gd.kl_matrix_normal(p, p, precision=100000)


def test_overflow_names_the_covariances_when_they_are_the_cause():
    p, q = _diag_law(1e300), _diag_law(1e-300)        # KL ≈ ½(1e600 − 1 − ln 1e600): beyond float64
    with warnings.catch_warnings():
        warnings.simplefilter("error")                 # no numpy RuntimeWarning on the way
        with pytest.raises(gd.GaussDistillError, match="covariances are too disparate"):
            gd.kl_matrix_normal(p, q)
        big_mean = gd.MatrixNormal([[1e200]], [[1e-200]])
        with pytest.raises(gd.GaussDistillError, match="mean difference"):
            gd.kl_matrix_normal(big_mean, _diag_law(1e-200))
    with mpmath.workdps(40):
        r = mpmath.mpf(1e300) / mpmath.mpf(1e-300)
        exact = (r - 1 - mpmath.log(r)) / 2
        got = gd.kl_matrix_normal(p, q, precision=30)
        assert abs(got - exact) <= mpmath.mpf(10) ** -28 * exact


def test_a_covariance_near_the_float64_limit_is_an_error_naming_it_not_a_numpy_warning():
    # (C + Cᵀ)/2 overflowed at 1e308 entries and eigh's eigenvalue 2e308 = inf made NaN.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for cov in ([[1e308, 1e308], [1e308, 1e308]], [[1e308, -1e308], [-1e308, 1e308]]):
            with pytest.raises(gd.GaussDistillError, match="col_cov"):
                gd.MatrixNormal(np.zeros((1, 2)), cov)
        law = gd.MatrixNormal(np.zeros((1, 2)), [[1e308, 0.0], [0.0, 1.7e308]])   # representable
        assert law.col_factor.rank == 2


def test_a_sample_size_beyond_memory_is_an_error_naming_size():
    # Was numpy's raw "ValueError: Maximum allowed dimension exceeded".
    law = gd.MatrixNormal(np.zeros((2, 2)), np.eye(2))
    with pytest.raises(gd.GaussDistillError, match="size"):
        law.sample(10**20)


def test_a_kl_near_the_float64_limit_is_returned_not_reported_as_overflow():
    # ½·Σ terms: the sum of 2·(1e308 − 1 − ln 1e308) overflowed before the halving, and
    # (A + Aᵀ)/2 of the whitened 1e308 matrix gave inf then NaN: "overflows float64" for a
    # KL of 1e308 (exact: ½·2·(1e308 − 1 − ln 1e308) = 1e308 in float64).
    p = gd.MatrixNormal(np.zeros((1, 2)), [[1e308, 0.0], [0.0, 1e308]])
    q = gd.MatrixNormal(np.zeros((1, 2)), np.eye(2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gd.kl_matrix_normal(p, q) == 1e308
        assert gd.divergence(p, q, np.eye(2), kind="weight").total == 1e308
        far = gd.MatrixNormal(np.full((1, 3), 1e154), np.eye(3))          # ½·3·1e308
        assert gd.kl_matrix_normal(far, gd.MatrixNormal(np.zeros((1, 3)), np.eye(3))) == pytest.approx(1.5e308)
