"""Rules on gradients and units, from the gradient probe (one fixed batch, starting and final weights).

The probe is measured off the training hot path, after the fit (:mod:`stallmagic.diagnosis.measure`); without
it (another backend, a generator) these rules say nothing and the report's notes say why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...record import Run
from ..measurements import GradientProbe
from ..report import Finding
from ..signals import Signals
from .learning_rate import lr_vs_usual
from .shared import num, pct, ramp

_SATURATING = {"sigmoid", "tanh", "hard_sigmoid", "softsign"}


def _stalled(s: Signals) -> float:
    """0..1: how little the training loss came down (1 = it did not move at all). A run level with the quick
    baseline is not stalled, however flat its loss: it may simply have learned everything in its first epoch."""
    loss = s.loss
    if loss is None or loss.n < 2 or (s.shortfall is not None and s.shortfall < 0.03):
        return 0.0
    change = loss.relative_change()
    if not math.isfinite(change):
        return 1.0
    reference = s.initial_loss_reference
    if reference and loss.last >= 0.9 * reference:  # still at an uninformed guess
        return 1.0
    return ramp(-change, 0.3, 0.02)


def vanishing_gradient(run: Run, s: Signals) -> Finding | None:
    """Gradients shrink layer by layer, so the early layers barely learn, and training stalled.

    Two signs, the stronger counts: at the starting weights, the first layer's kernel gradient (relative to its
    weights) is at most 1/1000 of the last layer's (severity ramps from 1e-3 to 1e-6); or, over the whole fit,
    training moved the first layer's kernel at most 1/100 as far (relative to its size) as the last layer's
    (1e-2 to 1e-4); or the hidden layers are flat: their gradients at most 1/1000 of their weights at the start
    and training moved them by at most 1/1000 of their size (1e-3 to 1e-5). The last signs catch saturating
    activations with small initializations, where at the start *every* gradient is tiny, the output layer's
    included (healthy networks start near 0.1 and move by about their own size). Confidence =
    (0.55 + 0.4 x severity) x (0.4 + 0.6 x how little the loss moved).
    """
    g = s.measurements.gradients
    if g is None or "start" not in g.grad_norms or len(g.layers) < 3:
        return None
    fade = _Fade.of(g)
    if fade.severity <= 0:
        return None
    stalled = _stalled(s)
    if stalled <= 0:
        return None
    ratio, move_ratio, hidden_grad, hidden_moved = fade.ratio, fade.move_ratio, fade.hidden_grad, fade.hidden_moved
    hidden = run.model.layers[:-1] if run.model else []  # the output's sigmoid is not in the gradient's way
    saturating = [layer.name for layer in hidden if layer.activation in _SATURATING]
    signs = []  # the signs that hold, in order
    if ratio == ratio and ratio <= 1e-3:
        signs.append(f"at the start the first layer's gradient (relative to its weights) is {ratio:.1e} times the "
                     "last layer's")  # fmt: skip
    if move_ratio == move_ratio and move_ratio <= 1e-2:
        signs.append(f"training moved the first layer {move_ratio:.1e} times as far as the last")
    if fade.flat > 0:
        signs.append(f"the hidden layers' gradients are {hidden_grad:.1e} of their weights and training moved them by "
                     f"{hidden_moved:.1e} of their size")  # fmt: skip
    return Finding(
        "vanishing_gradient",
        "Vanishing gradients",
        f"{'; '.join(signs).capitalize()}: the signal fades through {len(g.layers)} layers"
        f"{f' of saturating activations ({len(saturating)} sigmoid/tanh)' if saturating else ''}, so the early "
        "layers barely learn and the loss stalls. Use ReLU-family activations with He initialization, batch "
        "normalization, or residual connections.",
        {
            "first_to_last_gradient_ratio": ratio,
            "first_to_last_weight_change": move_ratio,
            "hidden_gradient_to_weight": hidden_grad,
            "hidden_weight_change": hidden_moved,
            "layers": len(g.layers),
            "saturating_layers": len(saturating),
            "loss_change": round(s.loss.relative_change(), 4) if s.loss else None,
        },
        (0.55 + 0.4 * fade.severity) * (0.4 + 0.6 * stalled),
    )


@dataclass(frozen=True)
class _Fade:
    """How the gradient fades towards the input, from the gradient probe (see :func:`vanishing_gradient`).

    Attributes:
        ratio: The first layer's gradient relative to its weights over the last layer's, at the start.
        move_ratio: How far training moved the first layer's kernel over how far it moved the last's.
        hidden_grad: Median gradient-to-weight ratio of the hidden layers at the start.
        hidden_moved: Median relative change of the hidden layers' kernels over the fit.
        flat: 0..1, hidden layers with tiny gradients that training barely moved (1e-3 to 1e-5 of their size).
        severity: 0..1, the strongest of the three signs.
    """

    ratio: float
    move_ratio: float
    hidden_grad: float
    hidden_moved: float
    flat: float
    severity: float

    @classmethod
    def of(cls, g: GradientProbe) -> _Fade:
        grads, weights = np.array(g.grad_norms["start"]), np.array(g.weight_norms["start"])
        rel = grads / np.maximum(weights, 1e-12)
        ratio = float(rel[0] / rel[-1]) if rel[-1] > 0 else math.nan
        moved = g.weight_change
        move_ratio = float(moved[0] / moved[-1]) if len(moved) == len(g.layers) and moved[-1] > 1e-6 else math.nan
        # Flat: the hidden layers' gradients are tiny from the start and training barely moved them at all.
        hidden_grad = float(np.median(rel[:-1]))
        hidden_moved = float(np.median(moved[:-1])) if len(moved) == len(g.layers) else math.nan
        flat = ramp(-math.log10(max(hidden_moved, 1e-12)), 3, 5) if hidden_grad <= 1e-3 and hidden_moved >= 0 else 0.0
        severity = max(
            ramp(-math.log10(ratio), 3, 6) if ratio > 0 else 0.0,
            ramp(-math.log10(move_ratio), 2, 4) if move_ratio > 0 else (1.0 if move_ratio == 0 else 0.0),
            flat,
        )
        return cls(ratio, move_ratio, hidden_grad, hidden_moved, flat, severity)


def exploding_gradient(run: Run, s: Signals) -> Finding | None:
    """Gradients that are huge from the first steps (not caused by the learning rate).

    Two signs, the stronger counts:

    * At the starting weights (the gradient probe), the largest layer gradient norm exceeds 1000 times that
      layer's weight norm, or the gradient grows by more than 1000x from the last layer to the first, and the
      training loss blew up (NaN/inf or rose). Severity ramps with log10 of the worst ratio, 3 to 8.
    * The first epoch's training loss is at least 100 times the loss of an uninformed guess (ln k for
      cross-entropy), at a learning rate no more than 3x the optimizer's usual one: the outputs were enormous
      from the first steps (a cross-entropy on clipped probabilities cannot pass about 23x; only huge logits
      can). The run may have settled afterwards, near a blind guess, so the end of the run no longer shows it.
      Severity ramps with log10 of the ratio, 2 to 6.

    Confidence 0.6-0.95 by the severity.
    """
    loss = s.loss
    probe = _probe_explosion(s)
    early = _early_blowup(run, s)
    if probe is None and early is None:
        return None
    worst, growth, start_loss, severity = probe if probe is not None else (math.nan, math.nan, math.nan, 0.0)
    ratio = early if early is not None else math.nan
    severity = max(severity, ramp(math.log10(ratio), 2, 6) if early is not None else 0.0)
    diverged = loss is not None and loss.first_nonfinite is not None
    signs = []
    if probe is not None:
        signs.append(
            f"at the starting weights the gradients are already huge (up to {num(worst)} times the weights they "
            f"update{'; growing ' + num(growth) + 'x towards the input' if growth >= 1e3 else ''})"
        )
    if early is not None:
        signs.append(
            f"the first epoch's loss ({num(float(loss.values[0]))}) was {num(ratio)} times that of a blind guess"
            f"{', then it settled at ' + num(loss.last) if not diverged and loss.last < loss.first else ''}"
        )
    return Finding(
        "exploding_gradient",
        "Exploding gradients",
        f"{'; '.join(signs).capitalize()}: the network's outputs blew up before the learning rate played any role"
        f"{', and the loss became NaN' if diverged else ''}. Check the weight initialization (He/Glorot) and the input "
        "scale; clip gradients (clipnorm) and add normalization.",
        {
            "max_gradient_to_weight": worst if probe is not None else None,
            "gradient_growth_to_input": growth if probe is not None else None,
            "start_batch_loss": start_loss if probe is not None else None,
            "first_epoch_loss_to_blind_guess": round(ratio, 1) if early is not None else None,
        },
        0.6 + 0.35 * severity,
    )


def _probe_explosion(s: Signals) -> tuple[float, float, float, float] | None:
    """The gradient probe's sign of :func:`exploding_gradient`: ``(worst gradient-to-weight ratio, growth towards
    the input, the start batch's loss, severity)``, or ``None`` when it does not hold."""
    g = s.measurements.gradients
    if g is None or "start" not in g.grad_norms:
        return None
    grads, weights = np.array(g.grad_norms["start"]), np.array(g.weight_norms["start"])
    if not len(grads):
        return None
    finite = np.isfinite(grads)
    rel = np.where(finite, grads / np.maximum(weights, 1e-12), np.inf)
    worst = float(rel.max())
    growth = float(rel[0] / rel[-1]) if len(rel) > 1 and rel[-1] > 0 else 1.0
    if worst < 1e3 and growth < 1e3 and finite.all():
        return None
    loss = s.loss
    blew = loss is not None and (loss.first_nonfinite is not None or (loss.n >= 2 and loss.last > loss.first))
    start_loss = g.loss.get("start", math.nan)
    if not blew and not (math.isfinite(start_loss) and start_loss > 1e3) and finite.all():
        return None
    severity = ramp(math.log10(max(worst if math.isfinite(worst) else 1e12, growth, 1.0)), 3, 8)
    return worst, growth, start_loss, severity


#: How many times a blind guess's loss the first epoch's loss must reach to count as a blow-up.
BLOWUP = 100.0


def _early_blowup(run: Run, s: Signals) -> float | None:
    """The first epoch's training loss over a blind guess's (ln k), when it is :data:`BLOWUP` times or more and
    the learning rate is not the suspect (at most 3x the usual one); else ``None``."""
    loss, reference = s.loss, s.initial_loss_reference
    if loss is None or not len(loss.values) or not reference or not math.isfinite(loss.values[0]):
        return None
    _, factor, _ = lr_vs_usual(run)
    if factor is not None and factor > 3:
        return None  # a rate this high explains a blow-up on its own (lr_too_high)
    ratio = float(loss.values[0]) / reference
    return ratio if ratio >= BLOWUP else None


def dying_relu(run: Run, s: Signals) -> Finding | None:
    """Many ReLU units output zero for every row of the probe batch at the final weights.

    Fires when the mean dead share over ReLU layers is at least 40 % (or one layer at least 70 %) and training
    stalled or fell short. Confidence ramps with the dead share (40 % to 90 %).
    """
    g = s.measurements.gradients
    if g is None or "end" not in g.dead_relu or not g.dead_relu["end"]:
        return None
    end = g.dead_relu["end"]
    mean_dead = float(np.mean(list(end.values())))
    worst_layer, worst = max(end.items(), key=lambda kv: kv[1])
    if mean_dead < 0.4 and worst < 0.7:
        return None
    stalled = _stalled(s)
    short = 0.0
    if s.shortfall is not None:
        short = ramp(s.shortfall, 0.03, 0.2)
    hurt = max(stalled, short)
    if hurt <= 0:
        return None
    start = g.dead_relu.get("start", {})
    ev = {
        "dead_share_mean": round(mean_dead, 4),
        "worst_layer": worst_layer,
        "worst_layer_dead": round(worst, 4),
        "dead_share_at_start": round(float(np.mean(list(start.values()))), 4) if start else None,
        "learning_rate": run.model.initial_learning_rate if run.model else None,
    }
    when = ""
    if start:
        when = " (already at the start)" if ev["dead_share_at_start"] >= 0.4 else " (they died during training)"
    return Finding(
        "dying_relu",
        "Dead ReLU units",
        f"{pct(mean_dead)} of the ReLU units output zero for every input of a probe batch{when}; in "
        f"{worst_layer} it is {pct(worst)}. Dead units pass no gradient and never recover. Lower the learning "
        "rate, use LeakyReLU/ELU, or He initialization with small positive biases.",
        ev,
        (0.5 + 0.45 * ramp(max(mean_dead, worst - 0.2), 0.4, 0.9)) * (0.6 + 0.4 * hurt),
    )
