"""Names of Keras classes and activations that the remedies (words, code, cell rewrites) and the rerun engine
(the Keras edits) must agree on. Plain strings, no Keras import: one table each, read by both."""

from __future__ import annotations

#: Layers with a kernel that an initializer or a regularizer applies to.
KERNEL_LAYERS = (
    "Dense", "EinsumDense", "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
    "SeparableConv1D", "SeparableConv2D", "DepthwiseConv1D", "DepthwiseConv2D",
)  # fmt: skip
#: Layers whose width (units / filters) the capacity remedies scale.
WIDTH_LAYERS = ("Dense", "Conv1D", "Conv2D", "Conv3D")
#: Activations that saturate (their gradient vanishes for large inputs).
SATURATING = ("sigmoid", "tanh", "hard_sigmoid", "softsign")
#: Loss name -> Keras loss class, for losses rebuilt with ``from_logits``.
LOSS_CLASSES = {
    "binary_crossentropy": "BinaryCrossentropy",
    "categorical_crossentropy": "CategoricalCrossentropy",
    "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
    "binary_focal_crossentropy": "BinaryFocalCrossentropy",
    "categorical_focal_crossentropy": "CategoricalFocalCrossentropy",
}
#: ``keras.Model.fit``'s parameters after ``self``, in order; every one may be given by position or by keyword.
#: The cell rewrites bind a ``fit`` call to them (``remedies/source/fit_args.py``), the rerun engine checks its
#: overrides against them; ``tests/remedies/test_fit_args.py`` checks them against the installed Keras.
FIT_PARAMETERS = (
    "x", "y", "batch_size", "epochs", "verbose", "callbacks", "validation_split", "validation_data", "shuffle",
    "class_weight", "sample_weight", "initial_epoch", "steps_per_epoch", "validation_steps", "validation_batch_size",
    "validation_freq",
)  # fmt: skip
