"""The shared oracles agree with closed forms computed by hand and with each other."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from oracles import (
    assert_mc_mean,
    assert_within_ci,
    dense_divergence,
    dense_gauss_kl,
    dense_mn_kl,
    mp_mn_kl,
    vec,
    z_for,
)


def test_vec_stacks_columns_so_that_the_covariance_is_v_kron_u():
    m = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert vec(m).tolist() == [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]
    # W = A Z B with Z standard: cov(vec W) = (BᵀB) ⊗ (A Aᵀ); Monte Carlo under the z policy
    a, b = np.array([[2.0, 0.0], [1.0, 1.0]]), np.array([[1.0, 0.5], [0.0, 1.0]])
    rng = np.random.default_rng(0)
    w = a @ rng.standard_normal((20000, 2, 2)) @ b
    v = w.transpose(0, 2, 1).reshape(20000, 4)  # vec of each draw (column stacking)
    assert np.array_equal(v[0], vec(w[0]))
    products = np.einsum("si,sj->sij", v, v)
    assert_mc_mean(products, np.kron(b.T @ b, a @ a.T))
    with pytest.raises(AssertionError):  # the other Kronecker order is caught
        assert_mc_mean(products, np.kron(a @ a.T, b.T @ b))


def test_one_dimensional_kl_by_hand():
    # KL(N(0, 1) ‖ N(1, 2)) = ½(1/2 + 1/2 − 1 + ln 2) = ½ ln 2
    kl = dense_gauss_kl(np.zeros(1), np.eye(1), np.ones(1), 2 * np.eye(1))
    assert kl == pytest.approx(0.5 * math.log(2), rel=1e-15)
    with mpmath.workdps(50):
        ref = mp_mn_kl(np.zeros((1, 1)), np.eye(1), np.eye(1), np.ones((1, 1)), np.eye(1), 2 * np.eye(1))
        assert abs(ref - mpmath.log(2) / 2) < mpmath.mpf(10) ** -45


def test_dense_and_mpmath_matrix_normal_kl_agree():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    u1, u2 = np.eye(2), np.array([[2.0, 0.3], [0.3, 1.0]])
    g = rng.standard_normal((3, 3))
    v1, v2 = g @ g.T + np.eye(3), np.diag([1.0, 2.0, 3.0])
    assert dense_mn_kl(a, u1, v1, b, u2, v2) == pytest.approx(float(mp_mn_kl(a, u1, v1, b, u2, v2)), rel=1e-12)


def test_convexity_bound_dominates_the_predictive_kl():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((2, 4))
    Ms, Mt = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    Ss, St = 0.1 * np.eye(2), 0.2 * np.eye(2)
    ky = dense_divergence(Ms, Ss, Mt, St, X, 0.5, "predictive")
    kbar = dense_divergence(Ms, Ss, Mt, St, X, 0.5, "convexity")
    assert 0 < ky <= kbar


def test_z_policy():
    assert z_for(1) == 4.0
    assert z_for(16) == pytest.approx(4.6135, abs=1e-4)
    assert_within_ci(1.0, 0.1, 1.39)
    with pytest.raises(AssertionError, match="z = 4.00"):
        assert_within_ci(1.0, 0.1, 1.41)
    with pytest.raises(AssertionError):
        assert_within_ci(1.0, 0.0, 1.0 + 1e-12)
    rng = np.random.default_rng(3)
    assert_mc_mean(rng.standard_normal((4000, 3)), np.zeros(3))
    with pytest.raises(AssertionError):
        assert_mc_mean(rng.standard_normal(4000) + 0.2, 0.0)
