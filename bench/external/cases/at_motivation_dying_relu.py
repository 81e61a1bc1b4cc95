"""AUTOTRAINER Motivation/DyingReLU: a 34-hidden-layer, 128-unit ReLU MLP on MNIST trained with Adam, batch 32.

``train.py`` loads ``minist_relu_layer=34.h5`` (Dense + separate ReLU ``Activation`` layers, glorot-uniform, saved
untrained weights included; rebuilt here from its Keras 2 config) and trains it 50 epochs with the MNIST test set as
validation, 100 times. The authors report the ReLUs die in about half the runs; there is no correct version.
"""

from __future__ import annotations

import numpy as np

from ..harness import Case, Mirror, Program
from .at_gradient_vanish import keras2_h5_model

CASE = Case(
    name="at_motivation_dying_relu",
    repo="shiningrain/AUTOTRAINER",
    path="Motivation/DyingReLU",
    labels=("dying_relu",),
    summary="34 stacked 128-unit ReLU layers on MNIST with Adam; the authors' motivating dying-ReLU example.",
    deviations=(
        "MNIST (keras.datasets, a download) is replaced by scikit-learn's 8x8 digits: pixels rescaled from 0..16 to "
        "0..255, upsampled bilinearly to 28x28 (the saved model takes 784 inputs), then the program's reshape to "
        "784 and /255; first 1,500 rows train, last 297 are the validation set (MNIST's test set in the program)",
        "one training run instead of the program's loop of 100 (each reloads the same saved model)",
    ),
    correct=False,
)


def mnist_like_digits() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """scikit-learn's digits as MNIST's ``load_data()`` would give them: uint8 28x28 images, 0..255, integer
    labels; the first 1,500 rows as the training set, the rest as the test set."""
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    pixels = np.round(digits.images * (255.0 / 16.0)).astype(np.uint8)
    images = np.stack([np.asarray(Image.fromarray(im).resize((28, 28), Image.BILINEAR)) for im in pixels])
    cut = 1500
    return (images[:cut], digits.target[:cut]), (images[cut:], digits.target[cut:])


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
    model = keras2_h5_model(mirror.open(CASE.repo, f"{CASE.path}/minist_relu_layer=34.h5"))
    model.compile(loss="categorical_crossentropy", optimizer=opt, metrics=["accuracy"])
    fit = dict(x=x_train, y=y_train, batch_size=32, epochs=epochs, validation_data=(x_test, y_test))
    return Program(model, fit, task="multiclass")
