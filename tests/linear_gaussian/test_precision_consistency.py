"""``precision=`` evaluates the float64 inputs as exact numbers: the ridge kernels' mpmath
divergences must equal a 60-digit dense reference built from the very same float64 numbers
(the kernels' means and covariance factors U diag(w) Uᵀ), to ~1e-35, not to float64's
1e-16; and on an ill-conditioned design they must be at least as accurate as float64
against the exact pipeline (60-digit mpmath from X and Y).
"""
from __future__ import annotations

import mpmath
import numpy as np
import pytest

import gaussdistill as gd

from oracles import mp_rank_pipeline


def _mp(a):
    return mpmath.matrix(np.atleast_2d(np.asarray(a, float)).tolist())


def _mp_kl(m1, v1, m2, v2):
    """KL(MN(m1, I, v1) ‖ MN(m2, I, v2)) with dense mpmath inverses and determinants."""
    k, m = np.shape(m1)
    V1, V2 = (v if isinstance(v, mpmath.matrix) else _mp(v) for v in (v1, v2))
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
        cov_s, cov_t = (_mp(law.col_factor.vectors) * mpmath.diag(law.col_factor.values.tolist())
                        * _mp(law.col_factor.vectors).T for law in (student, teacher))
        weight = _mp_kl(student.mean, cov_s, teacher.mean, cov_t)
        Xm = _mp(X)
        vs = tau2 * mpmath.eye(n) + Xm.T * cov_s * Xm
        vt = tau2 * mpmath.eye(n) + Xm.T * cov_t * Xm
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


def _mp_pipeline_weight_and_predictive(X, Y, lam, noise, r, tau):
    """60-digit K^W and K^Y (student || teacher) of the rank-r ridge pair, from X and Y."""
    with mpmath.workdps(60):
        Mt, St, Ms, Ss = mp_rank_pipeline(X, Y, lam, noise, r, lam, tau)
        Xm = _mp(X)
        d, n, k = Xm.rows, Xm.cols, Mt.rows

        def kl(m1, v1, m2, v2, size):
            v2i = mpmath.inverse(v2)
            D = m1 - m2
            return (k * (mpmath.fsum((v2i * v1)[i, i] for i in range(size)) - size
                         + mpmath.log(mpmath.det(v2) / mpmath.det(v1)))
                    + mpmath.fsum((D * v2i * D.T)[i, i] for i in range(k))) / 2
        weight = kl(Ms, Ss, Mt, St, d)
        t2 = mpmath.mpf(tau) ** 2
        pred = kl(Ms * Xm, t2 * mpmath.eye(n) + Xm.T * Ss * Xm, Mt * Xm, t2 * mpmath.eye(n) + Xm.T * St * Xm, n)
        return weight, pred


def test_precision_is_at_least_as_accurate_as_float64_on_an_ill_conditioned_ridge_pair():
    # cond(X Xᵀ) = 1e10. float64 (structural route) is within 3e-13 of the exact pipeline;
    # precision=30 read the kernels' dense float64 covariance t ν² U diag(1/(s+λ)) Uᵀ, whose
    # small eigenvalues are rounded to cond·eps relative, and was off by 3e-7. It must
    # evaluate the kernels' own factor instead.
    rng = np.random.default_rng(3)
    k, d, n, r = 3, 5, 12, 2
    L = np.linalg.qr(rng.standard_normal((d, d)))[0]
    R = np.linalg.qr(rng.standard_normal((n, d)))[0]
    X = (L * np.sqrt(np.geomspace(1, 1e-10, d))) @ R.T
    Y = rng.standard_normal((k, d)) @ X + 0.3 * rng.standard_normal((k, n))
    teacher = gd.ridge_teacher(X, Y, 1e-14, 0.5)
    student = gd.rank_student(teacher, X, r, lam=1e-14, soft_noise=0.4, temperature=1.0)
    weight, pred = _mp_pipeline_weight_and_predictive(X, Y, 1e-14, 0.5, r, 0.4)
    for kind, ref in (("weight", weight), ("predictive", pred)):
        f64 = gd.divergence(student, teacher, X, 0.4, kind=kind).total
        mp = gd.divergence(student, teacher, X, 0.4, kind=kind, precision=30).total
        err64, err_mp = (float(abs(mpmath.mpf(v) - ref) / ref) for v in (f64, mp))
        assert err64 < 1e-11, (kind, err64)
        assert err_mp < 1e-11, (kind, err_mp, err64)


def test_every_digit_asked_for_is_right_even_for_a_part_that_is_a_small_difference():
    # The weight bias (0.047) is the mean part minus a rank bottleneck of 29: at exactly 20
    # working digits it was wrong in its 19th digit (2.9e-19 relative). Guard digits fix it.
    problem = gd.example_problem(n=30)
    args = (problem.student, problem.teacher, problem.X, problem.soft_noise, "weight")
    for direction in gd.DIRECTIONS:
        low = gd.divergence(*args, direction, precision=20)
        ref = gd.divergence(*args, direction, precision=40)
        assert low.precision == 20
        with mpmath.workdps(50):
            for part in ("total", "bias", "variance", "rank"):
                value, exact = getattr(low, part), getattr(ref, part)
                assert abs(value - exact) <= mpmath.mpf(10) ** -19 * abs(exact), (direction, part)
