"""The notebooks in notebooks/ run top to bottom in a real Jupyter kernel, and are stored
with their outputs (text and figures) so that they read on a repository page.

Each notebook is executed by nbclient in a fresh ``python3`` kernel (ipykernel; the
kernelspec is installed for the current interpreter if it is missing), in a temporary
working directory. A cell that raises fails the test with the cell's traceback.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
#: Notebooks that draw figures (their stored outputs must hold PNG images).
WITH_FIGURES = {"design_tradeoffs.ipynb", "bounds_in_simulation.ipynb"}


@pytest.fixture(scope="module")
def kernel_name():
    from jupyter_client.kernelspec import KernelSpecManager

    if "python3" not in KernelSpecManager().find_kernel_specs():
        import subprocess

        subprocess.run([sys.executable, "-m", "ipykernel", "install", "--user", "--name", "python3"],
                       check=True, capture_output=True)
    return "python3"


def _outputs(nb):
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_in_a_jupyter_kernel(path, tmp_path, kernel_name):
    nb = nbformat.read(path, as_version=4)
    env_backend = os.environ.pop("MPLBACKEND", None)   # let the kernel use its inline backend
    try:
        client = nbclient.NotebookClient(nb, kernel_name=kernel_name, timeout=120,
                                         resources={"metadata": {"path": str(tmp_path)}})
        client.execute()
    finally:
        if env_backend is not None:
            os.environ["MPLBACKEND"] = env_backend
    outputs = _outputs(nb)
    assert not [o for o in outputs if o.output_type == "error"]
    assert any(o.output_type == "stream" or "text/plain" in o.get("data", {}) for o in outputs)
    if path.name in WITH_FIGURES:
        assert any("image/png" in o.get("data", {}) for o in outputs), "no figure was drawn"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_stored_with_its_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code and all(cell.get("execution_count") for cell in code), "store the notebook executed"
    outputs = _outputs(nb)
    assert outputs and not [o for o in outputs if o.output_type == "error"]
    if path.name in WITH_FIGURES:
        assert any("image/png" in o.get("data", {}) for o in outputs)


def test_the_three_notebooks_are_there():
    names = {p.name for p in NOTEBOOKS}
    assert {"symbolic_walkthrough.ipynb", "design_tradeoffs.ipynb",
            "bounds_in_simulation.ipynb"} <= names
