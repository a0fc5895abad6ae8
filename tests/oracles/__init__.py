"""Independent reference computations shared by the test suite.

Nothing here imports gaussdistill: every function redoes the mathematics of
docs/mathematics.md from its definition with plain dense numpy, with mpmath at 50 digits,
or with Monte Carlo, so that the package can be checked against it.

* :mod:`oracles.dense`  -- ``vec``, the textbook Gaussian KL and the matrix-normal KL formed
  with ``np.kron`` (small sizes only), the three case-study divergences formed densely.
* :mod:`oracles.mp`     -- the same at 50 significant digits in mpmath, from the float64
  inputs converted exactly (the KL of the *same* numbers the package sees).
* :mod:`oracles.montecarlo` -- the one z-score policy for Monte Carlo checks.
"""

from __future__ import annotations

from .dense import (
    dense_divergence,
    dense_gauss_kl,
    dense_mn_kl,
    naive_gauss_kl_cholesky,
    predictive_moments,
    vec,
)
from .montecarlo import (
    FAMILY_ALPHA,
    Z,
    assert_mc_mean,
    assert_within_ci,
    z_for,
    zscore,
)
from .mp import (
    DPS,
    mp_gauss_kl,
    mp_kron,
    mp_matrix,
    mp_mn_kl,
    mp_pipeline,
    mp_predictive_kl,
    mp_rank_pipeline,
    mp_trace,
    mp_vec,
    rel_err,
)

__all__ = [
    "DPS",
    "FAMILY_ALPHA",
    "Z",
    "assert_mc_mean",
    "assert_within_ci",
    "dense_divergence",
    "dense_gauss_kl",
    "dense_mn_kl",
    "mp_gauss_kl",
    "mp_kron",
    "mp_matrix",
    "mp_mn_kl",
    "mp_pipeline",
    "mp_predictive_kl",
    "mp_rank_pipeline",
    "mp_trace",
    "mp_vec",
    "naive_gauss_kl_cholesky",
    "predictive_moments",
    "rel_err",
    "vec",
    "z_for",
    "zscore",
]
