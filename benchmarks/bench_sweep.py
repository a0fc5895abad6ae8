"""Sweeps: 64 CPU-bound settings on a 2-worker dask LocalCluster against in-process serial.

The setting is a real :class:`gaussdistill.CaseStudy` (k = 4, d = 10, n = 60, rank 2) whose
``run`` (the batched pipeline simulation plus every bound) takes about 1 s: ``replicates`` is
calibrated in this run (doubled until one run takes >= 1 s on one BLAS thread). The grid has
64 settings (8 student ridges × 2 ranks × 4 teacher ridges). Both executors get the same grid
and seed; the target is >= 1.6× faster on the cluster (2 worker processes, 1 thread each,
started before the clock), with tables equal bit for bit. Rounds are interleaved; medians.
The ratio needs two otherwise idle cores: on a shared machine it measures the load too.
"""
from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd

import gaussdistill as gd
from gaussdistill.estimators._threads import single_blas_thread

GRID = {"student_lam": [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4], "rank": [1, 2],
        "teacher_lam": [0.5, 1.0, 2.0, 4.0]}
ROUNDS = int(os.environ.get("GAUSSDISTILL_BENCH_ROUNDS", "2"))


def base_setting():
    rng = np.random.default_rng(0)
    return gd.CaseStudy(X=rng.standard_normal((10, 60)), W_star=rng.standard_normal((4, 10)), noise=0.5, rank=2)


def calibrate(cs, target_s: float = 1.0) -> tuple[int, float]:
    """Smallest replicates = 500·2^j with one run >= target_s (one BLAS thread), and that time."""
    replicates = 500
    with single_blas_thread():
        cs.run(replicates, seed=np.random.SeedSequence(0))          # warm up
        while True:
            t0 = time.perf_counter()
            cs.run(replicates, seed=np.random.SeedSequence(0))
            took = time.perf_counter() - t0
            if took >= target_s or replicates >= 2**20:
                return replicates, took
            replicates *= 2


def benchmarks():
    from dask.distributed import Client, LocalCluster

    cs = base_setting()
    replicates, task_s = calibrate(cs)
    n_tasks = int(np.prod([len(v) for v in GRID.values()]))
    times = {"serial": [], "cluster": []}
    tables = {}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=40) as cluster, Client(cluster, set_as_default=False) as client:
        client.run(lambda: __import__("gaussdistill").CaseStudy)      # workers import the package
        for _ in range(ROUNDS):
            for name, kwargs in (("serial", {}), ("cluster", {"client": client})):
                t0 = time.perf_counter()
                tables[name] = gd.sweep(GRID, base=cs, replicates=replicates, seed=0, progress=False, **kwargs)
                times[name].append(time.perf_counter() - t0)
    serial, dist = float(np.median(times["serial"])), float(np.median(times["cluster"]))
    try:
        pd.testing.assert_frame_equal(tables["serial"], tables["cluster"], check_exact=True)
        same, why = True, ""
    except AssertionError as exc:
        same, why = False, " (" + " ".join(str(exc).split())[:200] + ")"
    speedup = serial / dist
    return [dict(name=f"sweep, {n_tasks} CaseStudy settings (~{task_s:.2f} s each, {replicates} replicates), "
                      "2-worker LocalCluster", ours_s=dist, baseline="in-process serial sweep", base_s=serial,
                 ratio=speedup, target=">= 1.6x faster, identical table", ok=bool(speedup >= 1.6 and same),
                 extra=f"tables identical: {same}{why}; {ROUNDS} interleaved rounds; load average "
                       f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")]


if __name__ == "__main__":
    for row in benchmarks():
        print(row)
