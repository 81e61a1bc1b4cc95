"""How a sweep tells its caller what its trials are doing while they train, the same way on either engine.

Two hooks of :func:`~.sweep.sweep` (and :meth:`~.sweep.SweepResult.run`):

* ``progress(done, total, row)``: a trial (a configuration, every fold) ended; ``row`` is its row of
  :attr:`~.sweep.SweepResult.rows` as JSON-ready data, ``row["trial"]`` its number.
* ``on_epoch(update)``: a trial finished an epoch; ``update`` is a :class:`TrialEpoch`. In process it is called from
  the capture's epoch hook of the fit being trained; on Ray, in this process, from the driver-side Tune callback as
  each report arrives (:mod:`.ray_collector`). Trials on Ray run side by side, so updates of several trials
  interleave.

Why a separate hook and not more calls of ``progress``: existing callers read ``progress`` as "one more trial done",
and a display wants every trial's latest epoch, which a row (made when the trial ends) cannot carry.

Both hooks are displays: an exception raised by ``on_epoch`` is reported once as a warning and the hook is not
called again, the sweep goes on (:class:`EpochHook`); KeyboardInterrupt still ends the sweep. :class:`SweepBoard`
folds both hooks' calls into one table of trials, which the notebook draws (``stallmagic.notebook.sweep_view``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._internal.text import safe_repr, safe_str


@dataclass(frozen=True)
class TrialEpoch:
    """One epoch of one trial of a sweep, as ``on_epoch`` receives it.

    Attributes:
        trial: The trial's number, from 1: its configuration's place in the grid (a search algorithm's trials are
            numbered in the order they started); the same number as ``row["trial"]`` when the trial ends.
        total: How many trials the sweep runs (the grid's size, or a search algorithm's ``num_samples``).
        params: The trial's configuration, JSON-ready (as in its row).
        fold: The cross-validation fold being trained, from 0, or ``None`` without ``cv``.
        epoch: Epochs this fit has done, from 1.
        epochs: Epochs this fit was asked to train.
        metric: The validation key the sweep scores.
        value: Its value at this epoch, or ``None`` when the epoch logged none (or NaN).
        logs: Every value the epoch logged (train and ``val_``).
    """

    trial: int
    total: int
    params: dict
    fold: int | None
    epoch: int
    epochs: int
    metric: str | None
    value: float | None
    logs: dict = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        *,
        trial: int,
        total: int,
        params: Mapping[str, Any],
        fold: int | None,
        epoch: int,
        epochs: int,
        metric: str | None,
        logs: Mapping[str, Any],
    ) -> TrialEpoch:
        """An update from an epoch's logs: numbers as floats, the scored metric's value picked out (None if NaN)."""
        numbers = {str(k): _number(v) for k, v in logs.items()}
        value = numbers.get(metric) if metric else None
        return cls(
            trial=int(trial),
            total=int(total),
            params=dict(params),
            fold=fold,
            epoch=int(epoch),
            epochs=int(epochs),
            metric=metric,
            value=None if value is None or not math.isfinite(value) else value,
            logs=numbers,
        )


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


class EpochHook:
    """Calls the user's ``on_epoch``; the first exception it raises is a warning and ends the calls (a display that
    fails must not end the sweep). ``None`` makes a hook that does nothing."""

    def __init__(self, on_epoch: Callable[[TrialEpoch], Any] | None) -> None:
        self.on_epoch = on_epoch
        self.failed: str | None = None

    def __bool__(self) -> bool:
        return self.on_epoch is not None and self.failed is None

    def __call__(self, update: TrialEpoch) -> None:
        if not self:
            return
        try:
            self.on_epoch(update)  # type: ignore[misc]
        except Exception as exc:
            self.failed = f"{type(exc).__name__}: {safe_str(exc)}"
            warnings.warn(
                f"The sweep's on_epoch hook raised {self.failed}; it is not called again, the sweep goes on.",
                RuntimeWarning,
                stacklevel=2,
            )


def check_on_epoch(on_epoch: Any) -> None:
    """Raise :class:`~stallmagic.remedies.RemedyError` unless ``on_epoch`` is callable or ``None``."""
    if on_epoch is not None and not callable(on_epoch):
        from ..remedies import RemedyError

        raise RemedyError(
            "The 'on_epoch' argument of sweep must be a function called as on_epoch(update) with a TrialEpoch, or "
            f"None. Got {safe_repr(on_epoch)} instead."
        )


#: A trial's state on a :class:`SweepBoard`.
RUNNING, DONE, STOPPED, FAILED = "running", "done", "stopped by the scheduler", "failed"
#: A trial still running when the sweep ended (stop(), Ctrl-C): dropped from the result, as the sweep drops it.
INTERRUPTED = "interrupted"


class SweepBoard:
    """Every trial of one sweep as the calls of its two hooks left it: the latest epoch of a running trial, the
    score of an ended one. Plain data for a display to draw; pass :meth:`epoch` as ``on_epoch`` and
    :meth:`ended` as ``progress``.

    Args:
        metric: The scored validation key, if known before the first update.
        engine: ``"process"`` or ``"ray"`` (the display names it).

    Attributes:
        trials: Trial number -> ``{"trial", "params", "fold", "epoch", "epochs", "value", "state", "score",
            "errors"}``, ``state`` one of ``"running"``, ``"done"``, ``"stopped by the scheduler"``, ``"failed"``,
            ``"interrupted"`` (see :meth:`close`).
        total: The sweep's number of trials (0 until the first call says).
        done: Trials ended so far.
    """

    def __init__(self, *, metric: str | None = None, engine: str = "process") -> None:
        self.metric = metric
        self.engine = engine
        self.trials: dict[int, dict] = {}
        self.total = 0
        self.done = 0

    def epoch(self, update: TrialEpoch) -> None:
        """``on_epoch``: the trial is running, at this epoch (an update that arrives after its end changes nothing)."""
        self.total = max(self.total, update.total)
        self.metric = update.metric or self.metric
        entry = self._entry(update.trial, update.params)
        if entry["state"] != RUNNING:
            return
        entry.update(fold=update.fold, epoch=update.epoch, epochs=update.epochs, value=update.value)

    def ended(self, done: int, total: int, row: Mapping[str, Any]) -> None:
        """``progress``: the trial ``row["trial"]`` ended; its score is the row's mean over folds."""
        self.done, self.total = done, max(self.total, total)
        number = row.get("trial")
        entry = self._entry(int(number) if number is not None else -done, row.get("params") or {})
        state = FAILED if row.get("mean") is None else STOPPED if row.get("stopped_by") else DONE
        entry.update(state=state, score=row.get("mean"), errors=list(row.get("errors") or []))
        epochs = row.get("epochs") or []
        if epochs:
            entry["epoch"] = max(epochs)

    def close(self) -> None:
        """The sweep returned: a trial still running was cut short and is not in its result."""
        for trial in self.running():
            trial["state"] = INTERRUPTED

    def running(self) -> list[dict]:
        return [t for t in self.trials.values() if t["state"] == RUNNING]

    def rows(self) -> list[dict]:
        """The trials by number (a trial that ended without a number, last)."""
        return sorted(self.trials.values(), key=lambda t: (t["trial"] < 0, abs(t["trial"])))

    def _entry(self, trial: int, params: Mapping[str, Any]) -> dict:
        if trial not in self.trials:
            self.trials[trial] = {
                "trial": trial,
                "params": dict(params),
                "fold": None,
                "epoch": 0,
                "epochs": None,
                "value": None,
                "state": RUNNING,
                "score": None,
                "errors": [],
            }
        return self.trials[trial]


__all__ = [
    "DONE",
    "FAILED",
    "INTERRUPTED",
    "RUNNING",
    "STOPPED",
    "EpochHook",
    "SweepBoard",
    "TrialEpoch",
    "check_on_epoch",
]
