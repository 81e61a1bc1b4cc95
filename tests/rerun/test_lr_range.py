"""The learning-rate remedy measures its rate: a short range test from the run's starting weights (real fits)."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

import stallmagic
from stallmagic.rerun.lr_range import candidates, choose


def test_candidates_stay_on_the_side_of_the_current_rate_the_finding_points_to():
    down = candidates(0.01, current=3.0)
    assert down == [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1]
    assert all(r < 0.05 for r in candidates(0.01, current=0.05))
    assert all(r > 1e-5 for r in candidates(1e-3, current=1e-5)) and min(candidates(1e-3, current=1e-5)) > 1e-5
    assert 0.001 not in candidates(1e-4, current=0.0010000000474974513)  # the current rate, read as a float32


def test_choose_takes_the_lowest_loss_and_steps_back_from_the_edge_of_divergence():
    rates = [0.001, 0.01, 0.1, 1.0]
    assert choose(rates, [2.0, 1.5, 1.0, 0.9], 2.3, 0.01) == 1.0
    assert choose(rates, [2.0, 1.5, 1.0, None], 2.3, 0.01) == 0.01  # 1.0 diverged next to the best: one down
    assert choose(rates, [2.0, 1.5, 1.0, 5.0], 2.3, 0.01) == 0.01  # 1.0 blew the loss up
    assert choose(rates, [2.4, 2.5, 2.6, None], 2.3, 0.01) == 0.01  # nothing lowered the loss: the suggestion
    assert choose(rates, [None] * 4, math.nan, 0.01) == 0.001


@pytest.fixture(scope="module")
def too_high():
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])  # fmt: skip
    model.compile(optimizer=keras.optimizers.SGD(3.0), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    with stallmagic.capture() as session:
        model.fit((x / 16).astype("float32"), y, validation_split=0.2, epochs=6, verbose=0)
    return session.runs[-1]


def test_a_measured_rate_repairs_a_rate_far_too_high_and_says_what_was_measured(too_high, seed):
    run = too_high
    assert max(run.logs["val_accuracy"]) < 0.3
    report = run.diagnose()
    assert report.findings[0].code == "lr_too_high"
    remedy = next(r for r in report.findings[0].remedies if r.code == "learning_rate")
    assert remedy.params["measure"] and remedy.enabled
    new = run.rerun(remedy)
    test = remedy.evidence["range_test"]
    assert len(test["rates"]) == len(test["losses"]) >= 5 and test["steps"] >= 3
    assert all(r < 3.0 for r in test["rates"]) and test["chosen"] in test["rates"]
    assert math.isclose(new.learning_rates[0], test["chosen"], rel_tol=1e-6)
    assert max(new.logs["val_accuracy"]) > 0.8
    assert "measured" in remedy.describe() and f"{test['chosen']:g}" in remedy.as_code()
    assert any("range test" in note for note in new.extras["rerun"]["notes"])
    again = new.rerun(None)  # stacking keeps the measured rate; nothing is measured again
    assert not any("range test" in note for note in again.extras["rerun"]["notes"])
    assert np.allclose(again.logs["val_loss"], new.logs["val_loss"])
