"""Rule on the labels themselves: a sizable share of them look wrong.

Confident learning (cleanlab's ``find_label_issues``) on out-of-fold probabilities from the cheap probe flags the
rows whose given label is unlikely. Genuinely hard rows (class overlap) are flagged too, but there the probe is
unsure; a mislabeled row is one where the probe is *confident* of another class. The estimated noise rate is
therefore the share of rows that cleanlab flags **and** where the probe gives another class at least 0.7.
"""

from __future__ import annotations

import numpy as np

from ..record import Run
from .report import Finding
from .rules import pct, ramp
from .signals import Signals

#: Estimated noise rates below this are not reported.
MIN_NOISE = 0.05


def label_noise(run: Run, s: Signals) -> Finding | None:
    """A sizable share of training labels look wrong.

    Confidence ramps from 0.3 at an estimated noise rate of 5 % to 0.95 at 20 %, scaled down when the probe
    itself is weak (out-of-fold accuracy below 0.7 of the way from chance to perfect), since then its
    disagreements say more about the probe than about the labels.
    """
    if s.task != "classification":
        return None
    probe = s.probe
    if probe is None or probe.label_issues is None or probe.confident_wrong is None:
        return None
    flagged = probe.label_issues
    suspect = flagged & probe.confident_wrong
    rate = float(suspect.mean())
    if rate < MIN_NOISE:
        return None
    k = len(probe.classes) if probe.classes is not None else (s.n_classes or 2)
    chance = 1.0 / k
    oof = probe.oof_accuracy or 0.0
    # Skill: where the probe's accuracy stands between chance and perfect, counting the suspects as correct.
    skill = (min(1.0, oof + rate) - chance) / (1 - chance)
    conf = (0.3 + 0.65 * ramp(rate, MIN_NOISE, 0.2)) * (0.5 + 0.5 * ramp(skill, 0.5, 0.8))
    train = s.m.train
    positions = probe.positions[suspect]
    rows = train.rows[positions] if train is not None and train.rows is not None else positions
    sampled = train is not None and train.n_total is not None and train.n_total > probe.n_train
    ev = {
        "estimated_noise_rate": round(rate, 4),
        "flagged_rows": int(suspect.sum()),
        "rows_checked": len(flagged),
        "cleanlab_issues": int(flagged.sum()),
        "probe_model": probe.model_name,
        "probe_oof_accuracy": round(oof, 4),
        "suspect_rows": sorted(int(r) for r in np.asarray(rows)),
    }
    return Finding(
        "label_noise",
        "Many labels look wrong",
        f"About {pct(rate)} of the training labels{' (in a sample)' if sampled else ''} disagree confidently with a "
        f"{probe.model_name} trained on the other rows (confident learning). The network memorizes those labels "
        "instead of the pattern, and validation accuracy is capped by them. Inspect or relabel the flagged rows, "
        "or retrain without them.",
        ev,
        conf,
    )
