"""Every notebook in ``notebooks/`` runs top to bottom in a real Jupyter kernel (nbclient), as CI promises.

The kernel is the test's own Python (``python3``, the kernel spec ``make test`` installs into the venv, or
jupyter_client's native one), with the repository on ``PYTHONPATH`` so an uninstalled checkout works too. Each
notebook is executed from a copy, so the committed files keep their cleared outputs.
"""

from __future__ import annotations

import os
import re
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
    assert "<svg" in html and 'stroke="currentColor"' in html, "the theme-aware curves are missing"
    twins = [o for o in magic_cell.outputs if "stallmagic-static" in o.get("data", {}).get("text/html", "")]
    assert len(twins) == 1 and "Overfitting" in twins[0]["data"]["text/html"]  # the static twin, for nbconvert
    compare = next(c for c in nb.cells if c.source.strip() == "%stall compare")
    assert "best val_accuracy" in "".join(o.get("text", "") for o in compare.outputs)


def panel_html(nb) -> str:
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    return " ".join(str(m["state"].get("value", "")) for m in state.values() if m["model_name"] == "HTMLModel")


def stdout_of(nb, startswith: str) -> str:
    cell = next(c for c in nb.cells if c.cell_type == "code" and c.source.startswith(startswith))
    return "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")


def expect_titles(nb, titles: list[str]) -> None:
    html = panel_html(nb)
    missing = [t for t in titles if t not in html]
    assert not missing, f"the panels do not show {missing}"


def check_quickstart(nb) -> None:
    """The story holds: imbalance is found, class weights lift validation, the sweep and the kept fix print."""
    assert "Class imbalance" in stdout_of(nb, "print(run.report)")
    compare = stdout_of(nb, "stopped = ")
    row = next(line for line in compare.splitlines() if line.startswith("run 1 + Balanced class weights "))
    columns = re.split(r"\s{2,}", row)  # run, remedy, best, epoch, vs parent, gap, epochs, time, end
    assert float(columns[4]) > 0.05, compare  # class weights lift the best validation accuracy
    assert "Best:" in stdout_of(nb, "import stallmagic")
    assert "class_weight={0:" in stdout_of(nb, "print(fix.apply_to_source")


#: Checks beyond "runs without an error", per notebook: what each notebook's text promises is what it shows.
CHECKS = {
    "diagnose_fit.ipynb": check_diagnose_fit,
    "quickstart.ipynb": check_quickstart,
    "data_problems.ipynb": lambda nb: expect_titles(
        nb,
        ["Class imbalance", "Many labels look wrong", "Too little training data",
         "validation_split took the tail of ordered data", "Validation rows also appear in training"],
    ),
    "training_regime.ipynb": lambda nb: expect_titles(
        nb,
        ["Learning rate too high", "Learning rate too low", "One update per epoch", "The optimizer is the brake",
         "Overfitting"],
    ),
    "gradients_and_losses.ipynb": lambda nb: expect_titles(
        nb, ["Softmax on a single output unit", "Inputs are not scaled", "Vanishing gradients", "Dead ReLU units"]
    ),
}  # fmt: skip


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
