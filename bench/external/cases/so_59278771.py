"""StackOverflow 59278771: a 4-4-3 MLP on the iris table (iris.data), unscaled, ending in sigmoid units.

The buggy program trains 200 epochs (batch 5) on the raw, class-ordered rows with a sigmoid output and categorical
cross-entropy, and no validation. The authors' fix MinMax-scales the inputs, adds an 8-unit hidden layer, uses a
softmax output and evaluates with 10-fold cross-validation (KerasClassifier, 200 epochs, default batch 32).
DeepFD labels it activation, optimizer and preprocessing.
"""

from __future__ import annotations

import numpy as np

from ..harness import Case, Mirror, Program

CASE = Case(
    name="so_59278771",
    repo="Wardat-ISU/DeepLocalize",
    path="Benchmark/StackOverflow/59278771/{variant} Model",
    labels=("activation", "optimizer", "preprocessing"),
    summary="Iris MLP on unscaled inputs with sigmoid outputs under categorical cross-entropy; the fix scales and "
    "uses softmax.",
    deviations=(
        "DeepLocalize's instrumentation callback is dropped",
        "correct version: of the ten KerasClassifier fits of cross_val_score (KFold(10, shuffle=True, "
        "random_state=7)) only the first is run, with its held-out fold as validation_data",
    ),
)


def build(mirror: Mirror, variant: str) -> Program:
    import keras
    from keras import layers

    if variant == "buggy":
        text = mirror.text(CASE.repo, "Benchmark/StackOverflow/59278771/Buggy Model/iris.data")
        rows = [line.split(",") for line in text.splitlines() if line.strip()]
        x = np.array([r[:4] for r in rows], dtype=float)
        encoded_y = np.unique([r[4] for r in rows], return_inverse=True)[1]  # LabelEncoder
        dummy_y = keras.utils.to_categorical(encoded_y)
        model = keras.Sequential([
            keras.Input((4,)),
            layers.Dense(4, kernel_initializer="normal"), layers.Activation("relu"),
            layers.Dense(3, kernel_initializer="normal"), layers.Activation("sigmoid"),
        ])  # fmt: skip
        model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
        return Program(model, dict(x=x, y=dummy_y, epochs=200, batch_size=5), task="multiclass")

    from sklearn.datasets import load_iris
    from sklearn.model_selection import KFold
    from sklearn.preprocessing import MinMaxScaler

    x, encoded_y = load_iris(return_X_y=True)
    x = MinMaxScaler().fit_transform(x)
    dummy_y = keras.utils.to_categorical(encoded_y)
    train, test = next(KFold(n_splits=10, shuffle=True, random_state=7).split(x, dummy_y))
    model = keras.Sequential([
        keras.Input((4,)),
        layers.Dense(4, activation="relu", kernel_initializer="normal"),
        layers.Dense(8, activation="relu", kernel_initializer="normal"),
        layers.Dense(3, activation="softmax", kernel_initializer="normal"),
    ])  # fmt: skip
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return Program(
        model,
        dict(x=x[train], y=dummy_y[train], epochs=200, validation_data=(x[test], dummy_y[test])),
        task="multiclass",
    )
