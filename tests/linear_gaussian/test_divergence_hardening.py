"""divergence and the kernels on the edges: variance ratios, rank splits, overflow, bad input.

References: the dense Kronecker KL at 50 digits from the same float64 inputs
(``oracles.mp_mn_kl``), mpmath SVDs of the teacher's mean in the metric, and scikit-learn's
Ridge for the teacher mean.
"""
from __future__ import annotations

import warnings

import mpmath
import numpy as np
import pytest

import gaussdistill as gd

from cases import design_with_spectrum
from oracles import mp_matrix, mp_mn_kl, rel_err


def _problem(seed=0, k=2, d=3, n=10):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((d, n))
    Y = rng.standard_normal((k, n))
    return X, Y


# ----------------------------------------------------------------------------- variance ratios
@pytest.mark.parametrize("t_s", [1e-15, 1e-17])
def test_hand_built_kernels_with_a_tiny_student_temperature(t_s):
    X, Y = _problem()
    teacher = gd.ridge_teacher(X, Y, 1.0, 0.5, 1.0)
    student = gd.rank_student(teacher, X, 2, lam=0.5, temperature=t_s)
    s_cov, t_cov = np.array(student.col_cov), np.array(teacher.col_cov)
    hand_s, hand_t = gd.MatrixNormal(student.mean, s_cov), gd.MatrixNormal(teacher.mean, t_cov)
    ref = mp_mn_kl(student.mean, np.eye(2), s_cov, teacher.mean, np.eye(2), t_cov)
    assert rel_err(gd.divergence(hand_s, hand_t, X, kind="weight").total, ref) < 1e-13
    assert rel_err(gd.divergence(student, teacher, X, kind="weight").total, ref) < 1e-13


# ----------------------------------------------------------------------------- rank splits
def _ill_conditioned(seed, cond=1e8, k=4, d=5, n=9, r=2):
    rng = np.random.default_rng(seed)
    X = design_with_spectrum(rng, np.logspace(0, -np.log10(cond), d), n)
    Y = rng.standard_normal((k, n))
    teacher = gd.ridge_teacher(X, Y, 0.0, 0.5, 1.0)
    return X, teacher, gd.rank_student(teacher, X, r, lam=0.0, temperature=1.0)


def _mp_weight_rank_part(teacher, r):
    """½ Σ_{i>r} σ_i²(M_T Σ_T^{-1/2}) at 50 digits from the float64 mean and covariance."""
    with mpmath.workdps(50):
        cov = mp_matrix(np.asarray(teacher.col_cov))
        evals, evecs = mpmath.eigsy(cov)
        inv_root = evecs * mpmath.diag([1 / mpmath.sqrt(e) for e in evals]) * evecs.T
        sv = mpmath.svd_r(mp_matrix(teacher.mean) * inv_root, compute_uv=False)
        sv = sorted((sv[i] for i in range(sv.rows)), reverse=True)
        return sum(s * s for s in sv[r:]) / 2


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_rank_r_student_is_decomposed_at_r_on_an_ill_conditioned_design(seed):
    X, teacher, student = _ill_conditioned(seed)
    for kind in gd.KINDS:
        res = gd.divergence(student, teacher, X, kind=kind)
        assert res.rank_used == 2
        explicit = gd.divergence(student, teacher, X, kind=kind, rank=2)
        assert explicit.rank_used == 2 and explicit.rank == res.rank
    weight = gd.divergence(student, teacher, X, kind="weight")
    assert rel_err(weight.rank, _mp_weight_rank_part(teacher, 2)) < 1e-6


def test_an_explicit_rank_below_a_real_rank_is_still_refused():
    X, Y = _problem(k=3, d=4)
    teacher = gd.ridge_teacher(X, Y, 1.0, 0.5)
    student = gd.rank_student(teacher, X, 3, lam=0.5)
    with pytest.raises(gd.GaussDistillError, match="rank"):
        gd.divergence(student, teacher, X, rank=1)


# ----------------------------------------------------------------------------- overflow
@pytest.mark.parametrize("name,kwargs", [
    ("noise", dict(noise=1e154)), ("noise", dict(noise=1e160)), ("lam", dict(lam=10**400)),
    ("noise", dict(noise=10**400)), ("temperature", dict(temperature=1e308)),
])
def test_scalar_overflow_is_an_error_naming_the_argument(name, kwargs):
    X = np.array([[1.0, 0.0, 1e-3], [0.0, 1e-3, 1.0]])
    args = dict(lam=1e-6, noise=1.0, temperature=1.0)
    args.update(kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(gd.GaussDistillError, match=name):
            gd.ridge_teacher(X, np.ones((1, 3)), **args)


def test_huge_integers_in_arrays_are_an_error_naming_the_array():
    with pytest.raises(gd.GaussDistillError, match="Y"):
        gd.ridge_teacher(np.eye(2), [[10**400, 1]], 1.0, 1.0)
    with pytest.raises(gd.GaussDistillError, match="mean"):
        gd.MatrixNormal([[10**400]], [[1.0]])


def test_overflow_message_names_the_soft_noise_when_it_is_the_cause():
    X, Y = _problem()
    teacher = gd.ridge_teacher(X, Y, 1.0, 0.5)
    student = gd.rank_student(teacher, X, 1, soft_noise=0.5)
    for tau in (1e-170, 1e-155):
        with pytest.raises(gd.GaussDistillError, match="soft_noise") as info:
            gd.divergence(student, teacher, X, soft_noise=tau)
        assert "M_S" not in str(info.value)


@pytest.mark.parametrize("scale", [1e100, 1e150, 1e153, 1e154, 1e160, 1e200])
def test_huge_means_never_give_nan_or_numpy_warnings(scale):
    X, Y = _problem()
    for t_t, t_s in ((0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                teacher = gd.ridge_teacher(X, scale * Y, 1.0, 0.5, t_t)
                student = gd.rank_student(teacher, X, 1, temperature=t_s)
            except gd.GaussDistillError:
                continue
            for kind in gd.KINDS:
                for direction in gd.DIRECTIONS:
                    try:
                        res = gd.divergence(student, teacher, X, kind=kind, direction=direction)
                    except gd.GaussDistillError as exc:
                        assert "overflow" in str(exc)
                        continue
                    fields = (res.total, res.bias, res.variance, res.rank)
                    assert not any(np.isnan(v) for v in fields), res


# ----------------------------------------------------------------------------- input rules
@pytest.mark.parametrize("X,Y,name", [
    (np.zeros((2, 0)), np.zeros((1, 0)), "X"),           # n = 0
    (np.zeros((0, 3)), np.zeros((1, 3)), "X"),           # d = 0
    (np.ones((2, 3)), np.zeros((0, 3)), "Y"),            # k = 0
])
def test_empty_arrays_are_rejected(X, Y, name):
    with pytest.raises(gd.GaussDistillError, match=f"{name}.*empty"):
        gd.ridge_teacher(X, Y, 1.0, 1.0)


def test_bool_and_string_arrays_are_rejected_like_scalars():
    with pytest.raises(gd.GaussDistillError, match="X.*bool"):
        gd.ridge_teacher(np.eye(2, dtype=bool), np.ones((1, 2)), 1.0, 1.0)
    with pytest.raises(gd.GaussDistillError, match="X.*str"):
        gd.ridge_teacher([["1", "0"], ["0", "1"]], np.ones((1, 2)), 1.0, 1.0)
    with pytest.raises(gd.GaussDistillError, match="lam"):
        gd.ridge_teacher(np.eye(2), np.ones((1, 2)), "1.0", 1.0)


def test_soft_noise_is_validated_for_every_kind():
    X, Y = _problem()
    teacher = gd.ridge_teacher(X, Y, 1.0, 0.5)
    with pytest.raises(gd.GaussDistillError, match="soft_noise"):
        gd.divergence(teacher, teacher, X, soft_noise="garbage", kind="weight")
    assert gd.divergence(teacher, teacher, X, soft_noise=0.3, kind="weight").total == 0.0


def test_precision_upper_bound_for_divergence():
    X, Y = _problem()
    teacher = gd.ridge_teacher(X, Y, 1.0, 0.5)
    with pytest.raises(gd.GaussDistillError, match="precision.*1000"):
        gd.divergence(teacher, teacher, X, kind="weight", precision=1001)


# ----------------------------------------------------------------------------- immutability
def test_kernels_and_results_are_immutable():
    X, Y = _problem()
    teacher = gd.ridge_teacher(X, Y, 1.0, 0.5)
    student = gd.rank_student(teacher, X, 1)
    for obj, attr in ((teacher, "lam"), (teacher, "noise"), (student, "rank"), (student, "mean")):
        with pytest.raises(AttributeError):
            setattr(obj, attr, 99)
    for array in (teacher.mean, teacher.col_cov, teacher.design, student.mean, student.col_cov):
        with pytest.raises(ValueError):
            array[0, 0] = 99.0
    cached = (teacher.spectrum.s, teacher.spectrum.vectors, teacher.col_factor.values, teacher.col_factor.vectors,
              gd.MatrixNormal(teacher.mean, teacher.col_cov).col_factor.vectors)
    for array in cached:               # shared caches cannot be poisoned
        with pytest.raises(ValueError):
            array[0] = 99.0
    res = gd.divergence(student, teacher, X)
    with pytest.raises(AttributeError):
        res.total = 0.0


def test_the_kernel_does_not_share_the_callers_arrays():
    X, Y = _problem()
    X0, Y0 = X.copy(), Y.copy()
    teacher = gd.ridge_teacher(X, Y, 1.0, 0.5)
    mean = teacher.mean.copy()
    before = gd.divergence(gd.rank_student(teacher, X, 1), teacher, X).total
    X[0, 0] += 1.0                   # the caller edits its own arrays afterwards
    Y *= 2.0
    np.testing.assert_array_equal(teacher.design, X0)
    np.testing.assert_array_equal(teacher.targets, Y0)
    np.testing.assert_array_equal(teacher.mean, mean)
    assert gd.divergence(gd.rank_student(teacher, X0, 1), teacher, X0).total == before


# ----------------------------------------------------------------------------- rows as samples
def test_shape_errors_name_the_convention_and_suggest_the_transpose():
    rng = np.random.default_rng(0)
    X_rows, Y_rows = rng.standard_normal((442, 10)), rng.standard_normal((442, 1))
    with pytest.raises(gd.GaussDistillError, match=r"columns are samples.*transpose|transpose.*columns are samples"):
        gd.ridge_teacher(X_rows, Y_rows, 1.0, 1.0)


def test_rows_as_samples_entry_point():
    rng = np.random.default_rng(0)
    X_rows, Y_rows = rng.standard_normal((20, 3)), rng.standard_normal((20, 2))
    X, Y = gd.from_samples_as_rows(X_rows, Y_rows)
    assert X.shape == (3, 20) and Y.shape == (2, 20)
    np.testing.assert_array_equal(X, X_rows.T)
    X1, y1 = gd.from_samples_as_rows(X_rows, Y_rows[:, 0])     # a 1-D target: k = 1
    assert y1.shape == (1, 20)


@pytest.mark.parametrize("loader", ["load_linnerud", "load_diabetes"])
def test_teacher_mean_equals_scikit_learn_ridge(loader):
    datasets = pytest.importorskip("sklearn.datasets")
    from sklearn.linear_model import Ridge

    data = getattr(datasets, loader)()
    X_rows, Y_rows = data.data, data.target
    lam = 2.5
    X, Y = gd.from_samples_as_rows(X_rows, Y_rows)
    teacher = gd.ridge_teacher(X, Y, lam, 1.0)
    coef = np.atleast_2d(Ridge(alpha=lam, fit_intercept=False, solver="cholesky").fit(X_rows, Y_rows).coef_)
    # Both are float64 solves of the same normal equations: agreement to a few ulps of
    # cond-scaled rounding (measured 1.2e-14 relative on linnerud, where cond(X Xᵀ) ≈ 1e3).
    assert np.max(np.abs(teacher.mean - coef)) <= 3e-14 * np.max(np.abs(coef))
