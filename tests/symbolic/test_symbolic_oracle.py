"""Independent dense oracle for the symbolic engine, and the deterministic checks.

The oracle builds explicit matrices of the aligned model (random orthogonal V, Q, U)
and computes every quantity of docs/mathematics.md §2.1–2.3 from its definition with numpy/scipy:
the KL of the *vectorised* Gaussians (Kronecker covariances, small sizes only), the
mean part as a trace, and the rank bottleneck from a numerical SVD.  It shares no code
with ``gaussdistill`` (neither the symbolic engine nor the numeric core): the dense KL is
tests/oracles/dense.py.

Seed policy: every random test uses ``np.random.default_rng(<fixed seed>)``; a failure
is reproducible and means a wrong formula, never bad luck (deterministic tests use
1e-10 relative tolerances; statistical ones live in test_symbolic_mc.py).
"""
from __future__ import annotations

import numpy as np
import pytest

import gaussdistill as core
from gaussdistill.symbolic import aligned_decomposition

from oracles.dense import dense_gauss_kl as kl_gauss
from oracles.dense import vec

KINDS = ("predictive", "convexity", "weight")
DIRECTIONS = ("student||teacher", "teacher||student")


# ----------------------------------------------------------------------------- oracle
def orth(rng, m, p):
    q, _ = np.linalg.qr(rng.standard_normal((m, m)))
    return q[:, :p]


def aligned_instance(rng, s, w, k, n):
    """X (d×n) with X Xᵀ = V diag(s) Vᵀ and W⋆ = U diag(w) Vᵀ, random bases."""
    s, w = np.asarray(s, float), np.asarray(w, float)
    d = len(s)
    V = orth(rng, d, d)
    Q = orth(rng, n, d)
    U = orth(rng, k, d)
    X = V @ np.diag(np.sqrt(s)) @ Q.T
    W = U @ np.diag(w) @ V.T
    return X, W


def psd_sqrt(A):
    e, vecs = np.linalg.eigh((A + A.T) / 2)
    return vecs @ np.diag(np.sqrt(np.clip(e, 0, None))) @ vecs.T


def dense_teacher(X, Y, lam_T, nu, t_T):
    d = X.shape[0]
    A = X @ X.T + lam_T * np.eye(d)
    Ai = np.linalg.inv(A)
    return Y @ X.T @ Ai, t_T * nu**2 * Ai


def dense_student(M_T, X, r, lam_S, t_S, tau):
    """Reduced-rank ridge on the population soft labels M_T X (docs/mathematics.md §2.1)."""
    d = X.shape[0]
    A = X @ X.T + lam_S * np.eye(d)
    W_hat = M_T @ X @ X.T @ np.linalg.inv(A)
    Ah = psd_sqrt(A)
    B = W_hat @ Ah
    u, sv, vt = np.linalg.svd(B, full_matrices=False)
    Br = (u[:, :r] * sv[:r]) @ vt[:r]
    return Br @ np.linalg.inv(Ah), t_S * tau**2 * np.linalg.inv(A)


def dense_parts(kind, direction, M_S, Sig_S, M_T, Sig_T, X, tau, r):
    """total/bias/variance/rank from the definitions of docs/mathematics.md §2.2–2.3 (dense)."""
    k, n = M_T.shape[0], X.shape[1]
    d = X.shape[0]
    Ik = np.eye(k)
    if direction == "teacher||student":
        first, second = (M_T, Sig_T), (M_S, Sig_S)
    else:
        first, second = (M_S, Sig_S), (M_T, Sig_T)
    if kind == "predictive":
        V1 = tau**2 * np.eye(n) + X.T @ first[1] @ X
        V2 = tau**2 * np.eye(n) + X.T @ second[1] @ X
        total = kl_gauss(vec(first[0] @ X), np.kron(V1, Ik), vec(second[0] @ X), np.kron(V2, Ik))
        G2 = np.linalg.inv(V2)
        Delta = (M_S - M_T) @ X
        mean = 0.5 * np.trace(Delta @ G2 @ Delta.T)
        sv = np.linalg.svd(M_T @ X @ psd_sqrt(G2), compute_uv=False)
    elif kind == "convexity":
        C = np.kron(X.T @ (Sig_S + Sig_T) @ X, Ik)
        Delta = (M_S - M_T) @ X
        total = (vec(Delta) @ vec(Delta) + np.trace(C)) / (2 * tau**2)
        mean = np.sum(Delta**2) / (2 * tau**2)
        sv = np.linalg.svd(M_T @ X / tau, compute_uv=False)
    else:
        total = kl_gauss(vec(first[0]), np.kron(first[1], Ik), vec(second[0]), np.kron(second[1], Ik))
        G2 = np.linalg.inv(second[1])
        D = M_S - M_T
        mean = 0.5 * np.trace(G2 @ D.T @ D)
        sv = np.linalg.svd(M_T @ psd_sqrt(G2), compute_uv=False)
    rank = 0.5 * np.sum(sv[r:] ** 2) if r < min(k, d) else 0.0
    return dict(total=total, bias=mean - rank, variance=total - mean, rank=rank)


def random_params(rng, d, k=None, ordered=True, det=False):
    """A random parameter point; spectra ordered so that modes 1..r are the top ones."""
    k = k if k is not None else d + 1 + int(rng.integers(0, 2))
    s = np.sort(rng.uniform(0.5, 4.0, d))[::-1]
    w = np.sort(rng.uniform(0.5, 3.0, d))[::-1] * rng.choice([-1, 1], d)
    p = dict(k=k, nu=rng.uniform(0.3, 1.5), tau=rng.uniform(0.4, 1.5),
             lambda_T=rng.uniform(0.0, 2.0), lambda_S=rng.uniform(0.0, 2.0),
             t_T=rng.uniform(0.2, 1.5), t_S=rng.uniform(0.2, 1.5), s=list(s), w=list(w))
    if det:
        p["t_S"] = 0.0
    return p


def oracle_at(kind, direction, p, r, n=None, rng=None, E=None):
    """Dense parts at parameters ``p`` for one label-noise draw ``E`` (None: E = 0)."""
    rng = rng or np.random.default_rng(0)
    d, k = len(p["s"]), p["k"]
    n = n or d + 2
    X, W = aligned_instance(rng, p["s"], p["w"], k, n)
    Y = W @ X + (0 if E is None else p["nu"] * E)
    M_T, Sig_T = dense_teacher(X, Y, p["lambda_T"], p["nu"], p["t_T"])
    M_S, Sig_S = dense_student(M_T, X, r, p["lambda_S"], p["t_S"], p["tau"])
    return dense_parts(kind, direction, M_S, Sig_S, M_T, Sig_T, X, p["tau"], r)


def assert_parts_close(got, ref, rtol=1e-10):
    scale = abs(ref["total"]) + 1e-300
    for part in ("total", "bias", "variance", "rank"):
        assert abs(got[part] - ref[part]) <= rtol * max(abs(ref[part]), 1e-3 * scale), \
            (part, got[part], ref[part])


# ----------------------------------------------------------------------------- oracle self-checks
def test_oracle_matrix_normal_kl_reference_value():
    # REFERENCES 4.1(b): M1=0, U1=diag(2,1), V1=[[1,.5],[.5,1]], M2=1, U2=V2=I: 3 - ln 1.5.
    U1, V1 = np.diag([2.0, 1.0]), np.array([[1, .5], [.5, 1]])
    val = kl_gauss(np.zeros(4), np.kron(V1, U1), np.ones(4), np.eye(4))
    assert abs(val - 2.594534891891836) < 1e-14


def test_oracle_aligned_instance_structure():
    rng = np.random.default_rng(1)
    X, W = aligned_instance(rng, [3.0, 2.0, 1.0], [2.0, -1.0, 0.5], 4, 6)
    assert np.allclose(np.linalg.eigvalsh(X @ X.T), [1, 2, 3])
    assert np.allclose(np.linalg.svd(W, compute_uv=False), [2, 1, 0.5])


# ----------------------------------------------------------------------------- symbolic = dense
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("rank", [None, 0, 1, 2])
def test_noiseless_decomposition_matches_dense(kind, direction, rank):
    """expectation=False (Y = W⋆X): lambdified parts = dense matrices, 1e-10 relative."""
    dec = aligned_decomposition(kind, direction, expectation=False, d=3, rank=rank)
    seed = 100 * KINDS.index(kind) + 10 * DIRECTIONS.index(direction) + (rank or 0)
    rng = np.random.default_rng(seed)
    checked = 0
    for _ in range(6):
        p = random_params(rng, 3)
        try:
            got = dec.evaluate(**p)
        except ValueError:  # ordering assumption fails at this draw: not this student
            assert not dec.full_rank
            continue
        ref = oracle_at(kind, direction, p, 3 if rank is None else rank, rng=rng)
        assert_parts_close(got, ref)
        checked += 1
    assert checked >= 3


@pytest.mark.parametrize("kind", ["predictive", "convexity"])  # K^W needs ν > 0 (Σ_T ≻ 0)
def test_expectation_at_zero_noise_equals_realisation(kind):
    """At ν = 0 the expectation (rank or full) equals the noiseless value."""
    rng = np.random.default_rng(5)
    for rank in (None, 1):
        e1 = aligned_decomposition(kind, expectation=True, d=3, rank=rank)
        e0 = aligned_decomposition(kind, expectation=False, d=3, rank=rank)
        p = random_params(rng, 3)
        p["nu"] = 0.0
        a, b = e1.evaluate(**p), e0.evaluate(**p)
        for part in a:
            assert abs(a[part] - b[part]) <= 1e-12 * (1 + abs(b[part]))


def test_mpmath_backend_matches_numpy_and_dense():
    import mpmath
    dec = aligned_decomposition("predictive", expectation=False, d=2, rank=1)
    rng = np.random.default_rng(7)
    p = random_params(rng, 2)
    f = dec.lambdify("mpmath", dps=40)
    got = f(**p)
    assert all(isinstance(v, mpmath.mpf) for v in got.values())
    ref = oracle_at("predictive", "student||teacher", p, 1, rng=rng)
    assert_parts_close({kk: float(v) for kk, v in got.items()}, ref)


def test_numpy_lambdify_broadcasts_over_grids():
    dec = aligned_decomposition("convexity", expectation=True, d=2)
    f = dec.lambdify("numpy")
    nu = np.linspace(0.1, 1.0, 5)[:, None]
    lamS = np.linspace(0.0, 2.0, 4)[None, :]
    out = f(k=3, nu=nu, tau=1.0, lambda_T=0.5, lambda_S=lamS, t_T=1.0, t_S=0.0,
            s=[2.0, 1.0], w=[1.0, 0.5])
    assert out["total"].shape == (5, 4) and out["rank"].shape == (5, 4)
    one = dec.evaluate(k=3, nu=nu[2, 0], tau=1.0, lambda_T=0.5, lambda_S=lamS[0, 3],
                       t_T=1.0, t_S=0.0, s=[2.0, 1.0], w=[1.0, 0.5])
    assert abs(out["total"][2, 3] - one["total"]) < 1e-14 * abs(one["total"])


# ----------------------------------------------------------------------------- symbolic = core


def _core_parts(kind, direction, p, r, rng):
    d, k = len(p["s"]), p["k"]
    X, W = aligned_instance(rng, p["s"], p["w"], k, d + 2)
    T = core.ridge_teacher(X, W @ X, p["lambda_T"], p["nu"], temperature=p["t_T"])
    S = core.rank_student(T, X, r, lam=p["lambda_S"], soft_noise=p["tau"],
                          temperature=p["t_S"])
    res = core.divergence(S, T, X, soft_noise=p["tau"], kind=kind, direction=direction, rank=r)
    return dict(total=res.total, bias=res.bias, variance=res.variance, rank=res.rank)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("rank", [None, 1])
def test_noiseless_decomposition_matches_core(kind, direction, rank):
    """Lambdified expression = gaussdistill.divergence at random points, 1e-10."""
    dec = aligned_decomposition(kind, direction, expectation=False, d=3, rank=rank)
    rng = np.random.default_rng(17 + KINDS.index(kind) * 10 + DIRECTIONS.index(direction))
    checked = 0
    for _ in range(6):
        p = random_params(rng, 3)
        try:
            got = dec.evaluate(**p)
        except ValueError:
            continue
        ref = _core_parts(kind, direction, p, 3 if rank is None else rank, rng)
        assert_parts_close(got, ref)
        checked += 1
    assert checked >= 2


# ----------------------------------------------------------------------------- invariants, accuracy
def test_data_processing_and_convexity_orderings():
    """K^W >= K^Y (data processing) and K̄ >= K^Y (convexity), both directions, at random
    stochastic points (docs/mathematics.md §2.2)."""
    rng = np.random.default_rng(99)
    for direction in DIRECTIONS:
        fY = aligned_decomposition("predictive", direction, d=3).lambdify()
        fW = aligned_decomposition("weight", direction, d=3).lambdify()
        fC = aligned_decomposition("convexity", direction, d=3).lambdify()
        for _ in range(20):
            p = random_params(rng, 3)
            y, w, c = fY(**p)["total"], fW(**p)["total"], fC(**p)["total"]
            assert w >= y * (1 - 1e-12) and c >= y * (1 - 1e-12)


@pytest.mark.parametrize("delta", [1e-4, 1e-7, 1e-9])
def test_tiny_weight_divergence_keeps_relative_accuracy(delta):
    """Student covariance = teacher's up to a relative delta: the float64 lambdified
    variance matches a 60-digit mpmath evaluation of the definition (STYLE 8: the naive
    ρ − 1 − ln ρ route loses ~eps/u² relative accuracy)."""
    import mpmath
    s = [3.0, 2.0, 1.5]
    lam_T, lam_S, nu, t_T = 0.5, 0.5, 0.8, 1.0
    # Σ_S = t_S τ² A_S⁻¹ = (1 + delta) Σ_T  <=>  t_S τ² = (1 + delta) t_T ν².
    tau = 1.0
    t_S = (1 + delta) * t_T * nu**2 / tau**2
    p = dict(k=4, nu=nu, tau=tau, lambda_T=lam_T, lambda_S=lam_S, t_T=t_T, t_S=t_S,
             s=s, w=[1.0, 0.5, 0.2])
    got = aligned_decomposition("weight", d=3, expectation=False).evaluate(**p)["variance"]
    with mpmath.workdps(60):
        # Definition: (k/2)[tr(Σ_T⁻¹Σ_S) − d − ln det(Σ_T⁻¹Σ_S)], diagonal in the V basis.
        ref = mpmath.mpf(0)
        for sj in s:
            sT = mpmath.mpf(t_T) * mpmath.mpf(nu) ** 2 / (mpmath.mpf(sj) + mpmath.mpf(lam_T))
            sS = mpmath.mpf(t_S) * mpmath.mpf(tau) ** 2 / (mpmath.mpf(sj) + mpmath.mpf(lam_S))
            rho = sS / sT
            ref += rho - 1 - mpmath.log(rho)
        ref *= mpmath.mpf(4) / 2
    assert abs(got - float(ref)) <= 1e-6 * float(ref)


@pytest.mark.parametrize("kind", KINDS)
def test_shrinkage_student_matches_core_with_hand_built_kernel(kind):
    """'shrinkage' student c·M_S as a hand-built MatrixNormal, against the core."""
    dec = aligned_decomposition(kind, expectation=False, d=3, rank=2, student="shrinkage")
    rng = np.random.default_rng(71 + KINDS.index(kind))
    checked = 0
    for _ in range(5):
        p = dict(random_params(rng, 3), c=rng.uniform(0.3, 1.4))
        try:
            got = dec.evaluate(**p)
        except ValueError:
            continue
        X, W = aligned_instance(rng, p["s"], p["w"], p["k"], 5)
        T = core.ridge_teacher(X, W @ X, p["lambda_T"], p["nu"], temperature=p["t_T"])
        S = core.rank_student(T, X, 2, lam=p["lambda_S"], soft_noise=p["tau"],
                              temperature=p["t_S"])
        Sc = core.MatrixNormal(p["c"] * S.mean, S.col_cov)
        res = core.divergence(Sc, T, X, soft_noise=p["tau"], kind=kind, rank=2)
        assert_parts_close(got, dict(total=res.total, bias=res.bias, variance=res.variance,
                                     rank=res.rank))
        checked += 1
    assert checked >= 2
