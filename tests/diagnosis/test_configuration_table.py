"""The loss/output/label table (:data:`stallmagic.diagnosis.rules.configuration.CHECKS`), one case per cell,
without Keras.

Every configuration Keras accepts silently but that cannot work gets a row here with the check that must name
it; the healthy combinations below must raise nothing. The runs are built by hand (see ``test_rules_pure``).
"""

from __future__ import annotations

import numpy as np
import pytest
from test_rules_pure import make_run

from stallmagic import diagnose
from stallmagic.diagnosis import ArraySample, Measurements
from stallmagic.diagnosis.rules.configuration import CHECKS

RNG = np.random.default_rng(0)
X = RNG.normal(size=(300, 6))
INTS3 = RNG.integers(0, 3, 300)
BINARY = RNG.integers(0, 2, 300)
STALLED = {"loss": [1.1] * 6, "accuracy": [0.34] * 6, "val_loss": [1.1] * 6, "val_accuracy": [0.33] * 6}


def _diagnose(y, **model):
    m = Measurements(train=ArraySample(x=X, y=np.asarray(y), rows=np.arange(300), n_total=300))
    return diagnose(make_run(STALLED, **model), m)


CELLS = [
    # (targets, model settings, the check that must fire)
    (BINARY, dict(loss="binary_crossentropy", activation="softmax", units=1), "softmax_on_one_unit"),
    (INTS3, dict(loss="sparse_categorical_crossentropy", activation="softmax", units=3, from_logits=True),
     "logits_on_probabilities"),
    (INTS3, dict(loss="sparse_categorical_crossentropy", activation="linear", units=3), "cross_entropy_on_raw_output"),
    (INTS3, dict(loss="categorical_crossentropy", activation="relu", units=3), "cross_entropy_on_raw_output"),
    (INTS3 / 255.0, dict(loss="sparse_categorical_crossentropy", units=3), "sparse_labels_unreadable"),
    (INTS3 - 1, dict(loss="sparse_categorical_crossentropy", units=3), "sparse_labels_unreadable"),
    (np.eye(3)[INTS3], dict(loss="sparse_categorical_crossentropy", units=3), "sparse_on_onehot"),
    (BINARY, dict(loss="sparse_categorical_crossentropy", activation="sigmoid", units=1), "sparse_on_one_unit"),
    (INTS3, dict(loss="categorical_crossentropy", units=3), "categorical_on_integers"),
    (INTS3, dict(loss="binary_crossentropy", activation="sigmoid", units=1), "one_unit_for_many_classes"),
    (INTS3, dict(loss="mean_squared_error", activation="sigmoid", units=1), "one_unit_for_many_classes"),
    (np.eye(3)[INTS3], dict(loss="binary_crossentropy", activation="softmax", units=3),
     "binary_loss_on_one_label_classes"),
    (np.eye(3)[INTS3], dict(loss="binary_crossentropy", activation="sigmoid", units=3),
     "binary_loss_on_one_label_classes"),
    ((RNG.random((300, 4)) < 0.4).astype(float), dict(loss="categorical_crossentropy", units=4),
     "softmax_on_multihot"),
    (INTS3 + 3, dict(loss="sparse_categorical_crossentropy", units=3), "labels_beyond_output"),
    (RNG.normal(50, 10, 300), dict(loss="mean_squared_error", activation="sigmoid", units=1),
     "targets_out_of_range"),
    (RNG.normal(0, 1, 300), dict(loss="mean_absolute_error", activation="relu", units=1), "targets_out_of_range"),
    (RNG.normal(0, 3, 300), dict(loss="mean_squared_error", activation="tanh", units=1), "targets_out_of_range"),
    (RNG.integers(0, 256, 300).astype(float), dict(loss="binary_crossentropy", activation="sigmoid", units=1),
     "targets_out_of_range"),
    (BINARY, dict(loss="mean_squared_error", activation="sigmoid", units=1), "regression_loss_on_classes"),
]  # fmt: skip


def test_every_check_has_a_cell():
    assert {check.__name__.lstrip("_") for check in CHECKS} == {cell[2] for cell in CELLS}


@pytest.mark.parametrize(("y", "model", "check"), CELLS, ids=[c[2] + f"-{i}" for i, c in enumerate(CELLS)])
def test_a_configuration_that_cannot_work_is_named(y, model, check):
    finding = _diagnose(y, **model).get("loss_mismatch")
    assert finding is not None and finding.evidence["check"] == check, finding
    assert finding.explanation.endswith(".") and finding.remedies


HEALTHY = [
    (INTS3, dict(loss="sparse_categorical_crossentropy", activation="softmax", units=3)),
    (np.eye(3)[INTS3], dict(loss="categorical_crossentropy", activation="softmax", units=3)),
    (INTS3, dict(loss="sparse_categorical_crossentropy", activation="linear", units=3, from_logits=True)),
    (BINARY, dict(loss="binary_crossentropy", activation="sigmoid", units=1)),
    (BINARY, dict(loss="binary_crossentropy", activation="linear", units=1, from_logits=True)),
    ((RNG.random((300, 4)) < 0.4).astype(float), dict(loss="binary_crossentropy", activation="sigmoid", units=4)),
    (RNG.random(300), dict(loss="binary_crossentropy", activation="sigmoid", units=1)),  # soft targets in [0, 1]
    (RNG.normal(50, 10, 300), dict(loss="mean_squared_error", activation="linear", units=1)),
    (RNG.normal(50, 10, 300), dict(loss="mean_squared_error", activation="relu", units=1)),
    (RNG.uniform(-0.9, 0.9, 300), dict(loss="mean_squared_error", activation="tanh", units=1)),
    (INTS3 + 1, dict(loss="sparse_categorical_crossentropy", activation="softmax", units=4)),
]  # fmt: skip


@pytest.mark.parametrize(("y", "model"), HEALTHY)
def test_a_configuration_that_works_raises_no_mismatch(y, model):
    assert _diagnose(y, **model).get("loss_mismatch") is None
