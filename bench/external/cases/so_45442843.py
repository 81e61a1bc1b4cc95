"""StackOverflow 45442843: a 1-1 network classifying a single unscaled number (15,000-25,000) into two classes.

The buggy program ends in a one-unit ``softmax`` (a constant 1) trained with mean absolute error and RMSprop on the
raw inputs; the authors' fix standardizes the inputs (``preprocessing.scale`` on all rows before the split) and
uses a ``sigmoid`` output with binary cross-entropy (same RMSprop, 100 epochs, batch 200, last 20% as validation).
"""

from __future__ import annotations

import numpy as np

from ..harness import Case, Mirror, Program

CASE = Case(
    name="so_45442843",
    repo="Wardat-ISU/DeepLocalize",
    path="Benchmark/StackOverflow/45442843/{variant} Code",
    labels=("loss", "optimizer", "activation", "epoch"),
    summary="Binary classifier of one raw number with a one-unit softmax and MAE; the fix: scaling, sigmoid, BCE.",
    deviations=(
        "DeepLocalize's instrumentation callback is dropped",
        "dataset.csv is read with numpy, skipping its first line as pandas.read_csv does (it takes it as the header)",
    ),
)


def build(mirror: Mirror, variant: str) -> Program:
    import keras
    from keras import layers

    folder = CASE.path.format(variant="Buggy" if variant == "buggy" else "Correct")
    dataset = np.loadtxt(mirror.open(CASE.repo, f"{folder}/dataset.csv"), delimiter=",", skiprows=1)
    x = dataset[:, 0:1].astype(float)
    y = dataset[:, 1].astype(bool)
    if variant != "buggy":
        from sklearn import preprocessing

        x = preprocessing.scale(x)
    train_size = int(len(x) * 0.80)
    x_train, x_test = x[0:train_size, :], x[train_size : len(x), :]
    y_train, y_test = y[0:train_size], y[train_size : len(y)]

    normal = keras.initializers.RandomNormal(stddev=0.05)  # Keras 1's init='normal'
    if variant == "buggy":
        model = keras.Sequential([
            keras.Input((1,)),
            layers.Dense(1), layers.Activation("sigmoid"),
            layers.Dense(1, kernel_initializer=normal), layers.Activation("softmax"),
        ])  # fmt: skip
        model.compile(loss="mean_absolute_error", optimizer="rmsprop", metrics=["accuracy"])
    else:
        model = keras.Sequential([
            keras.Input((1,)),
            layers.Dense(1), layers.Activation("sigmoid"),
            layers.Dense(1, kernel_initializer=normal, activation="sigmoid"),
        ])  # fmt: skip
        model.compile(loss="binary_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
    fit = dict(x=x_train, y=y_train, validation_data=(x_test, y_test), epochs=100, batch_size=200)
    return Program(model, fit, task="binary")
