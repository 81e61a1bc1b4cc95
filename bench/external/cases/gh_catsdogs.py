"""GitHub keras_catsdogs: a small CNN telling cats from dogs on 64x64 RGB photos (about 2,000 training and 200 test
images, read from the repository's ``catsdogsdataset64.zip``; the test set is the validation set).

The authors' fix halves the batch size (100 -> 50) and replaces the convolution stack (7x7x32, 5x5x20, 5x5x20,
3x3x20) by a smaller-kernel one (3x3x16, 3x3x32, 3x3x32, 3x3x32); DeepFD labels it "Batch size". Both use Adadelta
with Keras 2's default learning rate of 1.0, written out here because Keras 3's default is 0.001.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np

from ..harness import Case, Mirror, Program

CASE = Case(
    name="gh_catsdogs",
    repo="Wardat-ISU/DeepLocalize",
    path="Benchmark/GitHub/{variant} Model/keras_catsdogs",
    labels=("batch_size",),
    summary="Cats-vs-dogs CNN on 64x64 photos with Adadelta; the fix halves the batch size and shrinks the kernels.",
    deviations=(
        "DeepLocalize's instrumentation callback is dropped",
        "Adadelta(learning_rate=1.0) is Keras 2's default Adadelta() written out (Keras 3's default is 0.001)",
        "the images are read from catsdogsdataset64.zip (the folder the program globs) in sorted file-name order "
        "instead of glob's unspecified order, then shuffled with the program's own seeds",
        "only catsdogsdataset64.zip is in the fetched copy (catsdogsdataset30k/4900.zip are not; the program "
        "does not read them)",
    ),
)

ZIP = "Benchmark/GitHub/Buggy Model/keras_catsdogs/catsdogsdataset64.zip"


def _images(archive: zipfile.ZipFile, folder: str) -> np.ndarray:
    """glob(folder + '/*') of flattened images, as the program reads them (dot files are not globbed)."""
    from PIL import Image

    prefix = f"catsdogsdataset64/{folder}/"
    rests = sorted(n[len(prefix):] for n in archive.namelist() if n.startswith(prefix))
    names = [prefix + r for r in rests if r and "/" not in r and not r.startswith(".")]
    return np.array([np.asarray(Image.open(io.BytesIO(archive.read(n)))).flatten() for n in names])


def build(mirror: Mirror, variant: str) -> Program:
    import keras
    from keras import layers

    archive = zipfile.ZipFile(mirror.open(CASE.repo, ZIP))
    train_dogs, test_dogs = _images(archive, "dogs64"), _images(archive, "dogs64_test")
    train_cats, test_cats = _images(archive, "cats64"), _images(archive, "cats64_test")
    train_both = np.concatenate((train_dogs, train_cats), axis=0)
    train_both_y = np.concatenate((np.zeros((len(train_dogs), 1)), np.ones((len(train_cats), 1))), axis=0)
    test_both = np.concatenate((test_dogs, test_cats), axis=0)
    test_both_y = np.concatenate((np.zeros((len(test_dogs), 1)), np.ones((len(test_cats), 1))), axis=0)
    # np.random.seed(1); np.random.shuffle(...) twice, then seed 2 for the test set, as the program does.
    np.random.RandomState(1).shuffle(train_both)
    np.random.RandomState(1).shuffle(train_both_y)
    np.random.RandomState(2).shuffle(test_both)
    np.random.RandomState(2).shuffle(test_both_y)
    x_train = train_both.reshape(len(train_both), 64, 64, 3).astype("float32") / 255
    x_test = test_both.reshape(len(test_both), 64, 64, 3).astype("float32") / 255
    y_train = keras.utils.to_categorical(train_both_y, 2)
    y_test = keras.utils.to_categorical(test_both_y, 2)

    if variant == "buggy":
        batch_size = 100
        model = keras.Sequential([
            keras.Input((64, 64, 3)),
            layers.Conv2D(32, kernel_size=(7, 7)),
            layers.Activation("relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(20, (5, 5)),
            layers.Activation("relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(20, (5, 5)),
            layers.Activation("relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(20, (3, 3)),
            layers.Activation("relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dense(2),
            layers.Activation("softmax"),
        ])  # fmt: skip
    else:
        batch_size = 50
        model = keras.Sequential([
            keras.Input((64, 64, 3)),
            layers.Conv2D(16, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(32, (3, 3), activation="relu"),
            layers.Conv2D(32, (3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(32, (3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dense(2, activation="softmax"),
        ])  # fmt: skip
    model.compile(loss=keras.losses.categorical_crossentropy, optimizer=keras.optimizers.Adadelta(learning_rate=1.0),
                  metrics=["accuracy"])
    fit = dict(x=x_train, y=y_train, batch_size=batch_size, epochs=20, validation_data=(x_test, y_test))
    return Program(model, fit, task="multiclass")
