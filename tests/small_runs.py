"""Small real trainings captured for the rerun tests that need a Run and not a scenario: a softmax classifier (with
an optional hidden layer) on generated rows, one call each, so the tests that share it do not copy it."""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np

import stallmagic
from stallmagic.record import Run


def _first_feature_positive(x: np.ndarray) -> np.ndarray:
    return x[:, 0] > 0


def captured_classifier(
    *,
    rows: int,
    features: int,
    epochs: int,
    batch_size: int,
    hidden: int | None = None,
    label: str = "small",
    target: Callable[[np.ndarray], np.ndarray] = _first_feature_positive,
) -> Run:
    """Fit a two-class softmax classifier on ``rows`` normal rows (a quarter held out by ``validation_split``),
    seeded, under ``stallmagic.capture``; returns its Run. ``hidden`` adds a ReLU layer of that width (a model that
    remedies like dropout rebuild); ``target`` gives the class of each row."""
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(rows, features)).astype("float32")
    y = np.asarray(target(x)).astype("int64")
    layers = [keras.Input((features,))]
    if hidden is not None:
        layers.append(keras.layers.Dense(hidden, activation="relu"))
    layers.append(keras.layers.Dense(2, activation="softmax"))
    model = keras.Sequential(layers)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    with stallmagic.capture(label=label) as session:
        model.fit(x, y, validation_split=0.25, epochs=epochs, batch_size=batch_size, verbose=0)
    return session.runs[-1]
