"""The simulator's fast routes against the direct ones they replace.

* the rank-r truncation from the smaller Gram matrix (with the SVD for ill-separated spectra)
  against the truncated SVD in float64 and in mpmath at 50 digits;
* the fixed design's affine K(mean2) against :func:`kl_modes` evaluated directly;
* the random design drawn through the Wishart law of X Xᵀ (Bartlett; Haar eigenvectors when
  Σ_x = c I) against the route that draws X and E in full: the same law (two-sample z-tests).
"""
from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from scipy.stats import norm

import gaussdistill as gd
from gaussdistill.linear_gaussian.case_moments import kl_modes, kl_modes_linear
from gaussdistill.simulation.pipeline import GRAM_COND, _truncate, draw_chunk

from oracles import mp_matrix


def _svd_truncate(B, r):
    """[B]_r from numpy's SVD, one matrix at a time (the textbook definition)."""
    out = np.empty_like(B)
    for i in range(B.shape[0]):
        u, s, vt = np.linalg.svd(B[i], full_matrices=False)
        out[i] = (u[:, :r] * s[:r]) @ vt[:r]
    return out


def _with_singular_values(rng, sv, k, d):
    u = np.linalg.qr(rng.standard_normal((k, k)))[0][:, :len(sv)]
    v = np.linalg.qr(rng.standard_normal((d, d)))[0][:, :len(sv)]
    return (u * sv) @ v.T


@pytest.mark.parametrize("k,d", [(6, 9), (9, 6), (8, 8)])
def test_gram_truncation_equals_svd_truncation(k, d):
    rng = np.random.default_rng(0)
    r = 3
    m = min(k, d)
    batch = [rng.standard_normal((k, d)) for _ in range(40)]
    batch += [_with_singular_values(rng, np.geomspace(1, 0.05, m), k, d),             # Gram route
              _with_singular_values(rng, np.r_[1e6, 2.0, 1.0, np.full(m - 3, 0.1)], k, d),  # SVD route
              _with_singular_values(rng, np.r_[3.0, 1.0], k, d),                     # rank 2 < r
              np.zeros((k, d)), 1e-200 * rng.standard_normal((k, d)), 1e200 * rng.standard_normal((k, d))]
    B = np.array(batch)
    got = _truncate(B.copy(), r)
    ref = _svd_truncate(B, r)
    sv = np.linalg.svd(B, compute_uv=False)
    for i in range(B.shape[0]):
        gap = (sv[i, r - 1] - sv[i, r]) / max(sv[i, 0], 1e-300)
        if gap < 1e-3 and sv[i, r - 1] > 0:
            continue                             # [B]_r itself is ill-determined there
        scale = max(np.max(np.abs(B[i])), 1e-300)          # max-norm: no overflow at 1e200
        assert np.max(np.abs(got[i] - ref[i])) <= 1e-12 * scale, (i, sv[i])
    assert np.all(np.isfinite(got)) and np.all(got[-3] == 0)
    assert np.linalg.matrix_rank(got[0]) == r


@pytest.mark.parametrize("ratio", [0.5 * GRAM_COND, 2 * GRAM_COND, 1e8])
def test_truncation_accuracy_against_mpmath(ratio):
    """σ_1/σ_r on both sides of the Gram/SVD switch: error at the level of the float64 SVD's."""
    rng = np.random.default_rng(1)
    k = d = 8
    r = 3
    B = np.array([_with_singular_values(rng, np.r_[ratio, 0.7 * ratio, 1.0, 0.3, 0.2, 0.1, 0.05, 0.01], k, d)
                  for _ in range(3)])
    got = _truncate(B.copy(), r)
    svd = _svd_truncate(B, r)
    with mpmath.workdps(50):
        for i in range(B.shape[0]):
            M = mp_matrix(B[i])
            U, _, _ = mpmath.svd_r(M)
            Ur = U[:, :r]
            ref = np.array((Ur * (Ur.T * M)).tolist(), dtype=float)
            scale = np.linalg.norm(B[i])
            err_got = np.linalg.norm(got[i] - ref) / scale
            err_svd = np.linalg.norm(svd[i] - ref) / scale
            assert err_got <= max(8 * err_svd, 1e-15), (err_got, err_svd)


@pytest.mark.parametrize("kind", ["weight", "predictive", "convexity"])
@pytest.mark.parametrize("direction", ["student||teacher", "teacher||student"])
def test_kl_affine_in_the_mean_parts(kind, direction):
    rng = np.random.default_rng(2)
    s = np.r_[rng.uniform(0.1, 5.0, 5), 0.0]
    sig_s, sig_t = rng.uniform(0.05, 2.0, 6), rng.uniform(0.05, 2.0, 6)
    mean2 = rng.uniform(0, 3, (7, 6))
    const, w = kl_modes_linear(s, sig_s, sig_t, 3, 0.7, kind, direction)
    direct = kl_modes(s, sig_s, sig_t, mean2, 3, 0.7, kind, direction)
    assert np.allclose(const + mean2 @ w, direct, rtol=1e-13, atol=0)
    if kind == "weight":                          # a singular Σ_T: every K^W is +inf
        c0, _ = kl_modes_linear(s, sig_s, np.r_[sig_t[:5], 0.0], 3, 0.7, kind)
        assert c0 == math.inf


def _case(**kw):
    rng = np.random.default_rng(3)
    base = dict(noise=0.6, soft_noise=0.8, teacher_lam=0.7, student_lam=0.4, teacher_temperature=1.0,
                student_temperature=0.6, design="random")
    base.update(kw)
    return gd.CaseStudy(rng.standard_normal((4, 12)), rng.standard_normal((3, 4)), **base)


@pytest.mark.parametrize("kw", [dict(), dict(design_cov=2.5 * np.eye(4), rank=2),
                                dict(design_cov=np.diag([1.0, 2.0, 0.5, 1.5]), student="sampled", draws=2)])
def test_wishart_route_has_the_law_of_the_full_route(kw):
    cs = _case(**kw)
    R = 4000
    fast = draw_chunk(cs, np.random.default_rng(10), R)
    full = draw_chunk(cs, np.random.default_rng(11), R, keep=True)
    assert "_X" not in fast and full["_X"].shape == (R, 4, 12)
    quantities = ("gen_T", "gen_S", "risk_T", "risk_S", "K_weight", "K_predictive", "kappa", "curvature", "rho2")
    z = float(norm.isf(0.01 / (2 * len(quantities))))
    for q in quantities:
        a, b = fast[q], full[q]
        se = math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
        assert abs(a.mean() - b.mean()) <= z * se, (q, a.mean(), b.mean(), se)
    # the fast route's per-replicate identities: gen_S − gen_T = first order + curvature
    assert np.allclose(fast["gen_S"] - fast["gen_T"], fast["first_order"] + fast["curvature"],
                       rtol=1e-9, atol=1e-12)


def test_random_design_with_fewer_samples_than_dimensions():
    cs = _case(teacher_lam=0.5, student_lam=0.5).replace(X=np.ones((4, 3)))
    out = draw_chunk(cs, np.random.default_rng(0), 50)
    assert all(np.all(np.isfinite(out[q])) for q in ("gen_T", "gen_S", "kappa", "K_convexity"))


@pytest.mark.parametrize("kw", [dict(design="fixed", rank=2, student="sampled", draws=2), dict(rank=1)])
def test_values_do_not_depend_on_the_block_size(monkeypatch, kw):
    import gaussdistill.simulation.pipeline as pipeline
    cs = _case(**kw)
    ref = draw_chunk(cs, np.random.default_rng(4), 301)
    monkeypatch.setattr(pipeline, "BLOCK_FLOATS", 1)         # blocks of 8 replicates
    small = draw_chunk(cs, np.random.default_rng(4), 301)
    assert set(small) == set(ref)
    for key in ref:
        assert np.array_equal(small[key], ref[key]), key
