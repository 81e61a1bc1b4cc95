"""The vocabulary of causes: what each code means, and which family and tier it belongs to.

The tier says where a cause sits in the chain from a broken set-up to the curve it produces, and is what the
ranking uses to put root causes above their symptoms (see :mod:`stallmagic.diagnosis.ranking`):

* ``definition`` - the problem itself is set up wrong (bad values, ordered split, leakage, a loss that does not
  fit the output, inputs the optimizer cannot cope with). Fix these first: every curve downstream is a symptom.
* ``data`` - the data cap what any model can reach (too little, imbalanced, mislabeled).
* ``model`` - the network's gradients or units are broken.
* ``regime`` - how it is trained (learning rate, batch size, optimizer, regularization, capacity).
"""

from __future__ import annotations

from types import MappingProxyType

_CAUSES: dict[str, tuple[str, str, str]] = {
    # code: (family, tier, one-line definition)
    "insufficient_data": (
        "data",
        "data",
        "Too few training examples for the model: validation still improves as the training set grows.",
    ),
    "class_imbalance": (
        "data",
        "data",
        "Skewed classes: accuracy sits near the majority share while recall on the minority classes collapses.",
    ),
    "label_noise": ("data", "data", "A sizable share of the training labels look wrong."),
    "data_quality": ("data", "definition", "The inputs hold NaN or infinite values, or constant or broken features."),
    "data_leakage": (
        "data",
        "definition",
        "The same rows appear in training and validation, so validation no longer measures generalization.",
    ),
    "unscaled_inputs": (
        "data",
        "definition",
        "Features on large or very different scales, which stalls or destabilizes gradient descent.",
    ),
    "unshuffled_validation_split": (
        "data",
        "definition",
        "validation_split took the tail of ordered data, so validation holds classes or a distribution that "
        "training never saw.",
    ),
    "unscaled_targets": (
        "data",
        "definition",
        "Regression targets on a large scale (hundreds or more), so the loss and its gradients are huge and the "
        "network cannot settle.",
    ),
    "distribution_shift": (
        "data",
        "definition",
        "Validation rows prepared or drawn differently from training rows (another scaling, another source), so "
        "what the model learned does not transfer.",
    ),
    "train_longer": (
        "training",
        "regime",
        "Training stopped while validation was still improving: more epochs would lift it.",
    ),
    "overfitting": (
        "training",
        "regime",
        "Training keeps improving while validation stalls or worsens: no or too little regularization.",
    ),
    "underfitting": (
        "training",
        "regime",
        "Training and validation are both low and close: the model cannot fit what the data allow "
        "(too small, or over-regularized).",
    ),
    "lr_too_high": ("training", "regime", "The learning rate is too high: the loss oscillates, diverges or collapses."),
    "lr_too_low": ("training", "regime", "The learning rate is too low: the loss creeps down, far from converged."),
    "batch_size": (
        "training",
        "regime",
        "A pathological batch size: e.g. one update per epoch, or tiny batches with very noisy updates.",
    ),
    "optimizer_choice": (
        "training",
        "regime",
        "The optimizer itself is the brake, e.g. plain SGD without momentum where an adaptive one converges far "
        "faster.",
    ),
    "loss_mismatch": (
        "model",
        "definition",
        "The loss does not fit the output layer or the labels (e.g. softmax on one unit, probabilities passed "
        "with from_logits=True, label shape vs sparse/categorical loss).",
    ),
    "vanishing_gradient": (
        "model",
        "model",
        "Gradients shrink layer by layer, so the early layers barely learn (deep saturating activations).",
    ),
    "exploding_gradient": (
        "model",
        "model",
        "Gradients grow layer by layer or step by step until updates blow the weights up (inf/NaN loss).",
    ),
    "dying_relu": ("model", "model", "Many ReLU units output zero for every input, so they no longer learn."),
}

#: Ordered mapping code -> one-line definition (read-only).
CAUSES = MappingProxyType({code: definition for code, (_, _, definition) in _CAUSES.items()})

#: code -> family ("data", "training", "model").
FAMILY = MappingProxyType({code: family for code, (family, _, _) in _CAUSES.items()})

#: code -> tier ("definition", "data", "model", "regime"); see the module docstring.
TIER = MappingProxyType({code: tier for code, (_, tier, _) in _CAUSES.items()})

#: Tier order, root first.
TIERS = ("definition", "data", "model", "regime")
