"""Rules on the data given to fit: their values, class balance and amount (splits: :mod:`.splits`; scales:
:mod:`.scales`).

All of them read bounded samples (:class:`~stallmagic.diagnosis.measurements.ArraySample`) and say nothing when
the data could not be sampled (a generator); the report's notes say why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...record import Run
from ..report import Finding
from ..signals import Signals
from .shared import num, pct, ramp

# ---------------------------------------------------------------------- data quality


def data_quality(run: Run, s: Signals) -> Finding | None:
    """NaN or infinite values in inputs or targets, or inputs that carry no information.

    Fires at 0.95 for any non-finite value in the sampled inputs or targets (Keras propagates a single NaN
    into the loss); at 0.9 when every input feature is constant; at 0.3 (a hint) when most features are constant.
    """
    train = s.measurements.train
    if train is None or train.x is None:
        return None
    return _nonfinite_values(s, train.x, train.y) or _constant_features(train.x)


def _nonfinite_values(s: Signals, x: np.ndarray, y: np.ndarray | None) -> Finding | None:
    """NaN or infinite values in the sampled inputs or targets: 0.95."""
    bad_x = ~np.isfinite(x)
    y = np.asarray(y) if y is not None else None
    bad_y = ~np.isfinite(y.astype(float)) if y is not None and y.dtype.kind in "fc" else None
    n_bad_x = int(bad_x.sum())
    n_bad_y = int(bad_y.sum()) if bad_y is not None else 0
    if not (n_bad_x or n_bad_y):
        return None
    loss_nonfinite = s.loss is not None and s.loss.first_nonfinite is not None
    rows = int(np.any(bad_x, axis=1).sum())
    cols = np.flatnonzero(bad_x.any(axis=0))[:10].tolist()
    where = []
    if n_bad_x:
        where.append(f"{n_bad_x} NaN/inf input values in {rows} of {len(x)} sampled rows (features {cols})")
    if n_bad_y:
        where.append(f"{n_bad_y} NaN/inf targets")
    consequence = (
        f"the training loss became NaN at epoch {s.loss.first_nonfinite + 1}"
        if loss_nonfinite
        else "every batch that holds one produces a NaN loss or silently wrong activations"
    )
    return Finding(
        "data_quality",
        "NaN or infinite values in the data",
        f"The training data hold {' and '.join(where)}; {consequence}. Impute or drop them before fit.",
        {
            "nonfinite_inputs": n_bad_x,
            "rows_with_nonfinite": rows,
            "nonfinite_targets": n_bad_y,
            "rows_checked": len(x),
            "features": cols,
            "loss_became_nan": loss_nonfinite,
        },
        0.95,
    )


def _constant_features(x: np.ndarray) -> Finding | None:
    """Input features that never change in the sampled rows: all of them 0.9, at least half 0.3 (a hint)."""
    std = x.std(axis=0)
    constant = std == 0
    share = float(constant.mean()) if len(std) else 0.0
    evidence = {"constant_features": int(constant.sum()), "features": len(std), "rows_checked": len(x)}
    if share >= 0.999:
        return Finding(
            "data_quality",
            "Every input feature is constant",
            f"All {len(std)} input features have the same value in every sampled row, so the model has nothing to "
            "learn from and can only predict the majority class. Check how the inputs were loaded.",
            evidence,
            0.9,
        )
    if share >= 0.5:
        return Finding(
            "data_quality",
            "Most input features are constant",
            f"{int(constant.sum())} of {len(std)} features never change in the sampled rows; they carry no "
            "information. Harmless if expected (image borders), suspicious otherwise.",
            evidence,
            0.3,
        )
    return None


# ---------------------------------------------------------------------- class balance


@dataclass(frozen=True)
class _Skew:
    """How the training rows spread over the classes: each class's share, the majority share, the ratio of the most
    to the least common class present, and the minority classes (index order)."""

    shares: np.ndarray
    majority: float
    ratio: float
    minority: list[int]

    @property
    def k(self) -> int:
        return len(self.shares)


def _skew(s: Signals) -> _Skew | None:
    """The class skew of a classification run when it is strong enough to matter: a majority share of at least 0.6
    (binary) or an imbalance ratio of at least 5. Minority classes hold less than half an even share (1 / 2k); when
    none does, the rarest class is the minority."""
    if s.task != "classification" or s.labels is None:
        return None
    shares = s.class_shares("train")
    if shares is None:
        return None
    k = len(shares)
    present = shares[shares > 0]
    if len(present) < 2:
        return None
    majority = float(present.max())
    ratio = float(present.max() / present.min())
    if majority < 0.6 and ratio < 5:
        return None
    minority = [c for c in range(k) if 0 < shares[c] < 0.5 / k] or [int(np.argmin(np.where(shares > 0, shares, 2)))]
    return _Skew(shares, majority, ratio, minority)


def class_imbalance(run: Run, s: Signals) -> Finding | None:
    """Skewed classes that the model resolves by predicting the majority.

    Minority classes: those with a training share below half of an even share (1 / 2k). The finding needs a
    majority share of at least 0.6 (binary) or an imbalance ratio of at least 5. Its strength is the larger of
    minority recall on validation falling (from 0.7 down to 0.1) and the recall gap between the common and the
    rare classes (from 0.15 up to 0.5); confidence = strength x (0.5 + 0.3 x skew + 0.15 x accuracy at the
    majority share). Healthy imbalanced data, where minority recall stays high, raise nothing. Without the
    model's predictions: 0.55 x accuracy at the majority share (within 0.05 to 0.005) x skew (0.6 to 0.9).
    """
    skew = _skew(s)
    if skew is None:
        return None
    ev = {
        "majority_share": round(skew.majority, 4),
        "imbalance_ratio": round(skew.ratio, 2),
        "minority_classes": [s.labels.classes[c].item() for c in skew.minority][:10],
    }
    val_acc = s.val_acc.last if s.val_acc is not None and s.val_acc.n else s.val_pred_accuracy
    if val_acc is not None:
        ev["val_accuracy"] = round(float(val_acc), 4)
    if s.val_recall:
        return _minority_ignored(s, skew, ev, val_acc)
    return _majority_only(s, skew, ev, val_acc)


def _minority_ignored(s: Signals, skew: _Skew, ev: dict, val_acc: float | None) -> Finding | None:
    """With the model's predictions: recall on the minority classes against the common ones (see
    :func:`class_imbalance`); below 0.15 confidence nothing is said."""
    recall, chance = s.val_recall, s.chance_accuracy
    rec = [recall[c] for c in skew.minority if c in recall]
    if not rec:
        return None
    minority_recall = float(np.mean(rec))
    common = [recall[c] for c in recall if c not in skew.minority]
    common_recall = float(np.mean(common)) if common else math.nan
    ev["minority_recall"] = round(minority_recall, 4)
    ev["majority_recall"] = round(common_recall, 4)
    ev["predicted_majority_share"] = round(float(np.mean(s.val_predicted == int(np.argmax(skew.shares)))), 4)
    recall_gap = common_recall - minority_recall if common else 0.0
    collapse = max(ramp(minority_recall, 0.7, 0.1), ramp(recall_gap, 0.15, 0.5))
    at_majority = ramp(abs(val_acc - chance), 0.1, 0.01) if val_acc is not None and chance else 0.0
    strength = ramp(skew.majority, 0.5, 0.9) if skew.k == 2 else ramp(skew.ratio, 3, 20)
    conf = collapse * (0.5 + 0.3 * strength + 0.15 * at_majority)
    if conf < 0.15:
        return None
    if at_majority >= 0.5:
        text = (
            f"{pct(skew.majority)} of the training rows belong to one class (imbalance ratio {skew.ratio:.0f}:1). "
            f"Validation accuracy {num(val_acc)} is close to what always predicting that class gives "
            f"({num(chance)}), while recall on the minority classes is {num(minority_recall, 2)}."
        )
    else:
        rare_share = float(sum(skew.shares[c] for c in skew.minority))
        text = (
            f"The rare classes {ev['minority_classes']} hold {pct(rare_share)} of the training rows (imbalance ratio "
            f"{skew.ratio:.0f}:1), and the model finds {num(minority_recall, 2)} of their validation rows against "
            f"{num(common_recall, 2)} for the common classes."
        )
    return Finding(
        "class_imbalance",
        "Class imbalance: the minority classes are ignored",
        text + " Accuracy hides the failure: weight the classes, and watch per-class recall.",
        ev,
        conf,
    )


def _majority_only(s: Signals, skew: _Skew, ev: dict, val_acc: float | None) -> Finding | None:
    """Without the model's predictions: validation accuracy equal to the majority share suggests the model predicts
    that class only (see :func:`class_imbalance`); below 0.15 confidence nothing is said."""
    chance = s.chance_accuracy
    if val_acc is None or chance is None:
        return None
    at_majority = ramp(abs(val_acc - chance), 0.05, 0.005)
    conf = 0.55 * at_majority * ramp(skew.majority, 0.6, 0.9)
    if conf < 0.15:
        return None
    return Finding(
        "class_imbalance",
        "Class imbalance",
        f"{pct(skew.majority)} of the training rows belong to one class and validation accuracy {num(val_acc)} "
        f"equals the majority share ({num(chance)}): the model may be predicting that class only.",
        ev,
        conf,
    )


# ---------------------------------------------------------------------- amount of data


def insufficient_data(run: Run, s: Signals) -> Finding | None:
    """Too few training rows: validation would still improve with more data.

    Reads the cheap probe's learning curve (validation score at 25 %, 50 % and 100 % of the training sample).
    The gain over the last doubling must exceed 0.02, twice its binomial standard error (sqrt(2 p(1 - p) / n_val))
    and twice the spread of the half-size score over three draws of the half (tiny training sets: the curve is
    then too noisy to read). Confidence ramps with the gain per doubling over the whole curve (0 to 0.08; the
    curve's slope in log rows, steadier than one pair of points), and with the network's own gap
    (training accuracy well above validation) or a small number of rows per class (fewer than 50).
    """
    probe = s.probe
    if probe is None or len(probe.curve) < 2 or probe.val_score is None:
        return None
    gain = probe.gain_last_doubling()
    val = s.measurements.val
    n_val = len(val.y) if val is not None and val.y is not None else max(10, probe.n_train // 3)
    p = min(0.99, max(0.01, probe.val_score))
    se = math.sqrt(2 * p * (1 - p) / max(1, min(n_val, 1500)))
    spread = probe.curve_spread or 0.0  # on tens of rows, which half was drawn moves the score as much as the data
    if gain is None or gain < max(0.02, 2 * se, 2 * spread):
        return None
    n_train = run.fit.n_train or probe.n_train
    k = s.n_classes or 1
    per_class = n_train / k if s.task == "classification" else None
    gap = s.acc.last - s.val_acc.last if s.acc is not None and s.val_acc is not None and s.val_acc.n else None
    small = ramp(per_class, 100, 20) if per_class is not None else ramp(n_train, 2000, 200)
    rate = max(gain, probe.gain_per_doubling() or gain)
    conf = ramp(rate, 0.0, 0.08) * (0.4 + 0.3 * small + 0.3 * ramp(gap, 0.05, 0.2))
    if run.model is not None and n_train:
        conf *= 0.85 + 0.15 * ramp(run.model.trainable_params / n_train, 1, 20)
    ev = {
        "n_train": n_train,
        "learning_curve": [[int(a), round(b, 4)] for a, b in probe.curve],
        "gain_last_doubling": round(gain, 4),
        "gain_per_doubling": round(rate, 4),
        "probe_model": probe.model_name,
    }
    if per_class is not None:
        ev["rows_per_class"] = round(per_class, 1)
    if gap is not None:
        ev["train_minus_val"] = round(gap, 4)
    if run.model is not None:
        ev["params"] = run.model.trainable_params
    return Finding(
        "insufficient_data",
        "Too little training data",
        f"With {n_train} training rows{f' ({per_class:.0f} per class)' if per_class else ''}, validation still "
        f"improves as data grow: a quick {probe.model_name} gains {gain:+.3f} from half the rows to all of them "
        f"({' -> '.join(f'{b:.3f}' for _, b in probe.curve)}). More data (or augmentation) should lift validation; "
        "meanwhile regularize.",
        ev,
        conf,
    )
