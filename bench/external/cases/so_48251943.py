"""StackOverflow 48251943: a 2-4-1 MLP regressing one column of a 17-row table (Book1.csv) on two others.

The buggy program ends in a ReLU output (written as separate ``Activation`` layers) and trains 50 epochs; the
authors' fix uses a tanh output and 500 epochs. DeepFD labels it "Activation". No validation: scored on training rows.
"""

from __future__ import annotations

import numpy as np

from ..harness import Case, Mirror, Program

CASE = Case(
    name="so_48251943",
    repo="Wardat-ISU/DeepLocalize",
    path="Benchmark/StackOverflow/48251943/{variant} Code",
    labels=("activation",),
    summary="Tiny MLP regression on 17 rows with a ReLU output unit; the fix uses tanh (and 500 epochs).",
    deviations=("DeepLocalize's instrumentation callback is dropped",),
)


def build(mirror: Mirror, variant: str) -> Program:
    import keras
    from keras import layers

    folder = CASE.path.format(variant="Buggy" if variant == "buggy" else "Correct")
    dataset = np.genfromtxt(mirror.open(CASE.repo, f"{folder}/Book1.csv"), delimiter=",")
    x, y = dataset[:, 2:4], dataset[:, 1]
    if variant == "buggy":
        model = keras.Sequential([
            keras.Input((2,)),
            layers.Dense(4), layers.Activation("relu"),
            layers.Dense(1), layers.Activation("relu"),
        ])  # fmt: skip
        epochs = 50
    else:
        model = keras.Sequential([
            keras.Input((2,)),
            layers.Dense(4, activation="relu"),
            layers.Dense(1, activation="tanh"),
        ])  # fmt: skip
        epochs = 500
    model.compile(loss="mean_squared_error", optimizer="sgd", metrics=["MSE"])
    return Program(model, dict(x=x, y=y, epochs=epochs, batch_size=10), task="regression")
