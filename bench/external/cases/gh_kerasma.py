"""GitHub eangelou/kerasma: a small MLP on the Pima Indians diabetes table, trained without validation.

The authors' fix makes the network deeper and wider (12-24-120-36-12 instead of 12-8); DeepFD labels it
"Missing/Redundant/Wrong Layers". The buggy version writes each activation as its own ``Activation`` layer.
"""

from __future__ import annotations

import numpy as np

from ..harness import Case, Mirror, Program

CASE = Case(
    name="gh_kerasma",
    repo="Wardat-ISU/DeepLocalize",
    path="Benchmark/GitHub/{variant} Model/kerasma",
    labels=("layers",),
    summary="Pima diabetes MLP without validation; the fix adds layers.",
    deviations=("DeepLocalize's instrumentation callback is dropped",),
)


def build(mirror: Mirror, variant: str) -> Program:
    import keras
    from keras import layers

    folder = CASE.path.format(variant="Buggy" if variant == "buggy" else "Correct")
    data = np.loadtxt(mirror.open(CASE.repo, f"{folder}/pima-indians-diabetes.data"), delimiter=",")
    x, y = data[:, 0:8], data[:, 8]
    if variant == "buggy":
        model = keras.Sequential([
            keras.Input((8,)),
            layers.Dense(12), layers.Activation("relu"),
            layers.Dense(8), layers.Activation("relu"),
            layers.Dense(1), layers.Activation("sigmoid"),
        ])  # fmt: skip
    else:
        model = keras.Sequential([
            keras.Input((8,)),
            layers.Dense(12, activation="relu"),
            layers.Dense(24, activation="relu"),
            layers.Dense(120, activation="relu"),
            layers.Dense(36, activation="relu"),
            layers.Dense(12, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ])  # fmt: skip
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    return Program(model, dict(x=x, y=y, epochs=150, batch_size=10), task="binary")
