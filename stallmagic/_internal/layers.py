"""Walking a Keras model's layers, duck-typed (no Keras import): every module that looks inside a model uses
these, so "is this layer a whole model?" has one answer."""

from __future__ import annotations

from typing import Any


def is_nested_model(layer: Any) -> bool:
    """A layer that is itself a model (a Sequential or Functional used as a layer): it has layers and can fit."""
    return hasattr(layer, "layers") and hasattr(layer, "fit")


def leaf_layers(model: Any) -> list:
    """The model's layers in order, nested models replaced by their own leaf layers (recursively)."""
    out: list = []
    for layer in getattr(model, "layers", []):
        if is_nested_model(layer):
            out.extend(leaf_layers(layer))
        else:
            out.append(layer)
    return out
