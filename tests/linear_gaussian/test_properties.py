"""Property-based invariants, with hypothesis.

SPD matrices are built as A Aᵀ + εI (never filtered); every example is a random problem
of small shape. The invariants and the laws they follow from:

* KL ≥ 0 and KL(p‖p) = 0 exactly (Gibbs' inequality; the whitened difference of equal
  laws is the zero matrix);
* float64 ``kl_matrix_normal`` = the dense vectorised KL (float64 and 50-digit mpmath, both
  computed here) for moderately conditioned random laws;
* bias, variance, rank ≥ 0 and bias + variance + rank = total (docs/mathematics.md §2.3);
* data processing: K^Y ≤ K̄ (convexity of KL under the independent coupling) and
  K^Y ≤ K^W (the same channel W ↦ W X + τZ applied to both kernels), in both directions;
* invariance under shared orthogonal changes of basis — inputs X ↦ O X (weights W ↦ W Oᵀ),
  samples (X, Y) ↦ (X P, Y P), outputs Y ↦ Q Y (M ↦ Q M; the truncated SVD is equivariant):
  each is a bijection applied to both laws, so every KL and every part is unchanged;
* scaling laws, derived from docs/mathematics.md §2.1–2.2:
  - (ν, τ) ↦ c(ν, τ) with Y fixed: means are unchanged (M_T = Y Xᵀ A_T⁻¹ has no ν; the
    population student depends on M_T only) while Σ_T, Σ_S, V_T, V_S scale by c². So every
    variance part is invariant and every mean part (bias and rank) scales by 1/c²;
  - (Y, ν, τ) ↦ c(Y, ν, τ): every law is pushed through W ↦ cW: everything is invariant;
  - (t_S, t_T) ↦ c(t_S, t_T): K^W's variance part depends only on Σ_T⁻¹Σ_S (invariant),
    its mean parts scale by 1/c; K̄'s variance part scales by c, its mean parts are unchanged;
  - deterministic kernels (t_S = t_T = 0): K^Y = K̄ = ‖Δ‖²/(2τ²), so K(2τ) = K(τ)/4;
* the reduced (row-space) and dense (n×n) predictive routes agree to 1e-10 relative.
"""
from __future__ import annotations

import math
import os

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gaussdistill as gd

from cases import DIRECTIONS, KINDS
from oracles import dense_gauss_kl, mp_mn_kl, vec

# 60 examples per property keeps this file near 10 s on 2 cores; for a thorough run set
# GAUSSDISTILL_HYPOTHESIS_EXAMPLES=600 with GAUSSDISTILL_HYPOTHESIS_RANDOM=1 explores further (about 70 s).
EXAMPLES = int(os.environ.get("GAUSSDISTILL_HYPOTHESIS_EXAMPLES", "60"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                    database=None)
MPMATH_SETTINGS = settings(max_examples=max(EXAMPLES // 4, 10), deadline=None, database=None)
PARTS = ("bias", "variance", "rank")

finite = st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def matrices(rows, cols):
    return hnp.arrays(np.float64, (rows, cols), elements=finite)


@st.composite
def spd(draw, size, eps_min=0.05):
    """A Aᵀ/size + εI: SPD by construction, condition number ≤ ~ (8 + ε)/ε."""
    a = draw(matrices(size, size))
    eps = draw(st.floats(eps_min, 1.0))
    s = a @ a.T / size + eps * np.eye(size)
    return (s + s.T) / 2


@st.composite
def mn_pair(draw, max_k=3, max_m=4):
    k = draw(st.integers(1, max_k))
    m = draw(st.integers(1, max_m))
    laws = []
    for _ in range(2):
        mean = draw(matrices(k, m))
        col = draw(spd(m))
        row = draw(st.one_of(st.none(), spd(k)))
        laws.append((mean, col, row))
    return laws


def _mn(law):
    mean, col, row = law
    return gd.MatrixNormal(mean, col, row)


def _dense(law):
    mean, col, row = law
    k = mean.shape[0]
    return vec(mean), np.kron(col, np.eye(k) if row is None else row)


# ----------------------------------------------------------------------------- kl_matrix_normal
@SETTINGS
@given(mn_pair())
def test_kl_nonnegative_zero_on_self_and_equal_to_dense(pair):
    p, q = _mn(pair[0]), _mn(pair[1])
    kl = gd.kl_matrix_normal(p, q)
    assert kl >= 0.0 and kl.reason is None
    assert gd.kl_matrix_normal(p, p) == 0.0
    assert gd.kl_matrix_normal(p, _mn(pair[0])) == 0.0          # an equal law built again
    ref = dense_gauss_kl(*_dense(pair[0]), *_dense(pair[1]))
    assert kl == pytest.approx(ref, rel=1e-8, abs=1e-12)


@MPMATH_SETTINGS
@given(mn_pair(max_k=2, max_m=3))
def test_kl_float64_against_50_digit_mpmath(pair):
    (m1, v1, u1), (m2, v2, u2) = pair
    u1 = np.eye(m1.shape[0]) if u1 is None else u1
    u2 = np.eye(m1.shape[0]) if u2 is None else u2
    ref = mp_mn_kl(m1, u1, v1, m2, u2, v2)
    kl = gd.kl_matrix_normal(gd.MatrixNormal(m1, v1, u1), gd.MatrixNormal(m2, v2, u2))
    err = abs(mpmath.mpf(float(kl)) - ref)
    assert err <= 1e-11 * abs(ref) + 1e-14   # cond ≤ ~2e2 here: float64 keeps ≥ 11 digits


@st.composite
def shared_subspace_pair(draw):
    """Two singular laws on one random r-dimensional subspace of R^m (r < m)."""
    m = draw(st.integers(2, 5))
    r = draw(st.integers(1, m - 1))
    basis = np.linalg.qr(draw(matrices(m, r)) + 3 * np.eye(m, r))[0]
    laws = []
    for _ in range(2):
        cov = basis @ draw(spd(r, eps_min=0.1)) @ basis.T
        laws.append((draw(matrices(1, r)), (cov + cov.T) / 2))
    return basis, laws


@SETTINGS
@given(shared_subspace_pair(), st.floats(1e-6, 1.0))
def test_singular_laws_on_a_shared_subspace(case, shift):
    """Equal supports: KL = the r-dim KL in subspace coordinates; a mean off it: +inf."""
    basis, ((c1, v1), (c2, v2)) = case
    p = gd.MatrixNormal(c1 @ basis.T, v1)
    q = gd.MatrixNormal(c2 @ basis.T, v2)
    kl = gd.kl_matrix_normal(p, q)
    ref = dense_gauss_kl(c1[0], basis.T @ v1 @ basis, c2[0], basis.T @ v2 @ basis)
    assert kl.reason is None and kl == pytest.approx(ref, rel=1e-8, abs=1e-12)
    normal = np.linalg.qr(np.c_[basis, np.eye(basis.shape[0])])[0][:, basis.shape[1]]
    off = gd.MatrixNormal(p.mean + shift * np.linalg.norm(p.mean - q.mean + 1) * normal, v1)
    out = gd.kl_matrix_normal(off, q)
    assert out == math.inf and "mean difference" in out.reason
    # A full-rank law against the singular one, and the reverse: +inf, never NaN.
    full = gd.MatrixNormal(p.mean, v1 + 0.1 * np.eye(basis.shape[0]))
    for a, b in ((full, q), (q, full)):
        value = gd.kl_matrix_normal(a, b)
        assert value == math.inf and "rank" in value.reason


@MPMATH_SETTINGS
@given(mn_pair(max_k=2, max_m=3), st.floats(1e-7, 1e-3))
def test_ill_conditioned_kl_against_50_digit_mpmath(pair, eps):
    """A Aᵀ/m + εI with ε down to 1e-7 (cond up to ~1e7): still within 1e-9 of mpmath."""
    (m1, v1, u1), (m2, v2, _) = pair
    w, q = np.linalg.eigh(v2)                # v2's eigenbasis, its spectrum squeezed to cond ~1/ε
    v2 = (q * np.maximum(w - w.min() + eps * w.max(), eps * w.max())) @ q.T
    v2 = (v2 + v2.T) / 2
    u1 = np.eye(m1.shape[0]) if u1 is None else u1
    ref = mp_mn_kl(m1, u1, v1, m2, np.eye(m1.shape[0]), v2)
    kl = gd.kl_matrix_normal(gd.MatrixNormal(m1, v1, u1), gd.MatrixNormal(m2, v2))
    assert abs(mpmath.mpf(float(kl)) - ref) <= 1e-9 * abs(ref) + 1e-14


# ----------------------------------------------------------------------------- teacher/student problems
@st.composite
def problems(draw, deterministic=False):
    k = draw(st.integers(1, 3))
    d = draw(st.integers(1, 4))
    n = draw(st.integers(1, 7))
    X = draw(matrices(d, n))
    Y = draw(matrices(k, n))
    p = dict(
        k=k, d=d, n=n, X=X, Y=Y,
        rank=draw(st.integers(0, min(k, d))),
        lam_t=draw(st.floats(0.05, 2.0)),
        lam_s=draw(st.floats(0.05, 2.0)),
        noise=draw(st.floats(0.2, 2.0)),
        tau=draw(st.floats(0.2, 2.0)),
        t_t=0.0 if deterministic else draw(st.floats(0.1, 2.0)),
        t_s=0.0 if deterministic else draw(st.floats(0.1, 2.0)),
    )
    return p


def build(p, X=None, Y=None, noise=None, tau=None, t_t=None, t_s=None):
    X = p["X"] if X is None else X
    Y = p["Y"] if Y is None else Y
    noise = p["noise"] if noise is None else noise
    tau = p["tau"] if tau is None else tau
    teacher = gd.ridge_teacher(X, Y, p["lam_t"], noise, p["t_t"] if t_t is None else t_t)
    student = gd.rank_student(teacher, X, p["rank"], lam=p["lam_s"], soft_noise=tau,
                              temperature=p["t_s"] if t_s is None else t_s)
    return student, teacher


def all_divergences(student, teacher, X, tau, rank=None):
    return {(kind, dr): gd.divergence(student, teacher, X, tau, kind, dr, rank=rank)
            for kind in KINDS for dr in DIRECTIONS}


@SETTINGS
@given(problems())
def test_parts_nonnegative_and_sum_to_total(p):
    student, teacher = build(p)
    for key, r in all_divergences(student, teacher, p["X"], p["tau"]).items():
        assert math.isfinite(r.total), key
        for part in PARTS:
            assert getattr(r, part) >= 0.0, (key, part, r)
        assert r.bias + r.variance + r.rank == pytest.approx(r.total, rel=1e-10, abs=1e-14), key


@SETTINGS
@given(problems())
def test_data_processing_inequalities(p):
    student, teacher = build(p)
    res = all_divergences(student, teacher, p["X"], p["tau"])
    for dr in DIRECTIONS:
        ky, kbar, kw = (res[kind, dr].total for kind in ("predictive", "convexity", "weight"))
        slack = 1e-10 * max(kbar, kw, 1e-300) + 1e-13
        assert ky <= kbar + slack, (dr, ky, kbar)
        assert ky <= kw + slack, (dr, ky, kw)


@SETTINGS
@given(problems())
def test_self_divergence_is_zero(p):
    _, teacher = build(p)
    for dr in DIRECTIONS:
        for kind in ("predictive", "weight"):
            r = gd.divergence(teacher, teacher, p["X"], p["tau"], kind, dr)
            assert r.total == 0.0 and r.bias == 0.0 and r.variance == 0.0, (kind, dr, r)
            # The rank part is ½ Σ_{i>r} σ_i² of the teacher mean *in the metric* at its own
            # numerical rank r: singular values below the cutoff 10·max(shape)·eps·σ_max only.
            if kind == "weight":   # metric Σ_T⁻¹: ‖M Σ_T^{-1/2}‖² ≤ ‖M‖² λ_max(Σ_T⁻¹)
                scale = np.sum(teacher.mean**2) / np.linalg.eigvalsh(teacher.col_cov)[0]
            else:                  # metric V_T⁻¹ ⪯ I/τ²
                scale = np.sum((teacher.mean @ p["X"]) ** 2) / p["tau"] ** 2
            cutoff = 10 * max(teacher.shape[0], p["X"].shape[1]) * np.finfo(float).eps
            assert r.rank <= min(teacher.shape) * cutoff**2 * max(scale, 1e-300), (kind, dr, r)
        # K̄ of a law with itself is all variance: k tr(Xᵀ 2Σ_T X)/(2τ²).
        r = gd.divergence(teacher, teacher, p["X"], p["tau"], "convexity", dr)
        expected = p["k"] * np.trace(p["X"].T @ (2 * teacher.col_cov) @ p["X"]) / (2 * p["tau"] ** 2)
        assert r.bias == 0.0
        assert r.rank <= 1e-28 * max(np.sum((teacher.mean @ p["X"]) ** 2), 1.0) / p["tau"] ** 2
        assert r.variance == pytest.approx(expected, rel=1e-10, abs=1e-300)


@SETTINGS
@given(problems())
def test_reduced_and_dense_routes_agree(p):
    student, teacher = build(p)
    for kind in ("predictive", "convexity"):
        for dr in DIRECTIONS:
            a = gd.divergence(student, teacher, p["X"], p["tau"], kind, dr, method="reduced")
            b = gd.divergence(student, teacher, p["X"], p["tau"], kind, dr, method="dense")
            scale = max(abs(b.total), 1e-300)
            assert abs(a.total - b.total) <= 1e-10 * scale + 1e-14, (kind, dr, a.total, b.total)
            for part in PARTS:
                assert abs(getattr(a, part) - getattr(b, part)) <= 1e-10 * scale + 1e-14, (kind, dr, part)


def _orthogonal(draw, size):
    a = draw(hnp.arrays(np.float64, (size, size), elements=st.floats(-1, 1)).map(
        lambda m: m + 3 * np.eye(size)))                 # well away from singular
    q, r = np.linalg.qr(a)
    return q * np.sign(np.diag(r))[None, :]


@st.composite
def rotated(draw):
    p = draw(problems())
    return p, _orthogonal(draw, p["d"]), _orthogonal(draw, p["n"]), _orthogonal(draw, p["k"])


def _compare(res_a, res_b, rel=1e-8):
    for key, a in res_a.items():
        b = res_b[key]
        scale = max(abs(a.total), 1.0)
        for part in ("total",) + PARTS:
            x, y = getattr(a, part), getattr(b, part)
            assert abs(x - y) <= rel * scale, (key, part, x, y)


@SETTINGS
@given(rotated())
def test_invariance_under_shared_orthogonal_changes_of_basis(case):
    p, O, P, Q = case
    X, Y, tau = p["X"], p["Y"], p["tau"]
    rank = min(p["k"], p["d"])                            # fix r so that the parts are comparable
    base = all_divergences(*build(p), X, tau, rank=rank)
    # inputs: X ↦ O X (weights W ↦ W Oᵀ)
    _compare(base, all_divergences(*build(p, X=O @ X), O @ X, tau, rank=rank))
    # samples: (X, Y) ↦ (X P, Y P)
    _compare(base, all_divergences(*build(p, X=X @ P, Y=Y @ P), X @ P, tau, rank=rank))
    # outputs: Y ↦ Q Y (M ↦ Q M)
    _compare(base, all_divergences(*build(p, Y=Q @ Y), X, tau, rank=rank))


@SETTINGS
@given(problems(), st.floats(0.25, 4.0))
def test_scaling_noise_and_tau_together(p, c):
    """(ν, τ) ↦ c(ν, τ): variance parts invariant, bias and rank parts × 1/c²."""
    rank = min(p["k"], p["d"])
    base = all_divergences(*build(p), p["X"], p["tau"], rank=rank)
    scaled = all_divergences(*build(p, noise=c * p["noise"], tau=c * p["tau"]), p["X"], c * p["tau"], rank=rank)
    for key, a in base.items():
        b = scaled[key]
        assert b.variance == pytest.approx(a.variance, rel=1e-9, abs=1e-13), key
        assert b.bias == pytest.approx(a.bias / c**2, rel=1e-9, abs=1e-13), key
        assert b.rank == pytest.approx(a.rank / c**2, rel=1e-9, abs=1e-13), key


@SETTINGS
@given(problems(), st.floats(0.25, 4.0))
def test_scaling_labels_noise_and_tau_is_invariant(p, c):
    """(Y, ν, τ) ↦ c(Y, ν, τ): both laws pushed through W ↦ cW, every number unchanged."""
    rank = min(p["k"], p["d"])
    base = all_divergences(*build(p), p["X"], p["tau"], rank=rank)
    scaled = all_divergences(*build(p, Y=c * p["Y"], noise=c * p["noise"], tau=c * p["tau"]),
                             p["X"], c * p["tau"], rank=rank)
    _compare(base, scaled, rel=1e-9)


@SETTINGS
@given(problems(), st.floats(0.25, 4.0))
def test_scaling_temperatures_together(p, c):
    """(t_S, t_T) ↦ c(t_S, t_T): K^W variance invariant and mean parts × 1/c; K̄ variance × c."""
    rank = min(p["k"], p["d"])
    student, teacher = build(p)
    s2, t2 = build(p, t_t=c * p["t_t"], t_s=c * p["t_s"])
    for dr in DIRECTIONS:
        a = gd.divergence(student, teacher, p["X"], p["tau"], "weight", dr, rank=rank)
        b = gd.divergence(s2, t2, p["X"], p["tau"], "weight", dr, rank=rank)
        assert b.variance == pytest.approx(a.variance, rel=1e-9, abs=1e-13)
        assert b.bias == pytest.approx(a.bias / c, rel=1e-9, abs=1e-13)
        assert b.rank == pytest.approx(a.rank / c, rel=1e-9, abs=1e-13)
        a = gd.divergence(student, teacher, p["X"], p["tau"], "convexity", dr, rank=rank)
        b = gd.divergence(s2, t2, p["X"], p["tau"], "convexity", dr, rank=rank)
        assert b.variance == pytest.approx(c * a.variance, rel=1e-12)
        assert b.bias + b.rank == pytest.approx(a.bias + a.rank, rel=1e-12, abs=1e-300)


@SETTINGS
@given(problems(deterministic=True), st.floats(0.25, 4.0))
def test_deterministic_kernels_predictive_equals_convexity_and_scales_as_inverse_tau_squared(p, c):
    student, teacher = build(p)
    delta = (student.mean - teacher.mean) @ p["X"]
    exact = np.sum(delta * delta) / (2 * p["tau"] ** 2)
    for dr in DIRECTIONS:
        ky = gd.divergence(student, teacher, p["X"], p["tau"], "predictive", dr)
        kbar = gd.divergence(student, teacher, p["X"], p["tau"], "convexity", dr)
        assert ky.total == pytest.approx(exact, rel=1e-10, abs=1e-300)
        assert kbar.total == pytest.approx(exact, rel=1e-10, abs=1e-300)
        assert ky.variance == 0.0 and kbar.variance == 0.0
        far = gd.divergence(student, teacher, p["X"], c * p["tau"], "predictive", dr)
        assert far.total == pytest.approx(ky.total / c**2, rel=1e-10, abs=1e-300)
        w = gd.divergence(student, teacher, p["X"], p["tau"], "weight", dr)
        assert (w.total == 0.0) if np.array_equal(student.mean, teacher.mean) else (w.total == math.inf)
        assert w.reason is None or "point mass" in w.reason or "mean difference" in w.reason


@SETTINGS
@given(problems())
def test_reverse_direction_is_the_swapped_kl(p):
    student, teacher = build(p)
    for kind in KINDS:
        rev = gd.divergence(student, teacher, p["X"], p["tau"], kind, "teacher||student").total
        swapped = gd.divergence(teacher, student, p["X"], p["tau"], kind, "student||teacher").total
        assert rev == pytest.approx(swapped, rel=1e-12, abs=1e-300)


@SETTINGS
@given(problems())
def test_rank_part_is_a_lower_bound_for_every_rank_r_student(p):
    """Eckart–Young–Mirsky: no student of rank ≤ r pays less mean cost than the rank part."""
    student, teacher = build(p)
    r = p["rank"]
    rng = np.random.default_rng(0)
    for kind in KINDS:
        base = gd.divergence(student, teacher, p["X"], p["tau"], kind, rank=r)
        for _ in range(3):
            a = rng.standard_normal((p["k"], r))
            b = rng.standard_normal((r, p["d"]))
            other = gd.MatrixNormal(a @ b, student.col_cov)
            res = gd.divergence(other, teacher, p["X"], p["tau"], kind, rank=r)
            assert res.rank == pytest.approx(base.rank, rel=1e-9, abs=1e-14)
            assert res.bias + res.rank >= base.rank * (1 - 1e-9) - 1e-14


@st.composite
def degenerate_problems(draw):
    """Deterministic or not on either side, rank-deficient designs, λ_S = 0 allowed."""
    k, d, n = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 6))
    inner = draw(st.integers(1, max(1, min(d, n))))
    X = draw(matrices(d, inner)) @ draw(matrices(inner, n))
    return dict(k=k, d=d, n=n, X=X, Y=draw(matrices(k, n)), rank=draw(st.integers(0, min(k, d))),
                lam_t=draw(st.floats(0.05, 2.0)), lam_s=draw(st.sampled_from([0.0, 0.3])),
                noise=draw(st.floats(0.2, 2.0)), tau=draw(st.floats(0.2, 2.0)),
                t_t=draw(st.sampled_from([0.0, 0.7])), t_s=draw(st.sampled_from([0.0, 1.3])))


@SETTINGS
@given(degenerate_problems())
def test_degenerate_problems_are_finite_or_inf_with_reason_never_nan(p):
    try:
        student, teacher = build(p)
    except gd.GaussDistillError as exc:      # λ_S = 0, t_S > 0 on a singular design: refused
        assert p["lam_s"] == 0 and p["t_s"] > 0 and "pass lam > 0 or temperature=0" in str(exc)
        return
    for (kind, dr), r in all_divergences(student, teacher, p["X"], p["tau"]).items():
        values = [r.total, r.bias, r.variance, r.rank]
        assert not any(math.isnan(v) for v in values), (kind, dr, r)
        if kind != "weight":
            assert math.isfinite(r.total) and r.reason is None, (kind, dr, r)
        elif p["t_t"] > 0 and p["t_s"] > 0:
            assert math.isfinite(r.total) and r.reason is None, (kind, dr, r)
        elif (p["t_t"] > 0) != (p["t_s"] > 0):
            assert r.total == math.inf and "deterministic" in r.reason, (kind, dr, r)
        else:   # two point masses: 0 iff the means are the same floats
            same = np.array_equal(student.mean, teacher.mean)
            assert (r.total == 0.0) if same else (r.total == math.inf and r.reason), (kind, dr, r)
        if math.isfinite(r.total):
            assert min(r.bias, r.variance, r.rank) >= 0.0
