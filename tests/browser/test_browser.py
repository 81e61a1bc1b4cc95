"""What a user sees: JupyterLab 4 in Debian's Chromium, driven by Playwright, through the %%diagnose_fit panel.

A fresh JupyterLab server (its own config, data, runtime and IPython folders in a temporary directory, token auth,
127.0.0.1 only) serves a copy of ``notebooks/diagnose_fit.ipynb`` and a small hostile notebook. ``drive.py`` runs in
its own process and clicks through them; screenshots of the panel before and after **Apply & rerun** land in
``artifacts/`` (gitignored; CI keeps them as build artefacts).

This test never downloads a browser: it uses ``/usr/bin/chromium`` (``make test`` installs Debian's package when it
is missing). Without it the test fails with the command to run; set ``STALLMAGIC_SKIP_BROWSER=1`` to skip it
locally on purpose.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from lab_server import ROOT, drive, jupyter_server, require_browser

ARTIFACTS = ROOT / "artifacts"
XSS = "<img src=x onerror=alert(1)>"

HOSTILE_CELLS = [
    "%load_ext stallmagic",
    "import keras\n"
    "from sklearn.datasets import load_digits\n"
    "x, y = load_digits(return_X_y=True)\n"
    "x = (x[:300] / 16).astype('float32'); y = y[:300]\n"
    f"XSS = {XSS!r}\n"
    "class Hostile(keras.callbacks.Callback):\n"
    "    def on_epoch_end(self, epoch, logs=None):\n"
    "        logs[XSS] = 1.0\n"
    "        if epoch == 1:\n"
    "            raise ValueError(XSS)\n"
    "model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(8, activation='relu'),\n"
    "                          keras.layers.Dense(10, activation='softmax')])\n"
    "model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])",
    f'%%diagnose_fit --name "{XSS}"\nmodel.fit(x, y, validation_split=0.2, epochs=3, verbose=0, callbacks=[Hostile()])',
]


def write_hostile_notebook(path: Path) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in HOSTILE_CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A fresh JupyterLab on 127.0.0.1 serving copies of the notebooks: yields (base_url, token, root, home)."""
    require_browser()
    home = tmp_path_factory.mktemp("lab")
    root = home / "root"
    root.mkdir()
    shutil.copy(ROOT / "notebooks" / "diagnose_fit.ipynb", root / "diagnose_fit.ipynb")
    write_hostile_notebook(root / "hostile.ipynb")
    with jupyter_server(home, root) as (base, token):
        yield base, token, root, home


def test_panel_in_jupyterlab(lab):
    base, token, _root, home = lab
    ARTIFACTS.mkdir(exist_ok=True)
    for stale in [*ARTIFACTS.glob("panel-*.png"), ARTIFACTS / "page-after.png", ARTIFACTS / "failure.png"]:
        stale.unlink(missing_ok=True)  # an earlier run's screenshots must not pass for this one's
    seen = drive("drive.py", [base, token, "diagnose_fit.ipynb", "hostile.ipynb", str(ARTIFACTS)], home, 480)
    (ARTIFACTS / "browser.json").write_text(json.dumps(seen, indent=1))

    assert seen["curves_width"] > 300, seen  # the curves' inline SVG rendered
    assert seen["twins_in_page_live"] >= 1 and seen["twins_visible_live"] == 0, seen  # the live widget hides its twin
    assert "Why is validation accuracy stuck?" in seen["findings_text"]
    assert "Overfitting" in seen["findings_text"]
    assert seen["rerun_buttons"] >= 1
    assert seen["run_rows"] == 2, seen  # Apply & rerun added the second run to the runs table
    assert "failed" not in seen["panel_text"], seen["panel_text"]
    assert "%%diagnose_fit" in seen["kept_code"]
    # Keep this fix wrote one new cell, right below the training cell, holding the kept code (ipylab)
    assert seen["cells_after_keep"] == 1, seen
    assert seen["inserted_cell"].startswith("%%diagnose_fit") and "EarlyStopping" in seen["inserted_cell"], seen
    assert "in a new cell below the training cell" in seen["keep_box_text"], seen["keep_box_text"]
    assert "EarlyStopping" in seen["kept_cell"], seen["kept_cell"]  # %stall keep put the fix into a cell
    assert seen["live_seen"], seen.get("live_error")
    assert seen["repair_text"] and "failed" not in seen["repair_panel_text"], seen["repair_panel_text"]
    # saved, kernel shut down, page reloaded: the static twin holds the diagnosis, the widget's error gives way
    assert "Why is validation accuracy stuck?" in seen["reloaded_twin_text"], seen
    assert "Early stopping" in seen["reloaded_twin_text"] and seen["reloaded_twin_svgs"] >= 2, seen
    assert "Overfitting" in seen["reloaded_baseline_findings"], seen
    assert seen["reloaded_run_rows"] >= 2, seen  # updated in place after the clicks' reruns
    assert seen["reloaded_widget_errors_visible"] == 0, seen

    # a kernel that no longer knows the panel (restarted unheard): hovering pings it, it answers nothing, and the
    # panel says its kernel is gone with every button off; live before, with its buttons on
    assert seen["forget_before"]["state"] == "live" and len(seen["forget_before"]["enabled"]) > 3, seen["forget_before"]
    assert seen["forget_after"]["state"] == "gone", seen["forget_after"]
    assert "without knowing the panel" in seen["forget_after"]["why"], seen["forget_after"]
    assert seen["forget_after"]["enabled"] == [], seen["forget_after"]
    assert seen["dialogs"] == []  # no alert(1) ran
    assert seen["hostile_img_elements"] == 0
    assert XSS in seen["hostile_panel_text"]  # shown as text
    for name in ("panel-before.png", "panel-after.png", "panel-reloaded.png"):
        assert (ARTIFACTS / name).stat().st_size > 10_000
