"""Bad input ends with exit status 2 and one line on stderr naming the option; never a
traceback, a NaN, or numpy's RuntimeWarnings (in-process; test_cli_process.py checks a real
process)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gaussdistill import cli


def fail(capsys, argv):
    try:
        status = cli.main(argv)
    except SystemExit as exc:  # argparse's own errors
        status = exc.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_one_line_error(status, out, err, pattern):
    assert status == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "error:" in lines[0] and pattern in lines[0], lines[0]
    assert "Traceback" not in err and "RuntimeWarning" not in err


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Input files: X (3×10), Y (2×10), with one entry replaced by a hostile number."""
    folder = tmp_path_factory.mktemp("inputs")
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((3, 10)).tolist(), rng.standard_normal((2, 10)).tolist()
    text = json.dumps({"X": X, "Y": Y})
    first = json.dumps(X[0][0])
    files = {}
    for name, literal in (
        ("hugeint", "1" + "0" * 400),
        ("exponent", "1e400"),
        ("nan", "NaN"),
        ("infinity", "-Infinity"),
    ):
        files[name] = folder / f"{name}.json"
        files[name].write_text(text.replace(first, literal, 1))
    files["bigY"] = folder / "bigY.json"
    files["bigY"].write_text(json.dumps({"X": X, "Y": (1e200 * np.array(Y)).tolist()}))
    return files


@pytest.mark.parametrize(
    "argv,pattern",
    [
        (["example", "--noise", "1e160"], "--noise"),  # OverflowError traceback before
        (["example", "--soft-noise", "1e200"], "--soft-noise"),
        (["example", "--noise", "inf"], "--noise"),
        (["example", "--noise", "nan"], "--noise"),
        (["example", "--rank", "-1"], "--rank"),
        (["example", "--kind", "nope"], "--kind"),
        (["example", "--precision", "3"], "--precision"),
        (["example", "--precision", "100000"], "--precision"),  # ran for minutes before
        (["derive", "--d", "50"], "number of modes must be an int in 1..12"),
        (["derive", "--student", "teacher"], "invalid choice"),
        (["derive", "--kind", "weight", "--d", "1", "--noiseless", "--out", "/nonexistent-dir/x.tex"], "cannot write"),
    ],
)
def test_option_errors_are_one_line(capsys, argv, pattern):
    assert_one_line_error(*fail(capsys, argv), pattern)


@pytest.mark.parametrize(
    "name,pattern",
    [
        ("hugeint", "beyond float64's range"),  # an integer with 401 digits
        ("exponent", "1e400"),  # json reads it as inf
        ("nan", "NaN"),
        ("infinity", "-Infinity"),
    ],
)
def test_non_float64_numbers_in_json_input_are_named(capsys, data, name, pattern):
    status, out, err = fail(capsys, ["evaluate", str(data[name])])
    assert_one_line_error(status, out, err, pattern)
    assert str(data[name]) in err


def test_overflowing_data_is_one_line(capsys, data):
    assert_one_line_error(*fail(capsys, ["evaluate", str(data["bigY"])]), "overflow")


def test_missing_input_file(capsys, tmp_path):
    assert_one_line_error(*fail(capsys, ["evaluate", str(tmp_path / "none.npz")]), "does not exist")
