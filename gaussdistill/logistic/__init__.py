r"""A multinomial logistic teacher distilled into a rank-r student, both sampled by Langevin dynamics.

The general (non-Gaussian) model of the framework: nothing is closed form, every quantity
of Theorems 1–3 is estimated, each with its standard error.

* :class:`LogisticSetting` — one setting (frozen; ``.replace(**overrides)``,
  ``.run(replicates, seed)`` -> long-format pandas DataFrame), the object ``gd.sweep`` varies.
* :mod:`.model` — the Gibbs posteriors, soft labels softmax(W_T x / T), batched samplers.
* :mod:`.langevin` — batched preconditioned MALA / ULA (chains on a leading axis).
* :mod:`.diagnostics` — split R-hat and effective sample size.
* :mod:`.data` — seeded synthetic ground truths (logistic, Gaussian mixture).
* :mod:`.bounds` — every bound of Theorems 1–3 with estimated ingredients, and how often the
  observed gap exceeds it across settings.
"""
from __future__ import annotations

from .diagnostics import effective_sample_size, split_rhat
from .langevin import ChainRun, Preconditioner, run_chains
from .setting import LogisticSetting

__all__ = [
    "ChainRun",
    "LogisticSetting",
    "Preconditioner",
    "effective_sample_size",
    "evaluate_bounds",
    "exceedance",
    "run_chains",
    "split_rhat",
]


def __getattr__(name):
    if name in ("evaluate_bounds", "exceedance", "exceedance_summary"):
        from . import bounds

        return getattr(bounds, name)
    raise AttributeError(f"module 'gaussdistill.logistic' has no attribute {name!r}")
