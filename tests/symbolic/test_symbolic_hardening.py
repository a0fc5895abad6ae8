"""Hostile inputs to gaussdistill.symbolic: every value is a number before sympy sees it.

Each class of bad input ends in a GaussDistillError naming the parameter; nothing is
evaluated (a payload that would create a file must leave no file), nothing returns NaN,
and the cached results cannot be edited in place.
"""
from __future__ import annotations

import dataclasses
import os
import uuid

import numpy as np
import pytest

from gaussdistill import GaussDistillError
from gaussdistill import symbolic as sy

P = dict(k=4, nu=0.8, tau=0.9, lambda_T=0.7, lambda_S=0.4, t_T=0.8, t_S=0.5,
         s=[3.5, 2.0, 1.0], w=[2.5, -1.5, 1.0])
V = dict(k=3, n=50, nu=0.5, tau=0.5, lambda_T=1.0, lambda_S=0.2, t_T=1.0, t_S=1.0,
         s=[4.0, 1.0], w=[1.0, 0.5])


@pytest.fixture
def payload(tmp_path):
    """A string that, if sympified, creates a file; the test asserts the file never exists."""
    flag = f"/tmp/gaussdistill_pwned_{uuid.uuid4().hex}"
    yield f"__import__('os').system('touch {flag}')", flag
    assert not os.path.exists(flag), "the payload was evaluated"


def _conv_total():
    return sy.aligned_decomposition("convexity", d=2).total


ENTRY_POINTS = {
    "optimal_student_ridge": lambda v: sy.optimal_student_ridge(v),
    "optimal_teacher_ridge": lambda v: sy.optimal_teacher_ridge(v),
    "optimal_shrinkage": lambda v: sy.optimal_shrinkage(v, objective="convexity"),
    "optimal_soft_noise": lambda v: sy.optimal_soft_noise(v),
    "oracle_optimal_rank": lambda v: sy.oracle_optimal_rank(v),
    "minimize_parameter": lambda v: sy.minimize_parameter(_conv_total(), "lambda_S", v, (0.0, 1.0),
                                                          sy.model_symbols(2)),
    "evaluate": lambda v: sy.aligned_decomposition("predictive", d=2, rank=1).evaluate(**v),
    "lambdify_mpmath": lambda v: sy.aligned_decomposition("weight", d=2).lambdify("mpmath")(**v),
    "gaps": lambda v: sy.generalization_gaps(d=2).evaluate(**v),
    "gaps_mpmath": lambda v: sy.generalization_gaps(d=2).lambdify("mpmath")(**v),
    "sensitivity": lambda v: sy.sensitivity(sy.aligned_decomposition("convexity", d=2), "tau", v),
}


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
@pytest.mark.parametrize("param", ["lambda_T", "nu", "k", "s"])
def test_code_in_a_value_is_never_evaluated(entry, param, payload):
    code, _flag = payload
    vals = dict(V, s=[code, 1.0]) if param == "s" else dict(V, **{param: code})
    name = "s_1" if param == "s" else param
    with pytest.raises(GaussDistillError, match=rf"^{name}: expected a real number.*never parsed"):
        ENTRY_POINTS[entry](vals)


@pytest.mark.parametrize("bad,match", [
    ("0.9", "never parsed"),               # numeric strings are not parsed either
    (np.nan, "must be finite"), (np.inf, "must be finite"), (-np.inf, "must be finite"),
    (True, "boolean"), (1j, "real number"), ({}, "real number"), (10**400, "float64"),
    (np.array(["1.0"]), "never parsed"),
])
def test_bad_scalar_values_name_the_parameter(bad, match):
    dec = sy.aligned_decomposition("predictive", d=3, rank=1)
    with pytest.raises(GaussDistillError, match=rf"tau.*{match}"):
        dec.evaluate(**dict(P, tau=bad))


@pytest.mark.parametrize("key,value,match", [
    ("w", [np.nan, 1.0, 1.0], r"w_1=nan: must be finite"),
    ("s", [np.inf, 2.0, 1.0], r"s_1=inf: must be finite"),
    ("s", 5.0, r"s: expected a sequence of length d=3"),
    ("s", [1.0, 2.0], r"s: expected a sequence of length d=3"),
    ("k", np.nan, r"k=nan: must be finite"),
    ("k", 4.5, r"k=4.5: must be an integer"),
    ("nu", -1.0, r"nu=-1.0: must be a real number >= 0"),
    ("nu", np.array([0.5, np.nan]), r"nu: every value must be finite"),
])
def test_nan_inf_and_out_of_domain_are_errors_not_nan(key, value, match):
    dec = sy.aligned_decomposition("predictive", d=3, rank=1)
    with pytest.raises(GaussDistillError, match=match):
        dec.evaluate(**dict(P, **{key: value}))
    if not isinstance(value, np.ndarray):  # the mpmath backend takes scalars
        with pytest.raises(GaussDistillError, match=match):
            dec.lambdify("mpmath")(**dict(P, **{key: value}))
    with pytest.raises(GaussDistillError, match=match):
        sy.generalization_gaps(d=3).evaluate(**dict(P, n=20, **{key: value}))


def test_overflow_of_the_result_is_an_error_naming_the_backend():
    dec = sy.aligned_decomposition("convexity", d=1)
    with pytest.raises(GaussDistillError, match="not finite in float64.*mpmath"):
        dec.evaluate(k=2, nu=1e200, tau=1e-200, lambda_T=0.0, lambda_S=0.0, t_T=1.0, t_S=1.0,
                     s=[1.0], w=[1e200])


@pytest.mark.parametrize("dps", [0, -3, 10**6, 2.5, "30", True])
def test_mpmath_digits_must_be_a_sane_integer(dps):
    dec = sy.aligned_decomposition("convexity", d=1)
    with pytest.raises(GaussDistillError, match="dps"):
        dec.lambdify("mpmath", dps=dps)
    with pytest.raises(GaussDistillError, match="dps"):
        sy.generalization_gaps(d=1).lambdify("mpmath", dps=dps)


def test_mpmath_backend_keeps_its_digits():
    dec = sy.aligned_decomposition("convexity", d=1, expectation=False)
    # total = k t_T nu^2 h/(2 tau^2) + ... with lambda_T = 0, t_S = 0: exactly 1/3 here.
    out = dec.lambdify("mpmath", dps=40)(k=2, nu=1.0, tau=1.0, lambda_T=0.0, lambda_S=0.0,
                                        t_T=1.0 / 3.0, t_S=0.0, s=[1.0], w=[1.0])
    import mpmath
    with mpmath.workdps(40):
        assert abs(out["total"] - mpmath.mpf(1.0 / 3.0)) < mpmath.mpf(10) ** -38


@pytest.mark.parametrize("call,match", [
    (lambda: sy.optimal_soft_noise(V, bounds=(-1, 1)), r"outside the domain of tau.*> 0"),
    (lambda: sy.optimal_soft_noise(V, bounds=(0.0, 1)), r"outside the domain of tau"),
    (lambda: sy.optimal_student_ridge(V, bounds=(-5, 1)), r"outside the domain of lambda_S"),
    (lambda: sy.optimal_teacher_ridge(V, bounds=(-5, 1)), r"outside the domain of lambda_T"),
    (lambda: sy.optimal_student_ridge(V, bounds=("0", "1")), r"bounds\[0\].*never parsed"),
    (lambda: sy.optimal_student_ridge(V, bounds=(0, np.inf)), r"bounds\[1\]=inf: must be finite"),
    (lambda: sy.optimal_student_ridge(V, bounds=3), r"bounds=3: expected a pair"),
    (lambda: sy.optimal_student_ridge(V, bounds=(2, 1)), r"need lower < upper"),
    (lambda: sy.optimal_student_ridge([1, 2]), r"values: expected a dict"),
    (lambda: sy.optimal_student_ridge(dict(V, sigma=1.0)), r"unknown parameter.*sigma"),
    (lambda: sy.optimal_student_ridge(dict(V, s=3.0)), r"s: expected a sequence"),
    (lambda: sy.oracle_optimal_rank(V, price="1"), r"price: expected a real number"),
    (lambda: sy.oracle_optimal_rank(V, price=np.nan), r"price=nan: must be finite"),
    (lambda: sy.minimize_parameter(_conv_total(), "lambda_S", V, (0, 1), sy.model_symbols(2),
                                   grid=0), r"grid=0"),
    (lambda: sy.minimize_parameter("x**2", "lambda_S", V, (0, 1), sy.model_symbols(2)),
     r"expr: expected a sympy expression"),
    (lambda: sy.minimize_parameter(_conv_total(), "lambda_S", V, (0, 1), None), r"symbols"),
    (lambda: sy.aligned_decomposition("predictive", d=2).evaluate(
        **dict(P, s=[1.0, 1.0], w=[1.0, 1.0], tau=np.ones(2), nu=np.ones(3))),
     r"shapes do not broadcast together: nu \(3,\), tau \(2,\)"),
    (lambda: sy.aligned_decomposition("predictive", d=2).lambdify("mpmath")(
        **dict(P, s=[1.0, 1.0], w=[1.0, 1.0], tau=np.ones(2))), r"tau: expected a single real"),
    (lambda: sy.aligned_decomposition("predictive", d=2).diff(["a"]), r"name=\['a'\]"),
    (lambda: sy.sensitivity(sy.aligned_decomposition("predictive", d=2), "tau", P, part="x"),
     r"part='x'"),
    (lambda: sy.model_symbols("2"), r"d='2'"),
    (lambda: sy.export_latex(5, "/tmp/x.tex"), r"decompositions\[0\]"),
    (lambda: sy.export_latex(sy.aligned_decomposition("convexity", d=1), ""), r"path=''"),
    (lambda: sy.aligned_decomposition(np.array([])), r"kind="),
    (lambda: sy.aligned_decomposition("predictive", student=["population"], d=2), r"student="),
    (lambda: sy.aligned_decomposition("predictive", d=2).lambdify(np.array([])), r"backend="),
    (lambda: sy.optimal_student_ridge(V, objective=np.array([])), r"objective="),
    (lambda: sy.optimal_student_ridge(V, bounds=np.array(1.0)), r"bounds="),
    (lambda: sy.optimal_student_ridge(dict(V, s=np.array([[1.0], [2.0]]))), r"s_1: expected a single"),
    (lambda: sy.aligned_decomposition("predictive", d=2).evaluate(**dict(P, s=[1.0, 1.0], w=[1.0, 1.0],
                                                                      tau=np.array([]))), r"tau: an empty array"),
    (lambda: sy.monte_carlo_rank(dict(V, k=1e308), draws=3), r"k=.*\[1, 10000\]"),
    (lambda: sy.monte_carlo_rank(dict(V, w=None), draws=3), r"values\['w'\]"),
])
def test_every_bad_input_is_a_gaussdistill_error(call, match):
    with pytest.raises(GaussDistillError, match=match):
        call()


def test_valid_numbers_of_every_kind_are_accepted():
    import fractions

    import mpmath
    import sympy as sp
    dec = sy.aligned_decomposition("convexity", d=2)
    ref = dec.evaluate(**dict(P, s=[2.0, 1.0], w=[1.0, 0.5]))
    for tau in (np.float32(0.9), fractions.Fraction(9, 10), sp.Float(0.9), mpmath.mpf(0.9)):
        out = dec.evaluate(**dict(P, tau=tau, s=[2.0, 1.0], w=[1.0, 0.5]))
        assert out["total"] == pytest.approx(ref["total"], rel=1e-7)
    out = dec.evaluate(**dict(P, k=np.int64(4), s=np.array([2.0, 1.0]), w=(1, 0.5)))
    assert out["total"] == ref["total"]


def test_cached_decomposition_cannot_be_edited_in_place():
    a = sy.aligned_decomposition("convexity", d=2)
    total = a.total
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.total = 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        del a.bias
    with pytest.raises(TypeError):
        a.blocks["bias"] = ()
    with pytest.raises(TypeError):
        a.symbols["tau"] = 1
    b = sy.aligned_decomposition("convexity", d=2)
    assert b is a and b.total == total


def test_cached_gap_expressions_cannot_be_edited_in_place():
    g = sy.generalization_gaps(d=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        g.gen_T = 0
    with pytest.raises(TypeError):
        g.symbols["nu"] = 1
    assert sy.generalization_gaps(d=2) is g


# ----------------------------------------------------------------------------- review round 2
def test_relation_at_never_evaluates_a_value(payload):
    """Relation.at passed the user's values to Expr.subs (sympify: eval) unconverted."""
    code, _flag = payload
    rel = sy.aligned_decomposition("predictive", d=2, rank=1).relations["total"]
    for name in ("lambda_S", "t_T", "nu"):
        with pytest.raises(GaussDistillError, match=rf"^{name}: expected a real number.*never parsed"):
            rel.at(**dict(P, **{name: code}))


@pytest.mark.parametrize("value,match", [
    (np.array([0.0, 1.0]), r"lambda_S: expected a single real number"),
    (-1.0, r"lambda_S=-1.0: must be a real number >= 0"),
    (np.nan, r"lambda_S=nan: must be finite"),
])
def test_relation_at_validates_like_evaluate(value, match):
    rel = sy.aligned_decomposition("convexity", d=3, rank=1).relations["total"]
    with pytest.raises(GaussDistillError, match=match):
        rel.at(**dict(P, lambda_S=value))
    assert rel.at(**dict(P, lambda_S=np.float64(0.0))) == "<="
    assert rel.at(**dict(P, lambda_S=1e-300)) is None


def test_general_at_and_explicit_take_integers_only(payload):
    """general().at(d, r) and notation.explicit substituted r (and d) unconverted: a string
    ran, r = 1.5 recursed without end, r > d or r < 0 gave sums over empty/backward ranges."""
    code, _flag = payload
    G = sy.aligned_decomposition("convexity", d=2, rank=1).general()
    for r, match in ((code, r"^r=.*expected an integer"), (1.5, r"^r=1.5: expected an integer"),
                     (3, r"^r=3: must be an integer in \[0, 2\]"), (-1, r"^r=-1"),
                     (True, r"^r=True")):
        with pytest.raises(GaussDistillError, match=match):
            G.at(2, r)
    for kwargs in (dict(d_value=code), dict(d_value=2, r_value=code), dict(d_value=2.0)):
        with pytest.raises(GaussDistillError, match=r"^[dr]="):
            sy.notation.explicit(G.total, **kwargs)
    assert set(G.at(2, 1)) == {"total", "bias", "variance", "rank"}


def test_cached_teacher_gap_cgf_cannot_be_edited_in_place():
    """teacher_gap_cgf is cached: an attribute set by one caller poisoned every later call."""
    from gaussdistill.symbolic.bounds import teacher_gap_cgf
    cgf = teacher_gap_cgf(2)
    for name in ("psi", "gen_T", "d", "mode_terms"):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(cgf, name, 0)
    assert teacher_gap_cgf(2) is cgf and cgf.psi != 0


def _mp_variance(kind, p, s):
    """(k/2) Σ_j (ρ_j − 1 − ln ρ_j) from the definitions at 80 digits (docs/mathematics.md §2.3)."""
    import mpmath
    with mpmath.workdps(80):
        mp = {key: mpmath.mpf(v) for key, v in p.items() if key not in ("s", "w")}
        total = mpmath.mpf(0)
        for sj in map(mpmath.mpf, s):
            if kind == "weight":   # Σ_S/Σ_T on mode j
                rho = (mp["t_S"] * mp["tau"]**2 / (sj + mp["lambda_S"])) / (
                    mp["t_T"] * mp["nu"]**2 / (sj + mp["lambda_T"]))
            else:                  # V_S/V_T on q_j
                rho = mp["tau"]**2 * (1 + mp["t_S"] * sj / (sj + mp["lambda_S"])) / (
                    mp["tau"]**2 + mp["t_T"] * mp["nu"]**2 * sj / (sj + mp["lambda_T"]))
            total += rho - 1 - mpmath.log(rho)
        return total * mp["k"] / 2


@pytest.mark.parametrize("kind", ["weight", "predictive"])
@pytest.mark.parametrize("ratio", [1e-8, 1e-12, 1e-16, 1e-17, 1e-30, 1e-100])
def test_very_unequal_variances_keep_their_digits(kind, ratio):
    """φ(u) was evaluated from u = ρ − 1 only: at ρ = 1e-12 the variance had relative error
    2.9e-6, at 1e-16 1.3e-2, and at ρ <= 1e-17 (1 + u rounds to 0) a false 'overflow' error;
    the mpmath backend returned +inf at ρ = 1e-100.  The ratio itself is now used away from
    u ≈ 0 (float64 to a few ulps while ρ is a normal float64, mpmath at any ρ)."""
    import mpmath
    s, w = [3.0, 2.0], [1.0, 0.5]
    if kind == "weight":
        p = dict(k=3, nu=1.0, tau=1.0, lambda_T=0.5, lambda_S=0.5, t_T=1.0, t_S=ratio)
    else:
        p = dict(k=3, nu=1.0, tau=float(np.sqrt(ratio)), lambda_T=0.5, lambda_S=0.5, t_T=1.0, t_S=0.0)
    ref = _mp_variance(kind, dict(p, s=s), s)
    dec = sy.aligned_decomposition(kind, d=2, expectation=False)
    got = dec.lambdify("mpmath", dps=30)(**p, s=s, w=w)["variance"]
    assert abs(got - ref) <= mpmath.mpf(10) ** -27 * ref
    if ratio >= 1e-30:
        got = dec.evaluate(**p, s=s, w=w)["variance"]
        assert got == pytest.approx(float(ref), rel=1e-13)


def test_ordering_check_leaks_no_warning_and_orders_beyond_float64():
    """The rank-r ordering check ran in float64 outside np.errstate: inf − inf leaked a
    RuntimeWarning and left the check undecided (NaN compares False: a wrong order passed
    silently, also for the mpmath backend, which now orders in mpmath)."""
    import warnings

    import mpmath
    dec = sy.aligned_decomposition("convexity", d=3, rank=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(GaussDistillError, match=r"cannot be checked in float64.*mpmath"):
            dec.evaluate(**dict(P, tau=1e-200))
        out = dec.lambdify("mpmath")(**dict(P, tau=1e-200))
        assert mpmath.isfinite(out["total"]) and out["total"] > mpmath.mpf("1e400")
        bad = dict(P, s=[1e200, 1e250, 1e300])   # mode 3 is the top one: order violated
        with pytest.raises(GaussDistillError, match="ordering assumption violated"):
            dec.lambdify("mpmath")(**bad)
        with pytest.raises(GaussDistillError, match="ordering|float64"):
            dec.evaluate(**bad)
        with pytest.raises(GaussDistillError, match="ordering assumption violated"):
            sy.generalization_gaps(d=3, rank=1).lambdify("mpmath")(**dict(bad, n=20))


def test_optimisers_name_the_parameter_and_leak_nothing():
    """Before: optimal_soft_noise(weight, t_S=0) raised a raw IndexError (the objective
    lambdified to a constant); an objective free of the parameter did the same; bounds
    (-1e308, 1e308) leaked an overflow RuntimeWarning; monte_carlo_rank with nu = 0 blamed
    'noise' and with w = 1e200 leaked an overflow RuntimeWarning."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(GaussDistillError, match=r"^t_S: the weight divergence needs"):
            sy.optimal_soft_noise(dict(V, t_S=0.0), objective="weight")
        with pytest.raises(GaussDistillError, match=r"width upper - lower overflows"):
            sy.optimal_shrinkage(dict(V, c=1.0), bounds=(-1e308, 1e308))
        flat = sy.minimize_parameter(_conv_total(), "c", V, (0.0, 1.0), sy.model_symbols(2))
        assert flat.derivative == 0.0 and 0.0 <= flat.value <= 1.0   # any c minimises it
        with pytest.raises(GaussDistillError, match=r"^nu=0.0: .*nu > 0"):
            sy.monte_carlo_rank(dict(V, nu=0.0), draws=3)
        with pytest.raises(GaussDistillError, match=r"^risk: not finite in float64"):
            sy.monte_carlo_rank(dict(V, w=[1e200, 1e200]), draws=3)


@pytest.mark.parametrize("call,match", [
    (lambda: sy.describe("x"), r"^describe: expected an AlignedDecomposition"),          # AttributeError
    (lambda: sy.derivation_latex(3), r"^derivation_latex: expected an AlignedDecomposition"),
    (lambda: sy.notation.metric("kl", "student||teacher"), r"^kind='kl' is not supported"),  # KeyError
    (lambda: sy.notation.metric(["convexity"], "x"), r"^kind=\['convexity'\]"),             # TypeError (cache)
    (lambda: sy.notation.variance_ratio("weight", "s||t"), r"^direction='s\|\|t'"),
    (lambda: sy.notation.unfold("h(j)"), r"^expr: expected a sympy expression"),            # AttributeError
])
def test_printing_and_notation_helpers_raise_named_errors(call, match):
    with pytest.raises(GaussDistillError, match=match):
        call()


@pytest.mark.parametrize("kind,student,rank", [
    ("convexity", "population", 1), ("weight", "shrinkage", 1), ("predictive", "population", 1),
    ("predictive", "shrinkage", None), ("convexity", "sampled", 1),
])
@pytest.mark.parametrize("lam", [1e-9, 1e-12])
def test_small_bias_keeps_its_relative_accuracy(kind, student, rank, lam):
    """bias = mean − rank was evaluated as that difference, with 1 − g_j formed as g_j − 1:
    at λ_S = λ_T = 1e-12 a bias of 1.6e-24 came out with relative error 5.5e8 (rank 1) and
    the shrinkage student's 1.8e-4; reference: the same expression at 60 mpmath digits."""
    import mpmath
    p = dict(P, lambda_S=lam, lambda_T=lam, c=1.0, m=3)
    dec = sy.aligned_decomposition(kind, "student||teacher", True, student, d=3, rank=rank)
    ref = dec.lambdify("mpmath", dps=60)(**p)["bias"]
    got = dec.evaluate(**p)["bias"]
    assert abs(mpmath.mpf(got) - ref) <= 1e-12 * abs(ref)


def test_small_risk_keeps_its_digits():
    """risk_T at λ_T = 1e-6, ν = 1e-8 (value 2e-13) had relative error 4.3e-10 (1 − h_j formed
    as h_j − 1); reference: the same expression at 60 mpmath digits."""
    import mpmath
    g = sy.generalization_gaps(d=3, rank=1)
    p = dict(P, n=20, nu=1e-8, lambda_T=1e-6, lambda_S=1e-6, t_T=0.0, t_S=0.0)
    ref = g.lambdify("mpmath", dps=60)(**p)
    got = g.evaluate(**p)
    for key in ("risk_T", "risk_S", "gen_T", "gen_S"):
        assert abs(mpmath.mpf(got[key]) - ref[key]) <= 1e-10 * abs(ref[key]), key
