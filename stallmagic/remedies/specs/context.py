"""What the words and code of a remedy need to know about the run it is for, read from the run's records (pure).

:func:`~stallmagic.remedies.suggest` stores this in ``Remedy.context`` so that ``describe`` and ``as_code`` can
say "instead of 0.3" or write the user's loss and metrics without a Keras model at hand (a report read back from
JSON has none).
"""

from __future__ import annotations

from typing import Any

from ...record import Run
from ..remedy import Remedy


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


def lr_from_context(remedy: Remedy) -> float | None:
    """The run's learning rate as the context recorded it, or ``None`` (a schedule, or no model record)."""
    lr = remedy.context.get("learning_rate")
    return float(lr) if isinstance(lr, (int, float)) else None
