"""Shared checks for the command-line tests."""
from __future__ import annotations

import pytest


@pytest.fixture
def one_error_line(capsys):
    """The policy for a failed command: exactly one stderr line, no traceback, naming each needle."""

    def check(*needles):
        err = capsys.readouterr().err
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        assert "Traceback" not in err
        for needle in needles:
            assert needle in lines[0], lines[0]
        return lines[0]

    return check
