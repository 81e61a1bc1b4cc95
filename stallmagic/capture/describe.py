"""Turn live Keras objects and fit arguments into the plain records of :mod:`stallmagic.record`.

Only public Keras API and duck typing: the same code describes models on the TensorFlow, JAX and torch
backends, and models built with ``tf.keras`` (the same classes in TensorFlow >= 2.16).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from typing import Any

from ..record import DataRefs, FitRecord, LayerRecord, LossRecord, ModelRecord, jsonable

# Layers that pass their input's activation through unchanged, when looking for the output activation.
_PASS_THROUGH = {
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
# Activation layers, by class name, and the activation they apply.
_ACTIVATION_LAYERS = {
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


def _layer_activation(layer: Any) -> str | None:
    cls = type(layer).__name__
    if cls in _ACTIVATION_LAYERS:
        return _ACTIVATION_LAYERS[cls]
    if hasattr(layer, "activation"):
        return activation_name(layer.activation)
    return None


def _config_of(obj: Any) -> dict | None:
    if obj is None:
        return None
    get_config = getattr(obj, "get_config", None)
    config = get_config() if callable(get_config) else {}
    return {"class_name": type(obj).__name__, "config": jsonable(config)}


def _count_params(layer: Any) -> int:
    try:
        return int(layer.count_params())
    except Exception:  # unbuilt layers refuse to count
        return 0


def _shape(tensor_or_layer: Any) -> list | None:
    shape = getattr(tensor_or_layer, "shape", None)
    if shape is None:
        return None
    try:
        return [None if d is None else int(d) for d in shape]
    except TypeError:
        return None


def _is_model(layer: Any) -> bool:
    return hasattr(layer, "layers") and hasattr(layer, "fit")


def describe_layers(model: Any, prefix: str = "") -> list[LayerRecord]:
    """Every layer of ``model``, nested models flattened in order with ``path`` = ``outer/inner``."""
    records: list[LayerRecord] = []
    for layer in getattr(model, "layers", []):
        path = f"{prefix}{layer.name}"
        if _is_model(layer):
            records.extend(describe_layers(layer, prefix=path + "/"))
            continue
        init = getattr(layer, "kernel_initializer", None)
        output = None
        try:
            output = _shape(layer.output)
        except Exception:  # subclassed models' layers have no symbolic output
            output = None
        records.append(
            LayerRecord(
                name=layer.name,
                class_name=type(layer).__name__,
                path=path,
                units=getattr(layer, "units", None),
                filters=getattr(layer, "filters", None),
                activation=_layer_activation(layer),
                rate=float(layer.rate) if isinstance(getattr(layer, "rate", None), (int, float)) else None,
                kernel_regularizer=_config_of(getattr(layer, "kernel_regularizer", None)),
                kernel_initializer=type(init).__name__ if init is not None else None,
                use_bias=getattr(layer, "use_bias", None),
                trainable=bool(layer.trainable),
                params=_count_params(layer),
                output_shape=output,
            )
        )
    return records


def _output_layer_index(model: Any, layers: list) -> int:
    """Index in ``layers`` of the layer that produces the model's (first) output; the last one if unknown."""
    try:
        outputs = model.outputs
    except (AttributeError, ValueError):
        outputs = None
    if outputs:
        history = getattr(outputs[0], "_keras_history", None)
        op = getattr(history, "operation", None) if history is not None else None
        if op is None and isinstance(history, tuple) and history:
            op = history[0]
        for i, layer in enumerate(layers):
            if layer is op:
                return i
    return len(layers) - 1


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


def _output_width(model: Any) -> int | None:
    try:
        outputs = model.outputs
    except (AttributeError, ValueError):
        return None
    shape = _shape(outputs[0]) if outputs else None
    return shape[-1] if shape and len(shape) >= 2 and shape[-1] is not None else None


def _walk_back(model: Any, layers: list) -> tuple[str | None, int | None]:
    """(activation, units) from the output layer backwards; see :func:`output_activation`."""
    i = _output_layer_index(model, layers)
    act = None
    while i >= 0:
        layer = layers[i]
        if _is_model(layer):
            inner_act, inner_units = output_activation(layer)
            return act or inner_act, inner_units
        units = getattr(layer, "units", None) or getattr(layer, "filters", None)
        own = _layer_activation(layer)
        if units is not None:
            return act or own, units
        if own == "linear":
            own = None  # Activation("linear") changes nothing
        if own is not None and act is None:
            act = own  # an activation layer: keep walking for the layer that gives the width
        elif own is None and type(layer).__name__ not in _PASS_THROUGH and type(layer).__name__ != "Activation":
            return act, None  # a layer that changes values without units (pooling, normalization): stop
        i -= 1
    return act, None


def describe_loss(loss: Any) -> LossRecord:
    """Name and ``from_logits`` of a compiled loss given as a string, a ``Loss`` object or a function."""
    if loss is None:
        return LossRecord()
    if isinstance(loss, str):
        return LossRecord(name=loss, from_logits=False, config={})
    if isinstance(loss, (Mapping, list, tuple)):
        items = list(loss.values()) if isinstance(loss, Mapping) else list(loss)
        first = describe_loss(items[0]) if items else LossRecord()
        first.config = {"per_output": [describe_loss(i).name for i in items]}
        return first
    get_config = getattr(loss, "get_config", None)
    if callable(get_config):
        config = jsonable(get_config())
        fn = getattr(loss, "fn", None)
        name = getattr(fn, "__name__", None) or config.get("name") or type(loss).__name__
        return LossRecord(name=_snake(name), from_logits=config.get("from_logits"), config=config)
    name = getattr(loss, "__name__", None) or type(loss).__name__
    return LossRecord(name=_snake(name), from_logits=None, config={})


def _snake(name: str) -> str:
    """``"SparseCategoricalCrossentropy"`` -> ``"sparse_categorical_crossentropy"``; snake names unchanged."""
    if "_" in name or name.islower():
        return name
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and not name[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def _model_style(model: Any) -> str:
    names = {cls.__name__ for cls in type(model).__mro__}
    if "Sequential" in names:
        return "sequential"
    if "Functional" in names:
        return "functional"
    return "subclassed"


def describe_model(model: Any) -> ModelRecord:
    """Record ``model`` as it stands (call after Keras built it, at the start of the fit)."""
    act, units = output_activation(model)
    optimizer = getattr(model, "optimizer", None)
    opt = {}
    if optimizer is not None:
        try:
            config = jsonable(optimizer.get_config())
        except Exception:  # custom optimizers may not serialise
            config = {}
        opt = {"class_name": type(optimizer).__name__, "config": config}
    metrics: list[str] = []
    try:
        compile_config = model.get_compile_config() or {}
        metrics = [str(m if isinstance(m, str) else jsonable(m)) for m in _flat(compile_config.get("metrics"))]
    except Exception:
        metrics = []
    try:
        trainable = int(sum(math.prod(w.shape) for w in model.trainable_weights))
    except Exception:
        trainable = 0
    backend = None
    try:
        import keras

        backend = keras.backend.backend()
    except Exception:
        backend = None
    input_shape = None
    try:
        inputs = model.inputs
        input_shape = _shape(inputs[0]) if inputs else None
    except (AttributeError, ValueError):
        input_shape = None
    output_shape = None
    try:
        outputs = model.outputs
        output_shape = _shape(outputs[0]) if outputs else None
    except (AttributeError, ValueError):
        output_shape = None
    return ModelRecord(
        name=model.name,
        class_name=type(model).__name__,
        style=_model_style(model),
        layers=describe_layers(model),
        params=_count_params(model),
        trainable_params=trainable,
        input_shape=input_shape,
        output_shape=output_shape,
        output_activation=act,
        output_units=units,
        loss=describe_loss(getattr(model, "loss", None)),
        optimizer=opt,
        metrics=metrics,
        backend=backend,
    )


def _flat(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [v for vs in value.values() for v in _flat(vs)]
    if isinstance(value, (list, tuple)):
        return [v for vs in value for v in _flat(vs)]
    return [value]


def data_kind(data: Any) -> str | None:
    """What kind of input ``fit`` got: ``arrays``, ``tf.data``, ``pydataset``, ``generator``, ``dataloader``."""
    if data is None:
        return None
    names = {cls.__name__ for cls in type(data).__mro__}
    module = type(data).__module__
    if "PyDataset" in names:
        return "pydataset"
    if "DatasetV2" in names or (module.startswith("tensorflow") and "Dataset" in type(data).__name__):
        return "tf.data"
    if "DataLoader" in names:
        return "dataloader"
    if inspect.isgenerator(data) or (hasattr(data, "__next__") and not hasattr(data, "shape")):
        return "generator"
    if isinstance(data, (Mapping, list, tuple)) or hasattr(data, "shape"):
        return "arrays"
    return type(data).__name__


def n_rows(data: Any) -> int | None:
    """Number of samples in an array or a nested structure of arrays; ``None`` for anything else."""
    if data is None:
        return None
    if isinstance(data, Mapping):
        data = next(iter(data.values()), None)
        return n_rows(data)
    shape = getattr(data, "shape", None)
    if shape is not None and len(shape) > 0 and shape[0] is not None:
        return int(shape[0])
    if isinstance(data, (list, tuple)) and data:
        first = data[0]
        if hasattr(first, "shape") and len(first.shape) > 0:
            return int(first.shape[0])  # a list of input arrays
        return len(data)
    return None


def describe_fit(arguments: Mapping[str, Any], *, default_batch_size: int = 32) -> tuple[FitRecord, DataRefs]:
    """The FitRecord and the data references for one fit call's bound arguments (``x``, ``y``, ...)."""
    x = arguments.get("x")
    y = arguments.get("y")
    validation_data = arguments.get("validation_data")
    validation_split = float(arguments.get("validation_split") or 0.0)
    kind = data_kind(x) or "none"
    n = n_rows(x) if kind == "arrays" else None

    if validation_data is not None:
        mode = "data"
    elif validation_split:
        mode = "split"
    else:
        mode = "none"

    split_at = None
    n_train, n_val = n, None
    if mode == "split" and n is not None:
        split_at = math.floor(n * (1.0 - validation_split))  # keras' train_validation_split
        n_train, n_val = split_at, n - split_at
    val_kind = data_kind(validation_data)
    if mode == "data":
        if isinstance(validation_data, (list, tuple)) and validation_data:
            val_kind = data_kind(validation_data[0])
            n_val = n_rows(validation_data[0]) if val_kind == "arrays" else None
        else:
            n_val = None

    batch_size = arguments.get("batch_size")
    if batch_size is None and kind == "arrays":
        batch_size = default_batch_size  # keras' array adapter default

    callbacks = arguments.get("callbacks") or []
    cb_list = getattr(callbacks, "callbacks", callbacks)  # a CallbackList holds a list
    class_weight = arguments.get("class_weight")
    record = FitRecord(
        batch_size=int(batch_size) if batch_size is not None else None,
        epochs=int(arguments.get("epochs", 1)),
        initial_epoch=int(arguments.get("initial_epoch", 0) or 0),
        validation=mode,
        validation_split=validation_split,
        split_at=split_at,
        validation_freq=arguments.get("validation_freq", 1)
        if isinstance(arguments.get("validation_freq", 1), int)
        else 1,
        class_weight={_key(k): float(v) for k, v in class_weight.items()} if class_weight else None,
        sample_weight=arguments.get("sample_weight") is not None,
        shuffle=arguments.get("shuffle", True),
        callbacks=[type(cb).__name__ for cb in cb_list],
        verbose=arguments.get("verbose", "auto"),
        data_kind=kind,
        validation_kind=val_kind,
        n_train=n_train,
        n_val=n_val,
    )
    refs = DataRefs(
        x=x, y=y, sample_weight=arguments.get("sample_weight"), validation_data=validation_data, split_at=split_at
    )
    return record, refs


def _key(k: Any) -> Any:
    item = getattr(k, "item", None)
    return item() if callable(item) else k
