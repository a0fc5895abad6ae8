r"""Theorem 2: lower bounds on gen_S (docs/mathematics.md §1.2).

Donsker–Varadhan applied to −ηg (η > 0) gives gen_S >= −(K_n + log E_P e^{−ηg})/η. With
the centred CGF ψ of the teacher gap, log E_P e^{−ηg} = −η gen_T + ψ(−η), so

.. math::

    gen_S \ge gen_T - \frac{K_n + ψ(-η)}{η}.

Under the (η, c)-central condition log E_P e^{−ηg} <= −cη gen_T, c in (0, 1):
gen_S >= c·gen_T − K_n/η. Both decrease as K_n grows, so an upper bound on K_n keeps
them valid (looser).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import GaussDistillError
from . import _checks as C
from .result import Assumption, BoundResult, merge_assumptions
from .upper import _divergence_assumption, cgf_bound

_CGF_EXACT = ("ψ is the exact centred CGF of the teacher gap under P_D ⊗ P^T "
              "(or an upper bound on ψ(−η))")


def _psi_at(cgf, eta: np.ndarray, domain, name="eta") -> np.ndarray:
    lo, hi = C.domain_of(cgf, domain)
    outside = -eta < lo
    if outside.any():
        bad = float(eta[outside][0])
        raise GaussDistillError(f"{name} = {bad!r} lies outside the CGF's domain: need -{name} > {lo}")
    psi = C.check_centred(C.eval_cgf(cgf, -eta), -eta)
    if not np.all(np.isfinite(psi)):
        bad = float(eta[~np.isfinite(psi)][0])
        raise GaussDistillError(f"{name} = {bad!r} lies outside the CGF's domain (ψ(-{name}) = +inf)")
    return psi


def dv_lower_bound(divergence_value, cgf, gen_teacher, eta, *, domain=None,
                   divergence: str | None = None, assumptions=()):
    r"""Theorem 2, Donsker–Varadhan form: gen_S >= gen_T − (K + ψ(−η))/η (docs/mathematics.md §1.2).

    ``eta`` > 0, a number (returns one :class:`BoundResult`) or a 1-D array (returns a
    tuple of them, one per η). An η with ψ(−η) = +inf raises. Use
    :func:`best_dv_lower_bound` for the η maximising the bound.
    """
    K = C.divergence_value(divergence_value)
    divergence = C.divergence_name(divergence)
    gT = C.real("gen_teacher", gen_teacher)
    eta_arr = C.real_array("eta", eta, positive=True)
    scalar = eta_arr.ndim == 0
    etas = np.atleast_1d(eta_arr)
    psi = _psi_at(cgf, etas, domain)
    defaults = (_divergence_assumption(K, divergence), Assumption("cgf_exact", "assumed", _CGF_EXACT))
    merged = merge_assumptions(defaults, assumptions)
    out = []
    for e, p in zip(etas, psi):
        value = -math.inf if math.isinf(K) else gT - (K + p) / e
        details: dict = {"eta": float(e), "psi_minus_eta": float(p), "K": K, "gen_teacher": gT,
                   "log_mgf_minus_eta": float(-e * gT + p)}
        if math.isinf(K):
            details["reason"] = "K is infinite: the bound is vacuous"
        out.append(BoundResult(2, "dv", "lower", divergence, value, merged, details))
    return out[0] if scalar else tuple(out)


def best_dv_lower_bound(divergence_value, cgf, gen_teacher, *, domain=None,
                        divergence: str | None = None, assumptions=()) -> BoundResult:
    r"""Theorem 2 at the best η: gen_S >= gen_T − inf_{η>0} (K + ψ(−η))/η.

    This is the lower side of the exact-CGF form of Theorem 1; it is computed by the same
    minimiser and reported with ``details["eta"]`` = the η found.
    """
    r = cgf_bound(divergence_value, cgf, gen_teacher, domain=domain, side="lower",
                  divergence=divergence)
    details = dict(r.details)
    details["eta"] = details.pop("lambda")
    defaults = (r.assumptions[0], Assumption("cgf_exact", "assumed", _CGF_EXACT))
    return BoundResult(2, "dv", "lower", r.divergence, r.value, merge_assumptions(defaults, assumptions), details)


@dataclass(frozen=True)
class CentralConstant:
    """The largest c with log E e^{−ηg} <= −cη gen_T (the (η, c)-central condition).

    c = (η gen_T − ψ(−η)) / (η gen_T) for gen_T > 0; ``admissible`` says whether c lies in
    (0, 1), the range Theorem 2 states. For gen_T <= 0 no c in (0, 1) satisfies the
    condition unless ψ(−η) = 0, and ``c`` is None.
    """

    eta: float
    c: float | None
    admissible: bool
    psi_minus_eta: float
    reason: str = ""

    def to_dict(self) -> dict:
        return {"eta": self.eta, "c": self.c, "admissible": self.admissible,
                "psi_minus_eta": self.psi_minus_eta, "reason": self.reason}


def largest_central_c(cgf, eta, gen_teacher, *, domain=None) -> CentralConstant:
    """Largest c with the (η, c)-central condition, from the exact ψ (docs/mathematics.md §1.2)."""
    e = C.real("eta", eta, positive=True)
    gT = C.real("gen_teacher", gen_teacher)
    p = float(_psi_at(cgf, np.array([e]), domain)[0])
    if gT > 0:
        with np.errstate(over="ignore", divide="ignore"):
            c = 1.0 - p / (e * gT) if e * gT > 0 else -math.inf
        if not math.isfinite(c):   # ψ(−η)/(η gen_T) beyond float64 (e.g. a subnormal gen_T)
            return CentralConstant(e, None, False, p, f"ψ(−η) = {p:.6g} is too large against η gen_T = "
                                   f"{e * gT:.6g}: no admissible c")
        ok = 0.0 < c < 1.0
        reason = "" if ok else (f"c = {c:.6g} is not in (0, 1)" + (": ψ(−η) >= η gen_T, no admissible c"
                                                                    if c <= 0 else ""))
        return CentralConstant(e, float(c), ok, p, reason)
    if gT == 0.0 and p == 0.0:
        return CentralConstant(e, None, True, p, "gen_T = 0 and ψ(−η) = 0: every c satisfies the condition")
    return CentralConstant(e, None, False, p,
                           f"gen_T = {gT:.6g} <= 0: no c in (0, 1) satisfies log E e^(−ηg) <= −cη gen_T "
                           "since ψ(−η) > 0")


def central_bound(divergence_value, eta, c, gen_teacher, *, cgf=None, domain=None,
                  divergence: str | None = None, assumptions=()) -> BoundResult:
    r"""Theorem 2, central form: gen_S >= c·gen_T − K/η (docs/mathematics.md §1.2).

    The (η, c)-central condition log E e^{−ηg} <= −cη gen_T, i.e. ψ(−η) <= (1 − c)η gen_T,
    is ``"assumed"`` unless ``cgf`` is given, in which case it is ``"checked"`` or
    ``"violated"``. c in (0, 1) (the theorem's statement) is checked.
    """
    K = C.divergence_value(divergence_value)
    e = C.real("eta", eta, positive=True)
    cc = C.real("c", c)
    gT = C.real("gen_teacher", gen_teacher)
    divergence = C.divergence_name(divergence)
    details = {"eta": e, "c": cc, "K": K, "gen_teacher": gT}
    if cgf is None:
        central = Assumption("central_condition", "assumed",
                             f"log E e^(−ηg) <= −cη gen_T with η = {e:.6g}, c = {cc:.6g}")
    else:
        p = float(_psi_at(cgf, np.array([e]), domain)[0])
        slack = (1.0 - cc) * e * gT - p
        details["psi_minus_eta"] = p
        details["central_slack"] = slack
        tol = 1e-12 * max(1.0, abs(e * gT), abs(p))
        status = "checked" if slack >= -tol else "violated"
        central = Assumption("central_condition", status,
                             f"ψ(−η) = {p:.6g} vs (1 − c)η gen_T = {(1.0 - cc) * e * gT:.6g}")
    in_unit = 0.0 < cc < 1.0
    unit = Assumption("c_in_unit_interval", "checked" if in_unit else "violated",
                      f"c = {cc:.6g} {'in' if in_unit else 'not in'} (0, 1), the range Theorem 2 states")
    defaults = (_divergence_assumption(K, divergence), central, unit)
    value = -math.inf if math.isinf(K) else cc * gT - K / e
    return BoundResult(2, "central", "lower", divergence, value, merge_assumptions(defaults, assumptions), details)
