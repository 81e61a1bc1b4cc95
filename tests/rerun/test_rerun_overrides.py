"""``run.rerun(**overrides)`` and ``stallmagic.sweep``'s grid check every value before anything is built or trained
(issue 12, item 13): ``epochs=-1`` and ``epochs=0`` added "completed" runs of 0 epochs, ``epochs="three"`` an error
run; now each is one RemedyError sentence naming the argument and what it allows, from one table of checks."""

from __future__ import annotations

import re

import numpy as np
import pytest
from small_runs import captured_classifier

import stallmagic
from stallmagic.remedies import RemedyError
from stallmagic.rerun import rerun, restore
from stallmagic.rerun.plan import COMPILE_KEYS, FIT_KEYS


@pytest.fixture(scope="module")
def run():
    """Two epochs of a small softmax classifier on 80 generated rows (60 training rows after the split), shared by
    the module's tests: a refused override leaves it as it was, which each test checks."""
    return captured_classifier(rows=80, features=6, epochs=2, batch_size=20)


@pytest.fixture()
def unchanged(run):
    """``unchanged()``: True while no run was added to the session and the model's weights are as they were."""
    count, weights = len(run.session.runs), run.keras_model.get_weights()

    def check():
        now = run.keras_model.get_weights()
        return len(run.session.runs) == count and all(np.array_equal(a, b) for a, b in zip(now, weights))

    return check


BAD = [
    ("epochs", -1, "an int >= 1"),
    ("epochs", 0, "an int >= 1"),
    ("epochs", "three", "an int >= 1"),
    ("epochs", 2.5, "an int >= 1"),
    ("batch_size", 0, "an int >= 1 or None"),
    ("batch_size", True, "an int >= 1 or None"),
    ("validation_split", 1.5, "a number >= 0 and < 1"),
    ("verbose", 7, "'auto', 0, 1 or 2"),
    ("steps_per_epoch", -3, "an int >= 1 or None"),
    ("initial_epoch", -1, "an int >= 0"),
    ("validation_freq", 0, "an int >= 1"),
    ("shuffle", "yes", "True, False or 'batch'"),
    ("class_weight", [1, 2], "a non-empty dict class -> weight >= 0, or None"),
    ("callbacks", "EarlyStopping", "a list of keras.callbacks.Callback or None"),
    ("learning_rate", -1, "a number > 0"),
    ("learning_rate", float("nan"), "a number > 0"),
    ("clipnorm", "x", "a number > 0 or None"),
    ("momentum", -0.5, "a number >= 0 or None"),
    ("weight_decay", float("inf"), "a number >= 0 or None"),
    ("loss", "not_a_loss", "a loss name Keras knows"),
    ("metrics", "accuracy", "a list or dict of metrics, or None"),
    ("optimizer", {"config": {}}, "a name, a config dict with a 'class_name'"),
    ("seed", -1, "an int from 0 to 2**32 - 1"),
    ("x", "data.csv", "arrays, a tf.data.Dataset"),
]


@pytest.mark.parametrize(("name", "value", "allowed"), BAD, ids=[f"{n}={v!r}" for n, v, _ in BAD])
def test_a_bad_override_is_one_sentence_before_anything_is_built(run, unchanged, name, value, allowed):
    with pytest.raises(RemedyError) as caught:
        run.rerun(None, **{name: value})
    message = str(caught.value)
    assert message.startswith(f"The {name!r} argument of rerun must be {allowed}")
    assert message.endswith(f"Got {value!r} instead.") and "\n" not in message
    assert unchanged()  # no run recorded, no weights changed


def test_initial_epoch_at_or_beyond_epochs_trains_nothing_so_is_refused(run, unchanged):
    with pytest.raises(RemedyError, match=r"would train no epoch: The 'initial_epoch' argument of rerun \(2\) must be "
                                          r"below epochs \(2\)"):  # fmt: skip
        run.rerun(None, initial_epoch=2)
    assert unchanged()


def test_good_overrides_still_train(run):
    new = run.rerun(None, epochs=np.int64(1), batch_size=None, verbose=0, shuffle="batch", seed=3, clipnorm=None)
    assert new.end == "completed" and new.epochs_done == 1


def test_a_sweep_grid_is_checked_with_the_same_table_before_training(run, unchanged):
    from stallmagic.rerun.overrides import CHECKS

    for grid, name, value in [
        ({"epochs": [1, -1]}, "epochs", -1),
        ({"batch_size": [0]}, "batch_size", 0),
        ({"learning_rate": [1e-3, -1]}, "learning_rate", -1),
        ({"optimizer": ["adam"], "learning_rate": ["fast"]}, "learning_rate", "fast"),
    ]:
        allowed = CHECKS[name].allowed
        expected = f"The {name!r} value in the grid of sweep must be {allowed}. Got {value!r} instead."
        with pytest.raises(RemedyError, match=re.escape(expected)):
            stallmagic.sweep(run, grid)
    with pytest.raises(RemedyError, match=r"The grid of sweep has an unknown setting 'epoch'\."):
        stallmagic.sweep(run, {"epoch": [3]})
    with pytest.raises(RemedyError, match=r"would train no epoch: The 'initial_epoch' value in the grid of sweep"):
        stallmagic.sweep(run, {"initial_epoch": [5]})
    assert unchanged()


def test_the_table_covers_every_override_a_rerun_accepts():
    from stallmagic.rerun.overrides import CHECKS

    assert set(CHECKS) == {*FIT_KEYS, *COMPILE_KEYS, "seed"}


def test_restore_and_rerun_refuse_what_is_not_a_run():
    with pytest.raises(RemedyError, match=r"The 'run' argument of rerun must be a Run .* Got 'run 1' instead\."):
        rerun("run 1")
    with pytest.raises(RemedyError, match=r"The 'run' argument of restore must be a Run .* Got None instead\."):
        restore(None)
