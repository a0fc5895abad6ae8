"""gd.sweep on a real dask.distributed LocalCluster (2 worker processes) equals the in-process
table exactly: the numbers do not depend on the executor or the number of workers.

Skipped when the optional dask extra is not installed.
"""
from __future__ import annotations

import dataclasses
import sys

import numpy as np
import pandas as pd
import pytest

import gaussdistill as gd
from gaussdistill.simulation.sweep import SweepWarning

distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")


@dataclasses.dataclass(frozen=True)
class Blas:
    """A sweepable setting doing BLAS work (GEMM, solve, eigh) whose rounding would show thread effects."""

    size: int = 60
    shift: float = 1.0

    def replace(self, **overrides):
        if overrides.get("size", 1) < 1:
            raise ValueError("size must be >= 1")
        return dataclasses.replace(self, **overrides)

    def run(self, replicates, seed):
        rng = np.random.default_rng(seed)
        a = rng.standard_normal((replicates, self.size, self.size))
        s = a @ a.transpose(0, 2, 1) + self.shift * np.eye(self.size)
        x = np.linalg.solve(s, rng.standard_normal((replicates, self.size, 1)))[..., 0]
        ev = np.linalg.eigvalsh(s)
        return pd.DataFrame({"quantity": ["solve_norm", "top_eig"],
                             "value": [float(np.sum(x * x)), float(ev[:, -1].mean())],
                             "stderr": [0.0, float(ev[:, -1].std(ddof=1) / np.sqrt(replicates))]})


@pytest.fixture(scope="module")
def cluster():
    # Workers unpickle the setting class by value: this test module is not importable there.
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=40) as lc, Client(lc, set_as_default=False) as client:
        yield lc, client
    cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def _case_study():
    rng = np.random.default_rng(0)
    return gd.CaseStudy(X=rng.standard_normal((3, 20)), W_star=rng.standard_normal((2, 3)), noise=0.5, rank=1)


def test_local_cluster_equals_in_process_exactly(cluster):
    lc, client = cluster
    grid = {"size": [40, 0, 80], "shift": [0.5, 2.0]}              # size 0: two failed settings
    with pytest.warns(SweepWarning):
        local = gd.sweep(grid, base=Blas(), replicates=8, seed=3)
    with pytest.warns(SweepWarning):
        remote = gd.sweep(grid, base=Blas(), replicates=8, seed=3, client=client)
    pd.testing.assert_frame_equal(local, remote, check_exact=True)
    assert (local["error"] != "").sum() == 2
    with pytest.warns(SweepWarning):                                   # a scheduler address string
        by_address = gd.sweep(grid, base=Blas(), replicates=8, seed=3, client=lc.scheduler_address)
    pd.testing.assert_frame_equal(local, by_address, check_exact=True)


def test_local_cluster_case_study(cluster):
    _, client = cluster
    cs = _case_study()
    grid = {"rank": [1, 2], "student_lam": [0.1, 1.0]}
    local = gd.sweep(grid, base=cs, replicates=40, seed=0)
    remote = gd.sweep(grid, base=cs, replicates=40, seed=0, client=client)
    pd.testing.assert_frame_equal(local, remote, check_exact=True)


def test_local_cluster_logistic_setting(cluster):
    _, client = cluster
    base = gd.LogisticSetting(k=3, d=3, n=60, rank=1, n_chains=16, n_steps=100, burn_in=50, n_test=500)
    grid = {"temperature": [1.0, 4.0], "rank": [1, 2]}
    local = gd.sweep(grid, base=base, replicates=2, seed=0)
    remote = gd.sweep(grid, base=base, replicates=2, seed=0, client=client)
    pd.testing.assert_frame_equal(local, remote, check_exact=True)


def test_unreachable_scheduler_is_a_clear_error(monkeypatch):
    monkeypatch.setattr("gaussdistill.simulation.sweep.CONNECT_TIMEOUT", "1s")
    with pytest.raises(gd.GaussDistillError, match="client: could not connect"):
        gd.sweep({"size": [4]}, base=Blas(), replicates=2, client="tcp://127.0.0.1:1")
