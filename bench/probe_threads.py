"""The scikit-learn probes on one thread against the default thread pools, side by side in one process.

The diagnosis runs its probes (``stallmagic.diagnosis.signals.probes``) right after a Keras fit, whose thread
pools are still warm. Prints the median wall and CPU time of the domain classifier (``domain_auc``) and the
baseline probe (``run_probe``) both ways, alternating, and their ratio: one thread should not be slower.

    python bench/probe_threads.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    import keras
    from sklearn.datasets import load_digits

    from stallmagic.diagnosis.signals import probes

    x, y = load_digits(return_X_y=True)
    x = (x / 16).astype("float32")
    model = keras.Sequential(
        [keras.Input((64,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(10, activation="softmax")]
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, verbose=0)  # TensorFlow's pools warm, as after the user's fit
    jobs = {
        "domain_auc": lambda f: f(x[:1200], x[1200:]),
        "run_probe": lambda f: f(x[:1200], y[:1200], x[1200:], y[1200:], task="classification", n_classes=10),
    }
    for name, call in jobs.items():
        wrapped = getattr(probes, name)
        ways = {"one thread": wrapped, "default": wrapped.__wrapped__}
        times: dict[str, list[tuple[float, float]]] = {k: [] for k in ways}
        for _ in range(args.repeats):
            for way, fn in ways.items():
                t, c = time.perf_counter(), time.process_time()
                call(fn)
                times[way].append((time.perf_counter() - t, time.process_time() - c))
        wall = {k: statistics.median(a for a, _ in v) for k, v in times.items()}
        cpu = {k: statistics.median(b for _, b in v) for k, v in times.items()}
        print(
            f"{name}: wall {wall['one thread']:.2f} s one thread vs {wall['default']:.2f} s default "
            f"(ratio {wall['one thread'] / wall['default']:.2f}); CPU {cpu['one thread']:.2f} vs {cpu['default']:.2f} s"
        )


if __name__ == "__main__":
    main()
