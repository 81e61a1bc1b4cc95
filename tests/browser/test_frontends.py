"""The panel in Notebook 7 and in JupyterLab's dark theme (Chromium, Playwright; see ``drive_frontends.py``).

One server with the dark theme set serves both frontends: JupyterLab runs a short training and its panel's colours
are measured (every enabled text at WCAG contrast >= 4.5:1, no large near-white area such as an opaque white image);
Notebook 7 runs the quickstart top to bottom, then Apply & rerun and Keep this fix, which writes the kept cell
below the training cell. Screenshots land in ``artifacts/``.
"""

from __future__ import annotations

import json
import shutil

import nbformat
from lab_server import ROOT, drive, jupyter_server, require_browser

ARTIFACTS = ROOT / "artifacts"

SMALL_CELLS = [
    "%load_ext stallmagic\nimport os\nopen('kernel.pid', 'w').write(str(os.getpid()))",
    "import keras\n"
    "from sklearn.datasets import load_digits\n"
    "x, y = load_digits(return_X_y=True)\n"
    "x = (x[:600] / 16).astype('float32'); y = y[:600]\n"
    "keras.utils.set_random_seed(0)\n"
    "model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(64, activation='relu'),\n"
    "                          keras.layers.Dense(10, activation='softmax')])\n"
    "model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])",
    "%%diagnose_fit\nmodel.fit(x, y, validation_split=0.3, epochs=25, batch_size=16, verbose=0)",
]


def test_notebook7_and_the_dark_theme(tmp_path):
    require_browser()
    home = tmp_path
    root = home / "root"
    root.mkdir()
    shutil.copy(ROOT / "notebooks" / "quickstart.ipynb", root / "quickstart.ipynb")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in SMALL_CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.write(nb, root / "small.ipynb")
    ARTIFACTS.mkdir(exist_ok=True)
    with jupyter_server(home, root, dark=True) as (base, token):
        seen = drive(
            "drive_frontends.py", [base, token, "quickstart.ipynb", "small.ipynb", str(ARTIFACTS), str(root)], home, 900
        )
    (ARTIFACTS / "frontends.json").write_text(json.dumps(seen, indent=1))

    assert seen["lab_theme"] == "JupyterLab Dark", seen
    for where in ("lab_colours", "nb7_colours"):
        colours = seen[where]
        assert colours["texts"] > 20, seen  # the panel's text was measured, not an empty page
        assert colours["worst"]["ratio"] >= 4.5, (where, colours["worst"])
        assert colours["white"] == [], (where, colours["white"])  # no opaque white image or box

    assert "Why is validation accuracy stuck?" in seen["nb7_findings"], seen
    assert seen["nb7_rows"][1] > seen["nb7_rows"][0], seen  # Apply & rerun added its row ...
    assert " + " in seen["nb7_row_texts"][-1], seen  # ... a rerun's ("run 1 + <remedy>")
    assert seen["nb7_inserted"].startswith("%%diagnose_fit"), seen  # Keep this fix wrote the cell below
    assert "in a new cell below the training cell" in seen["nb7_keep_box"], seen
    assert seen["dialogs"] == [], seen

    # honest when disconnected: live (and every button on) while the kernel answers, even after a hover's ping ...
    for before in ("lab_before_death", "nb7_before_restart"):
        assert seen[before]["state"] == "live" and seen[before]["banner"] == "", (before, seen[before])
        assert seen[before]["buttons"] > 3 and len(seen[before]["enabled"]) > 3, (before, seen[before])
    # ... and once the kernel died (JupyterLab) or was restarted (Notebook 7), the panel says so, its buttons off
    for after in ("lab_after_death", "nb7_after_restart"):
        assert seen[after]["state"] == "gone", (after, seen[after])
        assert "this panel is a record now" in seen[after]["banner"], (after, seen[after])
        assert seen[after]["enabled"] == [], (after, seen[after])
