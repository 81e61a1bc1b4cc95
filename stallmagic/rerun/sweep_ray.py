"""The Ray Tune engine of :func:`~.sweep.sweep` (``engine="ray"``): each configuration is a Tune trial, on a local
Ray or on the cluster the user connected to, and the result is the same :class:`~.sweep.SweepResult`.

Why Ray Tune and not a pool of our own: trials then run wherever Ray has CPUs (one machine or a cluster, the same
code), the data go once into Ray's object store, and Tune's schedulers (ASHA: stop trials that fall behind) and
search algorithms (random, Optuna, ...) can take over from the plain grid.

* **Before anything trains** (:func:`trial_payload`, called by ``SweepResult.prepare``): Ray Tune must be installed,
  the model must rebuild from its Keras config in another process (no Lambda layer, a ``get_config`` for
  subclassed models, the rebuilt model's weights shaped like the run's), the data must be arrays, and everything a
  trial needs must pickle. Each refusal is one sentence that names the in-process engine.
* **Ray**: used as the user left it when ``ray.init(address=...)`` was called (a cluster, this process a driver on
  one of its nodes; Ray Client, ``ray://``, is refused: Tune would run the sweep in a remote actor); else started
  here, on this machine's CPUs, and left running for the next sweep (``ray.shutdown()`` stops it).
* **Trials** (:mod:`.ray_trial`): rebuild the model, train through the rerun engine, report every epoch.
* **Results**: a driver-side Tune callback (:class:`~.ray_collector.TrialCollector`) collects every report and
  each fit's checkpoint (its Run record and final weights) as they arrive, passes each report on to ``on_epoch``
  (:mod:`.sweep_progress`), and calls ``progress(done, total, row)`` as each trial ends. A Ray trial's Run,
  in ``SweepResult.runs``, holds its record (logs, epoch times, learning rates, how it ended) and
  ``run.final_weights`` (numpy arrays), but no live model: ``run.keras_model`` is ``None`` and it cannot be
  rerun; ``best_remedy()`` reruns the best configuration in process to keep it. A trial a scheduler stopped early
  is scored on the epochs it trained (``stopped_by == "scheduler"``; its Run keeps no weights).
* **Interrupts**: Ctrl-C (Tune catches it), or ``stop()`` from another thread, ends the running trials; finished
  ones are kept and ``stopped`` is set, as in process.

Imports Ray only inside functions: ``import stallmagic`` never imports it.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .._internal.text import safe_str
from ..record import Run
from ..remedies import RemedyError
from .ledger import LEDGER, root_of
from .plan import recorded_seed
from .ray_trial import TrialPayload, from_portable, portable, rebuild_model, trial
from .sweep_progress import EpochHook

#: Loggers whose INFO lines a sweep on Ray keeps out of the cell's output (see :func:`_quiet_tune`).
QUIET_LOGGERS = ("ray.tune", "ray.train", "optuna")

#: What every refusal ends with.
IN_PROCESS = "run this sweep in process instead (engine='process', the default)"


def require_ray() -> Any:
    """The ``ray`` module with Tune, or one sentence saying how to install it."""
    try:
        import ray
        import ray.tune  # Tune's own dependencies too (pandas, pyarrow, ...)
    except ImportError as exc:
        raise RemedyError(
            f"engine='ray' needs Ray Tune, which cannot be imported here ({safe_str(exc)}): "
            f"pip install 'stallmagic[ray]', or {IN_PROCESS}."
        ) from None
    return ray


# ---------------------------------------------------------------------- before anything trains


def trial_payload(
    run: Run, configs: list, grid: dict, folds: list | None, *, metric: str | None, threads: int = 1
) -> TrialPayload:
    """What every trial of a sweep of ``run`` receives; raises :class:`RemedyError` (one sentence naming the
    in-process engine) when the run cannot be trained in another process."""
    require_ray()
    import keras
    from ray import cloudpickle

    root = root_of(run)
    base = LEDGER.baseline(root)
    _require_arrays(base, root.label)
    config, custom = model_config(base.model, root.label, root.initial_weights)
    kind = base.optimizer_type
    if kind is not None and not kind.__module__.startswith("keras"):  # the user's optimizer class travels too
        custom[keras.saving.get_registered_name(kind)] = kind
    fit_call = detached_fit_call(root)
    payload = TrialPayload(
        record=root.to_dict(),
        model_config=config,
        custom_objects=custom,
        initial_weights=root.initial_weights,
        optimizer={"class_name": base.optimizer_class, "config": dict(base.optimizer_config)},
        compile=portable(base.compile),
        fit_call=fit_call,
        steps=list(LEDGER.record(run).steps),
        configs=configs,
        grid=grid,
        by_index=tuple(k for k, vs in grid.items() if not all(_plain(v) for v in vs)),
        folds=folds,
        seed=recorded_seed(root),
        backend=keras.backend.backend(),
        threads=threads,
        token=uuid.uuid4().hex,
        metric=metric,
    )
    try:
        from_portable(payload.compile, custom)  # the compile arguments rebuild from their configs
        cloudpickle.dumps(_without_arrays(vars(payload)))  # the data are arrays: checking them would copy them
    except Exception as exc:
        raise RemedyError(
            f"engine='ray' cannot send what {root.label} trains with to another process "
            f"({type(exc).__name__}: {safe_str(exc).rstrip('.')}); {IN_PROCESS}."
        ) from None
    return payload


def model_config(model: Any, label: str, initial_weights: list) -> tuple[dict, dict]:
    """The model's serialized config and the user's classes it names, checked by rebuilding it here: the rebuilt
    model's weights must have the run's starting weights' shapes."""
    import keras

    lambdas = [layer.name for layer in _all_layers(model) if isinstance(layer, keras.layers.Lambda)]
    if lambdas:
        raise RemedyError(
            f"engine='ray' cannot rebuild the model of {label} in another process: its Lambda layer "
            f"{lambdas[0]!r} is Python code that Keras does not serialize safely; {IN_PROCESS}."
        )
    custom = {
        keras.saving.get_registered_name(type(obj)): type(obj)
        for obj in [model, *_all_layers(model)]
        if not type(obj).__module__.startswith("keras")
    }
    try:
        config = keras.saving.serialize_keras_object(model)
        clone = rebuild_model(config, custom)
        shapes = [tuple(w.shape) for w in clone.weights]
    except Exception as exc:  # NotImplementedError: a subclassed model without get_config
        raise RemedyError(
            f"engine='ray' cannot rebuild the model of {label} in another process from its Keras config "
            f"({type(exc).__name__}: {safe_str(exc, limit=160).rstrip('.')}; a subclassed model needs get_config "
            f"and from_config); {IN_PROCESS}."
        ) from None
    if shapes != [_shape(w) for w in initial_weights]:
        raise RemedyError(
            f"engine='ray' rebuilt the model of {label} from its Keras config with other weights than it trains "
            f"({len(shapes)} vs {len(initial_weights)} arrays; a subclassed model whose get_config misses "
            f"arguments?); {IN_PROCESS}."
        )
    return config, custom


def _shape(array: Any) -> tuple:
    return tuple(getattr(array, "shape", ()))


def _without_arrays(value: Any) -> Any:
    """``value`` with every numpy array in its dicts, lists and tuples replaced by ``None``."""
    if isinstance(value, np.ndarray):
        return None
    if isinstance(value, dict):
        return {k: _without_arrays(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_without_arrays(v) for v in value]
    return value


def detached_fit_call(root: Run) -> dict:
    """The original fit call with each callback copied without its model (Keras set ``callback.model`` during the
    fit; a trial's rerun gives its own model to fresh copies)."""
    call = root.fit_call or {}
    kwargs = dict(call.get("kwargs", {}))
    callbacks = kwargs.get("callbacks")
    if callbacks is not None:
        items = getattr(callbacks, "callbacks", callbacks)
        items = list(items) if isinstance(items, (list, tuple)) else [items]
        detached = []
        for cb in items:
            cb = copy.copy(cb)
            if hasattr(cb, "_model"):
                cb._model = None
            detached.append(cb)
        kwargs["callbacks"] = detached
    return {"args": tuple(call.get("args", ())), "kwargs": kwargs}


def _require_arrays(base: Any, label: str) -> None:
    from ..capture.snapshot import data_kind

    for key in ("x", "validation_data"):
        value = base.fit.get(key)
        kind = data_kind(value) if value is not None else None
        if key == "validation_data" and value is not None and isinstance(value, (list, tuple)):
            continue
        if kind not in (None, "arrays"):
            raise RemedyError(
                f"engine='ray' sends the data to Ray's object store as arrays, but {label} reads its "
                f"{'training' if key == 'x' else 'validation'} data from a {kind} input; {IN_PROCESS}."
            )


def _all_layers(model: Any) -> list:
    out = []
    for layer in getattr(model, "layers", []):
        out.append(layer)
        out.extend(_all_layers(layer))
    return out


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


# ---------------------------------------------------------------------- running


def ensure_ray(ray: Any) -> None:
    """Start a local Ray on this machine's CPUs unless the user already connected to one (``ray.init(address=...)``).
    Its workers import the stallmagic this process imported (an installed package, or a source checkout)."""
    if ray.is_initialized():
        return
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH", "")) if p)
    ray.init(
        include_dashboard=False,
        logging_level=logging.WARNING,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": path}},
    )


def run_on_ray(
    result: Any,
    *,
    progress: Callable[[int, int, dict], Any] | None,
    on_epoch: EpochHook | None = None,
    scheduler: Any = None,
    search_alg: Any = None,
    num_samples: int | None = None,
    storage_path: str | None = None,
) -> Any:
    """Train ``result``'s configurations as Tune trials and fill its rows and runs (see the module docstring)."""
    ray = require_ray()
    from ray import tune

    from .ray_collector import StopAll, TrialCollector

    if ray.util.client.ray.is_connected():
        raise RemedyError(
            "engine='ray' needs this process to be a Ray driver, but it is connected through Ray Client (ray://...), "
            "where Tune runs the sweep in a remote actor that cannot fill this SweepResult; connect with "
            "ray.init(address='auto') on a node of the cluster (or '<head-ip>:6379'), or "
            f"{IN_PROCESS}."
        )
    ensure_ray(ray)
    payload: TrialPayload = result._payload
    searching = search_alg is not None
    if searching:
        space = {
            key: tune.choice(list(range(len(vs))) if key in payload.by_index else list(vs))
            for key, vs in payload.grid.items()
        }
        samples = int(num_samples or result.total)
        result.total = samples
    else:
        space = {"config": tune.grid_search(list(range(len(payload.configs))))}
        samples = 1
    collector = TrialCollector(result, payload, progress, on_epoch)
    own_metric = any(getattr(obj, "_metric", None) for obj in (scheduler, search_alg) if obj is not None)
    scratch = None if storage_path else tempfile.mkdtemp(prefix="stallmagic-ray-")
    tuner = tune.Tuner(
        tune.with_resources(tune.with_parameters(trial, payload=payload), {"cpu": payload.threads}),
        param_space=space,
        tune_config=tune.TuneConfig(
            metric=None if own_metric else result.metric,
            mode=None if own_metric else ("max" if result.higher_is_better else "min"),
            scheduler=scheduler,
            search_alg=search_alg,
            num_samples=samples,
            reuse_actors=True,
        ),
        run_config=tune.RunConfig(
            name=f"stallmagic-sweep-{int(time.time())}",
            storage_path=storage_path or scratch,
            verbose=0,
            callbacks=[collector],
            stop=StopAll(result),
        ),
    )
    try:
        with _quiet_tune():
            tuner.fit()
    except KeyboardInterrupt:
        result._stop = True
    finally:
        if scratch is not None:
            import shutil

            shutil.rmtree(scratch, ignore_errors=True)
    collector.finish()
    return result


@contextlib.contextmanager
def _quiet_tune() -> Iterator[None]:
    """Tune's older console output for the duration of the fit, which ``verbose=0`` silences entirely (the newer one
    prints its experiment table whatever the verbosity), and no INFO lines from Tune or Optuna (where Tune wrote its
    result files, "a new study created in memory"): the notebook shows the sweep's own progress instead. Warnings
    and errors still show; the loggers' levels are put back after."""
    before = os.environ.get("RAY_AIR_NEW_OUTPUT")
    os.environ["RAY_AIR_NEW_OUTPUT"] = "0"
    loggers = [logging.getLogger(name) for name in QUIET_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)
        if before is None:
            os.environ.pop("RAY_AIR_NEW_OUTPUT", None)
        else:
            os.environ["RAY_AIR_NEW_OUTPUT"] = before
