"""Keras's loss names sorted by what they say about the task: classification, regression, and the losses that read
their inputs as probabilities.

The task decides what "accuracy" can mean, which baseline is fitted, and which configuration checks apply, and the
compiled loss is the one thing every run records about it (the targets may not have been sampled).
"""

from __future__ import annotations

#: Losses of a classifier: their targets are classes (indices, one-hot rows, or 0/1 values).
CLASSIFICATION_LOSSES = {
    "binary_crossentropy", "binary_focal_crossentropy", "categorical_crossentropy",
    "sparse_categorical_crossentropy", "categorical_focal_crossentropy", "hinge", "squared_hinge",
    "categorical_hinge", "kl_divergence", "kld", "kullback_leibler_divergence",
}  # fmt: skip
#: Losses of a regression: their targets are numbers to approach.
REGRESSION_LOSSES = {
    "mean_squared_error", "mse", "mean_absolute_error", "mae", "huber", "huber_loss", "log_cosh", "logcosh",
    "mean_squared_logarithmic_error", "msle", "mean_absolute_percentage_error", "mape", "poisson", "cosine_similarity",
}  # fmt: skip
#: Classification losses that read the output as probabilities (the hinge losses read raw scores).
PROBABILITY_LOSSES = CLASSIFICATION_LOSSES - {"hinge", "squared_hinge", "categorical_hinge"}

__all__ = ["CLASSIFICATION_LOSSES", "PROBABILITY_LOSSES", "REGRESSION_LOSSES"]
