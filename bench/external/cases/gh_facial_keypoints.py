"""GitHub FacialKeypointsDetection (``src/1_single_hidden_layer.py``): a purely linear 9216-50-100-30 network that
regresses the 15 facial keypoints (30 coordinates scaled to [-1, 1]) of 96x96 grey faces (pixels in [0, 1]), with
mean squared error, 100 epochs, no validation.

The authors' fix replaces ``Adam(lr=0.1)`` by ``SGD(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True,
clipnorm=1)`` and adds ``validation_split=.2, shuffle=True`` (epochs stay 100); DeepFD labels it optimizer + epoch.
The Kaggle images are not in the repository: the stand-in draws synthetic faces (a bright oval, dark blobs at 15
keypoints around the Kaggle mean layout, random shift/scale/tilt, noise) with the same shapes and scales. The fault
is a step size far too large for 9216 linear inputs in [0, 1], which the stand-in keeps: it depends on the input
width and scale and on the target scale, not on what the faces look like.
"""

from __future__ import annotations

import numpy as np

from ..harness import Case, Mirror, Program

CASE = Case(
    name="gh_facial_keypoints",
    repo="Wardat-ISU/DeepLocalize",
    path="Benchmark/GitHub/{variant} Model/FacialKeypointsDetection/src/1_single_hidden_layer.py",
    labels=("optimizer", "epoch"),
    summary="Linear keypoint regressor on 96x96 faces with Adam(lr=0.1); the fix is SGD(0.01, momentum, clipnorm).",
    deviations=(
        "the Kaggle faces (2,140 complete rows) are replaced by 2,140 generated 96x96 faces with 15 keypoints, "
        "pixels in [0, 1] and targets (coord - 48) / 48 as in the program",
        "DeepLocalize's instrumentation callback is dropped",
    ),
)

#: Kaggle's mean keypoint positions (x, y) in pixels, in its column order.
MEAN_KEYPOINTS = np.array([
    (66.4, 37.7), (30.3, 38.0), (59.2, 37.9), (73.3, 37.7), (36.7, 38.0), (22.4, 38.0),
    (56.1, 29.3), (79.5, 29.9), (39.5, 29.3), (15.9, 30.4), (48.4, 62.7),
    (63.3, 76.0), (33.0, 76.2), (48.0, 72.9), (48.6, 79.0),
])  # fmt: skip
#: How dark each keypoint's blob is (eye centres darkest, the nose faint).
DEPTH = np.array([0.55, 0.55, 0.3, 0.3, 0.3, 0.3, 0.35, 0.35, 0.35, 0.35, 0.2, 0.35, 0.35, 0.3, 0.3])


def faces(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` generated faces: pixels (n, 9216) in [0, 1] and their keypoints (n, 30) in pixels."""
    shift = rng.normal(0.0, 3.0, (n, 1, 2))
    scale = rng.uniform(0.85, 1.1, (n, 1, 1))
    tilt = rng.normal(0.0, 0.12, n)
    cos, sin = np.cos(tilt)[:, None], np.sin(tilt)[:, None]
    centred = (MEAN_KEYPOINTS - 48.0)[None] * scale
    px = centred[..., 0] * cos - centred[..., 1] * sin
    py = centred[..., 0] * sin + centred[..., 1] * cos
    points = np.stack([px, py], axis=-1) + 48.0 + shift + rng.normal(0.0, 1.2, (n, 15, 2))
    grid = np.arange(96, dtype=np.float64)
    gx, gy = grid[None, None, :], grid[None, :, None]
    cx, cy = 48.0 + shift[:, 0, 0, None, None], 52.0 + shift[:, 0, 1, None, None]
    oval = ((gx - cx) / (34.0 * scale[:, 0, :, None])) ** 2 + ((gy - cy) / (44.0 * scale[:, 0, :, None])) ** 2
    light = rng.uniform(0.15, 0.35, (n, 1, 1)) + rng.uniform(-0.002, 0.002, (n, 1, 1)) * gx
    img = light + rng.uniform(0.35, 0.5, (n, 1, 1)) / (1.0 + np.exp((oval - 1.0) * 8.0))
    for k in range(15):
        width = rng.uniform(2.0, 3.5, (n, 1, 1))
        across = np.exp(-((gx - points[:, k, 0, None, None]) ** 2) / (2.0 * width**2))
        down = np.exp(-((gy - points[:, k, 1, None, None]) ** 2) / (2.0 * width**2))
        img -= DEPTH[k] * across * down
    img += rng.normal(0.0, 0.04, img.shape)
    return np.clip(img, 0.0, 1.0).reshape(n, 9216), points.reshape(n, 30)


def build(mirror: Mirror, variant: str) -> Program:
    import keras
    from keras import layers, optimizers
    from sklearn.utils import shuffle

    pixels, keypoints = faces(2140, np.random.default_rng(0))
    x = pixels.astype(np.float32)  # the program's X / 255. on 0-255 pixels
    y = (keypoints - 48) / 48  # scale target coordinates to [-1, 1]
    x, y = shuffle(x, y, random_state=42)
    y = y.astype(np.float32)

    model = keras.Sequential([
        keras.Input((9216,)),
        layers.Dense(50),
        layers.Dense(100),
        layers.Dense(30),
    ])  # fmt: skip
    if variant == "buggy":
        model.compile(optimizers.Adam(learning_rate=0.1), "mean_squared_error", metrics=["accuracy"])
        return Program(model, dict(x=x, y=y, epochs=100), task="regression")
    lr = optimizers.schedules.InverseTimeDecay(0.01, decay_steps=1, decay_rate=1e-6)
    sgd = optimizers.SGD(learning_rate=lr, momentum=0.9, nesterov=True, clipnorm=1)
    model.compile(loss="mean_squared_error", optimizer=sgd, metrics=["accuracy"])
    return Program(model, dict(x=x, y=y, epochs=100, validation_split=0.2, shuffle=True), task="regression")
