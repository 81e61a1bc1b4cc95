"""StackOverflow 39217567: an 8-8-8 sigmoid MLP asked to map each 8-bit pattern (all 256) to another one.

The buggy program maps every pattern to a randomly shuffled one, with sigmoid hidden layers, MSE and batches of
50; the authors' fix learns the identity (the shuffle is commented out) with ReLU hidden layers, binary
cross-entropy and batch size 1 (both 1,000 epochs of plain SGD, trained without validation).
"""

from __future__ import annotations

import numpy as np

from ..harness import Case, Mirror, Program

#: Epochs of the correct version: 1,000 in the program (256,000 steps of batch 1), too slow here.
CORRECT_EPOCHS = 200

CASE = Case(
    name="so_39217567",
    repo="Wardat-ISU/DeepLocalize",
    path="Benchmark/StackOverflow/39217567/{variant} Code",
    labels=("activation", "batch_size"),
    summary="8-bit pattern autoencoder with sigmoid layers, MSE and batch 50; the fix: ReLU, cross-entropy, batch 1.",
    deviations=(
        "DeepLocalize's instrumentation callback is dropped",
        "the buggy targets are shuffled with np.random.default_rng(0) instead of Python's unseeded random.shuffle",
        f"correct version: {CORRECT_EPOCHS} epochs instead of 1,000 (batch size 1 makes 1,000 epochs too slow)",
    ),
)


def build(mirror: Mirror, variant: str) -> Program:
    import keras
    from keras import layers

    dim = 8
    x = np.array([[float(b) for b in format(i, f"0{dim}b")] for i in range(2**dim)])

    def normal() -> keras.initializers.Initializer:
        return keras.initializers.RandomNormal(stddev=0.05)  # Keras 1's init='normal'

    if variant == "buggy":
        y = x[np.random.default_rng(0).permutation(len(x))]
        model = keras.Sequential([
            keras.Input((dim,)),
            layers.Dense(dim, kernel_initializer=normal()), layers.Activation("sigmoid"),
            layers.Dense(dim, kernel_initializer=normal()), layers.Activation("sigmoid"),
            layers.Dense(dim, kernel_initializer=normal()), layers.Activation("sigmoid"),
        ])  # fmt: skip
        model.compile(loss="mse", optimizer="SGD", metrics=["accuracy"])
        fit = dict(x=x, y=y, epochs=1000, batch_size=50)
    else:
        y = x.copy()
        model = keras.Sequential([
            keras.Input((dim,)),
            layers.Dense(dim, kernel_initializer=normal(), activation="relu"),
            layers.Dense(dim, kernel_initializer=normal(), activation="relu"),
            layers.Dense(dim, kernel_initializer=normal(), activation="sigmoid"),
        ])  # fmt: skip
        model.compile(loss="binary_crossentropy", optimizer="SGD", metrics=["accuracy"])
        fit = dict(x=x, y=y, epochs=CORRECT_EPOCHS, batch_size=1)
    return Program(model, fit, task="multilabel")
