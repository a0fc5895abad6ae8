r"""KL between matrix normal laws, without the Kronecker product (docs/mathematics.md §2.2, §5).

The covariance part is :math:`\tfrac12\sum_{i,j}\varphi(u_{ij})`,
:math:`\varphi(u) = u - \ln(1+u)` (one implementation: :mod:`gaussdistill._numerics.special`),
over the eigenvalues :math:`1 + u_{ij} = (1+a_i)(1+b_j)` of
:math:`(V_2 \otimes U_2)^{-1}(V_1 \otimes U_1)`, with :math:`a, b` the eigenvalues of the
whitened differences of the row and column covariances; the ratios :math:`1+a_i`, :math:`1+b_j`
are carried too, for very unequal variances (§5.1). Singular covariances follow §5.2;
column covariances kept in factored form (identity plus low rank, such as two soft-label
laws on the same inputs) are compared in their row space (§5.3).
"""
from __future__ import annotations

import math
import warnings

import mpmath
import numpy as np

from .._numerics.backends import backend_for
from .._numerics.covariance import DenseCovariance
from .._numerics.psd import (
    ABOVE_ROUNDING,
    SUPPORT_RTOL,
    DiagonalWhitener,
    compare_supports,
    dropped_names,
    warn_conditioning,
    warn_cutoff,
    warn_shifted_conditioning,
    whiten_pair,
    whitened_eigs,
)
from .._validate import as_precision, as_rtol
from ..errors import ConditioningWarning, GaussDistillError
from .matrix_normal import MatrixNormal


class KLValue(float):
    """A float KL value with ``reason``: why it is infinite (None when finite).

    It is a plain ``float`` subclass: arithmetic on it (``2 * kl``, ``kl + 1``) returns a
    plain float, which has no ``reason``; read ``reason`` from the value that
    :func:`kl_matrix_normal` returned. With ``precision=`` the result is a
    :class:`MpKLValue`, an ``mpmath.mpf`` with the same ``reason``. Both are immutable and
    keep ``reason`` through pickling and copying.
    """

    reason: str | None

    def __new__(cls, value, reason=None):
        obj = super().__new__(cls, value)
        object.__setattr__(obj, "reason", reason)
        return obj

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is immutable: cannot set {name!r}")

    def __reduce__(self):
        return (KLValue, (float(self), self.reason))


class MpKLValue(mpmath.mpf):
    """An ``mpmath.mpf`` KL value with ``reason`` (see :class:`KLValue`)."""

    reason: str | None = None

    @classmethod
    def _make(cls, mpf_tuple, reason):
        """The value with exactly these mpmath digits (no rounding to the current precision)."""
        obj = object.__new__(cls)
        object.__setattr__(obj, "_mpf_", mpf_tuple)
        object.__setattr__(obj, "reason", reason)
        return obj

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is immutable: cannot set {name!r}")

    def __reduce__(self):
        return (_mp_kl_value, (self._mpf_, self.reason))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


def _mp_kl_value(mpf_tuple, reason):
    return MpKLValue._make(mpf_tuple, reason)


def kl_matrix_normal(p: MatrixNormal, q: MatrixNormal, precision: int | None = None, rtol: float | None = None):
    r"""KL(p ‖ q) between matrix normal laws :math:`\mathcal{MN}(M_1, U_1, V_1)`, :math:`\mathcal{MN}(M_2, U_2, V_2)`.

    .. math::
        \mathrm{KL} = \tfrac12\Big[\operatorname{tr}(V_2^{-1}V_1)\operatorname{tr}(U_2^{-1}U_1)
        + \operatorname{tr}(V_2^{-1}D^T U_2^{-1} D) - km
        + m \ln\tfrac{\det U_2}{\det U_1} + k \ln\tfrac{\det V_2}{\det V_1}\Big],\quad D = M_1 - M_2,

    (docs/mathematics.md §2.2) computed without V ⊗ U as :math:`\tfrac12\sum_{i,j}
    \varphi(a_i + b_j + a_i b_j) + \tfrac12\|\tilde D\|_F^2`, with :math:`a, b` the
    eigenvalues of the whitened differences :math:`U_2^{-1/2}(U_1-U_2)U_2^{-1/2}` and
    :math:`V_2^{-1/2}(V_1-V_2)V_2^{-1/2}`, :math:`\varphi(u) = u - \ln(1+u)` and
    :math:`\tilde D = U_2^{-1/2} D V_2^{-1/2}` (§5.1).

    Singular covariances (§5.2): the KL is finite iff p and q have the same support (range
    U₁ = range U₂, range V₁ = range V₂, D inside it, or both point masses at the same
    mean); it is then computed on that support. Otherwise the result is ``inf`` and
    ``result.reason`` says why. The rank of a covariance is decided by an eigenvalue cutoff:
    eigenvalues ≤ ``rtol``·max count as 0. When that cutoff removes eigenvalues above the
    rounding level (for a diagonal covariance: any positive variance) and the KL with them
    kept differs, a :class:`~gaussdistill.ConditioningWarning` gives both values (pass
    ``rtol=0`` or ``precision=``).

    Two laws whose column covariances are :math:`\tau^2 I + X^T S X` on the same X (e.g.
    two :func:`~gaussdistill.soft_labels` laws, with any τ) are compared in the row space of
    X (§5.3): O(n d² + d³) time, O(k n + n d) memory, no n×n matrix.

    Parameters
    ----------
    p, q : MatrixNormal of the same shape (k, m).
    precision : int in [16, 1000] or None. Digits for an mpmath evaluation (computed with 10
        guard digits, rounded to ``precision``), with the float64 inputs taken as exact
        numbers (a ridge kernel's covariance as its exact factor); supports are then decided
        at that precision.
    rtol : float in [0, 1) or None. Rank tolerance relative to the largest eigenvalue; None
        is SciPy's 1e6·eps in float64 (1e6 units of the last digit with ``precision``);
        0 keeps every positive eigenvalue.

    Returns
    -------
    KLValue (a float with ``.reason``) or, with ``precision``, MpKLValue (an mpmath.mpf
    with ``.reason``).

    Examples
    --------
    >>> import numpy as np
    >>> p = MatrixNormal(np.zeros((2, 2)), [[1, .5], [.5, 1]], row_cov=np.diag([2., 1.]))
    >>> q = MatrixNormal(np.ones((2, 2)), np.eye(2))
    >>> kl = kl_matrix_normal(p, q)
    >>> print(f"{kl:.12f}  {3 - np.log(1.5):.12f}")
    2.594534891892  2.594534891892
    """
    for name, law in (("p", p), ("q", q)):
        if not isinstance(law, MatrixNormal):
            raise GaussDistillError(f"{name} must be a MatrixNormal; got {type(law).__name__}")
    if p.shape != q.shape:
        raise GaussDistillError(f"p and q must have the same shape; got p {p.shape} and q {q.shape}")
    rtol = as_rtol(rtol)
    xp = backend_for(None if precision is None else as_precision(precision))
    # Overflow is detected on the result (an error naming its cause), never a numpy warning.
    with xp.context(), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        value, reason, cause, dropped = _kl(p, q, xp, rtol)
        if dropped:   # did the cutoff change the answer? (same laws, nothing above rounding cut)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConditioningWarning)
                alternative = _kl(p, q, xp, ABOVE_ROUNDING)[:2]
            warn_cutoff(dropped, rtol, xp, (value, reason), alternative, stacklevel=3)
        return _kl_value(value, reason, cause, xp)


# --------------------------------------------------------------------------- pieces
class _Side:
    """One side (rows or columns) of the KL: whitener of q's covariance and the eigen-data.

    ``u`` and ``ratio`` are the eigenvalues of the whitened difference and of the whitened
    p-covariance (1 + u), ``mult`` their multiplicities.
    """

    def __init__(self, whiten, u, ratio, mult):
        self.whiten, self.u, self.ratio, self.mult = whiten, u, ratio, mult


def _factors(law_p, law_q, what, xp, rtol):
    """The PSD factors of p's and q's ``what`` ("row" or "column") covariance under ``rtol``."""
    name = "row_cov" if what == "row" else "col_cov"
    cached = (lambda law: law.row_factor) if what == "row" else (lambda law: law.col_factor)
    which = "row" if what == "row" else "col"
    fa = xp.factor(lambda: cached(law_p), lambda: law_p.cov_in(which, xp), name, rtol)
    fb = xp.factor(lambda: cached(law_q), lambda: law_q.cov_in(which, xp), name, rtol)
    return fa, fb


def _kl(p, q, xp, rtol):
    """(value, reason, cause of a float64 overflow, [(factor name, eigenvalues dropped)])."""
    diff = xp.asarray(p.mean) - xp.asarray(q.mean)
    ru1, ru2 = _factors(p, q, "row", xp, rtol)
    sp_, sq_ = p.col_structure, q.col_structure
    structured = sp_ is not None and sq_ is not None and sp_.same_basis(sq_)
    if not structured:
        cv1, cv2 = _factors(p, q, "column", xp, rtol)
        dropped = dropped_names(((cv1, "p.col_cov"), (cv2, "q.col_cov"), (ru1, "p.row_cov"), (ru2, "q.row_cov")))
        point_p = ru1.rank == 0 or cv1.rank == 0
        point_q = ru2.rank == 0 or cv2.rank == 0
        if point_p and point_q:
            if float(np.max(np.abs(diff.astype(float)), initial=0.0)) == 0.0:
                return 0 * xp.scalar(0), None, None, dropped
            return math.inf, "both laws are point masses at different means", None, dropped
        pairs = (("row", ru1, ru2), ("column", cv1, cv2))
    else:
        dropped = dropped_names(((ru1, "p.row_cov"), (ru2, "q.row_cov")))
        pairs = (("row", ru1, ru2),)
    reasons = [r for what, fa, fb in pairs for r in compare_supports(fa, fb, None, ("p", "q"), what)[:1] if r]
    if reasons:
        return math.inf, "; ".join(reasons), None, dropped
    if ru2.range_residual(diff) > SUPPORT_RTOL or (not structured and cv2.range_residual(diff.T) > SUPPORT_RTOL):
        return math.inf, "the mean difference M_p - M_q leaves the support of q", None, dropped
    warn_conditioning(ru2, "q.row_cov", xp, stacklevel=4)
    wu, a, ra = whiten_pair(ru2, p.cov_in("row", xp), q.cov_in("row", xp), xp)
    rows = _Side(wu, a, ra, None)
    if structured:
        cols, mean_sq = _structured_columns(sp_, sq_, diff, wu, xp)
    else:
        warn_conditioning(cv2, "q.col_cov", xp, stacklevel=4)
        wv, b, rb = whiten_pair(cv2, p.cov_in("col", xp), q.cov_in("col", xp), xp)
        cols = _Side(wv, b, rb, None)
        mean_sq = _half_sq(wu.T @ diff @ wv)
    cov = _cross_part(rows, cols, xp)
    return cov + mean_sq, None, ("covariance" if not _finite(cov) else "mean"), dropped


def _structured_columns(sp_, sq_, diff, wu, xp):
    r"""Columns c_p I + Bᵀ S_p B against c_q I + Bᵀ S_q B on the same B, in the row space of B.

    With B = G Qᵀ (Q n×ρ orthonormal): the reduced covariances c I + Gᵀ S G on range Q, and
    c I with multiplicity n − ρ on its complement. Returns the column side and the mean part
    ½‖W_uᵀ D (Q W_r ⊕ Q⊥/√c_q)‖².
    """
    n = sp_.size
    cp, cq = xp.scalar(sp_.scale), xp.scalar(sq_.scale)
    spec = sp_.diagonal_in_spectrum(sq_) if xp.limited else None
    if spec is not None:
        # Ridge teachers' soft labels on their own design: Gᵀ S G = diag(s w) with G = U diag(√s),
        # exactly; forming S = U diag(w) Uᵀ (entries up to ν²/λ) would cost cond(X Xᵀ)·eps.
        Q, s, wp, wq = _spectrum_row_space(spec, sp_, sq_)
        rho = s.size
        vq = cq + s * wq
        u, ratio = ((cp - cq) + s * (wp - wq)) / vq, (cp + s * wp) / vq
        whiten = DiagonalWhitener(1 / np.sqrt(vq))
    else:
        G, Q = sp_.row_space(xp)
        rho = G.shape[1]
        s_p, s_q = xp.asarray(sp_.inner_matrix(xp)), xp.asarray(sq_.inner_matrix(xp))
        red_q = G.T @ s_q @ G
        red_diff = G.T @ (s_p - s_q) @ G + (cp - cq) * xp.eye(rho)
        whiten, cond = DenseCovariance(red_q).shifted_whitener_and_cond(cq, xp)
        warn_shifted_conditioning(cond, "q.col_cov (soft-label law)", xp, stacklevel=5)
        u, ratio = whitened_eigs(whiten, red_diff, cp * xp.eye(rho) + G.T @ s_p @ G, xp)
    ratio = _positive_ratios(u, ratio)
    d_white = wu.T @ diff
    reduced = d_white if Q is None else d_white @ Q
    mean_sq = _half_sq(reduced @ whiten)
    mult = np.ones(rho, dtype=int)
    if n > rho:
        outside = d_white - reduced @ Q.T            # the mean difference off the row space
        mean_sq = mean_sq + _half_sq(outside) / cq
        u = np.concatenate([u, np.array([(cp - cq) / cq], dtype=u.dtype)])
        ratio = np.concatenate([ratio, np.array([cp / cq], dtype=ratio.dtype)])
        mult = np.append(mult, n - rho)
    return _Side(whiten, u, ratio, mult), mean_sq


def _spectrum_row_space(spec, sp_, sq_):
    """(Q, s, w_p, w_q) over the directions with s > 0: Q n×ρ orthonormal with B = U_+ diag(√s) Qᵀ
    (the right singular vectors when the spectrum came from an SVD, else Bᵀ U_+ diag(s^{-1/2}))."""
    keep = spec.s > 0
    s = spec.s[keep]
    if spec.right is not None:
        Q = spec.right[:, keep]
    else:
        Q = (sp_.basis.T @ spec.vectors[:, keep]) / np.sqrt(s)[None, :]
    return Q, s, sp_.inner.values[keep], sq_.inner.values[keep]


def _positive_ratios(u, ratio):
    """Ratios lost to rounding (≤ 0 where 1 + u > 0) replaced by 1 + u."""
    return np.where(ratio > 0, ratio, 1 + u)


def _cross_part(rows, cols, xp):
    r"""½ Σ_{i,j} mult_j φ(a_i + b_j + a_i b_j) with ratios (1 + a_i)(1 + b_j)."""
    a, b = rows.u, cols.u
    if len(a) == 0 or len(b) == 0:
        return 0 * xp.scalar(0)
    ra, rb = _positive_ratios(a, rows.ratio), _positive_ratios(b, cols.ratio)
    cross = a[:, None] + b[None, :] + a[:, None] * b[None, :]
    ratios = ra[:, None] * rb[None, :]
    terms = xp.u_minus_log1p(cross.ravel(), ratios.ravel()).reshape(cross.shape)
    if cols.mult is not None:
        terms = terms * cols.mult[None, :]
    return (terms * 0.5).sum()      # halves first (exact): a KL near 1.8e308 must not overflow


def _half_sq(a):
    return ((a * 0.5) * a).sum() if a.size else 0.0     # = ½‖a‖², halved before the sum (exact)


def _finite(value) -> bool:
    return math.isfinite(float(value))


def _kl_value(value, reason, cause, xp):
    if xp.limited:
        if reason is None and not _finite(value):
            what = ("the covariances are too disparate (a variance ratio beyond float64)" if cause == "covariance"
                    else "the mean difference is too large for q's covariance")
            raise GaussDistillError(f"the KL overflows float64: {what}; rescale the laws, or pass precision=50 "
                                    f"for an mpmath evaluation")
        return KLValue(float(value), reason)
    return MpKLValue._make(mpmath.mpf(xp.finish(mpmath.inf if reason else value))._mpf_, reason)


__all__ = ["kl_matrix_normal", "KLValue", "MpKLValue"]
