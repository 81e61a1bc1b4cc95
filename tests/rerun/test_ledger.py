"""The rerun engine's pieces that need no training: the ledger's lifetime, the data walker, label numbers.

The reruns themselves are tested on real Keras training in ``test_rerun.py``.
"""

from __future__ import annotations

import gc

import numpy as np

from stallmagic.record import Run
from stallmagic.remedies.arrays import map_arrays, take_rows
from stallmagic.rerun.engine import short_text
from stallmagic.rerun.ledger import Ledger


class _Model:
    """Stands in for a model: the ledger keys on identity and never calls into Keras."""


def test_a_model_entry_lives_as_long_as_the_model():
    ledger = Ledger()
    model, layer = _Model(), _Model()
    ledger.track(model)
    ledger.set_edits(model, [(layer, "rate", 0.1, 0.5)])
    holder = Run(index=0, label="r")  # held weakly: the test keeps it
    ledger.hold(model, holder)
    assert ledger.edits(model) and ledger.holder(model) is holder
    key = id(model)
    del model
    gc.collect()
    assert key not in ledger._edits and key not in ledger._holders


def test_reruns_beyond_the_limit_are_retired_least_recently_used_first():
    ledger = Ledger(keep_reruns=2)
    runs = [Run(index=i, label=f"r{i}") for i in range(3)]
    for run in runs:
        run.keras_model, run.final_weights = _Model(), [np.zeros(2)]
        ledger.record(run).final_weights = run.final_weights
    ledger.retain(runs[0])
    ledger.retain(runs[1])
    ledger.touch(runs[0])  # used again: now the most recent
    ledger.retain(runs[2])
    assert ledger.live_reruns() == [runs[0], runs[2]]
    old = runs[1]
    assert old.keras_model is None and old.final_weights is None and ledger.record(old).final_weights is None
    assert "was released to bound memory (only the 2 most recently used reruns" in ledger.record(old).released
    ledger.check_live(runs[0])  # a kept run passes


def test_release_drops_the_run_record_and_its_hold_on_the_model():
    ledger = Ledger()
    run = Run(index=0, label="r")
    model = _Model()
    run.keras_model = model
    ledger.record(run).final_weights = [np.zeros(2)]
    ledger.hold(model, run)
    ledger.release(run)
    assert ledger.holder(model) is None
    assert ledger.record(run).final_weights is None  # a fresh, empty record


def test_a_released_run_keeps_why_and_a_rerun_of_it_says_so():
    """Issue 12, item 15: a released run's rerun said it "was loaded from a file, or not captured in this process";
    the record keeps the reason given to release(), and the baseline's refusal quotes it."""
    import pytest

    from stallmagic.remedies import RemedyError

    ledger = Ledger()
    run = Run(index=0, label="r")
    ledger.release(run, reason="its cell was released (keep_cells keeps more)")
    assert ledger.released(run) == "its cell was released (keep_cells keeps more)"
    with pytest.raises(RemedyError) as caught:
        ledger.baseline(run)
    assert str(caught.value) == "r cannot be rerun: its cell was released (keep_cells keeps more)."
    assert ledger.released(Run(index=1, label="kept")) is None


def test_revert_and_redo_undo_and_make_in_place_edits():
    ledger = Ledger()
    model = _Model()
    model.rate = 0.5
    ledger.track(model)
    ledger.set_edits(model, [(model, "rate", 0.1, 0.5)])
    edits = ledger.revert(model)
    assert model.rate == 0.1 and ledger.edits(model) == []
    ledger.redo(model, edits)
    assert model.rate == 0.5 and ledger.edits(model) == edits


def test_map_arrays_walks_nested_inputs_without_touching_them():
    x = {"a": np.arange(6).reshape(3, 2), "b": [np.arange(3), (np.ones(3),)], "c": None}
    rows = take_rows(x, np.array([2, 0]))
    assert list(rows) == ["a", "b", "c"] and rows["c"] is None
    np.testing.assert_array_equal(rows["a"], [[4, 5], [0, 1]])
    assert isinstance(rows["b"], list) and isinstance(rows["b"][1], tuple)
    np.testing.assert_array_equal(rows["b"][0], [2, 0])
    np.testing.assert_array_equal(x["b"][0], [0, 1, 2])  # the user's arrays are unchanged
    assert map_arrays(None, lambda a: a) is None


def test_short_text_writes_numbers_as_g():
    for value in (0.001, 1e-5, 3.0, 123456789.0, float("nan"), float("inf"), -0.25):
        assert short_text(value) == f"{value:g}"
    assert short_text(3) == "3" and short_text(np.zeros((2, 3))) == "array(2, 3)"
