"""Shared pieces of the estimator tests: laws with an exact KL from the linear-Gaussian model
(defined in tests/cases.py, which benchmarks/estimator_accuracy.py also uses)."""
from __future__ import annotations

import pytest

from cases import flat_draws, lg_laws  # noqa: F401  (tests import them from here)


@pytest.fixture
def laws():
    return lg_laws
