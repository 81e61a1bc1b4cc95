"""A model with several outputs is judged on one output, read by its name everywhere.

Keras orders a model's outputs by sorted key, calling the model returns its dict in the order it was built, and the
user writes targets and losses in their own order. Reading "the first" of each by position paired one output's
activation with another's loss: a healthy two-headed model was reported as "sparse categorical loss on one output
unit" at 0.95.
"""

from __future__ import annotations

import keras
import numpy as np

import stallmagic
from stallmagic._internal.nested import judged_output, several_outputs
from stallmagic.diagnosis.measure import measure


def test_outputs_targets_losses_and_metric_are_read_under_one_name(digits, seed):
    x, y = digits
    inputs = keras.Input((64,))
    hidden = keras.layers.Dense(32, activation="relu")(inputs)
    # built "digit" first; Keras sorts the outputs, so "big" (a sigmoid unit) is the judged one
    model = keras.Model(inputs, {
        "digit": keras.layers.Dense(10, activation="softmax", name="digit")(hidden),
        "big": keras.layers.Dense(1, activation="sigmoid", name="big")(hidden),
    })  # fmt: skip
    model.compile(
        optimizer="adam",
        loss={"digit": "sparse_categorical_crossentropy", "big": "binary_crossentropy"},
        metrics={"digit": ["accuracy"], "big": ["accuracy"]},
    )
    big = (y >= 5).astype("float32")
    with stallmagic.capture() as session:
        model.fit(x, {"digit": y, "big": big}, validation_split=0.2, epochs=3, verbose=0)
    run = session.runs[0]
    assert run.model.output_names == ["big", "digit"] and run.judged_output == "big"
    assert (run.model.output_activation, run.model.output_units) == ("sigmoid", 1)
    assert run.model.loss.name == "binary_crossentropy"  # the judged output's loss, not the first one written

    m = measure(run)
    n_val = len(y) - int(len(y) * 0.8)
    np.testing.assert_array_equal(m.val.y, big[-n_val:])  # the judged output's targets ...
    assert m.val_pred.shape in ((n_val,), (n_val, 1))  # ... and its predictions (one sigmoid unit, not 10)
    report = run.diagnose()
    assert "loss_mismatch" not in report.codes(), report
    assert report.metric == "big_accuracy"


def test_several_outputs_and_the_judged_part():
    a, b = np.zeros(3), np.ones(3)
    assert several_outputs({"a": a, "b": b}) and several_outputs([a, b]) and several_outputs((a,))
    assert not several_outputs([0, 1, 1]) and not several_outputs(a)
    assert not several_outputs([]) and not several_outputs(None)
    assert judged_output({"a": a, "b": b}, "b") is b
    assert judged_output({"a": a, "b": b}, "missing") is a and judged_output({"a": a, "b": b}) is a
    assert judged_output([a, b], "b") is a  # a list holds no names: its first item
    assert judged_output(a, "b") is a
