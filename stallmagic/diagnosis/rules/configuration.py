"""Rules on the model's configuration: a loss that does not fit the output layer or the targets.

Keras accepts many combinations of loss, output activation, output width and label encoding that cannot work: it
trains, the curves look like any other stall (accuracy at the majority share, a loss that does not move), and
nothing says why. These checks read the model record and a sample of the targets, not the curves, so they are
definite when they fire (confidence 0.85-0.97) and they are root causes.

:data:`CHECKS` is the complete table, in order; the first check that holds is reported. Each check is one small
function of a :class:`Setup` (what the loss sees) and returns ``(title, explanation, confidence, evidence)`` or
``None``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ...record import Run
from ..report import Finding
from ..signals import CLASSIFICATION_LOSSES, PROBABILITY_LOSSES, REGRESSION_LOSSES, Signals, label_format
from .shared import num, pct

_SATURATED = ("softmax", "sigmoid")
#: Output activations and the range of values they can produce.
RANGES = {
    "sigmoid": (0.0, 1.0), "hard_sigmoid": (0.0, 1.0), "softmax": (0.0, 1.0), "tanh": (-1.0, 1.0),
    "softsign": (-1.0, 1.0), "relu": (0.0, np.inf), "relu6": (0.0, 6.0), "softplus": (0.0, np.inf),
    "exponential": (0.0, np.inf),
}  # fmt: skip
#: A check fires on targets out of reach when at least this share of them is.
UNREACHABLE_SHARE = 0.05


@dataclass(frozen=True)
class Setup:
    """What the loss sees: its name and settings, the output layer, and the targets (a sample, as given)."""

    loss: str
    logits: bool
    act: str | None
    units: int | None
    fmt: str | None  # label_format of the targets, None when none were sampled
    k: int | None  # number of classes read from the targets (class formats only)
    classes: np.ndarray | None
    y: np.ndarray | None
    backend: str | None

    @property
    def integer_classes(self) -> bool:
        return self.classes is not None and self.classes.dtype.kind in "iu" and len(self.classes) > 0


Result = tuple[str, str, float, dict]
Check = Callable[[Setup], "Result | None"]


def _softmax_on_one_unit(c: Setup) -> Result | None:
    if c.act == "softmax" and c.units == 1:
        return (
            "Softmax on a single output unit",
            "The output layer applies softmax to one unit, so it always outputs 1.0 whatever the input: the loss "
            "cannot push it anywhere and accuracy freezes at the share of one class. Use sigmoid for one unit "
            "(binary), or one unit per class with softmax.",
            0.97,
            {},
        )
    return None


def _logits_on_probabilities(c: Setup) -> Result | None:
    if not (c.logits and c.act in _SATURATED and c.loss in CLASSIFICATION_LOSSES):
        return None
    if c.backend == "tensorflow":
        # TensorFlow's cross-entropy notices a softmax/sigmoid output and uses its logits (with a warning):
        # training works here, but the same code squashes twice on JAX and torch.
        return (
            f"{c.act.capitalize()} output with from_logits=True",
            f"The loss is told it receives raw logits (from_logits=True), but the output layer already applies "
            f"{c.act}. On TensorFlow, Keras notices and uses the logits behind the {c.act}, so this run is not held "
            "back by it; on the JAX or torch backend the probabilities would be squashed twice and training would "
            "stall. Drop the activation or set from_logits=False.",
            0.35,
            {"backend": c.backend},
        )
    return (
        f"{c.act.capitalize()} output with from_logits=True",
        f"The loss is told it receives raw logits (from_logits=True), but the output layer already applies {c.act}: "
        "probabilities are squashed a second time, so gradients are tiny and the model learns slowly or not at "
        "all. Drop the activation or set from_logits=False.",
        0.9,
        {"backend": c.backend},
    )


def _cross_entropy_on_raw_output(c: Setup) -> Result | None:
    if c.logits or c.loss not in PROBABILITY_LOSSES or c.act not in ("linear", "relu", None) or c.units is None:
        return None
    shown = c.act or "no"
    return (
        f"Cross-entropy on a {shown} output",
        f"{c.loss} expects probabilities, but the output layer has {shown} activation and from_logits=False: Keras "
        "clips the raw outputs into [1e-7, 1], so most gradients vanish and the loss stalls. Add "
        f"{'softmax' if c.units > 1 else 'sigmoid'} to the output layer or pass from_logits=True.",
        0.88,
        {},
    )


def _sparse_labels_unreadable(c: Setup) -> Result | None:
    """``sparse_categorical_crossentropy`` needs one non-negative integer class index per row."""
    if c.loss != "sparse_categorical_crossentropy" or c.y is None or c.fmt not in ("continuous", "sparse"):
        return None
    y = np.asarray(c.y).reshape(-1)
    if y.dtype.kind not in "fiu":
        return None
    finite = y[np.isfinite(y.astype(float))].astype(float)
    fractional = float(np.mean(finite != np.round(finite))) if len(finite) else 0.0
    negative = float(np.mean(finite < 0)) if len(finite) else 0.0
    if fractional < UNREACHABLE_SHARE and negative < UNREACHABLE_SHARE:
        return None
    what = (
        f"{pct(fractional)} of them are not whole numbers (e.g. {num(float(finite[finite != np.round(finite)][0]))})"
        if fractional >= UNREACHABLE_SHARE
        else f"{pct(negative)} of them are negative"
    )
    return (
        "Labels the sparse loss cannot read",
        f"sparse_categorical_crossentropy reads each target as a class index (0, 1, 2, ...), but {what}: Keras "
        "truncates them to integers (or produces NaN), so the classes the model learns are not the ones you meant. "
        "Pass integer class labels (undo any scaling of the labels), or use a regression loss for numeric "
        "targets.",
        0.95,
        {"fractional_share": round(fractional, 4), "negative_share": round(negative, 4)},
    )


def _sparse_on_onehot(c: Setup) -> Result | None:
    if c.loss == "sparse_categorical_crossentropy" and c.fmt == "onehot":
        return (
            "Sparse loss on one-hot labels",
            "The labels are one-hot vectors but the loss is sparse_categorical_crossentropy, which expects one "
            "integer per row. Use categorical_crossentropy, or pass the labels as integers (argmax).",
            0.95,
            {},
        )
    return None


def _sparse_on_one_unit(c: Setup) -> Result | None:
    if c.loss == "sparse_categorical_crossentropy" and c.units == 1:
        return (
            "Sparse categorical loss on one output unit",
            "sparse_categorical_crossentropy over a single unit sees only one class, so the loss is zero whatever "
            "the model predicts and nothing is learned. For two classes use binary_crossentropy with one sigmoid "
            "unit, or two softmax units.",
            0.95,
            {},
        )
    return None


def _categorical_on_integers(c: Setup) -> Result | None:
    if c.loss == "categorical_crossentropy" and c.fmt == "sparse" and (c.units or 0) > 1:
        return (
            "Categorical loss on integer labels",
            "The labels are integers, one per row, but categorical_crossentropy expects one-hot vectors: the "
            "integers are multiplied into the log-probabilities as if they were weights. Use "
            "sparse_categorical_crossentropy (or one-hot encode the labels).",
            0.95,
            {},
        )
    return None


def _one_unit_for_many_classes(c: Setup) -> Result | None:
    """One output unit (or a binary loss) for integer labels of more than two classes."""
    if c.fmt != "sparse" or c.k is None or c.k <= 2:
        return None
    if c.loss == "binary_crossentropy" and (c.units or 1) == 1:
        title = "Binary loss on more than two classes"
    elif c.units == 1 and (c.loss in CLASSIFICATION_LOSSES or c.act in _SATURATED):
        title = f"One output unit for {c.k} classes"
    else:
        return None
    binary = " and binary_crossentropy treats it as a yes/no" if c.loss == "binary_crossentropy" else ""
    return (
        title,
        f"The labels hold {c.k} classes, but the output layer has one unit{binary}: it cannot tell {c.k} classes "
        f"apart. Use {c.k} output units with softmax and sparse_categorical_crossentropy.",
        0.93,
        {"n_classes": c.k},
    )


def _binary_loss_on_one_label_classes(c: Setup) -> Result | None:
    """``binary_crossentropy`` over several outputs when each row has exactly one class (one-hot labels, or a
    softmax): each output is scored as an independent yes/no, so the loss rewards answering "no" everywhere and
    binary accuracy (Keras 2's "accuracy" here, and ``binary_accuracy`` in any version) flatters."""
    one_label = c.fmt == "onehot" or (c.act == "softmax" and c.fmt != "multilabel")
    if c.loss != "binary_crossentropy" or (c.units or 0) <= 2 or not one_label:
        return None
    return (
        f"Binary loss on {c.units} classes with one label per row",
        f"binary_crossentropy scores each of the {c.units} outputs as an independent yes/no, but every row belongs to "
        f"exactly one class: answering 'no' everywhere already gets {num(1 - 1 / c.units, 2)} of the outputs "
        "right, so the loss pulls towards it and a binary accuracy flatters (it counts outputs on the right side "
        "of 0.5, not rows with the right class). Use softmax with categorical_crossentropy (one-hot labels) or "
        "sparse_categorical_crossentropy (integer labels).",
        0.88,
        {},
    )


def _softmax_on_multihot(c: Setup) -> Result | None:
    if c.fmt == "multilabel" and (c.act == "softmax" or c.loss == "categorical_crossentropy"):
        return (
            "Softmax on multi-label targets",
            "Several targets are 1 in the same row (multi-label), but softmax (or categorical_crossentropy) makes "
            "the outputs compete for one class, so at most one label per row can be predicted. Use sigmoid outputs "
            "with binary_crossentropy.",
            0.9,
            {},
        )
    return None


def _labels_beyond_output(c: Setup) -> Result | None:
    if c.fmt != "sparse" or (c.units or 0) <= 1 or c.loss not in CLASSIFICATION_LOSSES or not c.integer_classes:
        return None
    top = int(c.classes.max())
    if top < c.units:
        return None
    return (
        "Labels beyond the output layer",
        f"Labels go up to {top} but the output layer has only {c.units} units, so rows of the higher classes can "
        "never be predicted (some backends raise, others return NaN or silently clip).",
        0.95,
        {"max_label": top},
    )


def _targets_out_of_range(c: Setup) -> Result | None:
    """Numeric targets the output activation cannot produce: sigmoid/softmax outside [0, 1], ReLU below 0, tanh
    outside [-1, 1]; also cross-entropy on targets outside [0, 1] (scaled pixel values, raw counts)."""
    values_are_targets = c.loss in REGRESSION_LOSSES or c.loss in ("binary_crossentropy", "binary_focal_crossentropy")
    if c.y is None or c.act not in RANGES or c.fmt in ("onehot", "multilabel") or not values_are_targets:
        return None  # class-index losses read labels as indices: the label checks above decide
    y = np.asarray(c.y, dtype=float).reshape(-1)
    y = y[np.isfinite(y)]
    if len(y) == 0:
        return None
    lo, hi = RANGES[c.act]
    outside = float(np.mean((y < lo - 1e-6) | (y > hi + 1e-6)))
    if outside < UNREACHABLE_SHARE:
        return None
    return (
        f"A {c.act} output cannot reach the targets",
        f"The output layer's {c.act} produces values in [{num(lo)}, {num(hi)}], but {pct(outside)} of the targets "
        f"lie outside it (they range from {num(float(y.min()))} to {num(float(y.max()))}): the loss can never "
        "reach zero on them and their gradients push the output into saturation. Use a linear output for "
        "regression (or scale the targets into the activation's range, and back for predictions).",
        0.9,
        {"target_min": float(y.min()), "target_max": float(y.max()), "share_out_of_range": round(outside, 4)},
    )


def _regression_loss_on_classes(c: Setup) -> Result | None:
    if c.loss in REGRESSION_LOSSES and c.fmt in ("sparse", "onehot") and c.act in _SATURATED:
        return (
            "Regression loss on class labels",
            f"{c.loss} on a {c.act} output treats the class labels as numbers to approach; it trains, but slower "
            f"and less reliably than cross-entropy. Use {'binary' if c.act == 'sigmoid' else 'categorical'} "
            "cross-entropy.",
            0.5,
            {},
        )
    return None


#: The complete table, most definite first; the first check that holds is reported.
CHECKS: tuple[Check, ...] = (
    _softmax_on_one_unit,
    _logits_on_probabilities,
    _cross_entropy_on_raw_output,
    _sparse_labels_unreadable,
    _sparse_on_onehot,
    _sparse_on_one_unit,
    _categorical_on_integers,
    _one_unit_for_many_classes,
    _binary_loss_on_one_label_classes,
    _softmax_on_multihot,
    _labels_beyond_output,
    _targets_out_of_range,
    _regression_loss_on_classes,
)


def setup_of(run: Run, s: Signals) -> Setup | None:
    """The :class:`Setup` of a run, or ``None`` when the model or its loss is unknown."""
    model = run.model
    if model is None or model.loss.name is None:
        return None
    m = s.measurements
    sample = m.train if m.train is not None and m.train.y is not None else m.val
    y = np.asarray(sample.y) if sample is not None and sample.y is not None else None
    lab = s.labels
    fmt = lab.fmt if lab is not None else (label_format(y) if y is not None else None)
    return Setup(
        loss=model.loss.name,
        logits=bool(model.loss.from_logits),
        act=model.output_activation,
        units=model.output_units,
        fmt=fmt,
        k=lab.k if lab is not None else None,
        classes=lab.classes if lab is not None else None,
        y=y,
        backend=model.backend,
    )


def loss_mismatch(run: Run, s: Signals) -> Finding | None:
    """The loss does not fit the output layer or the targets: the first check of :data:`CHECKS` that holds."""
    setup = setup_of(run, s)
    if setup is None:
        return None
    for check in CHECKS:
        result = check(setup)
        if result is not None:
            title, explanation, confidence, evidence = result
            evidence = {**_setup_evidence(setup, check), **evidence}
            return Finding("loss_mismatch", title, explanation, evidence, confidence)
    return None


def _setup_evidence(setup: Setup, check: Check) -> dict:
    """What every loss-mismatch finding shows: the configuration the check read, and the check's name (remedies
    pick their fix by it, so it is part of the finding's contract)."""
    return {
        "loss": setup.loss,
        "from_logits": setup.logits,
        "output_activation": setup.act,
        "output_units": setup.units,
        "label_format": setup.fmt,
        "n_classes": setup.k,
        "check": check.__name__.lstrip("_"),
    }
