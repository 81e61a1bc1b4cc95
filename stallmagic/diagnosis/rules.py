"""The rule registry and the small helpers rules share.

A rule is a pure function ``rule(run, signals) -> Finding | None``. Adding a cause means one function in the
module of its family, one line in :data:`RULES` (see :mod:`stallmagic.diagnosis`), and one test scenario.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ..record import Run
from .report import Finding
from .signals import Signals

Rule = Callable[[Run, Signals], "Finding | None"]


def ramp(x: float | None, lo: float, hi: float) -> float:
    """0 at or below ``lo``, 1 at or above ``hi``, linear between (``lo > hi`` ramps downwards); 0 for None/NaN."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return 0.0
    if lo == hi:
        return 1.0 if x >= hi else 0.0
    t = (x - lo) / (hi - lo)
    return float(min(1.0, max(0.0, t)))


def pct(x: float) -> str:
    """``0.4567`` -> ``"46%"``."""
    return f"{100 * x:.0f}%"


def num(x: float | None, digits: int = 3) -> str:
    """A number for a sentence: 3 significant digits, ``?`` when unknown."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "?"
    return f"{x:.{digits}g}"
