"""Stable linear-algebra primitives shared by every divergence.

Two backends expose the same handful of operations, so each formula is written once:

* ``FLOAT64``: numpy/scipy in float64 (the default);
* ``MpmathBackend(dps)``: numpy object arrays of ``mpmath.mpf`` with mpmath's
  decompositions, for arbitrary precision (call it inside ``mpmath.workdps``).

``PSDFactor`` is the one covariance factor of the package: a single symmetric
eigendecomposition owning the rank decision (one documented cutoff), the
pseudo-log-determinant, whitening and the support basis.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import mpmath
import numpy as np

from ._numerics.special import u_minus_log1p, u_minus_log1p_mp_array
from .errors import GaussDistillError

# Rank cutoff: eigenvalues below RANK_RTOL * max|eigenvalue| count as zero
# (SciPy's multivariate_normal rule for float64: 1e6 * eps).
RANK_RTOL = 1e6 * np.finfo(float).eps

# Condition number above which float64 results are flagged (ConditioningWarning).
COND_WARN = 1e8


class Float64Backend:
    """numpy/scipy float64 operations used by the formulas."""

    name = "float64"
    eps = float(np.finfo(float).eps)
    inf = math.inf

    def asarray(self, a):
        return np.asarray(a, dtype=float)

    def eigh(self, sym):
        return np.linalg.eigh(sym)

    def svd(self, a):
        return np.linalg.svd(a, full_matrices=False)

    def svdvals(self, a):
        if 0 in a.shape:
            return np.zeros(0)
        return np.linalg.svd(a, compute_uv=False)

    def sqrt(self, x):
        return np.sqrt(x)

    def log(self, x):
        return np.log(x)

    def u_minus_log1p(self, u, one_plus_u=None):
        return u_minus_log1p(u, one_plus_u)

    def scalar(self, x):
        return float(x)

    def zeros(self, shape):
        return np.zeros(shape)


class MpmathBackend:
    """The same operations on numpy object arrays of ``mpmath.mpf``.

    Call its methods inside ``mpmath.workdps(dps)``; inputs that are float64 are
    converted exactly.
    """

    name = "mpmath"
    inf = mpmath.inf

    def __init__(self, dps: int):
        self.dps = int(dps)
        self._mpf = np.frompyfunc(mpmath.mpf, 1, 1)
        self._sqrt = np.frompyfunc(mpmath.sqrt, 1, 1)
        self._log = np.frompyfunc(mpmath.log, 1, 1)

    @property
    def eps(self):
        return mpmath.mpf(10) ** (-self.dps)

    def asarray(self, a):
        a = np.asarray(a)
        if a.dtype == object:
            return self._mpf(a).astype(object)
        return self._mpf(np.asarray(a, dtype=float)).astype(object)

    def _to_mp(self, a):
        return mpmath.matrix(a.tolist())

    @staticmethod
    def _from_mp(m, rows, cols):
        return np.array([[m[i, j] for j in range(cols)] for i in range(rows)], dtype=object).reshape(rows, cols)

    def eigh(self, sym):
        n = sym.shape[0]
        if n == 0:
            return np.zeros(0, dtype=object), np.zeros((0, 0), dtype=object)
        evals, evecs = mpmath.eigsy(self._to_mp(sym))
        w = np.array([evals[i] for i in range(n)], dtype=object)
        q = self._from_mp(evecs, n, n)
        order = np.argsort(np.array([float(x) for x in w]), kind="stable")
        return w[order], q[:, order]

    def svd(self, a):
        k, m = a.shape
        u, s, v = mpmath.svd_r(self._to_mp(a), full_matrices=False, compute_uv=True)
        p = min(k, m)
        s = np.array([s[i] for i in range(p)], dtype=object)
        order = np.argsort(-np.array([float(x) for x in s]), kind="stable")
        return self._from_mp(u, k, p)[:, order], s[order], self._from_mp(v, p, m)[order, :]

    def svdvals(self, a):
        if 0 in a.shape:
            return np.zeros(0, dtype=object)
        s = mpmath.svd_r(self._to_mp(a), compute_uv=False)
        vals = np.array([s[i] for i in range(min(a.shape))], dtype=object)
        return vals[np.argsort(-np.array([float(x) for x in vals]), kind="stable")]

    def sqrt(self, x):
        return self._sqrt(x).astype(object)

    def log(self, x):
        return self._log(x).astype(object)

    def u_minus_log1p(self, u, one_plus_u=None):
        return u_minus_log1p_mp_array(u, one_plus_u, self.dps)

    def scalar(self, x):
        return mpmath.mpf(x)

    def zeros(self, shape):
        return np.full(shape, mpmath.mpf(0), dtype=object)


FLOAT64 = Float64Backend()


class DiagonalWhitener:
    r"""W = diag(scale), applied by scaling (``M @ W`` and :meth:`sandwich`), never a d×d matrix."""

    __array_ufunc__ = None   # let ``ndarray @ DiagonalWhitener`` call __rmatmul__

    def __init__(self, scale):
        self.scale = scale
        self.shape = (len(scale), len(scale))

    def __rmatmul__(self, mat):
        return mat * self.scale[None, :]

    def sandwich(self, sym):
        """Wᵀ S W."""
        return sym * self.scale[:, None] * self.scale[None, :]


@dataclass(frozen=True)
class PSDFactor:
    r"""Eigen-factor :math:`C = Q \operatorname{diag}(w) Q^T` of a PSD matrix, with one rank rule.

    Eigenvalues with :math:`w_i \le` ``RANK_RTOL`` :math:`\cdot \max_j |w_j|` count as zero
    (SciPy's cutoff, 1e6·eps); the factor keeps the support basis (``support``), its
    eigenvalues (``support_values``), the rank, the pseudo-log-determinant and the
    condition number on the support. ``backend`` is the arithmetic it was made with.
    """

    values: object          # all eigenvalues, in the order of ``vectors`` (ascending from eigh,
                            # any order from from_eigh); those below the cutoff are exact 0
    vectors: object         # eigenvectors, columns
    rank: int
    backend: object

    @classmethod
    def from_matrix(cls, name: str, mat, backend=FLOAT64) -> "PSDFactor":
        """Factor a symmetric matrix; raise naming ``name`` if it is not PSD."""
        w, q = backend.eigh(mat)
        return cls.from_eigh(name, w, q, backend)

    @classmethod
    def from_eigh(cls, name: str, w, q, backend=FLOAT64) -> "PSDFactor":
        """Build from a known eigendecomposition (no new decomposition)."""
        n = len(w)
        if n == 0:
            return cls(w, q, 0, backend)
        top = max(abs(x) for x in w)  # any order: from_eigh callers need not sort
        # The inputs are float64 in every backend, so rank decisions use the float64
        # cutoff even in mpmath (its rounding noise is no signal at 50 digits either).
        tol = RANK_RTOL * top
        low, high = min(w), max(w)
        if low < -tol:
            raise GaussDistillError(
                f"{name} is not positive semi-definite (smallest eigenvalue {float(low):.3g}, "
                f"largest {float(high):.3g}); pass a PSD covariance, e.g. A @ A.T + eps * I"
            )
        keep = np.array([x > tol for x in w], dtype=bool)
        w = np.where(keep, w, 0 * w)  # clip rounding noise below the cutoff to exact 0
        return cls(w, q, int(keep.sum()), backend)

    @property
    def size(self) -> int:
        return len(self.values)

    @property
    def _kept(self):
        # Kept eigenvalues are > 0 and the others exact 0, in whatever order they came.
        return np.asarray(self.values > 0).astype(bool)

    @property
    def support(self):
        """Orthonormal basis of the range (columns), for the kept eigenvalues."""
        return self.vectors[:, self._kept]

    @property
    def support_values(self):
        return self.values[self._kept]

    @property
    def full_rank(self) -> bool:
        return self.rank == self.size

    @property
    def log_pdet(self):
        """log of the pseudo-determinant (product of the kept eigenvalues)."""
        return sum(self.backend.log(self.support_values)) if self.rank else 0.0

    @property
    def condition_number(self) -> float:
        """max/min kept eigenvalue (1 for rank <= 1)."""
        if self.rank == 0:
            return 1.0
        sv = [float(x) for x in self.support_values]
        return max(sv) / min(sv)

    def whitener(self):
        r"""Matrix :math:`Q_+ \operatorname{diag}(w_+^{-1/2})` so that ``M @ whitener()`` is M in the metric C⁺."""
        return self.support / self.backend.sqrt(self.support_values)[None, :]

    def range_residual(self, mat) -> float:
        """Relative size of the part of ``mat``'s columns outside the range (0 if inside)."""
        if mat.size == 0:
            return 0.0
        basis = self.support
        outside = mat - basis @ (basis.T @ mat)
        scale = float(np.max(np.abs(mat.astype(float))))
        if scale == 0.0:
            return 0.0
        # Relative, with no absolute floor: a 1e-310 mean difference off the support is
        # still off the support (a floor made point masses at tiny distinct means "equal").
        return float(np.max(np.abs(outside.astype(float)))) / scale


def numerical_rank(singular_values, shape) -> int:
    """Rank rule for a mean matrix: singular values above 10·max(shape)·eps·σ_max.

    eps is float64's in every backend: the inputs are float64, so their rounding noise
    must not count as rank even when the arithmetic is done at 50 digits.
    """
    if len(singular_values) == 0:
        return 0
    top = float(max(singular_values))
    if top == 0.0:
        return 0
    tol = max(shape) * float(np.finfo(float).eps) * top * 10
    return int(sum(1 for s in singular_values if float(s) > tol))
