"""Arithmetic backends: float64 (numpy/scipy) and mpmath, with the same methods.

Every formula of the package is written once against these methods; the differences
between the backends (decompositions, extended-precision refinement, warnings, how a
result is returned) are methods here, not ``if backend is float64`` branches.

* :data:`FLOAT64` — numpy/scipy in float64 (the default);
* :class:`MpmathBackend` ``(digits)`` — numpy object arrays of ``mpmath.mpf`` with mpmath's
  decompositions, at ``digits + GUARD_DIGITS`` working digits (``context()``), results rounded
  to ``digits``: a part that is a small difference of large ones (a bias next to a large rank
  bottleneck) keeps all the digits asked for. Float64 inputs are converted exactly: the
  mpmath result is that of the same numbers.
"""
from __future__ import annotations

import contextlib
import math

import mpmath
import numpy as np

from .special import u_minus_log1p, u_minus_log1p_mp_array

_EPS64 = float(np.finfo(float).eps)
# Extra working digits of an mpmath evaluation beyond the digits asked for.
GUARD_DIGITS = 10
# Where numpy's long double is wider than float64 (x86-64 Linux), ill-conditioned whitening
# is refined in it; elsewhere (Windows, Apple silicon) the refinement is skipped.
LONG = np.longdouble if np.finfo(np.longdouble).eps < np.finfo(float).eps else None


class Float64Backend:
    """numpy/scipy float64 operations used by the formulas."""

    name = "float64"
    eps = _EPS64
    inf = math.inf
    dps = None
    digits = None
    #: Results are bounded by float64's range (an overflow is an error, not a value), and
    #: ill-conditioning costs accuracy (ConditioningWarning).
    limited = True
    #: SciPy's default rank cutoff for float64 (multivariate_normal): 1e6·eps.
    default_rtol = 1e6 * _EPS64
    #: Relative size below which an eigenvalue is indistinguishable from eigh's rounding.
    noise_rtol = _EPS64
    long = LONG

    def context(self):
        return contextlib.nullcontext()

    def asarray(self, a):
        return np.asarray(a, dtype=float)

    def eigh(self, sym):
        return np.linalg.eigh(sym)

    def eigvalsh(self, sym):
        return np.linalg.eigvalsh(sym)

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

    def u_minus_log1p(self, u, ratio=None):
        return u_minus_log1p(u, ratio)

    def scalar(self, x):
        return float(x)

    def zeros(self, shape):
        return np.zeros(shape)

    def eye(self, m):
        return np.eye(m)

    def clip_negative(self, w):
        """Eigenvalues below 0 (rounding) set to 0."""
        return np.where(w > 0, w, 0.0)

    def finish(self, value):
        """A computed number as the backend returns it (float, or mpf)."""
        return float(value)

    def qr(self, a):
        """Thin QR: (Q, R) with Q orthonormal columns."""
        return np.linalg.qr(a)

    def factor(self, cached, dense, name, rtol):
        """The PSD factor of a law's covariance: the law's cached one, under ``rtol``."""
        return cached().with_rtol(rtol)


class MpmathBackend:
    """The same operations on numpy object arrays of ``mpmath.mpf`` at ``dps`` digits."""

    name = "mpmath"
    inf = mpmath.inf
    long = None
    limited = False    # arbitrary exponent range; the working precision absorbs conditioning

    def __init__(self, digits: int):
        self.digits = int(digits)                 # asked for (results are rounded to these)
        self.dps = self.digits + GUARD_DIGITS     # working precision
        self._mpf = np.frompyfunc(mpmath.mpf, 1, 1)
        self._sqrt = np.frompyfunc(mpmath.sqrt, 1, 1)
        self._log = np.frompyfunc(mpmath.log, 1, 1)

    @property
    def eps(self):
        return mpmath.mpf(10) ** (-self.dps)

    @property
    def default_rtol(self) -> float:
        """The float64 rule transposed to ``digits`` digits: 1e6 units of the last digit."""
        return 10.0 ** (6 - self.digits)

    @property
    def noise_rtol(self) -> float:
        return 10.0 ** (-self.digits)

    def context(self):
        return mpmath.workdps(self.dps)

    def asarray(self, a):
        a = np.asarray(a)
        if a.dtype == object:
            return self._mpf(a).astype(object)
        return self._mpf(np.asarray(a, dtype=float)).astype(object)

    @staticmethod
    def _to_mp(a):
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

    def eigvalsh(self, sym):
        return self.eigh(sym)[0]

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

    def u_minus_log1p(self, u, ratio=None):
        return u_minus_log1p_mp_array(u, ratio, self.dps)

    def scalar(self, x):
        return mpmath.mpf(x)

    def zeros(self, shape):
        return np.full(shape, mpmath.mpf(0), dtype=object)

    def eye(self, m):
        out = self.zeros((m, m))
        for i in range(m):
            out[i, i] = mpmath.mpf(1)
        return out

    def clip_negative(self, w):
        return np.array([x if x > 0 else 0 * x for x in w], dtype=object)

    def finish(self, value):
        """The value rounded to the digits asked for."""
        if value == mpmath.inf:
            return value
        with mpmath.workdps(self.digits):
            return +mpmath.mpf(value)

    def qr(self, a):
        q, r = mpmath.qr(self._to_mp(a), mode="skinny")
        return self._from_mp(q, q.rows, q.cols), self._from_mp(r, r.rows, r.cols)

    def factor(self, cached, dense, name, rtol):
        """A new factor of the covariance at this precision (supports decided at ``dps``)."""
        from .psd import PSDFactor

        return PSDFactor.from_matrix(name, self.asarray(dense()), self, rtol)


FLOAT64 = Float64Backend()


def backend_for(precision: int | None):
    """FLOAT64 for ``None``, else an :class:`MpmathBackend` (``precision`` already validated)."""
    return FLOAT64 if precision is None else MpmathBackend(precision)


__all__ = ["FLOAT64", "Float64Backend", "MpmathBackend", "backend_for", "LONG"]
