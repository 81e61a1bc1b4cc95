"""A run fed by a Python generator is not rerun (issue 12, item 12): a rerun used to read the user's generator again,
advancing an infinite one (other batches: not the same data) and finding a finite one exhausted (an ``error`` run).
Its remedies are offered disabled with the reason, and ``run.rerun`` refuses in one sentence without pulling a
batch. Inputs that can be read again (arrays, tf.data, PyDataset) still rerun."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import stallmagic
from stallmagic.diagnosis.report import Finding
from stallmagic.remedies import Remedy, RemedyError, suggest

REFUSED = r"cannot be rerun: this fit reads its training data from a Python generator, which yields each batch once"


def batches(pulled: list, count: int | None = None):
    """Batches of 16 generated rows, ``count`` of them (``None``: for ever); each one pulled is noted in ``pulled``."""
    rng = np.random.default_rng(0)
    while count is None or len(pulled) < count:
        pulled.append(len(pulled))
        x = rng.normal(size=(16, 6)).astype("float32")
        yield x, (x[:, 0] > 0).astype("int64")


def rows(n: int = 96):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(n, 6)).astype("float32")
    return x, (x[:, 0] > 0).astype("int64")


def fitted(data, **fit_kwargs):
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    with stallmagic.capture(label="gen") as session:
        model.fit(data, verbose=0, **fit_kwargs)
    return session.runs[-1]


def overfitting_remedies(run):
    finding = Finding("overfitting", "Overfitting", "The gap grows.", evidence={"train_minus_val": 0.3})
    return [r for r in suggest(finding, run) if r.kind == "rerun"]


def test_an_infinite_generator_is_refused_without_pulling_a_batch(seed):
    pulled: list = []
    run = fitted(batches(pulled), steps_per_epoch=3, epochs=2)
    assert run.fit.data_kind == "generator"
    before = len(pulled)
    for remedy in (None, Remedy("learning_rate", {"learning_rate": 0.01}), Remedy("dropout", {"rate": 0.2})):
        with pytest.raises(RemedyError, match=REFUSED):
            run.rerun(remedy)
    with pytest.raises(RemedyError, match=REFUSED):
        stallmagic.sweep(run, {"learning_rate": [1e-2]}, metric="accuracy")
    assert len(pulled) == before and run.session.runs == [run]  # the generator was not advanced, nothing recorded
    # A new generator given to the rerun is fresh: that rerun trains, and the user's generator is still untouched.
    new = run.rerun(None, x=batches([]))
    assert new.end == "completed" and new.epochs_done == 2 and len(pulled) == before


@pytest.mark.filterwarnings("ignore:Your input ran out of data")  # the original fit reads it to its end
def test_a_finite_generator_is_refused_instead_of_an_error_run(seed):
    pulled: list = []
    run = fitted(batches(pulled, count=6), epochs=1)
    with pytest.raises(RemedyError, match=REFUSED):
        run.rerun()
    assert run.session.runs == [run]


def test_a_validation_generator_is_refused_too(seed):
    x, y = rows()
    pulled: list = []
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    with stallmagic.capture() as session:
        model.fit(x, y, validation_data=batches(pulled), validation_steps=2, epochs=2, batch_size=32, verbose=0)
    run = session.runs[-1]
    before = len(pulled)
    with pytest.raises(RemedyError, match=r"reads its validation data from a Python generator"):
        run.rerun(Remedy("learning_rate", {"learning_rate": 0.01}))
    assert len(pulled) == before
    reasons = {r.disabled_reason or "" for r in overfitting_remedies(run)}
    assert reasons and all(r.startswith("This fit reads its validation data from a Python generator") for r in reasons)


def test_every_remedy_of_a_generator_fed_run_is_offered_disabled_with_the_reason(seed):
    run = fitted(batches([]), steps_per_epoch=3, epochs=1)
    remedies = overfitting_remedies(run)
    assert {r.code for r in remedies} >= {"dropout", "l2"}
    for remedy in remedies:
        assert not remedy.enabled
        assert remedy.disabled_reason.startswith("This fit reads its training data from a Python generator")
        assert "tf.data.Dataset or a keras.utils.PyDataset" in remedy.disabled_reason
    # The same finding on arrays offers them enabled (the reason is the generator's, not the finding's).
    x, y = rows()
    on_arrays = overfitting_remedies(fitted(x, y=y, validation_split=0.25, epochs=1, batch_size=32))
    assert {r.code for r in on_arrays if r.enabled} >= {"dropout", "l2"}


class Batches(keras.utils.PyDataset):
    """The generated rows as a PyDataset of 16-row batches (indexable: read again from its start each epoch)."""

    def __init__(self, x, y):
        super().__init__()
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x) // 16

    def __getitem__(self, i):
        return self.x[16 * i : 16 * (i + 1)], self.y[16 * i : 16 * (i + 1)]


def test_inputs_that_can_be_read_again_still_rerun(seed):
    import tensorflow as tf

    x, y = rows()
    for data in (tf.data.Dataset.from_tensor_slices((x, y)).batch(16), Batches(x, y)):
        run = fitted(data, epochs=2)
        assert all(r.disabled_reason is None or "generator" not in r.disabled_reason for r in overfitting_remedies(run))
        again = run.rerun()
        assert again.end == "completed" and again.epochs_done == 2
        np.testing.assert_allclose(again.logs["loss"], run.logs["loss"], rtol=1e-5)  # the same data, the same start
        assert run.rerun(Remedy("learning_rate", {"learning_rate": 0.01})).end == "completed"
