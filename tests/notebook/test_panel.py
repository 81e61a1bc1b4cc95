"""The panel on plain Runs (no training): live redraws, remedies as buttons, escaping, busy and detached states.

Runs here are built by hand (``tests/runs_by_hand.py``), so these tests need neither Keras nor a kernel;
``tests/notebook/test_magic.py`` covers the panel on real training in a real shell.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from runs_by_hand import XSS, make_run  # tests/ is on sys.path under pytest

from stallmagic.diagnosis.report import Finding, Report
from stallmagic.notebook.cell import CellRuns
from stallmagic.notebook.displays import LIVE_TEXT
from stallmagic.notebook.panel import Panel
from stallmagic.notebook.throttle import Throttle
from stallmagic.record import Run
from stallmagic.render import static


def ignore(obj, **kwargs) -> None:
    """A display that shows nothing."""


class Shown:
    """What the panel displayed, called as IPython's ``display(obj, display_id=..., update=...)``."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def __call__(self, obj, **kwargs) -> None:
        self.calls.append((obj, kwargs))

    def new(self) -> list:
        """The objects displayed (not updates)."""
        return [obj for obj, kwargs in self.calls if not kwargs.get("update")]


def html_values(widget) -> str:
    import ipywidgets

    out = [widget.value] if isinstance(widget, ipywidgets.HTML) else []
    out.extend(html_values(c) for c in getattr(widget, "children", ()) or ())
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------------- the panel


class Remedy(SimpleNamespace):
    def describe(self) -> str:
        return f"{self.title}, described"


def cell_with(run: Run, *findings: Finding) -> CellRuns:
    cell = CellRuns(number=1, line="", source="model.fit(x, y)\n", label=None, metric=None)
    cell.session.runs.append(run)
    run.session = cell.session
    run.report = Report(
        run_label=run.label,
        metric="accuracy",
        findings=list(findings),
        summary={"val_key": "val_accuracy", "best_val": 0.9, "best_epoch": 3, "epochs_done": run.epochs_done},
        notes=[f"note about {XSS}"],
    )
    cell.selected = run
    return cell


def test_live_listener_shows_the_panel_once_and_redraws_in_place():
    shown = Shown()
    cell = CellRuns(number=1, line="", source="", label=None, metric=None)
    panel = Panel(cell, live="curves", display=shown, throttle=Throttle(share=1e9, min_interval=0.0))
    run = make_run()
    run.end = "running"
    logs, run.logs = run.logs, {}
    epochs, run.epochs = run.epochs, []
    panel.listener("begin", run)
    for i in epochs:
        run.epochs.append(i)
        for k, v in logs.items():
            run.logs.setdefault(k, []).append(v[i])
        panel.listener("epoch", run)
    run.end = "completed"
    panel.listener("end", run)
    widget, twin = shown.new()  # displayed once, then updated in place
    assert widget.root is panel.root and twin is panel.twin
    assert "<svg" in panel.live.value and "completed after 20/20" in panel.live.value
    assert panel.throttle.draws == 20


def test_no_live_panel_shows_the_status_without_curves():
    shown = Shown()
    cell = CellRuns(number=1, line="", source="", label=None, metric=None)
    panel = Panel(cell, live="status", display=shown, throttle=Throttle(share=1e9, min_interval=0.0))
    run = make_run()
    run.end = "running"
    panel.listener("begin", run)
    panel.listener("epoch", run)
    assert [getattr(obj, "root", obj) for obj in shown.new()] == [panel.root, panel.twin]
    assert "epoch 20/20" in panel.live.value and "<svg" not in panel.live.value


def test_quiet_panel_shows_nothing_until_the_end():
    shown = Shown()
    panel = Panel(CellRuns(number=1, line="", source="", label=None, metric=None), live="off", display=shown)
    run = make_run()
    panel.listener("begin", run)
    panel.listener("epoch", run)
    assert shown.calls == [] and panel.live.value == ""


def test_remedies_become_buttons_advice_text_and_disabled_buttons_say_why():
    run = make_run()
    finding = Finding(
        code="overfitting",
        title="Overfitting",
        explanation=f"The model memorizes {XSS}.",
        evidence={XSS: 1.0, "val_loss_rise": 0.6},
        confidence=0.9,
        remedies=[
            Remedy(code="early_stopping", title="Early stopping", kind="rerun", disabled_reason=None),
            Remedy(code="dropout", title="Dropout", kind="rerun", disabled_reason=f"subclassed {XSS}"),
            Remedy(code="more_data", title="More data", kind="advice", disabled_reason=None),
        ],
    )
    panel = Panel(cell_with(run, finding), display=ignore)
    panel.finish()
    buttons = panel.rerun_buttons
    assert set(buttons) == {(0, "early_stopping"), (0, "dropout")}
    assert not buttons[(0, "early_stopping")].disabled
    assert buttons[(0, "dropout")].disabled
    html = html_values(panel.root)
    assert "not applicable here: subclassed &lt;img" in html
    assert "Recommendation: <b>More data</b>" in html
    assert "<img" not in html
    assert "stallmagic-remedy-early_stopping" in buttons[(0, "early_stopping")]._dom_classes


def test_no_fit_panel_is_one_line():
    panel = Panel(CellRuns(number=1, line="", source="", label=None, metric=None), display=ignore)
    panel.finish()
    assert panel.root.children == (panel.css, panel.title)
    assert "no Keras fit" in panel.title.value


def test_a_click_while_busy_is_refused_and_detach_disables_everything():
    run = make_run()
    panel = Panel(cell_with(run), display=ignore)
    panel.finish()
    panel.busy = "a rerun"
    panel.export_button.click()
    assert "Please wait" in panel.message.value
    panel.busy = None
    panel.detach()
    assert all(b.disabled for b in (panel.export_button, panel.sweep_button, panel.keep_button))
    panel.export_button.click()  # ignored, no error


@pytest.mark.parametrize("live", ["bogus", ""])
def test_panel_rejects_unknown_live_modes(live):
    with pytest.raises(ValueError, match="'live' argument of Panel"):
        Panel(CellRuns(number=1, line="", source="", label=None, metric=None), live=live)


def test_the_panel_shows_a_static_twin_and_updates_it_in_place():
    shown = Shown()
    run = make_run(label=XSS)
    finding = Finding(code="overfitting", title="Overfitting", explanation="memorizes", confidence=0.9)
    cell = cell_with(run, finding)
    panel = Panel(cell, live="off", display=shown)
    panel.finish()
    (live, kw_live), (twin, kw_twin) = shown.calls
    assert kw_live == {}  # the widget is displayed plainly, the twin under its display_id
    bundle = live._repr_mimebundle_()
    assert bundle["text/plain"] == LIVE_TEXT and "VBox" not in bundle["text/plain"]
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == panel.root.model_id
    assert twin is panel.twin and kw_twin == {"display_id": panel.twin.display_id}
    twin_bundle = twin._repr_mimebundle_()
    assert "Overfitting" in twin_bundle["text/html"] and "<svg" in twin_bundle["text/html"]
    assert "<img" not in twin_bundle["text/html"] and "Overfitting" in twin_bundle["text/plain"]
    assert f"stallmagic-static-{panel.uid}" in twin_bundle["text/html"]
    assert panel.css.value == static.live_css(panel.uid)  # the live widget hides its twin
    panel.refresh()
    assert len(shown.calls) == 2  # nothing changed: nothing sent
    rerun = make_run(label="run 1 + Early stopping", n=8)
    rerun.parent = run
    cell.session.runs.append(rerun)
    cell.selected = rerun
    panel.refresh()
    obj, kwargs = shown.calls[-1]
    assert obj is panel.twin and kwargs == {"display_id": panel.twin.display_id, "update": True}
    assert "run 1 + Early stopping" in panel.twin.html and 'class="stallmagic-run-row"' in panel.twin.html
    assert "<svg" in panel.curves.value and "<svg" in panel.twin.html


def test_export_never_writes_over_a_file_that_is_there(tmp_path, monkeypatch):
    from stallmagic.render.export import safe_filename

    # The button picks the file name itself, so a file of that name (the user's, or an earlier export) is kept and
    # the report goes next to it
    monkeypatch.chdir(tmp_path)
    panel = Panel(cell_with(make_run()), display=ignore)
    panel.finish()
    name = f"stallmagic-{safe_filename(panel.cell.label or panel.cell.runs[0].label)}.html"
    (tmp_path / name).write_text("mine")
    panel.export_button.click()
    panel._act(None, "Exporting the report", panel._export)  # a second export, past the double-click guard
    assert (tmp_path / name).read_text() == "mine"
    second, third = (tmp_path / name.replace(".html", f"-{n}.html") for n in (2, 3))
    assert "<html" in second.read_text() and "<html" in third.read_text()
    assert str(third) in panel.code_box.value
