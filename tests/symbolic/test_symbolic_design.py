"""Derivatives vs finite differences, design optima vs grid search, the per-mode rank rule
vs Monte Carlo, and the docs/mathematics.md §2.3 shrinkage statement vs the dense oracle."""
from __future__ import annotations

import numpy as np
import pytest

from gaussdistill.symbolic import (
    aligned_decomposition,
    generalization_gaps,
    optimal_shrinkage,
    optimal_soft_noise,
    optimal_student_ridge,
    optimal_teacher_ridge,
    oracle_optimal_rank,
    sensitivity,
)

from test_symbolic_mc import gap_draws, zscore
from test_symbolic_oracle import aligned_instance, dense_parts, dense_student, dense_teacher, random_params

V3 = dict(k=4, n=6, nu=0.8, tau=0.9, lambda_T=0.7, lambda_S=0.4, t_T=0.8, t_S=0.0, c=1.0,
          s=[3.5, 2.0, 1.0], w=[2.5, -1.5, 1.0])


# ----------------------------------------------------------------------------- derivatives
@pytest.mark.parametrize("kind,rank", [("predictive", None), ("predictive", 1),
                                       ("convexity", 2), ("weight", None)])
@pytest.mark.parametrize("name", ["nu", "tau", "lambda_T", "lambda_S", "t_T", "t_S", "s_2", "w_1"])
def test_derivative_matches_central_finite_difference(kind, rank, name):
    dec = aligned_decomposition(kind, expectation=True, d=3, rank=rank)
    p = dict(V3, t_S=0.6)
    der = dec.diff(name).evaluate(**p)

    def shifted(h):
        q = dict(p, s=list(p["s"]), w=list(p["w"]))
        if name[:2] in ("s_", "w_"):
            q[name[0]][int(name[2:]) - 1] += h
        else:
            q[name] += h
        return dec.evaluate(**q)

    h = 1e-5
    plus, minus = shifted(h), shifted(-h)
    for part in ("total", "bias", "variance", "rank"):
        fd = (plus[part] - minus[part]) / (2 * h)
        assert abs(der[part] - fd) <= 1e-6 * (1 + abs(fd)), (part, der[part], fd)


def test_sensitivity_effect_of_tau_is_negative_for_deterministic_student():
    """Population mode, t_S = 0: τ only widens the predictive laws, K^Y decreases in τ."""
    dec = aligned_decomposition("predictive", expectation=True, d=3)
    val, expr = sensitivity(dec, "tau", V3)
    assert val < 0 and expr.free_symbols


# ----------------------------------------------------------------------------- optima vs grid
def _grid_check(opt, f, lo, hi, n=4001):
    xs = np.linspace(lo, hi, n)
    ys = np.asarray(f(xs))  # the lambdified objective is vectorised over the grid
    i = int(np.argmin(ys))
    assert opt.objective_value <= ys[i] + 1e-12 * abs(ys[i])
    assert abs(opt.value - xs[i]) <= 2 * (hi - lo) / (n - 1)
    if not opt.on_boundary:
        assert abs(opt.derivative) < 1e-6 * (1 + abs(opt.objective_value))


def test_student_ridge_closed_form_d1_risk():
    v = dict(V3, s=[3.5], w=[2.5], lambda_T=0.0)
    opt = optimal_student_ridge(v, "risk")
    assert opt.method == "closed form" and opt.closed_form is not None
    g = generalization_gaps(d=1)
    _grid_check(opt, lambda x: g.evaluate(**dict(v, lambda_S=x))["risk_S"], 0.0, 2.0)
    # The closed form is what the condition solves: f'(x*) = 0 symbolically substituted.
    x = g.symbols["lambda_S"]
    cond = opt.condition.lhs.subs(x, opt.closed_form)
    subs = {g.symbols[nm]: v[nm] for nm in ("k", "n", "nu", "tau", "lambda_T", "t_T", "t_S")}
    subs.update({g.symbols["s_1"]: 3.5, g.symbols["w_1"]: 2.5})
    assert abs(float(cond.subs(subs))) < 1e-12


def test_student_ridge_numeric_d3_risk_and_divergence():
    opt = optimal_student_ridge(V3, "risk")
    g = generalization_gaps(d=3)
    _grid_check(opt, lambda x: g.evaluate(**dict(V3, lambda_S=x))["risk_S"], 0.0, 2.0)
    p = dict(V3, t_S=0.5)
    opt = optimal_student_ridge(p, "predictive", bounds=(0.0, 5.0))
    dec = aligned_decomposition("predictive", d=3)
    _grid_check(opt, lambda x: dec.evaluate(**dict(p, lambda_S=x))["total"], 0.0, 5.0)


@pytest.mark.parametrize("objective", ["risk", "convexity", "predictive"])
def test_shrinkage_closed_form(objective):
    opt = optimal_shrinkage(V3, objective, rank=1)
    assert opt.method == "closed form"
    if objective == "risk":
        f = generalization_gaps(d=3, rank=1, student="shrinkage")
        fn = lambda c: f.evaluate(**dict(V3, c=c))["risk_S"]  # noqa: E731
    else:
        f = aligned_decomposition(objective, d=3, rank=1, student="shrinkage")
        fn = lambda c: f.evaluate(**dict(V3, c=c))["total"]  # noqa: E731
    _grid_check(opt, fn, 0.0, 2.0)


def test_teacher_ridge_and_tau_vs_grid():
    opt = optimal_teacher_ridge(V3, "risk", bounds=(0.0, 3.0))
    g = generalization_gaps(d=3)
    _grid_check(opt, lambda x: g.evaluate(**dict(V3, lambda_T=x))["risk_S"], 0.0, 3.0)
    p = dict(V3, t_S=0.5)
    opt = optimal_soft_noise(p, "predictive", bounds=(0.2, 3.0))
    dec = aligned_decomposition("predictive", d=3)
    _grid_check(opt, lambda x: dec.evaluate(**dict(p, tau=x))["total"], 0.2, 3.0)
    opt0 = optimal_soft_noise(V3, "predictive", bounds=(0.2, 3.0))  # t_S = 0: monotone
    assert opt0.on_boundary and abs(opt0.value - 3.0) < 1e-9


def test_shrinkage_bias_matches_math_2_3_statement():
    """docs/mathematics.md §2.3: shrunk student M_S X = c [M_T X]_r in K̄ has bias (1−c)² Σ_{i≤r} σ_i²/(2τ²)."""
    rng = np.random.default_rng(3)
    p = random_params(rng, 3)
    p.update(lambda_S=0.0, c=0.6)
    dec = aligned_decomposition("convexity", expectation=False, d=3, rank=1, student="shrinkage")
    got = dec.evaluate(**p)
    X, W = aligned_instance(rng, p["s"], p["w"], p["k"], 5)
    M_T, Sig_T = dense_teacher(X, W @ X, p["lambda_T"], p["nu"], p["t_T"])
    M_S, Sig_S = dense_student(M_T, X, 1, 0.0, p["t_S"], p["tau"])
    ref = dense_parts("convexity", "student||teacher", p["c"] * M_S, Sig_S, M_T, Sig_T, X,
                      p["tau"], 1)
    sv = np.linalg.svd(M_T @ X, compute_uv=False)
    stated = (1 - p["c"]) ** 2 * sv[0] ** 2 / (2 * p["tau"] ** 2)
    for part in ref:
        assert abs(got[part] - ref[part]) <= 1e-10 * abs(ref["total"])
    assert abs(got["bias"] - stated) <= 1e-10 * stated


# ----------------------------------------------------------------------------- rank rule
def test_rank_rule_matches_brute_force_and_monte_carlo():
    rc = oracle_optimal_rank(V3, "risk")
    assert rc.consistent and rc.by_rule == rc.argmin == 2
    assert all(np.isfinite(rc.gain)) and len(rc.marginal) == 3
    # Monte Carlo risk of the oracle-subspace student at every rank (independent route).
    mc = []
    for r in range(4):
        draws = gap_draws(V3, r, 40000, seed=100 + r, oracle=True)["risk_S"]
        if draws.std() < 1e-12 * draws.mean():  # r = 0, t_S = 0: W_S = 0 deterministically
            assert abs(draws[0] - rc.objective_by_rank[r]) < 1e-12 * draws[0]
        else:
            assert abs(zscore(draws, rc.objective_by_rank[r])) < 4
        mc.append(draws.mean())
    assert int(np.argmin(mc)) == rc.by_rule
    # Noisier labels: fewer modes are worth their noise.
    assert oracle_optimal_rank(dict(V3, nu=2.0), "risk").by_rule < rc.by_rule


def test_rank_rule_divergence_with_price():
    rc = oracle_optimal_rank(V3, "convexity", price=1.5)
    assert rc.by_rule == sum(1 for g in rc.gain if g > 1.5) and rc.consistent
