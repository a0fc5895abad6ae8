"""The relations the engine states (=, <=, >= where proved, none for the oracle value),
checked against Monte Carlo of the data-driven student, and the rank choices.

Seed policy as in test_symbolic_mc.py: fixed seeds, |z| < 4 (a correct relation fails
with probability < 1e-4 per check).  The per-draw quantities are dense matrix
computations independent of the engine (test_symbolic_mc.batch_model / per_draw).
Fast versions run by default; the @slow ones sweep all kinds, directions and students
with more draws.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import sympy as sp

from gaussdistill import symbolic as sy
from gaussdistill import vocabulary

from test_symbolic_mc import batch_model, gap_draws, per_draw

Z = 4.0
P = dict(k=4, nu=0.8, tau=0.9, lambda_T=0.7, lambda_S=0.0, t_T=0.8, t_S=0.5, c=1.0, m=3,
         s=[3.5, 2.0, 1.0], w=[2.5, -1.5, 1.0])


def _condition_params(kind, direction):
    """Parameters that satisfy the proved condition (λ_S = 0 and Γ_j ∝ s_j)."""
    p = dict(P)
    if kind == "predictive" and direction == "student||teacher":
        p["t_T"] = 0.0
    if kind == "weight" and direction == "student||teacher":
        p["lambda_T"] = 0.0
    return p


def _mc(kind, direction, student, p, draws, seed, r=1):
    B = batch_model(p, r, draws, seed, m=p["m"] if student == "sampled" else None)
    if student == "shrinkage":
        B = dict(B, M_S=p["c"] * B["M_S"])
    mean, rank, var = per_draw(kind, direction, B, p, r)
    return mean + var, mean - rank, rank


def _se(x):
    return x.std(ddof=1) / np.sqrt(len(x))


def _check(rel, mc, exact, name):
    se = _se(mc) + 1e-12 * (1.0 + abs(exact))  # rounding of a per-draw 0 (bias = mean - rank)
    if rel == "=":
        assert abs(mc.mean() - exact) <= Z * se, name
    elif rel == "<=":
        assert mc.mean() <= exact + Z * se + 1e-12, name
    elif rel == ">=":
        assert mc.mean() >= exact - Z * se - 1e-12, name


# ----------------------------------------------------------------------------- data
def test_relations_are_data_on_the_result():
    full = sy.aligned_decomposition("predictive", d=2)
    assert {r.symbol for r in full.relations.values()} == {"="} and full.exact
    dec = sy.aligned_decomposition("convexity", d=3, rank=1)
    rel = dec.relations
    assert rel["variance"].symbol == "=" and rel["rank"].symbol == "<="
    assert rel["rank"].condition is sp.true
    assert rel["total"].symbol == "<=" and rel["total"].at(**P) == "<="
    assert rel["total"].at(**dict(P, lambda_S=0.4)) is None      # outside: no relation
    assert rel["bias"].symbol == "=" and "oracle" in rel["bias"].text
    samp = sy.aligned_decomposition("convexity", student="sampled", d=3, rank=1).relations
    assert samp["total"].symbol is None and samp["bias"].symbol is None
    assert "oracle-subspace" in samp["total"].text
    shr = sy.aligned_decomposition("convexity", student="shrinkage", d=3, rank=1).relations
    assert shr["total"].at(**dict(P, c=1.5)) == "<=" and shr["total"].at(**dict(P, c=2.5)) is None
    assert shr["bias"].symbol == ">="
    assert sy.aligned_decomposition("predictive", d=3, rank=1).relations["total"].at(**P) is None
    assert sy.aligned_decomposition("predictive", d=3, rank=1).relations["total"].at(
        **dict(P, t_T=0.0)) == "<="
    assert set(rel["total"].to_dict()) == {"part", "symbol", "condition", "reason", "text"}


# ----------------------------------------------------------------------------- Monte Carlo
@pytest.mark.parametrize("kind,direction,student", [
    ("convexity", "student||teacher", "population"),
    ("predictive", "student||teacher", "population"),
    ("weight", "teacher||student", "shrinkage"),
])
def test_stated_relations_hold_in_monte_carlo_fast(kind, direction, student):
    p = _condition_params(kind, direction)
    if student == "shrinkage":
        p["c"] = 0.6
    dec = sy.aligned_decomposition(kind, direction, True, student, d=3, rank=1)
    exact = dec.evaluate(**p)
    total, bias, rank = _mc(kind, direction, student, p, 3000, seed=7)
    for part, mc in (("total", total), ("bias", bias), ("rank", rank)):
        rel = dec.relations[part].at(**p)
        assert rel is not None, part
        _check(rel, mc, exact[part], part)


def test_shrinkage_outside_the_condition_breaks_the_bound():
    """c = 2.6 (outside [0, 2]): the data-driven total exceeds the expression, which is why
    the relation carries the condition 0 <= c <= 2."""
    p = dict(P, c=2.6, nu=1.5)
    dec = sy.aligned_decomposition("convexity", "student||teacher", True, "shrinkage", d=3, rank=1)
    assert dec.relations["total"].at(**p) is None
    exact = dec.evaluate(**p)["total"]
    total, _, _ = _mc("convexity", "student||teacher", "shrinkage", p, 3000, seed=9)
    assert total.mean() > exact + Z * _se(total)


def test_sampled_rank_r_student_exceeds_the_oracle_value_at_zero_noise():
    """The 'sampled' student truncates a random fit even at ν = 0: no relation is stated,
    and Monte Carlo is above the oracle-subspace value (K̄, λ_S = 0)."""
    p = dict(P, nu=0.0)
    dec = sy.aligned_decomposition("convexity", "student||teacher", True, "sampled", d=3, rank=1)
    assert dec.relations["total"].symbol is None
    exact = dec.evaluate(**p)["total"]
    total, _, _ = _mc("convexity", "student||teacher", "sampled", p, 3000, seed=13)
    assert total.mean() > exact + Z * _se(total)


# c only enters the shrinkage student: the population student is checked once.
STUDENT_AND_C = [("population", 0.5)] + [("shrinkage", c) for c in (0.0, 0.5, 1.7)]


@pytest.mark.slow
@pytest.mark.parametrize("kind", vocabulary.KINDS)
@pytest.mark.parametrize("direction", vocabulary.DIRECTIONS)
@pytest.mark.parametrize("student,c", STUDENT_AND_C)
def test_stated_relations_hold_in_monte_carlo_slow(kind, direction, student, c):
    p = dict(_condition_params(kind, direction), c=c)
    dec = sy.aligned_decomposition(kind, direction, True, student, d=3, rank=1)
    exact = dec.evaluate(**p)
    total, bias, rank = _mc(kind, direction, student, p, 40000, seed=17)
    for part, mc in (("total", total), ("bias", bias), ("rank", rank)):
        rel = dec.relations[part].at(**p)
        assert rel is not None
        _check(rel, mc, exact[part], part)


# ----------------------------------------------------------------------------- ranks
V3 = dict(k=4, n=6, nu=0.8, tau=0.9, lambda_T=0.7, lambda_S=0.4, t_T=0.8, t_S=0.0, c=1.0,
          s=[3.5, 2.0, 1.0], w=[2.5, -1.5, 1.0])


def test_oracle_rank_says_which_student_and_old_name_is_deprecated():
    rc = sy.oracle_optimal_rank(V3)
    assert "oracle-subspace" in rc.student_model
    with pytest.warns(DeprecationWarning, match="oracle_optimal_rank"):
        old = sy.optimal_rank(V3)
    assert old == rc


def test_monte_carlo_rank_matches_an_independent_simulation_and_differs_from_the_oracle():
    est = sy.monte_carlo_rank(V3, draws=400, seed=3)
    assert "data-driven" in est.student_model and est.draws == 400
    assert sy.monte_carlo_rank(V3, draws=400, seed=3) == est          # reproducible
    for r in range(4):
        ref = gap_draws(V3, r, 20000, seed=200 + r)["risk_S"]          # dense, data-driven
        se = np.hypot(est.stderr[r], _se(ref)) + 1e-12 * ref.mean()  # r = 0: deterministic
        assert abs(est.mean[r] - ref.mean()) < Z * se, r
    # The data-driven student is best at full rank here; the oracle rule says 2.
    oracle = sy.oracle_optimal_rank(V3)
    assert oracle.argmin == 2 and est.rank == 3
    assert est.mean[2] - est.mean[3] > Z * est.diff_stderr[2]


def test_monte_carlo_rank_validates_its_inputs():
    from gaussdistill import GaussDistillError
    with pytest.raises(GaussDistillError, match="draws"):
        sy.monte_carlo_rank(V3, draws=1)
    with pytest.raises(GaussDistillError, match="objective"):
        sy.monte_carlo_rank(V3, objective="nope", draws=10)
    with pytest.raises(GaussDistillError, match="nu: expected a real number"):
        sy.monte_carlo_rank(dict(V3, nu="0.8"), draws=10)


def test_divergence_objective_runs_through_the_numeric_core():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = sy.monte_carlo_rank(dict(V3, t_S=0.5), objective="predictive", draws=50, seed=1)
    assert len(est.mean) == 4 and all(np.isfinite(est.mean))


@pytest.mark.parametrize("expectation", [True, False])
def test_sampled_student_text_never_claims_exactness_at_zero_noise(expectation):
    """The recorded derivation said 'oracle subspace ... (exact at nu = 0)' (or, noiseless,
    '[B]_r keeps modes 1..r') for the 'sampled' student too, whose truncation is of a random
    fit (measured above: Monte Carlo exceeds the value at nu = 0); its kappa_j was undefined."""
    dec = sy.aligned_decomposition("convexity", "student||teacher", expectation, "sampled", d=2, rank=1)
    text = dec.derivation()
    assert "exact at nu = 0" not in text and "keeps modes 1..r;" not in text
    assert "not the data-driven student even at nu = 0" in text and "kappa_j = 1 if" in text
    assert "except the 'sampled' student" in sy.oracle_optimal_rank(
        dict(V3, m=3), student="sampled").student_model
    pop = sy.aligned_decomposition("convexity", "student||teacher", True, "population", d=2, rank=1)
    assert "exact at nu = 0" in pop.derivation()


def test_monte_carlo_rank_progress_bar_changes_nothing(capsys):
    """Long simulations show progress (tqdm on request or on a terminal) and stay
    bit-identical for a seed."""
    a = sy.monte_carlo_rank(V3, draws=6, seed=2, progress=True)
    assert "monte_carlo_rank" in capsys.readouterr().err
    assert a == sy.monte_carlo_rank(V3, draws=6, seed=2, progress=False)
    from gaussdistill import GaussDistillError
    with pytest.raises(GaussDistillError, match="progress="):
        sy.monte_carlo_rank(V3, draws=3, progress="yes")


def test_predictive_relation_also_proved_at_lambda_T_zero():
    """K^Y student||teacher: Γ_j = s_j/(τ² + t_T ν² h_j) is ∝ s_j also when λ_T = 0 (h_j = 1),
    so the ≤ / = of the population student hold there (they were not stated); Monte Carlo
    through the dense per-draw oracle confirms them at t_T > 0."""
    p = dict(P, lambda_T=0.0)
    dec = sy.aligned_decomposition("predictive", "student||teacher", True, "population", d=3, rank=1)
    assert dec.relations["total"].at(**p) == "<=" and dec.relations["bias"].at(**p) == "="
    exact = dec.evaluate(**p)
    total, bias, rank = _mc("predictive", "student||teacher", "population", p, 3000, seed=21)
    _check("<=", total, exact["total"], "total")
    _check("=", bias, exact["bias"], "bias")
