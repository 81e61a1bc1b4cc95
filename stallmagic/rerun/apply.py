"""Temporary shim for the merge of issue 10 ("the house"): the old ``stallmagic.rerun.apply`` split into
:mod:`.plan` (Baseline, Plan), :mod:`.data` (array helpers), :mod:`.training` (compile, callbacks, optimizer
reset) and :mod:`.surgery` (model edits and rebuilds).

It re-exports exactly the names other packages import from here, so their branches keep working until the lead
points those imports at the new homes; then this module is deleted. Add nothing to it.
"""

from __future__ import annotations

from .data import balanced_class_weight, map_arrays, standardize_stats, take_rows
from .surgery import KERNEL_LAYERS, SATURATING
from .training import LOSS_CLASSES

__all__ = [
    "KERNEL_LAYERS", "LOSS_CLASSES", "SATURATING", "balanced_class_weight", "map_arrays", "standardize_stats",
    "take_rows",
]  # fmt: skip
