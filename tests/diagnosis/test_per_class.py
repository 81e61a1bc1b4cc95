"""The per-class view (issue 13): recall per class on training and validation and the validation confusion matrix,
from the diagnosis's own predictions, on arrays built by hand and on a real imbalanced training; and that it
reaches the panel, the static twin and the exports."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import scenarios  # tests/ is on sys.path under pytest

import stallmagic
from stallmagic.diagnosis.per_class import confusion_matrix, per_class, recall_from_confusion
from stallmagic.diagnosis.signals.targets import Labels


def labels_of(val, train=None, classes=(0, 1, 2), fmt="sparse") -> Labels:
    val = None if val is None else np.asarray(val)
    train = None if train is None else np.asarray(train)
    return Labels(fmt, np.asarray(classes), train, val, None, None)


def test_confusion_matrix_counts_every_row_once_and_recall_reads_its_rows():
    true = np.array([0, 0, 0, 1, 1, 2, -1])
    pred = np.array([0, 1, 0, 1, 1, 0, 2])
    cm = confusion_matrix(true, pred, 3)
    assert cm.tolist() == [[2, 1, 0], [0, 2, 0], [1, 0, 0]]
    assert cm.sum() == 6  # the row without a known class is left out
    assert recall_from_confusion(cm) == [pytest.approx(2 / 3), 1.0, 0.0]
    assert recall_from_confusion(np.zeros((2, 2), int)) == [None, None]  # a class without rows has no recall


def test_per_class_reads_validation_and_training_and_orders_the_worst_first():
    view = per_class(labels_of([0, 0, 1, 2, 2], train=[0, 1, 1, 2]), np.array([0, 0, 0, 2, 1]),
                     np.array([1, 1]), np.array([1, 2]))  # fmt: skip
    assert view.split == "validation" and view.rows == 5 and view.classes == ["0", "1", "2"]
    assert view.val_recall == [1.0, 0.0, 0.5]
    assert view.train_rows == 2 and view.train_recall == [None, 1.0, None]  # rows 1 and 2 of training
    assert view.worst_first() == [1, 2, 0]
    assert json.loads(json.dumps(view.to_dict()))["confusion"] == [[2, 0, 0], [1, 0, 0], [0, 1, 1]]


def test_a_predicted_unit_no_target_names_counts_in_an_other_column():
    view = per_class(labels_of([0, 1, 1], classes=(0, 2)), np.array([0, 1, -1]))  # class indices; -1: unit 7
    assert view.classes == ["0", "2", "other"] and view.rows == 3
    assert view.confusion == [[1, 0, 0], [0, 1, 1], [0, 0, 0]]
    assert view.val_recall == [1.0, 0.5, None]


def test_without_validation_the_matrix_is_on_training_and_without_predictions_there_is_none():
    view = per_class(labels_of(None, train=[0, 1, 1]), None, np.array([0, 1, 0]))
    assert view.split == "training" and view.rows == 3 and view.train_recall == [1.0, 0.5, None]
    assert view.val_recall == [None, None, None]
    assert per_class(labels_of([0, 1]), None) is None
    assert per_class(None, np.array([0, 1])) is None


# ---------------------------------------------------------------------------------------------------- real training


@pytest.fixture(scope="module")
def imbalanced_run():
    """The 95:5 imbalanced make_classification scenario (known fault: class imbalance), 6 epochs, diagnosed."""
    keras.utils.set_random_seed(0)
    model, fit_args = scenarios.class_imbalance()
    fit_args["epochs"] = 6
    with stallmagic.capture(label="imbalanced") as session:
        model.fit(verbose=0, **fit_args)
    run = session.runs[-1]
    run.diagnose()
    return run


def test_the_minority_class_has_the_lower_recall_on_both_splits(imbalanced_run):
    report = imbalanced_run.report
    assert report.get("class_imbalance") is not None
    view = report.per_class
    assert view is not None and view.classes == ["0", "1"]
    assert view.val_recall[1] < view.val_recall[0] and view.train_recall[1] < view.train_recall[0]
    assert view.worst_first()[0] == 1  # the minority class is listed first
    validation_rows = len(imbalanced_run.data.validation()[1])  # validation_split=0.25 of 3000 rows
    assert view.split == "validation" and view.rows == validation_rows == 750
    assert sum(map(sum, view.confusion)) == validation_rows
    assert sum(view.confusion[1]) == int(np.sum(imbalanced_run.data.validation()[1] == 1))  # a row per true class
    assert 0 < view.train_rows <= 1000


def test_the_view_reaches_the_exports_the_twin_and_the_panel(imbalanced_run, tmp_path):
    from stallmagic.notebook.cell import CellRuns
    from stallmagic.notebook.panel import Panel
    from stallmagic.render.export import write_report

    view = imbalanced_run.report.per_class
    (page,) = write_report(tmp_path / "r.html", [imbalanced_run])
    text = page.read_text()
    assert 'class="stallmagic-confusion"' in text and "Recall per class" in text
    assert f">{view.confusion[1][0]}<" in text
    (doc,) = write_report(tmp_path / "r.json", [imbalanced_run])
    reports = json.loads(doc.read_text())["reports"]
    assert reports[str(imbalanced_run.index)]["per_class"]["confusion"] == view.confusion
    (md,) = write_report(tmp_path / "r.md", [imbalanced_run])
    lines = md.read_text().splitlines()
    assert any(line.startswith("### Confusion matrix") for line in lines)
    assert f"| 1 | {view.confusion[1][0]} | {view.confusion[1][1]} |" in lines
    cell = CellRuns(number=1, line="", source="model.fit(x, y)\n", label=None, metric=None)
    cell.session.runs.append(imbalanced_run)
    cell.selected = imbalanced_run
    panel = Panel(cell, display=lambda obj, **kwargs: None)
    panel.finish()
    shown = "".join(getattr(c, "value", "") for c in panel.findings.children)
    assert "Recall per class" in shown and 'class="stallmagic-confusion"' in shown
    assert 'class="stallmagic-confusion"' in panel.twin.html
