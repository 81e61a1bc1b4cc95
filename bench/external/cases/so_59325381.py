"""StackOverflow 59325381: a small CNN on MNIST whose training labels, not its test images, are divided by 255.

The buggy program scales ``y_train /= 255`` (so sparse categorical cross-entropy sees every label as class 0) and
trains 2 epochs; the authors' fix scales the test images instead, one-hot encodes the labels, uses categorical
cross-entropy and trains 10 epochs. DeepFD labels it loss and preprocessing. No validation in either fit.
"""

from __future__ import annotations

from ..harness import Case, Mirror, Program

CASE = Case(
    name="so_59325381",
    repo="Wardat-ISU/DeepLocalize",
    path="Benchmark/StackOverflow/59325381/{variant} Code",
    labels=("loss", "preprocessing"),
    summary="MNIST CNN trained on labels divided by 255 under sparse CCE; the fix one-hot encodes them.",
    deviations=(
        "DeepLocalize's instrumentation callback is dropped",
        "MNIST (keras.datasets, a download) is replaced by scikit-learn's 8x8 digits (1,797 rows), with pixels "
        "rescaled from 0..16 to MNIST's 0..255 so the program's /255 does what it did; the architecture runs on "
        "8x8x1 as written (same padding, two 2x2 poolings), so no upsampling",
        "scored against the digits the program meant (Program.truth), not the corrupted labels y/255 given to fit",
    ),
)


def build(mirror: Mirror, variant: str) -> Program:
    import keras
    from keras import layers
    from sklearn.datasets import load_digits

    digits = load_digits()
    x_train, y_train = digits.images * (255.0 / 16.0), digits.target
    truth = (digits.target, None)
    n = len(x_train)
    x_train = x_train / 255
    if variant == "buggy":
        y_train = y_train / 255
    x_train = x_train.reshape(n, 8, 8, 1)
    y_train = y_train.reshape(n, 1)
    if variant == "buggy":
        head = [layers.Dense(128), layers.Activation("relu"), layers.Dense(10), layers.Activation("softmax")]
        loss, epochs = "sparse_categorical_crossentropy", 2
    else:
        y_train = keras.utils.to_categorical(y_train, 10)
        head = [layers.Dense(128, activation="relu"), layers.Dense(10, activation="softmax")]
        loss, epochs = "categorical_crossentropy", 10
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        layers.Conv2D(64, (3, 3), strides=(1, 1), padding="same"),
        layers.MaxPooling2D(pool_size=(2, 2), padding="valid"),
        layers.Conv2D(32, (3, 3), strides=(1, 1), padding="same"),
        layers.MaxPooling2D(pool_size=(2, 2), padding="valid"),
        layers.Flatten(),
        *head,
    ])  # fmt: skip
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    return Program(model, dict(x=x_train, y=y_train, epochs=epochs), task="multiclass", truth=truth)
