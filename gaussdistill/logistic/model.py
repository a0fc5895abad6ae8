r"""The multinomial logistic teacher and the rank-r student, batched over chains.

Notation (columns are samples, as in the linear-Gaussian core): inputs X ∈ R^{d×n},
labels y ∈ {0, …, k−1}^n, one-hot Y ∈ R^{k×n}; softmax over the class axis.

Teacher (weights W_T ∈ R^{k×d}). Gibbs posterior with inverse temperature γ:

.. math::
    q_T(W \mid D) \propto \mathcal N(W; 0, \sigma_0^2 I)\,
    \exp\bigl(-\gamma\, n\, L_D(W)\bigr),\qquad
    L_D(W) = \frac1n\sum_i -\log \operatorname{softmax}(W x_i)_{y_i},

so γ = 1 is the Bayesian posterior of the logistic model and γ → ∞ concentrates on the
penalised maximum-likelihood fit. ∇ of the negative log-posterior: γ (P − Y) Xᵀ + W/σ₀²,
P = softmax(W X).

Soft labels (Hinton et al., 2015): p_T(x) = softmax(W_T x / T), softmax temperature T > 0.

Student (W_S = A Bᵀ, A ∈ R^{k×r}, B ∈ R^{d×r}). Gibbs posterior on (A, B):

.. math::
    q_S(A, B \mid D, W_T) \propto \mathcal N(A; 0, \sigma_0^2 I)\,\mathcal N(B; 0, \sigma_0^2 I)\,
    \exp\Bigl(-\gamma \sum_i \mathrm{CE}\bigl(p_T(x_i),\ \operatorname{softmax}(A B^T x_i / T)\bigr)\Bigr),

with CE(p, q) = −Σ_c p_c log q_c: the student's predictions use the same T in training, as
in Hinton et al.; there is no hard-label term, hence no T² gradient rescaling. ∇_W of the
energy: (γ/T)(Q − P_T) Xᵀ with Q = softmax(W_S X / T); chain rule: ∇_A = G B, ∇_B = Gᵀ A.

Preconditioning and step size (both chains run preconditioned MALA, or ULA on request; see
:mod:`gaussdistill.logistic.langevin`). The cross-entropy's Hessian in the logits is
H(p) = diag(p) − ppᵀ, with H(p)1 = 0 and 0 ⪯ H(p) ⪯ ½(I − 11ᵀ/k) (for v ⟂ 1,
vᵀH(p)v = Var_p(v) ≤ (max v − min v)²/4 ≤ ‖v‖²/2, Popoviciu). In W-space the data term's
Hessian is γ Σ_i H(p_i) ⊗ x_i x_iᵀ (class-major flattening of W).

* Teacher: the preconditioner is the Laplace covariance P_T = (γ Σ_i H(p̂_i) ⊗ x_i x_iᵀ +
  σ₀⁻² I)⁻¹ at the posterior mode Ŵ (Newton's method, dense kd×kd; the prior makes it
  invertible along the flat direction W ↦ W + 1vᵀ, where it equals σ₀²). Chains start at
  Ŵ + 1.5·P_T^{1/2}ξ (overdispersed for R-hat).
* Student: per chain, the generalised Gauss–Newton matrix of its energy pulled back to
  (A, B), plus a shift: P_S = (Jᵀ H_S J + (σ₀⁻² + δ) I)⁻¹ with J = ∂vec(A Bᵀ)/∂(A, B) at the
  chain's initial state and H_S = (γ/T²) Σ_i H(p̄_i) ⊗ x_i x_iᵀ at the chains' average soft
  label p̄_i. The Hessian in (A, B) has, besides the GGN term, 2⟨∇_W F, a bᵀ⟩, of size at most
  ‖∇_W F‖_op(‖a‖² + ‖b‖²); it acts along the directions the data leave free (A ↦ AM,
  B ↦ BM⁻ᵀ), where the GGN holds only the prior. δ is the median over chains of ‖∇_W F‖_op
  at typical states x₀ + Rξ (R from the unshifted matrix): with it the student's step is
  about 7× larger at the defaults (split R-hat 1.07 instead of 1.16 after 600 steps).

Step: h = ``step_scale`` · c / L̂ with c = p^{−1/3} for MALA (p the number of coordinates;
MALA's optimal scaling, Roberts & Rosenthal 1998) and c = 0.1 for ULA, and L̂ = max(1, largest
|eigenvalue| of P^{1/2} ∇²(−log π) P^{1/2}, by 20 power iterations on finite-difference
Hessian-vector products: at the mode for the teacher, at the initial states (largest over
chains) for the student). At a Gaussian target the preconditioned Hessian is I. With
``method="mala"`` (the default) π is exactly invariant and h only sets the acceptance rate;
with ``method="ula"`` the stationary covariance is P(1 − h/2)⁻¹ at a Gaussian target (relative
variance bias h/2: 5 % at the default ULA step). L̂ is an estimate, not a global bound (the
bilinear student has none): the samplers' divergence checks guard it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..errors import GaussDistillError
from .langevin import ChainRun, Preconditioner, run_chains


def softmax_(z: np.ndarray, axis: int = 1) -> np.ndarray:
    """Softmax along ``axis`` in place (max-shifted: no overflow); returns ``z``."""
    z -= z.max(axis=axis, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=axis, keepdims=True)
    return z


def softmax_lse_(z: np.ndarray) -> np.ndarray:
    """Softmax along axis 1 of (C, k, n) in place; returns log Σ_c exp z_c, shape (C, n)."""
    zmax = z.max(axis=1, keepdims=True)
    z -= zmax
    np.exp(z, out=z)
    total = z.sum(axis=1, keepdims=True)
    z /= total
    np.log(total, out=total)          # in place: a fresh (C, n) array costs page faults per step
    total += zmax
    return total[:, 0, :]


def logits(W: np.ndarray, X: np.ndarray) -> np.ndarray:
    """(C, k, d) weights, (d, n) inputs -> (C, k, n) logits, one GEMM for all chains."""
    C, k, d = W.shape
    return (W.reshape(C * k, d) @ X).reshape(C, k, X.shape[1])


def class_mean_split(v: np.ndarray):
    """(C, k, m) -> (v − v̄, v̄) with v̄ the class mean (axis 1), the J and C parts."""
    mean = v.mean(axis=1, keepdims=True)
    return v - mean, mean


def data_hessian(P: np.ndarray, X: np.ndarray, scale: float) -> np.ndarray:
    """scale · Σ_i H(p_i) ⊗ x_i x_iᵀ as a (k·d, k·d) matrix (class-major), P (k, n), X (d, n)."""
    k, d = P.shape[0], X.shape[0]
    diag = np.einsum("ai,ji,li->ajl", P, X, X, optimize=True)
    outer = np.einsum("ai,bi,ji,li->ajbl", P, P, X, X, optimize=True)
    outer = -outer
    for a in range(k):
        outer[a, :, a, :] += diag[a]
    return scale * outer.reshape(k * d, k * d)


@dataclass(frozen=True)
class Problem:
    """The fixed quantities of one posterior: data X (d, n), labels y (n,), γ, σ₀², T."""

    X: np.ndarray
    y: np.ndarray
    gamma: float
    prior_var: float
    temperature: float

    def __post_init__(self):
        try:
            X = np.asarray(self.X, dtype=float)
            y_raw = np.asarray(self.y)
        except (TypeError, ValueError) as exc:
            raise GaussDistillError(f"X and y must be numeric arrays ({exc})") from None
        if X.ndim != 2 or not np.all(np.isfinite(X)):
            raise GaussDistillError(f"X must be a finite 2-D (d, n) array; got shape {X.shape}"
                                    + ("" if X.ndim != 2 else " with non-finite entries"))
        if y_raw.shape != (X.shape[1],) or y_raw.dtype.kind not in "iu" or (y_raw.size and y_raw.min() < 0):
            raise GaussDistillError(f"y must be {X.shape[1]} non-negative integer class labels (one per column of X); "
                                    f"got dtype {y_raw.dtype} shape {y_raw.shape}")
        for name in ("gamma", "prior_var", "temperature"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) \
                    or not (math.isfinite(v) and v > 0):
                raise GaussDistillError(f"{name} must be a finite number > 0; got {v!r}")
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "y", y_raw.astype(np.intp))

    @cached_property
    def onehot(self) -> np.ndarray:
        k = int(self.y.max()) + 1 if self.y.size else 1
        return self.onehot_k(k)

    def onehot_k(self, k: int) -> np.ndarray:
        if self.y.size and self.y.max() >= k:
            raise GaussDistillError(f"y has a label {int(self.y.max())} >= k = {k}; labels must lie in [0, k)")
        Y = np.zeros((k, self.X.shape[1]))
        Y[self.y, np.arange(self.X.shape[1])] = 1.0
        return Y


def _largest_curvature(grad, x0: np.ndarray, rng: np.random.Generator, iters: int = 20) -> float:
    """Largest |eigenvalue| of the Jacobian of ``grad`` at x0 (per chain; max over chains).

    Power iteration on finite-difference Hessian-vector products (grad(x0 + εv) − grad(x0))/ε.
    """
    g0 = grad(x0).copy()
    v = rng.standard_normal(x0.shape)
    eps = 1e-5 * (1.0 + float(np.abs(x0).max()))
    lam = np.zeros(x0.shape[0])
    for _ in range(iters):
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        hv = (grad(x0 + eps * v) - g0) / eps
        lam = np.linalg.norm(hv, axis=1)
        v = hv
    return float(np.max(lam))


def teacher_mode(problem: Problem, k: int, iters: int = 50) -> np.ndarray:
    """The teacher posterior's mode Ŵ (k, d): damped Newton on the convex negative log-posterior."""
    X, Y, g, var = problem.X, problem.onehot_k(k), problem.gamma, problem.prior_var
    d = X.shape[0]
    W = np.zeros((k, d))

    def energy(W):
        z = W @ X
        zmax = z.max(axis=0)
        lse = np.log(np.exp(z - zmax).sum(axis=0)) + zmax
        return g * float((lse - (z * Y).sum(axis=0)).sum()) + 0.5 * float((W * W).sum()) / var

    f = energy(W)
    for _ in range(iters):
        P = softmax_((W @ X)[None])[0]
        grad = (g * (P - Y) @ X.T + W / var).reshape(-1)
        hess = data_hessian(P, X, g) + np.eye(k * d) / var
        step = np.linalg.solve(hess, grad).reshape(k, d)
        t = 1.0
        while t > 1e-8:
            f_new = energy(W - t * step)
            if f_new <= f - 1e-4 * t * float(grad @ step.reshape(-1)):
                break
            t *= 0.5
        W, f_old, f = W - t * step, f, f_new
        if abs(f_old - f) <= 1e-12 * max(1.0, abs(f)):
            break
    return W


def _step(step, step_scale, grad_unit, y0, rng, method):
    p = y0.shape[1]
    L_hat = max(1.0, _largest_curvature(grad_unit, y0, rng))
    c = p ** (-1.0 / 3.0) if method == "mala" else 0.1
    return (float(step) if step is not None else step_scale * c / L_hat), L_hat


def teacher_target(problem: Problem, k: int):
    """The teacher posterior for the samplers: ``(log_post, preconditioner, mode)``.

    ``log_post(x)`` maps (C, k·d) states to (log posterior up to a constant (C,), its
    gradient (C, k·d)): one GEMM for all chains' logits, one softmax, one GEMM for the gradient.
    """
    X, Y = problem.X, problem.onehot_k(k)
    d, n = X.shape
    gamma, var = problem.gamma, problem.prior_var
    mode = teacher_mode(problem, k)
    P_hat = softmax_((mode @ X)[None])[0]
    pre = Preconditioner.from_precision(data_hessian(P_hat, X, gamma) + np.eye(k * d) / var)
    XT = np.ascontiguousarray(X.T)
    YX = (Y @ XT).reshape(-1)              # Σ_i z_{y_i, i} = ⟨W, Y Xᵀ⟩, and (P − Y)Xᵀ = PXᵀ − YXᵀ

    def log_post(x):
        W = x.reshape(-1, k, d)
        P = logits(W, X)
        lse = softmax_lse_(P)
        G = (P.reshape(-1, n) @ XT).reshape(x.shape)
        G -= YX
        G *= -gamma
        G -= x / var
        lp = gamma * (x @ YX - lse.sum(axis=1)) - 0.5 * np.einsum("ij,ij->i", x, x) / var
        return lp, G

    return log_post, pre, mode


def sample_teacher(problem: Problem, k: int, n_chains: int, n_steps: int, burn_in: int,
                   rng: np.random.Generator, step_scale: float = 1.0, step: float | None = None,
                   method: str = "mala") -> ChainRun:
    """Run ``n_chains`` preconditioned Langevin chains on the teacher's Gibbs posterior.

    ``final`` has shape (n_chains, k·d) (reshape to (n_chains, k, d)); the diagnostics use the
    centred weights C W (the identifiable part). Module docstring: preconditioner, start, step.
    """
    d = problem.X.shape[0]
    log_post, pre, mode = teacher_target(problem, k)

    def summary(x):
        return class_mean_split(x.reshape(-1, k, d))[0].reshape(x.shape[0], -1)

    x0 = mode.reshape(1, -1) + 1.5 * pre.apply_R(rng.standard_normal((n_chains, k * d)))
    at_mode = np.repeat(mode.reshape(1, -1), min(n_chains, 4), axis=0)
    h, _ = _step(step, step_scale, lambda y: pre.apply_RT(log_post(at_mode + pre.apply_R(y))[1]),
                 np.zeros_like(at_mode), rng, method)
    limit = 1e3 * (1.0 + float(np.max(np.abs(x0))))
    return run_chains(log_post, x0, h, n_steps, rng, burn_in=burn_in, method=method, precond=pre,
                      summary=summary, limit=limit, what="teacher Langevin")


def soft_labels(W_T: np.ndarray, X: np.ndarray, temperature: float) -> np.ndarray:
    """p_T = softmax(W_T X / T) for every chain: (C, k, d) -> (C, k, n)."""
    z = logits(W_T, X)
    z /= temperature
    return softmax_(z)


def _factor_jacobian(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """J = ∂vec(A Bᵀ)/∂(vec A, vec B) per chain: (C, k·d, k·r + d·r), row-major vec."""
    C, k, r = A.shape
    d = B.shape[1]
    JA = np.einsum("ab,cjl->cajbl", np.eye(k), B).reshape(C, k * d, k * r)
    JB = np.einsum("jm,cal->cajml", np.eye(d), A).reshape(C, k * d, d * r)
    return np.concatenate([JA, JB], axis=2)


def sample_student(problem: Problem, soft: np.ndarray, rank: int, n_steps: int, burn_in: int,
                   rng: np.random.Generator, step_scale: float = 1.0, step: float | None = None,
                   method: str = "mala"):
    """Run one preconditioned Langevin student chain per soft-label set (chain c fits ``soft[c]``).

    ``soft`` (C, k, n): soft labels p_T = softmax(W_T X / T) of C teacher draws
    (:func:`soft_labels`). Returns ``(run, W_S)`` with W_S = A Bᵀ of the final states, shape
    (C, k, d). Chains start at the balanced factorisation A₀ = U_r S_r^{1/2}, B₀ = V_r S_r^{1/2}
    of the least-squares logit fit W₀ = T·(C log p_T) Xᵀ (X Xᵀ)⁻¹ (C = I − 11ᵀ/k; it equals the
    centred teacher draw when X has full row rank), plus N(0, 0.1²) noise.
    """
    X, T = problem.X, problem.temperature
    soft = np.asarray(soft, dtype=float)
    if soft.ndim != 3 or soft.shape[2] != X.shape[1] or not np.all(np.isfinite(soft)) or np.any(soft < 0):
        raise GaussDistillError(f"soft labels must be finite probabilities of shape (n_draws, k, {X.shape[1]}); "
                                f"got shape {soft.shape}")
    if not 1 <= rank <= min(soft.shape[1], X.shape[0]):
        raise GaussDistillError(f"rank must be an integer in [1, min(k, d)] = [1, {min(soft.shape[1], X.shape[0])}]; "
                                f"got {rank!r}")
    C, k, n = soft.shape
    d, r = X.shape[0], rank
    P_T = soft
    gamma, var = problem.gamma, problem.prior_var
    XT = np.ascontiguousarray(X.T)
    PX = (P_T.reshape(C * k, n) @ XT).reshape(C, k, d)     # Σ_{c,i} p_ci z_ci = ⟨W, P_T Xᵀ⟩; (Q − P_T)Xᵀ = QXᵀ − P_T Xᵀ
    log_p = np.log(np.maximum(P_T, 1e-300))
    centred_logits = T * class_mean_split(log_p)[0]
    W0 = np.linalg.lstsq(XT, centred_logits.reshape(C * k, n).T, rcond=None)[0].T.reshape(C, k, d)
    U, S, Vt = np.linalg.svd(W0, full_matrices=False)
    root = np.sqrt(S[:, :r])[:, None, :]
    A0 = U[:, :, :r] * root + 0.1 * rng.standard_normal((C, k, r))
    B0 = np.swapaxes(Vt[:, :r, :], 1, 2) * root + 0.1 * rng.standard_normal((C, d, r))
    na, p = k * r, (k + d) * r
    J = _factor_jacobian(A0, B0)
    H_S = data_hessian(P_T.mean(axis=0), X, gamma / T**2)
    ggn = np.swapaxes(J, 1, 2) @ H_S @ J + np.eye(p) / var

    def energy_grad(x):
        A, B = x[:, :na].reshape(C, k, r), x[:, na:].reshape(C, d, r)
        W = A @ np.swapaxes(B, 1, 2)
        Q = logits(W, X)
        Q /= T
        lse = softmax_lse_(Q)
        G = (Q.reshape(C * k, n) @ XT).reshape(C, k, d)
        G -= PX
        G *= -gamma / T                   # −∇_W of the energy
        return A, B, W, G, lse

    # The GGN misses the curvature 2⟨∇_W F, a bᵀ⟩ of the bilinear map, at most ‖∇_W F‖_op per unit
    # step; it acts along the directions the data do not fix (A ↦ AM, B ↦ BM⁻ᵀ), where the GGN
    # has only the prior. Add δ = the median ‖∇_W F‖_op at typical states x₀ + R ξ.
    R0 = Preconditioner.from_precision(ggn)
    x0 = np.concatenate([A0.reshape(C, -1), B0.reshape(C, -1)], axis=1)
    G_typ = energy_grad(x0 + R0.apply_R(rng.standard_normal(x0.shape)))[3]
    delta = float(np.median(np.linalg.norm(G_typ, ord=2, axis=(1, 2))))
    pre = Preconditioner.from_precision(ggn + delta * np.eye(p))

    def log_post(x):
        A, B, W, G, lse = energy_grad(x)
        out = np.empty_like(x)
        out[:, :na] = (G @ B).reshape(C, -1)
        out[:, na:] = (np.swapaxes(G, 1, 2) @ A).reshape(C, -1)
        out -= x / var
        energy = lse.sum(axis=1) - np.einsum("ckd,ckd->c", W, PX) / T
        lp = -gamma * energy - 0.5 * np.einsum("ij,ij->i", x, x) / var
        return lp, out

    def summary(x):
        A, B = x[:, :na].reshape(C, k, r), x[:, na:].reshape(C, d, r)
        return class_mean_split(A @ np.swapaxes(B, 1, 2))[0].reshape(C, -1)

    h, _ = _step(step, step_scale, lambda y: pre.apply_RT(log_post(x0 + pre.apply_R(y))[1]),
                 np.zeros_like(x0), rng, method)
    limit = 1e3 * (1.0 + float(np.max(np.abs(x0)))) * (1.0 + math.sqrt(var))
    run = run_chains(log_post, x0, h, n_steps, rng, burn_in=burn_in, method=method, precond=pre,
                     summary=summary, limit=limit, what="student Langevin", own_targets=True)
    A, B = run.final[:, :na].reshape(C, k, r), run.final[:, na:].reshape(C, d, r)
    return run, A @ np.swapaxes(B, 1, 2)
