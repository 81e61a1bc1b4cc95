"""A learning-rate range test from a run's starting weights: the rate for a learning-rate remedy, measured.

A fixed factor ("a tenth of the current rate") often still diverges or crawls. Practitioners try a few rates for
a few steps and keep the one whose loss falls furthest; so does this, within a budget: a grid of rates around the
remedy's suggestion (half-decade steps, only on the side of the current rate the finding points to), each trained
for the same few steps from the same starting weights, with a fresh optimizer, on the same bounded sample of
training rows; the loss on that sample after the steps picks the rate. The steps of all candidates together are
at most :data:`BUDGET` of the fit's own steps (at least :data:`MIN_STEPS` each), and the result says what was
measured. The model is left at its starting weights; its compile is the rerun's business.

Keras is imported inside the functions that need it.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from .._internal.nested import flatten
from ..remedies.arrays import take_rows
from .plan import Plan

#: The candidates, as multiples of the remedy's suggested rate (half-decade steps).
MULTIPLES = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
#: All candidates' steps together, as a share of the fit's own steps (the test's evaluations and its one trace
#: come on top: the whole test was measured at up to about 5 % of the fit on the real-faults benchmark).
BUDGET = 0.03
#: Steps per candidate, at least and at most.
MIN_STEPS, MAX_STEPS = 3, 25
#: Training rows the test samples, at most.
MAX_ROWS = 512
#: Rates closer than this factor to the current one count as the current one (it is often a float32: 0.00100000005).
SAME = 1.01


def candidates(center: float, current: float | None) -> list[float]:
    """The rates to try: ``center`` times :data:`MULTIPLES`, on the side of ``current`` that ``center`` is on."""
    rates = [float(f"{center * m:.3g}") for m in MULTIPLES]
    if current is not None and center < current:
        rates = [r for r in rates if r < current / SAME]
    elif current is not None and center > current:
        rates = [r for r in rates if r > current * SAME]
    return rates or [center]


def _length(data: Any) -> int | None:
    """Rows of a (possibly nested) input of arrays, or ``None`` when it is not arrays (a dataset, a generator)."""
    leaves = flatten(data)
    return len(leaves[0]) if leaves and all(hasattr(leaf, "shape") for leaf in leaves) else None


def range_test(model: Any, plan: Plan, center: float, current: float | None, fit_seconds: float | None) -> dict:
    """Try the :func:`candidates` on ``model`` (holding its starting weights) and return what was measured:
    ``rates``, ``losses`` (after the steps; ``None`` where the loss was not finite), ``start_loss``, ``chosen``,
    ``steps``, ``rows``, ``seconds`` and ``share_of_fit``; or ``{"chosen": center, "skipped": reason}``."""
    import keras

    from . import training

    x, y = plan.fit.get("x"), plan.fit.get("y")
    n = _length(x)
    if n is None or y is None or _length(y) != n:
        return {"chosen": center, "skipped": "the training data are not arrays, so no sample could be drawn"}
    began = time.perf_counter()
    rng = np.random.default_rng(plan.seed)
    rows = np.sort(rng.choice(n, min(n, MAX_ROWS), replace=False))
    xs, ys = take_rows(x, rows), take_rows(y, rows)
    batch = int(plan.fit.get("batch_size") or 32)
    epochs = int(plan.fit.get("epochs") or 1) - int(plan.fit.get("initial_epoch") or 0)
    fit_steps = max(1, epochs) * math.ceil(n * (1.0 - float(plan.fit.get("validation_split") or 0.0)) / batch)
    rates = candidates(center, current)
    steps = int(min(MAX_STEPS, max(MIN_STEPS, BUDGET * fit_steps / len(rates))))
    start = model.get_weights()
    config = {k: v for k, v in plan.optimizer_config.items() if v is not None}
    config["learning_rate"] = float(rates[0])  # a constant rate, set per candidate below
    optimizer = keras.optimizers.get({"class_name": plan.optimizer_class, "config": config})
    optimizer.build(model.trainable_variables)
    fresh = [np.array(v) for v in optimizer.variables]
    training.compile_model(model, plan, optimizer=optimizer)
    order = [rng.permutation(len(rows)) for _ in range(math.ceil(steps * batch / len(rows)) or 1)]
    order = np.concatenate(order)
    start_loss = _loss(model, xs, ys, batch)
    losses: list[float | None] = []
    for rate in rates:
        model.set_weights(start)
        for variable, value in zip(optimizer.variables, fresh):
            variable.assign(value)
        optimizer.learning_rate = rate
        finite = True
        for step in range(steps):
            idx = order[step * batch : (step + 1) * batch]
            out = model.train_on_batch(take_rows(xs, idx), take_rows(ys, idx), return_dict=True)
            if not math.isfinite(float(out.get("loss", math.nan))):
                finite = False
                break
        loss = _loss(model, xs, ys, batch) if finite else math.nan
        losses.append(loss if math.isfinite(loss) else None)
    model.set_weights(start)
    seconds = time.perf_counter() - began
    return {
        "rates": rates,
        "losses": losses,
        "start_loss": start_loss,
        "chosen": choose(rates, losses, start_loss, center),
        "steps": steps,
        "rows": len(rows),
        "seconds": round(seconds, 3),
        "share_of_fit": round(seconds / fit_seconds, 4) if fit_seconds else None,
    }


def _loss(model: Any, x: Any, y: Any, batch: int) -> float:
    out = model.evaluate(x, y, batch_size=max(batch, 256), verbose=0, return_dict=True)
    return float(out.get("loss", math.nan))


def choose(rates: list[float], losses: list[float | None], start_loss: float, center: float) -> float:
    """The rate with the lowest loss after the steps; one step smaller when the next larger rate diverged (a rate
    at the edge of divergence over a few steps tends to diverge over a whole fit). ``center`` when no rate
    lowered the loss."""
    finite = [(loss, i) for i, loss in enumerate(losses) if loss is not None]
    if not finite:
        return min(rates)
    best_loss, best = min(finite)
    if math.isfinite(start_loss) and best_loss >= start_loss:
        return center
    larger = losses[best + 1] if best + 1 < len(losses) else best_loss
    if best > 0 and (larger is None or (math.isfinite(start_loss) and larger > start_loss)):
        return rates[best - 1]
    return rates[best]


__all__ = ["BUDGET", "MULTIPLES", "candidates", "choose", "range_test"]
