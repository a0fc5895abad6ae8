"""The notebooks in notebooks/ run top to bottom (code cells executed in one namespace).

This runs the cells in-process rather than through a Jupyter kernel, so the test needs
no kernel install; the notebooks use only the package and numpy.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, capsys):
    nb = json.loads(path.read_text())
    namespace = {"__name__": "__notebook__"}
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        exec(compile(source, f"{path.name}[cell {i}]", "exec"), namespace)
    assert capsys.readouterr().out  # the notebook printed its results


def test_there_is_a_notebook():
    assert NOTEBOOKS
