"""The command line's logic, in-process (``gaussdistill.cli.main([...])`` with capsys).

Outputs are checked against the numeric core called directly on explicit matrices
(independent of the printing code). Exit codes and stderr of a real process are in
test_cli_process.py; errors in test_cli_errors.py.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import sympy as sp

import gaussdistill as gd
from gaussdistill import cli


def run(capsys, *argv):
    status = cli.main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_example_json_matches_the_library(capsys):
    status, out, err = run(capsys, "example", "--json", "--n", "50", "--rank", "1", "--seed", "3")
    assert status == 0, err
    rows = json.loads(out)["divergences"]
    problem = gd.example_problem(n=50, rank=1, seed=3)
    assert len(rows) == 6
    for row in rows:
        ref = gd.divergence(
            problem.student, problem.teacher, problem.X, problem.soft_noise, row["kind"], row["direction"]
        )
        assert row["total"] == float(ref.total)  # repr of a float64 reads back exactly
        assert row["bias"] + row["variance"] + row["rank"] == pytest.approx(row["total"], rel=1e-12)


def test_example_table_is_readable(capsys):
    status, out, _ = run(capsys, "example")
    assert status == 0
    lines = out.splitlines()
    assert any(line.split()[:2] == ["kind", "direction"] for line in lines)
    assert sum(line.startswith(("predictive", "convexity", "weight")) for line in lines) == 6
    assert "rank bottleneck at r = 2;" in out


def test_evaluate_reads_npz_and_json(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((3, 20)), rng.standard_normal((2, 20))
    np.savez(tmp_path / "data.npz", X=X, Y=Y)
    (tmp_path / "data.json").write_text(json.dumps({"X": X.tolist(), "Y": Y.tolist()}))
    teacher = gd.ridge_teacher(X, Y, 1.0, 0.5, 1.0)
    student = gd.rank_student(teacher, X, 1, lam=0.5, soft_noise=0.5, temperature=1.0)
    expected = float(gd.divergence(student, teacher, X, 0.5, "weight").total)
    for name in ("data.npz", "data.json"):
        status, out, err = run(
            capsys,
            "evaluate",
            str(tmp_path / name),
            "--json",
            "--kind",
            "weight",
            "--direction",
            "student||teacher",
            "--rank",
            "1",
        )
        assert status == 0, err
        (row,) = json.loads(out)["divergences"]
        assert row["total"] == pytest.approx(expected, rel=1e-14)


def printed_parts(text, values, s, w):
    """Evaluate the per-mode formulas that ``derive`` prints ("part = sum_{j=a..b} summand",
    "where" definitions of h_j, g_j, ...) at ``values`` and spectra ``s``, ``w``."""
    names = dict(values, d=len(s))
    symbols = {name: sp.Symbol(name) for name in ("lambda_T", "lambda_S", "Gamma_j", "rho_j")}
    parse = lambda expr: sp.parse_expr(expr.replace("log(", "ln("), local_dict=symbols)  # noqa: E731
    definitions, parts = [], {}
    for line in text.splitlines():
        where = re.match(r"^  (\w+_j) = (.+?)(?:\s{2,}\(.*\))?$", line)
        if where:
            definitions.append((sp.Symbol(where.group(1)), parse(where.group(2))))
        part = re.match(r"^(variance|bias|rank) = (?:sum_\{j=(.+?)\.\.(.+?)\} )?(.+)$", line)
        if part:
            parts[part.group(1)] = part.groups()[1:]
    out = {}
    for name, (lo, hi, body) in parts.items():
        terms = [(None, parse(body))] if lo is None else []
        if lo is not None:
            first = int(parse(lo).subs(names))
            last = int(parse(hi).subs(names))
            for j in range(first, last + 1):
                mode = dict(names, s_j=s[j - 1], w_j=w[j - 1])
                expr = parse(body)
                for symbol, definition in reversed(definitions):  # later definitions use earlier ones
                    expr = expr.subs(symbol, definition)
                terms.append((j, expr.subs({sp.Symbol(k): v for k, v in mode.items()})))
        out[name] = float(sum(expr.subs({sp.Symbol(k): v for k, v in names.items()}) for _, expr in terms))
    return out


@pytest.mark.parametrize("kind,rank", [("convexity", None), ("predictive", 1), ("weight", 1)])
def test_derive_prints_formulas_that_equal_the_numeric_core(capsys, kind, rank):
    argv = ["derive", "--kind", kind, "--d", "2", "--noiseless"] + (["--rank", str(rank)] if rank else [])
    status, out, err = run(capsys, *argv)
    assert status == 0, err
    values = dict(k=3, nu=0.7, tau=0.4, lambda_T=0.9, lambda_S=0.3, t_T=0.8, t_S=0.5, r=rank or 2)
    s, w = np.array([2.5, 1.2]), np.array([1.5, -0.6])
    printed = printed_parts(out, values, s, w)
    assert set(printed) == {"variance", "bias", "rank"}
    # The aligned model with V = I: X Xᵀ = diag(s), W⋆ = [diag(w); 0], noiseless labels.
    X = np.zeros((2, 5))
    X[0, 0], X[1, 1] = np.sqrt(s)
    w_star = np.zeros((3, 2))
    w_star[:2, :2] = np.diag(w)
    teacher = gd.ridge_teacher(X, w_star @ X, 0.9, 0.7, 0.8)
    student = gd.rank_student(teacher, X, rank or 2, lam=0.3, soft_noise=0.4, temperature=0.5)
    ref = gd.divergence(student, teacher, X, 0.4, kind)
    for part in ("variance", "bias", "rank"):
        assert printed[part] == pytest.approx(float(getattr(ref, part)), rel=1e-10, abs=1e-14), part


def test_derive_latex_and_export(tmp_path, capsys):
    cheap = ("derive", "--kind", "weight", "--d", "1", "--noiseless")  # one derivation, cached
    status, out, _ = run(capsys, *cheap, "--latex")
    assert status == 0
    assert r"\begin{align*}" in out and "variance" in out and r"\end{align*}" in out
    target = tmp_path / "kw.tex"
    status, out, _ = run(capsys, *cheap, "--out", str(target))
    assert status == 0
    assert target.exists() and (tmp_path / "kw_standalone.tex").exists()
    assert r"\begin{document}" in (tmp_path / "kw_standalone.tex").read_text()


def test_subcommands_are_listed_once_and_each_help_shows_an_example(capsys):
    parser = cli.build_parser()
    choices = parser._subparsers._group_actions[0].choices  # argparse keeps them here
    assert tuple(choices) == cli.SUBCOMMANDS
    for name in cli.SUBCOMMANDS:
        with pytest.raises(SystemExit) as exit_info:
            cli.main([name, "--help"])
        assert exit_info.value.code == 0
        out = capsys.readouterr().out
        assert "examples:" in out
        assert any(line.strip().startswith(f"gaussdistill {name}") for line in out.split("examples:")[1].splitlines())


def test_evaluate_samples_as_rows_is_the_transpose(tmp_path, capsys):
    rng = np.random.default_rng(4)
    X, Y = rng.standard_normal((3, 25)), rng.standard_normal((2, 25))
    np.savez(tmp_path / "cols.npz", X=X, Y=Y)
    np.savez(tmp_path / "rows.npz", X=X.T, Y=Y.T)  # scikit-learn layout: samples are rows
    totals = []
    for name, extra in (("cols.npz", []), ("rows.npz", ["--samples-as-rows"])):
        status, out, err = run(capsys, "evaluate", str(tmp_path / name), "--json", "--rank", "1", *extra)
        assert status == 0, err
        totals.append([row["total"] for row in json.loads(out)["divergences"]])
    assert totals[0] == totals[1]
    status, _, err = run(capsys, "evaluate", str(tmp_path / "rows.npz"), "--rank", "1")  # forgot the flag
    assert status == 2 and "columns are samples" in err
