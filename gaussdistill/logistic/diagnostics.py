r"""Convergence diagnostics for batched Markov chains: split R-hat and effective sample size.

Both take draws of shape ``(n_draws, n_chains, ...)`` (draws on the first axis, chains on
the second, any trailing parameter axes) and return one value per parameter.

* Split R-hat (Gelman et al., *Bayesian Data Analysis*, 3rd ed., §11.4): each chain is
  cut into two halves, giving m = 2·n_chains sequences of length N. With W the mean of the
  within-sequence variances and B/N the variance of the sequence means,

  .. math::
      \widehat{\mathrm{var}}^+ = \tfrac{N-1}{N} W + \tfrac{B}{N},\qquad
      \hat R = \sqrt{\widehat{\mathrm{var}}^+ / W}.

  Values near 1 (below about 1.01–1.05) mean the sequences agree.
* Effective sample size (the same reference, §11.5, as in Stan): with the chains' autocovariances
  :math:`\hat\gamma_t` (FFT, biased estimator) averaged over chains,
  :math:`\hat\rho_t = 1 - (W - \bar\gamma_t)/\widehat{\mathrm{var}}^+`, summed with Geyer's
  initial positive (monotone) sequence:

  .. math::
      \mathrm{ESS} = \frac{mN}{\hat\tau},\qquad
      \hat\tau = -1 + 2\sum_{t'=0}^{K} (\hat\rho_{2t'} + \hat\rho_{2t'+1}),

  truncated at the first negative pair sum, pair sums made non-increasing. For an AR(1)
  chain :math:`x_{t+1} = \phi x_t + \varepsilon_t` the exact value is
  :math:`\tau = (1+\phi)/(1-\phi)`; for independent draws :math:`\tau = 1`.
"""
from __future__ import annotations

import numpy as np

from ..errors import GaussDistillError


def _as_draws(draws, name: str = "draws") -> np.ndarray:
    arr = np.asarray(draws, dtype=float)
    if arr.ndim < 2:
        raise GaussDistillError(f"{name} must have shape (n_draws, n_chains, ...); got shape {arr.shape}")
    if arr.shape[0] < 4:
        raise GaussDistillError(f"{name} needs at least 4 draws per chain to split; got {arr.shape[0]}")
    if not np.all(np.isfinite(arr)):
        raise GaussDistillError(f"{name} contains non-finite values (a diverged chain?)")
    return arr


def _split(arr: np.ndarray) -> np.ndarray:
    half = arr.shape[0] // 2
    # (n_draws, n_chains, ...) -> (half, 2 * n_chains, ...); an odd middle draw is dropped.
    return np.concatenate([arr[:half], arr[arr.shape[0] - half:]], axis=1)


def _variances(seq: np.ndarray):
    n = seq.shape[0]
    within = seq.var(axis=0, ddof=1).mean(axis=0)
    between_over_n = seq.mean(axis=0).var(axis=0, ddof=1)
    var_plus = (n - 1) / n * within + between_over_n
    return within, var_plus


def split_rhat(draws) -> np.ndarray:
    """Split R-hat per parameter (module docstring for the formula).

    Sequences with no spread inside (W = 0): 1.0 when they all hold the same value, +inf
    when they are stuck at different values (nothing mixes).
    """
    seq = _split(_as_draws(draws))
    within, var_plus = _variances(seq)
    with np.errstate(divide="ignore", invalid="ignore"):
        rhat = np.sqrt(var_plus / within)
    return np.where(within > 0, rhat, np.where(var_plus > 0, np.inf, 1.0))


def _autocovariance(seq: np.ndarray) -> np.ndarray:
    """Biased autocovariance along axis 0 by FFT, for every sequence and parameter."""
    n = seq.shape[0]
    centred = seq - seq.mean(axis=0)
    size = 1 << (2 * n - 1).bit_length()
    spec = np.fft.rfft(centred, n=size, axis=0)
    acov = np.fft.irfft(spec * np.conj(spec), n=size, axis=0)[:n]
    return acov / n


def effective_sample_size(draws) -> np.ndarray:
    """Effective sample size per parameter, split chains (module docstring for the formula)."""
    seq = _split(_as_draws(draws))
    n, m = seq.shape[0], seq.shape[1]
    within, var_plus = _variances(seq)
    acov = _autocovariance(seq).mean(axis=1)          # (n, ...) averaged over sequences
    acov = acov * n / (n - 1) if n > 1 else acov        # γ_0 then equals W (ddof=1)
    flat_acov = acov.reshape(n, -1)
    flat_var = np.broadcast_to(var_plus, within.shape).reshape(-1)
    flat_w = within.reshape(-1)
    out = np.empty(flat_w.shape)
    for j in range(flat_w.size):
        if flat_var[j] <= 0:     # every draw of every sequence equal: nothing to estimate
            out[j] = m * n
            continue
        # W = 0 < var⁺ (sequences stuck at different values) goes through the formula:
        # ρ_t = 1 for all t, τ ≈ 2N − 1, ESS ≈ m / 2.
        rho = 1.0 - (flat_w[j] - flat_acov[:, j]) / flat_var[j]
        n_pairs = n // 2
        pairs = rho[: 2 * n_pairs].reshape(n_pairs, 2).sum(axis=1)
        negative = np.nonzero(pairs < 0)[0]
        pairs = pairs[: negative[0]] if negative.size else pairs
        pairs = np.minimum.accumulate(pairs)
        tau = max(-1.0 + 2.0 * pairs.sum(), 1.0 / np.log10(max(m * n, 10)))
        out[j] = m * n / tau
    return out.reshape(within.shape)


def summarize(draws) -> dict:
    """``{"rhat_max": ..., "ess_min": ..., "ess_median": ...}`` over all parameters."""
    rhat = split_rhat(draws)
    ess = effective_sample_size(draws)
    return {"rhat_max": float(np.max(rhat)), "ess_min": float(np.min(ess)),
            "ess_median": float(np.median(ess))}
