"""The derivation itself: the kernels of docs/mathematics.md §2.1 built from their matrix
definitions and reduced, mode by mode, to the bias / variance / rank parts (§2.3–2.4).

:func:`_derive` returns the concrete-d parts, the recorded steps and the generic-mode pieces
(metric Γ_j, the expected squared column norms, the variance ratio) from which
:mod:`.general` builds the general-d forms.  The result type is in :mod:`.decomposition`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..errors import GaussDistillError as _Error
from ..vocabulary import DIRECTIONS, KINDS, STUDENTS
from ._functions import u_minus_log1p
from ._spectral import Columns, Derivation, Spectral
from ._symbols import ModelSymbols, model_symbols
from ._values import clean_choice


def _fail(arg, value, valid):
    raise _Error(f"{arg}={value!r} is not supported; valid options: "
                 + ", ".join(repr(v) for v in valid))


def _check_options(kind, direction, student, d, rank):
    clean_choice("kind", kind, KINDS)
    clean_choice("direction", direction, DIRECTIONS)
    clean_choice("student", student, STUDENTS)
    if not isinstance(d, (int, np.integer)) or isinstance(d, bool) or not 1 <= d <= 12:
        raise _Error(f"d={d!r}: the number of modes must be an int in 1..12 "
                     "(the derivation is done for a concrete, small d)")
    if rank is not None and (not isinstance(rank, (int, np.integer)) or isinstance(rank, bool)
                             or rank < 0):
        raise _Error(f"rank={rank!r}: must be None (full rank) or an int >= 0")


@dataclass(frozen=True)
class Block:
    """Display block ``factor * sum_{j=lo}^{hi} term_j`` of a part (LaTeX only)."""

    lo: object
    hi: object
    term: sp.Expr


def _blocks(generic, kappa, rank, S: ModelSymbols):
    """Split a generic-mode term into index ranges by substituting the indicator κ_j."""
    if rank is None or kappa not in generic.free_symbols:
        term = generic.subs(kappa, 1)
        return (Block(1, S.d_sym, term),) if term != 0 else ()
    out = []
    kept = sp.factor(generic.subs(kappa, 1))
    dropped = sp.factor(generic.subs(kappa, 0))
    if kept != 0 and rank > 0:
        out.append(Block(1, S.r, kept))
    if dropped != 0 and rank < S.d:
        out.append(Block(S.r + 1, S.d_sym, dropped))
    return tuple(out)


def _stable(expr):
    """One concrete mode's bias with the shared parts of mean and rank cancelled exactly
    and 1 − g_j, 1 − h_j written as λ/(s + λ) (``factor`` of the combined fraction), so
    that a small bias keeps its relative accuracy in float64."""
    out = sp.factor(sp.cancel(sp.together(expr)))
    # A factor such as c s² − s² − s λ_T − ... is summed with its largest terms cancelling:
    # collected in powers of s_j, (c − 1) s² − (λ_S + λ_T) s − λ_S λ_T keeps the small ones.
    ss = sorted((x for x in out.free_symbols if str(x).startswith("s_")), key=str)
    if not ss:
        return out
    return out.replace(lambda e: isinstance(e, sp.Add) and e.has(*ss) and e.is_polynomial(*ss),
                       lambda e: sp.collect(sp.expand(e), ss))


def _pretty(expr):
    """Cheap display simplification of one generic-mode term (never used for numbers)."""
    try:
        return sp.factor(sp.together(expr))
    except Exception:  # pragma: no cover - factor can fail on exotic input
        return expr


def _kernels(D: Derivation, expectation, student, rank):
    """Teacher and student kernels of docs/mathematics.md §2.1 reduced to per-mode scalars (recorded in D)."""
    S = D.S
    d = S.d
    nu, tau, lT, lS, tT, tS = S.nu, S.tau, S.lambda_T, S.lambda_S, S.t_T, S.t_S
    full = rank is None or rank >= d
    r_eff = d if full else rank
    # ---- data and teacher (docs/mathematics.md §2.1) ------------------------------------------------
    XXt = D.gram()
    D.record("Aligned design", r"X X^{\top} = V \operatorname{diag}(s) V^{\top}", XXt.generic,
             r"\text{eig}_j(X X^{\top})")
    A_T, Sigma_T = _ridge_kernel(D, XXt, "Teacher", "T", lT, tT * nu**2, r"\nu")
    # Y Xᵀ v_j = W⋆ X Xᵀ v_j + ν E Xᵀ v_j = w_j s_j u_j + ν sqrt(s_j) G_j, G_j = E q_j.
    noise = tuple(nu * sp.sqrt(s) for s in XXt.modes) if expectation else (sp.Integer(0),) * (d + 1)
    w_all = tuple(S.w) + (S.w_j,)
    W_star = Columns(w_all, (sp.Integer(0),) * (d + 1), (sp.Integer(0),) * (d + 1))
    YXt = Columns(tuple(w * s for w, s in zip(w_all, XXt.modes)), noise, noise)
    M_T = YXt.scale(A_T.inv())
    D.record("Teacher mean", r"M_T v_j = Y X^{\top} A_T^{-1} v_j"
             + (r" = a_j u_j + b_j G_j,\ G_j = E q_j \sim N(0, I_k)" if expectation
                else r" = a_j u_j \quad (Y = W^{\star} X)"),
             M_T.a[-1], "a_j")
    if expectation:
        D.record("Teacher mean, noise coefficient", "", M_T.b_in[-1], "b_j")
    V_T = D.identity("Q").scale(tau**2) + D.conj_out(Sigma_T)
    D.record("Teacher predictive column covariance",
             r"V_T = \tau^{2} I_n + X^{\top} \Sigma_T X", V_T.generic, r"\text{eig}_j(V_T)",
             note=f"eigenvalue tau^2 = {sp.sstr(V_T.rest)} on the (n-d)-dim complement")

    # ---- student (population mode) ------------------------------------------------
    A_S, Sigma_S = _ridge_kernel(D, XXt, "Student", "S", lS, tS * tau**2, r"\tau")
    V_S = D.identity("Q").scale(tau**2) + D.conj_out(Sigma_S)
    D.record("Student predictive column covariance",
             r"V_S = \tau^{2} I_n + X^{\top} \Sigma_S X", V_S.generic, r"\text{eig}_j(V_S)")
    W_hat = M_T.scale(XXt @ A_S.inv())
    D.record("Population ridge fit to E[soft labels] = M_T X",
             r"\hat{W} v_j = M_T X X^{\top} A_S^{-1} v_j", W_hat.a[-1], r"\hat{a}_j")
    if student == "sampled":
        # Mean of m soft-label draws: M_T X + Z̄ with Z̄ ~ MN(0, I_k, V_T/m); V_T is diagonal
        # in the Q basis, so Z̄ Xᵀ A_S⁻¹ v_j = sqrt(s_j) (Z̄ q_j)/(s_j+λ_S) with
        # Z̄ q_j ~ N(0, eig_j(V_T)/m I_k), independent over j and of the label noise.
        zc = tuple(sp.sqrt(s) * sp.sqrt(v / S.m) / a
                   for s, v, a in zip(XXt.modes, V_T.modes, A_S.modes))
        W_hat = W_hat.with_sampling_noise(zc)
        D.record("Sampled soft labels (average of m draws)",
                 r"\hat{W} v_j \mathrel{+}= \bar{Z} X^{\top} A_S^{-1} v_j,\ "
                 r"\bar{Z} \sim \mathcal{MN}(0, I_k, V_T/m)", zc[-1], r"z_j",
                 note="expectation over the soft-label draws is always taken")
    B = W_hat.scale(A_S.sqrt())
    # Columns of B are orthogonal (u_j orthonormal) at zero noise, so its singular values
    # are |a_j(B)|: the truncation keeps the r largest of them.
    student_criterion = tuple(a**2 for a in B.a)
    kappa = D.kappa(r_eff)
    if full:
        M_S = W_hat
        D.record("Truncation", r"M_S = [\hat{W} A_S^{1/2}]_r A_S^{-1/2} = \hat{W}",
                 None, note="r >= d >= rank(W_hat): the truncated SVD is the identity")
    else:
        M_S = W_hat.project(kappa)
        what = ("oracle subspace: P = projector on span(u_1..u_r) replaces the data-driven "
                "truncation" + (" (of a random fit: not the data-driven student even at nu = 0)"
                                if student == "sampled" else " (exact at nu = 0)")) \
            if expectation or student == "sampled" else \
            "noiseless labels: B = U diag(a_j(B)) V^T, so [B]_r keeps modes 1..r"
        D.record("Rank-r truncation (Eckart-Young-Mirsky)",
                 r"M_S = [\hat{W} A_S^{1/2}]_r A_S^{-1/2}", M_S.a[-1], r"a_j(M_S)",
                 note=what + "; assumes sigma_j^2(B) = " + sp.sstr(student_criterion[-1])
                 + " is non-increasing at j = r")

    if student == "shrinkage":
        # M_S = c [Ŵ A_S^{1/2}]_r A_S^{-1/2}: a uniform shrinkage factor c on top of the fit.
        M_S = M_S.scale(D.identity("V").scale(S.c))
        D.record("Uniform shrinkage", r"M_S \leftarrow c\, M_S", M_S.a[-1], r"a_j(M_S)")
    return dict(full=full, r_eff=r_eff, kappa=kappa, XXt=XXt, A_T=A_T, A_S=A_S,
                Sigma_T=Sigma_T, Sigma_S=Sigma_S, V_T=V_T, V_S=V_S, M_T=M_T, M_S=M_S,
                W_star=W_star, student_criterion=student_criterion)


def _kl_cov_terms(ratio: Spectral) -> Spectral:
    """Per-mode ρ − 1 − ln ρ of a covariance ratio ρ, as φ(u) = u − ln(1+u) with
    u = ρ − 1 formed structurally (``cancel`` removes the parts the two covariances share,
    e.g. the τ² of both predictive laws), so tiny divergences keep their relative accuracy,
    and ρ itself as the second argument, so very unequal variances keep theirs
    (see :mod:`._functions`)."""
    return ratio.apply(lambda x: u_minus_log1p(sp.cancel(x - 1), x))


def _kl_covariance_part(first: Spectral, second: Spectral, k):
    """(ρ, φ terms, per-mode parts, generic part, display form) of
    (k/2)[tr(B⁻¹A) − m − ln det(B⁻¹A)] with ρ = B⁻¹A per mode, A = ``first``, B = ``second``."""
    ratio = second.inv() @ first
    f = _kl_cov_terms(ratio)
    rho = sp.factor(ratio.generic)
    return (ratio, f, tuple(k / 2 * t for t in f.concrete), k / 2 * f.generic,
            k / 2 * (rho - 1 - sp.log(rho)))


def _ridge_kernel(D: Derivation, XXt, who: str, sub: str, lam, scale, noise_tex: str):
    """Record A = X Xᵀ + λ I and Σ = t·noise²·A⁻¹ of the teacher (sub "T") or student ("S")."""
    A = XXt + D.identity("V").scale(lam)
    D.record(f"{who} ridge matrix", rf"A_{sub} = X X^{{\top}} + \lambda_{sub} I_d", A.generic,
             rf"\text{{eig}}_j(A_{sub})")
    Sigma = A.inv().scale(scale)
    D.record(f"{who} column covariance", rf"\Sigma_{sub} = t_{sub} {noise_tex}^{{2}} A_{sub}^{{-1}}",
             Sigma.generic, rf"\text{{eig}}_j(\Sigma_{sub})")
    return A, Sigma


def _derive(kind, direction, expectation, student, d, rank):
    S = model_symbols(d)
    D = Derivation(S)
    k, tau = S.k, S.tau
    K = _kernels(D, expectation, student, rank)
    full, r_eff, kappa = K["full"], K["r_eff"], K["kappa"]
    XXt, Sigma_T, Sigma_S, V_T, V_S = K["XXt"], K["Sigma_T"], K["Sigma_S"], K["V_T"], K["V_S"]
    M_T, M_S, student_criterion = K["M_T"], K["M_S"], K["student_criterion"]

    # ---- divergence-specific metric and covariance part ---------------------------
    reverse = direction == "teacher||student"
    if kind == "predictive":
        V_first, V_second = (V_T, V_S) if reverse else (V_S, V_T)
        metric = D.conj_in(V_second.inv())
        ratio, f, var_terms, var_generic, var_display = _kl_covariance_part(V_first, V_second, k)
        rest = sp.simplify(k / 2 * (S.n - d) * f.rest)
        name2 = "V_S" if reverse else "V_T"
        name1 = "V_T" if reverse else "V_S"
        D.record("Covariance part",
                 rf"\tfrac{{k}}{{2}}\bigl[\operatorname{{tr}}({name2}^{{-1}}{name1}) - n"
                 rf" - \ln\det({name2}^{{-1}}{name1})\bigr]",
                 var_generic, r"\text{variance}_j",
                 note=f"complement contributes (k/2)(n-d)(rho-1-ln rho) with rho = "
                      f"{sp.sstr(ratio.rest)}: {sp.sstr(rest)}")
        if rest != 0:  # never happens: both laws have tau^2 there. Keep it honest anyway.
            var_terms = var_terms + (rest,)
        D.record("Metric of the mean part",
                 rf"\tfrac12 \operatorname{{tr}}(\Delta {name2}^{{-1}} \Delta^{{\top}})"
                 rf" = \tfrac12 \sum_j \Gamma_j \lVert (M_S - M_T) v_j \rVert^2,\ "
                 rf"\Gamma = X {name2}^{{-1}} X^{{\top}}", metric.generic, r"\Gamma_j")
    elif kind == "convexity":
        both = D.conj_out(Sigma_S + Sigma_T)
        cov = both.scale(k / (2 * tau**2))
        var_terms = cov.concrete
        var_generic = cov.generic
        var_display = _pretty(var_generic)
        ratio = None
        D.record("Covariance part (independent coupling)",
                 r"\frac{k \operatorname{tr}(X^{\top}(\Sigma_S + \Sigma_T) X)}{2\tau^{2}}",
                 var_generic, r"\text{variance}_j",
                 note="symmetric in (S, T): both directions coincide")
        metric = XXt.scale(1 / tau**2)
        D.record("Metric of the mean part",
                 r"\frac{\lVert \Delta \rVert_F^2}{2\tau^2}"
                 r" = \tfrac12 \sum_j \Gamma_j \lVert (M_S - M_T) v_j \rVert^2",
                 metric.generic, r"\Gamma_j")
    else:  # weight
        S_first, S_second = (Sigma_T, Sigma_S) if reverse else (Sigma_S, Sigma_T)
        ratio, _, var_terms, var_generic, var_display = _kl_covariance_part(S_first, S_second, k)
        n2 = r"\Sigma_S" if reverse else r"\Sigma_T"
        n1 = r"\Sigma_T" if reverse else r"\Sigma_S"
        D.record("Covariance part",
                 rf"\tfrac{{k}}{{2}}\bigl[\operatorname{{tr}}({n2}^{{-1}}{n1}) - d"
                 rf" - \ln\det({n2}^{{-1}}{n1})\bigr]", var_generic, r"\text{variance}_j")
        metric = S_second.inv()
        D.record("Metric of the mean part",
                 rf"\tfrac12 \operatorname{{tr}}({n2}^{{-1}} (M_S-M_T)^{{\top}}(M_S-M_T))",
                 metric.generic, r"\Gamma_j")

    # ---- mean part, rank bottleneck, bias -------------------------------------------
    diff_cols = M_S - M_T
    # r enters only through the noise dimensions; the generic (display) mode keeps symbol r.
    r_modes = (sp.Integer(r_eff),) * d + (S.r,)
    norms = diff_cols.expected_sq_norms(k, r_modes)
    mean_modes = tuple(sp.Rational(1, 2) * g * q for g, q in zip(metric.modes, norms))
    D.record("Mean part per mode", r"\tfrac12 \Gamma_j \mathbb{E}\lVert (M_S - M_T) v_j \rVert^2"
             if expectation else r"\tfrac12 \Gamma_j \lVert (M_S - M_T) v_j \rVert^2",
             mean_modes[-1], r"\text{mean}_j")
    # Teacher mean in the metric: M_T V diag(sqrt Γ); at zero noise its singular values are
    # |a_j| sqrt(Γ_j), so the EYM residual keeps the modes beyond r.
    metric_criterion = tuple(g * a**2 for g, a in zip(metric.modes, M_T.a))
    if full:
        rank_modes = (sp.Integer(0),) * (d + 1)
        D.record("Rank bottleneck", r"\tfrac12 \sum_{i>r} \sigma_i^2 = 0", None,
                 note="r >= d >= rank(M_T)")
    else:
        resid = M_T.project(kappa, complement=True)
        rnorms = resid.expected_sq_norms(k, r_modes)
        rank_modes = tuple(sp.Rational(1, 2) * g * q for g, q in zip(metric.modes, rnorms))
        D.record("Rank bottleneck",
                 r"\tfrac12 \sum_{i>r} \sigma_i^2(M_T \Gamma^{1/2})"
                 + (r" \le \tfrac12 \sum_j \Gamma_j \mathbb{E}\lVert (I-P) M_T v_j\rVert^2"
                    if expectation else ""),
                 rank_modes[-1], r"\text{rank}_j",
                 note="assumes Gamma_j a_j^2 = " + sp.sstr(metric_criterion[-1])
                 + " is non-increasing at j = r")
    # bias_j = mean_j − rank_j, cancelled symbolically per mode (factored): evaluated as the
    # difference, float64 lost every digit of a small bias (λ_S = 1e-9: 1 − g_j formed as
    # g_j − 1, and the (k − r)ν² parts of mean and rank subtracted numerically).
    bias_modes = tuple(_stable(m - rr) for m, rr in zip(mean_modes[:-1], rank_modes[:-1])) \
        + (mean_modes[-1] - rank_modes[-1],)

    variance = sp.Add(*var_terms)
    rank_expr = sp.Add(*rank_modes[:-1])
    bias = sp.Add(*bias_modes[:-1])
    total = variance + bias + rank_expr
    generic = {
        "variance": var_display,
        "bias": _pretty(bias_modes[-1]),
        "rank": _pretty(rank_modes[-1]),
    }
    blocks = {name: _blocks(expr, S.kappa_j, None if full else rank, S)
              for name, expr in generic.items()}
    return dict(S=S, steps=tuple(D.steps), total=total, bias=bias, variance=variance,
                rank=rank_expr, blocks=blocks, full=full, r_eff=r_eff,
                student_criterion=student_criterion[:-1],
                metric_criterion=metric_criterion[:-1],
                teacher_mean=M_T, student_mean=M_S,
                generic=dict(metric=metric.generic, norm=norms[-1],
                             rank_norm=sp.Integer(0) if full else rnorms[-1],
                             variance=var_generic, ratio=None if ratio is None else ratio.generic))
