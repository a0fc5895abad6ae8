r"""Theorems 1–3 of Li & He (arXiv:2605.13143) as evaluators, model-agnostic (numpy/scipy only).

Every function returns a bound on the student's expected generalization gap gen_S itself
(gen_T included), as a frozen :class:`BoundResult` with the theorem, the form, the side,
the divergence used, the value and every assumption marked checked / violated / assumed.
With g the teacher gap under P_D ⊗ P^T, ψ(λ) = log E exp(λ(g − gen_T)) its centred CGF and
K = K_n = E_D KL(P^S_{W|D} ‖ P^T_{W|D}) (or K^Y, K̄ in the predictive form):

* Theorem 1 (docs/mathematics.md §1.1; predictive form §4.2)
    - :func:`subgaussian_bound`: gen_T − sqrt(2σ²K) <= gen_S <= gen_T + sqrt(2σ²K);
    - :func:`cgf_bound`: gen_S <= gen_T + inf_{λ>0} (K + ψ(λ))/λ and
      gen_S >= gen_T − inf_{λ>0} (K + ψ(−λ))/λ;
    - :func:`stability_sigma2`: σ² = n(2β + M/n)²/4 (uniform stability + McDiarmid);
    - :func:`subgaussian_proxy`: sup_{λ in range} 2ψ(λ)/λ², and whether ψ is finite there.
* Theorem 2 (docs/mathematics.md §1.2)
    - :func:`dv_lower_bound`: gen_S >= gen_T − (K + ψ(−η))/η for every η > 0
      (:func:`best_dv_lower_bound` at the best η);
    - :func:`central_bound`: gen_S >= c·gen_T − K/η under the (η, c)-central condition;
    - :func:`largest_central_c`: c = (η gen_T − ψ(−η))/(η gen_T).
* Theorem 3 (docs/mathematics.md §1.3, §4.4, mean-square form)
    - :func:`sharpness_bound`: gen_S <= gen_T + E⟨∇g(W_T), W_S − W_T⟩ + κρ²/2, ρ² = E‖W_S − W_T‖²_F,
      with ρ₀ = (8σ²K)^{1/4}/√κ and which of Theorems 1 and 3 is tighter.
* :class:`QuadraticFormCGF` (docs/mathematics.md §3.5, §4.1): the exact ψ of a Gaussian
  quadratic form zᵀAz + bᵀz + c.
* :class:`BoundIngredients` and :func:`bound_table`: every bound for one setting as a
  pandas DataFrame (pandas imported only there).

All bounds are monotone in K (upper bounds increase, lower bounds decrease), so an upper
bound on K_n may replace K_n in any of them.
"""
from __future__ import annotations

from .lower import CentralConstant, best_dv_lower_bound, central_bound, dv_lower_bound, largest_central_c
from .quadratic_form import QuadraticFormCGF
from .result import REQUIRED, Assumption, BoundResult
from .sharpness import sharpness_bound
from .table import BoundIngredients, bound_results, bound_table
from .upper import SubGaussianProxy, cgf_bound, stability_sigma2, subgaussian_bound, subgaussian_proxy

__all__ = [
    "Assumption", "BoundResult", "REQUIRED",
    "subgaussian_bound", "cgf_bound", "stability_sigma2", "subgaussian_proxy", "SubGaussianProxy",
    "dv_lower_bound", "best_dv_lower_bound", "central_bound", "largest_central_c", "CentralConstant",
    "sharpness_bound", "QuadraticFormCGF", "BoundIngredients", "bound_results", "bound_table",
]
