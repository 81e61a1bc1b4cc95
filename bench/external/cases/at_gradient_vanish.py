"""AUTOTRAINER demo case Gradient_Vanish_Case: a 9-layer, 5-unit-wide all-sigmoid MLP on make_circles.

The model (``model.h5``, initial weights included, rebuilt from its Keras 2 config) and its training set-up
(``config.pkl``: Adam(lr=0.001), binary_crossentropy, batch 128, 300 epochs, dataset ``simplednn_circle``) are read
from the repository at run time. The authors built it to show vanishing gradients; AUTOTRAINER repairs it while it
trains, so there is no correct version.
"""

from __future__ import annotations

import json
import pickle
from typing import Any

import numpy as np

from ..harness import Case, Mirror, Program

CASE = Case(
    name="at_gradient_vanish",
    repo="shiningrain/AUTOTRAINER",
    path="AutoTrainer/demo_case/Gradient_Vanish_Case",
    labels=("vanishing_gradient",),
    summary="Nine stacked 5-unit sigmoid layers on make_circles; the authors' demo of vanishing gradients.",
    deviations=(
        "AUTOTRAINER's own monitoring/auto-repair callback (LossHistory, via model_train) and its checkpoint "
        "callback are dropped; the model is trained with the same fit call model_train makes",
        "data from the program's own code (simplednn.load_data('circle'): make_circles(1000, noise=0.1, "
        "random_state=1), x*100 then preprocess x/100, first 700 rows train, last 300 validation) under this "
        "scikit-learn version; AutoTrainer/data/data_circle.pkl (a differently scaled sample read only by "
        "commented-out code) is not used",
    ),
    correct=False,
)


#: Dense settings the rebuild does not carry over (none of these files uses them).
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


def build(mirror: Mirror, variant: str) -> Program:
    import keras
    from sklearn.datasets import make_circles

    config = pickle.load(mirror.open(CASE.repo, f"{CASE.path}/config.pkl"))
    # {'batchsize': 128, 'dataset': 'simplednn_circle', 'epoch': 300, 'loss': 'binary_crossentropy',
    #  'opt_kwargs': {'lr': 0.001}, 'optimizer': 'Adam'}
    model = keras2_h5_model(mirror.open(CASE.repo, f"{CASE.path}/model.h5"))
    kwargs = {("learning_rate" if k == "lr" else k): v for k, v in config["opt_kwargs"].items()}
    opt = getattr(keras.optimizers, config["optimizer"])(**kwargs)
    model.compile(loss=config["loss"], optimizer=opt, metrics=["accuracy"])

    # AutoTrainer/data/simplednn.py, load_data(method='circle') and preprocess()
    X, y = make_circles(n_samples=1000, noise=0.1, random_state=1)
    X = X * 100
    n_train = 700
    x, x_val = X[:n_train, :], X[n_train:, :]
    y, y_val = y[:n_train], y[n_train:]
    x, x_val = x / 100, x_val / 100
    fit = dict(x=x, y=y, batch_size=config["batchsize"], validation_data=(x_val, y_val), epochs=config["epoch"])
    return Program(model, fit, task="binary", notes=[f"config.pkl: {config}"])

