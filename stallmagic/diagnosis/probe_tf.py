"""The gradient probe's one backend-specific step on TensorFlow: the training loss and its gradient with respect
to chosen variables, through ``tf.GradientTape``.

Called by :mod:`.probe_backends` with the model holding the weights to probe; everything else the probe measures
(norms, weight change, dead ReLUs) is computed the same way on every backend in :mod:`.measure`.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def loss_and_gradients(model: Any, variables: list, x: Any, y: Any) -> tuple[float, list[np.ndarray | None]]:
    """``(loss, gradients)``: the loss ``model.compute_loss`` gives on ``(x, y)`` with ``training=False`` (every
    output's term and the regularization losses, as ``fit`` minimises it) and its gradient for each variable
    (``None`` where the loss does not depend on it)."""
    import tensorflow as tf

    with tf.GradientTape() as tape:
        y_pred = model(x, training=False)
        loss = model.compute_loss(x=x, y=y, y_pred=y_pred, training=False)
    grads = tape.gradient(loss, [v.value if hasattr(v, "value") else v for v in variables])
    return float(loss), [None if g is None else np.asarray(tf.convert_to_tensor(g)) for g in grads]
