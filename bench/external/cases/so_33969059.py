"""StackOverflow 33969059: a small tanh MLP fitted to a noiseless linear function of three inputs in [0, 10000].

The buggy program ends its regression network in ``Activation('softmax')`` on one unit (a constant 1). The
authors' fix makes the output linear (and writes each activation inside its Dense layer); the correct version also
divides the true weights and intercept by their largest magnitude (2.2), so its targets are 2.2 times smaller.
"""

from __future__ import annotations

import numpy as np

from ..harness import Case, Mirror, Program

#: Training rows: 100,000 in the program; 40,000 keep one fit under a minute here.
ROWS = 40000

CASE = Case(
    name="so_33969059",
    repo="Wardat-ISU/DeepLocalize",
    path="Benchmark/StackOverflow/33969059/{variant} Code",
    labels=("activation",),
    summary="Linear regression with a tanh MLP whose single output unit is a softmax; the fix makes it linear.",
    deviations=(
        "DeepLocalize's instrumentation callback is dropped",
        "the data are generated with np.random.default_rng(0) instead of the global numpy generator",
        "the test set (used only by evaluate() after fit) is not generated",
        "40,000 training rows instead of 100,000 (time); 20 epochs as written",
    ),
)


def _data(count: int, ws: list[float], xno: float, bounds: float) -> tuple[np.ndarray, np.ndarray]:
    """The program's get_data() for its training rows (rweight=0: no noise on the intercept)."""
    rng = np.random.default_rng(0)
    xt = bounds * rng.random((count, len(ws)))
    yt = xt @ np.array(ws, dtype=float) + xno
    return xt, yt


def build(mirror: Mirror, variant: str) -> Program:
    import keras
    from keras import layers

    ws, xno = [2.0, 1.0, 0.5], 2.2
    if variant != "buggy":  # the correct version rescales the weights and the intercept by the largest of them
        mx = max(abs(v) for v in [*ws, xno])
        ws, xno = [w / mx for w in ws], xno / mx
    x_train, y_train = _data(ROWS, ws, xno, 10000)

    def uniform() -> keras.initializers.Initializer:
        return keras.initializers.RandomUniform(-0.05, 0.05)  # Keras 1's init='uniform'

    if variant == "buggy":
        model = keras.Sequential([
            keras.Input((3,)),
            layers.Dense(3, kernel_initializer=uniform()), layers.Activation("tanh"), layers.Dropout(0.5),
            layers.Dense(2, kernel_initializer=uniform()), layers.Activation("tanh"), layers.Dropout(0.5),
            layers.Dense(1, kernel_initializer=uniform()), layers.Activation("softmax"),
        ])  # fmt: skip
    else:
        model = keras.Sequential([
            keras.Input((3,)),
            layers.Dense(3, kernel_initializer=uniform(), activation="tanh"), layers.Dropout(0.5),
            layers.Dense(2, kernel_initializer=uniform(), activation="tanh"), layers.Dropout(0.5),
            layers.Dense(1, kernel_initializer=uniform(), activation="linear"),
        ])  # fmt: skip
    lr = keras.optimizers.schedules.InverseTimeDecay(0.1, decay_steps=1, decay_rate=1e-6)
    sgd = keras.optimizers.SGD(learning_rate=lr, momentum=0.9, nesterov=True)
    model.compile(loss="mean_squared_error", optimizer=sgd, metrics=["accuracy"])
    return Program(model, dict(x=x_train, y=y_train, shuffle="batch", epochs=20), task="regression")
