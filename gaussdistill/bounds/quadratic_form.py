r"""The cumulant generating function of a Gaussian quadratic form (docs/mathematics.md §3.5, §4.1).

For z ~ N(0, I_p) and Q = zᵀAz + bᵀz + c with A = Σ_i α_i u_i u_iᵀ and β_i = u_iᵀ b,

.. math::

    \log E e^{λQ} = -\tfrac12 \sum_i \ln(1 - 2λα_i) + \frac{λ^2}{2}\sum_i \frac{β_i^2}{1 - 2λα_i} + λc,

finite iff 1 − 2λα_i > 0 for every i. Centred (ψ(λ) = log E e^{λ(Q − EQ)}, EQ = Σα_i + c)
and written with u_i = −2λα_i,

.. math::

    ψ(λ) = \tfrac12 \sum_i \bigl(u_i - \log(1 + u_i)\bigr) + \frac{λ^2}{2}\sum_i \frac{β_i^2}{1 + u_i},

which has no cancellation for tiny λ (the u − log1p(u) part is summed as a series).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import GaussDistillError
from ._checks import u_minus_log1p


def _vector(name: str, value) -> np.ndarray:
    if isinstance(value, (str, bytes)):
        raise GaussDistillError(f"{name} must be an array of real numbers; got {type(value).__name__} {value!r}")
    raw = np.asarray(value)
    if raw.dtype.kind not in "iuf":
        raise GaussDistillError(f"{name} must be an array of real numbers; got dtype {raw.dtype}")
    arr = np.atleast_1d(raw.astype(float))
    if arr.ndim != 1:
        raise GaussDistillError(f"{name} must be 1-D; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise GaussDistillError(f"{name} must be finite; got {value!r}")
    return arr


def _lam_array(lam) -> np.ndarray:
    """λ as a float64 array; strings, None, complex, bool and object input are errors naming λ."""
    if isinstance(lam, np.ndarray) and lam.dtype.kind == "f":
        return lam.astype(float, copy=False)
    if lam is None or isinstance(lam, (str, bytes)):
        raise GaussDistillError(f"lam must be a real number or an array of real numbers; got {lam!r}")
    try:
        raw = np.asarray(lam)
    except (ValueError, TypeError):
        raise GaussDistillError("lam must be a real number or an array of real numbers (ragged input)") from None
    if raw.dtype.kind not in "iuf":
        raise GaussDistillError(f"lam must be a real number or an array of real numbers; got dtype {raw.dtype}")
    return raw.astype(float)


@dataclass(frozen=True, eq=False)
class QuadraticFormCGF:
    """ψ(λ) = log E exp(λ(Q − EQ)) for Q = zᵀAz + bᵀz + c, z ~ N(0, I).

    Parameters
    ----------
    alpha : array (p,)
        Eigenvalues α_i of the symmetric matrix A.
    beta : array (p,)
        Coordinates β_i = u_iᵀb of b in A's eigenbasis (same order as ``alpha``).
    const : float
        The constant c (it only moves the mean).

    Calling the object evaluates ψ, vectorised over λ, +inf outside the open domain
    ``(lo, hi) = (1/(2α_min) if α_min < 0 else -inf, 1/(2α_max) if α_max > 0 else +inf)``.
    """

    alpha: np.ndarray
    beta: np.ndarray
    const: float = 0.0

    def __post_init__(self):
        alpha = _vector("alpha", self.alpha)
        beta = _vector("beta", self.beta)
        if beta.shape != alpha.shape:
            raise GaussDistillError(f"beta must have the same length as alpha ({alpha.size}); got {beta.size}")
        from ._checks import real

        const = real("const", self.const)
        alpha.setflags(write=False)
        beta.setflags(write=False)
        object.__setattr__(self, "alpha", alpha)
        object.__setattr__(self, "beta", beta)
        object.__setattr__(self, "const", const)

    @classmethod
    def from_matrix(cls, A, b=None, const: float = 0.0) -> QuadraticFormCGF:
        """Build from a dense symmetric A (p×p) and b (p,) by one eigendecomposition."""
        if isinstance(A, (str, bytes)):
            raise GaussDistillError(f"A must be a square matrix of real numbers; got {type(A).__name__}")
        try:
            raw = np.asarray(A)
        except (ValueError, TypeError):       # ragged nested lists
            raise GaussDistillError("A must be a square matrix of real numbers (a ragged sequence was given)") from None
        if raw.dtype.kind not in "iuf":
            raise GaussDistillError(f"A must be a square matrix of real numbers; got dtype {raw.dtype}")
        A = raw.astype(float)
        if A.ndim != 2 or A.shape[0] != A.shape[1]:
            raise GaussDistillError(f"A must be a square matrix; got shape {A.shape}")
        if not np.all(np.isfinite(A)):
            raise GaussDistillError("A must be finite")
        if np.max(np.abs(A - A.T), initial=0.0) > 1e-10 * max(np.max(np.abs(A), initial=0.0), 1e-300):
            raise GaussDistillError("A must be symmetric")
        alpha, U = np.linalg.eigh(0.5 * (A + A.T))
        b = np.zeros(A.shape[0]) if b is None else _vector("b", b)
        if b.shape != (A.shape[0],):
            raise GaussDistillError(f"b must have length {A.shape[0]}; got {b.shape}")
        return cls(alpha, U.T @ b, const)

    @property
    def domain(self) -> tuple[float, float]:
        """Open interval (lo, hi) of λ where ψ(λ) is finite."""
        a = self.alpha
        amax = float(a.max(initial=0.0))
        amin = float(a.min(initial=0.0))
        hi = 1.0 / (2.0 * amax) if amax > 0 else math.inf
        lo = 1.0 / (2.0 * amin) if amin < 0 else -math.inf
        return (lo, hi)

    @property
    def mean(self) -> float:
        """E Q = Σ α_i + c."""
        return float(self.alpha.sum() + self.const)

    @property
    def variance(self) -> float:
        """Var Q = 2 Σ α_i² + Σ β_i²."""
        return float(2.0 * np.sum(self.alpha**2) + np.sum(self.beta**2))

    def __call__(self, lam):
        """ψ(λ) = log E exp(λ(Q − EQ)); +inf outside the domain (array in, array out)."""
        lam_arr = _lam_array(lam)
        scalar = lam_arr.ndim == 0
        lam1 = np.atleast_1d(lam_arr)
        if np.isnan(lam1).any():
            raise GaussDistillError("lam must not be NaN")
        flat = lam1.ravel()
        lo, hi = self.domain
        inside = (flat > lo) & (flat < hi)
        out = np.full(flat.shape, np.inf)
        idx = np.flatnonzero(inside)
        step = max(1, (1 << 18) // max(self.alpha.size, 1))  # ~2 MiB temporaries per chunk
        for start in range(0, idx.size, step):
            sel = idx[start:start + step]
            li = flat[sel]
            with np.errstate(over="ignore"):       # an overflow here is a ψ beyond float64: +inf is its value
                u = -2.0 * li[:, None] * self.alpha  # (chunk, p)
                log_part = 0.5 * np.sum(u_minus_log1p(u), axis=-1)
                # (λβ_i)² rather than λ²·β_i²: β_i = 0 contributes 0 even where λ² overflows
                lin_part = 0.5 * np.sum((li[:, None] * self.beta) ** 2 / (1.0 + u), axis=-1)
            out[sel] = log_part + lin_part
        out = out.reshape(lam1.shape)
        return float(out[0]) if scalar else out

    def log_mgf(self, lam):
        """log E exp(λQ) = ψ(λ) + λ E Q (uncentred)."""
        lam_arr = _lam_array(lam)
        return self(lam_arr) + lam_arr * self.mean

    def __repr__(self) -> str:
        return (f"QuadraticFormCGF(p={self.alpha.size}, domain={self.domain}, mean={self.mean:.6g}, "
                f"variance={self.variance:.6g})")

    def to_dict(self) -> dict:
        return {"alpha": self.alpha.tolist(), "beta": self.beta.tolist(), "const": self.const,
                "domain": list(self.domain), "mean": self.mean, "variance": self.variance}
