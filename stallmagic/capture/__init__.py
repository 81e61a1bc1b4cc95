"""Capture: Keras objects and fits into plain records.

:func:`capture` intercepts every ``fit`` inside its block (:mod:`.intercept`), an epoch callback records the
curves (:mod:`.recorder`), and :mod:`.describe` snapshots the model, loss, optimizer and data into
:mod:`stallmagic.record` dataclasses. Nothing downstream touches a Keras object except through these records, the
Keras-side probes (:mod:`stallmagic.diagnosis.measure`) and the rerun engine (:mod:`stallmagic.rerun`).
"""

from __future__ import annotations

from .intercept import capture, is_patched, original_fit

__all__ = ["capture", "is_patched", "original_fit"]
