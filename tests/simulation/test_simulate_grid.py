"""Every bound the package reports as valid holds in simulation, on a grid of ≥ 50 settings.

The grid covers the three student kinds, rank-deficient (r = 1), rank-0 and full-rank students,
λ_T and λ_S (0 included where X Xᵀ allows), τ ≠ ν, t_T and t_S including 0, n < d and n > d,
the fixed and the random design. For each setting :func:`gaussdistill.simulate` evaluates every
bound from estimated and from exact ingredients; a row marked valid must hold (the observed
gen_S within the bound up to 4 standard errors), a row marked not valid must name the failed
assumption. The default run uses small sizes and few replicates; the slow one is the full grid.
"""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

import gaussdistill as gd


def grid_settings(k, d, n_small, n_large, count=None, seed=0):
    """A deterministic list of (label, CaseStudy) covering every axis of the grid (≥ 50 settings)."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((k, d))
    X_small = rng.standard_normal((d, n_small))
    X_large = rng.standard_normal((d, n_large))
    axes = dict(
        student=[("population", {}), ("sampled", {"draws": 3}), ("shrinkage", {"shrinkage": 0.6})],
        rank=[None, 1, 0],
        n=["large", "small"],
        design=["fixed", "random"],
        lams=[(0.0, 0.0), (0.5, 0.0), (2.0, 0.7)],
        temps=[(1.0, 1.0), (0.0, 1.0), (0.5, 0.0), (1.0, 0.0)],
        taus=[1.0, 1.6],
    )
    combos = list(itertools.product(*axes.values()))
    order = rng.permutation(len(combos))
    settings = []
    for idx in order:
        (student, extra), rank, size, design, (lT, lS), (tT, tS), tau_factor = combos[idx]
        X = X_large if size == "large" else X_small
        n = X.shape[1]
        if n < d and (lT == 0 or (lS == 0 and tS > 0)):
            continue
        if design == "random" and n < d and lT == 0:
            continue
        cov = np.diag(np.linspace(0.5, 2.0, d)) if design == "random" else None
        cs = gd.CaseStudy(X, W, noise=0.6, soft_noise=0.6 * tau_factor, teacher_lam=lT, student_lam=lS,
                          teacher_temperature=tT, student_temperature=tS, rank=rank, student=student,
                          design=design, design_cov=cov, **extra)
        settings.append(cs)
        if count is not None and len(settings) >= count:
            break
    return settings


def check_setting(cs, replicates, seed):
    table = gd.simulate(cs, replicates=replicates, seed=seed)
    valid = table[table["valid"]]
    bad = valid[~valid["holds"]]
    assert bad.empty, (repr(cs), bad[["bound", "divergence", "ingredients", "value", "observed", "stderr"]])
    invalid = table[~table["valid"]]
    assert (invalid["failed_assumptions"].str.len() > 0).all(), repr(cs)
    return table


def _coverage(settings):
    seen = {(cs.student, cs.rank, cs.design, cs.n < cs.d) for cs in settings}
    assert {s for s, *_ in seen} == {"population", "sampled", "shrinkage"}
    assert {r for _, r, *_ in seen} >= {None, 1, 0}
    assert {dsg for _, _, dsg, _ in seen} == {"fixed", "random"}
    assert {small for *_, small in seen} == {True, False}
    assert any(cs.teacher_temperature == 0 for cs in settings) and any(cs.student_temperature == 0 for cs in settings)
    assert any(cs.soft_noise != cs.noise for cs in settings) and any(cs.teacher_lam == 0 for cs in settings)


def test_grid_fast():
    settings = grid_settings(k=2, d=3, n_small=2, n_large=9, count=52)
    assert len(settings) >= 50
    _coverage(settings)
    tables = [check_setting(cs, replicates=300, seed=i) for i, cs in enumerate(settings)]
    table = pd.concat(tables)
    assert table["valid"].sum() > 0.5 * len(table)


@pytest.mark.slow
def test_grid_full():
    settings = grid_settings(k=3, d=4, n_small=3, n_large=25, count=120, seed=1)
    assert len(settings) >= 50
    _coverage(settings)
    for i, cs in enumerate(settings):
        check_setting(cs, replicates=4000, seed=100 + i)
