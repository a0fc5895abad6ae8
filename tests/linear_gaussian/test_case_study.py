"""CaseStudy's exact values against dense linear algebra formed from the definitions.

The oracle below builds every matrix of docs/mathematics.md §2 explicitly (inverses, Kronecker
products, n×n predictive covariances) and takes the expectation over the label noise E of each
quadratic form by the trace rule E‖m + L vec E‖²_G = ‖m‖²_G + tr(Lᵀ G L); the package works in
the eigenbasis of X Xᵀ and never forms any of it.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import gaussdistill as gd
from gaussdistill.errors import GaussDistillError


# ----------------------------------------------------------------------------- dense oracle
def _kl_cov(S1, S0):
    """½[tr(S0⁻¹S1) − p − ln det(S0⁻¹S1)] (one row; multiply by k)."""
    M = np.linalg.solve(S0, S1)
    return 0.5 * (np.trace(M) - S0.shape[0] - np.linalg.slogdet(M)[1])


def dense_case(X, W, nu, tau, lT, lS, tT, tS, c=1.0, student="population", m=1, shared=True):
    d, n = X.shape
    k = W.shape[0]
    Ik = np.eye(k)
    G = X @ X.T
    AT = G + lT * np.eye(d)
    AS = G + lS * np.eye(d)
    ATi = np.linalg.inv(AT)
    ASp = np.linalg.pinv(AS)
    ST = tT * nu**2 * ATi
    SS = tS * tau**2 * ASp
    P = X.T @ ATi                                   # M_T = Y P
    mT = (W @ G @ ATi).reshape(-1, order="F")
    LT = nu * np.kron(P.T, Ik)                      # vec(E P) = (Pᵀ ⊗ I) vec E
    R = c * G @ ASp                                 # M_S = M_T R (linear student)
    mS, LS = np.kron(R.T, Ik) @ mT, np.kron(R.T, Ik) @ LT
    if student == "sampled":
        C = X.T @ ST @ X + tau**2 * np.eye(n) / m if shared else (tau**2 * np.eye(n) + X.T @ ST @ X) / m
        SS = SS + ASp @ X @ C @ X.T @ ASp
    mD, LD = mS - mT, LS - LT

    def e_sq(mv, L, Gm):                            # E tr(G ΔᵀΔ) with vec Δ = mv + L vec E
        K = np.kron(Gm, Ik)
        return mv @ K @ mv + np.trace(L.T @ K @ L)

    VT = tau**2 * np.eye(n) + X.T @ ST @ X
    VS = tau**2 * np.eye(n) + X.T @ SS @ X
    out = {}
    out["K_weight"] = k * _kl_cov(SS, ST) + 0.5 * e_sq(mD, LD, np.linalg.inv(ST)) if tT > 0 and tS > 0 else math.inf
    out["K_predictive"] = k * _kl_cov(VS, VT) + 0.5 * e_sq(mD, LD, X @ np.linalg.inv(VT) @ X.T)
    out["K_convexity"] = (e_sq(mD, LD, G) + k * np.trace(X.T @ (SS + ST) @ X)) / (2 * tau**2)
    out["rev_weight"] = k * _kl_cov(ST, SS) + 0.5 * e_sq(mD, LD, np.linalg.inv(SS)) if tT > 0 and tS > 0 else math.inf
    out["rev_predictive"] = k * _kl_cov(VT, VS) + 0.5 * e_sq(mD, LD, X @ np.linalg.inv(VS) @ X.T)
    XI = np.kron(X.T, Ik)
    wv = W.reshape(-1, order="F")
    for tag, mv, L, S in (("T", mT, LT, ST), ("S", mS, LS, SS)):
        out[f"gen_{tag}"] = 2 * nu * np.trace(XI @ L) / n
        fit = np.sum((XI @ (mv - wv)) ** 2) + np.trace(L.T @ XI.T @ XI @ L) + k * np.trace(X.T @ S @ X)
        out[f"risk_{tag}"] = fit / n + k * nu**2
    return out


def _problem(k=2, d=3, n=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((d, n)), rng.standard_normal((k, d))


SETTINGS = [
    dict(),
    dict(student="shrinkage", shrinkage=0.6),
    dict(student="sampled", draws=3),
    dict(student="sampled", draws=2, shared_teacher_draw=False),
    dict(rank=0),
    dict(student_temperature=0.0),
    dict(teacher_lam=0.0, student_lam=0.0),
    dict(n=2),                                       # n < d
    dict(soft_noise=1.7, teacher_temperature=0.3, student_temperature=2.0),
    dict(student="sampled", draws=4, n=2),
]


@pytest.mark.parametrize("over", SETTINGS)
def test_exact_values_equal_dense_oracle(over):
    over = dict(over)
    X, W = _problem(n=over.pop("n", 5))
    base = dict(noise=0.6, soft_noise=0.9, teacher_lam=0.7, student_lam=0.4, teacher_temperature=1.0,
                student_temperature=0.8)
    base.update(over)
    cs = gd.CaseStudy(X, W, **base)
    ref = dense_case(X, W, cs.noise, cs.soft_noise, cs.teacher_lam, cs.student_lam, cs.teacher_temperature,
                     cs.student_temperature, c=cs._c, student=cs.student, m=cs.draws,
                     shared=cs.shared_teacher_draw)
    got = {"gen_T": cs.gen_teacher, "gen_S": cs.gen_student, **{f"K_{kd}": cs.expected_divergence(kd)
                                                                  for kd in ("weight", "predictive", "convexity")}}
    got.update({k: v for k, v in cs.risks().items() if k in ("risk_T", "risk_S")})
    got.update({f"rev_{kd}": cs.expected_divergence(kd, "teacher||student") for kd in ("weight", "predictive")})
    for key, value in ref.items():
        if math.isinf(value):
            assert math.isinf(got[key]), key
        else:
            assert got[key] == pytest.approx(value, rel=1e-10, abs=1e-12), key


# ----------------------------------------------------------------------------- ψ and ψ_Y
def dense_gap_form(X, W, nu, lT, tT):
    """(A, b, c0): g = zᵀAz + bᵀz + c0 with z = (vec E, vec Ξ), from docs/mathematics.md §4.1."""
    d, n = X.shape
    k = W.shape[0]
    AT = X @ X.T + lT * np.eye(d)
    S = X.T @ np.linalg.solve(AT, X)
    w, V = np.linalg.eigh(tT * nu**2 * np.linalg.inv(AT))
    Rt = (V * np.sqrt(np.clip(w, 0, None))) @ V.T @ X
    Ik = np.eye(k)
    AEE = (-nu**2 * np.eye(k * n) + 2 * nu**2 * np.kron(S, Ik)) / n
    AEX = (nu / n) * np.kron(Rt.T, Ik)
    A = np.block([[AEE, AEX], [AEX.T, np.zeros((k * d, k * d))]])
    b = np.concatenate([(2 * nu / n) * (W @ X @ (S - np.eye(n))).reshape(-1, order="F"), np.zeros(k * d)])
    return A, b, nu**2 * k


def dense_psi(A, b, c0, gen_T, lam, extra_E=0.0, kn=0):
    """log E exp(λ(g − gen_T) + extra_E ‖E‖²) by one slogdet and one solve (+inf outside the domain)."""
    M = lam * A.copy()
    M[:kn, :kn] += extra_E * np.eye(kn)
    B = np.eye(A.shape[0]) - 2 * M
    if np.linalg.eigvalsh(B).min() <= 0:
        return math.inf
    return -0.5 * np.linalg.slogdet(B)[1] + 0.5 * lam**2 * b @ np.linalg.solve(B, b) + lam * (c0 - gen_T)


@pytest.mark.parametrize("n,lT,tT", [(7, 1.0, 0.8), (2, 0.5, 1.0), (9, 0.0, 0.0), (6, 2.0, 1.5)])
def test_teacher_gap_cgf_equals_dense(n, lT, tT):
    X, W = _problem(k=3, d=4 if n != 2 else 3, n=n, seed=3)
    nu, tau = 0.5, 0.7
    cs = gd.CaseStudy(X, W, noise=nu, soft_noise=tau, teacher_lam=lT, teacher_temperature=tT)
    A, b, c0 = dense_gap_form(X, W, nu, lT, tT)
    assert np.trace(A) + c0 == pytest.approx(cs.gen_teacher, rel=1e-12)
    k = W.shape[0]
    lo, hi = cs.teacher_gap_cgf_domain()
    alpha = np.linalg.eigvalsh(A)
    assert hi == pytest.approx(1 / (2 * alpha.max()) if alpha.max() > 0 else math.inf, rel=1e-12)
    assert lo == pytest.approx(1 / (2 * alpha.min()), rel=1e-12)
    lams = [lo * 0.999, lo / 3, -1e-3, 0.2, hi / 2, hi * 0.999, hi * 1.001, lo * 1.001]
    for lam in lams:
        for pred in (False, True):
            extra = 2 * tau**2 * nu**2 / n**2 * lam**2 if pred else 0.0
            ref = dense_psi(A, b, c0, cs.gen_teacher, lam, extra, k * n)
            got = cs.teacher_gap_cgf(lam, predictive=pred)
            if math.isinf(ref):
                assert math.isinf(got), (lam, pred)
            else:
                assert got == pytest.approx(ref, rel=1e-9, abs=1e-13), (lam, pred)
    # the predictive domain is exactly where the dense matrix stays positive definite
    lo_y, hi_y = cs.teacher_gap_cgf_domain(True)
    for lam, finite in ((hi_y * 0.999, True), (hi_y * 1.001, False), (lo_y * 0.999, True), (lo_y * 1.001, False)):
        ref = dense_psi(A, b, c0, cs.gen_teacher, lam, 2 * tau**2 * nu**2 / n**2 * lam**2, k * n)
        assert math.isfinite(ref) == finite
    assert cs.teacher_gap_cgf(0.0) == 0.0
    vec = cs.teacher_gap_cgf(np.array([0.1, hi * 2]))
    assert vec.shape == (2,) and math.isinf(vec[1])


def test_exact_route_large_n_has_no_n_sized_objects():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((5, 20000))
    cs = gd.CaseStudy(X, rng.standard_normal((4, 5)), noise=0.3, teacher_lam=1.0, student_lam=1.0)
    # the complement of the row space (k(n − d) coordinates) is one weighted form
    assert sum(f.alpha.size for f, _ in cs.teacher_gap_cgf_callable().parts) <= 4 * 5 + 1
    assert math.isfinite(cs.teacher_gap_cgf(10.0))


# ----------------------------------------------------------------------------- structure and errors
def test_frozen_replace_and_dict():
    X, W = _problem()
    cs = gd.CaseStudy(X, W, noise=0.5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cs.noise = 1.0
    cs2 = cs.replace(student_lam=2.0)
    assert cs2.student_lam == 2.0 and cs.student_lam == 1.0 and cs2.soft_noise == 0.5
    assert cs.to_dict()["noise"] == 0.5
    with pytest.raises(GaussDistillError, match="studnet_lam"):
        cs.replace(studnet_lam=1.0)
    assert not cs.X.flags.writeable


@pytest.mark.parametrize("kwargs,name", [
    (dict(noise=-1.0), "noise"), (dict(noise="0.5"), "noise"), (dict(soft_noise=0.0), "soft_noise"),
    (dict(teacher_lam=float("nan")), "teacher_lam"), (dict(student_lam=-1), "student_lam"),
    (dict(teacher_temperature=-0.1), "teacher_temperature"), (dict(student_temperature="hot"), "student_temperature"),
    (dict(rank=7), "rank"), (dict(rank=1.5), "rank"), (dict(student="teacher"), "student"),
    (dict(draws=0), "draws"), (dict(shrinkage=float("inf")), "shrinkage"), (dict(design="mixed"), "design"),
    (dict(design="random", design_cov=-np.eye(3)), "design_cov"), (dict(design_cov=np.eye(2)), "design_cov"),
    (dict(X=np.full((3, 5), np.nan)), "X"), (dict(X="abc"), "X"), (dict(W_star=np.ones((2, 4))), "W_star"),
    (dict(n=2, teacher_lam=0.0), "teacher_lam"), (dict(n=2, student_lam=0.0), "student_lam"),
    (dict(shared_teacher_draw="yes"), "shared_teacher_draw"),
])
def test_bad_input_names_the_argument(kwargs, name):
    kwargs = dict(kwargs)
    X, W = _problem(n=kwargs.pop("n", 5))
    args = dict(X=X, W_star=W, noise=0.5)
    args.update(kwargs)
    with pytest.raises(GaussDistillError, match=name):
        gd.CaseStudy(**args)


def test_no_closed_form_says_use_simulate():
    X, W = _problem(k=3, d=3, n=8)
    cs = gd.CaseStudy(X, W, noise=0.5, rank=1)
    for call in (lambda: cs.gen_student, lambda: cs.expected_divergence("weight"), cs.risks):
        with pytest.raises(GaussDistillError, match="simulate"):
            call()
    cr = gd.CaseStudy(X, W, noise=0.5, design="random")
    with pytest.raises(GaussDistillError, match="simulate"):
        _ = cr.gen_teacher
    with pytest.raises(GaussDistillError, match="simulate"):
        cr.teacher_gap_cgf(0.1)
    with pytest.raises(GaussDistillError, match="kind"):
        cs.replace(rank=None).expected_divergence("forward")
    with pytest.raises(GaussDistillError, match="direction"):
        cs.replace(rank=None).expected_divergence("weight", "both")
    with pytest.raises(GaussDistillError, match="lam"):
        cs.teacher_gap_cgf("1")


def test_bounds_table_fixed_design():
    X, W = _problem(k=3, d=4, n=30, seed=2)
    cs = gd.CaseStudy(X, W, noise=0.5, soft_noise=0.7, teacher_lam=1.0, student_lam=0.5, student_temperature=0.5)
    t = cs.bounds()
    assert {"theorem", "form", "divergence", "side", "value", "valid", "gen_student", "slack",
            "tighter", "failed_assumptions"} <= set(t.columns)
    assert set(t["divergence"]) == {"weight", "predictive", "convexity"}
    assert (t["gen_student"] == cs.gen_student).all() and (t["ingredients"] == "exact").all()
    valid = t[t["valid"]]
    assert (valid["slack"] >= -1e-12).all()              # exact ingredients: every valid bound holds exactly
    assert (t[~t["valid"]]["failed_assumptions"].str.len() > 0).all()
    sharp = t[t["form"] == "sharpness"]
    assert np.allclose(sharp["value"], cs.gen_student, rtol=1e-12)   # κ = 0: Theorem 3 is an identity
