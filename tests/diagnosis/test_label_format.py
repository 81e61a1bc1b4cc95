"""Label-format detection on hand-built targets: how :func:`label_format` reads an encoding from the values alone,
and which class :func:`class_values` reads from each row. Every class check (balance, label noise, a loss that
cannot read its labels) starts from these two, so each encoding Keras accepts gets a case here."""

from __future__ import annotations

import numpy as np
import pytest

from stallmagic.diagnosis.signals import class_values, label_format
from stallmagic.diagnosis.signals.targets import MAX_CLASSES


@pytest.mark.parametrize(
    ("y", "fmt"),
    [
        (np.array([0, 1, 2, 1, 0]), "sparse"),
        (np.array([[0], [1], [2]]), "sparse"),  # a column of integer labels
        (np.array([0.0, 1.0, 2.0, 1.0]), "sparse"),  # integer values stored as floats
        (np.array([True, False, True]), "sparse"),
        (np.array(["cat", "dog", "cat"]), "sparse"),  # string labels
        (np.array([-1, 1, 1, -1]), "sparse"),  # ±1 labels (hinge losses): integers, two classes
        (np.array([-1.0, 1.0, -1.0]), "sparse"),
        (np.eye(3)[[0, 2, 1, 2]], "onehot"),
        (np.array([[0.9, 0.05, 0.05], [0.05, 0.9, 0.05]]), "onehot"),  # label smoothing: rows still sum to 1
        (np.array([[1, 0, 1], [0, 1, 1], [1, 0, 0]]), "multilabel"),
        (np.array([0.5, 1.7, 3.2, 2.0]), "continuous"),
        (np.array([[0.5, 1.7], [3.2, 2.0]]), "continuous"),  # several numeric outputs per row
        (np.array([[1.0, np.nan], [0.0, 1.0]]), "continuous"),  # a non-finite row is no class encoding
        (np.arange(MAX_CLASSES + 1, dtype=float), "continuous"),  # too many distinct whole numbers for classes
        (np.arange(MAX_CLASSES, dtype=float), "sparse"),
        (np.zeros((4, 5, 2)), "per_position"),  # one target per position of a sequence
        (np.zeros((4, 8, 8, 1)), "per_position"),  # a per-pixel map
    ],
)
def test_label_format(y, fmt):
    assert label_format(y) == fmt


def test_a_one_step_sequence_is_not_per_position():
    """Shape (n, 1, 1) holds one target per row: read as the label it is, not as a sequence of one."""
    assert label_format(np.array([[[0]], [[1]], [[2]]])) == "sparse"


def test_integer_labels_are_their_own_class():
    assert class_values(np.array([3, 0, 2]), "sparse").tolist() == [3, 0, 2]
    assert class_values(np.array([[3], [0], [2]]), "sparse").tolist() == [3, 0, 2]


def test_float_labels_round_to_integers_and_unknowns_to_minus_one():
    values = class_values(np.array([1.0, 2.0, np.nan, 0.0]), "sparse")
    assert values.dtype == np.int64
    assert values.tolist() == [1, 2, -1, 0]


def test_one_hot_and_soft_rows_read_their_argmax():
    assert class_values(np.eye(4)[[3, 1, 0]], "onehot").tolist() == [3, 1, 0]
    assert class_values(np.array([[0.1, 0.8, 0.1], [0.7, 0.2, 0.1]]), "onehot").tolist() == [1, 0]


def test_plus_minus_one_labels_keep_their_values():
    assert class_values(np.array([-1, 1, 1]), "sparse").tolist() == [-1, 1, 1]
    assert class_values(np.array([-1.0, 1.0]), "sparse").tolist() == [-1, 1]


def test_string_labels_are_returned_as_given():
    assert class_values(np.array(["b", "a"]), "sparse").tolist() == ["b", "a"]


def test_multi_hot_rows_read_their_first_column():
    """Multi-label rows have no single class; the first column is what a caller gets (the class checks skip them)."""
    assert class_values(np.array([[1, 0, 1], [0, 1, 1]]), "multilabel").tolist() == [1, 0]
