r"""Distillation divergences between the student's and the teacher's kernels (docs/mathematics.md §2.2).

:func:`divergence` computes the three divergences of the case study with their
bias/variance/rank decomposition (§2.3), in either direction, in float64 or mpmath.

Numerics (§5). The covariance part :math:`\tfrac12[\operatorname{tr}(B^{-1}A) - m - \ln\det(B^{-1}A)]`
is :math:`\tfrac12\sum_i \varphi(u_i)`, :math:`\varphi(u) = u - \ln(1+u)`, with :math:`u_i`
the eigenvalues of the whitened difference :math:`B^{-1/2}(A - B)B^{-1/2}` (formed
structurally where the kernels share an eigenbasis) and the ratios :math:`1 + u_i` carried
for very unequal variances. The predictive divergence is computed in the d-dimensional row
space of X (§5.3): cost O(n d² + d³ + k d²), never an n×n matrix.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from .._numerics.backends import backend_for
from .._numerics.covariance import DenseCovariance, DiagonalCovariance
from .._numerics.psd import (
    ABOVE_ROUNDING,
    compare_supports,
    dropped_names,
    numerical_rank,
    warn_conditioning,
    warn_cutoff,
    warn_shifted_conditioning,
    whiten_pair,
    whitened_eigs,
)
from .._validate import as_choice, as_matrix, as_precision, as_rank, as_rtol, as_scalar, same_array
from ..errors import ConditioningWarning, GaussDistillError
from ..gaussian.matrix_normal import MatrixNormal
from ..vocabulary import DIRECTIONS, KINDS
from .decomposition import DivergenceResult, mean_decomposition
from .design import row_space_map
from .kernels import check_soft_noise


def divergence(student, teacher, X, soft_noise=None, kind="predictive", direction="student||teacher",
               rank=None, precision=None, method="auto", rtol=None) -> DivergenceResult:
    r"""A distillation divergence between student and teacher kernels, with its decomposition.

    With Δ = (M_S − M_T) X, V_• = τ² I_n + Xᵀ Σ_• X (docs/mathematics.md §2.2):

    * ``"predictive"`` :math:`K^Y = \mathrm{KL}(P_S\|P_T) = \tfrac k2[\operatorname{tr}(V_T^{-1}V_S) - n
      - \ln\det(V_T^{-1}V_S)] + \tfrac12\operatorname{tr}(\Delta V_T^{-1}\Delta^T)`;
    * ``"convexity"`` :math:`\bar K = [\|\Delta\|_F^2 + k\operatorname{tr}(X^T(\Sigma_S+\Sigma_T)X)]/(2\tau^2)`
      (the paper's convexity step; the same in both directions; ≥ K^Y);
    * ``"weight"`` :math:`K^W = \mathrm{KL}(q_S\|q_T) = \tfrac k2[\operatorname{tr}(\Sigma_T^{-1}\Sigma_S) - d
      - \ln\det(\Sigma_T^{-1}\Sigma_S)] + \tfrac12\operatorname{tr}(\Sigma_T^{-1}(M_S-M_T)^T(M_S-M_T))`
      (needs equal supports, else +inf with the reason; the K_n of Theorems 1–3).

    ``direction="teacher||student"`` swaps the arguments of the KL (the metric is then the
    student's). Decomposition (§2.3): ``variance`` is the covariance part; ``rank`` is
    ½ Σ_{i>r} σ_i²(teacher mean in the metric) (Eckart–Young–Mirsky: the least mean cost of
    any rank-r student); ``bias`` = mean part − rank ≥ 0.

    Parameters
    ----------
    student, teacher : MatrixNormal kernels of shape (k, d) with row covariance I_k
        (from :func:`rank_student` / :func:`ridge_teacher`, or hand-built).
    X : (d, n) inputs (columns are samples).
    soft_noise : τ > 0, needed by "predictive" and "convexity"; validated but unused by
        "weight". Defaults to the student's ``soft_noise`` attribute if it has one.
    kind : "predictive", "convexity" or "weight".
    direction : "student||teacher" or "teacher||student".
    rank : r for the rank bottleneck, in [0, min(k, d)]. None uses the rank a
        :func:`rank_student` kernel was built with, else the numerical rank of the
        student's mean. A rank below the student's is refused (the bias would be < 0);
        singular values at rounding level in the metric do not count.
    precision : int in [16, 1000] for an mpmath evaluation (attributes are then mpmath.mpf,
        computed with 10 guard digits and rounded to ``precision``: a part that is a small
        difference of large ones keeps its digits); supports are decided at that precision.
    method : "auto", "reduced" (row space of X, O(n d²)) or "dense" (n×n, a check).
        "auto" uses the reduced route unless n < d.
    rtol : rank tolerance of hand-built covariances (see :func:`kl_matrix_normal`).
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
    X = as_matrix("X", X, (d, None), convention=True)
    if soft_noise is None:
        soft_noise = getattr(student, "soft_noise", None)
        if soft_noise is None and kind != "weight":
            raise GaussDistillError(f"soft_noise (τ > 0) is required for kind={kind!r}")
    if soft_noise is not None:
        soft_noise = check_soft_noise(as_scalar("soft_noise", soft_noise, positive=True))
    if rank is not None:
        rank = as_rank("rank", rank, min(k, d))
    rtol = as_rtol(rtol)
    xp = backend_for(None if precision is None else as_precision(precision))
    with xp.context(), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        result, dropped = _divergence(student, teacher, X, soft_noise, kind, direction, rank, method, xp, rtol)
        if dropped:   # did the cutoff change the answer? (same laws, nothing above rounding cut)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConditioningWarning)
                try:
                    alt = _divergence(student, teacher, X, soft_noise, kind, direction, rank, method, xp,
                                      ABOVE_ROUNDING)[0]
                    alternative = (alt.total, alt.reason)
                except GaussDistillError:     # kept eigenvalues overflow float64: also a change
                    alternative = (math.inf, None)
            warn_cutoff(dropped, rtol, xp, (result.total, result.reason), alternative, stacklevel=3)
        return result


@dataclass(frozen=True)
class _Coordinates:
    """Both kernels where a divergence is computed: means, b's whitener, covariance eigen-data.

    ``diff_eigs`` are the eigenvalues u of the whitened covariance difference (a − b),
    ``diff_ratios`` the ratios 1 + u computed directly.
    """

    mean_s: object
    mean_t: object
    whitener_b: object
    diff_eigs: object = None
    diff_ratios: object = None
    cov_reason: str | None = None
    mean_reason: str | None = None
    dropped: tuple = ()      # (factor name, count) of eigenvalues the rank cutoff removed


def _divergence(student, teacher, X, tau, kind, direction, rank, method, xp, rtol):
    forward = direction == "student||teacher"
    k = teacher.shape[0]
    tau = None if tau is None else xp.scalar(tau)
    if kind == "weight":
        coords = _weight_coordinates(student, teacher, forward, xp, rtol)
        variance = (_covariance_part(coords, k, xp) if coords.cov_reason is None else math.inf)
    else:
        dense = method == "dense" or (method == "auto" and X.shape[1] < X.shape[0])
        coords, cov_trace = (_predictive_dense if dense else _predictive_reduced)(student, teacher, X, tau, forward, xp,
                                                                                   kind)
        with np.errstate(over="ignore"):
            variance = k * cov_trace / (2 * tau * tau) if kind == "convexity" else _covariance_part(coords, k, xp)
    reason = "; ".join(r for r in (coords.cov_reason, coords.mean_reason) if r) or None
    if coords.mean_reason is None:
        with np.errstate(over="ignore", invalid="ignore"):
            mean_part, rank_part, bias, rank_used = mean_decomposition(
                coords.mean_s @ coords.whitener_b, coords.mean_t @ coords.whitener_b, rank, xp,
                known_rank=_known_rank(student, forward), raw_rank=_raw_rank(student, xp))
    else:
        # No metric (the mean leaves the support): r is the student's own rank (or the one given).
        known = _known_rank(student, forward)
        rank_used = rank if rank is not None else (known if known is not None else _raw_rank(student, xp))
        mean_part, rank_part, bias = math.inf, 0.0, math.inf
    with np.errstate(over="ignore", invalid="ignore"):
        total = variance + mean_part
    parts = (total, bias, variance, rank_part)
    if not all(math.isfinite(float(v)) for v in parts):
        if reason is None and xp.limited:
            raise GaussDistillError(_overflow_message(kind, student, teacher, tau, variance, xp))
        # An infinite divergence whose mean parts overflow: never NaN.
        bias, rank_part = (math.inf if math.isnan(float(v)) else v for v in (bias, rank_part))
    return DivergenceResult(
        total=xp.finish(total), bias=xp.finish(bias), variance=xp.finish(variance), rank=xp.finish(rank_part),
        kind=kind, direction=direction, rank_used=int(rank_used), reason=reason, precision=xp.digits), coords.dropped


def _known_rank(student, forward):
    """The rank a rank_student kernel was built with (the mean decomposed is the student's)."""
    r = getattr(student, "rank", None)
    return r if isinstance(r, int) else None


def _raw_rank(student, xp):
    """Numerical rank of the student's mean itself (no metric, hence no metric rounding)."""
    mean = xp.asarray(student.mean)
    return numerical_rank(xp.svdvals(mean), mean.shape)


def _overflow_message(kind, student, teacher, tau, variance, xp):
    top = max(np.max(np.abs(student.mean), initial=0), np.max(np.abs(teacher.mean), initial=0))
    if tau is not None and kind != "weight" and float(tau) < 1e-100:
        cause = (f"soft_noise = {float(tau):.3g} is so small that the metric 1/soft_noise² overflows; "
                 f"pass a larger soft_noise")
    elif not math.isfinite(float(variance)):
        cause = ("the covariances are too large or too disparate (trace or variance ratio beyond float64); "
                 "rescale X, or the noise and temperatures")
    else:
        cause = f"the means are too large in the metric (max |M_S|, |M_T| = {top:.3g}); rescale X and Y"
    return f"the {kind} divergence overflows float64: {cause}, or pass precision=50 for an mpmath evaluation"


def _covariance_part(coords, k, xp):
    r"""½·k·Σ φ(u_i), with the ratios 1 + u_i where the coordinates have them."""
    u = coords.diff_eigs
    if len(u) == 0:
        return 0 * xp.scalar(0)
    ratio = None if coords.diff_ratios is None else np.where(coords.diff_ratios > 0, coords.diff_ratios, 1 + u)
    return k * (xp.u_minus_log1p(u, ratio) * 0.5).sum()    # halved first (exact): no false overflow


def _laws(student, teacher, forward):
    return (student, teacher) if forward else (teacher, student)


def _names(forward):
    return ("student", "teacher") if forward else ("teacher", "student")


def _weight_coordinates(student, teacher, forward, xp, rtol):
    a, b = _laws(student, teacher, forward)
    names = ("student", "teacher") if forward else ("teacher", "student")
    fa = xp.factor(lambda: a.col_factor, lambda: a.cov_in("col", xp), "covariance", rtol)
    fb = xp.factor(lambda: b.col_factor, lambda: b.cov_in("col", xp), "covariance", rtol)
    dropped = dropped_names(((fa, f"the {names[0]} weight covariance"), (fb, f"the {names[1]} weight covariance")))
    ms, mt = xp.asarray(student.mean), xp.asarray(teacher.mean)
    cov_reason, mean_reason = compare_supports(fa, fb, (ms - mt).T, names, "weight")
    whitener = fb.whitener()
    if cov_reason is not None:
        return _Coordinates(ms, mt, whitener, cov_reason=cov_reason, mean_reason=mean_reason, dropped=dropped)
    if fa.exact and fb.exact and same_array(fa.vectors, fb.vectors):
        # Exact eigenvalues in one eigenbasis (ridge teacher and student on one design; compared
        # by value, since kernels pickled one by one no longer share the object): the whitened
        # difference is diagonal, (w_a − w_b)/w_b, with no matrix subtraction: accurate at any
        # condition number, so no warning.
        wa, wb = fa.support_values, fb.support_values
        return _Coordinates(ms, mt, whitener, (wa - wb) / wb, wa / wb, None, mean_reason, dropped)
    warn_conditioning(fb, f"the {names[1]} weight covariance", xp, stacklevel=5)
    whitener, eigs, ratios = whiten_pair(fb, a.cov_in("col", xp), b.cov_in("col", xp), xp)
    return _Coordinates(ms, mt, whitener, eigs, ratios, None, mean_reason, dropped)


def _reduced_covariance(law, G, vecs, s, xp):
    """The law's Gᵀ Σ G: diagonal s·w when the law was factored on this design's eigenbasis."""
    if vecs is not None and law.col_factor.exact and same_array(law.col_factor.vectors, vecs):
        return DiagonalCovariance(s * law.col_factor.values)
    return DenseCovariance(G.T @ law.cov_in("col", xp) @ G)


def _predictive_reduced(student, teacher, X, tau, forward, xp, kind):
    r"""Both predictive laws in the row space of X (docs/mathematics.md §5.3).

    With X = G Qᵀ (Q orthonormal columns; G = U diag(√s) from X Xᵀ = U diag(s) Uᵀ, or Rᵀ
    from a thin QR for an ill-conditioned X, see ``row_space_map``): M X ↦ M G (k×d) and
    Xᵀ Σ X ↦ C = Gᵀ Σ G (d×d); V = τ² I + C there and τ² I on the complement, where the
    two laws agree. Returns the coordinates and tr(C_S) + tr(C_T) (for K̄).
    """
    if xp.dps is None:
        G, vecs, s = row_space_map(X, teacher, student)
    else:
        xm = xp.asarray(X)
        s, vecs = xp.eigh(xm @ xm.T)
        s = xp.clip_negative(s)
        G, vecs = vecs * xp.sqrt(s)[None, :], None
    a, b = _laws(student, teacher, forward)
    ca, cb = (_reduced_covariance(law, G, vecs, s, xp) for law in (a, b))
    tau2 = tau * tau
    ms, mt = xp.asarray(student.mean) @ G, xp.asarray(teacher.mean) @ G
    cov_trace = ca.trace() + cb.trace()
    if kind == "convexity":
        return _Coordinates(ms, mt, xp.eye(G.shape[1]) / tau), cov_trace
    if isinstance(cb, DiagonalCovariance):          # exact (the design's eigenbasis)
        whitener = cb.shifted_whitener(tau2, xp)
    else:
        whitener, cond = cb.shifted_whitener_and_cond(tau2, xp)
        warn_shifted_conditioning(cond, f"the {_names(forward)[1]} predictive covariance", xp, stacklevel=5)
    if isinstance(ca, DiagonalCovariance) and isinstance(cb, DiagonalCovariance):
        # (V_a − V_b)/V_b with V_a − V_b = s (w_a − w_b): the structural difference.
        vb = tau2 + cb.values
        eigs = s * (a.col_factor.values - b.col_factor.values) / vb
        return _Coordinates(ms, mt, whitener, eigs, (tau2 + ca.values) / vb), cov_trace
    m = G.shape[1]
    va = ca.dense(xp) + tau2 * xp.eye(m)
    eigs, ratios = whitened_eigs(whitener, ca.dense(xp) - cb.dense(xp), va, xp)
    return _Coordinates(ms, mt, whitener, eigs, ratios), cov_trace


def _predictive_dense(student, teacher, X, tau, forward, xp, kind):
    r"""The n×n route: V = τ² I_n + Xᵀ Σ X formed explicitly (small n; an independent check)."""
    xm = xp.asarray(X)
    n = xm.shape[1]
    a, b = _laws(student, teacher, forward)
    ca = xm.T @ a.cov_in("col", xp) @ xm
    cb = xm.T @ b.cov_in("col", xp) @ xm
    ms, mt = xp.asarray(student.mean) @ xm, xp.asarray(teacher.mean) @ xm
    cov_trace = np.trace(ca) + np.trace(cb)
    if kind == "convexity":
        return _Coordinates(ms, mt, xp.eye(n) / tau), cov_trace
    tau2 = tau * tau
    whitener, cond = DenseCovariance(cb).shifted_whitener_and_cond(tau2, xp)
    warn_shifted_conditioning(cond, f"the {_names(forward)[1]} predictive covariance", xp, stacklevel=5)
    eigs, ratios = whitened_eigs(whitener, ca - cb, ca + tau2 * xp.eye(n), xp)
    return _Coordinates(ms, mt, whitener, eigs, ratios), cov_trace


__all__ = ["divergence"]
