"""bound_table / BoundIngredients: one row per (bound, divergence); valid rows hold on an
exact example (a tilted discrete law, where gen_S and K are known in closed form)."""

import numpy as np
import pytest

import gaussdistill as gd
from gaussdistill import bounds as B

from oracles.discrete import DiscreteCGF

PSI = DiscreteCGF([0.0, 1.0, 3.0, -2.0], [0.4, 0.3, 0.2, 0.1])
COLUMNS = {"theorem", "form", "divergence", "side", "value", "valid", "failed_assumptions",
           "assumptions", "tighter", "gen_student", "slack", "holds"}


@pytest.mark.parametrize("lam0", [-1.0, -0.2, 0.3, 1.5])
def test_every_valid_row_holds_on_a_tilted_law(lam0):
    K, gS = PSI.tilt(lam0)
    proxy = B.subgaussian_proxy(PSI, (-2.0, 2.0))  # bounded gap: finite everywhere
    ing = B.BoundIngredients(
        PSI.mean, {"weight": K, "convexity": K + 0.5}, cgf=PSI, cgf_predictive=PSI,
        sigma2=proxy, sigma2_predictive=proxy, kappa=1.0, rho2=0.1, first_order=gS - PSI.mean - 0.05,
        divergence_is_upper_bound={"convexity": True}, etas=(0.5, 1.0),
    )
    df = B.bound_table(ing, gen_student=gS)
    assert COLUMNS <= set(df.columns)
    assert set(df["theorem"]) == {1, 2, 3}
    assert set(df["form"]) == {"subgaussian", "cgf", "dv", "central", "sharpness"}
    valid = df[df["valid"]]
    assert len(valid) >= 12
    assert (valid["slack"] >= -1e-10).all(), valid[valid["slack"] < -1e-10]
    assert valid["holds"].all()  # equality cases hold up to the documented rounding tolerance
    # an upper bound on K keeps all rows valid (every bound is monotone in K)
    conv = df[df["divergence"] == "convexity"]
    assert set(conv.loc[~conv["valid"], "failed_assumptions"]) <= {"c_in_unit_interval"}
    assert list(conv["valid"]) == list(df.loc[df["divergence"] == "weight", "valid"])
    # invalid rows name what failed
    assert (df.loc[~df["valid"], "failed_assumptions"] != "").all()
    # the Theorem 1 cgf bound is tight at the tilted law for the exact K (weight row)
    w = df[(df["divergence"] == "weight") & (df["form"] == "cgf") & (df["side"] == ("upper" if lam0 > 0 else "lower"))]
    assert abs(float(w["slack"].iloc[0])) < 1e-9
    # Theorem 3 row says which is tighter, and the Theorem 1 row it was compared with agrees
    sh = df[(df["form"] == "sharpness") & (df["divergence"] == "weight")]
    t1 = df[(df["form"] == "subgaussian") & (df["side"] == "upper") & (df["divergence"] == "weight")]
    assert sh["tighter"].iloc[0] == t1["tighter"].iloc[0] in ("theorem1", "theorem3", "equal")
    expect = "theorem3" if sh["value"].iloc[0] < t1["value"].iloc[0] else "theorem1"
    assert sh["tighter"].iloc[0] == expect


def test_rows_and_failures_named():
    chi = B.QuadraticFormCGF([1.0], [0.0])
    bad_proxy = B.subgaussian_proxy(chi, (-1.0, 0.9))
    ing = B.BoundIngredients(1.0, {"weight": 0.2}, cgf=chi, sigma2=bad_proxy)
    df = B.bound_table(ing)
    sg = df[df["form"] == "subgaussian"]
    assert len(sg) == 2 and not sg["valid"].any() and (sg["failed_assumptions"] == "subgaussian").all()
    assert "slack" not in df.columns
    cg = df[df["form"] == "cgf"]
    assert cg["valid"].all() and len(cg) == 2


def test_predictive_rows_use_the_predictive_cgf_and_record_it():
    psi_w = B.QuadraticFormCGF([0.0], [1.0])
    psi_y = B.QuadraticFormCGF([0.0], [2.0])
    ing = B.BoundIngredients(0.0, {"weight": 0.5, "predictive": 0.5}, cgf=psi_w, cgf_predictive=psi_y)
    df = B.bound_table(ing)

    def row(div):
        return df[(df["form"] == "cgf") & (df["divergence"] == div) & (df["side"] == "upper")].iloc[0]

    # ψ = s²λ²/2: gen_T + sqrt(2 s² K) with s = 1 and 2
    assert row("weight")["value"] == pytest.approx(1.0, rel=1e-10)
    assert row("predictive")["value"] == pytest.approx(2.0, rel=1e-10)
    assert "predictive_form:assumed" in row("predictive")["assumptions"]
    assert "predictive_form" not in row("weight")["assumptions"]
    bad = B.Assumption("predictive_form", "violated", "random design")
    df2 = B.bound_table(B.BoundIngredients(0.0, {"weight": 0.5, "predictive": 0.5}, cgf=psi_w,
                                           cgf_predictive=psi_y, predictive_assumptions=(bad,)))
    assert (df2.loc[df2["divergence"] == "predictive", "failed_assumptions"] == "predictive_form").all()
    assert df2.loc[df2["divergence"] == "weight", "valid"].all()


def test_only_sharpness_and_results_are_picklable():
    import pickle

    ing = B.BoundIngredients(0.1, {}, kappa=2.0, rho2=0.01, first_order=0.0)
    rows = B.bound_results(ing)
    assert len(rows) == 1 and rows[0].divergence is None and rows[0].value == pytest.approx(0.11)
    assert pickle.loads(pickle.dumps(rows))[0].details["rho"] == pytest.approx(0.1)
    assert pickle.loads(pickle.dumps(ing)).gen_teacher == 0.1


@pytest.mark.parametrize("kwargs, match", [
    (dict(gen_teacher="1"), "gen_teacher"),
    (dict(gen_teacher=1.0, divergences={"weights": 1.0}), "divergences"),
    (dict(gen_teacher=1.0, divergences={"weight": -1.0}), "divergences"),
    (dict(gen_teacher=1.0, divergences={"weight": float("nan")}), "divergences"),
    (dict(gen_teacher=1.0, cgf=3.0), "cgf"),
    (dict(gen_teacher=1.0, sigma2=0.0), "sigma2"),
    (dict(gen_teacher=1.0, kappa=-1.0), "kappa"),
    (dict(gen_teacher=1.0, etas=(0.0,)), "etas"),
    (dict(gen_teacher=1.0, etas="1"), "etas"),
    (dict(gen_teacher=1.0, divergence_is_upper_bound={"weight": 1}), "divergence_is_upper_bound"),
    (dict(gen_teacher=1.0, cgf_domain=(1.0, 2.0)), "cgf_domain"),
    (dict(gen_teacher=1.0, assumptions=("x",)), "assumptions"),
])
def test_ingredients_bad_input(kwargs, match):
    with pytest.raises(gd.GaussDistillError, match=match):
        B.BoundIngredients(**kwargs)


def test_table_bad_input():
    with pytest.raises(gd.GaussDistillError, match="ingredients"):
        B.bound_table({"gen_teacher": 1.0})
    with pytest.raises(gd.GaussDistillError, match="gen_student"):
        B.bound_table(B.BoundIngredients(1.0), gen_student="x")


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=30, deadline=None)
@given(
    values=st.lists(st.floats(-3, 3), min_size=2, max_size=5, unique=True),
    weights=st.lists(st.floats(0.05, 1.0), min_size=5, max_size=5),
    lam0=st.floats(-2.0, 2.0),
    extra_K=st.floats(0.0, 1.0),
    etas=st.lists(st.floats(0.05, 3.0), min_size=0, max_size=3),
)
def test_property_valid_rows_hold(values, weights, lam0, extra_K, etas):
    """On any discrete law P and its tilt Q ∝ P e^{λ₀g} (K = KL(Q‖P) exact, or inflated),
    every valid row of the table holds for gen_S = E_Q g."""
    p = np.array(weights[: len(values)])
    psi = DiscreteCGF(values, p / p.sum())
    K, gS = psi.tilt(lam0)
    K = max(K, 0.0)       # the oracle's KL at λ₀ ~ 1e-50 can round to -1e-52 (found by hypothesis)
    ing = B.BoundIngredients(psi.mean, {"weight": K + extra_K}, cgf=psi,
                             sigma2=B.subgaussian_proxy(psi, (-4.0, 4.0)), etas=tuple(etas))
    df = B.bound_table(ing, gen_student=gS)
    assert len(df) >= 4
    assert df.loc[df["valid"], "holds"].all(), df[df["valid"] & ~df["holds"]]
