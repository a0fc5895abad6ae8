"""The test suite's one policy for Monte Carlo checks.

A Monte Carlo estimate ``m`` of an exact value ``e`` with standard error ``se`` passes when
``|m − e| <= z · se``. The policy:

* ``z = 4`` for one comparison: a correct formula fails with probability 2·Φ(−4) = 6.3e-5,
  so a seeded test that passes once keeps passing when the seed changes, while an error of
  size δ is caught once the number of draws makes ``δ / se > 4`` (``se`` falls like
  1/sqrt(draws), so ``z`` grows like sqrt(draws) under a real error).
* ``m`` simultaneous comparisons (e.g. every entry of a covariance matrix) share the same
  family-wise false-alarm rate ``FAMILY_ALPHA = 6.3e-5`` (Bonferroni): ``z_for(m)`` gives the
  threshold, 4.0 for m = 1, 4.61 for m = 16.
* Every Monte Carlo test draws from ``np.random.default_rng(<fixed seed>)`` and is therefore
  reproducible. If one fails after an unrelated change of seed, rerun it with 10x the draws
  before suspecting the formula.
* The standard error must be estimated from the same draws (``ddof=1``), never guessed; for
  heavy-tailed per-draw quantities (KLs, squared norms) use at least 10⁴ draws in ``slow``
  tests and a fast version with fewer draws and the same z in the default suite.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import norm

Z = 4.0
FAMILY_ALPHA = 2.0 * norm.sf(Z)  # 6.33e-5: two-sided tail of one z = 4 comparison


def z_for(m: int = 1) -> float:
    """Two-sided z threshold for ``m`` simultaneous comparisons at family-wise ``FAMILY_ALPHA``."""
    if m < 1:
        raise ValueError("m must be >= 1")
    return Z if m == 1 else float(norm.isf(FAMILY_ALPHA / (2 * m)))


def zscore(samples, exact):
    """(mean − exact) / standard error of the mean, over axis 0 of ``samples``."""
    samples = np.asarray(samples, dtype=float)
    n = samples.shape[0]
    return (samples.mean(axis=0) - exact) / (samples.std(axis=0, ddof=1) / math.sqrt(n))


def assert_within_ci(estimate, stderr, exact, z=None):
    """Assert ``|estimate − exact| <= z · stderr`` elementwise (z defaults to ``z_for(size)``).

    ``stderr`` must be positive; a zero standard error with a nonzero gap fails.
    """
    estimate, stderr, exact = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (estimate, stderr, exact)))
    z = z_for(estimate.size) if z is None else z
    gap = np.abs(estimate - exact)
    bad = ~(gap <= z * stderr)
    if np.any(bad):
        with np.errstate(divide="ignore", invalid="ignore"):
            zs = np.where(stderr > 0, gap / stderr, np.inf)
        raise AssertionError(
            f"Monte Carlo estimate outside the z = {z:.2f} interval at {int(bad.sum())} of {bad.size} "
            f"entries; worst |z| = {float(np.max(zs)):.2f}; estimate {estimate[bad][:3]}, "
            f"exact {exact[bad][:3]}, stderr {stderr[bad][:3]}"
        )


def assert_mc_mean(samples, exact, z=None):
    """Assert that the mean over axis 0 of ``samples`` matches ``exact`` within the policy."""
    samples = np.asarray(samples, dtype=float)
    n = samples.shape[0]
    assert_within_ci(samples.mean(axis=0), samples.std(axis=0, ddof=1) / math.sqrt(n), exact, z)
