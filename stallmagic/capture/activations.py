"""Which activation a layer applies, and which one a model applies last before its output.

The loss/output checks compare the compiled loss with the output activation (``from_logits`` against a softmax,
a sigmoid under a categorical loss), so the reading must not depend on how the user wrote the activation: as an
argument (``Dense(1, activation="softmax")``) or as its own layer (``Dense(1)`` then ``Activation("softmax")``,
the style of most older code). Duck-typed on the public layer attributes, on every backend.
"""

from __future__ import annotations

from typing import Any

from .._internal.keras_private import producing_layer
from .._internal.layers import is_nested_model

#: Layers that pass their input's activation through unchanged, when looking for the output activation.
PASS_THROUGH = {
    "Dropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
    "GaussianNoise",
    "GaussianDropout",
    "AlphaDropout",
    "Flatten",
    "Reshape",
    "Permute",
    "Identity",
    "ActivityRegularization",
}
#: Activation layers, by class name, and the activation they apply.
ACTIVATION_LAYERS = {
    "Softmax": "softmax",
    "ReLU": "relu",
    "LeakyReLU": "leaky_relu",
    "PReLU": "prelu",
    "ELU": "elu",
}


def activation_name(fn: Any) -> str | None:
    """Keras's name for an activation function (``"relu"``, ``"softmax"``), or ``None``."""
    if fn is None:
        return None
    if isinstance(fn, str):
        return fn
    name = getattr(fn, "__name__", None)
    if name is None:
        name = type(fn).__name__
    return name


def layer_activation(layer: Any) -> str | None:
    """The activation ``layer`` applies: an activation layer's own (``ReLU`` -> ``"relu"``), else its
    ``activation`` argument's name; ``None`` for a layer without one."""
    cls = type(layer).__name__
    if cls in ACTIVATION_LAYERS:
        return ACTIVATION_LAYERS[cls]
    if hasattr(layer, "activation"):
        return activation_name(layer.activation)
    return None


def shape_list(tensor_or_layer: Any) -> list | None:
    """The ``shape`` of a symbolic tensor or a layer as a list (``None`` for unknown dimensions), or ``None``."""
    shape = getattr(tensor_or_layer, "shape", None)
    if shape is None:
        return None
    try:
        return [None if d is None else int(d) for d in shape]
    except TypeError:
        return None


def output_activation(model: Any) -> tuple[str | None, int | None]:
    """The activation applied last before the model's output, and the output width.

    Walks back from the output layer over layers that do not change values (dropout, reshape, a linear
    ``Activation``) and into nested models. An activation written as its own layer (``Dense(1)`` then
    ``Activation("softmax")``, the style of most older code) is the output activation, and the width comes from
    the layer before it that has units. The width is the last axis of the model's output when the graph knows it.
    """
    layers = list(getattr(model, "layers", []))
    if not layers:
        return None, None
    act, units = _walk_back(model, layers)
    width = _output_width(model)
    return act, width if width is not None else units


def _output_layer_index(model: Any, layers: list) -> int:
    """Index in ``layers`` of the layer that produces the model's (first) output; the last one if unknown."""
    try:
        outputs = model.outputs
    except (AttributeError, ValueError):
        outputs = None
    if outputs:
        op = producing_layer(outputs[0])
        for i, layer in enumerate(layers):
            if layer is op:
                return i
    return len(layers) - 1


def _output_width(model: Any) -> int | None:
    try:
        outputs = model.outputs
    except (AttributeError, ValueError):
        return None
    shape = shape_list(outputs[0]) if outputs else None
    return shape[-1] if shape and len(shape) >= 2 and shape[-1] is not None else None


def _walk_back(model: Any, layers: list) -> tuple[str | None, int | None]:
    """(activation, units) from the output layer backwards; see :func:`output_activation`."""
    i = _output_layer_index(model, layers)
    act = None
    while i >= 0:
        layer = layers[i]
        if is_nested_model(layer):
            inner_act, inner_units = output_activation(layer)
            return act or inner_act, inner_units
        units = getattr(layer, "units", None) or getattr(layer, "filters", None)
        own = layer_activation(layer)
        if units is not None:
            return act or own, units
        if own == "linear":
            own = None  # Activation("linear") changes nothing
        if own is not None and act is None:
            act = own  # an activation layer: keep walking for the layer that gives the width
        elif own is None and type(layer).__name__ not in PASS_THROUGH and type(layer).__name__ != "Activation":
            return act, None  # a layer that changes values without units (pooling, normalization): stop
        i -= 1
    return act, None
