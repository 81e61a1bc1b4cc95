"""The fit interceptor on its own: one process-wide owner of the patch on ``keras.Model.fit``, what it puts back,
and blocks that close in any order. Real Keras, tiny models (the recorded runs are tested in ``test_capture``)."""

from __future__ import annotations

import functools
import threading
import types

import keras
import numpy as np
import pytest

from stallmagic import capture
from stallmagic.capture import intercept, is_patched, original_fit
from stallmagic.record import Session

ORIGINAL_FIT = keras.Model.fit
X = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
Y = np.arange(32) % 2


def tiny():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    return model


def test_the_interceptor_is_the_modules_only_state():
    """Everything that outlives a call lives in INTERCEPTOR; the rest of the module is functions and constants."""
    mutable = (dict, list, set, threading.local, types.SimpleNamespace)
    state = {
        name: value
        for name, value in vars(intercept).items()
        if not name.startswith("__") and (isinstance(value, mutable) or type(value).__module__ == intercept.__name__)
    }
    assert state == {"INTERCEPTOR": intercept.INTERCEPTOR}
    assert isinstance(intercept.INTERCEPTOR, intercept.FitInterceptor)


def test_blocks_closed_in_any_order_keep_the_patch_until_the_last_one():
    interceptor = intercept.INTERCEPTOR
    outer = interceptor.open_block(Session(), {})
    inner = interceptor.open_block(Session(), {"label": "inner"})
    try:
        assert is_patched() and keras.Model.fit is not ORIGINAL_FIT and original_fit() is ORIGINAL_FIT
        interceptor.close_block(outer)  # the outer block first: the inner one still records
        assert is_patched()
        interceptor.close_block(outer)  # closing it again changes nothing
        assert is_patched()
    finally:
        interceptor.close_block(inner)
    assert not is_patched() and keras.Model.fit is ORIGINAL_FIT and original_fit() is ORIGINAL_FIT


def test_a_fit_the_user_set_on_keras_model_runs_inside_the_block_and_is_put_back():
    calls = []

    @functools.wraps(ORIGINAL_FIT)  # keeps fit's signature, which the wrapper binds the arguments to
    def users_fit(self, *args, **kwargs):
        calls.append(self)
        return ORIGINAL_FIT(self, *args, **kwargs)

    keras.Model.fit = users_fit
    try:
        model = tiny()
        with capture() as session:
            assert keras.Model.fit is not users_fit and original_fit() is users_fit
            model.fit(X, Y, epochs=1, verbose=0)
        assert keras.Model.fit is users_fit and not is_patched()
        assert calls == [model] and len(session.runs) == 1
        assert session.runs[0].end == "completed" and session.runs[0].epochs_done == 1
    finally:
        del keras.Model.fit
    assert keras.Model.fit is ORIGINAL_FIT


def test_a_fit_in_another_thread_is_recorded_by_the_open_block():
    """keras.Model.fit is one attribute for every thread, so a block sees a fit another thread makes."""
    model, errors = tiny(), []

    def train():
        try:
            model.fit(X, Y, epochs=2, verbose=0)
        except BaseException as exc:  # surfaced below, not lost in the thread
            errors.append(exc)

    with capture() as session:
        worker = threading.Thread(target=train)
        worker.start()
        worker.join()
    assert errors == [] and not is_patched()
    assert len(session.runs) == 1 and session.runs[0].epochs_done == 2


def test_capture_rejects_unknown_run_attributes_before_patching():
    with pytest.raises(ValueError, match="run_attrs accepts"), capture(run_attrs={"colour": "red"}):
        pass
    assert not is_patched()


# ---------------------------------------------------------------------------------------------------- issue 12


def _type_error(call) -> str:
    with pytest.raises(TypeError) as caught:
        call()
    return str(caught.value)


def test_the_wrapper_keeps_fits_identity_so_messages_read_as_without_it():
    """Issue 12, item 7: a duplicate keyword said ``stallmagic.capture.intercept.TensorFlowTrainer.fit() got
    multiple values ...``: Python names the function's ``__module__`` in that message, and the wrapper kept its own."""
    model = tiny()
    calls = {
        "keyword twice": lambda: model.fit(X, Y, epochs=1, **{"epochs": 2}),
        "by position and keyword": lambda: model.fit(X, Y, x=X, verbose=0),
        "unknown keyword": lambda: model.fit(X, Y, epoch=2),
        "self twice": lambda: model.fit(X, self=model),
    }
    plain = {name: _type_error(call) for name, call in calls.items()}
    with capture() as session:
        wrapper = keras.Model.fit
        for attribute in ("__module__", "__name__", "__qualname__", "__doc__"):
            assert getattr(wrapper, attribute) == getattr(ORIGINAL_FIT, attribute), attribute
        assert wrapper.__wrapped__ is ORIGINAL_FIT
        captured = {name: _type_error(call) for name, call in calls.items()}
    assert captured == plain
    assert plain["keyword twice"].startswith(f"{ORIGINAL_FIT.__module__}.{ORIGINAL_FIT.__qualname__}() got multiple")
    assert session.runs == []  # calls Keras refuses are not runs


class UnprintableError(Exception):
    """An exception whose ``__str__`` raises (issue 12, item 5)."""

    def __str__(self):
        raise RuntimeError("this exception cannot be printed")


class RaiseAtFirstEpoch(keras.callbacks.Callback):
    def __init__(self, exc):
        super().__init__()
        self.exc = exc

    def on_epoch_end(self, epoch, logs=None):
        raise self.exc


def test_an_exception_whose_str_raises_reaches_the_caller_unchanged_and_ends_the_run():
    """Issue 12, item 5: recording the error called str() on it, so a RuntimeError replaced the user's exception
    and the run stayed 'running'."""
    raised = UnprintableError("bad")
    with pytest.raises(UnprintableError) as caught, capture() as session:
        tiny().fit(X, Y, epochs=3, verbose=0, callbacks=[RaiseAtFirstEpoch(raised)])
    assert caught.value is raised and type(caught.value) is UnprintableError
    run = session.runs[0]
    assert run.end == "error" and run.epochs_done == 0
    assert run.error.type == "UnprintableError" and run.error.message == "<UnprintableError object>"


def test_a_fit_the_user_assigns_inside_the_block_is_kept_when_it_closes():
    """Issue 12, item 6: closing the block deleted keras.Model.fit, whatever the user had put there meanwhile."""

    def users_fit(self, *args, **kwargs):
        return ORIGINAL_FIT(self, *args, **kwargs)

    try:
        with capture():
            keras.Model.fit = users_fit
        assert keras.Model.__dict__.get("fit") is users_fit and not is_patched()
        with capture(), capture():  # and a fit they had before the block is put back exactly, nested blocks too
            assert keras.Model.fit is not users_fit
        assert keras.Model.__dict__.get("fit") is users_fit
    finally:
        if "fit" in keras.Model.__dict__:
            del keras.Model.fit
    assert keras.Model.fit is ORIGINAL_FIT


def test_a_fit_the_user_set_without_functools_wraps_is_recorded_with_its_arguments():
    """Issue 12, item 6: a user's ``def fit(self, *args, **kwargs)`` made the capture bind the call to that
    signature: the run recorded none of the arguments (1 epoch asked) and the recorder, added as a keyword the
    signature has no parameter for, was dropped silently (0 epochs recorded)."""
    calls = []

    def users_fit(self, *args, **kwargs):
        calls.append((args, dict(kwargs)))
        return ORIGINAL_FIT(self, *args, **kwargs)

    keras.Model.fit = users_fit
    try:
        history = keras.callbacks.History()
        with capture() as session:
            tiny().fit(X, Y, epochs=3, batch_size=8, verbose=0)
            tiny().fit(X, Y, 16, 2, 0, [history])  # callbacks by position: the recorder joins them there
    finally:
        del keras.Model.fit
    by_keyword, by_position = session.runs
    assert (by_keyword.end, by_keyword.epochs_done, by_keyword.fit.epochs_asked) == ("completed", 3, 3)
    assert by_keyword.fit.batch_size == 8
    assert (by_position.epochs_done, by_position.fit.batch_size, by_position.fit.callbacks) == (2, 16, ["History"])
    assert len(history.epoch) == 2  # the user's own callback ran as well
    assert len(calls) == 2 and calls[1][0][:4] == (X, Y, 16, 2) and not calls[1][1]  # their call, as they made it


def test_a_fit_of_the_users_that_takes_no_callbacks_runs_as_without_the_capture():
    """A user's ``fit`` with no ``callbacks`` parameter (and no ``**kwargs``) cannot take the recorder: it runs
    unrecorded, exactly as called, instead of a run that records nothing or a TypeError."""

    def users_fit(self, x, y, epochs=1):
        return ORIGINAL_FIT(self, x, y, epochs=epochs, verbose=0)

    keras.Model.fit = users_fit
    try:
        with capture() as session:
            history = tiny().fit(X, Y, epochs=2)
    finally:
        del keras.Model.fit
    assert len(history.epoch) == 2 and session.runs == []


@pytest.mark.parametrize(
    "arguments",
    [{"epochs": "three"}, {"epochs": None}, {"batch_size": "x"}, {"validation_split": "x"}, {"class_weight": [1, 2]}],
)
def test_an_argument_keras_refuses_gets_keras_own_error(arguments):
    """Beyond the list (issue 12): the run's snapshot read the arguments before Keras did, so a bad value raised
    stallmagic's ValueError (``int('three')``) instead of the error Keras gives without the capture."""
    model = tiny()

    def call():
        model.fit(X, Y, verbose=0, **arguments)

    with pytest.raises(Exception) as plain:
        call()
    with pytest.raises(Exception) as captured, capture():
        call()
    assert (type(captured.value), str(captured.value)) == (type(plain.value), str(plain.value))


def test_a_single_callback_not_in_a_list_is_recorded():
    """Beyond the list (issue 12): Keras accepts ``callbacks=cb`` (it flattens what it is given); the capture
    iterated it and raised TypeError from inside the user's fit."""
    history = keras.callbacks.History()
    with capture() as session:
        tiny().fit(X, Y, epochs=2, verbose=0, callbacks=history)
    assert len(history.epoch) == 2
    assert session.runs[0].epochs_done == 2 and session.runs[0].fit.callbacks == ["History"]


def test_capture_checks_its_arguments_in_one_sentence_before_patching():
    """Beyond the list (issue 12): a session that is not a Session failed inside the user's fit (AttributeError on
    .listeners), a non-str label became a run's label, and unknown run_attrs keys of mixed types made the message
    itself raise (sorted() of an int and a str)."""
    cases = [
        ({"session": "mine"}, TypeError, "The 'session' argument of capture() must be a stallmagic Session or None."),
        ({"label": 3}, TypeError, "The 'label' argument of capture() must be a str or None. Got int instead."),
        ({"run_attrs": ["label"]}, TypeError, "The 'run_attrs' argument of capture() must be a dict or None."),
        ({"run_attrs": {1: "a", "colour": "red"}}, ValueError, "Got 'colour', 1 instead."),
    ]
    for arguments, error, message in cases:
        with pytest.raises(error) as caught, capture(**arguments):
            pass
        assert message in str(caught.value) and not is_patched()
