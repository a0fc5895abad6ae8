"""The model interface: both implementations satisfy it, and the linear-Gaussian adapter agrees
with the core it wraps and with independent Monte Carlo references."""
from __future__ import annotations

import math

import numpy as np
import pytest

import gaussdistill as gd
import gaussdistill.models
from gaussdistill.models import DistillationModel, LinearGaussianModel, LogisticModel

from oracles import assert_mc_mean, assert_within_ci


@pytest.fixture(scope="module")
def lg():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 30))
    return LinearGaussianModel(rng.standard_normal((3, 4)), X, noise=0.5, teacher_lam=1.0, soft_noise=0.5,
                               rank=2, student_lam=0.5, student_temperature=1.0)


def test_both_models_implement_the_interface(lg):
    assert isinstance(lg, DistillationModel)
    assert isinstance(LogisticModel(gd.LogisticSetting()), DistillationModel)


def test_linear_gaussian_pipeline_shapes_and_exact_kn(lg):
    rng = np.random.default_rng(1)
    data = lg.draw_data(rng)
    WT = lg.sample_teacher(data, 6, rng)
    soft = lg.soft_labels(data, WT, rng)
    WS = lg.sample_student(data, soft, rng)
    assert WT.shape == WS.shape == (6, 3, 4) and soft.shape == (6, 3, 30)
    assert lg.loss(WS, data).shape == (6, 30)
    teacher = gd.ridge_teacher(data.X, data.Y, 1.0, 0.5, 1.0)
    student = gd.rank_student(teacher, data.X, 2, 0.5, 0.5, 1.0)
    assert lg.exact_kn(data) == float(gd.divergence(student, teacher, data.X, kind="weight").total)


def test_linear_gaussian_population_risk_against_fresh_labels(lg):
    # L(W) = E_{Y'} ‖Y' − WX‖²_F / n, by Monte Carlo over fresh labels at the same inputs.
    rng = np.random.default_rng(2)
    W = rng.standard_normal((2, 3, 4))
    exact = lg.population_risk(W).value
    fresh = [lg.loss(W, lg.draw_data(rng)).mean(axis=1) for _ in range(4000)]
    assert_mc_mean(np.array(fresh), exact)


def test_linear_gaussian_soft_labels_follow_the_mixture_law(lg):
    # Ŷ = W_T X + τE′ with W_T ~ q_T has mean M_T X and column covariance τ²I + XᵀΣ_T X (gd.soft_labels).
    rng = np.random.default_rng(3)
    data = lg.draw_data(rng)
    law = gd.soft_labels(lg.teacher(data), data.X, 0.5)
    soft = lg.soft_labels(data, lg.sample_teacher(data, 20000, rng), rng)
    assert_mc_mean(soft[:, 0, :5], law.mean[0, :5])
    cov = np.cov(soft[:, 0, :3], rowvar=False)
    exact = law.col_cov[:3, :3]
    se = np.sqrt((np.outer(np.diag(exact), np.diag(exact)) + exact ** 2) / (soft.shape[0] - 1))
    assert_within_ci(cov, se, exact)


def test_logistic_model_pipeline():
    s = gd.LogisticSetting(n=50, n_chains=16, n_steps=40, burn_in=20, n_test=500)
    m = LogisticModel(s)
    rng = np.random.default_rng(4)
    data = m.draw_data(rng)
    WT = m.sample_teacher(data, 8, rng)
    soft = m.soft_labels(data, WT)
    assert np.allclose(soft.sum(axis=1), 1.0)
    WS = m.sample_student(data, soft, rng)
    risk = m.population_risk(WS, rng)
    assert WS.shape == (8, 3, 5) and risk.value.shape == (8,) and np.all(risk.stderr > 0)
    assert np.all(risk.value > 0) and np.all(np.isfinite(m.loss(WS, data)))


@pytest.mark.parametrize("bad", [np.full((2, 3, 4), np.nan), np.ones((2, 4, 3)), "weights"])
def test_bad_weights_are_refused(lg, bad):
    with pytest.raises(gd.GaussDistillError, match="weights"):
        lg.population_risk(bad)
    with pytest.raises(gd.GaussDistillError):
        LogisticModel(gd.LogisticSetting()).loss(bad, lg.draw_data(np.random.default_rng(0)))


def test_logistic_model_needs_a_setting():
    with pytest.raises(gd.GaussDistillError, match="setting"):
        LogisticModel({"k": 3})


def test_dataset_refuses_non_finite_data():
    X = np.ones((2, 3))
    X[1, 2] = math.inf
    with pytest.raises(gd.GaussDistillError, match="X"):
        gd.models.Dataset(X, np.zeros(3, dtype=int))
    with pytest.raises(gd.GaussDistillError, match="Y"):
        gd.models.Dataset(np.ones((2, 3)), np.array([0.0, math.nan, 1.0]))


def test_logistic_soft_labels_refuse_non_finite():
    m = LogisticModel(gd.LogisticSetting(n=20, n_chains=16, n_steps=20, burn_in=10))
    data = m.draw_data(np.random.default_rng(0))
    soft = np.full((4, 3, 20), 1 / 3)
    soft[0, 0, 0] = math.nan
    with pytest.raises(gd.GaussDistillError, match="soft labels"):
        m.sample_student(data, soft, np.random.default_rng(0))


def test_exact_kn_agrees_with_the_gaussian_estimator_on_kernel_samples(lg):
    # The population student's kernel q_S and the teacher's q_T are matrix normal: the Gaussian
    # plug-in KL of their samples must match exact_kn (K^W) within its reported error.
    rng = np.random.default_rng(5)
    data = lg.draw_data(rng)
    exact = lg.exact_kn(data)
    student, teacher = lg.student(data), lg.teacher(data)
    est = gd.estimate_kl(student.sample(6000, rng).reshape(6000, -1), teacher.sample(6000, rng).reshape(6000, -1),
                         method="gaussian")
    assert_within_ci(est.value, est.stderr, exact, z=4.0)


@pytest.mark.parametrize("kwargs, name", [
    (dict(noise=-1.0), "noise"), (dict(noise=math.nan), "noise"), (dict(soft_noise="0.5"), "soft_noise"),
    (dict(noise=10**400), "noise"), (dict(X=np.ones((2, 10))), "W_star"), (dict(W_star=np.ones((2, 3)) * 1j), "W_star"),
])
def test_linear_gaussian_model_validates_its_fields(kwargs, name):
    # These used to construct and then fail with AttributeError / numpy's matmul ValueError /
    # UFuncTypeError, or silently draw Y = W⋆X − E for a negative noise.
    rng = np.random.default_rng(0)
    fields = dict(W_star=rng.standard_normal((2, 3)), X=rng.standard_normal((3, 10))) | kwargs
    with pytest.raises(gd.GaussDistillError, match=name):
        LinearGaussianModel(**fields)
    ok = LinearGaussianModel(W_star=fields["W_star"].tolist() if name != "W_star" else [[1.0, 2.0, 3.0]],
                             X=np.ones((3, 4)))
    assert not ok.W_star.flags.writeable and not ok.X.flags.writeable


def test_results_and_data_are_read_only(lg):
    rng = np.random.default_rng(1)
    data = lg.draw_data(rng)
    risk = lg.population_risk(lg.sample_teacher(data, 3, rng))
    for arr in (risk.value, risk.stderr, data.X, data.Y):
        with pytest.raises(ValueError):
            arr[0] = 0.0
    with pytest.raises(gd.GaussDistillError, match="X"):
        gaussdistill.models.Dataset(np.ones((2, 2)) * 1j, np.ones(2))      # was a ComplexWarning


def test_logistic_labels_must_be_classes():
    model = LogisticModel(gd.LogisticSetting(k=3, d=3, n=60, rank=2, n_chains=16, n_steps=60, burn_in=30, n_test=500))
    data = model.draw_data(np.random.default_rng(2))
    W = np.zeros((1, 3, 3))
    for bad in (data.Y + 5, -data.Y - 1, data.Y.astype(float)):
        # out of range: IndexError; negative: silently indexed from the end; float: IndexError
        with pytest.raises(gd.GaussDistillError, match="data.Y"):
            model.loss(W, gaussdistill.models.Dataset(data.X, bad))
    np.testing.assert_allclose(model.loss(W, data), math.log(3))       # uniform softmax: ln k
