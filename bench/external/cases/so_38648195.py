"""StackOverflow 38648195: a two-hidden-layer ReLU MLP on scikit-learn's generated three-label data (60,000 rows).

The buggy program ends a multi-label network in ``softmax`` and trains it with mean squared error; the authors'
fix uses ``sigmoid`` outputs with binary cross-entropy (same SGD, 20 epochs, batch 20, 80/20 random split).
"""

from __future__ import annotations

from ..harness import Case, Mirror, Program

#: Rows generated: 60,000 in the program (48,000 for training); 40,000 keep one fit about a minute here.
ROWS = 40000

CASE = Case(
    name="so_38648195",
    repo="Wardat-ISU/DeepLocalize",
    path="Benchmark/StackOverflow/38648195/{variant} Code",
    labels=("activation", "loss", "epoch"),
    summary="Multi-label MLP with a softmax output and MSE loss; the fix: sigmoid outputs, binary cross-entropy.",
    deviations=(
        "DeepLocalize's instrumentation callback is dropped",
        "make_multilabel_classification and train_test_split get random_state=0 (the program seeds neither)",
        "40,000 rows generated instead of 60,000 (32,000 training rows instead of 48,000; time); 20 epochs as written",
    ),
)


def build(mirror: Mirror, variant: str) -> Program:
    import keras
    from keras import layers
    from sklearn.datasets import make_multilabel_classification
    from sklearn.model_selection import train_test_split

    x, y = make_multilabel_classification(n_samples=ROWS, n_features=20, n_classes=3, random_state=0)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.20, random_state=0)
    out, loss = ("softmax", "mean_squared_error") if variant == "buggy" else ("sigmoid", "binary_crossentropy")
    model = keras.Sequential([
        keras.Input((20,)),
        layers.Dense(20), layers.Activation("relu"), layers.Dropout(0.5),
        layers.Dense(20), layers.Activation("relu"), layers.Dropout(0.5),
        layers.Dense(3), layers.Activation(out),
    ])  # fmt: skip
    model.compile(loss=loss, optimizer="sgd", metrics=["accuracy"])
    fit = dict(x=x_train, y=y_train, epochs=20, batch_size=20, validation_data=(x_test, y_test))
    return Program(model, fit, task="multilabel")
