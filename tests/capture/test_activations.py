"""``stallmagic.capture.activations`` on hand-built Keras models: the output activation and width, whatever the style.

Older code writes each activation as its own layer (``Dense(1)`` then ``Activation("softmax")``); the record must
read the same output as for ``Dense(1, activation="softmax")``, or every loss/output check goes blind.
"""

from __future__ import annotations

import keras
import pytest

from stallmagic.capture.activations import output_activation

L = keras.layers


def _sequential(*layers, n_in=4):
    return keras.Sequential([keras.Input((n_in,)), *layers])


def _functional(*layers, n_in=4):
    inputs = keras.Input((n_in,))
    h = inputs
    for layer in layers:
        h = layer(h)
    return keras.Model(inputs, h)


@pytest.mark.parametrize("build", [_sequential, _functional], ids=["sequential", "functional"])
@pytest.mark.parametrize(
    ("layers", "expected"),
    [
        (lambda: [L.Dense(1, activation="softmax")], ("softmax", 1)),
        (lambda: [L.Dense(1), L.Activation("softmax")], ("softmax", 1)),
        (lambda: [L.Dense(8), L.Activation("relu"), L.Dense(3), L.Activation("sigmoid"), L.Dropout(0.2)],
         ("sigmoid", 3)),
        (lambda: [L.Dense(5, activation="relu"), L.Activation("linear")], ("relu", 5)),
        (lambda: [L.Dense(2), L.Softmax()], ("softmax", 2)),
        (lambda: [L.Dense(6), L.BatchNormalization(name="bn_for_describe"), L.Activation("tanh")], ("tanh", 6)),
        (lambda: [L.Dense(7)], ("linear", 7)),
    ],
)  # fmt: skip
def test_the_output_activation_and_width_whatever_the_style(build, layers, expected):
    assert output_activation(build(*layers())) == expected


def test_a_map_output_reads_its_channels_as_the_width():
    model = keras.Sequential([keras.Input((5, 5, 1)), L.Conv2D(4, 3), L.Conv2D(1, 1), L.Activation("sigmoid")])
    assert output_activation(model) == ("sigmoid", 1)


def test_a_nested_model_is_read_through():
    head = keras.Sequential([keras.Input((8,)), L.Dense(3), L.Activation("softmax")])
    model = keras.Sequential([keras.Input((4,)), L.Dense(8, activation="relu"), head])
    assert output_activation(model) == ("softmax", 3)
