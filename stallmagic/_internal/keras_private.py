"""Every access to Keras's private API, in one module, with why it is needed.

Checked against Keras 3.15 (TensorFlow 2.21, JAX and torch backends). Each function degrades to a documented
fallback when a Keras release moves the private name, so a Keras upgrade costs a feature, never a crash.
``tests/internal/test_keras_private.py`` checks every one against the installed Keras, and that no other module
of the package names ``keras.src`` or a private Keras attribute.

Private names used: ``keras.src.utils.rng_utils.get_random_seed``, ``KerasTensor._keras_history``,
``Layer._flatten_layers``, ``Layer._seed_generators``, ``Layer._outbound_nodes``, ``Model._compile_config``, and
one of TensorFlow's: ``tensorflow.python.framework.ops._gradient_registry`` (checked against TensorFlow 2.21).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

#: How TensorFlow names the gradient it registers for each graph trace of a ``tf.custom_gradient`` function.
_CUSTOM_GRADIENT = "CustomGradient-"


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


def _tensorflow_gradient_table() -> dict | None:
    """TensorFlow's process-wide table of registered gradient functions, if TensorFlow is loaded (never imported
    here), else ``None``."""
    ops = sys.modules.get("tensorflow.python.framework.ops")
    table = getattr(getattr(ops, "_gradient_registry", None), "_registry", None)
    return table if isinstance(table, dict) else None


def custom_gradient_names() -> set[str]:
    """The names under which TensorFlow registered the gradients of ``tf.custom_gradient`` functions traced in graphs
    so far (``"CustomGradient-<uid>"``); an empty set without TensorFlow.

    TensorFlow registers one such gradient function per graph trace, in its private, process-wide
    ``tensorflow.python.framework.ops._gradient_registry``, and never removes it. The function holds the traced
    graph's tensors, so every train function traced for a model stays in memory after the model is gone: 6-7 MiB
    for a small MLP built and fit with Adam (Keras's TensorFlow optimizer traces one through ``tf.distribute``'s
    ``all_reduce``), the plain-Keras leak behind the memory a rebuilt model per rerun piled up. Reruns read these
    names before and after they trace, and drop the new ones (:func:`forget_custom_gradients`) once the model that
    traced them is collected or recompiled. There is no public way to drop them. Fallback: an empty set (nothing is
    dropped, and memory grows as it does without stallmagic).
    """
    table = _tensorflow_gradient_table()
    if table is None:
        return set()
    return {name for name in list(table) if isinstance(name, str) and name.startswith(_CUSTOM_GRADIENT)}


def forget_custom_gradients(names: Iterable[str]) -> None:
    """Drop the ``tf.custom_gradient`` registrations ``names`` (from :func:`custom_gradient_names`) whose graphs are
    no longer used. TensorFlow reads one only while it differentiates the graph that uses it, which for a train
    function happens while it is traced; callers drop the names of train functions that are gone. Names of any
    other kind, or already dropped, are left alone."""
    table = _tensorflow_gradient_table()
    if table is None:
        return
    for name in names:
        if isinstance(name, str) and name.startswith(_CUSTOM_GRADIENT):
            table.pop(name, None)
