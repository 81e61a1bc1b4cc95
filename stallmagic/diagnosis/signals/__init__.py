"""Signals that several rules share, computed once per diagnosis (lazily: a signal no rule reads costs nothing).

:class:`Signals` wraps a Run and its :class:`~stallmagic.diagnosis.measurements.Measurements` and exposes, under
plain names, what the rules reason about: the curves of the chosen metric and of the loss, the task (classification
or regression) and its classes, labels as class indices, class counts, the model's per-class recall on validation,
and the cheap scikit-learn probes (baseline, learning curve, label issues). Pure: numpy and scikit-learn only.

The pieces it is built from live beside it, each a module of pure functions: :mod:`.metric_choice` (which logged
metric means "accuracy"), :mod:`.losses` (loss names by task), :mod:`.targets` (how targets are encoded, read as
classes), :mod:`.predictions` (what the network's own predictions score) and :mod:`.probes` (the cheap models).
The names other packages read (``resolve_metric``, the loss sets, ``label_format``, ``class_values``, ``Labels``)
are importable from here too.
"""

from __future__ import annotations

import math
import time
import warnings
from functools import cached_property

import numpy as np

from ...record import Run
from ..measurements import ArraySample, Measurements
from ..trend import Curve
from .losses import CLASSIFICATION_LOSSES, PROBABILITY_LOSSES, REGRESSION_LOSSES
from .metric_choice import ACCURACY_KEYS, KERAS_PICKS_ACCURACY, MetricChoice, is_loss_like, resolve_metric
from .predictions import (
    class_probabilities,
    elementwise_accuracy,
    output_reach,
    predicted_classes,
    r_squared,
    recall_by_class,
)
from .targets import (
    MAX_CLASSES,
    Labels,
    as_classes,
    class_values,
    elementwise_majority,
    label_format,
    sparse_per_position,
)


class Signals:
    """Lazy, cached signals for the rules (see module docstring).

    Args:
        run: The Run to diagnose.
        measurements: What :mod:`stallmagic.diagnosis.measure` measured (default: nothing, the curves only).
        metric: The metric to read as "accuracy" (default: the first accuracy-like metric, else the loss).
        seed: Seed of the cheap probes' sampling and cross-validation (default 0).

    Attributes:
        measurements: The samples, predictions and gradient probe the rules read (empty when nothing was measured).
        metric: The logged metric the run is judged on (:func:`resolve_metric`, corrected for targets where
            Keras's "accuracy" says little).
        notes: What could not be checked, and why; the report lists them.
        timings: Seconds spent per measurement, probe and rule.
    """

    def __init__(
        self, run: Run, measurements: Measurements | None = None, *, metric: str | None = None, seed: int = 0
    ) -> None:
        self.run = run
        self.measurements = measurements or Measurements()
        self.metric = resolve_metric(run.logs, metric, run.judged_output)
        self.seed = seed
        self.timings: dict[str, float] = dict(self.measurements.timings)
        self.notes: list[str] = list(self.measurements.notes)
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

    def _target_sample(self) -> ArraySample | None:
        """The sample whose targets tell their encoding: training, else validation."""
        m = self.measurements
        return m.train if m.train is not None else m.val

    def _multi_hot_targets(self) -> bool:
        """Several 1s per row: Keras 3's ``metrics=["accuracy"]`` picks its accuracy from the shapes alone, and for
        targets with more than one column that is categorical accuracy, whatever the loss."""
        sample = self._target_sample()
        return sample is not None and sample.y is not None and label_format(np.asarray(sample.y)) == "multilabel"

    def _numeric_targets(self) -> bool:
        """Regression: a regression loss on targets that are not class labels (accuracy means nothing there)."""
        model = self.run.model
        sample = self._target_sample()
        if model is None or model.loss.name not in REGRESSION_LOSSES or sample is None or sample.y is None:
            return False
        return label_format(np.asarray(sample.y)) == "continuous"

    def _scored_predictions(self) -> list[tuple[ArraySample | None, np.ndarray | None]]:
        """The samples the network's final predictions are scored on: validation first, training when the fit had
        no validation rows."""
        m = self.measurements
        return [(m.val, m.val_pred), (m.train, m.train_pred)]

    # ------------------------------------------------------------------ curves

    @cached_property
    def curves(self) -> dict[str, Curve]:
        """Every logged key's curve, judged against its own noise (losses and errors improve downwards)."""
        return {
            key: Curve.of(key, values, higher_is_better=not is_loss_like(key.removeprefix("val_")))
            for key, values in self.run.logs.items()
        }

    def curve(self, key: str | None) -> Curve | None:
        """The curve of a log key, ``None`` when the key is ``None`` or was not logged."""
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
        """The validation curve of the chosen accuracy-like metric (``None`` when the run logged none)."""
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

    # ------------------------------------------------------------------ the network against the baseline

    @cached_property
    def network_score(self) -> tuple[str, float] | None:
        """What the network reached, in the baseline's units: ``(name, value)``.

        Classification: the best of :attr:`judged` (accuracy). Regression: the R² of the final predictions on
        validation (training without validation), which the quick ridge/k-NN baseline is scored in too.
        """
        if self.metric.kind == "accuracy" and self.judged is not None:
            return self.judged_name, self.judged.best
        where = "validation" if self.measurements.val_pred is not None else "training"
        if self.task == "regression" and self.network_r2 is not None:
            return f"{where} R²", self.network_r2
        if self.task == "classification" and self.labels is None and self._elementwise_majority() is not None:
            value = elementwise_accuracy(self._scored_predictions())
            if value is not None:
                return f"{where} accuracy per element", value
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

    def shortfall_clause(self, joiner: str, *, above: float = 0.03) -> str:
        """`` and validation accuracy (0.61) is below a quick ...`` (``joiner`` first) when the network stays more
        than ``above`` below the baseline, else ``""``: a sentence names the shortfall only when it is real.

        Args:
            joiner: The word that ties the clause to the sentence before it (``and``, ``while``).
            above: The smallest shortfall worth naming (default 0.03, in the baseline's units).
        """
        if self.shortfall is None or self.shortfall <= above:
            return ""
        return f" {joiner} {self.shortfall_words()}"

    # ------------------------------------------------------------------ task and labels

    @cached_property
    def loss_name(self) -> str | None:
        model = self.run.model
        return model.loss.name if model is not None else None

    @cached_property
    def labels(self) -> Labels | None:
        """Targets as class indices, or ``None`` for regression targets or when no targets were sampled."""
        train, val = self.measurements.train, self.measurements.val
        ys = [s.y for s in (train, val) if s is not None and s.y is not None]
        if not ys:
            return None
        fmt = label_format(ys[0])
        if sparse_per_position(ys[0], self.loss_name):
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
        return as_classes(train, val, fmt)

    @cached_property
    def task(self) -> str:
        """``classification``, ``regression`` or ``unknown`` (no loss and no targets to tell)."""
        if self.labels is not None:
            return "classification"
        if self.loss_name in CLASSIFICATION_LOSSES or self.metric.kind in ("accuracy", "auc"):
            return "classification"
        train = self.measurements.train
        if self.loss_name in REGRESSION_LOSSES or (train is not None and train.y is not None):
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
        sample = self.measurements.train
        if sample is None or sample.y is None or self.loss_name != "sparse_categorical_crossentropy":
            return None
        y = np.asarray(sample.y)
        finite = y[np.isfinite(y)] if y.dtype.kind == "f" else y
        integral = y.dtype.kind in "iub" or bool(np.all(finite == np.round(finite)))
        return "classes" if sparse_per_position(y, self.loss_name) and integral else None

    def _elementwise_majority(self) -> float | None:
        """What a constant guess scores on 0/1 targets scored element by element (:func:`elementwise_majority`),
        on validation when it has targets, else training."""
        m = self.measurements
        sample = m.val if m.val is not None and m.val.y is not None else m.train
        return elementwise_majority(sample, self.loss_name)

    # ------------------------------------------------------------------ the model's predictions

    @cached_property
    def val_predicted(self) -> np.ndarray | None:
        """Predicted class index per validation sample row (aligned with ``labels.val``)."""
        return predicted_classes(self.measurements.val_pred, self.labels)

    @cached_property
    def val_recall(self) -> dict[int, float] | None:
        """Recall of each class present in the validation sample (class index -> recall)."""
        pred = self.val_predicted
        if pred is None:
            return None
        return recall_by_class(pred, self.labels.val)

    @cached_property
    def val_class_probabilities(self) -> np.ndarray | None:
        """The network's validation outputs as class probabilities aligned with ``labels.val``
        (:func:`~stallmagic.diagnosis.signals.predictions.class_probabilities`), or ``None``."""
        return class_probabilities(self.measurements.val_pred, self.labels)

    @cached_property
    def val_pred_accuracy(self) -> float | None:
        """Accuracy of the predicted classes on the validation sample (when the run logged no accuracy)."""
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
        return r_squared(self._scored_predictions())

    @cached_property
    def output_reach(self) -> float | None:
        """Regression: the scale of the network's final predictions over the targets' scale
        (:func:`~stallmagic.diagnosis.signals.predictions.output_reach`); ``None`` for classification or when no
        prediction was measured."""
        if self.task != "regression":
            return None
        return output_reach(self._scored_predictions())

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
        """The cheap-model probe (:class:`~stallmagic.diagnosis.signals.probes.ProbeResult`), or ``None``.

        Targets scored element by element get the element-wise baseline; one label per row (or a number per row)
        gets the full probe, with its learning curve and label check.
        """
        from .probes import run_elementwise_probe, run_probe

        train, val = self.measurements.train, self.measurements.val
        if train is None or train.x is None or train.y is None:
            return None
        x_val = val.x if val is not None else None
        elementwise = self._elementwise_targets()
        if elementwise is not None:
            return self._timed(
                "cheap_probe",
                lambda: run_elementwise_probe(
                    train.x, train.y, x_val, val.y if val else None, binary=elementwise == "binary", seed=self.seed
                ),
            )
        targets = self._probe_targets()
        if targets is None:
            return None
        y_train, y_val = targets
        result = self._timed(
            "cheap_probe",
            lambda: run_probe(train.x, y_train, x_val, y_val, task=self.task, n_classes=self.n_classes, seed=self.seed),
        )
        if result is not None and result.note:
            self.notes.append(result.note)
        return result

    def _probe_targets(self) -> tuple[np.ndarray, np.ndarray | None] | None:
        """``(training targets, validation targets)`` as the probe reads them: class indices for classification,
        the first output column for regression; ``None`` when the task or the classes are unknown."""
        train, val = self.measurements.train, self.measurements.val
        if self.task == "classification":
            if self.labels is None or self.labels.train is None:
                return None
            return self.labels.train, self.labels.val if val is not None else None
        if self.task == "regression":
            y_train = np.asarray(train.y, dtype=float).reshape(len(train.y), -1)[:, 0]
            y_val = np.asarray(val.y, dtype=float).reshape(len(val.y), -1)[:, 0] if val is not None else None
            return y_train, y_val
        return None

    @cached_property
    def domain_shift(self):
        """How well a classifier tells validation rows from training rows
        (:class:`~stallmagic.diagnosis.signals.probes.DomainShift`), or ``None`` without both samples."""
        from .probes import domain_auc

        train, val = self.measurements.train, self.measurements.val
        if train is None or val is None or train.x is None or val.x is None or train.x.shape[1] != val.x.shape[1]:
            return None
        return self._timed("domain_probe", lambda: domain_auc(train.x, val.x, seed=self.seed))

    # ------------------------------------------------------------------ helpers for rules

    @cached_property
    def initial_loss_reference(self) -> float | None:
        """The loss of an uninformed prediction: ln(k) for k-class cross-entropy, ln 2 for binary."""
        if self.loss_name in ("sparse_categorical_crossentropy", "categorical_crossentropy") and self.n_classes:
            return math.log(self.n_classes)
        if self.loss_name == "binary_crossentropy":
            return math.log(2.0)
        return None


__all__ = [
    "ACCURACY_KEYS", "CLASSIFICATION_LOSSES", "KERAS_PICKS_ACCURACY", "MAX_CLASSES", "PROBABILITY_LOSSES",
    "REGRESSION_LOSSES", "Labels", "MetricChoice", "Signals", "class_values", "label_format", "resolve_metric",
]  # fmt: skip
