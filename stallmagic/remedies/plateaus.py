"""When Keras's monitor callbacks would act on a recorded curve: pure replays of ``EarlyStopping`` and
``ReduceLROnPlateau`` over a run's per-epoch values.

A rerun starts from the same weights with the same seeds, so until a callback first acts it retraces the baseline
epoch for epoch. Replaying the callback's rule on the baseline's curve therefore tells, before any training,
whether the remedy would change anything; one that would not is offered disabled, with the reason. The rules are
Keras 3's (``keras/src/callbacks``): an improvement is ``value - min_delta < best`` (or ``>`` for metrics to
maximize); early stopping counts the epochs since the last improvement, the plateau rule the epochs without one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def _improves(value: float, best: float | None, min_delta: float, minimize: bool) -> bool:
    if best is None:
        return True
    if not math.isfinite(value):
        return False
    return value - min_delta < best if minimize else value + min_delta > best


def early_stop_epoch(values: Sequence[float], *, patience: int, min_delta: float = 0.0, minimize: bool) -> int | None:
    """The epoch (0-based) at which ``EarlyStopping`` would stop training on this curve, or ``None``."""
    best, wait = None, 0
    for epoch, value in enumerate(values):
        wait += 1
        if _improves(value, best, min_delta, minimize):
            best, wait = value, 0
            continue
        if wait >= patience and epoch > 0:
            return epoch
    return None


def best_epoch(values: Sequence[float], *, min_delta: float = 0.0, minimize: bool) -> int | None:
    """The epoch whose weights ``EarlyStopping(restore_best_weights=True)`` keeps: the last improvement."""
    best, at = None, None
    for epoch, value in enumerate(values):
        if _improves(value, best, min_delta, minimize):
            best, at = value, epoch
    return at


def first_reduction_epoch(
    values: Sequence[float], *, patience: int, min_delta: float = 0.0, minimize: bool, cooldown: int = 0
) -> int | None:
    """The epoch (0-based) at whose end ``ReduceLROnPlateau`` would first lower the rate, or ``None``."""
    best, wait, cool = None, 0, 0
    for epoch, value in enumerate(values):
        if cool > 0:
            cool -= 1
            wait = 0
        if _improves(value, best, min_delta, minimize):
            best, wait = value, 0
        elif cool == 0:
            wait += 1
            if wait >= patience:
                return epoch
    return None


__all__ = ["best_epoch", "early_stop_epoch", "first_reduction_epoch"]
