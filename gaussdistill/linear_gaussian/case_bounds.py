r"""The bounds of one case-study setting: its ingredients (exact or estimated) → the bound table.

Divergences pair with the teacher-gap CGFs as in docs/mathematics.md §4.2 (K^W with ψ, K^Y and
K̄ with ψ_Y); a sampled rank-r student's K is its convexity upper bound E_Ŷ KL
(docs/mathematics.md §4.3), which keeps every bound valid (each is monotone in K); Theorem 3's
curvature assumption is checked per design (docs/mathematics.md §4.4).
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .case_moments import KINDS

if TYPE_CHECKING:  # pragma: no cover
    from .case_study import CaseStudy

#: λ-grid size of the sub-Gaussian proxy fitted to ψ on half its domain (then refined by the maximiser).
PROXY_GRID = 100


def bound_ingredients_for(cs: CaseStudy, values: dict, etas=()):
    """:class:`gaussdistill.bounds.BoundIngredients` from a dict of values (exact or estimated).

    ``values`` keys: gen_T, K_weight, K_predictive, K_convexity, psi, psi_Y (optional), kappa,
    rho2, first_order, and ``estimated`` (a set of the keys that are Monte Carlo estimates).
    """
    from ..bounds import Assumption, BoundIngredients, SubGaussianProxy, subgaussian_proxy
    est = set(values.get("estimated", ()))
    psi, psi_y = values.get("psi"), values.get("psi_Y")
    divs = {kd: values[f"K_{kd}"] for kd in KINDS if f"K_{kd}" in values}
    assumptions = []
    if "psi" in est:
        assumptions.append(Assumption("cgf_exact", "assumed",
                                      "ψ is the empirical CGF of the simulated teacher gaps (a Monte Carlo estimate, "
                                      "trusted only where the exponential weights keep an effective sample size)"))
    if cs.design == "random" and psi_y is None:
        psi_y = psi               # the predictive form is not proved here: the rows are kept, marked violated
        assumptions_pred = Assumption("predictive_form", "violated",
                                      "random design: g(W, D) is not a function of the predictions W X on the "
                                      "training inputs, so the predictive form of Theorem 1 does not apply")
    else:
        assumptions_pred = None
    sharp = []
    if cs.design == "fixed":
        sharp.append(Assumption("hessian_bound", "checked", "fixed design: g(·, D) is affine in W, κ = 0"))
    elif "kappa" in values:
        sharp.append(Assumption("hessian_bound", "checked",
                                "random design: ‖∇²g(·, D)‖_op = κ(D) = 2‖Σ_x − XXᵀ/n‖_op per data set; κ given is "
                                "E[κ(D)‖W_S − W_T‖²]/E‖W_S − W_T‖², so κρ²/2 = E[κ(D)‖W_S − W_T‖²]/2"))

    if "first_order" in est and values.get("first_order") is not None:
        # not "checked": a Monte Carlo mean carries sampling error; in the fixed design Theorem 3 is an
        # identity (κ = 0), so with an estimated first-order term its row estimates gen_S, it does not bound it
        sharp.append(Assumption("first_order", "assumed",
                                f"E⟨∇g(W_T, D), W_S − W_T⟩ = {values['first_order']:.6g} is a Monte Carlo estimate "
                                "(sampling error not included)"))

    def proxy(f):
        if f is None:
            return None
        lo, hi = f.domain
        if lo == hi == 0.0:   # too few replicates: no λ where the empirical CGF can be trusted
            return SubGaussianProxy(math.inf, (0.0, 0.0), False, math.nan,
                                    "the empirical CGF has no λ ≠ 0 with an effective sample size of at least 10: "
                                    "too few replicates to check sub-Gaussianity")
        return subgaussian_proxy(f, (max(lo / 2, -1e6), min(hi / 2, 1e6)), grid=PROXY_GRID)

    upper = {kd: True for kd in divs} if (cs.student == "sampled" and not cs.linear_student) else {}
    ing = BoundIngredients(
        gen_teacher=values["gen_T"], divergences=divs, cgf=psi, cgf_predictive=psi_y,
        sigma2=proxy(psi), sigma2_predictive=proxy(psi_y),
        kappa=values.get("kappa"), rho2=values.get("rho2"), first_order=values.get("first_order"),
        divergence_is_upper_bound=upper,
        divergence_is_estimate={kd: True for kd in divs if f"K_{kd}" in est},
        etas=etas, assumptions=tuple(assumptions), sharpness_assumptions=tuple(sharp))
    return ing, assumptions_pred


def bound_table_for(cs: CaseStudy, values: dict, gen_student=None, etas=()):
    """:func:`gaussdistill.bounds.bound_table` for this setting (see :func:`bound_ingredients_for`)."""
    from ..bounds import bound_table
    ing, pred_violation = bound_ingredients_for(cs, values, etas)
    gS = values.get("gen_S") if gen_student is None else gen_student
    table = bound_table(ing, gen_student=gS)
    if pred_violation is not None and len(table):
        rows = table["divergence"].isin(["predictive", "convexity"]) & (table["form"] != "sharpness")
        table.loc[rows, "valid"] = False
        table.loc[rows, "failed_assumptions"] = table.loc[rows, "failed_assumptions"].map(
            lambda s: "predictive_form" + (", " + s if s else ""))
        table.loc[rows, "assumptions"] = table.loc[rows, "assumptions"].str.replace(
            "predictive_form:assumed", "predictive_form:violated")
    return table


__all__ = ["bound_ingredients_for", "bound_table_for", "PROXY_GRID"]
