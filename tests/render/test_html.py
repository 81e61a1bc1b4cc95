"""HTML fragments on hand-made Runs: the status line while a run trains and after it ended, escaped."""

from __future__ import annotations

from types import SimpleNamespace

from runs_by_hand import XSS, make_run  # tests/ is on sys.path under pytest

from stallmagic.render.html import status_html


def test_status_line_while_running_and_after():
    run = make_run(label=XSS)
    run.end = "running"
    run.epochs = run.epochs[:5]
    text = status_html(run)
    assert "epoch 5/20" in text and "left" in text and "&lt;img" in text and "<img" not in text
    run.end, run.error = "error", SimpleNamespace(type="ValueError", message=XSS)
    text = status_html(run)
    assert "ended with an error" in text and "<img" not in text
