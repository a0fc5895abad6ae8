"""The Gibbs identity gen = I_SKL(W; S)/γ (docs/mathematics.md §4.5) on Gaussian mean
estimation: Z_i ~ N(μ, σ²), loss (w − z)², prior N(μ₀, σ₀²), posterior ∝ π(w) e^{−γ L_D(w)}
= N((μ₀/σ₀² + 2γZ̄)/(1/σ₀² + 2γ), τ²), τ² = 1/(1/σ₀² + 2γ).

Routes: (1) gen from the definition E[L_μ(W) − L_D(W)] in closed form, (2) I_SKL from
Gaussian log-density expectations, (3) Monte Carlo of both with standard errors, and the
published value 0.133333 (d = 1, σ² = 1, n = 10, γ = 1, σ₀² = 1).
Seed policy: fixed seeds, |z| < 5.
"""
import math

import numpy as np
import pytest

N, SIGMA2, GAMMA, S0 = 10, 1.0, 1.0, 1.0
MU, MU0 = 0.3, -0.2


def constants(n=N, sigma2=SIGMA2, gamma=GAMMA, s0=S0):
    tau2 = 1.0 / (1.0 / s0 + 2.0 * gamma)
    c = 2.0 * gamma * s0 / (1.0 + 2.0 * gamma * s0)
    return tau2, c


def gen_by_definition(n=N, sigma2=SIGMA2, gamma=GAMMA, s0=S0, mu=MU, mu0=MU0):
    # L_μ(w) = (w−μ)² + σ²; L_D(w) = (w − Z̄)² + s²_n, E s²_n = σ²(n−1)/n.
    # W = cZ̄ + (1−c)μ₀ + τξ; E(W−μ)² − E(W−Z̄)² = E[(Z̄−μ)(2W − μ − Z̄)].
    tau2, c = constants(n, sigma2, gamma, s0)
    var_zbar = sigma2 / n
    bias = (1 - c) * (mu0 - mu)  # E W − μ
    e_w_mu2 = c**2 * var_zbar + bias**2 + tau2
    e_w_zbar2 = (1 - c) ** 2 * var_zbar + bias**2 + tau2  # W − Z̄ = (c−1)(Z̄−μ) + bias + τξ
    return e_w_mu2 + sigma2 - (e_w_zbar2 + sigma2 * (n - 1) / n)


def i_skl_by_log_densities(n=N, sigma2=SIGMA2, gamma=GAMMA, s0=S0):
    # I_SKL = E_joint log q(W|S) − E_{P_W ⊗ P_S} log q(W|S) (the marginal terms cancel).
    tau2, c = constants(n, sigma2, gamma, s0)
    joint = -0.5 * math.log(2 * math.pi * tau2) - 0.5
    indep = -0.5 * math.log(2 * math.pi * tau2) - (2 * c**2 * sigma2 / n + tau2) / (2 * tau2)
    return joint - indep


def test_gibbs_identity_exact_and_published_value():
    gen = gen_by_definition()
    assert gen == pytest.approx(0.133333, abs=5e-7)
    assert gen == pytest.approx(i_skl_by_log_densities() / GAMMA, rel=1e-13)
    for n, gamma, s0 in [(5, 0.3, 2.0), (50, 3.0, 0.1), (7, 1.7, 10.0)]:
        assert gen_by_definition(n, 1.3, gamma, s0) == pytest.approx(
            i_skl_by_log_densities(n, 1.3, gamma, s0) / gamma, rel=1e-12)


def test_gibbs_identity_monte_carlo():
    rng = np.random.default_rng(4242)
    reps = 200_000
    tau2, c = constants()
    Z = rng.normal(MU, math.sqrt(SIGMA2), size=(reps, N))
    zbar = Z.mean(axis=1)
    mean_post = (MU0 / S0 + 2 * GAMMA * zbar) / (1 / S0 + 2 * GAMMA)
    W = mean_post + math.sqrt(tau2) * rng.standard_normal(reps)
    gap = ((W - MU) ** 2 + SIGMA2) - ((W[:, None] - Z) ** 2).mean(axis=1)
    est, se = gap.mean(), gap.std(ddof=1) / math.sqrt(reps)
    assert abs(est - 0.1333333333) < 5 * se, (est, se)
    # I_SKL: log q(W|S) at the joint pair minus at an independent pair (W from another replicate)
    logq = lambda w, m: -0.5 * math.log(2 * math.pi * tau2) - (w - m) ** 2 / (2 * tau2)
    diff = logq(W, mean_post) - logq(np.roll(W, 1), mean_post)
    est_i, se_i = diff.mean(), diff.std(ddof=1) / math.sqrt(reps)
    assert abs(est_i / GAMMA - 0.1333333333) < 5 * se_i / GAMMA, (est_i, se_i)
