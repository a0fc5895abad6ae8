"""Accuracy of the KL estimators on the linear-Gaussian model, where K_n is exact.

For each dimension ``dim`` a small fixed-design problem is built (k = 1 output, d = dim
inputs, n = 4 dim samples, ν = τ = 1, λ_T = 1, t_T = 1; a full-rank student with
λ_S = 3, t_S = 0.5). The exact weight-space divergence K^W = KL(q_S ‖ q_T) comes from
``gd.kl_matrix_normal``; ``estimate_kl`` is given N flattened draws of each kernel
(``MatrixNormal.sample``), repeated with independent seeds.

Columns: exact K^W; mean error (bias) ± its Monte Carlo standard error; SD of the
estimates over repetitions; the mean reported stderr; the fraction of repetitions with
|error| <= 2 reported stderr; the largest |z| = |error| / stderr.

Usage::

    python benchmarks/estimator_accuracy.py                 # full table (a few minutes)
    python benchmarks/estimator_accuracy.py --reps 10 --sizes 500 2000 --dims 2 5
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import gaussdistill as gd

# The laws and their draws are the estimator tests' (tests/cases.py): one definition for both.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from cases import flat_draws as draws  # noqa: E402
from cases import lg_laws as problem  # noqa: E402


def run(dims, sizes, reps, methods, seed=0):
    rows = []
    for dim in dims:
        student, teacher, exact = problem(dim, seed)
        for n in sizes:
            for label, method, options in methods:
                t0 = time.perf_counter()
                values, errs = [], []
                for r in range(reps):
                    ss = np.random.SeedSequence([seed, dim, n, r])
                    sp, sq = ss.spawn(2)
                    est = gd.estimate_kl(draws(student, n, sp), draws(teacher, n, sq), method=method, **options)
                    values.append(est.value if label != "gaussian plug-in (no debias)" else est.plugin)
                    errs.append(est.stderr)
                values, errs = np.asarray(values), np.asarray(errs)
                err = values - exact
                z = np.abs(err) / errs
                rows.append(dict(method=label, dim=dim, N=n, exact=exact, bias=err.mean(),
                                 bias_se=err.std(ddof=1) / np.sqrt(reps), sd=values.std(ddof=1),
                                 stderr=errs.mean(), cover2=np.mean(z <= 2), zmax=z.max(),
                                 seconds=(time.perf_counter() - t0) / reps))
    return rows


METHODS = [("knn (k=1)", "knn", {"k": 1}), ("knn (k=5)", "knn", {"k": 5}),
           ("gaussian (debiased)", "gaussian", {}),
           ("gaussian plug-in (no debias)", "gaussian", {"debias": False})]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 5, 10, 20])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 2000, 10000])
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--methods", nargs="+", default=[m[0] for m in METHODS])
    args = parser.parse_args(argv)
    methods = [m for m in METHODS if m[0] in args.methods]
    rows = run(args.dims, args.sizes, args.reps, methods)
    print(f"{args.reps} repetitions per cell; error = estimate − exact K^W\n")
    print("| method | dim | N | exact K^W | bias ± MC se | SD of estimates | mean stderr "
          "| \\|err\\| ≤ 2 stderr | max \\|z\\| | s/estimate |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['method']} | {r['dim']} | {r['N']} | {r['exact']:.4f} | {r['bias']:+.4f} ± {r['bias_se']:.4f} | "
              f"{r['sd']:.4f} | {r['stderr']:.4f} | {r['cover2']:.2f} | {r['zmax']:.1f} | {r['seconds']:.3g} |")


if __name__ == "__main__":
    main()
