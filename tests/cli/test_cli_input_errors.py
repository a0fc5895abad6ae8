"""Bad input files and options: exit status 2, nothing on stdout, and one line on stderr
naming the input and what would be valid (in-process; test_cli_process.py runs a real
process for the exit code and the absence of a traceback)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from gaussdistill import cli


def cli_run(capsys, *argv):
    try:
        status = cli.main(list(argv))
    except SystemExit as exc:  # argparse's own errors
        status = exc.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_cli_error(result, pattern):
    status, out, err = result
    assert status == 2, (out, err)
    assert out == ""
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert re.search(pattern, err), err


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((3, 8)), rng.standard_normal((2, 8))
    out = {}

    def put(name, text):
        path = root / name
        path.write_text(text)
        out[name] = str(path)

    put("malformed.json", "{not json")
    put("list.json", json.dumps([1, 2, 3]))
    put("noY.json", json.dumps({"X": X.tolist()}))
    put("ragged.json", json.dumps({"X": [[1, 2, 3], [4, 5]], "Y": [[1, 2, 3]]}))
    put("nan.json", '{"X": [[NaN, 1, 2], [3, 4, 5]], "Y": [[1, 2, 3]]}')
    put("shape.json", json.dumps({"X": X.tolist(), "Y": Y[:, :5].tolist()}))
    put("ndim.json", json.dumps({"X": [1, 2, 3], "Y": [[1, 2, 3]]}))
    put("text.npz", "this is not a zip archive")
    put("wide.json", json.dumps({"X": rng.standard_normal((5, 3)).tolist(), "Y": Y[:, :3].tolist()}))
    np.savez(root / "noY.npz", X=X)
    out["noY.npz"] = str(root / "noY.npz")
    np.savez(root / "object.npz", X=np.array([[1, "a"]], dtype=object), Y=np.ones((1, 2)))
    out["object.npz"] = str(root / "object.npz")
    np.savez(root / "nan.npz", X=np.array([[np.nan, 1.0], [2.0, 3.0]]), Y=np.ones((1, 2)))
    out["nan.npz"] = str(root / "nan.npz")
    out["missing"] = str(root / "does_not_exist.npz")
    return out


@pytest.mark.parametrize(
    "name,pattern",
    [
        ("missing", r"gaussdistill: error: input file '.*does_not_exist\.npz' does not exist"),
        ("malformed.json", r"input file '.*malformed\.json' is not a valid \.npz or JSON file"),
        ("list.json", r"must hold a JSON object with keys 'X' and 'Y'"),
        ("noY.json", r"lacks Y: it needs arrays 'X' \(d×n, columns are samples\) and 'Y' \(k×n\)"),
        ("noY.npz", r"lacks Y"),
        ("ragged.json", r"X must be a real numeric matrix"),
        ("nan.json", r"input file '.*nan\.json' holds NaN, which is not a number"),
        ("nan.npz", r"X contains NaN entries; all entries must be finite"),
        ("shape.json", r"Y has shape \(2, 5\), expected \(any, 8\)"),
        ("ndim.json", r"X must be a 2-D matrix"),
        ("text.npz", r"is not a valid \.npz archive \(not a zip file\)"),
        ("object.npz", r"is not a valid \.npz or JSON file"),
    ],
)
def test_evaluate_malformed_input(capsys, files, name, pattern):
    assert_cli_error(cli_run(capsys, "evaluate", files[name]), pattern)


def test_evaluate_singular_design_with_zero_ridge(capsys, files):
    assert_cli_error(
        cli_run(capsys, "evaluate", files["wide.json"], "--teacher-lam", "0"),
        r"--teacher-lam=0 but X X\^T is singular \(rank 3 < d = 5",
    )


@pytest.mark.parametrize(
    "args,pattern",
    [
        (["--rank", "99"], r"--rank must be an integer in \[0, 6\]"),
        (["--noise", "0"], r"--noise must be > 0; got 0\.0"),
        (["--noise", "nan"], r"argument --noise: expected a finite number"),
        (["--soft-noise", "-1"], r"--soft-noise must be > 0"),
        (["--teacher-lam", "-2"], r"--teacher-lam must be >= 0; got -2\.0"),
        (["--student-temperature", "-1"], r"--student-temperature must be >= 0"),
        (["--precision", "5"], r"argument --precision: expected an integer in 16\.\.1000"),
        (
            ["--kind", "kl"],
            r"argument --kind: invalid choice: 'kl' \(choose from 'predictive', 'convexity', 'weight'\)",
        ),
        (["--direction", "s||t"], r"argument --direction: invalid choice"),
        (["--k", "0"], r"argument --k: expected a positive integer, got 0"),
        (["--seed", "-3"], r"argument --seed: expected an integer >= 0, got -3"),
        (["--noise", "abc"], r"argument --noise: expected a number, got 'abc'"),
    ],
)
def test_example_bad_options(capsys, args, pattern):
    assert_cli_error(cli_run(capsys, "example", "--n", "20", *args), pattern)


def test_good_call_succeeds_for_contrast(capsys, tmp_path):
    path = tmp_path / "ok.json"
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((3, 8)), rng.standard_normal((2, 8))
    path.write_text(json.dumps({"X": X.tolist(), "Y": Y.tolist()}))
    status, out, err = cli_run(capsys, "evaluate", str(path), "--rank", "1", "--json")
    assert status == 0, err
    assert json.loads(out)["divergences"]
