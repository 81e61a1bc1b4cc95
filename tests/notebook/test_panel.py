"""The panel and the drawings on plain Runs (no training): throttling, live redraws, remedies as buttons, escaping.

Runs here are built by hand, so these tests need neither Keras nor a kernel; ``tests/test_magic.py`` covers the
panel on real training in a real shell.
"""

from __future__ import annotations

import math
import time
from types import SimpleNamespace

import numpy as np
import pytest

from stallmagic import plot
from stallmagic.diagnosis.report import Finding, Report
from stallmagic.notebook.magic import CellRecord
from stallmagic.notebook.panel import Panel, Throttle, status_html
from stallmagic.record import Run

XSS = "<img src=x onerror=alert(1)>"


def make_run(label: str = "run 1", n: int = 20, *, gap_slope: float = 0.01, extra_key: str | None = None) -> Run:
    run = Run(index=0, label=label)
    run.fit.epochs = n
    e = np.arange(1, n + 1, dtype=float)
    loss = 1.0 / e
    acc = 1.0 - 0.5 / e
    run.logs = {
        "loss": loss.tolist(),
        "accuracy": acc.tolist(),
        "val_loss": (loss + 0.1 + 0.01 * e).tolist(),
        "val_accuracy": (acc - gap_slope * e).tolist(),
    }
    if extra_key:
        run.logs[extra_key] = [0.5] * n
    run.epochs = list(range(n))
    run.epoch_times = [0.05] * n
    run.started_at = time.time() - 0.05 * n
    run.wall_time = 0.05 * n
    run.end = "completed"
    return run


def html_values(widget) -> str:
    import ipywidgets

    out = [widget.value] if isinstance(widget, ipywidgets.HTML) else []
    out.extend(html_values(c) for c in getattr(widget, "children", ()) or ())
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------------- throttle


def simulate(throttle: Throttle, *, epochs: int, epoch_s: float, draw_s: float, first_epoch_s: float = 1.0):
    """A fit of ``epochs`` epochs on a virtual clock: (draws, spent share of the fit)."""
    now = 0.0
    throttle.start(now)
    for i in range(epochs):
        now += first_epoch_s if i == 0 else epoch_s
        cost = 0.0001
        if throttle.due(now):
            cost += draw_s
            throttle.drew(now, draw_s)
        throttle.spend(cost)
        now += cost
    return throttle.draws, throttle.spent / now


def test_throttle_keeps_short_epochs_within_budget_and_still_updates():
    draws, share = simulate(Throttle(), epochs=400, epoch_s=0.05, draw_s=0.002)
    assert share <= 0.0125  # 1 % target, plus the bookkeeping
    assert draws >= 20  # about one redraw per 0.2-0.4 s of a 21 s fit: live, not frozen


def test_throttle_redraws_every_epoch_when_epochs_are_long():
    draws, share = simulate(Throttle(), epochs=30, epoch_s=2.0, draw_s=0.003)
    assert draws == 30 and share < 0.01


def test_throttle_backs_off_when_a_redraw_is_expensive():
    draws, share = simulate(Throttle(), epochs=100, epoch_s=0.05, draw_s=0.1)  # a 100 ms matplotlib redraw
    assert share <= 0.02 and draws <= 3


# ---------------------------------------------------------------------------------------------------- drawings


def test_gap_state_reads_the_trend():
    widening = plot.gap_state(plot.curves(make_run(gap_slope=0.01)))
    assert widening.direction == "widening" and widening.slope > 0
    assert "widening" in widening.text("train − val accuracy")
    flat = make_run(gap_slope=0.0)
    flat.logs["val_accuracy"] = [a - 0.05 for a in flat.logs["accuracy"]]
    assert plot.gap_state(plot.curves(flat)).direction == "stable"
    short = make_run(n=2)
    assert plot.gap_state(plot.curves(short)).direction == ""


def test_gap_is_oriented_so_positive_means_validation_lags():
    c = plot.curves(make_run(), metric="loss")
    assert c.metric == "loss" and not c.higher_is_better
    assert np.all(c.gap > 0) and c.gap_name == "val − train loss"


def test_svg_escapes_labels_and_survives_nan_and_single_epochs():
    run = make_run(label=XSS, extra_key=XSS)
    run.logs["val_loss"][3] = math.nan
    run.logs["val_accuracy"] = [math.nan] * 20
    picture = plot.svg([run], metric=XSS)
    assert picture.startswith("<svg") and "<img" not in picture and "&lt;img" in picture
    assert plot.svg([make_run(n=1)]).count("<polyline") >= 2
    assert plot.svg([]) == ""


def test_figure_draws_hostile_labels_literally():
    runs = [make_run(label="$\\alpha$ unbalanced $"), make_run(label="_hidden")]
    png = plot.figure_png(runs)
    assert png.startswith(b"\x89PNG")
    assert plot.mpl_text("_x") != "_x" and plot.mpl_text("$a$") == "\\$a\\$"


def test_status_line_while_running_and_after():
    run = make_run(label=XSS)
    run.end = "running"
    run.epochs = run.epochs[:5]
    text = status_html(run)
    assert "epoch 5/20" in text and "left" in text and "&lt;img" in text and "<img" not in text
    run.end, run.error = "error", SimpleNamespace(type="ValueError", message=XSS)
    text = status_html(run)
    assert "ended with an error" in text and "<img" not in text


# ---------------------------------------------------------------------------------------------------- the panel


class Remedy(SimpleNamespace):
    def describe(self) -> str:
        return f"{self.title}, described"


def cell_with(run: Run, *findings: Finding) -> CellRecord:
    cell = CellRecord(number=1, line="", source="model.fit(x, y)\n", label=None, metric=None)
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
    shown = []
    cell = CellRecord(number=1, line="", source="", label=None, metric=None)
    panel = Panel(cell, live="curves", display=shown.append, throttle=Throttle(share=1e9, min_interval=0.0))
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
    assert shown == [panel.root]  # displayed once, then updated in place
    assert "<svg" in panel.live.value and "completed after 20/20" in panel.live.value
    assert panel.throttle.draws == 20


def test_no_live_panel_shows_the_status_without_curves():
    shown = []
    cell = CellRecord(number=1, line="", source="", label=None, metric=None)
    panel = Panel(cell, live="status", display=shown.append, throttle=Throttle(share=1e9, min_interval=0.0))
    run = make_run()
    run.end = "running"
    panel.listener("begin", run)
    panel.listener("epoch", run)
    assert shown == [panel.root]
    assert "epoch 20/20" in panel.live.value and "<svg" not in panel.live.value


def test_quiet_panel_shows_nothing_until_the_end():
    shown = []
    panel = Panel(CellRecord(number=1, line="", source="", label=None, metric=None), live="off", display=shown.append)
    run = make_run()
    panel.listener("begin", run)
    panel.listener("epoch", run)
    assert shown == [] and panel.live.value == ""


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
    panel = Panel(cell_with(run, finding), display=lambda w: None)
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
    panel = Panel(CellRecord(number=1, line="", source="", label=None, metric=None), display=lambda w: None)
    panel.finish()
    assert panel.root.children == (panel.title,)
    assert "no Keras fit" in panel.title.value


def test_a_click_while_busy_is_refused_and_detach_disables_everything():
    run = make_run()
    panel = Panel(cell_with(run), display=lambda w: None)
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
        Panel(CellRecord(number=1, line="", source="", label=None, metric=None), live=live)
