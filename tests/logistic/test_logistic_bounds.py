"""Theorems 1–3 for the logistic pair with estimated ingredients (gaussdistill.logistic.bounds)."""
from __future__ import annotations

import math

import numpy as np
import pytest

import gaussdistill as gd
from gaussdistill.logistic.bounds import evaluate_bounds, exceedance, exceedance_summary
from gaussdistill.logistic.model import data_hessian, softmax_

CHEAP = dict(n=60, n_chains=16, n_steps=60, burn_in=30, n_test=2000)


@pytest.fixture(scope="module")
def check():
    return evaluate_bounds(gd.LogisticSetting(**CHEAP), replicates=4, seed=1, bootstrap=5)


def test_every_theorem_is_evaluated_with_uncertainty(check):
    t = check.table
    for loss in ("clipped", "ce"):
        for method in ("gaussian", "knn"):
            sub = t[(t["loss"] == loss) & (t["kn_method"] == method)]
            assert {1, 2} <= set(sub["theorem"])
            assert (3 in set(sub["theorem"])) == (loss == "ce")     # Theorem 3 needs a smooth loss
            assert {"subgaussian", "cgf", "dv"} <= set(sub["form"])
    finite = np.isfinite(t["value"])
    assert np.all(np.isfinite(t.loc[finite, "stderr"])) and np.all(t.loc[finite, "stderr"] >= 0)
    assert np.all(t["gen_student_stderr"] > 0)
    holds = t["slack"] >= -1e-12
    assert (t["holds"] == holds).all()


def test_bound_check_is_reproducible(check):
    again = evaluate_bounds(gd.LogisticSetting(**CHEAP), replicates=4, seed=1, bootstrap=5)
    assert again.table["value"].tolist() == check.table["value"].tolist()
    assert again.table["stderr"].tolist() == check.table["stderr"].tolist()


def test_assumption_statuses(check):
    t = check.table
    stab = t[(t["loss"] == "clipped") & (t["form"] == "subgaussian")]
    assert stab["assumptions"].str.contains("subgaussian:assumed").all()
    sharp = t[t["theorem"] == 3]
    assert sharp["assumptions"].str.contains("hessian_bound:checked").all()
    uses_k = t[t["theorem"] != 3]
    assert uses_k["assumptions"].str.contains("divergence:assumed").all()      # K_n is an estimate


def test_ingredients_table(check):
    ing = check.ingredients.set_index(["loss", "kn_method", "ingredient"])
    beta = ing.loc[("clipped", "gaussian", "beta"), "value"]
    sigma2 = ing.loc[("clipped", "gaussian", "sigma2"), "value"]
    n, M = CHEAP["n"], 5.0
    assert sigma2 == pytest.approx(n * (2 * beta + M / n) ** 2 / 4, rel=1e-12)   # McDiarmid proxy
    assert ing.loc[("ce", "gaussian", "kappa"), "value"] >= 0.5      # ½‖E xxᵀ‖ = ½ for the logistic truth
    assert np.isfinite(ing["stderr"]).all()


def test_user_beta_is_used_and_marked_assumed():
    bc = evaluate_bounds(gd.LogisticSetting(**CHEAP), replicates=3, seed=2, beta=0.0, bootstrap=3)
    ing = bc.ingredients.set_index(["loss", "kn_method", "ingredient"])
    assert ing.loc[("clipped", "knn", "sigma2"), "value"] == pytest.approx(5.0 ** 2 / (4 * CHEAP["n"]))
    row = bc.table[(bc.table["loss"] == "clipped") & (bc.table["form"] == "subgaussian")].iloc[0]
    assert "subgaussian:assumed" in row["assumptions"]


@pytest.mark.parametrize("kwargs, name", [(dict(bootstrap=1), "bootstrap"), (dict(beta=-1.0), "beta"),
                                          (dict(beta="0"), "beta"), (dict(replicates=1), "replicates")])
def test_bad_arguments(kwargs, name):
    args = dict(replicates=2, seed=0, bootstrap=3) | kwargs
    with pytest.raises(gd.GaussDistillError, match=name):
        evaluate_bounds(gd.LogisticSetting(**CHEAP), **args)


def test_rank_deficient_student_gives_vacuous_but_finite_z():
    s = gd.LogisticSetting(**CHEAP, k=4, d=4, rank=1)
    t = evaluate_bounds(s, replicates=2, seed=0, bootstrap=3).table
    uses_k = t[t["theorem"] != 3]
    assert np.isinf(uses_k["value"]).all() and not t["z"].isna().any()
    assert (uses_k["z"] == np.inf).all()


def test_not_a_setting_is_refused():
    with pytest.raises(gd.GaussDistillError, match="setting"):
        evaluate_bounds("default", replicates=2)
    with pytest.raises(gd.GaussDistillError, match="settings"):
        exceedance(["default"], replicates=2)


def test_kappa_bounds_the_gap_hessian():
    # ‖∇²(L_test − L_D)‖_op ≤ ½ max(‖Xt Xtᵀ/N‖, ‖X Xᵀ/n‖) at random W: the κ of Theorem 3.
    rng = np.random.default_rng(0)
    for _ in range(5):
        W = 3 * rng.standard_normal((3, 4))
        X, Xt = rng.standard_normal((4, 30)), 1.5 * rng.standard_normal((4, 500))
        H = data_hessian(softmax_((W @ Xt)[None])[0], Xt, 1 / 500) - data_hessian(softmax_((W @ X)[None])[0], X, 1 / 30)
        kappa = 0.5 * max(np.linalg.eigvalsh(Xt @ Xt.T / 500)[-1], np.linalg.eigvalsh(X @ X.T / 30)[-1])
        assert np.abs(np.linalg.eigvalsh(H)).max() <= kappa * (1 + 1e-12)


def test_exceedance_across_two_cheap_settings():
    base = gd.LogisticSetting(**CHEAP)
    table = exceedance({"T=1": base.replace(temperature=1.0), "T=4": base.replace(temperature=4.0)},
                       replicates=3, seed=0, bootstrap=3)
    assert set(table["setting"]) == {"T=1", "T=4"}
    assert set(table["temperature"]) == {1.0, 4.0}
    summary = exceedance_summary(table)
    assert summary["settings"].between(1, 2).all()     # a central row exists only where c is admissible
    assert (summary[summary["form"] == "subgaussian"]["settings"] == 2).all()
    assert (summary["holds"] <= summary["settings"]).all()


@pytest.mark.slow
def test_exceedance_over_settings_theorem3_holds():
    base = gd.LogisticSetting(n=200, n_chains=64, n_steps=600, burn_in=300, n_test=10000)
    settings = {"default": base, "T=1": base.replace(temperature=1.0), "gamma=2": base.replace(gamma=2.0),
                "mixture": base.replace(data="mixture"), "n=100": base.replace(n=100)}
    table = exceedance(settings, replicates=12, seed=0, bootstrap=20)
    print(exceedance_summary(table).to_string())
    sharp = table[table["theorem"] == 3]
    assert (sharp["z"] > -4).all()          # a proved bound (κ analytic) with estimated terms
    stab = table[(table["loss"] == "clipped") & (table["form"] == "subgaussian") & (table["side"] == "upper")]
    assert (stab["z"] > -4).all()
    assert math.isfinite(table["value"].replace([np.inf, -np.inf], np.nan).dropna().abs().max())
