"""``stallmagic.diagnosis.measure``: what the Keras side hands the pure rules, checked against the model it measured."""

from __future__ import annotations

import keras
import numpy as np

import stallmagic
from stallmagic.diagnosis.measure import measure


def test_the_probe_reads_the_final_weights_at_the_end_and_leaves_them_in_place(digits, seed):
    x, y = digits
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32), keras.layers.Activation("relu"),
                              keras.layers.Dense(10, activation="softmax")])  # fmt: skip
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy")
    with stallmagic.capture() as session:
        model.fit(x, y, epochs=3, validation_split=0.2, verbose=0)
    run = session.runs[-1]
    final = [w.copy() for w in model.get_weights()]
    probe = measure(run).gradients
    kernels_end = [np.linalg.norm(final[0]), np.linalg.norm(final[2])]
    kernels_start = [np.linalg.norm(run.initial_weights[0]), np.linalg.norm(run.initial_weights[2])]
    np.testing.assert_allclose(probe.weight_norms["end"], kernels_end, rtol=1e-5)
    np.testing.assert_allclose(probe.weight_norms["start"], kernels_start, rtol=1e-5)
    assert probe.dead_relu["end"] is not probe.dead_relu["start"]
    assert all(change > 0 for change in probe.weight_change)
    for before, after in zip(final, model.get_weights(), strict=True):  # the user's weights are untouched
        np.testing.assert_array_equal(before, after)


def test_a_fit_without_validation_gets_predictions_on_its_training_rows(cancer, seed):
    x, y = cancer
    model = keras.Sequential([keras.Input((30,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    with stallmagic.capture() as session:
        model.fit(x, y, epochs=2, verbose=0)
    m = measure(session.runs[-1], gradients=False)
    assert m.val_pred is None and m.train_pred is not None and len(m.train_pred) == len(m.train.y)
