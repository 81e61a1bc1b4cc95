"""Predicted classes line up with the labels' class indices, whatever values the labels take.

A sparse label is the number of its output unit; :class:`Labels` index the distinct values seen. Labels 1, 2, 3 on
four softmax units (unit 0 unused, common when classes are numbered from 1) were compared unit-for-index, so a
perfect network had a recall of 0 on every class, and the class-imbalance rule read a collapse that was not there.
"""

from __future__ import annotations

import numpy as np

from stallmagic.diagnosis.measurements import ArraySample
from stallmagic.diagnosis.signals.predictions import predicted_classes, recall_by_class
from stallmagic.diagnosis.signals.targets import as_classes


def _sample(y: np.ndarray) -> ArraySample:
    return ArraySample(x=np.zeros((len(y), 2)), y=y, rows=np.arange(len(y)), n_total=len(y))


def _one_hot_scores(units: np.ndarray, width: int) -> np.ndarray:
    return np.eye(width)[units] * 0.9 + 0.1 / width


def test_a_perfect_network_on_labels_numbered_from_one_has_full_recall():
    y = np.array([1, 2, 3, 1, 2, 3, 3, 3])
    labels = as_classes(_sample(y), _sample(y), "sparse")
    predicted = predicted_classes(_one_hot_scores(y, 4), labels)
    assert recall_by_class(predicted, labels.val) == {0: 1.0, 1: 1.0, 2: 1.0}


def test_a_unit_no_label_names_counts_as_a_miss_and_labels_from_zero_are_unchanged():
    y = np.array([1, 2, 3, 3])
    labels = as_classes(_sample(y), _sample(y), "sparse")
    predicted = predicted_classes(_one_hot_scores(np.array([0, 2, 3, 3]), 4), labels)
    assert predicted.tolist() == [-1, 1, 2, 2]
    z = np.array([0, 1, 2, 2])
    zero = as_classes(_sample(z), _sample(z), "sparse")
    assert predicted_classes(_one_hot_scores(z, 3), zero).tolist() == [0, 1, 2, 2]
