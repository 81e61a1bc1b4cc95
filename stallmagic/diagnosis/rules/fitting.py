"""Rules on fit against generalization: a model that memorizes its training rows (overfitting), and one that
cannot fit what the data allow (underfitting).

"The baseline" is the cheap probe's validation score: what a quick scikit-learn model reaches on the same rows
(:mod:`~stallmagic.diagnosis.signals.probes`).
"""

from __future__ import annotations

import math

import numpy as np

from ...record import Run
from ..report import Finding
from ..signals import Signals
from ..trend import Curve
from .shared import closes_in_time, pct, ramp, unfitted


def _gap_series(s: Signals) -> np.ndarray | None:
    if s.acc is None or s.val_acc is None:
        return None
    gap = s.acc.values - s.val_acc.values
    return gap if np.isfinite(gap).sum() >= 2 else None


def _regularization(run: Run) -> dict:
    if run.model is None:
        return {}
    dropout = [layer.rate for layer in run.model.layers if layer.rate is not None and "Dropout" in layer.class_name]
    l2 = [layer.kernel_regularizer for layer in run.model.layers if layer.kernel_regularizer]
    factors = [
        float(v)
        for r in l2
        for k, v in (r.get("config") or {}).items()
        if k in ("l1", "l2") and isinstance(v, (int, float))
    ]
    return {
        "dropout_layers": len(dropout),
        "max_dropout": max(dropout) if dropout else 0.0,
        "regularized_layers": len(l2),
        "max_penalty": max(factors) if factors else 0.0,
    }


#: What a train-validation accuracy gap weighs when it costs nothing measurable (see :func:`_gap_cost`): at
#: full strength that is 0.25 + 0.7 x 0.35 = 0.495, a hint below the alert level.
FREE_GAP = 0.35


def _gap_cost(s: Signals) -> float:
    """1 when a train-validation accuracy gap costs validation accuracy, :data:`FREE_GAP` when it costs nothing
    measurable: the network is level with (or above) the quick baseline (shortfall under 0.03) and its validation
    accuracy ends less than 0.02 below its best (what stopping at the best epoch would buy; 0.02 is also the
    smallest gain ``train_longer`` calls real). On a problem whose classes overlap, training rows are always
    fitted better than new ones; the gap is the data's, and no regularization is shown to buy anything. Without a
    baseline the gap keeps its full weight (nothing says it is free)."""
    if s.shortfall is None or s.shortfall >= 0.03 or s.val_acc is None or not s.val_acc.n:
        return 1.0
    return FREE_GAP if s.val_acc.best - s.val_acc.last < 0.02 else 1.0


def _rise(val_loss: Curve, loss: Curve) -> tuple[float, dict]:
    """0..1 strength of 'validation loss rises after its minimum while training loss keeps falling'."""
    i = val_loss.best_index
    if i is None or val_loss.n < 4 or i >= len(val_loss.values) - 2:
        return 0.0, {}
    best, last = val_loss.best, val_loss.last
    rel = (last - best) / max(abs(best), 1e-12)
    noise_units = val_loss.regress_in_noise()
    beyond_noise = ramp(noise_units, 2.0, 4.0) if math.isfinite(noise_units) else ramp(rel, 0.1, 0.2)
    train_after = loss.values[i:]
    train_after = train_after[np.isfinite(train_after)]
    train_falls = 1.0 if len(train_after) >= 2 and train_after[-1] < train_after[0] else 0.0
    score = ramp(rel, 0.05, 0.4) * beyond_noise * train_falls
    return score, {
        "val_loss_min": round(best, 4),
        "val_loss_min_epoch": i + 1,
        "val_loss_last": round(last, 4),
        "val_loss_rise": round(rel, 4),
    }


def overfitting(run: Run, s: Signals) -> Finding | None:
    """Training keeps improving while validation stalls or worsens.

    Two signs, the stronger counts: (1) validation loss rises after its minimum by 5-40 % (and beyond 2-4x its
    noise) while the training loss keeps falling; (2) training accuracy ends 4-15 points above validation
    accuracy, with validation not improving any more. A gap alone costs nothing measurable when validation
    accuracy is level with the quick baseline and still at its best (:func:`_gap_cost`): it then counts at 0.35,
    a hint below the alert level. A network that does not even fit its training rows (``_unfitted``) is not
    memorizing them: the strength drops by up to 70 %. Confidence = 0.25 + 0.7 x strength.
    """
    loss, val_loss = s.loss, s.val_loss
    if loss is None or val_loss is None or loss.first_nonfinite is not None:
        return None
    rise, ev = _rise(val_loss, loss)
    gap_score = 0.0
    cost = 1.0
    gap = _gap_series(s)
    if gap is not None and s.val_acc is not None:
        last_gap = float(gap[np.isfinite(gap)][-1])
        val_stuck = 0.0 if s.val_acc.improving() else 1.0
        cost = _gap_cost(s)
        gap_score = ramp(last_gap, 0.04, 0.15) * val_stuck * cost
        ev.update(
            train_accuracy=round(s.acc.last, 4),
            val_accuracy=round(s.val_acc.last, 4),
            train_minus_val=round(last_gap, 4),
        )
    strength = max(rise, gap_score) * (1.0 - 0.7 * unfitted(s))  # a model that cannot fit is not memorizing
    if strength <= 0:
        return None
    reg = _regularization(run)
    ev.update(reg)
    words = []
    if rise > 0:
        words.append(
            f"validation loss bottomed at epoch {ev['val_loss_min_epoch']} ({ev['val_loss_min']:.3g}) and "
            f"has risen {pct(ev['val_loss_rise'])} since, while training loss kept falling"
        )
    if gap_score > 0:
        words.append(
            f"training accuracy ({ev['train_accuracy']:.3f}) ends {ev['train_minus_val']:.3f} above "
            f"validation ({ev['val_accuracy']:.3f})"
        )
    none = not reg.get("dropout_layers") and not reg.get("regularized_layers")
    if gap_score > 0 and cost < 1:
        ev["gap_costs_nothing_measurable"] = True
        words.append(
            f"validation accuracy is level with a quick {s.probe.model_name} and within 0.02 of its best, so the "
            "gap costs nothing measurable yet"
        )
    return Finding(
        "overfitting",
        "Overfitting",
        f"{'; '.join(words).capitalize()}: the model memorizes the training rows"
        f"{' and has no dropout or weight penalty' if none else ''}. Stop at the best epoch (early stopping) and "
        "add regularization (dropout, L2).",
        ev,
        0.25 + 0.7 * strength,
    )


def underfitting(run: Run, s: Signals) -> Finding | None:
    """Training and validation accuracy both low and close, with the loss no longer improving, while a cheap
    model does clearly better on the same rows.

    Confidence = ramp(baseline - best validation accuracy, 0.04, 0.12) x (0.9 when training accuracy has stopped
    improving or climbs too slowly to close the shortfall within twice the epochs run, or when a strong penalty
    (L1/L2 >= 0.01), heavy dropout (>= 0.5) or a bottleneck (:func:`_bottleneck`) explains it; 0.45 otherwise),
    for a train/validation gap under 0.08.
    """
    shortfall = s.shortfall
    if shortfall is None or shortfall < 0.04 or s.acc is None or s.acc.n < 3:
        return None
    validated = s.judged is s.val_acc
    gap = s.acc.last - s.val_acc.last if validated else 0.0
    if gap >= 0.08:
        return None
    # Converged: training accuracy no longer improving (else the loss), or climbing so slowly that closing the
    # shortfall would take more than twice the epochs run so far. A model still climbing fast may only need more
    # steps, so that is a weaker sign of missing capacity.
    curve = s.acc if s.acc.n >= 4 else s.loss
    plateau = curve is not None and not curve.improving()
    if not plateau and curve is s.acc and s.acc.trend.slope > 0:
        plateau = not closes_in_time(shortfall, s.acc.trend.slope, run.epochs_done)
    reg = _regularization(run)
    # A strong penalty (L1/L2 factor >= 0.01) or heavy dropout (>= 0.5) explains a model that cannot fit; so does
    # a layer narrower than the classes it must tell apart.
    heavy = reg.get("max_penalty", 0.0) >= 0.01 or reg.get("max_dropout", 0.0) >= 0.5
    narrow = _bottleneck(run, s)
    conf = ramp(shortfall, 0.04, 0.12) * (0.9 if plateau or heavy or narrow else 0.45)
    if conf <= 0:
        return None
    params = run.model.trainable_params if run.model is not None else None
    squeeze = (
        f" Every row passes through {narrow.name!r}, {_numbers(narrow.units)} for {s.labels.k} classes: widen it."
        if narrow
        else ""
    )
    return Finding(
        "underfitting",
        "Underfitting: the model cannot fit what the data allow",
        (
            f"Training ({s.acc.last:.3f}) and validation ({s.val_acc.best:.3f} at best) accuracy are both low and "
            "close, "
            if validated
            else f"Training accuracy stays at {s.acc.best:.3f} at best (the fit had no validation data), "
        )
        + f"{'and training has stopped improving, ' if plateau else ''}while a quick {s.probe.model_name} reaches "
        f"{s.probe.val_score:.3f} on rows it did not train on.{squeeze} Give the model more capacity (wider or "
        "deeper layers), or less regularization.",
        {
            "train_accuracy": round(s.acc.last, 4),
            **s.shortfall_evidence(),
            "train_minus_val": round(gap, 4) if validated else None,
            "params": params,
            "converged": plateau,
            "bottleneck": {"layer": narrow.name, "units": narrow.units, "classes": s.labels.k} if narrow else None,
            **reg,
        },
        conf,
    )


def _bottleneck(run: Run, s: Signals):
    """The narrowest hidden layer when it is narrower than the classes it must tell apart (fewer than k - 1 units
    for k classes: k classes in general position need k - 1 dimensions), else ``None``.

    Only a layer whose output is one vector per row counts (a ``Dense(1)`` scoring each step of a sequence is not
    a bottleneck), and only before the output layer; without class labels (regression, multi-label) there is no
    count to compare with.
    """
    labels = s.labels
    if run.model is None or labels is None or labels.fmt not in ("sparse", "onehot") or labels.k < 3:
        return None
    sized = [layer for layer in run.model.layers if layer.units]
    hidden = [
        layer for layer in sized[:-1]
        if layer.output_shape is not None and len(layer.output_shape) == 2 and layer.units < labels.k - 1
    ]  # fmt: skip
    return min(hidden, key=lambda layer: layer.units) if hidden else None


def _numbers(n: int) -> str:
    return "one number" if n == 1 else f"{n} numbers"
