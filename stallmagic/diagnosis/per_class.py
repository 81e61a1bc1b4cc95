"""Per-class recall and the confusion matrix of a classifier's final predictions: what a class-imbalance finding
looks like, class by class.

A finding says "the minority class is rarely predicted"; the per-class view shows it: the recall of each class on
the validation sample (the diagnosis's one prediction pass) and on a spread of training rows
(:attr:`~stallmagic.diagnosis.measurements.Measurements.train_sample_pred`), and the validation confusion matrix.
The diagnosis keeps it on its report (:attr:`~stallmagic.diagnosis.report.Report.per_class`); the panel, the static
twin and the exports draw it (:mod:`stallmagic.render.classes`). Pure: numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .signals.predictions import predicted_classes

if TYPE_CHECKING:
    from .signals import Signals
    from .signals.targets import Labels


@dataclass
class PerClass:
    """A classifier's final predictions, class by class.

    Attributes:
        classes: The class names (the target values as text, or the one-hot column), in index order.
        confusion: ``confusion[i][j]`` counts the rows of true class ``i`` predicted as class ``j``, on the sample
            named by ``split`` (every counted row once: the matrix sums to ``rows``).
        split: ``"validation"``, or ``"training"`` when the fit had no validation rows.
        rows: The rows the confusion matrix counts.
        val_recall: Recall of each class on the validation sample (``None`` for a class with no row there, or
            every entry ``None`` without validation predictions).
        train_recall: The same on the training rows predicted (empty when none were).
        train_rows: How many training rows ``train_recall`` is measured on.
    """

    classes: list[str]
    confusion: list[list[int]]
    split: str = "validation"
    rows: int = 0
    val_recall: list[float | None] = field(default_factory=list)
    train_recall: list[float | None] = field(default_factory=list)
    train_rows: int = 0

    def worst_first(self) -> list[int]:
        """Class indices ordered by recall, lowest first (validation, else training); classes without rows last."""

        def key(i: int) -> tuple:
            recall = self.val_recall[i] if self.split == "validation" else self.train_recall[i]
            return (recall is None, recall if recall is not None else 0.0, i)

        return sorted(range(len(self.classes)), key=key)

    def to_dict(self) -> dict:
        return {
            "classes": list(self.classes),
            "confusion": [list(row) for row in self.confusion],
            "split": self.split,
            "rows": self.rows,
            "val_recall": _rounded(self.val_recall),
            "train_recall": _rounded(self.train_recall),
            "train_rows": self.train_rows,
        }


def _rounded(values: list[float | None]) -> list[float | None]:
    return [None if v is None else round(float(v), 4) for v in values]


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, k: int) -> np.ndarray:
    """Counts of shape (k, k): ``[i, j]`` rows of true class ``i`` predicted as ``j``; rows whose true or predicted
    class is outside ``0..k-1`` (``-1``: unknown) are left out."""
    true, predicted = np.asarray(true, dtype=np.int64), np.asarray(predicted, dtype=np.int64)
    ok = (true >= 0) & (true < k) & (predicted >= 0) & (predicted < k)
    return np.bincount(true[ok] * k + predicted[ok], minlength=k * k).reshape(k, k)


def recall_from_confusion(confusion: np.ndarray) -> list[float | None]:
    """Each class's recall, ``confusion[i, i] / confusion[i].sum()``; ``None`` for a class with no row."""
    confusion = np.asarray(confusion)
    support = confusion.sum(axis=1)
    return [float(confusion[i, i] / support[i]) if support[i] else None for i in range(len(confusion))]


def _class_axis(labels: Labels, predicted: list[np.ndarray]) -> tuple[list[str], list[np.ndarray]]:
    """The class names and each prediction as an index into them.

    Predictions are class indices already (:func:`~.signals.predictions.predicted_classes` maps output units onto
    the labels' classes); a unit no label names (``-1``) counts in one extra column, ``other``, so every row still
    counts once.
    """
    names = [str(c) for c in labels.classes.tolist()]
    if not any((np.asarray(p) < 0).any() for p in predicted):
        return names, predicted
    k = len(names)
    return [*names, "other"], [np.where(np.asarray(p) < 0, k, p).astype(np.int64) for p in predicted]


def per_class(
    labels: Labels | None, val_predicted: np.ndarray | None, train_predicted: np.ndarray | None = None,
    train_rows: np.ndarray | None = None,
) -> PerClass | None:
    """The per-class view from targets read as classes and the predicted class of each row.

    Args:
        labels: The sampled targets as class indices (:class:`~.signals.targets.Labels`).
        val_predicted: The predicted class of each validation sample row (aligned with ``labels.val``), or ``None``.
        train_predicted: The predicted class of the training sample rows ``train_rows`` (all of them when
            ``train_rows`` is ``None``), or ``None``.
        train_rows: Which rows of the training sample ``train_predicted`` is of.

    Returns:
        :class:`PerClass`, the confusion matrix on validation (on training without validation predictions); ``None``
        without classes or predictions.
    """
    if labels is None or labels.k == 0:
        return None
    pairs = []
    if val_predicted is not None and labels.val is not None and len(val_predicted) == len(labels.val):
        pairs.append(("validation", labels.val, val_predicted))
    if train_predicted is not None and labels.train is not None:
        true = labels.train if train_rows is None else labels.train[np.asarray(train_rows, dtype=np.int64)]
        if len(true) == len(train_predicted):
            pairs.append(("training", true, train_predicted))
    if not pairs:
        return None
    names, mapped = _class_axis(labels, [p for _, _, p in pairs])
    k = len(names)
    matrices = {split: confusion_matrix(true, pred, k) for (split, true, _), pred in zip(pairs, mapped, strict=True)}
    split = pairs[0][0]
    val, train = matrices.get("validation"), matrices.get("training")
    return PerClass(
        classes=names,
        confusion=matrices[split].tolist(),
        split=split,
        rows=int(matrices[split].sum()),
        val_recall=recall_from_confusion(val) if val is not None else [None] * k,
        train_recall=recall_from_confusion(train) if train is not None else [],
        train_rows=int(train.sum()) if train is not None else 0,
    )


def from_signals(signals: Signals) -> PerClass | None:
    """The per-class view of a diagnosis: validation predictions, and the training rows predicted (all the training
    sample when the fit had no validation, else the spread :mod:`~stallmagic.diagnosis.measure` predicted)."""
    labels = signals.labels
    if signals.task != "classification" or labels is None:
        return None
    m = signals.measurements
    if m.train_pred is not None:
        train_pred, rows = m.train_pred, None
    else:
        train_pred, rows = m.train_sample_pred, m.train_sample_rows
    train_predicted = None
    if train_pred is not None and labels.train is not None:
        targets = labels.train if rows is None else labels.train[np.asarray(rows, dtype=np.int64)]
        train_predicted = predicted_classes(train_pred, labels, targets=targets)
    return per_class(labels, signals.val_predicted, train_predicted, rows)


__all__ = ["PerClass", "confusion_matrix", "from_signals", "per_class", "recall_from_confusion"]
