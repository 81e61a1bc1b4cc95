"""A rerun of a fit that ran on several devices: the same strategy scope or distribution, batches that divide.

The original fit's ``tf.distribute`` strategy or Keras distribution is recorded when it starts
(:mod:`stallmagic.capture.devices`). A rerun enters its scope (:func:`rerun_scope`) around everything it builds and
trains, so the fresh optimizer, rebuilt layers and callbacks live on the same replicas, and ``set_weights`` puts
the starting weights on every replica. Each batch is split evenly across the replicas (Keras's JAX data parallelism
refuses a batch that does not divide; TensorFlow would give the replicas unequal shares), so a rerun that changes
the batch size must keep it a multiple of the replica count: :func:`check_batch_divides` refuses it otherwise,
before anything is built. A fit that trained on several worker processes (a ``MultiWorkerMirroredStrategy``
cluster) is not rerun at all (:func:`check_one_worker`): each step of its training waits for every worker, and a
rerun starts in this process only.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from ..capture.devices import distribution_scope
from ..record import Run
from ..remedies.remedy import RemedyError
from ..remedies.specs.availability import several_workers_reason
from .plan import Plan


def rerun_scope(plan: Plan) -> AbstractContextManager:
    """The scope of the original fit's strategy or distribution (nothing for a fit on one device)."""
    return distribution_scope(plan.baseline.distribution)


def check_one_worker(run: Run) -> None:
    """Raise :class:`RemedyError` when ``run``'s fit trained on several worker processes, before anything is built:
    its collective ops would wait for ever for workers that never start the rerun."""
    if run.fit.workers > 1:
        why = several_workers_reason(run.fit.workers, run.fit.distribution)
        raise RemedyError(f"{run.label} cannot be rerun: {why}.")


def check_batch_divides(plan: Plan) -> None:
    """Raise :class:`RemedyError` when the plan sets a batch size that the original fit's replicas cannot share.

    Only a batch size the rerun changes is checked: the original one worked.
    """
    fit_record = plan.baseline.run.fit
    replicas = fit_record.replicas
    if replicas <= 1:
        return
    for key in ("batch_size", "validation_batch_size"):
        value = plan.fit.get(key)
        if not isinstance(value, int) or value == plan.baseline.fit.get(key) or value % replicas == 0:
            continue
        lower, upper = max(replicas, value // replicas * replicas), (value // replicas + 1) * replicas
        raise RemedyError(
            f"{key}={value} does not divide among the {replicas} replicas of this run's {fit_record.distribution}: "
            f"each batch is split evenly across them, so use a multiple of {replicas} ({lower} or {upper})."
        )


__all__ = ["check_batch_divides", "check_one_worker", "rerun_scope"]
