"""Small real trainings with one known fault each (or none), shared by the tests and ``bench/``.

Every scenario builds its data from scikit-learn's bundled sets or generators (no download), builds and compiles
a small Keras model, and returns the arguments of one ``fit`` call. ``train(scenario)`` runs it under
``stallmagic.capture()`` and returns the Run. ``expect`` is the cause code the diagnosis should rank first, or
``None`` for a healthy run (the diagnosis must raise nothing). Scenarios vary model styles (Sequential,
Functional, subclassed), losses, label encodings (integers, one-hot, binary) and validation modes
(``validation_split``, ``validation_data``, ``tf.data``) so that no rule is tuned to one set-up.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np


@dataclass(frozen=True)
class Scenario:
    name: str
    expect: str | None
    build: Callable[[], tuple[object, dict]]
    description: str
    raises: type[Exception] | None = None  # the fit is expected to raise this (a partial run is diagnosed)


def _digits():
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    return (x / 16.0).astype("float32"), y.astype("int64")


def _cancer(*, scaled: bool = True):
    from sklearn.datasets import load_breast_cancer

    x, y = load_breast_cancer(return_X_y=True)
    if scaled:
        x = (x - x.mean(axis=0)) / x.std(axis=0)
    return x.astype("float32"), y.astype("int64")


def _shuffle(*arrays, seed: int = 0):
    p = np.random.default_rng(seed).permutation(len(arrays[0]))
    return tuple(a[p] for a in arrays)


def _split(x, y, frac: float = 0.25, seed: int = 0):
    from sklearn.model_selection import train_test_split

    stratify = y if y.ndim == 1 else y.argmax(axis=1)
    return train_test_split(x, y, test_size=frac, random_state=seed, stratify=stratify)


def _mlp(n_in: int, n_out: int, hidden=(64,), *, out="softmax", activation="relu", **dense_kwargs):
    import keras

    layers = [keras.Input((n_in,))]
    layers += [keras.layers.Dense(h, activation=activation, **dense_kwargs) for h in hidden]
    layers.append(keras.layers.Dense(n_out, activation=out))
    return keras.Sequential(layers)


# ---------------------------------------------------------------------- healthy runs


def healthy_digits():
    x, y = _shuffle(*_digits())
    model = _mlp(64, 10)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, dict(x=x, y=y, validation_split=0.2, epochs=20, batch_size=32)


def healthy_cancer_functional():
    import keras

    x, y = _cancer()
    xt, xv, yt, yv = _split(x, y)
    inputs = keras.Input((30,))
    h = keras.layers.Dense(16, activation="relu")(inputs)
    outputs = keras.layers.Dense(1, activation="sigmoid")(h)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model, dict(x=xt, y=yt, validation_data=(xv, yv), epochs=25, batch_size=32)


def healthy_wine_onehot_tfdata():
    import tensorflow as tf
    from sklearn.datasets import load_wine

    x, y = load_wine(return_X_y=True)
    x = ((x - x.mean(axis=0)) / x.std(axis=0)).astype("float32")
    onehot = np.eye(3, dtype="float32")[y]
    xt, xv, yt, yv = _split(x, onehot)
    train = tf.data.Dataset.from_tensor_slices((xt, yt)).shuffle(200, seed=0).batch(16)
    val = tf.data.Dataset.from_tensor_slices((xv, yv)).batch(64)
    model = _mlp(13, 3, (32,))
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["categorical_accuracy"])
    return model, dict(x=train, validation_data=val, epochs=40)


def healthy_moons():
    from sklearn.datasets import make_moons

    x, y = make_moons(n_samples=1200, noise=0.2, random_state=0)
    model = _mlp(2, 1, (32, 32), out="sigmoid")
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model, dict(x=x.astype("float32"), y=y, validation_split=0.25, epochs=30, batch_size=32)


def healthy_iris_subclassed():
    import keras
    from sklearn.datasets import load_iris

    x, y = load_iris(return_X_y=True)
    x = ((x - x.mean(axis=0)) / x.std(axis=0)).astype("float32")
    xt, xv, yt, yv = _split(x, y, 0.3)

    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden = keras.layers.Dense(16, activation="relu")
            self.out = keras.layers.Dense(3, activation="softmax")

        def call(self, inputs):
            return self.out(self.hidden(inputs))

    model = Net()
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["acc"])
    return model, dict(x=xt, y=yt, validation_data=(xv, yv), epochs=40, batch_size=16)


def healthy_make_classification():
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=2000, n_features=20, n_informative=8, n_classes=3, class_sep=1.5,
                               flip_y=0.0, random_state=0)
    model = _mlp(20, 3, (64,))
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, dict(x=x.astype("float32"), y=y, validation_split=0.2, epochs=15, batch_size=64)


# ---------------------------------------------------------------------- data faults


def insufficient_data():
    x, y = _digits()
    xt, xv, yt, yv = _split(x, y, frac=0.96)  # 71 training rows for 10 classes
    model = _mlp(64, 10, (128,))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, dict(x=xt, y=yt, validation_data=(xv, yv), epochs=40, batch_size=16)


def class_imbalance():
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=3000, n_features=10, n_informative=3, weights=[0.95, 0.05],
                               class_sep=0.5, flip_y=0.0, random_state=1)
    model = _mlp(10, 1, (16,), out="sigmoid")
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model, dict(x=x.astype("float32"), y=y, validation_split=0.25, epochs=15, batch_size=64)


def label_noise():
    x, y = _shuffle(*_digits())
    rng = np.random.default_rng(0)
    flip = rng.random(len(y)) < 0.3
    y = y.copy()
    y[flip] = (y[flip] + rng.integers(1, 10, flip.sum())) % 10
    model = _mlp(64, 10, (128,))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, dict(x=x, y=y, validation_split=0.2, epochs=30, batch_size=32)


def label_noise_beyond_the_probe():
    rng = np.random.default_rng(11)
    x = rng.normal(size=(1500, 12))
    y = (x[:, 0] * x[:, 1] > 0).astype("int64")  # an XOR: the network learns it, the cheap models cannot
    y = np.where(rng.random(len(y)) < 0.2, 1 - y, y)  # 20 % of the labels flipped
    model = _mlp(12, 1, (32, 32), out="sigmoid")
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model, dict(x=x.astype("float32"), y=y, validation_split=0.2, epochs=30, batch_size=32)


def data_quality():
    x, y = _cancer()
    x = x.copy()
    rng = np.random.default_rng(0)
    x[rng.random(x.shape) < 0.02] = np.nan
    xt, xv, yt, yv = _split(x, y)
    model = _mlp(30, 1, (16,), out="sigmoid")
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model, dict(x=xt, y=yt, validation_data=(xv, yv), epochs=10, batch_size=32)


def data_leakage():
    x, y = _digits()
    xt, xv, yt, yv = _split(x, y)
    # validation assembled from training rows plus a few new ones: mostly a copy of training
    x_val = np.concatenate([xt[:300], xv[:60]])
    y_val = np.concatenate([yt[:300], yv[:60]])
    model = _mlp(64, 10)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, dict(x=xt, y=yt, validation_data=(x_val, y_val), epochs=15, batch_size=32)


def unscaled_inputs():
    x, y = _cancer(scaled=False)
    xt, xv, yt, yv = _split(x, y)
    model = _mlp(30, 1, (32, 32), out="sigmoid")
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model, dict(x=xt, y=yt, validation_data=(xv, yv), epochs=25, batch_size=32)


def unshuffled_validation_split():
    x, y = _digits()
    order = np.argsort(y, kind="stable")
    model = _mlp(64, 10)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, dict(x=x[order], y=y[order], validation_split=0.2, epochs=10, batch_size=32)


# ---------------------------------------------------------------------- training regime


def overfitting():
    x, y = _cancer()
    xt, xv, yt, yv = _split(x, y, frac=0.3)
    model = _mlp(30, 1, (256, 256), out="sigmoid")
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model, dict(x=xt, y=yt, validation_data=(xv, yv), epochs=60, batch_size=16)


def underfitting():
    import keras

    x, y = _shuffle(*_digits())
    model = _mlp(64, 10, (32,), kernel_regularizer=keras.regularizers.L2(1.0))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, dict(x=x, y=y, validation_split=0.2, epochs=20, batch_size=32)


def lr_too_high():
    import keras

    x, y = _shuffle(*_digits())
    model = _mlp(64, 10, (64, 64))
    model.compile(optimizer=keras.optimizers.Adam(0.3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model, dict(x=x, y=y, validation_split=0.2, epochs=12, batch_size=32)


def lr_too_low():
    import keras

    x, y = _digits()
    xt, xv, yt, yv = _split(x, y)
    model = _mlp(64, 10, (64,))
    model.compile(optimizer=keras.optimizers.Adam(2e-5), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model, dict(x=xt, y=yt, validation_data=(xv, yv), epochs=15, batch_size=32)


def batch_size():
    x, y = _digits()
    xt, xv, yt, yv = _split(x, y)
    model = _mlp(64, 10, (64,))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, dict(x=xt, y=yt, validation_data=(xv, yv), epochs=30, batch_size=len(xt))


def optimizer_choice():
    import keras

    x, y = _digits()
    xt, xv, yt, yv = _split(x, y)
    model = _mlp(64, 10, (32,), activation="tanh")
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model, dict(x=xt, y=yt, validation_data=(xv, yv), epochs=8, batch_size=64)


# ---------------------------------------------------------------------- model and gradients


def loss_mismatch():
    x, y = _cancer()
    xt, xv, yt, yv = _split(x, y)
    model = _mlp(30, 1, (16,), out="softmax")  # softmax over one unit: always 1.0
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model, dict(x=xt, y=yt, validation_data=(xv, yv), epochs=8, batch_size=32)


def loss_mismatch_linear():
    x, y = _shuffle(*_digits())
    model = _mlp(64, 10, (64,), out="linear")  # raw scores ...
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])  # ... as probs
    return model, dict(x=x, y=y, validation_split=0.2, epochs=10, batch_size=32)


def vanishing_gradient():
    import keras

    x, y = _shuffle(*_digits())
    model = _mlp(64, 10, (32,) * 10, activation="sigmoid")
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model, dict(x=x, y=y, validation_split=0.2, epochs=8, batch_size=32)


def exploding_gradient():
    import keras

    x, y = _shuffle(*_digits())
    init = keras.initializers.RandomNormal(stddev=1.5, seed=0)
    model = _mlp(64, 10, (64,) * 6, activation="linear", kernel_initializer=init)
    model.compile(optimizer=keras.optimizers.SGD(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model, dict(x=x, y=y, validation_split=0.2, epochs=6, batch_size=32)


def dying_relu():
    import keras

    x, y = _shuffle(*_digits())
    model = _mlp(64, 10, (64, 64), bias_initializer=keras.initializers.Constant(-3.0))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, dict(x=x, y=y, validation_split=0.2, epochs=8, batch_size=32)


# ---------------------------------------------------------------------- classes that real programs revealed
# (written from scratch for each class; none is a copy of a benchmark program)


def separate_activation_softmax_one_unit():
    import keras

    x, y = _cancer()
    xt, xv, yt, yv = _split(x, y)
    model = keras.Sequential([
        keras.Input((30,)), keras.layers.Dense(16), keras.layers.Activation("relu"),
        keras.layers.Dense(1), keras.layers.Activation("softmax"),
    ])  # fmt: skip
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model, dict(x=xt, y=yt, validation_data=(xv, yv), epochs=6, batch_size=32)


def healthy_per_position_map():
    import keras

    rng = np.random.default_rng(0)
    x = rng.random((1500, 6, 6, 1)).astype("float32")
    y = (x[:, 1:5, 1:5, :] > 0.6).astype("float32")  # one 0/1 target per cell of a 4x4 map
    model = keras.Sequential([
        keras.Input((6, 6, 1)), keras.layers.Conv2D(16, 3, activation="relu"), keras.layers.Conv2D(1, 1),
        keras.layers.Activation("sigmoid"),
    ])  # fmt: skip
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    return model, dict(x=x, y=y, validation_split=0.2, epochs=15, batch_size=32)


def no_validation_lr_too_high():
    import keras

    x, y = _shuffle(*_digits())
    model = _mlp(64, 10, (64, 64))
    model.compile(optimizer=keras.optimizers.RMSprop(0.5), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model, dict(x=x, y=y, epochs=8, batch_size=32)


def sparse_labels_scaled():
    x, y = _shuffle(*_digits())
    model = _mlp(64, 10, (64,))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, dict(x=x, y=y / 10.0, validation_split=0.2, epochs=5, batch_size=32)  # "normalized" labels


def binary_loss_on_softmax():
    from sklearn.datasets import load_wine

    x, y = load_wine(return_X_y=True)
    x = ((x - x.mean(axis=0)) / x.std(axis=0)).astype("float32")
    model = _mlp(13, 3, (16,))
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    xs, ys = _shuffle(x, np.eye(3, dtype="float32")[y])
    return model, dict(x=xs, y=ys, validation_split=0.25, epochs=10, batch_size=16)


def unscaled_targets():
    import keras
    from sklearn.datasets import make_regression

    x, y = make_regression(n_samples=1500, n_features=8, n_informative=6, noise=5.0, random_state=0)
    y = 20_000 + 40 * y  # prices in the tens of thousands
    model = _mlp(8, 1, (32,), out="linear")
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse", metrics=["mae"])
    return model, dict(x=x.astype("float32"), y=y.astype("float32"), validation_split=0.2, epochs=10, batch_size=32)


def unscaled_inputs_and_targets():
    import keras
    from sklearn.datasets import make_regression

    x, y = make_regression(n_samples=1500, n_features=8, n_informative=6, noise=5.0, random_state=3)
    scales = 10.0 ** np.random.default_rng(3).uniform(0, 3, 8)
    x = x * scales + 2 * scales  # raw features on scales 1 to 1000, with offsets
    y = 300_000 + 800 * y  # and targets around 3 x 10^5: standardizing the inputs alone changes nothing
    model = _mlp(8, 1, (32,), out="linear")
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse", metrics=["mae"])
    return model, dict(x=x.astype("float32"), y=y.astype("float32"), validation_split=0.2, epochs=10, batch_size=32)


def train_longer():
    import keras

    x, y = _shuffle(*_digits())
    model = _mlp(64, 10, (32,))
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.5), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model, dict(x=x, y=y, validation_split=0.2, epochs=8, batch_size=64)


def distribution_shift():
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    xt, xv, yt, yv = _split(x.astype("float32"), y)
    model = _mlp(64, 10, (64,))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    # the training pixels are scaled to [0, 1]; the validation pixels were forgotten (0..16)
    return model, dict(x=xt / 16.0, y=yt, validation_data=(xv, yv), epochs=10, batch_size=32)


def healthy_low_cardinality():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 5, (2000, 2)).astype("float32")  # two small counts: rows repeat by chance
    y = ((x[:, 0] + x[:, 1] + rng.normal(0, 0.3, 2000)) > 4).astype("int64")
    model = _mlp(2, 1, (16,), out="sigmoid")
    model.compile(optimizer=keras_adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    return model, dict(x=x, y=y, validation_split=0.2, epochs=15, batch_size=32)


def healthy_class_per_step():
    import keras

    rng = np.random.default_rng(7)
    x = rng.normal(size=(1500, 10, 3)).astype("float32")
    y = np.argmax(x[..., :3] * [1.0, 0.8, 0.6], axis=-1).astype("int64")  # a class for every step
    model = keras.Sequential([keras.Input((10, 3)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])  # fmt: skip
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, dict(x=x, y=y, validation_split=0.2, epochs=6, batch_size=64)  # still rising, above k-NN


def keras_adam(lr):
    import keras

    return keras.optimizers.Adam(lr)


def healthy_tiny_training_set():
    from sklearn.datasets import load_iris

    x, y = load_iris(return_X_y=True)
    x = ((x - x.mean(axis=0)) / x.std(axis=0)).astype("float32")
    xt, xv, yt, yv = _split(x, y, frac=0.7)  # 45 training rows, 15 per class
    model = _mlp(4, 3, (16,))
    model.compile(optimizer=keras_adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, dict(x=xt, y=yt, validation_data=(xv, yv), epochs=40, batch_size=8)


def healthy_hard_overlapping_classes():
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=2000, n_features=10, n_informative=4, class_sep=0.6, flip_y=0.0,
                               random_state=5)
    model = _mlp(10, 1, (32,), out="sigmoid")
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model, dict(x=x.astype("float32"), y=y, validation_split=0.25, epochs=15, batch_size=32)


def vanishing_tanh_small_init():
    import keras

    x, y = _cancer()
    xt, xv, yt, yv = _split(x, y)
    init = keras.initializers.RandomNormal(stddev=0.01, seed=0)
    model = _mlp(30, 1, (32,) * 5, out="sigmoid", activation="tanh", kernel_initializer=init)
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    return model, dict(x=xt, y=yt, validation_data=(xv, yv), epochs=8, batch_size=32)


def underfitting_narrow_layer():
    import keras
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=3000, n_features=16, n_informative=10, n_redundant=2, n_classes=10,
                               n_clusters_per_class=1, class_sep=1.5, random_state=21)
    xt, xv, yt, yv = _split(x.astype("float32"), y)
    inputs = keras.Input((16,))
    hidden = keras.layers.Dense(48, activation="relu")(inputs)
    narrow = keras.layers.Dense(1)(hidden)  # every class must pass through one number
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(narrow))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, dict(x=xt, y=yt, validation_data=(xv, yv), epochs=25, batch_size=32)


def exploding_start_recovered():
    import keras
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=1500, n_features=20, n_informative=8, random_state=23)
    init = keras.initializers.RandomNormal(stddev=0.8, seed=3)  # He would be 0.25 for 32 inputs
    model = _mlp(20, 1, (32,) * 6, out="sigmoid", kernel_initializer=init)
    model.compile(optimizer=keras.optimizers.SGD(0.002), loss="binary_crossentropy", metrics=["accuracy"])
    return model, dict(x=x.astype("float32"), y=y.astype("float32"), validation_split=0.25, epochs=10,
                       batch_size=32)


def healthy_gap_above_reference():
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=2400, n_features=12, n_informative=6, n_redundant=2, n_classes=4,
                               class_sep=0.8, flip_y=0.05, random_state=22)
    xt, xv, yt, yv = _split(x.astype("float32"), y)
    model = _mlp(12, 4, (96, 48))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, dict(x=xt, y=yt, validation_data=(xv, yv), epochs=50, batch_size=32)


def label_noise_two_classes():
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=800, n_features=8, n_informative=5, n_redundant=0, class_sep=2.0,
                               flip_y=0.0, random_state=7)
    rng = np.random.default_rng(7)
    y = np.where(rng.random(len(y)) < 0.3, 1 - y, y)  # 30 % of two classes' labels flipped
    model = _mlp(8, 2, (32,))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, dict(x=x.astype("float32"), y=y, validation_split=0.2, epochs=30, batch_size=32)


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in [
        Scenario("healthy_digits", None, healthy_digits, "digits, Sequential MLP, validation_split"),
        Scenario("healthy_cancer_functional", None, healthy_cancer_functional, "breast_cancer, Functional, sigmoid"),
        Scenario("healthy_wine_onehot_tfdata", None, healthy_wine_onehot_tfdata, "wine, one-hot labels, tf.data"),
        Scenario("healthy_moons", None, healthy_moons, "make_moons, noisy boundary, validation_split"),
        Scenario("healthy_iris_subclassed", None, healthy_iris_subclassed, "iris, subclassed model, 'acc'"),
        Scenario("healthy_make_classification", None, healthy_make_classification, "3 classes, RMSprop"),
        Scenario("insufficient_data", "insufficient_data", insufficient_data, "71 digits for 10 classes"),
        Scenario("class_imbalance", "class_imbalance", class_imbalance, "95:5 binary, weak features"),
        Scenario("label_noise", "label_noise", label_noise, "30% of digit labels flipped"),
        Scenario("label_noise_beyond_the_probe", "label_noise", label_noise_beyond_the_probe,
                 "20% of XOR labels flipped: the network beats the cheap models"),
        Scenario("data_quality", "data_quality", data_quality, "2% NaN inputs"),
        Scenario("data_leakage", "data_leakage", data_leakage, "validation mostly copied from training"),
        Scenario("unscaled_inputs", "unscaled_inputs", unscaled_inputs, "raw breast_cancer features (0.001-4000)"),
        Scenario("unshuffled_validation_split", "unshuffled_validation_split", unshuffled_validation_split,
                 "digits sorted by label, validation_split=0.2"),
        Scenario("overfitting", "overfitting", overfitting, "256x2 MLP, 60 epochs on 398 rows"),
        Scenario("underfitting", "underfitting", underfitting, "L2(1.0) on every kernel"),
        Scenario("lr_too_high", "lr_too_high", lr_too_high, "Adam at 0.3"),
        Scenario("lr_too_low", "lr_too_low", lr_too_low, "Adam at 2e-5"),
        Scenario("batch_size", "batch_size", batch_size, "one full batch per epoch"),
        Scenario("optimizer_choice", "optimizer_choice", optimizer_choice, "plain SGD, no momentum"),
        Scenario("loss_mismatch", "loss_mismatch", loss_mismatch, "softmax on one unit"),
        Scenario("loss_mismatch_linear", "loss_mismatch", loss_mismatch_linear, "linear output, from_logits=False"),
        Scenario("vanishing_gradient", "vanishing_gradient", vanishing_gradient, "10 sigmoid layers"),
        Scenario("exploding_gradient", "exploding_gradient", exploding_gradient, "6 linear layers, N(0, 1.5) init"),
        Scenario("dying_relu", "dying_relu", dying_relu, "ReLU layers with bias -3"),
        Scenario("separate_activation_softmax_one_unit", "loss_mismatch", separate_activation_softmax_one_unit,
                 "Dense(1) then Activation('softmax')"),
        Scenario("healthy_per_position_map", None, healthy_per_position_map, "a 0/1 target per cell of a map"),
        Scenario("no_validation_lr_too_high", "lr_too_high", no_validation_lr_too_high, "RMSprop at 0.5, no val"),
        Scenario("sparse_labels_scaled", "loss_mismatch", sparse_labels_scaled, "labels divided by 10"),
        Scenario("binary_loss_on_softmax", "loss_mismatch", binary_loss_on_softmax, "binary CE on 3-class softmax"),
        Scenario("unscaled_targets", "unscaled_targets", unscaled_targets, "regression targets around 20,000"),
        Scenario("unscaled_inputs_and_targets", "unscaled_targets", unscaled_inputs_and_targets,
                 "raw inputs (1-1000) and targets around 3 x 10^5"),
        Scenario("train_longer", "train_longer", train_longer, "SGD, 8 epochs, still climbing"),
        Scenario("distribution_shift", "distribution_shift", distribution_shift, "validation pixels not scaled"),
        Scenario("healthy_low_cardinality", None, healthy_low_cardinality, "two small counts: rows repeat"),
        Scenario("healthy_class_per_step", None, healthy_class_per_step, "a class for every step of a sequence"),
        Scenario("healthy_tiny_training_set", None, healthy_tiny_training_set, "45 iris rows"),
        Scenario("healthy_hard_overlapping_classes", None, healthy_hard_overlapping_classes,
                 "make_classification with class_sep=0.6"),
        Scenario("vanishing_tanh_small_init", "vanishing_gradient", vanishing_tanh_small_init,
                 "5 tanh layers, N(0, 0.01) init"),
        Scenario("underfitting_narrow_layer", "underfitting", underfitting_narrow_layer,
                 "10 classes through a one-unit layer, still creeping up"),
        Scenario("exploding_start_recovered", "exploding_gradient", exploding_start_recovered,
                 "6 ReLU layers, N(0, 0.8) init, plain SGD: first-epoch loss ~10^3, then near chance"),
        Scenario("healthy_gap_above_reference", None, healthy_gap_above_reference,
                 "hard 4 classes: a train-validation gap, validation above the quick model"),
        Scenario("label_noise_two_classes", "label_noise", label_noise_two_classes,
                 "30% of two well-separated classes' labels flipped, 2-unit softmax"),
    ]
}


def train(scenario: Scenario | str, *, seed: int = 0):
    """Build and fit the scenario under ``stallmagic.capture()``; returns its Run."""
    import keras

    import stallmagic

    if isinstance(scenario, str):
        scenario = {**SCENARIOS, **HELDOUT}[scenario]
    keras.utils.set_random_seed(seed)
    model, kwargs = scenario.build()
    with stallmagic.capture(label=scenario.name) as session:
        try:
            model.fit(verbose=0, **kwargs)
        except Exception as exc:
            if scenario.raises is None or not isinstance(exc, scenario.raises):
                raise
    return session.runs[-1]


# ---------------------------------------------------------------------- held out: never used to tune the rules
# Other data, models and encodings for the same causes. ``bench/diagnosis.py --heldout`` runs them; they tell
# whether the rules generalize beyond the scenarios above.


def ho_imbalance_onehot():
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=3000, n_features=12, n_informative=4, n_classes=3,
                               weights=[0.9, 0.05, 0.05], class_sep=0.6, flip_y=0.0, random_state=3)
    model = _mlp(12, 3, (32,))
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model, dict(x=x.astype("float32"), y=np.eye(3, dtype="float32")[y], validation_split=0.2, epochs=12)


def ho_noise_cancer():
    import keras

    x, y = _cancer()
    y = y.copy()
    rng = np.random.default_rng(1)
    flip = rng.random(len(y)) < 0.25
    y[flip] = 1 - y[flip]
    xt, xv, yt, yv = _split(x, y)
    inputs = keras.Input((30,))
    outputs = keras.layers.Dense(1, activation="sigmoid")(keras.layers.Dense(64, activation="relu")(inputs))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model, dict(x=xt, y=yt, validation_data=(xv, yv), epochs=40, batch_size=16)


def ho_lr_high_sgd():
    import keras

    x, y = _shuffle(*_digits())
    model = _mlp(64, 10, (64,))
    model.compile(optimizer=keras.optimizers.SGD(3.0), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, dict(x=x, y=y, validation_split=0.2, epochs=8)


def ho_unscaled_mixed_scales():
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=2000, n_features=10, n_informative=6, random_state=4)
    scales = 10.0 ** np.random.default_rng(4).uniform(0, 4, 10)
    model = _mlp(10, 1, (32,), out="sigmoid")
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model, dict(x=(x * scales).astype("float32"), y=y, validation_split=0.25, epochs=15)


def ho_ordered_binary_split():
    x, y = _cancer()
    order = np.argsort(y, kind="stable")
    model = _mlp(30, 1, (16,), out="sigmoid")
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model, dict(x=x[order], y=y[order], validation_split=0.25, epochs=15, batch_size=32)


def ho_leakage_cancer():
    x, y = _cancer()
    xt, xv, yt, yv = _split(x, y)
    return_val = (np.concatenate([xt[:100], xv]), np.concatenate([yt[:100], yv]))
    model = _mlp(30, 1, (16,), out="sigmoid")
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model, dict(x=xt, y=yt, validation_data=return_val, epochs=15, batch_size=32)


def ho_categorical_loss_int_labels():
    x, y = _shuffle(*_digits())
    model = _mlp(64, 10, (32,))
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model, dict(x=x, y=y[:, None].astype("float32"), validation_split=0.2, epochs=5)


def ho_healthy_cnn():
    import keras

    x, y = _shuffle(*_digits())
    model = keras.Sequential([
        keras.Input((8, 8, 1)), keras.layers.Conv2D(16, 3, activation="relu"), keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ])  # fmt: skip
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, dict(x=x.reshape(-1, 8, 8, 1), y=y, validation_split=0.2, epochs=15)


def ho_healthy_regression():
    from sklearn.datasets import load_diabetes

    x, y = load_diabetes(return_X_y=True)
    x = ((x - x.mean(axis=0)) / x.std(axis=0)).astype("float32")
    y = ((y - y.mean()) / y.std()).astype("float32")
    from sklearn.model_selection import train_test_split

    xt, xv, yt, yv = train_test_split(x, y, test_size=0.25, random_state=0)
    model = _mlp(10, 1, (32,), out="linear")
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    return model, dict(x=xt, y=yt, validation_data=(xv, yv), epochs=40, batch_size=32)


def ho_healthy_imbalanced_easy():
    x, y = _shuffle(*_digits())
    model = _mlp(64, 1, (32,), out="sigmoid")
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model, dict(x=x, y=(y == 0).astype("int64"), validation_split=0.2, epochs=15)


def ho_healthy_overlapping_moons():
    from sklearn.datasets import make_moons

    x, y = make_moons(n_samples=1500, noise=0.35, random_state=2)
    model = _mlp(2, 1, (32, 32), out="sigmoid")
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model, dict(x=x.astype("float32"), y=y, validation_split=0.2, epochs=25)


# held-out variants of the classes that real programs revealed (written before their first run; never tuned to)


def ho_relu_output_layer_functional():
    import keras
    from sklearn.datasets import load_wine

    x, y = load_wine(return_X_y=True)
    x = ((x - x.mean(axis=0)) / x.std(axis=0)).astype("float32")
    xt, xv, yt, yv = _split(x, y)
    inputs = keras.Input((13,))
    h = keras.layers.Activation("tanh")(keras.layers.Dense(16)(inputs))
    outputs = keras.layers.Activation("relu")(keras.layers.Dense(3)(h))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, dict(x=xt, y=yt, validation_data=(xv, yv), epochs=15, batch_size=16)


def ho_no_validation_softmax_one_unit():
    import keras

    x, y = _cancer()
    model = keras.Sequential([keras.Input((30,)), keras.layers.Dense(8), keras.layers.Activation("relu"),
                              keras.layers.Dense(1), keras.layers.Activation("softmax")])  # fmt: skip
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    return model, dict(x=x, y=y, epochs=6, batch_size=16)


def ho_sigmoid_output_for_raw_targets():
    from sklearn.datasets import load_diabetes

    x, y = load_diabetes(return_X_y=True)
    model = _mlp(10, 1, (32,), out="sigmoid")
    model.compile(optimizer="adam", loss="mse")
    return model, dict(x=x.astype("float32"), y=y.astype("float32"), validation_split=0.2, epochs=10)


def ho_plus_minus_one_labels_sparse():
    x, y = _cancer()
    model = _mlp(30, 2, (16,))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    xs, ys = _shuffle(x, 2 * y - 1)  # SVM-style labels: -1 and +1
    return model, dict(x=xs, y=ys, validation_split=0.2, epochs=5, batch_size=32)


def ho_unscaled_targets_offset():
    from sklearn.datasets import make_friedman1

    x, y = make_friedman1(n_samples=1500, noise=0.5, random_state=1)
    model = _mlp(10, 1, (64,), out="linear")
    model.compile(optimizer="sgd", loss="mse")
    return model, dict(x=x.astype("float32"), y=(900 * y + 4000).astype("float32"), validation_split=0.25,
                       epochs=8, batch_size=32)  # fmt: skip


def ho_train_longer_rmsprop():
    import keras

    x, y = _shuffle(*_digits())
    model = _mlp(64, 10, (32,), activation="tanh")
    model.compile(optimizer=keras.optimizers.RMSprop(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model, dict(x=x, y=y, validation_split=0.25, epochs=5, batch_size=256)


def ho_validation_left_unscaled():
    from sklearn.datasets import load_breast_cancer

    x, y = load_breast_cancer(return_X_y=True)
    xt, xv, yt, yv = _split(x.astype("float32"), y)
    mean, std = xt.mean(axis=0), xt.std(axis=0)
    model = _mlp(30, 1, (16,), out="sigmoid")
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model, dict(x=(xt - mean) / std, y=yt, validation_data=(xv, yv), epochs=15, batch_size=32)


def ho_healthy_per_step_labels():
    import keras

    rng = np.random.default_rng(3)
    x = rng.normal(size=(1200, 12, 2)).astype("float32")
    y = (x[..., 0] > 0.5).astype("int64") + (x[..., 1] > 0.5).astype("int64")  # a class per step: 0, 1 or 2
    model = keras.Sequential([keras.Input((12, 2)), keras.layers.Conv1D(16, 1, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])  # fmt: skip
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, dict(x=x, y=y, validation_split=0.2, epochs=12, batch_size=32)


def ho_healthy_categorical_counts():
    import keras

    rng = np.random.default_rng(4)
    x = np.c_[rng.integers(0, 3, 2500), rng.integers(0, 4, 2500)].astype("float32")  # 12 distinct rows
    y = ((x[:, 0] == 2) | (x[:, 1] == 0)).astype("int64")
    model = _mlp(2, 1, (16,), out="sigmoid")
    # Adam at 0.01: at the default 0.001 the net stopped at 0.85-0.92 of a reachable 1.0 (a real stall, not healthy)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    return model, dict(x=x, y=y, validation_split=0.2, epochs=20, batch_size=64)


def ho_vanishing_sigmoid_small_init():
    import keras

    x, y = _shuffle(*_digits())
    init = keras.initializers.RandomNormal(stddev=0.02, seed=1)
    model = _mlp(64, 10, (48,) * 6, activation="sigmoid", kernel_initializer=init)
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model, dict(x=x, y=y, validation_split=0.2, epochs=6, batch_size=32)


def ho_raw_features_and_targets():
    import keras
    from sklearn.datasets import load_diabetes

    x, y = load_diabetes(return_X_y=True, scaled=False)  # raw clinical features (scales 1 to about 200)
    xt, xv, yt, yv = x[:330], x[330:], y[:330], y[330:]
    inputs = keras.Input((10,))
    hidden = keras.layers.Dense(48, activation="relu")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Dense(24, activation="relu")(hidden)))
    model.compile(optimizer=keras.optimizers.RMSprop(1e-3), loss="mae")
    scale = lambda t: (1000 * t + 50_000).astype("float32")  # noqa: E731  (costs in the tens of thousands)
    return model, dict(x=xt.astype("float32"), y=scale(yt), validation_data=(xv.astype("float32"), scale(yv)),
                       epochs=12, batch_size=32)  # fmt: skip


# Added in the sixth session for the nine causes that had no held-out scenario (insufficient data, bad values,
# overfitting, underfitting, a learning rate too low, the batch size, the optimizer, exploding gradients, dead
# ReLUs), and two healthy controls: each on other data, models or encodings than the tuning scenario of its cause,
# all written and committed before their first run.


def _classes(n: int, *, classes: int, features: int = 20, seed: int = 11):
    """A generated classification task with structure a network can learn (scaled)."""
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=n, n_features=features, n_informative=min(features, 10), n_redundant=0,
                               n_classes=classes, n_clusters_per_class=2, class_sep=1.0, random_state=seed)
    return ((x - x.mean(axis=0)) / x.std(axis=0)).astype("float32"), y.astype("int64")  # fmt: skip


def _wine(*, scaled: bool = True):
    from sklearn.datasets import load_wine

    x, y = load_wine(return_X_y=True)
    if scaled:
        x = (x - x.mean(axis=0)) / x.std(axis=0)
    return x.astype("float32"), y.astype("int64")


def ho_insufficient_data_generated():
    x, y = _classes(1400, classes=6)
    xt, xv, yt, yv = _split(x, y, frac=1300 / 1400)  # 100 training rows for 6 classes, 1,300 to validate on
    model = _mlp(20, 6, (96, 96))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, dict(x=xt, y=yt, validation_data=(xv, yv), epochs=60, batch_size=16)


def ho_bad_values_wine_onehot():
    x, y = _wine()
    xt, xv, yt, yv = _split(x, y)
    xt = xt.copy()
    xt[np.random.default_rng(5).random(xt.shape) < 0.03] = np.inf  # infinities in the training inputs only
    model = _mlp(13, 3, (32,))
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    eye = np.eye(3, dtype="float32")
    return model, dict(x=xt, y=eye[yt], validation_data=(xv, eye[yv]), epochs=15, batch_size=16)


def ho_overfitting_digits_wide():
    x, y = _digits()
    xt, xv, yt, yv = _split(x, y, frac=0.8)  # 359 training rows
    model = _mlp(64, 10, (512, 512, 512))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, dict(x=xt, y=yt, validation_data=(xv, yv), epochs=80, batch_size=16)


def ho_underfitting_one_unit_bottleneck():
    import keras

    x, y = _shuffle(*_digits())
    model = keras.Sequential([
        keras.Input((64,)), keras.layers.Dense(64, activation="relu"), keras.layers.Dense(1),  # one number left
        keras.layers.Dense(10, activation="softmax"),
    ])  # fmt: skip
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, dict(x=x, y=y, validation_split=0.2, epochs=25, batch_size=32)


def ho_lr_too_low_rmsprop():
    import keras

    x, y = _classes(2000, classes=4, seed=12)
    model = _mlp(20, 4, (64, 32))
    model.compile(optimizer=keras.optimizers.RMSprop(3e-6), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model, dict(x=x, y=y, validation_split=0.25, epochs=20, batch_size=32)


def ho_full_batch_generated():
    x, y = _classes(3000, classes=5, seed=13)
    model = _mlp(20, 5, (64, 64))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, dict(x=x, y=y, validation_split=0.2, epochs=25, batch_size=2400)  # every row in one batch


def ho_plain_sgd_wine_onehot():
    import keras

    x, y = _wine()
    xt, xv, yt, yv = _split(x, y, frac=0.3)
    model = _mlp(13, 3, (32, 32))
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="categorical_crossentropy", metrics=["accuracy"])
    eye = np.eye(3, dtype="float32")
    return model, dict(x=xt, y=eye[yt], validation_data=(xv, eye[yv]), epochs=10, batch_size=32)


def ho_exploding_deep_relu_cancer():
    import keras

    x, y = _cancer()
    xt, xv, yt, yv = _split(x, y)
    init = keras.initializers.RandomNormal(stddev=0.9, seed=1)
    model = _mlp(30, 1, (48,) * 8, out="sigmoid", kernel_initializer=init)
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    return model, dict(x=xt, y=yt, validation_data=(xv, yv), epochs=8, batch_size=32)


def ho_dead_relu_negative_weights():
    import keras

    x, y = _wine(scaled=False)
    x = ((x - x.min(axis=0)) / (x.max(axis=0) - x.min(axis=0))).astype("float32")  # min-max: every input >= 0
    xt, xv, yt, yv = _split(x, y)
    init = keras.initializers.RandomUniform(-0.4, -0.05, seed=2)  # with inputs >= 0, every unit starts below 0
    model = _mlp(13, 3, (32, 32), kernel_initializer=init)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, dict(x=xt, y=yt, validation_data=(xv, yv), epochs=20, batch_size=16)


def ho_healthy_wine_onehot():
    x, y = _wine()
    xt, xv, yt, yv = _split(x, y, frac=0.3)
    model = _mlp(13, 3, (32,))
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    eye = np.eye(3, dtype="float32")
    return model, dict(x=xt, y=eye[yt], validation_data=(xv, eye[yv]), epochs=40, batch_size=16)


def ho_healthy_generated_functional():
    import keras

    x, y = _classes(2500, classes=4, seed=14)
    inputs = keras.Input((20,))
    hidden = keras.layers.Dense(64, activation="relu")(inputs)
    outputs = keras.layers.Dense(4, activation="softmax")(keras.layers.Dense(32, activation="relu")(hidden))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, dict(x=x, y=y, validation_split=0.2, epochs=30, batch_size=32)


def ho_underfitting_blobs_two_units():
    import keras
    from sklearn.datasets import make_blobs

    x, y = make_blobs(n_samples=2400, n_features=8, centers=12, cluster_std=2.0, random_state=31)
    x = ((x - x.mean(axis=0)) / x.std(axis=0)).astype("float32")
    model = keras.Sequential([
        keras.Input((8,)), keras.layers.Dense(64, activation="relu"), keras.layers.Dense(2, activation="tanh"),
        keras.layers.Dense(12, activation="softmax"),
    ])  # fmt: skip
    model.compile(optimizer=keras.optimizers.RMSprop(0.001), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model, dict(x=x, y=y, validation_split=0.2, epochs=30, batch_size=32)


def ho_exploding_moons_recovers():
    import keras
    from sklearn.datasets import make_moons

    x, y = make_moons(n_samples=1600, noise=0.25, random_state=32)
    x = ((x - x.mean(axis=0)) / x.std(axis=0)).astype("float32")
    xt, xv, yt, yv = _split(x, y)
    init = keras.initializers.RandomNormal(stddev=0.7, seed=4)
    model = _mlp(2, 1, (40,) * 7, out="sigmoid", kernel_initializer=init)
    model.compile(optimizer=keras.optimizers.SGD(0.003), loss="binary_crossentropy", metrics=["accuracy"])
    return model, dict(x=xt, y=yt.astype("float32"), validation_data=(xv, yv.astype("float32")), epochs=12,
                       batch_size=32)


def ho_healthy_gap_onehot_noisy():
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=3000, n_features=15, n_informative=7, n_redundant=3, n_classes=6,
                               n_clusters_per_class=1, class_sep=0.9, flip_y=0.08, random_state=33)
    xt, xv, yt, yv = _split(x.astype("float32"), y, frac=0.2)
    model = _mlp(15, 6, (128, 64))
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    eye = np.eye(6, dtype="float32")
    return model, dict(x=xt, y=eye[yt], validation_data=(xv, eye[yv]), epochs=40, batch_size=64)


def ho_noise_digits_halves():
    import keras

    x, y = _digits()
    y = (y >= 5).astype("int64")
    rng = np.random.default_rng(19)
    y = np.where(rng.random(len(y)) < 0.3, 1 - y, y)
    xt, xv, yt, yv = _split(x, y, frac=0.2, seed=19)
    inputs = keras.Input((64,))
    hidden = keras.layers.Dense(96, activation="relu")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(hidden))
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    eye = np.eye(2, dtype="float32")
    return model, dict(x=xt, y=eye[yt], validation_data=(xv, eye[yv]), epochs=25, batch_size=32)


def ho_healthy_weak_binary():
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=2400, n_features=12, n_informative=3, n_redundant=2, class_sep=0.35,
                               flip_y=0.0, random_state=21)
    model = _mlp(12, 1, (24,), out="sigmoid")
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model, dict(x=x.astype("float32"), y=y, validation_split=0.25, epochs=20, batch_size=32)


HELDOUT: dict[str, Scenario] = {
    s.name: s
    for s in [
        Scenario("ho_imbalance_onehot", "class_imbalance", ho_imbalance_onehot, "90:5:5, one-hot labels"),
        Scenario("ho_noise_cancer", "label_noise", ho_noise_cancer, "25% flipped binary labels, Functional"),
        Scenario("ho_lr_high_sgd", "lr_too_high", ho_lr_high_sgd, "SGD at 3.0"),
        Scenario("ho_unscaled_mixed_scales", "unscaled_inputs", ho_unscaled_mixed_scales, "scales 1 to 10^4"),
        Scenario("ho_ordered_binary_split", "unshuffled_validation_split", ho_ordered_binary_split,
                 "breast_cancer sorted by label"),
        Scenario("ho_leakage_cancer", "data_leakage", ho_leakage_cancer, "100 training rows in validation"),
        Scenario("ho_categorical_loss_int_labels", "loss_mismatch", ho_categorical_loss_int_labels,
                 "categorical_crossentropy on integer labels (Keras raises)", raises=ValueError),
        Scenario("ho_healthy_cnn", None, ho_healthy_cnn, "digits as 8x8 images, Conv2D"),
        Scenario("ho_healthy_regression", None, ho_healthy_regression, "diabetes regression, MSE"),
        Scenario("ho_healthy_imbalanced_easy", None, ho_healthy_imbalanced_easy, "'is it a 0?' 10:90, easy"),
        Scenario("ho_healthy_overlapping_moons", None, ho_healthy_overlapping_moons, "moons with heavy overlap"),
        Scenario("ho_relu_output_layer_functional", "loss_mismatch", ho_relu_output_layer_functional,
                 "Functional, Activation('relu') output layer, sparse CE"),
        Scenario("ho_no_validation_softmax_one_unit", "loss_mismatch", ho_no_validation_softmax_one_unit,
                 "softmax layer on one unit, no validation"),
        Scenario("ho_sigmoid_output_for_raw_targets", "loss_mismatch", ho_sigmoid_output_for_raw_targets,
                 "sigmoid output, diabetes targets 25-346"),
        Scenario("ho_plus_minus_one_labels_sparse", "loss_mismatch", ho_plus_minus_one_labels_sparse,
                 "labels -1/+1 with a sparse loss (TensorFlow raises on the first batch)", raises=Exception),
        Scenario("ho_unscaled_targets_offset", "unscaled_targets", ho_unscaled_targets_offset,
                 "friedman1 targets x900 + 4000, SGD"),
        Scenario("ho_train_longer_rmsprop", "train_longer", ho_train_longer_rmsprop, "5 epochs of 6 batches"),
        Scenario("ho_validation_left_unscaled", "distribution_shift", ho_validation_left_unscaled,
                 "training standardized, validation raw"),
        Scenario("ho_healthy_per_step_labels", None, ho_healthy_per_step_labels, "a class per sequence step"),
        Scenario("ho_healthy_categorical_counts", None, ho_healthy_categorical_counts, "12 distinct input rows"),
        Scenario("ho_vanishing_sigmoid_small_init", "vanishing_gradient", ho_vanishing_sigmoid_small_init,
                 "6 sigmoid layers, N(0, 0.02) init, SGD"),
        Scenario("ho_raw_features_and_targets", "unscaled_targets", ho_raw_features_and_targets,
                 "raw diabetes features, costs around 10^5, Functional, MAE"),
        Scenario("ho_insufficient_data_generated", "insufficient_data", ho_insufficient_data_generated,
                 "100 generated rows for 6 classes"),
        Scenario("ho_bad_values_wine_onehot", "data_quality", ho_bad_values_wine_onehot,
                 "3% infinite training inputs, wine, one-hot"),
        Scenario("ho_overfitting_digits_wide", "overfitting", ho_overfitting_digits_wide,
                 "512x3 MLP, 80 epochs on 359 digits"),
        Scenario("ho_underfitting_one_unit_bottleneck", "underfitting", ho_underfitting_one_unit_bottleneck,
                 "a one-unit linear layer before the softmax"),
        Scenario("ho_lr_too_low_rmsprop", "lr_too_low", ho_lr_too_low_rmsprop, "RMSprop at 3e-6"),
        Scenario("ho_full_batch_generated", "batch_size", ho_full_batch_generated, "2,400 rows in one batch"),
        Scenario("ho_plain_sgd_wine_onehot", "optimizer_choice", ho_plain_sgd_wine_onehot,
                 "plain SGD 0.01, ReLU, one-hot wine"),
        Scenario("ho_exploding_deep_relu_cancer", "exploding_gradient", ho_exploding_deep_relu_cancer,
                 "8 ReLU layers, N(0, 0.9) init, SGD"),
        Scenario("ho_dead_relu_negative_weights", "dying_relu", ho_dead_relu_negative_weights,
                 "inputs >= 0, every weight negative at the start"),
        Scenario("ho_healthy_wine_onehot", None, ho_healthy_wine_onehot, "wine, one-hot, Adam"),
        Scenario("ho_healthy_generated_functional", None, ho_healthy_generated_functional,
                 "generated 4 classes, Functional"),
        Scenario("ho_underfitting_blobs_two_units", "underfitting", ho_underfitting_blobs_two_units,
                 "12 blobs through a two-unit tanh layer, RMSprop"),
        Scenario("ho_exploding_moons_recovers", "exploding_gradient", ho_exploding_moons_recovers,
                 "moons, 7 ReLU layers, N(0, 0.7) init, plain SGD"),
        Scenario("ho_healthy_gap_onehot_noisy", None, ho_healthy_gap_onehot_noisy,
                 "6 overlapping classes, 8% flipped labels, one-hot: a gap the data explain"),
        Scenario("ho_noise_digits_halves", "label_noise", ho_noise_digits_halves,
                 "digits 0-4 vs 5-9, 30% flipped, one-hot 2-unit softmax, RMSprop"),
        Scenario("ho_healthy_weak_binary", None, ho_healthy_weak_binary,
                 "two hard, overlapping classes (clean labels): a model that learns little"),
    ]
}
