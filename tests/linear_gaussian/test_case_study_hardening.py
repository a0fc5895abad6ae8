"""CaseStudy at the edges: huge and tiny arguments, ill-conditioned designs, λ out of the domain.

Expected values come from hand formulas and 50-digit mpmath eigenvalues of X Xᵀ, never from the
package's own eigendecomposition.
"""
from __future__ import annotations

import math
import pickle
import warnings

import mpmath as mp
import numpy as np
import pytest

import gaussdistill as gd
from gaussdistill.errors import GaussDistillError


def _problem(k=2, d=3, n=6, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((d, n)), rng.standard_normal((k, d))


@pytest.mark.parametrize("kwargs,name", [
    (dict(noise=10**400), "noise"),
    (dict(teacher_lam=10**400), "teacher_lam"),
    (dict(student_temperature=-(10**400)), "student_temperature"),
    (dict(student="sampled", draws=10**400), "draws"),
    (dict(noise=1e-200), "noise"),                 # ν² underflows
    (dict(soft_noise=1e200), "soft_noise"),        # τ² overflows
    (dict(student="shrinkage", shrinkage=-1e200), "shrinkage"),
    (dict(design_cov=np.diag([1.0, -1.0, 1.0])), "design_cov"),          # fixed design: still checked
    (dict(design_cov=[[1.0, 2.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]), "design_cov"),
])
def test_out_of_range_arguments_name_themselves(kwargs, name):
    X, W = _problem()
    with pytest.raises(GaussDistillError, match=name):
        gd.CaseStudy(X, W, **{"noise": 0.5, **kwargs})


@pytest.mark.parametrize("lam", [None, 10**400, [1.0, "a"], np.array([True])])
def test_teacher_gap_cgf_bad_lambda(lam):
    X, W = _problem()
    cs = gd.CaseStudy(X, W, noise=0.5)
    with pytest.raises(GaussDistillError, match="lam must be a real number"):
        cs.teacher_gap_cgf(lam)
    with pytest.raises(GaussDistillError, match="predictive"):
        cs.teacher_gap_cgf(0.1, predictive="yes")


def test_huge_ridges_no_warning_and_the_limit():
    """λ_S = 1e300: g_j = s_j/(s_j + λ_S) ~ 1e-300, so gen_S = 2ν²k Σ g_j h_j/n (hand formula with
    mpmath eigenvalues); nothing overflows ((s + λ)² did) and no RuntimeWarning leaks."""
    X, W = _problem()
    s = _mp_eigs(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cs = gd.CaseStudy(X, W, noise=0.5, student_lam=1e300, student="sampled", draws=3)
        h = [x / (x + 1) for x in s]
        g = [x / (x + mp.mpf(10) ** 300) for x in s]
        ref = 2 * mp.mpf(0.25) * 2 * sum(a * b for a, b in zip(g, h)) / 6
        assert cs.gen_student == pytest.approx(float(ref), rel=1e-12)
        for kind in ("weight", "predictive", "convexity"):
            assert math.isfinite(cs.expected_divergence(kind))
        cs = gd.CaseStudy(X, W, noise=0.5, teacher_lam=1e300)
        assert cs.gen_teacher == pytest.approx(float(2 * mp.mpf(0.25) * 2 * sum(x / (x + mp.mpf(10) ** 300)
                                                                                 for x in s) / 6), rel=1e-12)
        table = cs.bounds()            # gen_T ~ 1e-300: no c = -inf in the central rows
        assert not table["value"].isna().any()


def _mp_eigs(X):
    with mp.workdps(50):   # local: a global mp.dps change leaks into every later test
        Xm = mp.matrix(X.tolist())
        E, _ = mp.eigsy(Xm * Xm.T)
        return sorted(E[i] for i in range(X.shape[0]))


def test_ill_conditioned_design_modes_match_mpmath():
    """cond(X Xᵀ) = 1e16 with λ = 1e-12: eigh(X Xᵀ) got the smallest eigenvalue (1e-16) wrong by
    O(1) and gen_S wrong by 1.6e-4 relative; the small eigen-pairs are now recomputed from X."""
    rng = np.random.default_rng(5)
    U, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    V, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    X = U @ np.diag([1.0, 1e-2, 1e-8]) @ V[:3]
    W = rng.standard_normal((2, 3))
    s = _mp_eigs(X)
    lam, nu = mp.mpf(1e-12), mp.mpf(0.6)
    cs = gd.CaseStudy(X, W, noise=0.6, teacher_lam=1e-12, student_lam=1e-12)
    h = [x / (x + lam) for x in s]
    assert cs.gen_teacher == pytest.approx(float(2 * nu**2 * 2 * sum(h) / 6), rel=1e-10)
    assert cs.gen_student == pytest.approx(float(2 * nu**2 * 2 * sum(a * a for a in h) / 6), rel=1e-10)
    # λ_T = 0 is allowed: X has full rank (σ_min/σ_max = 1e-8 is far above rounding), h_j = 1
    cs0 = gd.CaseStudy(X, W, noise=0.6, teacher_lam=0.0)
    assert cs0.gen_teacher == pytest.approx(2 * 0.36 * 2 * 3 / 6, rel=1e-12)


def test_scaling_in_noise_is_exact():
    """ν → aν (τ = ν) multiplies gen_T, gen_S and every bound by a², leaves every K unchanged; at a = 1e100
    (ν² = 1e200, ψ's domain ~1e-200, λ² underflows) nothing becomes NaN or warns."""
    X, W = _problem(seed=2)
    a = 1e100
    base = gd.CaseStudy(X, W / 1.0, noise=0.7)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        big = gd.CaseStudy(X, W * a, noise=0.7 * a)
        tb, tg = base.bounds(), big.bounds()
    for kind in ("weight", "predictive", "convexity"):
        assert big.expected_divergence(kind) == pytest.approx(base.expected_divergence(kind), rel=1e-10)
    assert big.gen_student == pytest.approx(a * a * base.gen_student, rel=1e-12)
    finite = np.isfinite(tb["value"].to_numpy()) & np.isfinite(tg["value"].to_numpy())
    # the sub-Gaussian proxy σ² ~ ν⁴ = 1e400 is beyond float64: those rows are vacuous (±inf), nothing else is
    lost = np.isfinite(tb["value"].to_numpy()) & ~finite
    assert set(tg.loc[lost, "form"]) <= {"subgaussian"} and tg.loc[lost, "vacuous"].all()
    assert finite.sum() >= 12
    np.testing.assert_allclose(tg["value"].to_numpy()[finite] / a**2, tb["value"].to_numpy()[finite], rtol=1e-6)
    assert list(tg["valid"]) == list(tb["valid"])


def test_pickle_after_caching_and_rank_r_bounds_are_honest():
    X, W = _problem(k=3, n=8, seed=3)
    cs = gd.CaseStudy(X, W, noise=0.8, rank=1)
    t = cs.bounds(replicates=200, seed=1)
    clone = pickle.loads(pickle.dumps(cs))
    pd_t = clone.bounds(replicates=200, seed=1)
    assert t.drop(columns=["assumptions"]).equals(pd_t.drop(columns=["assumptions"]))
    # gen_S is a Monte Carlo estimate here: its standard error is reported and used by 'holds'
    assert (t["gen_student_stderr"] > 0).all()
    sharp = t[t["form"] == "sharpness"]
    # the first-order term is estimated: 'assumed', not 'checked'
    assert sharp["assumptions"].str.contains("first_order:assumed").all()
    # ψ is exact in the fixed design: no row may describe it as an empirical CGF estimate
    assert not t["assumptions"].str.contains("cgf_exact:assumed").any() or \
        t.loc[t["form"] == "sharpness", "assumptions"].str.contains("cgf_exact").sum() == 0


def test_bounds_accept_one_eta():
    X, W = _problem()
    cs = gd.CaseStudy(X, W, noise=0.5)
    one, none = cs.bounds(etas=0.5), cs.bounds(etas=None)
    assert len(one) == len(none) + 3            # one dv row per divergence (weight, predictive, convexity)
    with pytest.raises(GaussDistillError, match="etas"):
        cs.bounds(etas="0.5")


def test_every_array_of_a_case_study_is_read_only():
    X, W = _problem()
    cs = gd.CaseStudy(X, W, noise=0.5, design="random")          # default Σ_x = I was writable
    for arr in (cs.X, cs.W_star, cs.design_cov):
        with pytest.raises(ValueError):
            arr[0, 0] = 7.0
    assert gd.CaseStudy(X, W, noise=0.5).design_cov.flags.writeable is False
