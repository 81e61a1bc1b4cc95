"""Shared test set-up: quiet TensorFlow, seeded Keras, small bundled data, and a check that no patch leaks."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _fit_is_never_left_patched(request):
    """After every test, ``keras.Model.fit`` must be the original again (whatever the test did)."""
    yield
    import sys

    if "keras" in sys.modules and sys.modules["keras"] is not None and "stallmagic.capture" in sys.modules:
        capture_module = sys.modules["stallmagic.capture"]
        assert not capture_module.is_patched(), f"{request.node.name} left keras.Model.fit patched"
        assert not getattr(sys.modules["keras"].Model.fit, "_stallmagic", False)


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's digits, scaled to [0, 1]: (x float32 of shape (1797, 64), y int of shape (1797,))."""
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    return (x / 16.0).astype("float32"), y.astype("int64")


@pytest.fixture(scope="session")
def cancer():
    """scikit-learn's breast_cancer, standardised: (x float32 of shape (569, 30), y int of shape (569,))."""
    from sklearn.datasets import load_breast_cancer

    x, y = load_breast_cancer(return_X_y=True)
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    return x.astype("float32"), y.astype("int64")


@pytest.fixture()
def seed():
    import keras

    keras.utils.set_random_seed(0)
    np.random.seed(0)
    return 0
