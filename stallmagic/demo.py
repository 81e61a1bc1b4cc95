"""The demo behind ``python -m stallmagic demo`` and ``make demo``: a stuck training on bundled data.

Everything it uses ships with scikit-learn (the 8x8 digits), so it runs without a download.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np


def quickstart_data(
    *, seed: int = 0, keep_minority: float = 0.05, noise: float = 0.15
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The quickstart's training set: digits made imbalanced and partly mislabeled, and a clean test set.

    Digits 0-4 keep every row, digits 5-9 keep ``keep_minority`` of theirs; ``noise`` of the remaining training
    labels are replaced by a random other digit. Returns ``(x_train, y_train, x_test, y_test)`` with x scaled
    to [0, 1] (float32 of shape (n, 64)) and y integer labels.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=seed, stratify=y)
    rng = np.random.default_rng(seed)
    keep = (y_train < 5) | (rng.random(len(y_train)) < keep_minority)
    x_train, y_train = x_train[keep], y_train[keep].copy()
    flip = rng.random(len(y_train)) < noise
    y_train[flip] = (y_train[flip] + rng.integers(1, 10, flip.sum())) % 10
    return x_train, y_train, x_test, y_test


def build_model(n_in: int = 64, n_out: int = 10) -> Any:
    """The quickstart's model: a small MLP, compiled with Adam and sparse categorical cross-entropy."""
    import keras

    model = keras.Sequential(
        [
            keras.Input((n_in,)),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(n_out, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def first_rerun_remedy(report: Any) -> Any:
    """The most promising remedy that can rerun the training: the top finding's first enabled rerun remedy."""
    for finding in report.findings:
        if not finding.alert:
            break
        for remedy in finding.remedies:
            if remedy.kind == "rerun" and not remedy.disabled_reason:
                return remedy
    return None


def run_demo(
    *, epochs: int = 40, verbose: int = 0, report_path: str | None = "stallmagic-quickstart.html", rerun: bool = True
) -> int:
    """The quickstart scenario, headless: train, diagnose, apply the most promising fix, write the HTML report.

    Args:
        epochs: Epochs of the quickstart training (default 40).
        verbose: Keras' ``fit`` verbosity (default 0).
        report_path: Where to write the self-contained HTML report (``None``: no report).
        rerun: Rerun the training with the top finding's first remedy and compare (default ``True``).

    Returns:
        The process exit code.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    import stallmagic

    keras.utils.set_random_seed(0)
    x_train, y_train, x_test, y_test = quickstart_data()
    model = build_model()
    print(f"Training a small MLP on {len(x_train)} imbalanced, partly mislabeled digits for {epochs} epochs ...")
    with stallmagic.capture(label="quickstart") as session:
        model.fit(x_train, y_train, validation_data=(x_test, y_test), epochs=epochs, batch_size=32, verbose=verbose)
    run = session.runs[-1]
    print()
    print(run.summary())
    print()
    report = run.diagnose()
    print(report)
    remedy = first_rerun_remedy(report) if rerun else None
    if remedy is not None:
        print()
        print(f"Apply & rerun: {remedy.title}. {remedy.describe()}")
        run.rerun(remedy)
        print()
        print(session.compare())
        print()
        print("To keep the fix, write it into your code:")
        print("    " + remedy.as_code().replace("\n", "\n    "))
    if report_path:
        from .render.export import write_report

        written = write_report(Path(report_path), session)
        print()
        print(f"Wrote the report to {written[0].resolve()} (open it in a browser).")
    print()
    print("Try it in a notebook: make lab  (opens notebooks/quickstart.ipynb in JupyterLab), or")
    print("    .venv/bin/python -m jupyter lab notebooks/quickstart.ipynb")
    return 0
