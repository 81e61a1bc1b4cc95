"""Findings on the curves: the epochs a run's findings point to, as marks the SVG draws and the legend lists.

A finding is easier to believe where it can be seen: the epoch where validation loss bottomed out (overfitting's
``val_loss_min_epoch``), where the loss became NaN, where the learning rate changed, where early stopping stopped
and where it put the best weights back. Each mark comes from the run's own record (its logs, learning rates, how
it ended, the remedy it was trained with) or from a finding's evidence (any ``*_epoch`` number), and names the
findings that point to it, so the picture and the findings read together.

Plain data only: the SVG (:mod:`.plot`) and the HTML (:mod:`.html`) draw and escape the marks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..diagnosis.signals import resolve_metric
from ..record import Run

#: Findings that an event of the run bears out, by event: a mark at that event names them.
EVENT_FINDINGS = {
    "nan": (
        "lr_too_high", "exploding_gradient", "data_quality", "loss_mismatch", "unscaled_inputs", "unscaled_targets",
    ),
    "learning_rate": ("lr_too_high", "lr_too_low", "train_longer", "optimizer_choice"),
    "stopped": ("overfitting", "train_longer"),
    "restored": ("overfitting",),
}
#: Words for the evidence keys that hold an epoch (1-based within the run), others read from the key itself.
EPOCH_KEYS = {"val_loss_min_epoch": "lowest val_loss"}
#: The most marks drawn on one picture (learning-rate schedules that change every epoch would fill it).
MAX_MARKS = 6


@dataclass(frozen=True)
class Mark:
    """One marked epoch: ``epoch`` as the curves number it (1-based, ``initial_epoch`` respected), ``text`` what
    happened there, ``findings`` the titles of the findings that point to it."""

    epoch: float
    text: str
    findings: tuple[str, ...] = ()

    def sentence(self) -> str:
        """``"epoch 7: lowest val_loss (Overfitting)"``: unescaped, for the legend and the SVG's tooltip."""
        why = f" ({', '.join(self.findings)})" if self.findings else ""
        return f"epoch {self.epoch:.0f}: {self.text}{why}"


def marks(run: Run) -> list[Mark]:
    """The marks of ``run``, by epoch (those of one epoch merged), at most :data:`MAX_MARKS`.

    Without a report only the run's own events are marked (NaN, learning-rate changes, early stopping); with one,
    the findings' ``*_epoch`` evidence too, and each event names the findings it bears out.
    """
    if not run.epochs:
        return []
    findings = list(getattr(run.report, "findings", None) or [])
    found: list[Mark] = []
    for event, index, text in _events(run):
        titles = tuple(f.title for f in findings if f.code in EVENT_FINDINGS.get(event, ()))
        found.append(Mark(_epoch(run, index), text, titles))
    for finding in findings:
        for key, value in (finding.evidence or {}).items():
            if str(key).endswith("_epoch") and isinstance(value, int) and 1 <= value <= len(run.epochs):
                text = EPOCH_KEYS.get(key, str(key).replace("_", " "))
                found.append(Mark(_epoch(run, value - 1), text, (finding.title,)))
    return _merged(found)[:MAX_MARKS]


def _epoch(run: Run, index: int) -> float:
    return float(run.epochs[index] + 1)


def _events(run: Run) -> list[tuple[str, int, str]]:
    """``(event, epoch index, text)`` of what the run's record shows."""
    out = []
    loss = run.logs.get("loss", [])
    bad = next((i for i, v in enumerate(loss[: len(run.epochs)]) if not math.isfinite(v)), None)
    if bad is not None:
        out.append(("nan", bad, "the loss became NaN"))
    rates = run.learning_rates[: len(run.epochs)]
    for i in range(1, len(rates)):
        before, now = rates[i - 1], rates[i]
        if before is not None and now is not None and not math.isclose(before, now, rel_tol=1e-6):
            out.append(("learning_rate", i, f"learning rate {before:.3g} → {now:.3g}"))
    if run.end == "early_stopped":
        out.append(("stopped", len(run.epochs) - 1, "stopped early"))
        restored = _restored(run)
        if restored is not None:
            out.append(("restored", restored[0], f"best {restored[1]}: weights restored"))
    return out


def _restored(run: Run) -> tuple[int, str] | None:
    """Where early stopping put the best weights back: the best epoch of its monitor, when this run was trained with
    the early-stopping remedy and ``restore_best_weights`` (a user's own callback's settings are not recorded)."""
    remedy: Any = run.remedy
    params = getattr(remedy, "params", None) or {}
    if getattr(remedy, "code", None) != "early_stopping" or not params.get("restore_best_weights"):
        return None
    monitor = str(params.get("monitor", "val_loss"))
    values = [(v, i) for i, v in enumerate(run.logs.get(monitor, [])[: len(run.epochs)]) if math.isfinite(v)]
    if not values:
        return None
    higher = resolve_metric(run.logs, monitor.removeprefix("val_")).higher_is_better
    # Keras keeps the first epoch of the best value (a later equal one is no improvement)
    best = max(values, key=lambda vi: (vi[0], -vi[1])) if higher else min(values)
    return best[1], monitor


def _merged(found: list[Mark]) -> list[Mark]:
    """One mark per epoch: texts and finding titles of the same epoch joined, in epoch order."""
    by_epoch: dict[float, Mark] = {}
    for m in found:
        old = by_epoch.get(m.epoch)
        if old is None:
            by_epoch[m.epoch] = m
            continue
        text = old.text if m.text in old.text.split("; ") else f"{old.text}; {m.text}"
        titles = old.findings + tuple(t for t in m.findings if t not in old.findings)
        by_epoch[m.epoch] = Mark(m.epoch, text, titles)
    return [by_epoch[e] for e in sorted(by_epoch)]
