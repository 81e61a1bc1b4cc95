"""AUTOTRAINER Motivation/OscillatingLoss: a 20-hidden-layer, 128-unit ReLU MLP on MNIST trained with Adam, batch 32.

``train.py`` loads ``minist_relu_layer=20.h5`` (Dense + separate ReLU ``Activation`` layers, glorot-uniform, saved
untrained weights included; rebuilt here from its Keras 2 config) and trains it 50 epochs with the MNIST test set as
validation, 100 times. The authors report the loss starts oscillating within 10 epochs in half the runs, later in
others, never in 29%; there is no correct version.
"""

from __future__ import annotations

from ..harness import Case, Mirror, Program
from .at_gradient_vanish import keras2_h5_model
from .at_motivation_dying_relu import mnist_like_digits

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
    import keras

    # train.py: minist_load_data()
    (x_train, y_train), (x_test, y_test) = mnist_like_digits()
    x_train = x_train.reshape(len(x_train), 784)
    x_test = x_test.reshape(len(x_test), 784)
    x_train = x_train.astype("float32")
    x_test = x_test.astype("float32")
    x_train /= 255
    x_test /= 255
    y_train = keras.utils.to_categorical(y_train, 10)
    y_test = keras.utils.to_categorical(y_test, 10)

    epochs = 50
    opt = "adam"
    model = keras2_h5_model(mirror.open(CASE.repo, f"{CASE.path}/minist_relu_layer=20.h5"))
    model.compile(loss="categorical_crossentropy", optimizer=opt, metrics=["accuracy"])
    fit = dict(x=x_train, y=y_train, batch_size=32, epochs=epochs, validation_data=(x_test, y_test))
    return Program(model, fit, task="multiclass")
