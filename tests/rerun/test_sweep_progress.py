"""A sweep's ``on_epoch`` hook reports every epoch of every trial (the Ray engine's reports are checked against the
in-process ones in ``test_sweep_ray.py``), a hook that raises does not end the sweep, and :class:`SweepBoard` folds
both hooks' calls into one table of trials. Real Keras trainings; the board is plain data."""

from __future__ import annotations

import pytest
from small_runs import captured_classifier

import stallmagic
from stallmagic.remedies import RemedyError
from stallmagic.rerun.sweep_progress import INTERRUPTED, SweepBoard, TrialEpoch


@pytest.fixture()
def run(seed):
    """Two epochs of a small softmax classifier on 120 generated rows (90 training rows after the split)."""
    return captured_classifier(rows=120, features=6, epochs=2, batch_size=30)


def test_every_epoch_of_every_fold_of_every_trial_is_reported_as_the_run_logged_it(run):
    updates, ended = [], []
    grid = {"learning_rate": [1e-3, 1e-1]}
    result = stallmagic.sweep(
        run, grid, cv=2, on_epoch=updates.append, progress=lambda done, total, row: ended.append(row)
    )
    assert [(u.trial, u.fold, u.epoch, u.epochs) for u in updates] == [
        (trial, fold, epoch, 2) for trial in (1, 2) for fold in (0, 1) for epoch in (1, 2)
    ]
    assert [row["trial"] for row in result.rows] == [row["trial"] for row in ended] == [1, 2]
    by_label = {r.label: r for r in result.runs}
    for u in updates:
        assert u.total == 2 and u.metric == "val_accuracy" and u.params == {"learning_rate": grid["learning_rate"][
            u.trial - 1]}  # fmt: skip
        trained = by_label[f"sweep learning_rate={u.params['learning_rate']:g} fold {u.fold + 1}"]
        assert u.value == pytest.approx(trained.logs["val_accuracy"][u.epoch - 1])
        assert u.logs["loss"] == pytest.approx(trained.logs["loss"][u.epoch - 1])
    # the last epoch of each fold is that fold's score in the trial's row
    for row in result.rows:
        last = [u.value for u in updates if u.trial == row["trial"] and u.epoch == 2]
        assert last == pytest.approx(row["scores"])


def test_an_on_epoch_hook_that_raises_is_warned_about_once_and_the_sweep_goes_on(run):
    calls = []

    def broken(update):
        calls.append(update)
        raise ValueError("the display broke")

    with pytest.warns(RuntimeWarning, match=r"on_epoch hook raised ValueError: the display broke; it is not called"):
        result = stallmagic.sweep(run, {"learning_rate": [1e-3, 1e-2]}, on_epoch=broken)
    assert len(calls) == 1 and len(result.rows) == 2 and not result.stopped
    with pytest.raises(RemedyError, match=r"The 'on_epoch' argument of sweep must be a function .* Got 3 instead"):
        stallmagic.sweep(run, {"learning_rate": [1e-3]}, on_epoch=3)


def update(trial: int, epoch: int, value: float | None, *, total: int = 3) -> TrialEpoch:
    return TrialEpoch.of(
        trial=trial,
        total=total,
        params={"learning_rate": 0.01 * trial},
        fold=None,
        epoch=epoch,
        epochs=4,
        metric="val_accuracy",
        logs={"val_accuracy": value if value is not None else float("nan"), "loss": 1.0},
    )


def test_the_board_keeps_each_trials_latest_epoch_and_its_end():
    board = SweepBoard(engine="ray")
    board.epoch(update(2, 1, 0.5))
    board.epoch(update(1, 1, None))  # an epoch without validation: no value, still running
    board.epoch(update(2, 2, 0.6))
    assert [t["trial"] for t in board.rows()] == [1, 2] and board.total == 3 and board.metric == "val_accuracy"
    assert board.trials[2]["epoch"] == 2 and board.trials[2]["value"] == pytest.approx(0.6)
    assert board.trials[1]["value"] is None and len(board.running()) == 2
    row = {"trial": 2, "params": {"learning_rate": 0.02}, "mean": 0.61, "epochs": [2], "stopped_by": "scheduler"}
    board.ended(1, 3, row)
    board.epoch(update(2, 3, 0.9))  # a report that arrives after the trial's end changes nothing
    assert board.trials[2]["state"] == "stopped by the scheduler" and board.trials[2]["score"] == 0.61
    assert board.trials[2]["epoch"] == 2 and board.done == 1
    board.ended(2, 3, {"trial": 3, "params": {"learning_rate": 0.03}, "mean": None, "errors": ["Ray trial failed"]})
    assert board.trials[3]["state"] == "failed" and board.trials[3]["errors"] == ["Ray trial failed"]
    board.close()  # the sweep returned with trial 1 still running: it was cut short
    assert board.trials[1]["state"] == INTERRUPTED and not board.running()
