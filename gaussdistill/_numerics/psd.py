r"""The PSD factor: one eigendecomposition owning the rank decision, supports and whitening.

A covariance :math:`C = Q \operatorname{diag}(w) Q^T` is factored once. Its rank rule
(docs/mathematics.md §5.2, §5.4): eigenvalues :math:`w_i \le \mathrm{rtol}\cdot\max_j |w_j|`
count as zero, with ``rtol`` the backend's default (SciPy's 1e6·eps in float64; 1e6 units
of the last digit at ``precision`` digits) unless the caller sets it; ``rtol=0`` keeps every
positive eigenvalue. Eigenvalues the cutoff removes although they lie above the rounding
level of the decomposition are counted (``dropped``); the KL is then evaluated a second
time with them kept, and a :class:`~gaussdistill.ConditioningWarning` is issued when the two
differ (finite ↔ infinite, or by more than 1e-8 relative): exactly when the cutoff changed
the answer (dropped directions in which both laws agree contribute φ(0) = 0 and are not
reported). A diagonal covariance is factored exactly (its entries are its eigenvalues), so
it has no rounding level: every positive variance the cutoff removes counts. The condition
number is taken over every eigenvalue above the rounding level, dropped ones included.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConditioningWarning, GaussDistillError
from .backends import FLOAT64

# Condition number above which float64 results are flagged (ConditioningWarning), with the
# extended-precision whitening; without it the error is ~cond·eps and the flag comes earlier.
COND_WARN = 1e8
COND_WARN_UNREFINED = 1e6
# Above this condition number (for at most REFINE_MAX_DIM support dimensions) the whitened
# difference is formed in extended precision (see whiten_pair).
REFINE_COND = 1e4
REFINE_MAX_DIM = 256
# Relative size of a component outside a support below which it counts as inside.
SUPPORT_RTOL = 1e-8
# ``rtol`` value that keeps every eigenvalue above the rounding level (the comparison that
# decides whether the cutoff changed a KL; see :func:`warn_cutoff`).
ABOVE_ROUNDING = "above rounding level"
# Relative change of a KL below which dropping eigenvalues "did not change the answer".
CUTOFF_CHANGE_RTOL = 1e-8


@dataclass(frozen=True)
class PSDFactor:
    r"""Eigen-factor :math:`C = Q \operatorname{diag}(w) Q^T` of a PSD matrix, with one rank rule.

    ``values`` holds every eigenvalue in the order of ``vectors`` (those below the cutoff
    exact 0); ``rank`` counts the kept ones; ``dropped`` counts eigenvalues above the
    rounding level that the cutoff removed; ``cond`` is the condition number over the
    eigenvalues above the rounding level. ``exact`` factors come from a formula (e.g. the
    ridge covariance :math:`t\nu^2 (XX^T+\lambda I)^{-1}`), not a decomposition, and are
    never cut. ``noise_free`` factors (a diagonal matrix: its eigenvalues are its entries)
    have no rounding level: every positive eigenvalue is a real variance, and the cutoff
    counts each one it removes as dropped.
    """

    values: Any
    vectors: Any
    rank: int
    backend: Any = FLOAT64
    dropped: int = 0
    cond: float = 1.0
    exact: bool = False
    raw: Any = None        # the eigenvalues before the cutoff (for another rtol)
    name: str = "covariance"
    noise_free: bool = False

    def __setstate__(self, state):
        """Unpickling (and deepcopy): arrays read-only again (the laws cache this factor)."""
        from .._validate import restore_frozen

        restore_frozen(self, state)

    @classmethod
    def from_matrix(cls, name: str, mat, backend=FLOAT64, rtol: float | None = None) -> PSDFactor:
        """Factor a symmetric matrix; raise naming ``name`` if it is not PSD.

        A diagonal float64 matrix is factored exactly (eigenvalues = its diagonal, vectors =
        the identity), without a decomposition and its rounding level.
        """
        if backend.limited and isinstance(mat, np.ndarray) and mat.ndim == 2 and mat.size \
                and not np.any(mat[~np.eye(mat.shape[0], dtype=bool)]):
            w = np.array(np.diagonal(mat), dtype=float)
            return cls.from_eigh(name, w, np.eye(len(w)), backend, rtol, noise_free=True)
        w, q = backend.eigh(mat)
        return cls.from_eigh(name, w, q, backend, rtol)

    @classmethod
    def exact_eigen(cls, values, vectors, backend=FLOAT64) -> PSDFactor:
        """A factor whose eigenvalues are exact (a formula): no cutoff, no rounding level."""
        for arr in (values, vectors):
            if isinstance(arr, np.ndarray):
                arr.flags.writeable = False
        positive = [float(x) for x in values if x > 0]
        cond = max(positive) / min(positive) if len(positive) > 1 else 1.0
        return cls(values, vectors, len(positive), backend, 0, cond, True, None, "covariance")

    @classmethod
    def from_eigh(cls, name: str, w, q, backend=FLOAT64, rtol: float | str | None = None,
                  noise_free: bool = False) -> PSDFactor:
        """Build from a known eigendecomposition (any order), applying the rank rule.

        ``rtol=ABOVE_ROUNDING`` keeps every eigenvalue above the rounding level.
        """
        n = len(w)
        if n == 0:
            return cls(w, q, 0, backend, raw=w, name=name)
        rtol = backend.default_rtol if rtol is None else rtol
        if backend.limited and not (np.all(np.isfinite(w)) and np.all(np.isfinite(q))):
            raise GaussDistillError(
                f"{name} is too large for float64: its eigendecomposition overflows (an eigenvalue "
                f"beyond 1.8e308); rescale the law (covariance by c², mean by c)")
        top = max(abs(x) for x in w)
        noise = 0 * top if noise_free else max(n, 10) * backend.noise_rtol * top   # eigh's rounding level
        if isinstance(rtol, str):            # ABOVE_ROUNDING
            rtol = 0.0 if noise_free else max(n, 10) * backend.noise_rtol
        low, high = min(w), max(w)
        if low < -max(rtol * top, noise):
            raise GaussDistillError(
                f"{name} is not positive semi-definite (smallest eigenvalue {float(low):.3g}, "
                f"largest {float(high):.3g}); pass a PSD covariance, e.g. A @ A.T + eps * I")
        cut = rtol * top
        keep = np.array([x > cut and x > 0 for x in w], dtype=bool)
        significant = [float(x) for x in w if x > noise]
        dropped = sum(1 for x in w if noise < x <= cut)
        cond = max(significant) / min(significant) if len(significant) > 1 else 1.0
        values = np.where(keep, w, 0 * w)
        for arr in (values, q):           # cached by the laws: nobody may edit them
            if isinstance(arr, np.ndarray):
                arr.flags.writeable = False
        return cls(values, q, int(keep.sum()), backend, dropped, cond, False, w, name, noise_free)

    def with_rtol(self, rtol: float | None) -> PSDFactor:
        """The same decomposition under another rank tolerance (exact factors are unchanged)."""
        if self.exact or self.raw is None or rtol is None:
            return self
        return PSDFactor.from_eigh(self.name, self.raw, self.vectors, self.backend, rtol, self.noise_free)

    @property
    def size(self) -> int:
        return len(self.values)

    @property
    def law_values(self):
        """The eigenvalues of the covariance as given, with only eigh's rounding noise (and
        negatives) set to 0: the law itself (its draws, its soft labels) keeps the variances
        below the rank cutoff, which only decides supports in a KL."""
        if self.raw is None or self.exact:
            return self.values
        w = self.raw
        top = max(abs(x) for x in w) if len(w) else 0
        noise = 0 * top if self.noise_free else max(len(w), 10) * self.backend.noise_rtol * top
        return np.array([x if x > noise else 0 * x for x in w], dtype=np.asarray(w).dtype)

    def root(self):
        """L = Q diag(√law_values) with L Lᵀ = the covariance (for draws)."""
        return self.vectors * self.backend.sqrt(self.law_values)[None, :]

    def dense_in(self, xp):
        r""":math:`Q \operatorname{diag}(w) Q^T` formed in the backend ``xp`` from this factor's
        numbers (with mpmath: at the working precision, so an exact factor's small
        eigenvalues keep their digits instead of the cond·eps of the float64 product)."""
        V, w = xp.asarray(self.vectors), xp.asarray(self.values)
        return (V * w[None, :]) @ V.T

    @property
    def _kept(self):
        return np.asarray(self.values > 0).astype(bool)

    @property
    def support(self):
        """Orthonormal basis of the range (columns), for the kept eigenvalues."""
        return self.vectors[:, self._kept]

    @property
    def support_values(self):
        return self.values[self._kept]

    @property
    def condition_number(self) -> float:
        """max/min over the eigenvalues above the rounding level (dropped ones included)."""
        return self.cond

    def whitener(self):
        r""":math:`Q_+ \operatorname{diag}(w_+^{-1/2})`: ``M @ whitener()`` is M in the metric C⁺."""
        return self.support / self.backend.sqrt(self.support_values)[None, :]

    def range_residual(self, mat) -> float:
        """Relative size of the part of ``mat``'s columns outside the range (0 if inside)."""
        if mat.size == 0 or self.rank == self.size:    # a full-rank support is everything
            return 0.0
        basis = self.support
        outside = mat - basis @ (basis.T @ mat)
        scale = float(np.max(np.abs(mat.astype(float))))
        if scale == 0.0:
            return 0.0
        # Relative, with no absolute floor: a 1e-310 mean difference off the support is
        # still off the support.
        return float(np.max(np.abs(outside.astype(float)))) / scale


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


def sandwich(whitener, sym):
    """Wᵀ S W for a dense or diagonal whitener."""
    return whitener.sandwich(sym) if hasattr(whitener, "sandwich") else whitener.T @ sym @ whitener


def whitened_eigs(whitener, diff, cov_a, xp):
    r"""Eigenvalues u of Wᵀ(A − B)W and the ratios 1 + u = eig Wᵀ A W, paired in order.

    Both are needed: ``u`` is accurate near 0 (the difference is formed before whitening),
    the ratios where A is much smaller than B (1 + u would have lost their digits).
    """
    if whitener.shape[1] == 0:
        return xp.zeros(0), xp.zeros(0)
    mid = sandwich(whitener, diff)
    ratio = sandwich(whitener, cov_a)
    return xp.eigvalsh(mid * 0.5 + mid.T * 0.5), xp.eigvalsh(ratio * 0.5 + ratio.T * 0.5)   # (no overflow at 1e308)


def refinable(fb: PSDFactor, xp) -> bool:
    """Whether :func:`whiten_pair` can use its extended-precision step on this factor."""
    return xp.long is not None and 1 < fb.rank <= REFINE_MAX_DIM


def whiten_pair(fb: PSDFactor, cov_a, cov_b, xp):
    r"""(W, u, 1 + u): W whitens B (factored as ``fb``), u = eig Wᵀ(A − B)W, 1 + u = eig WᵀAW.

    eigh gets B's smallest eigenvalue only to ±eps·‖B‖, i.e. cond(B)·eps relative, and every
    KL inherits it. For an ill-conditioned B the support basis Q is kept but Qᵀ B Q and
    Qᵀ A Q are formed in extended precision (the backend's ``long``, non-BLAS, hence the
    size limit) and B is whitened by the Rayleigh quotients diag(Qᵀ B Q), accurate to
    ~eps²‖B‖²/gap (1.5e-10 measured at cond 1e8 instead of 1.4e-8).
    """
    if refinable(fb, xp) and fb.condition_number > REFINE_COND:
        long = xp.long
        q = fb.support.astype(long)
        bc = q.T @ np.asarray(cov_b, dtype=long) @ q
        ac = q.T @ np.asarray(cov_a, dtype=long) @ q
        lam = np.diagonal(bc).copy()
        if np.all(lam > 0):
            scale = 1 / np.sqrt(lam)
            mid = (ac - bc) * scale[:, None] * scale[None, :]
            rat = ac * scale[:, None] * scale[None, :]
            mid = np.asarray((mid + mid.T) / 2, dtype=float)
            rat = np.asarray((rat + rat.T) / 2, dtype=float)
            return (fb.support * np.asarray(scale, dtype=float)[None, :], np.linalg.eigvalsh(mid),
                    np.linalg.eigvalsh(rat))
    whitener = fb.whitener()
    u, ratio = whitened_eigs(whitener, cov_a - cov_b, cov_a, xp)
    return whitener, u, ratio


def warn_conditioning(factor: PSDFactor, name: str, xp, stacklevel: int = 4) -> None:
    """ConditioningWarning when float64 may lose accuracy on this factor (float64 only)."""
    if not xp.limited or factor.rank <= 1 or factor.noise_free:
        return      # (a diagonal covariance is whitened exactly, by scaling: nothing to lose)
    limit = COND_WARN if refinable(factor, xp) else COND_WARN_UNREFINED
    cond = factor.condition_number
    if cond > limit:
        warnings.warn(
            f"{name} has condition number {cond:.3g} > {limit:.0e}: float64 results may lose "
            f"accuracy (relative error up to ~cond*eps = {cond * np.finfo(float).eps:.1g}); "
            f"pass precision=50 for an mpmath evaluation", ConditioningWarning, stacklevel=stacklevel)


def warn_shifted_conditioning(cond: float, name: str, xp, stacklevel: int = 4) -> None:
    """ConditioningWarning for a τ²I + C covariance whitened by plain float64 eigh (no
    extended-precision refinement): above COND_WARN_UNREFINED it may lose ~cond·eps."""
    if xp.limited and cond > COND_WARN_UNREFINED:
        warnings.warn(
            f"{name} has condition number {cond:.3g} > {COND_WARN_UNREFINED:.0e}: float64 results may "
            f"lose accuracy (relative error up to ~cond*eps = {cond * np.finfo(float).eps:.1g}); "
            f"pass precision=50 for an mpmath evaluation", ConditioningWarning, stacklevel=stacklevel)


def dropped_names(factors) -> list:
    """``[(name, count)]`` of the factors (``(factor, name)`` pairs) whose cutoff removed
    eigenvalues above the rounding level."""
    return [(name, f.dropped) for f, name in factors if f.dropped]


def _changed(value, reason, alt_value, alt_reason) -> bool:
    """Whether two KL evaluations (value, reason) differ: finite <-> infinite, or in value."""
    a, b = float(value), float(alt_value)
    finite_a = reason is None and math.isfinite(a)
    finite_b = alt_reason is None and math.isfinite(b)
    if finite_a != finite_b:
        return True
    if not finite_a:
        return False
    return abs(a - b) > CUTOFF_CHANGE_RTOL * max(abs(a), abs(b)) + 1e-300


def warn_cutoff(dropped, rtol, xp, result, alternative, stacklevel: int = 4) -> None:
    """ConditioningWarning when the rank cutoff removed eigenvalues above the rounding level
    AND that changed the answer.

    ``result`` and ``alternative`` are (value, reason) with the cutoff and with every
    eigenvalue above the rounding level kept (``rtol=ABOVE_ROUNDING``). Dropped directions
    in which p and q agree change nothing (φ(0) = 0) and are not reported.
    """
    if not dropped or not _changed(*result, *alternative):
        return
    shown = xp.default_rtol if rtol is None else rtol
    where = ", ".join(f"{name} ({count})" for name, count in dropped)
    alt = "inf" if alternative[1] is not None else f"{float(alternative[0]):.4g}"
    warnings.warn(
        f"the rank cutoff rtol={float(shown):.3g} treats eigenvalue(s) above the rounding level as 0 "
        f"in {where}, and that changes the KL: {float(result[0]):.4g} with the cutoff, {alt} with them "
        f"kept; pass rtol=0 (keep every positive eigenvalue) or precision=50",
        ConditioningWarning, stacklevel=stacklevel)


def compare_supports(fa: PSDFactor, fb: PSDFactor, mean_diff, names, what="column"):
    """(cov_reason, mean_reason) for KL(a‖b); (None, None) when the supports agree.

    KL(a‖b) is finite iff range Σ_a = range Σ_b and the mean difference lies in it (strict
    inclusion range Σ_a ⊂ range Σ_b is not enough: a then lives on a lower-dimensional
    subspace, which b gives probability 0).
    """
    a, b = names
    cov_reason = mean_reason = None
    if fa.rank != fb.rank or (fa.rank and fb.range_residual(fa.support) > SUPPORT_RTOL):
        if fa.rank == 0:
            cov_reason = (f"the {a} law is deterministic ({what} covariance 0) while the {b} law is not: "
                          f"a point mass is not absolutely continuous w.r.t. a Gaussian")
        elif fb.rank == 0:
            cov_reason = f"the {b} law is deterministic ({what} covariance 0) while the {a} law is not"
        elif fa.rank < fb.rank and fb.range_residual(fa.support) <= SUPPORT_RTOL:
            cov_reason = (f"the {a} {what} covariance (rank {fa.rank}) spans a proper subspace of the "
                          f"{b} one (rank {fb.rank}): the {a} law is singular w.r.t. the {b} law")
        else:
            cov_reason = (f"the {a} {what} covariance (rank {fa.rank}) is not supported inside the "
                          f"{b} one (rank {fb.rank})")
    if mean_diff is not None and fb.range_residual(mean_diff) > SUPPORT_RTOL:
        mean_reason = (f"the mean difference leaves the support of the {b} {what} covariance "
                       f"(rank {fb.rank} < {fb.size})")
    return cov_reason, mean_reason


def numerical_rank(singular_values, shape) -> int:
    """Rank rule for a mean matrix: singular values above 10·max(shape)·max(eps·σ_max, 4.9e-324).

    eps is float64's in every backend: the inputs are float64, so their rounding noise
    must not count as rank even when the arithmetic is done at 50 digits.
    """
    if len(singular_values) == 0:
        return 0
    top = float(max(singular_values))
    if top == 0.0 or not np.isfinite(top):
        return 0 if top == 0.0 else len(singular_values)
    tol = max(shape) * float(np.finfo(float).eps) * top * 10
    # A subnormal mean (e.g. M_S ~ 1e-318 on a 1e-107 design) has absolute, not relative,
    # rounding: one ulp is 4.9e-324, so noise of a few ulps must not count as rank either.
    tol = max(tol, max(shape) * float(np.finfo(float).smallest_subnormal) * 10)
    return int(sum(1 for s in singular_values if float(s) > tol))


__all__ = ["PSDFactor", "DiagonalWhitener", "whiten_pair", "whitened_eigs", "warn_conditioning",
           "warn_cutoff", "warn_shifted_conditioning", "dropped_names", "ABOVE_ROUNDING",
           "compare_supports", "numerical_rank", "sandwich", "SUPPORT_RTOL", "COND_WARN"]
