"""Runs built by hand (no training): the panel, drawing and report tests share them, and a hostile string.

These Runs need neither Keras nor a kernel: their logs are smooth curves with a validation gap that widens by
``gap_slope`` per epoch.
"""

from __future__ import annotations

import time

import numpy as np

from stallmagic.record import Run

XSS = "<img src=x onerror=alert(1)>"


def make_run(label: str = "run 1", n: int = 20, *, gap_slope: float = 0.01, extra_key: str | None = None) -> Run:
    run = Run(index=0, label=label)
    run.fit.epochs = n
    e = np.arange(1, n + 1, dtype=float)
    loss = 1.0 / e
    acc = 1.0 - 0.5 / e
    run.logs = {
        "loss": loss.tolist(),
        "accuracy": acc.tolist(),
        "val_loss": (loss + 0.1 + 0.01 * e).tolist(),
        "val_accuracy": (acc - gap_slope * e).tolist(),
    }
    if extra_key:
        run.logs[extra_key] = [0.5] * n
    run.epochs = list(range(n))
    run.epoch_times = [0.05] * n
    run.started_at = time.time() - 0.05 * n
    run.wall_time = 0.05 * n
    run.end = "completed"
    return run
