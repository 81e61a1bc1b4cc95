"""Specs that change the optimizer ``compile`` receives: its learning rate, its class, and gradient clipping."""

from __future__ import annotations

import math
from typing import Any, ClassVar

from ..._internal.numbers import as_code
from ..._internal.optimizers import USUAL_LR
from ...record import Run
from ..checks import check_choice, check_number
from ..remedy import Remedy, RemedyError, Spec, register
from .context import lr_from_context
from .keras_code import compile_rest, optimizer_code

#: The optimizers the ``optimizer`` remedy switches to (each has a sentence in :data:`_OPTIMIZER_WORDS`).
OPTIMIZERS = ("Adam", "AdamW", "SGD", "RMSprop", "Nadam")


@register
class LearningRate(Spec):
    code = "learning_rate"
    title = "Change the learning rate"
    defaults: ClassVar[dict] = {"learning_rate": None, "factor": None, "measure": False}

    def validate(self, params: dict) -> None:
        if params.get("learning_rate") is None and params.get("factor") is None:
            raise RemedyError(
                "The 'learning_rate' remedy needs a 'learning_rate' (the new rate) or a 'factor' (to scale the "
                "current one). Got neither."
            )
        check_number(self.code, "learning_rate", params.get("learning_rate"), low=0.0, low_open=True, optional=True)
        check_number(self.code, "factor", params.get("factor"), low=0.0, low_open=True, optional=True)

    def unavailable(self, remedy: Remedy, run: Run | None) -> str | None:
        current = run.model.initial_learning_rate if run is not None and run.model is not None else None
        new = self.new_rate(remedy, current)
        if current is not None and new is not None and math.isclose(new, current, rel_tol=1e-6):
            return f"This run already starts at learning rate {as_code(current)}, so the rerun would change nothing."
        return None

    def new_rate(self, remedy: Remedy, current: float | None) -> float | None:
        """The rate to train at: the one a range test measured, else the one given, else ``current`` scaled by the
        factor (``None`` when unknown)."""
        measured = (remedy.evidence.get("range_test") or {}).get("chosen") if remedy.params.get("measure") else None
        if measured is not None:
            return float(measured)
        if remedy.params.get("learning_rate") is not None:
            return float(remedy.params["learning_rate"])
        return current * float(remedy.params["factor"]) if current is not None else None

    def headline(self, remedy: Remedy) -> str:
        if remedy.params.get("measure"):
            return "Learning rate, measured"
        if remedy.params.get("learning_rate") is not None:
            return f"Learning rate {as_code(float(remedy.params['learning_rate']))}"
        return f"Learning rate x{as_code(float(remedy.params['factor']))}"

    def describe(self, remedy: Remedy) -> str:
        old = lr_from_context(remedy)
        new = self.new_rate(remedy, old)
        opt = remedy.context.get("optimizer") or "the optimizer"
        if remedy.params.get("measure"):
            test = remedy.evidence.get("range_test")
            if test and test.get("rates"):
                tried = ", ".join(
                    f"{as_code(r)}: {'diverged' if loss is None else as_code(round(loss, 4))}"
                    for r, loss in zip(test["rates"], test["losses"])
                )
                return (
                    f"Starts {opt} at learning rate {as_code(new)}, measured: from the starting weights, each rate "
                    f"trained {test['steps']} steps on {test['rows']} training rows (loss after them: {tried}; "
                    f"{as_code(test['start_loss'])} at the start), and {as_code(new)} brought the loss down most."
                )
            around = f"around {as_code(new)}" if new is not None else "around the suggested rate"
            text = (
                f"Starts {opt} at a learning rate measured by a short range test from the starting weights (rates "
                f"{around}, a few steps each on a sample of the training rows; the one whose loss falls most)"
            )
            if old:
                text += f" instead of {as_code(old)}"
            if old and new is not None and new < old:
                return text + ": smaller steps stop overshooting the minimum, so the loss can settle."
            if old and new is not None and new > old:
                return text + ": larger steps get to a good minimum within the epochs you train."
            return text + "."
        if new is None:
            return f"Scales {opt}'s learning rate by {as_code(remedy.params['factor'])}."
        text = f"Starts {opt} at learning rate {as_code(new)}"
        if old:
            text += f" instead of {as_code(old)}"
        if old and new < old:
            return text + ": smaller steps stop overshooting the minimum, so the loss can settle."
        if old and new > old:
            return text + ": larger steps get to a good minimum within the epochs you train."
        return text + "."

    def _optimizer(self, remedy: Remedy, keras: str = "keras") -> str:
        ctx = remedy.context
        new = self.new_rate(remedy, lr_from_context(remedy))
        config = {"learning_rate": new, "momentum": ctx.get("momentum"), "nesterov": ctx.get("nesterov")}
        return optimizer_code(ctx.get("optimizer") or "Adam", config, keras)

    def as_code(self, remedy: Remedy) -> str:
        model = remedy.context.get("model_var", "model")
        return f"{model}.compile(optimizer={self._optimizer(remedy)}, {compile_rest(remedy.context)})"

    def apply(self, plan: Any, remedy: Remedy) -> None:
        current = plan.learning_rate()
        new = self.new_rate(remedy, current)
        if new is None:
            raise RemedyError("The optimizer's learning rate is not a number here, so it cannot be scaled.")
        plan.set_learning_rate(new)
        if remedy.params.get("measure") and "range_test" not in remedy.evidence:
            plan.lr_search = {"center": new, "current": current, "remedy": remedy}

    def rewrite(self, editor: Any, remedy: Remedy) -> None:
        new = self.new_rate(remedy, lr_from_context(remedy))
        editor.set_learning_rate(as_code(new), optimizer=remedy.context.get("optimizer") or "Adam", remedy=remedy)


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
        """The new optimizer's arguments: the usual rate of its class unless given (:data:`USUAL_LR`), Nesterov
        momentum 0.9 for SGD, weight decay 0.004 (Keras's AdamW default) for AdamW."""
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

    def unavailable(self, remedy: Remedy, run: Run | None) -> str | None:
        """The run already trains with this optimizer and these settings: a rerun would change nothing."""
        if run is None or run.model is None or run.model.optimizer_name != remedy.params["optimizer"]:
            return None
        current = run.model.optimizer.get("config", {})
        for key, value in self.config(remedy).items():
            mine = current.get(key)
            if isinstance(value, bool) or isinstance(mine, bool) or not isinstance(mine, (int, float)):
                if mine != value:
                    return None
            elif not math.isclose(float(mine), float(value), rel_tol=1e-6):
                return None
        return (
            f"This run already trains with {remedy.params['optimizer']} at learning rate "
            f"{as_code(self.config(remedy)['learning_rate'])}, so the switch would change nothing."
        )

    def headline(self, remedy: Remedy) -> str:
        name = remedy.params["optimizer"]
        config = self.config(remedy)
        extra = " with momentum" if name == "SGD" and config.get("momentum") else ""
        return f"Switch to {name}{extra}"

    def describe(self, remedy: Remedy) -> str:
        name = remedy.params["optimizer"]
        old = remedy.context.get("optimizer")
        lr = self.config(remedy)["learning_rate"]
        head = f"Switches {old + ' ' if old else ''}to {name} (learning rate {as_code(lr)})"
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
            f"Rescales each weight's gradient to a norm of at most {as_code(remedy.params['clipnorm'])} before the "
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
        editor.set_optimizer_kwarg("clipnorm", as_code(remedy.params["clipnorm"]), remedy=remedy)
