"""Issue 3 targets: the symbolic engine's derivation cost, its cache, and lambdify speed.

* Cold derivation of a full decomposition (K^Y, expectation over the label noise,
  rank-1 student, d = 3: the largest expression the engine builds) plus its LaTeX, in a
  fresh interpreter (imports included): target < 5 s.  Baseline measured in the same
  run: a fresh interpreter that only imports sympy (the floor any sympy engine pays).
* Repeated calls hit ``functools.lru_cache``: cached call vs the cold in-process
  derivation, target >= 1000x.
* numpy-lambdified evaluation of all four parts over a broadcast grid of 10^6 parameter
  points vs looping sympy ``subs(...).evalf()`` over a sample of points, both per point:
  target >= 100x.
"""
from __future__ import annotations

import subprocess
import sys
import time

import numpy as np

from run import best_time

_COLD = ("import time; t0 = time.perf_counter(); "
         "from gaussdistill.symbolic import aligned_decomposition; "
         "dec = aligned_decomposition('predictive', d=3, rank=1); tex = dec.latex(); "
         "dec.derivation(); print(time.perf_counter() - t0)")
_SYMPY = "import time; t0 = time.perf_counter(); import sympy; print(time.perf_counter() - t0)"

VALUES = dict(k=4, nu=0.8, tau=0.9, lambda_T=0.7, lambda_S=0.4, t_T=0.8, t_S=0.5,
              s=[3.5, 2.0, 1.0], w=[2.5, -1.5, 1.0])


def _fresh(code, repeat=3):
    """Best in-script time of ``code`` run in a fresh interpreter (``repeat`` runs)."""
    times = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True)
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return min(times)


def benchmarks():
    from gaussdistill.symbolic import aligned_decomposition
    from gaussdistill.symbolic.decomposition import _cached

    rows = []
    # (a) cold derivation + LaTeX in a fresh interpreter, against the 5 s budget.
    cold = _fresh(_COLD)
    sympy_import = _fresh(_SYMPY)
    rows.append(dict(
        name="cold derivation + LaTeX (K^Y, E over noise, r=1, d=3)",
        ours_s=cold, base_s=5.0, baseline="issue budget 5 s",
        ratio=cold / 5.0, target="< 5 s (ratio < 1)", ok=cold < 5.0,
        extra=f"fresh `import sympy` alone: {sympy_import:.3f} s (x{cold / sympy_import:.1f})"))

    # (b) cache: in-process cold derivation vs cached call.
    _cached.cache_clear()
    t0 = time.perf_counter()
    aligned_decomposition("predictive", d=3, rank=1).latex()
    derive_s = time.perf_counter() - t0
    hit_s = best_time(lambda: aligned_decomposition("predictive", d=3, rank=1), repeat=5,
                      number=1000)
    rows.append(dict(
        name="repeated aligned_decomposition call (lru_cache)",
        ours_s=hit_s, base_s=derive_s, baseline="in-process cold derivation",
        ratio=derive_s / hit_s, target=">= 1000x faster", ok=derive_s / hit_s >= 1000))

    # (c) lambdified numpy over 10^6 grid points vs sympy subs/evalf per point.
    dec = aligned_decomposition("predictive", d=3, rank=1)
    t0 = time.perf_counter()
    f = dec.lambdify("numpy")
    f(**VALUES)
    compile_s = time.perf_counter() - t0
    grid = dict(VALUES, nu=np.linspace(0.1, 2.0, 100)[:, None, None],
                lambda_S=np.linspace(0.0, 2.0, 100)[None, :, None],
                tau=np.linspace(0.5, 2.0, 100)[None, None, :])
    npts = 100**3
    out = f(**grid)
    assert out["total"].shape == (100, 100, 100)
    grid_s = best_time(lambda: f(**grid), repeat=3)
    S = dec.symbols
    rng = np.random.default_rng(0)
    sample = 50
    points = []
    for _ in range(sample):
        sub = {S[nm]: float(VALUES[nm]) for nm in ("k", "lambda_T", "t_T", "t_S")}
        sub.update({S["nu"]: rng.uniform(0.1, 2.0), S["lambda_S"]: rng.uniform(0, 2),
                    S["tau"]: rng.uniform(0.5, 2.0)})
        sub.update({S["s"][j]: VALUES["s"][j] for j in range(3)})
        sub.update({S["w"][j]: VALUES["w"][j] for j in range(3)})
        points.append(sub)
    parts = (dec.total, dec.bias, dec.variance, dec.rank)

    def loop():
        for sub in points:
            for e in parts:
                float(e.subs(sub).evalf())

    subs_s = best_time(loop, repeat=1) / sample
    per_point = grid_s / npts
    rows.append(dict(
        name="numpy lambdify, 10^6-point grid (4 parts), per point",
        ours_s=per_point, base_s=subs_s, baseline=f"sympy subs/evalf loop ({sample} points)",
        ratio=subs_s / per_point, target=">= 100x faster", ok=subs_s / per_point >= 100,
        extra=f"grid {grid_s:.3f} s total; lambdify(cse=True) compile {compile_s:.3f} s"))
    return rows


if __name__ == "__main__":
    for row in benchmarks():
        print(row)
