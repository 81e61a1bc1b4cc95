"""AUTOTRAINER demo case Gradient_Vanish_Case: a 9-layer, 5-unit-wide all-sigmoid MLP on make_circles.

The model (``model.h5``, initial weights included, rebuilt from its Keras 2 config) and its training set-up
(``config.pkl``: Adam(lr=0.001), binary_crossentropy, batch 128, 300 epochs, dataset ``simplednn_circle``) are read
from the repository at run time. The authors built it to show vanishing gradients; AUTOTRAINER repairs it while it
trains, so there is no correct version.
"""

from __future__ import annotations

import pickle

from ..harness import Case, Mirror, Program
from ._autotrainer import keras2_h5_model, optimizer_from, simplednn

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
def build(mirror: Mirror, variant: str) -> Program:
    config = pickle.load(mirror.open(CASE.repo, f"{CASE.path}/config.pkl"))
    # {'batchsize': 128, 'dataset': 'simplednn_circle', 'epoch': 300, 'loss': 'binary_crossentropy',
    #  'opt_kwargs': {'lr': 0.001}, 'optimizer': 'Adam'}
    model = keras2_h5_model(mirror.open(CASE.repo, f"{CASE.path}/model.h5"))
    model.compile(loss=config["loss"], optimizer=optimizer_from(config), metrics=["accuracy"])
    x, y, x_val, y_val = simplednn("circle")
    fit = dict(x=x, y=y, batch_size=config["batchsize"], validation_data=(x_val, y_val), epochs=config["epoch"])
    return Program(model, fit, task="binary", notes=[f"config.pkl: {config}"])
