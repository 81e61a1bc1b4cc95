"""StackOverflow 47724077: a 14-21-2 MLP on the UCI adult census table (income <=50K / >50K), no validation.

The program label-encodes eight categorical columns and assigns each one-hot matrix back into its single pandas
column, which the pandas of the time silently did by keeping the matrix's first column; the numeric columns
(fnlwgt ~1e5, capital-gain ~1e4) stay unscaled. The buggy version uses Adam with separate ``Activation`` layers;
the authors' fix writes the activations inline and switches to plain SGD. DeepFD labels it optimizer, learning
rate, preprocessing and epochs.
"""

from __future__ import annotations

import csv
import io

import numpy as np

from ..harness import Case, Mirror, Program

CASE = Case(
    name="so_47724077",
    repo="Wardat-ISU/DeepLocalize",
    path="Benchmark/StackOverflow/47724077/{variant} Code",
    labels=("optimizer", "learning_rate", "preprocessing", "epoch"),
    summary="Adult-income MLP on unscaled columns with mangled categorical encodings; the fix switches Adam to SGD.",
    deviations=(
        "DeepLocalize's instrumentation callback is dropped",
        "pandas is not installed: the CSV is parsed with the csv module, and `X[i] = to_categorical(codes)` is "
        "reproduced as the pandas of the time executed it (an existing column set from an (n, k) array kept its "
        "first column, pandas GH#46544), i.e. column i becomes the indicator of the first label-encoded category",
    ),
)

CATEGORICAL = (1, 3, 5, 6, 7, 8, 9, 13)


def build(mirror: Mirror, variant: str) -> Program:
    import keras
    from keras import layers

    folder = CASE.path.format(variant="Buggy" if variant == "buggy" else "Correct")
    text = mirror.text(CASE.repo, f"{folder}/adult.data")
    table = np.array([row for row in csv.reader(io.StringIO(text)) if row], dtype=object)
    x = np.zeros((len(table), 14))
    for i in range(14):
        if i in CATEGORICAL:
            codes = np.unique(table[:, i].astype(str), return_inverse=True)[1]  # LabelEncoder
            x[:, i] = keras.utils.to_categorical(codes)[:, 0]  # what X[i] = to_categorical(codes) stored
        else:
            x[:, i] = table[:, i].astype(float)
    y = keras.utils.to_categorical(np.unique(table[:, 14].astype(str), return_inverse=True)[1])
    if variant == "buggy":
        model = keras.Sequential([
            keras.Input((14,)),
            layers.Dense(21), layers.Activation("relu"),
            layers.Dense(2), layers.Activation("softmax"),
        ])  # fmt: skip
        optimizer = "adam"
    else:
        model = keras.Sequential([
            keras.Input((14,)),
            layers.Dense(21, activation="relu"),
            layers.Dense(2, activation="softmax"),
        ])  # fmt: skip
        optimizer = "sgd"
    model.compile(loss="categorical_crossentropy", optimizer=optimizer, metrics=["accuracy"])
    return Program(model, dict(x=x, y=y, epochs=50, batch_size=100), task="multiclass")
