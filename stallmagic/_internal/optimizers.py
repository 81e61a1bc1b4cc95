"""Facts about Keras optimizers that the pure diagnosis and the remedies share (no Keras import here).

:data:`USUAL_LR` is the learning rate each optimizer is usually run at: Keras 3's default where that is the rate
its authors recommend, else the paper's (Keras 3 lowered Adadelta's default from 1.0 and Adagrad's and Adamax's
to 1e-3, rates at which they crawl; Lion's paper asks for 3-10x less than Adam's). The diagnosis calls a rate
high or low against it, and a remedy that switches optimizer starts the new one at it.
``tests/internal/test_optimizers.py`` checks that every optimizer class of the installed Keras is listed.
"""

from __future__ import annotations

#: Learning rate each Keras optimizer class is usually run at (see the module docstring).
USUAL_LR: dict[str, float] = {
    "SGD": 0.01, "Adam": 1e-3, "AdamW": 1e-3, "Adamax": 2e-3, "Nadam": 1e-3, "RMSprop": 1e-3, "Adagrad": 1e-2,
    "Adadelta": 1.0, "Lion": 1e-4, "Lamb": 1e-3, "Ftrl": 1e-3, "Adafactor": 1e-3, "LossScaleOptimizer": 1e-3,
    "Muon": 1e-3, "ScheduleFreeAdamW": 2.5e-3,
}  # fmt: skip
