"""StackOverflow 45337371: a ReLU MLP (60-50-1) whose one output unit is a ``softmax``, trained with Adam and
binary cross-entropy, one row at a time, on uniform random inputs and targets of shape (5, 1) per row.

The post's code (``untitled27.py``) only builds the model and takes a gradient, without training; the trained
program is DeepLocalize's own ``updatepy.py`` beside it, which is what this case ports. The authors' fix replaces
the output ``softmax`` with ``sigmoid``, but their "Correct Model" folder holds only the untrained gradient snippet,
so there is no correct program to port as a control (``correct=False``). The targets are independent of the inputs
by construction: no model can beat chance on them.
"""

from __future__ import annotations

import numpy as np

from ..harness import Case, Mirror, Program, Skip

CASE = Case(
    name="so_45337371",
    repo="Wardat-ISU/DeepLocalize",
    path="Benchmark/StackOverflow/45337371/Buggy Model",
    labels=("activation",),
    summary="MLP with a one-unit softmax output under binary cross-entropy; the fix is a sigmoid output.",
    deviations=(
        "DeepLocalize's instrumentation callback is dropped",
        "ports updatepy.py (DeepLocalize's trained version of the post), not the post's untrained untitled27.py",
        "x and y are drawn with np.random.default_rng(0) instead of the global numpy generator",
        "no control: the Correct Model folder has no training program",
    ),
    correct=False,
)


def build(mirror: Mirror, variant: str) -> Program:
    import keras
    from keras import layers

    if variant != "buggy":
        raise Skip("the Correct Model folder holds only an untrained gradient snippet")
    num_features, batch_size, epochs = 5, 1, 5
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(1000, num_features, 1))
    y = rng.uniform(size=(1000, num_features, 1))
    model = keras.Sequential([
        keras.Input((num_features, 1)),
        layers.Dense(60), layers.Activation("relu"),
        layers.Dense(50), layers.Activation("relu"),
        layers.Dense(1), layers.Activation("softmax"),
    ])  # fmt: skip
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    # one prediction per position of each row: scored element-wise against targets above/below 0.5
    return Program(model, dict(x=x, y=y, batch_size=batch_size, epochs=epochs), task="multilabel")
