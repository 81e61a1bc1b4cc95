"""Rules on the model's configuration: a loss that does not fit the output layer or the labels.

These are read from the model record and the label encoding, not from the curves, so they are certain when they
fire (confidence 0.85-0.97) and they are root causes: a mismatched loss produces curves that look like any
other stall (accuracy stuck at the majority share, a loss that does not move).
"""

from __future__ import annotations

from ..record import Run
from .report import Finding
from .signals import CLASSIFICATION_LOSSES, PROBABILITY_LOSSES, REGRESSION_LOSSES, Signals

_SATURATED = ("softmax", "sigmoid")


def loss_mismatch(run: Run, s: Signals) -> Finding | None:
    """The loss does not fit the output layer or the labels.

    Checks, in order (the first that holds is reported):

    * softmax over a single unit (its output is always 1.0, so nothing is learned);
    * sigmoid or softmax outputs with ``from_logits=True`` (probabilities squashed twice; a hint only on the
      TensorFlow backend, whose cross-entropy detects the activation and uses its logits);
    * a probability loss (cross-entropy) on a linear or ReLU output with ``from_logits=False``;
    * ``sparse_categorical_crossentropy`` on one-hot labels or on a single output unit;
    * ``categorical_crossentropy`` on integer labels;
    * ``binary_crossentropy`` on more than two classes of integer labels;
    * labels that index past the output layer's units;
    * a regression loss (MSE, MAE) on class labels with a softmax/sigmoid output (a weak hint, 0.5).
    """
    model = run.model
    if model is None or model.loss.name is None:
        return None
    loss = model.loss.name
    act = model.output_activation
    units = model.output_units
    logits = bool(model.loss.from_logits)
    lab = s.labels
    fmt = lab.fmt if lab is not None else None
    k = lab.k if lab is not None else None
    base = {
        "loss": loss,
        "from_logits": logits,
        "output_activation": act,
        "output_units": units,
        "label_format": fmt,
        "n_classes": k,
    }

    def found(title: str, explanation: str, confidence: float, **evidence) -> Finding:
        return Finding("loss_mismatch", title, explanation, {**base, **evidence}, confidence)

    if act == "softmax" and units == 1:
        return found(
            "Softmax on a single output unit",
            "The output layer applies softmax to one unit, so it always outputs 1.0 whatever the input: the loss "
            "cannot push it anywhere and accuracy freezes at the share of one class. Use sigmoid for one unit "
            "(binary), or one unit per class with softmax.",
            0.97,
        )
    if logits and act in _SATURATED and loss in CLASSIFICATION_LOSSES:
        if model.backend == "tensorflow":
            # TensorFlow's cross-entropy notices a softmax/sigmoid output and uses its logits (with a warning):
            # training works here, but the same code squashes twice on JAX and torch.
            return found(
                f"{act.capitalize()} output with from_logits=True",
                f"The loss is told it receives raw logits (from_logits=True), but the output layer already applies "
                f"{act}. On TensorFlow, Keras notices and uses the logits behind the {act}, so this run is not held "
                "back by it; on the JAX or torch backend the probabilities would be squashed twice and training "
                "would stall. Drop the activation or set from_logits=False.",
                0.35,
                backend=model.backend,
            )
        return found(
            f"{act.capitalize()} output with from_logits=True",
            f"The loss is told it receives raw logits (from_logits=True), but the output layer already applies "
            f"{act}: probabilities are squashed a second time, so gradients are tiny and the model learns slowly "
            "or not at all. Drop the activation or set from_logits=False.",
            0.9,
            backend=model.backend,
        )
    if not logits and loss in PROBABILITY_LOSSES and act in ("linear", "relu", None) and units is not None:
        shown = act or "no"
        return found(
            f"Cross-entropy on a {shown} output",
            f"{loss} expects probabilities, but the output layer has {shown} activation and from_logits=False: "
            "Keras clips the raw outputs into [1e-7, 1], so most gradients vanish and the loss stalls. Add "
            f"{'softmax' if (units or 0) > 1 else 'sigmoid'} to the output layer or pass from_logits=True.",
            0.88,
        )
    if loss == "sparse_categorical_crossentropy" and fmt == "onehot":
        return found(
            "Sparse loss on one-hot labels",
            "The labels are one-hot vectors but the loss is sparse_categorical_crossentropy, which expects one "
            "integer per row. Use categorical_crossentropy, or pass the labels as integers (argmax).",
            0.95,
            label_format=fmt,
        )
    if loss == "sparse_categorical_crossentropy" and units == 1:
        return found(
            "Sparse categorical loss on one output unit",
            "sparse_categorical_crossentropy over a single unit sees only one class, so the loss is zero whatever "
            "the model predicts and nothing is learned. For two classes use binary_crossentropy with one sigmoid "
            "unit, or two softmax units.",
            0.95,
            label_format=fmt,
        )
    if loss == "categorical_crossentropy" and fmt == "sparse" and (units or 0) > 1:
        return found(
            "Categorical loss on integer labels",
            "The labels are integers, one per row, but categorical_crossentropy expects one-hot vectors: the "
            "integers are multiplied into the log-probabilities as if they were weights. Use "
            "sparse_categorical_crossentropy (or one-hot encode the labels).",
            0.95,
            label_format=fmt,
        )
    if loss == "binary_crossentropy" and fmt == "sparse" and k is not None and k > 2:
        return found(
            "Binary loss on more than two classes",
            f"binary_crossentropy treats each output unit as an independent yes/no, but the labels hold {k} "
            "classes as integers. Use sparse_categorical_crossentropy with one softmax unit per class.",
            0.92,
            n_classes=k,
        )
    if fmt == "sparse" and lab is not None and (units or 0) > 1 and loss in CLASSIFICATION_LOSSES:
        top = int(lab.classes.max()) if lab.classes.dtype.kind in "iu" and len(lab.classes) else None
        if top is not None and top >= units:
            return found(
                "Labels beyond the output layer",
                f"Labels go up to {top} but the output layer has only {units} units, so rows of the higher classes "
                "can never be predicted (some backends raise, others return NaN or silently clip).",
                0.95,
                max_label=top,
            )
    if loss in REGRESSION_LOSSES and fmt in ("sparse", "onehot") and act in _SATURATED:
        return found(
            "Regression loss on class labels",
            f"{loss} on a {act} output treats the class labels as numbers to approach; it trains, but slower and "
            f"less reliably than cross-entropy. Use {'binary' if act == 'sigmoid' else 'categorical'} "
            "cross-entropy.",
            0.5,
            label_format=fmt,
        )
    return None
