"""StackOverflow 44164749: a 5000-600 ReLU MLP on flattened MNIST, 5 epochs of SGD (lr 0.01) in batches of 2,000.

The buggy program ends in ``softmax`` with categorical cross-entropy; the authors' "correct" version uses
``sigmoid`` outputs with binary cross-entropy and keeps everything else (SGD settings, 5 epochs, batch 2,000).
Both train without validation. MNIST is downloaded by the program, so scikit-learn's 8x8 digits stand in.
"""

from __future__ import annotations

import numpy as np

from ..harness import Case, Mirror, Program

CASE = Case(
    name="so_44164749",
    repo="Wardat-ISU/DeepLocalize",
    path="Benchmark/StackOverflow/44164749/{variant} Code",
    labels=("epoch", "learning_rate", "activation", "loss"),
    summary="Wide MNIST MLP trained for 5 epochs of 2,000-row batches at lr 0.01; the fix: sigmoid outputs with BCE.",
    deviations=(
        "DeepLocalize's instrumentation callback is dropped",
        "MNIST (downloaded) -> scikit-learn's 8x8 digits (1,797 rows, 64 inputs, pixels 0-16 stretched to 0-255 "
        "before the program's /255); the input layer takes 64 features, as input_dim=x_train.shape[1] does",
        "all 1,797 digits are training rows (the MNIST test set is used only after fit); a batch of 2,000 now "
        "covers the whole set, so each epoch is 1 SGD step instead of 30",
    ),
)


def build(mirror: Mirror, variant: str) -> Program:
    import keras
    from keras import layers
    from sklearn.datasets import load_digits

    digits = load_digits()
    x_train = (digits.data * (255.0 / 16.0)).astype("float32")  # MNIST's raw 0-255 pixel scale
    x_train /= 255
    num_classes = 10
    y_train = keras.utils.to_categorical(digits.target, num_classes)

    lr = keras.optimizers.schedules.InverseTimeDecay(0.01, decay_steps=1, decay_rate=1e-6)
    sgd = keras.optimizers.SGD(learning_rate=lr, momentum=0.9, nesterov=True)
    if variant == "buggy":
        model = keras.Sequential([
            keras.Input((x_train.shape[1],)),
            layers.Dense(5000), layers.Activation("relu"), layers.Dropout(0.1),
            layers.Dense(600), layers.Activation("relu"), layers.Dropout(0.1),
            layers.Dense(y_train.shape[1]), layers.Activation("softmax"),
        ])  # fmt: skip
        model.compile(loss="categorical_crossentropy", optimizer=sgd, metrics=["accuracy"])
    else:
        model = keras.Sequential([
            keras.Input((x_train.shape[1],)),
            layers.Dense(5000, activation="relu"), layers.Dropout(0.1),
            layers.Dense(600, activation="relu"), layers.Dropout(0.1),
            layers.Dense(y_train.shape[1], activation="sigmoid"),
        ])  # fmt: skip
        model.compile(loss="binary_crossentropy", optimizer=sgd, metrics=["accuracy"])
    return Program(model, dict(x=x_train, y=np.asarray(y_train), epochs=5, batch_size=2000), task="multiclass")
