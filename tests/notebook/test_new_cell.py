"""Keep this fix writes a new cell through ipylab where the frontend answers, and says why not where it does not.

The insertion itself is checked in a real JupyterLab (tests/browser). Here: without a frontend that answers (this
test process has no JupyterLab, as in VS Code, Colab or a viewer), the reason is given and the code stays copyable.
"""

from __future__ import annotations

from stallmagic.notebook.new_cell import CellWriter
from stallmagic.render.html import keep_html


def test_without_an_answering_frontend_the_writer_says_why_and_the_box_keeps_the_code():
    writer = CellWriter()
    why = writer.insert_below("model.fit(x, y)")
    assert why is not None and "VS Code" in why
    box = keep_html("model.fit(x, y)", why_not_inserted=why)
    assert "This frontend cannot insert the cell" in box and "%stall keep" in box and "model.fit(x, y)" in box
    writer.close()
    assert writer.insert_below("x") == "stallmagic was unloaded"


def test_the_box_says_where_the_cell_went_and_escapes_the_reason():
    assert "in a new cell below the training cell" in keep_html("x = 1", why_not_inserted=None)
    box = keep_html("x = 1", why_not_inserted="<img src=x onerror=alert(1)>")
    assert "<img" not in box and "&lt;img" in box
    assert "cannot insert" not in keep_html("x = 1")  # %stall keep's own box says nothing about insertion
