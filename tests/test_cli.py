"""The command line: the README's main job and the symbolic `derive` subcommand.

Outputs are checked against the numeric core on explicit matrices (independent of the
printing code), and errors end in one line on stderr with exit status 2.
"""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

import gaussdistill as gd


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "gaussdistill", *args], capture_output=True, text=True,
                          timeout=300)


def test_example_json_matches_the_library():
    proc = run_cli("example", "--json", "--n", "50", "--rank", "1", "--seed", "3")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    problem = gd.example_problem(n=50, rank=1, seed=3)
    assert len(out["divergences"]) == 6
    for row in out["divergences"]:
        ref = gd.divergence(problem.student, problem.teacher, problem.X, problem.soft_noise,
                            row["kind"], row["direction"])
        assert row["total"] == pytest.approx(ref.total, rel=1e-12)
        assert row["bias"] + row["variance"] + row["rank"] == pytest.approx(row["total"], rel=1e-12)


def test_example_table_is_readable():
    proc = run_cli("example")
    assert proc.returncode == 0, proc.stderr
    head = proc.stdout.splitlines()
    assert any(line.split()[:2] == ["kind", "direction"] for line in head)
    assert sum(line.startswith(("predictive", "convexity", "weight")) for line in head) == 6


def test_evaluate_reads_npz(tmp_path):
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((3, 20)), rng.standard_normal((2, 20))
    np.savez(tmp_path / "data.npz", X=X, Y=Y)
    proc = run_cli("evaluate", str(tmp_path / "data.npz"), "--json", "--kind", "weight", "--rank", "1")
    assert proc.returncode == 0, proc.stderr
    row = json.loads(proc.stdout)["divergences"][0]
    teacher = gd.ridge_teacher(X, Y, 1.0, 0.5, 1.0)
    student = gd.rank_student(teacher, X, 1, lam=0.5, soft_noise=0.5, temperature=1.0)
    assert row["total"] == pytest.approx(gd.divergence(student, teacher, X, 0.5, "weight").total, rel=1e-12)


def test_derive_prints_expressions_that_equal_the_numeric_core():
    proc = run_cli("derive", "--kind", "convexity", "--d", "2", "--noiseless")
    assert proc.returncode == 0, proc.stderr
    line = next(line for line in proc.stdout.splitlines() if line.startswith("total = "))
    expr = sp.sympify(line[len("total = "):])
    values = dict(k=3, nu=0.7, tau=0.4, lambda_T=0.9, lambda_S=0.3, t_T=0.8, t_S=0.5,
                  s_1=2.5, s_2=1.2, w_1=1.5, w_2=-0.6)
    number = float(expr.subs({sp.Symbol(name): val for name, val in values.items()}))
    # The aligned model with V = I: X Xᵀ = diag(s), W⋆ = [diag(w); 0], noiseless labels.
    s, w = np.array([2.5, 1.2]), np.array([1.5, -0.6])
    X = np.zeros((2, 5))
    X[0, 0], X[1, 1] = np.sqrt(s)
    w_star = np.zeros((3, 2))
    w_star[:2, :2] = np.diag(w)
    teacher = gd.ridge_teacher(X, w_star @ X, 0.9, 0.7, 0.8)
    student = gd.rank_student(teacher, X, 2, lam=0.3, soft_noise=0.4, temperature=0.5)
    assert number == pytest.approx(gd.divergence(student, teacher, X, 0.4, "convexity").total, rel=1e-10)


def test_derive_latex_and_export(tmp_path):
    proc = run_cli("derive", "--kind", "weight", "--latex")
    assert proc.returncode == 0, proc.stderr
    assert r"\begin{align*}" in proc.stdout and r"\text{variance}" in proc.stdout
    target = tmp_path / "kw.tex"
    proc = run_cli("derive", "--kind", "weight", "--out", str(target))
    assert proc.returncode == 0, proc.stderr
    assert target.exists() and (tmp_path / "kw_standalone.tex").exists()
    assert r"\begin{document}" in (tmp_path / "kw_standalone.tex").read_text()


@pytest.mark.parametrize("args,pattern", [
    (["derive", "--d", "50"], "number of modes must be an int in 1..12"),
    (["derive", "--kind", "weight", "--out", "/nonexistent-dir/x.tex"], "cannot write"),
    (["derive", "--student", "teacher"], "invalid choice"),
])
def test_derive_errors_are_one_line(args, pattern):
    proc = run_cli(*args)
    assert proc.returncode == 2
    assert pattern in proc.stderr and "Traceback" not in proc.stderr
