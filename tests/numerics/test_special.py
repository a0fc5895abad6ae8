"""φ(u) = u − ln(1 + u): the one implementation, in every regime, against 60-digit mpmath.

The reference is mpmath at 60 digits evaluated from the same float64 numbers (the ratio
a/b is an exact float64, and u = ratio − 1 is computed exactly in mpmath from it).
"""
from __future__ import annotations

import mpmath
import numpy as np
import pytest

from gaussdistill._numerics.special import u_minus_log1p, u_minus_log1p_mp


def _mp_phi_of_ratio(ratio):
    with mpmath.workdps(60):
        r = mpmath.mpf(float(ratio))
        return (r - 1) - mpmath.log(r)


RATIOS = [1e-300, 1e-17, 1e-16, 1e-12, 1e-3, 0.5, 0.999, 1 - 1e-9, 1 + 2**-40, 1.01, 2.0, 1e3, 1e12, 1e300]


@pytest.mark.parametrize("ratio", RATIOS)
def test_float64_with_ratio_is_exact_in_every_regime(ratio):
    u = ratio - 1.0
    got = float(u_minus_log1p(np.array([u]), np.array([ratio]))[0])
    ref = _mp_phi_of_ratio(ratio)
    # u = ratio − 1 is itself exact near 1 (Sterbenz), so near 0 the series in u is exact too.
    assert abs(mpmath.mpf(got) - ref) <= 4 * np.finfo(float).eps * abs(ref)


@pytest.mark.parametrize("u", [-0.5, -1e-3, -1e-9, 1e-300, 1e-9, 1e-3, 0.5, 10.0])
def test_float64_without_ratio_is_exact_for_an_exact_u(u):
    with mpmath.workdps(60):
        ref = mpmath.mpf(u) - mpmath.log1p(mpmath.mpf(u))
    got = float(u_minus_log1p(np.array([u]))[0])
    assert abs(mpmath.mpf(got) - ref) <= 4 * np.finfo(float).eps * abs(ref)


def test_float64_scalar_input_and_zero():
    assert float(u_minus_log1p(0.0)) == 0.0
    assert float(u_minus_log1p(-1.0, 0.0)) == np.inf


@pytest.mark.parametrize("ratio", [1e-17, 1 - 1e-30, 1 + 1e-45, 3.0])
def test_mpmath_version_is_correct_to_its_digits(ratio):
    with mpmath.workdps(80):
        r = mpmath.mpf(1) - mpmath.mpf("1e-30") if ratio == 1 - 1e-30 else (
            mpmath.mpf(1) + mpmath.mpf("1e-45") if ratio == 1 + 1e-45 else mpmath.mpf(ratio))
        ref = (r - 1) - mpmath.log(r)
        u = r - 1
    for dps in (20, 50):
        got = u_minus_log1p_mp(u, dps=dps)
        assert abs(got - ref) <= mpmath.mpf(10) ** (2 - dps) * abs(ref)
        got_r = u_minus_log1p_mp(ratio=r, dps=dps)
        assert abs(got_r - ref) <= mpmath.mpf(10) ** (2 - dps) * abs(ref)
