"""One table of every bound for one setting: :class:`BoundIngredients` -> pandas DataFrame.

Used by the exact case study and by the simulator (which pass exact or estimated
ingredients). Each row is one (bound, divergence) pair, a bound on gen_S itself.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import GaussDistillError
from . import _checks as C
from .lower import best_dv_lower_bound, central_bound, dv_lower_bound, largest_central_c
from .result import Assumption, BoundResult, FrozenDict
from .sharpness import sharpness_bound
from .upper import SubGaussianProxy, cgf_bound, subgaussian_bound

#: which CGF / proxy each divergence pairs with (docs/mathematics.md §1.1, §4.2)
PAIRING = {"weight": "weight", "predictive": "predictive", "convexity": "predictive"}


def _bool_map(name: str, value, keys) -> Mapping:
    value = dict(value or {})
    for k, v in value.items():
        if k not in C.DIVERGENCES:
            raise GaussDistillError(f"{name} keys must be among {C.DIVERGENCES}; got {k!r}")
        if not isinstance(v, bool):
            raise GaussDistillError(f"{name}[{k!r}] must be True or False; got {v!r}")
    return FrozenDict(value)


@dataclass(frozen=True)
class BoundIngredients:
    """What the bounds need, for one setting (exact or estimated).

    gen_teacher : gen_T.
    divergences : {"weight": K^W, "predictive": K^Y, "convexity": K̄} (any subset; K >= 0, +inf allowed).
    cgf, cgf_domain : ψ of the teacher gap (weight-space form, pairs with "weight").
    cgf_predictive, cgf_predictive_domain : ψ_Y of docs/mathematics.md §4.2 (pairs with
        "predictive" and "convexity").
    sigma2, sigma2_predictive : sub-Gaussian proxies (float, assumed; or a
        :class:`SubGaussianProxy`, checked on its range) for the same pairings.
    kappa, rho2, first_order : Theorem 3 ingredients (first_order None: taken as <= 0).
    divergence_is_upper_bound : {name: True} where the K given only bounds K_n from above
        (e.g. the convexity bound for a sampled rank-r student). Every bound here is
        monotone in K, so all rows stay valid (only looser); the fact is recorded.
    divergence_is_estimate : {name: True} where K is a Monte Carlo estimate.
    etas : η values for the Theorem 2 rows (besides the best η).
    assumptions : extra Assumption objects added to every row (same name replaces).
    sharpness_assumptions : extra Assumption objects for the Theorem 3 rows.
    predictive_assumptions : extra Assumption objects for the rows of the predictive form
        ("predictive" and "convexity" divergences, Theorems 1–2), e.g.
        ``Assumption("predictive_form", "violated", "random design: ...")``.
    """

    gen_teacher: float
    divergences: Mapping[str, float] = field(default_factory=dict)
    cgf: Callable | None = None
    cgf_predictive: Callable | None = None
    sigma2: Any = None
    sigma2_predictive: Any = None
    kappa: float | None = None
    rho2: float | None = None
    first_order: float | None = None
    divergence_is_upper_bound: Mapping[str, bool] = field(default_factory=dict)
    divergence_is_estimate: Mapping[str, bool] = field(default_factory=dict)
    etas: tuple = ()
    cgf_domain: tuple | None = None
    cgf_predictive_domain: tuple | None = None
    assumptions: tuple = ()
    sharpness_assumptions: tuple = ()
    predictive_assumptions: tuple = ()

    def __post_init__(self):
        object.__setattr__(self, "gen_teacher", C.real("gen_teacher", self.gen_teacher))
        if not isinstance(self.divergences, Mapping):
            raise GaussDistillError(f"divergences must be a mapping name -> K; got {type(self.divergences).__name__}")
        divs = {}
        for k, v in self.divergences.items():
            if k not in C.DIVERGENCES:
                raise GaussDistillError(f"divergences keys must be among {C.DIVERGENCES}; got {k!r}")
            divs[k] = C.divergence_value(v, f"divergences[{k!r}]")
        object.__setattr__(self, "divergences", FrozenDict(divs))
        for name in ("cgf", "cgf_predictive"):
            f = getattr(self, name)
            if f is not None and not callable(f):
                raise GaussDistillError(f"{name} must be a callable λ -> ψ(λ) or None; got {type(f).__name__}")
        for name in ("sigma2", "sigma2_predictive"):
            s = getattr(self, name)
            if s is not None and not isinstance(s, SubGaussianProxy):
                object.__setattr__(self, name, C.real(name, s, positive=True, allow_inf=True))
        if self.kappa is not None:
            object.__setattr__(self, "kappa", C.real("kappa", self.kappa, nonnegative=True))
        if self.rho2 is not None:
            object.__setattr__(self, "rho2", C.real("rho2", self.rho2, nonnegative=True, allow_inf=True))
        if self.first_order is not None:
            object.__setattr__(self, "first_order", C.real("first_order", self.first_order))
        object.__setattr__(self, "divergence_is_upper_bound",
                           _bool_map("divergence_is_upper_bound", self.divergence_is_upper_bound, divs))
        object.__setattr__(self, "divergence_is_estimate",
                           _bool_map("divergence_is_estimate", self.divergence_is_estimate, divs))
        raw = () if self.etas is None else self.etas
        if not isinstance(raw, (str, bytes)) and not np.isscalar(raw):
            try:
                raw = list(raw)
            except TypeError:
                raise GaussDistillError(f"etas must be a number or a sequence of numbers > 0; got "
                                        f"{type(raw).__name__}") from None
        etas = C.real_array("etas", raw, positive=True)   # a single η is a 0-d array
        object.__setattr__(self, "etas", tuple(float(e) for e in etas.ravel()))
        for name in ("cgf_domain", "cgf_predictive_domain"):
            d = getattr(self, name)
            if d is not None:
                object.__setattr__(self, name, C.domain_of(None, d, name))
        for name in ("assumptions", "sharpness_assumptions", "predictive_assumptions"):
            items = tuple(getattr(self, name) or ())
            for a in items:
                if not isinstance(a, Assumption):
                    raise GaussDistillError(f"{name} must hold Assumption objects; got {type(a).__name__}")
            object.__setattr__(self, name, items)

    def pairing(self, divergence: str):
        """(ψ, domain, σ²) used with a divergence."""
        if PAIRING[divergence] == "weight":
            return self.cgf, self.cgf_domain, self.sigma2
        return self.cgf_predictive, self.cgf_predictive_domain, self.sigma2_predictive


def _row_assumptions(ing: BoundIngredients, name: str, K: float) -> tuple:
    extra = []
    if ing.divergence_is_upper_bound.get(name, False):
        extra.append(Assumption("divergence", "assumed",
                                f"K = {K:.6g} is an upper bound on K_n, not K_n itself; every bound is monotone "
                                "in K (upper bounds rise, lower bounds fall as K grows), so the bound stays valid"))
    if ing.divergence_is_estimate.get(name, False):
        extra.append(Assumption("divergence", "assumed",
                                f"K = {K:.6g} is a Monte Carlo estimate of K_n (sampling error not included)"))
    if PAIRING[name] == "predictive":
        extra.append(Assumption("predictive_form", "assumed",
                                "fixed design: g is affine in the predictions WX, and ψ_Y is the CGF of "
                                "docs/mathematics.md §4.2 (soft-label channel noise τ included)"))
    if PAIRING[name] == "predictive":
        extra.extend(ing.predictive_assumptions)
    return tuple(extra) + tuple(ing.assumptions)


def bound_results(ing: BoundIngredients) -> tuple:
    """Every bound the ingredients allow, as BoundResult objects (the rows of :func:`bound_table`)."""
    if not isinstance(ing, BoundIngredients):
        raise GaussDistillError(f"ingredients must be a BoundIngredients; got {type(ing).__name__}")
    gT = ing.gen_teacher
    rows: list[BoundResult] = []
    have_sharp = ing.kappa is not None and ing.rho2 is not None
    for name, K in ing.divergences.items():
        psi, dom, s2 = ing.pairing(name)
        extra = _row_assumptions(ing, name, K)
        t1_upper = None
        if s2 is not None:
            for side in ("upper", "lower"):
                r = subgaussian_bound(K, s2, gT, side=side, divergence=name, assumptions=extra)
                rows.append(r)
                if side == "upper":
                    t1_upper = r
        if psi is not None:
            up = cgf_bound(K, psi, gT, domain=dom, side="upper", divergence=name, assumptions=extra)
            rows.append(up)
            if t1_upper is None:
                t1_upper = up
            rows.append(cgf_bound(K, psi, gT, domain=dom, side="lower", divergence=name, assumptions=extra))
            best = best_dv_lower_bound(K, psi, gT, domain=dom, divergence=name, assumptions=extra)
            rows.append(best)
            lo, _ = C.domain_of(psi, dom)
            etas = [e for e in ing.etas if -e > lo]
            usable = []
            for e in etas:
                try:  # an η where ψ(−η) = +inf (a closed-domain edge) gives no row
                    rows.append(dv_lower_bound(K, psi, gT, e, domain=dom, divergence=name, assumptions=extra))
                    usable.append(e)
                except GaussDistillError:
                    continue
            central_etas = usable
            eb = best.details.get("eta", math.nan)
            if not central_etas and isinstance(eb, float) and math.isfinite(eb) and eb > 0:
                central_etas = [eb]
            for e in central_etas:
                try:
                    cc = largest_central_c(psi, e, gT, domain=dom)
                except GaussDistillError:
                    continue  # ψ(−η) infinite: no central row at this η
                if cc.c is None:
                    continue
                r = central_bound(K, e, cc.c, gT, cgf=psi, domain=dom, divergence=name, assumptions=extra)
                rows.append(r)
        if have_sharp:
            t1v = None if t1_upper is None else t1_upper.value
            s2_value = s2.sigma2 if isinstance(s2, SubGaussianProxy) else s2
            rows.append(sharpness_bound(gT, ing.first_order, ing.kappa, ing.rho2, sigma2=s2_value,
                                        divergence_value=K, divergence=name,
                                        assumptions=tuple(ing.assumptions) + tuple(ing.sharpness_assumptions),
                                        theorem1_value=t1v))
    if have_sharp and not ing.divergences:
        rows.append(sharpness_bound(gT, ing.first_order, ing.kappa, ing.rho2,
                                    assumptions=tuple(ing.assumptions) + tuple(ing.sharpness_assumptions)))
    return tuple(rows)


def _theorem1_compared(r: BoundResult, sharp: list) -> str | None:
    for s in sharp:
        if s.divergence == r.divergence and s.details.get("theorem1") == r.value:
            t = s.details.get("tighter")
            return t
    return None


def bound_table(ingredients: BoundIngredients, gen_student=None):
    """A pandas DataFrame with one row per (bound, divergence).

    Columns: theorem, form, divergence, side, value, valid, failed_assumptions (comma
    separated), assumptions ("name:status; ..."), vacuous, lambda, eta, c, tighter
    (Theorem 3 rows and the Theorem 1 upper row they are compared with: "theorem3",
    "theorem1" or "equal"), rho, rho0, and, when ``gen_student`` is given, gen_student,
    slack (value − gen_S for upper, gen_S − value for lower; >= 0 iff it holds) and holds
    (slack >= −1e-12·max(1, |value|, |gen_S|): float64 rounding at equality cases only).
    """
    import pandas as pd

    gS = None if gen_student is None else C.real("gen_student", gen_student)
    results = bound_results(ingredients)
    sharp = [r for r in results if r.form == "sharpness"]
    records = []
    for r in results:
        d = r.details
        tighter = d.get("tighter") if r.form == "sharpness" else (
            _theorem1_compared(r, sharp) if r.theorem == 1 and r.side == "upper" else None)
        rec = {
            "theorem": r.theorem, "form": r.form, "divergence": r.divergence, "side": r.side,
            "value": r.value, "valid": r.valid, "failed_assumptions": ", ".join(r.failed),
            "assumptions": "; ".join(f"{a.name}:{a.status}" for a in r.assumptions),
            "vacuous": r.vacuous,
            "lambda": d.get("lambda", math.nan) if r.theorem == 1 else math.nan,
            "eta": d.get("eta", math.nan), "c": d.get("c", math.nan),
            "tighter": tighter, "rho": d.get("rho", math.nan), "rho0": d.get("rho0", math.nan),
        }
        if gS is not None:
            rec["gen_student"] = gS
            rec["slack"] = r.slack(gS)
            rec["holds"] = bool(r.holds_for(gS))
        records.append(rec)
    return pd.DataFrame.from_records(records)
