"""``precision=`` evaluates the float64 inputs as exact numbers: the ridge kernels' mpmath
divergences must equal a 60-digit dense reference built from the very same float64 arrays
(the kernels' means and dense covariances), to ~1e-35, not to float64's 1e-16.
"""
from __future__ import annotations

import mpmath
import numpy as np
import pytest

import gaussdistill as gd


def _mp(a):
    return mpmath.matrix(np.atleast_2d(np.asarray(a, float)).tolist())


def _mp_kl(m1, v1, m2, v2):
    """KL(MN(m1, I, v1) ‖ MN(m2, I, v2)) with dense mpmath inverses and determinants."""
    k, m = np.shape(m1)
    V1, V2 = _mp(v1), _mp(v2)
    V2i = mpmath.inverse(V2)
    D = _mp(m1) - _mp(m2)
    tr = mpmath.fsum((V2i * V1)[i, i] for i in range(m))
    quad = mpmath.fsum((D * V2i * D.T)[i, i] for i in range(k))
    return (k * (tr - m + mpmath.log(mpmath.det(V2) / mpmath.det(V1))) + quad) / 2


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mpmath_divergences_take_the_kernels_float64_numbers_exactly(seed):
    rng = np.random.default_rng(seed)
    k, d, n = 2, 4, 3 + seed
    X, Y = rng.standard_normal((d, n)), rng.standard_normal((k, n))
    teacher = gd.ridge_teacher(X, Y, 0.3, 0.5)
    student = gd.rank_student(teacher, X, 1, lam=0.2, soft_noise=0.4, temperature=1.0)
    for law in (teacher, student):
        assert np.array_equal(law.col_cov, law.col_cov.T)     # the dense matrix is exactly symmetric
    with mpmath.workdps(60):
        tau2 = mpmath.mpf(0.4) ** 2        # τ = 0.4 as the float64 number, squared exactly
        weight = _mp_kl(student.mean, student.col_cov, teacher.mean, teacher.col_cov)
        Xm = _mp(X)
        vs = tau2 * mpmath.eye(n) + Xm.T * _mp(student.col_cov) * Xm
        vt = tau2 * mpmath.eye(n) + Xm.T * _mp(teacher.col_cov) * Xm
        # predictive reference: the same formula with the n×n covariances as mpmath matrices
        Vti = mpmath.inverse(vt)
        D = _mp(student.mean) * Xm - _mp(teacher.mean) * Xm
        pred = (k * (mpmath.fsum((Vti * vs)[i, i] for i in range(n)) - n
                     + mpmath.log(mpmath.det(vt) / mpmath.det(vs)))
                + mpmath.fsum((D * Vti * D.T)[i, i] for i in range(k))) / 2
    got_w = gd.divergence(student, teacher, X, kind="weight", precision=40).total
    got_p = gd.divergence(student, teacher, X, 0.4, kind="predictive", precision=40).total
    with mpmath.workdps(60):
        assert abs(got_w - weight) <= mpmath.mpf(10) ** -35 * abs(weight)
        assert abs(got_p - pred) <= mpmath.mpf(10) ** -35 * abs(pred)
