"""``stallmagic.remedies.attach``: reports with remedies, while the diagnosis itself never imports the remedies.

Pure: runs built by hand (see ``test_remedies.record_run``), no Keras model.
"""

from __future__ import annotations

import json

import numpy as np
from test_remedies import record_run

import stallmagic
from stallmagic import diagnosis
from stallmagic.diagnosis import Signals
from stallmagic.record import Run
from stallmagic.remedies import attach, suggest


def crawling_sgd_run() -> Run:
    """Plain SGD at 0.01 whose curves still climb: two findings (optimizer_choice, then train_longer)."""
    n = 10
    run = record_run(epochs=n)
    run.model.optimizer = {"class_name": "SGD", "config": {"learning_rate": 0.01}}
    curves = {
        "loss": np.linspace(2.3, 1.2, n),
        "accuracy": np.linspace(0.1, 0.6, n),
        "val_loss": np.linspace(2.3, 1.25, n),
        "val_accuracy": np.linspace(0.1, 0.58, n),
    }
    run.logs = {k: [float(v) for v in values] for k, values in curves.items()}
    run.epochs, run.learning_rates, run.end = list(range(n)), [0.01] * n, "completed"
    return run


def codes(report) -> list[tuple[str, list[str]]]:
    return [(f.code, [r.code for r in f.remedies]) for f in report.findings]


def test_the_public_diagnose_is_the_diagnosis_with_suggest_attached():
    run = crawling_sgd_run()
    report = stallmagic.diagnose(run)
    assert stallmagic.diagnose is attach.diagnose
    assert [f.code for f in report.findings] == ["optimizer_choice", "train_longer"]
    assert all(f.remedies for f in report.findings)
    same = diagnosis.diagnose(run, remedies=suggest)
    assert json.dumps(same.to_dict()["findings"]) == json.dumps(report.to_dict()["findings"])


def test_without_remedies_the_findings_are_the_same_and_carry_none():
    run = crawling_sgd_run()
    full = stallmagic.diagnose(run)
    for bare in (diagnosis.diagnose(run), stallmagic.diagnose(run, with_remedies=False)):
        assert [(f.code, f.confidence, f.explanation) for f in bare.findings] == [
            (f.code, f.confidence, f.explanation) for f in full.findings
        ]
        assert all(f.remedies == [] for f in bare.findings)
        assert bare.summary == full.summary


def test_the_remedy_source_sees_each_ranked_finding_before_the_summary_and_notes_are_read():
    """The source may fill lazy signals the report then shows; a note it adds must reach the report."""
    run = crawling_sgd_run()
    calls = []

    def source(finding, seen_run, signals):
        calls.append((finding.code, seen_run, type(signals)))
        signals.notes.append(f"source saw {finding.code}")
        return [f"remedy for {finding.code}"]

    report = diagnosis.diagnose(run, remedies=source)
    assert calls == [("optimizer_choice", run, Signals), ("train_longer", run, Signals)]
    assert [f.remedies for f in report.findings] == [["remedy for optimizer_choice"], ["remedy for train_longer"]]
    assert report.notes[-2:] == ["source saw optimizer_choice", "source saw train_longer"]


def test_run_diagnose_without_data_attaches_remedies_and_keeps_the_report():
    run = Run.from_dict(json.loads(json.dumps(crawling_sgd_run().to_dict())))  # a Run rebuilt from JSON: no data
    assert run.data is None
    report = run.diagnose()
    assert run.report is report
    assert codes(report) == codes(stallmagic.diagnose(run))
    assert all(f.remedies for f in report.findings)
