"""Specs that change an argument of ``fit``: class weights, the two monitor callbacks (early stopping, reducing the
learning rate on plateaus), the batch size and the number of epochs."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from ..._internal.numbers import as_code
from ...diagnosis.signals.metric_choice import is_loss_like
from ...record import Run
from ..checks import check_number
from ..plateaus import best_epoch, early_stop_epoch, first_reduction_epoch
from ..remedy import Remedy, RemedyError, Spec, register
from .availability import monitor_check
from .keras_code import callback_code


def per_step_reason(output_shape: list | None) -> str | None:
    """Why Keras's ``class_weight`` does not fit a model that predicts a label per step or per position.

    Keras turns ``class_weight`` into one weight per row from one label per row (an argmax over the last axis);
    with an output of shape (rows, steps, classes) that reads the steps as classes, or fails."""
    if output_shape is not None and len(output_shape) > 2:
        shape = "(" + ", ".join("rows" if i == 0 else str(d) for i, d in enumerate(output_shape)) + ")"
        return (
            f"The model predicts a label per step or position (output shape {shape}), and Keras's class_weight "
            "weighs one label per row; weigh the steps with a sample_weight of shape (rows, steps) instead."
        )
    return None


@register
class ClassWeight(Spec):
    code = "class_weight"
    title = "Balanced class weights"
    defaults: ClassVar[dict] = {"class_weight": None}

    def validate(self, params: dict) -> None:
        cw = params.get("class_weight")
        if cw is None:
            return
        if not isinstance(cw, Mapping) or not cw:
            raise RemedyError(
                f"The 'class_weight' parameter of the 'class_weight' remedy must be a dict class -> weight. "
                f"Got {cw!r} instead."
            )
        for key, weight in cw.items():
            check_number(self.code, f"class_weight[{key!r}]", weight, low=0.0, low_open=True)

    def unavailable(self, remedy: Remedy, run: Run | None) -> str | None:
        if run is None:
            return None
        if run.fit.sample_weight:
            return "The fit already passes sample_weight, and Keras refuses class_weight together with it."
        if run.fit.data_kind in ("generator", "dataloader"):
            return f"Keras does not accept class_weight with a {run.fit.data_kind} input."
        if run.fit.class_weight:
            return "The fit already passes class_weight."
        return per_step_reason(run.model.output_shape if run.model is not None else None)

    def _weights_text(self, remedy: Remedy) -> str:
        cw = remedy.params.get("class_weight")
        if not cw:
            return ""
        items = list(cw.items())
        shown = ", ".join(f"{k}: {as_code(float(v))}" for k, v in items[:6])
        return "{" + shown + (", ..." if len(items) > 6 else "") + "}"

    def describe(self, remedy: Remedy) -> str:
        weights = self._weights_text(remedy)
        return (
            "Weights each class's loss by n_samples / (n_classes x its count) (scikit-learn's 'balanced'), so "
            "mistakes on the rare classes cost as much in total as on the common one"
            + (f": {weights}." if weights else ".")
        )

    def _literal(self, remedy: Remedy) -> str:
        cw = remedy.params.get("class_weight")
        if not cw:
            return "dict(enumerate(compute_class_weight('balanced', classes=np.unique(y_train), y=y_train)))"
        return "{" + ", ".join(f"{k!r}: {as_code(float(v))}" for k, v in cw.items()) + "}"

    def as_code(self, remedy: Remedy) -> str:
        model = remedy.context.get("model_var", "model")
        return (
            "# balanced: n_samples / (n_classes * np.bincount(y_train)), as sklearn.utils.class_weight."
            "compute_class_weight\n"
            f"{model}.fit(..., class_weight={self._literal(remedy)})"
        )

    def apply(self, plan: Any, remedy: Remedy) -> None:
        from ..arrays import balanced_class_weight

        if plan.fit.get("sample_weight") is not None:
            raise RemedyError("Keras refuses class_weight together with sample_weight, and this fit passes both.")
        if plan.data_kind in ("generator", "dataloader"):
            raise RemedyError(f"Keras does not accept class_weight with a {plan.data_kind} input.")
        outputs = getattr(plan.baseline.model, "outputs", None)
        if plan.style != "subclassed" and outputs is not None and len(outputs) > 1:
            raise RemedyError("Keras accepts class_weight only for models with a single output.")
        reason = per_step_reason(plan.run.model.output_shape if plan.run.model is not None else None)
        if reason:
            raise RemedyError(reason)
        cw = remedy.params.get("class_weight")
        if cw is None:
            plan.require_arrays("Computing balanced class weights")
            cw = balanced_class_weight(plan.training_arrays()[1])
        plan.fit["class_weight"] = {int(k) if isinstance(k, (int, np.integer)) else k: float(v) for k, v in cw.items()}

    def rewrite(self, editor: Any, remedy: Remedy) -> None:
        editor.set_fit_kwarg("class_weight", self._literal(remedy), value_name="class_weight")


# ---------------------------------------------------------------------- callbacks that watch a metric


class MonitorCallbackSpec(Spec):
    """A remedy that adds one Keras callback watching a metric (``monitor``) to the fit.

    Keras serves :class:`keras.callbacks.EarlyStopping` and :class:`keras.callbacks.ReduceLROnPlateau` from one
    ``MonitorCallback`` base; likewise these specs share everything but the callback's own arguments: the check
    that a ``val_`` metric has validation data to come from, the code (``model.fit(..., callbacks=[...])``), the
    rerun (the callback replaces one of the same class the fit already passes) and the cell rewrite.

    Subclasses set ``callback`` (the Keras class name), ``keys`` (the parameters written as code, in order) and
    :meth:`keras_arguments`.
    """

    callback: str = ""
    keys: tuple = ()

    def unavailable(self, remedy: Remedy, run: Run | None) -> str | None:
        return monitor_check(run, remedy.params["monitor"]) or self.idle_reason(remedy, run)

    def idle_reason(self, remedy: Remedy, run: Run | None) -> str | None:
        """Why the callback would not act on this run (a rerun would retrace it exactly), or ``None``.

        Read from the baseline's own curve of the monitored metric (see :mod:`..plateaus`); only for a fit that
        ran its epochs to the end, which a rerun from the same weights repeats until the callback first acts."""
        monitor = remedy.params["monitor"]
        if run is None or run.end != "completed" or not run.logs:
            return None
        values = run.logs.get(monitor)
        if not values:
            return f"This run logged no {monitor!r}, so the callback would have nothing to watch."
        if self.acts(remedy, [float(v) for v in values], minimize=is_loss_like(monitor.removeprefix("val_"))):
            return None
        return (
            f"Replayed on this run's {monitor} ({len(values)} epochs), {self.callback} with patience "
            f"{remedy.params['patience']} would not have acted, so a rerun would train exactly as this one did; "
            "a longer training (more epochs) is where it can help."
        )

    def acts(self, remedy: Remedy, values: list[float], *, minimize: bool) -> bool:
        """Whether the callback would change the training on a run whose monitored curve is ``values``."""
        raise NotImplementedError

    def code_params(self, remedy: Remedy) -> Mapping[str, Any]:
        """The parameters as the code writes them (``None`` leaves an argument out)."""
        return remedy.params

    def keras_arguments(self, params: Mapping[str, Any]) -> dict:
        """The keyword arguments of the Keras callback for these parameters."""
        raise NotImplementedError

    def callback_code(self, remedy: Remedy, keras: str = "keras") -> str:
        return callback_code(self.callback, self.code_params(remedy), self.keys, keras)

    def as_code(self, remedy: Remedy) -> str:
        return f"{remedy.context.get('model_var', 'model')}.fit(..., callbacks=[{self.callback_code(remedy)}])"

    def apply(self, plan: Any, remedy: Remedy) -> None:
        import keras

        p = remedy.params
        if p["monitor"].startswith("val_") and not (
            plan.fit.get("validation_data") or plan.fit.get("validation_split")
        ):
            raise RemedyError(f"The fit has no validation data, so there is no {p['monitor']} to monitor.")
        make = getattr(keras.callbacks, self.callback)
        plan.add_callback(make(**self.keras_arguments(p)), replaces=self.callback)

    def rewrite(self, editor: Any, remedy: Remedy) -> None:
        editor.add_fit_callback(self.callback_code(remedy, editor.keras), replaces=self.callback)


@register
class EarlyStopping(MonitorCallbackSpec):
    code = "early_stopping"
    title = "Early stopping"
    defaults: ClassVar[dict] = {"monitor": "val_loss", "patience": 5, "restore_best_weights": True, "min_delta": 0.0}
    callback = "EarlyStopping"
    keys = ("monitor", "patience", "min_delta", "restore_best_weights")

    def validate(self, params: dict) -> None:
        check_number(self.code, "patience", params.get("patience"), kind=int, low=1)
        check_number(self.code, "min_delta", params.get("min_delta"), low=0.0)
        if not isinstance(params.get("monitor"), str) or not params["monitor"]:
            raise RemedyError(
                f"The 'monitor' parameter of the 'early_stopping' remedy must be a metric name such as "
                f"'val_loss'. Got {params.get('monitor')!r} instead."
            )

    def describe(self, remedy: Remedy) -> str:
        p = remedy.params
        text = f"Stops training once {p['monitor']} has not improved for {p['patience']} epochs"
        if p.get("restore_best_weights"):
            text += " and puts back the weights of its best epoch, so the model you keep is the one that "
            text += "validated best, not the last one"
        return text + "."

    def acts(self, remedy: Remedy, values: list[float], *, minimize: bool) -> bool:
        """It stops before the last epoch, or (keeping the best weights) ends on other weights than the last."""
        p = remedy.params
        delta = float(p.get("min_delta") or 0.0)
        stop = early_stop_epoch(values, patience=int(p["patience"]), min_delta=delta, minimize=minimize)
        if stop is not None and stop < len(values) - 1:
            return True
        best = best_epoch(values, min_delta=delta, minimize=minimize)
        return bool(p.get("restore_best_weights")) and best is not None and best != len(values) - 1

    def code_params(self, remedy: Remedy) -> Mapping[str, Any]:
        """``min_delta=0.0`` is Keras's default: the code leaves it out."""
        return {**remedy.params, "min_delta": remedy.params.get("min_delta") or None}

    def keras_arguments(self, params: Mapping[str, Any]) -> dict:
        return {
            "monitor": params["monitor"],
            "patience": int(params["patience"]),
            "min_delta": float(params.get("min_delta") or 0.0),
            "restore_best_weights": bool(params.get("restore_best_weights", True)),
        }


@register
class ReduceLROnPlateau(MonitorCallbackSpec):
    code = "reduce_lr_on_plateau"
    title = "Reduce the learning rate on plateaus"
    defaults: ClassVar[dict] = {"monitor": "val_loss", "factor": 0.5, "patience": 3, "min_lr": 1e-6}
    callback = "ReduceLROnPlateau"
    keys = ("monitor", "factor", "patience", "min_lr")

    def validate(self, params: dict) -> None:
        check_number(self.code, "factor", params.get("factor"), low=0.0, high=1.0, low_open=True)
        check_number(self.code, "patience", params.get("patience"), kind=int, low=1)
        check_number(self.code, "min_lr", params.get("min_lr"), low=0.0)

    def describe(self, remedy: Remedy) -> str:
        p = remedy.params
        return (
            f"Multiplies the learning rate by {as_code(p['factor'])} whenever {p['monitor']} has not improved for "
            f"{p['patience']} epochs (down to {as_code(p['min_lr'])}): big steps early, fine steps once progress "
            "stalls."
        )

    def acts(self, remedy: Remedy, values: list[float], *, minimize: bool) -> bool:
        """It lowers the rate at the end of an epoch that is not the last (a later epoch trains at the new rate)."""
        at = first_reduction_epoch(values, patience=int(remedy.params["patience"]), minimize=minimize)
        return at is not None and at < len(values) - 1

    def keras_arguments(self, params: Mapping[str, Any]) -> dict:
        return {
            "monitor": params["monitor"],
            "factor": float(params["factor"]),
            "patience": int(params["patience"]),
            "min_lr": float(params["min_lr"]),
        }


# ---------------------------------------------------------------------- how long and in what batches


@register
class BatchSize(Spec):
    code = "batch_size"
    title = "Change the batch size"
    defaults: ClassVar[dict] = {"batch_size": 32}

    def validate(self, params: dict) -> None:
        check_number(self.code, "batch_size", params.get("batch_size"), kind=int, low=1)

    def unavailable(self, remedy: Remedy, run: Run | None) -> str | None:
        if run is not None and run.fit.data_kind != "arrays":
            return f"The batches come from the {run.fit.data_kind} input itself; rebatch it there."
        return None

    def describe(self, remedy: Remedy) -> str:
        bs = int(remedy.params["batch_size"])
        n, old = remedy.context.get("n_train"), remedy.context.get("batch_size")
        text = f"Trains with batches of {bs} rows"
        if n:
            text += f": {math.ceil(n / bs)} updates per epoch"
            if old:
                text += f" instead of {math.ceil(n / old)}"
        if old and bs < old:
            return text + ", many more (slightly noisier) steps for the same epochs."
        return text + ", steadier gradient estimates than tiny batches."

    def as_code(self, remedy: Remedy) -> str:
        return f"{remedy.context.get('model_var', 'model')}.fit(..., batch_size={int(remedy.params['batch_size'])})"

    def apply(self, plan: Any, remedy: Remedy) -> None:
        plan.require_arrays("Changing the batch size")
        plan.fit["batch_size"] = int(remedy.params["batch_size"])
        plan.fit.pop("steps_per_epoch", None)

    def rewrite(self, editor: Any, remedy: Remedy) -> None:
        editor.set_fit_kwarg("batch_size", str(int(remedy.params["batch_size"])), value_name="batch_size")


@register
class Epochs(Spec):
    code = "epochs"
    title = "Train longer"
    defaults: ClassVar[dict] = {"epochs": None}

    def validate(self, params: dict) -> None:
        check_number(self.code, "epochs", params.get("epochs"), kind=int, low=1)

    def describe(self, remedy: Remedy) -> str:
        old = remedy.context.get("epochs")
        return (
            f"Trains for {int(remedy.params['epochs'])} epochs"
            + (f" instead of {old}" if old else "")
            + ": the loss was still falling when training stopped."
        )

    def as_code(self, remedy: Remedy) -> str:
        return f"{remedy.context.get('model_var', 'model')}.fit(..., epochs={int(remedy.params['epochs'])})"

    def apply(self, plan: Any, remedy: Remedy) -> None:
        epochs = int(remedy.params["epochs"])
        if epochs <= int(plan.fit.get("initial_epoch") or 0):
            raise RemedyError(f"epochs={epochs} is not beyond initial_epoch={plan.fit.get('initial_epoch')}.")
        plan.fit["epochs"] = epochs

    def rewrite(self, editor: Any, remedy: Remedy) -> None:
        editor.set_fit_kwarg("epochs", str(int(remedy.params["epochs"])), value_name="epochs")
