r"""Distillation divergences between the student's and the teacher's kernels (MATH 2.2).

* :func:`kl_matrix_normal` — KL between two matrix normal laws, general U and V, never
  forming V ⊗ U; exact for singular covariances (+inf with a reason where infinite).
* :func:`divergence` — the three divergences of the case study with their
  bias/variance/rank decomposition, in either direction, in float64 or mpmath.

Numerics. The covariance part :math:`\tfrac12[\operatorname{tr}(B^{-1}A) - m - \ln\det(B^{-1}A)]`
is computed as :math:`\tfrac12\sum_i f(u_i)`, :math:`f(u) = u - \log(1+u)` (series near 0),
with :math:`u_i` the eigenvalues of the *whitened difference*
:math:`B^{-1/2}(A - B)B^{-1/2}`; the difference A − B is formed structurally where the
kernels share an eigenbasis. This keeps a divergence of 1e-14 accurate to a few ulps,
where ``trace − m − logdet`` loses every digit (STYLE.md §8).

The predictive divergence lives on n outputs but V = τ² I_n + Xᵀ Σ X is identity plus
rank ≤ d: on the orthogonal complement of the row space of X both laws are
N(0, τ² I) and contribute nothing, so everything is computed in the d-dimensional row
space from the eigendecomposition of X Xᵀ, at cost O(n d² + d³ + k d²) and memory
O(n d + d² + k d), never an n×n matrix (issue 5).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import mpmath
import numpy as np

from ._linalg import COND_WARN, FLOAT64, DiagonalWhitener, MpmathBackend, PSDFactor
from ._validate import as_choice, as_count, as_matrix, as_rank, as_scalar
from .decomposition import DivergenceResult, mean_decomposition
from .errors import ConditioningWarning, GaussDistillError
from .vocabulary import DIRECTIONS, KINDS
from .kernels import MatrixNormal, SoftLabelLaw, row_space_map, same_design

# Relative size of a component outside a support below which it counts as inside.
SUPPORT_RTOL = 1e-8


class KLValue(float):
    """A float KL value; ``reason`` says why it is infinite (None when finite)."""

    reason: str | None

    def __new__(cls, value, reason=None):
        obj = super().__new__(cls, value)
        obj.reason = reason
        return obj


# --------------------------------------------------------------------------- building blocks
def _covariance_part(u, multiplicity, xp, one_plus_u=None):
    r"""½·multiplicity·Σ f(u_i): the trace/log-det part from whitened-difference eigenvalues.

    ``one_plus_u``: the variance ratios themselves, where a structural path has them.
    """
    if len(u) == 0:
        return 0 * xp.scalar(0)
    return multiplicity * sum(xp.u_minus_log1p(u, one_plus_u)) / 2


def _eigvals_whitened(whitener, diff, xp):
    r"""Eigenvalues of Wᵀ (A − B) W (W whitens B), symmetrised against rounding."""
    if whitener.shape[1] == 0:
        return xp.zeros(0)
    mid = whitener.sandwich(diff) if hasattr(whitener, "sandwich") else whitener.T @ diff @ whitener
    return xp.eigh((mid + mid.T) / 2)[0]


# Above this condition number (for at most REFINE_MAX_DIM support dimensions, float64 only)
# the whitened difference is formed in extended precision (see _whiten_pair).
REFINE_COND = 1e4
REFINE_MAX_DIM = 256
_LONG = np.longdouble if np.finfo(np.longdouble).eps < np.finfo(float).eps else None


def _refinable(fb: PSDFactor) -> bool:
    """Whether _whiten_pair can use its extended-precision step on this factor."""
    return _LONG is not None and 1 < fb.rank <= REFINE_MAX_DIM


def _whiten_pair(fb: PSDFactor, cov_a, cov_b, xp):
    r"""(W, eigenvalues of Wᵀ(A − B)W) with W the whitener of B (factored as ``fb``).

    eigh gets B's smallest eigenvalue only to ±eps·‖B‖, i.e. cond(B)·eps relative (1.4e-8
    measured at cond 1e8), and every KL inherits it. For an ill-conditioned B the support
    basis Q is kept but Qᵀ B Q and Qᵀ A Q are formed in extended precision (np.longdouble,
    non-BLAS, hence the size limit) and B is whitened by the Rayleigh quotients
    diag(Qᵀ B Q), accurate to ~eps²‖B‖²/gap: 1.5e-10 measured at cond 1e8. Where numpy's
    longdouble is plain float64 (Windows, Apple silicon) this step is skipped.
    """
    if xp is FLOAT64 and _refinable(fb) and fb.condition_number > REFINE_COND:
        q = fb.support.astype(_LONG)
        bc = q.T @ np.asarray(cov_b, dtype=_LONG) @ q
        ac = q.T @ np.asarray(cov_a, dtype=_LONG) @ q
        lam = np.diagonal(bc).copy()
        if np.all(lam > 0):
            scale = 1 / np.sqrt(lam)
            mid = (ac - bc) * scale[:, None] * scale[None, :]
            mid = np.asarray((mid + mid.T) / 2, dtype=float)
            return fb.support * np.asarray(scale, dtype=float)[None, :], np.linalg.eigvalsh(mid)
    whitener = fb.whitener()
    return whitener, _eigvals_whitened(whitener, cov_a - cov_b, xp)


@dataclass
class _SupportCheck:
    """Outcome of comparing two Gaussian supports: None reason means equal supports."""

    cov_reason: str | None = None
    mean_reason: str | None = None


def _compare_supports(fa: PSDFactor, fb: PSDFactor, mean_diff, names, what="column") -> _SupportCheck:
    """Is KL(a‖b) finite?  Needs range Σ_a = range Σ_b and the mean difference in it.

    (Strict inclusion range Σ_a ⊂ range Σ_b is *not* enough: a then lives on a
    lower-dimensional subspace, which b gives probability 0, so KL(a‖b) = +inf.)
    """
    a, b = names
    check = _SupportCheck()
    if fa.rank != fb.rank or (fa.rank and fb.range_residual(fa.support) > SUPPORT_RTOL):
        if fa.rank == 0:
            check.cov_reason = (f"the {a} law is deterministic ({what} covariance 0) while the {b} law is not: "
                                f"a point mass is not absolutely continuous w.r.t. a Gaussian")
        elif fb.rank == 0:
            check.cov_reason = f"the {b} law is deterministic ({what} covariance 0) while the {a} law is not"
        elif fa.rank < fb.rank and fb.range_residual(fa.support) <= SUPPORT_RTOL:
            check.cov_reason = (f"the {a} {what} covariance (rank {fa.rank}) spans a proper subspace of the "
                                f"{b} one (rank {fb.rank}): the {a} law is singular w.r.t. the {b} law")
        else:
            check.cov_reason = (f"the {a} {what} covariance (rank {fa.rank}) is not supported inside the "
                                f"{b} one (rank {fb.rank})")
    if mean_diff is not None and fb.range_residual(mean_diff) > SUPPORT_RTOL:
        check.mean_reason = (f"the mean difference leaves the support of the {b} {what} covariance "
                             f"(rank {fb.rank} < {fb.size})")
    return check


# Without the extended-precision step (support > REFINE_MAX_DIM, or no long double) the
# float64 error is ~cond·eps, over the 1e-9 target from cond ≈ 5e6: warn from here.
COND_WARN_UNREFINED = 1e6


def _warn_conditioning(factor: PSDFactor, name: str, xp) -> None:
    if xp is FLOAT64 and factor.rank > 1:
        cond = factor.condition_number
        limit = COND_WARN if _refinable(factor) else COND_WARN_UNREFINED
        if cond > limit:
            warnings.warn(
                f"{name} has condition number {cond:.3g} > {limit:.0e}: float64 results may lose "
                f"accuracy (relative error up to ~cond*eps = {cond * np.finfo(float).eps:.1g}); "
                f"pass precision=50 for an mpmath evaluation", ConditioningWarning, stacklevel=3)


# --------------------------------------------------------------------------- general MN KL
def kl_matrix_normal(p: MatrixNormal, q: MatrixNormal, precision: int | None = None):
    r"""KL(p ‖ q) between matrix normal laws :math:`\mathcal{MN}(M_1, U_1, V_1)` and :math:`\mathcal{MN}(M_2, U_2, V_2)`.

    .. math::
        \mathrm{KL} = \tfrac12\Big[\operatorname{tr}(V_2^{-1}V_1)\operatorname{tr}(U_2^{-1}U_1)
        + \operatorname{tr}(V_2^{-1}D^T U_2^{-1} D) - km
        + m \ln\tfrac{\det U_2}{\det U_1} + k \ln\tfrac{\det V_2}{\det V_1}\Big],\quad D = M_1 - M_2,

    computed without V ⊗ U as :math:`\tfrac12\sum_{i,j} f(a_i + b_j + a_i b_j) +
    \tfrac12\|\tilde D\|_F^2`, with :math:`a, b` the eigenvalues of the whitened
    differences :math:`U_2^{-1/2}(U_1-U_2)U_2^{-1/2}` and :math:`V_2^{-1/2}(V_1-V_2)V_2^{-1/2}`,
    :math:`f(u) = u - \ln(1+u)`, and :math:`\tilde D = U_2^{-1/2} D V_2^{-1/2}`.

    Singular covariances: the KL is finite iff p and q have the same support (range
    U₁ = range U₂, range V₁ = range V₂, D inside it, or both point masses at the same
    mean); it is then computed with pseudo-inverses and pseudo-determinants on that
    support. Otherwise the result is ``inf`` and ``result.reason`` says why.

    Two :func:`~gaussdistill.soft_labels` laws on the same inputs and the same τ are
    compared in the row space of X (their n×n covariances are identity plus rank d), at
    cost O(n d² + d³) and without forming an n×n matrix.

    Parameters
    ----------
    p, q : MatrixNormal of the same shape (k, m).
    precision : int or None. Digits for an mpmath evaluation (returns ``mpmath.mpf``).

    Returns
    -------
    KLValue (a float with ``.reason``) or mpmath.mpf.

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
    if precision is None:
        return _kl_mn(p, q, FLOAT64)
    dps = as_count("precision", precision, 16, " (mpmath digits; float64 inputs already carry ~16)")
    with mpmath.workdps(dps):
        return _kl_mn(p, q, MpmathBackend(dps))


def _factors(law: MatrixNormal, xp):
    if xp is FLOAT64:
        return law.row_factor, law.col_factor, law.mean, law.row_cov, law.col_cov
    row = xp.asarray(law.row_cov)
    col = xp.asarray(law.col_cov)
    return (PSDFactor.from_matrix("row_cov", row, xp), PSDFactor.from_matrix("col_cov", col, xp),
            xp.asarray(law.mean), row, col)


def _kl_mn(p, q, xp):
    if _same_channel_soft_labels(p, q):
        # Two soft-label laws on one design and one τ: the KL is the predictive divergence
        # of their teachers, computed in the row space of X (no n×n matrix, issue 5).
        k, d = p.teacher.shape
        res = _divergence(p.teacher, q.teacher, p.design, p.soft_noise, "predictive",
                          "student||teacher", min(k, d), "reduced", xp)
        return _kl_value(res.total, res.reason, xp)
    ru1, cv1, m1, u1, v1 = _factors(p, xp)
    ru2, cv2, m2, u2, v2 = _factors(q, xp)
    diff = m1 - m2
    point_p = ru1.rank == 0 or cv1.rank == 0
    point_q = ru2.rank == 0 or cv2.rank == 0
    if point_p and point_q:
        if float(np.max(np.abs(diff.astype(float)), initial=0.0)) == 0.0:
            return _kl_value(0 * xp.scalar(0), None, xp)
        return _kl_value(math.inf, "both laws are point masses at different means", xp)
    reasons = []
    for what, fa, fb in (("row", ru1, ru2), ("column", cv1, cv2)):
        check = _compare_supports(fa, fb, None, ("p", "q"), what)
        if check.cov_reason:
            reasons.append(check.cov_reason)
    if reasons:
        return _kl_value(math.inf, "; ".join(reasons), xp)
    if ru2.range_residual(diff) > SUPPORT_RTOL or cv2.range_residual(diff.T) > SUPPORT_RTOL:
        return _kl_value(math.inf, "the mean difference M_p - M_q leaves the support of q", xp)
    _warn_conditioning(cv2, "q.col_cov", xp)
    _warn_conditioning(ru2, "q.row_cov", xp)
    wu, a = _whiten_pair(ru2, u1, u2, xp)
    wv, b = _whiten_pair(cv2, v1, v2, xp)
    # Eigenvalues of (V₂⊗U₂)⁺(V₁⊗U₁) on the support are (1+a_i)(1+b_j) = 1 + (a_i + b_j + a_i b_j).
    cross = (a[:, None] + b[None, :] + a[:, None] * b[None, :]).ravel()
    total = _covariance_part(cross, 1, xp) + _half_sq(wu.T @ diff @ wv)
    return _kl_value(total, None, xp)


def _same_channel_soft_labels(p, q) -> bool:
    return (isinstance(p, SoftLabelLaw) and isinstance(q, SoftLabelLaw) and p.soft_noise == q.soft_noise
            and p.teacher.shape == q.teacher.shape and p.teacher.row_is_identity
            and q.teacher.row_is_identity and same_design(p.design, q.design))


def _half_sq(a):
    return (a * a).sum() / 2 if a.size else 0.0


def _kl_value(value, reason, xp):
    if xp is FLOAT64 and reason is None and not math.isfinite(float(value)):
        raise GaussDistillError("the KL overflows float64 (means or covariances too large or too "
                                "disparate); rescale the laws, or pass precision=50 for an mpmath evaluation")
    if xp is FLOAT64:
        return KLValue(float(value), reason)
    return mpmath.inf if reason else mpmath.mpf(value)


# --------------------------------------------------------------------------- case-study divergences
def divergence(student, teacher, X, soft_noise=None, kind="predictive", direction="student||teacher",
               rank=None, precision=None, method="auto") -> DivergenceResult:
    r"""A distillation divergence between student and teacher kernels, with its decomposition.

    With Δ = (M_S − M_T) X, V_• = τ² I_n + Xᵀ Σ_• X (MATH 2.2):

    * ``"predictive"`` :math:`K^Y = \mathrm{KL}(P_S\|P_T) = \tfrac k2[\operatorname{tr}(V_T^{-1}V_S) - n
      - \ln\det(V_T^{-1}V_S)] + \tfrac12\operatorname{tr}(\Delta V_T^{-1}\Delta^T)`;
    * ``"convexity"`` :math:`\bar K = [\|\Delta\|_F^2 + k\operatorname{tr}(X^T(\Sigma_S+\Sigma_T)X)]/(2\tau^2)`
      (the paper's convexity step; the same in both directions; ≥ K^Y);
    * ``"weight"`` :math:`K^W = \mathrm{KL}(q_S\|q_T) = \tfrac k2[\operatorname{tr}(\Sigma_T^{-1}\Sigma_S) - d
      - \ln\det(\Sigma_T^{-1}\Sigma_S)] + \tfrac12\operatorname{tr}(\Sigma_T^{-1}(M_S-M_T)^T(M_S-M_T))`
      (needs Σ_S, Σ_T ≻ 0, else +inf with the reason; the K_n of Theorems 1–3).

    ``direction="teacher||student"`` swaps the arguments of the KL (the metric is then the
    student's). Decomposition (MATH 2.3): ``variance`` is the covariance part; ``rank`` is
    ½ Σ_{i>r} σ_i²(teacher mean in the metric) (Eckart–Young–Mirsky: the least mean cost of
    any rank-r student); ``bias`` = mean part − rank ≥ 0.

    Parameters
    ----------
    student, teacher : MatrixNormal kernels of shape (k, d) with row covariance I_k
        (from :func:`rank_student` / :func:`ridge_teacher`, or hand-built).
    X : (d, n) inputs.
    soft_noise : τ > 0 (needed by "predictive" and "convexity"; ignored by "weight").
        Defaults to the student's ``soft_noise`` attribute if it has one.
    kind : "predictive", "convexity" or "weight".
    direction : "student||teacher" or "teacher||student".
    rank : r for the rank bottleneck, in [0, min(k, d)]; None uses the numerical rank of
        the student's mean (in the metric). A rank below it is refused (bias would be < 0).
    precision : int digits for an mpmath evaluation (attributes are then mpmath.mpf).
    method : "auto", "reduced" (row space of X, O(n d²)) or "dense" (n×n, a check).
        "auto" uses the reduced route unless n < d.
    """
    kind = as_choice("kind", kind, KINDS)
    direction = as_choice("direction", direction, DIRECTIONS)
    method = as_choice("method", method, ("auto", "reduced", "dense"))
    for name, law in (("student", student), ("teacher", teacher)):
        if not isinstance(law, MatrixNormal):
            raise GaussDistillError(
                f"{name} must be a MatrixNormal kernel (from rank_student / ridge_teacher); got {type(law).__name__}")
        if not law.row_is_identity:
            raise GaussDistillError(f"{name} must have row covariance I_k (the case study's MN(M, I_k, Σ))")
    if student.shape != teacher.shape:
        raise GaussDistillError(
            f"student and teacher must have the same shape (k, d); got {student.shape} and {teacher.shape}")
    k, d = teacher.shape
    X = as_matrix("X", X, (d, None))
    if kind != "weight":
        if soft_noise is None:
            soft_noise = getattr(student, "soft_noise", None)
            if soft_noise is None:
                raise GaussDistillError(f"soft_noise (τ > 0) is required for kind={kind!r}")
        soft_noise = as_scalar("soft_noise", soft_noise, positive=True)
    if rank is not None:
        rank = as_rank("rank", rank, min(k, d))
    if precision is None:
        return _divergence(student, teacher, X, soft_noise, kind, direction, rank, method, FLOAT64)
    dps = as_count("precision", precision, 16, " (mpmath digits; float64 inputs already carry ~16)")
    with mpmath.workdps(dps):
        return _divergence(student, teacher, X, soft_noise, kind, direction, rank, method, MpmathBackend(dps))


@dataclass
class _Coordinates:
    """Both kernels in the coordinates where a divergence is computed.

    ``means`` (k×m) and the covariance of each law in those coordinates, with the
    covariance difference formed structurally when possible, plus the whitener of the
    reference law ``b`` (the second KL argument).
    """

    mean_s: object
    mean_t: object
    whitener_b: object       # m×ρ, maps a mean into b's metric
    diff_eigs: object        # eigenvalues of the whitened covariance difference (a − b)
    cov_reason: str | None = None
    mean_reason: str | None = None
    diff_ratios: object = None   # 1 + diff_eigs as direct quotients (structural paths only)


def _divergence(student, teacher, X, tau, kind, direction, rank, method, xp):
    forward = direction == "student||teacher"
    k = teacher.shape[0]
    if kind == "weight":
        coords = _weight_coordinates(student, teacher, forward, xp)
        variance = (_covariance_part(coords.diff_eigs, k, xp, coords.diff_ratios)
                    if coords.cov_reason is None else math.inf)
    else:
        n, d = X.shape[1], X.shape[0]
        dense = method == "dense" or (method == "auto" and n < d)
        builder = _predictive_dense if dense else _predictive_reduced
        coords, cov_trace = builder(student, teacher, X, tau, forward, xp, kind)
        if kind == "convexity":
            variance = k * cov_trace / (2 * tau**2)
        else:
            variance = _covariance_part(coords.diff_eigs, k, xp, coords.diff_ratios)
    reason = "; ".join(r for r in (coords.cov_reason, coords.mean_reason) if r) or None
    if coords.mean_reason is None:
        mean_part, rank_part, bias, rank_used = mean_decomposition(
            coords.mean_s @ coords.whitener_b, coords.mean_t @ coords.whitener_b, rank, xp)
    else:
        mean_part, rank_part, bias, rank_used = math.inf, 0.0, math.inf, -1 if rank is None else rank
    total = variance + mean_part
    if xp is FLOAT64 and reason is None and not all(
            math.isfinite(float(v)) for v in (total, bias, variance, rank_part)):
        # A finite KL that float64 cannot hold (huge means or scales): say so, never NaN.
        raise GaussDistillError(
            f"the {kind} divergence overflows float64 (max |M_S|, |M_T| = "
            f"{max(np.max(np.abs(student.mean), initial=0), np.max(np.abs(teacher.mean), initial=0)):.3g}); "
            f"rescale X and Y, or pass precision=50 for an mpmath evaluation")
    conv = (lambda v: float(v)) if xp is FLOAT64 else (lambda v: v if v == mpmath.inf else mpmath.mpf(v))
    return DivergenceResult(
        total=conv(total), bias=conv(bias), variance=conv(variance), rank=conv(rank_part),
        kind=kind, direction=direction, rank_used=int(rank_used), reason=reason,
        precision=None if xp is FLOAT64 else xp.dps)


def _laws(student, teacher, forward):
    return (student, teacher) if forward else (teacher, student)


def _weight_coordinates(student, teacher, forward, xp):
    a, b = _laws(student, teacher, forward)
    names = ("student", "teacher") if forward else ("teacher", "student")
    if xp is FLOAT64:
        fa, fb = a.col_factor, b.col_factor
        ms, mt = student.mean, teacher.mean
    else:
        fa = PSDFactor.from_matrix("covariance", xp.asarray(a.col_cov), xp)
        fb = PSDFactor.from_matrix("covariance", xp.asarray(b.col_cov), xp)
        ms, mt = xp.asarray(student.mean), xp.asarray(teacher.mean)
    check = _compare_supports(fa, fb, (ms - mt).T, names, "weight")
    whitener = fb.whitener()
    ratios = None
    if check.cov_reason is not None:
        eigs = None
    elif xp is FLOAT64 and fa.vectors is fb.vectors:
        # Same eigenbasis (e.g. ridge teacher and student on one design): the whitened
        # difference is diagonal, (w_a − w_b)/w_b, with no matrix subtraction at all.
        # Elementwise, so accurate at any condition number (1e-11 measured at 1e10): no warning.
        wa, wb = fa.support_values, fb.support_values
        eigs, ratios = (wa - wb) / wb, wa / wb
    else:
        _warn_conditioning(fb, f"the {names[1]} weight covariance", xp)
        whitener, eigs = _whiten_pair(fb, _dense_cov(a, xp), _dense_cov(b, xp), xp)
    return _Coordinates(ms, mt, whitener, eigs, check.cov_reason, check.mean_reason, ratios)


def _dense_cov(law, xp):
    return law.col_cov if xp is FLOAT64 else xp.asarray(law.col_cov)


def _predictive_reduced(student, teacher, X, tau, forward, xp, kind):
    r"""Both predictive laws in the row space of X.

    With X = G Qᵀ (Q orthonormal columns; G = U diag(√s) from X Xᵀ = U diag(s) Uᵀ, or Rᵀ
    from a thin QR for an ill-conditioned X, see ``row_space_map``): M X ↦ M G (k×d) and
    Xᵀ Σ X ↦ C = Gᵀ Σ G (d×d); V = τ² I + C there and τ² I on the complement, where the
    two laws agree. Returns the coordinates and tr(C_S) + tr(C_T) (for K̄).
    """
    if xp is FLOAT64:
        G, vecs, s = row_space_map(X, teacher, student)
    else:
        xm = xp.asarray(X)
        s, vecs = xp.eigh(xm @ xm.T)
        s = np.array([x if x > 0 else 0 * x for x in s], dtype=object)
        G = vecs * xp.sqrt(s)[None, :]
    a, b = _laws(student, teacher, forward)
    reduced = {}
    for role, law in (("a", a), ("b", b)):
        factor = law.col_factor
        if xp is FLOAT64 and factor.vectors is vecs:
            reduced[role] = ("diag", s * factor.values)          # C = diag(s_j w_j) exactly
        else:
            cov = _dense_cov(law, xp)
            reduced[role] = ("dense", G.T @ cov @ G)
    tau2 = tau**2 if xp is FLOAT64 else mpmath.mpf(tau) ** 2
    ms, mt = _means(student, teacher, xp)
    ms_r, mt_r = ms @ G, mt @ G
    cov_trace = sum(_trace(c) for c in reduced.values())
    if kind == "convexity":
        m = G.shape[1]
        whitener = np.eye(m) / tau if xp is FLOAT64 else _identity(m, xp) / mpmath.sqrt(tau2)
        return _Coordinates(ms_r, mt_r, whitener, None), cov_trace
    (ta, ca), (tb, cb) = reduced["a"], reduced["b"]
    if ta == "diag" and tb == "diag":
        vb = tau2 + cb
        whitener = DiagonalWhitener(1.0 / np.sqrt(vb))
        # (V_a − V_b)/V_b with V_a − V_b = s (w_a − w_b): the structural difference.
        eigs = s * (a.col_factor.values - b.col_factor.values) / vb
        ratios = (tau2 + ca) / vb
        return _Coordinates(ms_r, mt_r, whitener, eigs, diff_ratios=ratios), cov_trace
    ca_m = np.diag(ca) if ta == "diag" else ca
    if tb == "diag":
        whitener = DiagonalWhitener(1.0 / np.sqrt(tau2 + cb))
        diff = ca_m - np.diag(cb)
    else:
        # (eigh, not scipy's Cholesky + triangular solves: scipy's own OpenBLAS thread pool
        # contends with numpy's and made this path 2x slower, measured.)
        c_vals, vb_vecs = xp.eigh((cb + cb.T) / 2)
        vb_vals = tau2 + np.array([x if x > 0 else 0 * x for x in c_vals], dtype=c_vals.dtype)
        whitener = vb_vecs / xp.sqrt(vb_vals)[None, :]
        diff = ca_m - cb
    return _Coordinates(ms_r, mt_r, whitener, _eigvals_whitened(whitener, diff, xp)), cov_trace


def _predictive_dense(student, teacher, X, tau, forward, xp, kind):
    r"""The n×n route: V = τ² I_n + Xᵀ Σ X formed explicitly (small n; an independent check)."""
    xm = X if xp is FLOAT64 else xp.asarray(X)
    n = xm.shape[1]
    tau2 = tau**2 if xp is FLOAT64 else mpmath.mpf(tau) ** 2
    a, b = _laws(student, teacher, forward)
    ca = xm.T @ _dense_cov(a, xp) @ xm
    cb = xm.T @ _dense_cov(b, xp) @ xm
    ms, mt = _means(student, teacher, xp)
    cov_trace = _trace(("dense", ca)) + _trace(("dense", cb))
    if kind == "convexity":
        eye = np.eye(n) if xp is FLOAT64 else _identity(n, xp)
        return _Coordinates(ms @ xm, mt @ xm, eye / (tau if xp is FLOAT64 else mpmath.sqrt(tau2)), None), cov_trace
    c_vals, vecs = xp.eigh((cb + cb.T) / 2)
    vb_vals = tau2 + np.array([x if x > 0 else 0 * x for x in c_vals], dtype=c_vals.dtype)
    whitener = vecs / xp.sqrt(vb_vals)[None, :]
    return _Coordinates(ms @ xm, mt @ xm, whitener, _eigvals_whitened(whitener, ca - cb, xp)), cov_trace


def _means(student, teacher, xp):
    if xp is FLOAT64:
        return student.mean, teacher.mean
    return xp.asarray(student.mean), xp.asarray(teacher.mean)


def _trace(entry):
    tag, c = entry
    return c.sum() if tag == "diag" else np.trace(c)


def _identity(m, xp):
    eye = xp.zeros((m, m))
    for i in range(m):
        eye[i, i] = mpmath.mpf(1)
    return eye


__all__ = ["kl_matrix_normal", "divergence", "KLValue", "KINDS", "DIRECTIONS"]
