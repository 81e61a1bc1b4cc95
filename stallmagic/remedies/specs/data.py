"""Specs that change the training or validation data: normalize the inputs, scale regression targets, split
validation shuffled and stratified, drop rows with suspect labels, impute missing values, drop validation rows seen
in training.

A rerun changes copies, never the user's arrays; each needs the data as arrays (not a dataset or generator).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from ..._internal.nested import judged_output, several_outputs
from ..._internal.numbers import as_code
from ...record import Run
from ..checks import check_choice, check_number
from ..remedy import Remedy, RemedyError, Spec, register
from .availability import needs_arrays, rebuild_reason

#: What a snippet that spells out the fit's data says about the fit's other arguments. ``...`` cannot stand for
#: them there: after a keyword argument it does not parse, and in the call's positions it would be passed as
#: ``batch_size``.
OTHER_FIT_ARGUMENTS = "# and the fit's other arguments as before"


@register
class NormalizeInputs(Spec):
    code = "normalize_inputs"
    title = "Normalize the inputs"
    structural = True
    defaults: ClassVar[dict] = {"method": "layer"}

    def validate(self, params: dict) -> None:
        check_choice(self.code, "method", params.get("method"), ("layer", "arrays"))

    def unavailable(self, remedy: Remedy, run: Run | None) -> str | None:
        return needs_arrays(run, "Normalizing the inputs")

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
        from ..arrays import map_arrays, standardize_stats

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


#: Losses whose value grows with the square of the targets' scale; the others (MAE, Huber, log-cosh) grow with it.
_SQUARED_LOSSES = ("mse", "mean_squared_error", "MeanSquaredError")
#: Regression losses the target scaling applies to (a log-scale loss is scale-free already).
_SCALABLE_LOSSES = (*_SQUARED_LOSSES, "mae", "mean_absolute_error", "MeanAbsoluteError", "huber", "Huber",
                    "log_cosh", "LogCosh", "logcosh")  # fmt: skip


@register
class ScaleTargets(Spec):
    """Train on standardized regression targets and turn the predictions back inside the model.

    The rerun appends ``keras.layers.Normalization(invert=True)`` holding the training targets' mean and variance
    (no trainable weights, so every other layer keeps its starting weights) and weighs the loss by 1 / variance
    (1 / std for losses that grow linearly), which is exactly training on ``(y - mean) / std``: the network
    predicts numbers of about 1, the loss and its gradients live on that scale, and predictions and metrics stay
    in the targets' own units."""

    code = "scale_targets"
    title = "Standardize the targets"
    structural = True
    defaults: ClassVar[dict] = {"target_scale": None}

    def unavailable(self, remedy: Remedy, run: Run | None) -> str | None:
        reason = needs_arrays(run, "Scaling the targets") or rebuild_reason(run, "Scaling the targets")
        if reason or run is None or run.model is None:
            return reason
        model = run.model
        if model.output_activation not in (None, "linear"):
            return (
                f"The output layer applies {model.output_activation}, which cannot produce standardized targets "
                "(negative values); make the output linear first."
            )
        if model.loss.name not in _SCALABLE_LOSSES:
            return f"The loss is {model.loss.name}; scaling the targets is offered for MSE, MAE, Huber and log-cosh."
        return None

    def describe(self, remedy: Remedy) -> str:
        scale = remedy.params.get("target_scale")
        head = f"The targets reach a scale of {as_code(float(scale))}. " if isinstance(scale, (int, float)) else ""
        return head + (
            "Trains on standardized targets, (y - mean) / std with the training rows' mean and std: the network "
            "predicts numbers of about 1 and the loss and its gradients live on that scale; a Normalization(invert="
            "True) layer at the end turns predictions back into your units."
        )

    def as_code(self, remedy: Remedy) -> str:
        model = remedy.context.get("model_var", "model")
        return (
            "y_mean, y_var = y_train.mean(axis=0), y_train.var(axis=0)  # the training rows only\n"
            f"{model} = keras.Sequential([*{model}.layers, keras.layers.Normalization(invert=True, mean=y_mean, "
            "variance=y_var)])\n"
            f"{model}.compile(optimizer=..., loss=..., loss_weights=1 / y_var.mean())  # the loss of standardized "
            "targets (1 / y_var.mean() ** 0.5 for MAE or Huber)"
        )

    def apply(self, plan: Any, remedy: Remedy) -> None:
        plan.require_arrays("Scaling the targets")
        y = plan.training_arrays()[1]
        if not hasattr(y, "shape"):
            raise RemedyError("Scaling the targets needs one array of targets (a single output).")
        y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        mean, std = y.mean(axis=0), y.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        plan.edits.append(("scale_targets", {"mean": mean, "std": std}))
        squared = plan.run.model is None or plan.run.model.loss.name in _SQUARED_LOSSES
        weight = float(1.0 / np.mean(std**2)) if squared else float(1.0 / np.mean(std))
        plan.compile["loss_weights"] = weight
        plan.notes.append(
            f"Targets standardized inside the model (mean {as_code(float(mean.mean()))}, std "
            f"{as_code(float(std.mean()))}); the logged loss is on the standardized scale (weighted by "
            f"{as_code(weight)}), the metrics stay in the targets' units."
        )


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
        return needs_arrays(run, "A stratified split")

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
            f"x_train, x_val, y_train, y_val = train_test_split(x, y, test_size={as_code(share)}, stratify=y, "
            f"random_state={int(remedy.params['seed'])})\n"
            f"{remedy.context.get('model_var', 'model')}.fit(x_train, y_train, validation_data=(x_val, y_val))  "
            f"{OTHER_FIT_ARGUMENTS}"
        )

    def apply(self, plan: Any, remedy: Remedy) -> None:
        from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

        from ...capture.snapshot import n_rows
        from ...diagnosis.signals import class_values, label_format
        from ..arrays import take_rows

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
        target = np.asarray(judged_output(y, plan.run.judged_output) if several_outputs(y) else y)
        label_fmt = label_format(target)
        splitter = ShuffleSplit(1, test_size=n_val, random_state=seed)
        labels = None
        if label_fmt in ("sparse", "onehot"):
            labels = class_values(target, label_fmt)
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
        return needs_arrays(run, "Dropping rows")

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
            f"{model}.fit(x_train[keep], y_train[keep], validation_data=(x_val, y_val))  {OTHER_FIT_ARGUMENTS}"
        )

    def apply(self, plan: Any, remedy: Remedy) -> None:
        from ...capture.snapshot import n_rows
        from ..arrays import take_rows

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
        return needs_arrays(run, "Imputing values")

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
        return needs_arrays(run, "Deduplicating")

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
        from ..arrays import take_rows

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
