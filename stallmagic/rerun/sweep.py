"""Sweeps: rerun one run over a grid of settings, GridSearchCV-style, optionally cross-validated on its training
rows, and rank the configurations (:func:`sweep`, :class:`SweepResult`).

Every configuration is a fair rerun (:mod:`.engine`): same starting weights, data and seed, a fresh optimizer.
The sweep's runs go to a session of their own, keep no final weights, and the user's model is put back once at
the end.
"""

from __future__ import annotations

import itertools
import numbers
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._internal.text import safe_repr, safe_str
from ..record import Run, Session, jsonable
from ..remedies import Remedy, RemedyError
from ..remedies.arrays import take_rows
from .compare import best_value, last_finite, metric_keys
from .engine import as_remedy, build_plan, short_text, train_rerun
from .ledger import LEDGER, check_run, root_of
from .overrides import check_override
from .plan import Plan

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
            ``errors``, ``rank`` (1 = best mean).
        total: Number of configurations in the grid.
        stopped: True when the sweep ended before the whole grid ran (``stop()`` or KeyboardInterrupt).
        runs: The Runs trained (kept in their own session, not the user's; their final weights are not kept).
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
            "rows": [_row_json(r) for r in self.rows],
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
            + (f" (stopped after {len(self.rows)})" if self.stopped else "")
        )
        lines = [head]
        for r in sorted(self.rows, key=lambda r: r["rank"] or 10**9):
            score = "failed" if r["mean"] is None else f"{r['mean']:.4f}"
            if r["mean"] is not None and r["std"] is not None and len(r["scores"]) > 1:
                score += f" +/- {r['std']:.4f}"
            params = ", ".join(f"{k}={short_text(v)}" for k, v in r["params"].items())
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
        cls, run: Run, grid: Mapping[str, Sequence[Any]], cv: Any = None, *, metric: str | None = None
    ) -> SweepResult:
        """Check the grid and the folds (raising :class:`RemedyError` on a mistake) without training anything."""
        check_run(run, "sweep")
        LEDGER.check_live(run)
        _check_cv(cv)  # before anything is built: a mistyped cv costs nothing
        _check_metric(run, metric)
        configs, grid = _configs(grid)
        for config in configs:  # every configuration must build before anything trains
            remedy, overrides = _split_config(config)
            build_plan(run, [*LEDGER.record(run).steps, (remedy, overrides)], caller="sweep")
        train_key, val_key, higher = metric_keys([run], metric)
        if cv is not None and val_key is None and train_key is not None:
            val_key = f"val_{train_key}"
        splits, cv_text = _folds(run, cv)
        if val_key is None:
            raise RemedyError(
                f"{run.label} logged no validation metric, so a sweep without cv has nothing to score; pass cv=5."
            )
        return cls(
            grid=grid,
            cv=cv_text,
            metric=val_key,
            higher_is_better=higher,
            total=len(configs),
            _source=run,
            _configs=configs,
            _splits=splits,
        )

    def run(self, *, progress: Callable[[int, int, dict], Any] | None = None) -> SweepResult:
        """Train every configuration (every fold), calling ``progress(done, total, row)`` after each one."""
        source = self._source
        if source is None:
            raise RemedyError("This SweepResult was not prepared from a run; use stallmagic.sweep(run, grid).")
        if progress is not None and not callable(progress):
            raise RemedyError(
                "The 'progress' argument of sweep must be a function called as progress(done, total, row), or None. "
                f"Got {safe_repr(progress)} instead."
            )
        session = Session(label=f"sweep of {source.label}", snapshot_weights=True)
        stopper = _stop_callback(self)
        model = LEDGER.baseline(root_of(source)).model
        before = LEDGER.snapshot(model)  # the sweep leaves the model as it found it
        try:
            for config in self._configs[len(self.rows) :]:
                if self._stop:
                    break
                row = self._run_config(config, session, stopper)
                if row is None:  # stopped mid-configuration
                    break
                self.rows.append(row)
                self._rank()
                if progress is not None:
                    progress(len(self.rows), self.total, _row_json(row))
        except KeyboardInterrupt:
            self._stop = True
        finally:
            before.put_back()
        self.stopped = len(self.rows) < self.total
        self._rank()
        return self

    def _run_config(self, config: dict, session: Session, stopper: Any) -> dict | None:
        remedy, overrides = _split_config(config)
        folds = self._splits if self._splits is not None else [None]
        scores, bests, epochs, errors = [], [], [], []
        start = time.perf_counter()
        for i, fold in enumerate(folds):
            label = f"sweep {', '.join(f'{k}={short_text(v)}' for k, v in config.items())}"
            if fold is not None:
                label += f" fold {i + 1}"
            run = train_rerun(
                self._source,
                remedy,
                overrides,
                session=session,
                keep_weights=False,
                label=label,
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
            if run.error is not None:
                errors.append(f"{run.error.type}: {run.error.message}")
                continue
            values = run.logs.get(self.metric, [])
            final = last_finite(values)
            best, _ = best_value(values, self.higher_is_better)
            if final is not None:
                scores.append(final)
                bests.append(best)
            epochs.append(run.epochs_done)
        mean = float(np.mean(scores)) if scores else None
        return {
            "params": dict(config),
            "scores": scores,
            "mean": mean,
            "std": float(np.std(scores)) if scores else None,
            "best_scores": bests,
            "mean_best": float(np.mean(bests)) if bests else None,
            "epochs": epochs,
            "wall_time": time.perf_counter() - start,
            "errors": errors,
            "rank": None,
        }

    def _rank(self) -> None:
        scored = [r for r in self.rows if r["mean"] is not None]
        scored.sort(key=lambda r: r["mean"], reverse=self.higher_is_better)
        for i, r in enumerate(scored, 1):
            r["rank"] = i


def _param_json(value: Any) -> Any:
    if isinstance(value, Remedy):
        return value.to_dict()
    return value if isinstance(value, (int, float, str)) or value is None else short_text(value)


def _row_json(row: Mapping[str, Any]) -> dict:
    out = dict(row)
    out["params"] = {k: _param_json(v) for k, v in row["params"].items()}
    return jsonable(out)


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


def _configs(grid: Mapping[str, Sequence[Any]]) -> tuple[list[dict], dict]:
    if not isinstance(grid, Mapping) or not grid:
        raise RemedyError(
            "The 'grid' argument of sweep must be a non-empty dict such as {'optimizer': ['adam', 'sgd'], "
            f"'learning_rate': [1e-3, 1e-2]}}. Got {safe_repr(grid)} instead."
        )
    clean: dict[str, list] = {}
    for key, values in grid.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or len(values) == 0:
            raise RemedyError(
                f"The grid entry {safe_repr(key)} of sweep must be a non-empty list of values. "
                f"Got {safe_repr(values)} instead."
            )
        clean[key] = list(values)
        if key != "remedy":  # the same checks as run.rerun(**overrides): a grid cannot train what a rerun refuses
            for value in clean[key]:
                check_override(key, value, caller="sweep")
    keys = list(clean)
    configs = [dict(zip(keys, combo)) for combo in itertools.product(*(clean[k] for k in keys))]
    return configs, clean


def _split_config(config: Mapping[str, Any]) -> tuple[Remedy | None, dict]:
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


#: What the 'cv' argument of sweep accepts, in its messages.
CV_ALLOWED = "None, an int >= 2 (that many folds) or a scikit-learn splitter such as KFold(5)"


def _is_splitter(cv: Any) -> bool:
    """Whether ``cv`` splits rows as scikit-learn's splitters do: it has a ``split`` method (a str has one too, and
    is not a splitter)."""
    return not isinstance(cv, (str, bytes)) and callable(getattr(cv, "split", None))


def _is_fold_count(cv: Any, *, most: int | None = None) -> bool:
    """Whether ``cv`` is a whole number of folds from 2 to ``most`` (a bool is not; a numpy integer is), checked by
    scikit-learn's ``check_scalar``; its own message names no sweep, so the caller writes the message."""
    from sklearn.utils.validation import check_scalar

    if isinstance(cv, bool):
        return False
    try:
        check_scalar(cv, "cv", numbers.Integral, min_val=2, max_val=most)
    except (TypeError, ValueError):
        return False
    return True


def _check_cv(cv: Any) -> None:
    """Raise :class:`RemedyError` unless ``cv`` is ``None``, an int >= 2 or a splitter (its upper bound, the run's
    training rows, is checked by :func:`_folds` once they are known)."""
    if cv is None or _is_splitter(cv) or _is_fold_count(cv):
        return
    raise RemedyError(f"The 'cv' argument of sweep must be {CV_ALLOWED}. Got {safe_repr(cv)} instead.")


def _check_metric(run: Run, metric: Any) -> None:
    """Refuse a ``metric`` that is not a name; warn, listing what was logged, when the run did not log it (the
    sweep then scores the default metric, as the diagnosis does)."""
    if metric is None:
        return
    if not isinstance(metric, str) or not metric:
        raise RemedyError(
            "The 'metric' argument of sweep must be the name of a logged metric, such as 'accuracy' or 'val_auc', "
            f"or None. Got {safe_repr(metric)} instead."
        )
    from ..diagnosis.signals import resolve_metric

    note = resolve_metric(run.logs, metric).note if run.logs else None
    if note:
        warnings.warn(f"{note} The sweep scores the default metric instead.", UserWarning, stacklevel=4)


def _fold_indices(rows: Any, n: int) -> np.ndarray | None:
    """A fold's row numbers as an int array, or ``None`` unless they are a non-empty list of rows below ``n``."""
    try:
        rows = np.asarray(rows)
    except Exception:
        return None
    if rows.ndim != 1 or rows.size == 0 or rows.dtype.kind not in "iu" or rows.min() < 0 or rows.max() >= n:
        return None
    return rows


def _split(run: Run, splitter: Any, cv: Any, n: int, labels: np.ndarray | None) -> list[tuple[np.ndarray, ...]]:
    """The (training rows, validation rows) of every fold, checked: a splitter that raises or gives rows that are
    not row numbers of the run's ``n`` training rows is one :class:`RemedyError` sentence, before anything trains."""
    where = f"the {n} training rows of {run.label}"
    try:
        folds = list(splitter.split(np.zeros(n), labels))
    except Exception as exc:  # the user's splitter, or one asked for more folds than there are rows
        raise RemedyError(
            f"The 'cv' argument of sweep ({safe_repr(cv)}) could not split {where}: "
            f"{type(exc).__name__}: {safe_str(exc).rstrip('.')}."
        ) from None
    checked = []
    for fold in folds:
        pair = tuple(fold) if isinstance(fold, (tuple, list)) and len(fold) == 2 else (None, None)
        train, val = (_fold_indices(part, n) for part in pair)
        if train is None or val is None:
            raise RemedyError(
                f"The 'cv' argument of sweep must give (training rows, validation rows) pairs of row numbers of {where}"
                f", none empty. Got a fold {safe_repr(fold)} from {safe_repr(cv)} instead."
            )
        checked.append((train, val))
    if not checked:
        raise RemedyError(f"The 'cv' argument of sweep ({safe_repr(cv)}) gave no fold of {where}.")
    return checked


def _folds(run: Run, cv: Any) -> tuple[list | None, str | None]:
    """The fit arguments of each fold (training rows of the run only), and a description."""
    if cv is None:
        return None, None
    from sklearn.model_selection import KFold, StratifiedKFold

    from ..diagnosis.signals import class_values, label_format

    plan = Plan.from_baseline(LEDGER.baseline(root_of(run)))
    plan.require_arrays("Cross-validation")
    x, y = plan.training_arrays()
    sw = plan.fit.get("sample_weight")
    if sw is not None and plan.fit.get("validation_split"):
        sw = sw[: len(np.asarray(y))]
    # the first output's labels (not keras.tree.flatten(y)[0]: that sorts a dict's keys, this keeps their order)
    target = np.asarray(y if not isinstance(y, (list, tuple, Mapping)) else next(iter(
        y.values() if isinstance(y, Mapping) else y)))  # fmt: skip
    labels = None
    fmt = label_format(target)
    if fmt in ("sparse", "onehot"):
        labels = class_values(target, fmt)
    seed = plan.seed
    n = len(target)
    if _is_splitter(cv):
        splitter, text = cv, type(cv).__name__
    elif n < 2:
        raise RemedyError(f"{run.label} has {n} training row(s), too few to cross-validate; pass cv=None.")
    elif not _is_fold_count(cv, most=n):
        raise RemedyError(
            f"The 'cv' argument of sweep must be an int from 2 to {n} (the training rows of {run.label}) or a "
            f"scikit-learn splitter such as KFold(5). Got {safe_repr(cv)} instead."
        )
    else:
        k = int(cv)
        if labels is not None and np.unique(labels, return_counts=True)[1].min() >= k:
            splitter, text = StratifiedKFold(k, shuffle=True, random_state=seed), f"{k}-fold stratified CV"
        else:
            splitter, text = KFold(k, shuffle=True, random_state=seed), f"{k}-fold CV"
    folds = []
    for tr, va in _split(run, splitter, cv, n, labels):
        fold = {"x": take_rows(x, tr), "y": take_rows(y, tr), "validation_data": (take_rows(x, va), take_rows(y, va))}
        if sw is not None:
            fold["sample_weight"] = take_rows(sw, tr)
        folds.append(fold)
    return folds, f"{text} on the {n} training rows"


def sweep(
    run: Run,
    grid: Mapping[str, Sequence[Any]],
    cv: Any = None,
    *,
    progress: Callable[[int, int, dict], Any] | None = None,
    metric: str | None = None,
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
        metric: The metric to score (default: the first accuracy-like metric, else the loss); its validation
            value at the *last* epoch is the score (as GridSearchCV scores the fitted model), the best epoch's is
            reported too.

    Returns:
        A :class:`SweepResult`. Press Interrupt (KeyboardInterrupt) or call its ``stop()`` to end early: finished
        configurations are kept. The user's model is left as it was before the sweep.

    Raises:
        RemedyError: Before anything trains, in one sentence naming the argument and what it accepts: a grid that is
            not a dict of non-empty lists, holds a value ``run.rerun`` would refuse (``{"epochs": [-1]}``: the same
            checks, :mod:`.overrides`) or a configuration that cannot be built, a ``cv`` that is not one of
            the above (or more folds than training rows, or a splitter that fails on them), a ``metric`` that is
            not a name, a ``progress`` that is not callable. A ``metric`` the run did not log is a warning that
            lists the logged ones; the default metric is scored.
    """
    return SweepResult.prepare(run, grid, cv, metric=metric).run(progress=progress)
