"""Model surgery for a rerun: the :class:`~.plan.Plan`'s model changes carried out on Keras models.

Changes to the model come in two sorts:

* **in place** on the model that is trained: an L2 penalty on the kernels (set on the kernel variables, which is
  how Keras 3 collects regularization losses), activations, dropout rates, re-initialized kernels (He). These work
  for Sequential, Functional and subclassed models alike; the rerun engine records how to undo them.
* **rebuilt**: inserted layers (Dropout, BatchNormalization, Normalization) and resized layers (wider, smaller,
  another number of outputs). Sequential and Functional models are rebuilt layer by layer (Functional through
  ``keras.models.clone_model``); every layer whose weights keep their shapes gets the original *starting*
  weights, new or resized layers are initialized fresh (seeded). Subclassed models build their layers in their
  own ``__init__``, so they cannot be rebuilt: such remedies raise :class:`RemedyError` saying so.

Keras is imported inside the functions that need it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._internal.keras_names import KERNEL_LAYERS, SATURATING, WIDTH_LAYERS
from .._internal.keras_private import all_layers, consuming_layers, producing_layer, seed_generators
from .._internal.layers import is_nested_model, leaf_layers
from ..capture.activations import ACTIVATION_LAYERS as _ACTIVATION_LAYERS
from ..remedies.remedy import RemedyError
from .plan import Plan

#: Layers that only apply an activation (``Activation``, ``ReLU``, ``Softmax``, ...).
ACTIVATION_LAYER_NAMES = {"Activation", *_ACTIVATION_LAYERS}

# ---------------------------------------------------------------------- the model


def needs_rebuild(plan: Plan) -> list[str]:
    """The edits of ``plan`` that need new or resized layers (empty: the model can be trained in place)."""
    model = plan.baseline.model
    out = []
    for kind, params in plan.edits:
        inserts = kind == "dropout" and bool(_dropout_insertions(model, plan.style))
        resizes = kind == "output" and params.get("units") is not None
        if kind in ("batch_norm", "width", "normalize", "scale_targets") or inserts or resizes:
            out.append(kind)
    return out


@dataclass
class PreparedModel:
    """The model a rerun trains, and what was done to it (see :func:`prepare_model`)."""

    model: Any
    rebuilt: bool
    undo: list
    copied_layers: list = field(default_factory=list)
    fresh_layers: list = field(default_factory=list)


def check_model_edits(plan: Plan) -> None:
    """Raise :class:`RemedyError` now if the plan's model changes cannot be made (before anything is touched)."""
    rebuild = needs_rebuild(plan)
    if rebuild and plan.style == "subclassed":
        raise RemedyError(
            f"{', '.join(sorted(set(rebuild)))} needs new or resized layers, but {type(plan.baseline.model).__name__} "
            "is a subclassed model: its layers are created in its own __init__, so stallmagic cannot insert or "
            "resize them. Change the model's code (see the remedy's as_code()); in-place changes (L2, learning rate, "
            "optimizer, He initialization, activations, data) still work on it."
        )
    for kind, params in plan.edits:
        if kind == "output":
            _output_layer(plan.baseline.model, plan.style, check_activation=params.get("activation"))


def prepare_model(plan: Plan) -> PreparedModel:
    """The model to train, holding the starting weights, with the plan's model changes made.

    In-place changes on the user's model are returned as an undo list ``[(obj, attr, old), ...]``.
    """
    base = plan.baseline
    rebuild = needs_rebuild(plan)
    if rebuild:
        prepared = _rebuild(plan)
    else:
        base.model.set_weights(base.initial_weights)
        prepared = PreparedModel(base.model, rebuilt=False, undo=[])
    reset_seed_generators(prepared.model)
    try:
        for kind, params in plan.edits:
            _edit_in_place(prepared, plan, kind, params)
    except BaseException:
        undo(prepared.undo)  # leave no half-made change behind
        raise
    return prepared


def reset_seed_generators(model: Any) -> None:
    """Put every layer's random stream (dropout masks, noise) back to its start: ``[seed, 0]``."""
    for layer in all_layers(model):
        for generator in seed_generators(layer):
            try:
                state = np.asarray(generator.state.value).copy()
                state[1] = 0
                generator.state.assign(state)
            except Exception:  # a backend without an assignable state: nothing to reset
                continue


def undo(changes: list) -> None:
    """Revert in-place changes, last first."""
    for obj, attr, old in reversed(changes):
        setattr(obj, attr, old)


def _set(prepared: PreparedModel, obj: Any, attr: str, value: Any) -> None:
    prepared.undo.append((obj, attr, getattr(obj, attr)))
    setattr(obj, attr, value)


def _output_ops(model: Any, style: str) -> set[int]:
    """ids of the layers that produce the model's outputs (the last layer for subclassed models)."""
    ids: set[int] = set()
    if style != "subclassed":
        try:
            for tensor in model.outputs:
                op = producing_layer(tensor)
                if op is not None:
                    ids.add(id(op))
        except (AttributeError, ValueError):
            pass
    if not ids:
        leaves = [layer for layer in leaf_layers(model) if type(layer).__name__ not in ("InputLayer",)]
        if leaves:
            ids.add(id(leaves[-1]))
    return ids


def _hidden_kernel_layers(model: Any, style: str, classes: tuple = KERNEL_LAYERS) -> list:
    """Layers of the given classes that are not the output layer: neither the layer that gives the output its
    activation nor the one that gives it its width (``Dense(10)`` then ``Activation("softmax")``: both)."""
    leaves = leaf_layers(model)
    out_ids = _output_ops(model, style)
    output = _output_layer(model, style, quiet=True)
    width = _output_width_layer(model, style)
    return [
        layer
        for layer in leaves
        if type(layer).__name__ in classes and id(layer) not in out_ids and layer is not output and layer is not width
    ]


def _output_walk(model: Any, style: str) -> list:
    """The leaf layers from the model's output backwards, as far as values pass unchanged or only get an
    activation: the output layer, then (over activation layers, dropout and reshapes) the layer before it."""
    from ..capture.activations import PASS_THROUGH

    leaves = [layer for layer in leaf_layers(model) if type(layer).__name__ != "InputLayer"]
    out_ids = _output_ops(model, style)
    idx = max((i for i, layer in enumerate(leaves) if id(layer) in out_ids), default=len(leaves) - 1)
    walk = []
    while idx >= 0:
        layer = leaves[idx]
        walk.append(layer)
        name = type(layer).__name__
        if getattr(layer, "units", None) is not None or getattr(layer, "filters", None) is not None:
            break
        if name not in PASS_THROUGH and name not in ACTIVATION_LAYER_NAMES and not hasattr(layer, "activation"):
            break
        idx -= 1
    return walk


def _output_width_layer(model: Any, style: str) -> Any:
    """The layer whose units (or filters) are the model's output width, read over a separate activation layer
    (``Dense(3)`` then ``Activation("softmax")`` -> the Dense), or ``None``."""
    for layer in _output_walk(model, style):
        if getattr(layer, "units", None) is not None or getattr(layer, "filters", None) is not None:
            return layer
    return None


def _output_layer(model: Any, style: str, *, check_activation: str | None = None, quiet: bool = False) -> Any:
    """The layer whose activation is the model's output activation: the last layer with an ``activation`` (or
    units), walking back over dropout and reshapes."""
    for layer in _output_walk(model, style):
        name = type(layer).__name__
        if name == "Softmax" and check_activation is not None and check_activation != "softmax" and not quiet:
            raise RemedyError(
                "The output activation is a Softmax layer, which cannot be switched in place; replace it with "
                f"Activation({check_activation!r}) in the model's code."
            )
        if hasattr(layer, "activation") or hasattr(layer, "units"):
            return layer
    if quiet:
        return None
    raise RemedyError("Could not find the model's output layer to change its activation.")


def _edit_in_place(prepared: PreparedModel, plan: Plan, kind: str, params: dict) -> None:
    import keras

    model = prepared.model
    style = "functional" if prepared.rebuilt and plan.style != "subclassed" else plan.style
    if kind == "l2":
        factor = float(params["factor"])
        reg = keras.regularizers.L2(factor) if factor > 0 else None
        for layer in leaf_layers(model):
            if type(layer).__name__ in KERNEL_LAYERS and getattr(layer, "kernel", None) is not None:
                _set(prepared, layer, "kernel_regularizer", reg)
                _set(prepared, layer.kernel, "regularizer", reg)
    elif kind == "dropout":
        for layer in leaf_layers(model):
            if type(layer).__name__ == "Dropout":
                _set(prepared, layer, "rate", float(params["rate"]))
    elif kind == "output":
        if params.get("activation") is not None:
            layer = _output_layer(model, style, check_activation=params["activation"])
            _set(prepared, layer, "activation", keras.activations.get(params["activation"]))
    elif kind == "he_init":
        _he_init(prepared, plan, style, params)


def _he_init(prepared: PreparedModel, plan: Plan, style: str, params: dict) -> None:
    """He initialization of every hidden kernel layer (zero biases), optionally with a ReLU-family activation in
    place of a saturating one. These layers start from new weights (seeded by the plan's seed)."""
    import keras

    activation = params.get("activation")
    layers = _hidden_kernel_layers(prepared.model, style)
    for i, layer in enumerate(layers):
        init = keras.initializers.get({"class_name": _initializer_class(params["initializer"]), "config": {}})
        seeded = type(init).from_config({**init.get_config(), "seed": plan.seed + 1000 + i})
        _set(prepared, layer, "kernel_initializer", seeded)
        layer.kernel.assign(seeded(tuple(layer.kernel.shape), dtype=layer.kernel.dtype))
        bias = getattr(layer, "bias", None)
        if bias is not None:
            _set(prepared, layer, "bias_initializer", keras.initializers.Zeros())
            bias.assign(np.zeros(tuple(bias.shape), dtype=np.float32))
        current = _activation_name(getattr(layer, "activation", None))
        swap = params.get("replace") == "all" or current in SATURATING
        if activation and current not in (None, "linear") and current != activation and swap:
            _set(prepared, layer, "activation", keras.activations.get(activation))
        if layer.name not in prepared.fresh_layers:
            prepared.fresh_layers.append(layer.name)
    if activation:  # activations written as their own layers: Dense(32) then Activation("sigmoid")
        output = _output_layer(prepared.model, style, quiet=True)
        for layer in leaf_layers(prepared.model):
            if type(layer).__name__ != "Activation" or layer is output:
                continue
            current = _activation_name(layer.activation)
            if current != activation and (params.get("replace") == "all" or current in SATURATING):
                _set(prepared, layer, "activation", keras.activations.get(activation))


def _initializer_class(name: str) -> str:
    return {"he_normal": "HeNormal", "he_uniform": "HeUniform", "glorot_uniform": "GlorotUniform"}.get(name, name)


def _activation_name(fn: Any) -> str | None:
    from ..capture.activations import activation_name

    return activation_name(fn)


# ---------------------------------------------------------------------- rebuilding Sequential / Functional


def _dropout_insertions(model: Any, style: str) -> list:
    """Hidden Dense layers not already followed by a Dropout (where ``dropout`` inserts one)."""
    if style == "subclassed":  # no graph to read: rates of existing Dropout layers change in place, or nothing
        if any(type(layer).__name__ == "Dropout" for layer in leaf_layers(model)):
            return []
        return _hidden_kernel_layers(model, style, ("Dense",))
    hidden = _hidden_kernel_layers(model, style, ("Dense",))
    out = []
    for layer in hidden:
        if not any(type(nxt).__name__ in ("Dropout", "AlphaDropout", "GaussianDropout") for nxt in _next(model, layer)):
            out.append(layer)
    return out


def _next(model: Any, layer: Any) -> list:
    """Layers that consume ``layer``'s output (the next one in a Sequential)."""
    if type(model).__name__ == "Sequential" or "Sequential" in {c.__name__ for c in type(model).__mro__}:
        layers = list(model.layers)
        if layer in layers:
            i = layers.index(layer)
            return layers[i + 1 : i + 2]
    return consuming_layers(layer)


def _rebuild(plan: Plan) -> PreparedModel:
    """A new Sequential/Functional model with the plan's inserted and resized layers (see :class:`_Rebuild`),
    holding the original starting weights wherever a layer's weights kept their shapes."""
    import keras

    keras.utils.set_random_seed(plan.seed)  # new layers' initial weights are seeded
    rebuild = _Rebuild(plan)
    new_model = rebuild.sequential() if plan.style == "sequential" else rebuild.functional()
    prepared = rebuild.with_starting_weights(new_model)
    if prepared.fresh_layers:
        plan.notes.append(
            f"New or resized layers start from fresh weights (seed {plan.seed}): {', '.join(prepared.fresh_layers)}; "
            f"the other layers start from the original starting weights."
        )
    return prepared


class _Rebuild:
    """One rebuild of the user's model, in the steps Keras needs: clone each layer (resized where the plan says),
    insert layers after some, then copy the starting weights into every new layer whose shapes still match.

    What changes is read from the original model once, here, before any new layer exists; ``mapping`` remembers
    which original layer each clone came from, which the weight copy needs. Layers are created in the same order
    as the original model's, so the seeded initializers of new layers draw the same values on every rerun.
    """

    def __init__(self, plan: Plan) -> None:
        model = plan.baseline.model
        self.plan = plan
        self.model = model
        self.edits = dict(plan.edits)  # last of each kind wins
        self.initial = _initial_by_layer(model, plan.baseline.initial_weights)
        self.width = self.edits.get("width")
        self.out_params = self.edits.get("output") or {}
        self.hidden = {id(layer) for layer in _hidden_kernel_layers(model, plan.style, WIDTH_LAYERS)}
        self.output = _output_width_layer(model, plan.style)
        self.insert_dropout = (
            {id(layer) for layer in _dropout_insertions(model, plan.style)} if "dropout" in self.edits else set()
        )
        self.insert_bn = (
            {id(layer) for layer in _hidden_kernel_layers(model, plan.style)} if "batch_norm" in self.edits else set()
        )
        self.mapping: dict[int, Any] = {}  # id(new layer) -> old layer

    def clone_layer(self, layer: Any) -> Any:
        """A new layer from ``layer``'s config, wider/narrower or with another number of outputs as planned."""
        config = layer.get_config()
        if self.width is not None and id(layer) in self.hidden:
            for key in ("units", "filters"):
                if isinstance(config.get(key), int):
                    least = self.width.get("min_units") or 1
                    config[key] = max(least, round(config[key] * float(self.width["factor"])))
        if layer is self.output and self.out_params.get("units") is not None:
            config["units"] = int(self.out_params["units"])
        new = type(layer).from_config(config)
        self.mapping[id(new)] = layer
        return new

    def after(self, old: Any) -> list:
        """The new layers to insert right after the original layer ``old`` (batch norm, then dropout)."""
        import keras

        extra = []
        if id(old) in self.insert_bn:
            extra.append(keras.layers.BatchNormalization())
        if id(old) in self.insert_dropout:
            extra.append(keras.layers.Dropout(float(self.edits["dropout"]["rate"])))
        return extra

    def call(self, layer: Any, *args: Any, **kwargs: Any) -> Any:
        """``clone_model``'s call function: call the cloned layer, then the layers inserted after it."""
        out = layer(*args, **kwargs)
        old = self.mapping.get(id(layer))
        for extra in self.after(old) if old is not None else []:
            out = extra(out)
        return out

    def sequential(self) -> Any:
        """The rebuilt Sequential model (a Normalization layer first when the plan normalizes inputs)."""
        import keras

        new_layers = []
        for layer in self.model.layers:
            new_layers.append(self.clone_layer(layer))
            new_layers.extend(self.after(layer))
        input_shape = _input_shape(self.model, self.plan)
        head = [keras.Input(input_shape)]
        normalize = self.edits.get("normalize")
        if normalize is not None:
            head.append(_normalization_layer(normalize, input_shape))
        tail = self.edits.get("scale_targets")
        if tail is not None:
            new_layers.append(_denormalization_layer(tail))
        return keras.Sequential([*head, *new_layers], name=self.model.name)

    def functional(self) -> Any:
        """The rebuilt Functional model, through ``keras.models.clone_model`` (wrapped in a model that normalizes
        its inputs first when the plan says so)."""
        import keras

        new_model = keras.models.clone_model(self.model, clone_function=self.clone_layer, call_function=self.call)
        normalize = self.edits.get("normalize")
        if normalize is not None:
            input_shape = _input_shape(self.model, self.plan)
            inputs = keras.Input(input_shape)
            outputs = new_model(_normalization_layer(normalize, input_shape)(inputs))
            new_model = keras.Model(inputs, outputs, name=self.model.name)
        tail = self.edits.get("scale_targets")
        if tail is not None:
            if len(new_model.outputs) != 1:
                raise RemedyError("Scaling the targets needs a model with a single output.")
            new_model = keras.Model(new_model.inputs, _denormalization_layer(tail)(new_model.outputs[0]),
                                    name=self.model.name)  # fmt: skip
        return new_model

    def with_starting_weights(self, new_model: Any) -> PreparedModel:
        """``new_model`` with the original starting weights in every layer whose weight shapes are unchanged; the
        others (new or resized) keep their fresh seeded weights and are listed as such."""
        prepared = PreparedModel(new_model, rebuilt=True, undo=[])
        for new in all_layers(new_model):
            old = self.mapping.get(id(new))
            if old is None or not new.weights:
                if new.weights and new is not new_model and not is_nested_model(new):
                    prepared.fresh_layers.append(new.name)
                continue
            weights = self.initial.get(id(old))
            if weights is not None and [tuple(w.shape) for w in new.weights] == [w.shape for w in weights]:
                new.set_weights(weights)
                prepared.copied_layers.append(old.name)
            else:
                prepared.fresh_layers.append(new.name)
        return prepared


def _input_shape(model: Any, plan: Plan) -> tuple:
    try:
        return tuple(model.inputs[0].shape[1:])
    except (AttributeError, ValueError, IndexError, TypeError):
        shape = plan.run.model.input_shape if plan.run.model is not None else None
        if shape:
            return tuple(shape[1:])
    raise RemedyError("Could not read the model's input shape to rebuild it.")


def _normalization_layer(params: Mapping[str, Any], input_shape: tuple) -> Any:
    import keras

    mean = np.asarray(params["mean"], dtype="float32").reshape(input_shape)
    std = np.asarray(params["std"], dtype="float32").reshape(input_shape)
    axis = -1 if len(input_shape) == 1 else tuple(range(1, len(input_shape) + 1))  # one mean per feature
    return keras.layers.Normalization(axis=axis, mean=mean, variance=std**2)


def _denormalization_layer(params: Mapping[str, Any]) -> Any:
    """The layer that turns standardized predictions back into the targets' units: ``y * std + mean``."""
    import keras

    mean = np.asarray(params["mean"], dtype="float32")
    std = np.asarray(params["std"], dtype="float32")
    return keras.layers.Normalization(axis=-1, mean=mean, variance=std**2, invert=True, name="stallmagic_target_scale")


def _initial_by_layer(model: Any, initial_weights: list) -> dict[int, list]:
    """The starting weights of each layer (nested models' layers too), by id of the layer."""
    index = {id(v): i for i, v in enumerate(model.weights)}
    out: dict[int, list] = {}
    for layer in all_layers(model):
        if layer is model:
            continue
        ids = [index.get(id(v)) for v in layer.weights]
        if ids and all(i is not None and i < len(initial_weights) for i in ids):
            out[id(layer)] = [initial_weights[i] for i in ids]
    return out
