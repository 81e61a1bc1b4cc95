"""StackOverflow 58609115: predict which of 69 classes a number belongs to from the raw number (export78.csv).

The buggy program one-hot encodes the class column but trains a 1-69-69-69 sigmoid network with binary
cross-entropy for one epoch; the authors' fix uses ReLU hidden layers, a softmax output with categorical
cross-entropy, and 10 epochs. DeepFD labels it "Loss". The input (1 to ~1e9) is unscaled in both; no validation.
"""

from __future__ import annotations

import numpy as np

from ..harness import Case, Mirror, Program

CASE = Case(
    name="so_58609115",
    repo="Wardat-ISU/DeepLocalize",
    path="Benchmark/StackOverflow/58609115/{variant} Code",
    labels=("loss",),
    summary="69-class problem trained with sigmoid outputs and binary cross-entropy; the fix uses softmax + CCE.",
    deviations=(
        "DeepLocalize's instrumentation callback is dropped",
        "pandas is not installed: the CSV (first line is its header, as pd.read_csv reads it) is parsed with numpy "
        "and OneHotEncoder(categorical_features=[1]) is reproduced (one-hot of column 1 over its sorted values, "
        "the other column stacked to the right)",
        "train_test_split(test_size=0.2) had no seed: random_state=0 here",
        "the 1-D X_train Series is given as an (n, 1) array (Keras 2 expanded it itself)",
    ),
)


def build(mirror: Mirror, variant: str) -> Program:
    import keras
    from keras import layers
    from sklearn.model_selection import train_test_split

    folder = CASE.path.format(variant="Buggy" if variant == "buggy" else "Correct")
    df = np.loadtxt(mirror.open(CASE.repo, f"{folder}/export78.csv"), delimiter=",", skiprows=1, dtype=np.int64)
    classes, codes = np.unique(df[:, 1], return_inverse=True)
    dataset = np.concatenate([np.eye(len(classes))[codes], df[:, :1].astype(float)], axis=1)  # 69 one-hot + number
    x = dataset[:, 69].astype(float)
    y = dataset[:, 0:69].astype(int)
    x_train, _x_test, y_train, _y_test = train_test_split(x, y, test_size=0.2, random_state=0)
    x_train = x_train.reshape(-1, 1)
    hidden, out, loss, epochs = (
        ("sigmoid", "sigmoid", "binary_crossentropy", 1) if variant == "buggy"
        else ("relu", "softmax", "categorical_crossentropy", 10)
    )  # fmt: skip
    model = keras.Sequential([
        keras.Input((1,)),
        layers.Dense(69, kernel_initializer="random_normal"),
        layers.Activation(hidden),
        layers.Dense(69, kernel_initializer="random_normal"),
        layers.Activation(hidden),
        layers.Dense(69, kernel_initializer="random_normal"),
        layers.Activation(out),
    ])  # fmt: skip
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    return Program(model, dict(x=x_train, y=y_train, batch_size=50, epochs=epochs), task="multiclass")
