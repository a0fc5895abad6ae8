"""A few real processes (``python -m gaussdistill``): exit codes, stdout, stderr.

Logic is tested in-process (test_cli.py); these check what only a process shows: the
exit status, that no traceback or numpy RuntimeWarning reaches stderr, the entry point.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "gaussdistill", *args], capture_output=True, text=True, timeout=300)


def test_python_m_gaussdistill_runs_and_prints_json():
    proc = run_cli("example", "--json", "--n", "20", "--kind", "weight")
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)["divergences"]) == 2
    assert proc.stderr == ""


def test_overflow_exits_2_with_one_line_and_no_traceback():
    proc = run_cli("example", "--noise", "1e160")  # was: OverflowError traceback, exit 1
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "--noise" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_no_runtime_warning_before_the_error_line(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "big.json"
    path.write_text(
        json.dumps({"X": rng.standard_normal((3, 10)).tolist(), "Y": (1e200 * rng.standard_normal((2, 10))).tolist()})
    )
    proc = run_cli("evaluate", str(path))
    assert proc.returncode == 2
    assert proc.stderr.startswith("gaussdistill: error:") and proc.stderr.count("\n") == 1, proc.stderr
    assert "RuntimeWarning" not in proc.stderr
