"""Why a spec does not apply to a run, read from its records alone (pure): the reasons ``Spec.unavailable``
gives, shared by the specs of several families.

A remedy that does not apply is still offered, disabled, with one of these sentences, so the user learns what
would have to change (the data as arrays, a model that is not subclassed, validation data).
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
