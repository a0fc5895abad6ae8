r"""The batched Monte Carlo pipeline of the case study (docs/mathematics.md §2.1, §4).

One call of :func:`draw_chunk` simulates R independent replicates on a leading axis (no
Python loop over replicates):

    label noise E → Y = W⋆X + νE → teacher draw W_T ~ q_T(·|D) → soft labels → student W_S.

Weights are carried in the eigenbasis U of X Xᵀ (W ↦ W U, exact: U is orthogonal). The label
noise enters only through E Xᵀ U and ‖E‖², which have exact laws of size k·d and 1
(E Xᵀ u_j = √s_j G_j with G_j ~ N(0, I_k) independent, and ‖E‖² = Σ_j ‖G_j‖² + χ²_{k(n−ρ)}),
so a fixed-design replicate costs O(k d²) whatever n. In the random design (x ~ N(0, Σ_x)) with
n ≥ d, X Xᵀ ~ Wishart_d(Σ_x, n) is drawn by the Bartlett decomposition X Xᵀ = (L A)(L A)ᵀ
(L Lᵀ = Σ_x; A lower triangular, A_ii² ~ χ²_{n−i+1}, A_ij ~ N(0, 1) below the diagonal), then
E given X as above: O(d³ + k d²) per replicate; with n < d (or ``keep=True``) X and E are drawn
in full (O(k d n)). The soft labels enter the student only through Ŷ Xᵀ U, whose law is drawn
exactly: for the average Ȳ of m draws sharing one teacher draw, Ȳ Xᵀ U = W_T X Xᵀ U +
(τ/√m) Z diag(√s) with Z standard normal (the columns of E′ Xᵀ U are independent with
variances s_j).

A chunk draws all its random numbers first, in pipeline order, and then runs the deterministic
part over blocks of replicates whose (block, k, d) arrays hold about BLOCK_FLOATS floats: the
temporaries stay in cache (and out of fresh pages of memory), and a replicate's values do not
depend on the block size.

The rank-r truncation [B]_r = P_r B projects on the top-r left (or right) singular vectors,
taken from the eigendecomposition of the smaller Gram matrix B Bᵀ (or Bᵀ B) where the spectrum
is well separated from the top (σ_1 ≤ GRAM_COND σ_r: there its error is within a small factor of
the SVD's), and from the SVD of B for the other replicates.
"""
from __future__ import annotations

import math

import numpy as np

from ..linear_gaussian.case_moments import kl_modes, kl_modes_linear

KIND_COLUMNS = {"weight": "K_weight", "predictive": "K_predictive", "convexity": "K_convexity"}
#: The Gram route of the rank-r truncation is used where σ_1/σ_r ≤ GRAM_COND (else the SVD).
GRAM_COND = 30.0
#: Floats per (block, k, d) array in the deterministic part of a chunk (temporaries stay in cache).
BLOCK_FLOATS = 2**15
_WEIGHT_KEYS = ("_MTU", "_WTU", "_WSU", "_target")


def _dot(a, b):
    """Σ_{ij} a_ij b_ij per replicate (leading axis of a or b)."""
    a, b = np.broadcast_arrays(a, b)
    return np.einsum("...ij,...ij->...", a, b)


def _wdot(a, b, w):
    """Σ_{ij} a_ij b_ij w_j per replicate (w over the last axis, possibly per replicate)."""
    return _dot(a * w[..., None, :], b)


def _rowsq(a):
    """Σ_i a_ij² over the k rows, per replicate and mode: (..., k, d) → (..., d)."""
    return np.einsum("...kd,...kd->...d", a, a)


def _safe_inverse(a):
    return np.where(a > 0, 1.0 / np.where(a > 0, a, 1.0), 0.0)


def _isotropic(cov):
    """c when Σ_x = c I exactly, else None."""
    c = float(cov[0, 0])
    return c if np.array_equal(cov, c * np.eye(cov.shape[0])) else None


def _threshold(s, d, n):
    """Eigenvalues of X Xᵀ below rounding (relative to the largest) set to 0."""
    return np.where(s > max(d, n) * np.finfo(float).eps * np.maximum(s[..., -1:], 0.0), s, 0.0)


def design_chunk(cs, rng, R, full=False):
    """(X or None, s, U, XᵀU or None) for R replicates: shared in the fixed design, drawn in the random one.

    Random design: with n ≥ d and not ``full``, X Xᵀ is drawn from its Wishart law (Bartlett) and X
    itself is not formed (X and XᵀU are None); else X is drawn in full. With Σ_x = c I the
    eigenvectors are drawn directly (Haar) and only the eigenvalues are computed.
    """
    if cs.design == "fixed":
        s, U, _, _ = cs._modes
        return None, s, U, cs.X.T @ U
    d, n = cs.d, cs.n
    L = np.linalg.cholesky(cs.design_cov)
    if full or n < d:
        X = L @ rng.standard_normal((R, d, n))
        s, U = np.linalg.eigh(X @ np.swapaxes(X, -1, -2))
        return X, _threshold(s, d, n), U, np.swapaxes(X, -1, -2) @ U
    A = np.zeros((R, d, d))
    rows, cols = np.tril_indices(d, -1)
    A[:, rows, cols] = rng.standard_normal((R, rows.size))
    A[:, np.arange(d), np.arange(d)] = np.sqrt(rng.chisquare(n - np.arange(d), (R, d)))
    c = _isotropic(cs.design_cov)
    if c is None:
        LA = L @ A
        s, U = np.linalg.eigh(LA @ np.swapaxes(LA, -1, -2))
    else:
        # Σ_x = c I: X Xᵀ is orthogonally invariant, so its eigenvectors are Haar-distributed and
        # independent of its eigenvalues; only the eigenvalues are computed, and U is the Q factor
        # of a Gaussian matrix (Haar up to column signs, which leave U diag(s) Uᵀ unchanged).
        s = c * np.linalg.eigvalsh(A @ np.swapaxes(A, -1, -2))
        U = np.linalg.qr(rng.standard_normal((R, d, d)))[0]
    return None, _threshold(s, d, n), U, None


def _truncate(B, r):
    """[B]_r per replicate (leading axes): the best rank-r approximation, r < min(k, d).

    P_r B (P_r the projector on the top-r left singular vectors; B P_r on the right ones when
    B is tall) from the eigenvectors of the smaller Gram matrix of B scaled to max |B_ij| = 1.
    Where σ_1 > GRAM_COND·σ_r the Gram route loses about log10(σ_1/σ_r) digits more than the SVD
    of B (rounding in B Bᵀ is ε σ_1², against ε σ_1 in B): those replicates use the SVD.
    """
    k, d = B.shape[-2:]
    tall = k > d
    Bl = np.swapaxes(B, -1, -2) if tall else B               # wide: the Gram is min(k, d) square
    scale = np.max(np.abs(Bl), axis=(-2, -1), keepdims=True)
    Bs = Bl / np.where(scale > 0, scale, 1.0)
    w, V = np.linalg.eigh(Bs @ np.swapaxes(Bs, -1, -2))
    Vr = V[..., -r:]
    out = Vr @ (np.swapaxes(Vr, -1, -2) @ Bl)
    ill = ~(w[..., -1] <= GRAM_COND**2 * w[..., -r])
    if ill.any():
        left, sv, right = np.linalg.svd(Bl[ill], full_matrices=False)
        out[ill] = (left[..., :, :r] * sv[..., None, :r]) @ right[..., :r, :]
    return np.swapaxes(out, -1, -2) if tall else out


def _label_noise(cs, rng, R, s, XtU, keep):
    """(E Xᵀ U, ‖E‖², E or None) for R replicates (the first draws after the design's)."""
    k, d, n = cs.k, cs.d, cs.n
    if XtU is None or (cs.design == "fixed" and not keep):
        # Exact in law and O(kd) per replicate: E Xᵀ u_j = √s_j G_j with G_j ~ N(0, I_k) independent
        # (Uᵀ X Xᵀ U = diag(s)), and ‖E‖² = Σ_{s_j>0} ‖G_j‖² + χ²_{k(n−ρ)} from the complement.
        G = rng.standard_normal((R, k, d)) * (s > 0)[..., None, :]
        EXU = G * np.sqrt(s[..., None, :])
        normE2 = np.einsum("rkd,rkd->r", G, G)
        rho = np.count_nonzero(s, axis=-1)
        if np.ndim(rho) == 0:
            normE2 = normE2 + (rng.chisquare(k * (n - rho), R) if n > rho else 0.0)
        else:
            df = k * (n - rho)
            normE2 = normE2 + np.where(df > 0, rng.chisquare(np.maximum(df, 1)), 0.0)
        return EXU, normE2, None
    E = rng.standard_normal((R, k, n))
    return E @ XtU, np.einsum("rkn,rkn->r", E, E), E


def _kernel_noise(cs, rng, R):
    """The standard normal draws of the kernels, in pipeline order: teacher, soft labels, student, ψ_Y channel."""
    shape = (R, cs.k, cs.d)
    z = {"teacher": rng.standard_normal(shape)}
    if cs.student == "sampled":
        if not cs.shared_teacher_draw:
            z["teacher_part"] = rng.standard_normal(shape)
        z["soft"] = rng.standard_normal(shape)
    z["student"] = rng.standard_normal(shape)
    if cs.design == "fixed":
        z["channel"] = rng.standard_normal(R)
    return z


def draw_chunk(cs, rng: np.random.Generator, R: int, gibbs: bool = True, keep: bool = False) -> dict:
    """Per-replicate arrays (length R) of every simulated quantity; see :func:`simulate_pipeline`.

    The label noise is drawn through E Xᵀ U and ‖E‖² (see the module docstring) unless
    ``keep=True``, which draws X (random design) and E (R, k, n) in full and also returns the
    draws (``_E``, ``_X``, ``_U``, ``_W_T``, ``_W_S`` in the original coordinates, ``_target``:
    Ŷ Xᵀ of the student's fit), for checks on small sizes.

    Every random number of the chunk is drawn first (in pipeline order); the rest runs over
    blocks of about BLOCK_FLOATS floats per array (cache-sized temporaries), which leaves each
    replicate's value independent of the block size.
    """
    k, d = cs.k, cs.d
    X, s, U, XtU = design_chunk(cs, rng, R, full=keep)
    EXU, normE2, E = _label_noise(cs, rng, R, s, XtU, keep)
    z = _kernel_noise(cs, rng, R)
    per = s.ndim > 1                                       # per-replicate design (random)
    skl = gibbs and cs.teacher_temperature > 0 and R >= 2
    size = R if keep else max(8, BLOCK_FLOATS // max(k * d, d * d))
    out: dict = {}
    MTU = WTU = np.empty((0, k, d))
    for start in range(0, R, size):
        sl = slice(start, min(R, start + size))
        blk = _replicates(cs, s[sl] if per else s, U[sl] if per else U, EXU[sl], normE2[sl],
                          {key: v[sl] for key, v in z.items()})
        if keep:
            out.update(blk)
            break
        if not out:
            out = {key: np.empty((R,) + v.shape[1:]) for key, v in blk.items() if key not in _WEIGHT_KEYS}
            if skl:
                MTU, WTU = np.empty((R, k, d)), np.empty((R, k, d))
        for key in out:
            out[key][sl] = blk[key]
        if skl:
            MTU[sl], WTU[sl] = blk["_MTU"], blk["_WTU"]
    if keep:
        MTU, WTU = out.pop("_MTU"), out.pop("_WTU")
        Ut = np.swapaxes(U, -1, -2)
        out.update(_E=E, _X=X, _U=U, _W_T=WTU @ Ut, _W_S=out.pop("_WSU") @ Ut, _target=out.pop("_target") @ Ut)
    if skl:
        sig_t = cs.teacher_temperature * cs.noise**2 * _safe_inverse(s + cs.teacher_lam)
        out["_skl_pairs"] = _skl_pairs(cs, s, U, MTU, WTU, sig_t, R)
    return out


def _replicates(cs, s, U, EXU, normE2, z) -> dict:
    """Teacher → soft labels → student and every per-replicate quantity, for one block of replicates.

    ``s``, ``U``: the design's eigen-data (shared, or one per replicate); ``EXU``, ``normE2``: the
    label noise; ``z``: the kernels' standard normal draws (:func:`_kernel_noise`). The entries
    ``_WEIGHT_KEYS`` are the block's weights in the eigenbasis (M_T U, W_T U, W_S U, Ŷ Xᵀ U).
    """
    k, d, n = cs.k, cs.d, cs.n
    nu, tau = cs.noise, cs.soft_noise
    R = normE2.shape[0]
    sv = s[..., None, :]                                   # broadcast over the k rows
    WsU = cs.W_star @ U                                    # (k, d) or (R, k, d)
    inv_T = _safe_inverse(s + cs.teacher_lam)
    MTU = (WsU * sv + nu * EXU) * inv_T[..., None, :]      # M_T U = Y Xᵀ A_T⁻¹ U
    sig_t = cs.teacher_temperature * nu**2 * inv_T
    WTU = MTU + z["teacher"] * np.sqrt(sig_t)[..., None, :]
    # ---- soft labels, as Ŷ Xᵀ U
    m = cs.draws
    if cs.student == "sampled":
        teacher_part = WTU if cs.shared_teacher_draw else \
            MTU + z["teacher_part"] * np.sqrt(sig_t / m)[..., None, :]
        target = teacher_part * sv + (tau / np.sqrt(m)) * z["soft"] * np.sqrt(s)[..., None, :]
    else:
        target = MTU * sv
    inv_sqrt_S = np.sqrt(_safe_inverse(s + cs.student_lam))
    inv_S = inv_sqrt_S**2
    B = target * inv_sqrt_S[..., None, :]
    r = cs.rank
    if r is not None and r == 0:
        B = np.zeros_like(B)
    elif r is not None and r < min(k, d):
        B = _truncate(B, r)
    c = cs.shrinkage if cs.student == "shrinkage" else 1.0
    MSU = c * B * inv_sqrt_S[..., None, :]
    sig_s = cs.student_temperature * tau**2 * inv_S
    WSU = MSU + z["student"] * np.sqrt(sig_s)[..., None, :]
    out = {"_MTU": MTU, "_WTU": WTU, "_WSU": WSU, "_target": target}
    # ---- the conditional law of the student given D (docs/mathematics.md §4.3)
    g = s * inv_S
    if cs.student == "sampled" and cs.linear_student and cs.rank != 0:
        mean_s = MTU * g[..., None, :]                     # soft labels integrated out: exact
        sig_used = sig_s + g * g * sig_t / (1 if cs.shared_teacher_draw else m) + tau**2 * s * inv_sqrt_S**4 / m
    else:                                                   # population/shrinkage exact; sampled rank-r:
        mean_s, sig_used = MSU, sig_s                       # E_Ŷ KL, an upper bound (convexity)
    mean2 = _rowsq(mean_s - MTU)
    for kind, col in KIND_COLUMNS.items():
        if s.ndim == 1:      # fixed design: the covariance part is the same for every replicate
            const, weights = kl_modes_linear(s, sig_used, sig_t, k, tau, kind)
            out[col] = np.full(R, const) if math.isinf(const) else const + np.einsum("rd,d->r", mean2, weights)
        else:
            out[col] = kl_modes(s, sig_used, sig_t, mean2, k, tau, kind)
    # ---- gaps, risks, Theorem 3 terms
    DT, DS = WTU - WsU, WSU - WsU
    delta = WSU - WTU
    if cs.design == "fixed":
        for tag, D in (("T", DT), ("S", DS)):
            fit = np.einsum("rd,d->r", _rowsq(D), s) / n
            gap = (nu**2 * (k * n - normE2) + 2 * nu * _dot(EXU, D)) / n
            out[f"risk_{tag}"], out[f"gen_{tag}"] = fit + k * nu**2, gap
            out[f"emp_risk_{tag}"] = fit + k * nu**2 - gap
        out["first_order"] = (2 * nu / n) * _dot(EXU, delta)
        out["curvature"] = np.zeros(R)
        # h = g + τ⟨B, E′⟩, B = 2νE/n: given E, τ⟨B, E′⟩ ~ N(0, (2ντ/n)²‖E‖²); its CGF is ψ_Y.
        out["_h_T"] = out["gen_T"] + (2 * nu * tau / n) * np.sqrt(normE2) * z["channel"]
    else:
        iso = _isotropic(cs.design_cov)
        SigU = None if iso is not None else np.swapaxes(U, -1, -2) @ cs.design_cov @ U
        for tag, D in (("T", DT), ("S", DS)):
            risk = (iso * _dot(D, D) if iso is not None else _dot(D @ SigU, D)) + k * nu**2
            emp = (nu**2 * normE2 - 2 * nu * _dot(EXU, D) + _wdot(D, D, s)) / n
            out[f"risk_{tag}"], out[f"emp_risk_{tag}"], out[f"gen_{tag}"] = risk, emp, risk - emp
        # ∇g(W) = 2(W − W⋆)Σ_x + 2(Y − WX)Xᵀ/n, and (Y − W_T X)Xᵀ U = νEXᵀU − (W_T − W⋆)U diag(s)
        if iso is not None:          # Uᵀ Σ_x U = c I: H = Uᵀ(Σ_x − XXᵀ/n)U is diagonal
            grad = 2 * iso * DT + 2 * (nu * EXU - DT * sv) / n
            hd = iso - s / n
            out["curvature"] = _wdot(delta, delta, hd)
            out["kappa"] = 2 * np.max(np.abs(hd), axis=-1)
        else:
            grad = 2 * DT @ SigU + 2 * (nu * EXU - DT * sv) / n
            H = SigU - np.eye(d) * (s / n)[..., None, :]
            out["curvature"] = _dot(delta @ H, delta)
            out["kappa"] = 2 * np.max(np.abs(np.linalg.eigvalsh(H)), axis=-1)
        out["first_order"] = _dot(grad, delta)
        out["kappa_rho2"] = out["kappa"] * _dot(delta, delta)
    out["gen_gap"] = out["gen_S"] - out["gen_T"]
    out["rho2"] = _dot(delta, delta)
    return out


def _skl_pairs(cs, s, U, MTU, WTU, sig_t, R):
    r"""Per disjoint pair (a, b) of replicates: log q(W_a|D_a) − log q(W_a|D_b) + log q(W_b|D_b) − log q(W_b|D_a).

    Its mean is 2 I_SKL(W_T; D) (the normalisers cancel); W_a from the pair's other data set is
    a draw of the product of marginals. Only the quadratic terms of log q remain:
    −½ Σ_j ‖(W − M_T)u_j‖²/σ_T,j.
    """
    h = R // 2
    a, b = slice(0, h), slice(h, 2 * h)
    prec = _safe_inverse(sig_t)        # a direction where X Xᵀ rounded to 0 (λ_T = 0) carries no term

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
