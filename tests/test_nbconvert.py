"""The panel's static twin where no widget runs: a notebook executed in a real kernel (nbclient), then converted to
HTML offline (nbconvert), as CI, papermill, GitHub and nbviewer see it.

One kernel for the whole module: a short fit of a learning rate far too high, under a hostile ``--name`` and a
callback that logs a hostile metric key, then ``%stall rerun 1`` in the next cell. The twin, displayed once under
its ``display_id``, must then hold both runs (the kernel's ``update_display_data`` from the later cell), and the
converted page must show the findings and the curves, with every user string escaped and no widget repr.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
HOSTILE = "<script>alert('x')</script>"

CELLS = [
    "%load_ext stallmagic",
    "import keras\n"
    "from sklearn.datasets import load_digits\n"
    "x, y = load_digits(return_X_y=True)\n"
    "x = (x[:600] / 16.0).astype('float32'); y = y[:600]\n"
    f"HOSTILE = {HOSTILE!r}\n"
    "class LogsHostileKey(keras.callbacks.Callback):\n"
    "    def on_epoch_end(self, epoch, logs=None):\n"
    "        logs[HOSTILE] = float(epoch)\n"
    "keras.utils.set_random_seed(0)\n"
    "model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(16, activation='relu'),\n"
    "                          keras.layers.Dense(10, activation='softmax')])\n"
    "model.compile(optimizer=keras.optimizers.SGD(3.0), loss='sparse_categorical_crossentropy',\n"
    "              metrics=['accuracy'])",
    f'%%diagnose_fit --name "{HOSTILE}"\n'
    "model.fit(x, y, validation_split=0.25, epochs=4, verbose=0, callbacks=[LogsHostileKey()])",
    "%stall rerun 1",
]


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    import nbformat
    from nbclient import NotebookClient

    workdir = tmp_path_factory.mktemp("twin")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in CELLS])
    env = {"PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "TF_CPP_MIN_LOG_LEVEL", "MPLBACKEND")}
    os.environ.update(env, TF_CPP_MIN_LOG_LEVEL="3", MPLBACKEND="Agg")
    try:
        client = NotebookClient(
            nb, kernel_name="python3", timeout=300, resources={"metadata": {"path": str(workdir)}},
            store_widget_state=True,
        )  # fmt: skip
        client.execute()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return nb


def twin_outputs(nb) -> list[dict]:
    return [
        o for c in nb.cells for o in c.get("outputs", [])
        if "stallmagic-static" in str(o.get("data", {}).get("text/html", ""))
    ]  # fmt: skip


def visible(page: str) -> str:
    """The page without its scripts (a widget view and the saved widget state live in <script> blocks)."""
    return re.sub(r"<script\b.*?</script>", "", page, flags=re.S | re.I)


def to_html(nb) -> str:
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    return body


def test_the_twin_is_one_output_beside_the_widget_updated_after_the_rerun(executed):
    fit_cell, rerun_cell = executed.cells[2], executed.cells[3]
    errors = [o for c in executed.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors
    kinds = [("widget" if WIDGET_MIME in o.get("data", {}) else "twin") for o in fit_cell.outputs
             if o.get("output_type") == "display_data"]  # fmt: skip
    assert kinds == ["widget", "twin"], fit_cell.outputs
    widget = next(o for o in fit_cell.outputs if WIDGET_MIME in o.get("data", {}))
    assert "VBox(" not in widget["data"]["text/plain"]
    (twin,) = twin_outputs(executed)
    page = twin["data"]["text/html"]
    assert page.count('class="stallmagic-run-row"') == 2  # updated in place by %stall rerun's cell
    assert "<svg" in page and "Learning rate too high" in page
    assert "Learning rate too high" in twin["data"]["text/plain"]
    assert not [o for o in rerun_cell.outputs if o.get("output_type") == "execute_result"]  # nothing in Out


@pytest.mark.parametrize("widget_state", [True, False], ids=["with-widget-state", "without-widget-state"])
def test_nbconvert_shows_the_findings_and_the_curves_escaped(executed, widget_state):
    import copy

    nb = copy.deepcopy(executed)
    if not widget_state:
        nb.metadata.pop("widgets", None)
    else:
        assert WIDGET_STATE in nb.metadata["widgets"]
    page = to_html(nb)
    shown = visible(page)
    assert "Learning rate too high" in shown and "Why is validation accuracy stuck?" in shown
    twin = shown[shown.index('class="stallmagic-static'):]
    assert re.search(r"<svg\b[^>]*>.*?<polyline", twin, re.S)
    assert "VBox(children=" not in page
    assert HOSTILE not in page  # nbconvert re-serializes the HTML (&#x27; becomes '), the escaping stays
    assert re.search(r"<b>stallmagic</b> · &lt;script&gt;alert\((&#x27;|')x(&#x27;|')\)&lt;/script&gt;</div>", twin)
