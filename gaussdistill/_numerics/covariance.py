r"""Reduced covariances: a ρ×ρ matrix C that stands for :math:`\tau^2 I + C` on a subspace.

The predictive laws of the case study live on n outputs with column covariance
:math:`V = \tau^2 I_n + X^T\Sigma X`, identity plus rank ≤ d; in the row space of X they
are :math:`\tau^2 I_\rho + C` with :math:`C = G^T\Sigma G` (docs/mathematics.md §5.3). Two
small classes carry C: :class:`DiagonalCovariance` when C is diagonal in a known basis
(a kernel built on the design itself), :class:`DenseCovariance` otherwise. Both offer the
trace, a dense form and the whitener of :math:`\tau^2 I + C`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .psd import DiagonalWhitener

# Above this condition number of B Bᵀ the row space comes from a QR of Bᵀ, not the Gram matrix.
GRAM_COND = 1e6


@dataclass(frozen=True)
class DiagonalCovariance:
    """C = diag(values) (in the basis the caller works in)."""

    values: Any

    def trace(self):
        return self.values.sum()

    def dense(self, xp):
        out = xp.zeros((len(self.values), len(self.values)))
        for i, v in enumerate(self.values):
            out[i, i] = v
        return out

    def shifted_whitener(self, tau2, xp):
        r"""W with :math:`W^T(\tau^2 I + C)W = I`: a scaling."""
        return DiagonalWhitener(1 / xp.sqrt(tau2 + self.values))


@dataclass(frozen=True)
class DenseCovariance:
    """C as a dense symmetric matrix."""

    matrix: Any

    def trace(self):
        return np.trace(self.matrix)

    def dense(self, xp):
        return self.matrix

    def shifted_whitener(self, tau2, xp):
        r"""W = Q diag((τ² + c)^{-1/2}) from C = Q diag(c) Qᵀ (negative rounding in c clipped).

        (eigh, not scipy's Cholesky + triangular solves: scipy's own OpenBLAS thread pool
        contends with numpy's and made this path 2x slower, measured.)
        """
        return self.shifted_whitener_and_cond(tau2, xp)[0]

    def shifted_whitener_and_cond(self, tau2, xp):
        """(W, condition number of τ² I + C): the whitening loses ~cond·eps (no refinement)."""
        c_vals, vecs = xp.eigh(self.matrix * 0.5 + self.matrix.T * 0.5)   # (no overflow at 1e308)
        shifted = tau2 + xp.clip_negative(c_vals)
        cond = float(max(shifted) / min(shifted)) if len(shifted) else 1.0
        return vecs / xp.sqrt(shifted)[None, :], cond


__all__ = ["DiagonalCovariance", "DenseCovariance"]


@dataclass(frozen=True, eq=False)
class IdentityPlusLowRank:
    r"""An n×n covariance :math:`c\,I_n + B^T S B` kept in factored form (B is d×n, S is d×d).

    The soft-label law's :math:`\tau^2 I_n + X^T\Sigma_T X` is one. Two such covariances on
    the same B are compared in the row space of B (docs/mathematics.md §5.3): with the thin
    QR :math:`B^T = QR` and :math:`G = R^T` (so :math:`B = G Q^T`), both are
    :math:`c\,I + G^T S G` on range Q and :math:`c\,I` on its complement; no n×n matrix is
    formed.
    """

    scale: float          # c > 0
    basis: Any         # B, d×n (read-only)
    inner: Any         # S as a PSDFactor (d×d)
    #: The eigendecomposition of B Bᵀ (``s``, ``vectors``, ``right``: a design spectrum) when
    #: known, e.g. for a ridge teacher's soft labels, whose S is diagonal in that basis.
    spectrum: Any = None

    def __setstate__(self, state):
        """Unpickling (and deepcopy): the basis read-only again."""
        from .._validate import restore_frozen

        restore_frozen(self, state)

    @property
    def size(self) -> int:
        return self.basis.shape[1]

    def same_basis(self, other) -> bool:
        a, b = self.basis, other.basis
        return a is b or (a.shape == b.shape and np.array_equal(a, b))

    def diagonal_in_spectrum(self, other):
        """The shared spectrum when both inner matrices are exact factors on B's own eigenbasis
        (S = U diag(w) Uᵀ with B Bᵀ = U diag(s) Uᵀ), so that Gᵀ S G = diag(s w) exactly; else None."""
        from .._validate import same_array

        spec = self.spectrum
        if spec is None or other.spectrum is None:
            return None
        same = (same_array(spec.vectors, other.spectrum.vectors) and same_array(spec.s, other.spectrum.s)
                and all(f.exact and same_array(f.vectors, spec.vectors) for f in (self.inner, other.inner)))
        return spec if same else None

    def dense(self):
        """The n×n matrix (O(n²) memory: for small n and checks only)."""
        B = self.basis
        return self.scale * np.eye(B.shape[1]) + B.T @ self.inner_matrix() @ B

    def inner_matrix(self, xp=None):
        """S as a dense matrix (float64; with an mpmath ``xp`` and an exact factor, formed
        from the factor at the working precision)."""
        f = self.inner
        if xp is not None and not xp.limited and f.exact:
            return f.dense_in(xp)
        dense = (f.vectors * f.law_values[None, :]) @ f.vectors.T      # every variance, none cut
        return dense if xp is None or xp.limited else xp.asarray(dense)

    def inner_root(self):
        """L with L Lᵀ = S."""
        return self.inner.root()

    def row_space(self, xp):
        """(G, Q) with B = G Qᵀ, Q n×ρ orthonormal (Q None when n ≤ d: the row space is R^n).

        float64: from the Gram matrix B Bᵀ = U diag(s) Uᵀ (G = U diag(√s), Q = Bᵀ U diag(s^{-1/2}),
        O(n d²) in matrix products) when cond(B Bᵀ) ≤ GRAM_COND, else from a thin QR of Bᵀ (which
        does not square the conditioning). mpmath: the QR at the working precision.
        """
        B = xp.asarray(self.basis)
        d, n = B.shape
        if n <= d:
            return B, None
        if xp.limited:
            s, U = np.linalg.eigh(B @ B.T)
            keep = s > max(B.shape) * np.finfo(float).eps * max(float(s[-1]), 0.0)
            s, U = s[keep], U[:, keep]
            if s.size and s[-1] <= GRAM_COND * s[0]:
                root = np.sqrt(s)
                return U * root[None, :], (B.T @ U) / root[None, :]
        Q, R = xp.qr(B.T)
        return R.T, Q


__all__ = ["DiagonalCovariance", "DenseCovariance", "IdentityPlusLowRank"]
