"""Symbolic teacher-gap CGF and Theorem 1/2 expressions (aligned model) against the numeric
case study (gd.CaseStudy, built from matrices) at random aligned instances, to 1e-10."""
import math

import numpy as np
import pytest

import gaussdistill as gd
from gaussdistill import bounds as B
from gaussdistill.symbolic.bounds import symbolic_bounds, teacher_gap_cgf


def aligned_instance(rng, d, k, n, t_T, lam_T):
    s = rng.uniform(0.3, 5.0, d)
    w = rng.normal(0.0, 1.5, d)
    V, _ = np.linalg.qr(rng.normal(size=(d, d)))
    Vn, _ = np.linalg.qr(rng.normal(size=(n, d)))  # right singular vectors of X (n × d)
    U, _ = np.linalg.qr(rng.normal(size=(k, d)))
    X = V @ np.diag(np.sqrt(s)) @ Vn.T              # X Xᵀ = V diag(s) Vᵀ
    W = U @ np.diag(w) @ V.T                        # W⋆ = U diag(w) Vᵀ
    nu, tau = rng.uniform(0.3, 1.5), rng.uniform(0.3, 1.5)
    cs = gd.CaseStudy(X, W, noise=nu, soft_noise=tau, teacher_lam=lam_T, student_lam=0.2,
                      teacher_temperature=t_T, student_temperature=0.5)
    vals = dict(k=k, n=n, nu=nu, tau=tau, lambda_T=lam_T, t_T=t_T, s=list(s), w=list(w))
    return cs, vals


SETTINGS = [  # (d, k, n, t_T, λ_T)
    (1, 1, 1, 1.0, 0.5), (1, 2, 5, 0.0, 0.0), (2, 3, 7, 0.7, 0.5), (2, 2, 2, 1.0, 2.0),
    (3, 4, 10, 0.0, 0.3), (3, 3, 5, 2.0, 0.0),
]


@pytest.mark.parametrize("setting", SETTINGS)
@pytest.mark.parametrize("predictive", [False, True])
def test_cgf_matches_case_study(setting, predictive):
    rng = np.random.default_rng(hash(setting) % 2**32)
    d, k, n, t_T, lam_T = setting
    cs, vals = aligned_instance(rng, d, k, n, t_T, lam_T)
    T = teacher_gap_cgf(d, predictive)
    lo, hi = T.domain(**vals)
    lo_n, hi_n = cs.teacher_gap_cgf_domain(predictive)
    for a, b in ((lo, lo_n), (hi, hi_n)):
        assert (math.isinf(a) and a == b) or a == pytest.approx(b, rel=1e-10)
    fin_lo = lo if math.isfinite(lo) else -5.0
    fin_hi = hi if math.isfinite(hi) else 5.0
    lam = np.concatenate([np.linspace(0.05, 0.95, 7) * fin_lo, np.linspace(0.05, 0.95, 7) * fin_hi])
    np.testing.assert_allclose(T.evaluate(lam, **vals), cs.teacher_gap_cgf(lam, predictive=predictive), rtol=1e-10)
    if math.isfinite(hi):
        assert T.evaluate(hi * 1.01, **vals) == math.inf
    mom = T.moments(**vals)
    assert mom["gen_T"] == pytest.approx(cs.gen_teacher, rel=1e-12)
    if not predictive:
        # Var g = ψ''(0), by a central difference of the numeric ψ (independent of the formula)
        h = 1e-3 * min(fin_hi, -fin_lo)
        fd = (cs.teacher_gap_cgf(h) + cs.teacher_gap_cgf(-h)) / h**2
        assert mom["variance"] == pytest.approx(fd, rel=1e-5)


@pytest.mark.parametrize("predictive", [False, True])
def test_bound_expressions_match_numeric_bounds(predictive):
    rng = np.random.default_rng(7)
    cs, vals = aligned_instance(rng, 2, 3, 6, 0.8, 0.4)
    sb = symbolic_bounds(2, predictive)
    psi = cs.teacher_gap_cgf_callable(predictive)
    gT = cs.gen_teacher
    K = 0.37
    for side, name in (("upper", "upper_cgf"), ("lower", "lower_cgf")):
        num = B.cgf_bound(K, psi, gT, side=side)
        sym = sb.cgf_bound(K, side=side, **vals)
        assert sym.value == pytest.approx(num.value, rel=1e-10)
        # the expression at the minimiser is the bound value
        at = sb.evaluate(name, K=K, lam=num.details["lambda"], **vals)
        assert at == pytest.approx(num.value, rel=1e-10)
    for eta in (0.2, 0.9):
        dv = B.dv_lower_bound(K, psi, gT, eta)
        assert sb.evaluate("dv", K=K, eta=eta, **vals) == pytest.approx(dv.value, rel=1e-10)
        cc = B.largest_central_c(psi, eta, gT)
        assert sb.evaluate("largest_c", eta=eta, **vals) == pytest.approx(cc.c, rel=1e-10)
        assert sb.evaluate("central", K=K, eta=eta, c=0.4, **vals) == pytest.approx(0.4 * gT - K / eta, rel=1e-12)
    assert sb.evaluate("subgaussian_upper", K=K, sigma2=2.0, **vals) == pytest.approx(gT + math.sqrt(4 * K), rel=1e-12)


def test_symbolic_structure():
    T = teacher_gap_cgf(1, False)
    assert T.lam in T.psi.free_symbols
    assert len(T.mode_terms) == 1 and len(T.domain_factors) == 2
    Ty = teacher_gap_cgf(1, True)
    assert Ty.lam in Ty.psi.free_symbols and T.psi != Ty.psi
    assert "lambda" in T.latex()


@pytest.mark.parametrize("bad, match", [
    (dict(nu="__import__('os').system('echo pwned')"), "nu.*never parsed"),
    (dict(k=1), "k >= d"),
    (dict(n=1), "n >= d"),
    (dict(k=2.5), "k"),
    (dict(s=[1.0, -1.0]), "s must be > 0"),
    (dict(s=[1.0]), "s must be a sequence"),
    (dict(w="12"), "w must be a sequence"),
    (dict(tau=0.0), "tau"),
    (dict(t_T=-1.0), "t_T"),
    (dict(lambda_T=float("nan")), "lambda_T"),
    (dict(extra=1.0), "unknown"),
])
def test_bad_values(bad, match):
    vals = dict(k=3, n=7, nu=0.8, tau=0.6, lambda_T=0.5, t_T=0.7, s=[4.0, 1.5], w=[1.2, -0.7])
    vals.update(bad)
    with pytest.raises(gd.GaussDistillError, match=match):
        teacher_gap_cgf(2).evaluate(0.1, **vals)


def test_bad_lambda_and_names():
    vals = dict(k=3, n=7, nu=0.8, tau=0.6, lambda_T=0.5, t_T=0.7, s=[4.0, 1.5], w=[1.2, -0.7])
    with pytest.raises(gd.GaussDistillError, match="lam"):
        teacher_gap_cgf(2).evaluate("0.1", **vals)
    with pytest.raises(gd.GaussDistillError, match="K"):
        symbolic_bounds(2).evaluate("dv", K="1", eta=0.5, **vals)
    with pytest.raises(gd.GaussDistillError, match="eta is needed"):
        symbolic_bounds(2).evaluate("dv", K=1.0, **vals)
    with pytest.raises(gd.GaussDistillError, match="name"):
        symbolic_bounds(2).evaluate("psi", **vals)
    with pytest.raises(gd.GaussDistillError, match="predictive"):
        teacher_gap_cgf(2, "yes")
    with pytest.raises(gd.GaussDistillError, match="d="):
        teacher_gap_cgf(0)
