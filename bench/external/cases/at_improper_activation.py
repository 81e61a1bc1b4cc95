"""AUTOTRAINER demo case Improper_Activation_case: a 2-50-50-50-50-3 MLP on make_blobs whose output layer is ReLU.

``demo_activation.py`` builds the model in code (four 50-unit he_uniform ReLU layers, then ``Dense(3,
activation='relu')`` with the softmax commented out) and writes its set-up to ``config_acti.pkl`` (Adam(lr=0.0001),
categorical_crossentropy, batch 256, 300 epochs, dataset ``simplednn_blob``), read here at run time. The authors
name it only an "improper activation" (folder) / "Activation Problem" (argparse description), none of AUTOTRAINER's
five problem types, so it carries the generic ``activation`` label. No correct version.
"""

from __future__ import annotations

import pickle

from ..harness import Case, Mirror, Program
from ._autotrainer import optimizer_from, simplednn

CASE = Case(
    name="at_improper_activation",
    repo="shiningrain/AUTOTRAINER",
    path="AutoTrainer/demo_case/Improper_Activation_case",
    labels=("activation",),
    summary="Blob MLP whose 3-unit output layer is ReLU instead of softmax, under categorical cross-entropy; the "
    "authors' improper-activation demo.",
    deviations=(
        "AUTOTRAINER's own monitoring/auto-repair callback (LossHistory, via model_train) and its checkpoint "
        "callback are dropped; the model is trained with the same fit call model_train makes",
        "data from the program's own code (simplednn.load_data('blob'): make_blobs(1000, centers=3, n_features=2, "
        "cluster_std=2, random_state=2), x*100 then preprocess x/100, one-hot labels, first 700 rows train, last "
        "300 validation); identical to AutoTrainer/data/data_blob.pkl",
    ),
    correct=False,
)


def build(mirror: Mirror, variant: str) -> Program:
    import keras
    from keras import layers

    config = pickle.load(mirror.open(CASE.repo, f"{CASE.path}/config_acti.pkl"))
    # {'optimizer': 'Adam', 'opt_kwargs': {'lr': 0.0001}, 'batchsize': 256, 'epoch': 300,
    #  'dataset': 'simplednn_blob', 'loss': 'categorical_crossentropy'}
    model = keras.Sequential([
        keras.Input((2,)),
        layers.Dense(50, activation="relu", kernel_initializer="he_uniform"),
        layers.Dense(50, activation="relu", kernel_initializer="he_uniform"),
        layers.Dense(50, activation="relu", kernel_initializer="he_uniform"),
        layers.Dense(50, activation="relu", kernel_initializer="he_uniform"),
        layers.Dense(3, activation="relu"),
    ])  # fmt: skip
    model.compile(loss=config["loss"], optimizer=optimizer_from(config), metrics=["accuracy"])
    x, y, x_val, y_val = simplednn("blob")
    fit = dict(x=x, y=y, batch_size=config["batchsize"], validation_data=(x_val, y_val), epochs=config["epoch"])
    return Program(model, fit, task="multiclass", notes=[f"config_acti.pkl: {config}"])
