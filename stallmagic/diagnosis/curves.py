"""Rules on the training regime, read from the curves (and the optimizer's settings).

Every "rises", "stalls" and "still improving" here is judged against the curve's own epoch-to-epoch noise
(:mod:`.trend`), not against a fixed step size. "The baseline" is the cheap probe's validation accuracy: what a
quick scikit-learn model reaches on the same rows (:mod:`.probes`).
"""

from __future__ import annotations

import math

import numpy as np

from .._internal.optimizers import USUAL_LR
from ..record import Run
from .report import Finding
from .rules import num, pct, ramp
from .signals import Signals
from .trend import Curve


def _lr(run: Run) -> float | None:
    if run.learning_rates and run.learning_rates[0] is not None:
        return float(run.learning_rates[0])
    return run.model.initial_learning_rate if run.model is not None else None


def _lr_factor(run: Run) -> tuple[float | None, float | None, str | None]:
    """(learning rate, its ratio to the optimizer's usual rate, optimizer name)."""
    lr = _lr(run)
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


def _unfitted(s: Signals) -> float:
    """0..1: the network does not even fit what a quick model generalizes to: its best training accuracy stays
    0.1 to 0.3 below the baseline's validation accuracy, or (regression) its R² stays 0.2 to 0.5 below the
    baseline's (0 without a baseline)."""
    probe = s.probe
    if probe is None or probe.val_score is None:
        return 0.0
    if s.metric.kind == "accuracy" and s.acc is not None and s.acc.n:
        return ramp(probe.val_score - s.acc.best, 0.1, 0.3)
    if s.task == "regression" and s.shortfall is not None:
        return ramp(s.shortfall, 0.2, 0.5)
    return 0.0


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


def _gap_series(s: Signals) -> np.ndarray | None:
    if s.acc is None or s.val_acc is None:
        return None
    gap = s.acc.values - s.val_acc.values
    return gap if np.isfinite(gap).sum() >= 2 else None


# ---------------------------------------------------------------------- learning rate


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
    lr, factor, opt = _lr_factor(run)
    diverged = 1.0 if loss.first_nonfinite is not None else 0.0
    rising = ramp(loss.relative_change(), 0.0, 0.3) if loss.n >= 2 else 0.0
    ref = s.initial_loss_reference
    uninformed = 1.0 if ref is None else ramp(loss.last / ref, 0.6, 0.95)
    collapse = _at_chance(s) * uninformed
    swings = loss.noise / max(loss.span, 1e-12) if math.isfinite(loss.noise) else 0.0
    zigzag = ramp(loss.direction_changes(), 0.45, 0.7) * ramp(swings, 0.05, 0.2)
    overshoot = ramp(loss.first / ref, 1.2, 2.0) if ref and loss.n else 0.0
    unlearned = _unfitted(s)
    swinging = _swinging(s)
    spiking = _spiking(s)
    symptom = max(diverged, rising, collapse, zigzag, overshoot, unlearned, swinging, spiking)
    if symptom <= 0:
        return None
    suspicion = ramp(math.log10(factor), math.log10(3), math.log10(30)) if factor else 0.0
    if suspicion <= 0 and max(swinging, spiking) >= 0.5:
        suspicion = 0.35  # at the usual rate, but training is unstable: the rate is too high for this model
    if suspicion <= 0 and not diverged:
        return None  # at its usual rate the learning rate is not the suspect (a NaN loss still earns a hint)
    conf = symptom * (0.3 + 0.65 * suspicion)
    signs = [
        (diverged, "the training loss became NaN"),
        (rising, "the training loss rose over training"),
        (collapse, "accuracy collapsed to chance"),
        (zigzag, "the training loss zig-zags"),
        (overshoot, f"the first epoch's loss ({num(loss.first)}) overshot far above a blind guess ({num(ref)})"),
        (unlearned, "the network does not even fit its training rows"),
        (swinging, "validation accuracy swings back and forth from epoch to epoch"),
        (spiking, "the training loss keeps jumping back up to 1.5x its lowest value and more"),
    ]
    what = max(signs, key=lambda sign: sign[0])[1]
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


def lr_too_low(run: Run, s: Signals) -> Finding | None:
    """The loss creeps down and is still improving at the end, far from where the data allow, with a learning
    rate well below the optimizer's usual one (suspicion ramps from 0.3x down to 0.01x).

    Confidence = still improving x suspicion x (0.5 + 0.45 x shortfall), shortfall ramping from 0.03 to 0.2
    below the cheap baseline (or the loss having fallen less than 30 % when there is no baseline).
    """
    loss = s.loss
    if loss is None or loss.n < 3 or loss.first_nonfinite is not None:
        return None
    lr, factor, opt = _lr_factor(run)
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
        + (
            f" while {s.shortfall_words()}"
            if shortfall is not None and shortfall > 0.03
            else ""
        )
        + ". Raise the learning rate (try 10x) rather than training longer.",
        ev,
        conf,
    )


# ---------------------------------------------------------------------- batch size and optimizer


def batch_size(run: Run, s: Signals) -> Finding | None:
    """A pathological batch size.

    * One or two updates per epoch (the batch holds nearly all rows) and fewer than 500 updates in all, while
      validation stays below the baseline, or the loss is still improving short of it: 0.6-0.9.
    * Tiny batches (at most 4 rows on at least 200 rows) with a noisy validation curve: 0.55.
    """
    fit = run.fit
    steps, bs, n = fit.steps_per_epoch, fit.batch_size, fit.n_train
    if steps is None or s.loss is None or s.loss.n < 2:
        return None
    updates = steps * run.epochs_done
    shortfall = s.shortfall
    short = ramp(shortfall, 0.03, 0.15) if shortfall is not None else 0.0
    still = 1.0 if s.loss.improving() else 0.0
    if shortfall is not None and shortfall < 0.03:
        still = 0.0  # already level with the baseline: the few steps were enough
    if steps <= 2 and (n is None or n >= 64) and updates < 500:
        hurt = max(still * 0.7, short)
        if hurt <= 0:
            return None
        conf = (0.6 + 0.3 * ramp(500 - updates, 0, 400)) * (0.5 + 0.5 * hurt)
        return Finding(
            "batch_size",
            "One update per epoch",
            f"batch_size={bs} over {n if n is not None else '?'} rows gives {steps} update(s) per epoch, {updates} in "
            f"the whole run: the model has barely taken any steps"
            + (
                f" and {s.shortfall_words()}"
                if shortfall is not None and shortfall > 0.03
                else ""
            )
            + ". Use mini-batches of 32-256 rows.",
            {"batch_size": bs, "steps_per_epoch": steps, "updates": updates, "n_train": n},
            conf,
        )
    if bs is not None and bs <= 4 and (n or 0) >= 200 and s.val_acc is not None and s.val_acc.n >= 4:
        noise = s.val_acc.noise
        if math.isfinite(noise) and noise >= 0.015:
            return Finding(
                "batch_size",
                "Tiny batches",
                f"batch_size={bs} makes {steps} very noisy updates per epoch; validation accuracy jumps by about "
                f"{noise:.3f} from epoch to epoch. Larger batches (32-128) give steadier, faster training.",
                {"batch_size": bs, "steps_per_epoch": steps, "val_noise": round(noise, 4), "n_train": n},
                0.55,
            )
    return None


def optimizer_choice(run: Run, s: Signals) -> Finding | None:
    """Plain SGD without momentum (or Adagrad/Adadelta at their defaults) where training is still crawling.

    Needs the loss still improving at the end (or off a blind guess with validation clearly below the baseline),
    with a learning rate within 0.1x-3x of the usual one (further off, the rate is the suspect). Confidence
    0.55-0.85 by the shortfall.
    """
    model = run.model
    if model is None or s.loss is None or s.loss.n < 3 or s.loss.first_nonfinite is not None:
        return None
    name = model.optimizer_name
    config = model.optimizer.get("config", {})
    plain_sgd = name == "SGD" and not config.get("momentum") and not config.get("nesterov")
    slow_default = name in ("Adagrad", "Adadelta")
    if not (plain_sgd or slow_default):
        return None
    lr, factor, _ = _lr_factor(run)
    if factor is not None and not 0.1 <= factor <= 3:
        return None  # a rate far from the usual one is the suspect, not the optimizer (lr_too_low / lr_too_high)
    ref = s.initial_loss_reference
    if ref is not None and s.loss.last >= 0.9 * ref and not s.loss.improving():
        return None  # stuck at a blind guess is a collapse (learning rate, gradients), not a slow optimizer
    shortfall = s.shortfall
    short = ramp(shortfall, 0.02, 0.15) if shortfall is not None else 0.0
    still = 1.0 if s.loss.improving() else 0.0
    if shortfall is not None and shortfall < 0.03:
        still = 0.0  # level with the baseline already: the optimizer got there
    hurt = max(short, 0.6 * still)
    if hurt <= 0:
        return None
    what = "plain SGD without momentum" if plain_sgd else f"{name} at learning rate {num(lr)}"
    return Finding(
        "optimizer_choice",
        "The optimizer is the brake",
        f"Training uses {what}; the loss is {'still falling slowly' if still else 'stuck'} after "
        f"{run.epochs_done} epochs"
        + (
            f" and {s.shortfall_words()}"
            if shortfall is not None and shortfall > 0.02
            else ""
        )
        + ". Adam (or SGD with momentum 0.9) typically converges far faster here.",
        {
            "optimizer": name,
            "learning_rate": lr,
            "momentum": config.get("momentum"),
            "loss_first": round(s.loss.first, 4),
            "loss_last": round(s.loss.last, 4),
            "still_improving": bool(still),
        },
        0.5 + 0.35 * hurt,
    )


# ---------------------------------------------------------------------- fit vs generalization


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
    accuracy, with validation not improving any more. A network that does not even fit its training rows
    (``_unfitted``) is not memorizing them: the strength drops by up to 70 %. Confidence = 0.25 + 0.7 x strength.
    """
    loss, val_loss = s.loss, s.val_loss
    if loss is None or val_loss is None or loss.first_nonfinite is not None:
        return None
    rise, ev = _rise(val_loss, loss)
    gap_score = 0.0
    gap = _gap_series(s)
    if gap is not None and s.val_acc is not None:
        last_gap = float(gap[np.isfinite(gap)][-1])
        val_stuck = 0.0 if s.val_acc.improving() else 1.0
        gap_score = ramp(last_gap, 0.04, 0.15) * val_stuck
        ev.update(
            train_accuracy=round(s.acc.last, 4),
            val_accuracy=round(s.val_acc.last, 4),
            train_minus_val=round(last_gap, 4),
        )
    strength = max(rise, gap_score) * (1.0 - 0.7 * _unfitted(s))  # a model that cannot fit is not memorizing
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
    (L1/L2 >= 0.01) or heavy dropout (>= 0.5) explains it; 0.45 otherwise), for a train/validation gap under 0.08.
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
        plateau = shortfall / s.acc.trend.slope > 2 * max(1, run.epochs_done)
    reg = _regularization(run)
    # A strong penalty (L1/L2 factor >= 0.01) or heavy dropout (>= 0.5) explains a model that cannot fit.
    heavy = reg.get("max_penalty", 0.0) >= 0.01 or reg.get("max_dropout", 0.0) >= 0.5
    conf = ramp(shortfall, 0.04, 0.12) * (0.9 if plateau or heavy else 0.45)
    if conf <= 0:
        return None
    params = run.model.trainable_params if run.model is not None else None
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
        f"{s.probe.val_score:.3f} on rows it did not train on. Give the model more capacity (wider or deeper "
        "layers), or less regularization.",
        {
            "train_accuracy": round(s.acc.last, 4),
            **s.shortfall_evidence(),
            "train_minus_val": round(gap, 4) if validated else None,
            "params": params,
            "converged": plateau,
            **reg,
        },
        conf,
    )


# ---------------------------------------------------------------------- stopped too soon


def train_longer(run: Run, s: Signals) -> Finding | None:
    """Training ran every epoch it was asked for (no early stopping) and stopped while still improving.

    The judged curve (validation accuracy, else validation loss, else the training curves) must improve at the
    end beyond its own noise (t >= 2), at no less than 0.3 of its average pace over the run (a converging curve
    slows far more). Its trend, carried over another half of the epochs run, must promise a real gain: 0.02
    accuracy, or 10 % of the loss. A run of two epochs has no noise to judge against: its last step must gain that
    much on its own. Confidence = 0.4 + 0.5 x strength, strength being the larger of how far the run is behind the
    quick baseline (0.03 to 0.15) and how large the promised gain is (0.02 to 0.1 accuracy; 10 % to 40 % of the
    loss; accuracy cannot promise more than the room left below 1). A run level with the quick baseline and still
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
