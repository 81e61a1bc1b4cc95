"""``stallmagic._internal.keras_private`` against the installed Keras: each private name still answers as the
module says, and no other module of the package reaches into Keras's private API."""

from __future__ import annotations

import re
from pathlib import Path

import keras
import numpy as np

from stallmagic._internal import keras_private

PACKAGE = Path(__file__).resolve().parents[2] / "stallmagic"
L = keras.layers


def test_user_random_seed_reads_back_the_seed_the_user_set():
    keras.utils.set_random_seed(1234)
    try:
        assert keras_private.user_random_seed() == 1234
    finally:
        keras.utils.set_random_seed(0)
    assert keras_private.user_random_seed() == 0


def test_producing_layer_is_the_layer_behind_a_models_output():
    inputs = keras.Input((3,))
    hidden = L.Dense(4, name="hidden")
    head = L.Dense(2, name="head")
    model = keras.Model(inputs, head(hidden(inputs)))
    assert keras_private.producing_layer(model.outputs[0]) is head
    seq = keras.Sequential([keras.Input((3,)), L.Dense(4), L.Dropout(0.1, name="drop")])
    assert keras_private.producing_layer(seq.outputs[0]) is seq.get_layer("drop")


def test_producing_layer_falls_back_to_none_and_reads_the_older_tuple_history():
    assert keras_private.producing_layer(np.zeros(3)) is None  # an eager array has no history
    layer = L.Dense(1)

    class OldTensor:
        _keras_history = (layer, 0, 0)  # the plain tuple of older Keras releases

    assert keras_private.producing_layer(OldTensor()) is layer


def test_all_layers_includes_the_model_nested_models_and_their_layers():
    inner = keras.Sequential([keras.Input((3,)), L.Dense(4, name="a")], name="inner")
    outer = keras.Sequential([keras.Input((3,)), inner, L.Dense(1, name="b")], name="outer")
    names = [layer.name for layer in keras_private.all_layers(outer)]
    assert names[0] == "outer" and {"inner", "a", "b"} <= set(names)
    plain = object()
    assert keras_private.all_layers(plain) == [plain]  # the fallback: the object itself, no layers


def test_seed_generators_are_the_random_streams_of_a_layer():
    model = keras.Sequential([keras.Input((3,)), L.Dense(4), L.Dropout(0.5, seed=1)])
    dropout, dense = model.layers[-1], model.layers[0]
    generators = keras_private.seed_generators(dropout)
    assert len(generators) == 1 and isinstance(generators[0], keras.random.SeedGenerator)
    assert keras_private.seed_generators(dense) == [] and keras_private.seed_generators(object()) == []


def test_consuming_layers_follow_a_functional_graph_forward():
    inputs = keras.Input((3,))
    first, left, right = L.Dense(4, name="first"), L.Dense(2, name="left"), L.Dense(2, name="right")
    h = first(inputs)
    keras.Model(inputs, [left(h), right(h)])
    assert {layer.name for layer in keras_private.consuming_layers(first)} == {"left", "right"}
    assert keras_private.consuming_layers(right) == [] and keras_private.consuming_layers(object()) == []


def test_only_keras_private_reaches_keras_private_api():
    """Every module of the package reaches Keras's private API through keras_private only."""
    private = re.compile(
        r"keras\.src|\b_keras_history\b|\b_flatten_layers\b|\b_seed_generators\b|\b_outbound_nodes\b"
        r"|\b_compile_config\b|\b_gradient_registry\b"
    )
    offenders = [
        f"{path.relative_to(PACKAGE)}:{i}"
        for path in PACKAGE.rglob("*.py")
        if path.name != "keras_private.py"
        for i, line in enumerate(path.read_text().splitlines(), 1)
        if private.search(line)
    ]
    assert not offenders, offenders


def test_compiled_with_returns_the_live_compile_arguments():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    assert keras_private.compiled_with(model) is None
    loss = keras.losses.MeanSquaredError()
    model.compile(optimizer="adam", loss=loss)
    assert keras_private.compiled_with(model)["loss"] is loss


def test_custom_gradient_names_are_tensorflows_registrations_of_traced_graphs_and_can_be_dropped():
    import tensorflow as tf

    @tf.custom_gradient
    def doubled(x):
        return 2 * x, lambda dy: 2 * dy

    before = keras_private.custom_gradient_names()
    tf.function(lambda x: doubled(x)).get_concrete_function(tf.TensorSpec([2]))  # one graph trace registers one
    new = keras_private.custom_gradient_names() - before
    assert len(new) == 1 and next(iter(new)).startswith("CustomGradient-")
    keras_private.forget_custom_gradients([*new, "MatMul", None])  # only custom gradients are dropped
    assert keras_private.custom_gradient_names() == before
    from tensorflow.python.framework import ops  # the registry itself: its other entries stay

    assert "MatMul" in ops._gradient_registry._registry
