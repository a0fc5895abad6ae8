"""The rank cutoff's ConditioningWarning fires exactly when the dropped eigenvalues change
the KL: a finite value made infinite (or 0), or a dropped variance that mattered; not when
the dropped directions agree in p and q. References: the closed form for diagonal laws at
60 digits (mpmath), and the float64 value with every eigenvalue kept.
"""
from __future__ import annotations

import warnings

import mpmath
import numpy as np
import pytest

import gaussdistill as gd
from gaussdistill.errors import ConditioningWarning


def _law(*variances, basis=None, mean=None):
    m = len(variances)
    cov = np.diag(np.asarray(variances, dtype=float))
    if basis is not None:
        cov = basis @ cov @ basis.T
        cov = (cov + cov.T) / 2
    return gd.MatrixNormal(np.zeros((1, m)) if mean is None else mean, cov)


def _exact(p_vars, q_vars):
    with mpmath.workdps(60):
        return float(sum((mpmath.mpf(a) / b - 1 - mpmath.log(mpmath.mpf(a) / b)) / 2
                         for a, b in zip(p_vars, q_vars)))


def _flags(p, q, **kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = gd.kl_matrix_normal(p, q, **kw)
    return value, [str(w.message) for w in caught if issubclass(w.category, ConditioningWarning)
                   and "rank cutoff" in str(w.message)]


def test_sub_rounding_variances_of_a_diagonal_covariance_are_real_and_their_drop_warns():
    # A diagonal covariance's eigenvalues are its entries, exactly: 1e-20 and 2e-20 are real
    # variances (exact KL 0.0966), which the cutoff dropped silently (returned 0.0).
    p, q = _law(1.0, 1e-20), _law(1.0, 2e-20)
    value, flagged = _flags(p, q)
    assert value == 0.0 and len(flagged) == 1 and "0.09657" in flagged[0]
    kept, _ = _flags(p, q, rtol=0)
    assert abs(kept - _exact([1, 1e-20], [1, 2e-20])) < 1e-15


@pytest.mark.parametrize("rotate", [False, True])
def test_dropped_directions_that_agree_in_p_and_q_do_not_warn(rotate):
    # The 1e-11 direction is cut in both laws, and it contributes φ(0) = 0: the answer is the
    # same with or without the cutoff, so there is nothing to warn about (it warned).
    basis = np.linalg.qr(np.random.default_rng(1).standard_normal((2, 2)))[0] if rotate else None
    p, q = _law(1.0, 1e-11, basis=basis), _law(2.0, 1e-11, basis=basis)
    value, flagged = _flags(p, q)
    assert flagged == []
    assert abs(value - _exact([1, 1e-11], [2, 1e-11])) < 1e-12


def test_the_warning_still_fires_when_the_cutoff_changes_the_answer():
    value, flagged = _flags(_law(1.0, 2e-11), _law(1.0, 1e-11))          # 0.153 -> 0.0
    assert value == 0.0 and len(flagged) == 1 and "0.1534" in flagged[0]
    value, flagged = _flags(_law(1.0, 1e-10), _law(1.0, 1.0))            # 11.01 -> inf
    assert value == np.inf and len(flagged) == 1 and "11.01" in flagged[0]


def test_weight_divergence_of_hand_built_kernels_follows_the_same_rule():
    X = np.eye(2)
    same_t, same_s = _law(2.0, 1e-11), _law(1.0, 1e-11)
    diff_t, diff_s = _law(1.0, 1e-11), _law(1.0, 2e-11)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConditioningWarning)
        res = gd.divergence(same_s, same_t, X, kind="weight")
    assert abs(res.total - _exact([1, 1e-11], [2, 1e-11])) < 1e-12
    with pytest.warns(ConditioningWarning, match="0.1534"):
        res = gd.divergence(diff_s, diff_t, X, kind="weight")
    assert res.total == 0.0


def test_a_diagonal_reference_covariance_is_whitened_exactly_and_does_not_warn():
    # cond 1e11 but diagonal: its eigenvalues are its entries, the whitening a scaling.
    p, q = _law(1.0, 2e-11), _law(1.0, 1e-11)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConditioningWarning)
        value = gd.kl_matrix_normal(p, q, rtol=0)
    assert abs(value - _exact([1, 2e-11], [1, 1e-11])) < 4e-16
