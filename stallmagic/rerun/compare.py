"""Runs side by side: :func:`compare` reads a session's runs into a :class:`Comparison`, one row per run.

``Comparison.rows`` is the one implementation of comparison rows: the printed table is made from them and the
render layer reads them, so a run is scored the same way everywhere; :mod:`.sweep` scores its folds with the same
helpers (:func:`best_value`, :func:`last_finite`, :func:`metric_keys`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..record import Run, Session, jsonable
from ..remedies import Remedy

__all__ = ["Comparison", "best_value", "compare", "last_finite", "metric_keys", "trained_alike"]


def trained_alike(run: Run, other: Run) -> bool:
    """Whether ``other`` logged exactly what ``run`` logged, epoch for epoch, in every metric ``run`` has: a
    rerun whose change did not reach the training. (Keys only ``other`` logs, such as the learning rate that
    ``ReduceLROnPlateau`` adds, are not compared.)"""
    return bool(run.logs) and all(other.logs.get(key) == values for key, values in run.logs.items())


def metric_keys(runs: Sequence[Run], metric: str | None) -> tuple[str | None, str | None, bool]:
    """``(train key, validation key, higher is better)`` of ``metric`` (default: the first accuracy-like metric,
    else the loss), resolved by the diagnosis' rules on the first run that logged anything."""
    from ..diagnosis.signals import resolve_metric

    for run in runs:
        if run.logs:
            choice = resolve_metric(run.logs, metric, run.judged_output)
            return choice.train_key, choice.val_key, choice.higher_is_better
    return None, None, True


def best_value(values: Sequence[float], higher: bool) -> tuple[float | None, int | None]:
    """The best finite value and its index (``None, None`` when no value is finite)."""
    arr = np.asarray(values, dtype=float)
    finite = np.flatnonzero(np.isfinite(arr))
    if not len(finite):
        return None, None
    i = finite[np.argmax(arr[finite])] if higher else finite[np.argmin(arr[finite])]
    return float(arr[i]), int(i)


def last_finite(values: Sequence[float]) -> float | None:
    """The last finite value (a diverged final epoch is skipped), or ``None``."""
    arr = np.asarray(values, dtype=float)
    finite = arr[np.isfinite(arr)]
    return float(finite[-1]) if len(finite) else None


@dataclass
class Comparison:
    """Runs side by side: best validation metric and its epoch, final train/validation gap, epochs, wall time.

    Attributes:
        metric: The validation key compared (``val_accuracy``, else ``val_loss``).
        higher_is_better: Whether a larger value of ``metric`` is better.
        rows: One dict per run: ``label``, ``remedy`` (title, ``None`` for an original or unchanged rerun),
            ``remedy_code``, ``parent``, ``metric``, ``best`` and ``best_epoch`` (1-based), ``delta`` (best minus
            the parent's best, signed so that positive is better), ``final_gap`` (how much better the training
            metric is than validation at the last epoch), ``epochs``, ``wall_time`` (s), ``end``, ``error``.
    """

    metric: str | None
    higher_is_better: bool
    rows: list[dict]

    def best(self) -> dict | None:
        """The row with the best validation metric."""
        scored = [r for r in self.rows if r["best"] is not None]
        if not scored:
            return None
        return (max if self.higher_is_better else min)(scored, key=lambda r: r["best"])

    def to_dict(self) -> dict:
        return {"metric": self.metric, "higher_is_better": self.higher_is_better, "rows": jsonable(self.rows)}

    def __str__(self) -> str:
        if not self.rows:
            return "No runs to compare."
        head = ["run", "remedy", f"best {self.metric}", "epoch", "vs parent", "gap", "epochs", "time", "end"]
        body = []
        for r in self.rows:
            body.append(
                [
                    r["label"],
                    r["remedy"] or "-",
                    "-" if r["best"] is None else f"{r['best']:.4f}",
                    "-" if r["best_epoch"] is None else str(r["best_epoch"]),
                    "" if r["delta"] is None else f"{r['delta']:+.4f}",
                    "-" if r["final_gap"] is None else f"{r['final_gap']:+.3f}",
                    str(r["epochs"]),
                    f"{r['wall_time']:.1f}s",
                    r["end"],
                ]
            )
        widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in [head, *body]]
        lines.insert(1, "  ".join("-" * w for w in widths))
        best = self.best()
        if best is not None and len(self.rows) > 1:
            lines.append(f"Best: {best['label']} ({self.metric} {best['best']:.4f} at epoch {best['best_epoch']}).")
        return "\n".join(lines)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))


def compare(session: Session, *, metric: str | None = None) -> Comparison:
    """Compare the runs of ``session`` (see :class:`Comparison`).

    Args:
        session: The session whose runs to compare.
        metric: The metric to compare on (``"accuracy"``, ``"auc"``, ``"loss"``; default: the first accuracy-like
            metric the runs logged, else the loss). Its validation value is compared.
    """
    runs = list(session.runs)
    train_key, val_key, higher = metric_keys(runs, metric)
    rows: list[dict] = []
    best_of: dict[int, float | None] = {}
    for run in runs:
        values = run.logs.get(val_key, []) if val_key else []
        best, at = best_value(values, higher)
        best_of[id(run)] = best
        gap = None
        if train_key and val_key and run.logs.get(train_key) and values:
            t, v = last_finite(run.logs[train_key]), last_finite(values)
            if t is not None and v is not None:
                gap = (t - v) if higher else (v - t)
        parent = run.parent
        delta = None
        if parent is not None and best is not None and best_of.get(id(parent)) is not None:
            delta = (best - best_of[id(parent)]) * (1 if higher else -1)
        epoch = None
        if at is not None:
            epoch = (run.epochs[at] + 1) if at < len(run.epochs) else at + 1
        remedy = run.remedy
        overrides = (run.extras.get("rerun") or {}).get("overrides") or {}
        title = remedy.title if isinstance(remedy, Remedy) else None
        if overrides:
            title = ", ".join([*([title] if title else []), *(f"{k}={v}" for k, v in overrides.items())])
        rows.append(
            {
                "label": run.label,
                "remedy": title,
                "remedy_code": remedy.code if isinstance(remedy, Remedy) else None,
                "parent": parent.label if parent is not None else None,
                "metric": val_key,
                "best": best,
                "best_epoch": epoch,
                "delta": delta,
                "final_gap": gap,
                "epochs": run.epochs_done,
                "wall_time": float(run.wall_time),
                "end": run.end,
                "error": f"{run.error.type}: {run.error.message}" if run.error is not None else None,
            }
        )
    return Comparison(metric=val_key, higher_is_better=higher, rows=rows)
