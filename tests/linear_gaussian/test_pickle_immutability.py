"""Kernels, laws and results survive pickling (dask sweeps pickle them) unchanged and frozen.

Expected values come from the in-process objects and from a 60-digit mpmath pipeline
written here (dense inverses, eigendecompositions and SVD in mpmath), not from the code
under test.
"""
from __future__ import annotations

import copy
import pickle

import mpmath
import numpy as np
import pytest

import gaussdistill as gd

from oracles import mp_rank_pipeline


def _ill_conditioned(seed=3, k=3, d=5, n=12, cond=1e10):
    rng = np.random.default_rng(seed)
    L = np.linalg.qr(rng.standard_normal((d, d)))[0]
    R = np.linalg.qr(rng.standard_normal((n, d)))[0]
    X = (L * np.sqrt(np.geomspace(1, 1 / cond, d))) @ R.T
    Y = rng.standard_normal((k, d)) @ X + 0.3 * rng.standard_normal((k, n))
    return X, Y


def _mp_weight_kl(X, Y, lam_t, noise, r, lam_s, tau):
    """K^W(student || teacher) of the rank-r ridge student at 60 digits (dense formulas)."""
    with mpmath.workdps(60):
        Mt, St, Ms, Ss = mp_rank_pipeline(X, Y, lam_t, noise, r, lam_s, tau)
        d = St.rows
        Sti = mpmath.inverse(St)
        k = Mt.rows
        D = Ms - Mt
        var = k * (sum((Sti * Ss)[i, i] for i in range(d)) - d + mpmath.log(mpmath.det(St) / mpmath.det(Ss))) / 2
        mean = sum((D * Sti * D.T)[i, i] for i in range(k)) / 2
        return var + mean


def _pair():
    X, Y = _ill_conditioned()
    teacher = gd.ridge_teacher(X, Y, 1e-8, 0.5)
    student = gd.rank_student(teacher, X, 2, lam=1e-9, soft_noise=0.4, temperature=1.0)
    return X, Y, teacher, student


def test_separately_pickled_kernels_give_the_same_divergence():
    # Pickled one by one (as a task graph may), the student and the teacher no longer share
    # their eigenbasis object; the divergences must not change (they fell back to a dense
    # whitening that lost 5 digits at cond 1e10: 3e-9 instead of 1e-13).
    X, Y, teacher, student = _pair()
    s2, t2 = pickle.loads(pickle.dumps(student)), pickle.loads(pickle.dumps(teacher))
    for kind in ("predictive", "weight", "convexity"):
        for direction in gd.DIRECTIONS:
            a = gd.divergence(student, teacher, X, 0.4, kind=kind, direction=direction)
            b = gd.divergence(s2, t2, X, 0.4, kind=kind, direction=direction)
            assert (a.total, a.bias, a.variance, a.rank) == (b.total, b.bias, b.variance, b.rank), (kind, direction)
    ref = _mp_weight_kl(X, Y, 1e-8, 0.5, 2, 1e-9, 0.4)
    got = gd.divergence(s2, t2, X, 0.4, kind="weight").total
    assert abs(got - float(ref)) <= 1e-11 * float(ref)


@pytest.mark.parametrize("clone", [lambda o: pickle.loads(pickle.dumps(o)), copy.deepcopy], ids=["pickle", "deepcopy"])
def test_cloned_kernels_stay_read_only(clone):
    X, _, teacher, student = _pair()
    laws = [teacher, student, gd.soft_labels(teacher, X, 0.4),
            gd.MatrixNormal(np.zeros((2, 2)), np.eye(2), row_cov=np.diag([1.0, 2.0]))]
    for law in laws:
        c = clone(law)
        arrays = [c.mean, c.col_cov, c.row_cov, c.col_factor.values, c.col_factor.vectors]
        for name in ("design", "targets"):
            if hasattr(c, name):
                arrays.append(getattr(c, name))
        if hasattr(c, "spectrum"):
            arrays += [c.spectrum.s, c.spectrum.vectors, c.spectrum.design]
        if c.col_structure is not None:
            arrays.append(c.col_structure.basis)
        for arr in arrays:
            assert not arr.flags.writeable, type(law).__name__
        with pytest.raises(AttributeError):
            c.foo = 1
    ex = clone(gd.example_problem(k=2, d=3, n=10, rank=1))
    assert not (ex.X.flags.writeable or ex.Y.flags.writeable or ex.w_star.flags.writeable)


def test_kl_values_keep_their_reason_and_cannot_be_edited():
    p = gd.MatrixNormal(np.zeros((1, 2)), np.diag([1.0, 0.0]))
    q = gd.MatrixNormal(np.zeros((1, 2)), np.eye(2))
    for kw in ({}, {"precision": 20}):
        kl = gd.kl_matrix_normal(p, q, **kw)
        assert kl.reason and "subspace" in kl.reason
        for clone in (pickle.loads(pickle.dumps(kl)), copy.deepcopy(kl), copy.copy(kl)):
            assert clone.reason == kl.reason and clone == kl
        with pytest.raises(AttributeError):
            kl.reason = "edited"
    finite = gd.kl_matrix_normal(q, q, precision=20)
    assert pickle.loads(pickle.dumps(finite)).reason is None and finite == 0


# ------------------------------------------------------------------ covariance underflow
@pytest.mark.parametrize("build", [
    lambda X, Y: gd.ridge_teacher(X, Y, 1.0, 1e-200),                    # noise² = 0 in float64
    lambda X, Y: gd.ridge_teacher(X, Y, 1e-3, 1e-160),                   # part of t ν²/(s + λ) is 0
    lambda X, Y: gd.ridge_teacher(X, Y, 1.0, 0.5, temperature=1e-320),   # subnormal temperature
    lambda X, Y: gd.rank_student(gd.ridge_teacher(X, Y, 1.0, 0.5), X, 1, soft_noise=1e-150,
                                 temperature=1e-20),
], ids=["noise", "partial", "teacher-temperature", "student"])
def test_a_covariance_that_underflows_is_an_error_not_a_point_mass(build):
    # t > 0 means a non-degenerate law; float64 rounding its variances to 0 made it a point
    # mass silently (K^W = inf "deterministic" where the exact value is finite).
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 10)) * np.array([[1e3], [1.0], [1e-3]])
    Y = rng.standard_normal((2, 10))
    with pytest.raises(gd.GaussDistillError, match="underflows"):
        build(X, Y)
