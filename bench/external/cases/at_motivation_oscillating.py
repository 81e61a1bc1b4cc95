"""AUTOTRAINER Motivation/OscillatingLoss: a 20-hidden-layer, 128-unit ReLU MLP on MNIST trained with Adam, batch 32.

``train.py`` loads ``minist_relu_layer=20.h5`` (Dense + separate ReLU ``Activation`` layers, glorot-uniform, saved
untrained weights included; rebuilt here from its Keras 2 config) and trains it 50 epochs with the MNIST test set as
validation, 100 times. The authors report the loss starts oscillating within 10 epochs in half the runs, later in
others, never in 29%; there is no correct version.
"""

from __future__ import annotations

from ..harness import Case, Mirror, Program
from ._autotrainer import motivation_program

CASE = Case(
    name="at_motivation_oscillating",
    repo="shiningrain/AUTOTRAINER",
    path="Motivation/OscillatingLoss",
    labels=("oscillating_loss",),
    summary="20 stacked 128-unit ReLU layers on MNIST with Adam; the authors' motivating oscillating-loss example.",
    deviations=(
        "MNIST (keras.datasets, a download) is replaced by scikit-learn's 8x8 digits: pixels rescaled from 0..16 to "
        "0..255, upsampled bilinearly to 28x28 (the saved model takes 784 inputs), then the program's reshape to "
        "784 and /255; first 1,500 rows train, last 297 are the validation set (MNIST's test set in the program)",
        "one training run instead of the program's loop of 100 (each reloads the same saved model)",
    ),
    correct=False,
)


def build(mirror: Mirror, variant: str) -> Program:
    return motivation_program(mirror, CASE, "minist_relu_layer=20.h5")
