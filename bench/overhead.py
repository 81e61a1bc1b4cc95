"""What capture() costs a fit: bare ``fit(verbose=0)`` vs the same fit under ``stallmagic.capture()``.

Run: ``python bench/overhead.py [--repeats N]``. Both variants run in this one process, interleaved
(A B A B ...), on a small MLP on scikit-learn's digits (20 epochs of 12 steps, 50-150 ms each on 2 CPU cores) and on a
larger one. Timing noise on a shared machine (about 15 % run to run) is larger than the 2 % budget, so the
script also measures the overhead directly: the time spent inside stallmagic's own code during the fit
(wrapper set-up, the epoch hooks, the end of the run), divided by the fit's wall time.
Target: ratio <= 1.02 and own-time share <= 2 %.

``--devices 2`` trains on two devices: TensorFlow's ``MirroredStrategy`` over two logical CPU devices, or on JAX
(``KERAS_BACKEND=jax XLA_FLAGS=--xla_force_host_platform_device_count=2``) Keras's ``DataParallel``; the first 1,600
digits are used then, so every batch (the last ones included) divides between the two replicas (``bench/devices.py``).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras
from sklearn.datasets import load_digits

import stallmagic
from bench.devices import TWO_DEVICE_ROWS, add_devices_argument, model_scope
from stallmagic.capture import intercept as capture_module
from stallmagic.capture import recorder as recorder_module


class OwnTime:
    """Accumulates the wall time spent inside the functions it wraps."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, owner, name: str) -> None:
        fn = getattr(owner, name)

        def timed(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - t

        setattr(owner, name, timed)


def build(hidden: tuple[int, ...], n_in: int, n_out: int) -> keras.Model:
    hidden_layers = [keras.layers.Dense(h, activation="relu") for h in hidden]
    model = keras.Sequential([keras.Input((n_in,)), *hidden_layers, keras.layers.Dense(n_out, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def measure(model: keras.Model, x, y, args, own: OwnTime) -> tuple[list[float], list[float], list[float]]:
    """Interleaved timings of bare and captured fits of ``model``: (bare s, captured s, own-time shares)."""
    start = model.get_weights()
    shares: list[float] = []

    def fit_once() -> float:
        model.set_weights(start)
        gc.collect()  # no variant pays for the garbage of the one before it
        t = time.perf_counter()
        model.fit(x, y, validation_split=0.2, epochs=args.epochs, batch_size=args.batch_size, verbose=0)
        return time.perf_counter() - t

    def fit_captured() -> float:
        own.seconds = 0.0
        with stallmagic.capture():
            seconds = fit_once()
        shares.append(own.seconds / seconds)
        return seconds

    fit_once()  # warm-up: tracing
    bare, captured = [], []
    for i in range(args.repeats):
        if i % 2:  # alternate the order inside each pair, so drift does not favour one side
            c, b = fit_captured(), fit_once()
        else:
            b, c = fit_once(), fit_captured()
        bare.append(b)
        captured.append(c)
    return bare, captured, shares


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=10, help="pairs of runs per model (default 10)")
    parser.add_argument("--epochs", type=int, default=20, help="epochs per fit (default 20)")
    parser.add_argument("--batch-size", type=int, default=128, help="batch size (default 128: ~50 ms epochs)")
    add_devices_argument(parser)
    args = parser.parse_args()

    scope = model_scope(args.devices)
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    if args.devices == 2:
        x, y = x[:TWO_DEVICE_ROWS], y[:TWO_DEVICE_ROWS]
    own = OwnTime()
    for name in ("on_train_begin", "on_epoch_begin", "on_epoch_end"):
        own.wrap(recorder_module.Recorder, name)
    for name in ("_start_run", "_make_recorder", "_finish"):
        own.wrap(capture_module, name)

    print(
        f"keras {keras.__version__}, backend {keras.backend.backend()}, {os.cpu_count()} CPUs, "
        f"{args.repeats} interleaved pairs per model, {args.devices} device(s)"
    )
    print(
        f"{'model':<22}{'epoch ms':>9}{'bare s':>9}{'capture s':>11}{'ratio':>8}{'IQR':>16}{'best/best':>10}"
        f"{'own time':>10}"
    )
    for label, hidden in (("small MLP (64-32-10)", (32,)), ("larger MLP (512x3)", (512, 512, 512))):
        with scope():
            model = build(hidden, 64, 10)
        bare, captured, shares = measure(model, x, y, args, own)
        ratios = [c / b for b, c in zip(bare, captured)]
        q1, _, q3 = statistics.quantiles(ratios, n=4)
        print(
            f"{label:<22}{1000 * statistics.median(bare) / args.epochs:>9.1f}{statistics.median(bare):>9.3f}"
            f"{statistics.median(captured):>11.3f}{statistics.median(ratios):>8.3f}{f'[{q1:.3f}, {q3:.3f}]':>16}"
            f"{min(captured) / min(bare):>10.3f}{100 * statistics.median(shares):>9.2f}%"
        )
    print(
        "ratio: median over pairs of capture/bare; IQR shows the machine's timing noise. best/best: the fastest "
        "captured fit over the fastest bare one (timeit's estimator: the fastest run is the least disturbed by the "
        "rest of the machine). own time: median share of the fit's wall time spent inside stallmagic's code "
        "(wrapper set-up, epoch hooks, run end)."
    )


if __name__ == "__main__":
    main()
