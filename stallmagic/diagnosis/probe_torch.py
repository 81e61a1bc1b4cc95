"""The gradient probe's one backend-specific step on torch: the training loss and its gradient with respect to
chosen variables, through ``torch.autograd.grad``.

On the torch backend a Keras variable's ``value`` is a ``torch.nn.Parameter``; the loss is computed as on the other
backends (:mod:`.probe_tf`) and differentiated without touching the parameters' ``.grad`` (so the user's model
keeps no gradient from the probe).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def loss_and_gradients(model: Any, variables: list, x: Any, y: Any) -> tuple[float, list[np.ndarray | None]]:
    """``(loss, gradients)``: the loss ``model.compute_loss`` gives on ``(x, y)`` with ``training=False`` and its
    gradient for each variable (``None`` where the loss does not depend on it)."""
    import torch

    params = [v.value for v in variables]
    with torch.enable_grad():
        y_pred = model(x, training=False)
        loss = model.compute_loss(x=x, y=y, y_pred=y_pred, training=False)
        grads = torch.autograd.grad(loss, params, allow_unused=True)
    return float(loss.detach().cpu()), [None if g is None else g.detach().cpu().numpy() for g in grads]
