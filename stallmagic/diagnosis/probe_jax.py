"""The gradient probe's one backend-specific step on JAX: the training loss and its gradient with respect to
chosen variables, through ``jax.value_and_grad``.

JAX differentiates functions of arrays, not stateful variables, so the model is called inside a
``keras.StatelessScope`` that maps every variable to a traced value (what ``model.stateless_call`` does, and what
Keras's own JAX train step does around ``compute_loss``); the regularization losses read the same mapped values.
The figures mean exactly what :mod:`.probe_tf` gives: the same loss, the same gradients.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def loss_and_gradients(model: Any, variables: list, x: Any, y: Any) -> tuple[float, list[np.ndarray | None]]:
    """``(loss, gradients)``: the loss ``model.compute_loss`` gives on ``(x, y)`` with ``training=False`` and its
    gradient for each of ``variables`` (``None`` for a variable that is not one of the model's trainable ones)."""
    import jax
    import keras

    trainable = list(model.trainable_variables)
    fixed = [(v, v.value) for v in model.non_trainable_variables]

    def loss_of(values: list) -> Any:
        with keras.StatelessScope(state_mapping=[*zip(trainable, values), *fixed]):
            y_pred = model(x, training=False)
            return model.compute_loss(x=x, y=y, y_pred=y_pred, training=False)

    loss, grads = jax.value_and_grad(loss_of)([v.value for v in trainable])
    position = {id(v): i for i, v in enumerate(trainable)}
    return float(loss), [
        np.asarray(grads[position[id(v)]]) if id(v) in position else None for v in variables
    ]
