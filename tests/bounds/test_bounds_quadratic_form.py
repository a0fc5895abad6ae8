"""QuadraticFormCGF against independent routes: hand values, dense linear algebra,
mpmath quadrature (up to the domain edge), 50-digit mpmath, and Monte Carlo with a CI.

Seed policy: fixed numpy Generator seeds; Monte Carlo checks assert |z| < 5, so a correct
implementation fails with probability < 1e-6 per check. If one fails, rerun with another
seed before suspecting the code, and report it.
"""
import dataclasses
import math

import mpmath
import numpy as np
import pytest

import gaussdistill as gd
from gaussdistill.bounds import QuadraticFormCGF


def dense_psi(A, b, lam):
    """log E e^{λ(Q − EQ)} by slogdet and solve on the dense matrix (no eigendecomposition)."""
    p = A.shape[0]
    M = np.eye(p) - 2.0 * lam * A
    sign, logdet = np.linalg.slogdet(M)
    if sign <= 0:
        return math.inf
    return -0.5 * logdet + 0.5 * lam**2 * b @ np.linalg.solve(M, b) - lam * np.trace(A)


def test_chi_square_by_hand():
    # Q = z², ψ(λ) = −½ ln(1 − 2λ) − λ
    q = QuadraticFormCGF([1.0], [0.0])
    assert q.domain == (-math.inf, 0.5)
    for lam in (-3.0, -0.1, 0.1, 0.3, 0.49):
        assert q(lam) == pytest.approx(-0.5 * math.log(1 - 2 * lam) - lam, rel=1e-13)
    assert q.mean == 1.0 and q.variance == 2.0
    assert q(0.5) == math.inf and q(0.7) == math.inf
    assert q(0.0) == 0.0


def test_gaussian_part_by_hand():
    # Q = 3z + 2: ψ = 9λ²/2 for every λ
    q = QuadraticFormCGF([0.0], [3.0], 2.0)
    assert q.domain == (-math.inf, math.inf)
    lam = np.array([-5.0, -0.3, 1e-9, 2.0])
    np.testing.assert_allclose(q(lam), 4.5 * lam**2, rtol=1e-14)
    assert q.mean == 2.0 and q.variance == 9.0
    np.testing.assert_allclose(q.log_mgf(lam), 4.5 * lam**2 + 2 * lam, rtol=1e-14)


def test_against_dense_linear_algebra_including_near_edge():
    rng = np.random.default_rng(0)
    p = 6
    G = rng.normal(size=(p, p))
    A = (G + G.T) / 4
    b = rng.normal(size=p)
    q = QuadraticFormCGF.from_matrix(A, b, const=0.7)
    lo, hi = q.domain
    alpha = np.linalg.eigvalsh(A)
    assert hi == pytest.approx(1 / (2 * alpha.max()), rel=1e-14)
    assert lo == pytest.approx(1 / (2 * alpha.min()), rel=1e-14)
    lams = [lo * (1 - 1e-6), lo / 2, -1e-3, 1e-3, hi / 3, hi * (1 - 1e-3), hi * (1 - 1e-7)]
    for lam in lams:
        assert q(lam) == pytest.approx(dense_psi(A, b, lam), rel=1e-9), lam
    assert q(hi) == math.inf and q(lo) == math.inf and q(2 * hi) == math.inf
    assert q.mean == pytest.approx(np.trace(A) + 0.7, rel=1e-13)
    assert q.variance == pytest.approx(2 * np.sum(A * A) + b @ b, rel=1e-13)


def _mp_psi_1d(alpha, beta, lam):
    """log ∫ φ(z) e^{λ(αz² + βz − α)} dz by mpmath quadrature."""
    a, bb, l = mpmath.mpf(alpha), mpmath.mpf(beta), mpmath.mpf(lam)
    rate = (1 - 2 * l * a) / 2  # the integrand is exp(−rate z² + λβz)
    centre = l * bb / (2 * rate)
    scale = 1 / mpmath.sqrt(rate)
    f = lambda z: mpmath.exp(-rate * (z - centre) ** 2) / mpmath.sqrt(2 * mpmath.pi)
    points = [centre + t * scale for t in (-40, -5, 0, 5, 40)]
    integral = mpmath.quad(f, points)
    log_int = mpmath.log(integral) + rate * centre**2 - l * a
    return float(log_int)


@pytest.mark.parametrize("frac", [0.5, 0.99, 1 - 1e-6])
def test_against_quadrature_up_to_the_edge(frac):
    alpha = np.array([0.8, -0.3])
    beta = np.array([0.5, 1.2])
    q = QuadraticFormCGF(alpha, beta)
    hi = q.domain[1]
    lam = frac * hi
    with mpmath.workdps(30):
        expected = sum(_mp_psi_1d(a, b, lam) for a, b in zip(alpha, beta))
    assert q(lam) == pytest.approx(expected, rel=1e-10)
    lo = q.domain[0]
    with mpmath.workdps(30):
        expected = sum(_mp_psi_1d(a, b, frac * lo) for a, b in zip(alpha, beta))
    assert q(frac * lo) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("lam", [1e-12, 1e-9, -1e-7, 1e-4, 0.03])
def test_tiny_lambda_against_50_digits(lam):
    alpha = np.array([0.9, -0.4, 0.05])
    beta = np.array([0.0, 0.2, 1e-3])
    q = QuadraticFormCGF(alpha, beta)
    with mpmath.workdps(50):
        l = mpmath.mpf(lam)
        ref = mpmath.fsum(
            -mpmath.log(1 - 2 * l * mpmath.mpf(a)) / 2 - l * mpmath.mpf(a)
            + l**2 * mpmath.mpf(b) ** 2 / (2 * (1 - 2 * l * mpmath.mpf(a)))
            for a, b in zip(alpha, beta)
        )
    assert q(lam) == pytest.approx(float(ref), rel=1e-13)


def test_monte_carlo_within_ci():
    rng = np.random.default_rng(20261129)
    alpha = np.array([0.3, -0.5, 0.1])
    beta = np.array([0.4, 0.0, -0.7])
    q = QuadraticFormCGF(alpha, beta, const=-1.0)
    z = rng.standard_normal((400_000, 3))
    Q = z**2 @ alpha + z @ beta - 1.0
    assert abs(Q.mean() - q.mean) < 5 * Q.std() / math.sqrt(Q.size)
    for lam in (-0.4, 0.2, 0.6):  # E e^{2λQ} finite: 4λ α_max < 1 and 4λ α_min < 1
        w = np.exp(lam * (Q - q.mean))
        est, se = w.mean(), w.std() / math.sqrt(w.size)
        assert abs(est - math.exp(q(lam))) < 5 * se, lam


def test_vectorised_shape_and_scalar():
    q = QuadraticFormCGF([0.25, 0.5], [1.0, -1.0])
    lam = np.linspace(-2, 2, 9)
    out = q(lam)
    assert out.shape == (9,)
    assert np.all(np.isinf(out[lam >= 1.0])) and np.all(np.isfinite(out[lam < 1.0]))
    assert isinstance(q(0.3), float)
    np.testing.assert_array_equal(out, [q(float(x)) for x in lam])


def test_frozen_and_to_dict():
    q = QuadraticFormCGF([1.0, 2.0], [0.0, 1.0])
    with pytest.raises(dataclasses.FrozenInstanceError):
        q.const = 3.0
    with pytest.raises(ValueError):
        q.alpha[0] = 5.0
    d = q.to_dict()
    assert d["domain"] == [-math.inf, 0.25] and d["variance"] == 2 * 5 + 1


@pytest.mark.parametrize("kwargs, match", [
    (dict(alpha="1", beta=[0.0]), "alpha"),
    (dict(alpha=[1.0], beta=[0.0, 1.0]), "beta"),
    (dict(alpha=[np.nan], beta=[0.0]), "alpha"),
    (dict(alpha=[1.0], beta=[np.inf]), "beta"),
    (dict(alpha=[1.0], beta=[0.0], const="2"), "const"),
    (dict(alpha=[1.0 + 1j], beta=[0.0]), "alpha"),
])
def test_bad_input(kwargs, match):
    with pytest.raises(gd.GaussDistillError, match=match):
        QuadraticFormCGF(**kwargs)


def test_bad_matrix():
    with pytest.raises(gd.GaussDistillError, match="symmetric"):
        QuadraticFormCGF.from_matrix([[1.0, 2.0], [0.0, 1.0]])
    with pytest.raises(gd.GaussDistillError, match="square"):
        QuadraticFormCGF.from_matrix([[1.0, 2.0]])
    with pytest.raises(gd.GaussDistillError, match="lam"):
        QuadraticFormCGF([1.0], [0.0])(np.nan)
