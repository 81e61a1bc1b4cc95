"""Findings on the curves, on hand-made Runs: which epochs are marked, for which findings, and how they are drawn."""

from __future__ import annotations

import math
import re
from types import SimpleNamespace

from runs_by_hand import XSS, make_run  # tests/ is on sys.path under pytest

from stallmagic.diagnosis.report import Finding, Report
from stallmagic.render import marks as m
from stallmagic.render.html import curves_html


def with_findings(run, *findings):
    run.report = Report(run_label=run.label, metric="accuracy", findings=list(findings), summary={}, notes=[])
    return run


def test_a_findings_epoch_evidence_and_the_runs_own_events_are_marked():
    run = make_run(n=10)
    run.fit.initial_epoch, run.epochs = 2, list(range(2, 12))  # the curves number epochs 3..12
    run.learning_rates = [0.01] * 5 + [0.001] * 5
    overfit = Finding(code="overfitting", title=f"Overfitting {XSS}", explanation="", confidence=0.9,
                      evidence={"val_loss_min_epoch": 4, "val_loss_rise": 0.3})  # fmt: skip
    slow = Finding(code="lr_too_low", title="Learning rate too low", explanation="", confidence=0.6)
    found = m.marks(with_findings(run, overfit, slow))
    assert [(k.epoch, k.text, k.findings) for k in found] == [
        (6.0, "lowest val_loss", (f"Overfitting {XSS}",)),  # the 4th epoch of the run, numbered as the curves do
        (8.0, "learning rate 0.01 → 0.001", ("Learning rate too low",)),
    ]
    assert found[0].sentence() == f"epoch 6: lowest val_loss (Overfitting {XSS})"


def test_nan_early_stopping_and_the_restored_epoch_merge_by_epoch():
    run = make_run(n=8)
    run.logs["loss"][5:] = [math.nan] * 3
    assert [k.text for k in m.marks(run)] == ["the loss became NaN"]  # no report: the events only
    stopped = make_run(n=8)
    stopped.end = "early_stopped"
    stopped.logs["val_loss"] = [0.9, 0.7, 0.5, 0.5, 0.6, 0.7, 0.8, 0.9]
    params = {"monitor": "val_loss", "restore_best_weights": True}
    stopped.remedy = SimpleNamespace(code="early_stopping", params=params)
    found = m.marks(stopped)
    assert [(k.epoch, k.text) for k in found] == [(3.0, "best val_loss: weights restored"), (8.0, "stopped early")]
    stopped.remedy.params["restore_best_weights"] = False
    assert [k.text for k in m.marks(stopped)] == ["stopped early"]  # nothing was restored


def test_marks_are_drawn_numbered_listed_and_escaped():
    run = make_run(n=10, label=XSS)
    run.learning_rates = [0.1] * 3 + [0.01] * 7
    with_findings(run, Finding(code="overfitting", title=XSS, explanation="", confidence=0.9,
                               evidence={"val_loss_min_epoch": 7}))  # fmt: skip
    page = curves_html([make_run(label="baseline"), run], highlight=run)
    assert page.count('<g class="stallmagic-mark">') == 2 * 3  # two marks in each of the three plots
    assert "<img" not in page and "epoch 7: lowest val_loss (&lt;img src=x onerror=alert(1)&gt;)" in page
    listed = re.search(r'<div class="stallmagic-marks">(.*?)</div>', page).group(1)
    assert listed.startswith("Marked on &lt;img") and "<b>1</b> epoch 4: learning rate 0.1 → 0.01" in listed
    assert "<b>2</b> epoch 7: lowest val_loss" in listed
    assert 'class="stallmagic-mark"' not in curves_html([make_run()])  # nothing to mark: nothing drawn
