"""Theorems 1–3 evaluators: hand values, exact cases (Donsker–Varadhan equality at the
tilted law, the ISMI bound of Gaussian mean estimation, the Gaussian case of Theorem 1).

Expected values come from closed forms computed in the test, published numbers
(Gaussian mean estimation: 0.4308, 0.1365, 0.0441), or hand algebra.
"""
import dataclasses
import math

import numpy as np
import pytest

from gaussdistill import bounds as B

from oracles.discrete import DiscreteCGF

DISCRETE = DiscreteCGF([0.0, 1.0, 3.0, -2.0], [0.4, 0.3, 0.2, 0.1])


# ---------------------------------------------------------------- Theorem 1
def test_subgaussian_by_hand():
    r = B.subgaussian_bound(0.02, 4.0, 0.5)
    assert r.value == pytest.approx(0.5 + math.sqrt(2 * 4.0 * 0.02), rel=1e-15)
    assert (r.theorem, r.form, r.side) == (1, "subgaussian", "upper")
    lo = B.subgaussian_bound(0.02, 4.0, 0.5, side="lower", divergence="predictive")
    assert lo.value == pytest.approx(0.5 - 0.4, rel=1e-14)
    assert lo.divergence == "predictive" and lo.valid
    assert lo.assumption("subgaussian").status == "assumed"


def test_subgaussian_clipped_to_the_proxy_range():
    # σ² = 1 valid on λ in [-1, 1]; K = 8 wants λ* = 4 > 1: value K/1 + 1/2.
    r = B.subgaussian_bound(8.0, 1.0, 0.0, lam_range=(-1.0, 1.0))
    assert r.value == pytest.approx(8.5) and r.details["clipped"]
    r = B.subgaussian_bound(0.02, 1.0, 0.0, lam_range=(-1.0, 1.0))
    assert r.value == pytest.approx(0.2) and "clipped" not in r.details


def test_gaussian_gap_cgf_bound_equals_subgaussian():
    # ψ(λ) = σ²λ²/2 exactly: inf_λ (K + σ²λ²/2)/λ = sqrt(2σ²K) at λ = sqrt(2K/σ²).
    s2, K = 2.5, 0.3
    psi = B.QuadraticFormCGF([0.0], [math.sqrt(s2)])
    for side, sgn in (("upper", 1), ("lower", -1)):
        r = B.cgf_bound(K, psi, 1.0, side=side)
        assert r.value == pytest.approx(1.0 + sgn * math.sqrt(2 * s2 * K), rel=1e-12)
        assert r.details["lambda"] == pytest.approx(math.sqrt(2 * K / s2), rel=1e-5)


def test_gaussian_tilt_equality():
    # P: g ~ N(m, s²); Q = N(m + λ0 s², s²) is the tilt; K = λ0² s²/2; Theorem 1 is tight.
    m, s2, lam0 = -0.4, 0.7, 1.3
    K = lam0**2 * s2 / 2
    gS = m + lam0 * s2
    psi = B.QuadraticFormCGF([0.0], [math.sqrt(s2)])
    assert B.cgf_bound(K, psi, m).value == pytest.approx(gS, abs=1e-12)
    assert B.subgaussian_bound(K, s2, m).value == pytest.approx(gS, abs=1e-14)


@pytest.mark.parametrize("lam0", [0.05, 0.7, 2.0])
def test_donsker_varadhan_equality_at_tilted_law_upper(lam0):
    K, gS = DISCRETE.tilt(lam0)
    r = B.cgf_bound(K, DISCRETE, DISCRETE.mean)
    assert r.value >= gS - 1e-12  # a bound at any λ
    assert r.value == pytest.approx(gS, abs=1e-10)
    assert r.details["lambda"] == pytest.approx(lam0, rel=1e-4)


@pytest.mark.parametrize("eta0", [0.05, 0.7, 2.0])
def test_donsker_varadhan_equality_at_tilted_law_lower(eta0):
    K, gS = DISCRETE.tilt(-eta0)
    exact = B.dv_lower_bound(K, DISCRETE, DISCRETE.mean, eta0)
    assert exact.value == pytest.approx(gS, abs=1e-13)  # equality at the tilting η
    best = B.best_dv_lower_bound(K, DISCRETE, DISCRETE.mean)
    assert best.value == pytest.approx(gS, abs=1e-10) and best.value <= gS + 1e-12
    assert best.details["eta"] == pytest.approx(eta0, rel=1e-4)
    other = B.dv_lower_bound(K, DISCRETE, DISCRETE.mean, [eta0 / 2, eta0 * 2])
    assert all(o.value < gS for o in other)
    lower1 = B.cgf_bound(K, DISCRETE, DISCRETE.mean, side="lower")
    assert lower1.value == pytest.approx(best.value, abs=1e-12)


def test_quadratic_form_tilted_law_equality():
    # Tilting z ~ N(0,1) by e^{λ0 Q}, Q = αz² + βz, gives N(λ0β/(1−2λ0α), 1/(1−2λ0α)).
    a, b, lam0 = 0.4, 0.9, 0.6
    psi = B.QuadraticFormCGF([a], [b])
    v = 1 / (1 - 2 * lam0 * a)
    mu = lam0 * b * v
    K = 0.5 * (v + mu**2 - 1 - math.log(v))  # KL(N(mu, v) ‖ N(0, 1))
    gS = a * (v + mu**2) + b * mu           # E_Q Q
    gT = a
    r = B.cgf_bound(K, psi, gT)
    assert r.value == pytest.approx(gS, abs=1e-10)


@pytest.mark.parametrize("n, published", [(10, 0.4308), (100, 0.1365), (1000, 0.0441)])
def test_gaussian_mean_estimation_ismi_bound(n, published):
    # inf_λ [I + λa − ½ ln(1 + 2λa)]/λ, a = σ²(1 + 1/n), I = ½ ln(n/(n−1)): the CGF of
    # −(a χ²₁ − a), a quadratic form with α = −a.
    a, info = 1 + 1 / n, 0.5 * math.log(n / (n - 1))
    r = B.cgf_bound(info, B.QuadraticFormCGF([-a], [0.0]), 0.0)
    assert round(r.value, 4) == published
    assert r.value > 2 / n  # the true gap 2σ²/n


def test_k_zero_and_infinite():
    r = B.cgf_bound(0.0, DISCRETE, 0.25)
    assert r.value == 0.25 and r.valid and not r.vacuous
    r = B.cgf_bound(math.inf, DISCRETE, 0.25)
    assert r.value == math.inf and r.vacuous and "infinite" in r.details["reason"]
    r = B.cgf_bound(math.inf, DISCRETE, 0.25, side="lower")
    assert r.value == -math.inf and r.vacuous
    assert B.subgaussian_bound(0.0, 3.0, 1.0).value == 1.0
    assert B.subgaussian_bound(math.inf, 3.0, 1.0).value == math.inf
    assert B.dv_lower_bound(math.inf, DISCRETE, 0.0, 1.0).value == -math.inf
    assert B.central_bound(math.inf, 1.0, 0.5, 1.0).value == -math.inf


def test_rounding_level_negative_cgf_cannot_break_a_bound():
    # ψ with a −1e-16 rounding offset (as logsumexp-style code produces near λ = 0) and a
    # rounding-level K: without clipping ψ at 0, (K + ψ(λ))/λ at λ ~ 1e-26 would be ~ −1e10.
    def noisy(lam):
        lam = np.asarray(lam, float)
        return lam**2 / 2 - 1e-16

    for K in (1e-18, 1e-12):
        up = B.cgf_bound(K, noisy, 0.3)
        lo = B.cgf_bound(K, noisy, 0.3, side="lower")
        assert up.value >= 0.3 and lo.value <= 0.3
        assert up.value == pytest.approx(0.3 + math.sqrt(2 * K), rel=1e-3, abs=1e-15)
    assert B.dv_lower_bound(0.0, noisy, 0.3, 1e-9).value <= 0.3


def test_minimiser_at_domain_edge():
    # ψ(λ) = λ²/2 on [−1, 1] (closed), +inf beyond; K = 2: unconstrained λ* = 2 > 1,
    # so the infimum over the domain is at the edge: K + 1/2 = 2.5.
    def psi(lam):
        lam = np.asarray(lam, float)
        return np.where(np.abs(lam) <= 1.0, lam**2 / 2, np.inf)

    r = B.cgf_bound(2.0, psi, 0.0, domain=(-1.0, 1.0))
    assert r.value == pytest.approx(2.5, rel=1e-12) and r.details["at_edge"]
    # open domain (ψ = +inf at the edge): the value approaches 2.5 from above
    def psi_open(lam):
        lam = np.asarray(lam, float)
        return np.where(np.abs(lam) < 1.0, lam**2 / 2, np.inf)

    r = B.cgf_bound(2.0, psi_open, 0.0, domain=(-1.0, 1.0))
    assert 2.5 <= r.value < 2.5 + 1e-9 and r.details["at_edge"]


def test_minimiser_at_infinity_bounded_gap():
    # Bernoulli(½) gap in {0, 1}: ψ(λ) = log((1 + e^λ)/2) − λ/2. For K >= log 2 the
    # objective decreases for ever; the infimum is sup g − E g = ½.
    g = DiscreteCGF([0.0, 1.0], [0.5, 0.5])
    r = B.cgf_bound(1.0, g, 0.5)
    assert r.details["at_infinity"]
    assert r.value == pytest.approx(1.0, abs=1e-12) and r.value >= 1.0


def test_scalar_only_cgf_is_accepted():
    calls = []

    def psi(lam):
        calls.append(lam)
        return math.log(0.5 * (math.exp(lam) + math.exp(-lam)))  # Rademacher, scalar only

    r = B.cgf_bound(0.1, psi, 0.0)
    assert r.value < math.sqrt(2 * 0.1) + 1e-12  # Rademacher is 1-sub-Gaussian
    assert any(isinstance(c, float) for c in calls)  # the point-by-point route was used


def test_stability_sigma2_by_hand():
    assert B.stability_sigma2(0.1, 1.0, 10) == pytest.approx(10 * (0.2 + 0.1) ** 2 / 4)
    assert B.stability_sigma2(0, 2.0, 4) == pytest.approx(0.25)


def test_subgaussian_proxy_of_a_gaussian_is_exact():
    psi = B.QuadraticFormCGF([0.0], [math.sqrt(1.7)])
    p = B.subgaussian_proxy(psi, (-3.0, 2.0))
    assert p.valid and p.sigma2 == pytest.approx(1.7, rel=1e-12)


def test_subgaussian_proxy_of_a_chi_square():
    psi = B.QuadraticFormCGF([1.0], [0.0])  # z², domain λ < ½; 2ψ/λ² increases in λ
    p = B.subgaussian_proxy(psi, (-1.0, 0.25))
    assert p.valid and p.sigma2 == pytest.approx((math.log(2) - 0.5) / 0.0625, rel=1e-12)
    assert p.argmax == pytest.approx(0.25)
    bad = B.subgaussian_proxy(psi, (-1.0, 0.6))
    assert not bad.valid and bad.sigma2 == math.inf and "domain" in bad.reason
    r = B.subgaussian_bound(0.1, bad, 0.0)
    assert not r.valid and r.failed == ("subgaussian",)
    ok = B.subgaussian_bound(0.001, p, 0.0)
    assert ok.valid and ok.assumption("subgaussian").status == "checked"
    assert ok.value >= B.cgf_bound(0.001, psi, 0.0).value - 1e-12  # the proxy only loosens


# ---------------------------------------------------------------- Theorem 2
def test_dv_by_hand():
    psi = B.QuadraticFormCGF([0.0], [1.0])  # ψ(−η) = η²/2
    r = B.dv_lower_bound(0.5, psi, 2.0, 0.5)
    assert r.value == pytest.approx(2.0 - (0.5 + 0.125) / 0.5)
    rs = B.dv_lower_bound(0.5, psi, 2.0, np.array([0.5, 1.0]))
    assert [x.value for x in rs] == pytest.approx([0.75, 1.0])


def test_largest_central_c_and_central_bound():
    psi = B.QuadraticFormCGF([0.0], [1.0])  # ψ(−η) = η²/2
    cc = B.largest_central_c(psi, 0.5, 2.0)
    assert cc.c == pytest.approx((0.5 * 2 - 0.125) / (0.5 * 2)) and cc.admissible
    r = B.central_bound(0.5, 0.5, cc.c, 2.0, cgf=psi)
    assert r.valid and r.assumption("central_condition").status == "checked"
    # with the largest c the central bound equals the DV bound at that η
    assert r.value == pytest.approx(B.dv_lower_bound(0.5, psi, 2.0, 0.5).value, rel=1e-14)
    too_big = B.central_bound(0.5, 0.5, 0.95, 2.0, cgf=psi)
    assert not too_big.valid and too_big.failed == ("central_condition",)
    assumed = B.central_bound(0.5, 0.5, 0.95, 2.0)
    assert assumed.valid and assumed.assumption("central_condition").status == "assumed"
    assert assumed.value == pytest.approx(0.95 * 2 - 1.0)
    out = B.central_bound(0.5, 0.5, 1.5, 2.0)
    assert not out.valid and "c_in_unit_interval" in out.failed
    none = B.largest_central_c(psi, 3.0, 2.0)  # ψ(−3) = 4.5 >= η gen_T = 6? no: c = 0.25
    assert none.c == pytest.approx(0.25) and none.admissible
    neg = B.largest_central_c(psi, 5.0, 2.0)  # ψ = 12.5 > 10: c < 0
    assert neg.c == pytest.approx(-0.25) and not neg.admissible
    nonpos = B.largest_central_c(psi, 1.0, -1.0)
    assert nonpos.c is None and not nonpos.admissible


# ---------------------------------------------------------------- Theorem 3
def test_sharpness_by_hand():
    r = B.sharpness_bound(0.3, 0.05, 2.0, 0.04, sigma2=1.0, divergence_value=0.01)
    assert r.value == pytest.approx(0.3 + 0.05 + 0.04)
    assert r.details["rho"] == pytest.approx(0.2)
    assert r.details["rho0"] == pytest.approx((8 * 0.01) ** 0.25 / math.sqrt(2.0))
    assert r.details["theorem1"] == pytest.approx(0.3 + math.sqrt(0.02))
    assert r.details["tighter"] == "theorem3" and r.details["rho_below_rho0"]
    loose = B.sharpness_bound(0.3, 0.0, 50.0, 1.0, sigma2=1.0, divergence_value=0.01)
    assert loose.details["tighter"] == "theorem1" and not loose.details["rho_below_rho0"]
    # first_order = 0: "tighter" is exactly ρ < ρ₀
    for kappa in (0.5, 3.0, 40.0):
        s = B.sharpness_bound(0.0, 0.0, kappa, 0.3, sigma2=2.0, divergence_value=0.05)
        assert (s.details["tighter"] == "theorem3") == s.details["rho_below_rho0"]
    flat = B.sharpness_bound(0.3, 0.1, 0.0, 5.0, sigma2=1.0, divergence_value=0.01)
    assert flat.value == pytest.approx(0.4) and flat.details["rho0"] == math.inf
    assumed = B.sharpness_bound(0.3, None, 1.0, 0.2)
    assert assumed.assumption("first_order").status == "assumed" and assumed.value == pytest.approx(0.4)


# ---------------------------------------------------------------- results
def test_result_validity_and_to_dict():
    r = B.cgf_bound(0.1, DISCRETE, 0.0, divergence="weight")
    d = r.to_dict()
    assert d["valid"] and d["failed_assumptions"] == [] and d["divergence"] == "weight"
    assert {a["name"] for a in d["assumptions"]} == {"divergence", "cgf_exact"}
    bare = B.BoundResult(1, "cgf", "upper", None, 1.0, (), {})
    assert not bare.valid and set(bare.failed) == {"divergence", "cgf_exact"}
    override = B.cgf_bound(0.1, DISCRETE, 0.0, assumptions=(B.Assumption("cgf_exact", "violated", "x"),))
    assert not override.valid and override.failed == ("cgf_exact",)
    with pytest.raises(TypeError):
        r.details["lambda"] = 3.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.value = 2.0
    assert r.slack(0.05) == pytest.approx(r.value - 0.05) and r.holds_for(0.05)
