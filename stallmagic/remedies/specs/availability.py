"""Why a spec does not apply to a run, read from its records alone (pure): the reasons ``Spec.unavailable``
gives, shared by the specs of several families.

A remedy that does not apply is still offered, disabled, with one of these sentences, so the user learns what
would have to change (the data as arrays, a model that is not subclassed, validation data). :func:`one_shot_data`
applies to every remedy a rerun would make: :func:`~stallmagic.remedies.suggest` asks it for each one.
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
