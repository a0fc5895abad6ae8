"""Speed of the bound evaluators (ratios against baselines timed in the same run).

* ψ of a Gaussian quadratic form from its eigen-data (``QuadraticFormCGF``, vectorised over 50
  λ values, including one ``eigh`` to get the eigen-data) vs the dense route per λ
  (slogdet + solve of I − 2λA, p = 300): target >= 10x faster.
* ``cgf_bound`` (grid bracket + bounded refinement) vs evaluating ψ once on its 321-point grid
  (p = 2·10^4 eigenvalues): the minimiser's overhead, target <= 2x.

Timings are medians of interleaved repeats.
"""
from __future__ import annotations

import numpy as np

from gaussdistill import bounds as B

from run import interleaved_pair as interleaved


def _dense(A, b, lams):
    out = []
    for lam in lams:
        M = np.eye(A.shape[0]) - 2.0 * lam * A
        _, logdet = np.linalg.slogdet(M)
        out.append(-0.5 * logdet + 0.5 * lam**2 * b @ np.linalg.solve(M, b) - lam * np.trace(A))
    return np.array(out)


def benchmarks():
    rows = []
    rng = np.random.default_rng(0)
    p = 300
    G = rng.standard_normal((p, p))
    A = (G + G.T) / (4 * np.sqrt(p))
    b = rng.standard_normal(p)
    hi = 1 / (2 * np.linalg.eigvalsh(A).max())
    lams = np.linspace(-0.9, 0.9, 50) * hi
    ours_fn = lambda: B.QuadraticFormCGF.from_matrix(A, b)(lams)  # noqa: E731
    err = np.max(np.abs(ours_fn() - _dense(A, b, lams)))
    ours, base = interleaved(ours_fn, lambda: _dense(A, b, lams), repeat=5)
    rows.append(dict(name=f"quadratic-form ψ at 50 λ, p={p} (eigh included)", ours_s=ours, base_s=base,
                     baseline="slogdet + solve of I − 2λA per λ", ratio=base / ours, target=">= 10x faster",
                     ok=base / ours >= 10, extra=f"max |diff| {err:.1e}"))
    big = B.QuadraticFormCGF(rng.uniform(-1, 1, 20_000) / 20_000, rng.standard_normal(20_000) / 150)
    grid = np.linspace(-0.99, 0.99, 321) * 10_000
    ours, base = interleaved(lambda: B.cgf_bound(0.1, big, 0.0), lambda: big(grid), repeat=5)
    rows.append(dict(name="cgf_bound, p=2e4 quadratic form", ours_s=ours, base_s=base,
                     baseline="ψ on a 321-point grid once", ratio=ours / base, target="<= 2x",
                     ok=ours <= 2 * base))
    return rows


if __name__ == "__main__":
    for row in benchmarks():
        print(row)
