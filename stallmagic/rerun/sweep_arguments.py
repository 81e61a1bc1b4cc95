"""The arguments of :func:`~.sweep.sweep`, checked and read before anything trains: the grid into its
configurations, ``cv`` into the folds' fit arguments, ``metric`` against what the run logged.

Kept apart from :mod:`.sweep` (which runs the configurations) so each engine, in process or on Ray
(:mod:`.sweep_ray`), reads the same arguments the same way: a mistake is one :class:`RemedyError` sentence naming the
argument and what it accepts, before any model is built.
"""

from __future__ import annotations

import itertools
import numbers
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._internal.nested import judged_output, several_outputs
from .._internal.text import safe_repr, safe_str
from ..record import Run
from ..remedies import RemedyError
from ..remedies.arrays import take_rows
from .ledger import LEDGER, root_of
from .overrides import check_override
from .plan import Plan


def grid_configs(grid: Mapping[str, Sequence[Any]]) -> tuple[list[dict], dict]:
    """Every configuration of ``grid`` (its keys' values crossed, in the grid's order) and the grid as lists, each
    value checked as ``run.rerun(**overrides)`` checks it (:mod:`.overrides`)."""
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


#: The engines a sweep runs on: one configuration after another in this process, or Ray Tune trials.
ENGINES = ("process", "ray")
#: The options only the Ray engine takes (passed through to Ray Tune).
RAY_OPTIONS = ("scheduler", "search_alg", "num_samples", "storage_path")


def check_engine(engine: Any, options: Mapping[str, Any]) -> None:
    """Raise :class:`RemedyError` unless ``engine`` is one of :data:`ENGINES` and every option in ``options`` is one
    of :data:`RAY_OPTIONS`, given with ``engine="ray"``; ``num_samples`` must be an int >= 1."""
    if engine not in ENGINES:
        raise RemedyError(
            f"The 'engine' argument of sweep must be 'process' or 'ray'. Got {safe_repr(engine)} instead."
        )
    unknown = [k for k in options if k not in RAY_OPTIONS]
    if unknown:
        raise TypeError(f"sweep() got an unexpected keyword argument {unknown[0]!r}")
    given = [k for k, v in options.items() if v is not None]
    if given and engine != "ray":
        raise RemedyError(
            f"The {given[0]!r} argument of sweep applies to engine='ray' only (Ray Tune runs the trials). "
            f"Got engine={safe_repr(engine)} instead."
        )
    samples = options.get("num_samples")
    if samples is not None and (isinstance(samples, bool) or not isinstance(samples, int) or samples < 1):
        raise RemedyError(f"The 'num_samples' argument of sweep must be an int >= 1. Got {safe_repr(samples)} instead.")
    if samples is not None and options.get("search_alg") is None:
        raise RemedyError(
            "The 'num_samples' argument of sweep counts a search algorithm's samples; pass search_alg= too (the grid "
            "runs each configuration once)."
        )


#: What the 'cv' argument of sweep accepts, in its messages.
CV_ALLOWED = "None, an int >= 2 (that many folds) or a scikit-learn splitter such as KFold(5)"


def is_splitter(cv: Any) -> bool:
    """Whether ``cv`` splits rows as scikit-learn's splitters do: it has a ``split`` method (a str has one too, and
    is not a splitter)."""
    return not isinstance(cv, (str, bytes)) and callable(getattr(cv, "split", None))


def is_fold_count(cv: Any, *, most: int | None = None) -> bool:
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


def check_cv(cv: Any) -> None:
    """Raise :class:`RemedyError` unless ``cv`` is ``None``, an int >= 2 or a splitter (its upper bound, the run's
    training rows, is checked by :func:`folds_of` once they are known)."""
    if cv is None or is_splitter(cv) or is_fold_count(cv):
        return
    raise RemedyError(f"The 'cv' argument of sweep must be {CV_ALLOWED}. Got {safe_repr(cv)} instead.")


def check_metric(run: Run, metric: Any) -> None:
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


def fold_indices(rows: Any, n: int) -> np.ndarray | None:
    """A fold's row numbers as an int array, or ``None`` unless they are a non-empty list of rows below ``n``."""
    try:
        rows = np.asarray(rows)
    except Exception:
        return None
    if rows.ndim != 1 or rows.size == 0 or rows.dtype.kind not in "iu" or rows.min() < 0 or rows.max() >= n:
        return None
    return rows


def split_rows(run: Run, splitter: Any, cv: Any, n: int, labels: np.ndarray | None) -> list[tuple[np.ndarray, ...]]:
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
        train, val = (fold_indices(part, n) for part in pair)
        if train is None or val is None:
            raise RemedyError(
                f"The 'cv' argument of sweep must give (training rows, validation rows) pairs of row numbers of {where}"
                f", none empty. Got a fold {safe_repr(fold)} from {safe_repr(cv)} instead."
            )
        checked.append((train, val))
    if not checked:
        raise RemedyError(f"The 'cv' argument of sweep ({safe_repr(cv)}) gave no fold of {where}.")
    return checked


def folds_of(run: Run, cv: Any) -> tuple[list | None, str | None]:
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
    # the judged output's labels, read by its name (Run.judged_output), never by position: a dict of targets is in
    # the user's order, the model's outputs in Keras's
    target = np.asarray(judged_output(y, root_of(run).judged_output) if several_outputs(y) else y)
    labels = None
    fmt = label_format(target)
    if fmt in ("sparse", "onehot"):
        labels = class_values(target, fmt)
    seed = plan.seed
    n = len(target)
    if is_splitter(cv):
        splitter, text = cv, type(cv).__name__
    elif n < 2:
        raise RemedyError(f"{run.label} has {n} training row(s), too few to cross-validate; pass cv=None.")
    elif not is_fold_count(cv, most=n):
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
    for tr, va in split_rows(run, splitter, cv, n, labels):
        fold = {"x": take_rows(x, tr), "y": take_rows(y, tr), "validation_data": (take_rows(x, va), take_rows(y, va))}
        if sw is not None:
            fold["sample_weight"] = take_rows(sw, tr)
        folds.append(fold)
    return folds, f"{text} on the {n} training rows"
