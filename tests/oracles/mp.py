"""mpmath references at 50 significant digits (``DPS``).

Inputs are float64 arrays converted *exactly* to mpmath numbers, so each function returns
the KL of the same float64 inputs the package sees, with the textbook formula's
cancellation (about log10(1/KL) digits) absorbed by the 50 working digits. Call the
matrix-level helpers inside ``mpmath.workdps(DPS)``; ``mp_mn_kl`` sets it itself.
"""

from __future__ import annotations

import mpmath
import numpy as np

DPS = 50


def mp_matrix(a):
    """Exact conversion of a float64 array to an mpmath matrix (at the current precision)."""
    a = np.atleast_2d(np.asarray(a, dtype=float))
    return mpmath.matrix([[mpmath.mpf(float(x)) for x in row] for row in a])


def mp_kron(a, b):
    """Kronecker product of two mpmath matrices."""
    out = mpmath.matrix(a.rows * b.rows, a.cols * b.cols)
    for i in range(a.rows):
        for j in range(a.cols):
            if a[i, j] == 0:
                continue
            for p in range(b.rows):
                for q in range(b.cols):
                    out[i * b.rows + p, j * b.cols + q] = a[i, j] * b[p, q]
    return out


def mp_vec(m):
    """Column stacking of an mpmath matrix (a column vector)."""
    return mpmath.matrix([m[i, j] for j in range(m.cols) for i in range(m.rows)])


def mp_trace(a):
    return mpmath.fsum(a[i, i] for i in range(a.rows))


def mp_gauss_kl(mu1, S1, mu2, S2):
    """½[tr(S2⁻¹S1) − N + δᵀS2⁻¹δ + ln det S2 − ln det S1] at the current mpmath precision.

    Arguments are mpmath matrices (means as column vectors), S1 and S2 nonsingular.
    """
    N = S1.rows
    S2_inv = mpmath.inverse(S2)
    diff = mu2 - mu1
    quad = (diff.T * S2_inv * diff)[0, 0]
    return (mp_trace(S2_inv * S1) - N + quad + mpmath.log(mpmath.det(S2)) - mpmath.log(mpmath.det(S1))) / 2


def mp_mn_kl(m1, u1, v1, m2, u2, v2, dps=DPS):
    """KL(MN(m1, u1, v1) ‖ MN(m2, u2, v2)) via vec W ~ N(vec M, V ⊗ U), dense, ``dps`` digits.

    Inputs are float64 arrays, converted exactly. Returns an mpf.
    """
    with mpmath.workdps(dps):
        M1, M2 = mp_matrix(m1), mp_matrix(m2)
        return mp_gauss_kl(
            mp_vec(M1), mp_kron(mp_matrix(v1), mp_matrix(u1)), mp_vec(M2), mp_kron(mp_matrix(v2), mp_matrix(u2))
        )


def mp_pipeline(X, Y, lam_t, noise, t_t, lam_s, tau, t_s):
    """(M_T, Σ_T, M_S, Σ_S) as mpmath matrices for a *full-rank* ridge student (docs/mathematics.md §2.1).

    M_T = Y Xᵀ A_T⁻¹, Σ_T = t_T ν² A_T⁻¹, M_S = M_T X Xᵀ A_S⁻¹, Σ_S = t_S τ² A_S⁻¹ with
    A = X Xᵀ + λ I, from X, Y converted exactly. Call inside ``mpmath.workdps(dps)``.
    """
    Xm, Ym = mp_matrix(X), mp_matrix(Y)
    d = Xm.rows
    G = Xm * Xm.T
    A_t = G + mpmath.mpf(lam_t) * mpmath.eye(d)
    A_s = G + mpmath.mpf(lam_s) * mpmath.eye(d)
    At_inv, As_inv = mpmath.inverse(A_t), mpmath.inverse(A_s)
    M_t = Ym * Xm.T * At_inv
    M_s = M_t * G * As_inv
    S_t = mpmath.mpf(t_t) * mpmath.mpf(noise) ** 2 * At_inv
    S_s = mpmath.mpf(t_s) * mpmath.mpf(tau) ** 2 * As_inv
    return M_t, S_t, M_s, S_s


def mp_rank_pipeline(X, Y, lam_t, noise, r, lam_s, tau):
    """(M_T, Σ_T, M_S, Σ_S) as mpmath matrices for a *rank-r* ridge student (t_T = t_S = 1).

    M_T = Y Xᵀ A_T⁻¹, Σ_T = ν² A_T⁻¹; M_S = [M_T X Xᵀ A_S^{-1/2}]_r A_S^{-1/2} (best rank-r
    part, from mpmath's SVD), Σ_S = τ² A_S⁻¹ (docs/mathematics.md §2.1). Call inside
    ``mpmath.workdps(dps)``.
    """
    Xm, Ym = mp_matrix(X), mp_matrix(Y)
    d = Xm.rows
    G = Xm * Xm.T
    A_t = G + mpmath.mpf(lam_t) * mpmath.eye(d)
    A_s = G + mpmath.mpf(lam_s) * mpmath.eye(d)
    M_t = Ym * Xm.T * mpmath.inverse(A_t)
    S_t = mpmath.mpf(noise) ** 2 * mpmath.inverse(A_t)
    E, Q = mpmath.eigsy(A_s)
    A_s_inv_half = Q * mpmath.diag([e ** -0.5 for e in E]) * Q.T
    U, S, V = mpmath.svd_r(M_t * G * A_s_inv_half)
    B_r = mpmath.matrix(M_t.rows, d)
    for i in range(r):
        B_r += S[i] * U[:, i] * V[i, :]
    return M_t, S_t, B_r * A_s_inv_half, mpmath.mpf(tau) ** 2 * mpmath.inverse(A_s)


def mp_predictive_kl(Ms, Ss, Mt, St, X, tau, direction="student||teacher"):
    """K^Y between MN(M X, I_k, τ² I + Xᵀ Σ X) laws, dense vectorised, mpmath (current dps)."""
    Xm = mp_matrix(X)
    n, k = Xm.cols, Ms.rows
    tau2 = mpmath.mpf(tau) ** 2
    Vs = tau2 * mpmath.eye(n) + Xm.T * Ss * Xm
    Vt = tau2 * mpmath.eye(n) + Xm.T * St * Xm
    a = (mp_vec(Ms * Xm), mp_kron(Vs, mpmath.eye(k)))
    b = (mp_vec(Mt * Xm), mp_kron(Vt, mpmath.eye(k)))
    if direction == "teacher||student":
        a, b = b, a
    return mp_gauss_kl(*a, *b)


def rel_err(value, reference) -> float:
    """|value − reference| / |reference| as a float (absolute error when reference is 0).

    Computed at DPS + 10 digits whatever mpmath's global precision: ``value`` may be an mpmath
    result carrying more digits than float64 (``precision=``), so it is never rounded first.
    """
    with mpmath.workdps(DPS + 10):
        reference = mpmath.mpf(reference)
        value = mpmath.mpf(value) if isinstance(value, mpmath.mpf) else mpmath.mpf(float(value))
        if reference == 0:
            return float(abs(value))
        return float(abs((value - reference) / reference))
