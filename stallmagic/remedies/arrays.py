"""Array helpers for remedies that change the training data (and for the sweep's folds): they always return new
arrays and never mutate the user's (a rerun must leave the original run's inputs exactly as they were)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def map_arrays(data: Any, fn: Callable[[np.ndarray], Any]) -> Any:
    """Apply ``fn`` to every array of a (possibly nested) input structure, returning new arrays.

    The structure (dicts, lists, tuples of arrays) is walked by ``keras.tree``, the same walker Keras uses on
    ``fit``'s inputs, so a remedy sees the inputs as Keras will. ``keras.tree`` hands ``None`` to ``fn`` as a leaf;
    it stays ``None`` (an absent input, e.g. no sample weights), as ``fn`` expects arrays.
    """
    import keras

    return keras.tree.map_structure(lambda leaf: None if leaf is None else fn(np.asarray(leaf)), data)


def take_rows(data: Any, rows: np.ndarray) -> Any:
    """The rows ``rows`` of every array of a (possibly nested) input structure, as new arrays."""
    return map_arrays(data, lambda a: a[rows])


def class_index(y: Any) -> np.ndarray:
    """The class each row belongs to, as Keras's ``class_weight`` reads it (argmax of one-hot rows, else the
    rounded value)."""
    y = np.asarray(y)
    if y.ndim > 1 and y.shape[-1] > 1:
        return y.reshape(len(y), -1).argmax(axis=1)
    return np.round(y.reshape(len(y))).astype(np.int64)


def balanced_class_weight(y: Any) -> dict[int, float]:
    """scikit-learn's "balanced" weights, ``n_samples / (n_classes * np.bincount(y))``, for the classes present."""
    from sklearn.utils.class_weight import compute_class_weight

    idx = class_index(y)
    classes = np.unique(idx)
    weights = compute_class_weight("balanced", classes=classes, y=idx)
    return {int(c): round(float(w), 6) for c, w in zip(classes, weights)}


def standardize_stats(x: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and standard deviation (1 where a feature is constant) of the training inputs."""
    a = np.asarray(x, dtype=np.float64)
    flat = a.reshape(len(a), -1)
    finite = np.where(np.isfinite(flat), flat, np.nan)
    mean = np.nan_to_num(np.nanmean(finite, axis=0))
    std = np.nan_to_num(np.nanstd(finite, axis=0))
    std = np.where(std > 1e-12, std, 1.0)
    return mean, std
