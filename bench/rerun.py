"""What a rerun costs: time from ``run.rerun()`` to the end of its first epoch, against a bare fit; and memory.

Run: ``python bench/rerun.py [--repeats N] [--reruns N]``. Everything runs in this one process, interleaved
(bare, rerun, bare, rerun, ...), on a digits MLP (1,437 training rows, 45 steps per epoch).

* **First-epoch ratio** (target <= 1.2). The bare side is what a person does by hand to retrain fairly:
  ``model.set_weights(start)``, ``model.compile(fresh optimizer)``, ``model.fit(...)``, timed from the first of
  these to the end of epoch 1, on a twin of the model (same architecture and starting weights) so that it does
  not disturb the reruns' model. The rerun side is ``run.rerun()`` timed from the call to the end of its epoch 1
  (read by a session listener). The first rerun compiles and traces like the bare side; later reruns with the
  same compile settings reset their optimizer in place and reuse the traced function. For reference, a *warm*
  bare fit (no recompile, train function already traced) is timed too: not a fair retraining (the optimizer keeps
  its state), only a floor.
* **Preparation share**: the time from ``rerun()`` to the fit's start (seeding, weights, compile, callbacks),
  measured directly, against the bare side's own preparation.
* **Memory over structural reruns** (target: flat once the retention limit is reached): resident memory (RSS),
  the live Keras models (``keras.Model`` objects the garbage collector tracks; a Sequential counts twice, with its
  inner Functional) and the Python heap (tracemalloc) after each of ``--reruns`` (default 20) reruns with a remedy
  that rebuilds the model (dropout, its rate changed each time). Each such rerun trains a new model, with its own
  optimizer and traced train function; only the ``keep_reruns`` most recently used reruns keep theirs
  (``stallmagic.rerun.set_keep_reruns``, ``--keep-reruns``; default 5), older ones are released. The verdict
  compares the reruns after the limit was reached (growth per rerun, live models constant).

``--skip-timing`` runs the memory part only. Timing noise on a shared 2-core machine is about 15 % run to run: read
the medians over several repeats.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras
import numpy as np
from sklearn.datasets import load_digits

import stallmagic
from stallmagic.remedies import Remedy
from stallmagic.rerun import final_weights, set_keep_reruns
from stallmagic.rerun.ledger import LEDGER


def rss_mb() -> float:
    """Resident memory of this process now (MB), from /proc (Linux); NaN elsewhere."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        return float("nan")


def live_models() -> int:
    """``keras.Model`` objects alive now (after a full collection), whoever holds them."""
    gc.collect()
    return sum(1 for obj in gc.get_objects() if isinstance(obj, keras.Model))


def build(hidden: tuple[int, ...] = (128, 64)) -> keras.Model:
    layers = [keras.layers.Dense(h, activation="relu") for h in hidden]
    model = keras.Sequential([keras.Input((64,)), *layers, keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class FirstEpoch(keras.callbacks.Callback):
    """Records the wall-clock time at the end of the first epoch (an epoch hook: no batch hooks)."""

    def __init__(self) -> None:
        super().__init__()
        self.begin = self.end = None

    def on_train_begin(self, logs=None) -> None:
        self.begin = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None) -> None:
        if self.end is None:
            self.end = time.perf_counter()


def bare_first_epoch(model: keras.Model, start: list, x, y, epochs: int) -> tuple[float, float]:
    """(seconds to the end of epoch 1, seconds of preparation before fit started) of a fair retraining by hand."""
    probe = FirstEpoch()
    t0 = time.perf_counter()
    model.set_weights(start)
    keras.utils.set_random_seed(0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, validation_split=0.2, epochs=epochs, batch_size=32, verbose=0, callbacks=[probe])
    return probe.end - t0, probe.begin - t0


def warm_first_epoch(model: keras.Model, x, y, epochs: int) -> float:
    probe = FirstEpoch()
    t0 = time.perf_counter()
    model.fit(x, y, validation_split=0.2, epochs=epochs, batch_size=32, verbose=0, callbacks=[probe])
    return probe.end - t0


def rerun_first_epoch(run) -> tuple[float, float]:
    """(seconds from rerun() to the end of its epoch 1, seconds from rerun() to the fit's start)."""
    marks: dict[str, float] = {}

    def listener(event: str, r) -> None:
        if event == "begin" and "begin" not in marks:
            marks["begin"] = time.perf_counter()
        if event == "epoch" and "epoch" not in marks:
            marks["epoch"] = time.perf_counter()

    run.session.listeners.append(listener)
    try:
        t0 = time.perf_counter()
        run.rerun()
    finally:
        run.session.listeners.remove(listener)
    return marks["epoch"] - t0, marks["begin"] - t0


def timing(run, model, start: list, x, y, args: argparse.Namespace) -> None:
    """The first-epoch ratio, the preparation share and the first rerun (see the module docstring)."""
    # The bare fits train a twin (same architecture, same starting weights), so that they do not disturb the
    # compiled state of the model the reruns train.
    twin = keras.models.clone_model(model)
    first, first_prep = rerun_first_epoch(run)  # the first rerun compiles and traces; later ones reuse that
    bare_first_epoch(twin, start, x, y, args.epochs)  # warm-up of the bare path

    bare, bare_prep, rerun_t, rerun_prep, warm = [], [], [], [], []
    for _ in range(args.repeats):
        b, bp = bare_first_epoch(twin, start, x, y, args.epochs)
        bare.append(b)
        bare_prep.append(bp)
        warm.append(warm_first_epoch(twin, x, y, args.epochs))
        r, rp = rerun_first_epoch(run)
        rerun_t.append(r)
        rerun_prep.append(rp)
    med = statistics.median
    ratio = med(rerun_t) / med(bare)
    print(f"backend {keras.backend.backend()}, keras {keras.__version__}, {args.repeats} interleaved repeats")
    print(
        f"first epoch (median s)   bare retrain {med(bare):.3f}   rerun {med(rerun_t):.3f}   ratio {ratio:.2f}  "
        "(target <= 1.2)"
    )
    print("  per repeat: " + "  ".join(f"{r / b:.2f}" for r, b in zip(rerun_t, bare)))
    print(f"preparation before fit    bare {med(bare_prep) * 1e3:.1f} ms   rerun {med(rerun_prep) * 1e3:.1f} ms")
    print(f"first rerun (compiles and traces once) {first:.3f} s, of which {first_prep * 1e3:.1f} ms before fit")
    print(
        f"warm bare fit (no recompile, optimizer state kept: a floor, not a fair retrain) {med(warm):.3f} s; "
        f"rerun / warm {med(rerun_t) / med(warm):.2f}"
    )


def memory(run, start: list, reruns: int, limit: int) -> None:
    """RSS, live Keras models and the Python heap after each structural rerun; flat once ``limit`` is reached?"""
    gc.collect()
    weights_mb = sum(w.nbytes for w in start) / 2**20
    rss0, models0 = rss_mb(), live_models()
    tracemalloc.start()
    rss, models, heap = [], [], []
    for i in range(reruns):
        new = run.rerun(Remedy("dropout", {"rate": round(0.1 + 0.02 * i, 2)}))
        assert new.end == "completed" and final_weights(new) is not None
        del new
        models.append(live_models())  # collects first
        rss.append(rss_mb())
        heap.append(tracemalloc.get_traced_memory()[0] / 2**20)
    tracemalloc.stop()
    print(
        f"memory over {reruns} structural reruns (dropout: a rebuilt model each; weights {weights_mb:.3f} MB; "
        f"keep_reruns={limit})"
    )
    print(f"  before      RSS {rss0:.0f} MB, {models0} live Keras models")
    print("  RSS MB      " + " ".join(f"{v:.0f}" for v in rss))
    print("  models      " + " ".join(str(v) for v in models))
    print("  heap MB     " + " ".join(f"{v:.1f}" for v in heap))
    # Rerun limit + 1 is the first to release one (at its end); the memory it frees is what rerun limit + 2 reuses.
    first = limit + 1  # index of rerun limit + 2
    if reruns <= first + 1:
        print(f"  (the limit of {limit} is not passed far enough by {reruns} reruns: nothing to compare)")
        return
    growing = (rss[limit - 1] - rss0) / limit
    per_rerun = (rss[-1] - rss[first]) / (reruns - 1 - first)
    heap_per_rerun = (heap[-1] - heap[first]) / (reruns - 1 - first)
    after = models[limit - 1 :]
    print(
        f"  reruns 1-{limit}: RSS {growing:+.1f} MB per rerun; reruns {first + 1}-{reruns}: RSS {per_rerun:+.2f} MB "
        f"and heap {heap_per_rerun:+.3f} MB per rerun; live models from rerun {limit} on: {min(after)}-{max(after)}"
    )
    flat = per_rerun < 1.0 and len(set(after)) == 1
    print(f"  flat once the limit is reached: {'yes' if flat else 'NO'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="interleaved bare/rerun pairs (default 5)")
    parser.add_argument("--reruns", type=int, default=20, help="structural reruns for the memory check (default 20)")
    parser.add_argument("--keep-reruns", type=int, default=None, help="the retention limit (default: stallmagic's)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per fit (default 2; only epoch 1 is timed)")
    parser.add_argument("--skip-timing", action="store_true", help="measure memory only")
    args = parser.parse_args()
    if args.keep_reruns is not None:
        set_keep_reruns(args.keep_reruns)
    limit = LEDGER.keep_reruns

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    order = np.random.default_rng(0).permutation(len(y))
    x, y = x[order], y[order]

    keras.utils.set_random_seed(0)
    model = build()
    with stallmagic.capture(label="bench") as session:
        model.fit(x, y, validation_split=0.2, epochs=args.epochs, batch_size=32, verbose=0)
    run = session.runs[0]
    start = run.initial_weights
    if not args.skip_timing:
        timing(run, model, start, x, y, args)
    memory(run, start, args.reruns, limit)


if __name__ == "__main__":
    main()
