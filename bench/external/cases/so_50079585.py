"""StackOverflow 50079585: a 3-conv CNN on the car-damage photos (data3a: minor / moderate / severe), 150x150.

The buggy program reads the three classes with ``class_mode='binary'`` into one sigmoid unit under binary
cross-entropy (labels 0, 1, 2); the authors' fix uses ``class_mode='categorical'``, three softmax units and
categorical cross-entropy. Both train 10 epochs of 61 augmented batches of 16 with RMSprop and validate on 10
batches of the validation folder. DeepFD labels it epoch, learning rate, activation, loss and layers.
"""

from __future__ import annotations

import numpy as np

from ..harness import Case, Mirror, Program

CASE = Case(
    name="so_50079585",
    repo="Wardat-ISU/DeepLocalize",
    path="Benchmark/StackOverflow/50079585/{variant} Code",
    labels=("epoch", "learning_rate", "activation", "loss", "layers"),
    summary="Three-class image CNN with one sigmoid unit and binary cross-entropy; the fix uses softmax + CCE.",
    deviations=(
        "ImageDataGenerator is the Keras 3 legacy one (tf.keras.preprocessing.image); fit_generator -> fit",
        "scored on every training/validation image, read once without augmentation (rescale only)",
    ),
)


def _arrays(iterator) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = zip(*(iterator[i] for i in range(len(iterator))), strict=True)
    return np.concatenate(xs), np.concatenate(ys)


def build(mirror: Mirror, variant: str) -> Program:
    import keras
    import tensorflow as tf
    from keras import layers

    folder = CASE.path.format(variant="Buggy" if variant == "buggy" else "Correct")
    root = mirror.folder(CASE.repo, f"{folder}/dataset/data3a")
    train_data_dir, validation_data_dir = str(root / "training"), str(root / "validation")
    img_width, img_height = 150, 150
    nb_train_samples, nb_validation_samples = 979, 171
    epochs, batch_size = 10, 16
    buggy = variant == "buggy"
    class_mode = "binary" if buggy else "categorical"

    model = keras.Sequential([
        keras.Input((img_width, img_height, 3)),
        layers.Conv2D(32, (3, 3)), layers.Activation("relu"), layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(32, (3, 3)), layers.Activation("relu"), layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, (3, 3)), layers.Activation("relu"), layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dense(64), layers.Activation("relu"),
        layers.Dropout(0.5),
        layers.Dense(1 if buggy else 3), layers.Activation("sigmoid" if buggy else "softmax"),
    ])  # fmt: skip
    model.compile(
        loss="binary_crossentropy" if buggy else "categorical_crossentropy", optimizer="rmsprop", metrics=["accuracy"]
    )

    image = tf.keras.preprocessing.image
    train_datagen = image.ImageDataGenerator(rescale=1.0 / 255, shear_range=0.2, zoom_range=0.2, horizontal_flip=True)
    test_datagen = image.ImageDataGenerator(rescale=1.0 / 255)
    train_generator = train_datagen.flow_from_directory(
        train_data_dir, target_size=(img_width, img_height), batch_size=batch_size, class_mode=class_mode
    )
    validation_generator = test_datagen.flow_from_directory(
        validation_data_dir, target_size=(img_width, img_height), batch_size=batch_size, class_mode=class_mode
    )

    def plain(path: str) -> tuple[np.ndarray, np.ndarray]:
        it = test_datagen.flow_from_directory(
            path, target_size=(img_width, img_height), batch_size=64, class_mode=class_mode, shuffle=False
        )
        return _arrays(it)

    rows = (*plain(train_data_dir), *plain(validation_data_dir))
    fit = dict(
        x=train_generator,
        steps_per_epoch=nb_train_samples // batch_size,
        epochs=epochs,
        validation_data=validation_generator,
        validation_steps=nb_validation_samples // batch_size,
    )
    return Program(model, fit, task="multiclass", rows=rows)
