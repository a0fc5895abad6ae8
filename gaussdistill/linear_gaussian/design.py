r"""The design: the spectrum of X Xᵀ, shared by the kernels, and the row-space map.

Conventions (docs/mathematics.md §2.1): X is d×n, columns are samples.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import read_only, restore_frozen, same_array
from ..errors import GaussDistillError

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

    def __setstate__(self, state):
        """Unpickling (and deepcopy): arrays read-only again (shared by the kernels)."""
        restore_frozen(self, state)

    @classmethod
    def of(cls, X: np.ndarray) -> DesignSpectrum:
        s, vectors, ill_conditioned = _gram_eigh(X)
        return cls._of_svd(X) if ill_conditioned else cls(X, read_only(s), read_only(vectors))

    @classmethod
    def _of_svd(cls, X: np.ndarray) -> DesignSpectrum:
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
        # numpy's matrix_rank rule on σ (σ_j > max(shape)·eps·σ_max), squared: a cutoff on
        # s = σ² at eps·s_max would drop σ_j < 2e-8·σ_max that the SVD resolves.
        tol = (max(X.shape) * np.finfo(float).eps) ** 2 * float(s[-1])
        return cls(X, read_only(np.where(s > tol, s, 0.0)), read_only(vectors), read_only(right))

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
    return same_array(a, b)


def _gram_eigh(X: np.ndarray):
    """(s, U, ill_conditioned) from eigh(X Xᵀ); s ascending, rounding noise clipped to 0."""
    with np.errstate(over="ignore", invalid="ignore"):    # overflow is reported below, by name
        gram = X @ X.T
    if not np.all(np.isfinite(gram)):
        raise GaussDistillError(
            f"X is too large for float64: X X^T overflows (max |X| = {np.max(np.abs(X)):.3g}); "
            f"rescale X (and the ridge lam by the square of the same factor)")
    s, vectors = np.linalg.eigh(gram)
    tol = max(X.shape) * np.finfo(float).eps * max(float(s[-1]), 0.0) if s.size else 0.0
    s = np.where(s > tol, s, 0.0)
    kept = s[s > 0]
    # Eigenvalues below the Gram's rounding level beyond the d − n forced by the shape may be
    # real (σ_j ~ 1e-8·σ_max squares to 1e-16·s_max): only the SVD can tell.
    clipped = kept.size < min(X.shape) and kept.size > 0
    return s, vectors, bool(clipped or (kept.size >= 2 and kept[-1] > SVD_COND * kept[0]))


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
        return np.asarray(np.linalg.qr(X.T, mode="r")).T, None, None
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


__all__ = ["DesignSpectrum", "same_design", "row_space_map", "spectrum_for"]
