"""Every access to Keras's private API, in one module, with why it is needed.

Checked against Keras 3.15 (TensorFlow 2.21, JAX and torch backends). Each function degrades to a documented
fallback when a Keras release moves the private name, so a Keras upgrade costs a feature, never a crash.
"""

from __future__ import annotations

from typing import Any


def user_random_seed() -> int | None:
    """The seed last given to ``keras.utils.set_random_seed``, or ``None``.

    Keras has no public getter (``keras.src.utils.rng_utils.get_random_seed``); reruns need the seed to start
    the same way as the original fit. ``None`` when the private name is gone or no seed was set.
    """
    try:
        from keras.src.utils.rng_utils import get_random_seed

        seed = get_random_seed()
    except Exception:  # another Keras layout: callers fall back to a fixed seed
        return None
    return int(seed) if isinstance(seed, int) else None


def producing_layer(tensor: Any) -> Any:
    """The layer (operation) that produced a symbolic tensor of a Functional/Sequential model, or ``None``.

    Keras keeps it in the private ``tensor._keras_history`` (``KerasHistory(operation, node_index,
    tensor_index)``; a plain tuple in older releases). There is no public way to walk from an output back to its
    layer, which the output-activation reading and the output-layer edits need.
    """
    history = getattr(tensor, "_keras_history", None)
    if history is None:
        return None
    op = getattr(history, "operation", None)
    if op is None and isinstance(history, tuple) and history:
        op = history[0]
    return op
