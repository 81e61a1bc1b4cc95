"""Signals that several rules share, computed once per diagnosis (lazily: a signal no rule reads costs nothing).

``Signals`` wraps a Run and its :class:`~stallmagic.diagnosis.measurements.Measurements` and exposes, under
plain names, what the rules reason about: the curves of the chosen metric and of the loss, the task (classification
or regression) and its classes, labels as class indices, class counts, the model's per-class recall on validation,
and the cheap scikit-learn probes (baseline, learning curve, label issues). Pure: numpy and scikit-learn only.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ..record import Run
from .measurements import Measurements
from .trend import Curve

#: Log keys read as "accuracy", in order of preference; any other key ending in "accuracy" comes next, then AUC.
ACCURACY_KEYS = ("accuracy", "acc", "sparse_categorical_accuracy", "categorical_accuracy", "binary_accuracy")

CLASSIFICATION_LOSSES = {
    "binary_crossentropy", "binary_focal_crossentropy", "categorical_crossentropy",
    "sparse_categorical_crossentropy", "categorical_focal_crossentropy", "hinge", "squared_hinge",
    "categorical_hinge", "kl_divergence", "kld", "kullback_leibler_divergence",
}  # fmt: skip
REGRESSION_LOSSES = {
    "mean_squared_error", "mse", "mean_absolute_error", "mae", "huber", "huber_loss", "log_cosh", "logcosh",
    "mean_squared_logarithmic_error", "msle", "mean_absolute_percentage_error", "mape", "poisson", "cosine_similarity",
}  # fmt: skip
PROBABILITY_LOSSES = CLASSIFICATION_LOSSES - {"hinge", "squared_hinge", "categorical_hinge"}

#: Names under which Keras chooses the accuracy itself, from the shapes of targets and outputs.
KERAS_PICKS_ACCURACY = ("accuracy", "acc")

#: At most this many distinct integer targets still read as class labels.
MAX_CLASSES = 100


@dataclass(frozen=True)
class MetricChoice:
    """Which logged keys stand for "accuracy" in this run.

    ``kind`` is ``"accuracy"``, ``"auc"`` or ``"loss"`` (no accuracy-like metric was logged). ``note`` explains a
    fallback, e.g. a ``--metric`` that the run did not log.
    """

    train_key: str | None
    val_key: str | None
    kind: str
    higher_is_better: bool
    note: str | None = None


def resolve_metric(logs: Mapping[str, Any], requested: str | None = None) -> MetricChoice:
    """Pick the metric that "validation accuracy" means for this run.

    ``requested`` (e.g. ``"auc"`` or ``"val_auc"``) wins when logged; otherwise the first accuracy-like key, then
    AUC, then the loss. A requested metric that was not logged falls back with a note that lists what was.
    """
    train_keys = [k for k in logs if not k.startswith("val_")]
    note = None
    if requested:
        base = requested[4:] if requested.startswith("val_") else requested
        if base in logs:
            hib = not _is_loss_like(base)
            kind = "loss" if not hib else ("auc" if "auc" in base else "accuracy")
            return MetricChoice(base, f"val_{base}" if f"val_{base}" in logs else None, kind, hib)
        note = (
            f"The metric {requested!r} was not logged by this run. Available metrics are: "
            f"{', '.join(train_keys) or 'none'}."
        )
    candidates = [k for k in ACCURACY_KEYS if k in logs]
    candidates += [k for k in train_keys if k.endswith("accuracy") and k not in candidates]
    kind = "accuracy"
    if not candidates:
        candidates = [k for k in train_keys if k == "auc" or k.startswith("auc")]
        kind = "auc"
    if candidates:
        key = candidates[0]
        return MetricChoice(key, f"val_{key}" if f"val_{key}" in logs else None, kind, True, note)
    if "loss" in logs:
        return MetricChoice("loss", "val_loss" if "val_loss" in logs else None, "loss", False, note)
    return MetricChoice(None, None, "loss", False, note)


def _is_loss_like(key: str) -> bool:
    k = key.lower()
    return "loss" in k or "error" in k or k in {"mse", "mae", "msle", "mape"}


@dataclass(frozen=True)
class Labels:
    """Targets read as classes: ``fmt`` is ``sparse``, ``onehot``, ``binary_prob`` (one column of 0/1 values),
    ``multilabel`` or ``continuous``; ``classes`` the distinct class values (sorted); ``train``/``val`` the class
    index (0..k-1) of each sampled row, ``train_all``/``val_all`` of every row of the split when known."""

    fmt: str
    classes: np.ndarray
    train: np.ndarray | None
    val: np.ndarray | None
    train_all: np.ndarray | None
    val_all: np.ndarray | None

    @property
    def k(self) -> int:
        return len(self.classes)


def label_format(y: np.ndarray) -> str:
    """How targets are encoded (see :class:`Labels`); ``per_position`` for one target per position of a sequence
    or an image (shape ``(n, steps, ...)``), which has no single label per row."""
    y = np.asarray(y)
    if y.ndim >= 3 and int(np.prod(y.shape[1:])) > 1:
        return "per_position"
    if y.ndim >= 2 and y.shape[-1] > 1:
        flat = y.reshape(len(y), -1)
        if not np.isfinite(flat).all():
            return "continuous"
        binary = np.isin(flat, (0, 1)).all()
        if binary and np.allclose(flat.sum(axis=1), 1):
            return "onehot"
        if binary:
            return "multilabel"
        if np.all(flat >= 0) and np.allclose(flat.sum(axis=1), 1, atol=1e-3):
            return "onehot"  # soft labels (label smoothing, mixup): argmax is the class
        return "continuous"
    flat = y.reshape(-1)
    if flat.dtype.kind in "biu":
        return "sparse"
    if flat.dtype.kind == "f":
        finite = flat[np.isfinite(flat)]
        if len(finite) and np.allclose(finite, np.round(finite)) and len(np.unique(finite)) <= MAX_CLASSES:
            return "sparse"
        return "continuous"
    if flat.dtype.kind in "OUS":
        return "sparse"  # string labels
    return "continuous"


def class_values(y: np.ndarray, fmt: str) -> np.ndarray:
    """Each row's class value: the label itself (sparse) or its argmax (one-hot)."""
    y = np.asarray(y)
    if fmt == "onehot":
        return y.reshape(len(y), -1).argmax(axis=1)
    flat = y.reshape(len(y), -1)[:, 0] if y.ndim > 1 else y
    if flat.dtype.kind == "f":
        flat = np.where(np.isfinite(flat), flat, -1)
        return np.round(flat).astype(np.int64)
    return flat


class Signals:
    """Lazy, cached signals for the rules (see module docstring).

    Args:
        run: The Run to diagnose.
        measurements: What :mod:`stallmagic.diagnosis.measure` measured (default: nothing, the curves only).
        metric: The metric to read as "accuracy" (default: the first accuracy-like metric, else the loss).
        seed: Seed of the cheap probes' sampling and cross-validation (default 0).
    """

    def __init__(
        self, run: Run, measurements: Measurements | None = None, *, metric: str | None = None, seed: int = 0
    ) -> None:
        self.run = run
        self.m = measurements or Measurements()
        self.metric = resolve_metric(run.logs, metric)
        self.seed = seed
        self.timings: dict[str, float] = dict(self.m.timings)
        self.notes: list[str] = list(self.m.notes)
        if self.metric.note:
            self.notes.append(self.metric.note)
        if metric is None and self.metric.kind == "accuracy" and self._numeric_targets():
            self.notes.append(
                f"'{self.metric.train_key}' on numeric targets with a regression loss counts exact matches, which "
                "says little: the run is judged on its loss instead."
            )
            self.metric = resolve_metric({k: v for k, v in run.logs.items() if "loss" in k})
        if metric is None and self.metric.train_key in KERAS_PICKS_ACCURACY and self._multi_hot_targets():
            self.notes.append(
                f"'{self.metric.train_key}' on multi-label targets is Keras's categorical accuracy (does the top "
                "output match the first 1 in the row?), which says little: the run is judged on its loss and on its "
                "predictions instead."
            )
            self.metric = resolve_metric({k: v for k, v in run.logs.items() if "loss" in k})

    def _multi_hot_targets(self) -> bool:
        """Several 1s per row: Keras 3's ``metrics=["accuracy"]`` picks its accuracy from the shapes alone, and for
        targets with more than one column that is categorical accuracy, whatever the loss."""
        sample = self.m.train if self.m.train is not None else self.m.val
        return sample is not None and sample.y is not None and label_format(np.asarray(sample.y)) == "multilabel"

    def _numeric_targets(self) -> bool:
        """Regression: a regression loss on targets that are not class labels (accuracy means nothing there)."""
        model = self.run.model
        sample = self.m.train if self.m.train is not None else self.m.val
        if model is None or model.loss.name not in REGRESSION_LOSSES or sample is None or sample.y is None:
            return False
        return label_format(np.asarray(sample.y)) == "continuous"

    # ------------------------------------------------------------------ curves

    @cached_property
    def curves(self) -> dict[str, Curve]:
        return {
            key: Curve.of(key, values, higher_is_better=not _is_loss_like(key.removeprefix("val_")))
            for key, values in self.run.logs.items()
        }

    def curve(self, key: str | None) -> Curve | None:
        return self.curves.get(key) if key else None

    @property
    def loss(self) -> Curve | None:
        return self.curve("loss")

    @property
    def val_loss(self) -> Curve | None:
        return self.curve("val_loss")

    @property
    def acc(self) -> Curve | None:
        """The training curve of the chosen accuracy-like metric (``None`` when the run logged none)."""
        return self.curve(self.metric.train_key) if self.metric.kind != "loss" else None

    @property
    def val_acc(self) -> Curve | None:
        return self.curve(self.metric.val_key) if self.metric.kind != "loss" else None

    @property
    def epochs(self) -> int:
        return self.run.epochs_done

    @property
    def judged(self) -> Curve | None:
        """The accuracy-like curve the run is judged on: validation when the fit had it, else training (half of
        real programs fit without validation; their training accuracy against the baseline still tells a network
        that cannot learn from one that can)."""
        if self.val_acc is not None and self.val_acc.n:
            return self.val_acc
        return self.acc if self.acc is not None and self.acc.n else None

    @property
    def judged_name(self) -> str:
        """How sentences name :attr:`judged`: ``validation accuracy`` or ``training accuracy``."""
        return "validation accuracy" if self.judged is self.val_acc else "training accuracy"

    @cached_property
    def network_score(self) -> tuple[str, float] | None:
        """What the network reached, in the baseline's units: ``(name, value)``.

        Classification: the best of :attr:`judged` (accuracy). Regression: the R² of the final predictions on
        validation (training without validation), which the quick ridge/k-NN baseline is scored in too.
        """
        if self.metric.kind == "accuracy" and self.judged is not None:
            return self.judged_name, self.judged.best
        where = "validation" if self.m.val_pred is not None else "training"
        if self.task == "regression" and self.network_r2 is not None:
            return f"{where} R²", self.network_r2
        if self.task == "classification" and self.labels is None and self._elementwise_majority() is not None:
            value = self._elementwise_accuracy()
            if value is not None:
                return f"{where} accuracy per element", value
        return None

    def _elementwise_accuracy(self) -> float | None:
        """Share of 0/1 target elements the final predictions get right (at 0.5), on validation else training."""
        for sample, pred in ((self.m.val, self.m.val_pred), (self.m.train, self.m.train_pred)):
            if sample is None or sample.y is None or pred is None:
                continue
            y = np.asarray(sample.y, dtype=float).reshape(len(sample.y), -1)
            p = np.asarray(pred, dtype=float).reshape(len(pred), -1)
            return float(np.mean((p >= 0.5) == (y >= 0.5))) if p.shape == y.shape else None
        return None

    @cached_property
    def shortfall(self) -> float | None:
        """How far :attr:`network_score` stays below the cheap baseline (positive = below), or ``None``.

        Without validation the baseline is scored on a quarter of the training rows it did not train on, so a
        network whose *training* score stays below it cannot even fit what a quick model generalizes to.
        """
        probe, score = self.probe, self.network_score
        if score is None or probe is None or probe.val_score is None:
            return None
        return probe.val_score - score[1]

    def shortfall_evidence(self) -> dict:
        """The numbers behind :attr:`shortfall`, for a finding's evidence (empty without a shortfall)."""
        if self.shortfall is None:
            return {}
        name, value = self.network_score
        key = name.replace(" ", "_").replace("²", "2") + ("_best" if "accuracy" in name else "")
        return {key: round(value, 4), "baseline": round(self.probe.val_score, 4)}

    def shortfall_words(self) -> str:
        """``validation accuracy (0.61) is below a quick logistic regression (0.93)``, for a sentence."""
        name, value = self.network_score
        return f"{name} ({value:.3g}) is below a quick {self.probe.model_name} ({self.probe.val_score:.3g})"

    # ------------------------------------------------------------------ task and labels

    @cached_property
    def loss_name(self) -> str | None:
        model = self.run.model
        return model.loss.name if model is not None else None

    @cached_property
    def labels(self) -> Labels | None:
        """Targets as class indices, or ``None`` for regression targets or when no targets were sampled."""
        train, val = self.m.train, self.m.val
        ys = [s.y for s in (train, val) if s is not None and s.y is not None]
        if not ys:
            return None
        fmt = label_format(ys[0])
        if self._sparse_per_position(ys[0]):
            fmt = "per_position"  # one class index per step of a sequence: (n, steps) under a sparse loss
        if fmt == "per_position":
            self.notes.append(
                f"The targets hold one value per position (shape {tuple(ys[0].shape[1:])} per row), not one label per "
                "row: the checks on classes (balance, label noise, too little data) were skipped."
            )
            return None
        if fmt in ("continuous", "multilabel"):
            return None
        if fmt == "sparse" and self.loss_name in REGRESSION_LOSSES and self.metric.kind == "loss":
            # integer targets with a regression loss and no accuracy metric: counts, ratings, ages. Regression.
            return None

        def values(y):
            return None if y is None else class_values(y, fmt if label_format(y) != "continuous" else "sparse")

        parts = {
            "train": values(train.y) if train else None,
            "val": values(val.y) if val else None,
            "train_all": values(train.y_all) if train and train.y_all is not None else None,
            "val_all": values(val.y_all) if val and val.y_all is not None else None,
        }
        present = [v for v in parts.values() if v is not None]
        classes = np.unique(np.concatenate([np.asarray(v).reshape(-1) for v in present]))
        classes = classes[classes >= 0] if classes.dtype.kind in "iu" else classes
        if fmt == "onehot":
            width = ys[0].reshape(len(ys[0]), -1).shape[1]
            classes = np.arange(width)
        index = {c: i for i, c in enumerate(classes.tolist())}
        mapped = {
            k: None if v is None else np.array([index.get(c, -1) for c in np.asarray(v).tolist()], dtype=np.int64)
            for k, v in parts.items()
        }
        return Labels(fmt, classes, mapped["train"], mapped["val"], mapped["train_all"], mapped["val_all"])

    @cached_property
    def task(self) -> str:
        """``classification``, ``regression`` or ``unknown`` (no loss and no targets to tell)."""
        if self.labels is not None:
            return "classification"
        if self.loss_name in CLASSIFICATION_LOSSES or self.metric.kind in ("accuracy", "auc"):
            return "classification"
        if self.loss_name in REGRESSION_LOSSES or (self.m.train is not None and self.m.train.y is not None):
            return "regression"
        return "unknown"

    @cached_property
    def n_classes(self) -> int | None:
        """Number of classes: the output width of a softmax layer, 2 for one sigmoid unit, else from the labels."""
        if self.task != "classification":
            return None
        model = self.run.model
        units = model.output_units if model is not None else None
        from_labels = self.labels.k if self.labels is not None else None
        if units and units > 1:
            return max(units, from_labels or 0)
        if units == 1:
            return 2
        return from_labels

    def class_shares(self, which: str = "train") -> np.ndarray | None:
        """Share of each class (index order) in the whole split when known, else in the sample."""
        if self.labels is None:
            return None
        lab = self.labels
        y = getattr(lab, f"{which}_all")
        if y is None:
            y = getattr(lab, which)
        if y is None or len(y) == 0:
            return None
        y = y[y >= 0]
        counts = np.bincount(y, minlength=lab.k).astype(float)
        return counts / max(1.0, counts.sum())

    @cached_property
    def majority_share(self) -> float | None:
        """Share of the most common class among the training rows."""
        shares = self.class_shares("train")
        return float(shares.max()) if shares is not None else None

    @cached_property
    def chance_accuracy(self) -> float | None:
        """Accuracy of the best constant guess on validation: its majority share (or 1/k without labels)."""
        shares = self.class_shares("val")
        if shares is not None:
            return float(shares.max())
        elementwise = self._elementwise_majority()
        if elementwise is not None:
            return elementwise
        return 1.0 / self.n_classes if self.n_classes else None

    def _elementwise_targets(self) -> str | None:
        """``binary`` for 0/1 targets scored element by element with a binary loss (multi-label rows, a 0/1 map),
        ``classes`` for a class index per position with a sparse loss (a class per step); else ``None``."""
        if self.task != "classification" or self.labels is not None:
            return None
        if self._elementwise_majority() is not None:
            return "binary"
        sample = self.m.train
        if sample is None or sample.y is None or self.loss_name != "sparse_categorical_crossentropy":
            return None
        y = np.asarray(sample.y)
        finite = y[np.isfinite(y)] if y.dtype.kind == "f" else y
        integral = y.dtype.kind in "iub" or bool(np.all(finite == np.round(finite)))
        return "classes" if self._sparse_per_position(y) and integral else None

    def _sparse_per_position(self, y: np.ndarray) -> bool:
        """Targets with several values per row under a sparse loss: a class index per position."""
        y = np.asarray(y)
        return (
            self.loss_name == "sparse_categorical_crossentropy"
            and y.ndim >= 2
            and int(np.prod(y.shape[1:])) > 1
        )

    def _elementwise_majority(self) -> float | None:
        """For 0/1 targets scored element by element (per-position or multi-label outputs with a binary loss):
        the share of the most common value over all elements, what a constant guess scores."""
        sample = self.m.val if self.m.val is not None and self.m.val.y is not None else self.m.train
        if sample is None or sample.y is None or self.loss_name != "binary_crossentropy":
            return None
        y = np.asarray(sample.y, dtype=float)
        if y.size == 0 or not np.isin(y[np.isfinite(y)], (0.0, 1.0)).all():
            return None
        ones = float(np.nanmean(y))
        return max(ones, 1.0 - ones)

    # ------------------------------------------------------------------ the model's predictions

    @cached_property
    def val_predicted(self) -> np.ndarray | None:
        """Predicted class index per validation sample row (aligned with ``labels.val``)."""
        pred = self.m.val_pred
        if pred is None or self.labels is None or self.labels.val is None:
            return None
        pred = np.asarray(pred, dtype=float).reshape(len(pred), -1)
        if len(pred) != len(self.labels.val):
            return None
        if pred.shape[1] == 1:
            if self.labels.k > 2:
                return None  # one output unit for several classes (the loss mismatch rule says why)
            return (pred[:, 0] >= 0.5).astype(np.int64)
        if pred.shape[1] != self.labels.k and self.labels.fmt == "onehot":
            return None  # outputs that are not one score per class (the loss mismatch rule says why)
        return pred.argmax(axis=1)

    @cached_property
    def val_recall(self) -> dict[int, float] | None:
        """Recall of each class present in the validation sample (class index -> recall)."""
        pred = self.val_predicted
        if pred is None:
            return None
        y = self.labels.val
        recall = {}
        for c in np.unique(y[y >= 0]):
            mask = y == c
            recall[int(c)] = float(np.mean(pred[mask] == c))
        return recall

    @cached_property
    def val_pred_accuracy(self) -> float | None:
        pred = self.val_predicted
        if pred is None:
            return None
        return float(np.mean(pred == self.labels.val))

    @cached_property
    def network_r2(self) -> float | None:
        """R² of the network's final predictions against the targets (first output column) on the validation
        sample, or the training sample when the fit had no validation; ``None`` for classification or when no
        prediction was measured."""
        if self.task != "regression":
            return None
        for sample, pred in ((self.m.val, self.m.val_pred), (self.m.train, self.m.train_pred)):
            if sample is None or sample.y is None or pred is None:
                continue
            y = np.asarray(sample.y, dtype=float).reshape(len(sample.y), -1)[:, 0]
            p = np.asarray(pred, dtype=float).reshape(len(pred), -1)[:, 0]
            if len(p) != len(y) or len(y) < 5:
                return None
            if not np.isfinite(p).all():
                return -math.inf
            var = float(np.var(y))
            return 1.0 - float(np.mean((y - p) ** 2)) / var if var > 0 else None
        return None

    # ------------------------------------------------------------------ cheap probes (scikit-learn)

    def _timed(self, name: str, fn):
        start = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return fn()
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - start

    @cached_property
    def probe(self):
        """The cheap-model probe (:class:`~stallmagic.diagnosis.probes.ProbeResult`), or ``None``."""
        from .probes import run_probe

        train, val = self.m.train, self.m.val
        if train is None or train.x is None or train.y is None:
            return None
        elementwise = self._elementwise_targets()
        if elementwise is not None:
            from .probes import run_elementwise_probe

            return self._timed(
                "cheap_probe",
                lambda: run_elementwise_probe(
                    train.x, train.y, val.x if val else None, val.y if val else None,
                    binary=elementwise == "binary", seed=self.seed,
                ),
            )  # fmt: skip
        if self.task == "classification":
            if self.labels is None or self.labels.train is None:
                return None
            y_train = self.labels.train
            y_val = self.labels.val if val is not None else None
        elif self.task == "regression":
            y_train = np.asarray(train.y, dtype=float).reshape(len(train.y), -1)[:, 0]
            y_val = np.asarray(val.y, dtype=float).reshape(len(val.y), -1)[:, 0] if val is not None else None
        else:
            return None
        x_val = val.x if val is not None else None
        result = self._timed(
            "cheap_probe",
            lambda: run_probe(train.x, y_train, x_val, y_val, task=self.task, n_classes=self.n_classes, seed=self.seed),
        )
        if result is not None and result.note:
            self.notes.append(result.note)
        return result

    @cached_property
    def domain_shift(self):
        """How well a classifier tells validation rows from training rows
        (:class:`~stallmagic.diagnosis.probes.DomainShift`), or ``None`` without both samples."""
        from .probes import domain_auc

        train, val = self.m.train, self.m.val
        if train is None or val is None or train.x is None or val.x is None or train.x.shape[1] != val.x.shape[1]:
            return None
        return self._timed("domain_probe", lambda: domain_auc(train.x, val.x, seed=self.seed))

    # ------------------------------------------------------------------ helpers for rules

    def last_finite(self, key: str) -> float | None:
        c = self.curve(key)
        if c is None or c.n == 0:
            return None
        return c.last

    @cached_property
    def initial_loss_reference(self) -> float | None:
        """The loss of an uninformed prediction: ln(k) for k-class cross-entropy, ln 2 for binary."""
        if self.loss_name in ("sparse_categorical_crossentropy", "categorical_crossentropy") and self.n_classes:
            return math.log(self.n_classes)
        if self.loss_name == "binary_crossentropy":
            return math.log(2.0)
        return None
