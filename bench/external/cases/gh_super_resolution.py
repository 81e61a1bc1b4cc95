"""GitHub keras-super-resolution (``train.py`` with ``networks/large.py``): an SRCNN (conv 9x9x256 -> 3x3x128 ->
5x5x3, sigmoid) maps a photo shrunk to half size and blown up again with nearest-neighbour to the photo itself
(pixels in [0, 1]), batch 64, no validation.

The authors' fix: ``Adam(lr=0.0001)`` + ``binary_crossentropy`` + 50 epochs -> ``Adam(lr=0.001)`` + ``mse`` + 3,000
epochs; DeepFD labels it learning rate + loss + add more training data. The folder of JPEGs it trains on is not in
the repository: the stand-in is 96 square crops of scikit-learn's two sample photos, put through the program's own
``load_images`` (PIL resizes), at the program's ``--size 16 16`` instead of the default 128 x 128 (see deviations).
"""

from __future__ import annotations

import numpy as np

from ..harness import Case, Mirror, Program

#: The program's ``--size`` (default 128 128): the SRCNN costs about 2 TFLOP an epoch on 96 images at 128 x 128.
SIZE = (16, 16)
ROWS = 96

CASE = Case(
    name="gh_super_resolution",
    repo="Wardat-ISU/DeepLocalize",
    path="Benchmark/GitHub/{variant} Model/keras-super-resolution",
    labels=("learning_rate", "loss", "more_data"),
    summary="SRCNN 2x super-resolution with Adam(1e-4) and binary cross-entropy for 50 epochs; the fix is "
    "Adam(1e-3), MSE, 3,000 epochs.",
    deviations=(
        "the JPEG folder (not in the repository) is replaced by 96 random square crops (64-256 px) of "
        "scikit-learn's two sample photos, loaded with the program's load_images",
        "image size 16 x 16 (the program's --size option) instead of the default 128 x 128, for time "
        "(96 rows is the fewest the reference's 64-component PCA can fit under 3-fold cross-validation)",
        "correct version: 50 epochs instead of 3,000, for time",
        "DeepLocalize's instrumentation callback is dropped",
    ),
)


def load_images(photos: list, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The program's ``modules.image.load_images`` on PIL images instead of a folder of JPEGs."""
    from PIL import Image

    x_images, y_images = [], []
    for image in photos:
        # shrink, then enlarge
        x_image = image.resize((size[0] // 2, size[1] // 2))
        x_image = x_image.resize(size, Image.NEAREST)
        x_images.append(np.array(x_image))
        y_images.append(np.array(image.resize(size)))
    # normalize 256 levels to [0, 1]
    return np.array(x_images) / 255, np.array(y_images) / 255


def crops(n: int, rng: np.random.Generator) -> list:
    """``n`` square crops (64-256 px a side) of scikit-learn's two sample photos, as PIL images."""
    from PIL import Image
    from sklearn.datasets import load_sample_images

    photos = load_sample_images().images
    out = []
    for _ in range(n):
        photo = photos[rng.integers(len(photos))]
        side = int(rng.integers(64, 257))
        top = int(rng.integers(photo.shape[0] - side + 1))
        left = int(rng.integers(photo.shape[1] - side + 1))
        out.append(Image.fromarray(photo[top : top + side, left : left + side]))
    return out


def build(mirror: Mirror, variant: str) -> Program:
    import keras
    from keras import layers
    from keras.optimizers import Adam

    x_images, y_images = load_images(crops(ROWS, np.random.default_rng(0)), SIZE)
    model = keras.Sequential([
        keras.Input((SIZE[0], SIZE[1], 3)),
        layers.Conv2D(256, kernel_size=(9, 9), padding="same"),
        layers.Activation("relu"),
        layers.Conv2D(128, kernel_size=(3, 3), padding="same"),
        layers.Activation("relu"),
        layers.Conv2D(3, (5, 5), padding="same"),
        layers.Activation("sigmoid"),
    ])  # fmt: skip
    batch = 64
    if variant == "buggy":
        model.compile(loss="binary_crossentropy", optimizer=Adam(learning_rate=0.0001), metrics=["accuracy"])
        epochs = 50
    else:
        model.compile(loss="mse", optimizer=Adam(learning_rate=0.001))
        epochs = 50  # 3,000 in the program
    return Program(model, dict(x=x_images, y=y_images, batch_size=batch, epochs=epochs), task="regression")
