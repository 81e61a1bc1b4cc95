"""What running a sweep on Ray costs and gains: an 8-configuration grid in this process, then on a local Ray with
2 workers on 2 cores, side by side in one run.

Run: ``python bench/sweep.py [--epochs N] [--address ADDRESS]``. The run swept is a digits MLP (1,437 training rows,
bundled with scikit-learn); the grid crosses 2 optimizers with 4 learning rates (8 configurations, ``--epochs``
each, default 10).

* **Wall time** of ``stallmagic.sweep(run, grid)`` (one configuration after another here) and of
  ``stallmagic.sweep(run, grid, engine="ray")`` (Tune trials, 1 CPU each, 2 at a time), both from the call to the
  result. Ray's own start (``ray.init``) is timed apart: a notebook pays it once per session, not per sweep.
* **Per-trial overhead Ray adds**: for each configuration, the time outside its epochs (a trial's whole wall time,
  as the driver saw it, minus the sum of its epoch times), Ray's minus in process; the mean over the 8. It holds
  the worker's start and imports (the first trial on each worker), the model's rebuild from its config, Tune's
  reports and the checkpoint of the final weights.
* **Same answers**: the best configuration of both, and the largest difference between a configuration's scores.

``--address`` runs the Ray side on an existing cluster (``ray.init(address=...)``) instead of a local Ray: the same
code, trials spread over the cluster's nodes. Timing noise on a shared 2-core machine is about 15 % run to run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras
import numpy as np
from sklearn.datasets import load_digits

import stallmagic
from stallmagic.rerun.sweep import config_label

ROOT = Path(__file__).resolve().parents[1]
GRID = {"optimizer": ["adam", "rmsprop"], "learning_rate": [3e-4, 1e-3, 3e-3, 1e-2]}


def digits_run(epochs: int) -> stallmagic.record.Run:
    """A captured fit of a 64-32-10 MLP on scikit-learn's digits (a fifth held out by ``validation_split``)."""
    keras.utils.set_random_seed(0)
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order]
    model = keras.Sequential(
        [keras.Input((64,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(10, activation="softmax")]
    )
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    with stallmagic.capture(label="digits") as session:
        model.fit(x, y, validation_split=0.2, epochs=epochs, batch_size=32, verbose=0)
    return session.runs[-1]


def outside_epochs(result: stallmagic.rerun.SweepResult) -> list[float]:
    """Per configuration (the grid's order): its wall time minus the time its runs spent in epochs (seconds)."""
    by_label = {}
    for run in result.runs:
        by_label.setdefault(run.label, []).append(run)
    out = []
    for row in result.rows:
        label = config_label(row["params"])
        epochs = sum(sum(r.epoch_times) for r in by_label.get(label, []))
        out.append(row["wall_time"] - epochs)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--address", default=None, help="an existing Ray cluster (default: a local Ray, 2 CPUs)")
    args = parser.parse_args()
    import ray

    run = digits_run(args.epochs)
    n = len(GRID["optimizer"]) * len(GRID["learning_rate"])
    print(f"Grid: {n} configurations x {args.epochs} epochs on digits (1,437 training rows), metric val_accuracy")

    start = time.perf_counter()
    here = stallmagic.sweep(run, GRID)
    here_wall = time.perf_counter() - start

    start = time.perf_counter()
    if args.address:
        ray.init(address=args.address, runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}})
    else:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                 runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}})  # fmt: skip
    init_wall = time.perf_counter() - start
    workers = int(ray.cluster_resources().get("CPU", 0))
    try:
        start = time.perf_counter()
        there = stallmagic.sweep(run, GRID, engine="ray")
        ray_wall = time.perf_counter() - start
    finally:
        ray.shutdown()

    here_out, ray_out = outside_epochs(here), outside_epochs(there)
    fit_here = statistics.mean(r["wall_time"] - o for r, o in zip(here.rows, here_out))
    fit_ray = statistics.mean(r["wall_time"] - o for r, o in zip(there.rows, ray_out))
    diff = max(abs(a["mean"] - b["mean"]) for a, b in zip(here.rows, there.rows))
    print(f"{'':34}{'in process':>14}{'Ray (' + str(workers) + ' workers)':>18}")
    print(f"{'sweep wall time (s)':34}{here_wall:14.1f}{ray_wall:18.1f}")
    print(f"{'  per configuration (s)':34}{here_wall / n:14.2f}{ray_wall / n:18.2f}")
    print(f"{'mean time in epochs per trial (s)':34}{fit_here:14.2f}{fit_ray:18.2f}")
    print(f"{'mean time outside epochs (s)':34}{statistics.mean(here_out):14.2f}{statistics.mean(ray_out):18.2f}")
    print(f"{'  median':34}{statistics.median(here_out):14.2f}{statistics.median(ray_out):18.2f}")
    print(f"ray.init (once per session, not in the sweep's time): {init_wall:.1f} s")
    print(f"Per-trial overhead Ray adds (outside epochs, Ray - in process): "
          f"mean {statistics.mean(ray_out) - statistics.mean(here_out):.2f} s, "
          f"median {statistics.median(ray_out) - statistics.median(here_out):.2f} s")  # fmt: skip
    print(f"Speed-up of the sweep on Ray: {here_wall / ray_wall:.2f}x (ideal with {workers} workers: {workers}x)")
    print(f"Best in process: {here.best_params}; on Ray: {there.best_params}; largest score difference {diff:.4f}")


if __name__ == "__main__":
    main()
