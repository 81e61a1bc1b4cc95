"""One entry point for the gradient probe's backend-specific step: the loss and its gradients, on whichever Keras
backend is running.

Each backend has its own small module (:mod:`.probe_tf`, :mod:`.probe_jax`, :mod:`.probe_torch`), imported only
when that backend runs, so none of them imports a framework the user did not install. They all return the same
thing (the loss ``fit`` minimises, evaluated with ``training=False``, and numpy gradients), so the probe's figures
mean the same on every backend.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

#: The module holding ``loss_and_gradients`` for each backend the probe supports.
BACKENDS = {"tensorflow": "probe_tf", "jax": "probe_jax", "torch": "probe_torch"}

LossAndGradients = Callable[[Any, list, Any, Any], tuple[float, list[np.ndarray | None]]]


def loss_and_gradients_for(backend: str) -> LossAndGradients | None:
    """The ``loss_and_gradients(model, variables, x, y)`` function of ``backend``; ``None`` when the probe has none
    there (the report then says "not measured")."""
    name = BACKENDS.get(backend)
    if name is None:
        return None
    from importlib import import_module

    return import_module(f"{__package__}.{name}").loss_and_gradients


__all__ = ["BACKENDS", "loss_and_gradients_for"]
