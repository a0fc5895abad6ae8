"""A registry of named teacher/student configurations, plus independent reference code.

Each :class:`Case` is a seeded, fully specified linear-Gaussian problem (design X, labels Y,
ridge teacher, rank-r student, soft-label noise τ) together with what is known about it
*by hand*: which divergences are finite (``finite[kind, direction]``) and, when a value is
known exactly, that value. Generic invariant tests iterate over ``CASES``.

``ref_teacher`` / ``ref_student`` below never call gaussdistill: they redo
docs/mathematics.md §2.1 with dense numpy linear algebra. The other independent references
(dense Kronecker KL, 50-digit mpmath) live in ``tests/oracles``.

Finiteness, derived by hand (docs/mathematics.md §2.2, §5.2):
* predictive and convexity: always finite, since τ > 0 makes V_S, V_T ≻ 0;
* weight: Σ_T = t_T ν² A_T⁻¹ is ≻ 0 iff t_T > 0 and 0 iff t_T = 0 (likewise Σ_S with t_S);
  KL is finite iff both are ≻ 0, or both are 0 and M_S = M_T exactly (point masses).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import gaussdistill as gd

KINDS = ("predictive", "convexity", "weight")
DIRECTIONS = ("student||teacher", "teacher||student")


# ----------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class Case:
    name: str
    X: np.ndarray
    Y: np.ndarray
    lam_t: float
    noise: float
    t_t: float
    rank: int
    lam_s: float
    soft_noise: float
    t_s: float
    finite: dict = field(repr=False)       # (kind, direction) -> bool, derived by hand
    exact: dict = field(default_factory=dict, repr=False)  # (kind, direction) -> value
    note: str = ""

    @property
    def teacher(self):
        return gd.ridge_teacher(self.X, self.Y, self.lam_t, self.noise, self.t_t)

    def pair(self):
        teacher = self.teacher
        student = gd.rank_student(teacher, self.X, self.rank, lam=self.lam_s,
                                  soft_noise=self.soft_noise, temperature=self.t_s)
        return student, teacher

    @property
    def k(self):
        return self.Y.shape[0]

    @property
    def d(self):
        return self.X.shape[0]

    @property
    def n(self):
        return self.X.shape[1]


def _finite(weight: bool, weight_reverse: bool | None = None) -> dict:
    out = {}
    for direction in DIRECTIONS:
        out["predictive", direction] = True
        out["convexity", direction] = True
    out["weight", DIRECTIONS[0]] = weight
    out["weight", DIRECTIONS[1]] = weight if weight_reverse is None else weight_reverse
    return out


def design_with_spectrum(rng, s, n):
    """X (d×n) whose Gram matrix X Xᵀ has eigenvalues exactly ``s`` (up to rounding)."""
    d = len(s)
    left = np.linalg.qr(rng.standard_normal((d, d)))[0]
    right = np.linalg.qr(rng.standard_normal((n, d)))[0]     # n×d, orthonormal columns
    return (left * np.sqrt(np.asarray(s, float))) @ right.T


def _labels(rng, X, k, noise):
    W = rng.standard_normal((k, X.shape[0]))
    return W @ X + noise * rng.standard_normal((k, X.shape[1]))


def _make_cases() -> dict:
    cases = {}

    def add(case):
        cases[case.name] = case

    rng = np.random.default_rng(101)
    X = rng.standard_normal((4, 12))
    add(Case("well_conditioned", X, _labels(rng, X, 3, 0.5), 1.0, 0.5, 1.0, 2, 0.5, 0.5, 1.0,
             _finite(True), note="k=3, d=4, n=12, r=2, everything stochastic"))

    # cond(A_T) = cond(X Xᵀ) = 1e8/1.001 (λ_T = 0, full-rank design): just under the warning.
    rng = np.random.default_rng(102)
    X = design_with_spectrum(rng, np.logspace(-4, 4, 4) * [1.001, 1, 1, 1], 10)
    add(Case("kappa_1e8", X, _labels(rng, X, 3, 0.3), 0.0, 0.3, 1.0, 2, 0.0, 0.3, 1.0,
             _finite(True), note="cond(X Xᵀ) = cond(Σ_T) = cond(Σ_S) = 1e8, λ = 0"))

    rng = np.random.default_rng(103)
    X = rng.standard_normal((4, 10))
    add(Case("singular_student", X, _labels(rng, X, 3, 0.5), 1.0, 0.5, 1.0, 2, 0.5, 0.5, 0.0,
             _finite(False), note="deterministic student (Σ_S = 0), stochastic teacher"))

    rng = np.random.default_rng(104)
    X = rng.standard_normal((3, 9))
    add(Case("rank_zero", X, _labels(rng, X, 2, 0.4), 0.7, 0.4, 1.0, 0, 0.3, 0.4, 1.0,
             _finite(True), note="r = 0: M_S = 0, the whole mean part is rank bottleneck"))

    rng = np.random.default_rng(105)
    X = rng.standard_normal((5, 11))
    add(Case("k_one", X, _labels(rng, X, 1, 0.6), 0.5, 0.6, 1.0, 1, 0.5, 0.8, 0.5,
             _finite(True), note="k = 1 (scalar outputs), τ ≠ ν"))

    rng = np.random.default_rng(106)
    X = rng.standard_normal((6, 3))
    add(Case("n_lt_d", X, _labels(rng, X, 3, 0.5), 0.9, 0.5, 1.0, 2, 0.4, 0.5, 1.0,
             _finite(True), note="n = 3 < d = 6 (auto method takes the dense route)"))

    rng = np.random.default_rng(107)
    X = rng.standard_normal((4, 10))
    add(Case("deterministic_teacher", X, _labels(rng, X, 3, 0.5), 1.0, 0.5, 0.0, 2, 0.5, 0.5, 1.0,
             _finite(False), note="t_T = 0: point-mass teacher, stochastic student"))

    rng = np.random.default_rng(108)
    X = rng.standard_normal((4, 10))
    add(Case("both_deterministic", X, _labels(rng, X, 3, 0.5), 1.0, 0.5, 0.0, 2, 0.5, 0.5, 0.0,
             _finite(False), note="t_T = t_S = 0 and M_S ≠ M_T: point masses at different means"))

    rng = np.random.default_rng(109)
    X = rng.standard_normal((5, 2)) @ rng.standard_normal((2, 12))   # rank 2 < d = 5
    add(Case("rank_deficient_X", X, _labels(rng, X, 3, 0.5), 0.8, 0.5, 1.0, 2, 0.6, 0.5, 1.0,
             _finite(True), note="rank X = 2 < d = 5 < n = 12, λ > 0"))

    rng = np.random.default_rng(110)
    X = rng.standard_normal((5, 2)) @ rng.standard_normal((2, 12))
    add(Case("rank_deficient_X_ridgeless_student", X, _labels(rng, X, 3, 0.5), 0.8, 0.5, 1.0, 2,
             0.0, 0.5, 0.0, _finite(False),
             note="λ_S = 0 on a rank-deficient design: minimum-norm deterministic student"))

    # Student = teacher: λ_T = λ_S = 0 (full-rank design, so M_S = M_T X Xᵀ(X Xᵀ)⁻¹ = M_T),
    # r = min(k, d), τ = ν, t_S = t_T = 1. Every KL is exactly 0;
    # K̄ = k tr(Xᵀ(Σ_S + Σ_T)X)/(2τ²) = k·2ν² tr(Xᵀ(X Xᵀ)⁻¹X)/(2ν²) = k d = 2·3 = 6.
    rng = np.random.default_rng(111)
    X = rng.standard_normal((3, 8))
    exact = {}
    for direction in DIRECTIONS:
        exact["predictive", direction] = 0.0
        exact["weight", direction] = 0.0
        exact["convexity", direction] = 6.0
    add(Case("student_equals_teacher", X, _labels(rng, X, 2, 0.7), 0.0, 0.7, 1.0, 2, 0.0, 0.7, 1.0,
             _finite(True), exact, note="identical kernels (λ = 0, r = min(k, d)): KL = 0 exactly"))

    # Both deterministic, same construction: K^Y = K̄ = ½‖Δ‖²/τ² = 0 in exact arithmetic.
    # (K^W compares two point masses whose float64 means differ by rounding: +inf, so the
    # weight kind is left out of ``exact`` and ``finite`` says False for it.)
    rng = np.random.default_rng(112)
    X = rng.standard_normal((3, 8))
    exact = {(kind, dr): 0.0 for dr in DIRECTIONS for kind in ("predictive", "convexity")}
    add(Case("equal_point_masses", X, _labels(rng, X, 2, 0.7), 0.0, 0.7, 0.0, 2, 0.0, 0.7, 0.0,
             _finite(False), exact, note="t_T = t_S = 0, λ = 0, M_S = M_T mathematically"))
    return cases


CASES = _make_cases()
CASE_NAMES = sorted(CASES)


# ----------------------------------------------------------------------------- float64 dense references
def ref_teacher(X, Y, lam, noise, t):
    """(M_T, Σ_T) of docs/mathematics.md §2.1 by dense solves."""
    A = X @ X.T + lam * np.eye(X.shape[0])
    M = np.linalg.solve(A, X @ Y.T).T
    return M, t * noise**2 * np.linalg.inv(A)


def ref_student(target, X, r, lam, tau, t):
    """(M_S, Σ_S) of docs/mathematics.md §2.1 by dense linear algebra (pinv for a singular A_S)."""
    d = X.shape[0]
    A = X @ X.T + lam * np.eye(d)
    w, q = np.linalg.eigh(A)
    w = np.where(w > 1e-12 * w.max(), w, 0.0)
    root = (q * np.sqrt(w)) @ q.T
    root_pinv = np.linalg.pinv(root)
    B = target @ X.T @ np.linalg.pinv(A) @ root
    u, sv, vt = np.linalg.svd(B, full_matrices=False)
    B_r = (u[:, :r] * sv[:r]) @ vt[:r]
    cov = t * tau**2 * np.linalg.pinv(A) if t > 0 else np.zeros((d, d))
    return B_r @ root_pinv, cov


# ----------------------------------------------------------------------------- SPD builders
def spd_with_condition(rng, dim, cond, scale=1.0):
    """Q diag(λ) Qᵀ (symmetrised float64) with eigenvalues log-spaced over [scale/cond, scale]."""
    q = np.linalg.qr(rng.standard_normal((dim, dim)))[0]
    lam = scale * np.logspace(-np.log10(cond), 0, dim) if dim > 1 else np.array([scale])
    S = (q * lam) @ q.T
    return (S + S.T) / 2


# ----------------------------------------------------------------------------- estimator laws
def lg_laws(dim: int, seed: int = 0):
    """Student and teacher weight laws (k = 1 output, d = dim) and the exact K^W between them.

    Fixed design, n = 4 dim, ν = τ = 1, λ_T = 1, t_T = 1, full-rank student λ_S = 3, t_S = 0.5.
    The exact value is ``gd.kl_matrix_normal``; it is itself checked against the dense
    Kronecker KL in the core tests, and re-checked in tests/estimators with the textbook formula.
    """
    rng = np.random.default_rng([seed, dim])
    n = 4 * dim
    X = rng.standard_normal((dim, n))
    W = rng.standard_normal((1, dim))
    Y = W @ X + rng.standard_normal((1, n))
    teacher = gd.ridge_teacher(X, Y, lam=1.0, noise=1.0, temperature=1.0)
    student = gd.rank_student(teacher, X, rank=1, lam=3.0, soft_noise=1.0, temperature=0.5)
    return student, teacher, float(gd.kl_matrix_normal(student, teacher))


def flat_draws(law, size: int, seed) -> np.ndarray:
    """``size`` draws of a matrix normal law, one flattened draw per row."""
    return law.sample(size, rng=np.random.default_rng(seed)).reshape(size, -1)
