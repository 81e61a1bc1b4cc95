"""The rerun engine: train again from a run's starting weights with one change, and compare.

:func:`rerun` and :func:`restore` (:mod:`.engine`), the plan a remedy edits and its application to Keras
(:mod:`.apply`), :func:`compare` and :func:`sweep`.
"""

from __future__ import annotations

from .engine import (
    Comparison,
    RerunWarning,
    SweepResult,
    compare,
    final_weights,
    release,
    rerun,
    restore,
    root_of,
    sweep,
)

__all__ = [
    "Comparison", "RerunWarning", "SweepResult", "compare", "final_weights", "release", "rerun", "restore",
    "root_of", "sweep",
]  # fmt: skip
