r"""Synthetic classification data with a known law μ (seeded).

Two ground truths, both with x ∈ R^d and y ∈ {0, …, k−1}:

* ``"logistic"``: x ~ N(0, I_d), y | x ~ Categorical(softmax(W⋆ x)), W⋆ = a·G/√d with G a
  standard normal k×d matrix (a = ``signal``). Second moment E[x xᵀ] = I_d.
* ``"mixture"``: y uniform on the k classes, x | y ~ N(μ_y, I_d), μ_y = a·g_y/√d with g_y
  standard normal. E[x xᵀ] = I_d + (1/k) Σ_y μ_y μ_yᵀ.

The ground truth (W⋆ or the μ_y) is drawn once from ``truth_seed``; data sets from the
caller's generator. Inputs are returned as X ∈ R^{d×n} (columns are samples).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .model import softmax_


@dataclass(frozen=True)
class Truth:
    """A data law μ: ``kind`` ("logistic" or "mixture") and its parameter matrix (k×d)."""

    kind: str
    params: np.ndarray

    @classmethod
    def make(cls, kind: str, k: int, d: int, signal: float, truth_seed: int) -> Truth:
        G = np.random.default_rng(np.random.SeedSequence(truth_seed)).standard_normal((k, d))
        params = signal * G / np.sqrt(d)
        params.setflags(write=False)
        return cls(kind, params)

    @property
    def k(self) -> int:
        return self.params.shape[0]

    @property
    def d(self) -> int:
        return self.params.shape[1]

    def second_moment(self) -> np.ndarray:
        """E[x xᵀ] under μ, exactly."""
        eye = np.eye(self.d)
        if self.kind == "logistic":
            return eye
        return eye + self.params.T @ self.params / self.k

    def draw(self, n: int, rng: np.random.Generator):
        """(X (d×n), y (n,)) i.i.d. from μ."""
        if self.kind == "logistic":
            X = rng.standard_normal((self.d, n))
            p = softmax_((self.params @ X)[None])[0]
            u = rng.random(n)
            y = (u[None, :] > np.cumsum(p, axis=0)).sum(axis=0)
            return X, np.minimum(y, self.k - 1)
        y = rng.integers(0, self.k, size=n)
        X = self.params[y].T + rng.standard_normal((self.d, n))
        return X, y
