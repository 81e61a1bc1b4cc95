"""Every cause, on a real small training with that fault, is ranked first; healthy trainings raise nothing.

The scenarios live in ``tests/scenarios.py`` (shared with ``bench/diagnosis.py``). Each trains a real Keras model
on scikit-learn's bundled data, so this module is the slow part of the suite (about a minute and a half).
"""

from __future__ import annotations

import json

import pytest
from scenarios import SCENARIOS, train

from stallmagic import CAUSES

FAULTS = [s for s in SCENARIOS.values() if s.expect]
HEALTHY = [s for s in SCENARIOS.values() if not s.expect]


def test_every_cause_has_a_scenario():
    assert {s.expect for s in FAULTS} == set(CAUSES)


@pytest.mark.parametrize("scenario", FAULTS, ids=lambda s: s.name)
def test_fault_is_ranked_first(scenario):
    run = train(scenario)
    report = run.diagnose()
    assert report.findings, f"{scenario.name}: no finding\n{report}"
    top = report.findings[0]
    assert top.code == scenario.expect, f"{scenario.name}: expected {scenario.expect}\n{report}"
    assert top.alert and not report.healthy
    assert top.evidence and top.explanation and top.title
    # the words are specific: the explanation quotes the run's own numbers or names (a loss, an activation)
    quoted = [str(v) for v in top.evidence.values() if isinstance(v, (str, int, float)) and not isinstance(v, bool)]
    assert any(ch.isdigit() for ch in top.explanation) or any(q in top.explanation for q in quoted)
    json.dumps(report.to_dict(), allow_nan=False)
    assert top.title in str(report)


@pytest.mark.parametrize("scenario", HEALTHY, ids=lambda s: s.name)
def test_healthy_run_raises_nothing(scenario):
    run = train(scenario)
    report = run.diagnose()
    assert report.healthy, f"{scenario.name}: false alarm\n{report}"
    assert "No problem found" in str(report)
