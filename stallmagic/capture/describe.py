"""TEMPORARY re-export shim: the old names of :mod:`stallmagic.capture.snapshot` and :mod:`.activations`.

Kept only so that packages not yet updated keep importing while issue 10's branches are merged; the lead deletes
this module once every caller imports the new names. Do not import from it in new code.

Old name -> new home: ``describe_fit`` -> ``snapshot.snapshot_fit``, ``describe_model`` ->
``snapshot.snapshot_model``, ``describe_layers`` -> ``snapshot.snapshot_layers``, ``describe_loss`` ->
``snapshot.snapshot_loss``, ``data_kind`` and ``n_rows`` -> ``snapshot``, ``activation_name`` and
``output_activation`` -> ``activations``, ``_layer_activation`` -> ``activations.layer_activation``.
"""

from __future__ import annotations

from .activations import activation_name, output_activation
from .activations import layer_activation as _layer_activation
from .snapshot import data_kind, n_rows
from .snapshot import snapshot_fit as describe_fit
from .snapshot import snapshot_layers as describe_layers
from .snapshot import snapshot_loss as describe_loss
from .snapshot import snapshot_model as describe_model

__all__ = [
    "_layer_activation",
    "activation_name",
    "data_kind",
    "describe_fit",
    "describe_layers",
    "describe_loss",
    "describe_model",
    "n_rows",
    "output_activation",
]
