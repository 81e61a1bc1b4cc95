"""Rules on the scale of what the network reads and predicts: unscaled inputs, unscaled regression targets.

Gradient descent with one learning rate for every weight struggles when features (or targets) live on scales far
from 1: steps that suit one feature overshoot another, and a loss measured in thousands saturates or explodes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...record import Run
from ..report import Finding
from ..signals import Signals
from .shared import num, pct, ramp

#: Layers that make the raw input scale irrelevant when they come first.
_NORMALIZING = {"Normalization", "BatchNormalization", "LayerNormalization", "Rescaling", "UnitNormalization"}
#: First layers that take indices or strings, not magnitudes.
_LOOKUP = {"Embedding", "StringLookup", "IntegerLookup", "TextVectorization", "Hashing", "CategoryEncoding"}
#: Output activations that cannot reach targets outside a unit range: the loss/output rule's finding, not a scale's.
_BOUNDED_OUTPUTS = ("sigmoid", "tanh", "softmax", "hard_sigmoid", "softsign")
#: Predictions whose scale stays under this share of the targets' scale never reached the targets: the network's
#: last layer is still growing toward them, so the targets' scale holds the run back whatever the inputs are
#: (measured on generated regressions with raw inputs and targets around 10^5: standardizing the inputs changed
#: nothing, standardizing the targets halved the error).
UNREACHED = 0.5


def _first_layers(run: Run, n: int = 2) -> list[str]:
    if run.model is None:
        return []
    return [layer.class_name for layer in run.model.layers[:n] if layer.class_name != "InputLayer"]


@dataclass(frozen=True)
class TargetScale:
    """The regression targets' scale (|mean| + standard deviation of the first output), how severe it is (0 at
    100, 1 at 10,000), and the targets it was read from."""

    y: np.ndarray
    scale: float
    severity: float


def target_scale(run: Run, s: Signals) -> TargetScale | None:
    """The scale of the regression targets the network must produce, when it is large (severity > 0); ``None``
    for classification, bounded outputs (sigmoid, tanh: the loss/output rule's case) or fewer than 10 targets."""
    train = s.measurements.train
    if s.task != "regression" or train is None or train.y is None or run.model is None:
        return None
    if run.model.output_activation in _BOUNDED_OUTPUTS:
        return None
    y = np.asarray(train.y, dtype=float).reshape(len(train.y), -1)[:, 0]
    y = y[np.isfinite(y)]
    if len(y) < 10:
        return None
    scale = float(abs(y.mean()) + y.std())
    severity = ramp(math.log10(max(scale, 1e-12)), 2.0, 4.0)
    return TargetScale(y, scale, severity) if severity > 0 else None


def targets_out_of_reach(run: Run, s: Signals) -> float | None:
    """The predictions' reach (:attr:`Signals.output_reach`) when the targets are on a large scale and the
    predictions stayed under :data:`UNREACHED` of it: the targets' scale then explains the shortfall first."""
    reach = s.output_reach
    if reach is None or reach >= UNREACHED or target_scale(run, s) is None:
        return None
    return reach


# ---------------------------------------------------------------------- scales


def _input_scale_cause(s: Signals, reach: float | None, diverged: bool) -> str:
    """The sentence that says what the inputs' scale did to this run (empty when nothing measured shows harm)."""
    if reach is not None:
        return (
            f" The network falls behind, but its predictions reach only {pct(reach)} of the targets' scale: the "
            "targets' scale holds it back first."
        )
    if s.shortfall is not None and s.shortfall > 0.03:
        return f" The network's best {s.shortfall_words()} on standardized features."
    return " The training loss did not come down." if diverged else ""


def unscaled_inputs(run: Run, s: Signals) -> Finding | None:
    """Input features on large or very different scales, with no normalization layer in front.

    Scale of a feature = |mean| + standard deviation. Severity ramps with the largest scale (from 50 to 1000)
    and with the ratio of the largest to the median non-zero scale (from 100 to 10,000). Severity alone gives
    0.25-0.6 (only extreme scales, 1000 or a ratio of 10,000, reach the alert level on their own); training that
    also suffers (the network clearly below the cheap baseline, which standardizes its inputs, or a loss that
    does not come down) adds up to 0.4. That suffering is not the inputs' doing when the regression targets are on
    a large scale the predictions never reached (:func:`targets_out_of_reach`): the inputs' finding then keeps
    its severity alone and names the targets as what holds the run back first.
    """
    train = s.measurements.train
    if train is None or train.x is None or train.x.shape[1] == 0:
        return None
    first = _first_layers(run)
    if any(name in _NORMALIZING or name in _LOOKUP for name in first[:1]):
        return None
    x = train.x[:, np.isfinite(train.x).all(axis=0)]
    if x.shape[1] == 0:
        return None
    scale = np.abs(x.mean(axis=0)) + x.std(axis=0)
    nonzero = scale[scale > 0]
    if len(nonzero) == 0:
        return None
    top = float(nonzero.max())
    ratio = float(top / np.median(nonzero))
    severity = max(ramp(math.log10(top), math.log10(50), 3.0), ramp(math.log10(max(ratio, 1)), 2.0, 4.0))
    if severity <= 0:
        return None
    shortfall = s.shortfall
    diverged = s.loss is not None and (s.loss.first_nonfinite is not None or s.loss.relative_change() > 0)
    hurt = max(ramp(shortfall, 0.03, 0.15), 1.0 if diverged else 0.0)
    reach = targets_out_of_reach(run, s)
    if reach is not None:
        hurt = 0.0  # the targets' scale explains the shortfall (their finding says so)
    conf = 0.25 + 0.35 * severity + 0.4 * hurt * max(severity, 0.5)
    ev = {
        "max_feature_scale": round(top, 4),
        "scale_ratio": round(ratio, 2),
        "features_over_100": int((scale > 100).sum()),
        "features": len(scale),
    }
    ev.update(s.shortfall_evidence())
    if reach is not None:
        ev["prediction_reach"] = round(reach, 4)
    cause = _input_scale_cause(s, reach, diverged)
    return Finding(
        "unscaled_inputs",
        "Inputs are not scaled",
        f"Input features reach a scale of {num(top)} and differ by a factor of {num(ratio)} between features; "
        f"gradient descent with one learning rate for all weights struggles with that.{cause} Standardize the "
        "inputs (or add a Normalization layer adapted on the training data).",
        ev,
        min(0.95, conf),
    )


def unscaled_targets(run: Run, s: Signals) -> Finding | None:
    """Regression targets on a large scale, and a network that falls behind because of it.

    Scale of the targets: :func:`target_scale` (severity ramps from 100 to 10,000). The network must fall behind:
    predictions that stay under half the targets' scale (:func:`targets_out_of_reach`: it never got there), or its
    R² on validation (training without validation) 0.1 to 0.4 below a quick ridge/k-NN regression on the same
    rows, or a training loss that became NaN or did not fall by half. Outputs that cannot reach such targets at
    all (sigmoid, tanh) are the loss/output rule's finding.
    Confidence = (0.5 + 0.3 x severity) x (0.55 + 0.45 x how far behind).
    """
    targets = target_scale(run, s)
    if targets is None:
        return None
    y, scale, severity = targets.y, targets.scale, targets.severity
    r2, probe = s.network_r2, s.probe
    behind = None
    if r2 is not None and probe is not None and probe.val_score is not None:
        behind = ramp(probe.val_score - r2, 0.1, 0.4)
    reach = targets_out_of_reach(run, s)
    loss = s.loss
    stuck = loss is not None and (loss.first_nonfinite is not None or (loss.n >= 2 and loss.last > 0.5 * loss.first))
    hurt = behind if behind is not None else (1.0 if stuck else 0.0)
    if reach is not None:
        hurt = 1.0
    if hurt <= 0:
        return None
    ev = {
        "target_mean": round(float(y.mean()), 4),
        "target_std": round(float(y.std()), 4),
        "target_scale": round(scale, 2),
        "network_r2": round(r2, 4) if r2 is not None and math.isfinite(r2) else r2,
        "baseline_r2": round(probe.val_score, 4) if probe is not None and probe.val_score is not None else None,
    }
    if reach is not None:
        ev["prediction_reach"] = round(reach, 4)
    behind_words = ""
    if behind is not None:
        behind_words = f" The network's R² ({num(r2)}) stays below a quick {probe.model_name} ({num(probe.val_score)})."
    elif reach is None:
        behind_words = " The training loss did not come down."
    if reach is not None:
        behind_words += f" Its predictions reach only {pct(reach)} of the targets' scale."
    return Finding(
        "unscaled_targets",
        "Regression targets are not scaled",
        f"The targets reach a scale of {num(scale)} (mean {num(float(y.mean()))}, standard deviation "
        f"{num(float(y.std()))}): the loss and its gradients are that large too, so steps that suit the weights "
        f"overshoot.{behind_words} Standardize the targets for training (and invert the scaling on predictions).",
        ev,
        (0.5 + 0.3 * severity) * (0.55 + 0.45 * hurt),
    )
