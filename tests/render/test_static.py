"""The panel's static twin on hand-made Runs: what it holds, that it escapes, and the CSS that picks one view."""

from __future__ import annotations

import re

import pytest
from runs_by_hand import XSS, make_run  # tests/ is on sys.path under pytest

from stallmagic.diagnosis.report import Finding, Report
from stallmagic.render import static

SCRIPT = "<script>alert(1)</script>"
CODES = ("overfitting", "lr_too_high", "class_imbalance")


def diagnosed(run, *titles: str, evidence: dict | None = None):
    run.report = Report(
        run_label=run.label,
        metric="accuracy",
        findings=[
            Finding(code=CODES[i], title=t, explanation=f"because {SCRIPT}", evidence=evidence or {}, confidence=0.8)
            for i, t in enumerate(titles)
        ],
        summary={"val_key": "val_accuracy", "best_val": 0.9, "best_epoch": 3, "epochs_done": run.epochs_done},
        notes=[f"note {SCRIPT}"],
    )
    return run


def test_twin_holds_curves_findings_runs_table_and_the_baselines_findings():
    baseline = diagnosed(make_run(label="run 1"), "Overfitting", "Learning rate too high")
    rerun = diagnosed(make_run(label="run 1 + Early stopping", n=12), "Nothing much")
    rerun.parent = baseline
    page = static.twin_html([baseline, rerun], uid="abc123", selected=rerun, name="cell one")
    assert page.startswith('<div class="stallmagic-static stallmagic-static-abc123"')
    assert page.count("<svg") == 1 and page.count("<polyline") >= 4  # both runs' curves, drawn once
    picture = re.search(r"<svg.*?</svg>", page, re.S).group(0)
    assert 'fill="currentColor"' in picture and not re.search(r'(fill|stroke)="#(ccc|888|999)"', picture)
    assert "Nothing much" in page and "Why is validation accuracy stuck?" in page
    assert page.count('class="stallmagic-run-row"') == 2
    # the baseline's findings stay reachable after the rerun, folded
    folded = re.search(r"<details><summary>Findings of run 1: 2 findings</summary>(.*?)</details>", page, re.S)
    assert folded and "Overfitting" in folded.group(1) and "Learning rate too high" in folded.group(1)
    text = static.twin_text([baseline, rerun], selected=rerun, name="cell one")
    assert text.splitlines()[0] == "stallmagic · cell one: run 1 + Early stopping completed after 12/12 epochs"
    assert "1. Nothing much (confidence 0.80)" in text and "2 runs: run 1, run 1 + Early stopping" in text


def test_twin_escapes_every_user_string():
    run = make_run(label=SCRIPT, extra_key=XSS)
    run.logs[SCRIPT] = run.logs.pop("accuracy")
    run.logs[f"val_{SCRIPT}"] = run.logs.pop("val_accuracy")
    diagnosed(run, f"Title {XSS}", evidence={XSS: 1.0, "layer": SCRIPT})
    other = diagnosed(make_run(label=XSS), "Other")
    run.parent = None
    page = static.twin_html([other, run], uid="u1", selected=run, metric=SCRIPT, name=SCRIPT, notes=[XSS])
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    # the only markup that is not ours: none; the only <style> blocks are the twin's own, scoped by the uid
    assert re.findall(r"<style>.*?</style>", page) == [static.static_css("u1")]


def test_a_cell_before_its_first_epoch_and_a_cell_without_fit():
    running = make_run()
    running.end, running.epochs, running.logs = "running", [], {}
    page = static.twin_html([running], uid="u2")
    assert "Training: the diagnosis appears here" in page and "<svg" not in page
    page = static.twin_html([], uid="u2", empty_line=f"This cell ran no Keras fit {XSS}.")
    assert "ran no Keras fit &lt;img" in page
    assert static.twin_text([], empty_line="No fit.") == "stallmagic: No fit."


def test_the_two_stylesheets_hide_one_view_each_and_refuse_an_unsafe_uid():
    assert static.live_css("a1") == (
        "<style>.stallmagic-static-a1{display:none!important}"
        ".jp-OutputArea-child:has(.stallmagic-static-a1){display:none!important}</style>"
    )
    assert ":not(:has(.stallmagic-panel))" in static.static_css("a1")
    for bad in ("a}b", "", "x" * 65, "a b", None):
        with pytest.raises(ValueError, match="'uid' argument"):
            static.live_css(bad)


def test_the_twin_says_which_fixes_were_already_rerun():
    # A saved notebook shows the panel's greyed-out "Applied" buttons as text: the baseline's fix that was rerun is
    # marked with its rerun's label (escaped); the fix not tried is not
    from stallmagic.remedies import Remedy

    baseline = diagnosed(make_run(label="run 1"), "Overfitting")
    tried, untried = Remedy("early_stopping"), Remedy("dropout", {"rate": 0.3})
    baseline.report.findings[0].remedies = [tried, untried]
    rerun = diagnosed(make_run(label=f"run 1 + {SCRIPT}", n=12), "Nothing much")
    rerun.parent, rerun.remedy = baseline, Remedy("early_stopping")
    page = static.twin_html([baseline, rerun], uid="abc123", selected=baseline)
    items = re.findall(r"<li>(.*?)</li>", page, re.S)
    assert len(items) == 2
    assert "(applied: run 1 + &lt;script&gt;" in items[0] and SCRIPT not in page
    assert "applied" not in items[1]
    # the exported report says the same
    from stallmagic.render.export import html_document

    document = html_document([baseline, rerun])
    assert document.count("(applied: run 1 + &lt;script&gt;") == 1 and SCRIPT not in document
