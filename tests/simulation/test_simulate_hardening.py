"""The simulator's seeds, limits and immutability."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

import gaussdistill as gd


@pytest.fixture(scope="module")
def cs():
    rng = np.random.default_rng(1)
    return gd.CaseStudy(rng.standard_normal((3, 8)), rng.standard_normal((2, 3)), noise=0.6, soft_noise=0.8)


def test_same_seed_sequence_twice_gives_the_same_result(cs):
    """Spawning mutates a SeedSequence: the simulator must not spawn from the caller's object."""
    ss = np.random.SeedSequence(9)
    a = gd.simulate_pipeline(cs, replicates=40, seed=ss)
    b = gd.simulate_pipeline(cs, replicates=40, seed=ss)
    assert ss.n_children_spawned == 0
    assert a.estimates.equals(b.estimates) and a.bounds.equals(b.bounds)
    c = gd.simulate_pipeline(cs, replicates=40, seed=np.random.SeedSequence(9))
    assert a.estimates.equals(c.estimates)


def test_generator_seed(cs):
    a = gd.simulate_pipeline(cs, replicates=40, seed=np.random.default_rng(4))
    b = gd.simulate_pipeline(cs, replicates=40, seed=np.random.default_rng(4))
    assert a.estimates.equals(b.estimates)
    g = np.random.default_rng(4)
    first = gd.simulate_pipeline(cs, replicates=40, seed=g)
    second = gd.simulate_pipeline(cs, replicates=40, seed=g)      # the Generator advanced
    assert first.estimates.equals(a.estimates) and not second.estimates.equals(a.estimates)


@pytest.mark.parametrize("kwargs,name", [
    (dict(replicates=10**28), "replicates"),
    (dict(replicates=20, progress="yes"), "progress"),
    (dict(replicates=20, seed=-1), "seed"),
])
def test_bad_arguments(cs, kwargs, name):
    with pytest.raises(gd.GaussDistillError, match=name):
        gd.simulate(cs, **kwargs)


def test_result_is_immutable_and_picklable(cs):
    r = gd.simulate_pipeline(cs, replicates=30, seed=2)
    with pytest.raises(ValueError):
        r.samples["gen_T"][0] = 5.0
    with pytest.raises(TypeError):
        r.samples["gen_T"] = np.zeros(30)
    back = pickle.loads(pickle.dumps(r))
    assert back.estimates.equals(r.estimates)
    assert np.array_equal(back.samples["gen_S"], r.samples["gen_S"])


def test_huge_per_replicate_values_do_not_overflow():
    """λ_T = 1e-300 with n < d: the teacher's weight variance on the null direction of X is
    t_T ν²/λ_T = 2.5e299, so ρ² = E‖W_S − W_T‖² ≈ 2.5e299 (hand formula); its squares overflowed
    in np.std (a RuntimeWarning and an infinite standard error)."""
    import warnings
    rng = np.random.default_rng(0)
    cs = gd.CaseStudy(rng.standard_normal((2, 1)), rng.standard_normal((1, 2)), noise=0.5, teacher_lam=1e-300)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        r = gd.simulate_pipeline(cs, replicates=300, seed=1)
    value, se = r.estimate("rho2")
    assert np.isfinite(se) and 0 < se < value
    assert abs(value - 2.5e299) < 4 * se


@pytest.mark.parametrize("bad", ["abc", [1.0, "a"], [[1.0, 2.0], [3.0]]])
def test_empirical_cgf_bad_input(bad):
    from gaussdistill.simulation import EmpiricalCGF
    with pytest.raises(gd.GaussDistillError, match="samples"):
        EmpiricalCGF.of(bad)


@pytest.mark.parametrize("lam", ["a", None, 1 + 1j, 10**400])
def test_empirical_cgf_bad_lambda(lam):
    from gaussdistill.simulation import EmpiricalCGF
    f = EmpiricalCGF.of(np.random.default_rng(0).standard_normal(100))
    with pytest.raises(gd.GaussDistillError, match="lam"):
        f(lam)


def test_zero_kl_is_not_a_55_sigma_discrepancy():
    """Random design, λ = 0, t_T = t_S = 1, τ = ν: the population student's law equals the teacher's, so
    E_D K = 0 exactly (hand). The simulated K are rounding (~1e-31 nats) with a stderr ~1e-32, and the
    z column said 55."""
    rng = np.random.default_rng(0)
    cs = gd.CaseStudy(rng.standard_normal((3, 9)), rng.standard_normal((2, 3)), noise=0.5, design="random",
                      teacher_lam=0.0, student_lam=0.0)
    assert cs.expected_divergence("weight") == 0.0
    e = gd.simulate_pipeline(cs, replicates=400, seed=0).estimates.set_index("quantity")
    for q in ("K_weight", "K_predictive"):
        assert abs(e.loc[q, "value"]) < 1e-25 and e.loc[q, "z"] == 0.0


def test_random_design_covariance_condition():
    rng = np.random.default_rng(0)
    X, W = rng.standard_normal((3, 9)), rng.standard_normal((2, 3))
    with pytest.raises(gd.GaussDistillError, match="design_cov has condition number"):
        gd.CaseStudy(X, W, noise=0.5, design="random", design_cov=np.diag([1.0, 1.0, 1e-300]))
    cs = gd.CaseStudy(X, W, noise=0.5, design="random", design_cov=np.diag([1.0, 1.0, 1e-12]),
                      teacher_lam=0.0, student_lam=0.0)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        r = gd.simulate_pipeline(cs, replicates=200, seed=0)
    assert not r.bounds["value"].isna().any()
