r"""Theorem 3 in mean-square form (docs/mathematics.md §1.3, §4.4).

If g(·, D) is twice differentiable with ‖∇²_w g‖_op <= κ on the segments between W_T and
W_S, Taylor's theorem inside the expectation gives, for any coupling of (W_T, W_S) given D,

.. math::

    gen_S \le gen_T + E⟨∇_w g(W_T, D), W_S − W_T⟩ + \frac{κ}{2} ρ^2, \qquad ρ^2 = E‖W_S − W_T‖_F^2 .

With a first-order term of zero this beats Theorem 1's gen_T + sqrt(2σ²K_n) exactly when
ρ < ρ₀ = (8σ²K_n)^{1/4}/√κ.
"""
from __future__ import annotations

import math

from . import _checks as C
from .result import Assumption, BoundResult, merge_assumptions


def sharpness_bound(gen_teacher, first_order, kappa, rho2, *, sigma2=None, divergence_value=None,
                    divergence: str | None = None, assumptions=(), theorem1_value=None) -> BoundResult:
    r"""Theorem 3: gen_S <= gen_T + first_order + κρ²/2 (docs/mathematics.md §4.4).

    Parameters
    ----------
    gen_teacher : float
    first_order : float or None
        E⟨∇_w g(W_T, D), W_S − W_T⟩. None means "taken as <= 0" (then 0 is used and the
        assumption ``first_order`` is recorded as assumed).
    kappa : float >= 0
        Bound on ‖∇²_w g‖_op on the segments (κ = 0: g affine, the bound is an identity
        when first_order is exact).
    rho2 : float >= 0
        ρ² = E‖W_S − W_T‖²_F under the coupling used.
    sigma2, divergence_value : optional
        For the comparison with Theorem 1: details ``theorem1`` = gen_T + sqrt(2σ²K),
        ``rho0`` = (8σ²K)^{1/4}/√κ, ``rho_below_rho0`` and ``tighter`` in
        {"theorem3", "theorem1", "equal"} (comparing the two values; with first_order = 0
        this is ρ < ρ₀). ``theorem1_value`` overrides the Theorem 1 value compared against.
    """
    gT = C.real("gen_teacher", gen_teacher)
    k = C.real("kappa", kappa, nonnegative=True)
    r2 = C.real("rho2", rho2, nonnegative=True, allow_inf=True)
    divergence = C.divergence_name(divergence)
    if first_order is None:
        fo = 0.0
        fo_a = Assumption("first_order", "assumed", "E⟨∇g(W_T, D), W_S − W_T⟩ <= 0 is assumed (0 used)")
    else:
        fo = C.real("first_order", first_order)
        fo_a = Assumption("first_order", "checked", f"first-order term E⟨∇g, W_S − W_T⟩ = {fo:.6g} supplied")
    hess = Assumption("hessian_bound", "assumed",
                      f"‖∇²_w g(·, D)‖_op <= κ = {k:.6g} on the segments between W_T and W_S for almost every D")
    curvature = 0.0 if k == 0.0 else k * r2 / 2.0     # κ = 0: g is affine, no curvature term even if ρ² = inf
    value = gT + fo + curvature
    rho = math.sqrt(r2)
    details: dict = {"gen_teacher": gT, "first_order": fo, "kappa": k, "rho2": r2, "rho": rho,
               "curvature_term": curvature}
    t1 = None
    if sigma2 is not None and divergence_value is not None:
        s2 = C.real("sigma2", sigma2, positive=True, allow_inf=True)
        K = C.divergence_value(divergence_value)
        t1 = gT + math.sqrt(2.0 * s2 * K) if not (math.isinf(s2) or math.isinf(K)) else math.inf
        prod = 8.0 * s2 * K
        details["rho0"] = math.inf if k == 0.0 else (prod ** 0.25) / math.sqrt(k) if math.isfinite(prod) else math.inf
        details["rho_below_rho0"] = bool(rho < details["rho0"])
        details["sigma2"] = s2
        details["K"] = K
    if theorem1_value is not None:
        t1 = C.real("theorem1_value", theorem1_value, allow_inf=True)
    if t1 is not None:
        details["theorem1"] = t1
        if value < t1:
            details["tighter"] = "theorem3"
        elif value > t1:
            details["tighter"] = "theorem1"
        else:
            details["tighter"] = "equal"
    return BoundResult(3, "sharpness", "upper", divergence, value,
                       merge_assumptions((hess, fo_a), assumptions), details)
