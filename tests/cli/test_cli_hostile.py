"""Hostile-user checks of the command line: interruption, memory exhaustion, dask scheduler
addresses, negative numbers written in exponent form, duplicated keys.

Each case must end with exit status 2 (130 for an interruption), exactly one line on stderr
naming the flag or key, no traceback, and nothing half-written next to ``--out``.
"""
from __future__ import annotations

import os
import time

import pytest

from gaussdistill.cli import main

SMALL = 'k = 3\nd = 4\nn = 30\nrank = 1\nreplicates = 20\nn_grid = [10, 20]\n'


@pytest.fixture
def setting_file(tmp_path):
    path = tmp_path / "setting.toml"
    path.write_text(SMALL)
    return path


def _status(argv):
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's own errors
        return exc.code


def _leftovers(folder):
    return [f for f in os.listdir(folder) if f.startswith(".gaussdistill")]


@pytest.mark.parametrize("exc, status, needle", [(KeyboardInterrupt, 130, "interrupted"),
                                                 (MemoryError, 2, "memory")])
def test_interruption_and_memory_exhaustion_are_one_line(tmp_path, setting_file, capsys, monkeypatch,
                                                         exc, status, needle, one_error_line):
    from gaussdistill.report import tables

    def boom(*args, **kwargs):
        raise exc()

    monkeypatch.setattr(tables, "decomposition_table", boom)
    out = tmp_path / "rep"
    assert main(["report", str(setting_file), "--out", str(out), "--no-pdf", "--progress", "never"]) == status
    one_error_line(needle)
    assert not out.exists() and not _leftovers(tmp_path)


@pytest.mark.parametrize("address, needles", [
    ("garbage", ["--scheduler", "'garbage'"]),                # no such host
    ("host:port:x", ["--scheduler", "'host:port:x'"]),
    ("", ["--scheduler", "''"]),
    ("inproc://x", ["--scheduler", "inproc://x"]),
    ("tcp://127.0.0.1:1", ["--scheduler", "127.0.0.1:1"]),   # nothing listens on port 1: refused
    ("tcp://127.0.0.1:99999", ["--scheduler", "0-65535"]),
    ("tcp://[::1", ["--scheduler"]),
])
def test_a_bad_scheduler_address_fails_fast_with_one_line(tmp_path, setting_file, address, needles, one_error_line):
    out = tmp_path / "sw"
    start = time.perf_counter()
    assert main(["sweep", str(setting_file), "--grid", "rank=0,1", "--replicates", "5", "--out", str(out),
                 "--no-figures", "--progress", "never", "--scheduler", address]) == 2
    assert time.perf_counter() - start < 10  # was 20 s (refused port) and 40 s (inproc://) before
    line = one_error_line(*needles)
    assert "//10.0.0.5:8786' (or" not in line.split("--scheduler", 1)[1][:30]  # message not cut at a colon
    assert not out.exists() and not _leftovers(tmp_path)


@pytest.mark.parametrize("argv, needles", [
    (["--noise", "-1e-3"], ["--noise", "> 0"]),
    (["--teacher-lam", "-2.5e1"], ["--teacher-lam", ">= 0"]),
    (["--student-lam", "-inf"], ["--student-lam", "finite"]),
    (["--noise", "-nan"], ["--noise", "finite"]),
])
def test_negative_numbers_in_exponent_form_are_read_as_numbers(capsys, argv, needles, one_error_line):
    # argparse took '-1e-3' for an option ("expected one argument")
    assert _status(["example", "--k", "3", "--d", "4", "--n", "20", "--rank", "1", *argv]) == 2
    line = one_error_line(*needles)
    assert "expected one argument" not in line


def test_a_duplicated_key_in_a_json_setting_is_named(tmp_path, capsys, one_error_line):
    path = tmp_path / "s.json"
    path.write_text('{"rank": 1, "rank": 2}')
    assert main(["report", str(path), "--out", str(tmp_path / "rep"), "--no-pdf"]) == 2
    one_error_line("'rank'", "more than once")


def test_a_repeated_grid_parameter_is_named(tmp_path, setting_file, capsys, one_error_line):
    out = tmp_path / "sw"
    assert main(["sweep", str(setting_file), "--grid", "rank=0", "--grid", "rank=1", "--out", str(out)]) == 2
    one_error_line("--grid", "'rank'", "more than once")
    assert not out.exists()


def test_derive_names_its_flags(tmp_path, capsys, one_error_line):
    # the library's argument names leaked: "path='…/x.tex': cannot write", "d=100: …"
    assert main(["derive", "--out", str(tmp_path / "missing" / "x.tex")]) == 2
    one_error_line("--out=")
    assert main(["derive", "--d", "100"]) == 2
    one_error_line("--d=100")


def test_an_underflow_names_the_extreme_flag_and_keeps_the_formula(capsys, one_error_line):
    # was: "an eigenvalue t_T·--noise²/(s_j + lam): noise, temperature or --teacher-lam is 0"
    # (the formula rewritten with flags, reading as if --teacher-lam were 0) and no flag named
    assert main(["example", "--k", "3", "--d", "4", "--n", "20", "--rank", "1", "--noise", "1e-200"]) == 2
    line = one_error_line("--noise 1e-200")
    assert "·--noise" not in line and "--teacher-lam is" not in line


@pytest.mark.parametrize("value, shown", [("1e300", "noise=1e+300"), ("1e-300", "noise=1e-300")])
def test_an_extreme_setting_key_is_named(tmp_path, capsys, value, shown, one_error_line):
    # the library's message names its arguments ("noise, temperature or lam"), not the file's keys
    path = tmp_path / "s.toml"
    path.write_text(f"k = 3\nd = 4\nn = 30\nrank = 1\nnoise = {value}\n")
    out = tmp_path / "rep"
    assert main(["report", str(path), "--out", str(out), "--no-pdf", "--progress", "never"]) == 2
    one_error_line(f"setting keys far from 1: {shown}")
    assert not out.exists() and not _leftovers(tmp_path)


def test_underflow_alone_prints_no_warning_and_the_numbers_match_mpmath(capsys):
    # --teacher-lam 1e300 printed two "numpy reported 'underflow ...'" lines; the float64
    # numbers equal the 30-digit evaluation (the underflowed terms are ~1e-598)
    import json

    argv = ["example", "--k", "3", "--d", "4", "--n", "20", "--rank", "1", "--teacher-lam", "1e300", "--json"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    fast = json.loads(captured.out)["divergences"]
    assert main(argv + ["--precision", "30"]) == 0
    exact = json.loads(capsys.readouterr().out)["divergences"]
    for a, b in zip(fast, exact):
        assert a["total"] == pytest.approx(b["total"], rel=1e-12, abs=1e-300)
