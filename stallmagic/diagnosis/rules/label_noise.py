"""Rule on the labels themselves: a sizable share of them look wrong.

Confident learning (cleanlab's ``find_label_issues``) on out-of-fold probabilities from the cheap probe flags the
rows whose given label is unlikely; those are the suspects a rerun can drop. Whether the labels are *noisy* at all
is a separate question, because hard, overlapping classes produce disagreements too. The two differ in where the
disagreements sit: wrong labels are spread evenly, so even the rows the probe is most sure about disagree with
their labels at about the noise rate; overlapping classes disagree near the boundary, and the probe's surest
rows are nearly all right. The rule therefore reads the **noise floor**: the error rate among the third of the
rows the probe is most confident about, and its ratio to the overall error rate.
"""

from __future__ import annotations

import math

import numpy as np

from ...record import Run
from ..report import Finding
from ..signals import Signals
from .shared import pct, ramp

#: Estimated noise rates below this are not reported.
MIN_NOISE = 0.05
#: Wrong labels disagree as often among the surest rows as overall; overlapping classes far less (measured: 0.7-1.1
#: for flipped labels on digits, breast cancer and wine; 0.2-0.4 for make_moons, make_classification and Pima).
MIN_FLOOR_RATIO = 0.4


def noise_floor(proba: np.ndarray, labels: np.ndarray) -> tuple[float, float] | None:
    """(error rate among the most confident third of the rows, that rate / the overall error rate).

    Args:
        proba: Out-of-fold class probabilities of shape (n, k).
        labels: The given class index of each row, of shape (n,).

    Returns:
        ``None`` with fewer than 60 rows or no errors at all.
    """
    if len(labels) < 60:
        return None
    wrong = proba.argmax(axis=1) != labels
    overall = float(wrong.mean())
    if overall == 0:
        return None
    surest = np.argsort(-proba.max(axis=1), kind="stable")[: len(labels) // 3]
    floor = float(wrong[surest].mean())
    return floor, floor / overall


def _probe_is_outclassed(s: Signals) -> bool:
    """The network beats the probe on validation by more than 0.03 and by more than twice the validation set's
    binomial standard error (sqrt(p(1 - p) / n)): a real margin, not the luck of a small validation set."""
    if s.shortfall is None or s.measurements.val is None or s.measurements.val.y is None:
        return False
    p = min(0.99, max(0.01, s.probe.val_score))
    se = math.sqrt(p * (1 - p) / max(1, len(s.measurements.val.y)))
    return -s.shortfall > max(0.03, 2 * se)


def label_noise(run: Run, s: Signals) -> Finding | None:
    """A sizable share of training labels look wrong.

    The noise rate is estimated by the noise floor (module docstring). Fires when it is at least 5 % and at least
    0.4 of the overall error rate, and the network does not clearly beat the probe on validation (a weak probe,
    such as k-NN on raw pixels, disagrees with good labels as evenly as a good probe with bad ones).
    Confidence = (0.3 + 0.65 x ramp(floor, 0.05, 0.2)) x ramp(ratio, 0.4, 0.7).
    """
    if s.task != "classification":
        return None
    probe = s.probe
    if probe is None or probe.oof_proba is None or probe.label_issues is None or probe.confident_wrong is None:
        return None
    labels = np.searchsorted(probe.classes, probe.labels)
    measured = noise_floor(probe.oof_proba, labels)
    if measured is None:
        return None
    floor, ratio = measured
    if floor < MIN_NOISE or ratio < MIN_FLOOR_RATIO:
        return None
    if _probe_is_outclassed(s):
        return None  # the network beats the probe: the probe's disagreements say more about it than the labels
    conf = (0.3 + 0.65 * ramp(floor, MIN_NOISE, 0.2)) * ramp(ratio, MIN_FLOOR_RATIO, 0.7)
    if conf <= 0:
        return None
    suspect = probe.label_issues & probe.confident_wrong
    train = s.measurements.train
    positions = probe.positions[suspect]
    rows = train.rows[positions] if train is not None and train.rows is not None else positions
    sampled = train is not None and train.n_total is not None and train.n_total > probe.n_train
    ev = {
        "estimated_noise_rate": round(floor, 4),
        "floor_to_overall_error": round(ratio, 3),
        "flagged_rows": int(suspect.sum()),
        "rows_checked": len(suspect),
        "cleanlab_issues": int(probe.label_issues.sum()),
        "probe_model": probe.model_name,
        "probe_oof_accuracy": round(probe.oof_accuracy or 0.0, 4),
        "suspect_rows": sorted(int(r) for r in np.asarray(rows)),
    }
    return Finding(
        "label_noise",
        "Many labels look wrong",
        f"About {pct(floor)} of the training labels{' (in a sample)' if sampled else ''} look wrong: even among the "
        f"rows a {probe.model_name} trained on the other rows is surest about, that share disagrees with its label "
        f"(overlapping classes would disagree mostly near the boundary). Confident learning flags "
        f"{int(suspect.sum())} rows. The network memorizes those labels instead of the pattern, and validation "
        "accuracy is capped by them. Inspect or relabel the flagged rows, or retrain without them.",
        ev,
        conf,
    )
