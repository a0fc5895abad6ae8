"""KL between two soft-label laws with different τ: the row space against the n×n route.

* n = 2000, d = k = 10: ``kl_matrix_normal`` of two ``soft_labels`` laws (τ = 0.3 and 0.5)
  ≥ 50× faster than the same KL on the same laws given as dense n×n MatrixNormals.
* n = 10⁵, d = k = 10: ≤ 20× the time of forming X Xᵀ once; peak memory < 100 MB (an n×n
  float64 matrix would be 80 GB).
"""
from __future__ import annotations

import tracemalloc

import numpy as np

import gaussdistill as gd

from run import best_time


def _laws(k, d, n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((d, n))
    Y = rng.standard_normal((k, n))
    t1 = gd.ridge_teacher(X, Y, 1.0, 0.5)
    t2 = gd.ridge_teacher(X, Y + 0.1, 2.0, 0.7)
    return X, gd.soft_labels(t1, X, 0.3), gd.soft_labels(t2, X, 0.5)


def benchmarks():
    rows = []
    X, p, q = _laws(10, 10, 2000)
    ours = best_time(lambda: gd.kl_matrix_normal(p, q), repeat=5)
    dense_p, dense_q = gd.MatrixNormal(p.mean, p.col_cov), gd.MatrixNormal(q.mean, q.col_cov)
    base = best_time(lambda: gd.kl_matrix_normal(dense_p, dense_q), repeat=1)
    check = abs(gd.kl_matrix_normal(p, q) / gd.kl_matrix_normal(dense_p, dense_q) - 1)
    rows.append(dict(name="soft-label KL, τ 0.3 vs 0.5, n=2000, d=k=10", ours_s=ours, base_s=base,
                     baseline="same laws as dense n×n MatrixNormals", ratio=base / ours, target="≥ 50× faster",
                     ok=base / ours >= 50, extra=f"relative difference {check:.1e}"))
    X, p, q = _laws(10, 10, 100_000)
    gram = best_time(lambda: X @ X.T, repeat=5)
    ours = best_time(lambda: gd.kl_matrix_normal(p, q), repeat=3)
    tracemalloc.start()
    gd.kl_matrix_normal(p, q)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rows.append(dict(name="soft-label KL, τ 0.3 vs 0.5, n=1e5, d=k=10", ours_s=ours, base_s=gram,
                     baseline="X Xᵀ once", ratio=ours / gram, target="≤ 20× and < 100 MB",
                     ok=ours / gram <= 20 and peak < 100e6, extra=f"peak {peak / 1e6:.0f} MB"))
    return rows
