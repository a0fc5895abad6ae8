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


VALS = dict(k=3, n=7, nu=0.8, tau=0.6, lambda_T=0.5, t_T=0.7, s=[4.0, 1.5], w=[1.2, -0.7])


@pytest.mark.parametrize("name,kwargs,match", [
    # were raw TypeError (complex to float) or a silently wrong number (λ < 0)
    ("upper_cgf", dict(K=1.0, lam=0.0), r"^lam=0.0: must be > 0"),
    ("upper_cgf", dict(K=1.0, lam=-0.1), r"^lam=-0.1: must be > 0"),
    ("dv", dict(K=1.0, eta=0.0), r"^eta=0.0: must be > 0"),
    ("subgaussian_upper", dict(K=1.0, sigma2=-1.0), r"^sigma2=-1.0: must be >= 0"),
    ("upper_cgf", dict(K=10**400, lam=0.1), r"^K=.*does not fit in a float64"),   # was OverflowError
    ("largest_c", dict(eta=0.1, nu=0.0), r"gen_T = 0"),                           # was NaN
])
def test_symbolic_bound_arguments_are_checked(name, kwargs, match):
    vals = dict(VALS, **{k: v for k, v in kwargs.items() if k == "nu"})
    kw = {k: v for k, v in kwargs.items() if k != "nu"}
    with pytest.raises(gd.GaussDistillError, match=match):
        symbolic_bounds(2).evaluate(name, **kw, **vals)


def test_symbolic_bounds_outside_the_cgf_domain_are_vacuous():
    """λ beyond the CGF's domain: ψ = +inf, so the upper bound is +inf and the lower ones -inf
    (they raised TypeError: the log of a negative determinant is complex)."""
    lo, hi = teacher_gap_cgf(2).domain(**VALS)
    SB = symbolic_bounds(2)
    assert SB.evaluate("upper_cgf", K=1.0, lam=2 * hi, **VALS) == math.inf
    assert SB.evaluate("lower_cgf", K=1.0, lam=-2 * lo, **VALS) == -math.inf
    assert SB.evaluate("dv", K=1.0, eta=-2 * lo, **VALS) == -math.inf
    inside = SB.evaluate("upper_cgf", K=1.0, lam=hi / 2, **VALS)
    psi = teacher_gap_cgf(2).evaluate(hi / 2, **VALS)
    gen_T = teacher_gap_cgf(2).moments(**VALS)["gen_T"]
    assert inside == pytest.approx(gen_T + (1.0 + psi) / (hi / 2), rel=1e-12)


@pytest.mark.parametrize("bad,match", [
    (dict(s=np.array(1.0)), "s must be a sequence"),       # was TypeError: len() of unsized object
    (dict(s={4.0, 1.5}), "s must be a sequence"),          # a set was accepted in arbitrary order
    (dict(s={0: 4.0, 1: 1.5}), "s must be a sequence"),    # a dict gave its keys
    (dict(k=10**400), "k=.*float64"),                      # OverflowError
    (dict(nu=1e200), "overflows float64"),                 # OverflowError from Python floats
])
def test_bad_cgf_values_are_named(bad, match):
    with pytest.raises(gd.GaussDistillError, match=match):
        teacher_gap_cgf(2).evaluate(0.1, **dict(VALS, **bad))


def test_cgf_lambda_strings_are_not_parsed_and_zero_noise_is_exact():
    with pytest.raises(gd.GaussDistillError, match="lam"):
        teacher_gap_cgf(2).evaluate(["0.1"], **VALS)                 # was parsed to 0.1
    # nu = 0: the gap is identically 0, so ψ ≡ 0 (was NaN at large λ: inf·0)
    assert np.all(teacher_gap_cgf(2).evaluate(np.array([-1e200, -1.0, 1e165]), **dict(VALS, nu=0.0)) == 0.0)


def test_psi_equals_the_dense_quadratic_form():
    """ψ, ψ_Y against log E exp of the gap written as one dense quadratic form in all
    k(n + d) Gaussian variables (E and Ξ), its A, b, c read off by polarisation."""
    rng = np.random.default_rng(11)
    d, k, n, t_T, lam_T = 2, 2, 4, 0.7, 0.5
    s, w, nu, tau = rng.uniform(0.3, 5, d), rng.normal(0, 1.5, d), 0.9, 0.7
    V = np.linalg.qr(rng.normal(size=(d, d)))[0]
    Q = np.linalg.qr(rng.normal(size=(n, d)))[0]
    U = np.linalg.qr(rng.normal(size=(k, d)))[0]
    X, W = V @ np.diag(np.sqrt(s)) @ Q.T, U @ np.diag(w) @ V.T
    Ai = np.linalg.inv(X @ X.T + lam_T * np.eye(d))
    ev, vec = np.linalg.eigh(t_T * nu**2 * Ai)
    half = vec @ np.diag(np.sqrt(ev)) @ vec.T
    N = k * (n + d)

    def gap(z):
        E, Xi = z[:k * n].reshape(k, n), z[k * n:].reshape(k, d)
        W_T = (W @ X + nu * E) @ X.T @ Ai + Xi @ half
        return (nu**2 * (k * n - np.sum(E**2)) + 2 * nu * np.sum(E * ((W_T - W) @ X))) / n

    c, I = gap(np.zeros(N)), np.eye(N)
    gp, gm = np.array([gap(e) for e in I]), np.array([gap(-e) for e in I])
    b, diag = (gp - gm) / 2, (gp + gm) / 2 - c
    A = np.diag(diag)
    for i in range(N):
        for j in range(i + 1, N):
            A[i, j] = A[j, i] = (gap(I[i] + I[j]) - c - b[i] - b[j] - diag[i] - diag[j]) / 2
    mean = np.trace(A) + c
    vals = dict(k=k, n=n, nu=nu, tau=tau, lambda_T=lam_T, t_T=t_T, s=list(s), w=list(w))
    for predictive in (False, True):
        T = teacher_gap_cgf(d, predictive)
        lo, hi = T.domain(**vals)
        extra = np.diag(np.r_[np.ones(k * n), np.zeros(k * d)]) * 2 * tau**2 * nu**2 / n**2
        for lam in (0.3 * lo, 0.9 * lo, 0.3 * hi, 0.9 * hi):
            M = I - 2 * (lam * A + (lam**2 * extra if predictive else 0))
            ref = -0.5 * np.linalg.slogdet(M)[1] + 0.5 * lam**2 * b @ np.linalg.solve(M, b) + lam * (c - mean)
            assert T.evaluate(lam, **vals) == pytest.approx(ref, rel=1e-12)
        for edge in (lo, hi):   # the dense I − 2A_λ loses definiteness exactly there
            M_out = I - 2 * (1.001 * edge * A + ((1.001 * edge)**2 * extra if predictive else 0))
            M_in = I - 2 * (0.999 * edge * A + ((0.999 * edge)**2 * extra if predictive else 0))
            assert np.linalg.eigvalsh(M_out).min() < 0 < np.linalg.eigvalsh(M_in).min()
        assert T.moments(**vals)["gen_T"] == pytest.approx(mean, rel=1e-12)
        assert T.moments(**vals)["variance"] == pytest.approx(2 * np.sum(A * A) + b @ b, rel=1e-12)
