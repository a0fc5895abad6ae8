r"""Exact expectations over the label noise in the case study: gaps, risks, E_D K_n, Theorem 3 terms.

Fixed design (docs/mathematics.md §2.4–2.5, §4.3). Everything is computed in the eigenbasis
X Xᵀ = U diag(s) Uᵀ and splits over the k output rows; nothing of size n×n or (kd)² is formed.
With h_j = s_j/(s_j+λ_T), g_j = s_j/(s_j+λ_S), a_j = W⋆u_j and G_j = E Xᵀu_j/√s_j ~ N(0, I_k)
(independent over j):

* M_T u_j = (s_j a_j + ν √s_j G_j)/(s_j + λ_T), so E‖M_T u_j‖² = (s_j²‖a_j‖² + ν² k s_j)/(s_j+λ_T)².
* A *linear* student (full rank or r = 0; population, shrinkage c, or sampled) has
  M_S u_j = c g_j M_T u_j (c = 0 for r = 0, c = 1 unless "shrinkage"): it is linear in E, so
  gen_S = 2ν²k c Σ_j g_j h_j / n and E‖(M_S − M_T)u_j‖² = (c g_j − 1)² E‖M_T u_j‖² exactly.
  A rank-r student (0 < r < rank) truncates a noisy SVD: not linear in E, no closed form
  (estimate with :func:`gaussdistill.simulate`).
* Column covariances are diagonal in U: σ_T,j = t_T ν²/(s_j+λ_T), σ_S,j = t_S τ²/(s_j+λ_S),
  plus, for the sampled student (mean Ȳ of m soft-label draws, soft labels integrated out,
  docs/mathematics.md §4.3), g_j² σ_T,j + τ² s_j/(m (s_j+λ_S)²) when the m draws share one
  teacher draw (the pipeline D → W_T → Ŷ → W_S, the default) or g_j² σ_T,j/m + τ² s_j/(m (s_j+λ_S)²)
  when each draw has its own teacher draw (``shared_teacher_draw=False``).

Random design, λ_T = λ_S = 0, n > d + 1: every column covariance and mean part is a multiple
of A⁻¹ = (X Xᵀ)⁻¹, and E tr(Σ_x A⁻¹) = d/(n − d − 1) (inverse Wishart).

The functions take a :class:`gaussdistill.linear_gaussian.case_study.CaseStudy` whose inputs are
already validated; the public methods of CaseStudy carry the formulas and check availability.
"""
from __future__ import annotations

import numpy as np

from .._numerics.special import u_minus_log1p

KINDS = ("weight", "predictive", "convexity")
DIRECTIONS = ("student||teacher", "teacher||student")


# ----------------------------------------------------------------------------- per-mode KL
def kl_modes(s, sig_s, sig_t, mean2, k, tau, kind, direction="student||teacher"):
    r"""E_D-ready KL of two case-study laws that share the eigenbasis U of X Xᵀ (batched).

    Arrays broadcast over leading axes; the last axis runs over the d modes. ``sig_s``,
    ``sig_t``: column-covariance eigenvalues σ_S,j, σ_T,j; ``mean2``: ‖(M_S − M_T)u_j‖² (or
    its expectation: every formula is linear in it). With φ(u) = u − ln(1+u)
    (docs/mathematics.md §2.2):

    * weight:     K^W = (k/2) Σ_j φ(σ_S/σ_T − 1) + ½ Σ_j mean2_j/σ_T,j   (+inf if Σ_T is singular)
    * predictive: K^Y = (k/2) Σ_{s_j>0} φ(s_j(σ_S − σ_T)/(τ² + s_jσ_T)) + ½ Σ_j s_j mean2_j/(τ² + s_jσ_T)
    * convexity:  K̄ = [Σ_j s_j mean2_j + k Σ_j s_j(σ_S + σ_T)]/(2τ²)

    ``direction="teacher||student"`` swaps σ_S and σ_T (K̄ is symmetric).
    """
    s, sig_s, sig_t, mean2 = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (s, sig_s, sig_t, mean2)))
    if direction == "teacher||student" and kind != "convexity":
        sig_s, sig_t = sig_t, sig_s
    if kind == "convexity":
        return (np.sum(s * mean2, -1) + k * np.sum(s * (sig_s + sig_t), -1)) / (2.0 * tau**2)
    if kind == "weight":
        bad = np.any(sig_t <= 0, -1) | np.any(sig_s <= 0, -1)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            safe_t = np.where(sig_t > 0, sig_t, 1.0)
            ratio = np.where(sig_t > 0, sig_s / safe_t, 1.0)
            cov = 0.5 * k * np.sum(u_minus_log1p(ratio - 1.0, ratio), -1)
            mean = 0.5 * np.sum(mean2 / safe_t, -1)
        return np.where(bad, np.inf, cov + mean)
    den = tau**2 + s * sig_t
    u = s * (sig_s - sig_t) / den
    cov = 0.5 * k * np.sum(u_minus_log1p(u, (tau**2 + s * sig_s) / den), -1)
    return cov + 0.5 * np.sum(s * mean2 / den, -1)


def kl_modes_linear(s, sig_s, sig_t, k, tau, kind, direction="student||teacher"):
    r""":func:`kl_modes` as an affine function of the mean parts: (K₀, w) with K = K₀ + Σ_j w_j mean2_j.

    K₀ is the covariance part (:func:`kl_modes` with mean2 = 0); w_j = 1/(2σ_T,j) (weight),
    s_j/(2(τ² + s_jσ_T,j)) (predictive), s_j/(2τ²) (convexity), σ_T and σ_S swapped for
    ``direction="teacher||student"`` (not for K̄). K₀ = +inf (weight, singular Σ_T or Σ_S) makes
    every K infinite. For many mean parts that share one covariance (the fixed design).
    """
    s, sig_s, sig_t = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (s, sig_s, sig_t)))
    const = kl_modes(s, sig_s, sig_t, np.zeros_like(s), k, tau, kind, direction)
    if direction == "teacher||student" and kind != "convexity":
        sig_s, sig_t = sig_t, sig_s
    with np.errstate(divide="ignore"):
        if kind == "convexity":
            w = 0.5 * s / tau**2
        elif kind == "weight":
            w = np.where(sig_t > 0, 0.5 / np.where(sig_t > 0, sig_t, 1.0), np.inf)
        else:
            w = 0.5 * s / (tau**2 + s * sig_t)
    return float(const) if np.ndim(const) == 0 else const, w


# ----------------------------------------------------------------------------- per-mode ingredients
#: Eigenvalues below ILL_CONDITIONED·(largest of their block) are recomputed (see :func:`design_modes`).
ILL_CONDITIONED = 1e-6


def _refine_small(X, s, U, floor):
    """Recompute the eigen-pairs of X Xᵀ with s_j < ILL_CONDITIONED·s_max from X itself (recursively).

    eigh(X Xᵀ) gives s_j with absolute error ε·s_max, but its eigenvectors of the small block span
    the right subspace up to O(ε) components δ along the large ones. With B = Xᵀ U_small, the
    d_small × d_small matrix BᵀB = U_smallᵀ X Xᵀ U_small has entries accurate relative to the small
    eigenvalues (the δ part adds only δ² s_max = ε² s_max), so its eigenvalues are the small s_j to
    relative accuracy ε·(the block's own condition number), and the block is refined again if that
    is still large. Eigenvalues at or below ``floor`` (rounding of zero) are set to 0.
    """
    m = int(np.count_nonzero(s < ILL_CONDITIONED * s[-1]))
    if m == 0:
        return s, U
    s, U = s.copy(), U.copy()
    if s[m - 1] <= floor and m == s.size:
        s[:] = 0.0
        return s, U
    B = X.T @ U[:, :m]
    w, V = np.linalg.eigh(B.T @ B)
    Us = U[:, :m] @ V
    if w[-1] <= floor:
        s[:m] = 0.0
        U[:, :m] = Us
        return s, U
    w, Us = _refine_small(X, w, Us, floor)
    s[:m], U[:, :m] = w, Us
    return s, U


def design_modes(X, W_star):
    """(s, U, rank, ‖W⋆u_j‖²) of X Xᵀ = U diag(s) Uᵀ (ascending), eigenvalues below rounding set to 0.

    eigh(X Xᵀ) gives each s_j with an absolute error of about ε s_max: relative error ε·cond(X Xᵀ)
    on the smallest (1.6e-4 on gen_S at cond 1e16 with λ = 1e-12). The eigen-pairs below
    ILL_CONDITIONED·s_max are recomputed from X (:func:`_refine_small`, one n×d×m product per
    level), which leaves them with relative error about ε²·cond + ε·(their own spread). The rank
    cutoff is then s_j > (max(d, n) ε)² s_max, i.e. σ_j > max(d, n) ε σ_max as for matrix_rank.
    """
    eps = np.finfo(float).eps
    s, U = np.linalg.eigh(X @ X.T)
    top = max(float(s[-1]), 0.0)
    if top == 0.0:
        s = np.zeros_like(s)
    elif s[0] < ILL_CONDITIONED * top:
        s, U = _refine_small(X, s, U, (max(X.shape) * eps) ** 2 * top)
        order = np.argsort(s, kind="stable")
        s, U = np.maximum(s[order], 0.0), U[:, order]
        # each refined block is orthonormal within itself and to the rest up to O(ε): re-orthonormalise
        Q, R = np.linalg.qr(U)
        U = Q * np.sign(np.diag(R))
    wsq = np.sum((W_star @ U) ** 2, axis=0)
    for arr in (s, U, wsq):
        arr.setflags(write=False)
    return s, U, int(np.count_nonzero(s)), wsq


def fixed_modes(cs) -> dict:
    """Per-mode ingredients of the fixed design (h, g, σ_T, σ_S, the sampled student's marginal
    σ_S, E‖M_T u_j‖², E‖(M_S − M_T)u_j‖², ...), see the module docstring."""
    s, U, rho, wsq = cs._modes
    k, n = cs.k, cs.n
    nu2, tau2 = cs.noise**2, cs.soft_noise**2
    lT, lS, tT, tS, m = cs.teacher_lam, cs.student_lam, cs.teacher_temperature, \
        cs.student_temperature, cs.draws
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(s > 0, s / (s + lT), 0.0)
        g = np.where(s > 0, s / np.where(s + lS > 0, s + lS, 1.0), 0.0)
        sig_t = tT * nu2 / (s + lT) if tT > 0 else np.zeros_like(s)
        sig_s = tS * tau2 / (s + lS) if tS > 0 else np.zeros_like(s)
        # written with h, g (no (s + λ)², which overflows for λ > 1e154)
        sampling = np.where(s > 0, tau2 * g / (m * np.where(s + lS > 0, s + lS, 1.0)), 0.0)
        Em = np.where(s > 0, h * h * wsq + nu2 * k * h / np.where(s + lT > 0, s + lT, 1.0), 0.0)
    c = cs._c
    sig_s_marg = sig_s.copy()
    if cs.student == "sampled" and c != 0:
        sig_s_marg = sig_s + g * g * sig_t / (1 if cs.shared_teacher_draw else m) + sampling
    mean2 = (c * g - 1.0) ** 2 * Em
    return dict(s=s, U=U, rho=rho, wsq=wsq, h=h, g=g, sig_t=sig_t, sig_s=sig_s, sig_s_marg=sig_s_marg,
                sampling=sampling, Em=Em, mean2=mean2, c=c, nu2=nu2, tau2=tau2, k=k, n=n)


def random_moments(cs) -> dict:
    """λ = 0 random design: everything is a multiple of A⁻¹; E tr(Σ_x A⁻¹) = d/(n − d − 1)."""
    k, d, n = cs.k, cs.d, cs.n
    nu2, tau2, tT, tS, m = cs.noise**2, cs.soft_noise**2, cs.teacher_temperature, \
        cs.student_temperature, cs.draws
    c = cs._c
    sw = float(np.trace(cs.W_star @ cs.design_cov @ cs.W_star.T))
    sig_t = tT * nu2
    sig_s = tS * tau2
    if cs.student == "sampled" and c != 0:
        sig_s = sig_s + (tT * nu2 + tau2) / m if not cs.shared_teacher_draw else sig_s + tT * nu2 + tau2 / m
    inv_w = d / (n - d - 1)            # E tr(Σ_x A⁻¹)
    return dict(c=c, sw=sw, sig_t=sig_t, sig_s=sig_s, inv_w=inv_w, Em=n * sw + nu2 * k * d, nu2=nu2,
                tau2=tau2, k=k, d=d, n=n)


# ----------------------------------------------------------------------------- gaps, risks, divergences
def gen_teacher(cs) -> float:
    """gen_T (formula: :attr:`CaseStudy.gen_teacher`); the caller checks availability."""
    if cs.design == "fixed":
        f = cs._fixed
        return float(2.0 * f["nu2"] * f["k"] * np.sum(f["h"]) / f["n"])
    r = cs._random
    tT = cs.teacher_temperature
    return float(r["k"] * r["nu2"] * r["d"] * ((1 + tT) / (r["n"] - r["d"] - 1) + (1 - tT) / r["n"]))


def gen_student(cs) -> float:
    """gen_S of a linear student (formula: :attr:`CaseStudy.gen_student`)."""
    if cs.design == "fixed":
        f = cs._fixed
        return float(2.0 * f["nu2"] * f["k"] * f["c"] * np.sum(f["g"] * f["h"]) / f["n"])
    r = cs._random
    kd, n, c, nu2 = r["k"] * r["d"], r["n"], r["c"], r["nu2"]
    return float(nu2 * kd / n + c * c * nu2 * kd / (n - r["d"] - 1) - (1 - c) ** 2 * nu2 * kd / n
                 + r["sig_s"] * kd * (1 / (n - r["d"] - 1) - 1 / n))


def risks(cs) -> tuple[float, float]:
    """(E L(W_T), E L(W_S)) of a linear student (formulas: :meth:`CaseStudy.risks`)."""
    if cs.design == "fixed":
        f = cs._fixed
        s, h, g, c, k, n, nu2 = f["s"], f["h"], f["g"], f["c"], f["k"], f["n"], f["nu2"]
        rT = (np.sum(s * (1 - h) ** 2 * f["wsq"]) + nu2 * k * np.sum(h * h) + k * np.sum(s * f["sig_t"])) / n
        rS = (np.sum(s * (c * g * h - 1) ** 2 * f["wsq"] + c * c * g * g * h * h * nu2 * k)
              + k * np.sum(s * f["sig_s_marg"])) / n
        return float(rT + k * nu2), float(rS + k * nu2)
    r = cs._random
    k, kd, c, nu2, w = r["k"], r["k"] * r["d"], r["c"], r["nu2"], 1.0 / (r["n"] - r["d"] - 1)
    rT = float(k * nu2 + nu2 * kd * w + r["sig_t"] * kd * w)
    rS = float(k * nu2 + (c - 1) ** 2 * r["sw"] + c * c * nu2 * kd * w + r["sig_s"] * kd * w)
    return rT, rS


def expected_divergence(cs, kind: str, direction: str) -> float:
    """E_D K of a linear student (formulas: :meth:`CaseStudy.expected_divergence`, :func:`kl_modes`)."""
    if cs.design == "fixed":
        f = cs._fixed
        return float(kl_modes(f["s"], f["sig_s_marg"], f["sig_t"], f["mean2"], f["k"], cs.soft_noise,
                              kind, direction))
    r = cs._random
    d = r["d"]
    # A⁻¹ = U diag(1/s) Uᵀ: σ_•,j = σ̃_•/s_j, s_j·mean2_j summed is (c − 1)² E‖M_T X‖².
    # Use one unit mode per dimension with s_j = 1 after rescaling: every formula in
    # kl_modes depends on (s_j σ_•,j, s_j mean2_j) only, except the weight mean part, which
    # is Σ mean2_j (s_j + λ)/σ̃ = (c−1)² E‖M_T X‖²/σ̃ (λ = 0) as well.
    ones = np.ones(d)
    mean2 = (r["c"] - 1) ** 2 * r["Em"] / d * ones
    return float(kl_modes(ones, r["sig_s"] * ones, r["sig_t"] * ones, mean2, r["k"], cs.soft_noise,
                          kind, direction))


def rho2(cs) -> float:
    """Fixed design: ρ² = E‖W_S − W_T‖²_F under the pipeline coupling (docs/mathematics.md §4.4)."""
    f = cs._fixed
    k, c, g = f["k"], f["c"], f["g"]
    if cs.student == "sampled" and c != 0:
        teacher_share = f["sig_t"] * (g - 1) ** 2 if cs.shared_teacher_draw \
            else f["sig_t"] * (1 + g * g / cs.draws)
        out = np.sum((g - 1) ** 2 * f["Em"] + k * teacher_share + k * f["sampling"] + k * f["sig_s"])
    else:
        out = np.sum(f["mean2"] + k * (f["sig_s"] + f["sig_t"]))
    return float(out)


__all__ = ["kl_modes", "design_modes", "fixed_modes", "random_moments", "gen_teacher", "gen_student", "risks",
           "expected_divergence", "rho2", "KINDS", "DIRECTIONS"]
