"""Reports with their remedies: the diagnosis, then :func:`~.suggest.suggest` for each finding.

What a user gets from ``stallmagic.diagnose(...)`` and ``run.diagnose()``. It lives here, one layer above the
diagnosis, so that the diagnosis never imports the remedies: it takes :func:`~.suggest.suggest` as an argument
(``remedies=``) and calls it on each ranked finding before it writes the report's summary and notes. Like the rest
of this package it imports no Keras; measuring a live run does, when :func:`diagnose_run` is called.
"""

from __future__ import annotations

from ..diagnosis import Measurements, Report
from ..diagnosis import diagnose as _diagnose
from ..record import Run
from .suggest import suggest


def diagnose(
    run: Run,
    measurements: Measurements | None = None,
    *,
    metric: str | None = None,
    with_remedies: bool = True,
    seed: int = 0,
) -> Report:
    """Explain what holds the run's validation metric back, with what to try for each cause.

    This is ``stallmagic.diagnose``: :func:`stallmagic.diagnosis.diagnose` with :func:`~.suggest.suggest`
    attaching each finding's remedies.

    Args:
        run: A captured Run, finished or partial after an error.
        measurements: What :func:`stallmagic.diagnosis.measure.measure` read from the live model and data
            (``run.diagnose()`` measures them for you); without them only the curves and the model's configuration
            are read.
        metric: What "accuracy" means for this run (default: the first accuracy-like metric, else the loss).
        with_remedies: Attach remedies to each finding (default ``True``).
        seed: Seed of the cheap probes (default 0).

    Returns:
        The :class:`~stallmagic.diagnosis.report.Report`, findings most likely first.
    """
    return _diagnose(run, measurements, metric=metric, remedies=suggest if with_remedies else None, seed=seed)


def diagnose_run(run: Run, *, metric: str | None = None, gradients: bool = True) -> Report:
    """Measure a live run's model and data, diagnose it, and keep the report on it (what ``Run.diagnose()`` does).

    Args:
        run: A captured Run; without its data (a Run rebuilt from JSON) only the curves and the configuration are
            read.
        metric: What "accuracy" means for this run (default: the first accuracy-like metric, else the loss).
        gradients: Run the gradient/dead-ReLU probe (default ``True``; TensorFlow, JAX and torch backends).

    Returns:
        The :class:`~stallmagic.diagnosis.report.Report`, remedies attached, also kept as ``run.report``.
    """
    from ..diagnosis.measure import measure  # lazy: measuring needs Keras, the rest of the diagnosis does not

    measurements = measure(run, gradients=gradients) if run.data is not None else None
    run.report = diagnose(run, measurements, metric=metric)
    return run.report


__all__ = ["diagnose", "diagnose_run"]
