"""Every notebook in ``notebooks/`` runs top to bottom in a real Jupyter kernel (nbclient), as CI promises.

The kernel is the test's own Python (``python3``, the kernel spec ``make test`` installs into the venv, or
jupyter_client's native one), with the repository on ``PYTHONPATH`` so an uninstalled checkout works too. Each
notebook is executed from a copy, so the committed files keep their cleared outputs.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def execute(path: Path, workdir: Path):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=300,
        resources={"metadata": {"path": str(workdir)}},
        store_widget_state=True,
    )
    client.execute()
    return nb


@pytest.fixture()
def kernel_env(monkeypatch):
    path = os.environ.get("PYTHONPATH", "")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(ROOT), path) if p))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    monkeypatch.setenv("MPLBACKEND", "Agg")


def check_diagnose_fit(nb) -> None:
    """The %%diagnose_fit notebook: one panel, with the findings and the curves; the runs compare."""
    magic_cell = next(c for c in nb.cells if c.source.startswith("%%diagnose_fit"))
    widgets = [o for o in magic_cell.outputs if WIDGET_MIME in o.get("data", {})]
    assert len(widgets) == 1, magic_cell.outputs  # one panel, displayed once
    stdout = "".join(o.get("text", "") for o in magic_cell.outputs if o.get("name") == "stdout")
    assert stdout == ""  # the panel replaces the text report; verbose=0 prints nothing
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    html = " ".join(str(m["state"].get("value", "")) for m in state.values() if m["model_name"] == "HTMLModel")
    assert "Why is validation accuracy stuck?" in html
    assert "Overfitting" in html
    assert any(m["model_name"] == "ImageModel" for m in state.values()), "the curves image is missing"
    compare = next(c for c in nb.cells if c.source.strip() == "%stall compare")
    assert "best val_accuracy" in "".join(o.get("text", "") for o in compare.outputs)


#: Checks beyond "runs without an error", per notebook.
CHECKS = {"diagnose_fit.ipynb": check_diagnose_fit}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path, tmp_path, kernel_env):
    shutil.copy(path, tmp_path / path.name)
    nb = execute(tmp_path / path.name, tmp_path)  # raises CellExecutionError on any error
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", output
    check = CHECKS.get(path.name)
    if check is not None:
        check(nb)
