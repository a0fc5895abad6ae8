r"""Theorem 1: upper and lower bounds on gen_S from the distillation divergence K_n.

docs/mathematics.md §1.1 (and §4.2 for the predictive form). With the teacher gap
g = g(W_T, D_n) under P_D ⊗ P^T and its centred CGF ψ(λ) = log E exp(λ(g − gen_T)),
Donsker–Varadhan applied to λg with Q = P_D ⊗ P^S, P = P_D ⊗ P^T gives for every λ > 0

.. math::

    gen_S - gen_T \le \frac{K_n + ψ(λ)}{λ}, \qquad gen_T - gen_S \le \frac{K_n + ψ(-λ)}{λ},

and with a σ-sub-Gaussian gap (ψ(λ) <= λ²σ²/2) |gen_S − gen_T| <= sqrt(2σ²K_n).
Both sides increase with K_n, so an upper bound on K_n may be plugged in.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import GaussDistillError
from . import _checks as C
from ._minimise import minimise_ratio
from .result import Assumption, BoundResult, merge_assumptions


def _divergence_assumption(K: float, divergence, upper_bound: bool = False) -> Assumption:
    what = {"weight": "K^W (weight-space KL)", "predictive": "K^Y (predictive KL)",
            "convexity": "K̄ (convexity bound, >= K^Y)", None: "K_n"}[divergence]
    detail = (f"K = {K:.6g} is {what} = E_D KL(student ‖ teacher) (direction student‖teacher), "
              "or an upper bound on it: every bound here is monotone in K (looser as K grows)")
    if upper_bound:
        detail = (f"K = {K:.6g} is only an upper bound on {what}; still valid because the bound "
                  "loosens monotonically as K grows (upper bounds rise, lower bounds fall)")
    return Assumption("divergence", "assumed", detail)


def _side_sign(side: str) -> float:
    return 1.0 if side == "upper" else -1.0


def subgaussian_bound(divergence_value, sigma2, gen_teacher, *, side: str = "upper",
                      divergence: str | None = None, assumptions=(), lam_range=None) -> BoundResult:
    r"""Theorem 1, sub-Gaussian form (docs/mathematics.md §1.1).

    upper: gen_S <= gen_T + sqrt(2σ²K);  lower: gen_S >= gen_T − sqrt(2σ²K).

    ``sigma2`` may be a float (the sub-Gaussian proxy, taken as an assumption) or a
    :class:`SubGaussianProxy` (then the assumption is ``"checked"`` when ψ <= λ²σ²/2 was
    verified on its range and ``"violated"`` when ψ is infinite there). When the proxy only
    holds on a range of λ (``lam_range``, or the proxy's own range), the optimal
    λ* = sqrt(2K/σ²) is clipped to that range and the value is
    gen_T ± (K/λ + σ²λ/2) at the clipped λ (still a valid bound; equal to sqrt(2σ²K) when
    λ* lies in the range).
    """
    K = C.divergence_value(divergence_value)
    side = C.side(side)
    divergence = C.divergence_name(divergence)
    gT = C.real("gen_teacher", gen_teacher)
    proxy = None
    if isinstance(sigma2, SubGaussianProxy):
        proxy = sigma2
        s2 = proxy.sigma2
        if lam_range is None:
            lam_range = proxy.lam_range
        if proxy.valid:
            sub = Assumption("subgaussian", "checked",
                             f"ψ(λ) <= λ²σ²/2 verified on λ in {proxy.lam_range} (σ² = {s2:.6g})")
        else:
            sub = Assumption("subgaussian", "violated", proxy.reason)
    else:
        s2 = C.real("sigma2", sigma2, positive=True, allow_inf=True)
        sub = Assumption("subgaussian", "assumed",
                         f"the teacher gap is sub-Gaussian with proxy σ² = {s2:.6g}: ψ(λ) <= λ²σ²/2")
    defaults = (_divergence_assumption(K, divergence), sub)
    details: dict = {"sigma2": s2, "K": K, "gen_teacher": gT}
    if math.isinf(s2) or math.isinf(K):
        value = math.inf
        details["reason"] = "σ² or K is infinite: the bound is vacuous"
        details["lambda"] = math.nan
    elif K == 0.0:
        value = 0.0
        details["lambda"] = math.inf
    else:
        # σ² = 0 (a constant gap, e.g. a variance below float64's range): λ* = +inf, value -> 0.
        lam = math.sqrt(2.0 * K / s2) if s2 > 0.0 else math.inf
        if lam_range is not None:
            lo, hi = C.domain_of(None, lam_range, "lam_range")
            cap = hi if side == "upper" else -lo
            if cap <= 0:
                raise GaussDistillError(f"lam_range {lam_range!r} contains no λ on the {side} side")
            if lam > cap:
                details["clipped"] = True
                details["lambda_unclipped"] = lam
                lam = cap
        value = 0.0 if math.isinf(lam) else K / lam + s2 * lam / 2.0
        details["lambda"] = lam
    sign = _side_sign(side)
    return BoundResult(1, "subgaussian", side, divergence, gT + sign * value,
                       merge_assumptions(defaults, assumptions), details)


def cgf_bound(divergence_value, cgf, gen_teacher, *, domain=None, side: str = "upper",
              divergence: str | None = None, assumptions=()) -> BoundResult:
    r"""Theorem 1, exact-CGF form (docs/mathematics.md §1.1).

    upper: gen_S <= gen_T + inf_{λ>0} (K + ψ(λ))/λ;
    lower: gen_S >= gen_T − inf_{λ>0} (K + ψ(−λ))/λ,

    with ψ the centred CGF of the teacher gap (ψ(0) = 0), a callable (vectorised or
    scalar) returning +inf outside its domain. ``domain`` = (lo, hi) (default
    ``cgf.domain`` if present, else the whole line). K = 0 gives gen_T exactly
    (the limit λ -> 0); K = +inf gives ±inf with a reason.
    """
    K = C.divergence_value(divergence_value)
    side = C.side(side)
    divergence = C.divergence_name(divergence)
    gT = C.real("gen_teacher", gen_teacher)
    lo, hi = C.domain_of(cgf, domain)
    if not callable(cgf):
        raise GaussDistillError(f"cgf must be a callable λ -> ψ(λ); got {type(cgf).__name__}")
    sign = _side_sign(side)
    cap = hi if side == "upper" else -lo
    defaults = (_divergence_assumption(K, divergence),
                Assumption("cgf_exact", "assumed",
                           "ψ is the exact centred CGF of the teacher gap under P_D ⊗ P^T (or an upper bound on it)"))
    details = {"K": K, "gen_teacher": gT, "domain": (lo, hi)}
    if math.isinf(K):
        details.update(reason="K is infinite: the bound is vacuous", **{"lambda": math.nan})
        value = math.inf
    elif K == 0.0:
        details.update(reason="K = 0: the infimum is the limit λ -> 0, where (K + ψ(λ))/λ -> 0", **{"lambda": 0.0})
        value = 0.0
    elif cap <= 0.0:
        details.update(reason=f"ψ has no finite value on the {side} side (domain {(lo, hi)}): vacuous",
                       **{"lambda": math.nan})
        value = math.inf
    else:
        opt = minimise_ratio(K, cgf, sign, cap)
        value = opt["value"]
        details.update({"lambda": opt["lambda"], "evaluations": opt["evaluations"],
                        "at_edge": opt["at_edge"], "at_infinity": opt["at_infinity"],
                        "reason": opt["reason"]})
    return BoundResult(1, "cgf", side, divergence, gT + sign * value,
                       merge_assumptions(defaults, assumptions), details)


def stability_sigma2(beta, loss_bound, n) -> float:
    r"""σ² from uniform stability (docs/mathematics.md §1.1): σ² = n (2β + M/n)² / 4.

    For a loss in [0, M] and a uniformly β-stable teacher, replacing one of the n samples
    moves the gap by at most c = 2β + M/n; McDiarmid's inequality makes the gap
    sub-Gaussian with proxy n c²/4.
    """
    b = C.real("beta", beta, nonnegative=True)
    M = C.real("loss_bound", loss_bound, nonnegative=True)
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or not 1 <= n <= 2**53:
        raise GaussDistillError(f"n must be a positive integer <= 2**53; got {n!r}"[:200])
    c = 2.0 * b + M / n
    s2 = n * c * c / 4.0
    if s2 <= 0:
        raise GaussDistillError("beta and loss_bound are both 0: the gap is constant (σ² = 0); no proxy is needed")
    return s2


@dataclass(frozen=True)
class SubGaussianProxy:
    """The best sub-Gaussian proxy of a known CGF on a λ-range.

    sigma2 = sup over λ in the range (λ ≠ 0) of 2ψ(λ)/λ²: the smallest σ² with
    ψ(λ) <= λ²σ²/2 on the range (docs/mathematics.md §1.1). ``valid`` is False (and
    sigma2 = +inf) when ψ is infinite somewhere in the range, i.e. the range leaves
    the CGF's domain and the gap is not sub-Gaussian there.
    """

    sigma2: float
    lam_range: tuple
    valid: bool
    argmax: float
    reason: str = ""

    def to_dict(self) -> dict:
        return {"sigma2": self.sigma2, "lam_range": list(self.lam_range), "valid": self.valid,
                "argmax": self.argmax, "reason": self.reason}


def subgaussian_proxy(cgf, lam_range, *, grid: int = 400) -> SubGaussianProxy:
    """Smallest σ² with ψ(λ) <= λ²σ²/2 for λ in ``lam_range`` = (lo, hi), lo <= 0 <= hi.

    Evaluated on a grid (logarithmic towards 0 on each side, plus linear) and refined by a
    bounded maximisation around the best grid point. The endpoints are included.
    """
    from scipy.optimize import minimize_scalar

    lo, hi = C.domain_of(None, lam_range, "lam_range")
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise GaussDistillError(
            f"lam_range must be finite; got {lam_range!r} (use a finite range and check ψ's domain)")
    if lo == hi == 0.0:
        raise GaussDistillError("lam_range must contain a nonzero λ")
    if isinstance(grid, bool) or not isinstance(grid, (int, np.integer)) or grid < 10:
        raise GaussDistillError(f"grid must be an integer >= 10; got {grid!r}")
    pts = []
    for end in (lo, hi):
        if end != 0.0:
            pts.append(end * np.logspace(-8, 0, grid))
            pts.append(end * np.linspace(0, 1, grid)[1:])
    lam = np.unique(np.concatenate(pts))
    lam = lam[lam != 0.0]
    psi = C.check_centred(C.eval_cgf(cgf, lam), lam)
    if not np.all(np.isfinite(psi)):
        bad = lam[~np.isfinite(psi)]
        where = float(bad[np.argmin(np.abs(bad))])
        return SubGaussianProxy(math.inf, (lo, hi), False, where,
                                f"ψ is +inf at λ = {where:.6g} inside lam_range {(lo, hi)}: the range leaves the CGF's "
                                "domain, so the gap is not sub-Gaussian there")
    with np.errstate(over="ignore"):         # a ratio beyond float64 is an infinite proxy
        ratio = 2.0 * (psi / lam) / lam      # not psi/λ²: λ² underflows for λ < 1e-154
    i = int(np.argmax(ratio))
    best, arg = float(ratio[i]), float(lam[i])
    a = lam[max(i - 1, 0)]
    b = lam[min(i + 1, lam.size - 1)]
    if b > a and not (a < 0 < b):
        def f(x):
            if x == 0.0:
                return 0.0
            v = C.check_centred(C.eval_cgf(cgf, np.array([x])), np.array([x]))[0]
            with np.errstate(over="ignore"):
                return -2.0 * (v / x) / x if math.isfinite(v) else -math.inf

        with np.errstate(invalid="ignore", over="ignore"):   # ±inf values (overflow) inside Brent's steps
            res = minimize_scalar(f, bounds=(a, b), method="bounded", options={"xatol": 1e-12 * max(abs(a), abs(b))})
        if -res.fun > best:
            best, arg = float(-res.fun), float(res.x)
    return SubGaussianProxy(max(best, 0.0), (lo, hi), True, arg, "")
