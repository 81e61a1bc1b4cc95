"""How targets are encoded, and targets read as classes.

Keras accepts class labels in several encodings (integer indices, one-hot or soft rows, 0/1 columns, strings) and
never says which one a fit used; the checks on classes (balance, label noise, a loss that cannot read the labels)
need to know. :func:`label_format` tells the encoding from the values alone, :func:`class_values` reads each row's
class, and :func:`as_classes` maps the sampled splits onto class indices 0..k-1. Pure: numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..measurements import ArraySample

#: At most this many distinct integer targets still read as class labels.
MAX_CLASSES = 100


@dataclass(frozen=True)
class Labels:
    """Targets read as classes: ``fmt`` is ``sparse``, ``onehot``, ``binary_prob`` (one column of 0/1 values),
    ``multilabel`` or ``continuous``; ``classes`` the distinct class values (sorted); ``train``/``val`` the class
    index (0..k-1) of each sampled row, ``train_all``/``val_all`` of every row of the split when known."""

    fmt: str
    classes: np.ndarray
    train: np.ndarray | None
    val: np.ndarray | None
    train_all: np.ndarray | None
    val_all: np.ndarray | None

    @property
    def k(self) -> int:
        return len(self.classes)


def label_format(y: np.ndarray) -> str:
    """How targets are encoded (see :class:`Labels`); ``per_position`` for one target per position of a sequence
    or an image (shape ``(n, steps, ...)``), which has no single label per row."""
    y = np.asarray(y)
    if y.ndim >= 3 and int(np.prod(y.shape[1:])) > 1:
        return "per_position"
    if y.ndim >= 2 and y.shape[-1] > 1:
        flat = y.reshape(len(y), -1)
        if not np.isfinite(flat).all():
            return "continuous"
        binary = np.isin(flat, (0, 1)).all()
        if binary and np.allclose(flat.sum(axis=1), 1):
            return "onehot"
        if binary:
            return "multilabel"
        if np.all(flat >= 0) and np.allclose(flat.sum(axis=1), 1, atol=1e-3):
            return "onehot"  # soft labels (label smoothing, mixup): argmax is the class
        return "continuous"
    flat = y.reshape(-1)
    if flat.dtype.kind in "biu":
        return "sparse"
    if flat.dtype.kind == "f":
        finite = flat[np.isfinite(flat)]
        if len(finite) and np.allclose(finite, np.round(finite)) and len(np.unique(finite)) <= MAX_CLASSES:
            return "sparse"
        return "continuous"
    if flat.dtype.kind in "OUS":
        return "sparse"  # string labels
    return "continuous"


def class_values(y: np.ndarray, fmt: str) -> np.ndarray:
    """Each row's class value: the label itself (sparse) or its argmax (one-hot)."""
    y = np.asarray(y)
    if fmt == "onehot":
        return y.reshape(len(y), -1).argmax(axis=1)
    flat = y.reshape(len(y), -1)[:, 0] if y.ndim > 1 else y
    if flat.dtype.kind == "f":
        flat = np.where(np.isfinite(flat), flat, -1)
        return np.round(flat).astype(np.int64)
    return flat


def sparse_per_position(y: np.ndarray, loss_name: str | None) -> bool:
    """Targets with several values per row under a sparse loss: a class index per position (a class per step of a
    sequence, of shape ``(n, steps)``), which :func:`label_format` alone would read as rows of several columns."""
    y = np.asarray(y)
    return loss_name == "sparse_categorical_crossentropy" and y.ndim >= 2 and int(np.prod(y.shape[1:])) > 1


def as_classes(train: ArraySample | None, val: ArraySample | None, fmt: str) -> Labels:
    """The sampled targets of both splits (and of the whole splits when known) as class indices 0..k-1.

    Args:
        train: The training sample (``None`` when not sampled).
        val: The validation sample (``None`` without validation).
        fmt: The encoding of the targets (:func:`label_format`), one of the class formats.

    Returns:
        :class:`Labels` whose classes are the distinct non-negative values seen in any split (one per column for
        one-hot rows, even a column no row uses), and whose rows map onto their index (``-1`` for none).
    """

    def values(y: np.ndarray | None) -> np.ndarray | None:
        return None if y is None else class_values(y, fmt if label_format(y) != "continuous" else "sparse")

    parts = {
        "train": values(train.y) if train else None,
        "val": values(val.y) if val else None,
        "train_all": values(train.y_all) if train and train.y_all is not None else None,
        "val_all": values(val.y_all) if val and val.y_all is not None else None,
    }
    present = [v for v in parts.values() if v is not None]
    classes = np.unique(np.concatenate([np.asarray(v).reshape(-1) for v in present]))
    classes = classes[classes >= 0] if classes.dtype.kind in "iu" else classes
    if fmt == "onehot":
        first = next(s.y for s in (train, val) if s is not None and s.y is not None)
        classes = np.arange(first.reshape(len(first), -1).shape[1])
    index = {c: i for i, c in enumerate(classes.tolist())}
    mapped = {
        k: None if v is None else np.array([index.get(c, -1) for c in np.asarray(v).tolist()], dtype=np.int64)
        for k, v in parts.items()
    }
    return Labels(fmt, classes, mapped["train"], mapped["val"], mapped["train_all"], mapped["val_all"])


def elementwise_majority(sample: ArraySample | None, loss_name: str | None) -> float | None:
    """For 0/1 targets scored element by element (per-position or multi-label outputs with a binary loss): the
    share of the most common value over all elements, what a constant guess scores; else ``None``."""
    if sample is None or sample.y is None or loss_name != "binary_crossentropy":
        return None
    y = np.asarray(sample.y, dtype=float)
    if y.size == 0 or not np.isin(y[np.isfinite(y)], (0.0, 1.0)).all():
        return None
    ones = float(np.nanmean(y))
    return max(ones, 1.0 - ones)


__all__ = [
    "MAX_CLASSES", "Labels", "as_classes", "class_values", "elementwise_majority", "label_format",
    "sparse_per_position",
]  # fmt: skip
