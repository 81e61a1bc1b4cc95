"""Rule on when training stopped: it ran every epoch it was asked for and was still improving.

"Still improving" is judged against the curve's own epoch-to-epoch noise (:mod:`~stallmagic.diagnosis.trend`).
"""

from __future__ import annotations

import math

from ...record import Run
from ..report import Finding
from ..signals import Signals
from ..trend import Curve
from .shared import closes_in_time, pct, ramp


def train_longer(run: Run, s: Signals) -> Finding | None:
    """Training ran every epoch it was asked for (no early stopping) and stopped while still improving.

    The judged curve (validation accuracy, else validation loss, else the training curves) must improve at the
    end beyond its own noise (t >= 2), at no less than 0.3 of its average pace over the run (a converging curve
    slows far more). Its trend, carried over another half of the epochs run, must promise a real gain: 0.02
    accuracy, or 10 % of the loss. A run of two epochs has no noise to judge against: its last step must gain that
    much on its own. Confidence = 0.4 + 0.5 x strength, strength being the larger of how far the run is behind the
    quick baseline (0.03 to 0.15) and how large the promised gain is (0.02 to 0.1 accuracy; 10 % to 40 % of the
    loss; accuracy cannot promise more than the room left below 1). The shortfall counts only when the accuracy's
    pace would close it within twice the epochs run (:func:`~.shared.closes_in_time`, the line the underfitting
    rule draws too): a curve creeping up 0.005 per epoch 0.5 below the baseline lacks capacity, not epochs, and
    says so through its promised gain alone. A run level with the quick baseline and still
    rising is not stuck: a hint at most (below 0.5), unless it ran three epochs or fewer, where a quick model says
    little about where the network is heading (k-NN cannot count a cell's neighbours, a network can).
    """
    if run.end != "completed" or run.epochs_done < 2:
        return None
    curve = s.judged or s.val_loss or s.loss
    if curve is None or curve.n < 2 or curve.first_nonfinite is not None:
        return None
    slope = _still_climbing(curve)
    if slope is None:
        return None
    horizon = max(1, run.epochs_done) / 2
    behind = ramp(s.shortfall, 0.03, 0.15)  # 0 without a baseline, or level with it
    if curve.higher_is_better and s.metric.kind == "accuracy" and not closes_in_time(s.shortfall, slope,
                                                                                     run.epochs_done):
        behind = 0.0  # at this pace the gap would outlast twice the run: more epochs are not what it lacks
    if curve.higher_is_better:
        room = 1.0 - curve.last if s.metric.kind == "accuracy" else math.inf
        gain = min(slope * horizon, room)
        if gain < 0.02:
            return None
        strength = max(behind, ramp(gain, 0.02, 0.1))
        promise = f"about {gain:+.3f} {curve.key}"
    else:
        rel = -slope * horizon / max(abs(curve.last), 1e-12)
        if rel < 0.1:
            return None
        strength = max(behind, ramp(rel, 0.1, 0.4))
        promise = f"about {pct(rel)} lower {curve.key}"
    epochs = run.epochs_done
    conf = 0.4 + 0.5 * strength
    if s.shortfall is not None and s.shortfall < 0.03 and epochs > 3:
        conf = min(conf, 0.45)  # level with what a quick model reaches and still rising: not stuck, a hint
    how = (
        f"by {slope:+.3g} per epoch over the last {curve.trend.window}, well beyond its noise"
        if curve.n >= 3
        else f"by {slope:+.3g} in its last epoch"
    )
    return Finding(
        "train_longer",
        "Stopped while still improving",
        f"{curve.key} was still improving when training stopped after {epochs} epochs ({how}); "
        f"{_epochs(max(1, int(horizon)))} more promise {promise}. Train longer (with early stopping, so it stops "
        "at the best epoch).",
        {
            "epochs": epochs,
            "curve": curve.key,
            "slope_per_epoch": round(slope, 5),
            "t_statistic": round(curve.trend.t, 2) if curve.n >= 3 else None,
            **s.shortfall_evidence(),
        },
        conf,
    )


def _epochs(n: int) -> str:
    return f"{n} epoch{'s' if n != 1 else ''}"


def _still_climbing(curve: Curve) -> float | None:
    """The curve's slope per epoch at its end when it is still improving (``None`` otherwise): beyond its noise
    and at no less than 0.3 of its average pace (a converging curve slows to a tenth of it or less); for two
    points, their step."""
    finite = curve.finite
    if len(finite) == 2:
        step = float(finite[1] - finite[0])
        return step if (step > 0) == curve.higher_is_better and step != 0 else None
    if not curve.improving():
        return None
    pace = (finite[-1] - finite[0]) / max(1, len(finite) - 1)
    if pace == 0 or curve.trend.slope / pace < 0.3:
        return None
    return curve.trend.slope
