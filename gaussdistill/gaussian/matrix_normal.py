r"""The matrix normal law :math:`\mathcal{MN}(M, U, V)` (docs/mathematics.md §2.1).

:math:`\operatorname{vec} W \sim \mathcal N(\operatorname{vec} M, V \otimes U)`; the
Kronecker product is never formed. Laws are immutable: their arrays are read-only copies
and their attributes cannot be reassigned.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .._numerics.backends import FLOAT64
from .._numerics.psd import PSDFactor
from .._validate import as_count, as_generator, as_matrix, as_symmetric, frozen_copy, read_only, restore_frozen
from ..errors import GaussDistillError


class MatrixNormal:
    r"""Matrix normal law :math:`\mathcal{MN}(M, U, V)` of a k×m random matrix.

    :math:`\operatorname{vec} W \sim \mathcal N(\operatorname{vec} M, V \otimes U)`, with
    U the k×k row covariance (``row_cov``, default :math:`I_k`) and V the m×m column
    covariance (``col_cov``). Covariances may be singular (positive semi-definite); each is
    factored once (its rank rule: docs/mathematics.md §5.2). The law is immutable.

    Parameters
    ----------
    mean : (k, m) array_like
    col_cov : (m, m) array_like, symmetric PSD
    row_cov : (k, k) array_like, symmetric PSD, optional (identity)
    """

    _mean: np.ndarray
    _col_factor: Any
    _col_cov: Any
    _row_cov: Any
    _row_factor: Any
    _col_structure: Any

    def __init__(self, mean, col_cov, row_cov=None):
        mean = as_matrix("mean", mean)
        k, m = mean.shape
        col_cov = frozen_copy(as_symmetric("col_cov", col_cov, m))
        row_cov = None if row_cov is None else frozen_copy(as_symmetric("row_cov", row_cov, k))
        self._init(frozen_copy(mean), PSDFactor.from_matrix("col_cov", col_cov), col_cov, row_cov)

    def _init(self, mean, col_factor, col_cov=None, row_cov=None, col_structure=None):
        self._set(_mean=mean, _col_factor=col_factor, _col_cov=col_cov, _row_cov=row_cov,
                  _row_factor=None if row_cov is None else PSDFactor.from_matrix("row_cov", row_cov),
                  _col_structure=col_structure)

    def _set(self, **attributes):
        """Set attributes at construction (or fill a cache); the only writer."""
        for name, value in attributes.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is immutable: cannot set {name!r}; build a new law")

    def __delattr__(self, name):
        raise AttributeError(f"{type(self).__name__} is immutable: cannot delete {name!r}")

    def __setstate__(self, state):
        """Unpickling (and deepcopy): the same law, its arrays read-only again."""
        restore_frozen(self, state)

    # ---- parameters
    @property
    def mean(self) -> np.ndarray:
        """Mean M (k×m), read-only."""
        return self._mean

    @property
    def shape(self) -> tuple:
        return self._mean.shape

    @property
    def col_cov(self) -> np.ndarray:
        """Column covariance V (m×m), dense, exactly symmetric and read-only (built on first use)."""
        if self._col_cov is None:
            if self._col_structure is not None:
                cov = self._col_structure.dense()
            else:
                f = self._col_factor
                cov = (f.vectors * f.values[None, :]) @ f.vectors.T
            # Exactly symmetric: the product rounds (i, j) and (j, i) differently, and an
            # mpmath evaluation (precision=) takes this matrix's numbers as exact.
            cov = 0.5 * cov + 0.5 * cov.T
            self._set(_col_cov=read_only(cov))
        return self._col_cov

    @property
    def col_structure(self):
        """The column covariance in factored form (``IdentityPlusLowRank``), or None."""
        return self._col_structure

    @property
    def row_cov(self) -> np.ndarray:
        """Row covariance U (k×k)."""
        return read_only(np.eye(self.shape[0])) if self._row_cov is None else self._row_cov

    def cov_in(self, which: str, xp):
        r"""The ``"row"`` or ``"col"`` covariance as an array of the backend ``xp``.

        float64: the dense matrix. mpmath: a covariance given by an exact factor (a ridge
        kernel's :math:`t\nu^2 U \operatorname{diag}(1/(s+\lambda)) U^T`) is formed from
        that factor at the working precision; the rounded float64 product would carry
        cond·eps relative error in its small eigenvalues into every ``precision=`` result.
        """
        factor: PSDFactor | None
        if which == "row":
            factor, dense = self.row_factor, (lambda: self.row_cov)
        else:
            factor = self.col_factor if self._col_structure is None else None
            dense = lambda: self.col_cov   # noqa: E731
        if not xp.limited and factor is not None and factor.exact:
            return factor.dense_in(xp)
        return xp.asarray(dense())

    @property
    def row_is_identity(self) -> bool:
        return self._row_cov is None

    @property
    def col_factor(self) -> PSDFactor:
        if self._col_factor is None:
            self._set(_col_factor=PSDFactor.from_matrix("col_cov", self.col_cov))
        return self._col_factor

    @property
    def row_factor(self) -> PSDFactor:
        if self._row_factor is None:
            k = self.shape[0]
            self._set(_row_factor=PSDFactor.exact_eigen(np.ones(k), np.eye(k), FLOAT64))
        return self._row_factor

    @property
    def is_deterministic(self) -> bool:
        """True when the law is a point mass (a covariance factor is zero)."""
        if self._col_structure is not None:
            return False
        return self.col_factor.rank == 0 or (self._row_cov is not None and self.row_factor.rank == 0)

    # ---- sampling
    def _col_root(self) -> np.ndarray:
        return self.col_factor.root()

    def sample(self, size=None, rng=None) -> np.ndarray:
        r"""Draw W = M + L_U Z L_Vᵀ with Z standard normal (L Lᵀ factors of U, V).

        Parameters
        ----------
        size : int or None
            Number of draws; ``None`` returns one (k, m) matrix, an int returns (size, k, m).
        rng : int seed, numpy Generator or None
            Same seed ⇒ bit-identical draws.
        """
        rng = as_generator(rng)
        n_draws = 1 if size is None else as_count("size", size, 1, " or None")
        k, m = self.shape
        too_large = GaussDistillError(f"size={n_draws}: {n_draws} draws of a {k}×{m} matrix do not fit in "
                                      f"memory; draw in smaller batches")
        if n_draws * k * m > 2**60:
            raise too_large
        try:
            draws = self._mean + self._centred_draws(rng, n_draws)
        except (MemoryError, ValueError) as exc:   # numpy: "Maximum allowed dimension exceeded"
            raise too_large from exc
        return draws[0] if size is None else draws

    def _centred_draws(self, rng: np.random.Generator, n_draws: int) -> np.ndarray:
        k, m = self.shape
        st = self._col_structure
        if st is not None:
            # c I + Bᵀ S B: (Z₁ Lᵀ) B + √c Z₂ with L Lᵀ = S, never the m×m covariance.
            B = st.basis
            low = rng.standard_normal((n_draws, k, B.shape[0])) @ st.inner_root().T
            out = low @ B + np.sqrt(st.scale) * rng.standard_normal((n_draws, k, m))
            if self._row_cov is not None:
                out = self.row_factor.root() @ out
            return out
        out = rng.standard_normal((n_draws, k, m)) @ self._col_root().T
        if self._row_cov is not None:
            out = self.row_factor.root() @ out
        return out

    def __repr__(self) -> str:
        k, m = self.shape
        return f"{type(self).__name__}(k={k}, m={m}, deterministic={self.is_deterministic})"


__all__ = ["MatrixNormal"]
