"""Carry out a :class:`~.plan.Plan`'s training side: fresh callbacks, a fresh optimizer, the compile call, and the
in-place optimizer reset that lets a rerun reuse an already traced train function.

Nothing the user holds is reused with its state: callbacks are copied or constructed anew, optimizers are built
from the configuration recorded at the start of the original fit, metric objects are rebuilt from their
configuration. Keras is imported inside the functions that need it.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Mapping
from typing import Any

import numpy as np

from .._internal.keras_names import LOSS_CLASSES
from .._internal.text import safe_str
from ..remedies.remedy import RemedyError
from .file_callbacks import redirected, writes_files
from .plan import Plan

#: The arguments ``model.compile`` takes besides the optimizer (anything else in a compile config is dropped).
_COMPILE_PARAMS = ("loss", "loss_weights", "metrics", "weighted_metrics", "run_eagerly", "steps_per_execution",
                   "jit_compile", "auto_scale_loss")  # fmt: skip

# ---------------------------------------------------------------------- callbacks


def fresh_callbacks(plan: Plan, model: Any, tag: str | None = None) -> list:
    """The user's callbacks for the rerun: fresh objects, never the ones the user holds (whose state after the
    original fit stays as it was).

    * Keras's own callbacks are deep-copied (model, optimizer and data shared, not copied); they reset themselves
      in ``on_train_begin`` (EarlyStopping, ReduceLROnPlateau, LearningRateScheduler, ...).
    * A user-defined callback is constructed anew, ``type(cb)(**args)``, when every argument of its ``__init__``
      can be read back from an attribute of the same name (``self.patience = patience``), which gives it the state
      of a new object. Otherwise it is deep-copied like Keras's, state included, and the rerun's notes say so.
    * Callbacks that write files (TensorBoard, CSVLogger, ModelCheckpoint, BackupAndRestore) run again on paths
      of their own next to the user's, named with ``tag`` (:mod:`.file_callbacks`), so a rerun never overwrites
      the user's checkpoints or logs; without a tag they are left out. The notes say which.
    """
    out = []
    shared = _shared_memo(plan, model)
    for cb in plan.user_callbacks():
        name = type(cb).__name__
        if writes_files(cb):
            moved, note = redirected(cb, tag) if tag else (None, f"Your {name} was not run again: it wrote no files.")
            plan.notes.append(note)
            if moved is not None:
                out.append(moved)
            continue
        if name in ("History", "ProgbarLogger", "Recorder"):
            continue  # fit makes its own; the Recorder is stallmagic's
        fresh = None if type(cb).__module__.startswith("keras") else _new_instance(cb)
        if fresh is None:
            try:
                fresh = copy.deepcopy(cb, dict(shared))
            except Exception:
                fresh = copy.copy(cb)
                plan.notes.append(f"Your {name} could not be copied deeply; a shallow copy ran again.")
            if not type(cb).__module__.startswith("keras"):
                plan.notes.append(
                    f"Your {name} ran again as a copy with its state from the original fit (its __init__ arguments "
                    "could not be read back); reset that state in on_train_begin if it matters."
                )
        out.append(fresh)
    return out + list(plan.callbacks)


def _new_instance(cb: Any) -> Any:
    """``type(cb)(**args)`` with each ``__init__`` argument read from ``cb``'s attribute of the same name, or None."""
    cls = type(cb)
    try:
        params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    except (TypeError, ValueError):
        return None
    args: dict = {}
    for param in params:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if param.kind == param.POSITIONAL_ONLY or not hasattr(cb, param.name):
            return None
        args[param.name] = getattr(cb, param.name)
    try:
        return cls(**args)
    except Exception:
        return None


def _shared_memo(plan: Plan, model: Any) -> dict:
    """A ``deepcopy`` memo that maps the model, the optimizer and the data to themselves: a copied callback must
    act on the model being trained and must not copy the training arrays (memory)."""
    memo: dict = {}
    keep = [model, plan.baseline.model, getattr(plan.baseline.model, "optimizer", None)]
    for key in ("x", "y", "validation_data", "sample_weight"):
        keep.append(plan.fit.get(key))
        keep.append(plan.baseline.fit.get(key))
    for obj in keep:
        if obj is not None:
            memo[id(obj)] = obj
            if isinstance(obj, (list, tuple)):
                for item in obj:
                    memo[id(item)] = item
    return memo


# ---------------------------------------------------------------------- compile


def build_optimizer(plan: Plan) -> Any:
    """A fresh optimizer from the plan's class and configuration (no state carried over)."""
    import keras

    config = {k: v for k, v in plan.optimizer_config.items() if v is not None}
    errors = []
    base_type = plan.baseline.optimizer_type
    candidates = []
    if base_type is not None and base_type.__name__ == plan.optimizer_class:
        candidates.append(lambda: base_type.from_config(config))
    candidates.append(lambda: keras.optimizers.get({"class_name": plan.optimizer_class, "config": config}))
    for make in candidates:
        try:
            return make()
        except Exception as exc:  # try the next way, then report all
            errors.append(f"{type(exc).__name__}: {safe_str(exc)}")
    raise RemedyError(
        f"Could not build a fresh {plan.optimizer_class} optimizer from its recorded configuration "
        f"({'; '.join(errors)})."
    )


def build_loss(loss: Any) -> Any:
    """A loss from the plan: a ``{"name": ..., "from_logits": ...}`` dict becomes a Keras loss object."""
    if isinstance(loss, Mapping) and "name" in loss:
        import keras

        name = loss["name"]
        cls_name = LOSS_CLASSES.get(name)
        if cls_name is None:
            return name
        return getattr(keras.losses, cls_name)(from_logits=bool(loss.get("from_logits", False)))
    return loss


def fresh_metrics(metrics: Any) -> Any:
    """Metric objects rebuilt from their configuration (strings stay strings), so no state is shared."""
    if metrics is None or isinstance(metrics, str):
        return metrics
    if isinstance(metrics, Mapping):
        return {k: fresh_metrics(v) for k, v in metrics.items()}
    if isinstance(metrics, (list, tuple)):
        return type(metrics)(fresh_metrics(m) for m in metrics)
    get_config = getattr(metrics, "get_config", None)
    if callable(get_config):
        try:
            return type(metrics).from_config(get_config())
        except Exception:
            return metrics
    return metrics


def compile_model(model: Any, plan: Plan, *, optimizer: Any = None) -> Any:
    """Compile ``model`` with a fresh optimizer (or ``optimizer``) and the plan's loss and metrics."""
    args = dict(plan.compile)
    args["loss"] = build_loss(args.get("loss"))
    args["metrics"] = fresh_metrics(args.get("metrics"))
    args["weighted_metrics"] = fresh_metrics(args.get("weighted_metrics"))
    args = {k: v for k, v in args.items() if k in _COMPILE_PARAMS}
    optimizer = optimizer if optimizer is not None else build_optimizer(plan)
    model.compile(optimizer=optimizer, **args)
    return optimizer


def compile_key(plan: Plan) -> str:
    """What a compiled train function depends on besides the learning rate: optimizer class and settings, loss,
    metrics and the other compile arguments. Two plans with the same key can share one traced function."""
    config = {k: v for k, v in plan.optimizer_config.items() if k not in ("learning_rate", "name")}
    return repr((plan.optimizer_class, sorted(config.items(), key=lambda kv: kv[0]), sorted(plan.compile.items())))


def fresh_optimizer_state(plan: Plan, model: Any) -> list | None:
    """The variable values of a newly built optimizer of the plan's configuration for ``model`` (step count 0,
    zero or initial moments, the plan's learning rate), or None if it cannot be built here."""
    fresh = build_optimizer(plan)
    try:
        fresh.build(model.trainable_variables)
        return [np.asarray(v.numpy() if hasattr(v, "numpy") else v) for v in fresh.variables]
    except Exception:
        return None


def reset_optimizer(optimizer: Any, state: list | None, plan: Plan) -> bool:
    """Give ``optimizer`` the state ``state`` of a newly built one (see :func:`fresh_optimizer_state`), in place,
    with the plan's learning rate, so the model's traced train function can be used again. False if it cannot."""
    old = list(optimizer.variables)
    if state is None or len(old) != len(state) or any(tuple(a.shape) != b.shape for a, b in zip(old, state)):
        return False
    for variable, value in zip(old, state):
        variable.assign(value)
    lr = plan.learning_rate()
    if lr is not None and not isinstance(plan.optimizer_config.get("learning_rate"), Mapping):
        try:
            optimizer.learning_rate = lr
        except Exception:
            return False
    return True
