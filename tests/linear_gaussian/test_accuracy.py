"""Accuracy of the float64 results against 50-digit mpmath references.

Every reference is computed *here*, independently of gaussdistill, with mpmath at 50 digits
on the *same float64 inputs* the package sees (exact conversion of each float64 entry):

* ``kl_matrix_normal``: the dense KL of the vectorised Gaussians vec W ~ N(vec M, V ⊗ U),
  formed with an explicit Kronecker product (``oracles.mp_mn_kl``);
* ``divergence``: the teacher and a full-rank student rebuilt from X, Y, λ, ν, τ, t by
  mpmath linear algebra, and the n×n predictive laws formed densely (``oracles.mp_pipeline``,
  ``oracles.mp_predictive_kl``).

Measured on this machine (float64 relative error vs mpmath; run
``python tests/test_accuracy.py`` to print the table again):

* kl_matrix_normal, k = 2, m = 5, covariances with condition number κ (independent random
  eigenbases, row covariances κ ≤ 3): κ = 1: 3e-16, 1e4: 7e-13, 1e6: 1.6e-12, 1e8: 8.6e-11
  (the naive Cholesky recipe on V ⊗ U: 2e-16, 1.5e-13, 5e-11, 3.7e-9). Nearby laws
  (V₁ = V₂^{1/2}(I + 0.1B)V₂^{1/2}): 2e-16, 5e-14, 2e-13, 2.6e-11 (naive up to 9.8e-10).
  Before the extended-precision whitening (``_numerics.psd.whiten_pair``) the same cases gave
  1.4e-10 at κ = 1e6 and 1.4e-8 at κ = 1e8: eigh gets the smallest eigenvalue only to
  ±eps·‖Σ‖, i.e. κ·eps relative.
* divergence (ridge teacher and full-rank student on one design, all kinds, both
  directions, λ_T = 2λ_S ∈ {0, 1e-3, 1}), max over 3 seeds: κ(X Xᵀ) = 1: 5e-15, 1e4: 1.6e-12,
  1e6: 7.2e-11, 1e8: 9.9e-13, 1e10: 7.0e-12. Before the fixes in ``linear_gaussian/design.py`` (SVD design
  spectrum above κ = 1e6; population student kept in the eigenbasis) κ = 1e8 with λ = 1
  gave 6e-9 to 2.4e-8, and κ(A_T) > 4.5e9 gave O(1) errors (exact covariance eigenvalues
  zeroed by the rank cutoff).
* tiny KL, the cancellation setup (d = 30, Σp = Σq + δ BBᵀ): δ = 1e-3, 1e-5, 1e-7, 1e-8 give
  KL = 3.4e-4, 3.5e-8, 3.5e-12, 3.5e-14; ours 3.6e-15, 7.6e-16, 1.2e-16, 1.3e-15;
  naive ``tr − d − logdet`` (Cholesky) 8.1e-12, 6.5e-8, 1.0e-3, 3.0e-2.
* tiny predictive / weight divergence, student = teacher except t_S = 1 + δ:
  δ = 1e-6, 1e-7 give K^Y = 3.8e-13, 3.8e-15 with ours 2.7e-10, 3.2e-9 and naive 9e-3, 0.89;
  K^W = 1.5e-12, 1.5e-14 with ours 2.7e-10, 3.2e-9 and naive 9e-5, 6.6e-3.
"""
from __future__ import annotations

import warnings

import mpmath
import numpy as np
import pytest

import gaussdistill as gd
from gaussdistill.errors import ConditioningWarning

from cases import DIRECTIONS, design_with_spectrum, spd_with_condition
from oracles import (
    mp_gauss_kl,
    mp_kron,
    mp_matrix,
    mp_mn_kl,
    mp_pipeline,
    mp_predictive_kl,
    mp_trace,
    mp_vec,
    naive_gauss_kl_cholesky,
    rel_err,
    vec,
)


# ----------------------------------------------------------------------------- scenarios
def _independent(rng, cond, k=2, m=5):
    """Two laws with independent random eigenbases, κ(V) = cond, κ(U) = 3."""
    v1, v2 = spd_with_condition(rng, m, cond), spd_with_condition(rng, m, cond)
    u1, u2 = spd_with_condition(rng, k, 3.0), spd_with_condition(rng, k, 3.0)
    m1 = rng.standard_normal((k, m))
    return m1, u1, v1, m1 + rng.standard_normal((k, m)), u2, v2


def _nearby(rng, cond, k=2, m=5):
    """V₁ = V₂^{1/2}(I + 0.1 B)V₂^{1/2}: a relative perturbation in every direction, κ(V₂) = cond."""
    v2 = spd_with_condition(rng, m, cond)
    w, q = np.linalg.eigh(v2)
    root = (q * np.sqrt(w)) @ q.T
    b = rng.standard_normal((m, m))
    b = (b + b.T) / 2
    v1 = root @ (np.eye(m) + 0.1 * b / np.linalg.norm(b, 2)) @ root
    m2 = rng.standard_normal((k, m))
    return (m2 + 0.1 * rng.standard_normal((k, m)) @ root, spd_with_condition(rng, k, 2.0),
            (v1 + v1.T) / 2, m2, np.eye(k), v2)


def _kl_errors(make, cond, seeds=range(3)):
    """(reference KL, ours rel. error, naive rel. error) per seed; no warnings filter here."""
    out = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        m1, u1, v1, m2, u2, v2 = make(rng, cond)
        ours = gd.kl_matrix_normal(gd.MatrixNormal(m1, v1, u1), gd.MatrixNormal(m2, v2, u2))
        ref = mp_mn_kl(m1, u1, v1, m2, u2, v2)
        naive = naive_gauss_kl_cholesky(vec(m1), np.kron(v1, u1), vec(m2), np.kron(v2, u2))
        out.append((float(ref), rel_err(ours, ref), rel_err(naive, ref)))
    return out


# ----------------------------------------------------------------------------- kl_matrix_normal
@pytest.mark.parametrize("make", [_independent, _nearby], ids=["independent", "nearby"])
@pytest.mark.parametrize("cond", [1.0, 1e2, 1e4, 1e6, 0.999e8])
def test_kl_matrix_normal_within_1e9_of_mpmath(make, cond):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConditioningWarning)     # no warning at κ ≤ 1e8
        errors = _kl_errors(make, cond, seeds=range(4))
    for ref, ours, _ in errors:
        assert ours <= 1e-9, (cond, ref, ours)


def test_kl_matrix_normal_beyond_1e8_warns_and_stays_accurate():
    # κ = 1e9: ConditioningWarning, and still ~1e-9 thanks to the extended-precision whitening.
    with pytest.warns(ConditioningWarning, match=r"condition number 1(\.0+)?e\+09"):
        errors = _kl_errors(_independent, 1e9)
    for ref, ours, _ in errors:
        assert ours <= 1e-8, (ref, ours)


def test_refined_whitening_on_a_singular_ill_conditioned_support():
    """Rank-3 laws in R⁵ with cond 1e7 on their common support = the 3-dim KL at 50 digits."""
    rng = np.random.default_rng(9)
    basis = np.linalg.qr(rng.standard_normal((5, 3)))[0]
    s1, s2 = spd_with_condition(rng, 3, 1e7), spd_with_condition(rng, 3, 1e7)
    c1, c2 = rng.standard_normal((1, 3)), rng.standard_normal((1, 3))
    sym = lambda c: (c + c.T) / 2  # noqa: E731
    v1, v2 = sym(basis @ s1 @ basis.T), sym(basis @ s2 @ basis.T)
    # Reference in support coordinates from the same float64 matrices: Bᵀ V B (exact in mpmath).
    with mpmath.workdps(50):
        B = mp_matrix(basis)
        ref = mp_gauss_kl((mp_matrix(c1 @ basis.T) * B).T, B.T * mp_matrix(v1) * B,
                          (mp_matrix(c2 @ basis.T) * B).T, B.T * mp_matrix(v2) * B)
    kl = gd.kl_matrix_normal(gd.MatrixNormal(c1 @ basis.T, v1), gd.MatrixNormal(c2 @ basis.T, v2))
    assert kl.reason is None
    # The basis is orthonormal only to ~eps, so the reference itself moves by ~cond·eps.
    assert rel_err(kl, ref) <= 1e-8


def test_kl_matrix_normal_beats_naive_when_both_row_and_column_are_ill_conditioned():
    # κ(U) = κ(V) = 1e6: the vectorised covariance has κ = 1e12, where the naive Cholesky
    # recipe on V ⊗ U loses ~6 digits and the factored computation keeps ≤ 1e-9.
    rng = np.random.default_rng(7)
    k, m = 2, 4
    v1, v2 = spd_with_condition(rng, m, 1e6), spd_with_condition(rng, m, 1e6)
    u1, u2 = spd_with_condition(rng, k, 1e6), spd_with_condition(rng, k, 1e6)
    m1 = rng.standard_normal((k, m))
    m2 = m1 + rng.standard_normal((k, m))
    ref = mp_mn_kl(m1, u1, v1, m2, u2, v2)
    ours = gd.kl_matrix_normal(gd.MatrixNormal(m1, v1, u1), gd.MatrixNormal(m2, v2, u2))
    assert rel_err(ours, ref) <= 1e-9


# ----------------------------------------------------------------------------- conditioning warning
def test_conditioning_warning_above_1e8_names_the_condition_number():
    rng = np.random.default_rng(3)
    m = 4
    v1, v2 = spd_with_condition(rng, m, 10.0), spd_with_condition(rng, m, 1e9)
    p, q = gd.MatrixNormal(np.zeros((1, m)), v1), gd.MatrixNormal(np.zeros((1, m)), v2)
    with pytest.warns(ConditioningWarning, match=r"q\.col_cov has condition number 1(\.0+)?e\+09.*precision=50"):
        gd.kl_matrix_normal(p, q)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConditioningWarning)
        gd.kl_matrix_normal(q, p)                       # the reference law p is well conditioned
        gd.kl_matrix_normal(p, gd.MatrixNormal(np.zeros((1, m)), spd_with_condition(rng, m, 1e7)))


def test_conditioning_warning_for_an_ill_conditioned_weight_covariance():
    # Regression: a ridge teacher's eigenvalues come in descending order, and the condition
    # number was computed as min/max < 1, so no warning could ever fire for it.
    rng = np.random.default_rng(4)
    X = design_with_spectrum(rng, [1.0, 1e4, 1e9], 6)
    Y = rng.standard_normal((2, 6))
    teacher = gd.ridge_teacher(X, Y, 0.0, 0.5)
    student = gd.rank_student(teacher, X, 2, lam=0.0, temperature=1.0)
    assert teacher.col_factor.condition_number == pytest.approx(1e9, rel=1e-6)
    # The same laws as dense hand-built kernels take the general route: it warns.
    dense_t = gd.MatrixNormal(teacher.mean, teacher.col_cov)
    dense_s = gd.MatrixNormal(student.mean, student.col_cov)
    with pytest.warns(ConditioningWarning, match=r"teacher weight covariance has condition number 1(\.0+)?e\+09"):
        gd.divergence(dense_s, dense_t, X, kind="weight", soft_noise=0.5)
    # The ridge pair shares one eigenbasis: elementwise whitening, accurate, so no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConditioningWarning)
        gd.divergence(student, teacher, X, kind="weight")


def test_mpmath_route_is_the_escalation_for_ill_conditioned_laws():
    # κ = 1e9: above the warning, below the rank cutoff 1/RANK_RTOL ≈ 4.5e9 (beyond it a
    # dense covariance counts as singular in both backends, by design).
    rng = np.random.default_rng(5)
    k, m = 1, 4
    v1, v2 = spd_with_condition(rng, m, 1e9), spd_with_condition(rng, m, 1e9)
    m1, m2 = rng.standard_normal((k, m)), rng.standard_normal((k, m))
    ref = mp_mn_kl(m1, np.eye(k), v1, m2, np.eye(k), v2)
    value = gd.kl_matrix_normal(gd.MatrixNormal(m1, v1), gd.MatrixNormal(m2, v2), precision=50)
    assert float(abs(value - ref) / ref) <= 1e-30


# ----------------------------------------------------------------------------- divergences
def _pipeline_problem(cond, seed, k=2, d=3, n=7, lam_t=0.0, lam_s=0.0):
    rng = np.random.default_rng(seed)
    X = design_with_spectrum(rng, np.logspace(0, np.log10(cond), d), n)
    Y = rng.standard_normal((k, d)) @ X + 0.5 * rng.standard_normal((k, n))
    params = dict(lam_t=lam_t, noise=0.5, t_t=1.0, lam_s=lam_s, tau=0.7, t_s=0.6)
    teacher = gd.ridge_teacher(X, Y, lam_t, 0.5, 1.0)
    student = gd.rank_student(teacher, X, min(k, d), lam=lam_s, soft_noise=0.7, temperature=0.6)
    return X, Y, params, teacher, student


def _mp_divergences(X, Y, p):
    """All three divergences, both directions, from mpmath linear algebra (50 digits)."""
    with mpmath.workdps(50):
        Mt, St, Ms, Ss = mp_pipeline(X, Y, p["lam_t"], p["noise"], p["t_t"], p["lam_s"], p["tau"], p["t_s"])
        k = Mt.rows
        out = {}
        for direction in DIRECTIONS:
            out["predictive", direction] = mp_predictive_kl(Ms, Ss, Mt, St, X, p["tau"], direction)
            a = (mp_vec(Ms), mp_kron(Ss, mpmath.eye(k)))
            b = (mp_vec(Mt), mp_kron(St, mpmath.eye(k)))
            if direction == "teacher||student":
                a, b = b, a
            out["weight", direction] = mp_gauss_kl(*a, *b)
            Xm = mp_matrix(X)
            D = (Ms - Mt) * Xm
            out["convexity", direction] = (mpmath.fsum(x**2 for x in D)
                                           + k * mp_trace(Xm.T * (Ss + St) * Xm)) / (2 * mpmath.mpf(p["tau"]) ** 2)
        return out


@pytest.mark.parametrize("cond,lam", [(1.0, 0.0), (1e4, 0.3), (1e6, 1.0), (0.999e8, 0.0), (1e8, 1e-3),
                                      (1e8, 1.0)])
def test_divergences_within_1e9_of_mpmath(cond, lam):
    X, Y, params, teacher, student = _pipeline_problem(cond, seed=int(np.log10(cond)), lam_t=lam, lam_s=lam / 2)
    refs = _mp_divergences(X, Y, params)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConditioningWarning)
        for (kind, direction), ref in refs.items():
            value = gd.divergence(student, teacher, X, 0.7, kind, direction).total
            assert rel_err(value, ref) <= 1e-9, (kind, direction, float(ref), value)


def test_predictive_divergence_accurate_beyond_the_rank_cutoff():
    # κ(A_T) = 1e10 > 1/RANK_RTOL ≈ 4.5e9. Regression: the teacher's smallest weight-covariance
    # eigenvalues (exact formulas t ν²/(s + λ)) were zeroed by the rank cutoff, dropping
    # the O(1) predictive variance s_j w_j and giving O(1) relative errors.
    X, Y, params, teacher, student = _pipeline_problem(1e10, seed=0)
    refs = _mp_divergences(X, Y, params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConditioningWarning)
        for kind in ("predictive", "convexity"):
            for direction in DIRECTIONS:
                value = gd.divergence(student, teacher, X, 0.7, kind, direction).total
                assert rel_err(value, refs[kind, direction]) <= 1e-8, (kind, direction)
    assert teacher.col_factor.rank == X.shape[0]


# ----------------------------------------------------------------------------- tiny divergences
def _style8(delta, dim=30):
    rng = np.random.default_rng(1)
    A = rng.standard_normal((dim, dim))
    B = rng.standard_normal((dim, 3))
    Sq = A @ A.T / dim + np.eye(dim)
    return Sq + delta * (B @ B.T), Sq


@pytest.mark.parametrize("delta", [1e-5, 1e-7, 1e-8])
def test_tiny_kl_matrix_normal_relative_error(delta):
    Sp, Sq = _style8(delta)
    mean = np.zeros((1, Sp.shape[0]))
    ref = mp_mn_kl(mean, np.eye(1), Sp, mean, np.eye(1), Sq)
    ours = gd.kl_matrix_normal(gd.MatrixNormal(mean, Sp), gd.MatrixNormal(mean, Sq))
    assert 1e-14 < float(ref) < 1e-7
    assert rel_err(ours, ref) <= 1e-6
    # The naive recipe is measurably worse once KL ≲ 1e-12 (the reason for the design).
    if delta <= 1e-7:
        naive = naive_gauss_kl_cholesky(mean[0], Sp, mean[0], Sq)
        assert rel_err(naive, ref) > 1e-5


def _tiny_pair(delta):
    rng = np.random.default_rng(5)
    k, d, n = 2, 3, 8
    X = rng.standard_normal((d, n))
    Y = rng.standard_normal((k, d)) @ X + 0.5 * rng.standard_normal((k, n))
    teacher = gd.ridge_teacher(X, Y, 0.0, 0.5, 1.0)
    student = gd.rank_student(teacher, X, 2, lam=0.0, soft_noise=0.5, temperature=1.0 + delta)
    return X, Y, teacher, student


@pytest.mark.parametrize("kind", ["predictive", "weight"])
@pytest.mark.parametrize("delta", [1e-6, 1e-7])
def test_tiny_divergence_between_nearly_equal_kernels(kind, delta):
    X, Y, teacher, student = _tiny_pair(delta)
    with mpmath.workdps(50):
        Mt, St, Ms, Ss = mp_pipeline(X, Y, 0.0, 0.5, 1.0, 0.0, 0.5, 1.0 + delta)
        if kind == "predictive":
            ref = mp_predictive_kl(Ms, Ss, Mt, St, X, 0.5)
        else:
            ref = mp_gauss_kl(mp_vec(Ms), mp_kron(Ss, mpmath.eye(2)), mp_vec(Mt), mp_kron(St, mpmath.eye(2)))
    assert float(ref) < 2e-12
    result = gd.divergence(student, teacher, X, 0.5, kind)
    assert rel_err(result.total, ref) <= 1e-6
    assert rel_err(result.variance, ref) <= 1e-6        # the whole divergence is variance here


# ----------------------------------------------------------------------------- report
def accuracy_report() -> str:
    """The measured numbers quoted in the module docstring, recomputed."""
    lines = ["kl_matrix_normal vs 50-digit mpmath (max rel. error over 3 seeds): ours | naive"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConditioningWarning)
        for name, make in (("independent", _independent), ("nearby", _nearby)):
            for cond in (1.0, 1e2, 1e4, 1e6, 0.999e8):
                errs = _kl_errors(make, cond)
                kls = [e[0] for e in errs]
                lines.append(f"  {name:11s} kappa={cond:8.1e}: {max(e[1] for e in errs):.1e} | "
                             f"{max(e[2] for e in errs):.1e}   (KL {min(kls):.3g}..{max(kls):.3g})")
    lines.append("divergence (all kinds and directions) vs mpmath pipeline, max over 3 seeds")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConditioningWarning)
        for cond in (1.0, 1e4, 1e6, 1e8, 1e10):
            row = []
            for lam in (0.0, 1e-3, 1.0):
                worst = 0.0
                for seed in range(3):
                    X, Y, params, teacher, student = _pipeline_problem(cond, seed, lam_t=lam, lam_s=lam / 2)
                    for (kind, direction), ref in _mp_divergences(X, Y, params).items():
                        value = gd.divergence(student, teacher, X, 0.7, kind, direction).total
                        worst = max(worst, rel_err(value, ref))
                row.append(f"lam={lam:g}: {worst:.1e}")
            lines.append(f"  cond(XX^T)={cond:8.1e}  " + "  ".join(row))
    lines.append("tiny KL, cancellation setup: KL  ours | naive")
    for delta in (1e-3, 1e-5, 1e-7, 1e-8):
        Sp, Sq = _style8(delta)
        mean = np.zeros((1, Sp.shape[0]))
        ref = mp_mn_kl(mean, np.eye(1), Sp, mean, np.eye(1), Sq)
        ours = gd.kl_matrix_normal(gd.MatrixNormal(mean, Sp), gd.MatrixNormal(mean, Sq))
        naive = naive_gauss_kl_cholesky(mean[0], Sp, mean[0], Sq)
        lines.append(f"  delta={delta:.0e}: KL={float(ref):.3e}  {rel_err(ours, ref):.1e} | {rel_err(naive, ref):.1e}")
    lines.append("tiny divergences, t_S = 1 + delta: KL  ours | naive (Cholesky on dense vec laws)")
    for delta in (1e-4, 1e-6, 1e-7, 1e-8):
        X, Y, teacher, student = _tiny_pair(delta)
        with mpmath.workdps(50):
            Mt, St, Ms, Ss = mp_pipeline(X, Y, 0.0, 0.5, 1.0, 0.0, 0.5, 1.0 + delta)
            for kind in ("predictive", "weight"):
                if kind == "predictive":
                    ref = mp_predictive_kl(Ms, Ss, Mt, St, X, 0.5)
                    ms, vs = student.mean @ X, 0.25 * np.eye(X.shape[1]) + X.T @ student.col_cov @ X
                    mt, vt = teacher.mean @ X, 0.25 * np.eye(X.shape[1]) + X.T @ teacher.col_cov @ X
                else:
                    ref = mp_gauss_kl(mp_vec(Ms), mp_kron(Ss, mpmath.eye(2)), mp_vec(Mt), mp_kron(St, mpmath.eye(2)))
                    ms, vs, mt, vt = student.mean, student.col_cov, teacher.mean, teacher.col_cov
                naive = naive_gauss_kl_cholesky(vec(ms), np.kron(vs, np.eye(2)), vec(mt), np.kron(vt, np.eye(2)))
                ours = gd.divergence(student, teacher, X, 0.5, kind).total
                lines.append(f"  {kind:10s} delta={delta:.0e}: KL={float(ref):.3e}  {rel_err(ours, ref):.1e} | "
                             f"{rel_err(naive, ref):.1e}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(accuracy_report())
