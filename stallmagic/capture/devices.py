"""Which devices a fit ran on: the ``tf.distribute`` strategy or the Keras distribution in force, and its replicas.

A fit on several devices is captured like any other; what a rerun needs on top is to build its optimizer, its
rebuilt layers and its callbacks inside the same strategy scope (TensorFlow) or distribution (Keras 3's
``keras.distribution``, JAX), and to keep each batch divisible by the number of replicas. Both are read once, when
the fit starts, from public API only: ``tf.distribute.has_strategy()``/``get_strategy()`` and the model's
``distribute_strategy`` (a model built under ``strategy.scope()`` and fitted outside it still trains on that
strategy), and ``keras.distribution.distribution()``.

The record keeps plain words (the class's public name, the replica count and the number of worker processes, in
:class:`~stallmagic.record.FitRecord`); the live strategy or distribution object stays on the Run
(``run.distribution``, never serialised). The name is the one the user wrote: ``tf.distribute`` exports some
classes under another name (``MultiWorkerMirroredStrategy`` is ``CollectiveAllReduceStrategy`` inside TensorFlow),
and a message naming the inner class would name something the user never typed. The workers count matters because
a rerun's collective ops would wait for every other worker process, which only the user's own script can start.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any


def fit_distribution(model: Any) -> tuple[Any, str | None, int, int]:
    """The strategy or distribution a fit of ``model`` starting now runs under: ``(object, public class name,
    replicas in all workers, worker processes)``, ``(None, None, 1, 1)`` on one device.

    A ``tf.distribute`` strategy wins over a Keras distribution (Keras's TensorFlow trainer follows the strategy).
    """
    strategy = _tf_strategy(model)
    if strategy is not None:
        replicas = max(1, int(getattr(strategy, "num_replicas_in_sync", 1) or 1))
        return strategy, _tf_public_name(strategy), replicas, _tf_workers(strategy)
    distribution = _keras_distribution()
    if distribution is not None:
        return distribution, type(distribution).__name__, _batch_replicas(distribution), 1
    return None, None, 1, 1


def _tf_strategy(model: Any) -> Any:
    """The model's ``tf.distribute`` strategy when it is not TensorFlow's default (one device), else ``None``."""
    tf = sys.modules.get("tensorflow")
    if tf is None:  # TensorFlow not imported: no strategy can exist
        return None
    try:
        import keras

        if keras.backend.backend() != "tensorflow":
            return None
        strategy = getattr(model, "distribute_strategy", None)  # the model's own, else the current one
        if strategy is None:
            return None
        # Outside every scope get_strategy() is the default one: the model's differs only if it has its own.
        if tf.distribute.has_strategy() or strategy is not tf.distribute.get_strategy():
            return strategy
    except Exception:  # a model or a TensorFlow build without the distribute API: one device
        return None
    return None


def _tf_public_name(strategy: Any) -> str:
    """The name ``tf.distribute`` exports the strategy's class under, else the class's own name."""
    cls = type(strategy)
    try:
        import tensorflow as tf

        for name in dir(tf.distribute):
            if getattr(tf.distribute, name, None) is cls:
                return name
    except Exception:  # a TensorFlow build without the distribute namespace: the class's own name
        pass
    return cls.__name__


def _tf_workers(strategy: Any) -> int:
    """How many processes the strategy's collective ops span: the chief and worker tasks of its cluster (1 for a
    strategy without a cluster, e.g. ``MirroredStrategy``, or a ``MultiWorkerMirroredStrategy`` without
    ``TF_CONFIG``)."""
    try:
        resolver = strategy.cluster_resolver
        spec = resolver.cluster_spec() if resolver is not None else None
        if spec is None:
            return 1
        return max(1, sum(spec.num_tasks(job) for job in ("chief", "worker") if job in spec.jobs))
    except Exception:  # a strategy without a cluster resolver: one process
        return 1


def _keras_distribution() -> Any:
    try:
        import keras

        return keras.distribution.distribution()
    except Exception:  # a Keras without the distribution API (or not on this backend): none
        return None


def _batch_replicas(distribution: Any) -> int:
    """How many ways the distribution splits each batch: the size of its device mesh's batch axis."""
    try:
        mesh = distribution.device_mesh
        return max(1, int(mesh.shape[list(mesh.axis_names).index(distribution.batch_dim_name)]))
    except Exception:  # a custom distribution without a batch axis: every device
        try:
            return max(1, int(distribution.device_mesh.devices.size))
        except Exception:
            return 1


@contextlib.contextmanager
def distribution_scope(distribution: Any) -> Iterator[None]:
    """Enter ``distribution``'s scope (a ``tf.distribute`` strategy's or a Keras distribution's), or nothing for
    ``None``: the optimizer, layers and variables made inside belong to the same devices as the original fit."""
    if distribution is None:
        yield
        return
    with distribution.scope():
        yield


__all__ = ["distribution_scope", "fit_distribution"]
