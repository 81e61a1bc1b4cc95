"""StackOverflow 39525358: a 3-12-3-1 ReLU/sigmoid MLP on a 24-row table of raw integers (65-70), batch size 1.

The buggy program leaves the inputs unscaled (the ``StandardScaler`` lines are commented out), uses separate
``Activation`` layers and Keras 1's ``init='uniform'``, and trains 150 epochs of Adam in batches of one without
validation; the authors' fix standardizes the inputs, writes the activations inline, trains in batches of 10 and
validates on the held-back third. DeepFD labels it activation, learning rate and missing preprocessing.
"""

from __future__ import annotations

import numpy as np

from ..harness import Case, Mirror, Program

CASE = Case(
    name="so_39525358",
    repo="Wardat-ISU/DeepLocalize",
    path="Benchmark/StackOverflow/39525358/{variant} Code",
    labels=("activation", "learning_rate", "preprocessing"),
    summary="Tiny unscaled integer table, 3-12-3-1 MLP, Adam at batch 1; the fix standardizes the inputs.",
    deviations=(
        "DeepLocalize's instrumentation callback is dropped",
        "sklearn's train_test_split(test_size=0.33, random_state=7) as in the program; the CSV (a byte-order mark and "
        "carriage-return line ends) is parsed without numpy.loadtxt",
    ),
)


def _uniform() -> object:
    import keras

    return keras.initializers.RandomUniform(-0.05, 0.05)  # Keras 1's init='uniform'


def build(mirror: Mirror, variant: str) -> Program:
    import keras
    from keras import layers
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    folder = CASE.path.format(variant="Buggy" if variant == "buggy" else "Correct")
    text = mirror.text(CASE.repo, f"{folder}/sorted output.csv").lstrip("\ufeff")
    rows = [line.split(",") for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if line.strip()]
    dataset = np.array(rows[1:], dtype=float)  # skiprows=1
    x, y = dataset[:, 0:3], dataset[:, 3]
    if variant == "correct":
        x = StandardScaler().fit_transform(x)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.33, random_state=7)
    if variant == "buggy":
        model = keras.Sequential([
            keras.Input((3,)),
            layers.Dense(12, kernel_initializer=_uniform()), layers.Activation("relu"),
            layers.Dense(3, kernel_initializer=_uniform()), layers.Activation("relu"),
            layers.Dense(1, kernel_initializer=_uniform()), layers.Activation("sigmoid"),
        ])  # fmt: skip
        model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["acc"])
        return Program(model, dict(x=x_train, y=y_train, epochs=150, batch_size=1), task="binary")
    model = keras.Sequential([
        keras.Input((3,)),
        layers.Dense(12, kernel_initializer=_uniform(), activation="relu"),
        layers.Dense(3, kernel_initializer=_uniform(), activation="relu"),
        layers.Dense(1, kernel_initializer=_uniform(), activation="sigmoid"),
    ])  # fmt: skip
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    fit = dict(x=x_train, y=y_train, validation_data=(x_test, y_test), epochs=150, batch_size=10)
    return Program(model, fit, task="binary")
