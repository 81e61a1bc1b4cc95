"""What reruns keep in memory is bounded (issue 12, item 11): ten reruns with a remedy that rebuilds the model grew
resident memory by 13.6 MiB each, linearly, with 16 live models after 6 reruns.

Only the ``keep_reruns`` most recently used reruns keep their model, weights and optimizer; older ones are released
(records and curves stay; restore and rerun say why they cannot). TensorFlow's gradient registrations of the
graphs traced for a released or recompiled model go with it. Checked here by what stays alive (weak references,
TensorFlow's registry), never by timing or RSS: ``bench/rerun.py`` measures the memory itself.
"""

from __future__ import annotations

import gc
import weakref

import pytest
from small_runs import captured_classifier

import stallmagic
from stallmagic._internal.keras_private import custom_gradient_names
from stallmagic.remedies import Remedy, RemedyError
from stallmagic.rerun import DEFAULT_KEEP_RERUNS, set_keep_reruns
from stallmagic.rerun.ledger import LEDGER

RELEASED = r"was released to bound memory .* so it can no longer be restored or rerun; its records and curves stay\."


@pytest.fixture()
def keep():
    """``keep(n)``: only the ``n`` most recently used reruns keep their live state during the test."""
    previous = LEDGER.keep_reruns

    def set_limit(n: int) -> None:
        set_keep_reruns(n)

    yield set_limit
    set_keep_reruns(previous)


def small_run():
    """One epoch of a small MLP (a hidden Dense layer, so dropout rebuilds the model) on 120 generated rows."""
    return captured_classifier(
        rows=120, features=6, epochs=1, batch_size=30, hidden=8, label="mlp", target=lambda x: x[:, 0] + x[:, 1] > 0
    )


@pytest.fixture()
def run(seed):
    return small_run()


def dropout(i: int) -> Remedy:
    return Remedy("dropout", {"rate": 0.1 + 0.1 * i})


def collected(ref: weakref.ref) -> bool:
    gc.collect()
    return ref() is None


def test_reruns_beyond_the_limit_are_released_and_their_models_collected(run, keep):
    keep(2)
    reruns = [run.rerun(dropout(i)) for i in range(4)]
    models = [weakref.ref(r.keras_model) for r in reruns if r.keras_model is not None]
    assert len(models) == 2  # the first two were released as the third and the fourth finished
    assert LEDGER.live_reruns() == reruns[2:]
    assert not any(collected(m) for m in models)  # the kept ones live
    for old in reruns[:2]:
        assert old.keras_model is None and old.final_weights is None and old.data is None and old.fit_call is None
        assert old.end == "completed" and old.epochs_done == 1 and old.logs["val_loss"]  # its records stay
        with pytest.raises(RemedyError, match=RELEASED):
            old.restore()
        with pytest.raises(RemedyError, match=RELEASED):
            old.rerun()
        with pytest.raises(RemedyError, match=RELEASED):
            stallmagic.sweep(old, {"epochs": [1]})
    reruns[2].restore()  # the kept ones restore
    assert reruns[3].rerun(Remedy("l2", {"factor": 1e-3})).end == "completed"
    assert len(run.session.runs) == 6


def test_the_released_models_are_garbage_collected(run, keep):
    keep(1)
    first = run.rerun(dropout(0))
    model = weakref.ref(first.keras_model)
    run.rerun(dropout(1))
    assert collected(model)


def test_a_rerun_used_again_is_released_after_the_ones_used_less_recently(run, keep):
    keep(2)
    a = run.rerun(dropout(0))
    b = run.rerun(dropout(1))
    a.restore()  # restoring a uses it
    c = run.rerun(dropout(2))
    assert LEDGER.live_reruns() == [a, c]
    with pytest.raises(RemedyError, match=RELEASED):
        b.restore()
    a.restore()
    keep(1)  # a lower limit releases at once
    assert LEDGER.live_reruns() == [a]
    with pytest.raises(RemedyError, match=RELEASED):
        c.rerun()


def test_tensorflow_keeps_no_traced_graph_of_a_released_or_recompiled_model(run, keep):
    """TensorFlow registers, process-wide and for good, one gradient per traced ``tf.custom_gradient`` (Keras's
    optimizer traces one through tf.distribute), each holding its whole graph: 6-7 MiB per small model. Once the
    limit is reached, reruns that rebuild the model (or retrace the user's) leave that registry as it was."""
    keep(1)
    run.rerun(dropout(0))
    run.rerun(Remedy("l2", {"factor": 1e-3}))  # in place: retraces the user's model
    names = custom_gradient_names()
    assert names  # the registry this test watches is there (TensorFlow backend)
    for i in range(1, 4):
        run.rerun(dropout(i))
        run.rerun(Remedy("l2", {"factor": 1e-3 * (i + 1)}))
        gc.collect()
        assert len(custom_gradient_names()) <= len(names)


def test_a_rebuilt_model_is_collected_when_its_session_is_dropped(seed):
    """The ledger holds the run whose weights a model holds weakly: a rebuilt model's run holds the model, so a
    strong reference kept every rebuilt model alive for as long as the process, sessions dropped or not."""
    run = small_run()
    new = run.rerun(dropout(0))
    model = weakref.ref(new.keras_model)
    del new, run
    assert collected(model)


def test_a_sweeps_runs_keep_no_model_and_say_so(run):
    result = stallmagic.sweep(run, {"remedy": [dropout(0), None]})
    assert len(result.runs) == 2 and all(r.keras_model is None and r.final_weights is None for r in result.runs)
    assert result.rows[0]["scores"]  # scored from the records
    with pytest.raises(RemedyError, match=r"is one of a sweep's runs, which keep no model or weights once trained"):
        result.runs[0].restore()


def test_the_limit_is_an_int_of_at_least_one(keep):
    assert DEFAULT_KEEP_RERUNS == LEDGER.keep_reruns == 5
    for bad in (0, -1, "3", True, 2.0, None):
        with pytest.raises(ValueError, match=r"The 'keep_reruns' limit must be an int >= 1\. Got .* instead\."):
            set_keep_reruns(bad)
    assert set_keep_reruns(3) == 5 and LEDGER.keep_reruns == 3
