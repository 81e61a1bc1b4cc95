"""Snapshot live Keras objects and fit arguments into the plain records of :mod:`stallmagic.record`.

A snapshot is taken once, at the start of the fit (the model after Keras built it, the arguments as the user
passed them), so everything downstream reads records, never the live objects that training goes on changing.
Only public Keras API and duck typing: the same code snapshots models on the TensorFlow, JAX and torch backends,
and models built with ``tf.keras`` (the same classes in TensorFlow >= 2.16).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from typing import Any

from .._internal.layers import is_nested_model
from .._internal.nested import flatten, judged_output
from ..record import DataRefs, FitRecord, LayerRecord, LossRecord, ModelRecord, jsonable
from .activations import layer_activation, output_activation, shape_list

# ---------------------------------------------------------------------- the model


def snapshot_model(model: Any) -> ModelRecord:
    """Record ``model`` as it stands (call after Keras built it, at the start of the fit)."""
    act, units = output_activation(model)
    names = _output_names(model)
    return ModelRecord(
        name=model.name,
        class_name=type(model).__name__,
        style=_model_style(model),
        layers=snapshot_layers(model),
        params=_count_params(model),
        trainable_params=_trainable_params(model),
        input_shape=_first_shape(model, "inputs"),
        output_shape=_first_shape(model, "outputs"),
        output_activation=act,
        output_units=units,
        output_names=names,
        loss=snapshot_loss(getattr(model, "loss", None), names[0] if names else None),
        optimizer=_optimizer_record(getattr(model, "optimizer", None)),
        metrics=_metric_names(model),
        backend=_backend(),
    )


def snapshot_layers(model: Any, prefix: str = "") -> list[LayerRecord]:
    """Every layer of ``model``, nested models flattened in order with ``path`` = ``outer/inner``."""
    records: list[LayerRecord] = []
    for layer in getattr(model, "layers", []):
        path = f"{prefix}{layer.name}"
        if is_nested_model(layer):
            records.extend(snapshot_layers(layer, prefix=path + "/"))
            continue
        init = getattr(layer, "kernel_initializer", None)
        output = None
        try:
            output = shape_list(layer.output)
        except Exception:  # subclassed models' layers have no symbolic output
            output = None
        records.append(
            LayerRecord(
                name=layer.name,
                class_name=type(layer).__name__,
                path=path,
                units=getattr(layer, "units", None),
                filters=getattr(layer, "filters", None),
                activation=layer_activation(layer),
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


def snapshot_loss(loss: Any, output: str | None = None) -> LossRecord:
    """Name and ``from_logits`` of a compiled loss given as a string, a ``Loss`` object or a function; for one loss
    per output, the judged ``output``'s (see :class:`~stallmagic.record.ModelRecord`), with every output's name in
    ``config["per_output"]``."""
    if loss is None:
        return LossRecord()
    if isinstance(loss, str):
        return LossRecord(name=loss, from_logits=False, config={})
    if isinstance(loss, (Mapping, list, tuple)):
        items = list(loss.values()) if isinstance(loss, Mapping) else list(loss)
        judged = judged_output(loss, output)
        first = snapshot_loss(judged) if judged is not None else LossRecord()
        first.config = {"per_output": [snapshot_loss(i).name for i in items]}
        return first
    get_config = getattr(loss, "get_config", None)
    if callable(get_config):
        config = jsonable(get_config())
        fn = getattr(loss, "fn", None)
        name = getattr(fn, "__name__", None) or config.get("name") or type(loss).__name__
        return LossRecord(name=_snake(name), from_logits=config.get("from_logits"), config=config)
    name = getattr(loss, "__name__", None) or type(loss).__name__
    return LossRecord(name=_snake(name), from_logits=None, config={})


def _output_names(model: Any) -> list[str]:
    """The model's output names in Keras's order (``[]`` where the model does not say)."""
    try:
        names = model.output_names
    except Exception:  # a subclassed model before it was called
        return []
    return [str(n) for n in names] if isinstance(names, (list, tuple)) else []


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


def _trainable_params(model: Any) -> int:
    try:
        return int(sum(math.prod(w.shape) for w in model.trainable_weights))
    except Exception:
        return 0


def _first_shape(model: Any, which: str) -> list | None:
    """The shape of the model's first input or output (``which``), or ``None`` where the model has no graph."""
    try:
        tensors = getattr(model, which)
        return shape_list(tensors[0]) if tensors else None
    except (AttributeError, ValueError):
        return None


def _optimizer_record(optimizer: Any) -> dict:
    if optimizer is None:
        return {}
    try:
        config = jsonable(optimizer.get_config())
    except Exception:  # custom optimizers may not serialise
        config = {}
    return {"class_name": type(optimizer).__name__, "config": config}


def _metric_names(model: Any) -> list[str]:
    try:
        compile_config = model.get_compile_config() or {}
        return [str(m if isinstance(m, str) else jsonable(m)) for m in flatten(compile_config.get("metrics"))]
    except Exception:
        return []


def _backend() -> str | None:
    try:
        import keras

        return keras.backend.backend()
    except Exception:
        return None


# ---------------------------------------------------------------------- the fit call and its data


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
    """Number of samples in an array or a nested structure of arrays; ``None`` for anything else.

    Reads the first input only (every input of a fit has the same rows); a list of plain values is one column.
    """
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


def snapshot_fit(arguments: Mapping[str, Any], *, default_batch_size: int = 32) -> tuple[FitRecord, DataRefs]:
    """The FitRecord and the data references for one fit call's bound arguments (``x``, ``y``, ...)."""
    x = arguments.get("x")
    validation_data = arguments.get("validation_data")
    validation_split = float(arguments.get("validation_split") or 0.0)
    kind = data_kind(x) or "none"
    n = n_rows(x) if kind == "arrays" else None
    mode, split_at, n_train, n_val, val_kind = _validation(validation_data, validation_split, n)

    batch_size = arguments.get("batch_size")
    if batch_size is None and kind == "arrays":
        batch_size = default_batch_size  # keras' array adapter default

    callbacks = arguments.get("callbacks") or []
    cb_list = flatten(getattr(callbacks, "callbacks", callbacks))  # a CallbackList holds a list; Keras flattens
    class_weight = arguments.get("class_weight")
    validation_freq = arguments.get("validation_freq", 1)
    record = FitRecord(
        batch_size=int(batch_size) if batch_size is not None else None,
        epochs=int(arguments.get("epochs", 1)),
        initial_epoch=int(arguments.get("initial_epoch", 0) or 0),
        validation=mode,
        validation_split=validation_split,
        split_at=split_at,
        validation_freq=validation_freq if isinstance(validation_freq, int) else 1,
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
        x=x,
        y=arguments.get("y"),
        sample_weight=arguments.get("sample_weight"),
        validation_data=validation_data,
        split_at=split_at,
    )
    return record, refs


def _validation(
    validation_data: Any, validation_split: float, n: int | None
) -> tuple[str, int | None, int | None, int | None, str | None]:
    """(mode, split_at, n_train, n_val, validation kind) of a fit with ``n`` training rows (``None``: unknown).

    ``mode`` is ``"data"`` (``validation_data`` given: it wins over a split, as in Keras), ``"split"`` or
    ``"none"``; ``split_at`` is the first validation row of a split, computed as Keras's
    ``train_validation_split`` does.
    """
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
    return mode, split_at, n_train, n_val, val_kind


def _key(k: Any) -> Any:
    """A class-weight key as a plain Python value (numpy integers become ints, so the record serialises)."""
    item = getattr(k, "item", None)
    return item() if callable(item) else k
