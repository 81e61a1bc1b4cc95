"""Sweeps: rerun one run over a grid of settings, GridSearchCV-style, optionally cross-validated on its training
rows, and rank the configurations (:func:`sweep`, :class:`SweepResult`).

Every configuration is a fair rerun (:mod:`.engine`): same starting weights, data and seed, a fresh optimizer.
The sweep's runs go to a session of their own, keep no final weights, and the user's model is put back once at
the end.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._internal.text import safe_repr
from ..record import Run, Session, jsonable
from ..remedies import Remedy, RemedyError
from .compare import best_value, last_finite, metric_keys
from .engine import as_remedy, build_plan, short_text, train_rerun
from .ledger import LEDGER, check_run, root_of
from .sweep_arguments import check_cv, check_engine, check_metric, folds_of, grid_configs
from .sweep_progress import EpochHook, TrialEpoch, check_on_epoch

__all__ = ["SweepResult", "sweep"]


@dataclass
class SweepResult:
    """A grid of reruns, GridSearchCV-style: each configuration's validation score, mean +/- std over folds.

    Build it with :func:`sweep` (or ``SweepResult.prepare(run, grid, cv)`` then ``.run()`` to keep a handle for
    :meth:`stop` from another thread, e.g. a Stop button).

    Attributes:
        grid: The grid as given.
        cv: ``None`` (each configuration trained once, scored on the run's own validation data) or a description
            of the folds.
        metric: The validation key scored; ``higher_is_better`` says which way is better.
        rows: One dict per finished configuration: ``params``, ``scores`` (final-epoch validation value per fold),
            ``mean``, ``std``, ``best_scores`` (best epoch per fold), ``mean_best``, ``epochs``, ``wall_time``,
            ``errors``, ``rank`` (1 = best mean), ``stopped_by`` (``"scheduler"`` for a Ray trial that Tune's
            scheduler stopped early, scored on the epochs it trained; else ``None``), ``trial`` (the trial's
            number, from 1, as in :class:`~.sweep_progress.TrialEpoch`).
        total: Number of configurations in the grid (or a search algorithm's samples).
        stopped: True when the sweep ended before the whole grid ran (``stop()`` or KeyboardInterrupt).
        runs: The Runs trained (kept in their own session, not the user's). In process, their final weights are not
            kept. On Ray, each holds its record and ``final_weights`` (no live model: see :mod:`.sweep_ray`).
        engine: ``"process"`` (one configuration after another here) or ``"ray"`` (Ray Tune trials).
    """

    grid: dict
    cv: str | None
    metric: str | None
    higher_is_better: bool
    total: int
    rows: list[dict] = field(default_factory=list)
    stopped: bool = False
    runs: list[Run] = field(default_factory=list)
    _source: Run | None = field(default=None, repr=False)
    _configs: list = field(default_factory=list, repr=False)
    _splits: Any = field(default=None, repr=False)
    _stop: bool = field(default=False, repr=False)
    engine: str = "process"
    _payload: Any = field(default=None, repr=False)
    _ray_options: dict = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ results

    @property
    def best(self) -> dict | None:
        """The finished configuration with the best mean score."""
        scored = [r for r in self.rows if r["mean"] is not None]
        if not scored:
            return None
        return (max if self.higher_is_better else min)(scored, key=lambda r: r["mean"])

    @property
    def best_params(self) -> dict | None:
        best = self.best
        return dict(best["params"]) if best is not None else None

    @property
    def best_score(self) -> float | None:
        best = self.best
        return best["mean"] if best is not None else None

    def best_remedy(self) -> Remedy | None:
        """The best configuration as one remedy to rerun or keep, when it maps onto one (optimizer and/or
        learning rate, batch size, epochs); else ``None``."""
        params = self.best_params
        if not params:
            return None
        if isinstance(params.get("remedy"), Remedy) and len(params) == 1:
            return params["remedy"]
        if set(params) <= {"optimizer", "learning_rate"} and isinstance(params.get("optimizer"), str):
            from .._internal.optimizers import USUAL_LR

            name = _optimizer_class_name(params["optimizer"])
            lr = params.get("learning_rate") or USUAL_LR.get(name, 1e-3)
            return Remedy("optimizer", {"optimizer": name, "learning_rate": lr})
        if set(params) == {"learning_rate"}:
            return Remedy("learning_rate", {"learning_rate": params["learning_rate"]})
        if set(params) == {"batch_size"}:
            return Remedy("batch_size", {"batch_size": params["batch_size"]})
        if set(params) == {"epochs"}:
            return Remedy("epochs", {"epochs": params["epochs"]})
        return None

    def to_dict(self) -> dict:
        return {
            "grid": {
                k: [short_text(v) if not isinstance(v, (int, float, str)) else v for v in vs]
                for k, vs in self.grid.items()
            },
            "cv": self.cv,
            "metric": self.metric,
            "higher_is_better": self.higher_is_better,
            "total": self.total,
            "done": len(self.rows),
            "stopped": self.stopped,
            "engine": self.engine,
            "rows": [row_json(r) for r in self.rows],
            "best_params": {k: short_text(v) for k, v in (self.best_params or {}).items()},
            "best_score": self.best_score,
        }

    def __repr__(self) -> str:
        """One line (``%stall sweep`` returns the result: the dataclass's repr printed every row and run)."""
        score = "?" if self.best_score is None else f"{self.best_score:.4g}"
        best = f", best {safe_repr(self.best_params)} {score}" if self.best_params else ""
        return f"<SweepResult: {len(self.rows)}/{self.total} configuration(s) on {self.metric}{best}>"

    def __str__(self) -> str:
        head = (
            f"Sweep of {self.total} configuration(s) on {self.metric}"
            + (f", {self.cv}" if self.cv else ", scored on the run's validation data")
            + (" on Ray Tune" if self.engine == "ray" else "")
            + (f" (stopped after {len(self.rows)})" if self.stopped else "")
        )
        lines = [head]
        for r in sorted(self.rows, key=lambda r: r["rank"] or 10**9):
            score = "failed" if r["mean"] is None else f"{r['mean']:.4f}"
            if r["mean"] is not None and r["std"] is not None and len(r["scores"]) > 1:
                score += f" +/- {r['std']:.4f}"
            params = ", ".join(f"{k}={short_text(v)}" for k, v in r["params"].items())
            if r.get("stopped_by"):
                params += f" (stopped by the {r['stopped_by']} after {max(r['epochs'], default=0)} epoch(s))"
            lines.append(f"  {r['rank'] or '-':>3}  {score:<18} {params}")
        if self.best is not None:
            params = ", ".join(f"{k}={short_text(v)}" for k, v in self.best["params"].items())
            lines.append(f"Best: {params} ({self.metric} {self.best['mean']:.4f}).")
        return "\n".join(lines)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))

    # ------------------------------------------------------------------ running

    def stop(self) -> None:
        """Stop after the epoch in progress; finished configurations are kept (the running one is dropped)."""
        self._stop = True

    @classmethod
    def prepare(
        cls,
        run: Run,
        grid: Mapping[str, Sequence[Any]],
        cv: Any = None,
        *,
        metric: str | None = None,
        engine: str = "process",
        **ray_options: Any,
    ) -> SweepResult:
        """Check the grid and the folds (raising :class:`RemedyError` on a mistake) without training anything;
        with ``engine="ray"``, also that the run can be trained in another process (:mod:`.sweep_ray`)."""
        check_run(run, "sweep")
        LEDGER.check_live(run)
        check_engine(engine, ray_options)
        check_cv(cv)  # before anything is built: a mistyped cv costs nothing
        check_metric(run, metric)
        configs, grid = grid_configs(grid)
        for config in configs:  # every configuration must build before anything trains
            remedy, overrides = split_config(config)
            build_plan(run, [*LEDGER.record(run).steps, (remedy, overrides)], caller="sweep")
        train_key, val_key, higher = metric_keys([run], metric)
        if cv is not None and val_key is None and train_key is not None:
            val_key = f"val_{train_key}"
        splits, cv_text = folds_of(run, cv)
        if val_key is None:
            raise RemedyError(
                f"{run.label} logged no validation metric, so a sweep without cv has nothing to score; pass cv=5."
            )
        payload = None
        if engine == "ray":
            from .sweep_ray import trial_payload

            payload = trial_payload(run, configs, grid, splits, metric=val_key)
        return cls(
            grid=grid,
            cv=cv_text,
            metric=val_key,
            higher_is_better=higher,
            total=len(configs),
            _source=run,
            _configs=configs,
            _splits=splits,
            engine=engine,
            _payload=payload,
            _ray_options=ray_options,
        )

    def run(
        self,
        *,
        progress: Callable[[int, int, dict], Any] | None = None,
        on_epoch: Callable[[TrialEpoch], Any] | None = None,
    ) -> SweepResult:
        """Train every configuration (every fold), calling ``progress(done, total, row)`` after each one and
        ``on_epoch(update)`` after each epoch of each (:mod:`.sweep_progress`)."""
        source = self._source
        if source is None:
            raise RemedyError("This SweepResult was not prepared from a run; use stallmagic.sweep(run, grid).")
        if progress is not None and not callable(progress):
            raise RemedyError(
                "The 'progress' argument of sweep must be a function called as progress(done, total, row), or None. "
                f"Got {safe_repr(progress)} instead."
            )
        check_on_epoch(on_epoch)
        hook = EpochHook(on_epoch)
        if self.engine == "ray":
            from .sweep_ray import run_on_ray

            return run_on_ray(self, progress=progress, on_epoch=hook, **self._ray_options)
        session = Session(label=f"sweep of {source.label}", snapshot_weights=True)
        forward = _EpochForwarder(self, hook)
        if hook:
            session.listeners.append(forward)
        stopper = _stop_callback(self)
        model = LEDGER.baseline(root_of(source)).model
        before = LEDGER.snapshot(model)  # the sweep leaves the model as it found it
        try:
            for number, config in enumerate(self._configs[len(self.rows) :], len(self.rows) + 1):
                if self._stop:
                    break
                forward.trial, forward.params = number, params_json(config)
                row = self._run_config(config, session, stopper, forward)
                if row is None:  # stopped mid-configuration
                    break
                row["trial"] = number
                self.rows.append(row)
                self._rank()
                if progress is not None:
                    progress(len(self.rows), self.total, row_json(row))
        except KeyboardInterrupt:
            self._stop = True
        finally:
            before.put_back()
        self.stopped = len(self.rows) < self.total
        self._rank()
        return self

    def _run_config(self, config: dict, session: Session, stopper: Any, forward: _EpochForwarder) -> dict | None:
        remedy, overrides = split_config(config)
        folds = self._splits if self._splits is not None else [None]
        runs = []
        start = time.perf_counter()
        for i, fold in enumerate(folds):
            forward.fold = i if fold is not None else None
            run = train_rerun(
                self._source,
                remedy,
                overrides,
                session=session,
                keep_weights=False,
                label=config_label(config, i if fold is not None else None),
                extra_callbacks=[stopper],
                fold_data=fold,
                put_back=False,
            )
            # A sweep's runs keep no model, data or weights once trained (memory: a grid of structural remedies
            # rebuilds a model per configuration and fold); their records and curves are what the sweep scores.
            LEDGER.retire(
                run,
                f"{run.label} is one of a sweep's runs, which keep no model or weights once trained, so it cannot be "
                "restored or rerun; rerun the sweep's run with its settings instead.",
            )
            self.runs.append(run)
            if self._stop:
                return None
            runs.append(run)
        return config_row(config, runs, self.metric, self.higher_is_better, time.perf_counter() - start)

    def _rank(self) -> None:
        scored = [r for r in self.rows if r["mean"] is not None]
        scored.sort(key=lambda r: r["mean"], reverse=self.higher_is_better)
        for i, r in enumerate(scored, 1):
            r["rank"] = i


def config_label(config: Mapping[str, Any], fold: int | None = None) -> str:
    """A sweep run's label: ``"sweep key=value, ..."``, with ``" fold N"`` (1-based) under cross-validation."""
    label = f"sweep {', '.join(f'{k}={short_text(v)}' for k, v in config.items())}"
    return label if fold is None else f"{label} fold {fold + 1}"


def config_row(
    config: Mapping[str, Any],
    runs: Sequence[Run],
    metric: str | None,
    higher_is_better: bool,
    wall_time: float,
    *,
    errors: Sequence[str] = (),
) -> dict:
    """One configuration's row of :attr:`SweepResult.rows`, scored from its runs (one per fold) the same way
    whichever engine trained them: the metric's last finite validation value per run (as GridSearchCV scores the
    fitted model), mean +/- std over the runs, and the best epoch's value; a run that ended in an error adds
    ``"Type: message"`` to ``errors`` (as do ``errors`` given here, e.g. a Ray trial that failed before any run)."""
    scores, bests, epochs, failed = [], [], [], list(errors)
    for run in runs:
        if run.error is not None:
            failed.append(f"{run.error.type}: {run.error.message}")
            continue
        values = run.logs.get(metric, []) if metric else []
        final = last_finite(values)
        best, _ = best_value(values, higher_is_better)
        if final is not None:
            scores.append(final)
            bests.append(best)
        epochs.append(run.epochs_done)
    return {
        "params": dict(config),
        "scores": scores,
        "mean": float(np.mean(scores)) if scores else None,
        "std": float(np.std(scores)) if scores else None,
        "best_scores": bests,
        "mean_best": float(np.mean(bests)) if bests else None,
        "epochs": epochs,
        "wall_time": wall_time,
        "errors": failed,
        "rank": None,
        "stopped_by": None,
        "trial": None,
    }


def _param_json(value: Any) -> Any:
    if isinstance(value, Remedy):
        return value.to_dict()
    return value if isinstance(value, (int, float, str)) or value is None else short_text(value)


def params_json(params: Mapping[str, Any]) -> dict:
    """A configuration as JSON-ready data: remedies as dicts, other values that are not plain numbers or strings
    as short text."""
    return {k: _param_json(v) for k, v in params.items()}


def row_json(row: Mapping[str, Any]) -> dict:
    """A row of :attr:`SweepResult.rows` as JSON-ready data (what ``progress`` receives), its params as
    :func:`params_json` writes them."""
    out = dict(row)
    out["params"] = params_json(row["params"])
    return jsonable(out)


class _EpochForwarder:
    """A listener of the in-process sweep's Session: turns each epoch the capture recorded into a
    :class:`~.sweep_progress.TrialEpoch` for ``on_epoch`` (the sweep sets the trial, params and fold before each
    fit). Epoch level only, and nothing at all without a hook."""

    def __init__(self, result: SweepResult, hook: EpochHook) -> None:
        self.result = result
        self.hook = hook
        self.trial, self.params, self.fold = 0, {}, None

    def __call__(self, event: str, run: Run) -> None:
        if event != "epoch" or not self.hook or not run.epochs:
            return
        logs = {k: v[-1] for k, v in run.logs.items() if v}
        self.hook(
            TrialEpoch.of(
                trial=self.trial,
                total=self.result.total,
                params=self.params,
                fold=self.fold,
                epoch=run.epochs[-1] + 1,
                epochs=run.fit.epochs,
                metric=self.result.metric,
                logs=logs,
            )
        )


def _stop_callback(result: SweepResult) -> Any:
    """A Keras callback that ends the fit at the end of the epoch in progress once ``result.stop()`` was called
    (a Stop button in another thread); built here so that importing this module does not import Keras."""
    import keras

    class StopSweep(keras.callbacks.Callback):
        """Ends the fit at the end of the current epoch once the sweep was asked to stop (epoch hook only)."""

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            if result._stop:
                self.model.stop_training = True

    return StopSweep()


def _optimizer_class_name(name: str) -> str:
    return {"adam": "Adam", "adamw": "AdamW", "sgd": "SGD", "rmsprop": "RMSprop", "nadam": "Nadam"}.get(
        name.lower(), name
    )


def split_config(config: Mapping[str, Any]) -> tuple[Remedy | None, dict]:
    """A configuration as ``(remedy, overrides)`` for :func:`.engine.train_rerun`, the learning rate placed after
    the optimizer it applies to."""
    overrides = dict(config)
    remedy = overrides.pop("remedy", None)
    if remedy is not None and not isinstance(remedy, Remedy):
        remedy = as_remedy(remedy)
    # a learning rate in the same configuration as an optimizer applies to that optimizer
    if "optimizer" in overrides and "learning_rate" in overrides:
        lr = overrides.pop("learning_rate")
        ordered = {"optimizer": overrides.pop("optimizer"), "learning_rate": lr}
        overrides = {**ordered, **overrides}
    return remedy, overrides


def sweep(
    run: Run,
    grid: Mapping[str, Sequence[Any]],
    cv: Any = None,
    *,
    progress: Callable[[int, int, dict], Any] | None = None,
    on_epoch: Callable[[TrialEpoch], Any] | None = None,
    metric: str | None = None,
    engine: str = "process",
    scheduler: Any = None,
    search_alg: Any = None,
    num_samples: int | None = None,
    storage_path: str | None = None,
) -> SweepResult:
    """Rerun ``run`` over a grid of settings, GridSearchCV-style, and report mean +/- std and the best.

    The Keras 3 replacement for ``GridSearchCV(KerasClassifier(...))`` (``keras.wrappers.scikit_learn`` is gone):
    every configuration is a fair rerun (same starting weights, data, seed; fresh optimizer).

    Args:
        run: The run to sweep (its remedies, if it is a rerun, are kept).
        grid: Setting -> list of values, e.g. ``{"optimizer": ["adam", "sgd", "rmsprop"], "learning_rate": [1e-3,
            1e-2]}``. Keys: anything ``run.rerun(**overrides)`` accepts, and ``"remedy"`` (a list of Remedy or
            ``None``). A ``learning_rate`` applies to the ``optimizer`` of the same configuration.
        cv: ``None`` (each configuration trained once, scored on the run's validation data), an int k from 2 to
            the number of training rows (k-fold on the run's *training* rows, stratified for class labels, shuffled
            with the run's seed), or a scikit-learn splitter with ``split(x, y)`` giving (training rows, validation
            rows) index pairs.
        progress: Called as ``progress(done, total, row)`` after each configuration (``row`` as in ``rows``).
        on_epoch: Called as ``on_epoch(update)`` after every epoch of every configuration, on either engine, with a
            :class:`~.sweep_progress.TrialEpoch` (trial number, configuration, fold, epoch, the scored metric's
            value). A display hook: one that raises is warned about once and not called again.
        metric: The metric to score (default: the first accuracy-like metric, else the loss); its validation
            value at the *last* epoch is the score (as GridSearchCV scores the fitted model), the best epoch's is
            reported too.
        engine: ``"process"`` (default: one configuration after another in this process) or ``"ray"``: each
            configuration is a Ray Tune trial (``pip install 'stallmagic[ray]'``), on the Ray cluster this process
            connected to with ``ray.init(address=...)``, else on a local Ray started on this machine's CPUs. Trials
            rebuild the model from its Keras config (a Lambda layer, or a subclassed model without ``get_config``,
            is refused before anything trains) and need the data as arrays (see :mod:`.sweep_ray`).
        scheduler: With ``engine="ray"``: a Tune trial scheduler, e.g. ``ASHAScheduler(max_t=epochs,
            grace_period=1)``, that stops trials falling behind on ``metric`` (each epoch is one report).
        search_alg: With ``engine="ray"``: a Tune search algorithm that samples the grid's values instead of
            crossing them all (``num_samples`` trials, default the grid's size), e.g. Tune's ``OptunaSearch()``
            (``pip install optuna``); it gets ``metric`` and its direction unless it was given its own.
        num_samples: With ``search_alg``: how many configurations it samples.
        storage_path: With ``engine="ray"``: where Tune keeps the trials' checkpoints (default: a temporary folder,
            removed after the sweep; on a multi-node cluster, storage every node can reach).

    Returns:
        A :class:`SweepResult`. Press Interrupt (KeyboardInterrupt) or call its ``stop()`` to end early: finished
        configurations are kept. The user's model is left as it was before the sweep.

    Raises:
        RemedyError: Before anything trains, in one sentence naming the argument and what it accepts: a grid that is
            not a dict of non-empty lists, holds a value ``run.rerun`` would refuse (``{"epochs": [-1]}``: the same
            checks, :mod:`.overrides`) or a configuration that cannot be built, a ``cv`` that is not one of
            the above (or more folds than training rows, or a splitter that fails on them), a ``metric`` that is
            not a name, a ``progress`` or ``on_epoch`` that is not callable. A ``metric`` the run did not log is a
            warning that lists the logged ones; the default metric is scored.
    """
    options = dict(scheduler=scheduler, search_alg=search_alg, num_samples=num_samples, storage_path=storage_path)
    prepared = SweepResult.prepare(run, grid, cv, metric=metric, engine=engine, **options)
    return prepared.run(progress=progress, on_epoch=on_epoch)
