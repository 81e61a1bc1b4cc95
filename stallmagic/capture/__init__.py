"""Capture: Keras objects and fits into plain records.

:func:`capture` intercepts every ``fit`` inside its block (:mod:`.intercept`), an epoch callback records the
curves (:mod:`.recorder`), and :mod:`.snapshot` copies the model, loss, optimizer and fit arguments into
:mod:`stallmagic.record` dataclasses (:mod:`.activations` reads which activation the model ends in). Nothing
downstream touches a Keras object except through these records, the Keras-side probes
(:mod:`stallmagic.diagnosis.measure`) and the rerun engine (:mod:`stallmagic.rerun`).

Importing this package does not import Keras: the interception imports it when the first block opens.
"""

from __future__ import annotations

from .activations import activation_name, layer_activation, output_activation
from .intercept import capture, is_patched, original_fit
from .snapshot import data_kind, n_rows, snapshot_fit, snapshot_layers, snapshot_loss, snapshot_model

__all__ = [
    "activation_name",
    "capture",
    "data_kind",
    "is_patched",
    "layer_activation",
    "n_rows",
    "original_fit",
    "output_activation",
    "snapshot_fit",
    "snapshot_layers",
    "snapshot_loss",
    "snapshot_model",
]
