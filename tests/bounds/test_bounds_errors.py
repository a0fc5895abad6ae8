"""Every bad input to the bound evaluators: a GaussDistillError naming the argument."""
import math

import numpy as np
import pytest

import gaussdistill as gd
from gaussdistill import bounds as B

PSI = B.QuadraticFormCGF([0.5, 0.0], [0.0, 1.0])  # domain (−inf, 1)


def nan_cgf(lam):
    return np.full(np.shape(lam), np.nan)


def neg_cgf(lam):
    return -np.abs(np.asarray(lam, float))


def boom_cgf(lam):
    raise RuntimeError("boom")


def complex_cgf(lam):
    return np.asarray(lam) * 1j


CASES = [
    (lambda: B.cgf_bound(0.1, nan_cgf, 0.0), "cgf.*NaN"),
    (lambda: B.cgf_bound(0.1, neg_cgf, 0.0), "cgf.*centred"),
    (lambda: B.cgf_bound(0.1, boom_cgf, 0.0), "cgf raised RuntimeError"),
    (lambda: B.cgf_bound(0.1, complex_cgf, 0.0), "cgf.*real"),
    (lambda: B.cgf_bound(0.1, "psi", 0.0), "cgf"),
    (lambda: B.cgf_bound(-0.1, PSI, 0.0), "divergence_value.*>= 0"),
    (lambda: B.cgf_bound("0.1", PSI, 0.0), "divergence_value.*real number"),
    (lambda: B.cgf_bound(float("nan"), PSI, 0.0), "divergence_value"),
    (lambda: B.cgf_bound(0.1, PSI, float("inf")), "gen_teacher.*finite"),
    (lambda: B.cgf_bound(0.1, PSI, "1"), "gen_teacher"),
    (lambda: B.cgf_bound(0.1, PSI, 0.0, side="up"), "side"),
    (lambda: B.cgf_bound(0.1, PSI, 0.0, divergence="KL"), "divergence"),
    (lambda: B.cgf_bound(0.1, PSI, 0.0, domain=(0.5, 1.0)), "domain"),
    (lambda: B.cgf_bound(0.1, PSI, 0.0, domain=("a", 1.0)), "domain"),
    (lambda: B.cgf_bound(0.1, PSI, 0.0, domain=3), "domain"),
    (lambda: B.cgf_bound(0.1, PSI, 0.0, assumptions=("x",)), "assumptions"),
    (lambda: B.subgaussian_bound(0.1, 0.0, 0.0), "sigma2.*> 0"),
    (lambda: B.subgaussian_bound(0.1, -1.0, 0.0), "sigma2.*> 0"),
    (lambda: B.subgaussian_bound(0.1, "1", 0.0), "sigma2"),
    (lambda: B.subgaussian_bound(0.1, True, 0.0), "sigma2"),
    (lambda: B.subgaussian_bound(-1.0, 1.0, 0.0), "divergence_value"),
    (lambda: B.subgaussian_bound(0.1, 1.0, 0.0, lam_range=(0.0, 0.0)), "lam_range"),
    (lambda: B.dv_lower_bound(0.1, PSI, 0.0, 0.0), "eta.*> 0"),
    (lambda: B.dv_lower_bound(0.1, PSI, 0.0, -1.0), "eta.*> 0"),
    (lambda: B.dv_lower_bound(0.1, PSI, 0.0, "1"), "eta"),
    (lambda: B.dv_lower_bound(0.1, PSI, 0.0, [1.0, np.nan]), "eta.*finite"),
    (lambda: B.dv_lower_bound(0.1, PSI, 0.0, 2.0, domain=(-1.0, 1.0)), "eta.*outside"),
    (lambda: B.dv_lower_bound(0.1, B.QuadraticFormCGF([-1.0], [0.0]), 0.0, 0.6), "eta.*outside"),
    (lambda: B.dv_lower_bound(0.1, nan_cgf, 0.0, 1.0), "cgf.*NaN"),
    (lambda: B.central_bound(0.1, 0.0, 0.5, 1.0), "eta"),
    (lambda: B.central_bound(0.1, 1.0, float("nan"), 1.0), "c must"),
    (lambda: B.central_bound(0.1, 1.0, "0.5", 1.0), "c must"),
    (lambda: B.central_bound(-0.1, 1.0, 0.5, 1.0), "divergence_value"),
    (lambda: B.largest_central_c(PSI, -1.0, 1.0), "eta"),
    (lambda: B.largest_central_c(B.QuadraticFormCGF([-1.0], [0.0]), 0.6, 1.0), "eta.*outside"),
    (lambda: B.sharpness_bound(0.0, 0.0, -1.0, 0.1), "kappa"),
    (lambda: B.sharpness_bound(0.0, 0.0, 1.0, -0.1), "rho2"),
    (lambda: B.sharpness_bound(0.0, "0", 1.0, 0.1), "first_order"),
    (lambda: B.sharpness_bound(0.0, 0.0, 1.0, 0.1, sigma2=0.0, divergence_value=1.0), "sigma2"),
    (lambda: B.sharpness_bound(0.0, 0.0, 1.0, 0.1, sigma2=1.0, divergence_value=-1.0), "divergence_value"),
    (lambda: B.sharpness_bound(float("nan"), 0.0, 1.0, 0.1), "gen_teacher"),
    (lambda: B.stability_sigma2(-0.1, 1.0, 10), "beta"),
    (lambda: B.stability_sigma2(0.1, -1.0, 10), "loss_bound"),
    (lambda: B.stability_sigma2(0.1, 1.0, 0), "n must"),
    (lambda: B.stability_sigma2(0.1, 1.0, 2.5), "n must"),
    (lambda: B.stability_sigma2(0.0, 0.0, 3), "loss_bound"),
    (lambda: B.subgaussian_proxy(PSI, (-1.0, math.inf)), "lam_range.*finite"),
    (lambda: B.subgaussian_proxy(PSI, (0.5, 1.0)), "lam_range"),
    (lambda: B.subgaussian_proxy(PSI, (-1.0, 0.5), grid=3), "grid"),
    (lambda: B.subgaussian_proxy(nan_cgf, (-1.0, 0.5)), "cgf.*NaN"),
    (lambda: B.Assumption("x", "maybe"), "status"),
    (lambda: B.Assumption("", "checked"), "name"),
    (lambda: B.BoundResult(2, "cgf", "upper", None, 1.0), "Theorem 1"),
    (lambda: B.BoundResult(1, "cgf", "upper", None, float("nan")), "NaN"),
    (lambda: B.BoundResult(1, "bogus", "upper", None, 1.0), "form"),
]


@pytest.mark.parametrize("call, match", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_bad_input_raises_named_error(call, match):
    with pytest.raises(gd.GaussDistillError, match=match):
        call()


def test_lambda_outside_domain_is_inf_not_error_for_the_cgf_object():
    assert PSI(1.5) == math.inf and PSI(-1e6) < math.inf


def test_no_finite_side_is_vacuous_with_reason():
    # ψ(λ) = +inf for every λ > 0 (a heavy right tail): the upper bound is vacuous.
    def heavy(lam):
        lam = np.asarray(lam, float)
        return np.where(lam > 0, np.inf, lam**2 / 2)

    r = B.cgf_bound(0.1, heavy, 0.0, domain=(-math.inf, 0.0))
    assert r.value == math.inf and "vacuous" in r.details["reason"] and r.vacuous
    r = B.cgf_bound(0.1, heavy, 0.0)  # no domain given: found from the +inf values
    assert r.value == math.inf and r.vacuous
    low = B.cgf_bound(0.1, heavy, 0.0, side="lower")
    assert low.value == pytest.approx(-math.sqrt(0.2), rel=1e-8)
