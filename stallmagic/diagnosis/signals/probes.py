"""Cheap scikit-learn probes of what the data allow, independent of the network.

One bounded sample of the training rows (at most :data:`MAX_ROWS`), standardized, is given to two cheap models, a
linear one and a k-nearest-neighbours one (so that both linearly separable data and curved boundaries such as
make_moons are served), and the better one by out-of-fold accuracy is kept. From it:

* the **baseline**: its score on the validation rows, i.e. what a quick model reaches on this data;
* the **learning curve**: its validation score trained on 25 %, 50 % and 100 % of the sample (the smaller points
  averaged over three draws, whose spread says how much a gain could be luck), which tells whether more data
  would still help;
* **out-of-fold probabilities** for every sampled training row (3-fold), from which cleanlab's confident learning
  (``cleanlab.filter.find_label_issues``) flags the rows whose label looks wrong. The other model's out-of-fold
  probabilities are kept too: where two models of different families contradict a label with the same class, the
  label, not one model's blind spot, is the likelier culprit (a consensus filter, Brodley & Friedl 1999).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ParamSpec, TypeVar

import numpy as np

P = ParamSpec("P")
R = TypeVar("R")

#: Rows of the training (and validation) split the probes look at, at most.
MAX_ROWS = 1500
#: Features kept for the probes; wider inputs are projected on their first principal components.
MAX_FEATURES = 256
#: Learning-curve points, as fractions of the sampled training rows.
FRACTIONS = (0.25, 0.5, 1.0)
#: Draws of each smaller learning-curve subset: their spread says how much of a gain is luck of the draw.
SUBSETS = 3
#: A row counts as "confidently mislabeled" when the probe gives another class at least this probability.
CONFIDENT = 0.7


@dataclass
class ProbeResult:
    """What the cheap probe measured (see module docstring). Scores are accuracy or R^2 on validation.

    ``positions`` maps each probed training row back to its position in the ``x_train`` given to
    :func:`run_probe`; ``labels``, ``oof_proba``, ``label_issues`` and ``confident_wrong`` are aligned with it, and
    so is ``rival_oof_proba``, the out-of-fold probabilities of the cheap model that was not kept (``rival_name``).
    """

    task: str
    model_name: str
    n_train: int
    val_score: float | None
    curve: list[tuple[int, float]] = field(default_factory=list)
    oof_accuracy: float | None = None
    oof_proba: np.ndarray | None = None
    classes: np.ndarray | None = None
    labels: np.ndarray | None = None
    positions: np.ndarray | None = None
    label_issues: np.ndarray | None = None
    confident_wrong: np.ndarray | None = None
    note: str | None = None
    curve_spread: float | None = None
    rival_name: str | None = None
    rival_oof_proba: np.ndarray | None = None

    def gain_last_doubling(self) -> float | None:
        """Score gained from the 50 % point to the 100 % point of the learning curve."""
        if len(self.curve) < 2:
            return None
        return self.curve[-1][1] - self.curve[-2][1]

    def gain_per_doubling(self) -> float | None:
        """The learning curve's slope in log2(rows): score gained per doubling, from its first point to its last
        (steadier than the last doubling alone, which rests on one pair of points)."""
        if len(self.curve) < 2 or self.curve[-1][0] <= self.curve[0][0]:
            return None
        return (self.curve[-1][1] - self.curve[0][1]) / math.log2(self.curve[-1][0] / self.curve[0][0])


def one_thread(fn: Callable[P, R]) -> Callable[P, R]:
    """Run a probe with its native thread pools (OpenMP, BLAS) limited to one thread.

    The probes fit a few hundred rows; spreading such fits over threads costs more than it saves, and next to
    TensorFlow's own thread pools (still spinning after a fit) it costs much more: a diagnosis's domain classifier
    took 0.93 s of wall time on default threads against 0.30 s on one (``bench/probe_threads.py``).
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):
            return fn(*args, **kwargs)

    return wrapper


def _prepare(x_train: np.ndarray, x_val: np.ndarray | None, seed: int):
    from sklearn.preprocessing import StandardScaler

    x_train = np.asarray(x_train, dtype=np.float64).reshape(len(x_train), -1)
    x_val = None if x_val is None else np.asarray(x_val, dtype=np.float64).reshape(len(x_val), -1)
    # Non-finite values: the column median (the data-quality rule reports them; the probe still wants a score).
    bad = ~np.isfinite(x_train)
    if bad.any() or (x_val is not None and not np.isfinite(x_val).all()):
        med = np.nanmedian(np.where(bad, np.nan, x_train), axis=0)
        med = np.where(np.isfinite(med), med, 0.0)
        x_train = np.where(bad, med, x_train)
        if x_val is not None:
            x_val = np.where(np.isfinite(x_val), x_val, med)
    scaler = StandardScaler().fit(x_train)
    x_train = scaler.transform(x_train)
    x_val = scaler.transform(x_val) if x_val is not None else None
    if x_train.shape[1] > MAX_FEATURES:
        pca = _pca(min(MAX_FEATURES // 4, len(x_train) - 1), seed)
        x_train = pca.fit_transform(x_train)
        x_val = pca.transform(x_val) if x_val is not None else None
    return x_train, x_val


def _pca(components: int, seed: int):
    """Randomized PCA with two power iterations: the leading components of wide inputs (images) in a quarter of
    the time of scikit-learn's default seven, which matters for a probe and not for its result."""
    from sklearn.decomposition import PCA

    return PCA(components, svd_solver="randomized", iterated_power=2, random_state=seed)


def _subsample(n: int, cap: int, rng: np.random.Generator, y: np.ndarray | None = None) -> np.ndarray:
    if n <= cap:
        return np.arange(n)
    if y is None:
        return np.sort(rng.choice(n, cap, replace=False))
    # stratified: keep every class's share (and at least one row of each)
    idx = []
    for c in np.unique(y):
        rows = np.flatnonzero(y == c)
        take = max(1, round(cap * len(rows) / n))
        idx.append(rng.choice(rows, min(take, len(rows)), replace=False))
    return np.sort(np.concatenate(idx))


def _hold_out(rng: np.random.Generator, *arrays: np.ndarray) -> tuple[tuple, tuple, str]:
    """A fit without validation: hold a random quarter of the sampled training rows out for the baseline.

    Returns the training part of every array, the held-out part of the first two (inputs, targets), and the note
    that says so."""
    cut = rng.permutation(len(arrays[0]))
    n_hold = len(arrays[0]) // 4
    kept = tuple(a[cut[n_hold:]] for a in arrays)
    held = (arrays[0][cut[:n_hold]], arrays[1][cut[:n_hold]])
    return kept, held, "The baseline was scored on a quarter of the training rows (the fit had no validation data)."


def _candidates(task: str, n: int):
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    k = int(min(15, max(3, round(math.sqrt(n) / 3))))
    if task == "classification":
        return [
            ("logistic regression", LogisticRegression(max_iter=300, C=1.0)),
            (f"{k}-nearest neighbours", KNeighborsClassifier(n_neighbors=k, weights="distance")),
        ]
    return [("ridge regression", Ridge(alpha=1.0)), (f"{k}-nearest neighbours", KNeighborsRegressor(n_neighbors=k))]


def _score(model, x, y, task: str) -> float:
    if task == "classification":
        return float(np.mean(model.predict(x) == y))
    from sklearn.metrics import r2_score

    return float(r2_score(y, model.predict(x)))


@one_thread
def run_probe(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray | None,
    y_val: np.ndarray | None,
    *,
    task: str,
    n_classes: int | None = None,
    seed: int = 0,
) -> ProbeResult | None:
    """Run the cheap probe (see module docstring) on a training sample and the validation rows.

    Args:
        x_train: Array-like of shape (n, ...) of training inputs.
        y_train: Array-like of shape (n,): class indices (``-1`` for unknown) or regression targets.
        x_val: Validation inputs, or ``None`` (a quarter of the training sample is held out instead).
        y_val: Validation targets aligned with ``x_val``.
        task: ``"classification"`` or ``"regression"``.
        n_classes: Number of classes (only used to size the probabilities).
        seed: Seed for sampling, folds and the learning curve.

    Returns:
        A :class:`ProbeResult`, or ``None`` when the sample is too small to say anything (fewer than 20 rows).
    """
    rng = np.random.default_rng(seed)  # one generator, drawn in a fixed order: rows, validation rows, curve
    x_train, y_train, positions = _sample_training_rows(x_train, y_train, task, rng)
    if x_val is not None and y_val is not None:
        y_val = np.asarray(y_val)
        vrows = _subsample(len(y_val), MAX_ROWS, rng)
        x_val, y_val = np.asarray(x_val)[vrows], y_val[vrows]
    if len(y_train) < 20:
        return None
    holdout_note = None
    if x_val is None or y_val is None or len(y_val) < 10:
        (x_train, y_train, positions), (x_val, y_val), holdout_note = _hold_out(rng, x_train, y_train, positions)
    xt, xv = _prepare(x_train, x_val, seed)

    classes = None
    if task == "classification":
        classes = np.unique(y_train)
        if len(classes) < 2:
            return ProbeResult(task, "none", len(y_train), None, note="The training sample holds a single class.")
    (name, model, oof_score, oof), rival = _best_candidate(xt, y_train, task, classes, seed)
    curve, spread = _learning_curve(model, xt, y_train, xv, y_val, task, rng)
    result = ProbeResult(
        task=task,
        model_name=name,
        n_train=len(y_train),
        val_score=curve[-1][1] if curve else None,
        curve=curve,
        oof_accuracy=oof_score if math.isfinite(oof_score) else None,
        curve_spread=spread,
        positions=positions,
        note=holdout_note,
    )
    if classes is not None and oof is not None:
        _check_labels(result, classes, y_train, oof)
        if rival is not None and rival[1] is not None:
            result.rival_name, result.rival_oof_proba = rival
    return result


def _sample_training_rows(
    x_train: np.ndarray, y_train: np.ndarray, task: str, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The training rows the probe reads: those with a known target (a class index of 0 or more, a finite number),
    at most :data:`MAX_ROWS` of them (stratified for classes), with their positions in the ``x_train`` given."""
    y_train = np.asarray(y_train)
    keep = y_train >= 0 if task == "classification" else np.isfinite(y_train)
    positions = np.flatnonzero(keep)
    x_train, y_train = np.asarray(x_train)[keep], y_train[keep]
    rows = _subsample(len(y_train), MAX_ROWS, rng, y_train if task == "classification" else None)
    return x_train[rows], y_train[rows], positions[rows]


def _best_candidate(
    xt: np.ndarray, y_train: np.ndarray, task: str, classes: np.ndarray | None, seed: int
) -> tuple[tuple[str, object, float, np.ndarray | None], tuple[str, np.ndarray | None] | None]:
    """The better of the cheap models (:func:`_candidates`) by out-of-fold score: 3-fold (stratified for classes,
    fewer folds when the rarest class has fewer than 3 rows; none with a single row, then the first model wins).

    Returns:
        ``(name, unfitted model, out-of-fold accuracy or R², out-of-fold probabilities or predictions)`` of the
        better model, and ``(name, out-of-fold probabilities or predictions)`` of the other one.
    """
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict

    classification = task == "classification"
    if classification:
        folds = int(min(3, np.unique(y_train, return_counts=True)[1].min()))
        cv = StratifiedKFold(folds, shuffle=True, random_state=seed) if folds >= 2 else None
    else:
        cv = KFold(3, shuffle=True, random_state=seed)
    best = rival = None
    for name, model in _candidates(task, len(y_train)):
        if cv is None:
            oof = None
            oof_score = -math.inf
        elif classification:
            oof = cross_val_predict(model, xt, y_train, cv=cv, method="predict_proba")
            oof_score = float(np.mean(classes[oof.argmax(axis=1)] == y_train))
        else:
            oof = cross_val_predict(model, xt, y_train, cv=cv)
            oof_score = float(1 - np.mean((oof - y_train) ** 2) / max(1e-12, np.var(y_train)))
        if best is None or oof_score > best[2] + 1e-9:
            rival = None if best is None else (best[0], best[3])
            best = (name, model, oof_score, oof)
        else:
            rival = (name, oof)
    return best, rival


def _learning_curve(
    model: object,
    xt: np.ndarray,
    y_train: np.ndarray,
    xv: np.ndarray,
    y_val: np.ndarray,
    task: str,
    rng: np.random.Generator,
) -> tuple[list[tuple[int, float]], float | None]:
    """The model's validation score trained on each of :data:`FRACTIONS` of the rows; the smaller subsets are
    drawn :data:`SUBSETS` times and averaged, and the spread of the last of them says how much of a gain is luck.

    Returns:
        ``([(rows, score), ...], spread)``; a subset holding a single class is skipped.
    """
    from sklearn.base import clone

    classification = task == "classification"
    curve = []
    spread = None
    n = len(y_train)
    for frac in FRACTIONS:
        size = max(10, round(frac * n))
        scores = []
        for _ in range(1 if size >= n else SUBSETS):  # smaller subsets: several draws, for their spread
            idx = np.arange(n) if size >= n else _subsample(n, size, rng, y_train if classification else None)
            if classification and len(np.unique(y_train[idx])) < 2:
                continue
            scores.append(_score(clone(model).fit(xt[idx], y_train[idx]), xv, y_val, task))
        if scores:
            curve.append((size if size < n else n, float(np.mean(scores))))
            spread = float(np.std(scores, ddof=1)) if len(scores) > 1 else spread
    return curve, spread


def _check_labels(result: ProbeResult, classes: np.ndarray, labels: np.ndarray, oof: np.ndarray) -> None:
    """Fill in the label check: the out-of-fold probabilities, cleanlab's label issues, and the rows the probe
    gives another class at least :data:`CONFIDENT` probability."""
    result.oof_proba = oof
    result.classes = classes
    result.labels = labels
    y_idx = np.searchsorted(classes, labels)
    result.label_issues = _find_label_issues(y_idx, oof)
    other = oof.copy()
    other[np.arange(len(labels)), y_idx] = -1.0
    result.confident_wrong = other.max(axis=1) >= CONFIDENT


def _find_label_issues(labels: np.ndarray, pred_probs: np.ndarray) -> np.ndarray | None:
    """cleanlab's confident learning on out-of-fold probabilities; ``None`` if cleanlab cannot run here."""
    try:
        from cleanlab.filter import find_label_issues
    except ImportError:  # pragma: no cover - cleanlab is a dependency; keep the rest of the diagnosis working
        return None
    try:
        return np.asarray(find_label_issues(labels=labels, pred_probs=pred_probs, n_jobs=1), dtype=bool)
    except Exception:  # cleanlab refuses degenerate inputs (a class with one row): no verdict
        return None


@dataclass(frozen=True)
class DomainShift:
    """How well a classifier tells validation rows from training rows: ``auc`` (0.5 = indistinguishable), and the
    features whose means differ most, in training standard deviations (``differences``, aligned with
    ``features``)."""

    auc: float
    features: list[int]
    differences: list[float]


#: Rows of each split the domain classifier looks at, at most.
DOMAIN_ROWS = 600


@one_thread
def domain_auc(x_train: np.ndarray, x_val: np.ndarray, *, seed: int = 0) -> DomainShift | None:
    """Train a classifier to tell ``x_val`` rows from ``x_train`` rows (3-fold, gradient boosting on features
    standardized with the training rows' statistics, so a different scaling of validation stays visible).

    Returns ``None`` with fewer than 30 rows on either side.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    rng = np.random.default_rng(seed)
    a = np.asarray(x_train, dtype=np.float64).reshape(len(x_train), -1)
    b = np.asarray(x_val, dtype=np.float64).reshape(len(x_val), -1)
    a, b = a[_subsample(len(a), DOMAIN_ROWS, rng)], b[_subsample(len(b), DOMAIN_ROWS, rng)]
    if len(a) < 30 or len(b) < 30:
        return None
    mean, std = np.nanmean(a, axis=0), np.nanstd(a, axis=0)
    std = np.where(std > 0, std, 1.0)
    a, b = (a - mean) / std, (b - mean) / std
    a, b = np.nan_to_num(a, posinf=1e6, neginf=-1e6), np.nan_to_num(b, posinf=1e6, neginf=-1e6)
    difference = np.abs(b.mean(axis=0) - a.mean(axis=0))
    top = np.argsort(-difference)[:3]
    if a.shape[1] > MAX_FEATURES:  # wide inputs (images): the principal components carry the shift
        # fitted on both splits: components fitted on the training rows alone carry more of *their* variance
        # than of any other rows', so i.i.d. validation rows would stand apart (AUC 0.97 on pure noise, d=500)
        pca = _pca(min(MAX_FEATURES // 4, len(a) + len(b) - 1), seed).fit(np.concatenate([a, b]))
        a, b = pca.transform(a), pca.transform(b)
    x = np.concatenate([a, b])
    y = np.concatenate([np.zeros(len(a)), np.ones(len(b))])
    model = HistGradientBoostingClassifier(max_iter=40, random_state=seed)
    proba = cross_val_predict(model, x, y, cv=StratifiedKFold(3, shuffle=True, random_state=seed),
                              method="predict_proba")[:, 1]  # fmt: skip
    return DomainShift(
        auc=float(roc_auc_score(y, proba)),
        features=[int(i) for i in top],
        differences=[round(float(difference[i]), 2) for i in top],
    )


def _elements(y: np.ndarray, binary: bool) -> np.ndarray:
    y = np.asarray(y, dtype=float).reshape(len(y), -1)
    return (y > 0.5).astype(int) if binary else np.round(y).astype(int)


@one_thread
def run_elementwise_probe(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray | None,
    y_val: np.ndarray | None,
    *,
    binary: bool = True,
    seed: int = 0,
) -> ProbeResult | None:
    """The baseline for targets scored element by element (multi-label rows, a 0/1 map per row, a class per step of
    a sequence): k-nearest neighbours predicting every element at once, scored by the share of elements it gets
    right, as Keras's binary or sparse categorical accuracy scores the network. ``binary``: 0/1 targets
    (thresholded at 0.5), else integer class indices. Without validation rows, a quarter of the training sample is
    held out.

    Returns ``None`` with fewer than 20 rows. No learning curve or label check: those need one label per row.
    """
    from sklearn.neighbors import KNeighborsClassifier

    rng = np.random.default_rng(seed)
    y_train = _elements(y_train, binary)
    rows = _subsample(len(y_train), MAX_ROWS, rng)
    x_train, y_train = np.asarray(x_train)[rows], y_train[rows]
    note = None
    if x_val is None or y_val is None or len(y_val) < 10:
        (x_train, y_train), (x_val, y_val), note = _hold_out(rng, x_train, y_train)
    else:
        y_val = _elements(y_val, binary)
        vrows = _subsample(len(y_val), MAX_ROWS, rng)
        x_val, y_val = np.asarray(x_val)[vrows], y_val[vrows]
    if len(y_train) < 20:
        return None
    xt, xv = _prepare(x_train, x_val, seed)
    k = int(min(15, max(3, round(math.sqrt(len(y_train)) / 3))))
    model = KNeighborsClassifier(n_neighbors=k).fit(xt, y_train)
    pred = np.asarray(model.predict(xv)).reshape(len(y_val), -1)
    return ProbeResult(
        task="elementwise",
        model_name=f"{k}-nearest neighbours",
        n_train=len(y_train),
        val_score=float(np.mean(pred == y_val)),
        note=note,
    )
