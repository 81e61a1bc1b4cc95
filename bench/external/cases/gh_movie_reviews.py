"""GitHub MovieReviews_Keras: the IMDB sentiment MLP (10,000-word multi-hot reviews, Dense 16-16-1, RMSprop,
batch 512, the first 10,000 training reviews as validation). The authors' fix adds Dropout(0.5) after both hidden
layers and trains 7 epochs instead of 4 (DeepFD: "Epoch", "Missing/Redundant/Wrong Layers").

Skipped: the reviews come from ``keras.datasets.imdb`` (a download), scikit-learn bundles no text set, and a
generated bag-of-words would not keep the fault's nature: how fast a dropout-free 16-16 MLP overfits 10,000 sparse
word indicators, and how far it falls behind the reference, would be set by our generator's vocabulary and signal
rather than by the program. The model is kept below so the port is ready if real reviews become available.
"""

from __future__ import annotations

from ..harness import Case, Mirror, Program, Skip

CASE = Case(
    name="gh_movie_reviews",
    repo="Wardat-ISU/DeepLocalize",
    path="Benchmark/GitHub/{variant} Model/MovieReviews_Keras",
    labels=("epoch", "layers"),
    summary="IMDB multi-hot MLP without dropout trained 4 epochs; the fix adds dropout and trains 7 epochs.",
    deviations=("DeepLocalize's instrumentation callback is dropped",),
)


def _model(variant: str) -> tuple:
    """The program's model, compiled, and its epochs (x: (n, 10000) multi-hot, y: 0/1 floats)."""
    import keras
    from keras import layers

    if variant == "buggy":
        model = keras.Sequential([
            keras.Input((10000,)),
            layers.Dense(16), layers.Activation("relu"),
            layers.Dense(16), layers.Activation("relu"),
            layers.Dense(1), layers.Activation("sigmoid"),
        ])  # fmt: skip
        epochs = 4
    else:
        model = keras.Sequential([
            keras.Input((10000,)),
            layers.Dense(16, activation="relu"), layers.Dropout(0.5),
            layers.Dense(16, activation="relu"), layers.Dropout(0.5),
            layers.Dense(1, activation="sigmoid"),
        ])  # fmt: skip
        epochs = 7
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.001), loss=keras.losses.binary_crossentropy,
                  metrics=[keras.metrics.binary_accuracy])
    return model, epochs


def build(mirror: Mirror, variant: str) -> Program:
    # fit(x_train[10000:], y_train[10000:], epochs=epochs, batch_size=512,
    #     validation_data=(x_train[:10000], y_train[:10000])) on keras.datasets.imdb (num_words=10000).
    raise Skip("IMDB reviews are downloaded by keras.datasets.imdb; no bundled text set stands in honestly")
