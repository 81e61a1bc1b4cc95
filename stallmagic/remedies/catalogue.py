"""The catalogue: one small :class:`~stallmagic.remedies.remedy.Spec` per remedy code.

Each spec says in one sentence what its change does and why it helps (``describe``), writes the code a user keeps
(``as_code``), changes a rerun's :class:`~stallmagic.rerun.apply.Plan` (``apply``), writes itself into a cell
(``rewrite``, through :class:`~stallmagic.remedies.source.CellEditor`), and says from the run's records alone why
it does not apply (``unavailable``; pure, so :func:`~stallmagic.remedies.suggest` runs without Keras).

``as_code`` writes ``...`` for the arguments of ``fit`` that stay as they are, and the model's variable as
``model`` unless the remedy's context names it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from ..record import Run
from .remedy import Remedy, RemedyError, Spec, check_choice, check_number, register

OPTIMIZERS = ("Adam", "AdamW", "SGD", "RMSprop", "Nadam")


# ---------------------------------------------------------------------- shared helpers


def fmt(value: float) -> str:
    """A number as code: ``0.001``, ``1e-05``, ``0.5``; 4 significant digits."""
    if value == 0:
        return "0.0"
    text = f"{value:.4g}"
    return text if ("." in text or "e" in text) else text + ".0"


def context_of(run: Run | None) -> dict:
    """What words and code need to know about a run (pure: read from its records)."""
    if run is None:
        return {}
    ctx: dict[str, Any] = {"model_var": "model"}
    fit = run.fit
    ctx.update(
        epochs=fit.epochs,
        batch_size=fit.batch_size,
        n_train=fit.n_train,
        validation=fit.validation,
        validation_split=fit.validation_split,
        data_kind=fit.data_kind,
        steps_per_epoch=fit.steps_per_epoch,
    )
    model = run.model
    if model is not None:
        config = model.optimizer.get("config", {}) or {}
        lr = config.get("learning_rate")
        ctx.update(
            style=model.style,
            optimizer=model.optimizer_name,
            learning_rate=float(lr) if isinstance(lr, (int, float)) else None,
            momentum=config.get("momentum"),
            nesterov=config.get("nesterov"),
            loss=model.loss.name,
            from_logits=bool(model.loss.from_logits),
            metrics=list(model.metrics),
            output_activation=model.output_activation,
            output_units=model.output_units,
            params=model.trainable_params,
        )
    return ctx


def loss_code(name: str | None, from_logits: bool, keras: str = "keras") -> str:
    from ..rerun.apply import LOSS_CLASSES

    if name is None:
        return "..."
    if from_logits and name in LOSS_CLASSES:
        return f"{keras}.losses.{LOSS_CLASSES[name]}(from_logits=True)"
    return repr(name).replace("'", '"')


def compile_rest(ctx: Mapping[str, Any], *, loss: str | None = None, keras: str = "keras") -> str:
    """``loss=..., metrics=[...]`` for a compile call written out in full."""
    parts = [f"loss={loss or loss_code(ctx.get('loss'), bool(ctx.get('from_logits')), keras)}"]
    metrics = ctx.get("metrics")
    if metrics:
        parts.append("metrics=[" + ", ".join(f'"{m}"' for m in metrics) + "]")
    return ", ".join(parts)


def optimizer_code(name: str, config: Mapping[str, Any], keras: str = "keras") -> str:
    args = []
    order = ("learning_rate", "momentum", "nesterov", "weight_decay", "clipnorm")
    for key in order:
        value = config.get(key)
        if value is None or value is False or (key == "momentum" and not value):
            continue
        args.append(f"{key}={value!r}" if isinstance(value, bool) else f"{key}={fmt(float(value))}")
    return f"{keras}.optimizers.{name}({', '.join(args)})"


def _lr_from_context(remedy: Remedy) -> float | None:
    lr = remedy.context.get("learning_rate")
    return float(lr) if isinstance(lr, (int, float)) else None


def _has_validation(run: Run | None) -> bool:
    return run is None or run.fit.validation != "none"


def _needs_arrays(run: Run | None, what: str) -> str | None:
    if run is not None and run.fit.data_kind != "arrays":
        return (
            f"{what} needs the training data as arrays, but this fit reads a {run.fit.data_kind} input; make the "
            "change where the pipeline is built."
        )
    return None


def _rebuild_reason(run: Run | None, what: str) -> str | None:
    if run is not None and run.model is not None and run.model.style == "subclassed":
        return (
            f"{what} needs new or resized layers, and a subclassed model creates its layers in its own __init__, "
            "so only its code can change them (see the remedy's code)."
        )
    return None


def _monitor_check(run: Run | None, monitor: str) -> str | None:
    if monitor.startswith("val_") and not _has_validation(run):
        return f"The fit has no validation data, so there is no {monitor} to monitor."
    return None


def _callback_code(name: str, params: Mapping[str, Any], keys: tuple, keras: str = "keras") -> str:
    args = []
    for key in keys:
        value = params.get(key)
        if value is None:
            continue
        if isinstance(value, str):
            args.append(f'{key}="{value}"')
        elif isinstance(value, (bool, int)):
            args.append(f"{key}={value!r}")
        else:
            args.append(f"{key}={fmt(float(value))}")
    return f"{keras}.callbacks.{name}({', '.join(args)})"


# ---------------------------------------------------------------------- fit arguments


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
        return None

    def _weights_text(self, remedy: Remedy) -> str:
        cw = remedy.params.get("class_weight")
        if not cw:
            return ""
        items = list(cw.items())
        shown = ", ".join(f"{k}: {fmt(float(v))}" for k, v in items[:6])
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
        return "{" + ", ".join(f"{k!r}: {fmt(float(v))}" for k, v in cw.items()) + "}"

    def as_code(self, remedy: Remedy) -> str:
        model = remedy.context.get("model_var", "model")
        return (
            "# balanced: n_samples / (n_classes * np.bincount(y_train)), as sklearn.utils.class_weight."
            "compute_class_weight\n"
            f"{model}.fit(..., class_weight={self._literal(remedy)})"
        )

    def apply(self, plan: Any, remedy: Remedy) -> None:
        from ..rerun.apply import balanced_class_weight

        if plan.fit.get("sample_weight") is not None:
            raise RemedyError("Keras refuses class_weight together with sample_weight, and this fit passes both.")
        if plan.data_kind in ("generator", "dataloader"):
            raise RemedyError(f"Keras does not accept class_weight with a {plan.data_kind} input.")
        outputs = getattr(plan.baseline.model, "outputs", None)
        if plan.style != "subclassed" and outputs is not None and len(outputs) > 1:
            raise RemedyError("Keras accepts class_weight only for models with a single output.")
        cw = remedy.params.get("class_weight")
        if cw is None:
            plan.require_arrays("Computing balanced class weights")
            cw = balanced_class_weight(plan.training_arrays()[1])
        plan.fit["class_weight"] = {int(k) if isinstance(k, (int, np.integer)) else k: float(v) for k, v in cw.items()}

    def rewrite(self, editor: Any, remedy: Remedy) -> None:
        editor.set_fit_kwarg("class_weight", self._literal(remedy), value_name="class_weight")


@register
class EarlyStopping(Spec):
    code = "early_stopping"
    title = "Early stopping"
    defaults: ClassVar[dict] = {"monitor": "val_loss", "patience": 5, "restore_best_weights": True, "min_delta": 0.0}
    keys = ("monitor", "patience", "min_delta", "restore_best_weights")

    def validate(self, params: dict) -> None:
        check_number(self.code, "patience", params.get("patience"), kind=int, low=1)
        check_number(self.code, "min_delta", params.get("min_delta"), low=0.0)
        if not isinstance(params.get("monitor"), str) or not params["monitor"]:
            raise RemedyError(
                f"The 'monitor' parameter of the 'early_stopping' remedy must be a metric name such as "
                f"'val_loss'. Got {params.get('monitor')!r} instead."
            )

    def unavailable(self, remedy: Remedy, run: Run | None) -> str | None:
        return _monitor_check(run, remedy.params["monitor"])

    def describe(self, remedy: Remedy) -> str:
        p = remedy.params
        text = f"Stops training once {p['monitor']} has not improved for {p['patience']} epochs"
        if p.get("restore_best_weights"):
            text += " and puts back the weights of its best epoch, so the model you keep is the one that "
            text += "validated best, not the last one"
        return text + "."

    def callback_code(self, remedy: Remedy, keras: str = "keras") -> str:
        params = {**remedy.params, "min_delta": remedy.params.get("min_delta") or None}
        return _callback_code("EarlyStopping", params, self.keys, keras)

    def as_code(self, remedy: Remedy) -> str:
        model = remedy.context.get("model_var", "model")
        return f"{model}.fit(..., callbacks=[{self.callback_code(remedy)}])"

    def apply(self, plan: Any, remedy: Remedy) -> None:
        import keras

        p = remedy.params
        if p["monitor"].startswith("val_") and not (
            plan.fit.get("validation_data") or plan.fit.get("validation_split")
        ):
            raise RemedyError(f"The fit has no validation data, so there is no {p['monitor']} to monitor.")
        plan.add_callback(
            keras.callbacks.EarlyStopping(
                monitor=p["monitor"],
                patience=int(p["patience"]),
                min_delta=float(p.get("min_delta") or 0.0),
                restore_best_weights=bool(p.get("restore_best_weights", True)),
            ),
            replaces="EarlyStopping",
        )

    def rewrite(self, editor: Any, remedy: Remedy) -> None:
        editor.add_fit_callback(self.callback_code(remedy, editor.keras), replaces="EarlyStopping")


@register
class ReduceLROnPlateau(Spec):
    code = "reduce_lr_on_plateau"
    title = "Reduce the learning rate on plateaus"
    defaults: ClassVar[dict] = {"monitor": "val_loss", "factor": 0.5, "patience": 3, "min_lr": 1e-6}
    keys = ("monitor", "factor", "patience", "min_lr")

    def validate(self, params: dict) -> None:
        check_number(self.code, "factor", params.get("factor"), low=0.0, high=1.0, low_open=True)
        check_number(self.code, "patience", params.get("patience"), kind=int, low=1)
        check_number(self.code, "min_lr", params.get("min_lr"), low=0.0)

    def unavailable(self, remedy: Remedy, run: Run | None) -> str | None:
        return _monitor_check(run, remedy.params["monitor"])

    def describe(self, remedy: Remedy) -> str:
        p = remedy.params
        return (
            f"Multiplies the learning rate by {fmt(p['factor'])} whenever {p['monitor']} has not improved for "
            f"{p['patience']} epochs (down to {fmt(p['min_lr'])}): big steps early, fine steps once progress stalls."
        )

    def callback_code(self, remedy: Remedy, keras: str = "keras") -> str:
        return _callback_code("ReduceLROnPlateau", remedy.params, self.keys, keras)

    def as_code(self, remedy: Remedy) -> str:
        return f"{remedy.context.get('model_var', 'model')}.fit(..., callbacks=[{self.callback_code(remedy)}])"

    def apply(self, plan: Any, remedy: Remedy) -> None:
        import keras

        p = remedy.params
        if p["monitor"].startswith("val_") and not (
            plan.fit.get("validation_data") or plan.fit.get("validation_split")
        ):
            raise RemedyError(f"The fit has no validation data, so there is no {p['monitor']} to monitor.")
        plan.add_callback(
            keras.callbacks.ReduceLROnPlateau(
                monitor=p["monitor"], factor=float(p["factor"]), patience=int(p["patience"]), min_lr=float(p["min_lr"])
            ),
            replaces="ReduceLROnPlateau",
        )

    def rewrite(self, editor: Any, remedy: Remedy) -> None:
        editor.add_fit_callback(self.callback_code(remedy, editor.keras), replaces="ReduceLROnPlateau")


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


# ---------------------------------------------------------------------- optimizer


@register
class LearningRate(Spec):
    code = "learning_rate"
    title = "Change the learning rate"
    defaults: ClassVar[dict] = {"learning_rate": None, "factor": None}

    def validate(self, params: dict) -> None:
        if params.get("learning_rate") is None and params.get("factor") is None:
            raise RemedyError(
                "The 'learning_rate' remedy needs a 'learning_rate' (the new rate) or a 'factor' (to scale the "
                "current one). Got neither."
            )
        check_number(self.code, "learning_rate", params.get("learning_rate"), low=0.0, low_open=True, optional=True)
        check_number(self.code, "factor", params.get("factor"), low=0.0, low_open=True, optional=True)

    def new_rate(self, remedy: Remedy, current: float | None) -> float | None:
        if remedy.params.get("learning_rate") is not None:
            return float(remedy.params["learning_rate"])
        return current * float(remedy.params["factor"]) if current is not None else None

    def headline(self, remedy: Remedy) -> str:
        if remedy.params.get("learning_rate") is not None:
            return f"Learning rate {fmt(float(remedy.params['learning_rate']))}"
        return f"Learning rate x{fmt(float(remedy.params['factor']))}"

    def describe(self, remedy: Remedy) -> str:
        old = _lr_from_context(remedy)
        new = self.new_rate(remedy, old)
        opt = remedy.context.get("optimizer") or "the optimizer"
        if new is None:
            return f"Scales {opt}'s learning rate by {fmt(remedy.params['factor'])}."
        text = f"Starts {opt} at learning rate {fmt(new)}"
        if old:
            text += f" instead of {fmt(old)}"
        if old and new < old:
            return text + ": smaller steps stop overshooting the minimum, so the loss can settle."
        if old and new > old:
            return text + ": larger steps get to a good minimum within the epochs you train."
        return text + "."

    def _optimizer(self, remedy: Remedy, keras: str = "keras") -> str:
        ctx = remedy.context
        new = self.new_rate(remedy, _lr_from_context(remedy))
        config = {"learning_rate": new, "momentum": ctx.get("momentum"), "nesterov": ctx.get("nesterov")}
        return optimizer_code(ctx.get("optimizer") or "Adam", config, keras)

    def as_code(self, remedy: Remedy) -> str:
        model = remedy.context.get("model_var", "model")
        return f"{model}.compile(optimizer={self._optimizer(remedy)}, {compile_rest(remedy.context)})"

    def apply(self, plan: Any, remedy: Remedy) -> None:
        new = self.new_rate(remedy, plan.learning_rate())
        if new is None:
            raise RemedyError("The optimizer's learning rate is not a number here, so it cannot be scaled.")
        plan.set_learning_rate(new)

    def rewrite(self, editor: Any, remedy: Remedy) -> None:
        new = self.new_rate(remedy, _lr_from_context(remedy))
        editor.set_learning_rate(fmt(new), optimizer=remedy.context.get("optimizer") or "Adam", remedy=remedy)


_OPTIMIZER_WORDS = {
    "Adam": "adapts every weight's step size from its gradient history, and typically converges far faster than "
    "plain SGD on the same budget",
    "AdamW": "is Adam with decoupled weight decay, which regularizes as well as it converges",
    "SGD": "with Nesterov momentum 0.9 keeps a running direction across steps, so it speeds through flat regions "
    "and damps zig-zags",
    "RMSprop": "scales each step by a running average of recent gradient sizes, which steadies noisy training",
    "Nadam": "is Adam with Nesterov momentum",
}


@register
class Optimizer(Spec):
    code = "optimizer"
    title = "Change the optimizer"
    defaults: ClassVar[dict] = {
        "optimizer": "Adam",
        "learning_rate": None,
        "momentum": None,
        "nesterov": None,
        "weight_decay": None,
    }

    def validate(self, params: dict) -> None:
        check_choice(self.code, "optimizer", params.get("optimizer"), OPTIMIZERS)
        check_number(self.code, "learning_rate", params.get("learning_rate"), low=0.0, low_open=True, optional=True)
        check_number(self.code, "momentum", params.get("momentum"), low=0.0, high=1.0, optional=True)
        check_number(self.code, "weight_decay", params.get("weight_decay"), low=0.0, optional=True)

    def config(self, remedy: Remedy) -> dict:
        from .._internal.optimizers import USUAL_LR

        p = remedy.params
        name = p["optimizer"]
        config = {"learning_rate": p.get("learning_rate") or USUAL_LR.get(name, 1e-3)}
        if name == "SGD":
            config["momentum"] = 0.9 if p.get("momentum") is None else p["momentum"]
            config["nesterov"] = True if p.get("nesterov") is None else bool(p["nesterov"])
        if name == "AdamW" or p.get("weight_decay") is not None:
            config["weight_decay"] = 0.004 if p.get("weight_decay") is None else p["weight_decay"]
        if name == "RMSprop" and p.get("momentum") is not None:
            config["momentum"] = p["momentum"]
        return config

    def headline(self, remedy: Remedy) -> str:
        name = remedy.params["optimizer"]
        config = self.config(remedy)
        extra = " with momentum" if name == "SGD" and config.get("momentum") else ""
        return f"Switch to {name}{extra}"

    def describe(self, remedy: Remedy) -> str:
        name = remedy.params["optimizer"]
        old = remedy.context.get("optimizer")
        lr = self.config(remedy)["learning_rate"]
        head = f"Switches {old + ' ' if old else ''}to {name} (learning rate {fmt(lr)})"
        return f"{head}: {name} {_OPTIMIZER_WORDS.get(name, '')}."

    def as_code(self, remedy: Remedy) -> str:
        model = remedy.context.get("model_var", "model")
        opt = optimizer_code(remedy.params["optimizer"], self.config(remedy))
        return f"{model}.compile(optimizer={opt}, {compile_rest(remedy.context)})"

    def apply(self, plan: Any, remedy: Remedy) -> None:
        plan.set_optimizer(remedy.params["optimizer"], self.config(remedy))

    def rewrite(self, editor: Any, remedy: Remedy) -> None:
        editor.set_optimizer(optimizer_code(remedy.params["optimizer"], self.config(remedy), editor.keras), remedy)


@register
class GradientClipping(Spec):
    code = "gradient_clipping"
    title = "Clip gradients"
    defaults: ClassVar[dict] = {"clipnorm": 1.0}

    def validate(self, params: dict) -> None:
        check_number(self.code, "clipnorm", params.get("clipnorm"), low=0.0, low_open=True)

    def describe(self, remedy: Remedy) -> str:
        return (
            f"Rescales each weight's gradient to a norm of at most {fmt(remedy.params['clipnorm'])} before the "
            "update (clipnorm), so one extreme batch cannot throw the weights far off."
        )

    def as_code(self, remedy: Remedy) -> str:
        ctx = remedy.context
        config = {
            "learning_rate": ctx.get("learning_rate"),
            "momentum": ctx.get("momentum"),
            "nesterov": ctx.get("nesterov"),
            "clipnorm": remedy.params["clipnorm"],
        }
        opt = optimizer_code(ctx.get("optimizer") or "Adam", config)
        return f"{ctx.get('model_var', 'model')}.compile(optimizer={opt}, {compile_rest(ctx)})"

    def apply(self, plan: Any, remedy: Remedy) -> None:
        plan.override({"clipnorm": float(remedy.params["clipnorm"])})

    def rewrite(self, editor: Any, remedy: Remedy) -> None:
        editor.set_optimizer_kwarg("clipnorm", fmt(remedy.params["clipnorm"]), remedy=remedy)


# ---------------------------------------------------------------------- model


def _dense_line(remedy: Remedy, extra: str) -> str:
    return f'keras.layers.Dense(64, activation="relu", {extra})  # on every hidden Dense/Conv layer'


@register
class L2(Spec):
    code = "l2"
    title = "L2 weight penalty"
    defaults: ClassVar[dict] = {"factor": 1e-4}

    def validate(self, params: dict) -> None:
        check_number(self.code, "factor", params.get("factor"), low=0.0)

    def describe(self, remedy: Remedy) -> str:
        f = float(remedy.params["factor"])
        before = remedy.params.get("current")
        if f == 0:
            return "Removes the L2 penalty from the kernels, which was holding the weights too close to zero to fit."
        if before and f < float(before):
            return (
                f"Weakens the L2 penalty on the Dense/Conv kernels from {fmt(float(before))} to {fmt(f)}, so the "
                "weights can grow as large as the data need."
            )
        return (
            f"Adds {fmt(f)} x sum(w^2) of every Dense/Conv kernel to the loss (L2), which keeps weights small and the "
            "learned function smooth, so the model memorizes less of the training rows."
        )

    def as_code(self, remedy: Remedy) -> str:
        f = float(remedy.params["factor"])
        reg = f"keras.regularizers.L2({fmt(f)})" if f > 0 else "None"
        return _dense_line(remedy, f"kernel_regularizer={reg}")

    def apply(self, plan: Any, remedy: Remedy) -> None:
        plan.edits.append(("l2", {"factor": float(remedy.params["factor"])}))

    def rewrite(self, editor: Any, remedy: Remedy) -> None:
        f = float(remedy.params["factor"])
        reg = f"{editor.keras}.regularizers.L2({fmt(f)})" if f > 0 else "None"
        editor.set_layer_kwarg("kernel_regularizer", reg, which="kernel", remedy=remedy)


@register
class Dropout(Spec):
    code = "dropout"
    title = "Dropout"
    structural = True
    defaults: ClassVar[dict] = {"rate": 0.3}

    def validate(self, params: dict) -> None:
        check_number(self.code, "rate", params.get("rate"), low=0.0, high=0.95)

    def unavailable(self, remedy: Remedy, run: Run | None) -> str | None:
        if run is None or run.model is None or run.model.style != "subclassed":
            return None
        if any(layer.class_name == "Dropout" for layer in run.model.layers):
            return None  # rates change in place
        return _rebuild_reason(run, "Adding Dropout layers")

    def describe(self, remedy: Remedy) -> str:
        rate = float(remedy.params["rate"])
        before = remedy.params.get("current")
        if before and rate < float(before):
            return (
                f"Lowers the dropout rate from {fmt(float(before))} to {fmt(rate)}: too much dropout hides so many "
                "units each step that the network cannot fit what the data allow."
            )
        return (
            f"Adds Dropout({fmt(rate)}) after every hidden Dense layer (existing Dropout layers get rate "
            f"{fmt(rate)}): each step trains a random sub-network, so units cannot co-adapt to memorize training rows."
        )

    def as_code(self, remedy: Remedy) -> str:
        rate = fmt(float(remedy.params["rate"]))
        return (
            f'keras.layers.Dense(64, activation="relu"),\nkeras.layers.Dropout({rate}),  '
            "# after every hidden Dense layer"
        )

    def apply(self, plan: Any, remedy: Remedy) -> None:
        plan.edits.append(("dropout", {"rate": float(remedy.params["rate"])}))

    def rewrite(self, editor: Any, remedy: Remedy) -> None:
        rate = fmt(float(remedy.params["rate"]))
        editor.insert_after_hidden(f"{editor.keras}.layers.Dropout({rate})", kind="Dropout", remedy=remedy, rate=rate)


@register
class BatchNorm(Spec):
    code = "batch_norm"
    title = "Batch normalization"
    structural = True

    def unavailable(self, remedy: Remedy, run: Run | None) -> str | None:
        return _rebuild_reason(run, "Adding BatchNormalization layers")

    def describe(self, remedy: Remedy) -> str:
        return (
            "Adds BatchNormalization after every hidden Dense/Conv layer, which re-centres and re-scales the "
            "activations each step, so gradients keep a usable size through the depth of the network."
        )

    def as_code(self, remedy: Remedy) -> str:
        return (
            'keras.layers.Dense(64, activation="relu"),\nkeras.layers.BatchNormalization(),  '
            "# after every hidden Dense/Conv layer"
        )

    def apply(self, plan: Any, remedy: Remedy) -> None:
        plan.edits.append(("batch_norm", {}))

    def rewrite(self, editor: Any, remedy: Remedy) -> None:
        editor.insert_after_hidden(
            f"{editor.keras}.layers.BatchNormalization()", kind="BatchNormalization", remedy=remedy
        )


@register
class HeInit(Spec):
    code = "he_init"
    title = "He initialization"
    defaults: ClassVar[dict] = {"initializer": "he_normal", "activation": None}

    def validate(self, params: dict) -> None:
        check_choice(self.code, "initializer", params.get("initializer"), ("he_normal", "he_uniform"))
        check_choice(
            self.code,
            "activation",
            params.get("activation"),
            ("relu", "leaky_relu", "elu", "gelu", "silu"),
            optional=True,
        )

    def describe(self, remedy: Remedy) -> str:
        act = remedy.params.get("activation")
        text = (
            f"Re-initializes the hidden Dense/Conv kernels with {remedy.params['initializer']} (variance 2 / fan-in) "
            "and zero biases"
        )
        if act:
            text += f", with {act} in place of saturating sigmoid/tanh activations"
        return text + ", which keeps the signal's scale from layer to layer so gradients reach the first layers."

    def as_code(self, remedy: Remedy) -> str:
        act = remedy.params.get("activation") or "relu"
        return (
            f'keras.layers.Dense(64, activation="{act}", kernel_initializer="{remedy.params["initializer"]}", '
            'bias_initializer="zeros")  # every hidden Dense/Conv layer'
        )

    def apply(self, plan: Any, remedy: Remedy) -> None:
        plan.edits.append(("he_init", dict(remedy.params)))
        plan.notes.append("He initialization: the hidden layers start from new (seeded) weights, by design.")

    def rewrite(self, editor: Any, remedy: Remedy) -> None:
        init = f'"{remedy.params["initializer"]}"'
        editor.set_layer_kwarg("kernel_initializer", init, which="hidden", remedy=remedy)
        editor.set_layer_kwarg("bias_initializer", '"zeros"', which="hidden", remedy=remedy)
        if remedy.params.get("activation"):
            editor.set_layer_kwarg(
                "activation", f'"{remedy.params["activation"]}"', which="hidden-saturating", remedy=remedy
            )


class _Width(Spec):
    structural = True
    defaults: ClassVar[dict] = {"factor": 2.0}

    def validate(self, params: dict) -> None:
        check_number(self.code, "factor", params.get("factor"), low=0.0, low_open=True)

    def unavailable(self, remedy: Remedy, run: Run | None) -> str | None:
        return _rebuild_reason(run, "Resizing layers")

    def as_code(self, remedy: Remedy) -> str:
        f = float(remedy.params["factor"])
        return f'keras.layers.Dense(round(64 * {fmt(f)}), activation="relu")  # every hidden Dense/Conv layer'

    def apply(self, plan: Any, remedy: Remedy) -> None:
        plan.edits.append(("width", {"factor": float(remedy.params["factor"])}))

    def rewrite(self, editor: Any, remedy: Remedy) -> None:
        editor.scale_units(float(remedy.params["factor"]), remedy=remedy)


@register
class WiderModel(_Width):
    code = "wider_model"
    title = "Wider model"
    defaults: ClassVar[dict] = {"factor": 2.0}

    def describe(self, remedy: Remedy) -> str:
        return (
            f"Multiplies the units of every hidden Dense/Conv layer by {fmt(float(remedy.params['factor']))}: more "
            "capacity to fit what a simple model already finds in these data."
        )


@register
class SmallerModel(_Width):
    code = "smaller_model"
    title = "Smaller model"
    defaults: ClassVar[dict] = {"factor": 0.5}

    def describe(self, remedy: Remedy) -> str:
        params = remedy.context.get("params")
        n = remedy.context.get("n_train")
        ratio = f" ({params:,} weights for {n:,} rows)" if params and n else ""
        return (
            f"Scales the units of every hidden Dense/Conv layer by {fmt(float(remedy.params['factor']))}: less capacity"
            f"{ratio} leaves less room to memorize the training rows."
        )


@register
class FixLoss(Spec):
    code = "fix_loss"
    title = "Fix the loss / output"
    defaults: ClassVar[dict] = {"loss": None, "from_logits": False, "output_activation": None, "output_units": None}

    def validate(self, params: dict) -> None:
        if params.get("loss") is None and params.get("output_activation") is None:
            raise RemedyError("The 'fix_loss' remedy needs a 'loss' or an 'output_activation'. Got neither.")
        check_number(self.code, "output_units", params.get("output_units"), kind=int, low=1, optional=True)

    def unavailable(self, remedy: Remedy, run: Run | None) -> str | None:
        if remedy.params.get("output_units") is not None:
            return _rebuild_reason(run, "Changing the number of output units")
        return None

    def describe(self, remedy: Remedy) -> str:
        p, ctx = remedy.params, remedy.context
        parts = []
        if p.get("output_activation") and p["output_activation"] != ctx.get("output_activation"):
            parts.append(f"the output activation becomes {p['output_activation']}")
        if p.get("output_units") and p["output_units"] != ctx.get("output_units"):
            parts.append(f"the output layer gets {p['output_units']} units")
        loss = p.get("loss") or ctx.get("loss")
        if loss != ctx.get("loss") or bool(p.get("from_logits")) != bool(ctx.get("from_logits")):
            parts.append(f"the loss becomes {loss}{' (from_logits=True)' if p.get('from_logits') else ''}")
        what = "; ".join(parts) or f"loss {loss}"
        return f"Makes the loss, the output layer and the labels agree: {what}."

    def _loss_code(self, remedy: Remedy, keras: str = "keras") -> str:
        p = remedy.params
        return loss_code(p.get("loss") or remedy.context.get("loss"), bool(p.get("from_logits")), keras)

    def as_code(self, remedy: Remedy) -> str:
        p, ctx = remedy.params, remedy.context
        lines = []
        if p.get("output_activation") or p.get("output_units"):
            units = p.get("output_units") or ctx.get("output_units") or "n_outputs"
            act = p.get("output_activation") or ctx.get("output_activation") or "linear"
            lines.append(f'keras.layers.Dense({units}, activation="{act}")  # the output layer')
        model = ctx.get("model_var", "model")
        metrics = ctx.get("metrics")
        rest = f", metrics=[{', '.join(repr(m) for m in metrics)}]" if metrics else ""
        lines.append(f"{model}.compile(optimizer=..., loss={self._loss_code(remedy)}{rest})")
        return "\n".join(lines)

    def apply(self, plan: Any, remedy: Remedy) -> None:
        p = remedy.params
        if p.get("loss") is not None or p.get("from_logits"):
            name = p.get("loss") or plan.run.model.loss.name
            plan.compile["loss"] = {"name": name, "from_logits": bool(p.get("from_logits"))}
        if p.get("output_activation") is not None or p.get("output_units") is not None:
            plan.edits.append(("output", {"activation": p.get("output_activation"), "units": p.get("output_units")}))

    def rewrite(self, editor: Any, remedy: Remedy) -> None:
        p = remedy.params
        if p.get("output_activation") is not None or p.get("output_units") is not None:
            editor.set_output_layer(activation=p.get("output_activation"), units=p.get("output_units"), remedy=remedy)
        editor.set_compile_kwarg("loss", self._loss_code(remedy, editor.keras), remedy=remedy)


# ---------------------------------------------------------------------- data (never mutates the user's arrays)


@register
class NormalizeInputs(Spec):
    code = "normalize_inputs"
    title = "Normalize the inputs"
    structural = True
    defaults: ClassVar[dict] = {"method": "layer"}

    def validate(self, params: dict) -> None:
        check_choice(self.code, "method", params.get("method"), ("layer", "arrays"))

    def unavailable(self, remedy: Remedy, run: Run | None) -> str | None:
        return _needs_arrays(run, "Normalizing the inputs")

    def describe(self, remedy: Remedy) -> str:
        if remedy.params["method"] == "layer":
            return (
                "Puts a keras.layers.Normalization in front of the model, holding the training rows' mean and "
                "variance, so every feature enters at mean 0 and variance 1 and one learning rate suits all weights."
            )
        return (
            "Standardizes the inputs with the training rows' mean and standard deviation (on copies; your arrays "
            "stay as they are), so every feature enters at mean 0 and variance 1; predict on inputs scaled the "
            "same way."
        )

    def as_code(self, remedy: Remedy) -> str:
        if remedy.params["method"] == "layer":
            return (
                "normalizer = keras.layers.Normalization()\n"
                "normalizer.adapt(x_train)  # the training rows only\n"
                "model = keras.Sequential([keras.Input(x_train.shape[1:]), normalizer, *model.layers])"
            )
        return (
            "mean, std = x_train.mean(axis=0), x_train.std(axis=0) + 1e-7  # the training rows only\n"
            "x_train, x_val = (x_train - mean) / std, (x_val - mean) / std"
        )

    def apply(self, plan: Any, remedy: Remedy) -> None:
        from ..rerun.apply import map_arrays, standardize_stats

        plan.require_arrays("Normalizing the inputs")
        x_train = plan.training_arrays()[0]
        method = remedy.params["method"]
        single = hasattr(x_train, "shape")
        if method == "layer" and single and plan.style != "subclassed":
            mean, std = standardize_stats(x_train)
            plan.edits.append(("normalize", {"mean": mean, "std": std}))
            return
        if method == "layer":
            plan.notes.append(
                "The inputs were standardized as arrays (a Normalization layer needs a single input "
                "on a Sequential or Functional model)."
            )
        stats = map_arrays(x_train, lambda a: standardize_stats(a) if a.dtype.kind in "fiu" else None)

        def scale(data: Any, st: Any) -> Any:
            if isinstance(data, Mapping):
                return {k: scale(v, st[k]) for k, v in data.items()}
            if isinstance(data, (list, tuple)) and not hasattr(data, "shape"):
                return type(data)(scale(v, s) for v, s in zip(data, st))
            if st is None:
                return data
            a = np.asarray(data)
            flat = a.reshape(len(a), -1).astype(np.float32)
            return ((flat - st[0]) / st[1]).astype(np.float32).reshape(a.shape)

        plan.fit["x"] = scale(plan.fit["x"], stats)
        vd = plan.fit.get("validation_data")
        if isinstance(vd, (list, tuple)) and vd:
            plan.fit["validation_data"] = (scale(vd[0], stats), *vd[1:])
        plan.data_changed = True

    def rewrite(self, editor: Any, remedy: Remedy) -> None:
        editor.normalize_inputs(remedy)


@register
class StratifiedSplit(Spec):
    code = "stratified_split"
    title = "Shuffled, stratified validation split"
    defaults: ClassVar[dict] = {"validation_split": None, "seed": 0}

    def validate(self, params: dict) -> None:
        check_number(self.code, "validation_split", params.get("validation_split"), low=0.0, high=1.0,
                     low_open=True, optional=True)  # fmt: skip
        check_number(self.code, "seed", params.get("seed"), kind=int, low=0)

    def unavailable(self, remedy: Remedy, run: Run | None) -> str | None:
        if run is not None and run.fit.validation != "split":
            return "The fit does not use validation_split, so there is no ordered tail to replace."
        return _needs_arrays(run, "A stratified split")

    def describe(self, remedy: Remedy) -> str:
        share = remedy.params.get("validation_split") or remedy.context.get("validation_split") or 0.2
        return (
            f"Replaces validation_split (Keras takes the last {100 * share:.0f}% of the rows, before any shuffling) "
            f"by a shuffled, stratified {100 * share:.0f}% split, so validation holds every class in the proportions "
            "training sees."
        )

    def as_code(self, remedy: Remedy) -> str:
        share = remedy.params.get("validation_split") or remedy.context.get("validation_split") or 0.2
        return (
            "from sklearn.model_selection import train_test_split\n\n"
            f"x_train, x_val, y_train, y_val = train_test_split(x, y, test_size={fmt(share)}, stratify=y, "
            f"random_state={int(remedy.params['seed'])})\n"
            f"{remedy.context.get('model_var', 'model')}.fit(x_train, y_train, validation_data=(x_val, y_val), ...)"
        )

    def apply(self, plan: Any, remedy: Remedy) -> None:
        from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

        from ..capture.describe import n_rows
        from ..diagnosis.signals import class_values, label_format
        from ..rerun.apply import take_rows

        plan.require_arrays("A stratified split")
        share = float(plan.fit.get("validation_split") or 0.0) or remedy.params.get("validation_split")
        if not share:
            raise RemedyError("The fit does not use validation_split, so there is no ordered tail to replace.")
        if plan.fit.get("validation_split"):
            x, y, sw = plan.fit["x"], plan.fit["y"], plan.fit.get("sample_weight")
        else:
            raise RemedyError("The validation rows were already changed by another remedy; apply this one first.")
        n = n_rows(x)
        n_val = n - math.floor(n * (1.0 - share))
        seed = int(remedy.params["seed"])
        target = np.asarray(
            y if not isinstance(y, (list, tuple, Mapping)) else next(iter(y.values() if isinstance(y, Mapping) else y))
        )
        fmt_ = label_format(target)
        splitter = ShuffleSplit(1, test_size=n_val, random_state=seed)
        labels = None
        if fmt_ in ("sparse", "onehot"):
            labels = class_values(target, fmt_)
            _, counts = np.unique(labels, return_counts=True)
            if counts.min() >= 2:
                splitter = StratifiedShuffleSplit(1, test_size=n_val, random_state=seed)
        train, val = next(splitter.split(np.zeros(n), labels))
        train, val = np.sort(train), np.sort(val)
        validation = (take_rows(x, val), take_rows(y, val))
        if sw is not None:
            validation = (*validation, take_rows(sw, val))
            plan.fit["sample_weight"] = take_rows(sw, train)
        plan.fit.update(x=take_rows(x, train), y=take_rows(y, train), validation_data=validation, validation_split=0.0)
        plan.data_changed = True

    def rewrite(self, editor: Any, remedy: Remedy) -> None:
        editor.stratified_split(remedy)


@register
class DropSuspectLabels(Spec):
    code = "drop_suspect_labels"
    title = "Retrain without the suspect labels"
    defaults: ClassVar[dict] = {"rows": (), "rows_checked": None}

    def validate(self, params: dict) -> None:
        rows = params.get("rows")
        if (
            rows is None
            or isinstance(rows, (str, bytes))
            or not all(isinstance(r, (int, np.integer)) and r >= 0 for r in rows)
        ):
            raise RemedyError(
                "The 'rows' parameter of the 'drop_suspect_labels' remedy must be a list of row indices >= 0 into "
                f"the training split. Got {rows!r} instead."
            )
        params["rows"] = sorted({int(r) for r in rows})

    def unavailable(self, remedy: Remedy, run: Run | None) -> str | None:
        if not remedy.params["rows"]:
            return "No training row was flagged."
        return _needs_arrays(run, "Dropping rows")

    def describe(self, remedy: Remedy) -> str:
        n = len(remedy.params["rows"])
        checked = remedy.params.get("rows_checked")
        of = f" (of {checked} checked)" if checked else ""
        return (
            f"Retrains without the {n} training rows{of} whose labels confident learning flags as wrong; validation "
            "is unchanged, so a rise in validation accuracy means those labels were costing you."
        )

    def as_code(self, remedy: Remedy) -> str:
        rows = remedy.params["rows"]
        model = remedy.context.get("model_var", "model")
        return (
            f"suspect = np.array({list(rows)!r})  # rows of the training split flagged by confident learning\n"
            "keep = np.setdiff1d(np.arange(len(x_train)), suspect)\n"
            f"{model}.fit(x_train[keep], y_train[keep], validation_data=(x_val, y_val), ...)"
        )

    def apply(self, plan: Any, remedy: Remedy) -> None:
        from ..capture.describe import n_rows
        from ..rerun.apply import take_rows

        plan.require_arrays("Dropping rows")
        plan.split()
        n = n_rows(plan.fit["x"])
        rows = np.asarray(remedy.params["rows"], dtype=np.int64)
        if len(rows) and rows.max() >= n:
            raise RemedyError(f"Row {int(rows.max())} is beyond the {n} training rows of this fit.")
        keep = np.setdiff1d(np.arange(n), rows)
        plan.fit["x"] = take_rows(plan.fit["x"], keep)
        plan.fit["y"] = take_rows(plan.fit["y"], keep)
        if plan.fit.get("sample_weight") is not None:
            plan.fit["sample_weight"] = take_rows(plan.fit["sample_weight"], keep)
        plan.data_changed = True

    def rewrite(self, editor: Any, remedy: Remedy) -> None:
        editor.drop_rows(remedy)


@register
class ImputeInputs(Spec):
    code = "impute_inputs"
    title = "Impute missing values"
    defaults: ClassVar[dict] = {"strategy": "median"}

    def validate(self, params: dict) -> None:
        check_choice(self.code, "strategy", params.get("strategy"), ("median", "mean"))

    def unavailable(self, remedy: Remedy, run: Run | None) -> str | None:
        return _needs_arrays(run, "Imputing values")

    def describe(self, remedy: Remedy) -> str:
        return (
            f"Replaces every NaN/inf input value by its feature's {remedy.params['strategy']} over the training rows "
            "(on copies), so no batch feeds a NaN into the loss."
        )

    def as_code(self, remedy: Remedy) -> str:
        return (
            "from sklearn.impute import SimpleImputer\n\n"
            f'imputer = SimpleImputer(strategy="{remedy.params["strategy"]}").fit(x_train)  # the training rows only\n'
            "x_train, x_val = imputer.transform(x_train), imputer.transform(x_val)"
        )

    def apply(self, plan: Any, remedy: Remedy) -> None:
        plan.require_arrays("Imputing values")
        plan.split()
        x = np.asarray(plan.fit["x"], dtype=np.float64)
        flat = np.where(np.isfinite(x), x, np.nan).reshape(len(x), -1)
        stat = np.nanmedian if remedy.params["strategy"] == "median" else np.nanmean
        fill = np.nan_to_num(stat(flat, axis=0))

        def impute(a: Any) -> np.ndarray:
            a = np.asarray(a)
            f = a.reshape(len(a), -1).astype(np.float32)
            bad = ~np.isfinite(f)
            f = np.where(bad, fill[np.newaxis, :].astype(np.float32), f)
            return f.reshape(a.shape)

        plan.fit["x"] = impute(plan.fit["x"])
        vd = plan.fit.get("validation_data")
        if isinstance(vd, (list, tuple)) and vd:
            plan.fit["validation_data"] = (impute(vd[0]), *vd[1:])
        plan.data_changed = True


@register
class DeduplicateValidation(Spec):
    code = "deduplicate_validation"
    title = "Drop validation rows seen in training"

    def unavailable(self, remedy: Remedy, run: Run | None) -> str | None:
        if run is not None and run.fit.validation == "none":
            return "The fit has no validation data."
        return _needs_arrays(run, "Deduplicating")

    def describe(self, remedy: Remedy) -> str:
        return (
            "Drops from validation the rows that also appear in training, so validation measures generalization "
            "again; expect a lower but honest score."
        )

    def as_code(self, remedy: Remedy) -> str:
        return (
            "seen = {row.tobytes() for row in np.round(x_train, 6)}\n"
            "fresh = np.array([row.tobytes() not in seen for row in np.round(x_val, 6)])\n"
            "x_val, y_val = x_val[fresh], y_val[fresh]"
        )

    def apply(self, plan: Any, remedy: Remedy) -> None:
        from ..rerun.apply import take_rows

        plan.require_arrays("Deduplicating")
        plan.split()
        vd = plan.fit.get("validation_data")
        x_train = np.asarray(plan.fit["x"])
        if not isinstance(vd, (list, tuple)) or not hasattr(x_train, "shape"):
            raise RemedyError("Deduplicating needs a single input array and validation arrays.")

        def key(a: Any) -> list[bytes]:
            rounded = np.round(np.asarray(a, dtype=np.float64), 6).reshape(len(a), -1)
            return [r.tobytes() for r in np.ascontiguousarray(rounded)]

        seen = set(key(x_train))
        fresh = np.flatnonzero([k not in seen for k in key(vd[0])])
        if len(fresh) == 0:
            raise RemedyError("Every validation row also appears in training: there is nothing left to validate on.")
        plan.fit["validation_data"] = tuple(take_rows(part, fresh) for part in vd)
        plan.notes.append(f"{len(np.asarray(vd[0])) - len(fresh)} validation rows seen in training were dropped.")
        plan.data_changed = True


# ---------------------------------------------------------------------- advice (no button)


class _Advice(Spec):
    kind = "advice"


@register
class MoreData(_Advice):
    code = "more_data"
    title = "Collect more data"

    def describe(self, remedy: Remedy) -> str:
        p = remedy.params
        n, gain, suggested = p.get("n_train"), p.get("gain_last_doubling"), p.get("suggested_rows")
        text = "Collect more labeled rows (or augment the ones you have)"
        if n and gain is not None:
            text += (
                f": a quick {p.get('probe_model', 'model')} still gained {gain:+.3f} validation accuracy from "
                f"{n // 2:,} to {n:,} rows"
            )
            if suggested:
                text += f", so about {suggested:,} rows (twice as many) should lift it further"
        return text + ". Meanwhile, regularize (dropout, L2, early stopping)."

    def as_code(self, remedy: Remedy) -> str:
        curve = remedy.params.get("learning_curve") or []
        lines = ["# validation score of a quick model vs training rows (the learning-curve probe):"]
        lines += [f"#   {int(n):>7,} rows -> {score:.3f}" for n, score in curve]
        if remedy.params.get("suggested_rows"):
            lines.append(f"# aim for about {remedy.params['suggested_rows']:,} training rows")
        return "\n".join(lines)


@register
class Relabel(_Advice):
    code = "relabel"
    title = "Review the flagged labels"

    def describe(self, remedy: Remedy) -> str:
        n = len(remedy.params.get("rows") or ())
        return (
            f"Review the {n} training rows whose labels a cross-validated model confidently disagrees with, and fix "
            "the wrong ones at the source; relabeling beats dropping when the rows are otherwise valuable."
        )

    def as_code(self, remedy: Remedy) -> str:
        rows = list(remedy.params.get("rows") or ())
        return (
            f"suspect = {rows!r}  # rows of the training split\n"
            "for i in suspect[:20]:\n"
            "    print(i, y_train[i])  # look at x_train[i]: is the label right?"
        )


@register
class CleanData(_Advice):
    code = "clean_data"
    title = "Clean the inputs"

    def describe(self, remedy: Remedy) -> str:
        return (
            "Find where the NaN/inf or constant values come from (a failed join, a division by zero, a wrong "
            "column) and fix them at the source; impute only what is genuinely missing."
        )

    def as_code(self, remedy: Remedy) -> str:
        return (
            "bad = ~np.isfinite(x_train)\n"
            "print('rows with NaN/inf:', bad.any(axis=1).sum(), 'features:', np.flatnonzero(bad.any(axis=0)))"
        )


@register
class ScaleTargets(_Advice):
    code = "scale_targets"
    title = "Standardize the targets"

    def describe(self, remedy: Remedy) -> str:
        scale = remedy.params.get("target_scale")
        head = f"The targets reach a scale of {scale:.3g}. " if isinstance(scale, (int, float)) else ""
        return head + (
            "Train on standardized targets, (y - mean) / std with the training rows' mean and std, and turn the "
            "predictions back with the same numbers: the loss and its gradients then live on a scale of about 1."
        )

    def as_code(self, remedy: Remedy) -> str:
        return (
            "y_mean, y_std = y_train.mean(axis=0), y_train.std(axis=0)\n"
            "model.fit(x_train, (y_train - y_mean) / y_std, ...)\n"
            "predictions = model.predict(x_new) * y_std + y_mean"
        )


@register
class SamePreprocessing(_Advice):
    code = "same_preprocessing"
    title = "Prepare validation like training"

    def describe(self, remedy: Remedy) -> str:
        features = remedy.params.get("features")
        where = f" (features {features} differ most)" if features else ""
        return (
            f"Validation rows are told apart from training rows{where}. Fit each preprocessing step (scaling, "
            "encoding, resizing) on the training rows and apply exactly the same transform to validation and "
            "test rows, and draw all splits from the same source."
        )

    def as_code(self, remedy: Remedy) -> str:
        return (
            "scaler = StandardScaler().fit(x_train)  # fitted on training rows only\n"
            "x_train, x_val = scaler.transform(x_train), scaler.transform(x_val)  # the same transform for both"
        )


@register
class Deduplicate(_Advice):
    code = "deduplicate"
    title = "Deduplicate before splitting"

    def describe(self, remedy: Remedy) -> str:
        share = remedy.params.get("shared_share")
        head = f"About {100 * share:.0f}% of validation rows also appear in training. " if share else ""
        return head + (
            "Remove duplicate rows before splitting (or split by group, e.g. GroupShuffleSplit on a patient or "
            "session id) so validation only holds rows the model has never seen."
        )

    def as_code(self, remedy: Remedy) -> str:
        return (
            "x, first = np.unique(x, axis=0, return_index=True)\n"
            "y = y[first]  # then split: train_test_split(x, y, test_size=0.2, stratify=y)"
        )


@register
class Resample(_Advice):
    code = "collect_minority"
    title = "More minority examples"

    def describe(self, remedy: Remedy) -> str:
        classes = remedy.params.get("minority_classes")
        return (
            f"Collect more examples of the rare class{'es' if classes and len(classes) > 1 else ''}"
            f"{' ' + str(classes) if classes else ''}, and judge the model by per-class recall or balanced accuracy "
            "rather than accuracy, which the majority class dominates."
        )

    def as_code(self, remedy: Remedy) -> str:
        return (
            "from sklearn.metrics import classification_report\n\n"
            "probs = model.predict(x_val)\n"
            "pred = probs.argmax(axis=1) if probs.shape[-1] > 1 else (probs[:, 0] > 0.5).astype(int)\n"
            "print(classification_report(y_val, pred))  # per-class recall"
        )


@register
class FixCode(_Advice):
    code = "fix_code"
    title = "Fix it in the code"
    defaults: ClassVar[dict] = {"text": ""}

    def describe(self, remedy: Remedy) -> str:
        return remedy.params.get("text") or "Change the model or data code as the finding explains."

    def as_code(self, remedy: Remedy) -> str:
        return "# " + self.describe(remedy)
