r"""The batched Monte Carlo pipeline of the case study (docs/mathematics.md §2.1, §4).

One call of :func:`draw_chunk` simulates R independent replicates on a leading axis (no
Python loop over replicates):

    label noise E → Y = W⋆X + νE → teacher draw W_T ~ q_T(·|D) → soft labels → student W_S.

Weights are carried in the eigenbasis U of X Xᵀ (W ↦ W U, exact: U is orthogonal). In the
fixed design the label noise is drawn in that basis too (E Xᵀ U and ‖E‖² have exact laws of
size k·d and 1), so a replicate costs O(k d²) whatever n; the random design draws X and E in
full (O(k d n)). The soft
labels enter the student only through Ŷ Xᵀ U, whose law is drawn exactly: for the average
Ȳ of m draws sharing one teacher draw, Ȳ Xᵀ U = W_T X Xᵀ U + (τ/√m) Z diag(√s) with Z
standard normal (the columns of E′ Xᵀ U are independent with variances s_j).
"""
from __future__ import annotations

import numpy as np

from ..linear_gaussian.case_moments import kl_modes

KIND_COLUMNS = {"weight": "K_weight", "predictive": "K_predictive", "convexity": "K_convexity"}


def _dot(a, b):
    """Σ_{ij} a_ij b_ij per replicate (leading axis of a or b)."""
    a, b = np.broadcast_arrays(a, b)
    return np.einsum("...ij,...ij->...", a, b)


def _wdot(a, b, w):
    """Σ_{ij} a_ij b_ij w_j per replicate (w over the last axis, possibly per replicate)."""
    return _dot(a * w[..., None, :], b)


def _safe_inverse(a):
    return np.where(a > 0, 1.0 / np.where(a > 0, a, 1.0), 0.0)


def design_chunk(cs, rng, R):
    """(X or None, s, U, XᵀU) for R replicates: shared in the fixed design, drawn in the random one."""
    if cs.design == "fixed":
        s, U, _, _ = cs._modes
        return None, s, U, cs.X.T @ U
    L = np.linalg.cholesky(cs.design_cov)
    X = L @ rng.standard_normal((R, cs.d, cs.n))
    s, U = np.linalg.eigh(X @ np.swapaxes(X, -1, -2))
    s = np.where(s > max(cs.d, cs.n) * np.finfo(float).eps * np.maximum(s[..., -1:], 0.0), s, 0.0)
    return X, s, U, np.swapaxes(X, -1, -2) @ U


def draw_chunk(cs, rng: np.random.Generator, R: int, gibbs: bool = True, keep: bool = False) -> dict:
    """Per-replicate arrays (length R) of every simulated quantity; see :func:`simulate_pipeline`.

    In the fixed design the label noise is drawn in the eigenbasis (see the comment below),
    unless ``keep=True``, which draws E (R, k, n) in full and also returns the draws
    (``_E``, ``_X``, ``_U``, ``_W_T``, ``_W_S`` in the original coordinates, ``_target``: Ŷ Xᵀ
    of the student's fit), for checks on small sizes.
    """
    k, d, n = cs.k, cs.d, cs.n
    nu, tau = cs.noise, cs.soft_noise
    X, s, U, XtU = design_chunk(cs, rng, R)
    sv = s[..., None, :]                                   # broadcast over the k rows
    WsU = cs.W_star @ U                                    # (k, d) or (R, k, d)
    if cs.design == "fixed" and not keep:
        # Exact in law and O(kd) per replicate: E Xᵀ u_j = √s_j G_j with G_j ~ N(0, I_k) independent
        # (Uᵀ X Xᵀ U = diag(s)), and ‖E‖² = Σ_{s_j>0} ‖G_j‖² + χ²_{k(n−ρ)} from the complement.
        G = rng.standard_normal((R, k, d)) * (s > 0)
        EXU = G * np.sqrt(s)
        rho = int(np.count_nonzero(s))
        normE2 = np.einsum("rkd,rkd->r", G, G) + (rng.chisquare(k * (n - rho), R) if n > rho else 0.0)
        kept = None
    else:
        E = rng.standard_normal((R, k, n))
        EXU = E @ XtU                                      # E Xᵀ U, (R, k, d)
        normE2 = np.einsum("rkn,rkn->r", E, E)
        kept = {"_E": E, "_X": X, "_U": U} if keep else None
        del E
    inv_T = _safe_inverse(s + cs.teacher_lam)
    MTU = (WsU * sv + nu * EXU) * inv_T[..., None, :]      # M_T U = Y Xᵀ A_T⁻¹ U
    sig_t = cs.teacher_temperature * nu**2 * inv_T
    WTU = MTU + rng.standard_normal((R, k, d)) * np.sqrt(sig_t)[..., None, :]
    # ---- soft labels, as Ŷ Xᵀ U
    m = cs.draws
    if cs.student == "sampled":
        teacher_part = WTU if cs.shared_teacher_draw else \
            MTU + rng.standard_normal((R, k, d)) * np.sqrt(sig_t / m)[..., None, :]
        target = teacher_part * sv + (tau / np.sqrt(m)) * rng.standard_normal((R, k, d)) * np.sqrt(s)[..., None, :]
    else:
        target = MTU * sv
    inv_sqrt_S = np.sqrt(_safe_inverse(s + cs.student_lam))
    B = target * inv_sqrt_S[..., None, :]
    r = cs.rank
    if r is not None and r == 0:
        B = np.zeros_like(B)
    elif r is not None and r < min(k, d):
        left, sv_b, right = np.linalg.svd(B, full_matrices=False)
        B = (left[..., :, :r] * sv_b[..., None, :r]) @ right[..., :r, :]
    c = cs.shrinkage if cs.student == "shrinkage" else 1.0
    MSU = c * B * inv_sqrt_S[..., None, :]
    sig_s = cs.student_temperature * tau**2 * inv_sqrt_S**2
    WSU = MSU + rng.standard_normal((R, k, d)) * np.sqrt(sig_s)[..., None, :]
    out = {}
    if keep:
        Ut = np.swapaxes(U, -1, -2)
        kept.update(_W_T=WTU @ Ut, _W_S=WSU @ Ut, _target=target @ Ut)
        out.update(kept)
    # ---- the conditional law of the student given D (docs/mathematics.md §4.3)
    g = s * inv_sqrt_S**2
    if cs.student == "sampled" and cs.linear_student and cs.rank != 0:
        mean_s = MTU * g[..., None, :]                     # soft labels integrated out: exact
        sig_used = sig_s + g * g * sig_t / (1 if cs.shared_teacher_draw else m) + tau**2 * s * inv_sqrt_S**4 / m
    else:                                                   # population/shrinkage exact; sampled rank-r:
        mean_s, sig_used = MSU, sig_s                       # E_Ŷ KL, an upper bound (convexity)
    mean2 = np.sum((mean_s - MTU) ** 2, axis=-2)
    for kind, col in KIND_COLUMNS.items():
        out[col] = kl_modes(s, sig_used, sig_t, mean2, k, tau, kind)
    # ---- gaps, risks, Theorem 3 terms
    DT, DS = WTU - WsU, WSU - WsU
    delta = WSU - WTU
    if cs.design == "fixed":
        for tag, D in (("T", DT), ("S", DS)):
            fit = _wdot(D, D, s) / n
            gap = (nu**2 * (k * n - normE2) + 2 * nu * _dot(EXU, D)) / n
            out[f"risk_{tag}"], out[f"gen_{tag}"] = fit + k * nu**2, gap
            out[f"emp_risk_{tag}"] = fit + k * nu**2 - gap
        out["first_order"] = (2 * nu / n) * _dot(EXU, delta)
        out["curvature"] = np.zeros(R)
        # h = g + τ⟨B, E′⟩, B = 2νE/n: given E, τ⟨B, E′⟩ ~ N(0, (2ντ/n)²‖E‖²); its CGF is ψ_Y.
        out["_h_T"] = out["gen_T"] + (2 * nu * tau / n) * np.sqrt(normE2) * rng.standard_normal(R)
    else:
        SigU = np.swapaxes(U, -1, -2) @ cs.design_cov @ U
        for tag, D in (("T", DT), ("S", DS)):
            risk = _dot(D @ SigU, D) + k * nu**2
            emp = (nu**2 * normE2 - 2 * nu * _dot(EXU, D) + _wdot(D, D, s)) / n
            out[f"risk_{tag}"], out[f"emp_risk_{tag}"], out[f"gen_{tag}"] = risk, emp, risk - emp
        # ∇g(W) = 2(W − W⋆)Σ_x + 2(Y − WX)Xᵀ/n, and (Y − W_T X)Xᵀ U = νEXᵀU − (W_T − W⋆)U diag(s)
        grad = 2 * DT @ SigU + 2 * (nu * EXU - DT * sv) / n
        out["first_order"] = _dot(grad, delta)
        H = SigU - np.eye(d) * (s / n)[..., None, :]
        out["curvature"] = _dot(delta @ H, delta)
        ev = np.linalg.eigvalsh(H)
        out["kappa"] = 2 * np.max(np.abs(ev), axis=-1)
        out["kappa_rho2"] = out["kappa"] * _dot(delta, delta)
    out["gen_gap"] = out["gen_S"] - out["gen_T"]
    out["rho2"] = _dot(delta, delta)
    if gibbs and cs.teacher_temperature > 0 and R >= 2:
        out["_skl_pairs"] = _skl_pairs(cs, s, U, MTU, WTU, sig_t, R)
    return out


def _skl_pairs(cs, s, U, MTU, WTU, sig_t, R):
    r"""Per disjoint pair (a, b) of replicates: log q(W_a|D_a) − log q(W_a|D_b) + log q(W_b|D_b) − log q(W_b|D_a).

    Its mean is 2 I_SKL(W_T; D) (the normalisers cancel); W_a from the pair's other data set is
    a draw of the product of marginals. Only the quadratic terms of log q remain:
    −½ Σ_j ‖(W − M_T)u_j‖²/σ_T,j.
    """
    h = R // 2
    a, b = slice(0, h), slice(h, 2 * h)
    prec = 1.0 / sig_t

    def quad(W_in_basis, M, P):
        return -0.5 * np.sum((W_in_basis - M) ** 2 * P[..., None, :], axis=(-2, -1))

    if cs.design == "fixed":
        same_a, same_b = quad(WTU[a], MTU[a], prec), quad(WTU[b], MTU[b], prec)
        cross_ab, cross_ba = quad(WTU[a], MTU[b], prec), quad(WTU[b], MTU[a], prec)
    else:
        Ut = np.swapaxes(U, -1, -2)
        W = WTU @ Ut                                          # back to the original coordinates
        same_a, same_b = quad(WTU[a], MTU[a], prec[a]), quad(WTU[b], MTU[b], prec[b])
        cross_ab = quad(W[a] @ U[b], MTU[b], prec[b])
        cross_ba = quad(W[b] @ U[a], MTU[a], prec[a])
    return same_a - cross_ab + same_b - cross_ba
