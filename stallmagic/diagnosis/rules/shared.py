"""What every rule shares: the :data:`Rule` signature, :func:`ramp` (how a measurement becomes a 0..1 strength
between two documented thresholds), the number formats of the sentences, and the symptom strengths that rules of
different families read alike.

Pure: no Keras, no IPython.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ..._internal.numbers import num, pct
from ...record import Run
from ..report import Finding
from ..signals import Signals

Rule = Callable[[Run, Signals], "Finding | None"]


def ramp(x: float | None, lo: float, hi: float) -> float:
    """0 at or below ``lo``, 1 at or above ``hi``, linear between (``lo > hi`` ramps downwards); 0 for None/NaN.

    Every rule turns its measurements into strengths with it, so a threshold is a pair of numbers in the rule's
    docstring rather than a cliff: a measurement just past ``lo`` weighs little.
    """
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return 0.0
    if lo == hi:
        return 1.0 if x >= hi else 0.0
    t = (x - lo) / (hi - lo)
    return float(min(1.0, max(0.0, t)))


def unfitted(s: Signals) -> float:
    """0..1: the network does not even fit what a quick model generalizes to: its best training accuracy stays
    0.1 to 0.3 below the baseline's validation accuracy, or (regression) its R² stays 0.2 to 0.5 below the
    baseline's (0 without a baseline)."""
    probe = s.probe
    if probe is None or probe.val_score is None:
        return 0.0
    if s.metric.kind == "accuracy" and s.acc is not None and s.acc.n:
        return ramp(probe.val_score - s.acc.best, 0.1, 0.3)
    if s.task == "regression" and s.shortfall is not None:
        return ramp(s.shortfall, 0.2, 0.5)
    return 0.0


def closes_in_time(shortfall: float | None, slope: float, epochs: int) -> bool:
    """Whether a curve climbing ``slope`` per epoch would close ``shortfall`` (in the same units) within twice the
    epochs run so far: the line between "it only needs more steps" (``train_longer``) and "it cannot get there"
    (``underfitting``), read the same way by both rules. No shortfall closes at once; a curve that does not climb
    never closes one."""
    if shortfall is None or shortfall <= 0:
        return True
    return slope > 0 and shortfall / slope <= 2 * max(1, epochs)


__all__ = ["Rule", "closes_in_time", "num", "pct", "ramp", "unfitted"]
