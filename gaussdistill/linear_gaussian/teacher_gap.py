r"""The teacher gap of the fixed design as a Gaussian quadratic form: its CGFs ψ and ψ_Y.

docs/mathematics.md §4.1: with E the label noise and Ξ the teacher's sampling noise, the gap
g(W_T, D) = [ν²(kn − ‖E‖²) + 2ν⟨E, (W_T − W⋆)X⟩]/n is a Gaussian quadratic form in (E, Ξ).
In the eigenbasis X Xᵀ = U diag(s) Uᵀ (h_j = s_j/(s_j+λ_T), a_ij = (W⋆u_j)_i,
G_j = E Xᵀu_j/√s_j ~ N(0, I_k)) it splits, per mode and output row, into the 2×2 block
(ν²/n)[[2h_j − 1, √(t_T h_j)], [√(t_T h_j), 0]] with linear part −(2ν/n)(1 − h_j)√s_j a_ij on G_ij,
plus k(n − ρ) coordinates of E outside the row space of X with eigenvalue −ν²/n (ρ = rank X).

docs/mathematics.md §4.2: ψ_Y is the CGF of h = g(W_T, D) + τ⟨2νE/n, E′⟩, E′ the soft-label
channel noise; it is ψ with the off-diagonal coupling raised (q̃_j² = q_j² + τ²ν²/n²) and the
complement coupled to E′.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import GaussDistillError


def _block_eigs(P, Qo):
    r"""Eigenvalues α± of [[P, Qo], [Qo, 0]] and the shares w± of a vector (1, 0) on them."""
    r = np.hypot(P, 2.0 * Qo)
    big = np.where(P >= 0, (P + r) / 2.0, (P - r) / 2.0)          # the larger-|·| root, no cancellation
    with np.errstate(divide="ignore", invalid="ignore"):
        # −Qo²/big as −(Qo/big)·Qo: |big| >= |Qo|, so nothing overflows for large ν
        small = np.where(big != 0, -(Qo / np.where(big != 0, big, 1.0)) * Qo, 0.0)
        share_big = np.where(r > 0, 0.5 * (1.0 + np.abs(P) / np.where(r > 0, r, 1.0)), 1.0)
    return big, small, share_big, 1.0 - share_big


@dataclass(frozen=True, eq=False)
class SumOfQuadraticForms:
    r"""ψ(λ) = Σ_i w_i ψ_i(λ): a sum of w_i independent copies of centred Gaussian quadratic forms.

    ``parts`` is a tuple of (:class:`gaussdistill.bounds.QuadraticFormCGF`, integer weight);
    the domain is the intersection of the parts' domains. Lets an eigenvalue of multiplicity
    k(n − ρ) cost O(1) instead of O(kn).
    """

    parts: tuple

    @property
    def domain(self):
        lo = max(f.domain[0] for f, _ in self.parts)
        hi = min(f.domain[1] for f, _ in self.parts)
        return (lo, hi)

    def __call__(self, lam):
        lam_arr = np.asarray(lam, dtype=float)
        total = sum(w * np.asarray(f(lam_arr), dtype=float) for f, w in self.parts if w)
        return float(total) if lam_arr.ndim == 0 else np.asarray(total, dtype=float)

    @property
    def variance(self):
        return float(sum(w * f.variance for f, w in self.parts))


def gap_form(cs):
    """(p_j, q_j, |b_j|, k(n − ρ)) of the per-mode blocks above, for the modes with s_j > 0."""
    if cs.design != "fixed":
        raise GaussDistillError("teacher_gap_cgf: in the random design the teacher gap is not a Gaussian "
                                "quadratic form (X is random); use gaussdistill.simulate for its empirical CGF")
    f = cs._fixed
    pos = f["s"] > 0
    h, s, wsq = f["h"][pos], f["s"][pos], f["wsq"][pos]
    nu2, n = f["nu2"], f["n"]
    p = nu2 * (2 * h - 1) / n
    q = nu2 * np.sqrt(cs.teacher_temperature * h) / n
    b = (2.0 / n) * cs.noise * (1 - h) * np.sqrt(s * wsq)     # |b_j|, not b_j²: no overflow for large ν‖W⋆‖
    return p, q, b, f["k"] * (n - f["rho"])


def gap_cgf(cs, predictive: bool) -> SumOfQuadraticForms:
    r"""ψ or ψ_Y as a sum of independent Gaussian quadratic forms (docs/mathematics.md §4.1–4.2).

    ψ_Y is the CGF of h = g(W_T, D) + τ⟨B, E′⟩ with B = 2νE/n and E′ the soft-label channel
    noise (integrating E′ out gives the extra 2λ²τ²ν²‖E‖²/n² of §4.2). Per mode and row the
    coupling of G_ij to (ξ_ij, G′_ij) is (ν²√(t_T h_j)/n, ντ/n); rotating that plane leaves the
    2×2 block [[p_j, q̃_j], [q̃_j, 0]] with q̃_j² = q_j² + τ²ν²/n² (and a zero eigenvalue), and
    outside the row space of X the block (1/n)[[−ν², ντ], [ντ, 0]]. So ψ_Y is ψ with q_j²
    raised by τ²ν²/n² and the complement coupled to E′.
    """
    from ..bounds import QuadraticFormCGF
    p, q, b, n_out = cs._gap_form
    n, nu, tau = cs.n, cs.noise, cs.soft_noise
    if predictive:
        q = np.hypot(q, tau * nu / n)        # sqrt(q² + τ²ν²/n²) without overflow
    big, small, wb, ws = _block_eigs(p, q)
    alpha = np.concatenate([big, small])
    beta = np.sqrt(np.concatenate([wb, ws])) * np.concatenate([b, b])
    parts = [(QuadraticFormCGF(alpha, beta), 1), (QuadraticFormCGF(alpha, np.zeros_like(alpha)), cs.k - 1)]
    if n_out:
        if predictive:
            cb, cs_, _, _ = _block_eigs(np.array([-nu**2 / n]), np.array([nu * tau / n]))
            comp = QuadraticFormCGF(np.concatenate([cb, cs_]), np.zeros(2))
        else:
            comp = QuadraticFormCGF(np.array([-nu**2 / n]), np.zeros(1))
        parts.append((comp, n_out))
    return SumOfQuadraticForms(tuple(parts))


__all__ = ["SumOfQuadraticForms", "gap_form", "gap_cgf"]
