"""Every rule of the diagnosis, one module per family, and :data:`RULES`, the registry that runs them.

A rule is a pure function ``rule(run, signals) -> Finding | None`` (:data:`.shared.Rule`): it reads the shared
:class:`~stallmagic.diagnosis.signals.Signals`, and either says nothing or returns one
:class:`~stallmagic.diagnosis.report.Finding` whose confidence comes from the thresholds in its docstring. Adding a
cause means one function in the module of its family, one line in :data:`RULES`, and one test scenario.

Families: :mod:`.configuration` (a loss that does not fit the output or the targets), :mod:`.data` (values, class
balance, amount), :mod:`.splits` (how training and validation rows were split), :mod:`.scales` (input and target
scales), :mod:`.label_noise`, :mod:`.gradients` (the gradient probe), and the curves: :mod:`.learning_rate`,
:mod:`.optimizer` (batch size, optimizer), :mod:`.fitting` (over- and underfitting), :mod:`.stopping` (stopped
while still improving).
"""

from __future__ import annotations

from . import configuration, data, fitting, gradients, label_noise, learning_rate, optimizer, scales, splits, stopping
from .shared import Rule

#: Every rule, one line each. Order does not matter: the ranking orders the findings.
RULES: list[Rule] = [
    configuration.loss_mismatch,
    data.data_quality,
    splits.data_leakage,
    splits.unshuffled_validation_split,
    splits.distribution_shift,
    scales.unscaled_inputs,
    scales.unscaled_targets,
    data.class_imbalance,
    data.insufficient_data,
    label_noise.label_noise,
    gradients.vanishing_gradient,
    gradients.exploding_gradient,
    gradients.dying_relu,
    learning_rate.lr_too_high,
    learning_rate.lr_too_low,
    optimizer.batch_size,
    optimizer.optimizer_choice,
    fitting.overfitting,
    fitting.underfitting,
    stopping.train_longer,
]

__all__ = ["RULES", "Rule"]
