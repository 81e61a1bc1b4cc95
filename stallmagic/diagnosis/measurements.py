"""Plain containers for what was measured on a run's data and model, outside the curves.

:mod:`stallmagic.diagnosis.measure` fills a :class:`Measurements` from the live model and data (it needs Keras);
the rules only read it, so they can be tested on arrays built by hand. Every field may be ``None``: the measurement was
not possible for this run (``notes`` says why) and the rules that need it stay silent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class ArraySample:
    """A bounded sample of one split (training or validation) as plain arrays.

    Attributes:
        x: Features, float64 of shape (n, d): every numeric input flattened and concatenated.
        y: Targets as given, of shape (n,) or (n, k).
        rows: Which rows of the split these are (indices into the split, sorted).
        n_total: Number of rows in the whole split (``None`` when unknown, e.g. a tf.data pipeline).
        y_all: The targets of the whole split when cheap to hold (arrays as given), else ``None``.
    """

    x: np.ndarray | None
    y: np.ndarray | None
    rows: np.ndarray | None = None
    n_total: int | None = None
    y_all: np.ndarray | None = None


@dataclass
class GradientProbe:
    """Gradient and activation statistics on one fixed batch, at the start and at the end of the fit.

    ``layers`` names the layers with trainable kernels, input side first. ``grad_norms[when]`` holds the L2 norm
    of each layer's kernel gradient and ``weight_norms[when]`` the kernel's own norm; ``dead_relu[when]`` maps
    each ReLU layer to the share of its units that output zero for every row of the batch. ``when`` is
    ``"start"`` (the starting weights) or ``"end"`` (the final weights). ``weight_change`` holds, per layer, how
    far training moved its kernel: ``||W_end - W_start|| / ||W_start||`` (empty without starting weights).
    """

    layers: list[str] = field(default_factory=list)
    grad_norms: dict[str, list[float]] = field(default_factory=dict)
    weight_norms: dict[str, list[float]] = field(default_factory=dict)
    dead_relu: dict[str, dict[str, float]] = field(default_factory=dict)
    loss: dict[str, float] = field(default_factory=dict)
    batch_rows: int = 0
    weight_change: list[float] = field(default_factory=list)


@dataclass
class Measurements:
    """Everything measured for one diagnosis besides the logged curves.

    Attributes:
        train: Sample of the training rows (after a ``validation_split``).
        val: Sample of the validation rows, aligned with ``val_pred``.
        val_pred: The model's output probabilities on ``val.x`` at the end of the fit, of shape (n, k) or (n,)
            (logits already turned into probabilities).
        train_pred: The same on ``train.x``, measured only when the fit had no validation rows (then the training
            rows are all there is to judge the network on).
        train_sample_pred: The model's output probabilities on the training sample rows ``train_sample_rows``
            (at most a thousand, spread over the sample), measured for the per-class view
            (:mod:`~stallmagic.diagnosis.per_class`) when ``val_pred`` was and the targets are classes.
        train_sample_rows: Which rows of ``train.y`` ``train_sample_pred`` is of.
        gradients: The gradient/activation probe, or ``None`` (not measured on this backend or model).
        notes: What could not be measured, and why, in one sentence each.
        timings: Seconds per measurement.
    """

    train: ArraySample | None = None
    val: ArraySample | None = None
    val_pred: np.ndarray | None = None
    train_pred: np.ndarray | None = None
    train_sample_pred: np.ndarray | None = None
    train_sample_rows: np.ndarray | None = None
    gradients: GradientProbe | None = None
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
