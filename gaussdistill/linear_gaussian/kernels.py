r"""Stochastic kernels of the linear-Gaussian case study (docs/mathematics.md §2.1).

* :func:`ridge_teacher` — the Gibbs/Bayesian ridge teacher
  :math:`q_T(W\mid D) = \mathcal{MN}(M_T, I_k, \Sigma_T)`.
* :func:`soft_labels` — the teacher's exact soft-label law
  :math:`\hat Y \mid (X, D) \sim \mathcal{MN}(M_T X, I_k, \tau^2 I_n + X^T \Sigma_T X)`.
* :func:`rank_student` — the reduced-rank ridge student
  :math:`q_S(W\mid D) = \mathcal{MN}(M_S, I_k, \Sigma_S)`, rank :math:`M_S \le r`.
* :func:`from_samples_as_rows` — data with samples as rows (scikit-learn, pandas) turned
  into the package's convention.

Conventions: X is d×n (columns are samples), Y and soft labels are k×n, weights are k×d.
Kernels are immutable (read-only copies of their arrays; attributes cannot be reassigned).
"""
from __future__ import annotations

import numpy as np

from .._numerics.covariance import IdentityPlusLowRank
from .._numerics.psd import PSDFactor
from .._validate import CONVENTION, as_matrix, as_rank, as_scalar, frozen_copy, read_only
from ..errors import GaussDistillError
from ..gaussian.matrix_normal import MatrixNormal
from .design import DesignSpectrum, spectrum_for


def from_samples_as_rows(X_rows, Y_rows=None):
    r"""Data with samples as rows (n×d, n×k: scikit-learn, pandas) in the package's convention.

    Returns ``(X, Y)`` with X d×n and Y k×n (columns are samples), float64 copies; a 1-D
    target of length n becomes a 1×n Y (k = 1). ``Y_rows=None`` returns ``(X, None)``.

    >>> import numpy as np
    >>> X, Y = from_samples_as_rows(np.ones((5, 2)), np.arange(5.0))
    >>> X.shape, Y.shape
    ((2, 5), (1, 5))
    """
    X_rows = as_matrix("X_rows", X_rows)
    n = X_rows.shape[0]
    if Y_rows is None:
        return np.array(X_rows.T), None
    try:
        y = np.asarray(Y_rows)
    except (TypeError, ValueError) as exc:     # ragged nested lists
        raise GaussDistillError(f"Y_rows must be a numeric array of n rows; could not read it ({exc})") from None
    if y.ndim == 1:
        Y_rows = as_matrix("Y_rows", y[:, None], (n, None))
    else:
        Y_rows = as_matrix("Y_rows", y, (n, None))
    return np.array(X_rows.T), np.array(Y_rows.T)


def _data(X, Y):
    """X (d×n) and Y (k×n) validated, with the convention named in shape errors."""
    X = as_matrix("X", X, convention=True)
    d, n = X.shape
    Y = as_matrix("Y", Y, convention=True)
    if Y.shape[1] != n:
        msg = f"Y has shape {Y.shape}, expected (any, {n}) (axis 1 must have length {n}); {CONVENTION}"
        if Y.shape[0] == d:
            msg += (f". X and Y have the same number of rows ({d}): if your samples are rows, pass the "
                    f"transpose X.T, Y.T or use gd.from_samples_as_rows(X, Y)")
        raise GaussDistillError(msg)
    return X, Y


def _finite_eigs(values, what, names, fix, positive=True):
    """Covariance eigenvalues, or an error naming the arguments when float64 overflows.

    The rule: every eigenvalue and their sum (the trace, which every divergence and every
    draw uses) must be finite in float64; and, for a law with temperature > 0, every
    eigenvalue must be a normal float64 number (≥ 2.2e-308): one rounded to 0 (or to a
    subnormal with few digits) would make the law silently (partly) deterministic.
    """
    with np.errstate(over="ignore"):
        trace = float(np.sum(values))
    if not (np.all(np.isfinite(values)) and np.isfinite(trace)):
        raise GaussDistillError(
            f"the {what} covariance overflows float64 (an eigenvalue {names} is too large, "
            f"or their sum); {fix}")
    if positive and values.size and float(np.min(values)) < np.finfo(float).tiny:
        raise GaussDistillError(
            f"the {what} covariance underflows float64 (an eigenvalue {names} is "
            f"{float(np.min(values)):.3g}, below 2.2e-308, so the law would be partly deterministic); "
            f"increase the noise or the temperature (temperature=0 is the deterministic law), or rescale X")
    return values


def check_soft_noise(tau: float) -> float:
    """τ with τ² a normal float64 number (1/τ² is used by every predictive formula)."""
    if not (np.isfinite(tau * tau) and tau * tau >= np.finfo(float).tiny and np.isfinite(1 / (tau * tau))):
        raise GaussDistillError(f"soft_noise = {tau:.3g}: soft_noise² is outside float64's normal range "
                                f"(about 1e-308 to 1e308); rescale X, Y and soft_noise together")
    return tau


class TeacherKernel(MatrixNormal):
    r"""Ridge/Gibbs teacher :math:`\mathcal{MN}(M_T, I_k, \Sigma_T)` (see :func:`ridge_teacher`)."""

    design: np.ndarray
    targets: np.ndarray
    lam: float
    noise: float
    temperature: float
    spectrum: DesignSpectrum


def ridge_teacher(X, Y, lam, noise, temperature=1.0) -> TeacherKernel:
    r"""The ridge teacher kernel (docs/mathematics.md §2.1).

    .. math::
        A_T = X X^T + \lambda_T I_d,\quad M_T = Y X^T A_T^{-1},\quad
        \Sigma_T = t_T \nu^2 A_T^{-1},\qquad q_T = \mathcal{MN}(M_T, I_k, \Sigma_T).

    ``temperature`` :math:`t_T = 1` is the exact posterior under the prior
    :math:`\mathcal{MN}(0, I_k, (\nu^2/\lambda_T) I_d)`; ``temperature=0`` is the
    deterministic ridge teacher. Computed from one eigendecomposition of X Xᵀ
    (no explicit inverse).

    Parameters
    ----------
    X : (d, n) design, columns are samples.
    Y : (k, n) labels.
    lam : ridge λ_T ≥ 0 (> 0 when X Xᵀ is singular).
    noise : label noise ν > 0.
    temperature : t_T ≥ 0.
    """
    X, Y = _data(X, Y)
    X, Y = frozen_copy(X), frozen_copy(Y)
    lam = as_scalar("lam", lam, nonnegative=True)
    noise = as_scalar("noise", noise, positive=True)
    temperature = as_scalar("temperature", temperature, nonnegative=True)
    spec = DesignSpectrum.of(X)
    inv = spec.ridge_inverse_eigs(lam, "lam")
    U = spec.vectors
    with np.errstate(over="ignore", invalid="ignore"):
        mean = _ridge_mean(X, Y, spec, lam, inv)
    if not np.all(np.isfinite(mean)):
        raise GaussDistillError(f"the teacher mean overflows float64 (max |Y| = {np.max(np.abs(Y)):.3g}, "
                                f"lam = {lam:.3g}); rescale Y")
    # temperature = 0 is exactly deterministic (never 0·inf = NaN). Exact eigenvalues (a
    # formula, not a decomposition): no rank cutoff, which would zero the smallest ones when
    # cond(A) > 1/rtol ≈ 4.5e9 and drop s_j·w_j = O(1).
    with np.errstate(over="ignore"):
        cov_eigs = temperature * noise * noise * inv if temperature > 0 else np.zeros_like(inv)
    cov_eigs = _finite_eigs(cov_eigs, "teacher", "t_T·noise²/(s_j + lam): noise, temperature or lam",
                            "reduce noise or temperature, or pass lam > 0", positive=temperature > 0)
    teacher = TeacherKernel.__new__(TeacherKernel)
    teacher._init(read_only(mean), PSDFactor.exact_eigen(read_only(cov_eigs), U))
    teacher._set(design=X, targets=Y, spectrum=spec, lam=lam, noise=noise, temperature=temperature)
    return teacher


def _ridge_mean(X, Y, spec, lam, inv):
    r"""M_T = Y Xᵀ (X Xᵀ + λI)⁻¹ in the design's eigenbasis.

    Y Xᵀ squares the conditioning of X (its rounding error in the weak directions is
    ~cond(X Xᵀ)·eps relative), so when the spectrum came from the SVD X = L diag(σ) Rᵀ the
    mean is (Y R) diag(σ/(σ² + λ)) Lᵀ instead, accurate to ~cond(X)·eps.
    """
    U = spec.vectors
    if spec.right is None:
        return ((Y @ X.T) @ U * inv[None, :]) @ U.T
    return ((Y @ spec.right) * (np.sqrt(spec.s) * inv)[None, :]) @ U.T


def _check_teacher(teacher, X):
    if not isinstance(teacher, MatrixNormal):
        raise GaussDistillError(
            f"teacher must be a MatrixNormal kernel (e.g. from ridge_teacher); got {type(teacher).__name__}"
        )
    if not teacher.row_is_identity:
        raise GaussDistillError("teacher must have row covariance I_k (the case study's MN(M, I_k, Σ))")
    k, d = teacher.shape
    design = getattr(teacher, "design", None)
    if X is design:
        return X
    X = as_matrix("X", X, (d, None), convention=True)
    return design if design is not None and np.array_equal(X, design) else frozen_copy(X)


# --------------------------------------------------------------------------- soft labels
class SoftLabelLaw(MatrixNormal):
    r"""Soft-label law :math:`\mathcal{MN}(M_T X, I_k, \tau^2 I_n + X^T \Sigma_T X)`.

    The n×n column covariance is identity plus rank ≤ d; it is formed only if
    ``col_cov`` is asked for. :meth:`sample` draws :math:`W X + \tau Z` with
    :math:`W \sim q_T`, at cost O(k d n) and memory O(k n).
    """

    teacher: MatrixNormal
    design: np.ndarray
    soft_noise: float

    def __repr__(self) -> str:
        k, n = self.shape
        return f"SoftLabelLaw(k={k}, n={n}, soft_noise={self.soft_noise})"


def soft_labels(teacher, X, soft_noise) -> SoftLabelLaw:
    r"""The exact predictive law of the teacher's soft labels on inputs X (docs/mathematics.md §2.1).

    .. math::
        \hat Y \mid (X, D) \sim \int q_T(W\mid D)\, \mathcal{MN}(W X, I_k, \tau^2 I_n)\, dW
        = \mathcal{MN}(M_T X,\ I_k,\ \tau^2 I_n + X^T \Sigma_T X).

    Parameters
    ----------
    teacher : MatrixNormal with row covariance I_k (e.g. from :func:`ridge_teacher`).
    X : (d, n) inputs.
    soft_noise : channel noise τ > 0 ("temperature"; the paper's case is τ = ν).
    """
    X = _check_teacher(teacher, X)
    soft_noise = check_soft_noise(as_scalar("soft_noise", soft_noise, positive=True))
    with np.errstate(over="ignore"):
        mean, scale = teacher.mean @ X, soft_noise * soft_noise
    if not (np.all(np.isfinite(mean)) and np.isfinite(scale) and scale > 0):
        raise GaussDistillError(
            "the soft-label law overflows float64 (M_T X or soft_noise**2); rescale X or soft_noise")
    law = SoftLabelLaw.__new__(SoftLabelLaw)
    spec = getattr(teacher, "spectrum", None)
    spec = spec if spec is not None and spec.matches(X) else None
    law._init(read_only(mean), None, col_structure=IdentityPlusLowRank(scale, X, teacher.col_factor, spec))
    law._set(teacher=teacher, design=X, soft_noise=soft_noise)
    return law


# --------------------------------------------------------------------------- student
class StudentKernel(MatrixNormal):
    r"""Reduced-rank ridge student :math:`\mathcal{MN}(M_S, I_k, \Sigma_S)` (see :func:`rank_student`)."""

    teacher: MatrixNormal
    design: np.ndarray
    rank: int
    lam: float
    soft_noise: float
    temperature: float
    mode: str
    spectrum: DesignSpectrum


def rank_student(teacher, X, rank, lam=0.0, soft_noise=None, temperature=0.0,
                 soft_labels=None) -> StudentKernel:
    r"""The reduced-rank ridge student (docs/mathematics.md §2.1).

    .. math::
        A_S = X X^T + \lambda_S I_d,\quad \hat W = \hat Y X^T A_S^{-1},\quad
        M_S = [\hat W A_S^{1/2}]_r A_S^{-1/2},\quad \Sigma_S = t_S \tau^2 A_S^{-1},

    where :math:`[B]_r` is the truncated SVD, so that
    :math:`M_S = \arg\min_{\operatorname{rank} W \le r} \|\hat Y - W X\|_F^2 + \lambda_S \|W\|_F^2`
    (Eckart–Young–Mirsky in the :math:`A_S` metric).

    Parameters
    ----------
    teacher : teacher kernel (row covariance I_k).
    X : (d, n) training inputs.
    rank : r in [0, min(k, d)].
    lam : student ridge λ_S ≥ 0. With λ_S = 0 and X Xᵀ singular the minimum-norm
        solution is used (directions with s_j = 0 get zero weight).
    soft_noise : τ > 0; defaults to the teacher's ``noise``.
    temperature : t_S ≥ 0 (0: deterministic student). t_S > 0 needs A_S ≻ 0.
    soft_labels : (k, n) array or None. None is the population student, fitting
        :math:`E[\hat Y] = M_T X`; an array is fitted as given (e.g. the mean of m
        draws of :func:`soft_labels`).
    """
    X = _check_teacher(teacher, X)
    k, d = teacher.shape
    n = X.shape[1]
    rank = as_rank("rank", rank, min(k, d))
    lam = as_scalar("lam", lam, nonnegative=True)
    if soft_noise is None:
        soft_noise = getattr(teacher, "noise", None)
        if soft_noise is None:
            raise GaussDistillError("soft_noise is required when the teacher has no `noise` attribute")
    soft_noise = check_soft_noise(as_scalar("soft_noise", soft_noise, positive=True))
    temperature = as_scalar("temperature", temperature, nonnegative=True)
    spec = spectrum_for(X, teacher)
    U = spec.vectors
    if soft_labels is None:
        # E[Ŷ] Xᵀ U = M_T X Xᵀ U = M_T U diag(s): O(k d²) instead of O(k d n). Kept in the
        # eigenbasis: a round trip through Uᵀ·U would leak eps·s_max into the weak directions.
        with np.errstate(over="ignore", invalid="ignore"):
            target_xt_u, mode = (teacher.mean @ U) * spec.s[None, :], "population"
    else:
        target = as_matrix("soft_labels", soft_labels, (k, n))
        mode = "sampled"
        with np.errstate(over="ignore", invalid="ignore"):
            if spec.right is None:
                target_xt_u = (target @ X.T) @ U
            else:  # ill-conditioned design: Ŷ Xᵀ U = (Ŷ R) diag(σ), without squaring cond(X)
                target_xt_u = (target @ spec.right) * np.sqrt(spec.s)[None, :]

    a = spec.s + lam
    positive = a > 0
    if temperature > 0 and not positive.all():
        raise GaussDistillError(
            f"temperature={temperature} > 0 needs A_S = X X^T + lam I to be invertible, but lam=0 and "
            f"X X^T has rank {spec.rank} < d = {d}; pass lam > 0 or temperature=0"
        )
    inv_sqrt = np.zeros_like(a)
    inv_sqrt[positive] = 1.0 / np.sqrt(a[positive])
    # Ŵ A_S^{1/2} = B U^T with B = Ŷ Xᵀ U diag((s+λ)^{-1/2}); truncate B, map back.
    with np.errstate(over="ignore", invalid="ignore"):
        B = target_xt_u * inv_sqrt[None, :]
        if not np.all(np.isfinite(B)):
            raise GaussDistillError("the student mean overflows float64 (huge teacher mean or soft labels); rescale Y")
        if rank < min(k, d):
            left, sv, right = np.linalg.svd(B, full_matrices=False)
            B = (left[:, :rank] * sv[:rank]) @ right[:rank]
        mean = (B * inv_sqrt[None, :]) @ U.T
    if temperature > 0:
        with np.errstate(over="ignore"):
            cov_eigs = temperature * soft_noise * soft_noise * inv_sqrt**2
        cov_eigs = _finite_eigs(cov_eigs, "student", "t_S·soft_noise²/(s_j + lam): soft_noise, temperature or lam",
                                "rescale X, pass lam > 0 or temperature=0")
    else:
        cov_eigs = np.zeros_like(inv_sqrt)   # exactly deterministic (never 0·inf = NaN)
    if not np.all(np.isfinite(mean)):
        raise GaussDistillError("the student mean overflows float64 (huge teacher mean or soft labels); rescale Y")
    student = StudentKernel.__new__(StudentKernel)
    student._init(read_only(mean), PSDFactor.exact_eigen(read_only(cov_eigs), U))
    student._set(teacher=teacher, design=X, spectrum=spec, rank=rank, lam=lam, soft_noise=soft_noise,
                 temperature=temperature, mode=mode)
    return student
