"""Rules on how training and validation rows were split: shared rows, an ordered tail, and validation rows
prepared differently from training rows.

All of them read bounded samples (:class:`~stallmagic.diagnosis.measurements.ArraySample`) and say nothing when
the data could not be sampled (a generator); the report's notes say why.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from ...record import Run
from ..report import Finding
from ..signals import Labels, Signals
from .shared import pct, ramp

# ---------------------------------------------------------------------- leakage


def _row_keys(x: np.ndarray) -> list[bytes]:
    rounded = np.ascontiguousarray(np.round(x, 6))
    return [row.tobytes() for row in rounded]


def data_leakage(run: Run, s: Signals) -> Finding | None:
    """The same input rows in training and validation (exact duplicates after rounding to 6 decimals), more often
    than chance makes them.

    The share of validation rows found in the training sample is scaled up by how much of the training split was
    sampled. Inputs with few distinct values (one feature, small counts) repeat by chance: the share of training
    rows that repeat *inside* the training sample is what chance gives, and only the excess over it counts.
    Confidence ramps from 0.5 at 5 % excess to 0.95 at 30 %.
    """
    train, val = s.measurements.train, s.measurements.val
    if train is None or val is None or train.x is None or val.x is None or train.x.shape[1] != val.x.shape[1]:
        return None
    if len(val.x) == 0:
        return None
    train_keys = _row_keys(train.x)
    counts = Counter(train_keys)
    hits = np.array([k in counts for k in _row_keys(val.x)])
    coverage = len(train.x) / train.n_total if train.n_total else 1.0
    share = min(1.0, float(hits.mean()) / max(coverage, 1e-9))
    by_chance = min(1.0, float(np.mean([counts[k] > 1 for k in train_keys])) / max(coverage, 1e-9))
    excess = share - by_chance
    if excess < 0.05:
        return None
    conf = 0.5 + 0.45 * ramp(excess, 0.05, 0.3)
    ev = {
        "shared_share": round(share, 4),
        "repeats_within_training": round(by_chance, 4),
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
        return _class_mix_differs(run, lab)
    return _target_distribution_differs(run, s)


def _class_mix_differs(run: Run, lab: Labels) -> Finding | None:
    """The class mix of the whole training split against the whole validation split: classes found only in
    validation (0.95 when they hold a fifth of its rows), else a total variation distance of 0.3 to 0.7."""
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


def _target_distribution_differs(run: Run, s: Signals) -> Finding | None:
    """Regression: the targets of the whole training split against the whole validation split, by their
    Kolmogorov-Smirnov distance (0.3 to 0.7)."""
    train, val = s.measurements.train, s.measurements.val
    if s.task != "regression" or train is None or val is None or train.y_all is None or val.y_all is None:
        return None
    a = np.asarray(train.y_all, dtype=float).reshape(len(train.y_all), -1)[:, 0]
    b = np.asarray(val.y_all, dtype=float).reshape(len(val.y_all), -1)[:, 0]
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) < 5 or len(b) < 5:
        return None
    from scipy.stats import ks_2samp

    ks = float(ks_2samp(a, b).statistic)
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


# ---------------------------------------------------------------------- validation prepared differently

#: A classifier that tells validation rows from training rows this well (ROC AUC) marks a shift.
SHIFT_AUC = 0.75


def distribution_shift(run: Run, s: Signals) -> Finding | None:
    """Validation rows drawn or prepared differently from training rows (another scaling, another source).

    A gradient-boosting classifier is trained to tell sampled training rows from validation rows (3-fold,
    :func:`~stallmagic.diagnosis.signals.probes.domain_auc`); for rows from one distribution its ROC AUC is about 0.5.
    Fires at an AUC of at least 0.75 when validation also lags (training accuracy 0.05 or more above validation,
    validation loss at least 1.5x the training loss, or validation clearly below the baseline). Confidence =
    0.45 + 0.5 x ramp(AUC, 0.75, 0.95) x how much validation lags.
    """
    train, val = s.measurements.train, s.measurements.val
    if train is None or val is None or train.x is None or val.x is None or train.x.shape[1] != val.x.shape[1]:
        return None
    lags = []
    if s.acc is not None and s.val_acc is not None and s.val_acc.n:
        lags.append(ramp(s.acc.last - s.val_acc.last, 0.05, 0.2))
    if s.loss is not None and s.val_loss is not None and s.val_loss.n and s.loss.n and s.loss.last > 0:
        lags.append(ramp(s.val_loss.last / s.loss.last, 1.5, 4.0))
    if s.shortfall is not None:
        lags.append(ramp(s.shortfall, 0.03, 0.15))
    lag = max(lags, default=0.0)
    if lag <= 0:
        return None  # validation keeps up: whatever differs does not hold it back (and the probe is not paid for)
    shift = s.domain_shift
    if shift is None or shift.auc < SHIFT_AUC:
        return None
    ev = {
        "train_vs_val_auc": round(shift.auc, 4),
        "most_shifted_features": shift.features,
        "standardized_mean_difference": shift.differences,
    }
    return Finding(
        "distribution_shift",
        "Validation rows differ from training rows",
        f"A classifier tells validation rows from training rows with an AUC of {shift.auc:.2f} (0.5 when they come "
        f"from the same distribution); features {shift.features} differ most (by {shift.differences} training "
        "standard deviations). Validation was prepared or drawn differently, so what the model learned does not "
        "carry over. Apply exactly the same preprocessing to both (fit it on the training rows), and draw both "
        "from the same source.",
        ev,
        0.45 + 0.5 * ramp(shift.auc, SHIFT_AUC, 0.95) * lag,
    )
