"""What AUTOTRAINER's cases share: its saved Keras 2 models, its ``simplednn`` data, its MNIST preprocessing.

Not a case (the leading underscore keeps it out of the registry): the ``at_`` modules import from here.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ..harness import Case, Mirror, Program

_UNSUPPORTED = ("kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
                "bias_constraint")


def keras2_h5_model(file: Any) -> Any:
    """The model a Keras 2 ``.h5`` file holds, rebuilt layer by layer from its ``model_config`` (same layers, units,
    activations, initializers and names) and given the file's weights. Keras 3's ``load_model`` misreads a Keras 2
    ``Sequential`` whose first layer carries ``batch_input_shape``; these files only hold chains of ``Dense`` and
    ``Activation`` layers, and anything else is refused."""
    import h5py
    import keras

    with h5py.File(file, "r") as f:
        config = json.loads(f.attrs["model_config"])
        group = f["model_weights"]
        weights = {}
        for name in group.attrs["layer_names"]:
            name = name.decode() if isinstance(name, bytes) else name
            names = [n.decode() if isinstance(n, bytes) else n for n in group[name].attrs["weight_names"]]
            weights[name] = [np.asarray(group[name][n]) for n in names]
    specs = config["config"]["layers"]
    shape = next(s["config"]["batch_input_shape"] for s in specs if "batch_input_shape" in s["config"])
    built = [keras.Input(tuple(shape[1:]))]
    for spec in specs:
        kind, c = spec["class_name"], spec["config"]
        extras = [k for k in _UNSUPPORTED if c.get(k) is not None]
        if kind == "InputLayer":
            continue
        if kind == "Dense" and not extras:
            built.append(keras.layers.Dense(
                c["units"], activation=c["activation"], use_bias=c["use_bias"],
                kernel_initializer=keras.initializers.get(c["kernel_initializer"]),
                bias_initializer=keras.initializers.get(c["bias_initializer"]), name=c["name"],
            ))  # fmt: skip
        elif kind == "Activation":
            built.append(keras.layers.Activation(c["activation"], name=c["name"]))
        else:
            raise ValueError(f"keras2_h5_model: {kind} {c.get('name')} ({extras}) is not rebuilt")
    model = keras.Sequential(built) if config["class_name"] == "Sequential" else _chain(built)
    for layer in model.layers:
        if weights.get(layer.name):
            layer.set_weights(weights[layer.name])
    return model


def _chain(built: list) -> Any:
    import keras

    x = built[0]
    for layer in built[1:]:
        x = layer(x)
    return keras.Model(built[0], x)


def optimizer_from(config: dict) -> Any:
    """The optimizer a ``config.pkl`` names, with Keras 1/2's ``lr`` written as ``learning_rate``."""
    import keras

    kwargs = {("learning_rate" if k == "lr" else k): v for k, v in config["opt_kwargs"].items()}
    return getattr(keras.optimizers, config["optimizer"])(**kwargs)


def simplednn(method: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``AutoTrainer/data/simplednn.py``: ``load_data(method)`` and ``preprocess()`` (x * 100, then / 100), the first
    700 rows for training and the last 300 for validation; ``blob`` labels one-hot, as the program does."""
    import keras
    from sklearn.datasets import make_blobs, make_circles

    if method == "circle":
        x, y = make_circles(n_samples=1000, noise=0.1, random_state=1)
    else:
        x, y = make_blobs(n_samples=1000, centers=3, n_features=2, cluster_std=2, random_state=2)
        y = keras.utils.to_categorical(y)
    x = x * 100
    n_train = 700
    return x[:n_train] / 100, y[:n_train], x[n_train:] / 100, y[n_train:]


def mnist_like_digits() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """scikit-learn's digits as MNIST's ``load_data()`` would give them: uint8 28x28 images, 0..255, integer
    labels; the first 1,500 rows as the training set, the rest as the test set."""
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    pixels = np.round(digits.images * (255.0 / 16.0)).astype(np.uint8)
    images = np.stack([np.asarray(Image.fromarray(im).resize((28, 28), Image.BILINEAR)) for im in pixels])
    cut = 1500
    return (images[:cut], digits.target[:cut]), (images[cut:], digits.target[cut:])


def motivation_program(mirror: Mirror, case: Case, h5_name: str) -> Program:
    """``Motivation/*/train.py``: ``minist_load_data()``, the saved model, Adam, batch 32, 50 epochs."""
    import keras

    (x_train, y_train), (x_test, y_test) = mnist_like_digits()
    x_train = x_train.reshape(len(x_train), 784).astype("float32") / 255
    x_test = x_test.reshape(len(x_test), 784).astype("float32") / 255
    y_train = keras.utils.to_categorical(y_train, 10)
    y_test = keras.utils.to_categorical(y_test, 10)
    model = keras2_h5_model(mirror.open(case.repo, f"{case.path}/{h5_name}"))
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    fit = dict(x=x_train, y=y_train, batch_size=32, epochs=50, validation_data=(x_test, y_test))
    return Program(model, fit, task="multiclass")
