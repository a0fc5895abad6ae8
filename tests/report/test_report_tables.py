"""The report's tables hold the library's numbers, exactly, in CSV, JSON and LaTeX."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import gaussdistill as gd
from gaussdistill.report import Setting, tables

SMALL = Setting(k=3, d=4, n=30, rank=1, noise=0.4, soft_noise=0.3, student_lam=0.2, seed=3)


def test_decomposition_table_is_the_library_on_the_same_data():
    table = tables.decomposition_table(SMALL)
    # The same data, kernels built here without the report.
    ex = gd.example_problem(k=3, d=4, n=30, noise=0.4, seed=3)
    X, Y = ex.X, ex.Y
    teacher = gd.ridge_teacher(X, Y, 1.0, 0.4, 1.0)
    student = gd.rank_student(teacher, X, 1, lam=0.2, soft_noise=0.3, temperature=1.0)
    assert len(table) == 6
    for _, row in table.iterrows():
        res = gd.divergence(student, teacher, X, 0.3, row["kind"], row["direction"])
        for part in ("variance", "rank", "bias", "total"):
            assert row[part] == float(getattr(res, part))
        assert row["variance"] + row["rank"] + row["bias"] == pytest.approx(row["total"], rel=1e-12)


def test_written_files_round_trip_exactly(tmp_path):
    table = tables.decomposition_table(SMALL)
    csv, js, tex = tables.write_table(table, tmp_path, "dec", "caption")
    back = pd.read_csv(csv, keep_default_na=False)
    for part in ("variance", "rank", "bias", "total"):
        assert (back[part].to_numpy(dtype=float) == table[part].to_numpy()).all()   # bit for bit
    rows = json.loads(open(js).read())
    assert [r["total"] for r in rows] == list(table["total"])
    text = open(tex).read()
    for rule in (r"\toprule", r"\midrule", r"\bottomrule"):
        assert text.count(rule) == 1
    assert "$K^{Y}$" in text and r"$\bar{K}$" in text and "$K^{W}$" in text


def test_infinite_divergence_is_null_in_json_with_its_reason(tmp_path):
    table = tables.decomposition_table(SMALL.replace(student_temperature=0.0))
    _, js, tex = tables.write_table(table, tmp_path, "dec", "caption")
    rows = json.loads(open(js).read())
    weight = [r for r in rows if r["kind"] == "weight"]
    assert weight and all(r["total"] is None and "deterministic" in r["reason"] for r in weight)
    finite = [r for r in rows if r["total"] is not None]
    # one encoding with the CLI's --json: a finite row's reason is null (it was "")
    assert finite and all(r["reason"] is None for r in finite)
    assert r"$\infty$" in open(tex).read()


def test_sweep_and_grid_hold_the_library_numbers():
    sweep = tables.decomposition_sweep(SMALL, "rank", [0, 1, 2], kinds=("weight",))
    p = SMALL.problem(rank=2)
    res = gd.divergence(p.student, p.teacher, p.X, p.soft_noise, "weight")
    got = sweep[(sweep["x"] == 2) & (sweep["part"] == "total")]["value"].item()
    assert got == float(res.total)
    grid = tables.tradeoff_grid(SMALL, "rank", [0, 1], "student_lam", [0.1, 1.0])
    assert len(grid) == 4 and set(grid.columns) >= {"rank", "student_lam", "value", "objective"}
    cell = grid[(grid["rank"] == 1) & (grid["student_lam"] == 1.0)]["value"].item()
    q = SMALL.problem(student_lam=1.0)
    assert cell == float(gd.divergence(q.student, q.teacher, q.X, q.soft_noise, "predictive").total)


def test_latex_escapes_text():
    frame = pd.DataFrame({"name": ["a_b & 50% #1"], "value": [1.5e-7]})
    text = tables.to_latex(frame, "c", "tab:x")
    assert r"a\_b \& 50\% \#1" in text and r"$1.5\times 10^{-7}$" in text
    assert np.isfinite(frame["value"]).all()
