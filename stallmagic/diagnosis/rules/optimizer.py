"""Rules on how the optimizer steps: a pathological batch size, and an optimizer that crawls.

Both read the training curve against its own noise (:mod:`~stallmagic.diagnosis.trend`) and how far the run stays
below the cheap probe's baseline (:attr:`~stallmagic.diagnosis.signals.Signals.shortfall`).
"""

from __future__ import annotations

import math

from ...record import Run
from ..report import Finding
from ..signals import Signals
from .learning_rate import lr_vs_usual
from .shared import num, ramp


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
            + s.shortfall_clause("and")
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
    lr, factor, _ = lr_vs_usual(run)
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
        + s.shortfall_clause("and", above=0.02)
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
