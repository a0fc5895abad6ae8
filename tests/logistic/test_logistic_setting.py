"""LogisticSetting: the run protocol (long format, seeds), validation, the risk helpers.

Expected values come from outside the code under test: the loss by direct evaluation of the
softmax formula, the Hessian bound from a dense finite-difference Hessian, the Bayes risk of
the ground truth against the teacher's risk.
"""
from __future__ import annotations

import math
import re

import numpy as np
import pytest

import gaussdistill as gd
from gaussdistill.logistic.data import Truth
from gaussdistill.logistic.model import Problem, data_hessian, softmax_, teacher_mode
from gaussdistill.logistic.setting import identifiable_basis, pointwise_loss, risk_and_grad

CHEAP = dict(n=60, n_chains=16, n_steps=60, burn_in=30, n_test=2000)


@pytest.fixture(scope="module")
def cheap_table():
    return gd.LogisticSetting(**CHEAP).run(replicates=2, seed=3)


def test_run_long_format(cheap_table):
    t = cheap_table
    assert list(t.columns) == ["quantity", "value", "stderr", "n", "note"]
    q = set(t["quantity"])
    for name in ("gen_T", "gen_S", "risk_T", "risk_S", "kn_gaussian", "kn_knn", "rhat_T", "ess_T",
                 "rhat_S", "ess_S", "accept_T", "step_T", "kappa", "rho2"):
        assert name in q
    assert np.all(np.isfinite(t["value"])) and np.all(t["stderr"] >= 0)
    assert (t["n"] == 2).all()
    v = t.set_index("quantity")["value"]
    assert 0 < v["accept_T"] <= 1 and v["rhat_T"] > 0.9 and v["ess_T"] > 0
    assert v["risk_T"] > v["train_T"]          # a Gibbs teacher at γ = 1 overfits: gen_T > 0


def test_run_is_reproducible_and_seed_kinds_agree(cheap_table):
    s = gd.LogisticSetting(**CHEAP)
    again = s.run(replicates=2, seed=np.random.SeedSequence(3))
    assert again["value"].tolist() == cheap_table["value"].tolist()     # bit for bit
    other = s.run(replicates=2, seed=4)
    assert other["value"].tolist() != cheap_table["value"].tolist()


def test_replace_and_to_dict():
    s = gd.LogisticSetting(**CHEAP)
    r = s.replace(rank=1, temperature=4.0)
    assert (r.rank, r.temperature, r.n) == (1, 4.0, CHEAP["n"]) and s.rank == 2
    assert r.to_dict()["temperature"] == 4.0
    with pytest.raises(gd.GaussDistillError, match="unknown LogisticSetting parameter"):
        s.replace(ranks=1)


def test_rank_deficient_student_has_infinite_kn():
    t = gd.LogisticSetting(**CHEAP, k=4, d=4, rank=1).run(replicates=1, seed=0).set_index("quantity")
    assert math.isinf(t.loc["kn_gaussian", "value"]) and math.isinf(t.loc["kn_knn", "value"])
    assert math.isfinite(t.loc["gen_S", "value"])
    assert np.isinf(t["stderr"]).all()         # one data set: the spread over data sets is unknown


@pytest.mark.parametrize("kwargs, name", [
    (dict(temperature=0.0), "temperature"), (dict(temperature=-1.0), "temperature"),
    (dict(gamma=0), "gamma"), (dict(prior_var=math.nan), "prior_var"), (dict(temperature="2"), "temperature"),
    (dict(rank=0), "rank"), (dict(rank=4), "rank"), (dict(rank=1.5), "rank"), (dict(k=1), "k"),
    (dict(n="100"), "n"), (dict(n_chains=2), "n_chains"), (dict(n_chains=12), "n_chains"),
    (dict(burn_in=600), "burn_in"),
    (dict(method="hmc"), "method"), (dict(data="images"), "data"), (dict(step=0.0), "step"),
    (dict(loss_clip=math.inf), "loss_clip"), (dict(step_scale=True), "step_scale"),
])
def test_bad_settings_name_the_argument(kwargs, name):
    with pytest.raises(gd.GaussDistillError, match=name):
        gd.LogisticSetting(**kwargs)


def test_bad_seed_and_replicates():
    s = gd.LogisticSetting(**CHEAP)
    with pytest.raises(gd.GaussDistillError, match="seed"):
        s.run(replicates=1, seed="0")
    with pytest.raises(gd.GaussDistillError, match="seed"):
        s.run(replicates=1, seed=-1)
    with pytest.raises(gd.GaussDistillError, match="replicates"):
        s.run(replicates=0, seed=0)


def test_diverging_step_is_reported():
    with pytest.raises(gd.GaussDistillError, match="step size"):
        gd.LogisticSetting(**CHEAP, step=50.0).run(replicates=1, seed=0)
    with pytest.raises(gd.GaussDistillError, match="step size"):
        gd.LogisticSetting(**CHEAP, step=50.0, method="ula").run(replicates=1, seed=0)


@pytest.mark.parametrize("kwargs", [dict(gamma=1e308), dict(prior_var=1e-320), dict(prior_var=1e300),
                                    dict(temperature=1e-300), dict(temperature=1e300)])
def test_parameters_beyond_float64_are_a_clear_error(kwargs):
    # These used to leak a RuntimeWarning (overflow in matmul / divide), numpy's LinAlgError,
    # ZeroDivisionError or OverflowError from deep inside the samplers.
    name = next(iter(kwargs))
    with pytest.raises(gd.GaussDistillError, match=re.escape(f"{name}={kwargs[name]!r}")):
        gd.LogisticSetting(**CHEAP, **kwargs).run(replicates=1, seed=0)


def test_huge_python_ints_are_refused_by_name():
    for name in ("gamma", "temperature"):
        with pytest.raises(gd.GaussDistillError, match=name):
            gd.LogisticSetting(**{name: 10**400})
    with pytest.raises(gd.GaussDistillError, match="n_chains"):
        gd.LogisticSetting(n_chains=10**400)                  # was numpy's 'Maximum allowed dimension'
    assert gd.LogisticSetting(truth_seed=2**70).truth_seed == 2**70


def test_the_same_seed_sequence_twice_gives_the_same_table(cheap_table):
    ss = np.random.SeedSequence(3)
    s = gd.LogisticSetting(**CHEAP)
    first = s.run(replicates=2, seed=ss)
    assert first["value"].tolist() == cheap_table["value"].tolist()
    assert s.run(replicates=2, seed=ss)["value"].tolist() == cheap_table["value"].tolist()   # not consumed
    assert ss.n_children_spawned == 0


def test_problem_refuses_non_finite_data():
    X = np.ones((2, 5))
    X[0, 1] = np.nan
    with pytest.raises(gd.GaussDistillError, match="X"):
        Problem(X, np.zeros(5, dtype=int), 1.0, 1.0, 1.0)
    with pytest.raises(gd.GaussDistillError, match="y"):
        Problem(np.ones((2, 5)), np.array([0, 1, 0.5, 1, 0]), 1.0, 1.0, 1.0)
    with pytest.raises(gd.GaussDistillError, match="temperature"):
        Problem(np.ones((2, 5)), np.zeros(5, dtype=int), 1.0, 1.0, 0.0)


def test_loss_and_gradient_against_direct_formulas():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((3, 4, 5))
    X = rng.standard_normal((5, 50))
    y = rng.integers(0, 4, 50)
    direct = np.array([[-math.log(math.exp(w[y[i]] @ X[:, i]) / sum(math.exp(w[c] @ X[:, i]) for c in range(4)))
                        for i in range(50)] for w in W])
    assert np.allclose(pointwise_loss(W, X, y), direct, rtol=1e-12)
    mc, _, mu, _, grad = risk_and_grad(W, X, y, clip=1.0, chunk=7)
    assert np.allclose(mu, direct.mean(1)) and np.allclose(mc, np.minimum(direct, 1.0).mean(1))
    eps = 1e-6
    E = np.zeros((4, 5))
    E[2, 3] = eps
    fd = (pointwise_loss(W + E, X, y).mean(1) - pointwise_loss(W - E, X, y).mean(1)) / (2 * eps)
    assert np.allclose(grad[:, 2, 3], fd, rtol=1e-6, atol=1e-9)


def test_data_hessian_matches_finite_differences_and_the_half_bound():
    rng = np.random.default_rng(1)
    k, d, n = 3, 4, 40
    X = rng.standard_normal((d, n))
    W = rng.standard_normal((k, d))
    P = softmax_((W @ X)[None])[0]
    H = data_hessian(P, X, 1.0)

    def grad(w):
        p = softmax_((w.reshape(k, d) @ X)[None])[0]
        return ((p - 0.0) @ X.T).reshape(-1)             # ∇ Σ_i lse(W x_i) (the label term is linear)

    eps = 1e-6
    fd = np.stack([(grad(W.reshape(-1) + eps * e) - grad(W.reshape(-1) - eps * e)) / (2 * eps)
                   for e in np.eye(k * d)])
    assert np.allclose(H, fd, atol=1e-6)
    # 0 ⪯ H ⪯ ½ I_k ⊗ X Xᵀ (the bound behind κ and the step rule)
    bound = 0.5 * np.kron(np.eye(k), X @ X.T)
    assert np.linalg.eigvalsh(H).min() > -1e-10
    assert np.linalg.eigvalsh(bound - H).min() > -1e-10


def test_teacher_mode_is_a_stationary_point():
    tr = Truth.make("mixture", 3, 4, 2.0, 0)
    X, y = tr.draw(80, np.random.default_rng(2))
    pb = Problem(X, y, 1.5, 0.7, 1.0)
    W = teacher_mode(pb, 3)
    P = softmax_((W @ X)[None])[0]
    Y = pb.onehot_k(3)
    assert np.abs(1.5 * (P - Y) @ X.T + W / 0.7).max() < 1e-8


def test_truths_second_moment_and_labels():
    rng = np.random.default_rng(3)
    for kind in ("logistic", "mixture"):
        tr = Truth.make(kind, 3, 4, 2.0, 5)
        X, y = tr.draw(200000, rng)
        assert set(np.unique(y)) == {0, 1, 2}
        emp = X @ X.T / X.shape[1]
        assert np.abs(emp - tr.second_moment()).max() < 0.03
    Q = identifiable_basis(4)
    assert np.allclose(Q.T @ Q, np.eye(3)) and np.allclose(Q.T @ np.ones(4), 0)


def test_sweep_over_a_logistic_setting():
    base = gd.LogisticSetting(**CHEAP)
    table = gd.sweep({"temperature": [1.0, 4.0]}, base=base, replicates=2, seed=0)
    assert set(table["temperature"]) == {1.0, 4.0}
    gen_s = table[table["quantity"] == "gen_S"].sort_values("temperature")["value"].tolist()
    again = gd.sweep({"temperature": [1.0, 4.0]}, base=base, replicates=2, seed=0)
    assert again[again["quantity"] == "gen_S"].sort_values("temperature")["value"].tolist() == gen_s
