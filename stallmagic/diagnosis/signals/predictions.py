"""What the network's own final predictions say: the class it predicts per row, its recall per class, its R² and
its accuracy per element, in the units the cheap baseline is scored in.

The predictions are measured once after the fit (:attr:`Measurements.val_pred`, or :attr:`Measurements.train_pred`
when the fit had no validation rows); comparing them with the baseline tells a network that cannot learn from data
that cannot be learned. Pure: numpy only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ..measurements import ArraySample
from .targets import Labels

#: (sample, the network's predictions on its rows), validation first: the first pair with both is scored.
Scored = Iterable[tuple["ArraySample | None", "np.ndarray | None"]]


def predicted_classes(
    pred: np.ndarray | None, labels: Labels | None, *, targets: np.ndarray | None = None
) -> np.ndarray | None:
    """The class index (aligned with ``labels.val``, or with ``targets``) the network predicts for each row.

    One output unit is a binary probability (class 1 at 0.5 or more); several units, one score per class (the
    argmax). ``None`` when the outputs cannot be read as classes (one unit for several classes, a width that is
    not the number of one-hot columns: the loss/output rule says why), or the rows do not line up.

    ``targets``: the class indices the predicted rows belong to (default ``labels.val``, the validation sample).
    """
    targets = labels.val if targets is None and labels is not None else targets
    if pred is None or labels is None or targets is None:
        return None
    pred = np.asarray(pred, dtype=float).reshape(len(pred), -1)
    if len(pred) != len(targets):
        return None
    if pred.shape[1] == 1:
        if labels.k > 2:
            return None  # one output unit for several classes (the loss mismatch rule says why)
        return (pred[:, 0] >= 0.5).astype(np.int64)
    if pred.shape[1] != labels.k and labels.fmt == "onehot":
        return None  # outputs that are not one score per class (the loss mismatch rule says why)
    units = pred.argmax(axis=1)
    if labels.fmt != "sparse":
        return units  # one-hot columns are the classes' indices
    # a sparse label is the number of its output unit, and Labels index the values seen (labels 1..3 on four
    # units are indices 0..2): map each predicted unit to its class index, -1 for a unit no label names
    index = {int(c): i for i, c in enumerate(np.asarray(labels.classes).tolist())}
    return np.array([index.get(int(u), -1) for u in units], dtype=np.int64)


def class_probabilities(pred: np.ndarray | None, labels: Labels | None) -> np.ndarray | None:
    """The network's validation outputs as class probabilities of shape (n, k), aligned with ``labels.val``.

    One sigmoid unit for two classes gives ``[1 - p, p]``; one unit per class gives its row, which must already be
    a probability distribution (softmax; logits and other scores give ``None``: their size is not a confidence).
    """
    if pred is None or labels is None or labels.val is None:
        return None
    pred = np.asarray(pred, dtype=float).reshape(len(pred), -1)
    if len(pred) != len(labels.val) or not np.isfinite(pred).all() or pred.min() < 0 or pred.max() > 1:
        return None
    if pred.shape[1] == 1 and labels.k == 2:
        return np.c_[1 - pred[:, 0], pred[:, 0]]
    if pred.shape[1] == labels.k and np.allclose(pred.sum(axis=1), 1, atol=1e-3):
        return pred
    return None


def recall_by_class(predicted: np.ndarray, y: np.ndarray) -> dict[int, float]:
    """Recall of each class present in ``y`` (class index -> share of its rows predicted as it); ``-1`` rows (no
    known class) are left out."""
    recall = {}
    for c in np.unique(y[y >= 0]):
        mask = y == c
        recall[int(c)] = float(np.mean(predicted[mask] == c))
    return recall


def r_squared(scored: Scored) -> float | None:
    """R² of the final predictions against the targets (first output column), on the first sample that has both.

    Returns:
        ``-inf`` for non-finite predictions; ``None`` with fewer than 5 rows, misaligned rows, constant targets,
        or nothing to score.
    """
    for sample, pred in scored:
        if sample is None or sample.y is None or pred is None:
            continue
        y = np.asarray(sample.y, dtype=float).reshape(len(sample.y), -1)[:, 0]
        p = np.asarray(pred, dtype=float).reshape(len(pred), -1)[:, 0]
        if len(p) != len(y) or len(y) < 5:
            return None
        if not np.isfinite(p).all():
            return -math.inf
        var = float(np.var(y))
        return 1.0 - float(np.mean((y - p) ** 2)) / var if var > 0 else None
    return None


def output_reach(scored: Scored) -> float | None:
    """How far the final predictions reach toward the targets' scale: (|mean| + standard deviation) of the
    predictions over the same of the targets (first output column), on the first sample that has both.

    A network whose outputs start near 0 must grow its last layer's weights to the targets' size before anything
    else; with targets in the thousands and a learning rate of 1e-3 it never gets there, and its predictions stay a
    small fraction of the targets whatever its inputs are.

    Returns:
        ``None`` with fewer than 5 rows, misaligned rows, non-finite predictions, targets of scale 0, or nothing to
        score.
    """
    for sample, pred in scored:
        if sample is None or sample.y is None or pred is None:
            continue
        y = np.asarray(sample.y, dtype=float).reshape(len(sample.y), -1)[:, 0]
        p = np.asarray(pred, dtype=float).reshape(len(pred), -1)[:, 0]
        if len(p) != len(y) or len(y) < 5 or not np.isfinite(p).all() or not np.isfinite(y).all():
            return None
        target_scale = float(abs(y.mean()) + y.std())
        return float(abs(p.mean()) + p.std()) / target_scale if target_scale > 0 else None
    return None


def elementwise_accuracy(scored: Scored) -> float | None:
    """Share of 0/1 target elements the final predictions get right (at 0.5), on the first sample that has both;
    as Keras's binary accuracy scores a multi-label or per-position output."""
    for sample, pred in scored:
        if sample is None or sample.y is None or pred is None:
            continue
        y = np.asarray(sample.y, dtype=float).reshape(len(sample.y), -1)
        p = np.asarray(pred, dtype=float).reshape(len(pred), -1)
        return float(np.mean((p >= 0.5) == (y >= 0.5))) if p.shape == y.shape else None
    return None


__all__ = [
    "class_probabilities",
    "elementwise_accuracy",
    "output_reach",
    "predicted_classes",
    "r_squared",
    "recall_by_class",
]
