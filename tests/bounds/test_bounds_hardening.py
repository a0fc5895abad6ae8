"""The bound evaluators at the edges of float64: huge integers, λ² underflow, κ = 0 with ρ² = inf."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import gaussdistill as gd
from gaussdistill import bounds as B


def _psi(lam):
    return 0.5 * np.asarray(lam, dtype=float) ** 2          # σ² = 1


def test_huge_python_integers():
    # K beyond float64 is +inf (a vacuous bound), not an OverflowError
    assert B.subgaussian_bound(10**400, 1.0, 0.1).value == math.inf
    assert B.cgf_bound(10**400, _psi, 0.1).value == math.inf
    with pytest.raises(gd.GaussDistillError, match="gen_teacher"):
        B.cgf_bound(1.0, _psi, 10**400)
    with pytest.raises(gd.GaussDistillError, match="kappa"):
        B.sharpness_bound(0.0, 0.0, 10**400, 1.0)
    with pytest.raises(gd.GaussDistillError, match="n must be"):
        B.stability_sigma2(0.1, 1.0, 10**400)


def test_sharpness_kappa_zero_with_infinite_rho2():
    """κ = 0: g is affine, the curvature term is 0 whatever ρ² (0·inf was NaN)."""
    r = B.sharpness_bound(0.1, 0.25, 0.0, math.inf)
    assert r.value == pytest.approx(0.35) and r.valid


def test_quadratic_form_where_lambda_squared_overflows():
    """α = −1e-200, β = 0, λ = 1e180: u = 2e-20 and ψ = ½(u − log1p u) = u²/4 = 1e-40 by hand;
    λ²β² was inf·0 = NaN."""
    f = B.QuadraticFormCGF([-1e-200], [0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert f(1e180) == pytest.approx(1e-40, rel=1e-12)
        # u = 2λ|α| = inf: ψ is beyond float64 (+inf), never NaN
        assert B.QuadraticFormCGF([-1.0], [0.0])(1e308) == math.inf


def test_central_constant_with_subnormal_gen_teacher():
    c = B.largest_central_c(_psi, 1.0, 1e-310)
    assert c.c is None and not c.admissible and "no admissible c" in c.reason
    ing = B.BoundIngredients(1e-310, {"weight": 0.5}, cgf=_psi, etas=(1.0,))
    table = B.bound_table(ing)
    assert not table["value"].isna().any()


def test_proxy_for_a_tiny_lambda_range():
    """ψ(λ) = λ²σ²/2 with σ² = 1e200 on |λ| <= 1e-170 (λ² underflows): the proxy is σ² by hand."""
    s2 = 1e200
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = B.subgaussian_proxy(lambda lam: 0.5 * s2 * np.asarray(lam) * np.asarray(lam), (-1e-170, 1e-170))
    assert p.valid and p.sigma2 == pytest.approx(s2, rel=1e-9)


@pytest.mark.parametrize("etas,n_dv", [(0.5, 1), (None, 0), ((), 0), (np.array([0.5, 2.0]), 2)])
def test_etas_scalar_or_none(etas, n_dv):
    """A single η (a number) or None was a raw TypeError ('float' object is not iterable)."""
    ing = B.BoundIngredients(1.0, {"weight": 0.5}, cgf=_psi, etas=etas)
    assert len(ing.etas) == n_dv
    table = B.bound_table(ing)
    assert (table["form"] == "dv").sum() == n_dv + 1          # + the best-η row
    with pytest.raises(gd.GaussDistillError, match="etas"):
        B.BoundIngredients(1.0, {"weight": 0.5}, cgf=_psi, etas=object())


@pytest.mark.parametrize("A", ["ab", [["a"]], [[1 + 1j]], [[True]], [[1.0, 2.0], [3.0]], [[10**400]]])
def test_quadratic_form_from_matrix_bad_input(A):
    with pytest.raises(gd.GaussDistillError, match="A must be"):
        B.QuadraticFormCGF.from_matrix(A)


@pytest.mark.parametrize("lam", ["a", None, 10**400, 1 + 1j, [0.1, "x"]])
def test_quadratic_form_bad_lambda(lam):
    f = B.QuadraticFormCGF([0.5, -0.25], [1.0, 0.0])
    with pytest.raises(gd.GaussDistillError, match="lam"):
        f(lam)
    with pytest.raises(gd.GaussDistillError, match="lam"):
        f.log_mgf(lam)


def test_tiny_divergence_reaches_the_infimum():
    """ψ = λ²/2, K = 1e-300: the infimum sqrt(2K) = 1.4e-150 is at λ* = 1.4e-150, below the fixed
    grid's e^-60; the bound was 4.4e-27 (valid, 1e123 times too loose)."""
    for K in (1e-300, 1e-100):
        assert B.cgf_bound(K, _psi, 0.0).value == pytest.approx(math.sqrt(2 * K), rel=1e-9)
        assert B.cgf_bound(K, _psi, 0.0, side="lower").value == pytest.approx(-math.sqrt(2 * K), rel=1e-9)


def test_result_and_range_inputs():
    with pytest.raises(gd.GaussDistillError, match="value"):
        B.BoundResult(1, "cgf", "upper", None, "x")
    with pytest.raises(gd.GaussDistillError, match="value"):
        B.BoundResult(1, "cgf", "upper", None, None)
    assert B.BoundResult(1, "cgf", "upper", None, 10**400).value == math.inf
    r = B.cgf_bound(1.0, _psi, 0.1)
    for bad in ("x", float("nan")):
        with pytest.raises(gd.GaussDistillError, match="gen_student"):
            r.holds_for(bad)
    # a huge integer end of a λ-range is an infinite end (then "must be finite" for the proxy)
    with pytest.raises(gd.GaussDistillError, match="lam_range must be finite"):
        B.subgaussian_proxy(_psi, (-(10**400), 1.0))
    assert B.cgf_bound(1.0, _psi, 0.0, domain=(-(10**400), 10**400)).value == pytest.approx(math.sqrt(2), rel=1e-9)
