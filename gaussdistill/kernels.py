r"""Stochastic kernels of the linear-Gaussian case study (MATH 2.1).

* :class:`MatrixNormal` — the law :math:`\mathcal{MN}(M, U, V)` of a k×m matrix,
  :math:`\operatorname{vec} W \sim \mathcal N(\operatorname{vec} M, V \otimes U)` (never formed).
* :func:`ridge_teacher` — the Gibbs/Bayesian ridge teacher
  :math:`q_T(W\mid D) = \mathcal{MN}(M_T, I_k, \Sigma_T)`.
* :func:`soft_labels` — the teacher's exact soft-label law
  :math:`\hat Y \mid (X, D) \sim \mathcal{MN}(M_T X, I_k, \tau^2 I_n + X^T \Sigma_T X)`.
* :func:`rank_student` — the reduced-rank ridge student
  :math:`q_S(W\mid D) = \mathcal{MN}(M_S, I_k, \Sigma_S)`, rank :math:`M_S \le r`.

Conventions: X is d×n (columns are samples), Y and soft labels are k×n, weights are k×d.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ._linalg import FLOAT64, PSDFactor
from ._validate import as_count, as_generator, as_matrix, as_rank, as_scalar, as_symmetric
from .errors import GaussDistillError


# --------------------------------------------------------------------------- design
# Above this condition number of X Xᵀ the design spectrum comes from the SVD of X.
SVD_COND = 1e6

@dataclass(frozen=True)
class DesignSpectrum:
    r"""Eigendecomposition of the Gram matrix :math:`X X^T = U_x \operatorname{diag}(s) U_x^T`.

    Computed once per design and shared by the teacher, the student and the
    divergences; ``s`` is ascending and clipped at 0 (rounding noise).
    """

    design: np.ndarray
    s: np.ndarray
    vectors: np.ndarray
    right: np.ndarray | None = None   # n×d right singular vectors (ill-conditioned X only)

    @classmethod
    def of(cls, X: np.ndarray) -> "DesignSpectrum":
        s, vectors, ill_conditioned = _gram_eigh(X)
        return cls._of_svd(X) if ill_conditioned else cls(X, s, vectors)

    @classmethod
    def _of_svd(cls, X: np.ndarray) -> "DesignSpectrum":
        r"""The same spectrum from the SVD X = L diag(σ) Rᵀ (ill-conditioned designs).

        eigh(X Xᵀ) gets each s_j only to ±eps·s_max, i.e. cond(X Xᵀ)·eps relative on the
        smallest (7e-9 at cond 1e8), which reaches every divergence through s_j/(s_j + λ);
        σ_j from the SVD is accurate to eps·σ_max, so s_j = σ_j² to ~sqrt(cond)·eps. The SVD
        costs several times X Xᵀ, so only designs with cond(X Xᵀ) > SVD_COND pay for it.
        """
        d, n = X.shape
        left, sv, right_t = np.linalg.svd(X, full_matrices=n < d)
        s = np.zeros(d)
        s[: sv.size] = sv * sv
        right = np.zeros((n, d))
        right[:, : sv.size] = right_t[: sv.size].T
        order = np.argsort(s, kind="stable")
        s, vectors, right = s[order], left[:, order], right[:, order]
        tol = max(X.shape) * np.finfo(float).eps * float(s[-1])
        return cls(X, np.where(s > tol, s, 0.0), vectors, right)

    @property
    def rank(self) -> int:
        return int(np.count_nonzero(self.s))

    def matches(self, X: np.ndarray) -> bool:
        return same_design(X, self.design)

    def ridge_inverse_eigs(self, lam: float, name: str) -> np.ndarray:
        r"""Eigenvalues :math:`1/(s_j + \lambda)` of :math:`A^{-1} = (X X^T + \lambda I)^{-1}`.

        Raises if A is singular (λ = 0 and X Xᵀ rank deficient).
        """
        a = self.s + lam
        if np.any(a <= 0):
            raise GaussDistillError(
                f"{name}=0 but X X^T is singular (rank {self.rank} < d = {self.s.size}, e.g. n < d); "
                f"pass {name} > 0"
            )
        with np.errstate(over="ignore"):
            inv = 1.0 / a
        if not np.all(np.isfinite(inv)):
            raise GaussDistillError(
                f"X X^T + {name} I has an eigenvalue too small for float64 ({np.min(a):.3g}: its inverse "
                f"overflows); rescale X or pass {name} > 0")
        return inv


def same_design(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two design matrices are the same (identical object, or equal entries)."""
    return a is b or (a.shape == b.shape and np.array_equal(a, b))


def _gram_eigh(X: np.ndarray):
    """(s, U, ill_conditioned) from eigh(X Xᵀ); s ascending, rounding noise clipped to 0."""
    gram = X @ X.T
    if not np.all(np.isfinite(gram)):
        raise GaussDistillError(
            f"X is too large for float64: X X^T overflows (max |X| = {np.max(np.abs(X)):.3g}); "
            f"rescale X (and the ridge lam by the square of the same factor)")
    s, vectors = np.linalg.eigh(gram)
    tol = max(X.shape) * np.finfo(float).eps * max(float(s[-1]), 0.0) if s.size else 0.0
    s = np.where(s > tol, s, 0.0)
    kept = s[s > 0]
    return s, vectors, bool(kept.size >= 2 and kept[-1] > SVD_COND * kept[0])


def row_space_map(X: np.ndarray, *kernels):
    r"""A d×ρ matrix G with X = G Qᵀ for some Q with orthonormal columns, and its eigen-data.

    Then M X = (M G) Qᵀ and Xᵀ Σ X = Q (Gᵀ Σ G) Qᵀ: the predictive laws live in ρ ≤ d
    coordinates. Returns ``(G, U, s)`` with G = U diag(√s) from the Gram eigendecomposition
    (reused from a kernel built on X when there is one), or ``(Rᵀ, None, None)`` from a thin
    QR Xᵀ = Q R when X Xᵀ is ill-conditioned and no cached spectrum exists: the QR does not
    square cond(X) and costs less than the SVD the kernels use for that case.
    """
    spec = _cached_spectrum(X, kernels)
    if spec is not None:
        return spec.vectors * np.sqrt(spec.s)[None, :], spec.vectors, spec.s
    s, vectors, ill_conditioned = _gram_eigh(X)
    if ill_conditioned:
        return np.linalg.qr(X.T, mode="r").T, None, None
    return vectors * np.sqrt(s)[None, :], vectors, s


def spectrum_for(X: np.ndarray, *kernels) -> DesignSpectrum:
    """The Gram spectrum of X, reused from a kernel built on the same design if any."""
    spec = _cached_spectrum(X, kernels)
    return DesignSpectrum.of(X) if spec is None else spec


def _cached_spectrum(X: np.ndarray, kernels) -> DesignSpectrum | None:
    """The spectrum of a kernel built on this very design, or None."""
    for kernel in kernels:
        spec = getattr(kernel, "spectrum", None)
        if spec is not None and spec.matches(X):
            return spec
    return None


# --------------------------------------------------------------------------- law
class MatrixNormal:
    r"""Matrix normal law :math:`\mathcal{MN}(M, U, V)` of a k×m random matrix.

    :math:`\operatorname{vec} W \sim \mathcal N(\operatorname{vec} M, V \otimes U)`, with
    U the k×k row covariance (``row_cov``, default :math:`I_k`) and V the m×m column
    covariance (``col_cov``). Covariances may be singular (positive semi-definite);
    each is factored once (:class:`~gaussdistill._linalg.PSDFactor`).

    Parameters
    ----------
    mean : (k, m) array_like
    col_cov : (m, m) array_like, symmetric PSD
    row_cov : (k, k) array_like, symmetric PSD, optional (identity)
    """

    def __init__(self, mean, col_cov, row_cov=None):
        mean = as_matrix("mean", mean)
        k, m = mean.shape
        col_cov = as_symmetric("col_cov", col_cov, m)
        self._init(mean, PSDFactor.from_matrix("col_cov", col_cov), col_cov,
                   None if row_cov is None else as_symmetric("row_cov", row_cov, k))

    def _init(self, mean, col_factor, col_cov=None, row_cov=None):
        self._mean = mean
        self._col_factor = col_factor
        self._col_cov = col_cov
        self._row_cov = row_cov
        self._row_factor = None if row_cov is None else PSDFactor.from_matrix("row_cov", row_cov)

    # ---- parameters
    @property
    def mean(self) -> np.ndarray:
        """Mean M (k×m)."""
        return self._mean

    @property
    def shape(self) -> tuple:
        return self._mean.shape

    @property
    def col_cov(self) -> np.ndarray:
        """Column covariance V (m×m), dense (built from the factor on first use)."""
        if self._col_cov is None:
            f = self._col_factor
            self._col_cov = (f.vectors * f.values[None, :]) @ f.vectors.T
        return self._col_cov

    @property
    def row_cov(self) -> np.ndarray:
        """Row covariance U (k×k)."""
        return np.eye(self.shape[0]) if self._row_cov is None else self._row_cov

    @property
    def row_is_identity(self) -> bool:
        return self._row_cov is None

    @property
    def col_factor(self) -> PSDFactor:
        return self._col_factor

    @property
    def row_factor(self) -> PSDFactor:
        if self._row_factor is None:
            k = self.shape[0]
            self._row_factor = PSDFactor(np.ones(k), np.eye(k), k, FLOAT64)
        return self._row_factor

    @property
    def is_deterministic(self) -> bool:
        """True when the law is a point mass (a covariance factor is zero)."""
        return self.col_factor.rank == 0 or (self._row_cov is not None and self.row_factor.rank == 0)

    # ---- sampling
    def _col_root(self) -> np.ndarray:
        f = self._col_factor
        return f.vectors * np.sqrt(f.values)[None, :]

    def sample(self, size=None, rng=None) -> np.ndarray:
        r"""Draw W = M + L_U Z L_Vᵀ with Z standard normal (L L ᵀ factors of U, V).

        Parameters
        ----------
        size : int or None
            Number of draws; ``None`` returns one (k, m) matrix, an int returns (size, k, m).
        rng : int seed, numpy Generator or None
            Same seed ⇒ bit-identical draws.
        """
        rng = as_generator(rng)
        n_draws = 1 if size is None else as_count("size", size, 1, " or None")
        draws = self._mean + self._centred_draws(rng, n_draws)
        return draws[0] if size is None else draws

    def _centred_draws(self, rng: np.random.Generator, n_draws: int) -> np.ndarray:
        k, m = self.shape
        out = rng.standard_normal((n_draws, k, m)) @ self._col_root().T
        if self._row_cov is not None:
            f = self.row_factor
            out = (f.vectors * np.sqrt(f.values)[None, :]) @ out
        return out

    def __repr__(self) -> str:
        k, m = self.shape
        return f"{type(self).__name__}(k={k}, m={m}, deterministic={self.is_deterministic})"


# --------------------------------------------------------------------------- teacher
class TeacherKernel(MatrixNormal):
    r"""Ridge/Gibbs teacher :math:`\mathcal{MN}(M_T, I_k, \Sigma_T)` (see :func:`ridge_teacher`)."""

    design: np.ndarray
    targets: np.ndarray
    lam: float
    noise: float
    temperature: float
    spectrum: DesignSpectrum


def ridge_teacher(X, Y, lam, noise, temperature=1.0) -> TeacherKernel:
    r"""The ridge teacher kernel of MATH 2.1.

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
    X = as_matrix("X", X)
    d, n = X.shape
    Y = as_matrix("Y", Y, (None, n))
    lam = as_scalar("lam", lam, nonnegative=True)
    noise = as_scalar("noise", noise, positive=True)
    temperature = as_scalar("temperature", temperature, nonnegative=True)
    spec = DesignSpectrum.of(X)
    inv = spec.ridge_inverse_eigs(lam, "lam")
    U = spec.vectors
    mean = _ridge_mean(X, Y, spec, lam, inv)
    # temperature = 0 is exactly deterministic (never 0·inf = NaN).
    cov_eigs = temperature * noise**2 * inv if temperature > 0 else np.zeros_like(inv)
    # Exact eigenvalues (a formula, not a decomposition): no rank cutoff, which would
    # zero the smallest ones when cond(A) > 1/RANK_RTOL ≈ 4.5e9 and drop s_j·w_j = O(1).
    factor = PSDFactor(cov_eigs, U, int(np.count_nonzero(cov_eigs)), FLOAT64)
    teacher = TeacherKernel.__new__(TeacherKernel)
    teacher._init(mean, factor)
    teacher.design, teacher.targets, teacher.spectrum = X, Y, spec
    teacher.lam, teacher.noise, teacher.temperature = lam, noise, temperature
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


def _check_teacher(teacher, X) -> np.ndarray:
    if not isinstance(teacher, MatrixNormal):
        raise GaussDistillError(
            f"teacher must be a MatrixNormal kernel (e.g. from ridge_teacher); got {type(teacher).__name__}"
        )
    if not teacher.row_is_identity:
        raise GaussDistillError("teacher must have row covariance I_k (the case study's MN(M, I_k, Σ))")
    k, d = teacher.shape
    return as_matrix("X", X, (d, None))


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

    @property
    def col_cov(self) -> np.ndarray:
        if self._col_cov is None:
            X = self.design
            self._col_cov = self.soft_noise**2 * np.eye(X.shape[1]) + X.T @ self.teacher.col_cov @ X
        return self._col_cov

    @cached_property
    def _factor(self) -> PSDFactor:
        return PSDFactor.from_matrix("soft-label covariance", self.col_cov)

    @property
    def col_factor(self) -> PSDFactor:
        return self._factor

    @property
    def is_deterministic(self) -> bool:
        return False

    def _centred_draws(self, rng: np.random.Generator, n_draws: int) -> np.ndarray:
        # Ŷ − M_T X = (W − M_T) X + τ Z: the teacher's weight noise pushed through X plus
        # channel noise, never the n×n covariance.
        k, n = self.shape
        X = self.design
        weight_noise = rng.standard_normal((n_draws, k, X.shape[0])) @ self.teacher._col_root().T
        return weight_noise @ X + self.soft_noise * rng.standard_normal((n_draws, k, n))

    def __repr__(self) -> str:
        k, n = self.shape
        return f"SoftLabelLaw(k={k}, n={n}, soft_noise={self.soft_noise})"


def soft_labels(teacher, X, soft_noise) -> SoftLabelLaw:
    r"""The exact predictive law of the teacher's soft labels on inputs X (MATH 2.1).

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
    soft_noise = as_scalar("soft_noise", soft_noise, positive=True)
    law = SoftLabelLaw.__new__(SoftLabelLaw)
    law._init(teacher.mean @ X, None)
    law.teacher, law.design, law.soft_noise = teacher, X, soft_noise
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
    r"""The reduced-rank ridge student of MATH 2.1.

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
    soft_noise = as_scalar("soft_noise", soft_noise, positive=True)
    temperature = as_scalar("temperature", temperature, nonnegative=True)
    spec = spectrum_for(X, teacher)
    U = spec.vectors
    if soft_labels is None:
        # E[Ŷ] Xᵀ U = M_T X Xᵀ U = M_T U diag(s): O(k d²) instead of O(k d n). Kept in the
        # eigenbasis: a round trip through Uᵀ·U would leak eps·s_max into the weak directions.
        target_xt_u, mode = (teacher.mean @ U) * spec.s[None, :], "population"
    else:
        target = as_matrix("soft_labels", soft_labels, (k, n))
        mode = "sampled"
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
    B = target_xt_u * inv_sqrt[None, :]
    if rank < min(k, d):
        left, sv, right = np.linalg.svd(B, full_matrices=False)
        B = (left[:, :rank] * sv[:rank]) @ right[:rank]
    mean = (B * inv_sqrt[None, :]) @ U.T
    if temperature > 0:
        with np.errstate(over="ignore"):
            cov_eigs = temperature * soft_noise**2 * inv_sqrt**2
        if not np.all(np.isfinite(cov_eigs)):
            raise GaussDistillError(
                f"X X^T + lam I has an eigenvalue too small for float64 ({np.min(a):.3g}): the student "
                f"covariance overflows; rescale X, pass lam > 0 or temperature=0")
    else:
        cov_eigs = np.zeros_like(inv_sqrt)   # exactly deterministic (never 0·inf = NaN)
    # Exact eigenvalues (a formula, not a decomposition): no rank cutoff, which would
    # zero the smallest ones when cond(A) > 1/RANK_RTOL ≈ 4.5e9 and drop s_j·w_j = O(1).
    factor = PSDFactor(cov_eigs, U, int(np.count_nonzero(cov_eigs)), FLOAT64)
    student = StudentKernel.__new__(StudentKernel)
    student._init(mean, factor)
    student.teacher, student.design, student.spectrum = teacher, X, spec
    student.rank, student.lam, student.soft_noise = rank, lam, soft_noise
    student.temperature, student.mode = temperature, mode
    return student
