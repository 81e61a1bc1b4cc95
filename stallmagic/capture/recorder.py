"""The epoch-level Keras callback that fills a :class:`~stallmagic.record.Run` while ``fit`` runs.

It implements epoch and train hooks only. A callback that overrides ``on_train_batch_end`` or
``on_batch_end`` makes Keras 3 give up asynchronous dispatch and sync the device every step (+12 % measured on
an H100), so nothing stallmagic adds to a fit has a batch hook.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import keras

from ..record import DataRefs, Run
from .snapshot import snapshot_model


def current_learning_rate(optimizer: Any) -> float | None:
    """The optimizer's learning rate right now, schedules evaluated at the current step; ``None`` if unknown."""
    if optimizer is None:
        return None
    try:
        return _to_float(optimizer.learning_rate)  # a Variable, or a tensor from a schedule
    except Exception:  # custom optimizers without a readable rate
        return None


def _to_float(value: Any) -> float:
    """A Python float from a number, numpy scalar, backend tensor or Keras Variable (``nan`` if none)."""
    if isinstance(value, (int, float)):
        return float(value)
    to_numpy = getattr(value, "numpy", None)  # Keras Variables, TF eager tensors, CPU torch tensors
    try:
        return float(to_numpy()) if callable(to_numpy) else float(value)
    except Exception:
        try:
            return float(keras.ops.convert_to_numpy(value))
        except Exception:
            return math.nan


def ensure_built(model: Any, data: DataRefs | None) -> str | None:
    """Build ``model`` now, the way Keras would on its first step, so its starting weights can be copied.

    With the TensorFlow backend Keras builds a model that has no ``Input`` inside the first training step,
    together with the first update, so without this there is no moment at which the starting weights exist.
    A Sequential model is built from the input shape (batch dimension left open, as Keras does); a
    subclassed model is called once, in inference mode, on the first row of the training arrays. Returns
    ``None`` when the model is built, else why it could not be (its weights are then not snapshotted).
    """
    if model.built and (model.weights or not model.layers):
        return None
    x = data.train()[0] if data is not None else None
    if x is None or not hasattr(x, "shape"):
        return "the model had no weights yet and its input is not an array to build it from"
    try:
        if type(model).__name__ == "Sequential" or isinstance(model, keras.Sequential):
            model.build((None, *tuple(x.shape[1:])))
        else:
            model(x[:1], training=False)
    except Exception as exc:
        return f"could not build the model before training ({type(exc).__name__}: {exc})"
    return None if model.weights else "the model had no weights at the start of the fit"


class Recorder(keras.callbacks.Callback):
    """Records a fit into ``run``: the model at the start, then logs, epoch times and learning rate per epoch.

    Args:
        run: The Run to fill; created by :mod:`stallmagic.capture` before the fit starts.
        notify: Called as ``notify(event, run)`` after the run changed (``"begin"``, ``"epoch"``); the
            capture engine forwards it to the session's listeners (the live panel, probes).
        snapshot_weights: Whether to copy the model's weights at the start of the fit (default ``True``);
            reruns start from that copy.
    """

    def __init__(
        self,
        run: Run,
        notify: Callable[[str, Run], None] | None = None,
        *,
        snapshot_weights: bool = True,
    ) -> None:
        super().__init__()
        self.run = run
        self.notify = notify
        self.snapshot_weights = snapshot_weights
        self._epoch_start = 0.0

    def on_train_begin(self, logs: dict | None = None) -> None:
        # Keras has built the model (and its optimizer) by now and applied no update yet.
        run = self.run
        run.keras_model = self.model
        if self.snapshot_weights:
            reason = ensure_built(self.model, run.data)
            if reason is None:
                run.initial_weights = self.model.get_weights()
            else:
                run.extras["initial_weights"] = f"not kept: {reason}"
        run.model = snapshot_model(self.model)
        steps = (self.params or {}).get("steps")
        if steps is not None:
            run.fit.steps_per_epoch = int(steps)
        if self.notify is not None:
            self.notify("begin", run)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.run.learning_rates.append(current_learning_rate(getattr(self.model, "optimizer", None)))
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        run = self.run
        run.epoch_times.append(time.perf_counter() - self._epoch_start)
        done = len(run.epochs)
        logs = logs or {}
        for key, value in logs.items():
            series = run.logs.get(key)
            if series is None:
                series = run.logs[key] = [math.nan] * done  # a key that appears late (validation_freq)
            series.append(_to_float(value))
        for series in run.logs.values():
            if len(series) == done:  # a key missing this epoch
                series.append(math.nan)
        run.epochs.append(int(epoch))
        if self.notify is not None:
            self.notify("epoch", run)
