"""AUTOTRAINER demo case Oscillating_Loss_Case: a 2-50-3 ReLU/softmax MLP on make_blobs, SGD with batch size 1.

The model (``model.h5``, initial weights included, rebuilt from its Keras 2 config) and its training set-up
(``config.pkl``: SGD(lr=0.01, momentum=0.9), categorical_crossentropy, batch size 1, 200 epochs, dataset
``simplednn_blob``) are read from the repository at run time. The authors built it to show an oscillating loss;
AUTOTRAINER repairs it while it trains, so there is no correct version.
"""

from __future__ import annotations

import pickle

from ..harness import Case, Mirror, Program
from ._autotrainer import keras2_h5_model, optimizer_from, simplednn

#: config.pkl asks for 200 epochs of 700 one-row steps (140,000 steps): far over a minute here.
EPOCHS = 20

CASE = Case(
    name="at_oscillating_loss",
    repo="shiningrain/AUTOTRAINER",
    path="AutoTrainer/demo_case/Oscillating_Loss_Case",
    labels=("oscillating_loss",),
    summary="2-50-3 MLP on make_blobs, SGD(lr=0.01, momentum=0.9) with batch size 1; the authors' demo of an "
    "oscillating loss.",
    deviations=(
        f"epochs capped at {EPOCHS} (config.pkl: 200; one epoch is 700 batch-size-1 steps)",
        "AUTOTRAINER's own monitoring/auto-repair callback (LossHistory, via model_train) and its checkpoint "
        "callback are dropped; the model is trained with the same fit call model_train makes",
        "data from the program's own code (simplednn.load_data('blob'): make_blobs(1000, centers=3, n_features=2, "
        "cluster_std=2, random_state=2), x*100 then preprocess x/100, one-hot labels, first 700 rows train, last "
        "300 validation); identical to AutoTrainer/data/data_blob.pkl",
    ),
    correct=False,
)


def build(mirror: Mirror, variant: str) -> Program:
    config = pickle.load(mirror.open(CASE.repo, f"{CASE.path}/config.pkl"))
    # {'batchsize': 1, 'epoch': 200, 'dataset': 'simplednn_blob', 'loss': 'categorical_crossentropy',
    #  'opt_kwargs': {'lr': 0.01, 'momentum': 0.9}, 'optimizer': 'SGD'}
    model = keras2_h5_model(mirror.open(CASE.repo, f"{CASE.path}/model.h5"))
    model.compile(loss=config["loss"], optimizer=optimizer_from(config), metrics=["accuracy"])
    x, y, x_val, y_val = simplednn("blob")
    fit = dict(
        x=x, y=y, batch_size=config["batchsize"], validation_data=(x_val, y_val), epochs=min(config["epoch"], EPOCHS)
    )
    return Program(model, fit, task="multiclass", notes=[f"config.pkl: {config}"])
