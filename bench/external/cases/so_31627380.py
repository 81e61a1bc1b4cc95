"""StackOverflow 31627380: a 512-unit ReLU MLP with dropout on Kaggle's Titanic table, label-encoded and unscaled.

Every categorical column (class, name, sex, siblings, parents, ticket, cabin, port) is label-encoded over the
training and test rows together, so names and tickets become integers in the hundreds; age and fare stay raw.
The buggy program ends in a separate two-unit ``Activation('softmax')`` with categorical cross-entropy on one-hot
labels; the authors' fix uses a sigmoid output with binary cross-entropy and keeps everything else (Adam, batch 4,
10 epochs, the last 20 % as validation). DeepFD labels it optimizer, activation and loss.
"""

from __future__ import annotations

import csv
import io

import numpy as np

from ..harness import Case, Mirror, Program

CASE = Case(
    name="so_31627380",
    repo="Wardat-ISU/DeepLocalize",
    path="Benchmark/StackOverflow/31627380/{variant} Code",
    labels=("optimizer", "activation", "loss"),
    summary="Titanic MLP on label-encoded, unscaled columns with a softmax output; the fix: sigmoid outputs and BCE.",
    deviations=(
        "DeepLocalize's instrumentation callback is dropped",
        "pandas is not installed: train.csv and test.csv are parsed with the csv module; numeric columns read by "
        "pandas as numbers (class, siblings, parents) are label-encoded in numeric order, text columns in string "
        "order, missing ages and fares filled with each file's mean, missing text with 'missing', as the program does",
    ),
)

#: The program's columns after dropping ``Survived`` (``PassengerId`` is the index).
COLUMNS = ("Pclass", "Name", "Sex", "Age", "SibSp", "Parch", "Ticket", "Fare", "Cabin", "Embarked")
CATEGORY_INDEX = (0, 1, 2, 4, 5, 6, 8, 9)
NUMERIC = ("Pclass", "Age", "SibSp", "Parch", "Fare")  # what pandas parses as numbers


def _table(text: str) -> dict[str, list]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    rows = list(reader)
    out: dict[str, list] = {}
    for name in (*COLUMNS, "Survived"):
        if name not in reader.fieldnames:
            continue
        raw = [row[name] for row in rows]
        if name in NUMERIC or name == "Survived":
            values = [float(v) if v != "" else np.nan for v in raw]
            mean = np.nanmean(values)
            out[name] = [mean if np.isnan(v) else v for v in values]  # fillna(mean) (only Age/Fare have gaps)
        else:
            out[name] = [v if v != "" else "missing" for v in raw]
    return out


def build(mirror: Mirror, variant: str) -> Program:
    import keras
    from keras import layers

    folder = CASE.path.format(variant="Buggy" if variant == "buggy" else "Correct")
    train = _table(mirror.text(CASE.repo, f"{folder}/train.csv"))
    test = _table(mirror.text(CASE.repo, f"{folder}/test.csv"))
    y = keras.utils.to_categorical(np.asarray(train["Survived"], dtype=int))
    x = np.zeros((len(train["Survived"]), len(COLUMNS)), dtype=np.float32)
    for i, name in enumerate(COLUMNS):
        if i in CATEGORY_INDEX:  # LabelEncoder fitted on the training and test values together
            classes = sorted(set(train[name]) | set(test[name]))
            code = {value: k for k, value in enumerate(classes)}
            x[:, i] = [code[v] for v in train[name]]
        else:
            x[:, i] = train[name]
    output = "softmax" if variant == "buggy" else "sigmoid"
    loss = "categorical_crossentropy" if variant == "buggy" else "binary_crossentropy"
    model = keras.Sequential([
        keras.Input((len(COLUMNS),)),
        layers.Dense(512), layers.Activation("relu"), layers.Dropout(0.5),
        layers.Dense(2), layers.Activation(output),
    ])  # fmt: skip
    model.compile(loss=loss, optimizer="adam", metrics=["accuracy"])
    fit = dict(x=x, y=y, epochs=10, batch_size=4, validation_split=0.20)
    return Program(model, fit, task="multiclass")
