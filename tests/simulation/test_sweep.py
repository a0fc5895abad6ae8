"""gd.sweep: grid order, the seed protocol, failures kept, bad input, dask only when asked for.

The in-process run is checked against direct calls of ``base.replace(**s).run(R, seed=child)``
with the children of ``SeedSequence(seed).spawn(n)`` computed here; the dask executor is
checked against the in-process table in tests/simulate/test_sweep_dask.py.
"""
from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pandas as pd
import pytest

import gaussdistill as gd
from gaussdistill.simulation.sweep import SweepWarning


@dataclasses.dataclass(frozen=True)
class Toy:
    """A tiny sweepable setting: the mean and second moment of N(mean, scale²) draws."""

    mean: float = 0.0
    scale: float = 1.0
    fail_at: float | None = None

    def replace(self, **overrides):
        return dataclasses.replace(self, **overrides)

    def run(self, replicates, seed):
        if self.fail_at is not None and self.mean == self.fail_at:
            raise ValueError(f"boom at mean={self.mean}")
        x = self.mean + self.scale * np.random.default_rng(seed).standard_normal(replicates)
        a = x.reshape(-1, 1) @ x.reshape(1, -1)            # some BLAS work
        return pd.DataFrame({"quantity": ["mean", "second_moment", "trace"],
                             "value": [x.mean(), np.mean(x**2), np.trace(a)],
                             "stderr": [x.std(ddof=1) / np.sqrt(replicates), np.std(x**2, ddof=1) / np.sqrt(replicates),
                                        0.0]})


GRID = {"mean": [0.0, 1.0, 2.0], "scale": [1.0, 3.0]}


def test_rows_in_grid_order_and_equal_to_direct_runs():
    table = gd.sweep(GRID, base=Toy(), replicates=50, seed=7)
    assert list(table.columns[:3]) == ["setting", "mean", "scale"] and table.columns[-1] == "error"
    assert len(table) == 6 * 3 and (table["error"] == "").all()
    combos = [(m, s) for m in GRID["mean"] for s in GRID["scale"]]     # last key fastest
    children = np.random.SeedSequence(7).spawn(6)
    for i, ((m, s), child) in enumerate(zip(combos, children)):
        rows = table[table["setting"] == i]
        assert (rows["mean"] == m).all() and (rows["scale"] == s).all()
        direct = Toy(mean=m, scale=s).run(50, seed=child)
        np.testing.assert_array_equal(rows["value"].to_numpy(), direct["value"].to_numpy())
        assert list(rows["quantity"]) == list(direct["quantity"])


def test_reproducible_and_seed_dependent():
    a = gd.sweep(GRID, base=Toy(), replicates=20, seed=1)
    pd.testing.assert_frame_equal(a, gd.sweep(GRID, base=Toy(), replicates=20, seed=1), check_exact=True)
    assert not a["value"].equals(gd.sweep(GRID, base=Toy(), replicates=20, seed=2)["value"])
    fresh = gd.sweep({"mean": [0.0]}, base=Toy(), replicates=20, seed=None)
    again = gd.sweep({"mean": [0.0]}, base=Toy(), replicates=20,
                     seed=np.random.SeedSequence(fresh.attrs["seed_entropy"]))
    pd.testing.assert_frame_equal(fresh, again, check_exact=True)


def test_a_seed_sequence_is_not_consumed():
    # SeedSequence.spawn advances the object: the same SeedSequence passed twice used to give
    # two different tables (and left the caller's object changed).
    ss = np.random.SeedSequence(5)
    a = gd.sweep({"mean": [0.0, 1.0]}, base=Toy(), replicates=10, seed=ss)
    b = gd.sweep({"mean": [0.0, 1.0]}, base=Toy(), replicates=10, seed=ss)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    pd.testing.assert_frame_equal(a, gd.sweep({"mean": [0.0, 1.0]}, base=Toy(), replicates=10, seed=5),
                                  check_exact=True)
    assert ss.n_children_spawned == 0


def test_progress_is_silent_when_not_on_a_terminal(capfd):
    gd.sweep({"mean": [0.0, 1.0]}, base=Toy(), replicates=5, seed=0)
    assert capfd.readouterr().err == ""                      # pytest's stderr is not a terminal
    gd.sweep({"mean": [0.0, 1.0]}, base=Toy(), replicates=5, seed=0, progress=True)
    assert "sweep" in capfd.readouterr().err


def test_list_of_settings_grid():
    table = gd.sweep([{"mean": 5.0}, {"scale": 2.0}], base=Toy(), replicates=10, seed=0)
    assert list(table["mean"].iloc[[0, 3]]) == [5.0, None] and list(table["scale"].iloc[[0, 3]]) == [None, 2.0]


def test_failed_setting_is_reported_and_the_rest_kept():
    with pytest.warns(SweepWarning, match=r"1 of 3 .*setting 1 mean=1\.0.*boom at mean=1\.0"):
        table = gd.sweep({"mean": [0.0, 1.0, 2.0]}, base=Toy(fail_at=1.0), replicates=10, seed=0)
    bad = table[table["error"] != ""]
    assert list(bad["setting"]) == [1] and bad["quantity"].isna().all() and "ValueError" in bad["error"].iloc[0]
    assert (table[table["setting"] != 1]["error"] == "").all() and len(table) == 3 + 1 + 3
    (failed,) = table.attrs["failed"]
    assert failed["mean"] == 1.0 and failed["setting"] == 1 and failed["error"] == "ValueError: boom at mean=1.0"
    assert "in run" in failed["traceback"]
    good = gd.sweep({"mean": [0.0, 1.0, 2.0]}, base=Toy(), replicates=10, seed=0)   # the others: same draws
    keep = table["setting"] != 1
    np.testing.assert_array_equal(table[keep]["value"], good[good["setting"] != 1]["value"])


def test_invalid_value_is_a_failed_setting_not_a_crash():
    cs = _case_study()
    with pytest.warns(SweepWarning, match="rank=7"):
        table = gd.sweep({"rank": [1, 7]}, base=cs, replicates=20, seed=0)
    assert (table[table["setting"] == 0]["error"] == "").all()
    assert "rank" in table[table["setting"] == 1]["error"].iloc[0]


class NeverRun(Toy):
    def run(self, replicates, seed):  # pragma: no cover - must not be reached
        raise AssertionError("run() called although the grid was invalid")


@pytest.mark.parametrize("kwargs,match", [
    (dict(grid={"meen": [1.0]}), "unknown grid parameter 'meen'"),
    (dict(grid=[{"mean": 1.0}, {"sigma": 2.0}]), "unknown grid parameter 'sigma'"),
    (dict(grid={"mean": 1.0}), r"grid\['mean'\] must be a list"),
    (dict(grid={"mean": "abc"}), r"grid\['mean'\] must be a list"),
    (dict(grid={"mean": []}), r"grid\['mean'\] is empty"),
    (dict(grid={}), "grid has no settings"),
    (dict(grid="mean"), "grid must be a mapping"),
    (dict(grid={1: [1.0]}), "must be strings"),
    (dict(replicates=0), "replicates"),
    (dict(replicates=2.5), "replicates"),
    (dict(seed=-1), "seed"),
    (dict(seed="0"), "seed"),
    (dict(client=3), "client must be None"),
    (dict(client=object()), "client must be None"),
    (dict(client="threads"), "not a dask scheduler address"),
    (dict(client=""), "not a dask scheduler address"),
    (dict(progress="yes"), "progress"),
    (dict(base=object()), "base must be a sweepable setting"),
])
def test_bad_input(kwargs, match):
    args = dict(grid={"mean": [0.0]}, base=NeverRun(), replicates=5, seed=0) | kwargs
    with pytest.raises(gd.GaussDistillError, match=match):
        gd.sweep(**args)


def test_unknown_parameter_of_the_case_study():
    with pytest.raises(gd.GaussDistillError, match="unknown grid parameter 'ranks'"):
        gd.sweep({"ranks": [1]}, base=_case_study(), replicates=10)


def test_dask_is_imported_only_when_asked_for():
    code = textwrap.dedent("""
        import sys, dataclasses, numpy as np, pandas as pd, gaussdistill as gd
        @dataclasses.dataclass(frozen=True)
        class T:
            a: float = 0.0
            def replace(self, **kw): return dataclasses.replace(self, **kw)
            def run(self, replicates, seed):
                x = np.random.default_rng(seed).random()
                return pd.DataFrame({"quantity": ["x"], "value": [x], "stderr": [0.0]})
        gd.sweep({"a": [1.0, 2.0]}, base=T(), replicates=3, seed=0)
        bad = sorted(m for m in sys.modules if m.split(".")[0] in ("dask", "distributed"))
        print(bad)
        sys.exit(1 if bad else 0)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_case_study_sweep_matches_direct_runs():
    cs = _case_study()
    with warnings.catch_warnings():
        warnings.simplefilter("error", SweepWarning)
        table = gd.sweep({"rank": [1, 2], "student_lam": [0.1, 1.0]}, base=cs, replicates=40, seed=0)
    assert table["setting"].nunique() == 4 and (table["error"] == "").all()
    child = np.random.SeedSequence(0).spawn(4)[3]
    direct = cs.replace(rank=2, student_lam=1.0).run(40, seed=child)
    rows = table[table["setting"] == 3]
    np.testing.assert_array_equal(rows["value"].to_numpy(), direct["value"].to_numpy())
    assert (rows["rank"] == 2).all() and (rows["student_lam"] == 1.0).all()


def _case_study():
    rng = np.random.default_rng(0)
    return gd.CaseStudy(X=rng.standard_normal((3, 20)), W_star=rng.standard_normal((2, 3)), noise=0.5, rank=1)


def _logistic():
    return gd.LogisticSetting(k=3, d=3, n=60, rank=1, n_chains=16, n_steps=100, burn_in=50, n_test=500)


def test_logistic_setting_sweep_matches_direct_runs():
    base = _logistic()
    with warnings.catch_warnings():
        warnings.simplefilter("error", SweepWarning)
        table = gd.sweep({"temperature": [1.0, 4.0], "rank": [1, 2]}, base=base, replicates=2, seed=5)
    child = np.random.SeedSequence(5).spawn(4)[2]
    direct = base.replace(temperature=4.0, rank=1).run(2, seed=child)
    rows = table[table["setting"] == 2]
    np.testing.assert_array_equal(rows["value"].to_numpy(), direct["value"].to_numpy())
    with pytest.raises(gd.GaussDistillError, match="unknown grid parameter 'temp'"):
        gd.sweep({"temp": [1.0]}, base=base, replicates=2)
