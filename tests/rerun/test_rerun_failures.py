"""A failed rerun is recorded and reported whatever the user's exception does (issue 12, beyond the list, in the rerun
engine): an exception whose ``__str__`` raises made the engine's own error handling raise, a rerun whose fit failed
could stay ``running``, and the RerunWarning pointed at stallmagic's ``record.py`` instead of the user's line."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import stallmagic
from stallmagic.remedies import RemedyError
from stallmagic.rerun import RerunWarning, final_weights, release, root_of


class Unprintable(Exception):
    """An exception whose message cannot be read: ``str()`` of it raises."""

    def __str__(self):
        raise RuntimeError("the __str__ of the user's exception raises")


class Picky(keras.Sequential):
    """A model whose own ``compile`` override raises once ``fail`` is set (user code the engine calls)."""

    fail = False

    def compile(self, *args, **kwargs):
        if Picky.fail:
            raise Unprintable()
        return super().compile(*args, **kwargs)


def rows():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    return x, (x[:, 0] > 0).astype("int64")


def captured(model):
    x, y = rows()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    with stallmagic.capture(label="small") as session:
        model.fit(x, y, validation_split=0.25, epochs=1, batch_size=16, verbose=0)
    return session.runs[-1]


def test_an_unprintable_exception_before_the_fit_is_recorded_and_warned_in_one_line(seed):
    run = captured(Picky([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")]))
    Picky.fail = True
    try:
        with pytest.warns(RerunWarning) as caught:
            failed = run.rerun(None, learning_rate=0.01)
    finally:
        Picky.fail = False
    assert failed.end == "error" and failed.error.type == "Unprintable"
    assert failed.error.message == "<Unprintable object>"
    message = str(caught[0].message)
    assert "(Unprintable: <Unprintable object>)" in message and "\n" not in message
    assert "putting the model back failed too (Unprintable: <Unprintable object>)" in message  # put_back compiles
    assert caught[0].filename == __file__  # the user's line, not stallmagic's
    assert run.session.runs == [run, failed]


def test_a_fit_that_raises_an_unprintable_exception_is_an_error_run_never_running(seed):
    class Boom(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise Unprintable()

    run = captured(keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")]))
    with pytest.warns(RerunWarning) as caught:
        failed = run.rerun(None, callbacks=[Boom()])
    assert failed.end == "error" and failed.error is not None
    assert caught[0].filename == __file__ and "\n" not in str(caught[0].message)
    assert run.rerun(None).end == "completed"  # and the next rerun runs normally


def test_the_public_ledger_functions_refuse_what_is_not_a_run():
    for function in (release, final_weights, root_of):
        name = function.__name__
        with pytest.raises(RemedyError, match=rf"The 'run' argument of {name} must be a Run .* Got 'run 1' instead\."):
            function("run 1")
