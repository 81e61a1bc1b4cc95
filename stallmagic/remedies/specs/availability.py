"""Why a spec does not apply to a run, read from its records alone (pure): the reasons ``Spec.unavailable``
gives, shared by the specs of several families.

A remedy that does not apply is still offered, disabled, with one of these sentences, so the user learns what
would have to change (the data as arrays, a model that is not subclassed, validation data). :func:`one_shot_data`
and :func:`several_workers` apply to every remedy a rerun would make: :func:`~stallmagic.remedies.suggest` asks
them for each one.
"""

from __future__ import annotations

from ...record import Run


def has_validation(run: Run | None) -> bool:
    """Whether the fit validates (assumed when there is no record to tell)."""
    return run is None or run.fit.validation != "none"


def needs_arrays(run: Run | None, what: str) -> str | None:
    """The reason when ``what`` needs the training data as arrays and this fit reads a dataset or generator."""
    if run is not None and run.fit.data_kind != "arrays":
        return (
            f"{what} needs the training data as arrays, but this fit reads a {run.fit.data_kind} input; make the "
            "change where the pipeline is built."
        )
    return None


def one_shot_reason(what: str) -> str:
    """Why a rerun cannot read ``what`` ("training data", "validation data") again: they come from a Python
    generator or iterator, which yields each batch once. Reading it again would advance it (other batches than the
    run trained on: not the same data) or find it exhausted (no batch at all). The rerun engine refuses with the
    same words (:func:`~stallmagic.rerun.plan.check_rereadable`)."""
    return (
        f"this fit reads its {what} from a Python generator, which yields each batch once, so a rerun would train "
        "on other batches or on none; pass the data as arrays, a tf.data.Dataset or a keras.utils.PyDataset "
        "to rerun it"
    )


def one_shot_data(run: Run | None) -> str | None:
    """The reason when every rerun of ``run`` would have to read a Python generator again (its training or its
    validation data), read from its records alone; ``None`` when its inputs can be read again (arrays, tf.data,
    PyDataset)."""
    if run is None:
        return None
    for kind, what in ((run.fit.data_kind, "training data"), (run.fit.validation_kind, "validation data")):
        if kind == "generator":
            reason = one_shot_reason(what)
            return reason[0].upper() + reason[1:] + "."
    return None


def several_workers_reason(workers: int, distribution: str | None) -> str:
    """Why a fit that trained on several worker processes (a ``MultiWorkerMirroredStrategy`` cluster) is not rerun
    from here: every training step of a rerun runs collective ops that wait for all the workers, and a rerun
    started here (a panel click, ``run.rerun``) starts in this process only, so it would wait for ever. The rerun
    engine refuses with the same words (:func:`~stallmagic.rerun.devices.check_one_worker`)."""
    return (
        f"this fit trained on {workers} worker processes of a {distribution or 'tf.distribute strategy'}, whose every "
        "step waits for all of them, and a rerun would start in this process only; put the fix in the script "
        "every worker runs"
    )


def several_workers(run: Run | None) -> str | None:
    """The reason when every rerun of ``run`` would need the other worker processes of its strategy, read from its
    records alone; ``None`` for a fit in one process."""
    if run is None or run.fit.workers <= 1:
        return None
    reason = several_workers_reason(run.fit.workers, run.fit.distribution)
    return reason[0].upper() + reason[1:] + "."


def rebuild_reason(run: Run | None, what: str) -> str | None:
    """The reason when ``what`` needs new or resized layers and the model is subclassed (it builds its own)."""
    if run is not None and run.model is not None and run.model.style == "subclassed":
        return (
            f"{what} needs new or resized layers, and a subclassed model creates its layers in its own __init__, "
            "so only its code can change them (see the remedy's code)."
        )
    return None


def monitor_check(run: Run | None, monitor: str) -> str | None:
    """The reason when a callback would monitor a validation metric of a fit that has no validation data."""
    if monitor.startswith("val_") and not has_validation(run):
        return f"The fit has no validation data, so there is no {monitor} to monitor."
    return None
