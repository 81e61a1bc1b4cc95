"""The driver-side Tune hooks of a sweep on Ray (:mod:`.sweep_ray`): :class:`TrialCollector` turns the trials'
reports into the sweep's rows, runs and live updates; :class:`StopAll` ends every trial once the sweep is stopped.

Both live in the driver only. Tune pickles its run configuration, these hooks included, into its experiment
snapshot when the Tuner is made; they hold the SweepResult and the caller's hooks, which reach the user's Run, its
Session and whatever listens to it (in a notebook: the panel, its widgets, the shell), none of which pickles. So
they pickle as an inert copy (:class:`DriverOnly`): a snapshot restored elsewhere could not fill this process's
SweepResult anyway.

Imports Ray at module level (its classes subclass Tune's): :mod:`.sweep_ray` imports this module only when a sweep
runs on Ray, so ``import stallmagic`` never imports Ray.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from ray.tune import Callback, Checkpoint, Stopper

from ..record import Run, Session
from .ray_trial import REPORT_KEY, TrialPayload, configuration, read_checkpoint
from .sweep import config_label, config_row, params_json, row_json
from .sweep_progress import EpochHook, TrialEpoch


class DriverOnly:
    """Pickles as an inert copy: its state stays in this process (see the module docstring)."""

    def __getstate__(self) -> dict:
        return {}

    def __setstate__(self, state: dict) -> None:
        self.inert = True


class TrialCollector(DriverOnly, Callback):
    """Keeps every trial's reports and fits (read from their checkpoints as they arrive), forwards each report to
    ``on_epoch`` as a :class:`~.sweep_progress.TrialEpoch`, and turns each ended trial into a row of ``result``
    (then calls ``progress(done, total, row)``).

    Args:
        result: The :class:`~.sweep.SweepResult` being filled.
        payload: What the trials received (the grid, folds and the original run's record).
        progress: ``progress(done, total, row)``, or ``None``.
        on_epoch: The sweep's epoch hook (default: none).
    """

    def __init__(
        self,
        result: Any,
        payload: TrialPayload,
        progress: Callable[[int, int, dict], Any] | None = None,
        on_epoch: EpochHook | None = None,
    ) -> None:
        self.result = result
        self.payload = payload
        self.progress = progress
        self.on_epoch = on_epoch or EpochHook(None)
        self.reports: dict[str, list[dict]] = {}
        self.fits: dict[str, dict[int, tuple[Run, list | None]]] = {}
        self.params: dict[str, dict] = {}
        self.started: dict[str, float] = {}
        self.order: dict[str, int] = {}  # trial id -> its number - 1: the grid's index, else the order of starting
        self.session = Session(label=f"ray sweep of {payload.record.get('label')}", snapshot_weights=False)

    def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        tid = trial.trial_id
        self.started[tid] = time.perf_counter()
        self.params[tid] = configuration(trial.config, self.payload)[2]
        self.order[tid] = int(trial.config.get("config", len(self.order)))

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any) -> None:
        own = result.get(REPORT_KEY) or {}
        tid = trial.trial_id
        self.reports.setdefault(tid, []).append(own)
        name = result.get("checkpoint_dir_name")
        if own.get("last") and name:
            path = os.path.join(trial.storage.trial_fs_path, name)
            with Checkpoint(path, filesystem=trial.storage.storage_filesystem).as_directory() as folder:
                self.fits.setdefault(tid, {})[int(own.get("fold", 0))] = read_checkpoint(folder)
        if self.on_epoch and int(own.get("epoch", -1)) >= 0:
            self.on_epoch(self._update(tid, own))

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._end(trial.trial_id, None)

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        error = getattr(trial, "error_file", None)
        self._end(trial.trial_id, f"Ray trial failed (see {error})" if error else "Ray trial failed")

    def finish(self) -> None:
        """After Tune returned: the sweep is ``stopped`` when a trial did not end (stop(), Ctrl-C); rows in the
        grid's order (a search algorithm's: the order its trials started), as in process."""
        result = self.result
        result.stopped = bool(result._stop) or len(result.rows) < result.total
        result.rows.sort(key=lambda row: row["trial"])
        result._rank()

    # ------------------------------------------------------------------ helpers

    def _update(self, tid: str, own: dict) -> TrialEpoch:
        payload = self.payload
        return TrialEpoch.of(
            trial=self.order.get(tid, 0) + 1,
            total=self.result.total,
            params=params_json(self.params.get(tid, {})),
            fold=int(own.get("fold", 0)) if payload.folds else None,
            epoch=int(own["epoch"]) + 1,
            epochs=int(own.get("epochs") or 0),
            metric=self.result.metric,
            logs=own.get("logs") or {},
        )

    def _end(self, tid: str, error: str | None) -> None:
        result = self.result
        folds = len(self.payload.folds or [None])
        fits = self.fits.get(tid, {})
        whole = len(fits) == folds and error is None
        if not whole and result._stop:  # cut short by stop()/Ctrl-C: dropped, as in process
            return
        runs = [self._run(tid, fold, fits.get(fold)) for fold in range(folds) if fold in fits or not whole]
        runs = [r for r in runs if r is not None]
        for run in runs:
            self.session.add(run)
        result.runs.extend(runs)
        row = config_row(
            self.params.get(tid, {}),
            runs,
            result.metric,
            result.higher_is_better,
            time.perf_counter() - self.started.get(tid, time.perf_counter()),
            errors=[error] if error else [],
        )
        row["stopped_by"] = None if whole or error else "scheduler"
        row["trial"] = self.order.get(tid, len(self.order)) + 1
        result.rows.append(row)
        result._rank()
        if self.progress is not None:
            self.progress(len(result.rows), result.total, row_json(row))

    def _run(self, tid: str, fold: int, fit: tuple[Run, list | None] | None) -> Run | None:
        """The fold's Run: from its checkpoint when the fit ended, else from its reports (a trial a scheduler
        stopped: its epochs so far, no weights)."""
        label = config_label(self.params.get(tid, {}), fold if self.payload.folds else None)
        if fit is not None:
            run, weights = fit
            run.final_weights = weights
            if run.end == "running":
                done = run.epochs[-1] + 1 if run.epochs else 0
                run.end = "completed" if done >= run.fit.epochs else "early_stopped"
        else:
            reports = [r for r in self.reports.get(tid, []) if int(r.get("fold", 0)) == fold]
            if not reports:
                return None
            run = run_from_reports(self.payload.record, reports)
        run.label = label
        run.index = len(self.session.runs)
        run.wall_time = run.wall_time or float(sum(run.epoch_times))
        run.extras["ray"] = {"trial_id": tid, "stopped_by": None if fit is not None else "scheduler"}
        return run


def run_from_reports(record: dict, reports: list[dict]) -> Run:
    """A Run rebuilt from a fit's epoch reports alone (a trial a scheduler stopped sends no checkpoint): its logs,
    epochs, epoch times and learning rates, ``end="early_stopped"``, no weights."""
    base = Run.from_dict(record)
    run = Run(index=0, label=base.label, fit=base.fit, model=base.model)
    for own in reports:
        for key, value in own.get("logs", {}).items():
            run.logs.setdefault(key, [float("nan")] * len(run.epochs)).append(value)
        run.epochs.append(int(own.get("epoch", len(run.epochs))))
        run.epoch_times.append(float(own.get("epoch_time", float("nan"))))
        run.learning_rates.append(own.get("learning_rate"))
    run.end = "early_stopped"
    return run


class StopAll(DriverOnly, Stopper):
    """A Tune Stopper that ends every trial once ``result.stop()`` was called (a Stop button in another thread)."""

    def __init__(self, result: Any) -> None:
        self.result = result

    def __call__(self, trial_id: str, report: dict) -> bool:
        return False

    def stop_all(self) -> bool:
        result = getattr(self, "result", None)  # an inert copy has none
        return bool(result is not None and result._stop)


__all__ = ["StopAll", "TrialCollector", "run_from_reports"]
