"""``stallmagic.sweep``'s arguments are checked before anything trains: a mistake is one RemedyError sentence naming
the argument and what it accepts, never numpy's or scikit-learn's own error (issue 12, item 14)."""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest
from small_runs import captured_classifier

import stallmagic
from stallmagic.remedies import RemedyError


@pytest.fixture()
def run(seed):
    """One epoch of a small softmax classifier on 100 generated rows (75 training rows after the split)."""
    return captured_classifier(rows=100, features=8, epochs=1, batch_size=25)


GRID = {"learning_rate": [1e-3]}


def test_cv_of_the_wrong_kind_or_too_many_folds_is_one_sentence_before_training(run):
    """``cv="x"`` leaked numpy's TypeError (a str has a ``split`` method) and ``cv=1000`` scikit-learn's ValueError."""
    from sklearn.model_selection import KFold

    wrong_kind = r"The 'cv' argument of sweep must be None, an int >= 2 \(that many folds\) or a scikit-learn splitter"
    for cv in ("x", 2.5, True, [1, 2], 1):
        with pytest.raises(RemedyError, match=wrong_kind + f".*Got {re.escape(repr(cv))} instead"):
            stallmagic.sweep(run, GRID, cv=cv)
    with pytest.raises(RemedyError, match=r"must be an int from 2 to 75 \(the training rows of small\).*Got 1000 "):
        stallmagic.sweep(run, GRID, cv=1000)
    with pytest.raises(RemedyError, match=r"\(KFold\(n_splits=1000.*\) could not split the 75 training rows of small: "
                                          r"ValueError: Cannot have number of splits"):  # fmt: skip
        stallmagic.sweep(run, GRID, cv=KFold(1000))
    assert len(run.session.runs) == 1  # nothing trained


def test_a_splitter_giving_rows_that_are_not_row_numbers_is_refused(run):
    class Bad:
        def split(self, x, y=None):
            yield np.arange(10), np.array([len(x) + 5])  # a row beyond the training rows

    with pytest.raises(RemedyError, match=r"must give \(training rows, validation rows\) pairs of row numbers"):
        stallmagic.sweep(run, GRID, cv=Bad())


def test_a_numpy_int_cv_is_a_number_of_folds(run):
    result = stallmagic.sweep(run, GRID, cv=np.int64(2))
    assert result.cv == "2-fold stratified CV on the 75 training rows" and len(result.rows[0]["scores"]) == 2


def test_metric_progress_and_hostile_grid_values_are_checked_in_words(run):
    class NoRepr:
        def __repr__(self):
            raise RuntimeError("a repr that raises")

    with pytest.raises(RemedyError, match=r"The 'run' argument of sweep must be a Run .* Got 'x' instead"):
        stallmagic.sweep("x", GRID)
    with pytest.raises(RemedyError, match=r"The 'metric' argument of sweep must be the name .* Got 3 instead"):
        stallmagic.sweep(run, GRID, metric=3)
    with pytest.raises(RemedyError, match=r"The 'progress' argument of sweep must be a function .* Got 'x' instead"):
        stallmagic.sweep(run, GRID, progress="x")
    with pytest.raises(RemedyError, match=r"grid entry 'learning_rate' .* Got <NoRepr object> instead"):
        stallmagic.sweep(run, {"learning_rate": NoRepr()})
    with pytest.raises(RemedyError) as caught:
        stallmagic.sweep(run, {"learning_rate": np.zeros((50, 50))})
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 400
    assert len(run.session.runs) == 1
    with pytest.warns(UserWarning, match=r"'bogus' was not logged by this run\. Available metrics are: accuracy, loss"):
        result = stallmagic.sweep(run, GRID, metric="bogus")
    assert result.metric == "val_accuracy"


def test_folds_of_a_two_output_model_are_stratified_on_the_judged_output_read_by_name(seed):
    """The folds took the first target of a dict by position: with ``{"z_reg": ..., "a_class": ...}`` that is the
    regression target, so the class labels of the judged output (``a_class``, first in Keras's order) were never
    read and the folds were not stratified. They are read by name now, as the diagnosis reads them."""
    from stallmagic.rerun.sweep import SweepResult

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 6)).astype("float32")
    classes = (x[:, 0] > 0.5).astype("int64")  # about 30 % ones: unstratified folds would not split them evenly
    inputs = keras.Input((6,))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    outputs = {
        "z_reg": keras.layers.Dense(1, name="z_reg")(hidden),
        "a_class": keras.layers.Dense(2, activation="softmax", name="a_class")(hidden),
    }
    model = keras.Model(inputs, outputs)
    model.compile(
        optimizer="adam",
        loss={"z_reg": "mse", "a_class": "sparse_categorical_crossentropy"},
        metrics={"a_class": ["accuracy"]},
    )
    with stallmagic.capture() as session:
        model.fit(x, {"z_reg": x[:, 1] * 3.0, "a_class": classes}, validation_split=0.25, epochs=1, verbose=0)
    run = session.runs[-1]
    assert run.judged_output == "a_class"  # the model's first output; the targets' first key is z_reg
    prepared = SweepResult.prepare(run, GRID, cv=3)  # checks and folds, nothing trained
    assert prepared.cv == "3-fold stratified CV on the 150 training rows"
    train_classes = classes[:150]
    share = train_classes.mean()
    for fold in prepared._splits:
        held_out = fold["validation_data"][1]["a_class"]
        # stratified: each fold holds out the training rows' share of ones, to one row
        assert abs(held_out.sum() - share * len(held_out)) <= 1, (held_out.sum(), share * len(held_out))
    assert len(session.runs) == 1
