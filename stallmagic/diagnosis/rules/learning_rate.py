"""Rules on the learning rate, read from the curves against the optimizer's usual rate.

Every "rises", "zig-zags" and "still improving" here is judged against the curve's own epoch-to-epoch noise
(:mod:`~stallmagic.diagnosis.trend`), not against a fixed step size. "The baseline" is the cheap probe's validation
accuracy: what a quick scikit-learn model reaches on the same rows (:mod:`~stallmagic.diagnosis.signals.probes`).
The usual rate of each optimizer is :data:`stallmagic._internal.optimizers.USUAL_LR`.
"""

from __future__ import annotations

import math

import numpy as np

from ..._internal.optimizers import USUAL_LR
from ...record import Run
from ..report import Finding
from ..signals import Signals
from ..trend import Curve
from .shared import num, ramp, unfitted


def _initial_lr(run: Run) -> float | None:
    """The learning rate of the first epoch (a schedule's starting value), else the optimizer's configured one."""
    if run.learning_rates and run.learning_rates[0] is not None:
        return float(run.learning_rates[0])
    return run.model.initial_learning_rate if run.model is not None else None


def lr_vs_usual(run: Run) -> tuple[float | None, float | None, str | None]:
    """The run's learning rate against its optimizer's usual one (:data:`USUAL_LR`, 1e-3 for an optimizer it does
    not list): a rate is only high or low relative to what the optimizer is built for.

    Returns:
        ``(learning rate, its ratio to the usual rate, optimizer name)``; the ratio is ``None`` when the rate is
        unknown or not positive.
    """
    lr = _initial_lr(run)
    name = run.model.optimizer_name if run.model is not None else None
    default = USUAL_LR.get(name or "", 1e-3)
    if lr is None or lr <= 0:
        return lr, None, name
    return lr, lr / default, name


def _at_chance(s: Signals) -> float:
    """0..1: how close the chosen validation (else training) accuracy ends to a constant guess: the mean of the
    last epochs (the end window) within 2 noise units (at least 0.02) of chance counts fully."""
    curve = s.val_acc if s.val_acc is not None and s.val_acc.n else s.acc
    chance = s.chance_accuracy
    if curve is None or curve.n == 0 or chance is None or s.metric.kind != "accuracy":
        return 0.0
    margin = max(0.02, 2 * (curve.noise if math.isfinite(curve.noise) else 0.0))
    end = float(np.mean(curve.finite[-curve.trend.window :])) if curve.trend.window else curve.last
    return ramp(end - chance, margin * 2.5, margin)


def _swinging(s: Signals) -> float:
    """0..1: validation accuracy that swings back and forth: most steps reverse direction (0.5 to 0.7 of them)
    and the epoch-to-epoch noise is large in accuracy units (0.03 to 0.08), far beyond what a validation set's
    sampling explains."""
    curve = s.val_acc
    if curve is None or curve.n < 6 or not math.isfinite(curve.noise):
        return 0.0
    return ramp(curve.direction_changes(), 0.5, 0.7) * ramp(curve.noise, 0.03, 0.08)


def _spiking(s: Signals) -> float:
    """0..1: a training loss that jumps back up: epochs (after the first quarter) where it climbs to 1.5x or more
    of the lowest value reached before them, by at least a tenth of its whole descent. One spike is a hint, four
    count fully; a healthy loss, even noisy with small batches, keeps near its running minimum."""
    loss = s.loss
    if loss is None or loss.n < 6:
        return 0.0
    f = loss.finite
    low = np.minimum.accumulate(f)[:-1]
    rise = f[1:] - low
    descent = max(float(f[0] - f.min()), 1e-12)
    spikes = (f[1:] >= 1.5 * np.maximum(low, 1e-12)) & (rise >= 0.1 * descent)
    return ramp(int(spikes[len(f) // 4 :].sum()), 0, 4)


def lr_too_high(run: Run, s: Signals) -> Finding | None:
    """The loss diverges, rises, zig-zags, or accuracy collapses to chance, with a learning rate above the
    optimizer's usual one.

    Symptom strength (0..1) is the strongest of: a NaN/inf training loss; a final training loss above the first;
    accuracy at chance (see ``_at_chance``) with a loss still near an uninformed guess; a zig-zagging loss (more
    than half of the steps reverse direction, with swings over 10 % of the range); a first-epoch loss far above
    an uninformed guess (1.2x to 2x ln k: the first steps overshot); the network failing to fit even its
    training rows, 0.1 to 0.3 below what a quick baseline reaches on validation. Confidence =
    symptom x (0.3 + 0.65 x suspicion), where suspicion ramps with the learning rate from 3x to 30x its usual
    value; or, at the usual rate, 0.35 when validation accuracy swings back and forth (``_swinging``) or the
    training loss spikes back up (``_spiking``): steps that suit most models overshoot for this one.
    """
    loss = s.loss
    if loss is None or (loss.n < 2 and loss.first_nonfinite is None):
        return None
    lr, factor, opt = lr_vs_usual(run)
    signs = _overshooting_signs(s, loss)
    symptom = max(strength for strength, _ in signs.values())
    if symptom <= 0:
        return None
    diverged, unstable = signs["diverged"][0], max(signs["swinging"][0], signs["spiking"][0])
    suspicion = ramp(math.log10(factor), math.log10(3), math.log10(30)) if factor else 0.0
    if suspicion <= 0 and unstable >= 0.5:
        suspicion = 0.35  # at the usual rate, but training is unstable: the rate is too high for this model
    if suspicion <= 0 and not diverged:
        return None  # at its usual rate the learning rate is not the suspect (a NaN loss still earns a hint)
    conf = symptom * (0.3 + 0.65 * suspicion)
    what = max(signs.values(), key=lambda sign: sign[0])[1]
    ev = {
        "learning_rate": lr,
        "optimizer": opt,
        "lr_vs_usual": round(factor, 3) if factor else None,
        "loss_first": round(loss.first, 4),
        "loss_last": round(loss.last, 4) if loss.n else None,
        "direction_changes": round(loss.direction_changes(), 3),
    }
    if s.val_acc is not None and s.val_acc.n:
        ev.update(val_accuracy_best=round(s.val_acc.best, 4), chance_accuracy=s.chance_accuracy)
    return Finding(
        "lr_too_high",
        "Learning rate too high",
        f"With {opt} at learning rate {num(lr)} ({num(factor, 2)}x its usual {num(USUAL_LR.get(opt or '', 1e-3))}), "
        f"{what}: each step overshoots the minimum. Lower the learning rate by 10x (or add a warm-up / "
        "ReduceLROnPlateau).",
        ev,
        conf,
    )


def _overshooting_signs(s: Signals, loss: Curve) -> dict[str, tuple[float, str]]:
    """Every sign of steps that overshoot (see :func:`lr_too_high`), as ``name: (strength 0..1, words)``, in the
    order a tie is broken: the first of the strongest signs is the one a sentence names."""
    ref = s.initial_loss_reference
    uninformed = 1.0 if ref is None else ramp(loss.last / ref, 0.6, 0.95)
    swings = loss.noise / max(loss.span, 1e-12) if math.isfinite(loss.noise) else 0.0
    return {
        "diverged": (1.0 if loss.first_nonfinite is not None else 0.0, "the training loss became NaN"),
        "rising": (
            ramp(loss.relative_change(), 0.0, 0.3) if loss.n >= 2 else 0.0,
            "the training loss rose over training",
        ),
        "collapse": (_at_chance(s) * uninformed, "accuracy collapsed to chance"),
        "zigzag": (
            ramp(loss.direction_changes(), 0.45, 0.7) * ramp(swings, 0.05, 0.2),
            "the training loss zig-zags",
        ),
        "overshoot": (
            ramp(loss.first / ref, 1.2, 2.0) if ref and loss.n else 0.0,
            f"the first epoch's loss ({num(loss.first)}) overshot far above a blind guess ({num(ref)})",
        ),
        "unfitted": (unfitted(s), "the network does not even fit its training rows"),
        "swinging": (_swinging(s), "validation accuracy swings back and forth from epoch to epoch"),
        "spiking": (_spiking(s), "the training loss keeps jumping back up to 1.5x its lowest value and more"),
    }


def lr_too_low(run: Run, s: Signals) -> Finding | None:
    """The loss creeps down and is still improving at the end, far from where the data allow, with a learning
    rate well below the optimizer's usual one (suspicion ramps from 0.3x down to 0.01x).

    Confidence = still improving x suspicion x (0.5 + 0.45 x shortfall), shortfall ramping from 0.03 to 0.2
    below the cheap baseline (or the loss having fallen less than 30 % when there is no baseline).
    """
    loss = s.loss
    if loss is None or loss.n < 3 or loss.first_nonfinite is not None:
        return None
    lr, factor, opt = lr_vs_usual(run)
    if factor is None:
        return None
    suspicion = ramp(math.log10(factor), math.log10(0.3), -2.0)
    if suspicion <= 0:
        return None
    still = 1.0 if loss.improving() else (0.5 if s.val_loss is not None and s.val_loss.improving() else 0.0)
    if still <= 0:
        return None
    shortfall = s.shortfall
    far = ramp(shortfall, 0.03, 0.2) if shortfall is not None else ramp(-loss.relative_change(), 0.6, 0.3)
    conf = still * suspicion * (0.5 + 0.45 * far)
    ev = {
        "learning_rate": lr,
        "optimizer": opt,
        "lr_vs_usual": round(factor, 4),
        "loss_first": round(loss.first, 4),
        "loss_last": round(loss.last, 4),
        "loss_slope_per_epoch": round(loss.trend.slope, 5),
    }
    ev.update(s.shortfall_evidence())
    return Finding(
        "lr_too_low",
        "Learning rate too low",
        f"With {opt} at learning rate {num(lr)} ({num(factor, 2)}x its usual), the loss is still creeping down "
        f"at the end ({loss.first:.3g} -> {loss.last:.3g})"
        + s.shortfall_clause("while")
        + ". Raise the learning rate (try 10x) rather than training longer.",
        ev,
        conf,
    )
