"""A rerun's fresh optimizer that cannot be built says so in one sentence even when the error cannot print itself
(issue 12, beyond the list: an unguarded ``str()`` of the user's exception made the message itself raise)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import stallmagic
from stallmagic.remedies import RemedyError
from stallmagic.rerun.plan import Baseline, Plan
from stallmagic.rerun.training import build_optimizer


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no words")


class StubbornAdam(keras.optimizers.Adam):
    """A user's optimizer whose configuration cannot be read back."""

    @classmethod
    def from_config(cls, config, custom_objects=None):
        raise Unprintable()


def test_an_optimizer_that_cannot_be_rebuilt_is_one_sentence(seed):
    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=StubbornAdam(1e-3), loss="binary_crossentropy")
    with stallmagic.capture() as session:
        model.fit(x, y, epochs=1, verbose=0)
    plan = Plan.from_baseline(Baseline.of(session.runs[-1]))
    with pytest.raises(RemedyError, match=r"Could not build a fresh StubbornAdam optimizer .*<Unprintable object>"):
        build_optimizer(plan)
