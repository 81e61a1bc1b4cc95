"""Measure what the diagnosis needs from the live model and data, once, after the fit.

This is the Keras side of a diagnosis: it samples the training and validation data (bounded, never copying the
whole arrays), runs one prediction pass on the validation sample, and probes gradients and ReLU activity on one
fixed batch at the starting and the final weights. Everything it returns is plain numpy in a
:class:`~stallmagic.diagnosis.measurements.Measurements`, which the pure rules read. The user's model ends with
exactly the weights it had before (the probe sets and restores them).

A model with several outputs is judged on its first output by Keras's order (its samples' targets and its
predictions, read under that output's name, :class:`~stallmagic.record.ModelRecord`), but the
gradient probe differentiates the loss the model trains on, every output's term included, with the targets in the
structure ``fit`` got them: that is the gradient training followed, and it reaches every head's layers. The loss
and its gradients come from the running backend's autodiff (``probe_tf.py``, ``probe_jax.py``, ``probe_torch.py``,
chosen by :mod:`.probe_backends`); every figure built from them is computed here, once, for all backends.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from .._internal.layers import is_nested_model, leaf_layers
from .._internal.nested import flatten, judged_output, map_arrays, several_outputs
from .._internal.text import safe_str
from ..capture.activations import layer_activation
from ..capture.snapshot import n_rows
from ..record import Run
from .measurements import ArraySample, GradientProbe, Measurements
from .probe_backends import loss_and_gradients_for
from .signals.losses import REGRESSION_LOSSES
from .signals.targets import label_format

#: Rows sampled from each split for the data checks and the prediction pass.
MAX_ROWS = 5000
#: Rows of the fixed batch used by the gradient probe.
PROBE_ROWS = 256
#: Training rows predicted for the per-class view's training recall (a spread over the training sample).
TRAIN_RECALL_ROWS = 1000
#: Targets of the whole split are kept (for class counts and order checks) up to this many rows.
MAX_LABEL_ROWS = 2_000_000


def measure(run: Run, *, max_rows: int = MAX_ROWS, gradients: bool = True, seed: int = 0) -> Measurements:
    """Sample the run's data, predict on the validation sample, and probe gradients (see module docstring)."""
    m = Measurements()
    rng = np.random.default_rng(seed)
    data = run.data
    if data is None:
        m.notes.append(
            "The run holds no reference to its data (it was loaded from a file, or its live state was released to "
            "save memory): data checks skipped."
        )
        return m

    t = time.perf_counter()
    output = run.judged_output
    train_struct = train_targets = None
    if run.fit.data_kind == "arrays":
        x, y = data.train()
        m.train, train_struct, train_targets = _sample_arrays(x, y, max_rows, rng, output)
    else:
        m.train, train_struct, train_targets = _sample_batches(
            data.x, run.fit.data_kind, max_rows, "training", m.notes, output
        )
    val_struct = None
    validation = data.validation()
    if validation is not None:
        m.val, val_struct, _ = _sample_arrays(validation[0], validation[1], max_rows, rng, output)
    elif data.validation_data is not None:
        m.val, val_struct, _ = _sample_batches(
            data.validation_data, run.fit.validation_kind, max_rows, "validation", m.notes, output
        )
    m.timings["sample_data"] = time.perf_counter() - t

    model = run.keras_model
    # One prediction pass at the final weights: on validation, else (no validation) on the training sample.
    judged = (m.val, val_struct, "val_pred", "validation") if m.val is not None else (
        m.train, train_struct, "train_pred", "training")  # fmt: skip
    sample, struct, field_name, split = judged
    if model is not None and sample is not None and struct is not None:
        t = time.perf_counter()
        try:
            setattr(m, field_name, _probabilities(run, _predict(model, struct, sample.y, output)))
        except Exception as exc:  # a model that cannot predict on its own data: say so, go on
            m.notes.append(f"The prediction pass on {split} failed ({type(exc).__name__}: {safe_str(exc)}).")
        m.timings["predict"] = time.perf_counter() - t

    if model is not None and m.val_pred is not None:
        _predict_training_spread(run, model, m, train_struct, output)

    if gradients and model is not None and train_struct is not None and m.train is not None:
        t = time.perf_counter()
        m.gradients = _gradient_probe(run, model, train_struct, train_targets, m.notes)
        m.timings["gradient_probe"] = time.perf_counter() - t
    return m


# ---------------------------------------------------------------------- data sampling


def _take(data: Any, rows: np.ndarray) -> Any:
    """Rows of an array or a nested structure of arrays (numpy fancy indexing copies only these rows).

    A list of plain values is one column (``fit`` reads it so), a DataFrame comes back as numpy, a backend
    tensor is taken on its device and converted.
    """
    return map_arrays(lambda leaf: _take_rows(leaf, rows), data, leaf=_is_value_list)


def _is_value_list(data: Any) -> bool:
    """A non-empty list or tuple whose first item is not an array: one column of values, not several inputs."""
    return isinstance(data, (list, tuple)) and bool(data) and not hasattr(data[0], "shape")


def _take_rows(leaf: Any, rows: np.ndarray) -> Any:
    if isinstance(leaf, (list, tuple)):  # a list of plain values (see _is_value_list)
        return np.asarray(leaf)[rows]
    if hasattr(leaf, "iloc"):  # pandas
        return leaf.iloc[rows].to_numpy()
    if isinstance(leaf, np.ndarray):
        return leaf[rows]
    import keras

    return keras.ops.convert_to_numpy(keras.ops.take(leaf, rows, axis=0))


def _flatten_numeric(x: Any) -> np.ndarray | None:
    """Every numeric input flattened to (n, d) float64 and concatenated in the order the inputs were written;
    ``None`` if nothing numeric."""
    cols = []
    for part in flatten(x):
        arr = np.asarray(part)
        if arr.dtype.kind not in "biuf" or arr.ndim == 0:
            continue
        cols.append(arr.reshape(len(arr), -1).astype(np.float64))
    if not cols:
        return None
    return np.concatenate(cols, axis=1) if len(cols) > 1 else cols[0]


def _to_numpy(y: Any, output: str | None = None) -> np.ndarray | None:
    """One output's targets as numpy: the judged ``output``'s when ``y`` holds several."""
    if y is None:
        return None
    if several_outputs(y):
        return _to_numpy(judged_output(y, output))
    if isinstance(y, (Mapping, list, tuple)) and not hasattr(y, "shape"):
        return np.asarray(y)
    if hasattr(y, "to_numpy"):
        return y.to_numpy()
    if isinstance(y, np.ndarray):
        return y
    import keras

    return keras.ops.convert_to_numpy(y)


def _sample_arrays(
    x: Any, y: Any, max_rows: int, rng: np.random.Generator, output: str | None = None
) -> tuple[ArraySample | None, Any, Any]:
    """A bounded sample of a split given as arrays: the sample (first output's targets), its inputs in the structure
    ``fit`` got them, and its targets in that structure (every output's, for the gradient probe's loss)."""
    n = n_rows(x)
    if n is None or n == 0:
        return None, None, None
    rows = np.arange(n) if n <= max_rows else np.sort(rng.choice(n, max_rows, replace=False))
    x_rows = _take(x, rows)
    targets = _take(y, rows) if several_outputs(y) else None
    y_all = _to_numpy(y, output) if y is not None and n <= MAX_LABEL_ROWS else None
    y_rows = y_all[rows] if y_all is not None else _to_numpy(targets if targets is not None else _take(y, rows), output)
    sample = ArraySample(x=_flatten_numeric(x_rows), y=y_rows, rows=rows, n_total=n, y_all=y_all)
    return sample, x_rows, targets if targets is not None else y_rows


def _sample_batches(
    data: Any, kind: str | None, max_rows: int, split: str, notes: list[str], output: str | None = None
):
    """A bounded sample from a tf.data pipeline or a PyDataset: the first batches up to ``max_rows`` rows, as
    :func:`_sample_arrays` returns it (sample, inputs, targets in the batches' structure)."""
    xs, ys, targets = [], [], []
    total = 0
    try:
        if kind == "tf.data":
            batches = iter(data.take(max(1, max_rows)))
        elif kind == "pydataset":
            batches = (data[i] for i in range(len(data)))
        else:
            notes.append(
                f"The {split} data came from a {kind or 'generator'}, which cannot be read again without "
                "consuming it: data checks on it were skipped."
            )
            return None, None, None
        for batch in batches:
            if not isinstance(batch, (tuple, list)) or len(batch) < 2:
                notes.append(f"The {split} batches hold no targets: label checks on them were skipped.")
                return None, None, None
            bx, by = batch[0], batch[1]
            xs.append(bx)
            ys.append(_to_numpy(by, output))
            if several_outputs(by):
                targets.append(_as_numpy_struct(by))
            total += n_rows(bx) or 0
            if total >= max_rows:
                break
    except Exception as exc:
        notes.append(f"Reading a sample of the {split} data failed ({type(exc).__name__}): data checks skipped.")
        return None, None, None
    if not xs:
        return None, None, None
    x_struct = _concat([_as_numpy_struct(b) for b in xs])
    y = np.concatenate(ys)
    sample = ArraySample(x=_flatten_numeric(x_struct), y=y, rows=np.arange(len(y)), n_total=None)
    return sample, x_struct, _concat(targets) if targets else y


def _as_numpy_struct(x: Any) -> Any:
    """A batch's inputs (arrays, tensors, or dicts/lists/tuples of them) with every array as numpy."""
    import keras

    return keras.tree.map_structure(_to_numpy, x)


def _concat(parts: list) -> Any:
    """Batches of the same structure joined along the rows, input by input."""
    import keras

    return keras.tree.map_structure(lambda *arrays: np.concatenate(arrays), *parts)


# ---------------------------------------------------------------------- predictions


def _predict(
    model: Any, x_struct: Any, y: np.ndarray | None, output: str | None = None, batch: int = 512
) -> np.ndarray:
    """The model's outputs on ``x_struct``, called eagerly in chunks (``model.predict`` would trace a new
    function for every model diagnosed, and TensorFlow warns about retracing after a few)."""
    n = len(y) if y is not None else n_rows(x_struct)
    outs = []
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The structure of `inputs`")
        for start in range(0, n, batch):
            out = model(_take(x_struct, np.arange(start, min(n, start + batch))), training=False)
            outs.append(np.asarray(_to_numpy(judged_output(out, output))))
    return np.concatenate(outs)


def _probabilities(run: Run, raw: Any) -> np.ndarray:
    """The model's output as probabilities: logits (``from_logits=True``) go through softmax or sigmoid."""
    out = np.asarray(judged_output(raw, run.judged_output), dtype=np.float64)
    model = run.model
    if model is None or not model.loss.from_logits:
        return out
    if out.ndim == 1 or out.shape[-1] == 1:
        return 1.0 / (1.0 + np.exp(-np.clip(out, -50, 50)))
    z = out - out.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _predict_training_spread(run: Run, model: Any, m: Measurements, train_struct: Any, output: str | None) -> None:
    """Predict a spread of training rows for the per-class view's training recall (fills ``m.train_sample_pred``).

    The validation pass does not cover the training rows, and a class the network gives up on shows its low recall
    on both splits; so a second, bounded pass: at most :data:`TRAIN_RECALL_ROWS` rows evenly spread over the
    (sorted) training sample, only when the targets are classes. Its time is in ``timings["predict_training"]``.
    """
    sample = m.train
    if sample is None or sample.y is None or train_struct is None or len(sample.y) == 0:
        return
    if label_format(np.asarray(sample.y)) not in ("sparse", "onehot"):
        return
    if run.model is not None and run.model.loss.name in REGRESSION_LOSSES:
        return
    t = time.perf_counter()
    n = len(sample.y)
    rows = np.unique(np.linspace(0, n - 1, min(n, TRAIN_RECALL_ROWS)).astype(np.int64))
    try:
        raw = _predict(model, _take(train_struct, rows), sample.y[rows], output)
        m.train_sample_pred, m.train_sample_rows = _probabilities(run, raw), rows
    except Exception as exc:
        m.notes.append(f"The prediction pass on training rows failed ({type(exc).__name__}: {safe_str(exc)}).")
    m.timings["predict_training"] = time.perf_counter() - t


# ---------------------------------------------------------------------- gradients and dead ReLUs


def _kernel_layers(model: Any) -> list:
    """Layers with a trainable kernel, input side first, nested models flattened."""
    return [
        layer
        for layer in leaf_layers(model)
        if getattr(layer, "trainable", False) and getattr(layer, "kernel", None) is not None
    ]


def _relu_layers(model: Any) -> list:
    """The model's own ReLU layers (top level only, not inside a nested model).

    Their outputs are read through one ``keras.Model(model.inputs, ...)``; a layer inside a nested model is not
    connected to the outer model's inputs, so it would make that model fail to build and lose every layer's reading.
    """
    return [layer for layer in getattr(model, "layers", []) if layer_activation(layer) == "relu"
            and not is_nested_model(layer)]  # fmt: skip


def _gradient_probe(run: Run, model: Any, x_struct: Any, targets: Any, notes: list[str]):
    """Gradients, weights and dead ReLUs on one batch of ``x_struct`` and ``targets`` (every output's targets, in the
    structure ``fit`` got them), at the starting and the final weights; ``None`` with a note when not measured.

    The loss and its gradients come from the running backend's own autodiff (:mod:`.probe_backends`); the figures
    built from them are computed here, the same way on every backend."""
    import keras

    backend = keras.backend.backend()
    gradients_of = loss_and_gradients_for(backend)
    if gradients_of is None:
        notes.append(
            f"Gradients and dead ReLUs are measured on the TensorFlow, JAX and torch backends (this is {backend}): "
            "not measured."
        )
        return None
    batch = _probe_batch(x_struct, targets)
    layers = _kernel_layers(model)
    if batch is None or not layers:
        return None
    xb, yb = batch
    relus = _relu_layers(model)
    activations = None
    if relus:
        try:
            activations = keras.Model(model.inputs, [layer.output for layer in relus])
        except Exception:
            notes.append("Dead ReLUs are measured on Sequential and Functional models only: not measured.")
    probe = GradientProbe(layers=[layer.name for layer in layers], batch_rows=n_rows(yb) or 0)
    final = model.get_weights()
    moments = [("end", final)]  # every moment loads its own weights: "end" must not inherit "start"'s
    if run.initial_weights is not None:
        moments.insert(0, ("start", run.initial_weights))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The structure of `inputs`")
        try:
            start = None
            for when, weights in moments:
                model.set_weights(weights)
                measured = gradients_of(model, [layer.kernel for layer in layers], xb, yb)
                start = _probe_moment(probe, when, measured, layers, start)
                if activations is not None:
                    probe.dead_relu[when] = _dead_relus(activations, relus, xb)
        except Exception as exc:  # the error's own text is Keras's internals, not something the user can act on
            notes.append(
                f"The gradient probe could not run on this model ({type(exc).__name__}): gradients and dead ReLUs "
                "were not measured."
            )
            return None
        finally:
            model.set_weights(final)
    return probe


def _probe_batch(x_struct: Any, targets: Any) -> tuple[Any, Any] | None:
    """The probe's fixed batch: the first :data:`PROBE_ROWS` rows whose inputs are all finite (rows with NaN/inf
    inputs would only probe the NaN), as ``(inputs, targets)``; ``None`` when no row is left."""
    n_targets = n_rows(targets)
    if not n_targets:
        return None
    rows = np.arange(n_targets)
    flat = _flatten_numeric(x_struct)
    if flat is not None and len(flat) == n_targets:
        rows = rows[np.isfinite(flat).all(axis=1)]
    rows = rows[: min(PROBE_ROWS, len(rows))]
    if len(rows) == 0:
        return None
    return _take(x_struct, rows), _take(targets, rows)


def _probe_moment(
    probe: GradientProbe, when: str, measured: tuple, layers: list, start: list | None
) -> list[np.ndarray]:
    """Record one moment's loss, gradient norms and kernel norms, and at the end how far each kernel moved since
    ``start`` (the kernels at the start, if probed), relative to its starting norm; return the kernels' values."""
    loss, grads = measured
    probe.loss[when] = float(loss)
    probe.grad_norms[when] = [float(np.linalg.norm(g)) if g is not None else 0.0 for g in grads]
    values = [np.array(layer.kernel.numpy()) for layer in layers]
    probe.weight_norms[when] = [float(np.linalg.norm(v)) for v in values]
    if when == "end" and start is not None:
        probe.weight_change = [
            float(np.linalg.norm(v - v0) / max(np.linalg.norm(v0), 1e-12)) for v, v0 in zip(values, start, strict=False)
        ]
    return values


def _dead_relus(activations: Any, relus: list, xb: Any) -> dict[str, float]:
    """Share of dead units of each ReLU layer on the batch ``xb`` (see :func:`_dead_share`)."""
    outs = activations(xb, training=False)
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    return {layer.name: _dead_share(_to_numpy(o)) for layer, o in zip(relus, outs, strict=False)}


def _dead_share(out: np.ndarray) -> float:
    """Share of units (last axis) that are zero for every row and position of the batch."""
    flat = out.reshape(-1, out.shape[-1])
    return float(np.mean(np.all(flat <= 0, axis=0)))
