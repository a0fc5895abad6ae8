"""JSON output: only the digits asked for, and one encoding for infinities (null + reason)."""

from __future__ import annotations

import json
import math
from decimal import Decimal

import mpmath
import pytest

import gaussdistill as gd
from gaussdistill import cli


def strict_json(text):
    """Parse RFC 8259 JSON: NaN / Infinity are refused; numbers kept as their decimal text."""

    def refuse(name):
        raise AssertionError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_float=Decimal, parse_constant=refuse)


def significant_digits(number: Decimal) -> int:
    return len(number.normalize().as_tuple().digits)


def test_precision_prints_only_the_digits_asked_for(capsys):
    assert cli.main(["example", "--json", "--precision", "20", "--n", "30", "--kind", "weight"]) == 0
    rows = strict_json(capsys.readouterr().out)["divergences"]
    problem = gd.example_problem(n=30)
    for row in rows:
        ref = gd.divergence(
            problem.student, problem.teacher, problem.X, problem.soft_noise, "weight", row["direction"], precision=30
        )
        for part in ("total", "bias", "variance", "rank"):
            value = row[part]
            assert isinstance(value, Decimal), (part, value)  # a JSON number, not a string
            assert significant_digits(value) <= 20, (part, value)
            if value != 0:  # the 20 digits printed are right (30-digit reference)
                assert abs(value - Decimal(mpmath.nstr(getattr(ref, part), 30))) <= Decimal("1e-19") * abs(value)


def test_float64_json_numbers_read_back_exactly(capsys):
    assert cli.main(["example", "--json", "--n", "30", "--kind", "predictive"]) == 0
    rows = json.loads(capsys.readouterr().out)["divergences"]
    problem = gd.example_problem(n=30)
    for row in rows:
        ref = gd.divergence(
            problem.student, problem.teacher, problem.X, problem.soft_noise, "predictive", row["direction"]
        )
        assert row["total"] == float(ref.total) and row["reason"] is None


@pytest.mark.parametrize("precision", [None, "20"])
def test_an_infinite_divergence_is_null_with_a_reason(capsys, precision):
    # t_T = 0: the teacher's weight law is a point mass and the student's is not, so K^W = +inf
    argv = ["example", "--json", "--n", "20", "--kind", "weight", "--teacher-temperature", "0"]
    assert cli.main(argv + (["--precision", precision] if precision else [])) == 0
    rows = strict_json(capsys.readouterr().out)["divergences"]
    assert len(rows) == 2
    for row in rows:
        assert row["total"] is None
        assert isinstance(row["reason"], str) and "deterministic" in row["reason"]
        for part in ("bias", "variance", "rank"):
            assert row[part] is None or (isinstance(row[part], Decimal) and math.isfinite(row[part]))


def test_finite_rows_have_no_null_and_no_reason(capsys):
    assert cli.main(["example", "--json", "--n", "20"]) == 0
    for row in strict_json(capsys.readouterr().out)["divergences"]:
        assert row["reason"] is None
        assert all(isinstance(row[p], Decimal) for p in ("total", "bias", "variance", "rank"))
