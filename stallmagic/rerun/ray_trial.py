"""What one Ray Tune trial of a sweep does in its Ray worker: rebuild the run from what the driver sent, train one
configuration through the same rerun engine as the in-process sweep, and report each epoch to Tune.

The driver (:mod:`.sweep_ray`) sends one :class:`TrialPayload` through Ray's object store (``tune.with_parameters``
puts it there once; trials on the same node read the same arrays without a copy). A trial rebuilds the model from
its Keras config, compiles it as the user did, and wraps it in a Run that the rerun engine treats as an original run
(its fit call, its starting weights, its seed), then calls :func:`.engine.train_rerun` exactly as
:meth:`.sweep.SweepResult.run` does: same plan (:mod:`.plan`), same training side (:mod:`.training`), same fit under
capture. Nothing here is a second training path.

Reporting rides on the capture's own epoch hook: a listener of the trial's Session, called after the Recorder has
written the epoch (logs, wall time, learning rate) and after every other callback has run (so an EarlyStopping's
``stop_training`` is already set). It calls ``tune.report`` once per epoch; Tune's schedulers end a trial by
raising ``SystemExit`` out of that call, which no ``except Exception`` in the capture or the listener list swallows.
The epoch that ends a fit carries a checkpoint: the Run's record (``run.json``) and its final weights
(``weights.npz``), which the driver turns back into the sweep's Run.

Imports Ray and Keras inside functions only: this module is imported in Ray workers, never by ``import stallmagic``.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..record import Run, Session

#: The key under which a trial's report carries stallmagic's own bookkeeping (the epoch's logs, fold, timing).
REPORT_KEY = "stallmagic"
#: Files of a trial's checkpoint.
RUN_FILE, WEIGHTS_FILE = "run.json", "weights.npz"


@dataclass
class TrialPayload:
    """Everything a trial needs, sent once through Ray's object store.

    Attributes:
        record: The original run's record (``Run.to_dict()``: fit and model records, label).
        model_config: The model as ``keras.saving.serialize_keras_object`` writes it.
        custom_objects: Classes the config names that Keras does not know by itself (the user's layers), by name.
        initial_weights: The starting weights of the original fit.
        optimizer: The optimizer recorded at the start of the original fit (``{"class_name", "config"}``).
        compile: The other ``compile`` arguments (Keras objects as serialized configs, see :func:`portable`).
        fit_call: The original ``fit`` call (``{"args", "kwargs"}``), data included, callbacks detached from the model.
        steps: The remedies the swept run already stacks (``[(Remedy | None, overrides)]``).
        configs: The sweep's configurations as ``(remedy, overrides)`` pairs, by index.
        grid: The grid as lists (a search algorithm's sample names a value of each key, or its index).
        by_index: Grid keys whose values a search algorithm samples by index (values that are not plain scalars).
        folds: Each fold's fit arguments under cross-validation, else ``None``.
        seed: The seed the rerun engine sets (the user's, else 0).
        backend: The driver's Keras backend; the trial uses the same one.
        threads: CPUs each trial may use (TensorFlow's thread pools are sized to it).
        token: Names this sweep: a Ray worker that Tune reuses for the sweep's next trial keeps the rebuilt run.
        metric: The validation key the sweep scores; every report carries it (NaN on an epoch without validation),
            since Tune refuses a report without the metric its scheduler or searcher watches.
    """

    record: dict
    model_config: dict
    custom_objects: dict
    initial_weights: list
    optimizer: dict
    compile: dict
    fit_call: dict
    steps: list
    configs: list
    grid: dict
    by_index: tuple
    folds: list | None
    seed: int
    backend: str
    threads: int
    token: str = ""
    metric: str | None = None


# ---------------------------------------------------------------------- Keras objects that travel as configs


def portable(value: Any) -> Any:
    """A compile argument in a form another process can rebuild: Keras objects (losses, metrics) as their
    serialized config, tagged; strings, numbers, functions and containers as they are (functions travel by pickle)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, Mapping):
        return {k: portable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(portable(v) for v in value)
    if callable(getattr(value, "get_config", None)) and not isinstance(value, type):
        import keras

        return {"__keras__": keras.saving.serialize_keras_object(value)}
    return value


def from_portable(value: Any, custom_objects: Mapping[str, Any] | None = None) -> Any:
    """The inverse of :func:`portable`: fresh Keras objects from their configs."""
    if isinstance(value, Mapping):
        if set(value) == {"__keras__"}:
            import keras

            return keras.saving.deserialize_keras_object(value["__keras__"], custom_objects=dict(custom_objects or {}))
        return {k: from_portable(v, custom_objects) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(from_portable(v, custom_objects) for v in value)
    return value


def rebuild_model(config: dict, custom_objects: Mapping[str, Any]) -> Any:
    """A new, built model from its serialized config (no weights: the rerun engine sets the starting ones)."""
    import keras

    with keras.saving.custom_object_scope(dict(custom_objects)):
        return keras.saving.deserialize_keras_object(config, custom_objects=dict(custom_objects))


# ---------------------------------------------------------------------- in the Ray worker


def trial(config: Mapping[str, Any], payload: TrialPayload) -> None:
    """One Tune trial: train the configuration ``config`` names (every fold), reporting each epoch to Tune."""
    _use_backend(payload)
    from .engine import train_rerun
    from .ledger import LEDGER
    from .sweep import config_label

    remedy, overrides, shown = configuration(config, payload)
    source = worker_run(payload)
    session = Session(label=f"ray trial of {source.label}", snapshot_weights=True)
    reporter = EpochReporter(payload.metric)
    session.listeners.append(reporter)
    folds = payload.folds or [None]
    for i, fold in enumerate(folds):
        reporter.fold = i
        new = train_rerun(
            source,
            remedy,
            overrides,
            session=session,
            keep_weights=False,
            label=config_label(shown, i if fold is not None else None),
            fold_data=fold,
            put_back=False,
        )
        if reporter.failure is not None:
            raise reporter.failure
        if not reporter.ended:  # the fit failed before its last epoch was reported: report how it ended
            reporter.report_end(new)
        LEDGER.retire(new, "a Ray trial's run lives in the driver's SweepResult")


def configuration(config: Mapping[str, Any], payload: TrialPayload) -> tuple[Any, dict, dict]:
    """``(remedy, overrides, params)`` of the trial: a grid index, or the values a search algorithm sampled."""
    from .sweep import split_config

    if "config" in config and set(config) == {"config"}:
        params = dict(payload.configs[int(config["config"])])
    else:
        params = {
            key: payload.grid[key][int(config[key])] if key in payload.by_index else config[key]
            for key in payload.grid
        }
    remedy, overrides = split_config(params)
    return remedy, overrides, params


#: The run rebuilt in this worker for the sweep being run, by its token: Tune reuses a worker for the sweep's next
#: trial (``reuse_actors``), which then reruns the same rebuilt run, as the in-process sweep reruns the same model
#: (its traced train function reused, its optimizer reset to a fresh state). Holds one sweep's run at a time.
_REBUILT: dict[str, Run] = {}


def worker_run(payload: TrialPayload) -> Run:
    """The run this worker rebuilt for the sweep (see :data:`_REBUILT`), rebuilding it for a new sweep."""
    from .ledger import LEDGER

    run = _REBUILT.get(payload.token) if payload.token else None
    if run is None:
        for old in _REBUILT.values():
            LEDGER.release(old)
        _REBUILT.clear()
        run = _REBUILT[payload.token] = rebuilt_run(payload)
    return run


def rebuilt_run(payload: TrialPayload) -> Run:
    """A Run the rerun engine accepts as an original run: the rebuilt model compiled as the user compiled theirs,
    the original fit call and starting weights, the recorded seed, and the swept run's stacked remedies."""
    import keras

    from .ledger import LEDGER

    model = rebuild_model(payload.model_config, payload.custom_objects)
    with keras.saving.custom_object_scope(dict(payload.custom_objects)):
        optimizer = keras.optimizers.get(
            {"class_name": payload.optimizer["class_name"], "config": dict(payload.optimizer.get("config") or {})}
        )
    model.compile(optimizer=optimizer, **from_portable(payload.compile, payload.custom_objects))
    run = Run.from_dict(payload.record)
    run.keras_model = model
    run.fit_call = payload.fit_call
    run.initial_weights = payload.initial_weights
    run.extras["seed"] = payload.seed
    session = Session(label="ray worker", snapshot_weights=True)
    session.add(run)
    LEDGER.record(run).steps = list(payload.steps)
    return run


def _use_backend(payload: TrialPayload) -> None:
    """Train on the driver's Keras backend, with TensorFlow's thread pools sized to the trial's CPUs (several trials
    share a node's cores); both only before Keras and TensorFlow start in this worker."""
    if "keras" not in sys.modules:
        os.environ["KERAS_BACKEND"] = payload.backend
    if payload.backend == "tensorflow":
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(payload.threads)
            tf.config.threading.set_inter_op_parallelism_threads(payload.threads)
        except RuntimeError:  # TensorFlow already started in this (reused) worker: its pools stay as they are
            pass


class EpochReporter:
    """A Session listener that reports each recorded epoch to Tune (epoch level only: it runs in the Recorder's
    ``on_epoch_end``). The report holds the epoch's logs at the top level (for Tune's schedulers and searchers) and,
    under :data:`REPORT_KEY`, the fold, the epoch and the epochs asked, its wall time and learning rate, and
    ``last``; the last epoch of a fit carries the checkpoint."""

    def __init__(self, metric: str | None = None) -> None:
        self.metric = metric
        self.fold = 0
        self.ended = False
        self.failure: BaseException | None = None

    def __call__(self, event: str, run: Run) -> None:
        if event == "begin":
            self.ended = False
        if event != "epoch":
            return
        model = run.keras_model
        last = bool(getattr(model, "stop_training", False)) or run.epochs[-1] + 1 >= run.fit.epochs
        try:
            self._report(run, last, model.get_weights() if last else None)
        except Exception as exc:  # the Session would drop the listener silently: fail the trial after the fit
            self.failure = exc
            raise

    def report_end(self, run: Run) -> None:
        """Report how a fit that ended without a last epoch's report ended (an error), with its record."""
        weights = run.final_weights
        self._report(run, True, weights)

    def _report(self, run: Run, last: bool, weights: list | None) -> None:
        from ray import tune

        logs = {k: _number(v[-1]) for k, v in run.logs.items() if v}
        if self.metric:
            logs.setdefault(self.metric, math.nan)
        own = {
            "logs": logs,
            "fold": self.fold,
            "epoch": run.epochs[-1] if run.epochs else -1,
            "epochs": run.fit.epochs,
            "epoch_time": run.epoch_times[-1] if run.epoch_times else math.nan,
            "learning_rate": _number(run.learning_rates[-1]) if run.learning_rates else math.nan,
            "last": last,
        }
        if not last:
            tune.report({**logs, REPORT_KEY: own})
            return
        self.ended = True
        folder = tempfile.mkdtemp(prefix="stallmagic-trial-")
        try:
            with open(os.path.join(folder, RUN_FILE), "w") as f:
                json.dump(run.to_dict(), f)
            if weights is not None:
                np.savez(os.path.join(folder, WEIGHTS_FILE), *weights)
            tune.report({**logs, REPORT_KEY: own}, checkpoint=tune.Checkpoint.from_directory(folder))
        finally:  # Tune has copied the checkpoint into its storage by now
            shutil.rmtree(folder, ignore_errors=True)


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


def read_checkpoint(folder: str) -> tuple[Run, list | None]:
    """The Run and final weights a trial's checkpoint folder holds."""
    with open(os.path.join(folder, RUN_FILE)) as f:
        run = Run.from_dict(json.load(f))
    path = os.path.join(folder, WEIGHTS_FILE)
    weights = None
    if os.path.exists(path):
        with np.load(path) as data:
            weights = [data[f"arr_{i}"] for i in range(len(data.files))]
    return run, weights
