"""estimate_kl: the public call, its result type, bad input, and accuracy on the linear-Gaussian model.

Monte Carlo policy: tests/oracles/montecarlo.py (|z| <= 4 per comparison, fixed seeds).
"""
from __future__ import annotations

import dataclasses
import json
import math
import warnings

import numpy as np
import pytest

import gaussdistill as gd
from gaussdistill.estimators import KLEstimate

from conftest import flat_draws, lg_laws
from oracles import dense_gauss_kl, z_for


def _pair(n=300, dim=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, dim)), 0.5 + 1.2 * rng.standard_normal((n, dim))


@pytest.mark.parametrize("method", ["knn", "gaussian"])
def test_result_is_frozen_and_serialisable(method):
    p, q = _pair()
    est = gd.estimate_kl(p, q, method=method)
    assert isinstance(est, KLEstimate)
    assert math.isfinite(est.value) and est.stderr > 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        est.value = 0.0
    d = est.to_dict()
    assert d["value"] == est.value and d["stderr"] == est.stderr and d["method"] == method
    assert (d["n_p"], d["n_q"], d["dim"]) == (300, 300, 2)
    json.dumps(d)
    assert float(est) == est.value


def test_lists_and_one_dimensional_samples_accepted():
    rng = np.random.default_rng(1)
    p, q = rng.standard_normal(400), rng.standard_normal(400) + 1.0
    a = gd.estimate_kl(p, q, method="gaussian")
    b = gd.estimate_kl(p[:, None].tolist(), q[:, None].tolist(), method="gaussian")
    assert a == b and a.dim == 1


def test_same_input_same_result_bit_for_bit():
    p, q = _pair(seed=3)
    for method in ("knn", "gaussian"):
        assert gd.estimate_kl(p, q, method=method) == gd.estimate_kl(p.copy(), q.copy(), method=method)


def test_the_exact_values_of_the_test_laws():
    # The reference K^W recomputed with the textbook Gaussian KL of the flattened laws (k = 1 row).
    student, teacher, exact = lg_laws(3)
    ref = dense_gauss_kl(student.mean.ravel(), student.col_cov, teacher.mean.ravel(), teacher.col_cov)
    assert exact == pytest.approx(ref, rel=1e-10)


@pytest.mark.parametrize("method", ["knn", "gaussian"])
@pytest.mark.parametrize("dim", [2, 5])
def test_errors_within_reported_spread_on_the_linear_gaussian_model(method, dim):
    """|estimate − exact K^W| <= z · stderr for independent draws of the student and teacher laws."""
    student, teacher, exact = lg_laws(dim)
    reps = 3
    z = z_for(reps)
    for r in range(reps):
        sp, sq = np.random.SeedSequence([11, dim, r]).spawn(2)
        est = gd.estimate_kl(flat_draws(student, 2000, sp), flat_draws(teacher, 2000, sq), method=method)
        assert abs(est.value - exact) <= z * est.stderr, (est, exact)


BAD = [
    (dict(samples_p="abc"), "samples_p"),
    (dict(samples_q=b"xyz"), "samples_q"),
    (dict(samples_p=[[1.0, 2.0], [3.0]]), "samples_p"),
    (dict(samples_p=np.full((50, 2), np.nan)), "samples_p"),
    (dict(samples_q=np.r_[np.zeros((49, 2)), [[np.inf, 0.0]]] + np.arange(100.0).reshape(50, 2)), "samples_q"),
    (dict(samples_p=np.zeros((5, 2, 2))), "samples_p"),
    (dict(samples_q=np.ones((50, 3))), "samples_q"),              # dimension mismatch
    (dict(samples_p=np.zeros((0, 2))), "samples_p"),
    (dict(samples_p=np.ones((50, 2), dtype=bool)), "samples_p"),
    (dict(samples_q=np.ones((50, 2)) * 1j), "samples_q"),
    (dict(method="kde"), "method"),
    (dict(method=None), "method"),
    (dict(k=0), "k"),
    (dict(k=1.5), "k"),
    (dict(k=True), "k"),
    (dict(k="3"), "k"),
    (dict(batches=1), "batches"),
    (dict(workers=0), "workers"),
    (dict(whiten="yes"), "whiten"),
    (dict(samples_p=np.arange(6.0).reshape(3, 2), k=3), "samples_p"),   # N < k + 1
    (dict(samples_q=np.arange(4.0).reshape(2, 2) + 0.5, k=3), "samples_q"),
    (dict(method="gaussian", debias=1), "debias"),
    (dict(method="gaussian", k=2), "k"),                              # option of the other method
    (dict(method="gaussian", samples_p=np.arange(8.0).reshape(4, 2)), "samples_p"),  # N < dim + 3
]


@pytest.mark.parametrize("kwargs,name", BAD)
def test_bad_input_names_the_argument(kwargs, name):
    p, q = _pair(n=50)
    args = dict(samples_p=p, samples_q=q, method="knn") | kwargs
    with pytest.raises(gd.GaussDistillError, match=name):
        gd.estimate_kl(**args)


def test_gaussian_singular_sample_covariance():
    # p on a plane, q with a density in 3-D: the fitted laws have different supports, so
    # KL(p || q) = +inf with a reason (as the docstring says); both on the same plane: an error.
    rng = np.random.default_rng(2)
    p = rng.standard_normal((100, 3))
    p[:, 2] = p[:, 0] + p[:, 1]                        # rank 2 in 3 dimensions
    q = rng.standard_normal((100, 3))
    for method in ("gaussian", "knn"):
        for a, b in ((p, q), (q, p)):
            est = gd.estimate_kl(a, b, method=method)
            assert est.value == math.inf and est.stderr == math.inf and "inf" in est.note, (method, est)
    q[:, 2] = q[:, 0] + q[:, 1]
    for method in ("gaussian", "knn"):
        with pytest.raises(gd.GaussDistillError, match="samples_p.*(singular|subspace)"):
            gd.estimate_kl(p, q, method=method)


@pytest.mark.parametrize("method", ["knn", "gaussian"])
@pytest.mark.parametrize("scale", [1e-300, 1e-200, 1e-150, 1e150, 1e200, 1e300])
def test_a_common_scale_does_not_change_the_estimate(method, scale):
    # KL is scale invariant; samples at 1e±200 used to overflow (RuntimeWarning) or
    # underflow (squared distances 0: "repeated rows" / "singular covariance").
    p, q = _pair(n=200)
    ref = gd.estimate_kl(p, q, method=method)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = gd.estimate_kl(scale * p, scale * q, method=method)
    assert est.value == pytest.approx(ref.value, rel=1e-12)
    assert est.stderr == pytest.approx(ref.stderr, rel=1e-12)


@pytest.mark.parametrize("cond", [1e12, 1e18])
def test_gaussian_plugin_at_huge_condition_numbers(cond):
    # p = N(0, R diag(1, 1, 1/c) Rᵀ), q = N(0, R diag(2, 1, 3/c) Rᵀ): KL = ½(1/2 + 1 + 1/3 − 3 + ln 6)
    # for every c. The plug-in used to refuse c = 1e12 ("singular") and lose the small
    # variance at 1e18 (0.09 instead of 0.31) through a formed covariance.
    rng = np.random.default_rng(11)
    rot = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    n = 4000
    p = (rng.standard_normal((n, 3)) * np.sqrt([1, 1, 1 / cond])) @ rot.T
    q = (rng.standard_normal((n, 3)) * np.sqrt([2, 1, 3 / cond])) @ rot.T
    exact = 0.5 * (0.5 + 1 + 1 / 3 - 3 + math.log(6))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = gd.estimate_kl(p, q, method="gaussian")
    assert abs(est.value - exact) < 4 * est.stderr, (est.value, exact, est.stderr)


def test_to_dict_is_strict_json_with_null_and_reason_for_infinities():
    """to_dict() passes json.dumps(allow_nan=False): an infinite number is null plus a "reason"."""
    rng = np.random.default_rng(2)
    p = rng.standard_normal((100, 3))
    p[:, 2] = p[:, 0] + p[:, 1]                        # rank 2 in 3 dimensions: KL(p || q) = +inf
    q = rng.standard_normal((100, 3))
    for method in ("gaussian", "knn"):
        est = gd.estimate_kl(p, q, method=method)
        assert est.value == math.inf                   # the object keeps inf
        back = json.loads(json.dumps(est.to_dict(), allow_nan=False))
        assert back["value"] is None and back["stderr"] is None
        assert back["reason"] == est.note and "+inf" in back["reason"], back
        assert (back["method"], back["n_p"], back["dim"]) == (method, 100, 3)
    # finite value, infinite stderr (too few rows for the batch means): null stderr, its reason
    est = gd.estimate_kl(rng.standard_normal((15, 2)), rng.standard_normal((15, 2)), method="knn")
    back = json.loads(json.dumps(est.to_dict(), allow_nan=False))
    assert back["value"] == est.value and back["stderr"] is None
    assert back["reason"] == f"stderr is infinite ({est.stderr_method})"
    # all finite: numbers unchanged, reason None
    est = gd.estimate_kl(rng.standard_normal((300, 2)), rng.standard_normal((300, 2)) + 0.5, method="gaussian")
    back = json.loads(json.dumps(est.to_dict(), allow_nan=False))
    assert (back["value"], back["stderr"], back["plugin"], back["reason"]) == (est.value, est.stderr, est.plugin, None)
