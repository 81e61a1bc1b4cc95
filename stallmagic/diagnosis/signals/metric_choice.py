"""Which logged metric "validation accuracy" means for a run: the one the diagnosis judges the run on.

Keras logs metrics under many names (``accuracy``, ``sparse_categorical_accuracy``, ``auc_1``); a run may log no
accuracy at all (then its loss is judged), and a user may ask for another metric by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Log keys read as "accuracy", in order of preference; any other key ending in "accuracy" comes next, then AUC.
ACCURACY_KEYS = ("accuracy", "acc", "sparse_categorical_accuracy", "categorical_accuracy", "binary_accuracy")


#: Names under which Keras chooses the accuracy itself, from the shapes of targets and outputs.
KERAS_PICKS_ACCURACY = ("accuracy", "acc")


@dataclass(frozen=True)
class MetricChoice:
    """Which logged keys stand for "accuracy" in this run.

    ``kind`` is ``"accuracy"``, ``"auc"`` or ``"loss"`` (no accuracy-like metric was logged). ``note`` explains a
    fallback, e.g. a ``--metric`` that the run did not log.
    """

    train_key: str | None
    val_key: str | None
    kind: str
    higher_is_better: bool
    note: str | None = None


def resolve_metric(logs: Mapping[str, Any], requested: str | None = None, output: str | None = None) -> MetricChoice:
    """Pick the metric that "validation accuracy" means for this run.

    ``requested`` (e.g. ``"auc"`` or ``"val_auc"``) wins when logged; otherwise the first accuracy-like key, then
    AUC, then the loss. A requested metric that was not logged falls back with a note that lists what was. With
    several outputs, ``output`` (:attr:`Run.judged_output <stallmagic.record.Run.judged_output>`) names the one
    judged: its keys (``<output>_accuracy``) come first.
    """
    train_keys = [k for k in logs if not k.startswith("val_")]
    note = None
    if requested:
        base = requested[4:] if requested.startswith("val_") else requested
        if base in logs:
            hib = not is_loss_like(base)
            kind = "loss" if not hib else ("auc" if "auc" in base else "accuracy")
            return MetricChoice(base, f"val_{base}" if f"val_{base}" in logs else None, kind, hib)
        note = (
            f"The metric {requested!r} was not logged by this run. Available metrics are: "
            f"{', '.join(train_keys) or 'none'}."
        )
    candidates = [k for k in ACCURACY_KEYS if k in logs]
    candidates += [k for k in train_keys if k.endswith("accuracy") and k not in candidates]
    kind = "accuracy"
    if not candidates:
        candidates = [k for k in train_keys if k == "auc" or k.startswith("auc") or k.endswith("_auc")]
        kind = "auc"
    if output is not None:  # the judged output's own keys first (a stable sort keeps Keras's order otherwise)
        candidates.sort(key=lambda k: not k.startswith(f"{output}_"))
    if candidates:
        key = candidates[0]
        return MetricChoice(key, f"val_{key}" if f"val_{key}" in logs else None, kind, True, note)
    if "loss" in logs:
        return MetricChoice("loss", "val_loss" if "val_loss" in logs else None, "loss", False, note)
    return MetricChoice(None, None, "loss", False, note)


def is_loss_like(key: str) -> bool:
    """Whether a log key names something to minimize (a loss or an error), so its curve improves downwards."""
    k = key.lower()
    return "loss" in k or "error" in k or k in {"mse", "mae", "msle", "mape"}


__all__ = ["ACCURACY_KEYS", "KERAS_PICKS_ACCURACY", "MetricChoice", "is_loss_like", "resolve_metric"]
