"""Every access to Keras's private API, in one module, with why it is needed.

Checked against Keras 3.15 (TensorFlow 2.21, JAX and torch backends). Each function degrades to a documented
fallback when a Keras release moves the private name, so a Keras upgrade costs a feature, never a crash.
``tests/internal/test_keras_private.py`` checks every one against the installed Keras, and that no other module
of the package names ``keras.src`` or a private Keras attribute.

Private names used: ``keras.src.utils.rng_utils.get_random_seed``, ``KerasTensor._keras_history``,
``Layer._flatten_layers``, ``Layer._seed_generators``, ``Layer._outbound_nodes``.
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


def all_layers(model: Any) -> list:
    """``model`` itself and every layer inside it, recursively (nested models, their layers, wrapped layers).

    ``model.layers`` lists the top level only, and misses layers a subclassed model or a wrapper holds as
    attributes; Keras's own complete walk is the private ``Layer._flatten_layers(include_self, recursive)``.
    Reruns need every layer to reset each random stream. Fallback: ``[model, *model.layers]``.
    """
    flatten = getattr(model, "_flatten_layers", None)
    if callable(flatten):
        try:
            return list(flatten(include_self=True, recursive=True))
        except TypeError:  # an older signature without the keywords
            return list(flatten())
    return [model, *getattr(model, "layers", [])]


def seed_generators(layer: Any) -> list:
    """The ``keras.random.SeedGenerator`` objects a layer draws its randomness from (dropout masks, noise).

    Keras tracks them in the private ``Layer._seed_generators`` list; there is no public accessor, and a rerun
    resets each one's ``state`` so the same masks come again. Fallback: ``[]`` (randomness not reset).
    """
    return list(getattr(layer, "_seed_generators", None) or [])


def consuming_layers(layer: Any) -> list:
    """The layers (operations) that take ``layer``'s output as input in a Functional graph.

    Keras records them only in the private ``Layer._outbound_nodes`` (each ``Node`` has a public ``operation``);
    remedies that edit the layer after a given one need them. Fallback: ``[]``.
    """
    out = []
    for node in getattr(layer, "_outbound_nodes", None) or []:
        op = getattr(node, "operation", None)
        if op is not None:
            out.append(op)
    return out


def compiled_with(model: Any) -> dict | None:
    """The arguments ``model.compile`` was called with, as the live objects (loss, metrics, optimizer), or ``None``.

    The public ``get_compile_config()`` serializes them, losing custom objects and their state; Keras keeps the
    originals in the private ``model._compile_config.config``. Reruns recompile with exactly those. ``None`` when
    the model was never compiled or a custom ``compile`` override kept no config.
    """
    config = getattr(getattr(model, "_compile_config", None), "config", None)
    return dict(config) if isinstance(config, dict) else None
