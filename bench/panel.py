"""What the live panel costs a fit: the ``%%diagnose_fit`` update path, headless, against a bare fit.

Run: ``python bench/panel.py [--repeats N] [--epochs E] [--batch-size B] [--devices 2]``.

The panel is built exactly as the magic builds it, and its widgets talk through a comm that does what an ipykernel
comm does before the socket: every state update is packed into a Jupyter message and signed by
``jupyter_client.Session`` (JSON + HMAC), then dropped instead of sent. So the timings include what the frontend
would receive, message by message (their count and size are printed too).

Variants, interleaved in one process (in a new random order every round, so drift favours none):

* ``bare``: ``fit(verbose=0)``;
* ``capture``: the same fit under ``stallmagic.capture()`` (the recorder only);
* ``panel``: under the magic's set-up: capture + the panel as a session listener, live curves on.

The ratio ``panel / bare`` is the median over rounds; the machines are shared and their run-to-run noise (±15 %)
is larger than the 2 % budget, so the script also measures the panel's own time directly: the seconds spent
inside its listener (redraws, widget updates, message packing), divided by the fit's wall time. It also reports
what redrawing every epoch would cost, with the same SVG and with a matplotlib PNG (the livelossplot approach),
to show why the live view is throttled and drawn as SVG. Target: own time <= 2 % with ~50 ms epochs.

On a 2-core machine TensorFlow's per-epoch floor is about 90 ms; for ~50 ms epochs use JAX:
``KERAS_BACKEND=jax python bench/panel.py --batch-size 12`` (20 ms epochs: ``--batch-size 32``).

``--devices 2`` trains on two devices as ``bench/overhead.py`` does (``bench/devices.py``): TensorFlow's
``MirroredStrategy`` over two logical CPU devices, or on JAX (``KERAS_BACKEND=jax
XLA_FLAGS=--xla_force_host_platform_device_count=2``) Keras's ``DataParallel``, on the first 1,600 digits.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import comm
import keras
from comm.base_comm import BaseComm
from jupyter_client.session import Session
from sklearn.datasets import load_digits

import stallmagic
from bench.devices import TWO_DEVICE_ROWS, add_devices_argument, model_scope
from stallmagic.notebook.cell import CellRuns
from stallmagic.notebook.panel import Panel
from stallmagic.notebook.throttle import Throttle
from stallmagic.render import plot


class _NullStream:
    """Stands in for the IOPub socket: takes the serialized frames and drops them."""

    def send_multipart(self, frames, *args, **kwargs) -> None:
        pass


class KernelLikeComm(BaseComm):
    """A comm that serializes and signs every message as ipykernel's does, counting messages and bytes."""

    session = Session(key=b"bench-key")
    stream = _NullStream()
    messages = 0
    bytes = 0

    def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys) -> None:
        content = {"data": data or {}, "comm_id": self.comm_id, **keys}
        msg = self.session.msg(msg_type, content=content, metadata=metadata or {})
        frames = self.session.serialize(msg) + [bytes(b) for b in buffers or []]  # what Session.send puts on the wire
        self.stream.send_multipart(frames)
        KernelLikeComm.messages += 1
        KernelLikeComm.bytes += sum(len(f) for f in frames)


comm.create_comm = KernelLikeComm


def build(hidden: tuple[int, ...]) -> keras.Model:
    layers = [keras.layers.Dense(h, activation="relu") for h in hidden]
    model = keras.Sequential([keras.Input((64,)), *layers, keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class Timed:
    """Wraps a session listener and sums the seconds spent in it."""

    def __init__(self, listener) -> None:
        self.listener = listener
        self.seconds = 0.0

    def __call__(self, event, run) -> None:
        t = time.perf_counter()
        try:
            self.listener(event, run)
        finally:
            self.seconds += time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=8, help="rounds of (bare, capture, panel) (default 8)")
    parser.add_argument("--epochs", type=int, default=40, help="epochs per fit (default 40)")
    parser.add_argument("--batch-size", type=int, default=256, help="batch size (default 256)")
    parser.add_argument(
        "--rows",
        type=int,
        default=None,
        help=f"digits rows used (default all 1797, {TWO_DEVICE_ROWS} on 2 devices; fewer: shorter epochs)",
    )
    add_devices_argument(parser)
    args = parser.parse_args()

    scope = model_scope(args.devices)
    rows = args.rows or (TWO_DEVICE_ROWS if args.devices == 2 else None)
    x, y = load_digits(return_X_y=True)
    x, y = (x[:rows] / 16.0).astype("float32"), y[:rows]
    with scope():
        model = build((32,))
    start = model.get_weights()
    fit_args = dict(x=x, y=y, validation_split=0.2, epochs=args.epochs, batch_size=args.batch_size, verbose=0)

    def fit() -> float:
        model.set_weights(start)
        gc.collect()  # no variant pays for the garbage of the one before it
        t = time.perf_counter()
        model.fit(**fit_args)
        return time.perf_counter() - t

    def captured() -> float:
        with stallmagic.capture():
            return fit()

    stats: dict[str, list] = {"share": [], "draws": [], "messages": [], "bytes": []}

    def with_panel(throttle: Throttle | None = None) -> tuple[float, float, Panel]:
        cell = CellRuns(number=1, line="", source="", label="bench", metric=None)
        # shown as the magic shows it (the widget, then its static twin by display_id), to nowhere
        panel = Panel(cell, live="curves", display=lambda obj, **kwargs: None, throttle=throttle)
        timed = Timed(panel.listener)
        cell.session.listeners.append(timed)
        KernelLikeComm.messages = KernelLikeComm.bytes = 0
        with stallmagic.capture(session=cell.session):
            seconds = fit()
        if cell.session.listener_errors:  # a listener that raises is dropped: the figures would measure nothing
            raise SystemExit(f"the panel's listener failed: {cell.session.listener_errors[0]}")
        return seconds, timed.seconds, panel

    def panel_round() -> float:
        seconds, own, panel = with_panel()
        stats["share"].append(own / seconds)
        stats["draws"].append(panel.throttle.draws)
        stats["messages"].append(KernelLikeComm.messages)
        stats["bytes"].append(KernelLikeComm.bytes)
        return seconds

    fit()  # warm-up: tracing
    with_panel()  # warm-up: widget classes, the first SVG
    variants = {"bare": fit, "capture": captured, "panel": panel_round}
    times: dict[str, list[float]] = {k: [] for k in variants}
    names = list(variants)
    shuffle = random.Random(0)
    for _ in range(args.repeats):
        order = shuffle.sample(names, len(names))
        for name in order:
            times[name].append(variants[name]())

    # What redrawing every epoch would cost (no throttle): the same SVG path, and a matplotlib PNG per epoch.
    every = Throttle(share=1e9, min_interval=0.0)
    seconds, own_every, panel_every = with_panel(every)
    run = panel_every.cell.runs[-1]
    t = time.perf_counter()
    for _ in range(5):
        plot.figure_png([run])
    png_each = (time.perf_counter() - t) / 5

    epoch_ms = 1000 * statistics.median(times["bare"]) / args.epochs
    ratio_panel = statistics.median(p / b for p, b in zip(times["panel"], times["bare"]))
    ratio_capture = statistics.median(c / b for c, b in zip(times["capture"], times["bare"]))
    ratio_vs_capture = statistics.median(p / c for p, c in zip(times["panel"], times["capture"]))
    spread = statistics.quantiles([p / b for p, b in zip(times["panel"], times["bare"])], n=4)
    print(
        f"keras {keras.__version__}, backend {keras.backend.backend()}, {os.cpu_count()} CPUs; digits MLP 64-32-10, "
        f"{args.epochs} epochs of {epoch_ms:.0f} ms (median bare fit {statistics.median(times['bare']):.2f} s), "
        f"{args.repeats} interleaved rounds, {args.devices} device(s)"
    )
    print(f"  ratio capture/bare        {ratio_capture:.3f}")
    print(f"  ratio panel/bare          {ratio_panel:.3f}   (IQR {spread[0]:.3f}-{spread[2]:.3f})")
    print(f"  ratio panel/capture       {ratio_vs_capture:.3f}")
    print(
        f"  panel own time            {100 * statistics.median(stats['share']):.2f} % of the fit "
        f"(max {100 * max(stats['share']):.2f} %), {statistics.median(stats['draws']):.0f} redraws per fit, "
        f"{statistics.median(stats['messages']):.0f} messages, "
        f"{statistics.median(stats['bytes']) / 1024:.0f} KiB to the frontend"
    )
    print(
        f"  unthrottled SVG redraw    {100 * own_every / seconds:.2f} % of the fit "
        f"({1000 * own_every / max(1, every.draws):.2f} ms per redraw, {every.draws} redraws)"
    )
    print(
        f"  matplotlib PNG per epoch  {1000 * png_each:.0f} ms per redraw = {100 * png_each / (epoch_ms / 1000):.0f} % "
        "of a fit if redrawn every epoch"
    )
    print("Target: panel own time <= 2 % of the fit's wall time.")


if __name__ == "__main__":
    main()
