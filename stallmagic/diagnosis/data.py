"""Rules on the data given to fit: values, scales, splits, class balance and amount.

All of them read bounded samples (:class:`~stallmagic.diagnosis.measurements.ArraySample`) and say nothing when
the data could not be sampled (a generator); the report's notes say why.
"""

from __future__ import annotations

import math

import numpy as np

from ..record import Run
from .report import Finding
from .rules import num, pct, ramp
from .signals import Signals

#: Layers that make the raw input scale irrelevant when they come first.
_NORMALIZING = {"Normalization", "BatchNormalization", "LayerNormalization", "Rescaling", "UnitNormalization"}
#: First layers that take indices or strings, not magnitudes.
_LOOKUP = {"Embedding", "StringLookup", "IntegerLookup", "TextVectorization", "Hashing", "CategoryEncoding"}


def _first_layers(run: Run, n: int = 2) -> list[str]:
    if run.model is None:
        return []
    return [layer.class_name for layer in run.model.layers[:n] if layer.class_name != "InputLayer"]


def _shortfall(s: Signals) -> float | None:
    """How far the network's best validation accuracy stays below the cheap baseline's (positive = below)."""
    probe = s.probe
    if s.val_acc is None or probe is None or probe.val_score is None or s.metric.kind != "accuracy":
        return None
    return probe.val_score - s.val_acc.best


# ---------------------------------------------------------------------- data quality


def data_quality(run: Run, s: Signals) -> Finding | None:
    """NaN or infinite values in inputs or targets, or inputs that carry no information.

    Fires at 0.95 for any non-finite value in the sampled inputs or targets (Keras propagates a single NaN
    into the loss); at 0.9 when every input feature is constant; at 0.3 (a hint) when most features are constant.
    """
    train = s.m.train
    if train is None or train.x is None:
        return None
    x = train.x
    bad_x = ~np.isfinite(x)
    y = np.asarray(train.y) if train.y is not None else None
    bad_y = ~np.isfinite(y.astype(float)) if y is not None and y.dtype.kind in "fc" else None
    n_bad_x = int(bad_x.sum())
    n_bad_y = int(bad_y.sum()) if bad_y is not None else 0
    loss_nonfinite = s.loss is not None and s.loss.first_nonfinite is not None
    if n_bad_x or n_bad_y:
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
    std = x.std(axis=0)
    constant = std == 0
    share = float(constant.mean()) if len(std) else 0.0
    if share >= 0.999:
        return Finding(
            "data_quality",
            "Every input feature is constant",
            f"All {len(std)} input features have the same value in every sampled row, so the model has nothing to "
            "learn from and can only predict the majority class. Check how the inputs were loaded.",
            {"constant_features": int(constant.sum()), "features": len(std), "rows_checked": len(x)},
            0.9,
        )
    if share >= 0.5:
        return Finding(
            "data_quality",
            "Most input features are constant",
            f"{int(constant.sum())} of {len(std)} features never change in the sampled rows; they carry no "
            "information. Harmless if expected (image borders), suspicious otherwise.",
            {"constant_features": int(constant.sum()), "features": len(std), "rows_checked": len(x)},
            0.3,
        )
    return None


# ---------------------------------------------------------------------- leakage


def _row_keys(x: np.ndarray) -> list[bytes]:
    rounded = np.ascontiguousarray(np.round(x, 6))
    return [row.tobytes() for row in rounded]


def data_leakage(run: Run, s: Signals) -> Finding | None:
    """The same input rows in training and validation (exact duplicates after rounding to 6 decimals).

    The share of validation rows found in the training sample is scaled up by how much of the training split
    was sampled. Confidence ramps from 0.5 at 5 % shared rows to 0.95 at 30 %.
    """
    train, val = s.m.train, s.m.val
    if train is None or val is None or train.x is None or val.x is None or train.x.shape[1] != val.x.shape[1]:
        return None
    if len(val.x) == 0:
        return None
    keys = set(_row_keys(train.x))
    hits = np.array([k in keys for k in _row_keys(val.x)])
    coverage = len(train.x) / train.n_total if train.n_total else 1.0
    share = min(1.0, float(hits.mean()) / max(coverage, 1e-9))
    if share < 0.05:
        return None
    conf = 0.5 + 0.45 * ramp(share, 0.05, 0.3)
    ev = {
        "shared_share": round(share, 4),
        "shared_rows": int(hits.sum()),
        "val_rows_checked": len(val.x),
        "train_rows_checked": len(train.x),
    }
    gap = None
    if s.acc is not None and s.val_acc is not None and s.val_acc.n:
        gap = s.acc.last - s.val_acc.last
        ev["train_minus_val"] = round(gap, 4)
    return Finding(
        "data_leakage",
        "Validation rows also appear in training",
        f"About {pct(share)} of the validation rows are exact copies of training rows, so validation partly "
        "measures memory, not generalization: its accuracy is optimistic and hides how the model does on new "
        "data. Deduplicate before splitting, or split by group.",
        ev,
        conf,
    )


# ---------------------------------------------------------------------- ordered validation_split


def unshuffled_validation_split(run: Run, s: Signals) -> Finding | None:
    """``validation_split`` took the tail of ordered data.

    Keras takes the last rows for validation before any shuffling. Compares the class distribution of the
    training rows with the validation rows (total variation distance); classes present only in validation are
    the strongest sign (0.95). For regression targets, the Kolmogorov-Smirnov distance between the two splits'
    targets. Confidence ramps from 0.5 at a distance of 0.3 to 0.95 at 0.7.
    """
    if run.fit.validation != "split":
        return None
    lab = s.labels
    if lab is not None and lab.train_all is not None and lab.val_all is not None:
        tr, va = lab.train_all[lab.train_all >= 0], lab.val_all[lab.val_all >= 0]
        if len(tr) == 0 or len(va) == 0:
            return None
        p = np.bincount(tr, minlength=lab.k) / len(tr)
        q = np.bincount(va, minlength=lab.k) / len(va)
        tv = float(0.5 * np.abs(p - q).sum())
        unseen = [int(c) for c in np.flatnonzero((q > 0) & (p == 0))]
        unseen_share = float(q[unseen].sum()) if unseen else 0.0
        if not unseen and tv < 0.3:
            return None
        conf = 0.95 if unseen_share >= 0.2 else 0.5 + 0.45 * ramp(max(tv, unseen_share), 0.3, 0.7)
        names = [lab.classes[c].item() for c in unseen][:10]
        ev = {
            "validation_split": run.fit.validation_split,
            "class_distance": round(tv, 4),
            "classes_only_in_validation": names,
            "validation_share_unseen": round(unseen_share, 4),
        }
        seen = (
            f" {pct(unseen_share)} of the validation rows belong to classes {names} that training never saw;"
            if unseen
            else ""
        )
        return Finding(
            "unshuffled_validation_split",
            "validation_split took the tail of ordered data",
            f"Keras takes the last {pct(run.fit.validation_split)} of the rows for validation, before shuffling, and "
            f"your data are ordered:{seen} the class mix differs between the splits by {pct(tv)} (total variation). "
            "Validation accuracy cannot reflect training. Shuffle before fit, or pass a stratified validation_data.",
            ev,
            conf,
        )
    train, val = s.m.train, s.m.val
    if s.task != "regression" or train is None or val is None or train.y_all is None or val.y_all is None:
        return None
    a = np.asarray(train.y_all, dtype=float).reshape(len(train.y_all), -1)[:, 0]
    b = np.asarray(val.y_all, dtype=float).reshape(len(val.y_all), -1)[:, 0]
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) < 5 or len(b) < 5:
        return None
    grid = np.sort(np.concatenate([a, b]))
    ks = float(
        np.max(
            np.abs(
                np.searchsorted(np.sort(a), grid, "right") / len(a)
                - np.searchsorted(np.sort(b), grid, "right") / len(b)
            )
        )
    )
    if ks < 0.3:
        return None
    return Finding(
        "unshuffled_validation_split",
        "validation_split took the tail of ordered data",
        f"Keras takes the last {pct(run.fit.validation_split)} of the rows for validation before shuffling, and the "
        f"targets there are distributed differently from training (Kolmogorov-Smirnov distance {ks:.2f}): the data "
        "look sorted. Shuffle before fit.",
        {
            "validation_split": run.fit.validation_split,
            "target_ks_distance": round(ks, 4),
            "train_target_mean": float(a.mean()),
            "val_target_mean": float(b.mean()),
        },
        0.5 + 0.45 * ramp(ks, 0.3, 0.7),
    )


# ---------------------------------------------------------------------- scales


def unscaled_inputs(run: Run, s: Signals) -> Finding | None:
    """Input features on large or very different scales, with no normalization layer in front.

    Scale of a feature = |mean| + standard deviation. Severity ramps with the largest scale (from 50 to 1000)
    and with the ratio of the largest to the median non-zero scale (from 100 to 10,000). Severity alone gives
    0.25-0.6 (only extreme scales, 1000 or a ratio of 10,000, reach the alert level on their own); training that
    also suffers (the network clearly below the cheap baseline, which standardizes its inputs, or a loss that
    does not come down) adds up to 0.4.
    """
    train = s.m.train
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
    shortfall = _shortfall(s)
    diverged = s.loss is not None and (s.loss.first_nonfinite is not None or s.loss.relative_change() > 0)
    hurt = max(ramp(shortfall, 0.03, 0.15), 1.0 if diverged else 0.0)
    conf = 0.25 + 0.35 * severity + 0.4 * hurt * max(severity, 0.5)
    ev = {
        "max_feature_scale": round(top, 4),
        "scale_ratio": round(ratio, 2),
        "features_over_100": int((scale > 100).sum()),
        "features": len(scale),
    }
    if shortfall is not None:
        ev.update(val_accuracy_best=round(s.val_acc.best, 4), baseline_accuracy=round(s.probe.val_score, 4))
    cause = ""
    if shortfall is not None and shortfall > 0.03:
        cause = (
            f" The network's best validation accuracy ({num(s.val_acc.best)}) stays below a quick "
            f"{s.probe.model_name} on standardized features ({num(s.probe.val_score)})."
        )
    elif diverged:
        cause = " The training loss did not come down."
    return Finding(
        "unscaled_inputs",
        "Inputs are not scaled",
        f"Input features reach a scale of {num(top)} and differ by a factor of {num(ratio)} between features; "
        f"gradient descent with one learning rate for all weights struggles with that.{cause} Standardize the "
        "inputs (or add a Normalization layer adapted on the training data).",
        ev,
        min(0.95, conf),
    )


# ---------------------------------------------------------------------- class balance


def class_imbalance(run: Run, s: Signals) -> Finding | None:
    """Skewed classes that the model resolves by predicting the majority.

    Minority classes: those with a training share below half of an even share (1 / 2k). The finding needs a
    majority share of at least 0.6 (binary) or an imbalance ratio of at least 5. Its strength is the larger of
    minority recall on validation falling (from 0.7 down to 0.1) and the recall gap between the common and the
    rare classes (from 0.15 up to 0.5); confidence = strength x (0.5 + 0.3 x skew + 0.15 x accuracy at the
    majority share). Healthy imbalanced data, where minority recall stays high, raise nothing.
    """
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
    recall = s.val_recall
    ev = {
        "majority_share": round(majority, 4),
        "imbalance_ratio": round(ratio, 2),
        "minority_classes": [s.labels.classes[c].item() for c in minority][:10],
    }
    val_acc = s.val_acc.last if s.val_acc is not None and s.val_acc.n else s.val_pred_accuracy
    if val_acc is not None:
        ev["val_accuracy"] = round(float(val_acc), 4)
    chance = s.chance_accuracy
    if recall:
        rec = [recall[c] for c in minority if c in recall]
        if not rec:
            return None
        minority_recall = float(np.mean(rec))
        common = [recall[c] for c in recall if c not in minority]
        common_recall = float(np.mean(common)) if common else math.nan
        ev["minority_recall"] = round(minority_recall, 4)
        ev["majority_recall"] = round(common_recall, 4)
        pred = s.val_predicted
        ev["predicted_majority_share"] = round(float(np.mean(pred == int(np.argmax(shares)))), 4)
        recall_gap = common_recall - minority_recall if common else 0.0
        collapse = max(ramp(minority_recall, 0.7, 0.1), ramp(recall_gap, 0.15, 0.5))
        at_majority = ramp(abs(val_acc - chance), 0.1, 0.01) if val_acc is not None and chance else 0.0
        skew = ramp(majority, 0.5, 0.9) if k == 2 else ramp(ratio, 3, 20)
        conf = collapse * (0.5 + 0.3 * skew + 0.15 * at_majority)
        if conf < 0.15:
            return None
        names = ev["minority_classes"]
        if at_majority >= 0.5:
            text = (
                f"{pct(majority)} of the training rows belong to one class (imbalance ratio {ratio:.0f}:1). Validation "
                f"accuracy {num(val_acc)} is close to what always predicting that class gives ({num(chance)}), "
                f"while recall on the minority classes is {num(minority_recall, 2)}."
            )
        else:
            rare_share = float(sum(shares[c] for c in minority))
            text = (
                f"The rare classes {names} hold {pct(rare_share)} of the training rows (imbalance ratio "
                f"{ratio:.0f}:1), and the model finds {num(minority_recall, 2)} of their validation rows against "
                f"{num(common_recall, 2)} for the common classes."
            )
        return Finding(
            "class_imbalance",
            "Class imbalance: the minority classes are ignored",
            text + " Accuracy hides the failure: weight the classes, and watch per-class recall.",
            ev,
            conf,
        )
    if val_acc is None or chance is None:
        return None
    at_majority = ramp(abs(val_acc - chance), 0.05, 0.005)
    conf = 0.55 * at_majority * ramp(majority, 0.6, 0.9)
    if conf < 0.15:
        return None
    return Finding(
        "class_imbalance",
        "Class imbalance",
        f"{pct(majority)} of the training rows belong to one class and validation accuracy {num(val_acc)} equals "
        f"the majority share ({num(chance)}): the model may be predicting that class only.",
        ev,
        conf,
    )


# ---------------------------------------------------------------------- amount of data


def insufficient_data(run: Run, s: Signals) -> Finding | None:
    """Too few training rows: validation would still improve with more data.

    Reads the cheap probe's learning curve (validation score at 25 %, 50 % and 100 % of the training sample).
    The gain over the last doubling must exceed both 0.02 and twice its binomial standard error
    (sqrt(p(1 - p) / n_val)). Confidence ramps with that gain (0.02 to 0.08), and with the network's own gap
    (training accuracy well above validation) or a small number of rows per class (fewer than 50).
    """
    probe = s.probe
    if probe is None or len(probe.curve) < 2 or probe.val_score is None:
        return None
    gain = probe.gain_last_doubling()
    n_val = len(s.m.val.y) if s.m.val is not None and s.m.val.y is not None else max(10, probe.n_train // 3)
    p = min(0.99, max(0.01, probe.val_score))
    se = math.sqrt(2 * p * (1 - p) / max(1, min(n_val, 1500)))
    if gain is None or gain < max(0.02, 2 * se):
        return None
    n_train = run.fit.n_train or probe.n_train
    k = s.n_classes or 1
    per_class = n_train / k if s.task == "classification" else None
    gap = s.acc.last - s.val_acc.last if s.acc is not None and s.val_acc is not None and s.val_acc.n else None
    small = ramp(per_class, 100, 20) if per_class is not None else ramp(n_train, 2000, 200)
    conf = ramp(gain, 0.0, 0.08) * (0.4 + 0.3 * small + 0.3 * ramp(gap, 0.05, 0.2))
    if run.model is not None and n_train:
        conf *= 0.85 + 0.15 * ramp(run.model.trainable_params / n_train, 1, 20)
    ev = {
        "n_train": n_train,
        "learning_curve": [[int(a), round(b, 4)] for a, b in probe.curve],
        "gain_last_doubling": round(gain, 4),
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
