"""stallmagic against the anchors a user would otherwise reach for, measured side by side in one process.

Run: ``python bench/anchors.py [--repeats N]`` (livelossplot comes with the ``bench`` extra: ``make bench``).

Variants of the same fit, interleaved (in a new random order every round, so that neither drift nor the
variant that ran just before favours one):

* ``bare``: ``fit(verbose=0)``, the reference;
* ``capture``: under ``stallmagic.capture()`` (the recorder only);
* ``panel``: the ``%%diagnose_fit`` set-up, headless: capture plus the live panel as a session listener, its
  widget messages packed and signed as ipykernel would send them (``bench/panel.py``'s comm), then dropped;
* ``livelossplot``: ``livelossplot.PlotLossesKeras()`` (redraws a matplotlib figure every epoch; Agg backend);
* ``verbose=1``: Keras' own progress bar, written to an in-memory stream (what a notebook's stdout receives).

Two models on scikit-learn's digits: a small MLP with short epochs and a larger one. Printed: the median over
rounds of each variant's ratio to ``bare``, and the interquartile range of those ratios (the machine's noise).
Target: stallmagic (capture and panel) <= 1.02x. Timing noise on a shared machine is about 15 % run to run: read
``bench/overhead.py``'s and ``bench/panel.py``'s direct own-time measurements alongside.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import os
import random
import statistics
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")
HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import keras  # noqa: E402
from panel import KernelLikeComm  # noqa: E402,F401  (bench/panel.py: installs the kernel-like comm)
from sklearn.datasets import load_digits  # noqa: E402

import stallmagic  # noqa: E402
from stallmagic.notebook.cell import CellRuns  # noqa: E402
from stallmagic.notebook.panel import Panel  # noqa: E402


def build(hidden: tuple[int, ...]) -> keras.Model:
    layers = [keras.layers.Dense(h, activation="relu") for h in hidden]
    model = keras.Sequential([keras.Input((64,)), *layers, keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def variants(model: keras.Model, fit_args: dict) -> dict:
    """Each variant as a function that runs one fit from the same starting weights and returns its seconds."""
    start = model.get_weights()

    def fit(**extra) -> float:
        model.set_weights(start)
        gc.collect()  # no variant pays for the garbage of the one before it
        t = time.perf_counter()
        model.fit(**{**fit_args, **extra})
        return time.perf_counter() - t

    def capture() -> float:
        with stallmagic.capture():
            return fit()

    def panel() -> float:
        cell = CellRuns(number=1, line="", source="", label="bench", metric=None)
        view = Panel(cell, live="curves", display=lambda widget: None)
        cell.session.listeners.append(view.listener)
        with stallmagic.capture(session=cell.session):
            seconds = fit()
        view.finish()  # the end-of-fit panel is drawn after the fit: not counted, as the fit has returned
        return seconds

    def livelossplot() -> float:
        from livelossplot import PlotLossesKeras

        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fit(callbacks=[PlotLossesKeras()])

    def verbose() -> float:
        with contextlib.redirect_stdout(io.StringIO()):
            return fit(verbose=1)

    return {"bare": fit, "capture": capture, "panel": panel, "livelossplot": livelossplot, "verbose=1": verbose}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=10, help="interleaved rounds per model (default 10)")
    parser.add_argument("--epochs", type=int, default=20, help="epochs per fit (default 20)")
    args = parser.parse_args()

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    print(f"keras {keras.__version__}, backend {keras.backend.backend()}, {os.cpu_count()} CPUs, {args.repeats} rounds")
    header = f"{'model':<24}{'epoch ms':>9}" + "".join(f"{name:>14}" for name in ("capture", "panel", "livelossplot",
                                                                                 "verbose=1"))  # fmt: skip
    print(header + "   (ratio to bare fit(verbose=0), median over rounds)")
    for label, hidden, batch in (("small MLP (64-32-10)", (32,), 256), ("larger MLP (512x3)", (512, 512, 512), 64)):
        fit_args = dict(x=x, y=y, validation_split=0.2, epochs=args.epochs, batch_size=batch, verbose=0)
        runs = variants(build(hidden), fit_args)
        for fn in runs.values():  # warm-up: tracing, imports, the first figure
            fn()
        names = list(runs)
        times: dict[str, list[float]] = {name: [] for name in names}
        order = random.Random(0)
        for _ in range(args.repeats):
            for name in order.sample(names, len(names)):
                times[name].append(runs[name]())
        ratios = {n: statistics.median(t / b for t, b in zip(times[n], times["bare"])) for n in names}
        epoch_ms = 1000 * statistics.median(times["bare"]) / args.epochs
        row = f"{label:<24}{epoch_ms:>9.0f}" + "".join(f"{ratios[n]:>14.3f}" for n in names[1:])
        spread = {n: statistics.quantiles([t / b for t, b in zip(times[n], times["bare"])], n=4) for n in names}
        iqr = [f"{spread[n][0]:.2f}-{spread[n][2]:.2f}" for n in names[1:]]
        noise = f"{'  IQR of the ratios':<33}" + "".join(f"{q:>14}" for q in iqr)
        print(row, noise, sep="\n", flush=True)
    print("Target: capture and panel <= 1.02x a bare fit.")


if __name__ == "__main__":
    main()
