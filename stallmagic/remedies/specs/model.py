"""Specs that change the model: its kernels' L2 penalty, dropout, batch normalization, initialization, the width
of its hidden layers, and the loss with the output layer it must agree with.

Some need new or resized layers (``structural``): the rerun rebuilds a Sequential or Functional model around the
same starting weights, and a subclassed model, which builds its own layers, is offered them disabled.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..._internal.numbers import as_code
from ...record import Run
from ..checks import check_choice, check_number
from ..remedy import Remedy, RemedyError, Spec, register
from .availability import rebuild_reason
from .keras_code import loss_code


def _dense_line(remedy: Remedy, extra: str) -> str:
    """A hidden Dense layer written with ``extra`` arguments: the code a user copies onto each of their layers."""
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
                f"Weakens the L2 penalty on the Dense/Conv kernels from {as_code(float(before))} to {as_code(f)}, so "
                "the weights can grow as large as the data need."
            )
        return (
            f"Adds {as_code(f)} x sum(w^2) of every Dense/Conv kernel to the loss (L2), which keeps weights small and "
            "the learned function smooth, so the model memorizes less of the training rows."
        )

    def as_code(self, remedy: Remedy) -> str:
        f = float(remedy.params["factor"])
        reg = f"keras.regularizers.L2({as_code(f)})" if f > 0 else "None"
        return _dense_line(remedy, f"kernel_regularizer={reg}")

    def apply(self, plan: Any, remedy: Remedy) -> None:
        plan.edits.append(("l2", {"factor": float(remedy.params["factor"])}))

    def rewrite(self, editor: Any, remedy: Remedy) -> None:
        f = float(remedy.params["factor"])
        reg = f"{editor.keras}.regularizers.L2({as_code(f)})" if f > 0 else "None"
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
        return rebuild_reason(run, "Adding Dropout layers")

    def describe(self, remedy: Remedy) -> str:
        rate = float(remedy.params["rate"])
        before = remedy.params.get("current")
        if before and rate < float(before):
            return (
                f"Lowers the dropout rate from {as_code(float(before))} to {as_code(rate)}: too much dropout hides so "
                "many units each step that the network cannot fit what the data allow."
            )
        return (
            f"Adds Dropout({as_code(rate)}) after every hidden Dense layer (existing Dropout layers get rate "
            f"{as_code(rate)}): each step trains a random sub-network, so units cannot co-adapt to memorize training "
            "rows."
        )

    def as_code(self, remedy: Remedy) -> str:
        rate = as_code(float(remedy.params["rate"]))
        return (
            f'keras.layers.Dense(64, activation="relu"),\nkeras.layers.Dropout({rate}),  '
            "# after every hidden Dense layer"
        )

    def apply(self, plan: Any, remedy: Remedy) -> None:
        plan.edits.append(("dropout", {"rate": float(remedy.params["rate"])}))

    def rewrite(self, editor: Any, remedy: Remedy) -> None:
        rate = as_code(float(remedy.params["rate"]))
        editor.insert_after_hidden(f"{editor.keras}.layers.Dropout({rate})", kind="Dropout", remedy=remedy, rate=rate)


@register
class BatchNorm(Spec):
    code = "batch_norm"
    title = "Batch normalization"
    structural = True

    def unavailable(self, remedy: Remedy, run: Run | None) -> str | None:
        return rebuild_reason(run, "Adding BatchNormalization layers")

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
    """Multiply the units (or filters) of every hidden Dense/Conv layer by ``factor``, and raise any layer still
    narrower than ``min_units`` to it (a bottleneck narrower than the classes: doubling one unit leaves two):
    :class:`WiderModel` and :class:`SmallerModel` differ only in their default factor and the reason they give."""

    structural = True
    defaults: ClassVar[dict] = {"factor": 2.0, "min_units": None}

    def validate(self, params: dict) -> None:
        check_number(self.code, "factor", params.get("factor"), low=0.0, low_open=True)
        check_number(self.code, "min_units", params.get("min_units"), kind=int, low=1, optional=True)

    def unavailable(self, remedy: Remedy, run: Run | None) -> str | None:
        return rebuild_reason(run, "Resizing layers")

    def as_code(self, remedy: Remedy) -> str:
        f, least = float(remedy.params["factor"]), remedy.params.get("min_units")
        units = f"round(64 * {as_code(f)})"
        if least:
            units = f"max({int(least)}, {units})"
        return f'keras.layers.Dense({units}, activation="relu")  # every hidden Dense/Conv layer'

    def apply(self, plan: Any, remedy: Remedy) -> None:
        least = remedy.params.get("min_units")
        plan.edits.append(("width", {"factor": float(remedy.params["factor"]), "min_units": least and int(least)}))

    def rewrite(self, editor: Any, remedy: Remedy) -> None:
        least = remedy.params.get("min_units")
        editor.scale_units(float(remedy.params["factor"]), min_units=least and int(least), remedy=remedy)


@register
class WiderModel(_Width):
    code = "wider_model"
    title = "Wider model"
    defaults: ClassVar[dict] = {"factor": 2.0, "min_units": None}

    def describe(self, remedy: Remedy) -> str:
        least = remedy.params.get("min_units")
        floor = f", and to at least {int(least)} where a layer is still narrower (the bottleneck)" if least else ""
        return (
            f"Multiplies the units of every hidden Dense/Conv layer by {as_code(float(remedy.params['factor']))}"
            f"{floor}: more capacity to fit what a simple model already finds in these data."
        )


@register
class SmallerModel(_Width):
    code = "smaller_model"
    title = "Smaller model"
    defaults: ClassVar[dict] = {"factor": 0.5, "min_units": None}

    def describe(self, remedy: Remedy) -> str:
        params = remedy.context.get("params")
        n = remedy.context.get("n_train")
        ratio = f" ({params:,} weights for {n:,} rows)" if params and n else ""
        return (
            f"Scales the units of every hidden Dense/Conv layer by {as_code(float(remedy.params['factor']))}: less "
            f"capacity{ratio} leaves less room to memorize the training rows."
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
            return rebuild_reason(run, "Changing the number of output units")
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
